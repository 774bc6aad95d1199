//! Fixtures of the sandbox's tests: a started sandbox, a small courier client, the control
//! API, a webhook receiver, and waiting on a condition with a deadline.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use reqwest::{Client, RequestBuilder, Response};
use sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub const API_KEY: &str = "sbx_test_key";
pub const SHOPIFY_TOKEN: &str = "shpat_test_token";

/// How long any awaited condition may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(10);

pub async fn start() -> Sandbox {
    let config = SandboxConfig {
        courier_api_key: API_KEY.to_owned(),
        shopify_access_token: SHOPIFY_TOKEN.to_owned(),
    };
    Sandbox::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("the sandbox starts on a free port")
}

/// A valid create-task body, as the create-task function would send for a Shopify order,
/// delivered between 9:00 and 17:00 on 2026-05-01.
pub fn windowed_task_body(reference: &str) -> Value {
    let mut body = task_body(reference);
    body["complete_after"] = json!("2026-05-01T09:00:00Z");
    body["complete_before"] = json!("2026-05-01T17:00:00Z");
    body
}

/// A valid create-task body: cash on delivery 57.98 USD, 1.2 kg, no coordinates.
pub fn task_body(reference: &str) -> Value {
    json!({
        "reference": reference,
        "recipient": { "name": "Steve Shipper", "phone": "+14155550100", "email": "steve@example.com" },
        "destination": {
            "line1": "123 Shipping Street", "line2": null, "city": "Shippington",
            "region": "KY", "postal_code": "40003", "country_code": "US",
            "latitude": null, "longitude": null
        },
        "parcel": { "pieces": 2, "weight_grams": 1200 },
        "cash_on_delivery": { "amount_minor": 5798, "currency": "USD" },
        "notes": "Leave at the back door"
    })
}

/// Talks to the courier API with the right key unless told otherwise.
pub struct Courier {
    pub client: Client,
    pub base: String,
}

impl Courier {
    pub fn new(sandbox: &Sandbox) -> Self {
        Self::with_client(sandbox, Client::new())
    }

    pub fn with_client(sandbox: &Sandbox, client: Client) -> Self {
        Self {
            client,
            base: sandbox.base_url(),
        }
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(reqwest::Method::GET, path)
    }

    /// `POST /v1/tasks` with `body` and, if given, an `Idempotency-Key`.
    pub async fn create(&self, body: &Value, idempotency_key: Option<&str>) -> Response {
        let mut request = self.post("/v1/tasks").json(body);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.expect("the sandbox answers")
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(API_KEY)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(reqwest::Method::POST, path)
    }

    /// Creates a task and returns its id.
    pub async fn create_id(&self, body: &Value) -> String {
        let response = self.create(body, None).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        body_json(response).await["id"].as_str().unwrap().to_owned()
    }

    /// `POST /v1/tasks/{id}/advance`, with `body` if given.
    pub async fn advance(&self, id: &str, body: Option<Value>) -> Response {
        let mut request = self.post(&format!("/v1/tasks/{id}/advance"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("the sandbox answers")
    }

    /// Advances `steps` plain steps, each answered 200.
    pub async fn advance_steps(&self, id: &str, steps: usize) {
        for _ in 0..steps {
            assert_eq!(self.advance(id, None).await.status(), StatusCode::OK);
        }
    }
}

pub async fn body_json(response: Response) -> Value {
    response.json().await.expect("a JSON body")
}

/// Polls `check` until it yields a value; fails the test after a deadline.
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Like [`eventually`], for a check that must await.
pub async fn eventually_async<T, F: Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON event")
    }
}

#[derive(Clone)]
struct ReceiverState {
    received: Arc<Mutex<Vec<Received>>>,
    /// Statuses to answer with, in order; 200 once they run out.
    script: Arc<Mutex<VecDeque<u16>>>,
    /// Requests wait while this is `false`.
    open: watch::Receiver<bool>,
}

/// A webhook receiver on a free local port: records every request on arrival, then
/// answers with the next scripted status.
pub struct Receiver {
    pub url: String,
    state: ReceiverState,
    gate: watch::Sender<bool>,
}

impl Receiver {
    /// Answers the scripted statuses, then 200.
    pub async fn start(script: &[u16]) -> Self {
        Self::start_with_gate(script, true).await
    }

    /// Like [`Receiver::start`], but holds every request until [`Receiver::open`].
    pub async fn start_closed() -> Self {
        Self::start_with_gate(&[], false).await
    }

    async fn start_with_gate(script: &[u16], open: bool) -> Self {
        let (gate, open) = watch::channel(open);
        let state = ReceiverState {
            received: Arc::default(),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            open,
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/courier-events", listener.local_addr().unwrap());
        let router = Router::new()
            .route("/courier-events", post(receive))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, state, gate }
    }

    pub fn open(&self) {
        self.gate.send_replace(true);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until `count` requests have arrived, and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        eventually(&format!("{count} webhook requests"), || {
            let received = self.received();
            (received.len() >= count).then_some(received)
        })
        .await
    }
}

async fn receive(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    state
        .received
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Received { headers, body });
    let mut open = state.open.clone();
    // The sender lives as long as the test's `Receiver`; if it is gone, stop waiting.
    let _ = open.wait_for(|open| *open).await;
    let status = state
        .script
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop_front()
        .unwrap_or(200);
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}

/// Lower-case hex HMAC-SHA256 of `body` keyed with `secret`, as a receiver verifies it.
pub fn hmac_hex(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// POSTs a JSON body to the control API.
pub async fn set_faults(sandbox: &Sandbox, body: Value) -> Response {
    Client::new()
        .post(format!("{}/sandbox/faults", sandbox.base_url()))
        .json(&body)
        .send()
        .await
        .expect("the sandbox answers")
}
