//! The Twilio notifier against a fake Twilio (wiremock): the exact request Twilio's
//! Messages resource takes, and how every kind of answer (or no answer) is read, given
//! that a message must go out at most once.

use base64::Engine;
use domain::notify::{NotifyChannel, OutgoingMessage};
use domain::ports::Notifier;
use domain::PartnerError;
use partners::notifiers::{TwilioCredentials, TwilioNotifier};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN: &str = "tok-very-secret-0123456789";
const MESSAGES: &str = "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages.json";
const MESSAGE_SID: &str = "SM1f0e8ae6ade43cb3c0ce4525424e404f";

fn credentials(base_url: &str) -> TwilioCredentials {
    TwilioCredentials {
        account_sid: SID.into(),
        auth_token: TOKEN.into(),
        sms_from: Some("+15005550006".into()),
        whatsapp_from: Some("whatsapp:+14155238886".into()),
        messaging_service_sid: None,
        base_url: Some(base_url.into()),
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

fn notifier(server: &MockServer) -> TwilioNotifier {
    TwilioNotifier::new(http(), credentials(&server.uri()))
}

fn sms() -> OutgoingMessage {
    OutgoingMessage {
        id: "demo-store#SO-1001#SO-1001-1#delivered".into(),
        channel: NotifyChannel::Sms,
        to: "+14155550100".into(),
        subject: None,
        body: "Hi Ana, your order #1001 from Demo & Co. was delivered at 15:32 UTC. Ça va?".into(),
    }
}

fn whatsapp() -> OutgoingMessage {
    OutgoingMessage {
        channel: NotifyChannel::WhatsApp,
        ..sms()
    }
}

fn created() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(serde_json::json!({
        "sid": MESSAGE_SID,
        "account_sid": SID,
        "status": "queued",
        "to": "+14155550100",
        "from": "+15005550006",
        "body": "…",
        "api_version": "2010-04-01"
    }))
}

fn twilio_error(status: u16, code: u32, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(serde_json::json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status
    }))
}

async fn twilio_answering(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    server
}

fn form(request: &Request) -> BTreeMap<String, String> {
    let body = std::str::from_utf8(&request.body).unwrap();
    let url = reqwest::Url::parse(&format!("http://form.invalid/?{body}")).unwrap();
    url.query_pairs().into_owned().collect()
}

fn header<'r>(request: &'r Request, name: &str) -> &'r str {
    request.headers.get(name).unwrap().to_str().unwrap()
}

async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "exactly one request");
    requests.remove(0)
}

