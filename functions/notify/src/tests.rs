//! notify's handler against in-memory fakes of its ports: each outbox message goes out at
//! most once. Claimed, sent, ended SENT; released for a retry when the provider did not
//! take it; UNKNOWN when it may have gone out; FAILED when refused; SKIPPED when it is no
//! longer true or its channel is off.

use super::*;
use domain::messages::OutboxQueued;
use domain::notify::{NotifyChannel, OutboxEntry};
use domain::{Shipment, ShipmentStatus};
use fakes::sample::{self, failed, sqs_batch};
use fakes::World;

const LEASE: Duration = Duration::from_secs(30);

/// A batch of one message, as the event source mapping hands it over.
fn batch(message: &OutboxQueued) -> SqsEvent {
    sqs_batch(std::slice::from_ref(message))
}

struct Setup {
    world: World,
    step: Notify,
}

fn setup() -> Setup {
    let world = World::new();
    let step = Notify {
        outbox: world.outbox.clone(),
        shipments: world.shipments.clone(),
        notifiers: world.notifiers.clone(),
        retries: world.retries.clone(),
        lease: LEASE,
        backoff: Backoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(60),
        },
    };
    Setup { world, step }
}

/// Order `order_id`'s shipment, with its task, now in `status`.
fn shipment(s: &Setup, order_id: &str, status: ShipmentStatus) -> Shipment {
    let shipment = sample::shipment("acme", order_id);
    s.world
        .shipments
        .insert(sample::with_task(&shipment, &sample::task(1), status));
    shipment
}

/// The outbox message `template` for the shipment, by SMS, in `state`.
fn message(shipment: &Shipment, template: &str, state: OutboxState) -> OutboxEntry {
    let key = shipment.key.to_string();
    OutboxEntry {
        id: OutboxEntry::id_for(&key, template),
        shipment_key: key,
        template: template.into(),
        channel: NotifyChannel::Sms,
        to: "+4930901820".into(),
        subject: None,
        body: format!("acme: your order #{} ({template})", shipment.key.order_id),
        state,
        attempts: 0,
        provider: None,
        provider_id: None,
        last_error: None,
        created_ms: now_ms(),
    }
}

/// A pending message in the outbox; returns the wake-up that names it.
fn pending(s: &Setup, shipment: &Shipment, template: &str) -> OutboxQueued {
    let entry = message(shipment, template, OutboxState::Pending);
    let id = entry.id.clone();
    s.world.outbox.insert(entry, 0);
    OutboxQueued { outbox_id: id }
}

fn state(s: &Setup, wake: &OutboxQueued) -> OutboxEntry {
    s.world.outbox.entry(&wake.outbox_id).unwrap()
}

fn sent(s: &Setup) -> Vec<OutgoingMessage> {
    s.world.notifiers.provider.sent()
}

#[tokio::test]
async fn a_pending_message_is_claimed_sent_once_and_ends_sent_with_the_providers_id() {
    let s = setup();
    let parcel = shipment(&s, "1001", ShipmentStatus::OutForDelivery);
    let wake = pending(&s, &parcel, "on_the_way");

    let response = s.step.handle(batch(&wake)).await;

    assert!(failed(&response).is_empty());
    let entry = state(&s, &wake);
    assert_eq!(
        sent(&s),
        [OutgoingMessage {
            id: wake.outbox_id.clone(),
            channel: NotifyChannel::Sms,
            to: "+4930901820".into(),
            subject: None,
            body: entry.body.clone(),
        }]
    );
    assert_eq!(entry.state, OutboxState::Sent);
    assert_eq!(entry.provider.as_deref(), Some("fake"));
    assert_eq!(entry.provider_id.as_deref(), Some("msg_1"));
    assert_eq!(entry.attempts, 1);
    assert!(entry.last_error.is_none());
}

#[tokio::test]
async fn a_second_delivery_of_the_same_wake_up_sends_nothing() {
    let s = setup();
    let parcel = shipment(&s, "1002", ShipmentStatus::Delivered);
    let wake = pending(&s, &parcel, "delivered");

    let together = s
        .step
        .handle(sqs_batch(&[wake.clone(), wake.clone()]))
        .await;
    let later = s.step.handle(batch(&wake)).await;

    assert!(failed(&together).is_empty() && failed(&later).is_empty());
    assert_eq!(sent(&s).len(), 1, "sent at most once");
    let entry = state(&s, &wake);
    assert_eq!(entry.state, OutboxState::Sent);
    assert_eq!(entry.attempts, 1, "claimed once");
}

