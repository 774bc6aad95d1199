//! The SES notifier: against moto server for the real SDK round trip (a verified sender
//! sends, an unverified one is a configuration problem), and against a fake SES
//! (wiremock, raw TCP) for the answers moto cannot give: throttling, 5xx, timeouts, a
//! refused connection, each read for a message that must go out at most once.
//!
//! Run with the emulator: `infra/scripts/with-emulator.sh cargo test -p
//! courier-bridge-partners --features ses -- notify_ses`.

use aws_sdk_sesv2::config::timeout::TimeoutConfig;
use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
use domain::error::Classify;
use domain::notify::{NotifyChannel, OutgoingMessage};
use domain::ports::Notifier;
use domain::PartnerError;
use partners::notifiers::ses::SesNotifier;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SEND_EMAIL: &str = "/v2/email/outbound-emails";

fn email() -> OutgoingMessage {
    OutgoingMessage {
        id: "demo-store#SO-1001#SO-1001-1#delivered".into(),
        channel: NotifyChannel::Email,
        to: "ana@example.com".into(),
        subject: Some("Your Demo Store order #1001 was delivered".into()),
        body: "Hi Ana,\n\nYour order #1001 from Demo Store was delivered at 15:32 UTC. Ça va?\n"
            .into(),
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{:08x}", rand::random::<u32>())
}

/// The emulator's client, from the environment `with-emulator.sh` sets.
async fn moto() -> aws_sdk_sesv2::Client {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|url| !url.is_empty()),
        "AWS_ENDPOINT_URL is not set: run these tests via `infra/scripts/with-emulator.sh`, which starts moto and sets it"
    );
    let sdk = aws::config::sdk_config().await;
    aws_sdk_sesv2::Client::new(&sdk)
}

/// A client for a fake SES at `endpoint`, with a short operation timeout.
fn fake_ses(endpoint: &str) -> aws_sdk_sesv2::Client {
    let config = aws_sdk_sesv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(aws::config::http_client())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(endpoint)
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_millis(500))
                .build(),
        )
        .build();
    aws_sdk_sesv2::Client::from_conf(config)
}

fn notifier(client: aws_sdk_sesv2::Client) -> SesNotifier {
    SesNotifier::new(
        client,
        "Demo Store <notify@store.example>".into(),
        Some("courier-bridge".into()),
    )
}

fn ses_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-amzn-ErrorType", code)
        .insert_header("content-type", "application/json")
        .set_body_json(serde_json::json!({ "message": message }))
}

async fn ses_answering(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND_EMAIL))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

// --- moto ---------------------------------------------------------------------------

#[tokio::test]
async fn a_verified_sender_sends_and_gets_a_message_id() {
    // GIVEN a verified sender identity in the emulator
    let client = moto().await;
    let sender = format!("{}@store.example", unique("notify"));
    client
        .create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .expect("identity created");
    // WHEN a message is sent from it
    let sent = SesNotifier::new(client, format!("Demo Store <{sender}>"), None)
        .send(&email())
        .await
        .unwrap();
    // THEN SES answers its MessageId
    assert_eq!(sent.provider, "ses");
    assert!(!sent.provider_id.trim().is_empty());
}

#[tokio::test]
async fn a_sender_of_a_verified_domain_sends_within_a_configuration_set() {
    let client = moto().await;
    let domain = format!("{}.example", unique("store"));
    client
        .create_email_identity()
        .email_identity(&domain)
        .send()
        .await
        .expect("domain identity created");
    let set = unique("courier-bridge");
    client
        .create_configuration_set()
        .configuration_set_name(&set)
        .send()
        .await
        .expect("configuration set created");
    let sent = SesNotifier::new(client, format!("notify@{domain}"), Some(set))
        .send(&email())
        .await
        .unwrap();
    assert!(!sent.provider_id.is_empty());
}

#[tokio::test]
async fn an_unverified_sender_is_a_configuration_problem() {
    let client = moto().await;
    let sender = format!("{}@unverified.example", unique("notify"));
    let err = SesNotifier::new(client, sender, None)
        .send(&email())
        .await
        .unwrap_err();
    // An operator verifies the identity, then the message can still go out.
    assert!(matches!(err, PartnerError::Config { .. }), "{err:?}");
    assert!(err.is_transient());
}

// --- fake SES -----------------------------------------------------------------------

