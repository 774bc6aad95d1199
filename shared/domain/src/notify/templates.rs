//! What a customer is told, per event and channel: pure functions from a [`MessageContext`]
//! to a [`Rendered`] subject and body. No I/O, no clock, no customer contact data.
//!
//! Times are shown on the wall clock of the store's time zone (its rules), else the
//! fleet's once a plan gave the shipment a driver, with the zone's abbreviation
//! ("15:30 CET"); without either, `HH:MM UTC`. Channels do not send a customer's time zone
//! reliably, so none is guessed: UTC, said as such, is never wrong.
//!
//! SMS and WhatsApp bodies aim at two SMS segments (≤ 320 characters) for a typical
//! order and stay far below Twilio's hard limit of 1,600 characters
//! (<https://www.twilio.com/docs/messaging/api/message-resource>, `Body`) for any context,
//! because every free-text field is trimmed to a bound before it is used.
//!
//! Failure reasons: Onfleet's `completionDetails.failureReason` codes seen in this repo
//! (`NOBODY`, `CLIENT_NOT_AVAILABLE`, `NONE`) and the sandbox-style snake_case codes
//! (`recipient_absent`, `address_not_found`, ...) are matched case-insensitively; an
//! unknown code gives a generic sentence, never the code itself.

use super::{scrub_contacts, NotifyChannel, OutgoingMessage};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// The events a customer hears about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    /// The task exists: here is the tracking link (and the ETA when known).
    TrackingLink,
    /// The courier has started towards the customer.
    OnTheWay,
    Delivered,
    DeliveryFailed,
    /// The address could not be placed: the customer is asked for a corrected one.
    AddressClarification,
}

impl Template {
    pub const ALL: [Template; 5] = [
        Template::TrackingLink,
        Template::OnTheWay,
        Template::Delivered,
        Template::DeliveryFailed,
        Template::AddressClarification,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Template::TrackingLink => "tracking_link",
            Template::OnTheWay => "on_the_way",
            Template::Delivered => "delivered",
            Template::DeliveryFailed => "delivery_failed",
            Template::AddressClarification => "address_clarification",
        }
    }
}

/// Everything a message may say. Blank strings count as absent. It holds no phone number
/// or e-mail address of the customer: those go in [`OutgoingMessage::to`] only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageContext {
    /// The store's name as the customer knows it (the sender).
    pub store_name: String,
    /// The channel's order name, e.g. "#1001".
    pub order_name: Option<String>,
    pub recipient_first_name: Option<String>,
    /// The courier's display name, e.g. "Sandbox Courier".
    pub courier_name: String,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    /// Estimated arrival, ms since the epoch (UTC).
    pub eta_ms: Option<i64>,
    /// The IANA time zone the customer's times are shown in (the fleet's, once a plan
    /// gave the shipment a driver); UTC without one.
    pub time_zone: Option<String>,
    /// The courier's failure reason code (Onfleet's `failureReason`, the sandbox's codes).
    pub failure_reason: Option<String>,
    /// The driver's failure notes, shown to the customer (trimmed, contacts masked).
    pub failure_notes: Option<String>,
    pub reschedule_url: Option<String>,
    /// When the parcel was delivered, ms since the epoch (UTC).
    pub delivered_at_ms: Option<i64>,
    /// Who took the parcel (the signer's name).
    pub received_by: Option<String>,
    /// The delivery address as we have it, for [`Template::AddressClarification`].
    pub address_text: Option<String>,
    /// The page where the customer corrects that address; without one, a reply is asked
    /// for.
    pub fix_address_url: Option<String>,
}

/// A rendered message: `subject` is set for e-mail only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: Option<String>,
    pub body: String,
}

impl Rendered {
    /// Addresses the message: `id` is the outbox id, `to` the customer's E.164 number or
    /// e-mail address.
    pub fn into_message(
        self,
        id: impl Into<String>,
        channel: NotifyChannel,
        to: impl Into<String>,
    ) -> OutgoingMessage {
        OutgoingMessage {
            id: id.into(),
            channel,
            to: to.into(),
            subject: self.subject,
            body: self.body,
        }
    }
}

/// Twilio's hard limit for `Body` (characters).
pub const MAX_TEXT_BODY_CHARS: usize = 1600;

// Bounds on free text, so that no context can push a text message past the hard limit.
const NAME_MAX: usize = 40;
const PARTY_MAX: usize = 60;
const ORDER_MAX: usize = 40;
const TRACKING_MAX: usize = 64;
const NOTES_MAX: usize = 160;
const ADDRESS_MAX: usize = 300;
const URL_MAX: usize = 300;

