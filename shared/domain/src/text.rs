//! Hostile text: what a shipment's free text may be once it leaves the system for a courier,
//! a driver or a customer.
//!
//! - **Limits.** Every text field that leaves has a documented limit, in characters (Unicode
//!   scalar values, Rust's `char`), counted after the value is trimmed and its bidi
//!   controls are removed. [`ShipmentDraft::validate`](crate::ShipmentDraft::validate)
//!   checks each one: a field over its limit is a `too_long` review reason naming the
//!   field, its length and the limit, so the order becomes one review item with every
//!   reason. A value is never cut to fit: a cut address sends the driver somewhere else,
//!   and a cut name reaches the wrong door. Before these limits, a signed order with a
//!   20,000-character name became a task, and the courier refused it later, far from its
//!   cause.
//! - **Bidi controls.** [`strip_bidi_controls`] removes the characters that reorder how text
//!   is displayed without being seen themselves (a U+202E RIGHT-TO-LEFT OVERRIDE before
//!   "gpj.exe" shows it as "exe.jpg"): a name or an address could then read differently on a
//!   driver's phone or in a customer's message than it does to anyone checking it. They
//!   are removed when a draft is normalized, before the limits are counted, and so from
//!   every value a courier task, a message or a page is made of.
//!
//! # The limits and where they come from
//!
//! Onfleet, the production courier, publishes a cap for one of the fields we send: task
//! `notes`, "Field length cannot exceed 10,000 characters"
//! (<https://docs.onfleet.com/reference/create-task>). Its recipient `name` and the
//! destination's address parts (`number`, `street`, `apartment`, `city`, `state`,
//! `postalCode`, `unparsed`; <https://docs.onfleet.com/reference/create-recipient>,
//! <https://docs.onfleet.com/reference/create-destination>) have no published limit. The
//! other limits are therefore ours, chosen to be common and conservative: far above any
//! real value (the longest names and street names are well under them), low enough that
//! the driver's screen and a customer's text message can still show the value whole, and
//! such that everything composed from them fits the one published cap: the task notes
//! Onfleet gets (order name, cash to collect, notes, intercom, and the recipient line when
//! there is no phone) stay under 6,000 characters with every field at its limit, so
//! Onfleet's own 10,000-character cut never applies to a validated shipment.
//!
//! | Field (draft path)          | Limit | Source                                                |
//! |-----------------------------|------:|-------------------------------------------------------|
//! | `order_name`                |    64 | ours: store order numbers ("#1001", Amazon's 19 characters) |
//! | `recipient_name`            |   200 | ours; Onfleet publishes none                          |
//! | `company`                   |   200 | ours; Onfleet's destination `name`, no published limit |
//! | `phone`                     |    64 | ours: the text before parsing (E.164 is at most 16)   |
//! | `email`                     |   254 | RFC 5321 §4.5.3.1.3 (a 256-octet path, less `<` `>`)  |
//! | `alternate_contact.address` |   254 | as `email`: a marketplace's relay address             |
//! | `address.street`            |   250 | ours: one address line; Onfleet publishes none        |
//! | `address.apartment`         |   250 | ours: the second address line                         |
//! | `address.house`, `building`, `entrance`, `floor`, `intercom` | 50 | ours: a number or a code |
//! | `address.city`, `address.region` | 100 | ours                                            |
//! | `address.postal_code`       |    20 | ours: the longest codes in use have 10 characters     |
//! | `notes.text`                | 5,000 | half of Onfleet's 10,000 for task `notes`, leaving room for what is composed with it |
//!
//! `address.country_code` is always two letters (ISO 3166-1 alpha-2, `invalid_country`
//! otherwise); ids are at most 128 bytes of printable ASCII (`invalid_id`). Drafts carry
//! no item descriptions, so none are sent. The customer messages bound their parts again
//! for Twilio's 1,600-character body (`notify::templates`), a display concern of their own.
//!
//! # Which characters are removed
//!
//! Exactly Unicode's `Bidi_Control` property (PropList.txt), all twelve: U+061C ARABIC
//! LETTER MARK, U+200E LEFT-TO-RIGHT MARK, U+200F RIGHT-TO-LEFT MARK, U+202A–U+202E (the
//! embeddings, the overrides and their POP DIRECTIONAL FORMATTING) and U+2066–U+2069 (the
//! isolates and their POP DIRECTIONAL ISOLATE). The marks have legitimate uses in Arabic
//! and Hebrew text (placing punctuation), but removing them changes no letter, while
//! leaving them lets a value display other than it reads. Other invisible format
//! characters are kept on purpose: ZERO WIDTH JOINER and NON-JOINER (U+200C, U+200D) are
//! part of correct Persian, Arabic and Indic spelling and of emoji; the zero-width space,
//! word joiner and byte-order mark (U+200B, U+2060, U+FEFF) reorder nothing, so they cannot
//! make a value read as another; the deprecated U+206A–U+206F are ignored by today's
//! renderers.

use crate::ReviewReason;
use std::borrow::Cow;

/// One text field's limit. `field` is the draft's path: the one a `too_long` reason names,
/// and the one `courier-bridge review fix <id> --set <field>=...` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub field: &'static str,
    /// At most this many characters (`char`s), trimmed and without bidi controls.
    pub max_chars: usize,
}

