//! The Onfleet client against a stub of Onfleet's documented API (wiremock): the exact
//! request bodies, the answers' mapping and the errors they become.

use std::time::Duration;

use domain::courier::{CourierError, CourierTask};
use domain::error::{Classify, Transience};
use domain::ports::Courier;
use domain::PartnerError;
use domain::Shipment;
use partners::couriers::onfleet::{OnfleetCourier, OnfleetCredentials};
use serde_json::{json, Value};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const API_KEY: &str = "6e4f0c9a2b7d";
/// `base64("6e4f0c9a2b7d:")`: the key as user name, an empty password.
const BASIC_AUTH: &str = "Basic NmU0ZjBjOWEyYjdkOg==";
const REFERENCE: &str = "shopify:demo-store:820982911946154508:1";
const TASK_ID: &str = "kc8SS1tzuZ~jqjlebKGrUmpe";
/// Onfleet's base path is kept: the stub serves it under `/api/v2` like production.
const BASE: &str = "/api/v2";

fn courier(server: &MockServer) -> OnfleetCourier {
    OnfleetCourier::new(
        reqwest::Client::new(),
        OnfleetCredentials {
            api_key: API_KEY.into(),
            base_url: format!("{}{BASE}", server.uri()),
        },
    )
}

/// Whether Onfleet may have acted on the request although we saw no success (only its
/// ambiguous answers say so).
fn may_have_succeeded(error: &CourierError) -> bool {
    matches!(error, CourierError::Partner(p) if p.may_have_succeeded())
}

fn at(p: &str) -> String {
    format!("{BASE}{p}")
}

/// A cash-on-delivery shipment with a house number, coordinates, a window in a +02:00
/// offset and driver notes.
fn shipment() -> Shipment {
    serde_json::from_value(json!({
        "key": REFERENCE,
        "order_name": "#1001",
        "recipient": {
            "name": "Ana Ruiz", "phone": { "e164": "+14155550100" }, "company": "Acme Corp"
        },
        "address": {
            "street": "Howard St", "house": "543", "apartment": "5th Floor",
            "intercom": "42", "city": "San Francisco", "region": "CA",
            "postal_code": "94105", "country_code": "US",
            "latitude": 37.7877, "longitude": -122.3972
        },
        "parcel": { "pieces": 3, "weight_grams": 1200 },
        "payment": { "kind": "cash_on_delivery", "amount": { "minor": 2935, "currency": "USD" } },
        "notes": { "text": "Leave at the front desk", "fragile": true },
        "window": { "start": "2026-05-04T11:00:00+02:00", "end": "2026-05-04T14:00:00+02:00" },
        "service": "standard"
    }))
    .expect("a valid shipment")
}

/// A prepaid shipment whose street line still holds the house number, with coordinates,
/// no window and no notes.
fn prepaid_street_line() -> Shipment {
    serde_json::from_value(json!({
        "key": REFERENCE,
        "recipient": { "name": "Kim Weber", "phone": { "e164": "+4930901820" } },
        "address": {
            "street": "Torstraße 1", "floor": "3", "city": "Berlin",
            "postal_code": "10119", "country_code": "DE",
            "latitude": 52.5291, "longitude": 13.4010
        },
        "parcel": { "pieces": 1 },
        "payment": { "kind": "prepaid", "order_total": { "minor": 4990, "currency": "EUR" } },
        "service": "standard"
    }))
    .expect("a valid shipment")
}

/// The first shipment with the phone masked by the marketplace and a relay contact.
fn masked_phone() -> Shipment {
    let mut s = shipment();
    s.recipient.phone = None;
    s.recipient.alternate_contact = serde_json::from_value(json!({
        "kind": "marketplace_messaging", "address": "ana+relay@marketplace.example"
    }))
    .expect("a valid contact");
    s
}

fn reference_metadata(reference: &str) -> Value {
    json!({"name": "courier_bridge_reference", "type": "string", "value": reference,
           "visibility": ["api"]})
}

