//! Channels: stores and marketplaces whose orders become shipments. Each module owns its
//! payload types and field names and fills [`ShipmentDraft`]s; validation is shared
//! ([`ShipmentDraft::validate`]), and so is the trigger policy ([`OrderFacts::trigger`]).

pub mod amazon;
pub mod api;
pub mod shopify;
pub mod woocommerce;

use crate::domain::{ReviewReason, ShipmentDraft, TriggerPolicy};
use crate::error::{Classify, Transience};
use time::OffsetDateTime;

/// What a channel's order means for delivery right now (the trigger policy's verdict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// Paid (prepaid), confirmed (COD) or ready: make the shipments and their courier tasks.
    Ship,
    /// Not yet: payment not captured, COD not confirmed, parcel not ready. A later event
    /// will decide.
    Wait { why: String },
    /// Nothing for delivery in this event (and no task to undo).
    Ignore { why: String },
    /// The order is cancelled: cancel whatever courier tasks it has.
    Cancel { why: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentState {
    Captured,
    Pending,
    /// Voided or refunded: no money will come, nothing ships.
    Voided,
}

/// The facts of an order event that the trigger policy reads. Channels state facts; the
/// store's policy decides, so "when do we ship" is one function for every channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts {
    pub cancelled: bool,
    pub payment: PaymentState,
    pub cash_on_delivery: bool,
    /// The store accepted the order (what a COD order waits for).
    pub confirmed: bool,
    /// The warehouse says the parcel(s) in this event are ready to go.
    pub ready_to_ship: bool,
    /// The event only reports readiness (a Shopify fulfillment): it means nothing to a store
    /// whose policy ships on payment.
    pub readiness_only: bool,
    /// Something about the order that decides whatever the store's policy says.
    pub blocked: Option<Blocked>,
}

/// Why an order does not ship, whatever the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// Never for a courier of ours: fulfilled by the marketplace, already shipped.
    NotForCourier(String),
    /// Not now: e.g. the buyer asked to cancel and the seller has not decided.
    Held(String),
}

impl OrderFacts {
    pub fn trigger(&self, policy: TriggerPolicy) -> Trigger {
        if self.cancelled {
            return Trigger::Cancel {
                why: "order cancelled".into(),
            };
        }
        if self.payment == PaymentState::Voided {
            return Trigger::Cancel {
                why: "payment voided or refunded".into(),
            };
        }
        match &self.blocked {
            Some(Blocked::NotForCourier(why)) => return Trigger::Ignore { why: why.clone() },
            Some(Blocked::Held(why)) => return Trigger::Wait { why: why.clone() },
            None => {}
        }
        match policy {
            TriggerPolicy::ReadyToShip if self.ready_to_ship => Trigger::Ship,
            TriggerPolicy::ReadyToShip => Trigger::Wait {
                why: "waiting for the warehouse (ready_to_ship policy)".into(),
            },
            TriggerPolicy::PaymentOrConfirmation if self.readiness_only => Trigger::Ignore {
                why: "readiness events do not ship under the payment_or_confirmation policy".into(),
            },
            TriggerPolicy::PaymentOrConfirmation if self.cash_on_delivery => {
                if self.confirmed {
                    Trigger::Ship
                } else {
                    Trigger::Wait {
                        why: "cash-on-delivery order not confirmed".into(),
                    }
                }
            }
            TriggerPolicy::PaymentOrConfirmation => match self.payment {
                PaymentState::Captured => Trigger::Ship,
                _ => Trigger::Wait {
                    why: "payment not captured".into(),
                },
            },
        }
    }
}

/// One channel event about one order, read into domain terms.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderEvent {
    /// The channel's order id as text (exact: never through a float).
    pub order_id: String,
    pub facts: OrderFacts,
    /// The deliveries this event describes: one for a whole order, several for partial
    /// shipments. Empty when the event carries none (a cancellation).
    pub shipments: Vec<ShipmentDraft>,
    /// When the channel says the order last changed; the stale-event guard compares these.
    pub occurred_at: Option<OffsetDateTime>,
}

/// A payload its channel's contract does not describe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a {channel} {what}: {error}")]
    Malformed {
        channel: &'static str,
        what: &'static str,
        error: String,
    },
    #[error("{channel} topic {topic:?} is not acted on")]
    UnknownTopic {
        channel: &'static str,
        topic: String,
    },
}