impl Limit {
    const fn new(field: &'static str, max_chars: usize) -> Limit {
        Limit { field, max_chars }
    }

    /// The `too_long` reason when `value` (already trimmed and stripped) is over the limit.
    pub fn check(&self, value: &str) -> Option<ReviewReason> {
        let length = value.chars().count();
        (length > self.max_chars).then(|| ReviewReason::TooLong {
            field: self.field.to_owned(),
            length,
            limit: self.max_chars,
        })
    }

    /// Whether `value` is within the limit; when not, its `too_long` reason is added.
    pub fn admits(&self, value: &str, reasons: &mut Vec<ReviewReason>) -> bool {
        match self.check(value) {
            Some(reason) => {
                reasons.push(reason);
                false
            }
            None => true,
        }
    }
}

pub const ORDER_NAME: Limit = Limit::new("order_name", 64);
pub const RECIPIENT_NAME: Limit = Limit::new("recipient_name", 200);
pub const COMPANY: Limit = Limit::new("company", 200);
/// The delivery phone as the channel wrote it, before it is parsed.
pub const PHONE: Limit = Limit::new("phone", 64);
pub const EMAIL: Limit = Limit::new("email", 254);
pub const ALTERNATE_CONTACT: Limit = Limit::new("alternate_contact.address", 254);
pub const STREET: Limit = Limit::new("address.street", 250);
pub const HOUSE: Limit = Limit::new("address.house", 50);
pub const BUILDING: Limit = Limit::new("address.building", 50);
pub const APARTMENT: Limit = Limit::new("address.apartment", 250);
pub const ENTRANCE: Limit = Limit::new("address.entrance", 50);
pub const FLOOR: Limit = Limit::new("address.floor", 50);
pub const INTERCOM: Limit = Limit::new("address.intercom", 50);
pub const CITY: Limit = Limit::new("address.city", 100);
pub const REGION: Limit = Limit::new("address.region", 100);
pub const POSTAL_CODE: Limit = Limit::new("address.postal_code", 20);
pub const NOTES: Limit = Limit::new("notes.text", 5_000);

/// Every limit, in the draft's field order.
pub const ALL: [Limit; 17] = [
    ORDER_NAME,
    RECIPIENT_NAME,
    COMPANY,
    PHONE,
    EMAIL,
    ALTERNATE_CONTACT,
    STREET,
    HOUSE,
    BUILDING,
    APARTMENT,
    ENTRANCE,
    FLOOR,
    INTERCOM,
    CITY,
    REGION,
    POSTAL_CODE,
    NOTES,
];

/// The limit of the draft field at `path`, if it has one.
pub fn limit_of(path: &str) -> Option<Limit> {
    ALL.into_iter().find(|l| l.field == path)
}

/// Whether `c` is one of Unicode's bidi controls (the `Bidi_Control` property).
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

pub fn has_bidi_controls(text: &str) -> bool {
    text.contains(is_bidi_control)
}

/// `text` without its bidi controls; borrowed when it has none (the usual case).
pub fn strip_bidi_controls(text: &str) -> Cow<'_, str> {
    if has_bidi_controls(text) {
        Cow::Owned(text.chars().filter(|c| !is_bidi_control(*c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// [`strip_bidi_controls`] in place.
pub fn strip_bidi_controls_in(text: &mut String) {
    if has_bidi_controls(text) {
        text.retain(|c| !is_bidi_control(c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bidi_control_is_removed_and_nothing_else() {
        let controls = [
            '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
            '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ];
        for c in controls {
            assert_eq!(strip_bidi_controls(&format!("a{c}b")), "ab", "{:?}", c);
        }
        // Joiners, zero-width space and BOM are kept (see the module's documentation).
        let kept = "\u{200C}\u{200D}\u{200B}\u{FEFF}\u{2060}مرحبا שלום";
        assert!(matches!(strip_bidi_controls(kept), Cow::Borrowed(_)));
    }

    #[test]
    fn a_right_to_left_override_no_longer_reverses_a_name() {
        assert_eq!(strip_bidi_controls("Kim \u{202E}rebeW"), "Kim rebeW");
        let mut name = String::from("\u{2067}Kim\u{2069}");
        strip_bidi_controls_in(&mut name);
        assert_eq!(name, "Kim");
    }

    #[test]
    fn a_limit_counts_characters_not_bytes() {
        let name = "é".repeat(RECIPIENT_NAME.max_chars);
        assert_eq!(RECIPIENT_NAME.check(&name), None);
        assert_eq!(
            RECIPIENT_NAME.check(&format!("{name}é")),
            Some(ReviewReason::TooLong {
                field: "recipient_name".into(),
                length: 201,
                limit: 200
            })
        );
    }

    #[test]
    fn every_limit_has_its_own_draft_field() {
        for (i, limit) in ALL.iter().enumerate() {
            assert!(limit.max_chars > 0);
            assert_eq!(limit_of(limit.field), Some(*limit));
            assert!(ALL[..i].iter().all(|l| l.field != limit.field));
        }
    }
}
