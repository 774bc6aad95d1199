//! E-mail through Amazon SES API v2: one `SendEmail` with a `Simple` message (subject and
//! plain-text body, both UTF-8), optionally in a configuration set; SES answers the
//! `MessageId` we keep. The endpoint comes from the SDK config, so the same code talks to
//! SES or to moto server (`AWS_ENDPOINT_URL`).
//!
//! Docs followed:
//! - <https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html> (request,
//!   `MessageId`, and the errors: `AccountSuspendedException`, `BadRequestException`,
//!   `LimitExceededException`, `MailFromDomainNotVerifiedException`, `MessageRejected`,
//!   `NotFoundException`, `SendingPausedException`, `TooManyRequestsException`)
//! - <https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Message.html> and
//!   `API_Content.html` (`Simple` content, `Charset`)
//! - <https://docs.aws.amazon.com/ses/latest/dg/verify-addresses-and-domains.html> (a
//!   sender must be a verified identity; "Email address is not verified" otherwise)
//! - <https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html> (the
//!   SDK retries by itself unless told not to)
//!
//! At most once: the SDK's own retries are switched off for `SendEmail` (a retried
//! request after a timeout could send the mail twice), and only failures that prove SES
//! did not take the message (no connection, throttling, 5xx) are retryable. SDK errors are
//! read like the AWS adapters read them (service code first, then the kind of
//! failure), with the at-most-once split that module does not need.

use domain::notify::{scrub_contacts, NotifyChannel, OutgoingMessage, Sent};
use domain::ports::Notifier;
use domain::PartnerError;

pub(crate) const PARTNER: &str = "ses";
use async_trait::async_trait;
use aws_sdk_sesv2::config::http::HttpResponse;
use aws_sdk_sesv2::config::retry::RetryConfig;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

const CHARSET: &str = "UTF-8";

/// Sends e-mail through SES v2 as `from`, a verified identity (an address, or an address
/// of a verified domain; "Store <notify@store.example>" is fine).
#[derive(Debug, Clone)]
pub struct SesNotifier {
    client: aws_sdk_sesv2::Client,
    from: String,
    configuration_set: Option<String>,
}

impl SesNotifier {
    pub fn new(
        client: aws_sdk_sesv2::Client,
        from: String,
        configuration_set: Option<String>,
    ) -> Self {
        SesNotifier {
            client,
            from,
            configuration_set: configuration_set.filter(|c| !c.trim().is_empty()),
        }
    }
}

#[async_trait]
impl Notifier for SesNotifier {
    fn name(&self) -> &'static str {
        "ses"
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<Sent, PartnerError> {
        if message.channel != NotifyChannel::Email {
            return Err(PartnerError::config(
                PARTNER,
                format!("ses sends e-mail, not {}", message.channel.as_str()),
            ));
        }
        if self.from.trim().is_empty() {
            return Err(PartnerError::config(
                PARTNER,
                "no ses sender (from) configured",
            ));
        }
        let to = message.to.trim();
        if !looks_like_address(to) {
            return Err(PartnerError::Rejected {
                partner: PARTNER,
                code: "invalid_recipient".into(),
                // Not the value itself: it is a customer's contact.
                message: "the e-mail recipient is not an address".into(),
            });
        }
        let subject = match message.subject.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => s,
            _ => {
                return Err(PartnerError::Rejected {
                    partner: PARTNER,
                    code: "missing_subject".into(),
                    message: "an e-mail needs a subject".into(),
                })
            }
        };
        let content = simple_content(subject, &message.body)?;

        let mut request = self
            .client
            .send_email()
            .from_email_address(self.from.trim())
            .destination(Destination::builder().to_addresses(to).build())
            .content(content);
        if let Some(set) = &self.configuration_set {
            request = request.configuration_set_name(set.trim());
        }
        let result = request
            .customize()
            .config_override(
                aws_sdk_sesv2::config::Config::builder().retry_config(RetryConfig::disabled()),
            )
            .send()
            .await;

        match result {
            Ok(output) => match output.message_id().filter(|id| !id.trim().is_empty()) {
                Some(id) => {
                    tracing::info!(
                        message_id = %message.id,
                        provider_id = %id,
                        "ses accepted the message"
                    );
                    Ok(Sent {
                        provider: "ses".into(),
                        provider_id: id.to_owned(),
                    })
                }
                None => Err(PartnerError::ambiguous(
                    PARTNER,
                    "ses answered without a MessageId",
                )),
            },
            Err(err) => {
                let err = classify(err);
                tracing::warn!(message_id = %message.id, error = %err, "ses did not accept the message");
                Err(err)
            }
        }
    }
}

fn simple_content(subject: &str, body: &str) -> Result<EmailContent, PartnerError> {
    let utf8 = |data: &str| {
        Content::builder()
            .data(data)
            .charset(CHARSET)
            .build()
            // Only a missing `data` fails, and it is always set: a bug if it happens.
            .map_err(|e| {
                PartnerError::config(PARTNER, format!("ses content could not be built: {e}"))
            })
    };
    let message = Message::builder()
        .subject(utf8(subject)?)
        .body(Body::builder().text(utf8(body)?).build())
        .build();
    Ok(EmailContent::builder().simple(message).build())
}

