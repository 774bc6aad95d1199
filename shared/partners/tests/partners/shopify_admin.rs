//! The Shopify Admin GraphQL write-back against the sandbox's fake store (over HTTP), and
//! the errors a real store's answers map to (wiremock where the sandbox cannot produce them).

use std::time::Duration;

use domain::courier::{Failure, LocationSource, PodLocation, ProofOfDelivery};
use domain::error::{Classify, Transience};
use domain::ports::StoreWriter;
use domain::write_back::{StatusReport, StatusWriteBack, Tracking, WriteBack};
use domain::PartnerError;
use domain::{Channel, ShipmentKey, ShipmentStatus};
use partners::stores::shopify::{fulfillment_event_status, ShopifyAdmin};
use sandbox::{Fault, FulfillmentEventView, Sandbox, SandboxConfig};
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "shpat_test_token";
/// Above 2^53: a float on the way would change it.
const ORDER: &str = "820982911946154508";
const FULFILLMENT: &str = "5912345678901234567";
const GRAPHQL_PATH: &str = "/admin/api/2025-07/graphql.json";

async fn start() -> Sandbox {
    Sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxConfig {
            courier_api_key: "sbx_unused".into(),
            shopify_access_token: TOKEN.into(),
        },
    )
    .await
    .expect("the sandbox starts on a free port")
}

fn admin(base_url: &str) -> ShopifyAdmin {
    ShopifyAdmin::new(reqwest::Client::new(), base_url, TOKEN)
}

fn key(order_id: &str, shipment_id: &str) -> ShipmentKey {
    ShipmentKey::new(Channel::Shopify, "demo-store", order_id, shipment_id)
}

fn tracking(number: &str) -> Tracking {
    Tracking {
        number: number.into(),
        url: Some(format!("https://track.example/{number}")),
        company: "Sandbox Courier".into(),
    }
}

fn fulfillment_gid(id: &str) -> String {
    format!("gid://shopify/Fulfillment/{id}")
}

#[tokio::test]
async fn a_whole_order_gets_one_new_fulfillment() {
    let sandbox = start().await;
    let store = admin(&sandbox.base_url());
    let whole = key(ORDER, "1");

    let first = store
        .write_tracking(&whole, &tracking("SBX1"))
        .await
        .unwrap();
    let reference = match first {
        WriteBack::Written { reference } => reference,
        other => panic!("expected a new fulfillment, got {other:?}"),
    };
    assert_eq!(
        store
            .write_tracking(&whole, &tracking("SBX1"))
            .await
            .unwrap(),
        WriteBack::AlreadyThere {
            reference: reference.clone()
        }
    );

    let fulfillments = sandbox.fulfillments();
    assert_eq!(fulfillments.len(), 1);
    assert_eq!(fulfillments[0].fulfillment_id, reference);
    assert_eq!(fulfillments[0].order_id, ORDER);
    assert!(!fulfillments[0].by_merchant);
    assert_eq!(fulfillments[0].tracking_number.as_deref(), Some("SBX1"));
}

#[tokio::test]
async fn a_merchants_fulfillment_gets_the_tracking_once_and_nothing_is_created() {
    let sandbox = start().await;
    let gid = sandbox
        .seed_shopify_fulfillment(ORDER, FULFILLMENT)
        .unwrap();
    let store = admin(&sandbox.base_url());
    let parcel = key(ORDER, FULFILLMENT);

    assert_eq!(
        store
            .write_tracking(&parcel, &tracking("SBX1"))
            .await
            .unwrap(),
        WriteBack::Written {
            reference: gid.clone()
        }
    );
    assert_eq!(
        store
            .write_tracking(&parcel, &tracking("SBX1"))
            .await
            .unwrap(),
        WriteBack::AlreadyThere {
            reference: gid.clone()
        }
    );

    let fulfillments = sandbox.fulfillments();
    assert_eq!(fulfillments.len(), 1, "no fulfillment created");
    let view = &fulfillments[0];
    assert_eq!(view.fulfillment_id, gid);
    assert_eq!(view.tracking_number.as_deref(), Some("SBX1"));
    assert_eq!(
        view.tracking_url.as_deref(),
        Some("https://track.example/SBX1")
    );
    assert_eq!(view.tracking_company.as_deref(), Some("Sandbox Courier"));
    assert!(
        view.notify_customer,
        "the customer is e-mailed the tracking"
    );
}

