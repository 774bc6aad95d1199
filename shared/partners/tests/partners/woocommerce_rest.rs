//! The WooCommerce REST write-back against the sandbox's fake store (end to end over HTTP),
//! and the errors a real site's answers map to (wiremock).

use std::time::Duration;

use domain::courier::{Failure, ProofOfDelivery};
use domain::ports::StoreWriter;
use domain::rules::NotificationRules;
use domain::write_back::{StatusReport, StatusWriteBack, Tracking, WriteBack};
use domain::PartnerError;
use domain::{Channel, ShipmentKey, ShipmentStatus, StoreConfig};
use partners::stores::woocommerce::{WooCommerceRest, WooCommerceWriter};
use sandbox::{
    Fault, Sandbox, SandboxConfig, WooCommerceStatusView, WOOCOMMERCE_CONSUMER_KEY,
    WOOCOMMERCE_CONSUMER_SECRET,
};
use serde_json::json;
use wiremock::matchers::{basic_auth, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn start() -> Sandbox {
    Sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxConfig {
            courier_api_key: "sbx_unused".into(),
            shopify_access_token: "shpat_unused".into(),
        },
    )
    .await
    .expect("the sandbox starts on a free port")
}

fn client(site_url: &str, http: reqwest::Client) -> WooCommerceRest {
    WooCommerceRest::new(
        http,
        site_url,
        WOOCOMMERCE_CONSUMER_KEY,
        WOOCOMMERCE_CONSUMER_SECRET,
    )
    .unwrap()
}

fn key(order_id: &str) -> ShipmentKey {
    ShipmentKey::new(Channel::WooCommerce, "demo-store", order_id, "1")
}

fn tracking(number: &str) -> Tracking {
    Tracking {
        number: number.into(),
        url: Some(format!("https://track.example/{number}")),
        company: "Sandbox Courier".into(),
    }
}

#[tokio::test]
async fn tracking_is_written_once_as_a_customer_note() {
    let sandbox = start().await;
    let store = client(&sandbox.base_url(), reqwest::Client::new());

    let first = store
        .write_tracking(&key("727"), &tracking("SBX1"))
        .await
        .unwrap();
    assert_eq!(
        first,
        WriteBack::Written {
            reference: "1".into()
        }
    );
    let again = store
        .write_tracking(&key("727"), &tracking("SBX1"))
        .await
        .unwrap();
    assert_eq!(
        again,
        WriteBack::AlreadyThere {
            reference: "1".into()
        }
    );
    // A number that merely starts like the first one is another parcel.
    let other = store
        .write_tracking(&key("727"), &tracking("SBX12"))
        .await
        .unwrap();
    assert_eq!(
        other,
        WriteBack::Written {
            reference: "2".into()
        }
    );

    let notes = sandbox.woocommerce_notes();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0].order_id, "727");
    assert!(
        notes[0].customer_note,
        "the customer sees and is e-mailed it"
    );
    assert_eq!(
        notes[0].note,
        "Your order is on its way with Sandbox Courier. Tracking number: SBX1. \
         Track it at https://track.example/SBX1"
    );
}

#[tokio::test]
async fn a_lost_answer_is_ambiguous_and_the_retry_finds_the_note() {
    let sandbox = start().await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let slow = client(&sandbox.base_url(), impatient);
    let patient = client(&sandbox.base_url(), reqwest::Client::new());

    // A lookup that times out changed nothing: unavailable, safe to retry.
    sandbox.set_woocommerce_fault(Fault::LoseResponse {
        times: 1,
        delay_ms: 2_000,
    });
    let lookup = slow.write_tracking(&key("5"), &tracking("SBX5")).await;
    assert!(
        matches!(lookup, Err(PartnerError::Unavailable { .. })),
        "{lookup:?}"
    );
    assert!(sandbox.woocommerce_notes().is_empty());

    // A creation whose answer is lost may have happened (here it did): ambiguous.
    sandbox.set_woocommerce_fault(Fault::LoseResponse {
        times: 1,
        delay_ms: 2_000,
    });
    let lost = slow.add_note("5", "Tracking number: SBX5.", true).await;
    assert!(
        matches!(lost, Err(PartnerError::Ambiguous { .. })),
        "{lost:?}"
    );
    assert_eq!(sandbox.woocommerce_notes().len(), 1, "it was written");

    // The retry looks before it writes.
    let retried = patient
        .write_tracking(&key("5"), &tracking("SBX5"))
        .await
        .unwrap();
    assert_eq!(
        retried,
        WriteBack::AlreadyThere {
            reference: "1".into()
        }
    );
    assert_eq!(sandbox.woocommerce_notes().len(), 1);
}

