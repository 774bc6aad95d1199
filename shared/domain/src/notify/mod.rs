//! Customer notifications: what a customer is told about their delivery ([`templates`]),
//! composed once per shipment and event into the outbox ([`compose`]), and sent at most once
//! by the notify function through a [`crate::ports::Notifier`] (SMS and WhatsApp through a
//! Twilio-compatible API, e-mail through Amazon SES, a local capture sink).

pub mod compose;
pub mod outbox;
pub mod templates;

pub use compose::{still_true, template_for, Composer, Notified};
pub use outbox::{OutboxClaim, OutboxEntry, OutboxState};
pub use templates::{render, MessageContext, Rendered, Template};

use serde::{Deserialize, Serialize};

/// How a message reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyChannel {
    Sms,
    #[serde(rename = "whatsapp")]
    WhatsApp,
    Email,
}

impl NotifyChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyChannel::Sms => "sms",
            NotifyChannel::WhatsApp => "whatsapp",
            NotifyChannel::Email => "email",
        }
    }
}

/// One message, rendered and addressed, as a provider sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    /// The outbox id: stable per shipment and event ("<shipment key>#delivered").
    pub id: String,
    pub channel: NotifyChannel,
    /// An E.164 phone number (SMS, WhatsApp) or an e-mail address.
    pub to: String,
    /// E-mail only.
    pub subject: Option<String>,
    pub body: String,
}

/// A provider accepted the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// "twilio", "ses", "capture".
    pub provider: String,
    /// The provider's id for the message (a Twilio `SM…` sid, an SES MessageId).
    pub provider_id: String,
}

/// Masks what looks like a phone number or an e-mail address in free text (a driver's
/// note, a provider's error message), so that a message body or a log line never carries
/// a customer's contact. A phone number is a run of digits and separators with a leading
/// "+" and at least 7 digits, or with at least 10 digits; postcodes, house numbers, dates
/// and order numbers stay.
pub fn scrub_contacts(text: &str) -> String {
    let words: Vec<String> = text.split(' ').map(mask_email).collect();
    mask_phone_numbers(&words.join(" "))
}

/// The word with an e-mail address in it replaced, punctuation around it kept.
fn mask_email(word: &str) -> String {
    let (Some(start), Some(last)) = (
        word.find(char::is_alphanumeric),
        word.rfind(char::is_alphanumeric),
    ) else {
        return word.to_owned();
    };
    // `last` is the start of the last alphanumeric char; include all of it.
    let end = last + word[last..].chars().next().map_or(1, char::len_utf8);
    let core = &word[start..end];
    match core.split_once('@') {
        Some((local, domain)) if !local.is_empty() && domain.contains('.') => {
            format!("{}[email]{}", &word[..start], &word[end..])
        }
        _ => word.to_owned(),
    }
}

fn mask_phone_numbers(text: &str) -> String {
    const SEPARATORS: [char; 5] = [' ', '-', '.', '(', ')'];
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_run = (c == '+' || c == '(' || c.is_ascii_digit())
            && (i == 0 || !chars[i - 1].is_alphanumeric());
        if !starts_run {
            out.push(c);
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < chars.len() && (chars[end].is_ascii_digit() || SEPARATORS.contains(&chars[end]))
        {
            end += 1;
        }
        // Trailing separators belong to the text around the run, not to the number.
        while end > i + 1 && SEPARATORS.contains(&chars[end - 1]) {
            end -= 1;
        }
        let run = &chars[i..end];
        let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
        let plus = run.first() == Some(&'+');
        let glued_to_word = end < chars.len() && chars[end].is_alphanumeric();
        if !glued_to_word && ((plus && digits >= 7) || digits >= 10) {
            out.push_str("[phone]");
        } else {
            out.extend(run);
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_and_emails_are_masked_and_other_numbers_kept() {
        for (input, expected) in [
            ("call +49 151 2345 6789 now", "call [phone] now"),
            ("call (030) 1234-5678.", "call [phone]."),
            ("mail ana.b@example.co.uk, thanks", "mail [email], thanks"),
            (
                "The 'To' number +166321456 is not valid",
                "The 'To' number [phone] is not valid",
            ),
            (
                "12 Main St, 94105-1234 San Francisco",
                "12 Main St, 94105-1234 San Francisco",
            ),
            ("04512-010 São Paulo", "04512-010 São Paulo"),
            ("order #1001 on 2024-03-05", "order #1001 on 2024-03-05"),
            ("no contact here", "no contact here"),
        ] {
            assert_eq!(scrub_contacts(input), expected, "{input}");
        }
    }
}
