//! The customer's reschedule page as a phone shows it: reached from the tracking page, the
//! store's slots as radio buttons on its clock, one chosen and the page saying when the
//! delivery now comes; once the driver has the parcel, the page says the time cannot change.

use crate::support::Browser;
use domain::{Channel, ShipmentStatus};
use end_to_end::{wait_for, Harness, STORE};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_picks_another_delivery_time_from_the_tracking_page() {
    let h = Harness::start("browser-reschedule", &[]).await;
    h.configure_store(
        Channel::Shopify,
        STORE,
        serde_json::json!({
            "time_zone": "Europe/Berlin",
            "delivery_slots": {"windows": ["09:00-12:00", "14:00-18:00"], "days_ahead": 3}
        }),
    )
    .await;
    let (key, task) = h
        .order_with_task(7_800_000_000_000_000_001, "orders/paid", "w-br-1")
        .await;
    let browser = Browser::start().await;

    browser
        .client
        .goto(&h.tracking_link(&key).await)
        .await
        .expect("the tracking page opens");
    browser.click("main a[href^='/r/']").await;
    browser.wait_for_text("h1", "Choose a delivery time").await;
    let choices = browser
        .eval("return document.querySelectorAll('input[type=radio]').length")
        .await;
    assert!(choices.as_u64().unwrap_or(0) >= 4, "{choices}");
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "{problems:#?}");
    browser.photograph("reschedule-page").await;

    let label = browser.text("label[for=slot-1]").await;
    browser.click("#slot-1").await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text(
            "p.notice",
            &format!("Done: your delivery is now planned for {label}."),
        )
        .await;
    assert_eq!(browser.text("strong").await, label);
    let problems = browser.accessibility_problems().await;
    assert!(problems.is_empty(), "{problems:#?}");
    wait_for(
        "the task's window changed",
        Duration::from_secs(40),
        || async {
            h.sandbox
                .tasks()
                .into_iter()
                .find(|t| t.id == task.id && t.updates == 1)
        },
    )
    .await;

    // The driver sets out: the same page now says the time cannot change.
    h.advance_task(&task.id, 3).await;
    h.wait_for_status(&key, ShipmentStatus::OutForDelivery)
        .await;
    browser.client.refresh().await.expect("the page reloads");
    assert!(browser
        .text("main")
        .await
        .contains("The driver already has your order"));
    assert_eq!(
        browser.eval("return document.forms.length").await,
        0,
        "nothing to choose"
    );
    browser.photograph("reschedule-with-driver").await;

    browser.stop().await;
    h.stop().await;
}
