//! Channels: stores and marketplaces whose orders become shipments. Each module owns its
//! payload types and field names; what leaves it is a domain type.

pub mod shopify;

use crate::domain::ReviewReason;

/// What a channel's order means for delivery right now (the trigger policy's verdict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// Paid (prepaid) or confirmed (COD): make the shipment and its courier task.
    Ship,
    /// Not yet: payment not captured, or COD not confirmed. A later event will decide.
    Wait { why: String },
    /// Never, e.g. the order was cancelled or voided before any task existed.
    Ignore { why: String },
}

/// A channel payload that cannot become a shipment, with every reason at once so that an
/// operator fixes it in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedsReview(pub Vec<ReviewReason>);
