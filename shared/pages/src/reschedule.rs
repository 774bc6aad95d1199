//! The customer's reschedule page: the store's delivery slots to pick from, or why the time
//! cannot change now.

use maud::html;

/// A slot as the form offers it: its value (the start, ms since the epoch) and its words.
pub struct SlotChoice {
    pub value: String,
    pub label: String,
}

pub enum RescheduleState<'a> {
    /// The slots to pick from.
    Choose {
        slots: &'a [SlotChoice],
        /// The window the delivery has now, in words.
        current: Option<&'a str>,
        /// The last attempt failed: a new one is arranged for the chosen slot.
        after_failure: bool,
        /// What the last choice did.
        notice: Option<&'a str>,
        /// Why the last choice was not taken.
        problem: Option<&'a str>,
    },
    /// After a failed attempt, the customer's choice is with the store.
    Requested,
    /// The driver has the parcel.
    WithDriver,
    Delivered,
    /// Cancelled or returned.
    Ended,
    /// The store offers no slots now.
    NoSlots,
}

pub struct RescheduleView<'a> {
    pub store: &'a str,
    pub order: &'a str,
    pub state: RescheduleState<'a>,
}

pub fn reschedule(view: &RescheduleView) -> String {
    let (store, order) = (view.store, view.order);
    let body = html! {
        h1 { "Choose a delivery time" }
        @match &view.state {
            RescheduleState::Choose { slots, current, after_failure, notice, problem } => {
                @if let Some(notice) = notice { p.notice role="status" { (notice) } }
                @if let Some(problem) = problem {
                    div.problems role="alert" { h2 { "Please choose again" } p { (problem) } }
                }
                @if *after_failure {
                    p { "We could not deliver your order " (order) " from " (store)
                        ". Choose when we should try again." }
                } @else {
                    p { "Your order " (order) " from " (store) " can come at another time." }
                }
                @if let Some(current) = current { p { "Planned now: " strong { (current) } } }
                form method="post" {
                    fieldset {
                        legend { "Delivery times" }
                        @for (i, slot) in slots.iter().enumerate() {
                            p.choice {
                                input type="radio" name="slot" id=(format!("slot-{i}")) value=(slot.value) required;
                                label for=(format!("slot-{i}")) { (slot.label) }
                            }
                        }
                    }
                    button type="submit" { "Deliver at this time" }
                }
            }
            RescheduleState::Requested => {
                p { "Thank you. " (store) " has your choice and arranges the new delivery of your order "
                    (order) "; you will hear from us when it is on the way." }
            }
            RescheduleState::WithDriver => {
                p { "The driver already has your order " (order)
                    ", so its time cannot change now. Follow it with the tracking link in your message." }
            }
            RescheduleState::Delivered => {
                p { "Your order " (order) " has been delivered: there is nothing to reschedule." }
            }
            RescheduleState::Ended => {
                p { "Your order " (order) " is no longer on its way to you, so there is nothing to reschedule. "
                    "Please contact " (store) " if this is not what you expected." }
            }
            RescheduleState::NoSlots => {
                p { (store) " has no delivery times to offer right now. Please contact the store." }
            }
        }
    };
    super::layout("Choose a delivery time", body)
}

/// "Mon 7 Dec, 09:00–12:00": a slot on the wall clock of `zone` (UTC when unknown).
pub fn slot_words(start_ms: i64, end_ms: i64, zone: Option<&str>) -> Option<String> {
    let zone = zone
        .and_then(|name| jiff::tz::TimeZone::get(name).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let start = jiff::Timestamp::from_millisecond(start_ms)
        .ok()?
        .to_zoned_datetime(zone.clone());
    let end = jiff::Timestamp::from_millisecond(end_ms)
        .ok()?
        .to_zoned_datetime(zone);
    Some(format!(
        "{}–{}",
        start.strftime("%a %-d %b, %H:%M"),
        end.strftime("%H:%M %Z")
    ))
}