fn cod_metadata() -> Value {
    json!({"name": "courier_bridge_cod", "type": "object",
           "value": {"amount": "29.35", "currency": "USD", "amount_minor": 2935},
           "visibility": ["api", "dashboard"]})
}

/// Onfleet's answer to a create (trimmed from the documented example).
fn task_answer(id: &str, short_id: &str) -> Value {
    json!({
        "id": id, "shortId": short_id, "trackingURL": format!("https://onf.lt/{short_id}"),
        "state": 0, "organization": "yAM*fDkztrT3gUcz9mNDgNOL",
        "metadata": [reference_metadata(REFERENCE)]
    })
}

fn onfleet_error(code: &str, subcode: u64, message: &str) -> Value {
    json!({"code": code, "message": {
        "error": subcode, "message": message,
        "request": "ec76efd0-b8c0-484a-ad5f-725c5bbee869"
    }})
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).expect("a JSON body")
}

async fn created(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(at("/tasks")))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn create_sends_the_documented_task_with_basic_auth_and_maps_the_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(at("/tasks")))
        .and(header("authorization", BASIC_AUTH))
        .respond_with(ResponseTemplate::new(200).set_body_json(task_answer(TASK_ID, "8f983639")))
        .expect(1)
        .mount(&server)
        .await;

    let task = courier(&server)
        .create_task(REFERENCE, &shipment())
        .await
        .unwrap();

    assert_eq!(
        task,
        CourierTask {
            task_id: TASK_ID.into(),
            tracking_number: "8f983639".into(),
            tracking_url: Some("https://onf.lt/8f983639".into()),
        }
    );
    let sent = body(&requests(&server).await[0]);
    assert_eq!(
        sent,
        json!({
            "destination": {
                "address": {
                    "name": "Acme Corp",
                    "apartment": "5th Floor",
                    "number": "543",
                    "street": "Howard St",
                    "city": "San Francisco",
                    "state": "CA",
                    "postalCode": "94105",
                    "country": "US"
                },
                "location": [-122.3972, 37.7877]
            },
            "recipients": [{ "name": "Ana Ruiz", "phone": "+14155550100" }],
            // 11:00 and 14:00 at +02:00, in milliseconds.
            "completeAfter": 1_777_885_200_000_i64,
            "completeBefore": 1_777_896_000_000_i64,
            "notes": "Order #1001\nCash on delivery: collect 29.35 USD\nFRAGILE. Intercom 42. Leave at the front desk",
            "quantity": 3,
            "metadata": [reference_metadata(REFERENCE), cod_metadata()]
        })
    );
}

#[tokio::test]
async fn a_street_line_with_the_number_in_it_is_sent_unparsed_without_coordinates() {
    let server = MockServer::start().await;
    created(
        &server,
        ResponseTemplate::new(200).set_body_json(task_answer(TASK_ID, "5f8b5c65")),
    )
    .await;

    courier(&server)
        .create_task(REFERENCE, &prepaid_street_line())
        .await
        .unwrap();

    let sent = body(&requests(&server).await[0]);
    // `unparsed` may not be combined with `location` (create destination).
    assert_eq!(
        sent["destination"],
        json!({"address": {
            "apartment": "floor 3",
            "unparsed": "Torstraße 1, Berlin, 10119, DE"
        }})
    );
    // Prepaid, no window, nothing to say: no COD entry, no window, no notes.
    assert_eq!(sent["metadata"], json!([reference_metadata(REFERENCE)]));
    assert!(sent.get("completeAfter").is_none() && sent.get("completeBefore").is_none());
    assert!(sent.get("notes").is_none());
    assert_eq!(sent["quantity"], 1);
}

