//! Cold start per function binary: process start → first event handled (its response or
//! error posted to the Runtime API), each start a new process against a new Runtime API with
//! one event queued; plus the binary's size. The events are real: a signed Shopify order for
//! webhook-intake, then the very message it queued for normalize, normalize's for
//! create-task (the sandbox courier makes the task), and so on down the loop; Amazon's
//! published ORDER_CHANGE notification for marketplace-intake; a scheduled event for the
//! scheduled functions. `BENCH_COLD_RUNS` (default 5) runs each; the median is reported.
//!
//! Run under `infra/scripts/with-emulator.sh` after `cargo build --release` of the functions.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use courier_bridge_bench::{
    bin_dir, emulator_sdk, env_usize, fixtures, paid_order, percentile, results_dir,
    shopify_request, BenchError, ColdStart, FUNCTION_BINARIES,
};
use local_runtime::demo::{seed_courier, seed_notifications, seed_store, DemoStore};
use local_runtime::process::{FunctionProcesses, ProcessOptions};
use local_runtime::provision::Stack;
use sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const STORE: &str = "cold-store";
const COURIER_KEY: &str = "sbx_cold_key";

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("cold_start: {e}");
        std::process::exit(1);
    }
}

struct Bench {
    stack: Stack,
    sqs: aws_sdk_sqs::Client,
    bin_dir: std::path::PathBuf,
    log_dir: Option<std::path::PathBuf>,
}

impl Bench {
    fn function(
        &self,
        binary: &str,
    ) -> Result<(&String, &local_runtime::provision::DeployedFunction), BenchError> {
        self.stack
            .functions
            .iter()
            .find(|(_, f)| f.binary == binary)
            .ok_or_else(|| BenchError::Setup(format!("no function with binary {binary}")))
    }

    /// Starts one process of `binary`, hands it `event`, and times spawn → answer.
    async fn cold_start(&self, binary: &str, event: &[u8]) -> Result<(f64, String), BenchError> {
        let (logical_id, function) = self.function(binary)?;
        let options = ProcessOptions {
            bin_dir: self.bin_dir.clone(),
            per_function: 1,
            log_dir: self.log_dir.clone(),
        };
        let started = Instant::now();
        let process = FunctionProcesses::start(
            logical_id,
            &format!("{}-{logical_id}", self.stack.name),
            binary,
            &function.env,
            Duration::from_secs(function.timeout_secs.into()),
            &options,
        )
        .await
        .map_err(|e| BenchError::Setup(e.to_string()))?;
        let answer = process.invoke(event.to_vec()).await;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        process.stop().await;
        let outcome = match answer {
            Ok(bytes) => summarize(&bytes),
            Err(e) => format!("error: {e}"),
        };
        Ok((elapsed, outcome))
    }

