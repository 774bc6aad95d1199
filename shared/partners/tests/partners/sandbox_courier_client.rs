//! The sandbox courier client against a running sandbox: updates, cancellations and the
//! errors they map to, end to end over HTTP.

use std::time::Duration;

use domain::courier::CourierError;
use domain::error::{Classify, Transience};
use domain::ports::Courier;
use domain::PartnerError;
use domain::Shipment;
use partners::couriers::sandbox::{SandboxCourier, SandboxCredentials};
use sandbox::{Sandbox, SandboxConfig};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const API_KEY: &str = "sbx_client_test_key";
const REFERENCE: &str = "amazon:eu-store:303-1234567-7654321:1";

async fn start() -> Sandbox {
    Sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxConfig {
            courier_api_key: API_KEY.into(),
            shopify_access_token: "shpat_unused".into(),
        },
    )
    .await
    .expect("the sandbox starts on a free port")
}

fn client(base_url: String, http: reqwest::Client) -> SandboxCourier {
    SandboxCourier::new(
        http,
        SandboxCredentials {
            base_url,
            api_key: API_KEY.into(),
        },
    )
}

fn courier(sandbox: &Sandbox) -> SandboxCourier {
    client(sandbox.base_url(), reqwest::Client::new())
}

/// A cash-on-delivery shipment to a Berlin address, with a phone.
fn shipment() -> Shipment {
    serde_json::from_value(json!({
        "key": REFERENCE,
        "recipient": { "name": "Kim Weber", "phone": { "e164": "+4930901820" } },
        "address": {
            "street": "Torstraße", "house": "1", "floor": "3",
            "city": "Berlin", "postal_code": "10119", "country_code": "DE"
        },
        "parcel": { "pieces": 1, "weight_grams": 800 },
        "payment": { "kind": "cash_on_delivery", "amount": { "minor": 4990, "currency": "EUR" } },
        "notes": { "text": "Leave with the neighbour" },
        "service": "standard"
    }))
    .expect("a valid shipment")
}

/// The same delivery after the customer edited it: new address, masked phone with a relay
/// contact, same-day service.
fn edited() -> Shipment {
    let mut shipment = shipment();
    shipment.address.street = "Linienstraße".into();
    shipment.address.house = Some("40".into());
    shipment.recipient.phone = None;
    shipment.recipient.alternate_contact = serde_json::from_value(json!({
        "kind": "marketplace_messaging", "address": "kim+relay@marketplace.example"
    }))
    .expect("a valid contact");
    shipment.service = serde_json::from_value(json!("same_day")).expect("a service");
    shipment
}

/// Whether the courier may have acted on the request although we saw no success (only a
/// partner's ambiguous answer says so; "too late" and an unplaceable address never do).
fn may_have_succeeded(error: &CourierError) -> bool {
    matches!(error, CourierError::Partner(p) if p.may_have_succeeded())
}

/// The simulated driver's next step (not part of the `Courier` trait).
async fn advance(sandbox: &Sandbox, task_id: &str, steps: usize) {
    let http = reqwest::Client::new();
    for _ in 0..steps {
        let response = http
            .post(format!("{}/v1/tasks/{task_id}/advance", sandbox.base_url()))
            .bearer_auth(API_KEY)
            .send()
            .await
            .expect("the sandbox answers");
        assert!(response.status().is_success(), "{}", response.status());
    }
}

#[tokio::test]
async fn update_before_pickup_replaces_the_delivery_and_is_idempotent() {
    let sandbox = start().await;
    let courier = courier(&sandbox);
    let task = courier.create_task(REFERENCE, &shipment()).await.unwrap();
    advance(&sandbox, &task.task_id, 1).await; // assigned

    for _ in 0..2 {
        courier
            .update_task(&task.task_id, REFERENCE, &edited())
            .await
            .unwrap();
    }

    let view = &sandbox.tasks()[0];
    assert_eq!(view.status, "assigned");
    assert_eq!(view.destination.line1, "Linienstraße 40");
    assert_eq!(view.destination.line2.as_deref(), Some("floor 3"));
    assert_eq!(view.recipient.phone, None);
    assert_eq!(
        view.recipient.alternate_contact.as_deref(),
        Some("kim+relay@marketplace.example")
    );
    assert_eq!(view.service.as_deref(), Some("same_day"));
    assert_eq!(
        view.cash_on_delivery.as_ref().map(|m| m.amount_minor),
        Some(4990)
    );
    assert_eq!(view.updates, 1, "the repeated update changed nothing");
}

