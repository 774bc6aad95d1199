//! The log of every courier API (`/v1`) request, for tests to assert on retries and keys.

use axum::extract::{OriginalUri, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::state::AppState;

/// One `/v1` request, as received.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLogEntry {
    pub method: String,
    /// The full path, e.g. `/v1/tasks`.
    pub path: String,
    /// The raw query string, without the `?`.
    pub query: Option<String>,
    pub idempotency_key: Option<String>,
    /// The response status; `None` while the request is in flight, or if the client went
    /// away before a response was produced.
    pub status: Option<u16>,
}

/// Append-only, so an entry's index stays valid while its request is in flight.
#[derive(Debug, Default)]
pub(crate) struct RequestLog(Vec<RequestLogEntry>);

impl RequestLog {
    fn begin(&mut self, entry: RequestLogEntry) -> usize {
        self.0.push(entry);
        self.0.len() - 1
    }

    fn finish(&mut self, index: usize, status: u16) {
        if let Some(entry) = self.0.get_mut(index) {
            entry.status = Some(status);
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<RequestLogEntry> {
        self.0.clone()
    }
}

/// Middleware: reserves the log entry on arrival (so the log is in arrival order even for
/// concurrent requests) and fills in the status once the handler has answered — before any
/// hold-back delay, which happens further out.
pub(crate) async fn record(State(app): State<AppState>, request: Request, next: Next) -> Response {
    // Routers nested under `/v1` see a stripped path; log the one the client sent.
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().clone(), |original| original.0.clone());
    let entry = RequestLogEntry {
        method: request.method().to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        idempotency_key: request
            .headers()
            .get(crate::courier::IDEMPOTENCY_KEY)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        status: None,
    };
    tracing::debug!(method = %entry.method, path = %entry.path, "courier request");
    let index = app.with(|store| store.requests.begin(entry));

    let response = next.run(request).await;
    app.with(|store| store.requests.finish(index, response.status().as_u16()));
    response
}
