//! The customer's fix-my-address page as a phone shows it: opened from the clarification
//! request, the form filled with the address the courier could not place; a form without
//! its street told so in words; the corrected address sent, one courier task made with it
//! and the review item closed as fixed by the customer; an expired link the plain page.

use crate::support::Browser;
use domain::ports::ReviewInbox;
use domain::{Channel, ShipmentKey};
use end_to_end::{paid_order, Harness, STORE};
use links::Purpose;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_fixes_the_address_through_the_link_and_one_task_is_made() {
    let h = Harness::start("browser-fix", &[]).await;
    let browser = Browser::start().await;
    let id = 7_760_000_000_000_000_001_u64;
    let mut order = paid_order(id);
    order["name"] = serde_json::json!("#4712");
    // The sandbox courier's geocoder finds nothing at postal code 00000.
    order["shipping_address"]["zip"] = serde_json::json!("00000");
    order["shipping_address"]["country_code"] = serde_json::json!("BR");
    order["shipping_address"]["phone"] = serde_json::json!("+55 11 98765-4321");
    let (status, _, _) = h
        .deliver("orders/paid", "w-fix-1", order.to_string().as_bytes())
        .await;
    assert_eq!(status, 200);
    let key = ShipmentKey::new(Channel::Shopify, STORE, &id.to_string(), "1");
    let link = h.fix_address_link(&key).await;

    browser.client.goto(&link).await.expect("the page opens");
    assert_eq!(browser.text("h1").await, "Check your delivery address");
    assert_eq!(browser.value("#postal_code").await, "00000");
    assert!(!browser.value("#street").await.is_empty());
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "{problems:#?}");
    browser.photograph("fix-address-form").await;

    // Without a street: the page says so, keeps what was typed, and sends nothing on.
    browser.fill("#street", "").await;
    browser.fill("#postal_code", "01310-100").await;
    // The browser's own check would stop an empty required field; the server's words
    // are what a browser without it (or a crafted post) meets.
    browser
        .eval("document.querySelector('form').noValidate = true; return true")
        .await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text(".problems h2", "Please check").await;
    assert_eq!(
        browser.text(".problems li").await,
        "Please enter the street."
    );
    assert_eq!(browser.value("#postal_code").await, "01310-100");
    assert!(h.sandbox.tasks().is_empty());
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "{problems:#?}");
    browser.photograph("fix-address-problems").await;

    // Corrected and sent: a thank-you with the address, one task with it, the item closed.
    browser.fill("#street", "Avenida Paulista").await;
    browser.fill("#house", "1578").await;
    browser.fill("#city", "São Paulo").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("h1", "Thank you").await;
    assert_eq!(
        browser.text("p.now").await,
        "Avenida Paulista 1578, 3. OG, 01310-100 São Paulo, BR"
    );
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "{problems:#?}");
    browser.photograph("fix-address-thanks").await;
    let task = h.task_for(&key.to_string()).await;
    assert_eq!(task.destination.postal_code.as_deref(), Some("01310-100"));
    let item = h
        .stores()
        .reviews
        .get(&domain::review::review_id(&key.to_string()))
        .await
        .expect("the inbox readable")
        .expect("the item");
    assert_eq!(item.status, "released");
    assert!(
        item.resolution
            .as_deref()
            .is_some_and(|r| r.starts_with("fixed by the customer")),
        "{item:?}"
    );
    // Back and reload: the page says where the order goes; nothing is sent again.
    browser.client.refresh().await.expect("the page reloads");
    assert_eq!(browser.text("h1").await, "Thank you");
    assert_eq!(h.sandbox.tasks().len(), 1);

    // An expired link: the plain page, nothing of the order.
    let keys = h.links.keys().expect("usable link keys");
    let now_s = domain::clock::now_ms() / 1000;
    let expired = format!(
        "{}/a/{}",
        h.runtime.http_url,
        keys.sign(&key, Purpose::FixAddress, now_s - 1)
    );
    browser.client.goto(&expired).await.expect("the page opens");
    assert_eq!(browser.text("h1").await, "Page not found");
    let body = browser.text("main").await;
    assert!(
        !body.contains("4712") && !body.contains("Paulista"),
        "{body}"
    );

    browser.stop().await;
    h.stop().await;
}
