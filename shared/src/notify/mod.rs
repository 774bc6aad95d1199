//! Customer notifications: what a customer is told about their delivery, and the providers
//! that carry it (SMS and WhatsApp through a Twilio-compatible API, e-mail through Amazon
//! SES, a local capture sink). Every provider implements [`Notifier`]; the outbox (DynamoDB)
//! and the notify function make each message go out at most once.

use crate::error::{Classify, Transience};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How a message reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyChannel {
    Sms,
    #[serde(rename = "whatsapp")]
    WhatsApp,
    Email,
}

impl NotifyChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyChannel::Sms => "sms",
            NotifyChannel::WhatsApp => "whatsapp",
            NotifyChannel::Email => "email",
        }
    }
}

/// One message, rendered and addressed, as a provider sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    /// The outbox id: stable per shipment and event ("<shipment key>#delivered").
    pub id: String,
    pub channel: NotifyChannel,
    /// An E.164 phone number (SMS, WhatsApp) or an e-mail address.
    pub to: String,
    /// E-mail only.
    pub subject: Option<String>,
    pub body: String,
}

/// A provider accepted the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// "twilio", "ses", "capture".
    pub provider: String,
    /// The provider's id for the message (a Twilio `SM…` sid, an SES MessageId).
    pub provider_id: String,
}

#[async_trait]
pub trait Notifier: Send + Sync {
    /// "twilio", "ses", "capture".
    fn name(&self) -> &str;

    /// Sends once. Never retries by itself: the caller decides, from the error, whether a
    /// retry could send the message twice.
    async fn send(&self, message: &OutgoingMessage) -> Result<Sent, NotifyError>;
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The provider did not take the message (connection refused, 5xx): safe to retry.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// 429 or the provider's throttling error: not taken, retry later.
    #[error("provider throttled the request")]
    Throttled { retry_after: Option<Duration> },
    /// The request may have reached the provider (a timeout after sending): a retry could
    /// send the message twice, so it is not retried.
    #[error("provider outcome unknown: {0}")]
    Ambiguous(String),
    /// The provider refuses this message every time (an invalid number, a blocked address).
    #[error("provider rejected the message ({code}): {message}")]
    Rejected { code: String, message: String },
    /// Our credentials or sender are wrong: an operator must fix them.
    #[error("provider configuration: {0}")]
    Config(String),
}

impl Classify for NotifyError {
    fn transience(&self) -> Transience {
        match self {
            NotifyError::Unavailable(_)
            | NotifyError::Throttled { .. }
            | NotifyError::Config(_) => Transience::Transient,
            NotifyError::Ambiguous(_) | NotifyError::Rejected { .. } => Transience::Permanent,
        }
    }
}
