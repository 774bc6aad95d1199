//! The fake Twilio Messages API: SMS and WhatsApp, Twilio's errors and magic numbers,
//! authentication, faults and the message listing.

use std::time::Duration;

use crate::support::{body_json, start};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use sandbox::{Fault, Sandbox, TwilioChannel, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

const FROM: &str = "+15005550006";
const TO: &str = "+14155550100";

fn messages_url(sandbox: &Sandbox, account_sid: &str) -> String {
    format!(
        "{}/2010-04-01/Accounts/{account_sid}/Messages.json",
        sandbox.base_url()
    )
}

fn authed(client: &Client, sandbox: &Sandbox) -> RequestBuilder {
    client
        .post(messages_url(sandbox, TWILIO_ACCOUNT_SID))
        .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN))
}

async fn send(sandbox: &Sandbox, params: &[(&str, &str)]) -> Response {
    authed(&Client::new(), sandbox)
        .form(params)
        .send()
        .await
        .expect("the sandbox answers")
}

/// Checks Twilio's error shape and returns the code.
async fn error_code(response: Response, status: StatusCode) -> u64 {
    assert_eq!(response.status(), status);
    let body = body_json(response).await;
    let code = body["code"].as_u64().expect("a numeric code");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert_eq!(
        body["more_info"],
        format!("https://www.twilio.com/docs/errors/{code}")
    );
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    code
}

