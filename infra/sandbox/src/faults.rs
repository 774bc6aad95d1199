//! Fault injection: make the next requests to an endpoint fail the way real services fail.

use std::time::Duration;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

/// A fault to inject into the next requests of one endpoint
/// (`POST /v1/tasks`, the Shopify Admin GraphQL endpoint, the fake WooCommerce REST API or
/// the fake Twilio Messages API).
///
/// On the wire (`POST /sandbox/faults`) it is an object tagged by `mode`, e.g.
/// `{"mode": "unavailable", "times": 3}`. `times` defaults to 1 and counts down once per
/// affected request; the fault is gone when it reaches 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Answer 503 with `Retry-After: 1`; nothing is created.
    Unavailable {
        #[serde(default = "one")]
        times: u32,
    },
    /// Courier: answer 429 with `Retry-After: 1`. Shopify: answer Shopify's GraphQL
    /// `THROTTLED` error (HTTP 200), which is how the Admin API signals its rate limit.
    /// Nothing is created. Accepted on the wire as `rate_limited` or `throttled`.
    #[serde(alias = "throttled")]
    RateLimited {
        #[serde(default = "one")]
        times: u32,
    },
    /// Perform the request for real, then hold the response back for `delay_ms` before
    /// sending it, so a client with a shorter timeout gives up although the write happened.
    LoseResponse {
        #[serde(default = "one")]
        times: u32,
        delay_ms: u64,
    },
    /// Answer 503 with `Retry-After: 1` to every request until the faults are cleared.
    UnavailableUntilCleared,
    /// Answer 500; nothing is created. Endpoints without a distinct 500 answer (Shopify,
    /// WooCommerce) answer it like [`Fault::Unavailable`].
    ServerError {
        #[serde(default = "one")]
        times: u32,
    },
}

fn one() -> u32 {
    1
}

/// What a triggered fault does to the request at hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Injected {
    Unavailable,
    RateLimited,
    LoseResponse(Duration),
}

/// What a triggered fault does, for endpoints that answer [`Fault::ServerError`] with a 500.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strike {
    ServerError,
    Injected(Injected),
}

/// The fault currently armed for one endpoint, if any.
#[derive(Debug, Default)]
pub(crate) struct FaultSlot(Option<Fault>);

impl FaultSlot {
    pub(crate) fn set(&mut self, fault: Fault) {
        self.0 = Some(fault);
    }

    /// Consumes one occurrence of the armed fault and says what to inject, if anything; a
    /// [`Fault::ServerError`] is injected as [`Injected::Unavailable`].
    pub(crate) fn trigger(&mut self) -> Option<Injected> {
        self.strike().map(|strike| match strike {
            Strike::ServerError => Injected::Unavailable,
            Strike::Injected(injected) => injected,
        })
    }

    /// Consumes one occurrence of the armed fault and says what to inject, if anything.
    pub(crate) fn strike(&mut self) -> Option<Strike> {
        let fault = self.0.as_mut()?;
        let (times, injected) = match fault {
            Fault::UnavailableUntilCleared => return Some(Strike::Injected(Injected::Unavailable)),
            Fault::Unavailable { times } => (times, Strike::Injected(Injected::Unavailable)),
            Fault::RateLimited { times } => (times, Strike::Injected(Injected::RateLimited)),
            Fault::LoseResponse { times, delay_ms } => (
                times,
                Strike::Injected(Injected::LoseResponse(Duration::from_millis(*delay_ms))),
            ),
            Fault::ServerError { times } => (times, Strike::ServerError),
        };
        if *times == 0 {
            self.0 = None;
            return None;
        }
        *times -= 1;
        if *times == 0 {
            self.0 = None;
        }
        Some(injected)
    }
}

/// The armed faults of every endpoint that supports them.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub(crate) create_task: FaultSlot,
    /// `PUT /v1/drivers/{driver_id}/route`.
    pub(crate) assign_route: FaultSlot,
    pub(crate) shopify_admin: FaultSlot,
    /// `POST .../Messages.json` of the fake Twilio API.
    pub(crate) twilio: FaultSlot,
}

impl Faults {
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}

/// Response extension asking [`hold_back`] to delay sending the response.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HoldBack(pub(crate) Duration);

/// Middleware implementing [`Fault::LoseResponse`]: handlers only tag their response, and the
/// delay happens here, outside every other layer, so the request log has already recorded the
/// status by the time the response is held back.
pub(crate) async fn hold_back(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(HoldBack(delay)) = response.extensions().get::<HoldBack>().copied() {
        tokio::time::sleep(delay).await;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_fault_fires_exactly_times_then_disarms() {
        let mut slot = FaultSlot::default();
        slot.set(Fault::RateLimited { times: 2 });
        assert_eq!(slot.trigger(), Some(Injected::RateLimited));
        assert_eq!(slot.trigger(), Some(Injected::RateLimited));
        assert_eq!(slot.trigger(), None);
        assert_eq!(slot.0, None);
    }

    #[test]
    fn zero_times_is_a_no_op() {
        let mut slot = FaultSlot::default();
        slot.set(Fault::Unavailable { times: 0 });
        assert_eq!(slot.trigger(), None);
    }

    #[test]
    fn until_cleared_never_runs_out() {
        let mut slot = FaultSlot::default();
        slot.set(Fault::UnavailableUntilCleared);
        for _ in 0..100 {
            assert_eq!(slot.trigger(), Some(Injected::Unavailable));
        }
    }

    #[test]
    fn lose_response_carries_its_delay() {
        let mut slot = FaultSlot::default();
        slot.set(Fault::LoseResponse {
            times: 1,
            delay_ms: 250,
        });
        assert_eq!(
            slot.trigger(),
            Some(Injected::LoseResponse(Duration::from_millis(250)))
        );
        assert_eq!(slot.trigger(), None);
    }

    #[test]
    fn server_error_strikes_as_500_or_as_unavailable() {
        let mut slot = FaultSlot::default();
        slot.set(Fault::ServerError { times: 2 });
        assert_eq!(slot.strike(), Some(Strike::ServerError));
        assert_eq!(slot.trigger(), Some(Injected::Unavailable));
        assert_eq!(slot.strike(), None);
    }

    #[test]
    fn wire_format() {
        let parse = |s: &str| serde_json::from_str::<Fault>(s);
        assert_eq!(
            parse(r#"{"mode":"unavailable","times":3}"#).ok(),
            Some(Fault::Unavailable { times: 3 })
        );
        assert_eq!(
            parse(r#"{"mode":"throttled","times":2}"#).ok(),
            Some(Fault::RateLimited { times: 2 })
        );
        assert_eq!(
            parse(r#"{"mode":"lose_response","delay_ms":500}"#).ok(),
            Some(Fault::LoseResponse {
                times: 1,
                delay_ms: 500
            })
        );
        assert_eq!(
            parse(r#"{"mode":"unavailable_until_cleared"}"#).ok(),
            Some(Fault::UnavailableUntilCleared)
        );
        assert_eq!(
            parse(r#"{"mode":"server_error"}"#).ok(),
            Some(Fault::ServerError { times: 1 })
        );
        assert!(parse(r#"{"mode":"lose_response"}"#).is_err());
        assert!(parse(r#"{"mode":"unavailable","tims":3}"#).is_err());
        assert!(parse(r#"{"mode":"explode"}"#).is_err());
    }
}
