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
