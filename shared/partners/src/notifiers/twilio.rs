//! SMS and WhatsApp through Twilio's Programmable Messaging API (or any API compatible with
//! it, via `base_url`).
//!
//! One message is one `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`,
//! form-encoded `To`, `From` or `MessagingServiceSid`, and `Body` (≤ 1,600 characters),
//! with HTTP Basic auth (Account SID : Auth Token); a `201` answers the Message resource,
//! whose `sid` we keep. WhatsApp addresses are `whatsapp:+E164` on both sides.
//! Errors answer `{"code": <Twilio error code>, "message", "more_info", "status"}`.
//!
//! Docs followed:
//! - <https://www.twilio.com/docs/messaging/api/message-resource> (create a Message)
//! - <https://www.twilio.com/docs/usage/api> (HTTP Basic authentication)
//! - <https://www.twilio.com/docs/usage/twilios-response> (JSON responses and exceptions)
//! - <https://www.twilio.com/docs/whatsapp/api/message-resource> (`whatsapp:` addresses)
//! - <https://www.twilio.com/docs/api/errors/20429> (429: not processed, safe to retry)
//! - <https://www.twilio.com/docs/api/errors/21211> (invalid `To`)
//! - <https://www.twilio.com/docs/api/errors/20003> (authentication failed)
//!
//! A message goes out at most once, so the mapping of failures is strict: only a failure
//! that says Twilio did not take the message (no connection, 429, 503 "unavailable") is
//! retryable. A 500, 502 or 504 may come from behind a front end that already passed the
//! request on, and anything after the request left with no readable answer, is
//! [`PartnerError::Ambiguous`]: a customer may miss a message, never get it twice.
//! The client must not retry by itself: give it a request timeout, and no retry layer.

use crate::http::{self, Effect};
use domain::notify::{scrub_contacts, NotifyChannel, OutgoingMessage, Sent};
use domain::ports::Notifier;
use domain::PartnerError;

pub(crate) const PARTNER: &str = "twilio";
use async_trait::async_trait;
use serde::Deserialize;

/// Twilio's REST API host.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// Twilio's limit for `Body`, in characters.
pub const MAX_BODY_CHARS: usize = 1600;

/// Twilio error codes that mean our account or sender is wrong, not the message: an
/// operator fixes them, and the message can then go out.
/// 20003 authentication failed; 20404 resource (our account) not found; 21212 invalid
/// `From`; 21606 `From` is not an SMS-capable number of the account; 63007 no WhatsApp
/// channel for the `From` address.
const CONFIG_CODES: [u32; 5] = [20003, 20404, 21212, 21606, 63007];

/// Twilio's "Too many requests" code (HTTP 429).
const THROTTLED_CODE: u32 = 20429;

/// What the Twilio secret holds (Secrets Manager JSON).
#[derive(Clone, Deserialize)]
pub struct TwilioCredentials {
    pub account_sid: String,
    pub auth_token: String,
    /// The SMS sender: a Twilio number (E.164), short code or alphanumeric sender id.
    #[serde(default)]
    pub sms_from: Option<String>,
    /// The WhatsApp sender's number, with or without the `whatsapp:` prefix.
    #[serde(default)]
    pub whatsapp_from: Option<String>,
    /// A Messaging Service (`MG…`) with a sender pool: used when a channel has no `*_from`.
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    /// Default [`DEFAULT_BASE_URL`]; another value for a compatible API or a test server.
    #[serde(default)]
    pub base_url: Option<String>,
}

impl std::fmt::Debug for TwilioCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioCredentials")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("sms_from", &self.sms_from)
            .field("whatsapp_from", &self.whatsapp_from)
            .field("messaging_service_sid", &self.messaging_service_sid)
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// Sends SMS and WhatsApp messages; e-mail is not Twilio's here.
#[derive(Debug, Clone)]
pub struct TwilioNotifier {
    http: reqwest::Client,
    credentials: TwilioCredentials,
}

