//! Bad input gets its documented answer, is kept where docs/channels.md says, and nothing is
//! queued twice or lost.

use aws_sdk_dynamodb::types::AttributeValue;
use end_to_end::ports::*;
use end_to_end::{paid_order, Harness, STORE};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_request_gets_its_documented_answer_and_nothing_reaches_the_courier() {
    let h = Harness::start("bad-input", &[]).await;
    let stores = h.stores().clone();
    let order = paid_order(4_300_000_000_000_000_001)
        .to_string()
        .into_bytes();

    // A signature made with another secret.
    let forged = channels::signature::sign_base64_hmac_sha256(b"not-the-secret", &order);
    let (status, answer) = h
        .post_signed(STORE, "orders/paid", "bad-sig", &order, &forged)
        .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("invalid_signature"))
    );

    // A body one byte over the documented limit.
    let mut oversized = b"{\"pad\":\"".to_vec();
    oversized.resize(262_144 - 1, b'x');
    oversized.extend_from_slice(b"\"}");
    let (status, answer) = h.post("orders/paid", "too-big", &oversized).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (413, Some("payload_too_large"))
    );

    // A store that has no secret.
    let signature = channels::signature::sign_base64_hmac_sha256(h.secret.as_bytes(), &order);
    let (status, answer) = h
        .post_signed(
            "no-such-store",
            "orders/paid",
            "unknown-store",
            &order,
            &signature,
        )
        .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (404, Some("unknown_store"))
    );

    // Signed, but not JSON: kept whole and reviewed, not queued.
    let broken = b"{\"id\": 12, \"line_items\": [".to_vec();
    let (status, answer) = h.post("orders/paid", "broken-json", &broken).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("needs_review"))
    );
    let inbound_id = format!("shopify:{STORE}:broken-json");
    let kept = stores
        .inbound
        .get(&inbound_id)
        .await
        .unwrap()
        .expect("payload kept");
    assert_eq!(kept.body, broken, "the exact bytes are in the audit trail");
    let review = stores
        .reviews
        .get(&format!("review:{inbound_id}"))
        .await
        .unwrap()
        .expect("review item");
    assert_eq!(review.reasons[0].code(), "unparseable_payload");
    assert_eq!(review.source_inbound.as_deref(), Some(inbound_id.as_str()));
    // The same broken payload again is a duplicate, not a second review item.
    let (status, answer) = h.post("orders/paid", "broken-json", &broken).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("duplicate"))
    );

    // A topic courier-bridge does not act on: acknowledged and kept, not queued.
    let (status, answer) = h.post("products/create", "product-1", b"{\"id\":1}").await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("ignored")));

    // No webhook id header at all.
    let delivery_without_id = h.post("orders/paid", "", &order).await;
    assert_eq!(delivery_without_id.0, 400);
    // A delivery id no channel sends: it would become part of a key and of log lines.
    let long_id = "x".repeat(300);
    let (status, answer) = h.post("orders/paid", &long_id, &order).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("bad_delivery_id"))
    );

    // Rejections are on record, with their reason (and without the untrusted body).
    let table = stores
        .resources
        .table("InboundTable")
        .expect("the inbound table");
    let items = aws_sdk_dynamodb::Client::new(&h.sdk)
        .scan()
        .table_name(table)
        .send()
        .await
        .unwrap();
    let mut reasons: Vec<String> = items
        .items()
        .iter()
        .filter_map(|i| match i.get("reason") {
            Some(AttributeValue::S(r)) => {
                assert!(!i.contains_key("body"), "a rejected body is not stored");
                Some(r.clone())
            }
            _ => None,
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            "bad_delivery_id",
            "body_too_large",
            "invalid_signature",
            "missing_header",
            "unknown_store"
        ]
    );

    // Nothing was queued: no message anywhere, no shipment, no task.
    assert_eq!(h.queue_depth("IntakeQueue").await, (0, 0));
    assert_eq!(h.queue_depth("IntakeDLQ").await, (0, 0));
    assert!(stores.shipments.all().await.unwrap().is_empty());
    assert!(h.sandbox.tasks().is_empty());
    h.stop().await;
}
