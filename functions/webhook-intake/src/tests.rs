//! webhook-intake's handler against in-memory fakes of its ports: what every kind of
//! request is answered and what is kept, and that each concurrent request's log lines
//! carry its own ids.

use super::*;
use async_trait::async_trait;
use aws::metrics::CaptureSink;
use domain::audit::InboundRecord;
use fakes::World;

const SECRET: &str = "whsec_test";
const ORDER: &[u8] = br#"{"id": 820982911946154508, "financial_status": "paid"}"#;

struct Setup {
    world: World,
    metrics: Arc<CaptureSink>,
    step: WebhookIntake,
}

fn setup() -> Setup {
    fakes::logs::capture();
    let world = World::new();
    for store in ["acme", "beta"] {
        world.secrets.put(
            &format!("shopify/{store}"),
            format!(r#"{{"webhook_secret": "{SECRET}"}}"#),
        );
    }
    world
        .secrets
        .put("courier/sandbox", r#"{"webhook_secret": "whsec_courier"}"#);
    let metrics = Arc::new(CaptureSink::default());
    let step = step_with(&world, world.secrets.clone(), &metrics);
    Setup {
        world,
        metrics,
        step,
    }
}

fn step_with(
    world: &World,
    secrets: Arc<dyn Secrets>,
    metrics: &Arc<CaptureSink>,
) -> WebhookIntake {
    WebhookIntake {
        secrets,
        audit: world.audit.clone(),
        reviews: world.reviews.clone(),
        intake: world.intake_queue.clone(),
        sync: world.sync_queue.clone(),
        metrics: Metrics::with_sink(metrics.clone()),
        max_body_bytes: 1024,
    }
}

/// A request as API Gateway hands it over: `POST /webhooks/{segment}/{store}`.
fn request(
    segment: &str,
    store: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> ApiGatewayV2httpRequest {
    let mut request = ApiGatewayV2httpRequest::default();
    for (name, value) in headers {
        request.headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            http::HeaderValue::from_str(value).expect("a header value"),
        );
    }
    request.path_parameters = [
        ("channel".to_owned(), segment.to_owned()),
        ("store".to_owned(), store.to_owned()),
    ]
    .into();
    request.body = Some(String::from_utf8_lossy(body).into_owned());
    request.request_context.http.method = http::Method::POST;
    request
}

fn shopify(
    store: &str,
    topic: &str,
    webhook_id: &str,
    body: &[u8],
    secret: &str,
) -> ApiGatewayV2httpRequest {
    let signature = channels::signature::sign_base64_hmac_sha256(secret.as_bytes(), body);
    request(
        "shopify",
        store,
        &[
            ("x-shopify-topic", topic.to_owned()),
            ("x-shopify-webhook-id", webhook_id.to_owned()),
            ("x-shopify-hmac-sha256", signature),
        ],
        body,
    )
}

/// The answer's status and its JSON body.
fn answer(response: &ApiGatewayV2httpResponse) -> (i64, serde_json::Value) {
    let body = match &response.body {
        Some(Body::Text(text)) => serde_json::from_str(text).unwrap_or(serde_json::Value::Null),
        _ => serde_json::Value::Null,
    };
    (response.status_code, body)
}

#[tokio::test]
async fn a_signed_order_is_kept_once_and_queued_for_normalize() {
    let s = setup();
    let response = s
        .step
        .handle(shopify("acme", "orders/paid", "w1", ORDER, SECRET))
        .await;
    assert_eq!(
        answer(&response),
        (
            200,
            serde_json::json!({"status": "accepted", "inbound_id": "shopify:acme:w1"})
        )
    );
    let record = s.world.audit.record("shopify:acme:w1").expect("kept");
    assert_eq!(record.body, ORDER, "the exact bytes");
    assert_eq!(record.state, InboundState::Enqueued);
    assert_eq!(
        s.world.intake_queue.sent(),
        [InboundReceived {
            inbound_id: "shopify:acme:w1".into(),
            channel: "shopify".into(),
            store: "acme".into(),
            topic: "orders/paid".into(),
        }]
    );
}

#[tokio::test]
async fn a_redelivery_is_answered_as_a_duplicate_counted_and_not_queued_again() {
    let s = setup();
    for _ in 0..3 {
        s.step
            .handle(shopify("acme", "orders/paid", "w1", ORDER, SECRET))
            .await;
    }
    let again = s
        .step
        .handle(shopify("acme", "orders/paid", "w1", ORDER, SECRET))
        .await;
    assert_eq!(answer(&again).1["status"], "duplicate");
    assert_eq!(s.world.intake_queue.sent().len(), 1);
    assert_eq!(
        s.world.audit.record("shopify:acme:w1").unwrap().duplicates,
        3
    );
    let counted = s
        .metrics
        .documents()
        .iter()
        .filter(|d| d["DuplicateCreationAttempts"] == 1.0)
        .count();
    assert_eq!(counted, 3);
}

#[tokio::test]
async fn a_payload_kept_but_never_queued_is_queued_by_its_redelivery() {
    let s = setup();
    // The first delivery stored it a minute ago and died before queueing.
    s.world.audit.insert(
        InboundRecord {
            id: "shopify:acme:w9".into(),
            channel: "shopify".into(),
            store: "acme".into(),
            topic: "orders/paid".into(),
            webhook_id: "w9".into(),
            received_at: domain::clock::rfc3339_now(),
            triggered_at: None,
            signature: "valid".into(),
            state: InboundState::Received,
            duplicates: 0,
            body: ORDER.to_vec(),
            order_key: None,
            shipment_key: None,
            outcome: None,
            task_id: None,
            task_created_at: None,
            review_id: None,
        },
        60_000,
    );
    let response = s
        .step
        .handle(shopify("acme", "orders/paid", "w9", ORDER, SECRET))
        .await;
    assert_eq!(answer(&response).1["status"], "accepted");
    assert_eq!(s.world.intake_queue.sent().len(), 1);
}

#[tokio::test]
async fn a_wrong_signature_an_unknown_store_and_an_oversized_body_are_refused_and_recorded() {
    let s = setup();
    let forged = s
        .step
        .handle(shopify(
            "acme",
            "orders/paid",
            "w1",
            ORDER,
            "not-the-secret",
        ))
        .await;
    assert_eq!(answer(&forged).0, 401);
    let unknown = s
        .step
        .handle(shopify("nobody", "orders/paid", "w1", ORDER, SECRET))
        .await;
    assert_eq!(
        answer(&unknown),
        (404, serde_json::json!({"error": "unknown_store"}))
    );
    let big = vec![b' '; 2048];
    let oversized = s
        .step
        .handle(shopify("acme", "orders/paid", "w2", &big, SECRET))
        .await;
    assert_eq!(answer(&oversized).0, 413);
    assert_eq!(
        s.world.audit.rejections(),
        ["invalid_signature", "unknown_store", "body_too_large"]
    );
    assert!(
        s.world.audit.records().is_empty(),
        "nothing untrusted is kept"
    );
    assert!(s.world.intake_queue.sent().is_empty());
}

#[tokio::test]
async fn topics_not_acted_on_are_kept_and_signed_non_json_goes_to_review() {
    let s = setup();
    let ignored = s
        .step
        .handle(shopify("acme", "customers/create", "w1", ORDER, SECRET))
        .await;
    assert_eq!(answer(&ignored).1["status"], "ignored");
    assert_eq!(
        s.world.audit.record("shopify:acme:w1").unwrap().state,
        InboundState::Ignored
    );
    let garbled = s
        .step
        .handle(shopify("acme", "orders/paid", "w2", b"{not json", SECRET))
        .await;
    assert_eq!(answer(&garbled).1["status"], "needs_review");
    let items = s.world.reviews.open_items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].reasons[0].code(), "unparseable_payload");
    assert!(s.world.intake_queue.sent().is_empty());
}