/// Renders `template` for `channel`. Optional parts that are absent are left out whole
/// (no "None", no empty labels).
pub fn render(template: Template, channel: NotifyChannel, ctx: &MessageContext) -> Rendered {
    let f = Fields::from(ctx);
    match channel {
        NotifyChannel::Sms | NotifyChannel::WhatsApp => Rendered {
            subject: None,
            body: text_body(template, &f),
        },
        NotifyChannel::Email => Rendered {
            subject: Some(email_subject(template, &f)),
            body: email_body(template, &f),
        },
    }
}

/// A human sentence fragment for a courier's failure reason code, `None` for codes that
/// say nothing ("NONE", "OTHER") or that we do not know.
pub fn failure_reason_text(code: &str) -> Option<&'static str> {
    let normalized: String = code
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    let text = match normalized.as_str() {
        "NOBODY"
        | "NOBODY_HOME"
        | "NO_ONE_HOME"
        | "NOT_HOME"
        | "NO_ANSWER"
        | "CLIENT_NOT_AVAILABLE"
        | "CUSTOMER_NOT_AVAILABLE"
        | "CUSTOMER_ABSENT"
        | "RECIPIENT_NOT_AVAILABLE"
        | "RECIPIENT_UNAVAILABLE"
        | "RECIPIENT_ABSENT"
        | "CONSIGNEE_NOT_AVAILABLE" => "nobody was available to receive it",
        "REFUSED"
        | "DELIVERY_REFUSED"
        | "RECIPIENT_REFUSED"
        | "CUSTOMER_REFUSED"
        | "REFUSED_BY_RECIPIENT"
        | "REFUSED_BY_CUSTOMER"
        | "REJECTED_BY_RECIPIENT" => "the parcel was refused",
        "ADDRESS_NOT_FOUND"
        | "WRONG_ADDRESS"
        | "BAD_ADDRESS"
        | "INCORRECT_ADDRESS"
        | "INVALID_ADDRESS"
        | "INCOMPLETE_ADDRESS"
        | "ADDRESS_INCOMPLETE"
        | "UNABLE_TO_LOCATE"
        | "CANNOT_FIND_ADDRESS"
        | "LOCATION_NOT_FOUND" => "the courier could not find the address",
        "NO_ACCESS"
        | "ACCESS_DENIED"
        | "NO_ACCESS_TO_BUILDING"
        | "BUILDING_CLOSED"
        | "BUSINESS_CLOSED"
        | "CLOSED"
        | "LOCKED"
        | "GATE_LOCKED"
        | "NO_SAFE_PLACE" => "the courier could not get access to the address",
        "DAMAGED" | "PACKAGE_DAMAGED" | "PARCEL_DAMAGED" => "the parcel was damaged",
        "PAYMENT_NOT_COLLECTED"
        | "COD_NOT_PAID"
        | "COD_NOT_READY"
        | "UNABLE_TO_PAY"
        | "NO_PAYMENT"
        | "PAYMENT_REFUSED" => "the payment due on delivery could not be collected",
        "ID_REQUIRED" | "ID_NOT_PROVIDED" | "ID_CHECK_FAILED" | "AGE_VERIFICATION_FAILED" => {
            "the required ID check could not be done"
        }
        "WEATHER" | "BAD_WEATHER" | "VEHICLE_BREAKDOWN" | "ROAD_CLOSED" | "OUT_OF_TIME"
        | "RAN_OUT_OF_TIME" | "TIME_WINDOW_MISSED" | "DELAYED" => "the courier was delayed",
        _ => return None,
    };
    Some(text)
}

/// Formats ms since the epoch as `HH:MM UTC`; `None` for a value out of range.
/// "14:30 CET": `ms` on the wall clock of `zone` with its abbreviation, or
/// [`format_time_utc`] without a zone (or with one the database does not know).
pub fn format_time(ms: i64, zone: Option<&str>) -> Option<String> {
    let Some(zone) = zone.and_then(|name| jiff::tz::TimeZone::get(name).ok()) else {
        return format_time_utc(ms);
    };
    let at = jiff::Timestamp::from_millisecond(ms)
        .ok()?
        .to_zoned_datetime(zone);
    Some(at.strftime("%H:%M %Z").to_string())
}

pub fn format_time_utc(ms: i64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    Some(format!("{:02}:{:02} UTC", at.hour(), at.minute()))
}

/// The context, cleaned and bounded once, with the phrases every template shares.
struct Fields {
    store: String,
    order: Option<String>,
    first_name: Option<String>,
    courier: String,
    tracking_number: Option<String>,
    tracking_url: Option<String>,
    eta: Option<String>,
    reason: Option<&'static str>,
    notes: Option<String>,
    reschedule_url: Option<String>,
    delivered_at: Option<String>,
    received_by: Option<String>,
    address: Option<String>,
    fix_address_url: Option<String>,
}