/// Who a message is sent as.
#[derive(Debug, PartialEq, Eq)]
enum Sender {
    /// `From`, already in the channel's address form.
    From(String),
    MessagingService(String),
}

impl TwilioNotifier {
    /// `http` carries the timeouts (a request timeout bounds an unanswered send, which is
    /// then ambiguous) and must not follow redirects into a second POST.
    pub fn new(http: reqwest::Client, credentials: TwilioCredentials) -> Self {
        TwilioNotifier { http, credentials }
    }

    fn endpoint(&self) -> Result<String, PartnerError> {
        let sid = self.credentials.account_sid.trim();
        // The SID goes into the path: anything but letters and digits would change it.
        if sid.is_empty() || !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(PartnerError::config(
                PARTNER,
                "twilio account_sid is empty or not alphanumeric",
            ));
        }
        if self.credentials.auth_token.trim().is_empty() {
            return Err(PartnerError::config(PARTNER, "twilio auth_token is empty"));
        }
        let base = present(self.credentials.base_url.as_deref()).unwrap_or(DEFAULT_BASE_URL);
        Ok(format!(
            "{}/2010-04-01/Accounts/{sid}/Messages.json",
            base.trim_end_matches('/')
        ))
    }

    /// A channel's own sender first, else the Messaging Service (which picks a sender of
    /// its pool for the `To` address).
    fn sender(&self, channel: NotifyChannel) -> Result<Sender, PartnerError> {
        let service = present(self.credentials.messaging_service_sid.as_deref());
        let from = match channel {
            NotifyChannel::Sms => present(self.credentials.sms_from.as_deref()).map(str::to_owned),
            NotifyChannel::WhatsApp => {
                present(self.credentials.whatsapp_from.as_deref()).map(whatsapp_address)
            }
            NotifyChannel::Email => {
                return Err(PartnerError::config(
                    PARTNER,
                    "twilio sends SMS and WhatsApp, not e-mail",
                ))
            }
        };
        match (from, service) {
            (Some(from), _) => Ok(Sender::From(from)),
            (None, Some(service)) => Ok(Sender::MessagingService(service.to_owned())),
            (None, None) => Err(PartnerError::config(
                PARTNER,
                format!(
                    "no twilio sender configured for {} (set {}_from or messaging_service_sid)",
                    channel.as_str(),
                    channel.as_str()
                ),
            )),
        }
    }
}

#[async_trait]
impl Notifier for TwilioNotifier {
    fn name(&self) -> &'static str {
        "twilio"
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<Sent, PartnerError> {
        let sender = self.sender(message.channel)?;
        let url = self.endpoint()?;
        let to = recipient(message.channel, &message.to)?;
        check_body(&message.body)?;

        let sender_field = match &sender {
            Sender::From(from) => ("From", from.as_str()),
            Sender::MessagingService(sid) => ("MessagingServiceSid", sid.as_str()),
        };
        let form = [
            ("To", to.as_str()),
            sender_field,
            ("Body", message.body.as_str()),
        ];
        let request = self
            .http
            .post(url)
            .basic_auth(
                self.credentials.account_sid.trim(),
                Some(self.credentials.auth_token.trim()),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form);
        // A send is a write: an answer lost after sending may mean Twilio took it.
        let reply = http::exchange(PARTNER, request, Effect::Write).await?;
        let status = reply.status;
        let bytes = &reply.body;

        if status.is_success() {
            let sid = serde_json::from_slice::<Created>(bytes)
                .ok()
                .and_then(|c| c.sid)
                .filter(|s| !s.trim().is_empty());
            return match sid {
                Some(sid) => {
                    tracing::info!(
                        message_id = %message.id,
                        channel = message.channel.as_str(),
                        provider_id = %sid,
                        "twilio accepted the message"
                    );
                    Ok(Sent {
                        provider: "twilio".into(),
                        provider_id: sid,
                    })
                }
                None => Err(PartnerError::ambiguous(
                    PARTNER,
                    format!("twilio answered {status} without a message sid"),
                )),
            };
        }

        let error = serde_json::from_slice::<ErrorBody>(bytes).ok();
        let code = error.as_ref().and_then(ErrorBody::code);
        let text = error
            .and_then(|e| e.message)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
        let err = classify_status(status, reply.retry_after(), code, text);
        tracing::warn!(
            message_id = %message.id,
            channel = message.channel.as_str(),
            status = status.as_u16(),
            error = %err,
            "twilio did not accept the message"
        );
        Err(err)
    }
}