#[tokio::test]
async fn a_woocommerce_activation_ping_is_answered_without_trusting_anything() {
    let s = setup();
    s.world.secrets.put(
        "woocommerce/shop",
        r#"{"webhook_secret": "wc_secret", "site_url": "https://shop.example", "consumer_key": "ck", "consumer_secret": "cs"}"#,
    );
    let ping = s
        .step
        .handle(request("woocommerce", "shop", &[], b"webhook_id=12"))
        .await;
    assert_eq!(answer(&ping), (200, serde_json::json!({"status": "ping"})));
    assert!(s.world.audit.records().is_empty());
}

#[tokio::test]
async fn a_courier_event_goes_to_status_sync_and_onfleets_url_check_is_echoed() {
    let s = setup();
    let body = br#"{"type": "task.status_changed", "task_id": "tsk_1"}"#;
    let signature = channels::signature::sign_hex_hmac_sha256(b"whsec_courier", body);
    let response = s
        .step
        .handle(request(
            "courier",
            "sandbox",
            &[
                ("x-sandbox-signature", signature),
                ("x-sandbox-event-id", "evt_1".into()),
            ],
            body,
        ))
        .await;
    assert_eq!(answer(&response).1["status"], "accepted");
    assert_eq!(
        s.world.sync_queue.sent(),
        [SyncEvent::CourierReported {
            inbound_id: "courier:sandbox:evt_1".into(),
            courier: domain::CourierKind::Sandbox,
        }]
    );
    assert!(s.world.intake_queue.sent().is_empty());

    let mut check = request("courier", "onfleet", &[], b"");
    check.request_context.http.method = http::Method::GET;
    check.query_string_parameters =
        std::collections::HashMap::from([("check".to_owned(), "abc123".to_owned())]).into();
    let echoed = s.step.handle(check).await;
    assert_eq!(echoed.status_code, 200);
    assert!(
        matches!(&echoed.body, Some(Body::Text(t)) if t == "abc123"),
        "{:?}",
        echoed.body
    );
}

