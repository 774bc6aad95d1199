//! The customer pages speak the store's locale: every word, the dates and `<html lang>`;
//! English, the default, reads exactly as it did.

use domain::courier::event::{Failure, ProofOfDelivery};
use domain::record::ShipmentRecord;
use domain::{ReviewReason, ShipmentStatus};
use fakes::sample::{shipment, task, with_task};
use pages::{
    address_settled, fix_address, problem_words, reschedule, same_address, slot_words, track,
    AddressFields, FixAddressView, Locale, RescheduleState, RescheduleView, Settled, SlotChoice,
    TrackView,
};

/// 2026-12-07 14:30 UTC: Monday, 15:30 in Berlin.
const AFTERNOON: i64 = 1_796_653_800_000;
/// Tuesday 8 December 2026, 09:00–12:00 in Berlin.
const TUESDAY_MORNING: (i64, i64) = (1_796_716_800_000, 1_796_727_600_000);
const BERLIN: Option<&str> = Some("Europe/Berlin");

fn on_the_way() -> ShipmentRecord {
    let mut record = with_task(
        &shipment("acme", "1001"),
        &task(7),
        ShipmentStatus::OutForDelivery,
    );
    record.transitions = vec![
        (ShipmentStatus::Assigned, AFTERNOON - 3_600_000),
        (ShipmentStatus::PickedUp, AFTERNOON - 1_800_000),
        (ShipmentStatus::OutForDelivery, AFTERNOON - 600_000),
    ];
    record.delivery.eta_ms = Some(AFTERNOON);
    record
}

fn delivered() -> ShipmentRecord {
    let mut record = on_the_way();
    record.status = ShipmentStatus::Delivered;
    record.delivery.proof = Some(ProofOfDelivery {
        signature_upload_id: Some("sig_1".into()),
        photo_upload_ids: vec!["ph_1".into(), "ph_2".into()],
        signature_text: Some("K. Weber".into()),
        recipient_name: Some("Kim Weber".into()),
        notes: None,
        location: None,
        completed_at_ms: Some(AFTERNOON),
    });
    record
}

fn failed() -> ShipmentRecord {
    let mut record = on_the_way();
    record.status = ShipmentStatus::Failed;
    record.delivery.failure = Some(Failure {
        reason: Some("RECIPIENT_ABSENT".into()),
        notes: None,
    });
    record
}

fn tracking(record: &ShipmentRecord, locale: Locale) -> String {
    track(&TrackView {
        record,
        store: "Acme Blumen",
        courier: Some("Sandbox Courier"),
        time_zone: BERLIN,
        reschedule_url: Some("/r/token"),
        locale,
    })
}

