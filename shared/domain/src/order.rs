//! What an order event means for delivery. Channels state facts about an order (paid,
//! confirmed, cancelled, ready); the store's trigger policy decides, so "when do we ship"
//! is one function for every channel.

use crate::{ShipmentDraft, TriggerPolicy};
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
}