#[tokio::test]
async fn an_unavailable_provider_releases_the_message_and_backs_off_then_the_retry_sends_it() {
    let s = setup();
    let parcel = shipment(&s, "1003", ShipmentStatus::OutForDelivery);
    let wake = pending(&s, &parcel, "on_the_way");
    s.world.notifiers.provider.faults.inject(
        "send",
        PartnerError::unavailable("twilio", "503 Service Unavailable"),
    );

    let response = s.step.handle(batch(&wake)).await;

    assert_eq!(failed(&response), ["m1"]);
    let delays = s.world.retries.delays();
    assert_eq!(delays.len(), 1);
    assert!(delays[0].1 >= Duration::from_secs(1), "{delays:?}");
    let entry = state(&s, &wake);
    assert_eq!(entry.state, OutboxState::Pending, "released for the retry");
    assert!(
        entry
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("503 Service Unavailable")),
        "{entry:?}"
    );
    assert!(sent(&s).is_empty());

    let retry = s.step.handle(batch(&wake)).await;
    assert!(failed(&retry).is_empty());
    assert_eq!(sent(&s).len(), 1);
    let entry = state(&s, &wake);
    assert_eq!(entry.state, OutboxState::Sent);
    assert_eq!(entry.attempts, 2);
}

#[tokio::test]
async fn a_throttled_provider_is_retried_no_sooner_than_it_asks() {
    let s = setup();
    let parcel = shipment(&s, "1004", ShipmentStatus::OutForDelivery);
    let wake = pending(&s, &parcel, "on_the_way");
    s.world.notifiers.provider.faults.inject(
        "send",
        PartnerError::Throttled {
            partner: "twilio",
            retry_after: Some(Duration::from_secs(45)),
        },
    );

    let response = s.step.handle(batch(&wake)).await;

    assert_eq!(failed(&response), ["m1"]);
    assert!(s.world.retries.delays()[0].1 >= Duration::from_secs(45));
    assert_eq!(state(&s, &wake).state, OutboxState::Pending);
    assert!(sent(&s).is_empty());
}

#[tokio::test]
async fn an_ambiguous_outcome_ends_unknown_and_is_never_resent() {
    let s = setup();
    let parcel = shipment(&s, "1005", ShipmentStatus::Delivered);
    let wake = pending(&s, &parcel, "delivered");
    s.world.notifiers.provider.lose_answers.inject(
        "send",
        PartnerError::ambiguous("twilio", "timed out after sending"),
    );

    let response = s.step.handle(batch(&wake)).await;
    let again = s.step.handle(batch(&wake)).await;

    assert!(
        failed(&response).is_empty(),
        "not retried: it may have gone out"
    );
    assert!(failed(&again).is_empty());
    assert_eq!(sent(&s).len(), 1, "the provider got it once, and only once");
    let entry = state(&s, &wake);
    assert_eq!(entry.state, OutboxState::Unknown);
    assert_eq!(entry.provider.as_deref(), Some("fake"));
    assert!(entry.provider_id.is_none());
    assert!(entry
        .last_error
        .as_deref()
        .is_some_and(|e| e.contains("timed out after sending")));
}

#[tokio::test]
async fn a_refused_message_ends_failed_and_is_not_retried() {
    let s = setup();
    let parcel = shipment(&s, "1006", ShipmentStatus::Delivered);
    let wake = pending(&s, &parcel, "delivered");
    s.world.notifiers.provider.faults.inject(
        "send",
        PartnerError::rejected(
            "twilio",
            "21211",
            "The 'To' number is not a valid phone number",
        ),
    );

    let response = s.step.handle(batch(&wake)).await;
    let again = s.step.handle(batch(&wake)).await;

    assert!(failed(&response).is_empty() && failed(&again).is_empty());
    assert!(sent(&s).is_empty());
    let entry = state(&s, &wake);
    assert_eq!(entry.state, OutboxState::Failed);
    assert!(entry
        .last_error
        .as_deref()
        .is_some_and(|e| e.contains("21211")));
    assert_eq!(entry.attempts, 1, "never claimed again");
    assert!(s.world.retries.delays().is_empty());
}

