//! CloudWatch metrics in the embedded metric format (EMF): each data point is one JSON line
//! on stdout, which Lambda sends to CloudWatch Logs, where the `_aws` member turns it into
//! metrics in the `CourierBridge` namespace. No API call, no extra permission, nothing on the
//! request path that can fail.
//!
//! Why not the `metrics` facade with `metrics_cloudwatch_embedded`: that crate keeps a
//! process-global recorder and flushes it from its own Lambda `run` wrapper. The local
//! runtime and the end-to-end tests run every function's handler in one process, as plain
//! library calls, so a global recorder would mix the functions' documents, never be flushed
//! there, and could not be captured per test stack. The format itself is one small JSON
//! document, so it is built here with serde_json and written through a [`Metrics`] handle
//! that each function is built with (stdout on Lambda, a file when `METRICS_CAPTURE_FILE`
//! is set, for tests). Partner calls are counted by wrapping the partner ports
//! ([`metered`]), so no call site can forget them.
//!
//! Rules every metric here follows:
//! - dimensions are low-cardinality names we choose (function, channel, partner, queue,
//!   courier): never an order id, a store's customer, a phone, an e-mail or an address.
//!   Values are checked ([`dimension_value`]) and anything else becomes `"other"`;
//! - every document also carries the empty dimension set, so each metric has one total
//!   series that the alarms in template.yaml watch;
//! - emitting never fails the caller: a document that cannot be written is dropped with a
//!   warning.

pub mod metered;

use domain::courier::CourierError;
use domain::{Channel, PartnerError, ServiceType};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The CloudWatch namespace of every courier-bridge metric.
pub const NAMESPACE: &str = "CourierBridge";

/// Metric names, as the dashboard and alarms in template.yaml spell them.
pub mod names {
    /// 1 for a failed partner call, 0 for a successful one (Sum = failures, SampleCount =
    /// calls, Average = failure rate). Dimensions: Function, Partner.
    pub const INTEGRATION_FAILURES: &str = "IntegrationFailures";
    /// A delivery or task request that was already handled. Dimensions: Function, Channel.
    pub const DUPLICATE_CREATION_ATTEMPTS: &str = "DuplicateCreationAttempts";
    /// From the order's paid / confirmed event to its courier task. Dimension: Channel.
    pub const ORDER_TO_TASK_MS: &str = "OrderToTaskMs";
    /// 100 for a delivery within its promise, 0 for a late one (Average = adherence).
    /// Dimension: Channel.
    pub const DELIVERY_SLA: &str = "DeliverySla";
    /// Messages waiting in a dead-letter queue. Dimension: Queue.
    pub const DLQ_DEPTH: &str = "DlqDepth";
    /// Emitted by cod-reconcile. Dimension: Courier.
    pub const COD_RECONCILIATION_ACCURACY: &str = "CodReconciliationAccuracy";
    /// Emitted by cod-reconcile: how far the day's cash is off, in minor units.
    /// Dimensions: Courier, Currency.
    pub const COD_DIFFERENCE_MINOR: &str = "CodDifferenceMinor";
}

/// CloudWatch units (the `StandardUnit` names of the PutMetricData API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Seconds,
    Percent,
    None,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Seconds => "Seconds",
            Unit::Percent => "Percent",
            Unit::None => "None",
        }
    }
}