#[tokio::test]
async fn the_request_is_a_simple_utf8_message_from_the_sender_in_the_configuration_set() {
    let server = ses_answering(
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"MessageId": "0100-abc"})),
    )
    .await;
    let sent = notifier(fake_ses(&server.uri()))
        .send(&email())
        .await
        .unwrap();
    assert_eq!(sent.provider_id, "0100-abc");
    let request = server.received_requests().await.unwrap().remove(0);
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "FromEmailAddress": "Demo Store <notify@store.example>",
            "Destination": {"ToAddresses": ["ana@example.com"]},
            "Content": {"Simple": {
                "Subject": {"Data": email().subject.unwrap(), "Charset": "UTF-8"},
                "Body": {"Text": {"Data": email().body, "Charset": "UTF-8"}}
            }},
            "ConfigurationSetName": "courier-bridge"
        })
    );
}

#[tokio::test]
async fn throttling_is_throttled_and_not_retried_by_the_sdk() {
    for (status, code) in [
        (429, "TooManyRequestsException"),
        (400, "LimitExceededException"),
    ] {
        let server = ses_answering(ses_error(status, code, "Maximum sending rate exceeded.")).await;
        let err = notifier(fake_ses(&server.uri()))
            .send(&email())
            .await
            .unwrap_err();
        assert!(
            matches!(err, PartnerError::Throttled { .. }),
            "{code}: {err:?}"
        );
        assert_eq!(requests(&server).await, 1, "{code}");
    }
}

#[tokio::test]
async fn a_5xx_is_unavailable_and_sent_once() {
    let server = ses_answering(ses_error(500, "InternalFailure", "internal")).await;
    let err = notifier(fake_ses(&server.uri()))
        .send(&email())
        .await
        .unwrap_err();
    assert!(matches!(err, PartnerError::Unavailable { .. }), "{err:?}");
    // The SDK's own retries are off: the caller decides.
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn account_problems_are_config() {
    for code in [
        "AccountSuspendedException",
        "SendingPausedException",
        "MailFromDomainNotVerifiedException",
        "NotFoundException",
    ] {
        let server = ses_answering(ses_error(400, code, "no")).await;
        let err = notifier(fake_ses(&server.uri()))
            .send(&email())
            .await
            .unwrap_err();
        assert!(
            matches!(err, PartnerError::Config { .. }),
            "{code}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_rejected_message_is_rejected_with_the_code_and_without_the_address() {
    let server = ses_answering(ses_error(
        400,
        "MessageRejected",
        "Address blacklisted: ana@example.com",
    ))
    .await;
    let err = notifier(fake_ses(&server.uri()))
        .send(&email())
        .await
        .unwrap_err();
    match err {
        PartnerError::Rejected { code, message, .. } => {
            assert_eq!(code, "MessageRejected");
            assert!(!message.contains("ana@example.com"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_timeout_after_sending_is_ambiguous() {
    let server = ses_answering(
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"MessageId": "late"}))
            .set_delay(Duration::from_secs(3)),
    )
    .await;
    let err = notifier(fake_ses(&server.uri()))
        .send(&email())
        .await
        .unwrap_err();
    assert!(matches!(err, PartnerError::Ambiguous { .. }), "{err:?}");
    // SES may have the message: the caller must not send it again.
    assert!(err.may_have_succeeded());
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn an_unreadable_success_is_ambiguous() {
    let server = ses_answering(ResponseTemplate::new(200).set_body_string("{not json")).await;
    let err = notifier(fake_ses(&server.uri()))
        .send(&email())
        .await
        .unwrap_err();
    assert!(matches!(err, PartnerError::Ambiguous { .. }), "{err:?}");
    assert!(err.may_have_succeeded());
}

#[tokio::test]
async fn a_connection_never_made_is_unavailable() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = notifier(fake_ses(&format!("http://{addr}")))
        .send(&email())
        .await
        .unwrap_err();
    assert!(matches!(err, PartnerError::Unavailable { .. }), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn only_email_with_a_subject_to_an_address_is_sent() {
    let server = MockServer::start().await;
    let ses = notifier(fake_ses(&server.uri()));
    let sms = OutgoingMessage {
        channel: NotifyChannel::Sms,
        to: "+14155550100".into(),
        ..email()
    };
    assert!(matches!(
        ses.send(&sms).await,
        Err(PartnerError::Config { .. })
    ));
    let no_subject = OutgoingMessage {
        subject: None,
        ..email()
    };
    assert!(matches!(
        ses.send(&no_subject).await,
        Err(PartnerError::Rejected { code, .. }) if code == "missing_subject"
    ));
    let not_an_address = OutgoingMessage {
        to: "+14155550100".into(),
        ..email()
    };
    assert!(matches!(
        ses.send(&not_an_address).await,
        Err(PartnerError::Rejected { code, .. }) if code == "invalid_recipient"
    ));
    assert_eq!(requests(&server).await, 0);
    assert_eq!(ses.name(), "ses");
}
