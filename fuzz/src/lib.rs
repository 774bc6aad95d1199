//! What every fuzz target checks once a parser has answered: the same invariants as
//! shared/channels/tests/channels/parsers_never_panic.rs, as panics (a panic is what libFuzzer reports).

use channels::ParseError;
use domain::order::OrderEvent;
use domain::{Money, Payment, ShipmentDraft, StoreConfig, TriggerPolicy};

/// A typed error, or an event whose trigger is decided under every policy and whose
/// drafts pass [`check_draft`].
pub fn check_event(outcome: Result<OrderEvent, ParseError>) {
    let event = match outcome {
        Ok(event) => event,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    for policy in [
        TriggerPolicy::PaymentOrConfirmation,
        TriggerPolicy::ReadyToShip,
    ] {
        let _ = event.facts.trigger(policy);
    }
    for draft in &event.shipments {
        assert_eq!(draft.order_id, event.order_id);
        check_draft(draft);
    }
}

/// Validation never panics; a refusal names a reason; an accepted shipment has an E.164
/// phone (or another contact), exact non-negative money and a well-formed country.
pub fn check_draft(draft: &ShipmentDraft) {
    let shipment = match draft.validate(&StoreConfig::default()) {
        Ok(s) => s,
        Err(reasons) => {
            assert!(!reasons.is_empty(), "refused without a reason");
            return;
        }
    };
    assert_eq!(shipment.key, draft.key());
    match &shipment.recipient.phone {
        Some(p) => assert!(is_e164(&p.e164), "{:?} is not E.164", p.e164),
        None => assert!(draft.alternate_contact.is_some()),
    }
    let money = match shipment.payment {
        Payment::CashOnDelivery { amount } => amount,
        Payment::Prepaid { order_total } => order_total,
    };
    check_money(&money, draft.amount.as_deref());
    if let Some(insured) = &shipment.insured_value {
        check_money(insured, draft.insured_value.as_deref());
    }
    let country = &shipment.address.country_code;
    assert!(country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()));
    if let Some(w) = &shipment.window {
        assert!(w.start < w.end);
    }
}

/// `money` is exactly the decimal `text` in minor units.
fn check_money(money: &Money, text: Option<&str>) {
    let text = text.unwrap_or_default().trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let exponent = money.currency.exponent() as usize;
    let fraction = fraction.trim_end_matches('0');
    assert!(fraction.len() <= exponent, "{text} is too precise");
    let digits = format!("{whole}{fraction:0<exponent$}");
    assert_eq!(
        Ok(i128::from(money.minor)),
        digits.parse::<i128>(),
        "{text}"
    );
}

fn is_e164(phone: &str) -> bool {
    phone.strip_prefix('+').is_some_and(|digits| {
        (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}
