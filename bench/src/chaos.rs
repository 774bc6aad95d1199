//! What the chaos and soak runs share: signed orders posted as a store posts them (again
//! until answered 2xx), the sandbox's drivers delivering every task, a stack's dead letters
//! moved back, and the checks that nothing was lost or doubled.

use crate::stack::{COURIER_KEY, STORE};
use crate::BenchError;
use futures::stream::{self, StreamExt};
use local_runtime::demo::{post_webhook, Delivery};
use local_runtime::LocalRuntime;
use sandbox::Sandbox;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A run's stack: the sandbox, and the local runtime with every function its own process
/// (`per_function` each, the binaries from `{RUN}_BIN_DIR`, default target/debug), its
/// store and courier connected.
pub struct ProcessStack {
    pub name: String,
    pub sandbox: Arc<Sandbox>,
    pub runtime: Arc<LocalRuntime>,
    /// What the store signs its webhooks with.
    pub store_secret: String,
    /// target/bench: where the run writes its JSON, and each process its log under
    /// `{run}-logs`.
    pub out_dir: PathBuf,
}

impl ProcessStack {
    /// `run` names the stack, the logs and the binaries' variable (`chaos`: `CHAOS_BIN_DIR`);
    /// `env` overrides the functions' settings.
    pub async fn start(
        run: &str,
        per_function: usize,
        env: &[(&str, String)],
    ) -> Result<ProcessStack, BenchError> {
        let bin_dir = std::env::var_os(format!("{}_BIN_DIR", run.to_ascii_uppercase()))
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::target_dir().join("debug"));
        let sdk = crate::emulator_sdk().await.ok_or_else(|| {
            BenchError::Setup(
                "AWS_ENDPOINT_URL is not set: run under infra/scripts/with-emulator.sh".into(),
            )
        })?;
        let out_dir = crate::results_dir()?;
        let log_dir = out_dir.join(format!("{run}-logs"));
        std::fs::create_dir_all(&log_dir)?;
        let sandbox = Arc::new(crate::stack::start_sandbox().await?);
        let name = format!("{run}-{:06x}", rand::random::<u32>() & 0xff_ffff);
        let prefix = format!("{name}/");
        let mut options = local_runtime::RuntimeOptions::new(&name);
        options
            .parameter_overrides
            .insert("SecretsPrefix".into(), prefix.clone());
        options
            .env_overrides
            .insert("RUST_LOG".into(), "warn".into());
        for (key, value) in env {
            options
                .env_overrides
                .insert((*key).to_owned(), value.clone());
        }
        options.functions =
            local_runtime::FunctionMode::Processes(local_runtime::process::ProcessOptions {
                bin_dir,
                per_function,
                log_dir: Some(log_dir),
            });
        let runtime = Arc::new(LocalRuntime::start(&sdk, options).await?);
        let courier_secret = format!("whsec_sandbox_{run}");
        let store_secret =
            crate::stack::seed_secrets(&sdk, &prefix, &sandbox.base_url(), &courier_secret).await?;
        local_runtime::demo::connect_courier_webhooks(&sandbox, &runtime, &courier_secret);
        Ok(ProcessStack {
            name,
            sandbox,
            runtime,
            store_secret,
            out_dir,
        })
    }

    /// Every shipment of `ids` delivered, its tracking written back, no customer message
    /// still on its way.
    pub async fn quiet(&self, ids: &[u64]) -> Result<bool, BenchError> {
        let ledger = Ledger::read(&self.runtime, &self.sandbox, ids).await?;
        Ok(ledger.shipments_delivered >= ids.len()
            && ledger.fulfillments >= ids.len()
            && !ledger.messages.contains_key("PENDING")
            && !ledger.messages.contains_key("SENDING"))
    }

    /// Stops the functions and removes what the stack made in the emulator.
    pub async fn stop(self) -> Result<(), BenchError> {
        if let Ok(runtime) = Arc::try_unwrap(self.runtime) {
            runtime.stop_and_teardown().await?;
        }
        Ok(())
    }
}

/// The dead-letter queues and the queues they drain, as template.yaml pairs them.
pub const DEAD_LETTERS: [(&str, &str); 5] = [
    ("IntakeDLQ", "IntakeQueue"),
    ("TasksDLQ", "TasksQueue"),
    ("SyncDLQ", "SyncQueue"),
    ("OutboxDLQ", "OutboxQueue"),
    ("AmazonNotificationsDLQ", "AmazonNotificationsQueue"),
];

/// Posts order `id` (paid) as Shopify does: anything but 2xx is delivered again, as long as
/// `patience` allows. Returns intake's answer (`accepted`, `duplicate`).
pub async fn post_order(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    id: u64,
    patience: Duration,
) -> Result<String, BenchError> {
    let body = crate::paid_order(id).to_string().into_bytes();
    post_signed(http, url, secret, id, "orders/paid", body, patience).await
}

