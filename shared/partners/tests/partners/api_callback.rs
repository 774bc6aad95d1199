//! The generic API's tracking callback against a fake store (wiremock): what it sends, that
//! the signature verifies with the store's secret, and how the store's answers are read.

use base64::Engine;
use channels::api;
use domain::courier::{Failure, LocationSource, PodLocation, ProofOfDelivery};
use domain::ports::StoreWriter;
use domain::write_back::{StatusReport, StatusWriteBack, Tracking, WriteBack};
use domain::PartnerError;
use domain::ShipmentStatus;
use domain::{Channel, ShipmentKey};
use hmac::{Hmac, Mac};
use partners::stores::api::{
    status_event_id, ApiCredentials, ApiWriter, StatusChangedEvent, TrackingEvent, NO_CALLBACK,
    STATUS_TOPIC, TRACKING_TOPIC,
};
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SECRET: &str = "store-signing-secret";

fn key() -> ShipmentKey {
    ShipmentKey::new(Channel::Api, "demo-store", "SO-1001", "SO-1001-1")
}

fn tracking() -> Tracking {
    Tracking {
        number: "SBX-7F3K9Q".into(),
        url: Some("https://track.courier.example/SBX-7F3K9Q".into()),
        company: "Sandbox Courier".into(),
    }
}

fn writer_for(url: Option<String>, http: reqwest::Client) -> ApiWriter {
    let credentials = ApiCredentials {
        signing_secret: SECRET.into(),
        callback_url: url,
    };
    ApiWriter::new(http, &credentials).unwrap()
}

async fn store_answering(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/tracking"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

async fn write(server: &MockServer) -> Result<WriteBack, PartnerError> {
    writer_for(
        Some(format!("{}/hooks/tracking", server.uri())),
        reqwest::Client::new(),
    )
    .write_tracking(&key(), &tracking())
    .await
}

fn header<'r>(request: &'r Request, name: &str) -> &'r str {
    request
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

/// The store's side, written from the README rather than with our own helper: base64 of
/// HMAC-SHA256(secret, raw body).
fn store_verifies(request: &Request) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&request.body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    header(request, api::SIGNATURE_HEADER) == expected
}

#[tokio::test]
async fn a_2xx_answer_means_written_and_the_callback_is_signed_with_the_stores_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/tracking"))
        .and(query_param("shop", "7"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let writer = writer_for(
        Some(format!("{}/hooks/tracking?shop=7", server.uri())),
        reqwest::Client::new(),
    );
    let result = writer.write_tracking(&key(), &tracking()).await.unwrap();

    let requests = server.received_requests().await.unwrap();
    let request = &requests[0];
    assert!(
        store_verifies(request),
        "the store could not verify the callback"
    );
    assert!(api::verify_signature(
        SECRET,
        &request.body,
        header(request, api::SIGNATURE_HEADER)
    ));
    assert!(!api::verify_signature(
        "another-secret",
        &request.body,
        header(request, api::SIGNATURE_HEADER)
    ));

    let body: TrackingEvent = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body, TrackingEvent::new(&key(), &tracking()));
    assert_eq!(body.schema_version, api::SCHEMA_VERSION);
    assert_eq!(body.event, TRACKING_TOPIC);
    assert_eq!(
        (body.order_id.as_str(), body.shipment_id.as_str()),
        ("SO-1001", "SO-1001-1")
    );
    assert_eq!(body.tracking.number, "SBX-7F3K9Q");
    assert_eq!(header(request, api::EVENT_ID_HEADER), body.event_id);
    assert_eq!(header(request, api::TOPIC_HEADER), TRACKING_TOPIC);
    assert_eq!(header(request, "content-type"), "application/json");
    time::OffsetDateTime::parse(header(request, api::SENT_AT_HEADER), &Rfc3339).unwrap();
    assert_eq!(
        result,
        WriteBack::Written {
            reference: body.event_id
        }
    );
}