    /// One message from a queue (what the event source mapping would hand the function),
    /// deleted: this benchmark is its consumer.
    async fn take(&self, queue: &str) -> Option<SqsEvent> {
        let info = self.stack.queues.get(queue)?;
        let out = self
            .sqs
            .receive_message()
            .queue_url(&info.url)
            .max_number_of_messages(1)
            .wait_time_seconds(10)
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
    async fn drain(&self, queue: &str) {
        while self.take(queue).await.is_some() {}
    }
}

/// What the function answered, briefly.
fn summarize(bytes: &[u8]) -> String {
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

fn sqs_event_with_body(body: &str, arn: &str) -> SqsEvent {
    let mut record = SqsMessage::default();
    record.message_id = Some(format!("cold-{:x}", rand::random::<u64>()));
    record.body = Some(body.to_owned());
    record.event_source = Some("aws:sqs".into());
    record.event_source_arn = Some(arn.to_owned());
    let mut event = SqsEvent::default();
    event.records = vec![record];
    event
}

async fn run() -> Result<(), BenchError> {
    let runs = env_usize("BENCH_COLD_RUNS", 5);
    let sdk = emulator_sdk().await.ok_or_else(|| {
        BenchError::Setup(
            "AWS_ENDPOINT_URL is not set: run under infra/scripts/with-emulator.sh".into(),
        )
    })?;
    let bin_dir = bin_dir();
    let log_dir = results_dir()?.join("cold-start-logs");
    std::fs::create_dir_all(&log_dir)?;
    let sandbox = Sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxConfig {
            courier_api_key: COURIER_KEY.into(),
            shopify_access_token: "shpat_cold".into(),
        },
    )
    .await?;
    let stack_name = format!("cold-{:06x}", rand::random::<u32>() & 0xff_ffff);
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
    local_runtime::runtime::verify_email_sender(&sdk, local_runtime::runtime::LOCAL_EMAIL_SENDER)
        .await?;
    let secret = format!("whsec_{:x}", rand::random::<u64>());
    let store = DemoStore {
        name: STORE.into(),
        secret: secret.clone(),
    };
    seed_store(&sdk, &prefix, &store, &sandbox.base_url(), "shpat_cold").await?;
    seed_courier(
        &sdk,
        &prefix,
        &sandbox.base_url(),
        COURIER_KEY,
        "whsec_cold",
    )
    .await?;
    seed_notifications(&sdk, &prefix, &sandbox.base_url()).await?;
    let bench = Bench {
        stack,
        sqs: aws_sdk_sqs::Client::new(&sdk),
        bin_dir: bin_dir.clone(),
        log_dir: Some(log_dir),
    };
    let amazon_arn = bench
        .stack
        .queues
        .get("AmazonNotificationsQueue")
        .map(|q| q.arn.clone())
        .unwrap_or_default();

    let mut runs_ms: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut events: BTreeMap<&str, (String, String)> = BTreeMap::new();
    let mut record = |binary: &'static str, what: &str, (ms, outcome): (f64, String)| {
        println!("cold_start: {binary:<20} {ms:8.1} ms  {what}: {outcome}");
        runs_ms.entry(binary).or_default().push(ms);
        events.insert(binary, (what.to_owned(), outcome));
    };
    for run in 0..runs {
        let id = 6_000_000_000_000_000_001 + run as u64;
        let body = paid_order(id).to_string().into_bytes();
        let request = shopify_request(STORE, &secret, "orders/paid", &format!("cold-{id}"), &body);
        let event = serde_json::to_vec(&request)?;
        record(
            "webhook-intake",
            "signed Shopify orders/paid",
            bench.cold_start("webhook-intake", &event).await?,
        );
        // Down the loop: each function gets the message the previous one queued.
        for (binary, queue, what) in [
            ("normalize", "IntakeQueue", "intake message"),
            ("create-task", "TasksQueue", "task request"),
            ("status-sync", "SyncQueue", "tracking message"),
            ("notify", "OutboxQueue", "outbox message"),
        ] {
            let (event, what) = match bench.take(queue).await {
                Some(event) => (event, what.to_owned()),
                None => (
                    sqs_event_with_body("{}", ""),
                    format!("{what} (none queued: an empty body)"),
                ),
            };
            let event = serde_json::to_vec(&event)?;
            record(binary, &what, bench.cold_start(binary, &event).await?);
        }
        let notification = String::from_utf8_lossy(fixtures::AMAZON_NOTIFICATION);
        let event = serde_json::to_vec(&sqs_event_with_body(&notification, &amazon_arn))?;
        record(
            "marketplace-intake",
            "Amazon ORDER_CHANGE notification",
            bench.cold_start("marketplace-intake", &event).await?,
        );
        // Its intake message is not for this run's normalize.
        bench.drain("IntakeQueue").await;
        let scheduled =
            serde_json::to_vec(&aws_lambda_events::event::eventbridge::EventBridgeEvent::<
                Value,
            >::default())?;
        for binary in ["cod-reconcile", "ship-by-watch"] {
            record(
                binary,
                "EventBridge scheduled event",
                bench.cold_start(binary, &scheduled).await?,
            );
        }
    }

    let mut results = Vec::new();
    for binary in FUNCTION_BINARIES {
        let mut runs = runs_ms.get(binary).cloned().unwrap_or_default();
        let size_bytes = std::fs::metadata(bin_dir.join(binary))?.len();
        let (event, outcome) = events.get(binary).cloned().unwrap_or_default();
        let in_order = runs.clone();
        runs.sort_by(f64::total_cmp);
        results.push(ColdStart {
            binary: binary.to_owned(),
            size_bytes,
            event,
            outcome,
            runs_ms: in_order,
            median_ms: percentile(&runs, 50.0),
        });
    }
    let path = results_dir()?.join("cold_start.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&results)?)?;
    println!("cold_start: written to {}", path.display());
    local_runtime::provision::teardown(&bench.stack, &sdk).await?;
    sandbox.shutdown().await;
    Ok(())
}
