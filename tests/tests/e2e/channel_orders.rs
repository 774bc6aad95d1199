//! The other channels end to end: WooCommerce webhooks (with their activation ping and the
//! REST write-back) and the generic JSON API (with partial shipments), through the same
//! stack as Shopify. Published samples are used as they are.

use channels::signature::sign_base64_hmac_sha256;
use domain::{Channel, ShipmentKey};
use end_to_end::{wait_for, Harness};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);
const WOO_ORDER: &[u8] =
    include_bytes!("../../fixtures/woocommerce/order_wp-api-v3_docs_create_response.json");
const API_TWO_SHIPMENTS: &[u8] =
    include_bytes!("../../../docs/api/examples/order.created.prepaid-two-shipments.json");

const WOO_STORE: &str = "woo-shop";
const WOO_SECRET: &str = "woo-webhook-secret";
const API_STORE: &str = "custom-shop";
const API_SECRET: &str = "api-signing-secret";

async fn woo(h: &Harness) {
    h.put_secret(
        &format!("woocommerce/{WOO_STORE}"),
        json!({
            "webhook_secret": WOO_SECRET,
            "site_url": h.sandbox.base_url(),
            "consumer_key": sandbox::WOOCOMMERCE_CONSUMER_KEY,
            "consumer_secret": sandbox::WOOCOMMERCE_CONSUMER_SECRET,
        }),
    )
    .await;
}

async fn post_woo(h: &Harness, topic: &str, delivery: &str, body: &[u8]) -> (u16, Value) {
    let signature = sign_base64_hmac_sha256(WOO_SECRET.as_bytes(), body);
    h.post_raw(
        "woocommerce",
        WOO_STORE,
        &[
            ("X-WC-Webhook-Topic", topic),
            ("X-WC-Webhook-Resource", "order"),
            ("X-WC-Webhook-Delivery-ID", delivery),
            ("X-WC-Webhook-ID", "12"),
            ("X-WC-Webhook-Signature", &signature),
        ],
        body,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn woocommerce_orders_ship_cod_in_processing_and_get_a_tracking_note() {
    let h = Harness::start("woo", &[]).await;
    woo(&h).await;
    h.configure_store(
        Channel::WooCommerce,
        WOO_STORE,
        json!({"status_after_tracking": "completed"}),
    )
    .await;

    // The activation ping: unsigned, a form body, must get 200 or the webhook stays off.
    let (status, answer) = h
        .post_raw(
            "woocommerce",
            WOO_STORE,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"webhook_id=12",
        )
        .await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("ping")));

    // The published order as it is: its billing phone (555) 555-5555 is no real US number.
    let (status, _) = post_woo(&h, "order.created", "d-727", WOO_ORDER).await;
    assert_eq!(status, 200);
    let key = ShipmentKey::new(Channel::WooCommerce, WOO_STORE, "727", "1");
    let items = wait_for("a review item for the sample", WAIT, || async {
        let items = h.open_reviews("invalid_phone").await;
        (!items.is_empty()).then_some(items)
    })
    .await;
    assert_eq!(
        items[0].shipment_key.as_deref(),
        Some(key.to_string().as_str())
    );

    // The same order paid by cash on delivery with a dialable phone: ships from
    // `processing` without being paid, collecting the total.
    let mut cod: Value = serde_json::from_slice(WOO_ORDER).unwrap();
    cod["id"] = json!(728);
    cod["payment_method"] = json!("cod");
    cod["date_paid"] = Value::Null;
    cod["date_paid_gmt"] = Value::Null;
    cod["billing"]["phone"] = json!("(415) 555-0132");
    let body = serde_json::to_vec(&cod).unwrap();
    assert_eq!(post_woo(&h, "order.created", "d-728", &body).await.0, 200);
    // WooCommerce's delivery id repeats within a second; the same bytes are a duplicate.
    let (_, again) = post_woo(&h, "order.created", "d-728", &body).await;
    assert_eq!(again["status"], "duplicate");

    let reference = ShipmentKey::new(Channel::WooCommerce, WOO_STORE, "728", "1").to_string();
    let task = h.task_for(&reference).await;
    let cash = task.cash_on_delivery.expect("COD collected");
    assert_eq!((cash.amount_minor, cash.currency.as_str()), (2935, "USD"));
    assert_eq!(task.recipient.phone.as_deref(), Some("+14155550132"));
    let note = wait_for("the tracking note on the order", WAIT, || async {
        h.sandbox
            .woocommerce_notes()
            .into_iter()
            .find(|n| n.order_id == "728")
    })
    .await;
    assert!(note.note.contains(&task.tracking_number), "{}", note.note);
    assert!(note.customer_note);
    let status = wait_for("the order marked completed", WAIT, || async {
        h.sandbox
            .woocommerce_statuses()
            .into_iter()
            .find(|s| s.order_id == "728")
    })
    .await;
    assert_eq!(status.to, "completed");

    // Cancelled in the shop: the courier's task is cancelled.
    cod["status"] = json!("cancelled");
    cod["date_modified_gmt"] = json!("2017-03-22T20:00:00");
    let body = serde_json::to_vec(&cod).unwrap();
    assert_eq!(post_woo(&h, "order.updated", "d-728-c", &body).await.0, 200);
    wait_for("the task cancelled", WAIT, || async {
        h.sandbox
            .tasks()
            .into_iter()
            .find(|t| t.reference == reference && t.status == "cancelled")
    })
    .await;
    assert_eq!(
        h.sandbox.woocommerce_notes().len(),
        1,
        "one note, however often synced"
    );
    h.stop().await;
}

