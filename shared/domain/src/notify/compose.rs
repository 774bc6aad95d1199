//! Customer notifications from the pipeline: the message for one shipment and one event is
//! composed from the shipment record and the store's rules, put in the outbox once (its id
//! is the shipment key and the template), and the notify function is woken to send it.
//!
//! Composing is idempotent, so every step composes on every retry: a repeat finds the
//! message already in the outbox and, once it has ended, does not even wake the sender.

use super::outbox::{OutboxEntry, OutboxState};
use super::templates::{render, MessageContext, Template};
use super::NotifyChannel;
use crate::messages::OutboxQueued;
use crate::ports::{CustomerPage, Notifiers, Outbox, Queue, StorageError, StoreRules};
use crate::record::ShipmentRecord;
use crate::rules::NotificationRules;
use crate::{ShipmentKey, ShipmentStatus};

/// What composing a customer message reads and writes: the store's rules (which channels,
/// in which order), which channels have a provider, the outbox, and the queue that wakes
/// the notify function.
#[derive(Clone, Copy)]
pub struct Composer<'a> {
    pub rules: &'a dyn StoreRules,
    pub notifiers: &'a dyn Notifiers,
    pub outbox: &'a dyn Outbox,
    pub wake: &'a dyn Queue<OutboxQueued>,
    /// Signed links to the stack's tracking page; `None`: the courier's tracking link.
    pub links: Option<&'a dyn crate::ports::CustomerLinks>,
}

/// What [`Composer::compose`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notified {
    /// In the outbox (now or before) and the sender woken.
    Queued { outbox_id: String, first: bool },
    /// Already sent or otherwise ended: nothing to do.
    AlreadyEnded { outbox_id: String },
    /// The store's channels reach nobody: no e-mail, no phone, or every provider off.
    NoContact,
}

/// The template a courier status calls for, if any.
pub fn template_for(status: ShipmentStatus) -> Option<Template> {
    match status {
        ShipmentStatus::OutForDelivery => Some(Template::OnTheWay),
        ShipmentStatus::Delivered => Some(Template::Delivered),
        ShipmentStatus::Failed => Some(Template::DeliveryFailed),
        _ => None,
    }
}

/// Whether `template` still tells the truth about a shipment now in `status`: the notify
/// function drops "on the way" once the parcel is delivered (the events raced).
pub fn still_true(template: &str, status: ShipmentStatus) -> bool {
    use ShipmentStatus::*;
    match template {
        "tracking_link" => !status.is_terminal(),
        "on_the_way" => status == OutForDelivery,
        "delivered" => status == Delivered,
        "delivery_failed" => matches!(status, Failed | Returned),
        _ => true,
    }
}

