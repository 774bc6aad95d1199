//! The audit trail (the inbound table): every webhook that reached us, its signature result, and what it
//! produced. It is both the dedupe record (one item per channel + store + webhook id,
//! written with `attribute_not_exists`) and the audit trail: its `by_order` index answers
//! "which payloads touched this order, and which one created the task" in one query.

use serde::{Deserialize, Serialize};

/// Where an inbound payload is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboundState {
    /// Stored, not yet on the intake queue.
    Received,
    /// On the intake queue.
    Enqueued,
    /// Valid but not for us (unknown topic): acknowledged and kept.
    Ignored,
    /// Normalized: see `outcome`.
    Processed,
    /// Could not be read; a review item holds it.
    Review,
}

impl InboundState {
    pub fn as_str(self) -> &'static str {
        match self {
            InboundState::Received => "received",
            InboundState::Enqueued => "enqueued",
            InboundState::Ignored => "ignored",
            InboundState::Processed => "processed",
            InboundState::Review => "review",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "received" => InboundState::Received,
            "enqueued" => InboundState::Enqueued,
            "ignored" => InboundState::Ignored,
            "processed" => InboundState::Processed,
            "review" => InboundState::Review,
            _ => return None,
        })
    }
}

/// A verified payload as intake stores it.
#[derive(Debug, Clone)]
pub struct NewInbound<'a> {
    pub channel: &'a str,
    pub store: &'a str,
    pub topic: &'a str,
    pub webhook_id: &'a str,
    /// When the channel says the event happened (Shopify: `X-Shopify-Triggered-At`).
    pub triggered_at: Option<&'a str>,
    pub body: &'a [u8],
    pub state: InboundState,
    /// Which of the sender's secrets verified it.
    pub signed_with: SignedWith,
}

/// Which of a sender's secrets verified a webhook. While a secret is rotated, the previous
/// one is still accepted for a grace period; the audit trail says which one signed, so an
/// operator sees when the last sender moved over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignedWith {
    #[default]
    Current,
    Previous,
}

impl SignedWith {
    /// The inbound record's `signature` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            SignedWith::Current => "valid",
            SignedWith::Previous => "valid (previous secret)",
        }
    }
}

impl NewInbound<'_> {
    pub fn id(&self) -> String {
        inbound_id(self.channel, self.store, self.webhook_id)
    }
}

pub fn inbound_id(channel: &str, store: &str, webhook_id: &str) -> String {
    format!("{channel}:{store}:{webhook_id}")
}

/// The answer to "have we seen this webhook?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    New,
    /// Seen before; `state` says whether the first delivery got as far as the queue.
    Duplicate {
        state: InboundState,
        count: u32,
        received_ms: i64,
    },
}

/// A stored inbound payload, as the audit trail shows it.
#[derive(Debug, Clone, Serialize)]
pub struct InboundRecord {
    pub id: String,
    pub channel: String,
    pub store: String,
    pub topic: String,
    pub webhook_id: String,
    pub received_at: String,
    pub triggered_at: Option<String>,
    pub signature: String,
    pub state: InboundState,
    pub duplicates: u32,
    #[serde(skip)]
    pub body: Vec<u8>,
    pub order_key: Option<String>,
    pub shipment_key: Option<String>,
    pub outcome: Option<String>,
    pub task_id: Option<String>,
    pub task_created_at: Option<String>,
    pub review_id: Option<String>,
}

/// What a payload produced, for the audit trail.
#[derive(Debug, Clone)]
pub struct AuditOutcome<'a> {
    pub state: InboundState,
    /// One line an operator reads: "task requested", "waiting: payment not captured", ...
    pub summary: &'a str,
    pub order_key: Option<&'a str>,
    pub shipment_key: Option<&'a str>,
    pub review_id: Option<&'a str>,
}

/// A request refused before it was trusted (bad signature, unknown store, too large).
#[derive(Debug, Clone)]
pub struct Rejection<'a> {
    pub channel: &'a str,
    pub store: &'a str,
    pub reason: &'a str,
    pub http_status: u16,
    pub body_len: usize,
    pub body_sha256: String,
    pub webhook_id: Option<&'a str>,
    pub topic: Option<&'a str>,
}