#[tokio::test]
async fn a_new_tracking_number_replaces_an_earlier_one() {
    let sandbox = start().await;
    let gid = sandbox
        .seed_shopify_fulfillment(ORDER, FULFILLMENT)
        .unwrap();
    let store = admin(&sandbox.base_url());
    let parcel = key(ORDER, FULFILLMENT);

    store
        .write_tracking(&parcel, &tracking("SBX1"))
        .await
        .unwrap();
    assert_eq!(
        store
            .write_tracking(&parcel, &tracking("SBX12"))
            .await
            .unwrap(),
        WriteBack::Written { reference: gid },
        "a number that merely starts like the first is another one"
    );
    assert_eq!(
        sandbox.fulfillments()[0].tracking_number.as_deref(),
        Some("SBX12")
    );
}

#[tokio::test]
async fn an_unknown_or_foreign_fulfillment_is_rejected_and_changes_nothing() {
    let sandbox = start().await;
    let store = admin(&sandbox.base_url());

    let unknown = store
        .write_tracking(&key(ORDER, FULFILLMENT), &tracking("SBX1"))
        .await;
    assert!(
        matches!(&unknown, Err(PartnerError::Rejected { code, message: m, .. }) if code == "refused" && m.contains(FULFILLMENT)),
        "{unknown:?}"
    );

    // The fulfillment exists, but on another order: the key is wrong.
    sandbox
        .seed_shopify_fulfillment("1001", FULFILLMENT)
        .unwrap();
    let foreign = store
        .write_tracking(&key(ORDER, FULFILLMENT), &tracking("SBX1"))
        .await;
    assert!(
        matches!(&foreign, Err(PartnerError::Rejected { code, message: m, .. }) if code == "refused" && m.contains("gid://shopify/Order/1001")),
        "{foreign:?}"
    );
    let view = &sandbox.fulfillments()[0];
    assert_eq!(view.tracking_number, None);

    let odd = store
        .write_tracking(&key(ORDER, "parcel-2"), &tracking("SBX1"))
        .await;
    assert!(
        matches!(&odd, Err(PartnerError::Rejected { code, .. }) if code == "refused"),
        "{odd:?}"
    );
    assert_eq!(sandbox.fulfillments().len(), 1);
    for error in [unknown, foreign, odd] {
        assert_eq!(error.unwrap_err().transience(), Transience::Permanent);
    }
}

#[tokio::test]
async fn throttled_is_transient_and_the_retry_writes() {
    let sandbox = start().await;
    let gid = sandbox
        .seed_shopify_fulfillment(ORDER, FULFILLMENT)
        .unwrap();
    let store = admin(&sandbox.base_url());

    for shipment in ["1", FULFILLMENT] {
        sandbox.set_shopify_admin_fault(Fault::RateLimited { times: 1 });
        let throttled = store
            .write_tracking(&key(ORDER, shipment), &tracking("SBX1"))
            .await;
        match throttled {
            Err(error @ PartnerError::Throttled { retry_after, .. }) => {
                assert!(
                    retry_after.is_some(),
                    "a wait for the leaky bucket to drain"
                );
                assert!(error.is_transient());
            }
            other => panic!("{shipment}: expected Throttled, got {other:?}"),
        }
    }
    assert_eq!(sandbox.fulfillments().len(), 1);
    assert_eq!(sandbox.fulfillments()[0].tracking_number, None);

    assert_eq!(
        store
            .write_tracking(&key(ORDER, FULFILLMENT), &tracking("SBX1"))
            .await
            .unwrap(),
        WriteBack::Written { reference: gid }
    );
}

#[tokio::test]
async fn a_wrong_token_is_a_configuration_error() {
    let sandbox = start().await;
    let store = ShopifyAdmin::new(reqwest::Client::new(), &sandbox.base_url(), "shpat_wrong");
    let answer = store
        .write_tracking(&key(ORDER, "1"), &tracking("SBX1"))
        .await;
    assert!(
        matches!(answer, Err(PartnerError::Config { .. })),
        "{answer:?}"
    );
}

/// A store answering each operation (recognised by the root field in the query text) with
/// a fixed body.
async fn scripted(answers: &[(&str, Value)]) -> MockServer {
    let server = MockServer::start().await;
    for (field, body) in answers {
        Mock::given(method("POST"))
            .and(path(GRAPHQL_PATH))
            .and(body_string_contains(*field))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
    }
    server
}

