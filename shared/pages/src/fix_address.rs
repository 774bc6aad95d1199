//! The customer's fix-my-address page: the address the courier could not place, in a form
//! to correct, and after it the words for what happened. Only the fields a customer knows
//! are offered (street, number, flat, postcode, city); the country stays the order's.

use crate::locale::{fill, Words};
use domain::locale::Locale;
use domain::ReviewReason;
use maud::html;

/// The address as the form shows it: what the order had, or what the customer just sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressFields {
    pub street: String,
    pub house: String,
    pub apartment: String,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2; shown, not editable.
    pub country_code: String,
}

/// The form, with the problems of the last attempt (none on first opening).
pub struct FixAddressView<'a> {
    pub store: &'a str,
    pub order: &'a str,
    pub address: &'a AddressFields,
    /// What is wrong with what was sent, in the customer's words ([`problem_words`],
    /// [`same_address`], in the page's locale).
    pub problems: &'a [String],
    /// The language the page is written in: the store's.
    pub locale: Locale,
}

pub fn fix_address(view: &FixAddressView) -> String {
    let words = Words(view.locale);
    let a = view.address;
    let order_and_store = [("order", view.order), ("store", view.store)];
    let body = html! {
        h1 { (words.check_your_address()) }
        p { (fill(words.address_not_found_intro(), &order_and_store)) }
        @if !view.problems.is_empty() {
            div.problems role="alert" {
                h2 { (words.please_check()) }
                ul { @for problem in view.problems { li { (problem) } } }
            }
        }
        // No action: the form posts back to its own link.
        form method="post" {
            (field("street", words.street(), &a.street, "address-line1", true))
            (field("house", words.house_number(), &a.house, "off", false))
            (field("apartment", words.apartment(), &a.apartment, "address-line2", false))
            (field("postal_code", words.postcode(), &a.postal_code, "postal-code", false))
            (field("city", words.town(), &a.city, "address-level2", true))
            p { (fill(words.country(), &[("country", &a.country_code)])) }
            button type="submit" { (words.send_corrected_address()) }
        }
    };
    super::layout(view.locale, words.check_your_address(), body)
}

fn field(name: &str, label: &str, value: &str, autocomplete: &str, required: bool) -> maud::Markup {
    html! {
        p.field {
            label for=(name) { (label) }
            input id=(name) name=(name) type="text" value=(value) autocomplete=(autocomplete) required[required];
        }
    }
}

/// What the page says once there is nothing to correct.
pub enum Settled<'a> {
    /// The customer's address was taken: the order is on its way to the courier.
    Fixed { address: &'a str },
    /// The address is saved, and something else in the order needs the store.
    SavedForTheStore { address: &'a str },
    /// The store (or a newer order update) settled it, or nothing was asked.
    NothingToDo,
}

/// The page once there is nothing to correct, in `locale`'s language.
pub fn address_settled(store: &str, order: &str, settled: &Settled, locale: Locale) -> String {
    let words = Words(locale);
    let order_and_store = [("order", order), ("store", store)];
    let body = html! {
        @match settled {
            Settled::Fixed { address } => {
                h1 { (words.thank_you()) }
                p { (fill(words.will_be_delivered_to(), &order_and_store)) }
                p.now { (address) }
                p { (words.you_will_hear_from_us()) }
            }
            Settled::SavedForTheStore { address } => {
                h1 { (words.thank_you()) }
                p { (fill(words.address_saved(), &order_and_store)) }
                p.now { (address) }
                p { (fill(words.store_will_check(), &order_and_store)) }
            }
            Settled::NothingToDo => {
                h1 { (words.nothing_to_change()) }
                p { (fill(words.address_needs_nothing(), &order_and_store)) }
            }
        }
    };
    super::layout(locale, words.your_address(), body)
}

/// Whether the customer can answer `reason` on this page: it is about the address fields
/// the form offers.
pub fn customer_can_fix(reason: &ReviewReason) -> bool {
    match reason {
        ReviewReason::MissingAddress | ReviewReason::InvalidPostalCode { .. } => true,
        ReviewReason::MissingField { field } => matches!(
            field.as_str(),
            "address.street" | "address.city" | "address.postal_code"
        ),
        ReviewReason::TooLong { field, .. } => FORM_FIELDS.contains(&field.as_str()),
        _ => false,
    }
}

/// The draft fields the form offers.
const FORM_FIELDS: [&str; 5] = [
    "address.street",
    "address.house",
    "address.apartment",
    "address.postal_code",
    "address.city",
];

/// The form's label of a draft field it offers.
fn form_label(field: &str, words: Words) -> Option<&'static str> {
    Some(match field {
        "address.street" => words.street(),
        "address.house" => words.house_number(),
        "address.apartment" => words.apartment(),
        "address.postal_code" => words.postcode(),
        "address.city" => words.town(),
        _ => return None,
    })
}

/// A problem with what the customer sent, in words they can act on, in `locale`'s
/// language. Values are the customer's own (escaped when shown).
pub fn problem_words(reason: &ReviewReason, locale: Locale) -> String {
    let words = Words(locale);
    match reason {
        ReviewReason::MissingAddress => words.enter_the_address().into(),
        ReviewReason::MissingField { field } if field == "address.street" => {
            words.enter_the_street().into()
        }
        ReviewReason::MissingField { field } if field == "address.city" => {
            words.enter_the_town().into()
        }
        ReviewReason::MissingField { field } if field == "address.postal_code" => {
            words.enter_the_postcode().into()
        }
        ReviewReason::InvalidPostalCode { value, country } => fill(
            words.not_a_postcode(),
            &[("value", value), ("country", country)],
        ),
        ReviewReason::TooLong { field, limit, .. } => match form_label(field, words) {
            Some(label) => fill(
                words.shorten(),
                &[("field", label), ("limit", &limit.to_string())],
            ),
            None => words.something_else_for_the_store().into(),
        },
        _ => words.something_else_for_the_store().into(),
    }
}

/// The same address as the courier could not find: the customer is asked to look again
/// rather than the courier to fail again.
pub fn same_address(locale: Locale) -> &'static str {
    Words(locale).same_address()
}