#[tokio::test]
async fn an_sms_is_one_form_post_to_the_accounts_messages_resource_with_basic_auth() {
    // GIVEN Twilio accepting the message
    let server = twilio_answering(created()).await;
    // WHEN an SMS is sent
    let sent = notifier(&server).send(&sms()).await.unwrap();
    // THEN Twilio's sid comes back, from exactly the documented request
    assert_eq!(sent.provider, "twilio");
    assert_eq!(sent.provider_id, MESSAGE_SID);
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), MESSAGES);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"));
    assert_eq!(header(&request, "authorization"), format!("Basic {basic}"));
    assert_eq!(
        header(&request, "content-type"),
        "application/x-www-form-urlencoded"
    );
    let expected: BTreeMap<String, String> = [
        ("To", "+14155550100"),
        ("From", "+15005550006"),
        ("Body", sms().body.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(form(&request), expected);
}

#[tokio::test]
async fn a_whatsapp_message_uses_whatsapp_addresses_on_both_sides() {
    let server = twilio_answering(created()).await;
    let mut creds = credentials(&server.uri());
    // Configured without the prefix: it is added.
    creds.whatsapp_from = Some("+14155238886".into());
    let sent = TwilioNotifier::new(http(), creds)
        .send(&whatsapp())
        .await
        .unwrap();
    assert_eq!(sent.provider_id, MESSAGE_SID);
    let fields = form(&only_request(&server).await);
    assert_eq!(fields["To"], "whatsapp:+14155550100");
    assert_eq!(fields["From"], "whatsapp:+14155238886");
    assert_eq!(fields["Body"], whatsapp().body);
}

#[tokio::test]
async fn without_a_from_the_messaging_service_sends() {
    let server = twilio_answering(created()).await;
    let creds = TwilioCredentials {
        sms_from: None,
        messaging_service_sid: Some("MG9752274e9e519418a7406176694466fa".into()),
        ..credentials(&server.uri())
    };
    TwilioNotifier::new(http(), creds)
        .send(&sms())
        .await
        .unwrap();
    let fields = form(&only_request(&server).await);
    assert_eq!(
        fields.get("MessagingServiceSid").map(String::as_str),
        Some("MG9752274e9e519418a7406176694466fa")
    );
    assert!(!fields.contains_key("From"));
    assert_eq!(fields["To"], "+14155550100");
}

#[tokio::test]
async fn credentials_come_from_the_secret_json_with_optional_fields_absent() {
    let creds: TwilioCredentials = serde_json::from_value(serde_json::json!({
        "account_sid": SID,
        "auth_token": TOKEN,
        "sms_from": "+15005550006"
    }))
    .unwrap();
    assert_eq!(creds.whatsapp_from, None);
    assert_eq!(creds.base_url, None);
    // No WhatsApp sender and no Messaging Service: an operator must configure one.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(created())
        .expect(0)
        .mount(&server)
        .await;
    let creds = TwilioCredentials {
        base_url: Some(server.uri()),
        ..creds
    };
    let err = TwilioNotifier::new(http(), creds)
        .send(&whatsapp())
        .await
        .unwrap_err();
    assert!(matches!(err, PartnerError::Config { .. }), "{err:?}");
}

#[tokio::test]
async fn an_email_is_not_twilios_to_send() {
    let server = MockServer::start().await;
    let mut m = sms();
    m.channel = NotifyChannel::Email;
    m.to = "ana@example.com".into();
    let err = notifier(&server).send(&m).await.unwrap_err();
    assert!(matches!(err, PartnerError::Config { .. }), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn too_many_requests_is_throttled_with_retry_after() {
    let server = twilio_answering(
        twilio_error(429, 20429, "Too Many Requests").insert_header("Retry-After", "7"),
    )
    .await;
    let err = notifier(&server).send(&sms()).await.unwrap_err();
    assert!(
        matches!(err, PartnerError::Throttled { retry_after: Some(d), .. } if d == Duration::from_secs(7)),
        "{err:?}"
    );
    assert!(domain::error::Classify::is_transient(&err));
}

#[tokio::test]
async fn a_503_is_retryable_and_other_5xx_are_not_resent() {
    let server = twilio_answering(ResponseTemplate::new(503)).await;
    let err = notifier(&server).send(&sms()).await.unwrap_err();
    assert!(matches!(err, PartnerError::Unavailable { .. }), "{err:?}");
    assert!(domain::error::Classify::is_transient(&err));
    // The request may have been passed on before the error: sending again could send twice.
    for status in [500, 502, 504] {
        let server = twilio_answering(ResponseTemplate::new(status)).await;
        let err = notifier(&server).send(&sms()).await.unwrap_err();
        assert!(
            matches!(err, PartnerError::Ambiguous { .. }),
            "{status}: {err:?}"
        );
        assert!(err.may_have_succeeded());
    }
}

#[tokio::test]
async fn wrong_credentials_are_config() {
    for (status, code) in [(401, 20003), (403, 20003)] {
        let server = twilio_answering(twilio_error(status, code, "Authenticate")).await;
        let err = notifier(&server).send(&sms()).await.unwrap_err();
        assert!(
            matches!(err, PartnerError::Config { .. }),
            "{status}: {err:?}"
        );
        assert!(!format!("{err} {err:?}").contains(TOKEN));
    }
}

#[tokio::test]
async fn a_sender_twilio_does_not_know_is_config() {
    let server = twilio_answering(twilio_error(
        400,
        21606,
        "The From phone number +15005550006 is not a valid, SMS-capable inbound phone number or short code for your account.",
    ))
    .await;
    let err = notifier(&server).send(&sms()).await.unwrap_err();
    assert!(matches!(err, PartnerError::Config { .. }), "{err:?}");
}

#[tokio::test]
async fn an_invalid_number_is_rejected_with_twilios_code_and_without_the_number() {
    let server = twilio_answering(twilio_error(
        400,
        21211,
        "The 'To' number +14155550100 is not a valid phone number.",
    ))
    .await;
    let err = notifier(&server).send(&sms()).await.unwrap_err();
    match err {
        PartnerError::Rejected { code, message, .. } => {
            assert_eq!(code, "21211");
            assert!(message.contains("is not a valid phone number"), "{message}");
            assert!(!message.contains("4155550100"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn other_4xx_are_rejected_with_twilios_code() {
    let server = twilio_answering(twilio_error(
        400,
        21614,
        "'To' number is not a valid mobile number",
    ))
    .await;
    let err = notifier(&server).send(&sms()).await.unwrap_err();
    assert!(
        matches!(&err, PartnerError::Rejected { code, .. } if code == "21614"),
        "{err:?}"
    );
    assert!(!domain::error::Classify::is_transient(&err));
}

#[tokio::test]
async fn a_2xx_we_cannot_read_is_ambiguous() {
    for response in [
        ResponseTemplate::new(201).set_body_string("<html>oops</html>"),
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"status": "queued"})),
    ] {
        let server = twilio_answering(response).await;
        let err = notifier(&server).send(&sms()).await.unwrap_err();
        assert!(matches!(err, PartnerError::Ambiguous { .. }), "{err:?}");
        // Twilio may have the message: the caller must not send it again.
        assert!(err.may_have_succeeded());
    }
}

#[tokio::test]
async fn a_timeout_after_sending_is_ambiguous_and_the_request_went_once() {
    // GIVEN Twilio that takes longer to answer than our timeout
    let server = twilio_answering(created().set_delay(Duration::from_secs(3))).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    // WHEN we send
    let err = TwilioNotifier::new(client, credentials(&server.uri()))
        .send(&sms())
        .await
        .unwrap_err();
    // THEN the outcome is unknown, and not retried: Twilio may have the message
    assert!(matches!(err, PartnerError::Ambiguous { .. }), "{err:?}");
    assert!(err.may_have_succeeded());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_connection_cut_after_the_request_was_sent_is_ambiguous() {
    // A server that reads the whole request, then hangs up without answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains("Body=") {
            let n = socket.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        socket.shutdown().await.ok();
        seen
    });
    let err = TwilioNotifier::new(http(), credentials(&format!("http://{addr}")))
        .send(&sms())
        .await
        .unwrap_err();
    assert!(matches!(err, PartnerError::Ambiguous { .. }), "{err:?}");
    let seen = String::from_utf8(server.await.unwrap()).unwrap();
    assert!(seen.starts_with(&format!("POST {MESSAGES}")), "{seen}");
}

#[tokio::test]
async fn a_connection_never_made_is_unavailable() {
    // A port nobody listens on: bound, then released.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = TwilioNotifier::new(http(), credentials(&format!("http://{addr}")))
        .send(&sms())
        .await
        .unwrap_err();
    assert!(matches!(err, PartnerError::Unavailable { .. }), "{err:?}");
    assert!(domain::error::Classify::is_transient(&err));
}

#[tokio::test]
async fn a_recipient_that_is_not_e164_is_rejected_without_a_call() {
    let server = MockServer::start().await;
    let mut m = sms();
    m.to = "0415 555 0100".into();
    let err = notifier(&server).send(&m).await.unwrap_err();
    assert!(
        matches!(&err, PartnerError::Rejected { code, .. } if code == "invalid_recipient"),
        "{err:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn debug_redacts_the_auth_token() {
    let creds = credentials("https://api.twilio.com");
    let shown = format!("{creds:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("<redacted>"));
    assert!(shown.contains(SID));
    let notifier = TwilioNotifier::new(reqwest::Client::new(), creds);
    assert!(!format!("{notifier:?}").contains(TOKEN));
    assert_eq!(notifier.name(), "twilio");
}