fn user_errors(mutation: &str) -> Value {
    json!({ "data": { mutation: {
        "fulfillment": null,
        "userErrors": [
            { "field": ["fulfillmentId"], "message": "Fulfillment is cancelled." },
            { "field": null, "message": "Tracking cannot be updated." }
        ]
    } } })
}

#[tokio::test]
async fn user_errors_on_a_tracking_update_are_a_permanent_rejection() {
    let server = scripted(&[
        (
            "fulfillmentTrackingInfoUpdate",
            user_errors("fulfillmentTrackingInfoUpdate"),
        ),
        (
            "fulfillment(id:",
            json!({ "data": { "fulfillment": {
                "id": fulfillment_gid(FULFILLMENT),
                "order": { "id": format!("gid://shopify/Order/{ORDER}") },
                "trackingInfo": []
            } } }),
        ),
    ])
    .await;
    let answer = admin(&server.uri())
        .write_tracking(&key(ORDER, FULFILLMENT), &tracking("SBX1"))
        .await;
    match answer {
        Err(error @ PartnerError::Rejected { .. }) => {
            assert_eq!(
                error.to_string(),
                "shopify rejected the request (userErrors): Fulfillment is cancelled.; \
                 Tracking cannot be updated."
            );
            assert_eq!(error.transience(), Transience::Permanent);
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn user_errors_on_a_new_fulfillment_are_a_permanent_rejection() {
    let server = scripted(&[
        ("fulfillmentCreate", user_errors("fulfillmentCreate")),
        (
            "fulfillmentOrders",
            json!({ "data": { "order": {
                "id": format!("gid://shopify/Order/{ORDER}"),
                "fulfillmentOrders": { "nodes": [
                    { "id": "gid://shopify/FulfillmentOrder/1", "status": "OPEN" }
                ] },
                "fulfillments": []
            } } }),
        ),
    ])
    .await;
    let answer = admin(&server.uri())
        .write_tracking(&key(ORDER, "1"), &tracking("SBX1"))
        .await;
    assert!(
        matches!(&answer, Err(PartnerError::Rejected { message: m, .. }) if m.contains("Fulfillment is cancelled.")),
        "{answer:?}"
    );
}

#[tokio::test]
async fn an_update_answer_without_fulfillment_or_errors_is_ambiguous() {
    let server = scripted(&[
        (
            "fulfillmentTrackingInfoUpdate",
            json!({ "data": { "fulfillmentTrackingInfoUpdate": {
                "fulfillment": null, "userErrors": []
            } } }),
        ),
        (
            "fulfillment(id:",
            json!({ "data": { "fulfillment": {
                "id": fulfillment_gid(FULFILLMENT),
                "order": { "id": format!("gid://shopify/Order/{ORDER}") },
                "trackingInfo": [{ "number": "OTHER" }]
            } } }),
        ),
    ])
    .await;
    let answer = admin(&server.uri())
        .write_tracking(&key(ORDER, FULFILLMENT), &tracking("SBX1"))
        .await;
    assert!(
        matches!(answer, Err(PartnerError::Ambiguous { .. })),
        "{answer:?}"
    );
}

// Delivery statuses: fulfillment events.

/// 2026-11-18T11:06:40Z, plus `minutes`.
fn at(minutes: i64) -> i64 {
    1_795_000_000_000 + minutes * 60_000
}

fn status_report(status: ShipmentStatus, minutes: i64, fulfillment_gid: &str) -> StatusReport {
    StatusReport {
        status,
        happened_at_ms: at(minutes),
        tracking: tracking("SBX1"),
        tracking_reference: fulfillment_gid.to_owned(),
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

fn written(answer: Result<StatusWriteBack, PartnerError>) -> String {
    match answer {
        Ok(StatusWriteBack::Written { reference }) => reference,
        other => panic!("expected a new event, got {other:?}"),
    }
}

#[tokio::test]
async fn each_status_becomes_one_fulfillment_event_and_a_repeat_writes_nothing() {
    let sandbox = start().await;
    let store = admin(&sandbox.base_url());
    let whole = key(ORDER, "1");
    let WriteBack::Written { reference: gid } = store
        .write_tracking(&whole, &tracking("SBX1"))
        .await
        .unwrap()
    else {
        panic!("tracking not written");
    };

    let mut references = Vec::new();
    for (minutes, status) in SHOWN.into_iter().enumerate() {
        let report = status_report(status, minutes as i64, &gid);
        references.push(written(store.write_status(&whole, &report).await));
    }
    for (minutes, status) in SHOWN.into_iter().enumerate() {
        let report = status_report(status, minutes as i64, &gid);
        assert_eq!(
            store.write_status(&whole, &report).await.unwrap(),
            StatusWriteBack::AlreadyThere {
                reference: references[minutes].clone()
            },
            "{status}"
        );
    }

    let events = sandbox.shopify_fulfillment_events();
    let statuses: Vec<&str> = events.iter().map(|e| e.status.as_str()).collect();
    assert_eq!(
        statuses,
        [
            "CONFIRMED",
            "IN_TRANSIT",
            "OUT_FOR_DELIVERY",
            "DELIVERED",
            "ATTEMPTED_DELIVERY",
            "FAILURE"
        ],
        "one event per status, none twice"
    );
    for (event, reference) in events.iter().zip(&references) {
        assert_eq!(&event.event_id, reference);
        assert_eq!(event.fulfillment_id, gid);
    }
    assert_eq!(events[0].happened_at, "2026-11-18T11:06:40Z");
    assert_eq!(events[5].happened_at, "2026-11-18T11:11:40Z");
}

#[tokio::test]
async fn the_delivery_event_carries_the_place_the_eta_and_the_signer() {
    let sandbox = start().await;
    let gid = sandbox
        .seed_shopify_fulfillment(ORDER, FULFILLMENT)
        .unwrap();
    let store = admin(&sandbox.base_url());
    let parcel = key(ORDER, FULFILLMENT);

    let mut out = status_report(ShipmentStatus::OutForDelivery, 0, &gid);
    out.eta_ms = Some(at(45) + 499);
    written(store.write_status(&parcel, &out).await);
    let mut delivered = status_report(ShipmentStatus::Delivered, 40, &gid);
    delivered.proof = Some(ProofOfDelivery {
        signature_upload_id: Some("sig-1".into()),
        photo_upload_ids: vec!["photo-1".into()],
        signature_text: Some("Anna Nowak".into()),
        recipient_name: Some("Anna Nowak".into()),
        notes: None,
        location: Some(PodLocation {
            lng: 13.405,
            lat: 52.52,
            source: LocationSource::DriverAtCompletion,
        }),
        completed_at_ms: Some(at(40)),
    });
    written(store.write_status(&parcel, &delivered).await);
    let mut failed = status_report(ShipmentStatus::Failed, 50, &gid);
    failed.failure = Some(Failure {
        reason: Some("NO_ANSWER".into()),
        notes: Some("rang twice".into()),
    });
    written(store.write_status(&parcel, &failed).await);

    let events = sandbox.shopify_fulfillment_events();
    assert_eq!(
        events[0],
        FulfillmentEventView {
            event_id: events[0].event_id.clone(),
            fulfillment_id: gid.clone(),
            status: "OUT_FOR_DELIVERY".into(),
            happened_at: "2026-11-18T11:06:40Z".into(),
            message: None,
            latitude: None,
            longitude: None,
            estimated_delivery_at: Some("2026-11-18T11:51:40Z".into()),
        }
    );
    assert_eq!(events[1].status, "DELIVERED");
    assert_eq!(
        events[1].message.as_deref(),
        Some("Delivered. Signed for by Anna Nowak.")
    );
    assert_eq!(
        (events[1].latitude, events[1].longitude),
        (Some(52.52), Some(13.405))
    );
    assert_eq!(
        events[2].message.as_deref(),
        Some("Delivery attempt failed: no answer.")
    );
    assert!(
        sandbox.fulfillments()[0].tracking_number.is_none(),
        "tracking untouched"
    );
}

#[tokio::test]
async fn statuses_the_store_is_not_told_about_make_no_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let store = admin(&server.uri());
    for status in [
        ShipmentStatus::Pending,
        ShipmentStatus::Created,
        ShipmentStatus::NeedsClarification,
        ShipmentStatus::Cancelled,
    ] {
        assert_eq!(fulfillment_event_status(status), None);
        let report = status_report(status, 0, &fulfillment_gid(FULFILLMENT));
        assert_eq!(
            store.write_status(&key(ORDER, "1"), &report).await.unwrap(),
            StatusWriteBack::NotShown,
            "{status}"
        );
    }
}

#[tokio::test]
async fn an_unknown_foreign_or_malformed_fulfillment_is_rejected_and_nothing_is_written() {
    let sandbox = start().await;
    let store = admin(&sandbox.base_url());
    let parcel = key(ORDER, FULFILLMENT);
    let gid = fulfillment_gid(FULFILLMENT);

    let report = status_report(ShipmentStatus::Delivered, 0, &gid);
    let unknown = store.write_status(&parcel, &report).await;
    assert!(
        matches!(&unknown, Err(PartnerError::Rejected { code, message: m, .. }) if code == "refused" && m.contains(&gid)),
        "{unknown:?}"
    );
    sandbox
        .seed_shopify_fulfillment("1001", FULFILLMENT)
        .unwrap();
    let foreign = store.write_status(&parcel, &report).await;
    assert!(
        matches!(&foreign, Err(PartnerError::Rejected { code, message: m, .. }) if code == "refused" && m.contains("gid://shopify/Order/1001")),
        "{foreign:?}"
    );
    let malformed = status_report(ShipmentStatus::Delivered, 0, FULFILLMENT);
    let malformed = store.write_status(&parcel, &malformed).await;
    assert!(
        matches!(&malformed, Err(PartnerError::Rejected { code, .. }) if code == "refused"),
        "{malformed:?}"
    );
    assert!(sandbox.shopify_fulfillment_events().is_empty());
    for error in [unknown, foreign] {
        assert_eq!(error.unwrap_err().transience(), Transience::Permanent);
    }
}

#[tokio::test]
async fn throttled_and_unavailable_are_transient_and_the_retry_writes_once() {
    let sandbox = start().await;
    let gid = sandbox
        .seed_shopify_fulfillment(ORDER, FULFILLMENT)
        .unwrap();
    let store = admin(&sandbox.base_url());
    let parcel = key(ORDER, FULFILLMENT);
    let report = status_report(ShipmentStatus::PickedUp, 0, &gid);

    sandbox.set_shopify_admin_fault(Fault::RateLimited { times: 1 });
    match store.write_status(&parcel, &report).await {
        Err(error @ PartnerError::Throttled { retry_after, .. }) => {
            assert!(retry_after.is_some());
            assert!(error.is_transient());
        }
        other => panic!("expected Throttled, got {other:?}"),
    }
    sandbox.set_shopify_admin_fault(Fault::Unavailable { times: 1 });
    match store.write_status(&parcel, &report).await {
        Err(error @ PartnerError::Unavailable { .. }) => assert!(error.is_transient()),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(sandbox.shopify_fulfillment_events().is_empty());

    written(store.write_status(&parcel, &report).await);
    assert!(matches!(
        store.write_status(&parcel, &report).await,
        Ok(StatusWriteBack::AlreadyThere { .. })
    ));
    assert_eq!(sandbox.shopify_fulfillment_events().len(), 1);
}

/// The mutation exactly as the write-back sends it for an out-for-delivery report at
/// `at(0)`.
fn raw_event_create(gid: &str) -> Value {
    json!({
        "query": "mutation ($fulfillmentEvent: FulfillmentEventInput!) { fulfillmentEventCreate(fulfillmentEvent: $fulfillmentEvent) { fulfillmentEvent { id } userErrors { field message } } }",
        "variables": { "fulfillmentEvent": {
            "fulfillmentId": gid, "status": "OUT_FOR_DELIVERY", "happenedAt": "2026-11-18T11:06:40Z"
        } }
    })
}

#[tokio::test]
async fn faults_strike_the_event_mutation_and_a_lost_answer_is_found_on_retry() {
    let sandbox = start().await;
    let gid = sandbox
        .seed_shopify_fulfillment(ORDER, FULFILLMENT)
        .unwrap();
    let url = format!("{}{GRAPHQL_PATH}", sandbox.base_url());
    let post = |client: &reqwest::Client| {
        client
            .post(&url)
            .header("X-Shopify-Access-Token", TOKEN)
            .json(&raw_event_create(&gid))
            .send()
    };

    // An armed fault answers the mutation like any other operation, and creates nothing.
    sandbox.set_shopify_admin_fault(Fault::RateLimited { times: 1 });
    let throttled: Value = post(&reqwest::Client::new())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(throttled["errors"][0]["extensions"]["code"], "THROTTLED");
    assert!(sandbox.shopify_fulfillment_events().is_empty());

    // The store creates the event, but its answer never arrives.
    sandbox.set_shopify_admin_fault(Fault::LoseResponse {
        times: 1,
        delay_ms: 2_000,
    });
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    assert!(post(&impatient).await.is_err());
    let events = sandbox.shopify_fulfillment_events();
    assert_eq!(events.len(), 1, "it was written");

    // The write-back's retry looks before it writes.
    let report = status_report(ShipmentStatus::OutForDelivery, 0, &gid);
    assert_eq!(
        admin(&sandbox.base_url())
            .write_status(&key(ORDER, FULFILLMENT), &report)
            .await
            .unwrap(),
        StatusWriteBack::AlreadyThere {
            reference: events[0].event_id.clone()
        }
    );
    assert_eq!(sandbox.shopify_fulfillment_events().len(), 1);
}

/// A store whose fulfillment `gid` (of `ORDER`) lists `events`.
async fn store_with_events(server: &MockServer, events: Value, times: Option<u64>) {
    let mock = Mock::given(method("POST"))
        .and(path(GRAPHQL_PATH))
        .and(body_string_contains("events("))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "data": { "fulfillment": {
            "id": fulfillment_gid(FULFILLMENT),
            "order": { "id": format!("gid://shopify/Order/{ORDER}") },
            "events": { "nodes": events }
        } } })),
        );
    match times {
        Some(n) => mock.up_to_n_times(n).mount(server).await,
        None => mock.mount(server).await,
    }
}

#[tokio::test]
async fn user_errors_on_an_event_are_a_permanent_rejection() {
    let server = MockServer::start().await;
    store_with_events(&server, json!([]), None).await;
    Mock::given(method("POST"))
        .and(path(GRAPHQL_PATH))
        .and(body_string_contains("fulfillmentEventCreate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": {
            "fulfillmentEventCreate": {
                "fulfillmentEvent": null,
                "userErrors": [{ "field": ["fulfillmentEvent", "fulfillmentId"], "message": "Fulfillment is cancelled." }]
            }
        } })))
        .expect(1)
        .mount(&server)
        .await;
    let report = status_report(ShipmentStatus::Delivered, 0, &fulfillment_gid(FULFILLMENT));
    match admin(&server.uri())
        .write_status(&key(ORDER, FULFILLMENT), &report)
        .await
    {
        Err(error @ PartnerError::Rejected { .. }) => {
            assert_eq!(
                error.to_string(),
                "shopify rejected the request (userErrors): Fulfillment is cancelled."
            );
            assert_eq!(error.transience(), Transience::Permanent);
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_slow_event_answer_is_ambiguous_and_the_retry_finds_the_event() {
    let server = MockServer::start().await;
    store_with_events(&server, json!([]), Some(1)).await;
    // Another status at the same time, and this one a second later: neither is ours.
    store_with_events(
        &server,
        json!([
            { "id": "gid://shopify/FulfillmentEvent/3", "status": "DELIVERED", "happenedAt": "2026-11-18T11:06:40Z" },
            { "id": "gid://shopify/FulfillmentEvent/2", "status": "OUT_FOR_DELIVERY", "happenedAt": "2026-11-18T11:06:41Z" },
            { "id": "gid://shopify/FulfillmentEvent/1", "status": "OUT_FOR_DELIVERY", "happenedAt": "2026-11-18T12:06:40+01:00" }
        ]),
        None,
    )
    .await;
    Mock::given(method("POST"))
        .and(path(GRAPHQL_PATH))
        .and(body_string_contains("fulfillmentEventCreate"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "data": { "fulfillmentEventCreate": {
                    "fulfillmentEvent": { "id": "gid://shopify/FulfillmentEvent/1" }, "userErrors": []
                } } }))
                .set_delay(Duration::from_secs(5)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let store = ShopifyAdmin::new(impatient, &server.uri(), TOKEN);
    let mut report = status_report(
        ShipmentStatus::OutForDelivery,
        0,
        &fulfillment_gid(FULFILLMENT),
    );
    report.happened_at_ms += 999;

    let lost = store.write_status(&key(ORDER, FULFILLMENT), &report).await;
    assert!(
        matches!(lost, Err(PartnerError::Ambiguous { .. })),
        "{lost:?}"
    );
    assert_eq!(
        store
            .write_status(&key(ORDER, FULFILLMENT), &report)
            .await
            .unwrap(),
        StatusWriteBack::AlreadyThere {
            reference: "gid://shopify/FulfillmentEvent/1".into()
        },
        "the same status at the same second, whatever the offset it is shown in"
    );
}