#[tokio::test]
async fn a_masked_phone_creates_the_task_without_recipient_and_tells_the_driver_how_to_reach() {
    let server = MockServer::start().await;
    created(
        &server,
        ResponseTemplate::new(200).set_body_json(task_answer(TASK_ID, "5f8b5c65")),
    )
    .await;

    courier(&server)
        .create_task(REFERENCE, &masked_phone())
        .await
        .unwrap();

    let sent = body(&requests(&server).await[0]);
    assert_eq!(sent["recipients"], json!([]));
    let notes = sent["notes"].as_str().unwrap();
    assert!(
        notes.ends_with(
            "Recipient: Ana Ruiz (phone withheld by the marketplace; contact via ana+relay@marketplace.example)"
        ),
        "{notes}"
    );
}

#[tokio::test]
async fn an_address_onfleet_cannot_geocode_goes_back_to_the_customer() {
    let server = MockServer::start().await;
    created(
        &server,
        ResponseTemplate::new(400).set_body_json(onfleet_error(
            "InvalidContent",
            1011,
            "Geocoding issues were found",
        )),
    )
    .await;

    let error = courier(&server)
        .create_task(REFERENCE, &shipment())
        .await
        .unwrap_err();

    assert!(
        matches!(&error, CourierError::AddressUnresolved { ambiguous: false, message }
            if message.contains("Geocoding issues were found")),
        "{error:?}"
    );
    assert_eq!(error.transience(), Transience::Permanent);
}

#[tokio::test]
async fn throttling_waits_for_retry_after_or_one_second_window() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(at("/tasks")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "3")
                .insert_header("X-RateLimit-Limit", "20")
                .insert_header("X-RateLimit-Remaining", "0")
                .set_body_json(onfleet_error("TooManyRequests", 2300, "slow down")),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(at("/tasks")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-RateLimit-Limit", "20")
                .insert_header("X-RateLimit-Remaining", "0"),
        )
        .mount(&server)
        .await;
    let courier = courier(&server);

    let first = courier
        .create_task(REFERENCE, &shipment())
        .await
        .unwrap_err();
    assert!(
        matches!(first, CourierError::Partner(PartnerError::Throttled { .. })),
        "{first:?}"
    );
    assert_eq!(first.retry_after(), Some(Duration::from_secs(3)));
    assert!(!may_have_succeeded(&first));
    assert_eq!(first.transience(), Transience::Transient);

    // Onfleet documents no reset header: the limit is per second.
    let second = courier
        .create_task(REFERENCE, &shipment())
        .await
        .unwrap_err();
    assert_eq!(second.retry_after(), Some(Duration::from_secs(1)));
}

#[tokio::test]
async fn status_codes_keep_their_meaning() {
    let cases = [
        (
            ResponseTemplate::new(401).set_body_json(onfleet_error(
                "InvalidCredentials",
                1102,
                "The API key provided is invalid.",
            )),
            "config",
        ),
        (
            ResponseTemplate::new(500).set_body_string("oops"),
            "unavailable",
        ),
        (
            ResponseTemplate::new(503).set_body_string(""),
            "unavailable",
        ),
        (
            ResponseTemplate::new(400).set_body_json(onfleet_error(
                "InvalidContent",
                1010,
                "Invalid phone number",
            )),
            "rejected",
        ),
    ];
    for (answer, expected) in cases {
        let server = MockServer::start().await;
        created(&server, answer).await;
        let error = courier(&server)
            .create_task(REFERENCE, &shipment())
            .await
            .unwrap_err();
        let ok = match expected {
            "config" => {
                matches!(&error, CourierError::Partner(PartnerError::Config { message, .. })
                if message.contains("1102"))
            }
            "unavailable" => matches!(
                error,
                CourierError::Partner(PartnerError::Unavailable { .. })
            ),
            _ => {
                matches!(&error, CourierError::Partner(PartnerError::Rejected { code, message, .. })
                if code == "400" && message == "InvalidContent 1010: Invalid phone number [request ec76efd0-b8c0-484a-ad5f-725c5bbee869]")
            }
        };
        assert!(ok, "{expected}: {error:?}");
        assert!(!may_have_succeeded(&error));
    }
}

