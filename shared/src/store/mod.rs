//! Stores: where tracking and statuses are written back to the channel the order came from.

pub mod shopify;

use crate::error::{Classify, Transience};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The tracking a store shows its customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracking {
    pub number: String,
    pub url: Option<String>,
    /// The carrier name the store displays.
    pub company: String,
}

/// How a write-back ended when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteBack {
    /// We wrote it now; `reference` is the store's id for what was written.
    Written { reference: String },
    /// The store already shows this tracking (an earlier attempt got through).
    AlreadyThere { reference: String },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store throttled the request")]
    Throttled { retry_after: Option<Duration> },
    /// Sent, outcome unknown: look before writing again.
    #[error("store outcome unknown: {0}")]
    Ambiguous(String),
    #[error("store rejected the write-back: {0}")]
    Rejected(String),
    #[error("store credentials: {0}")]
    Config(String),
}

impl Classify for StoreError {
    fn transience(&self) -> Transience {
        match self {
            StoreError::Rejected(_) => Transience::Permanent,
            _ => Transience::Transient,
        }
    }
}
