//! Amazon end to end: an ORDER_CHANGE notification on the notifications queue, the order
//! and its address fetched from the (sandbox) SP-API, the courier task, the shipment
//! confirmation back to Amazon, a masked phone, and the latest-ship-date alert. The
//! published SP-API samples are used as they are, with the order id made to match.

use domain::{Channel, ShipmentKey};
use end_to_end::ports::*;
use end_to_end::{wait_for, Harness};
use local_runtime::Scheduled;
use sandbox::AmazonOrderSeed;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);
const NOTIFICATION: &[u8] =
    include_bytes!("../../fixtures/amazon/ORDER_CHANGE_notification_example.json");
const ORDER: &[u8] = include_bytes!("../../fixtures/amazon/getOrder_sandbox_TEST_CASE_200.json");
const ADDRESS: &[u8] =
    include_bytes!("../../fixtures/amazon/getOrderAddress_sandbox_TEST_CASE_200.json");
/// The seller of the published notification; its store name is the id, lowercased.
const SELLER: &str = "a3th9s8bh6gogm";

async fn seller(h: &Harness) {
    let base = h.sandbox.base_url();
    h.put_secret(
        &format!("amazon/{SELLER}"),
        json!({
            "lwa_client_id": sandbox::AMAZON_LWA_CLIENT_ID,
            "lwa_client_secret": sandbox::AMAZON_LWA_CLIENT_SECRET,
            "refresh_token": sandbox::AMAZON_REFRESH_TOKEN,
            "marketplace_id": "ATVPDKIKX0DER",
            "endpoint": base,
            "lwa_token_url": format!("{base}{}", sandbox::AMAZON_TOKEN_PATH),
        }),
    )
    .await;
}

/// The published sandbox order and address under `order_id`, with one unshipped item.
fn seed(h: &Harness, order_id: &str, phone: Option<&str>, buyer_email: Option<&str>) {
    let mut order: Value = serde_json::from_slice::<Value>(ORDER).unwrap()["payload"].clone();
    order["AmazonOrderId"] = json!(order_id);
    let mut address: Value = serde_json::from_slice::<Value>(ADDRESS).unwrap()["payload"].clone();
    address["AmazonOrderId"] = json!(order_id);
    match phone {
        Some(p) => address["ShippingAddress"]["Phone"] = json!(p),
        None => {
            address["ShippingAddress"]
                .as_object_mut()
                .unwrap()
                .remove("Phone");
        }
    }
    h.sandbox
        .seed_amazon_order(AmazonOrderSeed {
            order,
            address: Some(address),
            buyer_info: buyer_email.map(|e| json!({"AmazonOrderId": order_id, "BuyerEmail": e})),
            order_items: vec![json!({
                "OrderItemId": format!("{order_id}-1"), "QuantityOrdered": 1, "QuantityShipped": 0,
                "ASIN": "B000000000", "SellerSKU": "SKU-1"
            })],
        })
        .expect("order seeded");
}

/// The published notification, about `order_id`, with its own notification id.
fn notification(order_id: &str, notification_id: &str) -> String {
    let mut n: Value = serde_json::from_slice(NOTIFICATION).unwrap();
    n["Payload"]["OrderChangeNotification"]["AmazonOrderId"] = json!(order_id);
    n["NotificationMetadata"]["NotificationId"] = json!(notification_id);
    n.to_string()
}

async fn send(h: &Harness, body: &str) {
    let url = h
        .runtime
        .queue_url("AmazonNotificationsQueue")
        .expect("the notifications queue");
    aws_sdk_sqs::Client::new(&h.sdk)
        .send_message()
        .queue_url(url)
        .message_body(body)
        .send()
        .await
        .expect("notification sent");
}

