//! The pages through the function's own entry point, on the domain's fakes: a genuine link
//! opens the shipment's page with the headers every page has; any other token, whatever is
//! wrong with it, gets one plain page; a customer's address fix goes through the review desk
//! and asks for the task once.

use super::*;
use aws_lambda_events::encodings::Body as EventBody;
use aws_lambda_events::event::apigw::ApiGatewayV2httpRequestContextHttpDescription;
use domain::messages::{TaskAction, TaskRequested};
use domain::review::{review_id, RELEASED};
use domain::{CourierKind, ShipmentKey, ShipmentStatus};
use domain::{ReviewItem, ReviewReason, ShipmentDraft};
use fakes::sample::{shipment, task, with_task};
use fakes::{FakeQueue, FakeReviews, FakeSecrets, FakeShipments, FakeStoreRules};
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
    reviews: Arc<FakeReviews>,
    tasks: Arc<FakeQueue<TaskRequested>>,
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
    let reviews = Arc::new(FakeReviews::default());
    let tasks = Arc::new(FakeQueue::default());
    World {
        web: Web {
            shipments: shipments.clone(),
            rules: Arc::new(FakeStoreRules::default()),
            reviews: reviews.clone(),
            tasks: tasks.clone(),
            secrets: secrets.clone(),
            clock: now,
        },
        shipments,
        reviews,
        tasks,
        secrets,
        key,
    }
}