#[tokio::test]
async fn changes_after_pickup_are_too_late_with_the_status() {
    let sandbox = start().await;
    let courier = courier(&sandbox);
    let task = courier.create_task(REFERENCE, &shipment()).await.unwrap();
    advance(&sandbox, &task.task_id, 2).await; // picked_up

    let error = courier
        .update_task(&task.task_id, REFERENCE, &edited())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CourierError::TooLate { status } if status == "picked_up"),
        "{error:?}"
    );
    assert_eq!(error.transience(), Transience::Permanent);
    assert!(!may_have_succeeded(&error));

    // Resending what the courier already has is not a change: never too late.
    courier
        .update_task(&task.task_id, REFERENCE, &shipment())
        .await
        .unwrap();

    advance(&sandbox, &task.task_id, 1).await; // out_for_delivery
    let error = courier.cancel_task(&task.task_id).await.unwrap_err();
    assert!(
        matches!(&error, CourierError::TooLate { status } if status == "out_for_delivery"),
        "{error:?}"
    );
    let view = &sandbox.tasks()[0];
    assert_eq!(
        (view.status.as_str(), view.updates),
        ("out_for_delivery", 0)
    );
}

#[tokio::test]
async fn cancel_before_pickup_succeeds_and_repeats_harmlessly() {
    let sandbox = start().await;
    let courier = courier(&sandbox);
    let task = courier.create_task(REFERENCE, &shipment()).await.unwrap();

    courier.cancel_task(&task.task_id).await.unwrap();
    courier.cancel_task(&task.task_id).await.unwrap();
    let view = &sandbox.tasks()[0];
    assert_eq!(view.status, "cancelled");
    assert_eq!(view.status_history.len(), 2);

    // A cancelled task takes no update; asking again will not change that.
    let error = courier
        .update_task(&task.task_id, REFERENCE, &edited())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CourierError::Partner(PartnerError::Rejected { code, message, .. }) if code == "409" && message.starts_with("task_cancelled")),
        "{error:?}"
    );
}

#[tokio::test]
async fn unknown_tasks_are_rejected() {
    let sandbox = start().await;
    let courier = courier(&sandbox);
    for error in [
        courier
            .update_task("tsk_missing", REFERENCE, &shipment())
            .await
            .unwrap_err(),
        courier.cancel_task("tsk_missing").await.unwrap_err(),
    ] {
        assert!(
            matches!(&error, CourierError::Partner(PartnerError::Rejected { code, .. }) if code == "404"),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn unplaceable_addresses_are_unresolved_on_create_and_update() {
    let sandbox = start().await;
    let courier = courier(&sandbox);

    let mut not_found = shipment();
    not_found.address.postal_code = Some("00000".into());
    let error = courier
        .create_task(REFERENCE, &not_found)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CourierError::AddressUnresolved { ambiguous: false, message } if message.contains("address_not_found")),
        "{error:?}"
    );
    assert_eq!(error.transience(), Transience::Permanent);

    let mut no_house = shipment();
    no_house.address.house = None;
    let error = courier.create_task(REFERENCE, &no_house).await.unwrap_err();
    assert!(
        matches!(
            error,
            CourierError::AddressUnresolved {
                ambiguous: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(sandbox.tasks().is_empty());

    let task = courier.create_task(REFERENCE, &shipment()).await.unwrap();
    let error = courier
        .update_task(&task.task_id, REFERENCE, &no_house)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            CourierError::AddressUnresolved {
                ambiguous: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(sandbox.tasks()[0].destination.line1, "Torstraße 1");
}

#[tokio::test]
async fn a_masked_phone_with_an_alternate_contact_makes_a_task() {
    let sandbox = start().await;
    let courier = courier(&sandbox);
    courier.create_task(REFERENCE, &edited()).await.unwrap();
    let view = &sandbox.tasks()[0];
    assert_eq!(view.recipient.phone, None);
    assert!(view.recipient.alternate_contact.is_some());

    // Neither a phone nor another contact: the courier refuses, naming the field.
    let mut unreachable = edited();
    unreachable.recipient.alternate_contact = None;
    let error = courier
        .create_task("amazon:eu-store:2:1", &unreachable)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CourierError::Partner(PartnerError::Rejected { code, message, .. }) if code == "422" && message.contains("recipient.phone")),
        "{error:?}"
    );
}

#[tokio::test]
async fn transport_failures_keep_their_meaning() {
    // Nothing listens on a just-released port: the change never left.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let unreachable = client(format!("http://{closed}"), reqwest::Client::new());
    assert!(matches!(
        unreachable.cancel_task("tsk_1").await,
        Err(CourierError::Partner(PartnerError::Unavailable { .. }))
    ));

    // A timeout after sending: the update may or may not have been applied.
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/v1/tasks/tsk_1"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let slow = client(server.uri(), http);
    let error = slow
        .update_task("tsk_1", REFERENCE, &shipment())
        .await
        .unwrap_err();
    assert!(may_have_succeeded(&error), "{error:?}");
}