#[tokio::test]
async fn an_unreadable_success_is_ambiguous_and_an_unreachable_onfleet_is_not() {
    let server = MockServer::start().await;
    created(
        &server,
        ResponseTemplate::new(200).set_body_string("<html>ok</html>"),
    )
    .await;
    let error = courier(&server)
        .create_task(REFERENCE, &shipment())
        .await
        .unwrap_err();
    assert!(
        matches!(error, CourierError::Partner(PartnerError::Ambiguous { .. })),
        "{error:?}"
    );
    assert!(may_have_succeeded(&error));

    // Nothing listens there: the request never left, so it is safe to send again.
    let closed = OnfleetCourier::new(
        reqwest::Client::new(),
        OnfleetCredentials {
            api_key: API_KEY.into(),
            base_url: "http://127.0.0.1:9/api/v2".into(),
        },
    );
    let error = closed
        .create_task(REFERENCE, &shipment())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            CourierError::Partner(PartnerError::Unavailable { .. })
        ),
        "{error:?}"
    );
}

async fn metadata_query(server: &MockServer, answer: Value) {
    Mock::given(method("POST"))
        .and(path(at("/tasks/metadata")))
        .and(header("authorization", BASIC_AUTH))
        .and(body_json(json!([
            {"name": "courier_bridge_reference", "type": "string", "value": REFERENCE}
        ])))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn find_by_reference_queries_task_metadata() {
    // None.
    let server = MockServer::start().await;
    metadata_query(&server, json!([])).await;
    assert_eq!(
        courier(&server).find_by_reference(REFERENCE).await.unwrap(),
        None
    );

    // One, with another reference's task filtered out.
    let server = MockServer::start().await;
    let mut other = task_answer("otherTaskId", "11111111");
    other["metadata"] = json!([reference_metadata("shopify:demo-store:1:1")]);
    metadata_query(&server, json!([task_answer(TASK_ID, "8f983639"), other])).await;
    assert_eq!(
        courier(&server).find_by_reference(REFERENCE).await.unwrap(),
        Some(CourierTask {
            task_id: TASK_ID.into(),
            tracking_number: "8f983639".into(),
            tracking_url: Some("https://onf.lt/8f983639".into()),
        })
    );

    // Several: never guess which one is ours.
    let server = MockServer::start().await;
    metadata_query(
        &server,
        json!([
            task_answer(TASK_ID, "8f983639"),
            task_answer("secondTask", "22222222")
        ]),
    )
    .await;
    let error = courier(&server)
        .find_by_reference(REFERENCE)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CourierError::Partner(PartnerError::Ambiguous { message: m, .. })
            if m.contains(TASK_ID) && m.contains("secondTask")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_match_without_its_short_id_is_read_in_full() {
    let server = MockServer::start().await;
    metadata_query(
        &server,
        json!([{"id": TASK_ID, "metadata": [reference_metadata(REFERENCE)]}]),
    )
    .await;
    Mock::given(method("GET"))
        .and(path(at(&format!("/tasks/{TASK_ID}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(task_answer(TASK_ID, "8f983639")))
        .expect(1)
        .mount(&server)
        .await;

    let task = courier(&server)
        .find_by_reference(REFERENCE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(task.tracking_number, "8f983639");
}

/// The current task as `GET /tasks/{id}` returns it.
fn current_task(state: u8, recipient_phone: &str, recipient_name: &str) -> Value {
    json!({
        "id": TASK_ID, "shortId": "8f983639", "state": state,
        "recipients": [{"id": "recipientAna", "name": recipient_name, "phone": recipient_phone}],
        "metadata": [
            {"name": "dispatch_zone", "type": "string", "value": "north", "visibility": ["dashboard"]},
            reference_metadata(REFERENCE),
            cod_metadata()
        ]
    })
}

async fn task_is(server: &MockServer, task: Value) {
    Mock::given(method("GET"))
        .and(path(at(&format!("/tasks/{TASK_ID}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(task))
        .mount(server)
        .await;
}

async fn destination_created(server: &MockServer, expected: u64) {
    Mock::given(method("POST"))
        .and(path(at("/destinations")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "destinationNew"})))
        .expect(expected)
        .mount(server)
        .await;
}

fn put_bodies(requests: &[Request]) -> Vec<Value> {
    requests
        .iter()
        .filter(|r| r.method.as_str() == "PUT" && r.url.path() == at(&format!("/tasks/{TASK_ID}")))
        .map(body)
        .collect()
}

#[tokio::test]
async fn update_points_the_task_at_a_new_destination_and_replaces_only_our_metadata() {
    let server = MockServer::start().await;
    task_is(&server, current_task(1, "+4930901820", "Kim Weber")).await;
    destination_created(&server, 2).await;
    Mock::given(method("PUT"))
        .and(path(at(&format!("/tasks/{TASK_ID}"))))
        .and(header("authorization", BASIC_AUTH))
        .respond_with(ResponseTemplate::new(200).set_body_json(task_answer(TASK_ID, "8f983639")))
        .expect(2)
        .mount(&server)
        .await;
    let courier = courier(&server);

    for _ in 0..2 {
        courier
            .update_task(TASK_ID, REFERENCE, &prepaid_street_line())
            .await
            .unwrap();
    }

    let all = requests(&server).await;
    let destination = all
        .iter()
        .find(|r| r.url.path() == at("/destinations"))
        .map(body)
        .unwrap();
    assert_eq!(
        destination,
        json!({"address": {"apartment": "floor 3", "unparsed": "Torstraße 1, Berlin, 10119, DE"}})
    );
    let puts = put_bodies(&all);
    assert_eq!(
        puts[0], puts[1],
        "the same update twice is the same request"
    );
    assert_eq!(
        puts[0],
        json!({
            "destination": "destinationNew",
            // Same phone and name: the task's own recipient, untouched.
            "recipients": ["recipientAna"],
            "completeAfter": null,
            "completeBefore": null,
            "notes": "",
            "quantity": 1,
            // Others' entries stay; the COD entry goes with the COD.
            "metadata": [
                {"name": "dispatch_zone", "type": "string", "value": "north", "visibility": ["dashboard"]},
                reference_metadata(REFERENCE)
            ]
        })
    );
}

#[tokio::test]
async fn update_to_a_new_phone_uses_the_organizations_recipient_or_creates_one() {
    // Known to Onfleet under another name: renamed, then used.
    let server = MockServer::start().await;
    task_is(&server, current_task(0, "+4930901820", "Kim Weber")).await;
    destination_created(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(at("/recipients/phone/+14155550100")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": "recipientKnown", "name": "A. Ruiz", "phone": "+14155550100"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(at("/recipients/recipientKnown")))
        .and(body_json(json!({"name": "Ana Ruiz"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "recipientKnown"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(at(&format!("/tasks/{TASK_ID}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(task_answer(TASK_ID, "8f983639")))
        .expect(1)
        .mount(&server)
        .await;
    courier(&server)
        .update_task(TASK_ID, REFERENCE, &shipment())
        .await
        .unwrap();
    let put = put_bodies(&requests(&server).await).remove(0);
    assert_eq!(put["recipients"], json!(["recipientKnown"]));
    assert_eq!(put["completeAfter"], json!(1_777_885_200_000_i64));
    assert_eq!(
        put["metadata"],
        json!([
            {"name": "dispatch_zone", "type": "string", "value": "north", "visibility": ["dashboard"]},
            reference_metadata(REFERENCE),
            cod_metadata()
        ])
    );

    // Unknown to Onfleet: created with the documented body.
    let server = MockServer::start().await;
    task_is(&server, current_task(0, "+4930901820", "Kim Weber")).await;
    destination_created(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(at("/recipients/phone/+14155550100")))
        .respond_with(ResponseTemplate::new(404).set_body_json(onfleet_error(
            "ResourceNotFound",
            1402,
            "not found",
        )))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(at("/recipients")))
        .and(body_json(
            json!({"name": "Ana Ruiz", "phone": "+14155550100"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "recipientNew"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(at(&format!("/tasks/{TASK_ID}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(task_answer(TASK_ID, "8f983639")))
        .mount(&server)
        .await;
    courier(&server)
        .update_task(TASK_ID, REFERENCE, &shipment())
        .await
        .unwrap();
    let put = put_bodies(&requests(&server).await).remove(0);
    assert_eq!(put["recipients"], json!(["recipientNew"]));

    // Masked phone: no recipient.
    let server = MockServer::start().await;
    task_is(&server, current_task(0, "+14155550100", "Ana Ruiz")).await;
    destination_created(&server, 1).await;
    Mock::given(method("PUT"))
        .and(path(at(&format!("/tasks/{TASK_ID}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(task_answer(TASK_ID, "8f983639")))
        .mount(&server)
        .await;
    courier(&server)
        .update_task(TASK_ID, REFERENCE, &masked_phone())
        .await
        .unwrap();
    let put = put_bodies(&requests(&server).await).remove(0);
    assert_eq!(put["recipients"], json!([]));
}

#[tokio::test]
async fn changes_to_a_started_or_finished_task_are_too_late_and_write_nothing() {
    for (state, status) in [(2, "active"), (3, "completed")] {
        let server = MockServer::start().await;
        task_is(&server, current_task(state, "+14155550100", "Ana Ruiz")).await;
        destination_created(&server, 0).await;

        let error = courier(&server)
            .update_task(TASK_ID, REFERENCE, &shipment())
            .await
            .unwrap_err();

        assert!(
            matches!(&error, CourierError::TooLate { status: s } if s == status),
            "{error:?}"
        );
        assert_eq!(error.transience(), Transience::Permanent);
        assert!(put_bodies(&requests(&server).await).is_empty());
    }
}

#[tokio::test]
async fn a_task_that_starts_during_the_update_is_too_late() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(at(&format!("/tasks/{TASK_ID}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(current_task(
            1,
            "+14155550100",
            "Ana Ruiz",
        )))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    task_is(&server, current_task(2, "+14155550100", "Ana Ruiz")).await;
    destination_created(&server, 1).await;
    Mock::given(method("PUT"))
        .and(path(at(&format!("/tasks/{TASK_ID}"))))
        .respond_with(ResponseTemplate::new(400).set_body_json(onfleet_error(
            "InvalidArgument",
            1000,
            "Only notes and metadata can be updated for active tasks",
        )))
        .mount(&server)
        .await;

    let error = courier(&server)
        .update_task(TASK_ID, REFERENCE, &shipment())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CourierError::TooLate { status } if status == "active"),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_update_never_touches_a_task_carrying_another_reference() {
    let server = MockServer::start().await;
    let mut task = current_task(0, "+14155550100", "Ana Ruiz");
    task["metadata"] = json!([reference_metadata("shopify:other-store:1:1")]);
    task_is(&server, task).await;
    destination_created(&server, 0).await;

    let error = courier(&server)
        .update_task(TASK_ID, REFERENCE, &shipment())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CourierError::Partner(PartnerError::Rejected { code, .. }) if code == "409"),
        "{error:?}"
    );
}

async fn delete_answers(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("DELETE"))
        .and(path(at(&format!("/tasks/{TASK_ID}"))))
        .and(header("authorization", BASIC_AUTH))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn cancel_deletes_the_task_and_a_deleted_task_is_already_cancelled() {
    for answer in [
        ResponseTemplate::new(200),
        ResponseTemplate::new(404).set_body_json(onfleet_error(
            "ResourceNotFound",
            1402,
            "not found",
        )),
    ] {
        let server = MockServer::start().await;
        delete_answers(&server, answer).await;
        courier(&server).cancel_task(TASK_ID).await.unwrap();
    }
}

#[tokio::test]
async fn a_refused_cancel_is_explained_by_the_tasks_state() {
    let refused = || {
        ResponseTemplate::new(400).set_body_json(onfleet_error(
            "InvalidArgument",
            1000,
            "Task cannot be deleted",
        ))
    };
    for (state, expected) in [(2, Some("active")), (3, Some("completed")), (0, None)] {
        let server = MockServer::start().await;
        delete_answers(&server, refused()).await;
        task_is(&server, current_task(state, "+14155550100", "Ana Ruiz")).await;

        let error = courier(&server).cancel_task(TASK_ID).await.unwrap_err();
        match expected {
            Some(status) => assert!(
                matches!(&error, CourierError::TooLate { status: s } if s == status),
                "{error:?}"
            ),
            // Not under way: Onfleet's own refusal stands.
            None => assert!(
                matches!(&error, CourierError::Partner(PartnerError::Rejected { code, message, .. })
                    if code == "400" && message.contains("Task cannot be deleted")),
                "{error:?}"
            ),
        }
    }

    // Refused, and the task is gone: nothing left to cancel.
    let server = MockServer::start().await;
    delete_answers(&server, refused()).await;
    Mock::given(method("GET"))
        .and(path(at(&format!("/tasks/{TASK_ID}"))))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    courier(&server).cancel_task(TASK_ID).await.unwrap();
}

#[tokio::test]
async fn task_ids_are_one_path_segment() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(at("/tasks/a%2F..%2Fworkers")))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    courier(&server).cancel_task("a/../workers").await.unwrap();
}

const WORKER: &str = "h*wSb*apKlDkUFnuLTtjPke7";

fn container(tasks: &[&str]) -> Value {
    json!({"id": "c1", "organization": "o1", "type": "WORKER", "worker": WORKER,
           "activeTask": "active-1", "tasks": tasks,
           "timeCreated": 1518563775000_i64, "timeLastModified": 1518563775468_i64})
}

#[tokio::test]
async fn a_route_replaces_the_workers_container_keeping_tasks_it_does_not_list_after_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(at(&format!("/containers/workers/{WORKER}"))))
        .and(header("authorization", BASIC_AUTH))
        .respond_with(ResponseTemplate::new(200).set_body_json(container(&["old-1", "t2"])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(at(&format!("/containers/workers/{WORKER}"))))
        .and(header("authorization", BASIC_AUTH))
        .and(body_json(
            json!({"tasks": ["t1", "t2", "old-1"], "considerDependencies": false}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(container(&["t1", "t2", "old-1"])))
        .expect(1)
        .mount(&server)
        .await;
    let route = vec!["t1".to_owned(), "t2".to_owned()];
    courier(&server)
        .assign_route(WORKER, "plan-1", &route)
        .await
        .expect("the route is in the container");
}

#[tokio::test]
async fn a_contended_container_is_read_and_written_again_and_a_lasting_412_is_returned() {
    let server = MockServer::start().await;
    let contended = ResponseTemplate::new(412).set_body_json(json!({
        "code": "PreconditionFailed",
        "message": {"error": 2300, "message": "The container is being modified.", "request": "r1"}
    }));
    Mock::given(method("GET"))
        .and(path(at(&format!("/containers/workers/{WORKER}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(container(&[])))
        .mount(&server)
        .await;
    // Two 412s, then the write goes through: three reads, three writes.
    Mock::given(method("PUT"))
        .and(path(at(&format!("/containers/workers/{WORKER}"))))
        .respond_with(contended.clone())
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(at(&format!("/containers/workers/{WORKER}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(container(&["t1"])))
        .expect(1)
        .mount(&server)
        .await;
    let route = vec!["t1".to_owned()];
    courier(&server)
        .assign_route(WORKER, "plan-1", &route)
        .await
        .expect("written on the third try");
    let reads = requests(&server)
        .await
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .count();
    assert_eq!(reads, 3);

    // A container that stays contended: four tries, then the 412 goes back, permanent.
    let stuck = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(container(&[])))
        .mount(&stuck)
        .await;
    Mock::given(method("PUT"))
        .respond_with(contended)
        .expect(4)
        .mount(&stuck)
        .await;
    let err = courier(&stuck)
        .assign_route(WORKER, "plan-1", &route)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CourierError::Partner(p) if p.rejected_status() == Some(412)),
        "{err:?}"
    );
}