async fn post_api(
    h: &Harness,
    topic: &str,
    event_id: &str,
    body: &[u8],
    secret: &str,
) -> (u16, Value) {
    let signature = sign_base64_hmac_sha256(secret.as_bytes(), body);
    h.post_raw(
        "api",
        API_STORE,
        &[
            ("X-Courier-Bridge-Topic", topic),
            ("X-Courier-Bridge-Event-Id", event_id),
            ("X-Courier-Bridge-Signature", &signature),
            ("Content-Type", "application/json"),
        ],
        body,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_order_with_two_shipments_becomes_two_tasks_and_a_cancellation_cancels_both() {
    let h = Harness::start("api", &[]).await;
    h.put_secret(
        &format!("api/{API_STORE}"),
        json!({ "signing_secret": API_SECRET }),
    )
    .await;

    let (status, _) = post_api(&h, "order.created", "evt-1", API_TWO_SHIPMENTS, "wrong").await;
    assert_eq!(status, 401, "a wrong signature is refused");
    let (status, answer) =
        post_api(&h, "order.created", "evt-1", API_TWO_SHIPMENTS, API_SECRET).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("accepted")));

    let key = |id: &str| ShipmentKey::new(Channel::Api, API_STORE, "SO-1001", id).to_string();
    let first = h.task_for(&key("SO-1001-1")).await;
    let second = h.task_for(&key("SO-1001-2")).await;
    assert_eq!((first.parcel.pieces, second.parcel.pieces), (2, 1));
    assert_eq!(first.destination.line1, "Hauptstraße 5");
    assert!(first.notes.as_deref().unwrap_or("").contains("FRAGILE"));

    // The same order, cancelled later in the shop.
    let mut cancelled: Value = serde_json::from_slice(API_TWO_SHIPMENTS).unwrap();
    cancelled["order"]["cancelled"] = json!(true);
    cancelled["order"]["updated_at"] = json!("2026-11-24T12:00:00+01:00");
    let body = serde_json::to_vec(&cancelled).unwrap();
    let (status, _) = post_api(&h, "order.cancelled", "evt-2", &body, API_SECRET).await;
    assert_eq!(status, 200);
    for reference in [key("SO-1001-1"), key("SO-1001-2")] {
        wait_for(&format!("{reference} cancelled"), WAIT, || async {
            h.sandbox
                .tasks()
                .into_iter()
                .find(|t| t.reference == reference && t.status == "cancelled")
        })
        .await;
    }
    h.stop().await;
}
