//! The generic API's tracking callback against a fake store (wiremock): what it sends, that
//! the signature verifies with the store's secret, and how the store's answers are read.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use shared::channel::api;
use shared::domain::{Channel, ShipmentKey};
use shared::store::api::{ApiCredentials, ApiWriter, TrackingEvent, NO_CALLBACK, TRACKING_TOPIC};
use shared::store::{StoreError, StoreWriter, Tracking, WriteBack};
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

async fn write(server: &MockServer) -> Result<WriteBack, StoreError> {
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
        Err(StoreError::Throttled { retry_after: Some(d) }) if d == Duration::from_secs(7)
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
            Err(StoreError::Unavailable(_)) => "unavailable",
            Err(StoreError::Config(_)) => "config",
            Err(StoreError::Rejected(_)) => "rejected",
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
        Err(StoreError::Unavailable(e)) => assert!(!e.contains("t0ken"), "{e}"),
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
        Err(StoreError::Ambiguous(_))
    ));
}