/// One EMF document: its dimensions, metric values and properties (searchable in Logs
/// Insights, not metrics). Build it, then [`Metrics::emit`] it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricDoc {
    dimensions: Vec<(&'static str, String)>,
    metrics: Vec<(&'static str, Unit, f64)>,
    properties: Vec<(&'static str, Value)>,
}

impl MetricDoc {
    pub fn new() -> MetricDoc {
        MetricDoc::default()
    }

    /// A dimension: a low-cardinality name (see the module's rules). A value that does not
    /// look like one is recorded as `"other"`.
    pub fn dimension(mut self, name: &'static str, value: &str) -> MetricDoc {
        self.dimensions.push((name, dimension_value(value)));
        self
    }

    pub fn metric(mut self, name: &'static str, unit: Unit, value: f64) -> MetricDoc {
        self.metrics.push((name, unit, value));
        self
    }

    /// Context for the log line only (no metric); never customer data.
    pub fn property(mut self, name: &'static str, value: impl Into<Value>) -> MetricDoc {
        self.properties.push((name, value.into()));
        self
    }

    /// The EMF document as of `timestamp_ms` (ms since the epoch).
    pub fn to_json(&self, timestamp_ms: i64) -> Value {
        let dimension_names: Vec<&str> = self.dimensions.iter().map(|(n, _)| *n).collect();
        let mut sets = vec![dimension_names];
        if !self.dimensions.is_empty() {
            // The total over every dimension value: what the alarms watch.
            sets.push(Vec::new());
        }
        let definitions: Vec<Value> = self
            .metrics
            .iter()
            .map(|(name, unit, _)| json!({ "Name": name, "Unit": unit.as_str() }))
            .collect();
        let mut root = Map::new();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": sets,
                    "Metrics": definitions,
                }],
            }),
        );
        // Properties first, so a dimension or metric of the same name wins.
        for (name, value) in &self.properties {
            root.insert((*name).into(), value.clone());
        }
        for (name, value) in &self.dimensions {
            root.insert((*name).into(), Value::String(value.clone()));
        }
        for (name, _, value) in &self.metrics {
            root.insert((*name).into(), json!(value));
        }
        Value::Object(root)
    }
}

/// A dimension value as emitted: 1 to 64 characters of letters, digits, `-`, `_` and `.`;
/// anything else (an e-mail's `@`, a phone's `+`, spaces of an address) becomes `"other"`.
pub fn dimension_value(value: &str) -> String {
    let fits = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if fits {
        value.to_owned()
    } else {
        "other".to_owned()
    }
}

/// Where documents go. Implementations must not panic and must not block for long.
pub trait MetricSink: Send + Sync {
    fn write_line(&self, line: &str);
}

/// Lambda's log capture: one line on stdout, written whole under the stdout lock so a log
/// line from another task cannot interleave with it.
pub struct StdoutSink;

