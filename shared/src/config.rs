//! Typed configuration from the environment that template.yaml gives every function. Read
//! once in `main`; a missing or malformed variable stops the function at start-up, naming it.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub inbound_table: String,
    pub shipments_table: String,
    pub idempotency_table: String,
    pub review_table: String,
    /// Per-store configuration (trigger policy, service rules).
    pub stores_table: String,
    pub intake_queue_url: String,
    pub tasks_queue_url: String,
    pub sync_queue_url: String,
    /// Where Amazon delivers SP-API notifications; only marketplace-intake has it.
    pub amazon_notifications_queue_url: Option<String>,
    /// Wakes the notify function for a new outbox message.
    pub outbox_queue_url: String,
    /// The notifications outbox (DynamoDB): every message to a customer, once.
    pub outbox_table: String,
    /// Every courier event per shipment: the status history.
    pub history_table: String,
    /// Cash handed over by couriers and the daily cash-out tasks.
    pub cash_table: String,
    /// S3 bucket of the COD reconciliation reports.
    pub reports_bucket: String,
    /// Who carries each notification channel.
    pub notify: NotifyConfig,
    /// Secrets Manager names start with it: `{prefix}shopify/{store}`, `{prefix}courier/{name}`.
    pub secrets_prefix: String,
    pub courier_name: String,
    pub idempotency_lease: Duration,
    pub max_webhook_body_bytes: usize,
    /// Per-request timeout towards partners; keep it well under the lease.
    pub partner_timeout: Duration,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub secrets_ttl: Duration,
    /// Dead-letter queues whose depth ship-by-watch reports: (logical id, URL), from
    /// `DLQ_URLS` = `IntakeDLQ=<url>,TasksDLQ=<url>,...`.
    pub dlq_urls: Vec<(String, String)>,
    /// Metrics go to this JSON-lines file instead of stdout (local runs, tests).
    pub metrics_capture_file: Option<String>,
}

/// Providers per channel: `twilio` | `capture` | `off` for SMS and WhatsApp, `ses` |
/// `capture` | `off` for e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyConfig {
    pub sms: String,
    pub whatsapp: String,
    pub email: String,
    /// The verified SES sender ("Deliveries <deliveries@shop.example>").
    pub email_from: Option<String>,
    pub ses_configuration_set: Option<String>,
    /// Where the capture provider writes `messages.jsonl`.
    pub capture_dir: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing environment variable(s): {0}")]
    Missing(String),
    #[error("environment variable {name}={value:?} is not {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the same variables from any source (the local runtime passes each function the
    /// environment template.yaml gives it, without touching the process environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut missing = Vec::new();
        let mut required = |name: &'static str| {
            lookup(name).filter(|v| !v.is_empty()).unwrap_or_else(|| {
                missing.push(name);
                String::new()
            })
        };
        let inbound_table = required("INBOUND_TABLE");
        let shipments_table = required("SHIPMENTS_TABLE");
        let idempotency_table = required("IDEMPOTENCY_TABLE");
        let review_table = required("REVIEW_TABLE");
        let stores_table = required("STORES_TABLE");
        let intake_queue_url = required("INTAKE_QUEUE_URL");
        let tasks_queue_url = required("TASKS_QUEUE_URL");
        let sync_queue_url = required("SYNC_QUEUE_URL");
        let outbox_queue_url = required("OUTBOX_QUEUE_URL");
        let outbox_table = required("OUTBOX_TABLE");
        let history_table = required("SHIPMENT_EVENTS_TABLE");
        let cash_table = required("CASH_TABLE");
        let reports_bucket = required("REPORTS_BUCKET");
        if !missing.is_empty() {
            return Err(ConfigError::Missing(missing.join(", ")));
        }
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match lookup(name).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
                    name,
                    value: v,
                    expected: "a whole number",
                }),
            }
        };
        let dlq_urls = parse_dlq_urls(lookup("DLQ_URLS").as_deref().unwrap_or(""))?;
        Ok(Config {
            inbound_table,
            shipments_table,
            idempotency_table,
            review_table,
            stores_table,
            intake_queue_url,
            tasks_queue_url,
            sync_queue_url,
            outbox_queue_url,
            outbox_table,
            history_table,
            cash_table,
            reports_bucket,
            notify: NotifyConfig {
                sms: lookup("NOTIFY_SMS_PROVIDER").unwrap_or_else(|| "twilio".into()),
                whatsapp: lookup("NOTIFY_WHATSAPP_PROVIDER").unwrap_or_else(|| "twilio".into()),
                email: lookup("NOTIFY_EMAIL_PROVIDER").unwrap_or_else(|| "ses".into()),
                email_from: lookup("NOTIFY_EMAIL_FROM").filter(|v| !v.is_empty()),
                ses_configuration_set: lookup("SES_CONFIGURATION_SET").filter(|v| !v.is_empty()),
                capture_dir: lookup("NOTIFY_CAPTURE_DIR")
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "/tmp/courier-bridge-messages".into()),
            },
            amazon_notifications_queue_url: lookup("AMAZON_NOTIFICATIONS_QUEUE_URL")
                .filter(|v| !v.is_empty()),
            secrets_prefix: lookup("SECRETS_PREFIX").unwrap_or_else(|| "courier-bridge/".into()),
            courier_name: lookup("COURIER_NAME").unwrap_or_else(|| "sandbox".into()),
            idempotency_lease: Duration::from_secs(number("IDEMPOTENCY_LEASE_SECONDS", 60)?),
            max_webhook_body_bytes: number("MAX_WEBHOOK_BODY_BYTES", 262_144)? as usize,
            partner_timeout: Duration::from_millis(number("PARTNER_TIMEOUT_MS", 10_000)?),
            retry_base: Duration::from_millis(number("RETRY_BASE_MS", 2_000)?),
            retry_max: Duration::from_millis(number("RETRY_MAX_MS", 900_000)?),
            secrets_ttl: Duration::from_secs(number("SECRETS_TTL_SECONDS", 300)?),
            dlq_urls,
            metrics_capture_file: lookup("METRICS_CAPTURE_FILE").filter(|v| !v.is_empty()),
        })
    }
}

