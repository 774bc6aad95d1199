//! Hostile text (issue 16): bidi controls are removed from every text field a person will
//! see, and a field over its documented limit is a `too_long` reason naming it, never a
//! value cut to fit.

use domain::draft::AddressDraft;
use domain::text::{self, strip_bidi_controls, Limit};
use domain::{Channel, Contact, ContactKind, ReviewReason, Shipment, ShipmentDraft, StoreConfig};
use proptest::collection::vec;
use proptest::prelude::*;
use std::borrow::Cow;

/// Unicode's `Bidi_Control` characters (PropList.txt), written out independently of
/// `text::is_bidi_control`.
const BIDI: [char; 12] = [
    '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}',
    '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
];

fn without_bidi(s: &str) -> String {
    s.chars().filter(|c| !BIDI.contains(c)).collect()
}

/// A complete, valid draft: every limited field given, each well within its limit.
fn valid_draft() -> ShipmentDraft {
    let mut d = ShipmentDraft::new(Channel::Api, "acme", "1001", "1");
    d.order_name = Some("#1001".into());
    d.recipient_name = Some("Kim Weber".into());
    d.company = Some("Weber GmbH".into());
    d.phones = vec!["+49 30 901820".into()];
    d.email = Some("kim@example.com".into());
    d.address = Some(AddressDraft {
        street: Some("Torstraße".into()),
        house: Some("1".into()),
        building: Some("B".into()),
        apartment: Some("3. OG links".into()),
        entrance: Some("2".into()),
        floor: Some("3".into()),
        intercom: Some("0815".into()),
        city: Some("Berlin".into()),
        region: Some("Berlin".into()),
        postal_code: Some("10119".into()),
        country_code: Some("DE".into()),
        latitude: None,
        longitude: None,
    });
    d.pieces = 1;
    d.currency = Some("EUR".into());
    d.amount = Some("42.50".into());
    d.notes.text = Some("Ring twice".into());
    d
}

/// Sets the draft field a limit names to `value`.
fn set(d: &mut ShipmentDraft, field: &str, value: String) {
    let a = d.address.get_or_insert_with(AddressDraft::default);
    let slot = match field {
        "order_name" => &mut d.order_name,
        "recipient_name" => &mut d.recipient_name,
        "company" => &mut d.company,
        "email" => &mut d.email,
        "notes.text" => &mut d.notes.text,
        "address.street" => &mut a.street,
        "address.house" => &mut a.house,
        "address.building" => &mut a.building,
        "address.apartment" => &mut a.apartment,
        "address.entrance" => &mut a.entrance,
        "address.floor" => &mut a.floor,
        "address.intercom" => &mut a.intercom,
        "address.city" => &mut a.city,
        "address.region" => &mut a.region,
        "address.postal_code" => &mut a.postal_code,
        "phone" => {
            d.phones = vec![value];
            return;
        }
        "alternate_contact.address" => {
            d.alternate_contact = Some(Contact {
                kind: ContactKind::MarketplaceMessaging,
                address: value,
            });
            return;
        }
        other => panic!("no draft field {other}"),
    };
    *slot = Some(value);
}

/// The shipment's value of the field a limit names (the delivery phone as E.164).
fn shipment_text<'a>(s: &'a Shipment, field: &str) -> Option<&'a str> {
    let a = &s.address;
    match field {
        "order_name" => s.order_name.as_deref(),
        "recipient_name" => Some(&s.recipient.name),
        "company" => s.recipient.company.as_deref(),
        "phone" => s.recipient.phone.as_ref().map(|p| p.e164.as_str()),
        "email" => s.recipient.email.as_deref(),
        "alternate_contact.address" => s
            .recipient
            .alternate_contact
            .as_ref()
            .map(|c| c.address.as_str()),
        "notes.text" => s.notes.text.as_deref(),
        "address.street" => Some(&a.street),
        "address.house" => a.house.as_deref(),
        "address.building" => a.building.as_deref(),
        "address.apartment" => a.apartment.as_deref(),
        "address.entrance" => a.entrance.as_deref(),
        "address.floor" => a.floor.as_deref(),
        "address.intercom" => a.intercom.as_deref(),
        "address.city" => Some(&a.city),
        "address.region" => a.region.as_deref(),
        "address.postal_code" => a.postal_code.as_deref(),
        other => panic!("no shipment field {other}"),
    }
}

/// What validation reads of `value` in `field`: without bidi controls, and trimmed (the
/// alternate contact is kept as given).
fn visible(field: &str, value: &str) -> String {
    let stripped = without_bidi(value);
    if field == "alternate_contact.address" {
        stripped
    } else {
        stripped.trim().to_owned()
    }
}