impl Composer<'_> {
    /// Composes `template` for the shipment, adds it to the outbox and wakes the sender.
    pub async fn compose(
        &self,
        record: &ShipmentRecord,
        key: &ShipmentKey,
        template: Template,
        address_text: Option<String>,
    ) -> Result<Notified, StorageError> {
        let config = self.rules.get(key.channel, &key.store).await?;
        let rules = &config.notifications;
        let Some((channel, to)) = self.contact(record, &rules.channels()) else {
            tracing::info!(
                template = template.as_str(),
                "no way to reach the customer; not notified"
            );
            return Ok(Notified::NoContact);
        };
        let mut ctx = context(record, key, rules, address_text);
        if let Some(zone) = &config.time_zone {
            // The store's own time zone comes first: its customers live in it.
            ctx.time_zone = Some(zone.as_str().to_owned());
        }
        if let Some(links) = self.links {
            let now = crate::clock::now_ms();
            match links.page(CustomerPage::Track, key, now).await {
                Ok(link) => ctx.tracking_url = Some(link),
                // The message still goes, with the courier's own tracking link.
                Err(error) => {
                    tracing::warn!(%error, "no tracking page link; the courier's is sent")
                }
            }
            // A store that offers slots has its customers pick one on the stack's page.
            if template == Template::DeliveryFailed && config.delivery_slots.is_some() {
                match links.page(CustomerPage::Reschedule, key, now).await {
                    Ok(link) => ctx.reschedule_url = Some(link),
                    Err(error) => tracing::warn!(%error, "no reschedule link; the store's is sent"),
                }
            }
            if template == Template::AddressClarification {
                match links.page(CustomerPage::FixAddress, key, now).await {
                    Ok(link) => ctx.fix_address_url = Some(link),
                    // The message still goes, asking for the address by reply.
                    Err(error) => tracing::warn!(%error, "no fix-address link; asked by reply"),
                }
            }
        }
        let rendered = render(template, channel, &ctx);
        let key_text = key.to_string();
        let entry = OutboxEntry {
            id: OutboxEntry::id_for(&key_text, template.as_str()),
            shipment_key: key_text,
            template: template.as_str().to_owned(),
            channel,
            to,
            subject: rendered.subject,
            body: rendered.body,
            state: OutboxState::Pending,
            attempts: 0,
            provider: None,
            provider_id: None,
            last_error: None,
            created_ms: crate::clock::now_ms(),
        };
        let first = self.outbox.add(&entry).await?;
        if !first {
            if let Some(existing) = self.outbox.get(&entry.id).await? {
                if existing.state.is_final() {
                    return Ok(Notified::AlreadyEnded {
                        outbox_id: entry.id,
                    });
                }
            }
        }
        // Woken on every repeat until it has ended: the first wake-up may have been lost
        // between the put and the send.
        self.wake
            .send(&OutboxQueued {
                outbox_id: entry.id.clone(),
            })
            .await?;
        tracing::info!(outbox = %entry.id, channel = channel.as_str(), first, "customer notification queued");
        Ok(Notified::Queued {
            outbox_id: entry.id,
            first,
        })
    }

    /// The first of the store's channels that has both a provider and an address.
    fn contact(
        &self,
        record: &ShipmentRecord,
        channels: &[NotifyChannel],
    ) -> Option<(NotifyChannel, String)> {
        let recipient = &record.shipment.recipient;
        channels.iter().find_map(|&channel| {
            if !self.notifiers.is_on(channel) {
                return None;
            }
            let to = match channel {
                NotifyChannel::Email => recipient.email.clone(),
                NotifyChannel::Sms | NotifyChannel::WhatsApp => {
                    recipient.phone.as_ref().map(|p| p.e164.clone())
                }
            }?;
            Some((channel, to))
        })
    }
}

fn context(
    record: &ShipmentRecord,
    key: &ShipmentKey,
    rules: &NotificationRules,
    address_text: Option<String>,
) -> MessageContext {
    let shipment = &record.shipment;
    let task = record.task.as_ref();
    let tracking_number = task.map(|t| t.tracking_number.clone()).unwrap_or_default();
    let tracking_url = task.and_then(|t| t.tracking_url.clone());
    let order = shipment
        .order_name
        .clone()
        .unwrap_or_else(|| key.order_id.clone());
    let reschedule_url = rules.reschedule_url.as_ref().map(|template| {
        template
            .replace("{order}", &urlencode(&key.order_id))
            .replace("{tracking}", &urlencode(&tracking_number))
    });
    let proof = record.delivery.proof.as_ref();
    let delivered_at_ms = proof.and_then(|p| p.completed_at_ms).or_else(|| {
        record
            .transitions
            .iter()
            .find(|(s, _)| *s == ShipmentStatus::Delivered)
            .map(|(_, at)| *at)
    });
    MessageContext {
        store_name: rules
            .sender_name
            .clone()
            .unwrap_or_else(|| key.store.clone()),
        order_name: Some(order),
        recipient_first_name: shipment
            .recipient
            .name
            .split_whitespace()
            .next()
            .map(str::to_owned),
        courier_name: record
            .courier
            .map_or("courier", |c| c.display_name())
            .to_owned(),
        tracking_number,
        tracking_url,
        // The courier's latest estimate; before it has one, the plan's.
        eta_ms: record
            .delivery
            .eta_ms
            .or(record.dispatch.as_ref().map(|d| d.eta_ms)),
        time_zone: record.dispatch.as_ref().map(|d| d.time_zone.clone()),
        failure_reason: record
            .delivery
            .failure
            .as_ref()
            .and_then(|f| f.reason.clone()),
        failure_notes: record
            .delivery
            .failure
            .as_ref()
            .and_then(|f| f.notes.clone()),
        reschedule_url,
        delivered_at_ms,
        received_by: proof.and_then(|p| p.signature_text.clone()),
        address_text,
        fix_address_url: None,
    }
}