#[tokio::test]
async fn a_retry_sends_the_same_bytes_under_the_same_event_id() {
    let server = store_answering(200).await;
    write(&server).await.unwrap();
    write(&server).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body);
    for name in [api::EVENT_ID_HEADER, api::SIGNATURE_HEADER] {
        assert_eq!(
            header(&requests[0], name),
            header(&requests[1], name),
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_stores_answers_map_to_retry_decisions() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7"))
        .mount(&server)
        .await;
    assert!(matches!(
        write(&server).await,
        Err(PartnerError::Throttled { retry_after: Some(d), .. }) if d == Duration::from_secs(7)
    ));

    for (status, expected) in [
        (500, "unavailable"),
        (503, "unavailable"),
        (408, "unavailable"),
        (401, "config"),
        (403, "config"),
        (400, "rejected"),
        (404, "rejected"),
        (422, "rejected"),
    ] {
        let server = store_answering(status).await;
        let got = match write(&server).await {
            Err(PartnerError::Unavailable { .. }) => "unavailable",
            Err(PartnerError::Config { .. }) => "config",
            Err(PartnerError::Rejected { code, .. }) if code == status.to_string() => "rejected",
            other => panic!("{status}: {other:?}"),
        };
        assert_eq!(got, expected, "{status}");
    }
}

#[tokio::test]
async fn a_store_without_a_callback_url_gets_nothing_and_that_is_not_an_error() {
    let writer = writer_for(None, reqwest::Client::new());
    assert_eq!(
        writer.write_tracking(&key(), &tracking()).await.unwrap(),
        WriteBack::AlreadyThere {
            reference: NO_CALLBACK.into()
        }
    );
}

#[tokio::test]
async fn a_refused_connection_is_unavailable_and_a_timeout_after_sending_is_ambiguous() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let writer = writer_for(
        Some(format!("http://{address}/hooks/tracking?token=t0ken")),
        reqwest::Client::new(),
    );
    match writer.write_tracking(&key(), &tracking()).await {
        Err(PartnerError::Unavailable { message: e, .. }) => assert!(!e.contains("t0ken"), "{e}"),
        other => panic!("{other:?}"),
    }

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let writer = writer_for(Some(format!("{}/hooks/tracking", server.uri())), impatient);
    assert!(matches!(
        writer.write_tracking(&key(), &tracking()).await,
        Err(PartnerError::Ambiguous { .. })
    ));
}

// Delivery statuses: the signed `shipment.status_changed` callback.

/// 2026-11-18T11:06:40Z, plus `minutes`.
fn at(minutes: i64) -> i64 {
    1_795_000_000_000 + minutes * 60_000
}

fn report(status: ShipmentStatus, minutes: i64) -> StatusReport {
    StatusReport {
        status,
        happened_at_ms: at(minutes),
        tracking: tracking(),
        tracking_reference: "tracking:api:demo-store:SO-1001:SO-1001-1:x".into(),
        failure: None,
        proof: None,
        eta_ms: None,
    }
}

fn delivered() -> StatusReport {
    let mut r = report(ShipmentStatus::Delivered, 40);
    r.proof = Some(ProofOfDelivery {
        signature_upload_id: Some("sig_3kq9".into()),
        photo_upload_ids: vec!["photo_71a2".into(), "photo_71a3".into()],
        signature_text: Some("Anna Schmidt".into()),
        recipient_name: Some("Anna Schmidt".into()),
        notes: Some("Left with the reception desk.".into()),
        location: Some(PodLocation {
            lng: 13.4094,
            lat: 52.5208,
            source: LocationSource::DriverAtCompletion,
        }),
        completed_at_ms: Some(at(40) + 12_000),
    });
    r
}

fn failed() -> StatusReport {
    let mut r = report(ShipmentStatus::Failed, 30);
    r.failure = Some(Failure {
        reason: Some("NO_ANSWER".into()),
        notes: Some("Rang twice.".into()),
    });
    r
}

const SHOWN: [ShipmentStatus; 6] = [
    ShipmentStatus::Assigned,
    ShipmentStatus::PickedUp,
    ShipmentStatus::OutForDelivery,
    ShipmentStatus::Delivered,
    ShipmentStatus::Failed,
    ShipmentStatus::Returned,
];

/// The published schema of the status callback, as a standalone JSON Schema.
fn status_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/api/openapi.yaml"
    ))
    .unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    let mut schema = doc["components"]["schemas"]["StatusChangedEvent"].clone();
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    assert_eq!(
        doc["components"]["parameters"]["StatusCallbackTopic"]["schema"]["const"],
        STATUS_TOPIC
    );
    let example = &doc["webhooks"]["shipmentStatusChanged"]["post"]["requestBody"]["content"]
        ["application/json"]["example"];
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    assert_eq!(errors(&validator, example), Vec::<String>::new());
    let example: StatusChangedEvent = serde_json::from_value(example.clone()).unwrap();
    assert_eq!(example.event_id, status_event_id(&key(), "delivered"));
    validator
}