#[tokio::test]
async fn statuses_are_set_and_store_errors_are_typed() {
    let sandbox = start().await;
    let store = client(&sandbox.base_url(), reqwest::Client::new());
    store.set_status("727", "completed").await.unwrap();
    store.set_status("727", "completed").await.unwrap();
    assert_eq!(
        sandbox.woocommerce_statuses(),
        [WooCommerceStatusView {
            order_id: "727".into(),
            from: "processing".into(),
            to: "completed".into(),
        }]
    );
    let refused = store.set_status("727", "shipped").await;
    assert!(
        matches!(&refused, Err(PartnerError::Rejected { code, message: m, .. }) if code == "400" && m.contains("rest_invalid_param"))
    );

    sandbox.set_woocommerce_fault(Fault::RateLimited { times: 1 });
    assert!(matches!(
        store.write_tracking(&key("727"), &tracking("SBX7")).await,
        Err(PartnerError::Throttled {
            retry_after: Some(d),
            ..
        }) if d == Duration::from_secs(1)
    ));
    sandbox.set_woocommerce_fault(Fault::Unavailable { times: 1 });
    assert!(matches!(
        store.set_status("727", "completed").await,
        Err(PartnerError::Unavailable { .. })
    ));
    assert!(matches!(
        store.notes("0").await,
        Err(PartnerError::Rejected { .. })
    ));
    assert!(matches!(
        store.notes("SO-1").await,
        Err(PartnerError::Rejected { code, .. }) if code == "refused"
    ));

    let wrong = WooCommerceRest::new(
        reqwest::Client::new(),
        &sandbox.base_url(),
        WOOCOMMERCE_CONSUMER_KEY,
        "cs_wrong",
    )
    .unwrap();
    assert!(matches!(
        wrong.write_tracking(&key("727"), &tracking("SBX7")).await,
        Err(PartnerError::Config { message: m, .. }) if m.contains("woocommerce_rest_authentication_error")
    ));
    assert!(sandbox.woocommerce_notes().is_empty());
}

#[tokio::test]
async fn a_site_that_is_not_answering_is_unavailable_not_ambiguous() {
    // Bind and drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = client(&format!("http://127.0.0.1:{port}"), reqwest::Client::new());
    assert!(matches!(
        store.add_note("1", "x", true).await,
        Err(PartnerError::Unavailable { .. })
    ));
}

#[tokio::test]
async fn real_site_answers_map_to_store_errors() {
    let site = MockServer::start().await;
    let notes = "/shop/wp-json/wc/v3/orders/727/notes";
    Mock::given(method("GET"))
        .and(path(notes))
        .and(basic_auth(
            WOOCOMMERCE_CONSUMER_KEY,
            WOOCOMMERCE_CONSUMER_SECRET,
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&site)
        .await;
    // A proxy's HTML error page in front of WordPress.
    Mock::given(method("POST"))
        .and(path(notes))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad gateway</html>"))
        .up_to_n_times(1)
        .mount(&site)
        .await;
    Mock::given(method("POST"))
        .and(path(notes))
        .respond_with(ResponseTemplate::new(201).set_body_string("<html>cached page</html>"))
        .up_to_n_times(1)
        .mount(&site)
        .await;
    Mock::given(method("POST"))
        .and(path(notes))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "30"))
        .up_to_n_times(1)
        .mount(&site)
        .await;
    Mock::given(method("PUT"))
        .and(path("/shop/wp-json/wc/v3/orders/404"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "code": "woocommerce_rest_shop_order_invalid_id",
            "message": "Invalid ID.",
            "data": {"status": 404}
        })))
        .mount(&site)
        .await;
    Mock::given(method("PUT"))
        .and(path("/shop/wp-json/wc/v3/orders/1"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "code": "rest_no_route",
            "message": "No route was found matching the URL and request method.",
            "data": {"status": 404}
        })))
        .mount(&site)
        .await;

    let store = client(&format!("{}/shop/", site.uri()), reqwest::Client::new());
    let t = tracking("SBX9");
    assert!(matches!(
        store.write_tracking(&key("727"), &t).await,
        Err(PartnerError::Unavailable { message: m, .. }) if m.starts_with("502 Bad Gateway")
    ));
    assert!(matches!(
        store.write_tracking(&key("727"), &t).await,
        Err(PartnerError::Ambiguous { .. })
    ));
    assert!(matches!(
        store.write_tracking(&key("727"), &t).await,
        Err(PartnerError::Throttled { retry_after: Some(d), .. }) if d == Duration::from_secs(30)
    ));
    assert!(matches!(
        store.set_status("404", "completed").await,
        Err(PartnerError::Rejected { code, message: m, .. }) if code == "404" && m.contains("Invalid ID.")
    ));
    assert!(matches!(
        store.set_status("1", "completed").await,
        Err(PartnerError::Config { message: m, .. }) if m.contains("rest_no_route")
    ));
}