impl ParseError {
    pub fn malformed(channel: &'static str, what: &'static str, error: impl ToString) -> Self {
        ParseError::Malformed {
            channel,
            what,
            error: error.to_string(),
        }
    }

    pub fn review_reason(&self) -> ReviewReason {
        ReviewReason::UnparseablePayload {
            error: self.to_string(),
        }
    }
}

impl Classify for ParseError {
    fn transience(&self) -> Transience {
        // The same bytes fail the same way every time.
        Transience::Permanent
    }
}

/// Parses an RFC 3339 time, or the zone-less ISO 8601 UTC form WooCommerce's `*_gmt` fields
/// use ("2017-03-22T19:28:08").
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .or_else(|| OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> OrderFacts {
        OrderFacts {
            cancelled: false,
            payment: PaymentState::Captured,
            cash_on_delivery: false,
            confirmed: true,
            ready_to_ship: false,
            readiness_only: false,
            blocked: None,
        }
    }

    #[test]
    fn payment_policy_ships_prepaid_on_capture_and_cod_on_confirmation() {
        let policy = TriggerPolicy::PaymentOrConfirmation;
        assert_eq!(facts().trigger(policy), Trigger::Ship);
        let pending = OrderFacts {
            payment: PaymentState::Pending,
            ..facts()
        };
        assert!(matches!(pending.trigger(policy), Trigger::Wait { .. }));
        let cod = OrderFacts {
            payment: PaymentState::Pending,
            cash_on_delivery: true,
            confirmed: false,
            ..facts()
        };
        assert!(matches!(cod.trigger(policy), Trigger::Wait { .. }));
        let confirmed = OrderFacts {
            confirmed: true,
            ..cod
        };
        assert_eq!(confirmed.trigger(policy), Trigger::Ship);
        let readiness = OrderFacts {
            readiness_only: true,
            blocked: None,
            ready_to_ship: true,
            ..facts()
        };
        assert!(matches!(readiness.trigger(policy), Trigger::Ignore { .. }));
    }

    #[test]
    fn ready_to_ship_policy_waits_for_the_warehouse_even_when_paid() {
        let policy = TriggerPolicy::ReadyToShip;
        assert!(matches!(facts().trigger(policy), Trigger::Wait { .. }));
        let ready = OrderFacts {
            ready_to_ship: true,
            ..facts()
        };
        assert_eq!(ready.trigger(policy), Trigger::Ship);
    }

    #[test]
    fn cancellation_and_voided_payment_cancel_under_every_policy() {
        for policy in [
            TriggerPolicy::PaymentOrConfirmation,
            TriggerPolicy::ReadyToShip,
        ] {
            let cancelled = OrderFacts {
                cancelled: true,
                ready_to_ship: true,
                ..facts()
            };
            assert!(matches!(cancelled.trigger(policy), Trigger::Cancel { .. }));
            let voided = OrderFacts {
                payment: PaymentState::Voided,
                ..facts()
            };
            assert!(matches!(voided.trigger(policy), Trigger::Cancel { .. }));
        }
    }

    #[test]
    fn a_blocked_order_is_ignored_or_held_under_every_policy() {
        for policy in [
            TriggerPolicy::PaymentOrConfirmation,
            TriggerPolicy::ReadyToShip,
        ] {
            let ready = OrderFacts {
                ready_to_ship: true,
                ..facts()
            };
            let not_ours = OrderFacts {
                blocked: Some(Blocked::NotForCourier("fulfilled by Amazon".into())),
                ..ready.clone()
            };
            assert!(
                matches!(not_ours.trigger(policy), Trigger::Ignore { why } if why == "fulfilled by Amazon")
            );
            let held = OrderFacts {
                blocked: Some(Blocked::Held("buyer asked to cancel".into())),
                ..ready.clone()
            };
            assert!(
                matches!(held.trigger(policy), Trigger::Wait { why } if why == "buyer asked to cancel")
            );
            let cancelled = OrderFacts {
                cancelled: true,
                ..held
            };
            assert!(
                matches!(cancelled.trigger(policy), Trigger::Cancel { .. }),
                "a cancellation still cancels"
            );
        }
    }

    #[test]
    fn woocommerce_gmt_times_parse_as_utc() {
        let t = parse_time("2017-03-22T19:28:08").unwrap();
        assert_eq!(t.unix_timestamp(), 1_490_210_888);
        assert!(parse_time("yesterday").is_none());
    }
}