#[tokio::test]
async fn aws_unavailable_asks_the_channel_to_retry() {
    let s = setup();
    s.world
        .audit
        .faults
        .inject("receive", fakes::unavailable("PutItem"));
    let response = s
        .step
        .handle(shopify("acme", "orders/paid", "w1", ORDER, SECRET))
        .await;
    assert_eq!(answer(&response).0, 503);
    let retried = s
        .step
        .handle(shopify("acme", "orders/paid", "w1", ORDER, SECRET))
        .await;
    assert_eq!(answer(&retried).1["status"], "accepted");
    assert_eq!(s.world.intake_queue.sent().len(), 1);
}

/// Secrets that hand control back to the executor before answering, as a real network
/// call does: concurrent requests interleave at every lookup.
struct YieldingSecrets(Arc<fakes::FakeSecrets>);

#[async_trait]
impl Secrets for YieldingSecrets {
    async fn text(&self, name: &str) -> Result<Arc<String>, SecretError> {
        tokio::task::yield_now().await;
        self.0.text(name).await
    }

    fn full_name(&self, name: &str) -> String {
        self.0.full_name(name)
    }
}

#[test]
fn each_concurrent_requests_log_lines_carry_its_own_store() {
    let s = setup();
    let step = step_with(
        &s.world,
        Arc::new(YieldingSecrets(s.world.secrets.clone())),
        &s.metrics,
    );
    fakes::logs::capture();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        // Both in flight at once on this thread: each yields inside its span.
        futures::join!(
            step.handle(shopify("acme", "orders/paid", "wa", ORDER, SECRET)),
            step.handle(shopify("beta", "orders/paid", "wb", ORDER, SECRET)),
        );
    });
    let lines = fakes::logs::lines();
    let mut checked = 0;
    for event in &lines {
        let Some(webhook_id) = event["fields"]["webhook_id"].as_str() else {
            continue;
        };
        let store = event["span"]["store"].as_str().unwrap_or("(no span)");
        let expected = if webhook_id == "wa" { "acme" } else { "beta" };
        assert_eq!(store, expected, "{event}");
        assert_eq!(
            event["spans"].as_array().map(Vec::len),
            Some(1),
            "only its own span is open: {event}"
        );
        checked += 1;
    }
    assert_eq!(
        checked, 2,
        "each request logged its signed webhook: {lines:?}"
    );
}

