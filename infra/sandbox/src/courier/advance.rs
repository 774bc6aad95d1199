//! The optional `POST /v1/tasks/{id}/advance` body: what the simulated driver reports with
//! a step, beyond "the next status".
//!
//! * no body (or an empty one, or `{}`): the next status;
//! * `{"outcome": "failed", "reason": "recipient_absent", "notes": "..."}`: the attempt
//!   failed (only from `out_for_delivery`);
//! * `{"cod_collected_minor": 12000}`: on the step to `delivered`, the cash the driver
//!   collected when it is not the task's cash-on-delivery amount;
//! * `{"driver_id": "drv_07"}`: on the step to `assigned`, who takes the task (otherwise the
//!   next driver of the roster, in turn).

use serde::Deserialize;

use super::model::{DriverReport, FailedAttempt};
use crate::error::{parse_json, ApiError};

/// The reasons a driver may give for a failed attempt.
pub(crate) const FAILURE_REASONS: [&str; 6] = [
    "recipient_absent",
    "address_not_found",
    "refused",
    "access_denied",
    "damaged",
    "cod_not_paid",
];

/// The only `outcome` there is: the plain next step needs none.
const OUTCOME_FAILED: &str = "failed";

// Signed and optional throughout, so that a bad value is reported against its field.
#[derive(Debug, Default, Deserialize)]
struct AdvanceRequest {
    outcome: Option<String>,
    reason: Option<String>,
    notes: Option<String>,
    cod_collected_minor: Option<i64>,
    driver_id: Option<String>,
}

/// Parses and checks the body; what the task's status allows is checked by the store.
pub(crate) fn driver_report(body: &[u8]) -> Result<DriverReport, ApiError> {
    let request: AdvanceRequest = if body.iter().all(u8::is_ascii_whitespace) {
        AdvanceRequest::default()
    } else {
        parse_json(body)?
    };

    let failure = match request.outcome.as_deref() {
        None => {
            if request.reason.is_some() {
                return Err(ApiError::invalid(
                    "reason",
                    "reason is only accepted with \"outcome\": \"failed\"",
                ));
            }
            None
        }
        Some(OUTCOME_FAILED) => {
            let reason = request
                .reason
                .filter(|reason| !reason.trim().is_empty())
                .ok_or_else(|| {
                    ApiError::invalid("reason", "reason is required with \"outcome\": \"failed\"")
                })?;
            if !FAILURE_REASONS.contains(&reason.as_str()) {
                return Err(ApiError::invalid(
                    "reason",
                    format!("reason must be one of {}", FAILURE_REASONS.join(", ")),
                ));
            }
            Some(FailedAttempt {
                reason,
                notes: request.notes.filter(|notes| !notes.trim().is_empty()),
            })
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "outcome",
                "outcome must be \"failed\" (leave it out for the next step)",
            ))
        }
    };

    let cod_collected_minor = request
        .cod_collected_minor
        .map(|amount| {
            u64::try_from(amount).map_err(|_| {
                ApiError::invalid("cod_collected_minor", "cod_collected_minor must be >= 0")
            })
        })
        .transpose()?;
    if failure.is_some() && cod_collected_minor.is_some() {
        return Err(ApiError::invalid(
            "cod_collected_minor",
            "cod_collected_minor is only reported on the step to delivered",
        ));
    }

    let driver_id = match request.driver_id {
        Some(driver) if driver.trim().is_empty() => {
            return Err(ApiError::invalid(
                "driver_id",
                "driver_id must not be empty",
            ))
        }
        Some(_) if failure.is_some() || cod_collected_minor.is_some() => {
            return Err(ApiError::invalid(
                "driver_id",
                "driver_id is only given on the step to assigned",
            ))
        }
        other => other,
    };

    Ok(DriverReport {
        failure,
        cod_collected_minor,
        driver_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(result: Result<DriverReport, ApiError>) -> Option<String> {
        match result {
            Err(ApiError::InvalidRequest { field, .. }) => field,
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn no_body_and_an_empty_object_are_the_plain_next_step() {
        assert_eq!(driver_report(b"").ok(), Some(DriverReport::default()));
        assert_eq!(driver_report(b" \n").ok(), Some(DriverReport::default()));
        assert_eq!(driver_report(b"{}").ok(), Some(DriverReport::default()));
    }

    #[test]
    fn a_failed_attempt_needs_a_known_reason() {
        let report =
            driver_report(br#"{"outcome":"failed","reason":"recipient_absent","notes":"gate"}"#)
                .unwrap();
        assert_eq!(
            report.failure,
            Some(FailedAttempt {
                reason: "recipient_absent".into(),
                notes: Some("gate".into())
            })
        );
        assert_eq!(
            field(driver_report(br#"{"outcome":"failed"}"#)).as_deref(),
            Some("reason")
        );
        assert_eq!(
            field(driver_report(br#"{"outcome":"failed","reason":"bored"}"#)).as_deref(),
            Some("reason")
        );
        assert_eq!(
            field(driver_report(br#"{"outcome":"lost"}"#)).as_deref(),
            Some("outcome")
        );
        assert_eq!(
            field(driver_report(br#"{"reason":"refused"}"#)).as_deref(),
            Some("reason")
        );
    }

    #[test]
    fn the_collected_amount_is_a_non_negative_integer_without_a_failure() {
        assert_eq!(
            driver_report(br#"{"cod_collected_minor":1200}"#)
                .unwrap()
                .cod_collected_minor,
            Some(1200)
        );
        assert_eq!(
            field(driver_report(br#"{"cod_collected_minor":-1}"#)).as_deref(),
            Some("cod_collected_minor")
        );
        assert_eq!(
            field(driver_report(
                br#"{"outcome":"failed","reason":"refused","cod_collected_minor":0}"#
            ))
            .as_deref(),
            Some("cod_collected_minor")
        );
        assert!(matches!(
            driver_report(b"{"),
            Err(ApiError::MalformedJson(_))
        ));
    }
}
