//! An address the courier cannot place: a review item with the shipment's draft, a
//! clarification request to the customer in the outbox, and, once the operator has the
//! customer's answer, `courier-bridge review fix` and `release` make exactly one task with
//! the corrected address.

use domain::notify::NotifyChannel;
use domain::notify::OutboxState;
use domain::{Channel, ShipmentKey};
use end_to_end::ports::*;
use end_to_end::{paid_order, wait_for, Harness, STORE};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unplaceable_address_asks_the_customer_and_the_fixed_release_makes_one_task() {
    let h = Harness::start("clarify", &[]).await;
    let id = 7_600_000_000_000_000_001_u64;
    let mut order = paid_order(id);
    // The sandbox courier's geocoder finds nothing at postal code 00000.
    order["shipping_address"]["zip"] = json!("00000");
    order["shipping_address"]["country_code"] = json!("BR");
    order["shipping_address"]["phone"] = json!("+55 11 98765-4321");
    let (status, _, _) = h
        .deliver("orders/paid", "w-1", order.to_string().as_bytes())
        .await;
    assert_eq!(status, 200);
    let key = ShipmentKey::new(Channel::Shopify, STORE, &id.to_string(), "1");

    let items = wait_for("a review item for the address", WAIT, || async {
        let items = h.open_reviews("address_not_found").await;
        (!items.is_empty()).then_some(items)
    })
    .await;
    let item = &items[0];
    assert_eq!(item.shipment_key.as_deref(), Some(key.to_string().as_str()));
    assert!(item.draft.is_some(), "the draft is kept for the fix");
    // The request goes through the outbox and out by e-mail (SES in the emulator), once.
    let messages = wait_for("the clarification request sent", WAIT, || async {
        let m = h.stores().outbox.all().await.expect("outbox readable");
        m.iter()
            .all(|m| m.state == OutboxState::Sent)
            .then_some(m)
            .filter(|m| !m.is_empty())
    })
    .await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].id, format!("{key}#address_clarification"));
    assert_eq!(messages[0].channel, NotifyChannel::Email);
    assert_eq!(messages[0].to, "kunde@example.com");
    assert_eq!(messages[0].provider.as_deref(), Some("ses"));
    assert!(
        messages[0].body.contains("00000"),
        "the address as we have it: {}",
        messages[0].body
    );
    assert!(h.sandbox.tasks().is_empty());

    // The customer answers; the operator corrects the postal code and releases.
    let stores = h.stores();
    let fix = "address.postal_code=01310-100".parse().unwrap();
    let fixed = cli::review::fix(stores, &item.id, &[fix], "ana")
        .await
        .unwrap();
    assert!(fixed.reasons.is_empty(), "{:?}", fixed.reasons);
    let released = cli::review::release(stores, &item.id, "ana").await.unwrap();
    assert_eq!(released.closed_as, "released");
    // A second release is refused: the item is closed.
    assert!(cli::review::release(stores, &item.id, "ana").await.is_err());

    let task = h.task_for(&key.to_string()).await;
    assert_eq!(task.destination.postal_code.as_deref(), Some("01310-100"));
    wait_for("the tasks queue drained", WAIT, || async {
        (h.queue_depth("TasksQueue").await == (0, 0)).then_some(())
    })
    .await;
    assert_eq!(h.sandbox.tasks().len(), 1, "exactly one task");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_fixes_the_address_through_the_link_and_one_task_is_made() {
    let h = Harness::start("clarify-page", &[]).await;
    let id = 7_600_000_000_000_000_002_u64;
    let mut order = paid_order(id);
    order["shipping_address"]["zip"] = json!("00000");
    order["shipping_address"]["country_code"] = json!("BR");
    order["shipping_address"]["phone"] = json!("+55 11 98765-4321");
    let (status, _, _) = h
        .deliver("orders/paid", "w-2", order.to_string().as_bytes())
        .await;
    assert_eq!(status, 200);
    let key = ShipmentKey::new(Channel::Shopify, STORE, &id.to_string(), "1");

    // The clarification request links to the stack's page, signed for this shipment.
    let link = h.fix_address_link(&key).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = client.get(&link).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let html = form.text().await.unwrap();
    assert!(
        html.contains(r#"name="postal_code" type="text" value="00000""#),
        "{html}"
    );

    // A form without its street is refused with words; nothing goes to the courier.
    let send = |street: &'static str| {
        let client = client.clone();
        let link = link.clone();
        async move {
            client
                .post(&link)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "street={street}&house=1578&apartment=&postal_code=01310-100&city=S%C3%A3o+Paulo"
                ))
                .send()
                .await
                .expect("the page answers")
        }
    };
    let refused = send("").await;
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Please enter the street."));
    assert!(h.sandbox.tasks().is_empty());

    // The right one, sent twice (a double tap): one task, the item closed by the customer.
    let (first, second) = tokio::join!(send("Avenida+Paulista"), send("Avenida+Paulista"));
    for answer in [&first, &second] {
        assert_eq!(answer.status(), 303, "{answer:?}");
    }
    let task = h.task_for(&key.to_string()).await;
    assert_eq!(task.destination.postal_code.as_deref(), Some("01310-100"));
    assert!(
        task.destination.line1.starts_with("Avenida Paulista"),
        "{:?}",
        task.destination
    );
    let item = h
        .stores()
        .reviews
        .get(&domain::review::review_id(&key.to_string()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.status, "released");
    assert!(
        item.resolution
            .as_deref()
            .is_some_and(|r| r.starts_with("fixed by the customer")),
        "{item:?}"
    );
    wait_for("the tasks queue drained", WAIT, || async {
        (h.queue_depth("TasksQueue").await == (0, 0)).then_some(())
    })
    .await;
    assert_eq!(h.sandbox.tasks().len(), 1, "exactly one task");
    let thanks = client
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(thanks.contains("Avenida Paulista 1578"), "{thanks}");
    h.stop().await;
}