#[tokio::test]
async fn during_a_rotation_the_previous_secret_is_accepted_and_recorded_until_its_time() {
    let s = setup();
    let rfc3339 = |offset_s: i64| {
        (time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_s))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    // acme rotated an hour ago and keeps the old secret for another hour; beta's grace
    // period is over.
    s.world.secrets.put(
        "shopify/acme",
        serde_json::json!({
            "webhook_secret": "whsec_new", "previous_webhook_secret": SECRET,
            "previous_valid_until": rfc3339(3600)
        })
        .to_string(),
    );
    s.world.secrets.put(
        "shopify/beta",
        serde_json::json!({
            "webhook_secret": "whsec_new", "previous_webhook_secret": SECRET,
            "previous_valid_until": rfc3339(-1)
        })
        .to_string(),
    );
    let old = s
        .step
        .handle(shopify("acme", "orders/paid", "w-old", ORDER, SECRET))
        .await;
    assert_eq!(answer(&old).0, 200);
    let new = s
        .step
        .handle(shopify("acme", "orders/paid", "w-new", ORDER, "whsec_new"))
        .await;
    assert_eq!(answer(&new).0, 200);
    let record = |id: &str| s.world.audit.record(id).expect("kept");
    assert_eq!(
        record("shopify:acme:w-old").signature,
        "valid (previous secret)"
    );
    assert_eq!(record("shopify:acme:w-new").signature, "valid");

    let late = s
        .step
        .handle(shopify("beta", "orders/paid", "w-late", ORDER, SECRET))
        .await;
    assert_eq!(answer(&late).0, 401, "the grace period is over");
    assert!(s.world.audit.record("shopify:beta:w-late").is_none());
    let current = s
        .step
        .handle(shopify("beta", "orders/paid", "w-cur", ORDER, "whsec_new"))
        .await;
    assert_eq!(answer(&current).0, 200);
    assert_eq!(s.world.intake_queue.sent().len(), 3);
}

#[tokio::test]
async fn a_rotation_time_that_is_no_time_is_a_misconfigured_store_and_nothing_is_kept() {
    let s = setup();
    s.world.secrets.put(
        "shopify/acme",
        r#"{"webhook_secret": "whsec_new", "previous_webhook_secret": "x", "previous_valid_until": "soon"}"#,
    );
    let response = s
        .step
        .handle(shopify("acme", "orders/paid", "w1", ORDER, "whsec_new"))
        .await;
    assert_eq!(answer(&response).0, 500);
    assert!(s.world.audit.record("shopify:acme:w1").is_none());
    assert!(s.world.intake_queue.sent().is_empty());
}

/// A cache that still holds a store's secret from before its rotation: `text` answers the
/// old JSON, `fresh_text` what the store holds now.
struct CachedBeforeRotation {
    cached: String,
    now: String,
}

#[async_trait]
impl Secrets for CachedBeforeRotation {
    async fn text(&self, _: &str) -> Result<Arc<String>, SecretError> {
        Ok(Arc::new(self.cached.clone()))
    }

    async fn fresh_text(&self, _: &str) -> Result<Arc<String>, SecretError> {
        Ok(Arc::new(self.now.clone()))
    }

    fn full_name(&self, name: &str) -> String {
        name.to_owned()
    }
}