/// A minimal shape check, so that an obviously wrong value is refused without a call
/// (SES would answer `BadRequestException`).
fn looks_like_address(to: &str) -> bool {
    match to.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !to.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// What an SES `SendEmail` failure means for a message that must go out at most once.
pub fn classify(err: SdkError<SendEmailError, HttpResponse>) -> PartnerError {
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("Unknown");
            let message = scrub_contacts(e.message().unwrap_or(""));
            let status = service.raw().status().as_u16();
            if (200..300).contains(&status) {
                // SES took the message; only its answer could not be read.
                return PartnerError::ambiguous(
                    PARTNER,
                    format!(
                        "ses answered {status} unreadably: {}",
                        DisplayErrorContext(&err)
                    ),
                );
            }
            classify_service(code, message, status)
        }
        // The request was never built, so never sent: our setup is wrong (e.g. no region,
        // no credentials).
        SdkError::ConstructionFailure(_) => PartnerError::config(
            PARTNER,
            format!(
                "ses request could not be built: {}",
                DisplayErrorContext(&err)
            ),
        ),
        SdkError::DispatchFailure(dispatch) => {
            if dispatch.is_user() {
                PartnerError::config(
                    PARTNER,
                    format!("ses request is invalid: {}", DisplayErrorContext(&err)),
                )
            } else if dispatch
                .as_connector_error()
                .is_some_and(|c| never_connected(c))
            {
                PartnerError::unavailable(
                    PARTNER,
                    format!("ses not reached: {}", DisplayErrorContext(&err)),
                )
            } else {
                // An I/O error or timeout on a connection that may have carried the request.
                PartnerError::ambiguous(
                    PARTNER,
                    format!(
                        "ses request may have been sent: {}",
                        DisplayErrorContext(&err)
                    ),
                )
            }
        }
        // A timeout or an unreadable answer: SES may have sent the mail.
        _ => PartnerError::ambiguous(
            PARTNER,
            format!("ses outcome unknown: {}", DisplayErrorContext(&err)),
        ),
    }
}

fn classify_service(code: &str, message: String, status: u16) -> PartnerError {
    match code {
        "TooManyRequestsException"
        | "LimitExceededException"
        | "Throttling"
        | "ThrottlingException" => PartnerError::Throttled {
            partner: PARTNER,
            retry_after: None,
        },
        // The account or the sender is wrong: an operator fixes it, then mail goes out.
        "AccountSuspendedException"
        | "SendingPausedException"
        | "MailFromDomainNotVerifiedException"
        | "NotFoundException"
        | "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "ExpiredTokenException" => {
            PartnerError::config(PARTNER, format!("ses {code}: {message}"))
        }
        // An identity that is not verified: our sender, or (in the SES sandbox) any
        // recipient; both are fixed in the account, not in the message.
        "MessageRejected" if message.to_ascii_lowercase().contains("not verified") => {
            PartnerError::config(PARTNER, format!("ses {code}: {message}"))
        }
        _ if status >= 500 => {
            PartnerError::unavailable(PARTNER, format!("ses {code} ({status}): {message}"))
        }
        _ if status == 429 => PartnerError::Throttled {
            partner: PARTNER,
            retry_after: None,
        },
        _ if status == 401 || status == 403 => {
            PartnerError::config(PARTNER, format!("ses {code} ({status}): {message}"))
        }
        _ => PartnerError::Rejected {
            partner: PARTNER,
            code: code.to_owned(),
            message,
        },
    }
}

/// Whether a connector error happened before any byte of the request could leave: the
/// connection was refused, or the host could not be resolved or reached. The connector
/// error does not say so itself (its connection status is private), so its causes are read.
fn never_connected(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::AddrNotAvailable
                    | std::io::ErrorKind::HostUnreachable
                    | std::io::ErrorKind::NetworkUnreachable
            ) {
                return true;
            }
        }
        // DNS failures come as the client's resolver error, not as an io::Error kind.
        if e.to_string().to_ascii_lowercase().contains("dns error") {
            return true;
        }
        next = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_codes_map_to_the_error_classes() {
        let c = |code: &str, message: &str, status: u16| {
            classify_service(code, message.to_owned(), status)
        };
        assert!(matches!(
            c("TooManyRequestsException", "", 429),
            PartnerError::Throttled { .. }
        ));
        assert!(matches!(
            c("LimitExceededException", "", 400),
            PartnerError::Throttled { .. }
        ));
        assert!(matches!(
            c("AccountSuspendedException", "", 400),
            PartnerError::Config { .. }
        ));
        assert!(matches!(
            c("SendingPausedException", "", 400),
            PartnerError::Config { .. }
        ));
        assert!(matches!(
            c("MailFromDomainNotVerifiedException", "", 400),
            PartnerError::Config { .. }
        ));
        assert!(matches!(
            c("NotFoundException", "", 404),
            PartnerError::Config { .. }
        ));
        assert!(matches!(
            c(
                "MessageRejected",
                "Email address is not verified. x@y.example",
                400
            ),
            PartnerError::Config { .. }
        ));
        assert!(matches!(
            c("MessageRejected", "Illegal header", 400),
            PartnerError::Rejected { code, .. } if code == "MessageRejected"
        ));
        assert!(matches!(
            c("BadRequestException", "bad address", 400),
            PartnerError::Rejected { .. }
        ));
        assert!(matches!(
            c("InternalFailure", "", 500),
            PartnerError::Unavailable { .. }
        ));
        assert!(matches!(
            c("ServiceUnavailable", "", 503),
            PartnerError::Unavailable { .. }
        ));
    }

    #[test]
    fn addresses_are_checked_for_shape_only() {
        assert!(looks_like_address("ana@example.com"));
        assert!(!looks_like_address("ana@localhost"));
        assert!(!looks_like_address("+14155550100"));
        assert!(!looks_like_address("ana @example.com"));
    }
}