#[test]
fn a_german_track_page_says_the_status_and_the_dates_in_german() {
    let html = tracking(&on_the_way(), Locale::De);
    assert!(html.contains(r#"<html lang="de">"#), "{html}");
    assert!(html.contains("<title>Bestellung #1001</title>"), "{html}");
    assert!(
        html.contains("<h1>Ihre Bestellung #1001 bei Acme Blumen</h1>"),
        "{html}"
    );
    assert!(
        html.contains(r#"<p class="now">Auf dem Weg zu Ihnen</p>"#),
        "{html}"
    );
    assert!(
        html.contains("Voraussichtlich Mo. 7. Dez., 15:30 CET."),
        "{html}"
    );
    assert!(
        html.contains("Vom Fahrer abgeholt<time>Mo. 7. Dez., 15:00 CET</time>"),
        "{html}"
    );
    assert!(
        html.contains("Ein Fahrer bringt sie Ihnen<time>Mo. 7. Dez., 14:30 CET</time>"),
        "{html}"
    );
    assert!(html.contains("Anderen Liefertermin wählen"), "{html}");
    assert!(
        html.contains("<dt>Sendungsnummer</dt><dd>TRK0007</dd>"),
        "{html}"
    );
    assert!(html.contains("<h2>Bisher</h2>"), "{html}");
    for english in [
        "On the way",
        "Expected",
        "Mon 7 Dec",
        "Tracking number",
        "So far",
    ] {
        assert!(!html.contains(english), "{english}: {html}");
    }
}

#[test]
fn a_french_track_page_says_the_status_the_proof_and_a_failure_in_french() {
    let html = tracking(&delivered(), Locale::Fr);
    assert!(html.contains(r#"<html lang="fr">"#), "{html}");
    assert!(html.contains(r#"<p class="now">Livrée</p>"#), "{html}");
    assert!(html.contains("<h2>Preuve de livraison</h2>"), "{html}");
    assert!(
        html.contains("<dt>Signé par</dt><dd>K. Weber</dd>"),
        "{html}"
    );
    assert!(
        html.contains("<dt>Livrée le</dt><dd>lun. 7 déc., 15:30 CET</dd>"),
        "{html}"
    );
    assert!(html.contains("2 prises à la porte"), "{html}");
    assert!(!html.contains("Livraison prévue"), "no ETA once delivered");

    let html = tracking(&failed(), Locale::Fr);
    assert!(
        html.contains("Échec de la tentative de livraison"),
        "{html}"
    );
    assert!(
        html.contains(
            "La livraison n’a pas pu avoir lieu : personne n’était là pour la réceptionner."
        ),
        "{html}"
    );
    assert!(html.contains("Livraison prévue le lun. 7 déc., 15:30 CET."));
}

#[test]
fn english_is_the_default_and_reads_as_before() {
    assert_eq!(Locale::default(), Locale::En);
    let html = tracking(&on_the_way(), Locale::default());
    assert!(html.contains(r#"<html lang="en">"#), "{html}");
    assert!(html.contains("<h1>Your order #1001 from Acme Blumen</h1>"));
    assert!(html.contains("Expected Mon 7 Dec, 15:30 CET."), "{html}");
    assert!(html.contains("Picked up by the driver<time>Mon 7 Dec, 15:00 CET</time>"));
    assert!(html.contains(r#"<a href="/r/token">Choose another delivery time</a>"#));
    let html = tracking(&failed(), Locale::En);
    assert!(html.contains("The delivery did not happen: nobody was available to receive it."));
}

#[test]
fn a_courier_without_a_name_is_named_in_the_pages_language() {
    let record = on_the_way();
    let page = |locale| {
        track(&TrackView {
            record: &record,
            store: "Acme Blumen",
            courier: None,
            time_zone: None,
            reschedule_url: None,
            locale,
        })
    };
    assert!(page(Locale::En).contains("<dt>Courier</dt><dd>the courier</dd>"));
    assert!(page(Locale::De).contains("<dt>Lieferdienst</dt><dd>der Lieferdienst</dd>"));
    // UTC without a zone, in the language's words.
    assert!(page(Locale::Es).contains("Entrega prevista: lun, 7 dic, 14:30 UTC."));
}

fn address() -> AddressFields {
    AddressFields {
        street: "Calle Mayor".into(),
        house: "5".into(),
        apartment: String::new(),
        postal_code: "2801".into(),
        city: "Madrid".into(),
        country_code: "ES".into(),
    }
}

#[test]
fn a_spanish_fix_address_page_asks_and_answers_in_spanish() {
    let problems = [
        problem_words(&ReviewReason::MissingAddress, Locale::Es),
        problem_words(
            &ReviewReason::InvalidPostalCode {
                value: "2801".into(),
                country: "ES".into(),
            },
            Locale::Es,
        ),
        same_address(Locale::Es).to_owned(),
    ];
    let html = fix_address(&FixAddressView {
        store: "Tienda <Sol>",
        order: "#1001",
        address: &address(),
        problems: &problems,
        locale: Locale::Es,
    });
    assert!(html.contains(r#"<html lang="es">"#), "{html}");
    assert!(
        html.contains("<title>Compruebe su dirección de entrega</title>"),
        "{html}"
    );
    assert!(
        html.contains(
            "El repartidor no encontró esta dirección para su pedido #1001 de Tienda &lt;Sol&gt;."
        ),
        "{html}"
    );
    assert!(html.contains("<li>Introduzca la dirección.</li>"), "{html}");
    assert!(
        html.contains("<li>«2801» no es un código postal de ES.</li>"),
        "{html}"
    );
    assert!(
        html.contains("<li>Esta es la dirección que el repartidor no encontró."),
        "{html}"
    );
    assert!(
        html.contains(r#"<label for="postal_code">Código postal</label>"#),
        "{html}"
    );
    assert!(html.contains("<p>País: ES</p>"), "{html}");
    assert!(
        html.contains(r#"<button type="submit">Enviar la dirección corregida</button>"#),
        "{html}"
    );
    assert!(!html.contains("<Sol>"), "{html}");

    let html = address_settled(
        "Tienda Sol",
        "#1001",
        &Settled::Fixed {
            address: "Calle Mayor 5, 28013 Madrid, ES",
        },
        Locale::Es,
    );
    assert!(html.contains(r#"<html lang="es">"#), "{html}");
    assert!(html.contains("<h1>Gracias</h1>"), "{html}");
    assert!(
        html.contains("Su pedido #1001 de Tienda Sol se entregará en:"),
        "{html}"
    );
}

#[test]
fn a_part_of_the_address_too_long_is_the_customers_to_shorten_in_their_language() {
    let street = |limit| ReviewReason::TooLong {
        field: "address.street".into(),
        length: 300,
        limit,
    };
    assert!(pages::customer_can_fix(&street(250)));
    assert_eq!(
        problem_words(&street(250), Locale::En),
        "Please shorten \u{201c}Street\u{201d} to at most 250 characters."
    );
    assert_eq!(
        problem_words(&street(250), Locale::De),
        "Bitte kürzen Sie \u{201e}Straße\u{201c} auf höchstens 250 Zeichen."
    );
    // The name and the notes are the store's: the form does not offer them.
    for field in ["recipient_name", "notes.text", "address.region"] {
        let reason = ReviewReason::TooLong {
            field: field.into(),
            length: 9_999,
            limit: 200,
        };
        assert!(!pages::customer_can_fix(&reason), "{field}");
    }
}

#[test]
fn the_english_fix_address_page_reads_as_before() {
    let problem = problem_words(
        &ReviewReason::InvalidPostalCode {
            value: "1011".into(),
            country: "DE".into(),
        },
        Locale::En,
    );
    assert_eq!(problem, "\u{201c}1011\u{201d} is not a postcode in DE.");
    let html = fix_address(&FixAddressView {
        store: "acme",
        order: "#2002",
        address: &address(),
        problems: &[problem],
        locale: Locale::En,
    });
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains(
        "The courier could not find this address for your order #2002 from acme. Please \
         correct it, and we will send your order on its way."
    ));
    assert!(html.contains(r#"<label for="city">Town or city</label>"#));
    assert!(html.contains("<h2>Please check</h2>"));
    assert!(same_address(Locale::En).starts_with("This is the address the courier could not find."));
}

fn slot(locale: Locale) -> String {
    slot_words(TUESDAY_MORNING.0, TUESDAY_MORNING.1, BERLIN, locale).unwrap()
}

#[test]
fn slots_are_written_in_the_pages_language() {
    assert_eq!(slot(Locale::En), "Tue 8 Dec, 09:00–12:00 CET");
    assert_eq!(slot(Locale::De), "Di. 8. Dez., 09:00–12:00 CET");
    assert_eq!(slot(Locale::Fr), "mar. 8 déc., 09:00–12:00 CET");
    assert_eq!(slot(Locale::Es), "mar, 8 dic, 09:00–12:00 CET");
}

fn choosing(locale: Locale, done: bool, not_offered: bool) -> String {
    let slots = [SlotChoice {
        value: TUESDAY_MORNING.0.to_string(),
        label: slot(locale),
    }];
    let current = slot(locale);
    reschedule(&RescheduleView {
        store: "Acme Blumen",
        order: "#1001",
        state: RescheduleState::Choose {
            slots: &slots,
            current: Some(&current),
            after_failure: false,
            done,
            not_offered,
        },
        locale,
    })
}

#[test]
fn a_german_reschedule_page_offers_and_confirms_in_german() {
    let html = choosing(Locale::De, true, false);
    assert!(html.contains(r#"<html lang="de">"#), "{html}");
    assert!(html.contains("<h1>Liefertermin wählen</h1>"), "{html}");
    assert!(
        html.contains(
            "Erledigt: Ihre Lieferung ist jetzt für Di. 8. Dez., 09:00–12:00 CET geplant."
        ),
        "{html}"
    );
    assert!(
        html.contains(
            "Ihre Bestellung #1001 bei Acme Blumen kann auch zu einer anderen Zeit kommen."
        ),
        "{html}"
    );
    assert!(
        html.contains("<p>Aktuell geplant: <strong>Di. 8. Dez., 09:00–12:00 CET</strong></p>"),
        "{html}"
    );
    assert!(html.contains("<legend>Lieferzeiten</legend>"), "{html}");
    assert!(
        html.contains(r#"<label for="slot-0">Di. 8. Dez., 09:00–12:00 CET</label>"#),
        "{html}"
    );
    assert!(html.contains("Zu dieser Zeit liefern"), "{html}");
    assert!(!html.contains("role=\"alert\""), "{html}");

    let html = choosing(Locale::De, false, true);
    assert!(
        html.contains("Diese Zeit wird nicht (mehr) angeboten."),
        "{html}"
    );
    assert!(!html.contains("Erledigt"), "{html}");

    let html = reschedule(&RescheduleView {
        store: "Acme Blumen",
        order: "#1001",
        state: RescheduleState::WithDriver,
        locale: Locale::De,
    });
    assert!(
        html.contains("Der Fahrer hat Ihre Bestellung #1001 bereits"),
        "{html}"
    );
    assert!(!html.contains("<form"), "{html}");
}

#[test]
fn the_english_reschedule_page_reads_as_before() {
    let html = choosing(Locale::En, true, false);
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains(
        r#"<p class="notice" role="status">Done: your delivery is now planned for Tue 8 Dec, 09:00–12:00 CET.</p>"#
    ), "{html}");
    assert!(html.contains("<p>Planned now: <strong>Tue 8 Dec, 09:00–12:00 CET</strong></p>"));
    let html = choosing(Locale::En, false, true);
    assert!(html.contains(
        "<h2>Please choose again</h2><p>That time is not offered (any more). Please choose one of these.</p>"
    ), "{html}");
    assert!(!html.contains("Done:"), "{html}");
    let html = reschedule(&RescheduleView {
        store: "Acme Blumen",
        order: "#1001",
        state: RescheduleState::Ended,
        locale: Locale::En,
    });
    assert!(html.contains(
        "Your order #1001 is no longer on its way to you, so there is nothing to reschedule. \
         Please contact Acme Blumen if this is not what you expected."
    ));
}

/// Every state of every page, in `locale`.
fn every_page(locale: Locale) -> Vec<String> {
    let store = "Acme {order} <b>";
    let mut pages = Vec::new();
    for record in [on_the_way(), delivered(), failed()] {
        pages.push(track(&TrackView {
            record: &record,
            store,
            courier: None,
            time_zone: BERLIN,
            reschedule_url: Some("/r/token"),
            locale,
        }));
    }
    let problems: Vec<String> = [
        ReviewReason::MissingAddress,
        ReviewReason::MissingField {
            field: "address.street".into(),
        },
        ReviewReason::MissingField {
            field: "address.city".into(),
        },
        ReviewReason::MissingField {
            field: "address.postal_code".into(),
        },
        ReviewReason::InvalidPostalCode {
            value: "1".into(),
            country: "ES".into(),
        },
        ReviewReason::TooLong {
            field: "address.apartment".into(),
            length: 251,
            limit: 250,
        },
        ReviewReason::MissingPhone,
    ]
    .iter()
    .map(|reason| problem_words(reason, locale))
    .chain([same_address(locale).to_owned()])
    .collect();
    pages.push(fix_address(&FixAddressView {
        store,
        order: "#1001",
        address: &address(),
        problems: &problems,
        locale,
    }));
    for settled in [
        Settled::Fixed { address: "Calle 1" },
        Settled::SavedForTheStore { address: "Calle 1" },
        Settled::NothingToDo,
    ] {
        pages.push(address_settled(store, "#1001", &settled, locale));
    }
    let slots = [SlotChoice {
        value: "1".into(),
        label: slot(locale),
    }];
    for after_failure in [false, true] {
        pages.push(reschedule(&RescheduleView {
            store,
            order: "#1001",
            state: RescheduleState::Choose {
                slots: &slots,
                current: Some(&slots[0].label),
                after_failure,
                done: true,
                not_offered: true,
            },
            locale,
        }));
    }
    for state in [
        RescheduleState::Requested,
        RescheduleState::WithDriver,
        RescheduleState::Delivered,
        RescheduleState::Ended,
        RescheduleState::NoSlots,
    ] {
        pages.push(reschedule(&RescheduleView {
            store,
            order: "#1001",
            state,
            locale,
        }));
    }
    pages
}

#[test]
fn every_page_in_every_locale_has_its_lang_every_value_filled_in_and_escaped() {
    for locale in Locale::ALL {
        for html in every_page(locale) {
            assert!(
                html.contains(&format!(r#"<html lang="{locale}">"#)),
                "{locale}: {html}"
            );
            // The store's "{order}" is shown as it is, never filled in; no template name
            // is left unfilled.
            let without_store = html.replace("Acme {order} &lt;b&gt;", "");
            assert!(!without_store.contains('{'), "{locale}: {html}");
            assert!(!html.contains("<b>"), "{locale}: {html}");
        }
    }
}

#[test]
fn no_english_is_left_on_the_translated_pages() {
    // Words English sentences cannot do without, none of them a word of the others.
    let english = [
        " the ", "The ", "Your ", "your ", "Please", " from ", " order ",
    ];
    for locale in [Locale::De, Locale::Fr, Locale::Es] {
        for html in every_page(locale) {
            for word in english {
                assert!(!html.contains(word), "{locale}: {word:?} in {html}");
            }
        }
    }
    // And the detector finds English where it is.
    assert!(every_page(Locale::En)
        .iter()
        .all(|html| english.iter().any(|word| html.contains(word))));
}