#[tokio::test]
async fn a_store_already_on_its_new_secret_is_not_refused_by_a_cache_from_before_the_rotation() {
    let s = setup();
    let secrets = Arc::new(CachedBeforeRotation {
        cached: format!(r#"{{"webhook_secret": "{SECRET}"}}"#),
        now: r#"{"webhook_secret": "whsec_new"}"#.into(),
    });
    let step = step_with(&s.world, secrets, &s.metrics);
    let response = step
        .handle(shopify(
            "acme",
            "orders/paid",
            "w-rotated",
            ORDER,
            "whsec_new",
        ))
        .await;
    assert_eq!(answer(&response).0, 200);
    assert_eq!(
        s.world
            .audit
            .record("shopify:acme:w-rotated")
            .unwrap()
            .signature,
        "valid"
    );
    // A forgery is refused either way.
    let forged = step
        .handle(shopify(
            "acme",
            "orders/paid",
            "w-forged",
            ORDER,
            "whsec_other",
        ))
        .await;
    assert_eq!(answer(&forged).0, 401);
}

const API_SECRET: &str = "cb_test_signing_secret";
const API_EVENT: &[u8] = include_bytes!("../../../docs/api/examples/order.cancelled.json");

/// A generic-API store's event, signed as docs/api/README.md says.
fn api_event(method: http::Method, event_id: &str, body: &[u8]) -> ApiGatewayV2httpRequest {
    let mut request = request(
        "api",
        "shop",
        &[
            ("x-courier-bridge-topic", "order.cancelled".to_owned()),
            ("x-courier-bridge-event-id", event_id.to_owned()),
            (
                "x-courier-bridge-signature",
                channels::api::sign(API_SECRET.as_bytes(), body),
            ),
        ],
        body,
    );
    request.request_context.http.method = method;
    request
}

fn api_setup() -> Setup {
    let s = setup();
    s.world.secrets.put(
        "api/shop",
        format!(r#"{{"signing_secret": "{API_SECRET}"}}"#),
    );
    s
}

/// Found by schemathesis (tests/tests/e2e/schemathesis.rs): a GET to a store's URL was
/// answered 405 without the `Allow` header RFC 9110 requires; and any method but GET was
/// read as a delivery.
#[tokio::test]
async fn a_method_other_than_post_is_refused_with_allow_and_never_read_as_a_delivery() {
    let s = api_setup();
    let allow = |r: &ApiGatewayV2httpResponse| {
        r.headers
            .get(http::header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    for method in [
        http::Method::GET,
        http::Method::HEAD,
        http::Method::PUT,
        http::Method::DELETE,
        http::Method::PATCH,
        http::Method::OPTIONS,
    ] {
        // Signed, with every header: only the method is wrong.
        let response = s
            .step
            .handle(api_event(method.clone(), "evt-1", API_EVENT))
            .await;
        assert_eq!(
            answer(&response),
            (405, serde_json::json!({"error": "method_not_allowed"})),
            "{method}"
        );
        assert_eq!(allow(&response).as_deref(), Some("POST"), "{method}");
    }
    assert!(s.world.audit.records().is_empty(), "nothing kept");
    assert!(s.world.audit.rejections().is_empty());
    assert!(s.world.intake_queue.sent().is_empty());

    // Onfleet checks its URL with GET, so that URL answers both.
    let mut put = request("courier", "onfleet", &[], b"");
    put.request_context.http.method = http::Method::PUT;
    let response = s.step.handle(put).await;
    assert_eq!(answer(&response).0, 405);
    assert_eq!(allow(&response).as_deref(), Some("GET, POST"));

    // The same event, POSTed, is a delivery.
    let posted = s
        .step
        .handle(api_event(http::Method::POST, "evt-1", API_EVENT))
        .await;
    assert_eq!(answer(&posted).1["status"], "accepted");
    assert_eq!(s.world.intake_queue.sent().len(), 1);
}

/// docs/api/openapi.yaml publishes `X-Courier-Bridge-Event-Id` as 1-128 visible ASCII
/// characters: a longer one is refused (400), as a space in it is, not kept as a key.
#[tokio::test]
async fn the_generic_apis_event_id_is_held_to_its_documented_128_characters() {
    let s = api_setup();
    let longest = "e".repeat(128);
    let accepted = s
        .step
        .handle(api_event(http::Method::POST, &longest, API_EVENT))
        .await;
    assert_eq!(answer(&accepted).1["status"], "accepted");
    for refused in ["e".repeat(129), "has space".to_owned()] {
        let response = s
            .step
            .handle(api_event(http::Method::POST, &refused, API_EVENT))
            .await;
        assert_eq!(
            answer(&response),
            (400, serde_json::json!({"error": "bad_delivery_id"})),
            "{refused}"
        );
    }
    assert_eq!(
        s.world.audit.rejections(),
        ["bad_delivery_id", "bad_delivery_id"]
    );
    assert_eq!(s.world.intake_queue.sent().len(), 1);
    // Other senders' ids keep their own bound (Shopify's are UUIDs; 256 bytes at most).
    let shopify = s
        .step
        .handle(shopify(
            "acme",
            "orders/paid",
            &"w".repeat(200),
            ORDER,
            SECRET,
        ))
        .await;
    assert_eq!(answer(&shopify).1["status"], "accepted");
}
