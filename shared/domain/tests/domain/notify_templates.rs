//! Properties of the customer messages for any context: a text body never exceeds
//! Twilio's 1,600 characters, an e-mail always has a subject, and no template prints a
//! placeholder or a raw value of an absent field, nor a bidi control from any field.

use domain::notify::templates::MAX_TEXT_BODY_CHARS;
use domain::notify::{render, MessageContext, NotifyChannel, Template};
use proptest::prelude::*;

/// Printable text with some accents, line breaks and Unicode's bidi controls (a driver's
/// note or a signer's name comes from outside).
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!(
        "[ -~àéüßçñ€\n\t\u{061C}\u{200E}\u{200F}\u{202A}-\u{202E}\u{2066}-\u{2069}]{{0,{max}}}"
    ))
    .unwrap()
}

fn has_bidi_control(s: &str) -> bool {
    s.chars().any(domain::text::is_bidi_control)
}

fn context() -> impl Strategy<Value = MessageContext> {
    (
        (
            text(400),
            proptest::option::of(text(400)),
            proptest::option::of(text(400)),
        ),
        (text(400), text(400), proptest::option::of(text(2000))),
        (
            proptest::option::of(any::<i64>()),
            proptest::option::of(text(100)),
            proptest::option::of(text(2000)),
        ),
        (
            proptest::option::of(text(2000)),
            proptest::option::of(any::<i64>()),
            proptest::option::of(text(400)),
            proptest::option::of(text(2000)),
            proptest::option::of(text(2000)),
        ),
    )
        .prop_map(
            |(
                (store_name, order_name, recipient_first_name),
                (courier_name, tracking_number, tracking_url),
                (eta_ms, failure_reason, failure_notes),
                (reschedule_url, delivered_at_ms, received_by, address_text, fix_address_url),
            )| MessageContext {
                store_name,
                order_name,
                recipient_first_name,
                courier_name,
                tracking_number,
                tracking_url,
                eta_ms,
                time_zone: None,
                failure_reason,
                failure_notes,
                reschedule_url,
                delivered_at_ms,
                received_by,
                address_text,
                fix_address_url,
            },
        )
}

proptest! {
    #[test]
    fn text_bodies_stay_within_twilios_limit_and_emails_have_subjects(ctx in context()) {
        for template in Template::ALL {
            for channel in [NotifyChannel::Sms, NotifyChannel::WhatsApp] {
                let r = render(template, channel, &ctx);
                prop_assert!(r.subject.is_none());
                prop_assert!(r.body.chars().count() <= MAX_TEXT_BODY_CHARS);
                prop_assert!(!r.body.contains('\n'));
                prop_assert!(!has_bidi_control(&r.body), "{:?}", r.body);
            }
            let email = render(template, NotifyChannel::Email, &ctx);
            prop_assert!(!has_bidi_control(&email.body), "{:?}", email.body);
            let subject = email.subject.unwrap_or_default();
            prop_assert!(!subject.trim().is_empty());
            prop_assert!(!subject.contains('\n'));
            prop_assert!(!has_bidi_control(&subject), "{:?}", subject);
        }
    }

    #[test]
    fn an_empty_context_renders_whole_sentences(template in proptest::sample::select(Template::ALL.to_vec())) {
        for channel in [NotifyChannel::Sms, NotifyChannel::WhatsApp, NotifyChannel::Email] {
            let r = render(template, channel, &MessageContext::default());
            for leak in ["None", "{", "}", "  ", " .", "..", "()", "\"\""] {
                prop_assert!(!r.body.contains(leak), "{:?} in {:?}", leak, r.body);
            }
        }
    }
}
