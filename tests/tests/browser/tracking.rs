//! The customer's tracking page as a phone shows it: opened from the link in their message,
//! following a delivery to its proof; a hostile order name shown as text and never run; no
//! serious accessibility problem anywhere; a forged link the plain page.

use crate::support::Browser;
use domain::{Channel, ShipmentKey};
use end_to_end::{paid_order, Harness, STORE};

/// Posts a paid order and returns its shipment and the tracking-page link from the
/// customer's tracking message.
async fn order_with_link(h: &Harness, id: u64, name: &str) -> (ShipmentKey, String) {
    let mut order = paid_order(id);
    order["name"] = serde_json::json!(name);
    let (status, _, _) = h
        .deliver(
            "orders/create",
            &format!("w-{id}"),
            order.to_string().as_bytes(),
        )
        .await;
    assert_eq!(status, 200);
    let key = ShipmentKey::new(Channel::Shopify, STORE, &id.to_string(), "1");
    let link = h.tracking_link(&key).await;
    (key, link)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracking_page_from_the_customers_message_reads_well_and_runs_nothing_typed() {
    let h = Harness::start("browser-track", &[]).await;
    let browser = Browser::start().await;

    // An order followed to its proof of delivery.
    let (key, link) = order_with_link(&h, 7_750_000_000_000_000_001, "#4711").await;
    let task = h.task_for(&key.to_string()).await;
    h.advance_task(&task.id, 4).await;
    h.wait_for_status(&key, domain::ShipmentStatus::Delivered)
        .await;
    browser.client.goto(&link).await.expect("the page opens");
    assert_eq!(browser.text("h1").await, "Your order #4711 from test-store");
    assert_eq!(browser.text("p.now").await, "Delivered");
    assert_eq!(
        browser.text("main h2:last-of-type").await,
        "Proof of delivery"
    );
    // The stylesheet applied: the system UI font, not the browser's default serif.
    let font = browser
        .eval("return getComputedStyle(document.body).fontFamily")
        .await;
    assert!(font.as_str().unwrap_or("").contains("system-ui"), "{font}");
    // Nothing wider than the phone.
    assert_eq!(
        browser
            .eval("return document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        true
    );
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "{problems:#?}");
    browser.photograph("tracking-page").await;

    // A name made to run in the page is shown as it was typed, and nothing runs.
    // 64 characters: the longest order name there is (domain::text).
    let hostile = "#1<script>document.title=2</script><svg onload=document.title=3>";
    let (_, link) = order_with_link(&h, 7_750_000_000_000_000_002, hostile).await;
    browser.client.goto(&link).await.expect("the page opens");
    assert!(browser.text("h1").await.contains(hostile));
    assert_eq!(
        browser.eval("return document.title").await,
        format!("Order {hostile}")
    );
    assert_eq!(
        browser
            .eval("return document.scripts.length + document.images.length")
            .await,
        0
    );
    assert_eq!(
        browser
            .eval("return document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        true,
        "a long unbroken name wraps"
    );
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "{problems:#?}");

    let mut forged = link.clone();
    let last = forged.pop();
    forged.push(if last == Some('A') { 'B' } else { 'A' });
    browser.client.goto(&forged).await.expect("the page opens");
    assert_eq!(browser.text("h1").await, "Page not found");
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "{problems:#?}");
    browser.photograph("link-not-found").await;

    // The check itself finds what it should: a page without a language and an image
    // without a text alternative.
    browser
        .client
        .goto("data:text/html,<html><body><img src=x></body></html>")
        .await
        .expect("the page opens");
    let problems = browser.accessibility_problems().await;
    let ids: Vec<&str> = problems.iter().filter_map(|p| p["id"].as_str()).collect();
    assert!(
        ids.contains(&"image-alt") && ids.contains(&"html-has-lang"),
        "{problems:#?}"
    );

    browser.stop().await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_speaks_german_gets_its_tracking_page_in_german() {
    let h = Harness::start("browser-track-de", &[]).await;
    // The store's rules before its first order: the page function reads them fresh.
    h.configure_store(
        Channel::Shopify,
        STORE,
        serde_json::json!({"locale": "de-AT", "time_zone": "Europe/Vienna"}),
    )
    .await;
    let browser = Browser::start().await;
    let (key, link) = order_with_link(&h, 7_750_000_000_000_000_101, "#4712").await;
    let task = h.task_for(&key.to_string()).await;
    h.advance_task(&task.id, 4).await;
    h.wait_for_status(&key, domain::ShipmentStatus::Delivered)
        .await;
    browser.client.goto(&link).await.expect("the page opens");
    assert_eq!(
        browser.text("h1").await,
        "Ihre Bestellung #4712 bei test-store"
    );
    assert_eq!(browser.text("p.now").await, "Zugestellt");
    assert_eq!(
        browser.eval("return document.documentElement.lang").await,
        "de"
    );
    // Times on the store's clock (Vienna: CET in winter).
    assert!(browser.text("ol.path").await.contains("CET"));
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "{problems:#?}");
    browser.photograph("tracking-page-de").await;
    browser.stop().await;
    h.stop().await;
}
