//! The customer's reschedule page served by the stack: a store that offers delivery slots;
//! the tracking page links to the page, a chosen slot becomes the courier task's window, once
//! however often it is sent; after a failed attempt, the failed-delivery message links there
//! and the choice reaches a dispatcher as a redelivery item.

use domain::{Channel, ShipmentStatus};
use end_to_end::ports::*;
use end_to_end::{wait_for, Harness, STORE};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The first `value="…"` of a radio button on the page, and its label.
fn first_slot(html: &str) -> (String, String) {
    let at = html
        .find(r#"type="radio" name="slot""#)
        .expect("a slot to choose");
    let value = html[at..]
        .split(r#"value=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let label = html[at..]
        .split("\">")
        .nth(1)
        .unwrap()
        .split("</label>")
        .next()
        .unwrap();
    (value.to_owned(), label.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_picks_a_slot_and_the_task_window_changes_once() {
    let h = Harness::start("reschedule", &[]).await;
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
        .order_with_task(7_790_000_000_000_000_001, "orders/paid", "w-r-1")
        .await;

    // The tracking page links to the reschedule page.
    let tracking = h.tracking_link(&key).await;
    let page = client()
        .get(&tracking)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let path = page
        .split(r#"<a href=""#)
        .find(|part| part.starts_with("/r/"))
        .and_then(|part| part.split('"').next())
        .expect("a link to choose another delivery time")
        .to_owned();
    let url = format!("{}{path}", h.runtime.http_url);
    let form = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (slot, label) = first_slot(&form);
    // Berlin's clock: CET in winter, CEST in summer.
    assert!(label.contains("09:00–12:00 CE"), "{label}");

    let choose = || async {
        client()
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("slot={slot}"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(choose().await, 303);
    let start_ms: i64 = slot.parse().unwrap();
    let updated = wait_for("the task's window changed", WAIT, || async {
        h.sandbox
            .tasks()
            .into_iter()
            .find(|t| t.id == task.id && t.updates > 0)
    })
    .await;
    let after = updated.complete_after.expect("a window start");
    assert_eq!(after.unix_timestamp() * 1000, start_ms);
    let before = updated.complete_before.expect("a window end");
    assert_eq!(before.unix_timestamp() * 1000, start_ms + 3 * 3_600_000);
    // Sent again: the same window, no second change at the courier.
    assert_eq!(choose().await, 303);
    wait_for("the tasks queue drained", WAIT, || async {
        (h.queue_depth("TasksQueue").await == (0, 0)).then_some(())
    })
    .await;
    let task_now = h
        .sandbox
        .tasks()
        .into_iter()
        .find(|t| t.id == task.id)
        .unwrap();
    assert_eq!(task_now.updates, 1, "the window changed once");
    let done = client()
        .get(format!("{url}?done=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        done.contains(&format!("Done: your delivery is now planned for {label}.")),
        "{done}"
    );

    // The driver takes it out and fails: the failed-delivery message links to the page,
    // and the choice becomes a redelivery item for a dispatcher.
    h.advance_task(&task.id, 3).await;
    h.advance_task_with(
        &task.id,
        serde_json::json!({"outcome": "failed", "reason": "recipient_absent"}),
    )
    .await;
    h.wait_for_status(&key, ShipmentStatus::Failed).await;
    let failed_link = wait_for("the failed-delivery message", WAIT, || async {
        local_runtime::demo::customer_page_link(
            h.stores(),
            &h.runtime.http_url,
            &key,
            "delivery_failed",
            domain::ports::CustomerPage::Reschedule,
        )
        .await
        .expect("the outbox readable")
    })
    .await;
    let form = client()
        .get(&failed_link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("We could not deliver your order"), "{form}");
    let (slot, label) = first_slot(&form);
    let answer = client()
        .post(&failed_link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("slot={slot}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 303);
    let item = h
        .stores()
        .reviews
        .get(&format!("review:{key}/redelivery"))
        .await
        .unwrap()
        .expect("a redelivery item");
    assert_eq!(
        item.reasons,
        vec![domain::ReviewReason::RedeliveryRequested { slot: label }]
    );
    h.stop().await;
}