fn reference(order_id: &str) -> String {
    ShipmentKey::new(Channel::Amazon, SELLER, order_id, "1").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_change_becomes_a_task_and_a_shipment_confirmation_once() {
    let h = Harness::start("amazon", &[]).await;
    seller(&h).await;
    let order_id = "903-8868176-2219830";
    seed(&h, order_id, Some("+1 480-386-0930 ext. 73824"), None);
    // Amazon delivers at least once: the same notification twice.
    let body = notification(order_id, "n-1");
    send(&h, &body).await;
    send(&h, &body).await;

    let task = h.task_for(&reference(order_id)).await;
    assert_eq!(task.recipient.phone.as_deref(), Some("+14803860930"));
    assert_eq!(task.destination.line1, "2201 WESTLAKE AVE");
    assert_eq!(task.destination.postal_code.as_deref(), Some("98121-2778"));
    let confirmation = wait_for("the shipment confirmed to Amazon", WAIT, || async {
        h.sandbox.amazon_confirmations().into_iter().next()
    })
    .await;
    assert_eq!(confirmation.order_id, order_id);
    assert_eq!(confirmation.tracking_number, task.tracking_number);
    assert_eq!(confirmation.order_items.len(), 1);
    wait_for("every queue drained", WAIT, || async {
        let idle = h.queue_depth("AmazonNotificationsQueue").await == (0, 0)
            && h.queue_depth("IntakeQueue").await == (0, 0)
            && h.queue_depth("SyncQueue").await == (0, 0);
        idle.then_some(())
    })
    .await;
    assert_eq!(h.sandbox.amazon_confirmations().len(), 1, "confirmed once");
    let tasks = h.sandbox.tasks();
    assert_eq!(
        tasks
            .iter()
            .filter(|t| t.reference == reference(order_id))
            .count(),
        1
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_phone_ships_with_marketplace_messaging_or_goes_to_review_without_it() {
    let h = Harness::start("amazon-phone", &[]).await;
    seller(&h).await;
    let (relayed, unreachable) = ("111-0000000-0000001", "111-0000000-0000002");
    seed(&h, relayed, None, Some("x7rq2v@marketplace.amazon.com"));
    seed(&h, unreachable, None, None);
    send(&h, &notification(relayed, "n-relayed")).await;
    send(&h, &notification(unreachable, "n-unreachable")).await;

    let task = h.task_for(&reference(relayed)).await;
    assert_eq!(task.recipient.phone, None);
    assert_eq!(
        task.recipient.alternate_contact.as_deref(),
        Some("x7rq2v@marketplace.amazon.com")
    );
    let items = wait_for("a review item for the unreachable buyer", WAIT, || async {
        let items = h.open_reviews("missing_phone").await;
        (!items.is_empty()).then_some(items)
    })
    .await;
    assert_eq!(
        items[0].shipment_key.as_deref(),
        Some(reference(unreachable).as_str())
    );
    assert!(h
        .sandbox
        .tasks()
        .iter()
        .all(|t| t.reference != reference(unreachable)));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unconfirmed_shipment_near_its_latest_ship_date_raises_one_alert() {
    let h = Harness::start("ship-by", &[]).await;
    seller(&h).await;
    // The courier is down, so the sample order (latest ship date in 1970) is never shipped.
    h.sandbox
        .set_create_task_fault(sandbox::Fault::UnavailableUntilCleared);
    let order_id = "903-0000000-0000003";
    seed(&h, order_id, Some("+1 480-386-0930"), None);
    send(&h, &notification(order_id, "n-late")).await;
    let key: ShipmentKey = reference(order_id).parse().unwrap();
    wait_for("the shipment recorded", WAIT, || async {
        h.stores().shipments.get(&key).await.unwrap()
    })
    .await;

    let watch = || async {
        h.runtime
            .invoke_scheduled()
            .await
            .into_iter()
            .find_map(|(_, r)| match r {
                Ok(Scheduled::ShipByWatch(report)) => Some(report),
                _ => None,
            })
            .expect("ship-by-watch ran")
    };
    for run in 0..2 {
        let report = watch().await;
        assert_eq!(report.at_risk, vec![key.to_string()], "run {run}");
        assert_eq!(
            report.newly_alerted,
            u32::from(run == 0),
            "one alert, however often it runs"
        );
    }
    let alerts = h.open_reviews("ship_by_at_risk").await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].shipment_key.as_deref(),
        Some(key.to_string().as_str())
    );

    // A dispatcher dismisses it: the next runs still see the risk but do not reopen it.
    assert!(h
        .stores()
        .reviews
        .close(&alerts[0].id, domain::review::DISMISSED, "booked by phone")
        .await
        .unwrap());
    let report = watch().await;
    assert_eq!(report.at_risk, vec![key.to_string()]);
    assert_eq!((report.newly_alerted, report.dismissed), (0, 1));
    assert!(h.open_reviews("ship_by_at_risk").await.is_empty());
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_amazon_fulfils_itself_is_ignored_without_calling_the_orders_api() {
    let h = Harness::start("amazon-afn", &[]).await;
    seller(&h).await;
    let order_id = "903-0000000-0000004";
    let mut n: Value = serde_json::from_str(&notification(order_id, "n-afn")).unwrap();
    n["Payload"]["OrderChangeNotification"]["Summary"]["FulfillmentType"] = json!("AFN");
    send(&h, &n.to_string()).await;

    let inbound_id = format!("amazon:{SELLER}:n-afn");
    let record = wait_for("the notification processed", WAIT, || async {
        h.stores()
            .inbound
            .get(&inbound_id)
            .await
            .unwrap()
            .filter(|r| r.outcome.is_some())
    })
    .await;
    assert!(
        record
            .outcome
            .as_deref()
            .unwrap_or("")
            .starts_with("ignored"),
        "{:?}",
        record.outcome
    );
    assert_eq!(h.sandbox.amazon_token_grants(), 0, "no Orders API call");
    assert!(h.stores().reviews.all().await.unwrap().is_empty());
    assert!(h.sandbox.tasks().is_empty());
    h.stop().await;
}