/// Every text field of an accepted shipment is within its limit and free of bidi controls.
fn check_shipment(s: &Shipment) -> Result<(), TestCaseError> {
    for limit in text::ALL {
        if let Some(value) = shipment_text(s, limit.field) {
            prop_assert!(
                value.chars().count() <= limit.max_chars,
                "{} over its limit in an accepted shipment",
                limit.field
            );
            prop_assert!(
                !value.contains(BIDI),
                "{} carries a bidi control",
                limit.field
            );
        }
    }
    let extension = s
        .recipient
        .phone
        .as_ref()
        .and_then(|p| p.extension.as_deref());
    for other in [Some(s.address.country_code.as_str()), extension]
        .into_iter()
        .flatten()
    {
        prop_assert!(!other.contains(BIDI));
    }
    Ok(())
}

fn too_long(reasons: &[ReviewReason]) -> Vec<&ReviewReason> {
    reasons.iter().filter(|r| r.code() == "too_long").collect()
}

/// Mostly letters and spaces, with bidi controls, other scripts and any character at all.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => proptest::char::range('a', 'z'),
        2 => Just(' '),
        2 => proptest::sample::select(vec!['é', 'ß', '中', 'م', 'ש', '0', '7', '-', '.', '@', '\u{200D}']),
        2 => proptest::sample::select(BIDI.to_vec()),
        1 => any::<char>(),
    ]
}

/// Text for `limit`'s field: any length up to twice the limit, often right at its edge.
fn text_for(limit: Limit) -> impl Strategy<Value = String> {
    let max = limit.max_chars;
    prop_oneof![0..=max * 2 + 2, max.saturating_sub(3)..=max + 3]
        .prop_flat_map(|len| vec(hostile_char(), len))
        .prop_map(|chars| chars.into_iter().collect())
}

fn one_field() -> impl Strategy<Value = (Limit, String)> {
    proptest::sample::select(text::ALL.to_vec())
        .prop_flat_map(|limit| (Just(limit), text_for(limit)))
}

fn every_field() -> impl Strategy<Value = Vec<String>> {
    text::ALL
        .iter()
        .map(|limit| text_for(*limit).boxed())
        .collect::<Vec<_>>()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn stripping_leaves_any_string_without_bidi_controls_and_otherwise_whole(s in any::<String>()) {
        let stripped = strip_bidi_controls(&s);
        prop_assert!(!stripped.contains(BIDI));
        prop_assert_eq!(stripped.as_ref(), without_bidi(&s));
        prop_assert_eq!(matches!(stripped, Cow::Borrowed(_)), !s.contains(BIDI));
    }

    #[test]
    fn stripping_removes_exactly_the_bidi_controls_put_in(
        parts in vec((any::<String>(), vec(proptest::sample::select(BIDI.to_vec()), 0..4)), 0..8)
    ) {
        let parts: Vec<(String, Vec<char>)> =
            parts.into_iter().map(|(t, c)| (without_bidi(&t), c)).collect();
        let input: String = parts
            .iter()
            .flat_map(|(t, controls)| t.chars().chain(controls.iter().copied()))
            .collect();
        let expected: String = parts.iter().map(|(t, _)| t.as_str()).collect();
        let stripped = strip_bidi_controls(&input);
        prop_assert_eq!(stripped.as_ref(), expected.as_str());
    }

    /// One field of a valid draft replaced by any text: accepted with the field whole (only
    /// its bidi controls and surrounding spaces removed) and within its limit, or refused,
    /// with `too_long` naming the field exactly when it is over its limit.
    #[test]
    fn a_field_is_accepted_whole_within_its_limit_or_refused_as_too_long((limit, value) in one_field()) {
        let mut d = valid_draft();
        set(&mut d, limit.field, value.clone());
        let seen = visible(limit.field, &value);
        let length = seen.chars().count();
        match d.validate(&StoreConfig::default()) {
            Ok(s) => {
                prop_assert!(length <= limit.max_chars);
                if limit.field != "phone" {
                    // Never cut, an address least of all.
                    let expected = (!seen.is_empty()).then_some(seen.as_str());
                    prop_assert_eq!(shipment_text(&s, limit.field), expected);
                }
                check_shipment(&s)?;
            }
            Err(reasons) if length > limit.max_chars => {
                let expected = ReviewReason::TooLong {
                    field: limit.field.to_owned(),
                    length,
                    limit: limit.max_chars,
                };
                prop_assert_eq!(too_long(&reasons), vec![&expected]);
                // Said as too long, not as a number, address or code that does not parse.
                prop_assert!(
                    !reasons.iter().any(|r| matches!(
                        r,
                        ReviewReason::InvalidPhone { .. }
                            | ReviewReason::InvalidEmail { .. }
                            | ReviewReason::InvalidPostalCode { .. }
                    )),
                    "{:?}",
                    reasons
                );
            }
            Err(reasons) => prop_assert!(too_long(&reasons).is_empty(), "{:?}", reasons),
        }
    }

    /// Every field at once: one answer with a `too_long` for each field over its limit and
    /// for no other; an accepted shipment has every field within its limit.
    #[test]
    fn every_field_over_its_limit_is_named_in_one_answer(values in every_field()) {
        let mut d = valid_draft();
        for (limit, value) in text::ALL.iter().zip(&values) {
            set(&mut d, limit.field, value.clone());
        }
        let over: Vec<ReviewReason> = text::ALL
            .iter()
            .zip(&values)
            .filter_map(|(limit, value)| {
                let length = visible(limit.field, value).chars().count();
                (length > limit.max_chars).then(|| ReviewReason::TooLong {
                    field: limit.field.to_owned(),
                    length,
                    limit: limit.max_chars,
                })
            })
            .collect();
        match d.validate(&StoreConfig::default()) {
            Ok(s) => {
                prop_assert!(over.is_empty());
                check_shipment(&s)?;
            }
            Err(reasons) => {
                let mut found: Vec<ReviewReason> = too_long(&reasons).into_iter().cloned().collect();
                let mut over = over;
                let field = |r: &ReviewReason| match r {
                    ReviewReason::TooLong { field, .. } => field.clone(),
                    _ => String::new(),
                };
                found.sort_by_key(field);
                over.sort_by_key(field);
                prop_assert_eq!(found, over);
            }
        }
    }

    /// What normalize and the desk keep of a draft has no bidi control left anywhere a
    /// person will look.
    #[test]
    fn a_stripped_draft_keeps_no_bidi_control(values in every_field()) {
        let mut d = valid_draft();
        for (limit, value) in text::ALL.iter().zip(&values) {
            set(&mut d, limit.field, value.clone());
        }
        let stripped = d.without_bidi_controls();
        prop_assert!(!stripped.has_bidi_controls());
        let shown = serde_json::to_string(&*stripped).unwrap();
        // Serialized, the controls would appear as themselves (JSON escapes only < U+0020).
        prop_assert!(!shown.contains(BIDI));
        prop_assert_eq!(stripped.key(), d.key());
    }
}

