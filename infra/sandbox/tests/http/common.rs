//! Shared fixtures: a started sandbox and a small courier API client.

use reqwest::{Client, RequestBuilder, Response};
use sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};

pub const API_KEY: &str = "sbx_test_key";
pub const SHOPIFY_TOKEN: &str = "shpat_test_token";

pub async fn start() -> Sandbox {
    let config = SandboxConfig {
        courier_api_key: API_KEY.to_owned(),
        shopify_access_token: SHOPIFY_TOKEN.to_owned(),
    };
    Sandbox::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("the sandbox starts on a free port")
}

/// A valid create-task body, as the create-task function would send for a Shopify order.
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
        "notes": "Leave at the back door",
        "complete_after": "2026-05-01T09:00:00Z",
        "complete_before": "2026-05-01T17:00:00Z"
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

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(API_KEY)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(API_KEY)
    }

    pub async fn create(&self, body: &Value, idempotency_key: Option<&str>) -> Response {
        let mut request = self.post("/v1/tasks").json(body);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.expect("the sandbox answers")
    }
}

pub async fn body_json(response: Response) -> Value {
    response.json().await.expect("a JSON body")
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