/// A link as the messages carry it: under its page's path.
fn link(key: &ShipmentKey, purpose: Purpose, expires_s: i64) -> String {
    let keys = LinkSecret::first(KEY).keys().unwrap();
    format!("/{}/{}", purpose.path(), keys.sign(key, purpose, expires_s))
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
        // A fix-address token on the tracking page's path.
        link(&w.key, Purpose::FixAddress, fresh).replacen("/a/", "/t/", 1),
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

async fn store_rules(w: &World, rules: serde_json::Value) {
    let config: domain::StoreConfig = serde_json::from_value(rules).unwrap();
    domain::ports::StoreRules::put(
        w.web.rules.as_ref(),
        domain::Channel::Shopify,
        "acme",
        &config,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_store_with_a_locale_gets_its_tracking_page_in_that_language() {
    let w = world();
    let mut record = w.shipments.record(&w.key).unwrap();
    record.delivery.eta_ms = Some(NOW_MS);
    w.shipments.insert(record);
    let link = link(&w.key, Purpose::Track, NOW_MS / 1000 + 60);
    let english = body(&w.web.handle(get(&link)).await);
    assert!(english.contains(r#"<html lang="en">"#), "{english}");

    store_rules(
        &w,
        serde_json::json!({"locale": "de", "time_zone": "Europe/Berlin"}),
    )
    .await;
    let answer = w.web.handle(get(&link)).await;
    assert_eq!(answer.status_code, 200);
    let html = body(&answer);
    assert!(html.contains(r#"<html lang="de">"#), "{html}");
    assert!(html.contains("Ihre Bestellung #1001 bei acme"), "{html}");
    assert!(html.contains("Auf dem Weg zu Ihnen"), "{html}");
    assert!(
        html.contains("Voraussichtlich Mo. 7. Dez., 15:30 CET."),
        "{html}"
    );
    assert!(
        html.contains("<dt>Lieferdienst</dt><dd>courier-bridge Sandbox Courier</dd>"),
        "{html}"
    );
    assert!(!html.contains("On the way to you"), "{html}");
}

// ---------------------------------------------------------------------------------------
// Fix my address
// ---------------------------------------------------------------------------------------

fn post(path: &str, form: &str) -> ApiGatewayV2httpRequest {
    let mut request = get(path);
    request.request_context.http.method = http::Method::POST;
    request.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    request.body = Some(form.to_owned());
    request
}

/// A shipment the courier could not place, pending with no task, and the review item
/// create-task opened asking the customer (`domain::pipeline::ask_to_clarify`).
async fn unplaceable() -> (World, ShipmentKey) {
    let w = world();
    let mut shipment = shipment("acme", "2002");
    shipment.address.street = "Mian Stret".into();
    shipment.address.house = Some("12".into());
    let record = fakes::sample::pending(&shipment, NOW_MS - 60_000, "inbound:2002");
    let key = record.shipment.key.clone();
    w.shipments.insert(record.clone());
    let mut item = ReviewItem::new(
        &key.to_string(),
        "shipment",
        vec![ReviewReason::AddressNotFound {
            message: "no such street".into(),
        }],
    );
    item.shipment_key = Some(key.to_string());
    item.source_inbound = Some(record.source_inbound.clone());
    item.draft = Some(ShipmentDraft::from(&record.shipment));
    item.event_ms = Some(record.source_event_ms);
    domain::ports::ReviewInbox::open(w.reviews.as_ref(), &item)
        .await
        .unwrap();
    (w, key)
}

fn fix_link(key: &ShipmentKey) -> String {
    link(key, Purpose::FixAddress, NOW_MS / 1000 + 3600)
}

const GOOD: &str = "street=Main+Street&house=12&apartment=&postal_code=10115&city=Berlin";

#[tokio::test]
async fn a_fix_address_link_opens_the_form_filled_with_the_address_the_courier_could_not_place() {
    let (w, key) = unplaceable().await;
    let answer = w.web.handle(get(&fix_link(&key))).await;
    assert_eq!(answer.status_code, 200);
    let html = body(&answer);
    assert!(html.contains("Check your delivery address"), "{html}");
    assert!(
        html.contains(r#"name="street" type="text" value="Mian Stret""#),
        "{html}"
    );
    assert!(
        html.contains(r#"name="house" type="text" value="12""#),
        "{html}"
    );
    assert!(
        html.contains(r#"name="postal_code" type="text" value="10119""#),
        "{html}"
    );
    assert!(html.contains("Country: DE"), "{html}");
    assert!(header(&answer, "content-security-policy").contains("form-action 'self'"));
    // Its link opens only this page: not the tracking page, and a tracking link not this one.
    let token = fix_link(&key).replacen("/a/", "/t/", 1);
    assert_eq!(w.web.handle(get(&token)).await.status_code, 404);
    let tracking = link(&key, Purpose::Track, NOW_MS / 1000 + 3600).replacen("/t/", "/a/", 1);
    assert_eq!(w.web.handle(get(&tracking)).await.status_code, 404);
    assert_eq!(w.web.handle(post(&tracking, GOOD)).await.status_code, 404);
    assert!(w.tasks.sent().is_empty());
}

#[tokio::test]
async fn a_valid_fix_asks_for_the_task_once_and_closes_the_item_as_fixed_by_the_customer() {
    let (w, key) = unplaceable().await;
    let path = fix_link(&key);
    let answer = w.web.handle(post(&path, GOOD)).await;
    assert_eq!(answer.status_code, 303, "{}", body(&answer));
    assert_eq!(header(&answer, "location"), path);

    let item = w.reviews.items().pop().unwrap();
    assert_eq!(item.status, RELEASED);
    let resolution = item.resolution.unwrap();
    assert!(
        resolution.starts_with("fixed by the customer: "),
        "{resolution}"
    );
    let record = w.shipments.record(&key).unwrap();
    assert_eq!(record.shipment.address.street, "Main Street");
    assert_eq!(
        record.shipment.address.postal_code.as_deref(),
        Some("10115")
    );
    assert_eq!(
        w.tasks.sent(),
        vec![TaskRequested::new(key.clone(), TaskAction::Create)]
    );

    // The page now says where the order goes; the same form again (a second tab, a
    // double tap) asks for nothing more.
    let html = body(&w.web.handle(get(&path)).await);
    assert!(html.contains("Thank you"), "{html}");
    assert!(html.contains("Main Street 12, 10115 Berlin, DE"), "{html}");
    let again = w.web.handle(post(&path, GOOD)).await;
    assert_eq!(again.status_code, 303);
    assert_eq!(w.tasks.sent().len(), 1);
}

#[tokio::test]
async fn an_invalid_fix_says_what_is_wrong_in_words_and_sends_nothing_on() {
    let (w, key) = unplaceable().await;
    let path = fix_link(&key);
    let answer = w
        .web
        .handle(post(&path, "street=&house=12&postal_code=1011&city=Berlin"))
        .await;
    assert_eq!(answer.status_code, 422);
    let html = body(&answer);
    assert!(html.contains("Please enter the street."), "{html}");
    assert!(
        html.contains("\u{201c}1011\u{201d} is not a postcode in DE."),
        "{html}"
    );
    // What the customer typed stays in the form.
    assert!(
        html.contains(r#"name="postal_code" type="text" value="1011""#),
        "{html}"
    );
    assert!(w.tasks.sent().is_empty());
    assert_eq!(w.reviews.open_items().len(), 1);
    assert_eq!(
        w.shipments.record(&key).unwrap().shipment.address.street,
        "Mian Stret"
    );
}

#[tokio::test]
async fn a_customers_fix_is_held_to_the_limits_and_loses_its_bidi_controls() {
    let (w, key) = unplaceable().await;
    let path = fix_link(&key);
    // A street no courier should be sent, and a town with a right-to-left override
    // (U+202E, percent-encoded as a form sends it).
    let long_street = "S".repeat(300);
    let answer = w
        .web
        .handle(post(
            &path,
            &format!("street={long_street}&house=12&postal_code=10115&city=%E2%80%AEBerlin"),
        ))
        .await;
    assert_eq!(answer.status_code, 422);
    let html = body(&answer);
    assert!(
        html.contains("Please shorten \u{201c}Street\u{201d} to at most 250 characters."),
        "{html}"
    );
    let item = w.reviews.open_items().pop().unwrap();
    let address = item.draft.unwrap().address.unwrap();
    assert_eq!(
        address.street.as_deref(),
        Some(long_street.as_str()),
        "never cut"
    );
    assert_eq!(address.city.as_deref(), Some("Berlin"));
    assert!(w.tasks.sent().is_empty());

    let answer = w
        .web
        .handle(post(
            &path,
            "street=Main+Street&house=12&postal_code=10115&city=%E2%80%AEBerlin",
        ))
        .await;
    assert_eq!(answer.status_code, 303, "{}", body(&answer));
    let record = w.shipments.record(&key).unwrap();
    assert_eq!(record.shipment.address.city, "Berlin");
    assert_eq!(w.tasks.sent().len(), 1);
}

#[tokio::test]
async fn the_same_address_again_is_sent_back_to_the_customer_not_to_the_courier() {
    let (w, key) = unplaceable().await;
    let same = "street=Mian+Stret&house=12&apartment=&postal_code=10119&city=Berlin";
    let answer = w.web.handle(post(&fix_link(&key), same)).await;
    assert_eq!(answer.status_code, 422);
    assert!(body(&answer).contains("This is the address the courier could not find."));
    assert!(w.tasks.sent().is_empty());
    assert_eq!(w.reviews.open_items().len(), 1);
}

#[tokio::test]
async fn a_store_typed_name_with_markup_is_shown_as_text_on_the_form() {
    let (w, key) = unplaceable().await;
    let config: domain::StoreConfig = serde_json::from_value(serde_json::json!({
        "notifications": {"sender_name": "<script>alert(1)</script> Shop"}
    }))
    .unwrap();
    domain::ports::StoreRules::put(
        w.web.rules.as_ref(),
        domain::Channel::Shopify,
        "acme",
        &config,
    )
    .await
    .unwrap();
    let html = body(&w.web.handle(get(&fix_link(&key))).await);
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; Shop"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
}

#[tokio::test]
async fn an_item_the_store_settled_leaves_the_customer_nothing_to_do() {
    let (w, key) = unplaceable().await;
    domain::ports::ReviewInbox::close(
        w.reviews.as_ref(),
        &review_id(&key.to_string()),
        "dismissed",
        "dismissed by ana: called the customer",
    )
    .await
    .unwrap();
    let html = body(&w.web.handle(get(&fix_link(&key))).await);
    assert!(html.contains("Nothing to change"), "{html}");
    assert!(!html.contains("<form"), "{html}");
    let answer = w.web.handle(post(&fix_link(&key), GOOD)).await;
    assert_eq!(answer.status_code, 303);
    assert!(w.tasks.sent().is_empty());
}

// ---------------------------------------------------------------------------------------
// Reschedule
// ---------------------------------------------------------------------------------------

/// Tuesday 8 December 2026, 09:00–12:00 in Berlin (08:00 UTC).
const TUESDAY_MORNING_MS: i64 = 1_796_716_800_000;

async fn offers_slots(w: &World) {
    let config: domain::StoreConfig = serde_json::from_value(serde_json::json!({
        "time_zone": "Europe/Berlin",
        "delivery_slots": {"windows": ["09:00-12:00", "14:00-18:00"], "days_ahead": 2}
    }))
    .unwrap();
    domain::ports::StoreRules::put(
        w.web.rules.as_ref(),
        domain::Channel::Shopify,
        "acme",
        &config,
    )
    .await
    .unwrap();
}

fn in_status(w: &World, status: ShipmentStatus) {
    let mut record = w.shipments.record(&w.key).unwrap();
    record.status = status;
    w.shipments.insert(record);
}

fn reschedule_link(key: &ShipmentKey) -> String {
    link(key, Purpose::Reschedule, NOW_MS / 1000 + 3600)
}

#[tokio::test]
async fn the_reschedule_page_offers_the_stores_slots_on_its_clock() {
    let w = world();
    offers_slots(&w).await;
    in_status(&w, ShipmentStatus::Assigned);
    let answer = w.web.handle(get(&reschedule_link(&w.key))).await;
    assert_eq!(answer.status_code, 200);
    let html = body(&answer);
    // From tomorrow, two days, two windows each, in Berlin's time.
    assert_eq!(html.matches(r#"type="radio""#).count(), 4, "{html}");
    assert!(
        html.contains(&format!(r#"value="{TUESDAY_MORNING_MS}""#)),
        "{html}"
    );
    assert!(html.contains("Tue 8 Dec, 09:00–12:00 CET"), "{html}");
    assert!(html.contains("Wed 9 Dec, 14:00–18:00 CET"), "{html}");
    // The tracking page links to it while the time can change.
    let track = body(
        &w.web
            .handle(get(&link(&w.key, Purpose::Track, NOW_MS / 1000 + 60)))
            .await,
    );
    assert!(track.contains("Choose another delivery time"), "{track}");
}

#[tokio::test]
async fn a_chosen_slot_becomes_the_shipments_window_and_the_task_update_is_asked_once() {
    let w = world();
    offers_slots(&w).await;
    in_status(&w, ShipmentStatus::Assigned);
    let path = reschedule_link(&w.key);
    let answer = w
        .web
        .handle(post(&path, &format!("slot={TUESDAY_MORNING_MS}")))
        .await;
    assert_eq!(answer.status_code, 303, "{}", body(&answer));
    assert_eq!(header(&answer, "location"), format!("{path}?done=1"));
    let record = w.shipments.record(&w.key).unwrap();
    let window = record.shipment.window.expect("the new window");
    assert_eq!(window.start.unix_timestamp() * 1000, TUESDAY_MORNING_MS);
    assert_eq!(
        window.end.unix_timestamp() * 1000,
        TUESDAY_MORNING_MS + 3 * 3_600_000
    );
    assert_eq!(
        w.tasks.sent(),
        vec![TaskRequested::new(w.key.clone(), TaskAction::Update)]
    );
    let html = body(&w.web.handle(get(&format!("{path}?done=1"))).await);
    assert!(
        html.contains("Done: your delivery is now planned for Tue 8 Dec, 09:00–12:00 CET."),
        "{html}"
    );
    // The same choice again (a reload of the form, a second tab) changes nothing.
    let again = w
        .web
        .handle(post(&path, &format!("slot={TUESDAY_MORNING_MS}")))
        .await;
    assert_eq!(again.status_code, 303);
    assert_eq!(
        w.shipments.record(&w.key).unwrap().shipment.window,
        Some(window)
    );
}

#[tokio::test]
async fn a_slot_the_store_does_not_offer_is_refused_and_nothing_changes() {
    let w = world();
    offers_slots(&w).await;
    in_status(&w, ShipmentStatus::Created);
    // Today (not offered), an hour off a window, and garbage.
    for slot in [
        NOW_MS.to_string(),
        (TUESDAY_MORNING_MS + 3_600_000).to_string(),
        "soon".into(),
    ] {
        let answer = w
            .web
            .handle(post(&reschedule_link(&w.key), &format!("slot={slot}")))
            .await;
        assert_eq!(answer.status_code, 422, "{slot}");
        assert!(body(&answer).contains("That time is not offered"));
    }
    assert!(w
        .shipments
        .record(&w.key)
        .unwrap()
        .shipment
        .window
        .is_none());
    assert!(w.tasks.sent().is_empty());
}

#[tokio::test]
async fn with_the_driver_delivered_or_cancelled_the_page_says_why_nothing_changes() {
    for (status, words) in [
        (
            ShipmentStatus::PickedUp,
            "The driver already has your order",
        ),
        (
            ShipmentStatus::OutForDelivery,
            "The driver already has your order",
        ),
        (ShipmentStatus::Delivered, "has been delivered"),
        (ShipmentStatus::Cancelled, "is no longer on its way to you"),
    ] {
        let w = world();
        offers_slots(&w).await;
        in_status(&w, status);
        let path = reschedule_link(&w.key);
        let html = body(&w.web.handle(get(&path)).await);
        assert!(html.contains(words), "{status}: {html}");
        assert!(!html.contains("<form"), "{status}");
        let answer = w
            .web
            .handle(post(&path, &format!("slot={TUESDAY_MORNING_MS}")))
            .await;
        assert_eq!(answer.status_code, 409, "{status}");
        assert!(body(&answer).contains(words));
        assert!(w
            .shipments
            .record(&w.key)
            .unwrap()
            .shipment
            .window
            .is_none());
        assert!(w.tasks.sent().is_empty());
        let track = body(
            &w.web
                .handle(get(&link(&w.key, Purpose::Track, NOW_MS / 1000 + 60)))
                .await,
        );
        assert!(!track.contains("Choose another delivery time"), "{status}");
    }
}

#[tokio::test]
async fn after_a_failed_attempt_the_choice_goes_to_a_dispatcher_as_a_redelivery_item() {
    let w = world();
    offers_slots(&w).await;
    in_status(&w, ShipmentStatus::Failed);
    let path = reschedule_link(&w.key);
    let html = body(&w.web.handle(get(&path)).await);
    assert!(html.contains("We could not deliver your order"), "{html}");
    let answer = w
        .web
        .handle(post(&path, &format!("slot={TUESDAY_MORNING_MS}")))
        .await;
    assert_eq!(answer.status_code, 303);
    let items = w.reviews.open_items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id, format!("review:{}/redelivery", w.key));
    assert_eq!(
        items[0].reasons,
        vec![ReviewReason::RedeliveryRequested {
            slot: "Tue 8 Dec, 09:00–12:00 CET".into()
        }]
    );
    assert!(w.tasks.sent().is_empty(), "the failed task is not updated");
    let html = body(&w.web.handle(get(&path)).await);
    assert!(
        html.contains("has your choice and arranges the new delivery"),
        "{html}"
    );
}

#[tokio::test]
async fn a_french_stores_customer_chooses_in_french_and_the_dispatcher_reads_english() {
    let w = world();
    store_rules(
        &w,
        serde_json::json!({
            "locale": "fr-FR",
            "time_zone": "Europe/Berlin",
            "delivery_slots": {"windows": ["09:00-12:00", "14:00-18:00"], "days_ahead": 2}
        }),
    )
    .await;
    in_status(&w, ShipmentStatus::Failed);
    let path = reschedule_link(&w.key);
    let html = body(&w.web.handle(get(&path)).await);
    assert!(html.contains(r#"<html lang="fr">"#), "{html}");
    assert!(
        html.contains("Nous n’avons pas pu livrer votre commande #1001 chez acme."),
        "{html}"
    );
    assert!(html.contains("mar. 8 déc., 09:00–12:00 CET"), "{html}");
    let refused = w.web.handle(post(&path, "slot=soon")).await;
    assert_eq!(refused.status_code, 422);
    assert!(body(&refused).contains("Ce créneau n’est pas (ou plus) proposé."));

    let answer = w
        .web
        .handle(post(&path, &format!("slot={TUESDAY_MORNING_MS}")))
        .await;
    assert_eq!(answer.status_code, 303);
    assert_eq!(
        w.reviews.open_items()[0].reasons,
        vec![ReviewReason::RedeliveryRequested {
            slot: "Tue 8 Dec, 09:00–12:00 CET".into()
        }]
    );
    let html = body(&w.web.handle(get(&path)).await);
    assert!(
        html.contains("Merci. acme a bien reçu votre choix"),
        "{html}"
    );
}

#[tokio::test]
async fn a_german_stores_fix_address_form_says_what_is_wrong_in_german() {
    let (w, key) = unplaceable().await;
    store_rules(&w, serde_json::json!({"locale": "de-AT"})).await;
    let path = fix_link(&key);
    let html = body(&w.web.handle(get(&path)).await);
    assert!(html.contains(r#"<html lang="de">"#), "{html}");
    assert!(
        html.contains(r#"<label for="street">Straße</label>"#),
        "{html}"
    );
    let answer = w
        .web
        .handle(post(&path, "street=&house=12&postal_code=1011&city=Berlin"))
        .await;
    assert_eq!(answer.status_code, 422);
    let html = body(&answer);
    assert!(html.contains("Bitte geben Sie die Straße ein."), "{html}");
    assert!(
        html.contains("\u{201e}1011\u{201c} ist keine Postleitzahl in DE."),
        "{html}"
    );
    assert!(w.tasks.sent().is_empty());
}

#[tokio::test]
async fn a_store_without_slots_offers_none_and_a_reschedule_link_opens_only_its_page() {
    let w = world();
    in_status(&w, ShipmentStatus::Created);
    let path = reschedule_link(&w.key);
    let html = body(&w.web.handle(get(&path)).await);
    assert!(
        html.contains("has no delivery times to offer right now"),
        "{html}"
    );
    assert_eq!(
        w.web
            .handle(get(&path.replacen("/r/", "/t/", 1)))
            .await
            .status_code,
        404
    );
    assert_eq!(
        w.web
            .handle(get(&path.replacen("/r/", "/a/", 1)))
            .await
            .status_code,
        404
    );
    let tracking = link(&w.key, Purpose::Track, NOW_MS / 1000 + 60).replacen("/t/", "/r/", 1);
    assert_eq!(w.web.handle(get(&tracking)).await.status_code, 404);
}
