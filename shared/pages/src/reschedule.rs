//! The customer's reschedule page: the store's delivery slots to pick from, or why the time
//! cannot change now.

use crate::locale::{fill, Words};
use domain::locale::Locale;
use maud::html;

/// A slot as the form offers it: its value (the start, ms since the epoch) and its words
/// ([`slot_words`] in the page's locale).
pub struct SlotChoice {
    pub value: String,
    pub label: String,
}

pub enum RescheduleState<'a> {
    /// The slots to pick from.
    Choose {
        slots: &'a [SlotChoice],
        /// The window the delivery has now, in words ([`slot_words`] in the page's locale).
        current: Option<&'a str>,
        /// The last attempt failed: a new one is arranged for the chosen slot.
        after_failure: bool,
        /// The last choice was taken: the page says the delivery is now planned for
        /// `current`.
        done: bool,
        /// The last choice was not taken: the time chosen is not offered (any more).
        not_offered: bool,
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
    /// The language the page is written in: the store's.
    pub locale: Locale,
}

pub fn reschedule(view: &RescheduleView) -> String {
    let words = Words(view.locale);
    let order_and_store = [("order", view.order), ("store", view.store)];
    let says = |template: &str| fill(template, &order_and_store);
    let body = html! {
        h1 { (words.choose_a_time()) }
        @match &view.state {
            RescheduleState::Choose { slots, current, after_failure, done, not_offered } => {
                @if let Some(current) = current.filter(|_| *done) {
                    p.notice role="status" { (fill(words.done_planned_for(), &[("slot", current)])) }
                }
                @if *not_offered {
                    div.problems role="alert" {
                        h2 { (words.please_choose_again()) } p { (words.not_offered()) }
                    }
                }
                @if *after_failure {
                    p { (says(words.could_not_deliver_choose())) }
                } @else {
                    p { (says(words.can_come_another_time())) }
                }
                @if let Some(current) = current { p { (words.planned_now()) " " strong { (current) } } }
                form method="post" {
                    fieldset {
                        legend { (words.delivery_times()) }
                        @for (i, slot) in slots.iter().enumerate() {
                            p.choice {
                                input type="radio" name="slot" id=(format!("slot-{i}")) value=(slot.value) required;
                                label for=(format!("slot-{i}")) { (slot.label) }
                            }
                        }
                    }
                    button type="submit" { (words.deliver_at_this_time()) }
                }
            }
            RescheduleState::Requested => p { (says(words.redelivery_requested())) },
            RescheduleState::WithDriver => p { (says(words.with_the_driver())) },
            RescheduleState::Delivered => p { (says(words.already_delivered())) },
            RescheduleState::Ended => p { (says(words.ended())) },
            RescheduleState::NoSlots => p { (says(words.no_slots())) },
        }
    };
    super::layout(view.locale, words.choose_a_time(), body)
}

/// "Mon 7 Dec, 09:00–12:00 CET" ("Mo. 7. Dez., 09:00–12:00 CET"): a slot on the wall clock
/// of `zone` (UTC when unknown), in `locale`'s words.
pub fn slot_words(
    start_ms: i64,
    end_ms: i64,
    zone: Option<&str>,
    locale: Locale,
) -> Option<String> {
    let zone = zone
        .and_then(|name| jiff::tz::TimeZone::get(name).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let start = jiff::Timestamp::from_millisecond(start_ms)
        .ok()?
        .to_zoned_datetime(zone.clone());
    let end = jiff::Timestamp::from_millisecond(end_ms)
        .ok()?
        .to_zoned_datetime(zone);
    Some(Words(locale).slot(&start, &end))
}
