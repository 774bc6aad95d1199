//! What the fast tests feed the functions: valid shipments, records at a given point of
//! their life, SQS batches as the event source mapping hands them over.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use domain::courier::CourierTask;
use domain::record::ShipmentRecord;
use domain::{Channel, Shipment, ShipmentKey, ShipmentStatus};
use serde::Serialize;

/// A valid prepaid shipment of `order_id` (one parcel, a dialable phone, an e-mail).
pub fn shipment(store: &str, order_id: &str) -> Shipment {
    let key = ShipmentKey::new(Channel::Shopify, store, order_id, "1");
    serde_json::from_value(serde_json::json!({
        "key": key.to_string(),
        "order_name": format!("#{order_id}"),
        "recipient": {
            "name": "Kim Weber",
            "phone": {"e164": "+4930901820"},
            "email": "kim@example.com"
        },
        "address": {
            "street": "Torstraße", "house": "1", "city": "Berlin",
            "postal_code": "10119", "country_code": "DE"
        },
        "parcel": {"pieces": 1, "weight_grams": 800},
        "payment": {"kind": "prepaid", "order_total": {"minor": 4250, "currency": "EUR"}},
        "service": "standard"
    }))
    .expect("a valid sample shipment")
}

/// A shipment as normalize records it: Pending, from payload `inbound`, at `event_ms`.
pub fn pending(shipment: &Shipment, event_ms: i64, inbound: &str) -> ShipmentRecord {
    crate::state::new_record(shipment, event_ms, inbound)
}

/// A shipment whose task `task` exists, now in `status`.
pub fn with_task(
    shipment: &Shipment,
    task: &CourierTask,
    status: ShipmentStatus,
) -> ShipmentRecord {
    let mut record = pending(shipment, 1_000, "shopify:acme:w1");
    record.task = Some(task.clone());
    record.courier = Some(domain::CourierKind::Sandbox);
    record.status = status;
    record
}

/// A courier task as the fake courier makes them.
pub fn task(n: u32) -> CourierTask {
    CourierTask {
        task_id: format!("tsk_{n}"),
        tracking_number: format!("TRK{n:04}"),
        tracking_url: Some(format!("https://track.example/TRK{n:04}")),
    }
}

/// A batch of SQS records, each `message` as its JSON body, message ids `m1`, `m2`, ...,
/// receipt handles `r1`, `r2`, ..., received once.
pub fn sqs_batch<M: Serialize>(messages: &[M]) -> SqsEvent {
    let bodies: Vec<String> = messages
        .iter()
        .map(|m| serde_json::to_string(m).expect("a message serializes"))
        .collect();
    sqs_raw(&bodies.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A batch of SQS records with these raw bodies.
pub fn sqs_raw(bodies: &[&str]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let mut record = SqsMessage::default();
            record.message_id = Some(format!("m{}", i + 1));
            record.receipt_handle = Some(format!("r{}", i + 1));
            record.body = Some((*body).to_owned());
            record
                .attributes
                .insert("ApproximateReceiveCount".into(), "1".into());
            record
        })
        .collect();
    event
}

/// The message ids a batch response reports as failed, in order.
pub fn failed(response: &SqsBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}