fn is_sid(value: &Value, prefix: &str) -> bool {
    value.as_str().is_some_and(|sid| {
        sid.len() == 34
            && sid.starts_with(prefix)
            && sid[2..].bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[tokio::test]
async fn an_sms_is_accepted_as_a_queued_message_resource() {
    let sandbox = start().await;
    let response = send(
        &sandbox,
        &[
            ("To", TO),
            ("From", FROM),
            ("Body", "Your parcel is on its way"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let message = body_json(response).await;
    assert!(is_sid(&message["sid"], "SM"), "{message}");
    assert_eq!(message["account_sid"], TWILIO_ACCOUNT_SID);
    assert_eq!(message["to"], TO);
    assert_eq!(message["from"], FROM);
    assert_eq!(message["body"], "Your parcel is on its way");
    assert_eq!(message["status"], "queued");
    assert_eq!(message["direction"], "outbound-api");
    assert_eq!(message["api_version"], "2010-04-01");
    assert_eq!(message["num_segments"], "1");
    assert_eq!(message["num_media"], "0");
    assert!(message["price"].is_null() && message["error_code"].is_null());
    assert!(message["messaging_service_sid"].is_null());
    OffsetDateTime::parse(message["date_created"].as_str().unwrap(), &Rfc2822)
        .expect("date_created is RFC 2822");
    let sid = message["sid"].as_str().unwrap();
    let uri = format!("/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages/{sid}.json");
    assert_eq!(message["uri"], uri);

    // The uri serves the same resource.
    let fetched = Client::new()
        .get(format!("{}{uri}", sandbox.base_url()))
        .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(body_json(fetched).await, message);
    let unknown = Client::new()
        .get(format!(
            "{}/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages/SM{}.json",
            sandbox.base_url(),
            "0".repeat(32)
        ))
        .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(unknown, StatusCode::NOT_FOUND).await, 20404);

    let listed = sandbox.sms_messages();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].sid, sid);
    assert_eq!(listed[0].to, TO);
    assert_eq!(listed[0].from.as_deref(), Some(FROM));
    assert_eq!(listed[0].body, "Your parcel is on its way");
    assert_eq!(listed[0].channel, TwilioChannel::Sms);
}

#[tokio::test]
async fn a_whatsapp_message_keeps_its_channel_prefix() {
    let sandbox = start().await;
    let to = format!("whatsapp:{TO}");
    let from = "whatsapp:+14155238886";
    let response = send(
        &sandbox,
        &[
            ("To", &to),
            ("From", from),
            ("Body", "Ihr Paket kommt heute ✓"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let message = body_json(response).await;
    assert_eq!(message["to"], to);
    assert_eq!(message["from"], from);
    assert_eq!(message["status"], "queued");

    let listed = sandbox.sms_messages();
    assert_eq!(listed[0].channel, TwilioChannel::Whatsapp);
    assert_eq!(listed[0].to, to);
}

#[tokio::test]
async fn a_messaging_service_sends_without_a_from() {
    let sandbox = start().await;
    let service = format!("MG{}", "1".repeat(32));
    let response = send(
        &sandbox,
        &[
            ("To", TO),
            ("MessagingServiceSid", &service),
            ("Body", "hi"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let message = body_json(response).await;
    assert_eq!(message["status"], "accepted");
    assert!(message["from"].is_null());
    assert_eq!(message["messaging_service_sid"], service);
    assert_eq!(message["num_segments"], "0");
    assert_eq!(sandbox.sms_messages()[0].from, None);
}

#[tokio::test]
async fn long_bodies_are_counted_in_segments() {
    let sandbox = start().await;
    let long = "a".repeat(161);
    let message =
        body_json(send(&sandbox, &[("To", TO), ("From", FROM), ("Body", &long)]).await).await;
    assert_eq!(message["num_segments"], "2");
}

#[tokio::test]
async fn invalid_messages_get_twilio_s_error_codes_and_are_not_sent() {
    let sandbox = start().await;
    let too_long = "x".repeat(1601);
    let cases: [(&[(&str, &str)], u64); 17] = [
        (&[("From", FROM), ("Body", "hi")], 21604),
        (&[("To", ""), ("From", FROM), ("Body", "hi")], 21604),
        (&[("To", TO), ("Body", "hi")], 21603),
        (
            &[("To", TO), ("MessagingServiceSid", "MG1"), ("Body", "hi")],
            21705,
        ),
        (&[("To", TO), ("From", FROM)], 21602),
        (&[("To", TO), ("From", FROM), ("Body", &too_long)], 21617),
        (
            &[
                ("To", "whatsapp:+14155550100"),
                ("From", FROM),
                ("Body", "hi"),
            ],
            21910,
        ),
        (
            &[("To", "4155550100"), ("From", FROM), ("Body", "hi")],
            21211,
        ),
        (
            &[("To", TO), ("From", "+1 (415) 555"), ("Body", "hi")],
            21212,
        ),
        // Twilio's magic numbers.
        (
            &[("To", "+15005550001"), ("From", FROM), ("Body", "hi")],
            21211,
        ),
        (
            &[("To", "+15005550002"), ("From", FROM), ("Body", "hi")],
            21612,
        ),
        (
            &[("To", "+15005550003"), ("From", FROM), ("Body", "hi")],
            21408,
        ),
        (
            &[("To", "+15005550004"), ("From", FROM), ("Body", "hi")],
            21610,
        ),
        (
            &[("To", "+15005550009"), ("From", FROM), ("Body", "hi")],
            21614,
        ),
        (
            &[("To", TO), ("From", "+15005550001"), ("Body", "hi")],
            21212,
        ),
        (
            &[("To", TO), ("From", "+15005550007"), ("Body", "hi")],
            21606,
        ),
        (
            &[("To", TO), ("From", "+15005550008"), ("Body", "hi")],
            21611,
        ),
    ];
    for (params, expected) in cases {
        let code = error_code(send(&sandbox, params).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(code, expected, "{params:?}");
    }

    // Parameters sent as JSON are not read at all.
    let json_body = authed(&Client::new(), &sandbox)
        .json(&json!({"To": TO, "From": FROM, "Body": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(json_body, StatusCode::BAD_REQUEST).await, 21604);

    assert!(sandbox.sms_messages().is_empty());
}

#[tokio::test]
async fn only_the_account_s_credentials_are_accepted() {
    let sandbox = start().await;
    let client = Client::new();
    let params = [("To", TO), ("From", FROM), ("Body", "hi")];
    let other_account = format!("AC{}", "0".repeat(32));
    for request in [
        client.post(messages_url(&sandbox, TWILIO_ACCOUNT_SID)),
        client
            .post(messages_url(&sandbox, TWILIO_ACCOUNT_SID))
            .basic_auth(TWILIO_ACCOUNT_SID, Some("wrong")),
        client
            .post(messages_url(&sandbox, TWILIO_ACCOUNT_SID))
            .bearer_auth(TWILIO_AUTH_TOKEN),
        client
            .post(messages_url(&sandbox, &other_account))
            .basic_auth(TWILIO_ACCOUNT_SID, Some(TWILIO_AUTH_TOKEN)),
    ] {
        let response = request.form(&params).send().await.unwrap();
        assert!(response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"));
        assert_eq!(error_code(response, StatusCode::UNAUTHORIZED).await, 20003);
    }
    assert!(sandbox.sms_messages().is_empty());
}

#[tokio::test]
async fn faults_answer_twilio_s_errors_and_send_nothing() {
    let sandbox = start().await;
    let params = [("To", TO), ("From", FROM), ("Body", "hi")];
    for (fault, status, code) in [
        (
            Fault::RateLimited { times: 1 },
            StatusCode::TOO_MANY_REQUESTS,
            20429,
        ),
        (
            Fault::Unavailable { times: 1 },
            StatusCode::SERVICE_UNAVAILABLE,
            20503,
        ),
        (
            Fault::ServerError { times: 1 },
            StatusCode::INTERNAL_SERVER_ERROR,
            20500,
        ),
    ] {
        sandbox.set_twilio_fault(fault);
        assert_eq!(
            error_code(send(&sandbox, &params).await, status).await,
            code
        );
    }
    assert!(sandbox.sms_messages().is_empty());
    // Counted faults run out.
    assert_eq!(send(&sandbox, &params).await.status(), StatusCode::CREATED);

    sandbox.set_twilio_fault(Fault::UnavailableUntilCleared);
    for _ in 0..2 {
        assert_eq!(
            send(&sandbox, &params).await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    sandbox.clear_faults();
    assert_eq!(send(&sandbox, &params).await.status(), StatusCode::CREATED);
    assert_eq!(sandbox.sms_messages().len(), 2);
}

#[tokio::test]
async fn a_lost_response_still_sends_the_message() {
    let sandbox = start().await;
    sandbox.set_twilio_fault(Fault::LoseResponse {
        times: 1,
        delay_ms: 1_000,
    });
    let impatient = Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let outcome = authed(&impatient, &sandbox)
        .form(&[("To", TO), ("From", FROM), ("Body", "ambiguous")])
        .send()
        .await;
    assert!(outcome.is_err_and(|error| error.is_timeout()));

    let listed = sandbox.sms_messages();
    assert_eq!(
        listed.len(),
        1,
        "the message went out although the answer was lost"
    );
    assert_eq!(listed[0].body, "ambiguous");
}

#[tokio::test]
async fn messages_are_listed_in_acceptance_order_here_and_on_the_control_api() {
    let sandbox = start().await;
    // The control API arms Twilio faults too.
    let armed = Client::new()
        .post(format!("{}/sandbox/faults", sandbox.base_url()))
        .json(&json!({"twilio": {"mode": "server_error"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(armed.status(), StatusCode::NO_CONTENT);
    let refused = send(&sandbox, &[("To", TO), ("From", FROM), ("Body", "lost")]).await;
    assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);

    for body in ["first", "second", "third"] {
        let response = send(&sandbox, &[("To", TO), ("From", FROM), ("Body", body)]).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let listed = sandbox.sms_messages();
    let bodies: Vec<_> = listed.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["first", "second", "third"]);

    let control: Value = Client::new()
        .get(format!("{}/sandbox/twilio/messages", sandbox.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(control, serde_json::to_value(&listed).unwrap());
    assert_eq!(control[0]["channel"], "sms");
}