// Delivery statuses: order notes, and the order status on delivery.

/// 2026-11-18T11:06:40Z, plus `minutes`.
fn at(minutes: i64) -> i64 {
    1_795_000_000_000 + minutes * 60_000
}

fn status_report(status: ShipmentStatus, minutes: i64) -> StatusReport {
    StatusReport {
        status,
        happened_at_ms: at(minutes),
        tracking: tracking("SBX1"),
        tracking_reference: "1".into(),
        failure: None,
        proof: None,
        eta_ms: None,
    }
}

const SHOWN: [ShipmentStatus; 6] = [
    ShipmentStatus::Assigned,
    ShipmentStatus::PickedUp,
    ShipmentStatus::OutForDelivery,
    ShipmentStatus::Delivered,
    ShipmentStatus::Failed,
    ShipmentStatus::Returned,
];

/// The writer of a store that sends its own customer messages (courier-bridge sends none).
fn writer(base_url: &str, after_delivery: Option<&str>) -> WooCommerceWriter {
    let config = StoreConfig {
        status_after_delivery: after_delivery.map(str::to_owned),
        notifications: NotificationRules {
            channels: Some(vec![]),
            ..NotificationRules::default()
        },
        ..StoreConfig::default()
    };
    WooCommerceWriter::new(client(base_url, reqwest::Client::new()), &config)
}

#[tokio::test]
async fn each_status_is_one_note_and_a_repeat_writes_nothing() {
    let sandbox = start().await;
    let store = writer(&sandbox.base_url(), None);
    store
        .write_tracking(&key("727"), &tracking("SBX1"))
        .await
        .unwrap();

    let mut references = Vec::new();
    for (minutes, status) in SHOWN.into_iter().enumerate() {
        let report = status_report(status, minutes as i64);
        match store.write_status(&key("727"), &report).await.unwrap() {
            StatusWriteBack::Written { reference } => references.push(reference),
            other => panic!("{status}: {other:?}"),
        }
    }
    for (minutes, status) in SHOWN.into_iter().enumerate() {
        let report = status_report(status, minutes as i64);
        assert_eq!(
            store.write_status(&key("727"), &report).await.unwrap(),
            StatusWriteBack::AlreadyThere {
                reference: references[minutes].clone()
            },
            "{status}"
        );
    }
    let notes = sandbox.woocommerce_notes();
    assert_eq!(notes.len(), 7, "the tracking note and one per status");
    let kinds: Vec<(bool, &str)> = notes[1..]
        .iter()
        .map(|n| (n.customer_note, n.note.split('.').next().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            (false, "Courier update: a driver is assigned"),
            (false, "Courier update: the courier has the parcel"),
            (true, "Your order is out for delivery"),
            (true, "Your order has been delivered"),
            (true, "Your order could not be delivered"),
            (true, "Your order is on its way back to us"),
        ]
    );
    for (note, reference) in notes[1..].iter().zip(&references) {
        assert_eq!(&note.note_id.to_string(), reference);
        assert!(
            note.note.contains("tracking number: SBX1."),
            "{}",
            note.note
        );
    }
    assert!(sandbox.woocommerce_statuses().is_empty(), "no status set");
}

