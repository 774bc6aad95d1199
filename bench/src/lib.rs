//! What the benchmarks share: the partners' published samples, requests signed as the
//! channels sign them, percentiles, and the JSON the binaries write for `make bench`.

use aws_lambda_events::event::apigw::ApiGatewayV2httpRequest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub mod chaos;
pub mod proxy;
pub mod stack;

/// The function binaries, by their names in template.yaml.
pub const FUNCTION_BINARIES: [&str; 8] = [
    "webhook-intake",
    "normalize",
    "create-task",
    "status-sync",
    "notify",
    "cod-reconcile",
    "marketplace-intake",
    "ship-by-watch",
];

/// Published samples (tests/fixtures/SOURCES.md).
pub mod fixtures {
    pub const AMAZON_NOTIFICATION: &[u8] =
        include_bytes!("../../tests/fixtures/amazon/ORDER_CHANGE_notification_example.json");
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Setup(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Runtime(#[from] local_runtime::RuntimeError),
    #[error(transparent)]
    Provision(#[from] local_runtime::provision::ProvisionError),
    #[error(transparent)]
    Seed(#[from] local_runtime::secrets::SeedError),
    #[error(transparent)]
    Storage(#[from] domain::StorageError),
    #[error("check failed: {0}")]
    Check(String),
}

/// The emulator's SDK configuration, or `None` when `AWS_ENDPOINT_URL` is unset (outside
/// `infra/scripts/with-emulator.sh`).
pub async fn emulator_sdk() -> Option<aws_config::SdkConfig> {
    std::env::var("AWS_ENDPOINT_URL").ok()?;
    Some(aws::config::sdk_config().await)
}

/// The request API Gateway hands webhook-intake for a Shopify delivery to
/// `POST /webhooks/shopify/{store}`, signed with `secret`.
pub fn shopify_request(
    store: &str,
    secret: &str,
    topic: &str,
    webhook_id: &str,
    body: &[u8],
) -> ApiGatewayV2httpRequest {
    let signature = channels::signature::sign_base64_hmac_sha256(secret.as_bytes(), body);
    let mut request = ApiGatewayV2httpRequest::default();
    let route = "POST /webhooks/{channel}/{store}";
    let path = format!("/webhooks/shopify/{store}");
    request.version = Some("2.0".into());
    request.route_key = Some(route.into());
    request.raw_path = Some(path.clone());
    request.raw_query_string = Some(String::new());
    for (name, value) in [
        ("content-type", "application/json".to_owned()),
        ("x-shopify-topic", topic.to_owned()),
        ("x-shopify-webhook-id", webhook_id.to_owned()),
        ("x-shopify-hmac-sha256", signature),
        ("x-shopify-shop-domain", format!("{store}.myshopify.com")),
        ("x-shopify-triggered-at", domain::clock::rfc3339_now()),
    ] {
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            request.headers.insert(name, value);
        }
    }
    request.path_parameters = [
        ("channel".to_owned(), "shopify".to_owned()),
        ("store".to_owned(), store.to_owned()),
    ]
    .into();
    request.body = Some(String::from_utf8_lossy(body).into_owned());
    request.request_context.route_key = Some(route.into());
    request.request_context.http.method = http::Method::POST;
    request.request_context.http.path = Some(path);
    request.request_context.time_epoch = domain::clock::now_ms();
    request
}

/// A complete, valid prepaid order (paid) shipping to Berlin: every one becomes a task.
pub use local_runtime::demo::paid_order;

/// The `p`-th percentile (0–100) of sorted values, nearest-rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The workspace's target directory (`CARGO_TARGET_DIR`, else `target` at the root).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")))
}

/// Where the function binaries are: `BENCH_BIN_DIR`, else `<target>/release`.
pub fn bin_dir() -> PathBuf {
    std::env::var_os("BENCH_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("release"))
}

/// Where the binaries write their JSON: `<target>/bench`.
pub fn results_dir() -> Result<PathBuf, BenchError> {
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A positive integer from the environment, else `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// What `e2e` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct E2eResult {
    pub orders: usize,
    pub duplicate_posts: usize,
    pub posts: usize,
    pub concurrency: usize,
    pub processes_per_function: usize,
    pub pollers_per_queue: usize,
    /// Courier faults armed: 503s, 429s and responses held past the client's timeout.
    pub faults: BTreeMap<String, usize>,
    /// Courier create requests answered 503 / 429 (from the sandbox's request log).
    pub create_requests: usize,
    pub create_requests_503: usize,
    pub create_requests_429: usize,
    pub tasks: usize,
    pub unique_references: usize,
    /// First post to the last task created.
    pub wall_seconds: f64,
    pub orders_per_second: f64,
    /// Order received (intake's 200 `accepted`) → task created (the courier's `created_at`).
    pub latency_ms: Percentiles,
    /// Peak resident memory (VmHWM) per function: the largest of its processes, in KiB.
    pub peak_rss_kib: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(mut values: Vec<f64>) -> Percentiles {
        values.sort_by(f64::total_cmp);
        Percentiles {
            p50: percentile(&values, 50.0),
            p95: percentile(&values, 95.0),
            p99: percentile(&values, 99.0),
            max: values.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// What `cold_start` measured for one binary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColdStart {
    pub binary: String,
    pub size_bytes: u64,
    /// What the first event was, and what the function answered.
    pub event: String,
    pub outcome: String,
    pub runs_ms: Vec<f64>,
    pub median_ms: f64,
}

/// What `per_event` measured for one subject (a function, or the peer) in one connection
/// mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventCost {
    pub subject: String,
    pub connections: proxy::Connections,
    /// New events measured (as many duplicates, where a duplicate exists).
    pub events: usize,
    /// What the first event was answered.
    pub first_answer: String,
    /// Process start → its first poll of the Runtime API.
    #[serde(deserialize_with = "null_as_nan")]
    pub start_up_ms: f64,
    /// Process start → the first event's answer.
    #[serde(deserialize_with = "null_as_nan")]
    pub cold_start_ms: f64,
    /// utime + stime per warm event.
    #[serde(deserialize_with = "null_as_nan")]
    pub cpu_new_ms: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub cpu_duplicate_ms: f64,
    /// AWS calls per warm event, by operation.
    pub calls_new: BTreeMap<String, f64>,
    pub calls_duplicate: BTreeMap<String, f64>,
    pub peak_rss_kib: u64,
}

impl EventCost {
    /// All calls per event, or "-" where none were counted (a schedule has no duplicate).
    pub fn total_calls(calls: &BTreeMap<String, f64>) -> String {
        if calls.is_empty() {
            return "-".into();
        }
        format!("{:.1}", calls.values().sum::<f64>())
    }

    /// One line for the console and the report.
    pub fn line(&self) -> String {
        format!(
            "{:<26} {:<10} start-up {:6.1} ms  cold {:6.1} ms  CPU/event new {:5.2} ms dup {:5.2} ms  calls new {} dup {}  peak {:5.1} MiB",
            self.subject,
            self.connections.as_str(),
            self.start_up_ms,
            self.cold_start_ms,
            self.cpu_new_ms,
            self.cpu_duplicate_ms,
            EventCost::total_calls(&self.calls_new),
            EventCost::total_calls(&self.calls_duplicate),
            self.peak_rss_kib as f64 / 1024.0,
        )
    }
}

/// webhook-intake against its Python + Powertools peer: the peer's figure divided by ours.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerComparison {
    pub connections: proxy::Connections,
    #[serde(deserialize_with = "null_as_nan")]
    pub start_up: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub cold_start: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub cpu_new: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub cpu_duplicate: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub peak_memory: f64,
}

impl PeerComparison {
    pub fn of(ours: &EventCost, peer: &EventCost) -> PeerComparison {
        PeerComparison {
            connections: ours.connections,
            start_up: peer.start_up_ms / ours.start_up_ms,
            cold_start: peer.cold_start_ms / ours.cold_start_ms,
            cpu_new: peer.cpu_new_ms / ours.cpu_new_ms,
            cpu_duplicate: peer.cpu_duplicate_ms / ours.cpu_duplicate_ms,
            peak_memory: peer.peak_rss_kib as f64 / ours.peak_rss_kib as f64,
        }
    }
}

/// A figure not measured is NaN, which JSON writes as `null`; read back, it is NaN again.
fn null_as_nan<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

/// Everything `per_event` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PerEvent {
    pub events: usize,
    pub rounds: usize,
    pub costs: Vec<EventCost>,
    pub comparisons: Vec<PeerComparison>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_not_measured_survives_the_json_round_trip() {
        let cost = EventCost {
            subject: "ship-by-watch".into(),
            connections: proxy::Connections::KeepAlive,
            events: 3,
            first_answer: String::new(),
            start_up_ms: 6.0,
            cold_start_ms: 20.0,
            cpu_new_ms: 4.0,
            cpu_duplicate_ms: f64::NAN,
            calls_new: BTreeMap::from([("DynamoDB:Scan".to_owned(), 1.0)]),
            calls_duplicate: BTreeMap::new(),
            peak_rss_kib: 7000,
        };
        let back: EventCost = serde_json::from_slice(&serde_json::to_vec(&cost).unwrap()).unwrap();
        assert!(back.cpu_duplicate_ms.is_nan());
        assert_eq!(back.cpu_new_ms, 4.0);
        assert_eq!(EventCost::total_calls(&back.calls_duplicate), "-");
        assert_eq!(EventCost::total_calls(&back.calls_new), "1.0");
    }

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), 50.0);
        assert_eq!(percentile(&values, 95.0), 95.0);
        assert_eq!(percentile(&values, 99.0), 99.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