impl From<&MessageContext> for Fields {
    fn from(ctx: &MessageContext) -> Self {
        Fields {
            store: ours(Some(&ctx.store_name), PARTY_MAX).unwrap_or_else(|| "the store".into()),
            order: ours(ctx.order_name.as_deref(), ORDER_MAX),
            first_name: text(ctx.recipient_first_name.as_deref(), NAME_MAX),
            courier: ours(Some(&ctx.courier_name), PARTY_MAX)
                .unwrap_or_else(|| "the courier".into()),
            tracking_number: ours(Some(&ctx.tracking_number), TRACKING_MAX),
            tracking_url: url(ctx.tracking_url.as_deref()),
            eta: ctx
                .eta_ms
                .and_then(|ms| format_time(ms, ctx.time_zone.as_deref())),
            reason: ctx.failure_reason.as_deref().and_then(failure_reason_text),
            notes: text(ctx.failure_notes.as_deref(), NOTES_MAX),
            reschedule_url: url(ctx.reschedule_url.as_deref()),
            delivered_at: ctx
                .delivered_at_ms
                .and_then(|ms| format_time(ms, ctx.time_zone.as_deref())),
            received_by: text(ctx.received_by.as_deref(), PARTY_MAX),
            address: text(ctx.address_text.as_deref(), ADDRESS_MAX),
            fix_address_url: url(ctx.fix_address_url.as_deref()),
        }
    }
}

impl Fields {
    fn greeting(&self) -> String {
        match &self.first_name {
            Some(name) => format!("Hi {name},"),
            None => "Hello,".into(),
        }
    }

    /// "your order #1001 from Demo Store" / "your order from Demo Store".
    fn your_order(&self) -> String {
        match &self.order {
            Some(order) => format!("your order {order} from {}", self.store),
            None => format!("your order from {}", self.store),
        }
    }

    /// "Demo Store order #1001" / "Demo Store order", for subjects.
    fn store_order(&self) -> String {
        match &self.order {
            Some(order) => format!("{} order {order}", self.store),
            None => format!("{} order", self.store),
        }
    }

    /// Where a customer can act after a failed attempt: the rescheduling page, else the
    /// tracking page.
    fn next_step_url(&self) -> Option<(&'static str, &str)> {
        if let Some(u) = &self.reschedule_url {
            Some(("Choose a new delivery time", u))
        } else {
            self.tracking_url
                .as_deref()
                .map(|u| ("See your delivery and its next steps", u))
        }
    }
}

fn text_body(template: Template, f: &Fields) -> String {
    let mut s = format!("{} ", f.greeting());
    let order = f.your_order();
    // `write!` into a String cannot fail.
    match template {
        Template::TrackingLink => {
            let _ = write!(s, "{order} is booked with {}", f.courier);
            if let Some(n) = &f.tracking_number {
                let _ = write!(s, " (tracking {n})");
            }
            s.push('.');
            if let Some(eta) = &f.eta {
                let _ = write!(s, " Estimated delivery: {eta}.");
            }
            if let Some(u) = &f.tracking_url {
                let _ = write!(s, " Track it: {u}");
            }
        }
        Template::OnTheWay => {
            let _ = write!(s, "{} is on the way with {order}.", f.courier);
            if let Some(eta) = &f.eta {
                let _ = write!(s, " Expected around {eta}.");
            }
            if let Some(u) = &f.tracking_url {
                let _ = write!(s, " Track it: {u}");
            } else if let Some(n) = &f.tracking_number {
                let _ = write!(s, " Tracking number: {n}.");
            }
        }
        Template::Delivered => {
            let _ = write!(s, "{order} was delivered");
            if let Some(at) = &f.delivered_at {
                let _ = write!(s, " at {at}");
            }
            if let Some(who) = &f.received_by {
                let _ = write!(s, ", received by {who}");
            }
            s.push('.');
            if let Some(n) = &f.tracking_number {
                let _ = write!(s, " Tracking number: {n}.");
            }
        }
        Template::DeliveryFailed => {
            let _ = write!(s, "{} could not deliver {order}", f.courier);
            match f.reason {
                Some(reason) => {
                    let _ = write!(s, ": {reason}.");
                }
                None => s.push('.'),
            }
            if let Some(notes) = &f.notes {
                let _ = write!(s, " Courier's note: \"{notes}\".");
            }
            match f.next_step_url() {
                Some((label, u)) => {
                    let _ = write!(s, " {label}: {u}");
                }
                None => {
                    let _ = write!(s, " Please contact {} to arrange a new delivery.", f.store);
                }
            }
        }
        Template::AddressClarification => {
            let _ = write!(s, "we could not find the delivery address for {order}");
            match &f.address {
                Some(a) => {
                    let _ = write!(s, " on the map: \"{a}\".");
                }
                None => s.push('.'),
            }
            match &f.fix_address_url {
                Some(u) => {
                    let _ = write!(s, " Please correct it here: {u}");
                }
                None => s.push_str(
                    " Please reply to this message with the corrected full address \
                     (street and number, postcode, city).",
                ),
            }
        }
    }
    s
}

