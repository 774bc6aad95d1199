//! The checks Twilio makes on a new message, in the order the fake makes them, and the
//! errors it answers with.

use axum::http::StatusCode;

use super::store::TwilioChannel;

/// Twilio's longest message body, in characters.
pub(super) const MAX_BODY_CHARS: usize = 1600;

/// The `whatsapp:` channel prefix of `To` and `From`.
const WHATSAPP_PREFIX: &str = "whatsapp:";

/// A Twilio REST error: its code, HTTP status and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TwilioError {
    pub(super) status: StatusCode,
    pub(super) code: u32,
    pub(super) message: String,
}

impl TwilioError {
    fn bad_request(code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }
}

/// The parameters of `POST .../Messages.json` this fake reads; blank counts as absent.
#[derive(Debug, Default)]
pub(super) struct MessageParams {
    pub(super) to: Option<String>,
    pub(super) from: Option<String>,
    pub(super) messaging_service_sid: Option<String>,
    pub(super) body: Option<String>,
    pub(super) media_urls: usize,
}

impl MessageParams {
    /// From form pairs; a repeated parameter keeps its first value.
    pub(super) fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut params = Self::default();
        for (name, value) in pairs {
            if value.trim().is_empty() {
                continue;
            }
            let slot = match name.as_str() {
                "To" => &mut params.to,
                "From" => &mut params.from,
                "MessagingServiceSid" => &mut params.messaging_service_sid,
                "Body" => &mut params.body,
                "MediaUrl" => {
                    params.media_urls += 1;
                    continue;
                }
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        params
    }
}

/// A message that passed every check.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Accepted {
    pub(super) to: String,
    pub(super) from: Option<String>,
    pub(super) messaging_service_sid: Option<String>,
    pub(super) body: String,
    pub(super) channel: TwilioChannel,
    pub(super) num_segments: u32,
    pub(super) num_media: usize,
}

/// Checks a new message the way Twilio does, first failing check wins: required
/// parameters (`To` 21604, `From`/`MessagingServiceSid` 21603, the service sid's shape
/// 21705, `Body` 21602, its length 21617), the channel pair (21910), the addresses' format
/// (`To` 21211, `From` 21212), then Twilio's magic test numbers, `From` before `To`.
pub(super) fn check(params: MessageParams) -> Result<Accepted, TwilioError> {
    let to = params
        .to
        .ok_or_else(|| TwilioError::bad_request(21604, "A 'To' phone number is required."))?;
    if params.from.is_none() && params.messaging_service_sid.is_none() {
        return Err(TwilioError::bad_request(
            21603,
            "A 'From' phone number is required.",
        ));
    }
    if let Some(sid) = &params.messaging_service_sid {
        if !is_sid(sid, "MG") {
            return Err(TwilioError::bad_request(
                21705,
                format!("The Messaging Service Sid {sid} is invalid."),
            ));
        }
    }
    let body = match params.body {
        Some(body) => body,
        None if params.media_urls > 0 => String::new(),
        None => return Err(TwilioError::bad_request(21602, "Message body is required.")),
    };
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(TwilioError::bad_request(
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        ));
    }

    let (channel, to_address) = split_channel(&to);
    let from_address = match &params.from {
        Some(from) => {
            let (from_channel, address) = split_channel(from);
            if from_channel != channel {
                return Err(TwilioError::bad_request(
                    21910,
                    "Invalid 'From' and 'To' pair. 'From' and 'To' should be of the same channel",
                ));
            }
            Some(address)
        }
        None => None,
    };
    if !is_e164(to_address) {
        return Err(invalid_to(&to));
    }
    if let (Some(from), Some(address)) = (&params.from, from_address) {
        let valid = match channel {
            TwilioChannel::Sms => {
                is_e164(address) || is_short_code(address) || is_alphanumeric_sender(address)
            }
            TwilioChannel::Whatsapp => is_e164(address),
        };
        if !valid {
            return Err(invalid_from(from));
        }
        magic_from(from, address)?;
    }
    magic_to(&to, to_address, params.from.as_deref())?;

    let num_segments = match (channel, &params.from) {
        // A service picks its sender after the request, so Twilio reports 0 segments then.
        (_, None) => 0,
        (TwilioChannel::Whatsapp, Some(_)) => 1,
        (TwilioChannel::Sms, Some(_)) => sms_segments(&body),
    };
    Ok(Accepted {
        to,
        from: params.from,
        messaging_service_sid: params.messaging_service_sid,
        body,
        channel,
        num_segments,
        num_media: params.media_urls,
    })
}