#[tokio::test]
async fn a_message_no_longer_true_is_skipped_without_sending() {
    let s = setup();
    // "On the way" composed, then the delivery overtook it.
    let parcel = shipment(&s, "1007", ShipmentStatus::Delivered);
    let wake = pending(&s, &parcel, "on_the_way");

    let response = s.step.handle(batch(&wake)).await;

    assert!(failed(&response).is_empty());
    assert!(sent(&s).is_empty());
    let entry = state(&s, &wake);
    assert_eq!(entry.state, OutboxState::Skipped);
    assert_eq!(
        entry.last_error.as_deref(),
        Some("on_the_way is no longer true: the shipment is Delivered")
    );
    assert_eq!(entry.attempts, 0, "never claimed");
}

#[tokio::test]
async fn a_message_for_a_channel_switched_off_ends_skipped() {
    let s = setup();
    let parcel = shipment(&s, "1008", ShipmentStatus::OutForDelivery);
    let wake = pending(&s, &parcel, "on_the_way");
    s.world.notifiers.switch_off(NotifyChannel::Sms);

    let response = s.step.handle(batch(&wake)).await;

    assert!(failed(&response).is_empty());
    assert!(sent(&s).is_empty());
    let entry = state(&s, &wake);
    assert_eq!(entry.state, OutboxState::Skipped);
    assert_eq!(
        entry.last_error.as_deref(),
        Some("sms notifications are off")
    );
}

#[tokio::test]
async fn an_abandoned_sending_message_ends_unknown_without_sending() {
    let s = setup();
    let parcel = shipment(&s, "1009", ShipmentStatus::OutForDelivery);
    // A sender claimed it and died: its lease ended a minute ago.
    let entry = message(&parcel, "on_the_way", OutboxState::Sending);
    let wake = OutboxQueued {
        outbox_id: entry.id.clone(),
    };
    s.world.outbox.insert(entry, now_ms() - 60_000);

    let response = s.step.handle(batch(&wake)).await;

    assert!(failed(&response).is_empty());
    assert!(sent(&s).is_empty(), "it may have gone out: never resent");
    assert_eq!(state(&s, &wake).state, OutboxState::Unknown);
}

#[tokio::test]
async fn a_message_another_sender_holds_is_left_to_it_and_looked_at_again_when_its_lease_ends() {
    let s = setup();
    let parcel = shipment(&s, "1010", ShipmentStatus::OutForDelivery);
    let entry = message(&parcel, "on_the_way", OutboxState::Sending);
    let wake = OutboxQueued {
        outbox_id: entry.id.clone(),
    };
    s.world.outbox.insert(entry, now_ms() + 20_000);

    let response = s.step.handle(batch(&wake)).await;

    assert_eq!(failed(&response), ["m1"]);
    let delays = s.world.retries.delays();
    assert!(
        delays[0].1 > Duration::from_secs(15) && delays[0].1 <= Duration::from_secs(21),
        "comes back when the lease ends: {delays:?}"
    );
    assert!(sent(&s).is_empty());
    assert_eq!(state(&s, &wake).state, OutboxState::Sending);
}

#[tokio::test]
async fn an_outbox_outage_backs_off_and_a_wake_up_for_no_message_is_poison() {
    let s = setup();
    let parcel = shipment(&s, "1011", ShipmentStatus::OutForDelivery);
    let wake = pending(&s, &parcel, "on_the_way");
    s.world
        .outbox
        .faults
        .inject("claim", fakes::unavailable("UpdateItem"));

    let response = s.step.handle(batch(&wake)).await;

    assert_eq!(failed(&response), ["m1"]);
    assert!(s.world.retries.delays()[0].1 >= Duration::from_secs(1));
    assert_eq!(state(&s, &wake).state, OutboxState::Pending);
    assert!(sent(&s).is_empty());
    let retry = s.step.handle(batch(&wake)).await;
    assert!(failed(&retry).is_empty());
    assert_eq!(sent(&s).len(), 1);

    let nothing = OutboxQueued {
        outbox_id: "shopify:acme:404:1#delivered".into(),
    };
    let poison = s.step.handle(sqs_batch(&[nothing])).await;
    assert_eq!(failed(&poison), ["m1"]);
    assert_eq!(
        s.world.retries.delays().last().map(|(_, d)| *d),
        Some(Duration::ZERO)
    );
    let unreadable = s.step.handle(sample::sqs_raw(&["{}"])).await;
    assert_eq!(failed(&unreadable), ["m1"]);
    assert_eq!(sent(&s).len(), 1);
}