/// Percent-encodes a value for a URL's query or path.
fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_call_for_their_messages() {
        assert_eq!(
            template_for(ShipmentStatus::OutForDelivery),
            Some(Template::OnTheWay)
        );
        assert_eq!(
            template_for(ShipmentStatus::Delivered),
            Some(Template::Delivered)
        );
        assert_eq!(
            template_for(ShipmentStatus::Failed),
            Some(Template::DeliveryFailed)
        );
        assert_eq!(template_for(ShipmentStatus::PickedUp), None);
    }

    #[test]
    fn a_message_overtaken_by_the_delivery_is_no_longer_true() {
        assert!(still_true("on_the_way", ShipmentStatus::OutForDelivery));
        assert!(!still_true("on_the_way", ShipmentStatus::Delivered));
        assert!(!still_true("tracking_link", ShipmentStatus::Delivered));
        assert!(still_true("delivery_failed", ShipmentStatus::Returned));
        assert!(still_true("address_clarification", ShipmentStatus::Pending));
    }

    #[test]
    fn the_plans_eta_stands_in_until_the_courier_gives_one_in_the_fleets_time() {
        let shipment: crate::Shipment = serde_json::from_value(serde_json::json!({
            "key": "shopify:acme:1001:1",
            "recipient": {"name": "Kim Weber"},
            "address": {"street": "Torstraße 1", "city": "Berlin", "country_code": "DE"},
            "parcel": {"pieces": 1},
            "payment": {"kind": "prepaid", "order_total": {"minor": 100, "currency": "EUR"}},
            "service": "standard"
        }))
        .unwrap();
        let mut record = ShipmentRecord {
            shipment: shipment.clone(),
            status: ShipmentStatus::Assigned,
            source_event_ms: 0,
            source_inbound: "in".into(),
            courier: None,
            task: None,
            version: 1,
            tracking_written_back: None,
            cancel_requested: false,
            edited_after_task: false,
            transitions: Vec::new(),
            delivery: Default::default(),
            dispatch: None,
        };
        let rules = NotificationRules::default();
        let key = &shipment.key;
        assert_eq!(context(&record, key, &rules, None).eta_ms, None);

        record.dispatch = Some(crate::record::Dispatched {
            plan_id: "p1".into(),
            day: "2026-12-07".into(),
            driver: "drv_01".into(),
            eta_ms: 1_796_641_200_000,
            time_zone: "Europe/Berlin".into(),
        });
        let planned = context(&record, key, &rules, None);
        assert_eq!(planned.eta_ms, Some(1_796_641_200_000));
        assert_eq!(planned.time_zone.as_deref(), Some("Europe/Berlin"));

        record.delivery.eta_ms = Some(1_796_644_800_000);
        assert_eq!(
            context(&record, key, &rules, None).eta_ms,
            Some(1_796_644_800_000)
        );
    }

    #[test]
    fn reschedule_links_are_encoded() {
        assert_eq!(urlencode("#10 01/a b"), "%2310%2001%2Fa%20b");
    }
}
