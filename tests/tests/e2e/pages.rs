//! The customer's tracking page served by the stack: an order through the whole pipeline,
//! a signed link to its page opened over the local HTTP API as a customer's phone would,
//! the page following the delivery; a forged link and an expired one get the plain page.

use domain::{Channel, ShipmentStatus};
use end_to_end::{Harness, STORE};
use links::Purpose;

async fn open(path: &str, h: &Harness) -> (u16, String, reqwest::header::HeaderMap) {
    let response = reqwest::get(format!("{}{path}", h.runtime.http_url))
        .await
        .expect("the local HTTP API answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.text().await.unwrap_or_default(), headers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customers_tracking_link_opens_a_page_that_follows_the_delivery() {
    let h = Harness::start("pages-track", &[]).await;
    // The store's customers read times in its time zone.
    h.configure_store(
        Channel::Shopify,
        STORE,
        serde_json::json!({"time_zone": "Asia/Kolkata"}),
    )
    .await;
    let id = 7_740_000_000_000_000_001_u64;
    let (key, task) = h.order_with_task(id, "orders/create", "w-track-1").await;

    // The customer's tracking message carries the link to the stack's page, signed.
    let link = h.tracking_link(&key).await;
    let link = link
        .strip_prefix(&h.runtime.http_url)
        .expect("under the stack's pages URL")
        .to_owned();
    let (status, page, headers) = open(&link, &h).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(&format!("Your order #{} from", id % 100_000)),
        "{page}"
    );
    assert!(
        page.contains("Order received, preparing the delivery"),
        "{page}"
    );
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));

    // The driver takes it and sets out: the same link shows it.
    h.advance_task(&task.id, 3).await;
    h.wait_for_status(&key, ShipmentStatus::OutForDelivery)
        .await;
    let (_, page, _) = open(&link, &h).await;
    assert!(page.contains("On the way to you"), "{page}");
    assert!(page.contains(&task.tracking_number), "{page}");
    assert!(
        page.contains(" IST</time>"),
        "times in the store's zone: {page}"
    );
    assert!(!page.contains("UTC"), "{page}");

    // Its stylesheet is served from the same API.
    let (status, css, headers) = open("/static/pages.css", &h).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/css; charset=utf-8");
    assert_eq!(css, pages_css());

    // Expired, forged or for another purpose: one plain page, nothing about why.
    let now_s = domain::clock::now_ms() / 1000;
    let keys = h.links.keys().expect("usable link keys");
    let expired = format!("/t/{}", keys.sign(&key, Purpose::Track, now_s - 1));
    let other_purpose = format!("/t/{}", keys.sign(&key, Purpose::Reschedule, now_s + 60));
    let mut forged = link.clone();
    let last = forged.pop();
    forged.push(if last == Some('A') { 'B' } else { 'A' });
    for path in [expired, other_purpose, forged] {
        let (status, page, _) = open(&path, &h).await;
        assert_eq!(status, 404, "{path}");
        assert!(page.contains("Page not found"), "{page}");
        assert!(!page.contains(&id.to_string()));
    }
    h.stop().await;
}

fn pages_css() -> &'static str {
    pages::STYLESHEET
}