#[test]
fn a_twenty_thousand_character_name_is_one_too_long_reason() {
    let mut d = valid_draft();
    d.recipient_name = Some("K".repeat(20_000));
    assert_eq!(
        d.validate(&StoreConfig::default()),
        Err(vec![ReviewReason::TooLong {
            field: "recipient_name".into(),
            length: 20_000,
            limit: 200,
        }])
    );
}

#[test]
fn an_address_over_its_limit_is_never_cut_and_every_field_over_is_named() {
    let mut d = valid_draft();
    let street = "Sehr Lange Straße ".repeat(20);
    set(&mut d, "address.street", street.clone());
    set(&mut d, "address.postal_code", "1".repeat(21));
    set(&mut d, "notes.text", "n".repeat(5_001));
    let reasons = d.validate(&StoreConfig::default()).unwrap_err();
    assert_eq!(
        reasons,
        [
            ReviewReason::TooLong {
                field: "address.street".into(),
                length: street.trim().chars().count(),
                limit: 250,
            },
            ReviewReason::TooLong {
                field: "address.postal_code".into(),
                length: 21,
                limit: 20,
            },
            ReviewReason::TooLong {
                field: "notes.text".into(),
                length: 5_001,
                limit: 5_000,
            },
        ]
    );
    assert_eq!(
        reasons[0].described(),
        "address.street too long (field: \"address.street\", length: 359, limit: 250)"
    );
    assert_eq!(
        serde_json::to_value(&reasons[2]).unwrap(),
        serde_json::json!({"code": "too_long", "field": "notes.text", "length": 5001, "limit": 5000})
    );
}

#[test]
fn a_right_to_left_override_never_reaches_the_shipment() {
    let mut d = valid_draft();
    d.recipient_name = Some("\u{202E}rebeW miK".into());
    set(&mut d, "address.street", "Tor\u{2067}straße\u{2069}".into());
    d.phones = vec!["\u{200E}+49 30 901820\u{200E}".into()];
    let s = d.validate(&StoreConfig::default()).unwrap();
    assert_eq!(s.recipient.name, "rebeW miK");
    assert_eq!(s.address.street, "Torstraße");
    assert_eq!(
        s.recipient.phone.map(|p| p.e164),
        Some("+4930901820".into()),
        "a mark copied along with a number no longer spoils it"
    );
}

#[test]
fn a_name_of_only_bidi_controls_is_missing() {
    let mut d = valid_draft();
    d.recipient_name = Some("\u{202E}\u{202C} ".into());
    assert_eq!(
        d.validate(&StoreConfig::default()),
        Err(vec![ReviewReason::MissingField {
            field: "recipient_name".into()
        }])
    );
}