impl MetricSink for StdoutSink {
    fn write_line(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        // A closed stdout loses the metric, never the work.
        let _ = out
            .write_all(line.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
    }
}

/// Appends each document to a JSON-lines file (`METRICS_CAPTURE_FILE`): how the local
/// runtime and the end-to-end tests see the metrics of the functions they run.
pub struct FileSink {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileSink {
    pub fn new(path: impl Into<PathBuf>) -> FileSink {
        FileSink {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }
}

impl MetricSink for FileSink {
    fn write_line(&self, line: &str) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
        if let Err(e) = written {
            tracing::warn!(error = %e, path = %self.path.display(), "could not write a metric");
        }
    }
}

/// Keeps documents in memory (unit tests).
#[derive(Default)]
pub struct CaptureSink {
    lines: Mutex<Vec<String>>,
}

impl CaptureSink {
    /// Every document written so far, parsed.
    pub fn documents(&self) -> Vec<Value> {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl MetricSink for CaptureSink {
    fn write_line(&self, line: &str) {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line.to_owned());
    }
}

/// What a partner call's error says for [`names::INTEGRATION_FAILURES`]: `Some(kind)` when
/// the partner failed or refused us, `None` when its answer is a normal outcome of the
/// delivery domain with its own path (an address to clarify, a parcel already picked up).
pub trait IntegrationError {
    fn failure_kind(&self) -> Option<&'static str>;
}

impl IntegrationError for PartnerError {
    fn failure_kind(&self) -> Option<&'static str> {
        Some(match self {
            PartnerError::Unavailable { .. } => "unavailable",
            PartnerError::Throttled { .. } => "throttled",
            PartnerError::Ambiguous { .. } => "ambiguous",
            PartnerError::Rejected { .. } => "rejected",
            PartnerError::Config { .. } => "config",
        })
    }
}

impl IntegrationError for CourierError {
    fn failure_kind(&self) -> Option<&'static str> {
        match self {
            CourierError::Partner(e) => e.failure_kind(),
            CourierError::TooLate { .. } | CourierError::AddressUnresolved { .. } => None,
        }
    }
}

/// The handle functions emit through; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    sink: Arc<dyn MetricSink>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn stdout() -> Metrics {
        Metrics::with_sink(Arc::new(StdoutSink))
    }

    pub fn with_sink(sink: Arc<dyn MetricSink>) -> Metrics {
        Metrics { sink }
    }

    /// Stdout, or the capture file when one is configured.
    pub fn from_capture_file(path: Option<&str>) -> Metrics {
        match path {
            Some(path) => Metrics::with_sink(Arc::new(FileSink::new(path))),
            None => Metrics::stdout(),
        }
    }

    /// Writes `doc` now. Never fails.
    pub fn emit(&self, doc: &MetricDoc) {
        let value = doc.to_json(domain::clock::now_ms());
        match serde_json::to_string(&value) {
            Ok(line) => self.sink.write_line(&line),
            Err(e) => tracing::warn!(error = %e, "metric document does not serialize"),
        }
    }

    /// One call to a partner (courier, store, marketplace, message provider) ended with
    /// `result`. `function` is the emitting function ("create-task"); `partner` its
    /// lowercase name ("onfleet", "shopify", "twilio").
    pub fn partner_call<T, E: IntegrationError>(
        &self,
        function: &'static str,
        partner: &str,
        result: &Result<T, E>,
    ) {
        // An error without a failure kind is a domain answer: the call itself worked.
        let kind = result
            .as_ref()
            .err()
            .and_then(IntegrationError::failure_kind);
        let mut doc = MetricDoc::new()
            .dimension("Function", function)
            .dimension("Partner", partner)
            .metric(
                names::INTEGRATION_FAILURES,
                Unit::Count,
                if kind.is_some() { 1.0 } else { 0.0 },
            );
        if let Some(kind) = kind {
            doc = doc.property("FailureKind", kind);
        }
        self.emit(&doc);
    }

    /// Work that was already done arrived again (a redelivered webhook, a second create
    /// request for a shipment with a task). `stage` says where it was caught.
    pub fn duplicate_creation_attempt(&self, function: &'static str, channel: &str, stage: &str) {
        self.emit(
            &MetricDoc::new()
                .dimension("Function", function)
                .dimension("Channel", channel)
                .metric(names::DUPLICATE_CREATION_ATTEMPTS, Unit::Count, 1.0)
                .property("Stage", stage),
        );
    }

    /// A courier task now exists for a shipment, `elapsed_ms` after the order became
    /// shippable.
    pub fn order_to_task(
        &self,
        channel: Channel,
        service: ServiceType,
        courier: &str,
        elapsed_ms: i64,
    ) {
        self.emit(
            &MetricDoc::new()
                .dimension("Channel", channel.as_str())
                .metric(
                    names::ORDER_TO_TASK_MS,
                    Unit::Milliseconds,
                    elapsed_ms.max(0) as f64,
                )
                .property("Service", service.as_str())
                .property("Courier", dimension_value(courier)),
        );
    }

    /// A shipment was delivered: within its promise (100) or late (0).
    pub fn delivery_sla(
        &self,
        channel: Channel,
        service: ServiceType,
        on_time: bool,
        late_by_ms: i64,
    ) {
        self.emit(
            &MetricDoc::new()
                .dimension("Channel", channel.as_str())
                .metric(
                    names::DELIVERY_SLA,
                    Unit::Percent,
                    if on_time { 100.0 } else { 0.0 },
                )
                .property("Service", service.as_str())
                .property("LateByMs", late_by_ms.max(0)),
        );
    }

    /// How many messages wait in the dead-letter queue `queue` (its logical id, "TasksDLQ").
    pub fn dlq_depth(&self, queue: &str, depth: u64) {
        self.emit(&MetricDoc::new().dimension("Queue", queue).metric(
            names::DLQ_DEPTH,
            Unit::Count,
            depth as f64,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured() -> (Arc<CaptureSink>, Metrics) {
        let sink = Arc::new(CaptureSink::default());
        (sink.clone(), Metrics::with_sink(sink))
    }

    #[test]
    fn a_document_has_the_exact_emf_shape() {
        let doc = MetricDoc::new()
            .dimension("Function", "create-task")
            .dimension("Partner", "onfleet")
            .metric("IntegrationFailures", Unit::Count, 1.0)
            .property("FailureKind", "unavailable");
        assert_eq!(
            doc.to_json(1_700_000_000_123),
            json!({
                "_aws": {
                    "Timestamp": 1_700_000_000_123_i64,
                    "CloudWatchMetrics": [{
                        "Namespace": "CourierBridge",
                        "Dimensions": [["Function", "Partner"], []],
                        "Metrics": [{"Name": "IntegrationFailures", "Unit": "Count"}],
                    }],
                },
                "Function": "create-task",
                "Partner": "onfleet",
                "IntegrationFailures": 1.0,
                "FailureKind": "unavailable",
            })
        );
    }

    #[test]
    fn every_dimension_and_metric_named_in_the_directive_is_a_root_member() {
        let doc = MetricDoc::new()
            .dimension("Channel", "shopify")
            .metric("OrderToTaskMs", Unit::Milliseconds, 1500.0)
            .metric("Other", Unit::Percent, 100.0)
            .to_json(0);
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        for set in directive["Dimensions"].as_array().unwrap() {
            for name in set.as_array().unwrap() {
                assert!(doc[name.as_str().unwrap()].is_string(), "{name}");
            }
        }
        for metric in directive["Metrics"].as_array().unwrap() {
            assert!(doc[metric["Name"].as_str().unwrap()].is_number());
        }
        assert_eq!(directive["Metrics"][1]["Unit"], "Percent");
    }

    #[test]
    fn a_document_without_dimensions_has_one_empty_dimension_set() {
        let doc = MetricDoc::new()
            .metric("DlqDepth", Unit::Count, 0.0)
            .to_json(0);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
    }

    #[test]
    fn personal_data_never_becomes_a_dimension_value() {
        for pii in [
            "ana@example.com",
            "+4930901820",
            "Main St 1",
            "",
            &"x".repeat(65),
        ] {
            assert_eq!(dimension_value(pii), "other", "{pii}");
        }
        for fine in ["shopify", "create-task", "TasksDLQ", "same_day"] {
            assert_eq!(dimension_value(fine), fine);
        }
    }

    #[test]
    fn each_emitted_document_is_one_json_line() {
        let (sink, metrics) = captured();
        metrics.dlq_depth("TasksDLQ", 3);
        let lines = sink.lines.lock().unwrap().clone();
        assert_eq!(lines.len(), 1);
        assert!(!lines[0].contains('\n'));
        let doc: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(doc["DlqDepth"], 3.0);
        assert_eq!(doc["Queue"], "TasksDLQ");
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Queue"], []])
        );
        assert!(doc["_aws"]["Timestamp"].as_i64().unwrap() > 1_600_000_000_000);
    }

    #[test]
    fn a_partner_call_counts_one_for_a_failure_and_zero_for_a_success() {
        let (sink, metrics) = captured();
        metrics.partner_call::<(), _>(
            "create-task",
            "sandbox",
            &Err(CourierError::from(PartnerError::unavailable(
                "sandbox", "502",
            ))),
        );
        metrics.partner_call::<_, CourierError>("create-task", "sandbox", &Ok(()));
        // The courier's answer about the address is the domain's, not a failed call.
        metrics.partner_call::<(), _>(
            "create-task",
            "sandbox",
            &Err(CourierError::AddressUnresolved {
                ambiguous: false,
                message: "no such street".into(),
            }),
        );
        let docs = sink.documents();
        let values: Vec<f64> = docs
            .iter()
            .map(|d| d["IntegrationFailures"].as_f64().unwrap())
            .collect();
        assert_eq!(values, vec![1.0, 0.0, 0.0]);
        assert_eq!(docs[0]["FailureKind"], "unavailable");
        assert_eq!(docs[0]["Partner"], "sandbox");
        assert_eq!(docs[0]["Function"], "create-task");
        assert!(docs[1].get("FailureKind").is_none());
    }

    #[test]
    fn sla_and_time_to_task_carry_their_units_and_channel() {
        let (sink, metrics) = captured();
        metrics.order_to_task(Channel::Shopify, ServiceType::NextDay, "sandbox", 2_500);
        metrics.delivery_sla(Channel::Amazon, ServiceType::SameDay, false, 60_000);
        metrics.duplicate_creation_attempt("webhook-intake", "woocommerce", "webhook");
        let docs = sink.documents();
        let unit = |d: &Value| d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"].clone();
        assert_eq!(docs[0]["OrderToTaskMs"], 2500.0);
        assert_eq!(unit(&docs[0]), "Milliseconds");
        assert_eq!(docs[0]["Channel"], "shopify");
        assert_eq!(docs[1]["DeliverySla"], 0.0);
        assert_eq!(unit(&docs[1]), "Percent");
        assert_eq!(docs[1]["LateByMs"], 60_000);
        assert_eq!(docs[2]["DuplicateCreationAttempts"], 1.0);
        assert_eq!(unit(&docs[2]), "Count");
        assert_eq!(
            docs[2]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function", "Channel"], []])
        );
    }
}
