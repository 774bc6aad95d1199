//! The notifications outbox: one item per message the customer should get, keyed by
//! shipment and event ("<shipment key>#delivered"), so composing it twice writes it once.
//! The notify function claims an item, sends it, and records the end: each message goes
//! out at most once (DESIGN.md, idempotency; docs/notifications.md).
//!
//! ```text
//! PENDING ──claim──> SENDING ──accepted──> SENT
//!    ^                  │ ──refused──────> FAILED   (the provider will never take it)
//!    └──not taken───────┘ ──unknown──────> UNKNOWN  (it may have gone out: never resent)
//! PENDING ──no longer true when sent──> SKIPPED (e.g. "on the way" after the delivery)
//! ```

use super::NotifyChannel;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutboxState {
    Pending,
    Sending,
    Sent,
    Failed,
    Unknown,
    Skipped,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "PENDING",
            OutboxState::Sending => "SENDING",
            OutboxState::Sent => "SENT",
            OutboxState::Failed => "FAILED",
            OutboxState::Unknown => "UNKNOWN",
            OutboxState::Skipped => "SKIPPED",
        }
    }

    pub fn is_final(self) -> bool {
        !matches!(self, OutboxState::Pending | OutboxState::Sending)
    }

    pub fn parse(text: &str) -> Option<OutboxState> {
        serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
    }
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// "<shipment key>#<template>".
    pub id: String,
    pub shipment_key: String,
    /// The template's name ("delivered"): the notify function checks it is still true.
    pub template: String,
    pub channel: NotifyChannel,
    pub to: String,
    pub subject: Option<String>,
    pub body: String,
    pub state: OutboxState,
    pub attempts: u32,
    pub provider: Option<String>,
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub created_ms: i64,
}

impl OutboxEntry {
    pub fn id_for(shipment_key: &str, template: &str) -> String {
        format!("{shipment_key}#{template}")
    }
}

/// What trying to claim a message for sending found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxClaim {
    /// Ours to send now.
    Claimed(Box<OutboxEntry>),
    /// Already ended (sent, failed, unknown, skipped): nothing to do.
    Ended(OutboxState),
    /// Another sender holds it until `until_ms`.
    InFlight {
        until_ms: i64,
    },
    /// A sender took it and never said how it ended: it may have gone out.
    Abandoned,
    Missing,
}