fn errors(v: &jsonschema::Validator, body: &Value) -> Vec<String> {
    v.iter_errors(body)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[tokio::test]
async fn each_status_is_one_signed_callback_that_matches_the_published_schema() {
    let server = store_answering(204).await;
    let writer = writer_for(
        Some(format!("{}/hooks/tracking", server.uri())),
        reqwest::Client::new(),
    );
    let mut out = report(ShipmentStatus::OutForDelivery, 20);
    out.eta_ms = Some(at(45));
    let reports: Vec<StatusReport> = SHOWN
        .iter()
        .map(|&status| match status {
            ShipmentStatus::OutForDelivery => out.clone(),
            ShipmentStatus::Delivered => delivered(),
            ShipmentStatus::Failed => failed(),
            other => report(other, 0),
        })
        .collect();
    let mut references = Vec::new();
    for r in &reports {
        match writer.write_status(&key(), r).await.unwrap() {
            StatusWriteBack::Written { reference } => references.push(reference),
            other => panic!("{}: {other:?}", r.status),
        }
    }

    let schema = status_schema();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 6);
    let names = [
        "assigned",
        "picked_up",
        "out_for_delivery",
        "delivered",
        "failed",
        "returned",
    ];
    for ((request, name), reference) in requests.iter().zip(names).zip(&references) {
        assert!(store_verifies(request), "{name}");
        assert_eq!(header(request, api::TOPIC_HEADER), STATUS_TOPIC);
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(errors(&schema, &body), Vec::<String>::new(), "{body}");
        let event: StatusChangedEvent = serde_json::from_value(body).unwrap();
        assert_eq!(event.status, name);
        assert_eq!(event.event_id, status_event_id(&key(), name));
        assert_eq!(header(request, api::EVENT_ID_HEADER), event.event_id);
        assert_eq!(&event.event_id, reference);
        assert_eq!(
            (event.order_id.as_str(), event.shipment_id.as_str()),
            ("SO-1001", "SO-1001-1")
        );
        assert_eq!(event.tracking.number, "SBX-7F3K9Q");
    }

    let body = |i: usize| serde_json::from_slice::<Value>(&requests[i].body).unwrap();
    assert_eq!(body(0)["happened_at"], "2026-11-18T11:06:40Z");
    assert_eq!(body(2)["eta"], "2026-11-18T11:51:40Z");
    assert_eq!(body(3)["eta"], Value::Null);
    assert_eq!(
        body(3)["proof"],
        json!({
            "signature_upload_id": "sig_3kq9",
            "photo_upload_ids": ["photo_71a2", "photo_71a3"],
            "signature_text": "Anna Schmidt",
            "recipient_name": "Anna Schmidt",
            "notes": "Left with the reception desk.",
            "location": {"latitude": 52.5208, "longitude": 13.4094, "source": "driver_at_completion"},
            "completed_at": "2026-11-18T11:46:52Z"
        })
    );
    assert_eq!(
        body(4)["failure"],
        json!({"reason": "NO_ANSWER", "notes": "Rang twice."})
    );
    assert_eq!(body(4)["proof"], Value::Null);
    // The schema is a contract, not a formality: what we never send, it refuses.
    for (field, value) in [
        ("status", json!("cancelled")),
        ("happened_at", json!("yesterday")),
        ("event", json!("shipment.tracking")),
    ] {
        let mut wrong = body(0);
        wrong[field] = value;
        assert!(!schema.is_valid(&wrong), "{field}");
    }
}

#[tokio::test]
async fn a_status_retry_sends_the_same_bytes_under_the_same_event_id() {
    let server = store_answering(200).await;
    let writer = writer_for(
        Some(format!("{}/hooks/tracking", server.uri())),
        reqwest::Client::new(),
    );
    let first = writer.write_status(&key(), &delivered()).await.unwrap();
    let second = writer.write_status(&key(), &delivered()).await.unwrap();
    assert_eq!(
        first, second,
        "the store dedupes on the id; both are Written"
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body);
    for name in [api::EVENT_ID_HEADER, api::SIGNATURE_HEADER] {
        assert_eq!(
            header(&requests[0], name),
            header(&requests[1], name),
            "{name}"
        );
    }
}

#[tokio::test]
async fn statuses_the_store_is_not_told_about_and_stores_without_a_url_get_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let writer = writer_for(
        Some(format!("{}/hooks/tracking", server.uri())),
        reqwest::Client::new(),
    );
    for status in [
        ShipmentStatus::Pending,
        ShipmentStatus::Created,
        ShipmentStatus::NeedsClarification,
        ShipmentStatus::Cancelled,
    ] {
        assert_eq!(
            writer
                .write_status(&key(), &report(status, 0))
                .await
                .unwrap(),
            StatusWriteBack::NotShown,
            "{status}"
        );
    }
    let without_url = writer_for(None, reqwest::Client::new());
    assert_eq!(
        without_url
            .write_status(&key(), &delivered())
            .await
            .unwrap(),
        StatusWriteBack::NotShown
    );
}

#[tokio::test]
async fn the_stores_answers_to_a_status_map_to_retry_decisions() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7"))
        .mount(&server)
        .await;
    let status_to = |server: &MockServer| {
        writer_for(
            Some(format!("{}/hooks/tracking", server.uri())),
            reqwest::Client::new(),
        )
    };
    assert!(matches!(
        status_to(&server).write_status(&key(), &failed()).await,
        Err(PartnerError::Throttled { retry_after: Some(d), .. }) if d == Duration::from_secs(7)
    ));
    for (status, expected) in [
        (500, "unavailable"),
        (503, "unavailable"),
        (401, "config"),
        (422, "rejected"),
    ] {
        let server = store_answering(status).await;
        let got = match status_to(&server).write_status(&key(), &failed()).await {
            Err(PartnerError::Unavailable { .. }) => "unavailable",
            Err(PartnerError::Config { .. }) => "config",
            Err(PartnerError::Rejected { code, .. }) if code == status.to_string() => "rejected",
            other => panic!("{status}: {other:?}"),
        };
        assert_eq!(got, expected, "{status}");
    }

    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&slow)
        .await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let writer = writer_for(Some(format!("{}/hooks/tracking", slow.uri())), impatient);
    assert!(matches!(
        writer.write_status(&key(), &delivered()).await,
        Err(PartnerError::Ambiguous { .. })
    ));
}
