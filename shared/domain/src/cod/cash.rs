//! The cash desk: hand-overs a dispatcher records and the daily cash-out task per courier
//! (what it owes the depot), as [`crate::ports::CashBook`] stores them.

use super::CourierId;
use crate::Money;
use time::Date;

/// Calendar days as the table and the reports name them: `2026-11-24` (UTC).
pub fn day_text(day: Date) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    day.format(&format).unwrap_or_else(|_| day.to_string())
}

/// Parses `2026-11-24`.
pub fn parse_day(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format).ok()
}

/// What recording a hand-over did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoverWrite {
    Recorded,
    /// The same receipt was recorded before with the same amount: nothing changed.
    AlreadyRecorded,
    /// The receipt was recorded before with another amount: nothing changed.
    Conflict {
        recorded: Money,
    },
}

/// The cash a courier owes the depot for a day, in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashOutTask {
    pub courier: CourierId,
    pub day: Date,
    pub collected: Money,
    pub handed_over: Money,
    /// Collected minus handed over, never below zero.
    pub due: Money,
    /// How many times a re-run changed the task after it was created.
    pub revision: u64,
}

impl CashOutTask {
    pub fn is_settled(&self) -> bool {
        self.due.minor == 0
    }
    pub fn sort_key(&self) -> String {
        format!("{}#{}", self.courier, self.due.currency)
    }
    /// What a re-run compares: the amounts, not when they were computed.
    pub fn digest(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.collected.minor, self.handed_over.minor, self.due.minor, self.due.currency
        )
    }
}

/// What writing a cash-out task did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CashOutWrite {
    Created,
    /// The amounts changed since the last run (e.g. a hand-over recorded since).
    Revised,
    Unchanged,
}

/// Why a hand-over was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error("the receipt number must not be empty")]
    NoReceipt,
    #[error("the amount must be more than zero")]
    NotPositive,
    #[error("receipt {receipt} of {courier} on {day} is already recorded with {recorded}; nothing changed")]
    Conflict {
        receipt: String,
        courier: String,
        day: String,
        recorded: Money,
    },
    #[error(transparent)]
    Storage(#[from] crate::StorageError),
}

impl crate::error::Classify for HandoverError {
    fn transience(&self) -> crate::error::Transience {
        match self {
            HandoverError::Storage(e) => e.transience(),
            // A refusal stands until a person types something else.
            _ => crate::error::Transience::Permanent,
        }
    }
}

/// Records cash a courier handed over on `day`, as the CLI and the console both do: the
/// same receipt twice is recorded once ([`HandoverWrite::AlreadyRecorded`]); the same
/// receipt with another amount is refused, and nothing changes.
pub async fn hand_over(
    cash: &dyn crate::ports::CashBook,
    day: Date,
    handover: &super::Handover,
    by: &str,
) -> Result<HandoverWrite, HandoverError> {
    if handover.receipt.trim().is_empty() {
        return Err(HandoverError::NoReceipt);
    }
    if handover.amount.minor <= 0 {
        return Err(HandoverError::NotPositive);
    }
    match cash.record_handover(day, handover, by).await? {
        HandoverWrite::Conflict { recorded } => Err(HandoverError::Conflict {
            receipt: handover.receipt.clone(),
            courier: handover.courier.to_string(),
            day: day_text(day),
            recorded,
        }),
        done => Ok(done),
    }
}
