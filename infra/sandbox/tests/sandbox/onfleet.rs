//! The fake Onfleet webhooks API, used by `courier-bridge connect`, `disconnect` and
//! `doctor`: its URL check against small receivers started here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Query, State};
use axum::http::StatusCode as AxumStatus;
use axum::routing::get;
use axum::Router;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use sandbox::{OnfleetWebhookView, Sandbox, ONFLEET_API_KEY};
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::support::{body_json, start};

fn api(sandbox: &Sandbox, path: &str) -> String {
    format!("{}/api/v2{path}", sandbox.base_url())
}

fn authed(request: RequestBuilder) -> RequestBuilder {
    request.basic_auth(ONFLEET_API_KEY, Some(""))
}

async fn create(sandbox: &Sandbox, body: Value) -> Response {
    authed(Client::new().post(api(sandbox, "/webhooks")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// How a receiver answers Onfleet's check.
#[derive(Clone)]
enum Answer {
    /// `200` with the check value, as a receiver should.
    Echo,
    /// `200` with the check value, after listing the sandbox's webhooks through its API:
    /// the check must not hold the sandbox's state while it waits.
    EchoAfterCalling(String),
    /// This status and body, whatever the check value.
    Fixed(u16, &'static str),
}

#[derive(Clone)]
struct ReceiverState {
    answer: Answer,
    /// The query of every request, parsed.
    seen: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

/// A receiver of Onfleet's URL check on a free local port.
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

impl Receiver {
    async fn start(answer: Answer) -> Self {
        let state = ReceiverState {
            answer,
            seen: Arc::default(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/onfleet?store=demo",
            listener.local_addr().unwrap()
        );
        let router = Router::new()
            .route("/onfleet", get(answer_check))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            url,
            seen: state.seen,
        }
    }

    fn seen(&self) -> Vec<HashMap<String, String>> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

async fn answer_check(
    State(state): State<ReceiverState>,
    Query(query): Query<HashMap<String, String>>,
) -> (AxumStatus, String) {
    state
        .seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(query.clone());
    let check = query.get("check").cloned().unwrap_or_default();
    match state.answer {
        Answer::Echo => (AxumStatus::OK, check),
        Answer::EchoAfterCalling(webhooks_url) => {
            let listed = authed(Client::new().get(webhooks_url))
                .send()
                .await
                .unwrap();
            assert_eq!(listed.status(), StatusCode::OK);
            (AxumStatus::OK, format!("{check}\n"))
        }
        Answer::Fixed(status, body) => (AxumStatus::from_u16(status).unwrap(), body.to_owned()),
    }
}

#[tokio::test]
async fn the_key_is_tested_with_auth_test() {
    let sandbox = start().await;
    let ok = authed(Client::new().get(api(&sandbox, "/auth/test")))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let message = body_json(ok).await["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("Hello organization ")
            && message.ends_with(", you have been authenticated!"),
        "{message}"
    );

    let client = Client::new();
    for request in [
        client.get(api(&sandbox, "/auth/test")),
        client
            .get(api(&sandbox, "/auth/test"))
            .basic_auth("wrong_key", Some("")),
        client
            .get(api(&sandbox, "/webhooks"))
            .bearer_auth(ONFLEET_API_KEY),
        client
            .post(api(&sandbox, "/webhooks"))
            .json(&json!({ "url": "https://example.com", "trigger": 3 })),
        client.delete(api(&sandbox, "/webhooks/abc")),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body = body_json(response).await;
        assert_eq!(body["code"], "InvalidCredentials");
        assert_eq!(body["message"]["error"], 1102);
        assert_eq!(body["message"]["message"], "The API key is invalid.");
        assert_eq!(body["message"]["request"].as_str().unwrap().len(), 36);
    }
}

#[tokio::test]
async fn a_webhook_is_created_once_its_url_echoes_the_check() {
    let sandbox = start().await;
    let receiver = Receiver::start(Answer::Echo).await;
    let created = create(
        &sandbox,
        json!({ "url": receiver.url, "trigger": 3, "name": "courier-bridge taskCompleted" }),
    )
    .await;
    assert_eq!(created.status(), StatusCode::OK);
    let webhook = body_json(created).await;
    let id = webhook["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 24);
    assert_eq!(
        webhook,
        json!({
            "id": id, "count": 0, "url": receiver.url, "trigger": 3,
            "isEnabled": true, "name": "courier-bridge taskCompleted",
        })
    );

    // One check, its value added to the URL's own query.
    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["store"], "demo");
    assert!(seen[0]["check"].len() >= 16, "{:?}", seen[0]);

    assert_eq!(
        sandbox.onfleet_webhooks(),
        [OnfleetWebhookView {
            id: id.clone(),
            url: receiver.url.clone(),
            trigger: 3,
            name: Some("courier-bridge taskCompleted".into()),
        }]
    );
    let listed = authed(Client::new().get(api(&sandbox, "/webhooks")))
        .send()
        .await
        .unwrap();
    assert_eq!(body_json(listed).await, json!([webhook]));

    let deleted = authed(Client::new().delete(api(&sandbox, &format!("/webhooks/{id}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(deleted.text().await.unwrap(), "");
    assert!(sandbox.onfleet_webhooks().is_empty());

    let again = authed(Client::new().delete(api(&sandbox, &format!("/webhooks/{id}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let error = body_json(again).await;
    assert_eq!(error["code"], "ResourceNotFound");
    assert_eq!(error["message"]["error"], 1402);
    assert_eq!(
        error["message"]["message"],
        "The requested resource does not exist."
    );
}

#[tokio::test]
async fn the_check_does_not_hold_the_sandbox_while_it_waits() {
    let sandbox = start().await;
    let receiver = Receiver::start(Answer::EchoAfterCalling(api(&sandbox, "/webhooks"))).await;
    let created = create(
        &sandbox,
        json!({ "url": receiver.url, "trigger": 1, "threshold": 300 }),
    )
    .await;
    assert_eq!(created.status(), StatusCode::OK);
    let webhook = body_json(created).await;
    assert_eq!(webhook["threshold"], 300);
    assert_eq!(webhook["name"], Value::Null);
    assert_eq!(sandbox.onfleet_webhooks().len(), 1);
}

#[tokio::test]
async fn a_url_that_answers_wrongly_gets_no_webhook() {
    let sandbox = start().await;
    let cases = [
        (Answer::Fixed(200, "hello"), "not the check value"),
        (Answer::Fixed(200, ""), "not the check value"),
        (Answer::Fixed(204, ""), "204 No Content"),
        (Answer::Fixed(404, "no such page"), "404 Not Found"),
        (Answer::Fixed(302, ""), "302 Found"),
    ];
    for (answer, cause) in cases {
        let receiver = Receiver::start(answer).await;
        let refused = create(&sandbox, json!({ "url": receiver.url, "trigger": 9 })).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{cause}");
        let error = body_json(refused).await;
        assert_eq!(error["code"], "InvalidArgument");
        assert_eq!(error["message"]["error"], 1000);
        assert_eq!(
            error["message"]["message"],
            "Webhook validation failed: the URL must respond to a GET with the check value."
        );
        let said = error["message"]["cause"].as_str().unwrap();
        assert!(said.contains(cause), "{said}");
        assert_eq!(receiver.seen().len(), 1, "{cause}");
    }

    // Nobody listening: the port of a listener that is gone.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = format!("http://{}/onfleet", listener.local_addr().unwrap());
    drop(listener);
    let refused = create(&sandbox, json!({ "url": closed, "trigger": 9 })).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let cause = body_json(refused).await["message"]["cause"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(cause.contains("failed"), "{cause}");

    assert!(sandbox.onfleet_webhooks().is_empty());
}

#[tokio::test]
async fn duplicates_are_allowed_and_bad_fields_refused_before_any_check() {
    let sandbox = start().await;
    let receiver = Receiver::start(Answer::Echo).await;
    for _ in 0..2 {
        let created = create(&sandbox, json!({ "url": receiver.url, "trigger": 0 })).await;
        assert_eq!(created.status(), StatusCode::OK);
    }
    let webhooks = sandbox.onfleet_webhooks();
    assert_eq!(webhooks.len(), 2);
    assert_ne!(webhooks[0].id, webhooks[1].id);

    for body in [
        json!({ "url": receiver.url, "trigger": 11 }),
        json!({ "url": receiver.url, "trigger": 18 }),
        json!({ "url": receiver.url }),
        json!({ "url": "not a url", "trigger": 3 }),
        json!({ "url": "ftp://example.com/hooks", "trigger": 3 }),
        json!({ "trigger": 3 }),
        json!([]),
    ] {
        let refused = create(&sandbox, body.clone()).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{body}");
        let error = body_json(refused).await;
        assert_eq!(error["code"], "InvalidArgument", "{body}");
        assert_eq!(error["message"]["error"], 1000, "{body}");
        assert!(error["message"]["cause"].is_string(), "{body}");
    }
    assert_eq!(
        receiver.seen().len(),
        2,
        "only the good requests were checked"
    );
    assert_eq!(sandbox.onfleet_webhooks().len(), 2);
}