/// `Name=url,Name=url` (template.yaml builds it with `!Sub`): the name becomes the metric's
/// Queue dimension, so it is the queue's logical id, the same in every stack.
fn parse_dlq_urls(text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| match entry.split_once('=') {
            Some((name, url)) if !name.trim().is_empty() && !url.trim().is_empty() => {
                Ok((name.trim().to_owned(), url.trim().to_owned()))
            }
            _ => Err(ConfigError::Invalid {
                name: "DLQ_URLS",
                value: text.to_owned(),
                expected: "Name=url pairs separated by commas",
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn every_missing_variable_is_named_at_once() {
        let err = Config::from_lookup(|_| None).unwrap_err().to_string();
        for name in [
            "INBOUND_TABLE",
            "SHIPMENTS_TABLE",
            "TASKS_QUEUE_URL",
            "SYNC_QUEUE_URL",
        ] {
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn numbers_are_checked_and_defaults_apply() {
        let mut env: HashMap<&str, &str> = [
            "INBOUND_TABLE",
            "SHIPMENTS_TABLE",
            "IDEMPOTENCY_TABLE",
            "REVIEW_TABLE",
            "STORES_TABLE",
            "INTAKE_QUEUE_URL",
            "TASKS_QUEUE_URL",
            "SYNC_QUEUE_URL",
            "OUTBOX_QUEUE_URL",
            "OUTBOX_TABLE",
            "SHIPMENT_EVENTS_TABLE",
            "CASH_TABLE",
            "REPORTS_BUCKET",
        ]
        .into_iter()
        .map(|k| (k, "x"))
        .collect();
        let config = Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(config.idempotency_lease, Duration::from_secs(60));
        assert_eq!(config.max_webhook_body_bytes, 262_144);
        env.insert("IDEMPOTENCY_LEASE_SECONDS", "soon");
        let err = Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap_err();
        assert!(err.to_string().contains("IDEMPOTENCY_LEASE_SECONDS"));
    }

    #[test]
    fn dead_letter_queues_are_named_url_pairs() {
        assert_eq!(
            parse_dlq_urls("TasksDLQ=http://q/1, SyncDLQ=http://q/2").unwrap(),
            vec![
                ("TasksDLQ".to_owned(), "http://q/1".to_owned()),
                ("SyncDLQ".to_owned(), "http://q/2".to_owned())
            ]
        );
        assert!(parse_dlq_urls("").unwrap().is_empty());
        assert!(parse_dlq_urls("http://q/1").is_err());
    }
}