fn email_subject(template: Template, f: &Fields) -> String {
    let so = f.store_order();
    match template {
        Template::TrackingLink => format!("Tracking for your {so}"),
        Template::OnTheWay => format!("Your {so} is on the way"),
        Template::Delivered => format!("Your {so} was delivered"),
        Template::DeliveryFailed => format!("We could not deliver your {so}"),
        Template::AddressClarification => {
            format!("Please check the delivery address for your {so}")
        }
    }
}

fn email_body(template: Template, f: &Fields) -> String {
    let mut lines: Vec<String> = vec![f.greeting(), String::new()];
    let order = capitalized(&f.your_order());
    match template {
        Template::TrackingLink => {
            lines.push(format!("{order} has been booked with {}.", f.courier));
            lines.push(String::new());
            push_details(
                &mut lines,
                f,
                f.eta.as_deref().map(|e| ("Estimated delivery", e)),
            );
        }
        Template::OnTheWay => {
            lines.push(format!(
                "{} is on the way with {}.",
                f.courier,
                f.your_order()
            ));
            lines.push(String::new());
            push_details(
                &mut lines,
                f,
                f.eta.as_deref().map(|e| ("Expected around", e)),
            );
        }
        Template::Delivered => {
            let mut s = format!("{order} was delivered");
            if let Some(at) = &f.delivered_at {
                let _ = write!(s, " at {at}");
            }
            if let Some(who) = &f.received_by {
                let _ = write!(s, ", received by {who}");
            }
            s.push('.');
            lines.push(s);
            if let Some(n) = &f.tracking_number {
                lines.push(String::new());
                lines.push(format!("Tracking number: {n}"));
            }
        }
        Template::DeliveryFailed => {
            let mut s = format!("{} could not deliver {}", f.courier, f.your_order());
            match f.reason {
                Some(reason) => {
                    let _ = write!(s, ": {reason}.");
                }
                None => s.push('.'),
            }
            lines.push(s);
            if let Some(notes) = &f.notes {
                lines.push(format!("Courier's note: \"{notes}\""));
            }
            lines.push(String::new());
            match f.next_step_url() {
                Some((label, u)) => lines.push(format!("{label}: {u}")),
                None => lines.push(format!(
                    "Please contact {} to arrange a new delivery.",
                    f.store
                )),
            }
            if let Some(n) = &f.tracking_number {
                lines.push(format!("Tracking number: {n}"));
            }
        }
        Template::AddressClarification => {
            lines.push(format!(
                "We could not find the delivery address for {} on the map.",
                f.your_order()
            ));
            if let Some(a) = &f.address {
                lines.push(String::new());
                lines.push("The address we have:".into());
                lines.push(a.clone());
            }
            lines.push(String::new());
            match &f.fix_address_url {
                Some(u) => {
                    lines.push(
                        "Please correct it on this page, so that we can send your order on \
                         its way:"
                            .into(),
                    );
                    lines.push(u.clone());
                }
                None => lines.push(
                    "Please reply to this e-mail with the corrected full address (street \
                     and number, postcode, city), so that we can send your order on its way."
                        .into(),
                ),
            }
        }
    }
    lines.push(String::new());
    lines.push(f.store.clone());
    let mut body = lines.join("\n");
    body.push('\n');
    body
}