#[tokio::test]
async fn when_courier_bridge_messages_the_customer_its_notes_about_those_statuses_are_private() {
    let sandbox = start().await;
    // The default configuration: courier-bridge e-mails (else texts) the customer.
    let store = WooCommerceWriter::new(
        client(&sandbox.base_url(), reqwest::Client::new()),
        &StoreConfig::default(),
    );
    for status in SHOWN {
        store
            .write_status(&key("727"), &status_report(status, 0))
            .await
            .unwrap();
    }
    let customer: Vec<bool> = sandbox
        .woocommerce_notes()
        .iter()
        .map(|n| n.customer_note)
        .collect();
    assert_eq!(
        customer,
        [false, false, false, false, false, true],
        "only the return, which courier-bridge sends no message about"
    );
}

#[tokio::test]
async fn notes_carry_the_eta_the_signer_and_the_failure_reason() {
    let sandbox = start().await;
    let store = writer(&sandbox.base_url(), None);

    let mut out = status_report(ShipmentStatus::OutForDelivery, 0);
    out.eta_ms = Some(at(60));
    store.write_status(&key("8"), &out).await.unwrap();
    let mut failed = status_report(ShipmentStatus::Failed, 30);
    failed.failure = Some(Failure {
        reason: Some("NO_ANSWER".into()),
        notes: Some("gate code 4321".into()),
    });
    store.write_status(&key("8"), &failed).await.unwrap();
    let mut delivered = status_report(ShipmentStatus::Delivered, 90);
    delivered.proof = Some(ProofOfDelivery {
        signature_upload_id: Some("sig-1".into()),
        photo_upload_ids: vec![],
        signature_text: Some("Anna Nowak".into()),
        recipient_name: Some("Anna Nowak".into()),
        notes: None,
        location: None,
        completed_at_ms: None,
    });
    store.write_status(&key("8"), &delivered).await.unwrap();

    let notes: Vec<String> = sandbox
        .woocommerce_notes()
        .into_iter()
        .map(|n| n.note)
        .collect();
    assert_eq!(
        notes,
        [
            "Your order is out for delivery. Sandbox Courier tracking number: SBX1. \
             Expected around 2026-11-18 12:06 UTC. Track it at https://track.example/SBX1",
            "Your order could not be delivered. Sandbox Courier tracking number: SBX1. \
             Reason: no answer. Track it at https://track.example/SBX1",
            "Your order has been delivered. Sandbox Courier tracking number: SBX1. \
             Delivered 2026-11-18 12:36 UTC. Signed for by Anna Nowak. \
             Track it at https://track.example/SBX1",
        ]
    );
}

#[tokio::test]
async fn delivered_moves_the_order_to_the_stores_status_once() {
    let sandbox = start().await;
    let store = writer(&sandbox.base_url(), Some("completed"));
    for status in SHOWN {
        store
            .write_status(&key("727"), &status_report(status, 0))
            .await
            .unwrap();
    }
    // A retry of the delivery (its answer lost, say) finds the note and sets the status it
    // already has: no second change.
    assert!(matches!(
        store
            .write_status(&key("727"), &status_report(ShipmentStatus::Delivered, 0))
            .await,
        Ok(StatusWriteBack::AlreadyThere { .. })
    ));
    assert_eq!(
        sandbox.woocommerce_statuses(),
        [WooCommerceStatusView {
            order_id: "727".into(),
            from: "processing".into(),
            to: "completed".into(),
        }]
    );

    // Without the setting, the status stays.
    let plain = writer(&sandbox.base_url(), None);
    plain
        .write_status(&key("9"), &status_report(ShipmentStatus::Delivered, 0))
        .await
        .unwrap();
    assert_eq!(sandbox.woocommerce_statuses().len(), 1);
}