fn invalid_to(to: &str) -> TwilioError {
    TwilioError::bad_request(
        21211,
        format!("The 'To' number {to} is not a valid phone number."),
    )
}

fn invalid_from(from: &str) -> TwilioError {
    TwilioError::bad_request(
        21212,
        format!(
            "The 'From' number {from} is not a valid phone number, shortcode, or alphanumeric sender ID."
        ),
    )
}

/// Twilio's magic `From` numbers of its test credentials. Every other sender is accepted
/// (unlike with test credentials, where only `+15005550006` is).
fn magic_from(from: &str, address: &str) -> Result<(), TwilioError> {
    match address {
        "+15005550001" => Err(invalid_from(from)),
        "+15005550007" => Err(TwilioError::bad_request(
            21606,
            format!(
                "The 'From' phone number provided ({from}) is not a valid message-capable Twilio phone number for this destination."
            ),
        )),
        "+15005550008" => Err(TwilioError::bad_request(
            21611,
            "This 'From' number has exceeded the maximum number of queued messages.",
        )),
        _ => Ok(()),
    }
}

/// Twilio's magic `To` numbers of its test credentials; every other number is accepted.
fn magic_to(to: &str, address: &str, from: Option<&str>) -> Result<(), TwilioError> {
    match address {
        "+15005550001" => Err(invalid_to(to)),
        "+15005550002" => Err(TwilioError::bad_request(
            21612,
            format!(
                "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number: {} via SMS.",
                from.unwrap_or("(Messaging Service)")
            ),
        )),
        "+15005550003" => Err(TwilioError::bad_request(
            21408,
            format!(
                "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}."
            ),
        )),
        "+15005550004" => Err(TwilioError::bad_request(
            21610,
            "Attempt to send to unsubscribed recipient",
        )),
        "+15005550009" => Err(TwilioError::bad_request(
            21614,
            format!("'To' number {to} is not a valid mobile number"),
        )),
        _ => Ok(()),
    }
}

fn split_channel(address: &str) -> (TwilioChannel, &str) {
    match address.strip_prefix(WHATSAPP_PREFIX) {
        Some(rest) => (TwilioChannel::Whatsapp, rest),
        None => (TwilioChannel::Sms, address),
    }
}

/// `+` followed by 8 to 15 digits, the first not 0.
fn is_e164(address: &str) -> bool {
    address.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// 5 or 6 digits.
fn is_short_code(address: &str) -> bool {
    (5..=6).contains(&address.len()) && address.bytes().all(|b| b.is_ascii_digit())
}

/// Up to 11 ASCII letters, digits and spaces, at least one a letter.
fn is_alphanumeric_sender(address: &str) -> bool {
    (1..=11).contains(&address.len())
        && address
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b' ')
        && address.bytes().any(|b| b.is_ascii_alphabetic())
}

