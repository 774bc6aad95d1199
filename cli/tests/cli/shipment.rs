//! `courier-bridge shipment show`: a delivered shipment's path, proof, money, history and
//! messages, as the functions stored them.

use crate::support::{draft_with_bad_phone, TestStack, EVENT_MS};
use domain::courier::{LocationSource, PodLocation, ProofOfDelivery};
use domain::history::HistoryEntry;
use domain::notify::NotifyChannel;
use domain::notify::{OutboxEntry, OutboxState};
use domain::ports::{Outbox, ShipmentStore, StatusHistory};
use domain::record::DeliveryFacts;
use domain::CourierTask;
use domain::{Money, ShipmentStatus, StoreConfig};

#[tokio::test]
async fn a_delivered_shipment_shows_its_path_proof_money_history_and_messages() {
    let stack = TestStack::create("cli-shipment").await;
    let stores = &stack.stores;
    let mut draft = draft_with_bad_phone("5001");
    draft.phones = vec!["030 901820".into()];
    let shipment = draft.validate(&StoreConfig::default()).expect("valid");
    let key = shipment.key.clone();
    stores
        .shipments
        .record(&shipment, EVENT_MS, "inbound-1")
        .await
        .unwrap();
    let task = CourierTask {
        task_id: "tsk_1".into(),
        tracking_number: "SBX1".into(),
        tracking_url: None,
    };
    stores
        .shipments
        .record_task(&key, domain::CourierKind::Sandbox, &task)
        .await
        .unwrap();
    let delivered_at = EVENT_MS + 3_600_000;
    for (status, at) in [
        (ShipmentStatus::Assigned, EVENT_MS + 60_000),
        (ShipmentStatus::Delivered, delivered_at),
    ] {
        let facts = if status == ShipmentStatus::Delivered {
            DeliveryFacts {
                proof: Some(ProofOfDelivery {
                    signature_upload_id: Some("sig-1".into()),
                    photo_upload_ids: vec!["photo-1".into()],
                    signature_text: Some("K. Weber".into()),
                    recipient_name: Some("Kim Weber".into()),
                    notes: None,
                    location: Some(PodLocation {
                        lng: 13.4132,
                        lat: 52.5219,
                        source: LocationSource::DriverAtCompletion,
                    }),
                    completed_at_ms: Some(delivered_at),
                }),
                delivery_cost: Some(Money {
                    minor: 490,
                    currency: "EUR".parse().unwrap(),
                }),
                ..DeliveryFacts::default()
            }
        } else {
            DeliveryFacts::default()
        };
        let from: Vec<ShipmentStatus> = [ShipmentStatus::Created, ShipmentStatus::Assigned]
            .into_iter()
            .filter(|s| s.may_become(status, domain::Actor::Courier))
            .collect();
        assert!(stores
            .shipments
            .apply_courier_status(&key, "tsk_1", &from, status, at, &facts)
            .await
            .unwrap());
        stores
            .history
            .record(
                &key,
                &HistoryEntry {
                    at_ms: at,
                    event_id: format!("evt-{at}"),
                    courier: domain::CourierKind::Sandbox,
                    courier_event: status.to_string(),
                    status: Some(status),
                },
            )
            .await
            .unwrap();
    }
    let message = OutboxEntry {
        id: OutboxEntry::id_for(&key.to_string(), "delivered"),
        shipment_key: key.to_string(),
        template: "delivered".into(),
        channel: NotifyChannel::Sms,
        to: "+4930901820".into(),
        subject: None,
        body: "Delivered.".into(),
        state: OutboxState::Pending,
        attempts: 0,
        provider: None,
        provider_id: None,
        last_error: None,
        created_ms: delivered_at,
    };
    assert!(stores.outbox.add(&message).await.unwrap());

    let text = stack
        .run(&["shipment", "show", &key.to_string()])
        .await
        .expect("show");
    for expected in [
        "Delivered",
        "tsk_1",
        "Assigned (",
        "→ Delivered (",
        "signed K. Weber for Kim Weber",
        "52.52190,13.41320",
        "delivery cost 4.90 EUR",
        "delivered  sms      PENDING",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    let json: serde_json::Value = serde_json::from_str(
        &stack
            .run(&["shipment", "show", &key.to_string(), "--json"])
            .await
            .expect("show --json"),
    )
    .expect("JSON");
    assert_eq!(json["history"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["transitions"][1][0], "Delivered");

    let missing = stack
        .run(&["shipment", "show", "shopify:test-store:404:1"])
        .await
        .expect_err("no such shipment");
    assert_eq!(missing.exit_code(), cli::error::exit::REFUSED);
    let bad = stack
        .run(&["shipment", "show", "not-a-key"])
        .await
        .expect_err("not a key");
    assert_eq!(bad.exit_code(), cli::error::exit::USAGE);
    stack.teardown().await;
}