#[tokio::test]
async fn a_failed_status_change_is_retried_after_the_note_is_found() {
    // The note is written, then the status change meets an outage: the retry finds the
    // note and sets the status, and no second note is posted.
    let site = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/wp-json/wc/v3/orders/727/notes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .up_to_n_times(1)
        .mount(&site)
        .await;
    Mock::given(method("GET"))
        .and(path("/wp-json/wc/v3/orders/727/notes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{
            "id": 41, "customer_note": true,
            "note": "Your order has been delivered. Sandbox Courier tracking number: SBX1."
        }])))
        .mount(&site)
        .await;
    Mock::given(method("POST"))
        .and(path("/wp-json/wc/v3/orders/727/notes"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": 41, "customer_note": true,
            "note": "Your order has been delivered. Sandbox Courier tracking number: SBX1."
        })))
        .expect(1)
        .mount(&site)
        .await;
    Mock::given(method("PUT"))
        .and(path("/wp-json/wc/v3/orders/727"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&site)
        .await;
    Mock::given(method("PUT"))
        .and(path("/wp-json/wc/v3/orders/727"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 727, "status": "completed"})),
        )
        .expect(1)
        .mount(&site)
        .await;

    let store = writer(&site.uri(), Some("completed"));
    let delivered = status_report(ShipmentStatus::Delivered, 0);
    assert!(matches!(
        store.write_status(&key("727"), &delivered).await,
        Err(PartnerError::Unavailable { .. })
    ));
    assert_eq!(
        store.write_status(&key("727"), &delivered).await.unwrap(),
        StatusWriteBack::AlreadyThere {
            reference: "41".into()
        }
    );
}

#[tokio::test]
async fn statuses_the_store_is_not_told_about_make_no_call() {
    let site = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&site)
        .await;
    let store = writer(&site.uri(), Some("completed"));
    for status in [
        ShipmentStatus::Pending,
        ShipmentStatus::Created,
        ShipmentStatus::NeedsClarification,
        ShipmentStatus::Cancelled,
    ] {
        assert_eq!(
            store
                .write_status(&key("727"), &status_report(status, 0))
                .await
                .unwrap(),
            StatusWriteBack::NotShown,
            "{status}"
        );
    }
}

#[tokio::test]
async fn status_notes_map_throttling_outages_and_lost_answers() {
    let sandbox = start().await;
    let store = writer(&sandbox.base_url(), Some("completed"));
    let delivered = status_report(ShipmentStatus::Delivered, 0);

    sandbox.set_woocommerce_fault(Fault::RateLimited { times: 1 });
    assert!(matches!(
        store.write_status(&key("5"), &delivered).await,
        Err(PartnerError::Throttled { retry_after: Some(d), .. }) if d == Duration::from_secs(1)
    ));
    sandbox.set_woocommerce_fault(Fault::Unavailable { times: 1 });
    assert!(matches!(
        store.write_status(&key("5"), &delivered).await,
        Err(PartnerError::Unavailable { .. })
    ));
    assert!(sandbox.woocommerce_notes().is_empty());

    // The note is created but its answer is lost (the note posted as the write-back
    // writes it, read from another order): ambiguous. The retry finds the note, writes no
    // second one, and sets the status.
    store.write_status(&key("6"), &delivered).await.unwrap();
    let text = sandbox.woocommerce_notes()[0].note.clone();
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    sandbox.set_woocommerce_fault(Fault::LoseResponse {
        times: 1,
        delay_ms: 2_000,
    });
    let lost = client(&sandbox.base_url(), impatient)
        .add_note("5", &text, true)
        .await;
    assert!(
        matches!(lost, Err(PartnerError::Ambiguous { .. })),
        "{lost:?}"
    );
    let note_id = sandbox.woocommerce_notes()[1].note_id;
    assert_eq!(
        store.write_status(&key("5"), &delivered).await.unwrap(),
        StatusWriteBack::AlreadyThere {
            reference: note_id.to_string()
        }
    );
    let on_order_5: Vec<_> = sandbox
        .woocommerce_notes()
        .into_iter()
        .filter(|n| n.order_id == "5")
        .collect();
    assert_eq!(on_order_5.len(), 1);
    assert!(sandbox
        .woocommerce_statuses()
        .iter()
        .any(|s| s.order_id == "5" && s.to == "completed"));
}
