//! A counting proxy in front of the AWS emulator, for the per-event benchmark.
//!
//! Two jobs. It counts the AWS calls a function makes (by operation: `DynamoDB:PutItem`,
//! `SQS:SendMessage`, …), so calls per event are measured, not claimed. And it decides how
//! connections behave, which changes what a function pays per call: moto server answers
//! `Connection: close`, so every SDK call opens a new TCP connection, while AWS keeps
//! connections alive. In [`Connections::Close`] the proxy closes each connection after its
//! answer, as moto does; in [`Connections::KeepAlive`] it keeps the function's connections
//! open (and pays for moto's closed connections itself, outside the measured process).

use crate::BenchError;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// The largest request or answer passed through (an S3 report is the largest body).
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// How the proxy treats a function's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Connections {
    /// Closed after every answer, as moto server does: a new TCP connection per call.
    Close,
    /// Kept alive between calls, as AWS endpoints do.
    KeepAlive,
}

impl Connections {
    pub fn as_str(self) -> &'static str {
        match self {
            Connections::Close => "close",
            Connections::KeepAlive => "keep-alive",
        }
    }
}

struct ProxyState {
    upstream: String,
    client: reqwest::Client,
    keep_alive: AtomicBool,
    calls: Mutex<BTreeMap<String, u64>>,
}

pub struct EmulatorProxy {
    addr: SocketAddr,
    state: Arc<ProxyState>,
    server: JoinHandle<()>,
}

impl EmulatorProxy {
    /// Listens on 127.0.0.1 and forwards to `upstream` (the emulator's endpoint).
    pub async fn start(upstream: &str) -> Result<EmulatorProxy, BenchError> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(ProxyState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder().no_proxy().build()?,
            keep_alive: AtomicBool::new(false),
            calls: Mutex::new(BTreeMap::new()),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("emulator proxy stopped: {e}");
            }
        });
        Ok(EmulatorProxy {
            addr,
            state,
            server,
        })
    }

    /// What the functions get as `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_connections(&self, connections: Connections) {
        self.state
            .keep_alive
            .store(connections == Connections::KeepAlive, Ordering::SeqCst);
    }

    /// Every call forwarded so far, by operation.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.state
            .calls
            .lock()
            .map(|calls| calls.clone())
            .unwrap_or_default()
    }

    pub fn stop(self) {
        self.server.abort();
    }
}

/// The calls made between two snapshots of [`EmulatorProxy::calls`].
pub fn calls_between(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter_map(|(op, n)| {
            let made = n - before.get(op).copied().unwrap_or(0);
            (made > 0).then(|| (op.clone(), made))
        })
        .collect()
}

async fn forward(State(state): State<Arc<ProxyState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let op = operation(
        &parts.headers,
        parts.method.as_str(),
        parts.uri.path(),
        &body,
    );
    if let Ok(mut calls) = state.calls.lock() {
        *calls.entry(op).or_default() += 1;
    }
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut upstream = state
        .client
        .request(parts.method.clone(), format!("{}{path}", state.upstream));
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            upstream = upstream.header(name, value);
        }
    }
    let answer = match upstream.body(body).send().await {
        Ok(answer) => answer,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    let mut headers = HeaderMap::new();
    for (name, value) in answer.headers() {
        if !hop_by_hop(name) {
            headers.append(name, value.clone());
        }
    }
    let Ok(bytes) = answer.bytes().await else {
        return (StatusCode::BAD_GATEWAY, "the emulator's answer broke off").into_response();
    };
    if !state.keep_alive.load(Ordering::SeqCst) {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1), plus the
/// length and host that the next hop sets itself.
fn hop_by_hop(name: &header::HeaderName) -> bool {
    [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::CONTENT_LENGTH,
        header::HOST,
        header::TE,
        header::TRAILER,
        header::UPGRADE,
        header::PROXY_AUTHORIZATION,
    ]
    .contains(name)
        || name.as_str() == "keep-alive"
}

/// `DynamoDB:PutItem`, `SQS:SendMessage`, `SecretsManager:GetSecretValue`, `S3:PUT`, …:
/// the service from the SigV4 credential scope, the operation from the JSON protocols'
/// `X-Amz-Target`, the query protocol's `Action`, or the REST method.
fn operation(headers: &HeaderMap, method: &str, path: &str, body: &[u8]) -> String {
    let service = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|credential| credential.split('/').nth(3))
        .map(service_name)
        .unwrap_or("unsigned");
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let op = target.rsplit('.').next().unwrap_or(target);
        return format!("{service}:{op}");
    }
    let form = std::str::from_utf8(body).unwrap_or("");
    if let Some(action) = form
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
    {
        return format!("{service}:{action}");
    }
    let first_segment = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if service == "S3" {
        // The bucket only: object keys would make every call its own operation.
        return format!("{service}:{method} /{first_segment}");
    }
    format!("{service}:{method} {}", path)
}

fn service_name(scope: &str) -> &str {
    match scope {
        "dynamodb" => "DynamoDB",
        "sqs" => "SQS",
        "secretsmanager" => "SecretsManager",
        "s3" => "S3",
        "ses" | "email" => "SES",
        "monitoring" => "CloudWatch",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(service: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/{service}/aws4_request, \
             SignedHeaders=host, Signature=00"
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&auth).unwrap());
        headers
    }

    #[test]
    fn operations_are_named_by_service_and_action() {
        let mut dynamo = signed("dynamodb");
        dynamo.insert(
            "x-amz-target",
            HeaderValue::from_static("DynamoDB_20120810.PutItem"),
        );
        assert_eq!(operation(&dynamo, "POST", "/", b"{}"), "DynamoDB:PutItem");
        let mut sqs = signed("sqs");
        sqs.insert(
            "x-amz-target",
            HeaderValue::from_static("AmazonSQS.SendMessage"),
        );
        assert_eq!(operation(&sqs, "POST", "/", b"{}"), "SQS:SendMessage");
        assert_eq!(
            operation(
                &signed("email"),
                "POST",
                "/",
                b"Action=SendEmail&Version=2010-12-01"
            ),
            "SES:SendEmail"
        );
        assert_eq!(
            operation(&signed("s3"), "PUT", "/reports/2026/12/06.csv", b"a,b"),
            "S3:PUT /reports"
        );
        assert_eq!(
            operation(&HeaderMap::new(), "GET", "/health", b""),
            "unsigned:GET /health"
        );
    }

    #[test]
    fn calls_between_two_snapshots_leave_out_operations_not_called() {
        let before = BTreeMap::from([("SQS:SendMessage".to_owned(), 3)]);
        let after = BTreeMap::from([
            ("SQS:SendMessage".to_owned(), 5),
            ("DynamoDB:PutItem".to_owned(), 2),
        ]);
        assert_eq!(
            calls_between(&before, &after),
            BTreeMap::from([
                ("DynamoDB:PutItem".to_owned(), 2),
                ("SQS:SendMessage".to_owned(), 2)
            ])
        );
        assert!(calls_between(&after, &after).is_empty());
    }
}