/// `prefix` followed by 32 hex digits, as every Twilio sid.
pub(super) fn is_sid(sid: &str, prefix: &str) -> bool {
    sid.strip_prefix(prefix)
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The GSM 03.38 basic character set (without the escape).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Characters of the GSM extension table: two septets each.
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// How many SMS segments carry `body`: GSM-7 when every character is in the GSM set (160
/// septets in one segment, 153 per segment when concatenated), UCS-2 otherwise (70 UTF-16
/// units, 67 when concatenated).
fn sms_segments(body: &str) -> u32 {
    let septets: Option<usize> = body
        .chars()
        .map(|c| {
            if GSM_BASIC.contains(c) {
                Some(1)
            } else if GSM_EXTENDED.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (units, single, multi) = match septets {
        Some(septets) => (septets, 160, 153),
        None => (body.encode_utf16().count(), 70, 67),
    };
    let segments = if units <= single {
        1
    } else {
        units.div_ceil(multi)
    };
    u32::try_from(segments).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(to: Option<&str>, from: Option<&str>, body: Option<&str>) -> MessageParams {
        MessageParams {
            to: to.map(str::to_owned),
            from: from.map(str::to_owned),
            messaging_service_sid: None,
            body: body.map(str::to_owned),
            media_urls: 0,
        }
    }

    fn code(result: Result<Accepted, TwilioError>) -> Option<u32> {
        result.err().map(|error| error.code)
    }

    #[test]
    fn required_parameters_in_order() {
        assert_eq!(code(check(params(None, None, None))), Some(21604));
        assert_eq!(
            code(check(params(Some("+14155550100"), None, None))),
            Some(21603)
        );
        assert_eq!(
            code(check(params(
                Some("+14155550100"),
                Some("+14155550101"),
                None
            ))),
            Some(21602)
        );
        let long = "a".repeat(MAX_BODY_CHARS + 1);
        assert_eq!(
            code(check(params(
                Some("+14155550100"),
                Some("+14155550101"),
                Some(&long)
            ))),
            Some(21617)
        );
    }

    #[test]
    fn blank_and_repeated_parameters() {
        let params = MessageParams::from_pairs(vec![
            ("To".into(), " ".into()),
            ("Body".into(), "first".into()),
            ("Body".into(), "second".into()),
            ("MediaUrl".into(), "https://x/a.png".into()),
        ]);
        assert_eq!(params.to, None);
        assert_eq!(params.body.as_deref(), Some("first"));
        assert_eq!(params.media_urls, 1);
    }

    #[test]
    fn addresses_and_channels() {
        let ok = |to: &str, from: &str| check(params(Some(to), Some(from), Some("hi")));
        assert_eq!(
            ok("+14155550100", "+14155550101").unwrap().channel,
            TwilioChannel::Sms
        );
        assert_eq!(
            ok("whatsapp:+14155550100", "whatsapp:+14155550101")
                .unwrap()
                .channel,
            TwilioChannel::Whatsapp
        );
        assert!(ok("+14155550100", "ACME Shop").is_ok());
        assert!(ok("+14155550100", "12345").is_ok());
        assert_eq!(code(ok("4155550100", "+14155550101")), Some(21211));
        assert_eq!(
            code(ok("whatsapp:4155550100", "whatsapp:+14155550101")),
            Some(21211)
        );
        assert_eq!(code(ok("+14155550100", "+1 415")), Some(21212));
        assert_eq!(code(ok("+14155550100", "Twelve chars")), Some(21212));
        assert_eq!(
            code(ok("whatsapp:+14155550100", "+14155550101")),
            Some(21910)
        );
        assert_eq!(
            code(ok("+14155550100", "whatsapp:+14155550101")),
            Some(21910)
        );
    }

    #[test]
    fn magic_numbers() {
        let to = |to: &str| code(check(params(Some(to), Some("+15005550006"), Some("hi"))));
        assert_eq!(to("+15005550001"), Some(21211));
        assert_eq!(to("+15005550002"), Some(21612));
        assert_eq!(to("+15005550003"), Some(21408));
        assert_eq!(to("+15005550004"), Some(21610));
        assert_eq!(to("+15005550009"), Some(21614));
        assert_eq!(to("+15005550006"), None);
        let from = |from: &str| code(check(params(Some("+15005550009"), Some(from), Some("hi"))));
        assert_eq!(from("+15005550001"), Some(21212));
        assert_eq!(from("+15005550007"), Some(21606));
        assert_eq!(from("+15005550008"), Some(21611));
    }

    #[test]
    fn a_messaging_service_replaces_the_sender() {
        let mut with_service = params(Some("+14155550100"), None, Some("hi"));
        with_service.messaging_service_sid = Some(format!("MG{}", "a".repeat(32)));
        let accepted = check(with_service).unwrap();
        assert_eq!(accepted.from, None);
        assert_eq!(accepted.num_segments, 0);

        let mut bad = params(Some("+14155550100"), None, Some("hi"));
        bad.messaging_service_sid = Some("MG123".into());
        assert_eq!(code(check(bad)), Some(21705));
    }

    #[test]
    fn segments() {
        assert_eq!(sms_segments(""), 1);
        assert_eq!(sms_segments(&"a".repeat(160)), 1);
        assert_eq!(sms_segments(&"a".repeat(161)), 2);
        assert_eq!(sms_segments(&"a".repeat(306)), 2);
        assert_eq!(sms_segments(&"a".repeat(307)), 3);
        // Extension characters take two septets.
        assert_eq!(sms_segments(&"€".repeat(80)), 1);
        assert_eq!(sms_segments(&"€".repeat(81)), 2);
        // One character outside the GSM set makes the whole message UCS-2.
        assert_eq!(sms_segments(&format!("{}✓", "a".repeat(69))), 1);
        assert_eq!(sms_segments(&format!("{}✓", "a".repeat(70))), 2);
        assert!(is_sid(&format!("SM{}", "0f".repeat(16)), "SM"));
        assert!(!is_sid("SM12", "SM"));
    }
}
