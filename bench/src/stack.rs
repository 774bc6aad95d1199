//! The stack the process benchmarks run against: template.yaml provisioned into the
//! emulator under a fresh name, a sandbox courier, one Shopify store, the courier's and the
//! notification providers' secrets; and the queues read as an event source mapping would.

use crate::BenchError;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use local_runtime::demo::{seed_courier, seed_notifications, seed_store, DemoStore};
use local_runtime::provision::{DeployedFunction, Stack};
use sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

pub const STORE: &str = "bench-store";
pub const COURIER_KEY: &str = "sbx_bench_key";
/// The store's Admin API token, as the sandbox expects it and the store's secret holds it.
const SHOPIFY_TOKEN: &str = "shpat_bench";

pub struct BenchStack {
    pub sdk: aws_config::SdkConfig,
    pub stack: Stack,
    pub sandbox: Sandbox,
    /// The stack's secrets prefix (`SecretsPrefix`).
    pub prefix: String,
    /// The Shopify store's webhook secret.
    pub store_secret: String,
    sqs: aws_sdk_sqs::Client,
}

impl BenchStack {
    /// Provisions a stack named `<name>-<random>` and seeds its secrets.
    pub async fn provision(name: &str) -> Result<BenchStack, BenchError> {
        let sdk = crate::emulator_sdk().await.ok_or_else(|| {
            BenchError::Setup(
                "AWS_ENDPOINT_URL is not set: run under infra/scripts/with-emulator.sh".into(),
            )
        })?;
        let sandbox = start_sandbox().await?;
        let stack_name = format!("{name}-{:06x}", rand::random::<u32>() & 0xff_ffff);
        let prefix = format!("{stack_name}/");
        let template = local_runtime::template::Template::from_path(
            &local_runtime::runtime::default_template_path(),
        )
        .map_err(|e| BenchError::Setup(e.to_string()))?;
        let overrides = [
            ("SecretsPrefix".to_owned(), prefix.clone()),
            (
                "NotifyEmailFrom".to_owned(),
                local_runtime::runtime::LOCAL_EMAIL_SENDER.to_owned(),
            ),
        ]
        .into();
        let stack =
            local_runtime::provision::provision(&template, &stack_name, &overrides, &sdk).await?;
        // As the local runtime does at start: customer e-mail needs a verified sender.
        local_runtime::runtime::verify_email_sender(
            &sdk,
            local_runtime::runtime::LOCAL_EMAIL_SENDER,
        )
        .await?;
        let store_secret = seed_secrets(&sdk, &prefix, &sandbox.base_url(), "whsec_bench").await?;
        Ok(BenchStack {
            sqs: aws_sdk_sqs::Client::new(&sdk),
            sdk,
            stack,
            sandbox,
            prefix,
            store_secret,
        })
    }

    /// The deployed function whose binary is `binary`, with its logical id.
    pub fn function(&self, binary: &str) -> Result<(&String, &DeployedFunction), BenchError> {
        self.stack
            .functions
            .iter()
            .find(|(_, f)| f.binary == binary)
            .ok_or_else(|| BenchError::Setup(format!("no function with binary {binary}")))
    }

    pub fn queue_arn(&self, queue: &str) -> String {
        self.stack
            .queues
            .get(queue)
            .map(|q| q.arn.clone())
            .unwrap_or_default()
    }

    /// One message from a queue (what the event source mapping would hand the function),
    /// deleted: the benchmark is its consumer.
    pub async fn take(&self, queue: &str) -> Option<SqsEvent> {
        self.receive(queue, 10).await
    }

    async fn receive(&self, queue: &str, wait_secs: i32) -> Option<SqsEvent> {
        let info = self.stack.queues.get(queue)?;
        let out = self
            .sqs
            .receive_message()
            .queue_url(&info.url)
            .max_number_of_messages(1)
            .wait_time_seconds(wait_secs)
            .send()
            .await
            .ok()?;
        let message = out.messages?.into_iter().next()?;
        if let Some(receipt) = &message.receipt_handle {
            let _ = self
                .sqs
                .delete_message()
                .queue_url(&info.url)
                .receipt_handle(receipt)
                .send()
                .await;
        }
        let mut record = SqsMessage::default();
        record.message_id = message.message_id;
        record.receipt_handle = message.receipt_handle;
        record.body = message.body;
        record.md5_of_body = message.md5_of_body;
        record.event_source = Some("aws:sqs".into());
        record.event_source_arn = Some(info.arn.clone());
        let mut event = SqsEvent::default();
        event.records = vec![record];
        Some(event)
    }

    /// Empties a queue (what later runs must not pick up).
    pub async fn drain(&self, queue: &str) {
        while self.receive(queue, 0).await.is_some() {}
    }

    pub async fn teardown(self) -> Result<(), BenchError> {
        local_runtime::provision::teardown(&self.stack, &self.sdk).await?;
        self.sandbox.shutdown().await;
        Ok(())
    }
}

/// The sandbox courier and fake stores on a free port, with the keys [`seed_secrets`] gives
/// the stack.
pub async fn start_sandbox() -> Result<Sandbox, BenchError> {
    Ok(Sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxConfig {
            courier_api_key: COURIER_KEY.into(),
            shopify_access_token: SHOPIFY_TOKEN.into(),
        },
    )
    .await?)
}

/// The secrets a stack under `prefix` reads: the Shopify store [`STORE`] (admin API at
/// the sandbox) with a new webhook secret, which is returned; the sandbox courier, signing
/// its webhooks with `courier_webhook_secret`; the notification providers.
pub async fn seed_secrets(
    sdk: &aws_config::SdkConfig,
    prefix: &str,
    sandbox_url: &str,
    courier_webhook_secret: &str,
) -> Result<String, BenchError> {
    let store_secret = format!("whsec_{:x}", rand::random::<u64>());
    let store = DemoStore {
        name: STORE.into(),
        secret: store_secret.clone(),
    };
    seed_store(sdk, prefix, &store, sandbox_url, SHOPIFY_TOKEN).await?;
    seed_courier(
        sdk,
        prefix,
        sandbox_url,
        COURIER_KEY,
        courier_webhook_secret,
    )
    .await?;
    seed_notifications(sdk, prefix, sandbox_url).await?;
    Ok(store_secret)
}

/// An SQS event of one record with `body`, from the queue `arn`.
pub fn sqs_event_with_body(body: &str, arn: &str) -> SqsEvent {
    let mut record = SqsMessage::default();
    record.message_id = Some(format!("bench-{:x}", rand::random::<u64>()));
    record.body = Some(body.to_owned());
    record.event_source = Some("aws:sqs".into());
    record.event_source_arn = Some(arn.to_owned());
    let mut event = SqsEvent::default();
    event.records = vec![record];
    event
}

/// What a function answered, briefly: `HTTP 200 accepted`, `0 batch item failure(s)`, ….
pub fn summarize(bytes: &[u8]) -> String {
    let value: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    if let Some(status) = value.get("statusCode") {
        let body: Value = value["body"]
            .as_str()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        return format!("HTTP {status} {}", body["status"].as_str().unwrap_or(""));
    }
    if let Some(failures) = value.get("batchItemFailures").and_then(Value::as_array) {
        return format!("{} batch item failure(s)", failures.len());
    }
    let text = value.to_string();
    text.chars().take(80).collect()
}

/// A schedule's event as EventBridge sends it, now: its time names the day cod-reconcile
/// reconciles.
pub fn scheduled_event() -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&serde_json::json!({
        "version": "0",
        "id": format!("bench-{:x}", rand::random::<u64>()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": domain::clock::rfc3339_now(),
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }))
}
