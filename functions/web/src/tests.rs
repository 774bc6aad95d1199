//! The pages through the function's own entry point, on the domain's fakes: a genuine link
//! opens the shipment's page with the headers every page has; any other token, whatever is
//! wrong with it, gets one plain page.

use super::*;
use aws_lambda_events::event::apigw::ApiGatewayV2httpRequestContextHttpDescription;
use domain::{CourierKind, ShipmentKey, ShipmentStatus};
use fakes::sample::{shipment, task, with_task};
use fakes::{FakeSecrets, FakeShipments, FakeStoreRules};
use links::LinkSecret;

/// 2026-12-07 14:30 UTC.
const NOW_MS: i64 = 1_796_653_800_000;
const KEY: &[u8] = b"the deployment's link key, 32 bytes+";

fn now() -> i64 {
    NOW_MS
}

struct World {
    web: Web,
    shipments: Arc<FakeShipments>,
    secrets: Arc<FakeSecrets>,
    key: ShipmentKey,
}

fn world() -> World {
    let shipments = Arc::new(FakeShipments::default());
    let mut record = with_task(
        &shipment("acme", "1001"),
        &task(7),
        ShipmentStatus::OutForDelivery,
    );
    record.courier = Some(CourierKind::Sandbox);
    let key = record.shipment.key.clone();
    shipments.insert(record);
    let secrets = Arc::new(FakeSecrets::default());
    secrets.put(
        links::SECRET_NAME,
        serde_json::to_string(&LinkSecret::first(KEY)).unwrap(),
    );
    World {
        web: Web {
            shipments: shipments.clone(),
            rules: Arc::new(FakeStoreRules::default()),
            secrets: secrets.clone(),
            clock: now,
        },
        shipments,
        secrets,
        key,
    }
}

fn link(key: &ShipmentKey, purpose: Purpose, expires_s: i64) -> String {
    let keys = LinkSecret::first(KEY).keys().unwrap();
    format!("/t/{}", keys.sign(key, purpose, expires_s))
}

fn get(path: &str) -> ApiGatewayV2httpRequest {
    let mut request = ApiGatewayV2httpRequest::default();
    request.raw_path = Some(path.to_owned());
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = http::Method::GET;
    http.path = Some(path.to_owned());
    request.request_context.http = http;
    request
}

fn body(answer: &ApiGatewayV2httpResponse) -> String {
    match &answer.body {
        Some(EventBody::Text(text)) => text.clone(),
        other => panic!("a text body, got {other:?}"),
    }
}

fn header<'a>(answer: &'a ApiGatewayV2httpResponse, name: &str) -> &'a str {
    answer
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_genuine_tracking_link_opens_the_shipments_page_with_the_page_headers() {
    let w = world();
    let answer = w
        .web
        .handle(get(&link(&w.key, Purpose::Track, NOW_MS / 1000 + 3600)))
        .await;
    assert_eq!(answer.status_code, 200);
    let html = body(&answer);
    assert!(html.contains("Your order #1001 from acme"), "{html}");
    assert!(html.contains("On the way to you"));
    assert!(html.contains("TRK0007"));
    assert_eq!(header(&answer, "content-type"), "text/html; charset=utf-8");
    let csp = header(&answer, "content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header(&answer, "x-content-type-options"), "nosniff");
    assert_eq!(header(&answer, "referrer-policy"), "no-referrer");
}

#[tokio::test]
async fn forged_expired_other_purpose_or_unknown_shipment_links_all_get_one_plain_page() {
    let w = world();
    let fresh = NOW_MS / 1000 + 3600;
    let other = ShipmentKey::new(domain::Channel::Shopify, "acme", "9999", "1");
    let stranger = LinkSecret::first(b"somebody else's key, 32 bytes long")
        .keys()
        .unwrap()
        .sign(&w.key, Purpose::Track, fresh);
    let refused = [
        link(&w.key, Purpose::Track, NOW_MS / 1000),
        link(&w.key, Purpose::FixAddress, fresh),
        link(&other, Purpose::Track, fresh),
        format!("/t/{stranger}"),
        "/t/v1.e30.AAAA".to_owned(),
        "/t/%3Cscript%3E".to_owned(),
    ];
    let expected = pages::not_found();
    for path in refused {
        let answer = w.web.handle(get(&path)).await;
        assert_eq!(answer.status_code, 404, "{path}");
        assert_eq!(body(&answer), expected, "{path}");
        assert!(header(&answer, "content-security-policy").contains("default-src 'none'"));
    }
    assert_eq!(w.web.handle(get("/nothing/here")).await.status_code, 404);
}

#[tokio::test]
async fn without_its_keys_the_page_asks_to_come_back_and_says_nothing_of_why() {
    let w = world();
    w.secrets
        .put(links::SECRET_NAME, "{\"current\": \"c2hvcnQ=\"}");
    let answer = w
        .web
        .handle(get(&link(&w.key, Purpose::Track, NOW_MS / 1000 + 60)))
        .await;
    assert_eq!(answer.status_code, 503);
    assert_eq!(header(&answer, "retry-after"), "30");
    assert_eq!(body(&answer), pages::unavailable());
    assert!(w.shipments.record(&w.key).is_some());
}

#[tokio::test]
async fn the_stylesheet_is_served_as_css() {
    let answer = world().web.handle(get("/static/pages.css")).await;
    assert_eq!(answer.status_code, 200);
    assert_eq!(header(&answer, "content-type"), "text/css; charset=utf-8");
    assert_eq!(body(&answer), pages::STYLESHEET);
}

#[tokio::test]
async fn the_page_shows_times_in_the_stores_time_zone() {
    let w = world();
    let mut record = w.shipments.record(&w.key).unwrap();
    record.delivery.eta_ms = Some(NOW_MS);
    w.shipments.insert(record);
    let link = link(&w.key, Purpose::Track, NOW_MS / 1000 + 60);
    assert!(body(&w.web.handle(get(&link)).await).contains("Expected Mon 7 Dec, 14:30 UTC."));

    let config: domain::StoreConfig =
        serde_json::from_value(serde_json::json!({"time_zone": "America/New_York"})).unwrap();
    domain::ports::StoreRules::put(
        w.web.rules.as_ref(),
        domain::Channel::Shopify,
        "acme",
        &config,
    )
    .await
    .unwrap();
    let html = body(&w.web.handle(get(&link)).await);
    assert!(html.contains("Expected Mon 7 Dec, 09:30 EST."), "{html}");
}