/// Tracking number, one optional time line, and the tracking link.
fn push_details(lines: &mut Vec<String>, f: &Fields, time: Option<(&str, &str)>) {
    if let Some(n) = &f.tracking_number {
        lines.push(format!("Tracking number: {n}"));
    }
    if let Some((label, t)) = time {
        lines.push(format!("{label}: {t}"));
    }
    if let Some(u) = &f.tracking_url {
        lines.push(format!("Track your delivery: {u}"));
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Free text made safe for a message: one line, no control characters and no bidi
/// controls ([`crate::text`]; a driver's note or the name a courier reports comes from
/// outside too), contacts masked, at most `max` characters (cut with "…"); `None` when
/// nothing is left.
fn text(value: Option<&str>, max: usize) -> Option<String> {
    bounded(value, max, true)
}

/// Our own identifiers (order numbers, tracking numbers, names of the store and courier):
/// made safe like [`text`] but never masked. An Amazon order id ("903-8868176-2219830")
/// looks like a phone number and must still reach the customer whole.
fn ours(value: Option<&str>, max: usize) -> Option<String> {
    bounded(value, max, false)
}

fn bounded(value: Option<&str>, max: usize, scrub: bool) -> Option<String> {
    let one_line = crate::text::strip_bidi_controls(value?)
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let scrubbed = if scrub {
        scrub_contacts(&one_line)
    } else {
        one_line
    };
    let scrubbed = scrubbed.trim();
    if scrubbed.is_empty() {
        return None;
    }
    if scrubbed.chars().count() <= max {
        return Some(scrubbed.to_owned());
    }
    let cut: String = scrubbed.chars().take(max.saturating_sub(1)).collect();
    Some(format!("{}…", cut.trim_end()))
}

/// A link shown as is, or not at all: http(s), no whitespace, no bidi controls (which
/// could make it read as another address), bounded (a cut URL would lead nowhere).
fn url(value: Option<&str>) -> Option<String> {
    let u = value?.trim();
    let ok = (u.starts_with("https://") || u.starts_with("http://"))
        && u.len() <= URL_MAX
        && !u
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || crate::text::is_bidi_control(c));
    ok.then(|| u.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETA_MS: i64 = 1_709_649_000_000; // 2024-03-05 14:30:00 UTC
    const DELIVERED_MS: i64 = 1_709_652_720_000; // 2024-03-05 15:32:00 UTC

    fn full() -> MessageContext {
        MessageContext {
            store_name: "Demo Store".into(),
            order_name: Some("#1001".into()),
            recipient_first_name: Some("Ana".into()),
            courier_name: "Sandbox Courier".into(),
            tracking_number: "SBX-7F3K9Q".into(),
            tracking_url: Some("https://track.courier.example/SBX-7F3K9Q".into()),
            eta_ms: Some(ETA_MS),
            time_zone: None,
            failure_reason: Some("NOBODY".into()),
            failure_notes: Some("Rang twice, gate locked".into()),
            reschedule_url: Some("https://track.courier.example/SBX-7F3K9Q/reschedule".into()),
            delivered_at_ms: Some(DELIVERED_MS),
            received_by: Some("J. Smith".into()),
            address_text: Some("12 Mian Stret, 10115 Berlin, DE".into()),
            fix_address_url: None,
        }
    }

    /// Only what every message needs.
    fn minimal() -> MessageContext {
        MessageContext {
            store_name: "Demo Store".into(),
            courier_name: "Sandbox Courier".into(),
            tracking_number: "SBX-7F3K9Q".into(),
            ..MessageContext::default()
        }
    }

    /// Every field at a long but realistic length.
    fn long() -> MessageContext {
        MessageContext {
            store_name: "The Very Long Named Organic Fruit and Vegetable Delivery Company of \
                         North Rhine-Westphalia"
                .into(),
            order_name: Some("#SO-2024-000123456789-PARTIAL-2".into()),
            recipient_first_name: Some("Maria-Fernanda Alejandra Guadalupe".into()),
            courier_name: "Express Same-Day Regional Courier Services International Ltd".into(),
            tracking_number: "ONF-9f8e7d6c5b4a39281706f5e4d3c2b1a0-XYZ".into(),
            tracking_url: Some(format!(
                "https://onf.lt/{}?utm_source=courier-bridge&utm_medium=sms",
                "a1b2c3d4e5".repeat(12)
            )),
            eta_ms: Some(ETA_MS),
            time_zone: None,
            failure_reason: Some("CLIENT_NOT_AVAILABLE".into()),
            failure_notes: Some(
                "Rang the bell three times and knocked, waited ten minutes at the front door, \
                 the concierge was not at the desk, left a card in the letterbox, \
                 will try again tomorrow morning between nine and twelve"
                    .into(),
            ),
            reschedule_url: Some(format!(
                "https://reschedule.courier.example/r/{}",
                "Zx9".repeat(60)
            )),
            delivered_at_ms: Some(DELIVERED_MS),
            received_by: Some("Concierge on duty at the reception desk, building B".into()),
            address_text: Some(
                "Apartment 14B, Residencial Jardim das Flores, Rua Doutor Alfredo de Castro \
                 Guimarães 1234, Bloco C, Entrada pelo portão lateral, Bairro Vila Nova \
                 Conceição, 04512-010 São Paulo SP, Brazil"
                    .into(),
            ),
            fix_address_url: Some(format!("https://pages.example/a/v1.{}", "Qw8".repeat(60))),
        }
    }

    const CHANNELS: [NotifyChannel; 3] = [
        NotifyChannel::Sms,
        NotifyChannel::WhatsApp,
        NotifyChannel::Email,
    ];

    fn assert_clean(r: &Rendered) {
        for part in [Some(r.body.as_str()), r.subject.as_deref()]
            .into_iter()
            .flatten()
        {
            for leak in [
                "None", "Some(", "{}", "{", "}", "null", "  ", " .", " ,", "..", ": .",
            ] {
                assert!(!part.contains(leak), "{leak:?} leaked into {part:?}");
            }
        }
    }

    #[test]
    fn template_names_are_snake_case_in_serde_and_as_str() {
        for t in Template::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<Template>(&json).unwrap(), t);
        }
    }

    #[test]
    fn tracking_link_has_the_link_the_number_and_the_eta() {
        // GIVEN a booked task with an ETA  WHEN rendered for SMS
        let r = render(Template::TrackingLink, NotifyChannel::Sms, &full());
        // THEN
        assert_eq!(r.subject, None);
        assert_eq!(
            r.body,
            "Hi Ana, your order #1001 from Demo Store is booked with Sandbox Courier \
             (tracking SBX-7F3K9Q). Estimated delivery: 14:30 UTC. \
             Track it: https://track.courier.example/SBX-7F3K9Q"
        );
        assert_clean(&r);
    }

    #[test]
    fn tracking_link_without_optional_parts_leaves_them_out() {
        let r = render(Template::TrackingLink, NotifyChannel::Sms, &minimal());
        assert_eq!(
            r.body,
            "Hello, your order from Demo Store is booked with Sandbox Courier \
             (tracking SBX-7F3K9Q)."
        );
        assert_clean(&r);
    }

    #[test]
    fn tracking_link_email_has_a_subject_and_lines() {
        let r = render(Template::TrackingLink, NotifyChannel::Email, &full());
        assert_eq!(
            r.subject.as_deref(),
            Some("Tracking for your Demo Store order #1001")
        );
        assert_eq!(
            r.body,
            "Hi Ana,\n\nYour order #1001 from Demo Store has been booked with Sandbox Courier.\n\n\
             Tracking number: SBX-7F3K9Q\nEstimated delivery: 14:30 UTC\n\
             Track your delivery: https://track.courier.example/SBX-7F3K9Q\n\nDemo Store\n"
        );
        let bare = render(Template::TrackingLink, NotifyChannel::Email, &minimal());
        assert_eq!(
            bare.subject.as_deref(),
            Some("Tracking for your Demo Store order")
        );
        assert!(!bare.body.contains("Estimated"));
        assert!(!bare.body.contains("Track your delivery"));
        assert_clean(&bare);
    }

    #[test]
    fn on_the_way_names_the_courier_and_the_eta() {
        let r = render(Template::OnTheWay, NotifyChannel::WhatsApp, &full());
        assert_eq!(
            r.body,
            "Hi Ana, Sandbox Courier is on the way with your order #1001 from Demo Store. \
             Expected around 14:30 UTC. Track it: https://track.courier.example/SBX-7F3K9Q"
        );
        let bare = render(Template::OnTheWay, NotifyChannel::Sms, &minimal());
        assert_eq!(
            bare.body,
            "Hello, Sandbox Courier is on the way with your order from Demo Store. \
             Tracking number: SBX-7F3K9Q."
        );
        assert_clean(&bare);
        let email = render(Template::OnTheWay, NotifyChannel::Email, &full());
        assert_eq!(
            email.subject.as_deref(),
            Some("Your Demo Store order #1001 is on the way")
        );
        assert!(email.body.contains("Expected around: 14:30 UTC\n"));
        assert_clean(&email);
    }

    #[test]
    fn delivered_says_when_and_who_received_it() {
        let r = render(Template::Delivered, NotifyChannel::Sms, &full());
        assert_eq!(
            r.body,
            "Hi Ana, your order #1001 from Demo Store was delivered at 15:32 UTC, \
             received by J. Smith. Tracking number: SBX-7F3K9Q."
        );
        let bare = render(Template::Delivered, NotifyChannel::Sms, &minimal());
        assert_eq!(
            bare.body,
            "Hello, your order from Demo Store was delivered. Tracking number: SBX-7F3K9Q."
        );
        let email = render(Template::Delivered, NotifyChannel::Email, &full());
        assert_eq!(
            email.subject.as_deref(),
            Some("Your Demo Store order #1001 was delivered")
        );
        assert!(email.body.contains(
            "Your order #1001 from Demo Store was delivered at 15:32 UTC, received by J. Smith."
        ));
        assert_clean(&email);
    }

    #[test]
    fn delivery_failed_gives_the_reason_the_note_and_the_reschedule_link() {
        let r = render(Template::DeliveryFailed, NotifyChannel::Sms, &full());
        assert_eq!(
            r.body,
            "Hi Ana, Sandbox Courier could not deliver your order #1001 from Demo Store: \
             nobody was available to receive it. Courier's note: \"Rang twice, gate locked\". \
             Choose a new delivery time: https://track.courier.example/SBX-7F3K9Q/reschedule"
        );
        assert_clean(&r);
        let email = render(Template::DeliveryFailed, NotifyChannel::Email, &full());
        assert_eq!(
            email.subject.as_deref(),
            Some("We could not deliver your Demo Store order #1001")
        );
        assert!(email.body.contains("Choose a new delivery time: https://"));
        assert_clean(&email);
    }

    #[test]
    fn delivery_failed_falls_back_to_the_tracking_link_then_to_the_store() {
        let mut ctx = full();
        ctx.reschedule_url = None;
        let r = render(Template::DeliveryFailed, NotifyChannel::Sms, &ctx);
        assert!(r.body.ends_with(
            "See your delivery and its next steps: https://track.courier.example/SBX-7F3K9Q"
        ));
        let bare = render(Template::DeliveryFailed, NotifyChannel::Sms, &minimal());
        assert_eq!(
            bare.body,
            "Hello, Sandbox Courier could not deliver your order from Demo Store. \
             Please contact Demo Store to arrange a new delivery."
        );
        assert_clean(&bare);
    }

    #[test]
    fn unknown_or_empty_reason_codes_give_the_generic_sentence_never_the_code() {
        for code in [
            "MANAGER_OVERRIDE",
            "NONE",
            "OTHER",
            "{\"code\":17}",
            "E_4711",
            "",
        ] {
            let ctx = MessageContext {
                failure_reason: Some(code.into()),
                ..minimal()
            };
            for channel in CHANNELS {
                let r = render(Template::DeliveryFailed, channel, &ctx);
                assert!(
                    r.body
                        .contains("could not deliver your order from Demo Store."),
                    "{code}: {}",
                    r.body
                );
                if !code.is_empty() {
                    assert!(!r.body.contains(code), "{code} printed: {}", r.body);
                }
                assert_clean(&r);
            }
        }
    }

    #[test]
    fn known_reason_codes_map_whatever_their_case() {
        for (code, text) in [
            ("NOBODY", "nobody was available to receive it"),
            ("CLIENT_NOT_AVAILABLE", "nobody was available to receive it"),
            ("recipient_absent", "nobody was available to receive it"),
            (
                "address_not_found",
                "the courier could not find the address",
            ),
            ("refused", "the parcel was refused"),
            (
                "no-access",
                "the courier could not get access to the address",
            ),
            ("damaged", "the parcel was damaged"),
        ] {
            assert_eq!(failure_reason_text(code), Some(text), "{code}");
        }
        assert_eq!(failure_reason_text("NONE"), None);
    }

    #[test]
    fn address_clarification_links_to_the_fix_address_page_when_there_is_one() {
        let mut ctx = full();
        ctx.fix_address_url = Some("https://pages.example/a/v1.abc.def".into());
        let sms = render(Template::AddressClarification, NotifyChannel::Sms, &ctx);
        assert!(
            sms.body
                .ends_with("Please correct it here: https://pages.example/a/v1.abc.def"),
            "{}",
            sms.body
        );
        assert!(!sms.body.contains("reply"), "{}", sms.body);
        let email = render(Template::AddressClarification, NotifyChannel::Email, &ctx);
        assert!(
            email
                .body
                .contains("Please correct it on this page, so that we can send your order on its way:\nhttps://pages.example/a/v1.abc.def\n"),
            "{}",
            email.body
        );
        assert!(!email.body.contains("reply"), "{}", email.body);
    }

    #[test]
    fn address_clarification_quotes_the_address_and_asks_for_a_reply() {
        let r = render(Template::AddressClarification, NotifyChannel::Sms, &full());
        assert_eq!(
            r.body,
            "Hi Ana, we could not find the delivery address for your order #1001 from Demo Store \
             on the map: \"12 Mian Stret, 10115 Berlin, DE\". Please reply to this message with \
             the corrected full address (street and number, postcode, city)."
        );
        let bare = render(
            Template::AddressClarification,
            NotifyChannel::Sms,
            &minimal(),
        );
        assert!(bare
            .body
            .starts_with("Hello, we could not find the delivery address for your order from Demo Store. Please reply"));
        let email = render(
            Template::AddressClarification,
            NotifyChannel::Email,
            &full(),
        );
        assert_eq!(
            email.subject.as_deref(),
            Some("Please check the delivery address for your Demo Store order #1001")
        );
        assert!(email
            .body
            .contains("The address we have:\n12 Mian Stret, 10115 Berlin, DE\n"));
        assert!(email.body.contains("Please reply to this e-mail"));
        assert_clean(&bare);
        assert_clean(&email);
    }

    #[test]
    fn typical_text_bodies_fit_in_two_segments() {
        for t in Template::ALL {
            for channel in [NotifyChannel::Sms, NotifyChannel::WhatsApp] {
                let r = render(t, channel, &full());
                assert!(
                    r.body.chars().count() <= 320,
                    "{t:?}: {} chars",
                    r.body.chars().count()
                );
            }
        }
    }

    #[test]
    fn long_realistic_contexts_stay_within_twilios_limit() {
        for t in Template::ALL {
            for channel in CHANNELS {
                let r = render(t, channel, &long());
                let n = r.body.chars().count();
                if channel != NotifyChannel::Email {
                    assert!(n <= MAX_TEXT_BODY_CHARS, "{t:?} {channel:?}: {n} chars");
                }
                assert_clean(&r);
            }
        }
    }

    #[test]
    fn blank_strings_count_as_absent() {
        let ctx = MessageContext {
            store_name: " ".into(),
            order_name: Some("".into()),
            recipient_first_name: Some("  ".into()),
            courier_name: "".into(),
            tracking_number: " ".into(),
            tracking_url: Some("not a url".into()),
            received_by: Some("\n".into()),
            ..MessageContext::default()
        };
        let r = render(Template::Delivered, NotifyChannel::Sms, &ctx);
        assert_eq!(r.body, "Hello, your order from the store was delivered.");
        let r = render(Template::OnTheWay, NotifyChannel::Sms, &ctx);
        assert_eq!(
            r.body,
            "Hello, the courier is on the way with your order from the store."
        );
    }

    #[test]
    fn customer_phone_numbers_and_emails_in_free_text_are_masked() {
        let ctx = MessageContext {
            failure_notes: Some("called +49 151 2345 6789 and wrote ana@example.com".into()),
            recipient_first_name: Some("ana@example.com".into()),
            address_text: Some("Hauptstr. 5, 10115 Berlin, call 030 1234 5678".into()),
            ..full()
        };
        for t in Template::ALL {
            for channel in CHANNELS {
                let r = render(t, channel, &ctx);
                assert!(!r.body.contains("2345"), "{}", r.body);
                assert!(!r.body.contains("1234 5678"), "{}", r.body);
                assert!(!r.body.contains("ana@example.com"), "{}", r.body);
            }
        }
        let r = render(Template::AddressClarification, NotifyChannel::Sms, &ctx);
        // The postcode (5 digits) is not a phone number.
        assert!(r.body.contains("Hauptstr. 5, 10115 Berlin"), "{}", r.body);
    }

    #[test]
    fn times_are_hh_mm_utc_and_out_of_range_ones_are_left_out() {
        assert_eq!(format_time_utc(ETA_MS).as_deref(), Some("14:30 UTC"));
        assert_eq!(format_time_utc(0).as_deref(), Some("00:00 UTC"));
        assert_eq!(format_time_utc(i64::MAX), None);
        // In the fleet's zone once a plan gave the shipment a driver.
        assert_eq!(
            format_time(ETA_MS, Some("Europe/Berlin")).as_deref(),
            Some("15:30 CET")
        );
        assert_eq!(
            format_time(ETA_MS, Some("Asia/Kolkata")).as_deref(),
            Some("20:00 IST")
        );
        assert_eq!(
            format_time(ETA_MS, Some("Nowhere/Else")).as_deref(),
            Some("14:30 UTC")
        );
        assert_eq!(format_time(i64::MAX, Some("Europe/Berlin")), None);
        let ctx = MessageContext {
            eta_ms: Some(i64::MAX),
            ..full()
        };
        let r = render(Template::TrackingLink, NotifyChannel::Sms, &ctx);
        assert!(!r.body.contains("Estimated"), "{}", r.body);
    }

    #[test]
    fn into_message_addresses_the_rendered_text() {
        let m = render(Template::Delivered, NotifyChannel::Email, &full()).into_message(
            "store#SO-1#delivered",
            NotifyChannel::Email,
            "ana@example.com",
        );
        assert_eq!(m.id, "store#SO-1#delivered");
        assert_eq!(m.to, "ana@example.com");
        assert!(m.subject.is_some());
    }

    #[test]
    fn an_order_number_that_looks_like_a_phone_reaches_the_customer_whole() {
        let ctx = MessageContext {
            store_name: "a3th9s8bh6gogm".into(),
            order_name: Some("903-8868176-2219830".into()),
            courier_name: "Onfleet".into(),
            tracking_number: "4930901820123".into(),
            ..MessageContext::default()
        };
        for channel in [NotifyChannel::Sms, NotifyChannel::Email] {
            let r = render(Template::TrackingLink, channel, &ctx);
            assert!(r.body.contains("903-8868176-2219830"), "{}", r.body);
            assert!(r.body.contains("4930901820123"), "{}", r.body);
        }
    }

    #[test]
    fn a_name_or_link_with_a_bidi_control_is_shown_without_it_or_not_at_all() {
        let ctx = MessageContext {
            recipient_first_name: Some("\u{202E}miK".into()),
            tracking_url: Some("https://track.example/\u{202E}fdp.exe".into()),
            ..full()
        };
        let r = render(Template::TrackingLink, NotifyChannel::Sms, &ctx);
        assert!(r.body.starts_with("Hi miK,"), "{}", r.body);
        assert!(!r.body.contains("track.example"), "{}", r.body);
        assert!(!r.body.contains('\u{202E}'));
    }
}