/// The 201 body: only the sid matters.
#[derive(Deserialize)]
struct Created {
    sid: Option<String>,
}

/// Twilio's exception body.
#[derive(Deserialize)]
struct ErrorBody {
    code: Option<serde_json::Value>,
    message: Option<String>,
}

impl ErrorBody {
    fn code(&self) -> Option<u32> {
        match self.code.as_ref()? {
            serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// A non-2xx answer, by status and Twilio code. `text` is Twilio's message; it may quote
/// the `To` number, so contacts are masked before it reaches logs or review items.
fn classify_status(
    status: reqwest::StatusCode,
    retry_after: Option<std::time::Duration>,
    code: Option<u32>,
    text: String,
) -> PartnerError {
    let message = scrub_contacts(&text);
    let described = match code {
        Some(code) => format!("{status} ({code}): {message}"),
        None => format!("{status}: {message}"),
    };
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS || code == Some(THROTTLED_CODE) {
        return PartnerError::Throttled {
            partner: PARTNER,
            retry_after,
        };
    }
    if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
        return PartnerError::unavailable(PARTNER, format!("twilio {described}"));
    }
    if status.is_server_error() {
        return PartnerError::ambiguous(PARTNER, format!("twilio {described}"));
    }
    if status == reqwest::StatusCode::UNAUTHORIZED
        || status == reqwest::StatusCode::FORBIDDEN
        || status == reqwest::StatusCode::NOT_FOUND
        || code.is_some_and(|c| CONFIG_CODES.contains(&c))
    {
        return PartnerError::config(PARTNER, format!("twilio {described}"));
    }
    if status.is_client_error() {
        return PartnerError::Rejected {
            partner: PARTNER,
            code: code.map_or_else(|| status.as_u16().to_string(), |c| c.to_string()),
            message,
        };
    }
    // 1xx/3xx: the request reached something that did not answer like Twilio.
    PartnerError::ambiguous(PARTNER, format!("twilio answered {described}"))
}

/// `To` in the channel's form: `+E164` for SMS, `whatsapp:+E164` for WhatsApp. A value
/// that is not E.164 is refused here, without a call (Twilio would answer 21211).
fn recipient(channel: NotifyChannel, to: &str) -> Result<String, PartnerError> {
    let number = to.trim();
    let number = number.strip_prefix("whatsapp:").unwrap_or(number);
    let digits = number.strip_prefix('+').unwrap_or("");
    if !(7..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(PartnerError::Rejected {
            partner: PARTNER,
            code: "invalid_recipient".into(),
            // Not the value itself: it may be a customer's contact.
            message: format!("the {} recipient is not an E.164 number", channel.as_str()),
        });
    }
    Ok(match channel {
        NotifyChannel::WhatsApp => whatsapp_address(number),
        _ => number.to_owned(),
    })
}

fn check_body(body: &str) -> Result<(), PartnerError> {
    let chars = body.chars().count();
    if body.trim().is_empty() {
        return Err(PartnerError::Rejected {
            partner: PARTNER,
            code: "empty_body".into(),
            message: "the message body is empty".into(),
        });
    }
    if chars > MAX_BODY_CHARS {
        return Err(PartnerError::Rejected {
            partner: PARTNER,
            code: "body_too_long".into(),
            message: format!("the body has {chars} characters; twilio takes {MAX_BODY_CHARS}"),
        });
    }
    Ok(())
}

fn whatsapp_address(number: &str) -> String {
    let n = number.trim();
    if n.starts_with("whatsapp:") {
        n.to_owned()
    } else {
        format!("whatsapp:{n}")
    }
}

/// A configured value, blank counting as absent.
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> TwilioCredentials {
        TwilioCredentials {
            account_sid: "AC123".into(),
            auth_token: "secret".into(),
            sms_from: None,
            whatsapp_from: None,
            messaging_service_sid: None,
            base_url: None,
        }
    }

    #[test]
    fn a_channels_own_sender_wins_over_the_messaging_service() {
        let n = TwilioNotifier::new(
            reqwest::Client::new(),
            TwilioCredentials {
                sms_from: Some("+15005550006".into()),
                whatsapp_from: Some("+14155238886".into()),
                messaging_service_sid: Some("MG1".into()),
                ..creds()
            },
        );
        assert_eq!(
            n.sender(NotifyChannel::Sms).unwrap(),
            Sender::From("+15005550006".into())
        );
        assert_eq!(
            n.sender(NotifyChannel::WhatsApp).unwrap(),
            Sender::From("whatsapp:+14155238886".into())
        );
        let only_service = TwilioNotifier::new(
            reqwest::Client::new(),
            TwilioCredentials {
                sms_from: Some(" ".into()),
                messaging_service_sid: Some("MG1".into()),
                ..creds()
            },
        );
        assert_eq!(
            only_service.sender(NotifyChannel::Sms).unwrap(),
            Sender::MessagingService("MG1".into())
        );
    }

    #[test]
    fn recipients_must_be_e164_and_get_the_whatsapp_prefix_once() {
        assert_eq!(
            recipient(NotifyChannel::WhatsApp, "+14155550100").unwrap(),
            "whatsapp:+14155550100"
        );
        assert_eq!(
            recipient(NotifyChannel::WhatsApp, "whatsapp:+14155550100").unwrap(),
            "whatsapp:+14155550100"
        );
        assert_eq!(
            recipient(NotifyChannel::Sms, " +14155550100 ").unwrap(),
            "+14155550100"
        );
        for bad in [
            "4155550100",
            "+1 415 555 0100",
            "+12",
            "ana@example.com",
            "",
        ] {
            match recipient(NotifyChannel::Sms, bad) {
                Err(PartnerError::Rejected { code, message, .. }) => {
                    assert_eq!(code, "invalid_recipient");
                    assert!(bad.is_empty() || !message.contains(bad), "{message}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn statuses_and_codes_map_to_the_error_classes() {
        use reqwest::StatusCode as S;
        let c = |s: S, code: Option<u32>| classify_status(s, None, code, "m".into());
        assert!(matches!(
            c(S::TOO_MANY_REQUESTS, Some(20429)),
            PartnerError::Throttled { .. }
        ));
        assert!(matches!(
            c(S::BAD_REQUEST, Some(20429)),
            PartnerError::Throttled { .. }
        ));
        assert!(matches!(
            c(S::SERVICE_UNAVAILABLE, None),
            PartnerError::Unavailable { .. }
        ));
        assert!(matches!(
            c(S::UNAUTHORIZED, Some(20003)),
            PartnerError::Config { .. }
        ));
        assert!(matches!(
            c(S::BAD_REQUEST, Some(21606)),
            PartnerError::Config { .. }
        ));
        assert!(matches!(
            c(S::NOT_FOUND, Some(20404)),
            PartnerError::Config { .. }
        ));
        assert!(matches!(
            c(S::BAD_REQUEST, Some(21614)),
            PartnerError::Rejected { code, .. } if code == "21614"
        ));
        assert!(matches!(
            c(S::BAD_REQUEST, None),
            PartnerError::Rejected { code, .. } if code == "400"
        ));
        assert!(matches!(c(S::FOUND, None), PartnerError::Ambiguous { .. }));
    }
}