/// Posts order `id` as a cash-on-delivery order of `cod_minor` cents (see [`cod_order`]),
/// as `orders/create`, the way [`post_order`] posts a paid one (same webhook id scheme, so
/// [`Ledger::read`] finds it in the audit trail).
pub async fn post_cod_order(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    id: u64,
    cod_minor: i64,
    patience: Duration,
) -> Result<String, BenchError> {
    let body = cod_order(id, cod_minor).to_string().into_bytes();
    post_signed(http, url, secret, id, "orders/create", body, patience).await
}

/// Order `id` as the demo makes a Shopify cash-on-delivery order: the COD gateway, pending
/// (nothing paid yet), confirmed (so it ships now), in EUR; the courier is to collect its
/// total, `cod_minor` cents.
pub fn cod_order(id: u64, cod_minor: i64) -> serde_json::Value {
    let mut order = crate::paid_order(id);
    order["financial_status"] = "pending".into();
    order["confirmed"] = true.into();
    order["payment_gateway_names"] = serde_json::json!(["Cash on Delivery (COD)"]);
    order["total_price"] = format!("{}.{:02}", cod_minor / 100, cod_minor % 100).into();
    order
}

async fn post_signed(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    id: u64,
    topic: &str,
    body: Vec<u8>,
    patience: Duration,
) -> Result<String, BenchError> {
    let delivery = Delivery {
        label: String::new(),
        store: STORE.into(),
        topic: topic.into(),
        webhook_id: webhook_id(id),
        signature: channels::signature::sign_base64_hmac_sha256(secret.as_bytes(), &body),
        body,
    };
    let deadline = Instant::now() + patience;
    loop {
        // A function process killed mid-request is an error answer, or no answer at all.
        if let Ok((200, answer)) = post_webhook(http, url, &delivery).await {
            return Ok(answer["status"].as_str().unwrap_or_default().to_owned());
        }
        if Instant::now() > deadline {
            return Err(BenchError::Check(format!("order {id}: never answered 200")));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The webhook id order `id` is posted with (its audit trail's key).
pub fn webhook_id(id: u64) -> String {
    format!("paid-{id}")
}

/// The sandbox's driver steps of a delivered task, after creation.
const DELIVERY: [&str; 4] = ["assigned", "picked_up", "out_for_delivery", "delivered"];

/// Every task of the sandbox driven to delivered, `concurrency` tasks at a time, each step
/// one signed status webhook to the stack. A step refused because the task is already past
/// it (asked again after a lost answer) is fine.
pub async fn deliver_all(sandbox: &Sandbox, concurrency: usize) -> Result<usize, BenchError> {
    let http = reqwest::Client::new();
    let base = sandbox.base_url();
    let tasks = sandbox.tasks();
    let results: Vec<Result<(), BenchError>> = stream::iter(tasks)
        .map(|task| {
            let (http, base) = (&http, &base);
            async move {
                let done = DELIVERY
                    .iter()
                    .position(|s| *s == task.status)
                    .map_or(0, |i| i + 1);
                for _ in DELIVERY.iter().skip(done) {
                    let answer = http
                        .post(format!("{base}/v1/tasks/{}/advance", task.id))
                        .bearer_auth(COURIER_KEY)
                        .send()
                        .await?;
                    if !answer.status().is_success() && answer.status() != 409 {
                        return Err(BenchError::Check(format!(
                            "the sandbox refused to advance {}: {}",
                            task.id,
                            answer.status()
                        )));
                    }
                }
                Ok(())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let delivered = results.len();
    results.into_iter().collect::<Result<Vec<()>, _>>()?;
    Ok(delivered)
}

/// Waits until `done` says so, polling every half second, at most `limit`.
pub async fn settle<F, Fut>(what: &str, limit: Duration, mut done: F) -> Result<(), BenchError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, BenchError>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if done().await? {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(BenchError::Check(format!("{what}: not within {limit:?}")));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Messages waiting in each dead-letter queue (visible and in flight).
pub async fn dead_letters(runtime: &LocalRuntime) -> Result<BTreeMap<String, u64>, BenchError> {
    let sqs = runtime.stores().sqs.clone();
    let mut counts = BTreeMap::new();
    for (dlq, _) in DEAD_LETTERS {
        let Some(url) = runtime.queue_url(dlq) else {
            continue;
        };
        let out = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(
                aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            )
            .send()
            .await
            .map_err(|e| BenchError::Setup(format!("GetQueueAttributes {dlq}: {e}")))?;
        let count = out
            .attributes()
            .map(|a| a.values().filter_map(|v| v.parse::<u64>().ok()).sum())
            .unwrap_or(0);
        counts.insert(dlq.to_owned(), count);
    }
    Ok(counts)
}

/// Moves every dead letter back to its queue, as an operator's `dlq redrive` does.
pub async fn redrive_all(runtime: &LocalRuntime) -> Result<usize, BenchError> {
    let sqs = runtime.stores().sqs.clone();
    let mut moved = 0;
    for (dlq, source) in DEAD_LETTERS {
        let (Some(dlq_url), Some(source_url)) = (runtime.queue_url(dlq), runtime.queue_url(source))
        else {
            continue;
        };
        moved += aws::dlq::redrive(&sqs, dlq_url, source_url)
            .await
            .map_err(|e| BenchError::Setup(e.to_string()))?;
    }
    Ok(moved)
}

/// What the run must end with, counted.
#[derive(Debug, Default, Serialize)]
pub struct Ledger {
    pub orders: usize,
    pub tasks: usize,
    pub task_references: usize,
    /// Orders whose webhook the audit trail does not hold.
    pub untraced_orders: usize,
    pub shipments_delivered: usize,
    /// Shopify fulfillment events, and how many repeat a (fulfillment, status) pair.
    pub status_write_backs: usize,
    pub status_write_backs_doubled: usize,
    pub fulfillments: usize,
    /// Customer messages by outbox state, and SMS/WhatsApp sent twice (same recipient and text).
    pub messages: BTreeMap<String, usize>,
    pub messages_sent_twice: usize,
    pub dead_letters: BTreeMap<String, u64>,
}

impl Ledger {
    /// Reads what the stack and the sandbox hold now.
    pub async fn read(
        runtime: &LocalRuntime,
        sandbox: &Sandbox,
        order_ids: &[u64],
    ) -> Result<Ledger, BenchError> {
        use domain::ports::{AuditTrail, Outbox, ShipmentStore};
        let stores = runtime.stores();
        let tasks = sandbox.tasks();
        let references: std::collections::BTreeSet<&str> =
            tasks.iter().map(|t| t.reference.as_str()).collect();
        let mut untraced = 0;
        for id in order_ids {
            let key = format!("shopify:{STORE}:{}", webhook_id(*id));
            if stores.inbound.get(&key).await?.is_none() {
                untraced += 1;
            }
        }
        let shipments = stores.shipments.all().await?;
        let delivered = shipments
            .iter()
            .filter(|s| s.status == domain::status::ShipmentStatus::Delivered)
            .count();
        let events = sandbox.shopify_fulfillment_events();
        let mut pairs: BTreeMap<(String, String), usize> = BTreeMap::new();
        for event in &events {
            *pairs
                .entry((event.fulfillment_id.clone(), event.status.clone()))
                .or_default() += 1;
        }
        let mut messages: BTreeMap<String, usize> = BTreeMap::new();
        for entry in stores.outbox.all().await? {
            *messages.entry(entry.state.as_str().to_owned()).or_default() += 1;
        }
        let mut texts: BTreeMap<(String, String), usize> = BTreeMap::new();
        for sms in sandbox.sms_messages() {
            *texts.entry((sms.to, sms.body)).or_default() += 1;
        }
        Ok(Ledger {
            orders: order_ids.len(),
            tasks: tasks.len(),
            task_references: references.len(),
            untraced_orders: untraced,
            shipments_delivered: delivered,
            status_write_backs: events.len(),
            status_write_backs_doubled: pairs.values().filter(|n| **n > 1).count(),
            fulfillments: sandbox.fulfillments().len(),
            messages,
            messages_sent_twice: texts.values().filter(|n| **n > 1).count(),
            dead_letters: dead_letters(runtime).await?,
        })
    }

    /// Every rule of "nothing lost, nothing doubled" this ledger breaks.
    pub fn broken(&self) -> Vec<String> {
        let mut broken = Vec::new();
        let n = self.orders;
        if self.tasks != n || self.task_references != n {
            broken.push(format!(
                "{} courier tasks with {} references for {n} orders",
                self.tasks, self.task_references
            ));
        }
        if self.untraced_orders > 0 {
            broken.push(format!(
                "{} orders not in the audit trail",
                self.untraced_orders
            ));
        }
        if self.shipments_delivered != n {
            broken.push(format!(
                "{} of {n} shipments delivered",
                self.shipments_delivered
            ));
        }
        if self.fulfillments != n {
            broken.push(format!(
                "{} fulfillments (tracking written back) for {n} orders",
                self.fulfillments
            ));
        }
        if self.status_write_backs_doubled > 0 {
            broken.push(format!(
                "{} statuses written back twice",
                self.status_write_backs_doubled
            ));
        }
        let unsettled: usize = self
            .messages
            .iter()
            .filter(|(state, _)| !matches!(state.as_str(), "SENT" | "UNKNOWN" | "SKIPPED"))
            .map(|(_, n)| n)
            .sum();
        if unsettled > 0 {
            broken.push(format!(
                "{unsettled} customer messages neither sent nor unknown: {:?}",
                self.messages
            ));
        }
        if self.messages_sent_twice > 0 {
            broken.push(format!(
                "{} customer messages sent twice",
                self.messages_sent_twice
            ));
        }
        if self.dead_letters.values().any(|n| *n > 0) {
            broken.push(format!("dead letters left: {:?}", self.dead_letters));
        }
        broken
    }
}
