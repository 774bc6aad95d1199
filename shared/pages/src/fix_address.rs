//! The customer's fix-my-address page: the address the courier could not place, in a form
//! to correct, and after it the words for what happened. Only the fields a customer knows
//! are offered (street, number, flat, postcode, city); the country stays the order's.

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
    /// What is wrong with what was sent, in the customer's words.
    pub problems: &'a [String],
}

pub fn fix_address(view: &FixAddressView) -> String {
    let a = view.address;
    let body = html! {
        h1 { "Check your delivery address" }
        p { "The courier could not find this address for your order " (view.order)
            " from " (view.store) ". Please correct it, and we will send your order on its way." }
        @if !view.problems.is_empty() {
            div.problems role="alert" {
                h2 { "Please check" }
                ul { @for problem in view.problems { li { (problem) } } }
            }
        }
        // No action: the form posts back to its own link.
        form method="post" {
            (field("street", "Street", &a.street, "address-line1", true))
            (field("house", "House number", &a.house, "off", false))
            (field("apartment", "Flat, floor, building (if any)", &a.apartment, "address-line2", false))
            (field("postal_code", "Postcode", &a.postal_code, "postal-code", false))
            (field("city", "Town or city", &a.city, "address-level2", true))
            p { "Country: " (a.country_code) }
            button type="submit" { "Send the corrected address" }
        }
    };
    super::layout("Check your delivery address", body)
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

pub fn address_settled(store: &str, order: &str, settled: &Settled) -> String {
    let body = html! {
        @match settled {
            Settled::Fixed { address } => {
                h1 { "Thank you" }
                p { "Your order " (order) " from " (store) " will be delivered to:" }
                p.now { (address) }
                p { "You will hear from us when it is on the way." }
            }
            Settled::SavedForTheStore { address } => {
                h1 { "Thank you" }
                p { "We saved your address for order " (order) ":" }
                p.now { (address) }
                p { (store) " will check the rest of the order and contact you." }
            }
            Settled::NothingToDo => {
                h1 { "Nothing to change" }
                p { "The address of your order " (order) " from " (store)
                    " needs nothing from you now. If something is wrong, please contact the store." }
            }
        }
    };
    super::layout("Your delivery address", body)
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
        _ => false,
    }
}

/// A problem with what the customer sent, in words they can act on. Values are the
/// customer's own (escaped when shown).
pub fn problem_words(reason: &ReviewReason) -> String {
    match reason {
        ReviewReason::MissingAddress => "Please enter the address.".into(),
        ReviewReason::MissingField { field } if field == "address.street" => {
            "Please enter the street.".into()
        }
        ReviewReason::MissingField { field } if field == "address.city" => {
            "Please enter the town or city.".into()
        }
        ReviewReason::MissingField { field } if field == "address.postal_code" => {
            "Please enter the postcode.".into()
        }
        ReviewReason::InvalidPostalCode { value, country } => {
            format!("\u{201c}{value}\u{201d} is not a postcode in {country}.")
        }
        _ => "Something else in the order needs the store's attention.".into(),
    }
}

/// The same address as the courier could not find: the customer is asked to look again
/// rather than the courier to fail again.
pub const SAME_ADDRESS: &str =
    "This is the address the courier could not find. Please check the street, the house number and the postcode.";
