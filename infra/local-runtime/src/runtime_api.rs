//! The Lambda Runtime API, as a function process sees it on AWS
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>, version 2018-06-01):
//! the process long-polls `GET /runtime/invocation/next`, handles the event, and posts
//! `…/{AwsRequestId}/response` or `…/{AwsRequestId}/error`; a process that cannot start posts
//! `/runtime/init/error`. One [`RuntimeApi`] serves one function; every process of that
//! function polls it, and each takes one invocation at a time, as Lambda's execution
//! environments do.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

const PREFIX: &str = "/2018-06-01/runtime";
/// Lambda's limit on a synchronous invocation's response.
const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The handler reported an error (`…/error`), e.g. a panic or an `Err` from the handler.
    #[error("function error {error_type}: {message}")]
    Function { error_type: String, message: String },
    #[error("the function did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the function failed to start: {0}")]
    Init(String),
    #[error("the Runtime API is stopped")]
    Stopped,
}

#[derive(Debug, thiserror::Error)]
#[error("could not serve the Runtime API on 127.0.0.1: {0}")]
pub struct BindError(#[from] std::io::Error);

/// Where an invocation's outcome is sent.
type Answer = oneshot::Sender<Result<Vec<u8>, InvokeError>>;

struct Invocation {
    request_id: String,
    event: Vec<u8>,
    deadline_ms: i64,
    answer: Answer,
}

struct ApiState {
    function_arn: String,
    /// Queued invocations; a `next` call takes one (the receiver is shared by every process).
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    /// Handed out, waiting for their response or error.
    in_flight: Mutex<HashMap<String, Answer>>,
    init_error: watch::Sender<Option<String>>,
    /// When a process first asked for an event: the end of its start-up.
    first_poll: OnceLock<Instant>,
}

/// A Runtime API endpoint on 127.0.0.1 for one function.
pub struct RuntimeApi {
    addr: SocketAddr,
    queue: mpsc::UnboundedSender<Invocation>,
    state: Arc<ApiState>,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start(function_arn: &str) -> Result<RuntimeApi, BindError> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let (queue, receiver) = mpsc::unbounded_channel();
        let state = Arc::new(ApiState {
            function_arn: function_arn.to_owned(),
            queue: tokio::sync::Mutex::new(receiver),
            in_flight: Mutex::new(HashMap::new()),
            init_error: watch::channel(None).0,
            first_poll: OnceLock::new(),
        });
        let app = axum::Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(
                &format!("{PREFIX}/invocation/{{request_id}}/response"),
                post(response),
            )
            .route(
                &format!("{PREFIX}/invocation/{{request_id}}/error"),
                post(error),
            )
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            // The 6 MB limit is answered with the documented 413, not axum's default 2 MB.
            .layer(axum::extract::DefaultBodyLimit::max(MAX_RESPONSE_BYTES + 1))
            .with_state(state.clone());
        let (stop, mut stopped) = watch::channel(false);
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "Runtime API stopped");
            }
        });
        Ok(RuntimeApi {
            addr,
            queue,
            state,
            stop,
            server,
        })
    }

    /// What a process gets as `AWS_LAMBDA_RUNTIME_API`: "127.0.0.1:port".
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// When a process first polled for an event (its start-up ended), if one has.
    pub fn first_polled_at(&self) -> Option<Instant> {
        self.state.first_poll.get().copied()
    }

    /// Queues `event` (JSON) for the next free process and waits for its response, at most
    /// `timeout` (the function's timeout: its deadline header says the same).
    pub async fn invoke(&self, event: Vec<u8>, timeout: Duration) -> Result<Vec<u8>, InvokeError> {
        let request_id = request_id();
        let (answer, answered) = oneshot::channel();
        let deadline_ms =
            domain::clock::now_ms() + i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX / 2);
        self.queue
            .send(Invocation {
                request_id: request_id.clone(),
                event,
                deadline_ms,
                answer,
            })
            .map_err(|_| InvokeError::Stopped)?;
        let mut init_error = self.state.init_error.subscribe();
        let result = tokio::select! {
            r = answered => r.unwrap_or(Err(InvokeError::Stopped)),
            _ = tokio::time::sleep(timeout) => Err(InvokeError::Timeout(timeout)),
            Ok(message) = async {
                init_error.wait_for(|e| e.is_some()).await.map(|e| e.clone().unwrap_or_default())
            } => Err(InvokeError::Init(message)),
        };
        // A late answer for an abandoned invocation is refused, as Lambda refuses it.
        if let Ok(mut in_flight) = self.state.in_flight.lock() {
            in_flight.remove(&request_id);
        }
        result
    }

    pub async fn stop(self) {
        let RuntimeApi {
            queue,
            stop,
            server,
            ..
        } = self;
        // Closing the queue ends the `next` polls still waiting, so the server can drain.
        drop(queue);
        let _ = stop.send(true);
        let _ = server.await;
    }
}

/// A version 4 UUID, as Lambda's request ids are.
fn request_id() -> String {
    let b: u128 = (rand::random::<u128>() & !(0xf000 << 64) & !(0xc000 << 48))
        | (0x4000 << 64)
        | (0x8000 << 48);
    let hex = format!("{b:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// An X-Ray trace header in its documented format.
fn trace_id() -> String {
    let now = domain::clock::now_ms() / 1000;
    format!(
        "Root=1-{now:08x}-{:024x};Parent={:016x};Sampled=0",
        rand::random::<u128>() >> 32,
        rand::random::<u64>()
    )
}

fn error_body(status: StatusCode, error_type: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errorMessage": message, "errorType": error_type})),
    )
        .into_response()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
}

/// `GET /runtime/invocation/next`: blocks until an invocation is queued.
async fn next(State(state): State<Arc<ApiState>>) -> Response {
    state.first_poll.get_or_init(Instant::now);
    let invocation = {
        let mut queue = state.queue.lock().await;
        queue.recv().await
    };
    let Some(invocation) = invocation else {
        return error_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "the Runtime API is stopping",
        );
    };
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    put(
        "lambda-runtime-aws-request-id",
        invocation.request_id.clone(),
    );
    put(
        "lambda-runtime-deadline-ms",
        invocation.deadline_ms.to_string(),
    );
    put(
        "lambda-runtime-invoked-function-arn",
        state.function_arn.clone(),
    );
    put("lambda-runtime-trace-id", trace_id());
    put("content-type", "application/json".to_owned());
    if let Ok(mut in_flight) = state.in_flight.lock() {
        in_flight.insert(invocation.request_id, invocation.answer);
    }
    (StatusCode::OK, headers, invocation.event).into_response()
}

fn take(state: &ApiState, request_id: &str) -> Option<Answer> {
    state.in_flight.lock().ok()?.remove(request_id)
}

/// `POST /runtime/invocation/{AwsRequestId}/response`.
async fn response(
    State(state): State<Arc<ApiState>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    if body.len() > MAX_RESPONSE_BYTES {
        if let Some(answer) = take(&state, &request_id) {
            let _ = answer.send(Err(InvokeError::Function {
                error_type: "Function.ResponseSizeTooLarge".into(),
                message: format!("response of {} bytes", body.len()),
            }));
        }
        return error_body(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            "response payload over 6 MB",
        );
    }
    match take(&state, &request_id) {
        Some(answer) => {
            let _ = answer.send(Ok(body.to_vec()));
            accepted()
        }
        None => error_body(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "no invocation in flight with this request id",
        ),
    }
}

/// `POST /runtime/invocation/{AwsRequestId}/error`: the body is
/// `{"errorMessage": …, "errorType": …}`; the header `Lambda-Runtime-Function-Error-Type`
/// names the error too.
async fn error(
    State(state): State<Arc<ApiState>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (error_type, message) = reported_error(&headers, &body);
    match take(&state, &request_id) {
        Some(answer) => {
            let _ = answer.send(Err(InvokeError::Function {
                error_type,
                message,
            }));
            accepted()
        }
        None => error_body(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "no invocation in flight with this request id",
        ),
    }
}

/// `POST /runtime/init/error`: the process could not start; waiting invocations fail.
async fn init_error(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (error_type, message) = reported_error(&headers, &body);
    tracing::error!(function = %state.function_arn, %error_type, %message, "function init error");
    state
        .init_error
        .send_replace(Some(format!("{error_type}: {message}")));
    accepted()
}

fn reported_error(headers: &HeaderMap, body: &[u8]) -> (String, String) {
    let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let error_type = parsed["errorType"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get("lambda-runtime-function-error-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "Unhandled".into());
    let message = parsed["errorMessage"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    (error_type, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(api: &RuntimeApi, path: &str) -> String {
        format!("http://{}{PREFIX}{path}", api.endpoint())
    }

    #[tokio::test]
    async fn an_invocation_goes_out_on_next_with_its_headers_and_its_response_comes_back() {
        let api = Arc::new(
            RuntimeApi::start("arn:aws:lambda:us-east-1:000000000000:function:f")
                .await
                .unwrap(),
        );
        let http = reqwest::Client::new();
        let invoker = {
            let api = api.clone();
            tokio::spawn(async move {
                api.invoke(br#"{"hello":1}"#.to_vec(), Duration::from_secs(10))
                    .await
            })
        };
        // WHEN the process polls (blocking until the invocation is queued)
        let next = http
            .get(url(&api, "/invocation/next"))
            .send()
            .await
            .unwrap();
        assert_eq!(next.status(), 200);
        let header = |name: &str| {
            next.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .unwrap_or_default()
        };
        let id = header("Lambda-Runtime-Aws-Request-Id");
        assert_eq!(id.len(), 36);
        assert!(
            header("Lambda-Runtime-Deadline-Ms").parse::<i64>().unwrap() > domain::clock::now_ms()
        );
        assert_eq!(
            header("Lambda-Runtime-Invoked-Function-Arn"),
            "arn:aws:lambda:us-east-1:000000000000:function:f"
        );
        assert!(header("Lambda-Runtime-Trace-Id").starts_with("Root=1-"));
        assert_eq!(next.text().await.unwrap(), r#"{"hello":1}"#);

        let posted = http
            .post(url(&api, &format!("/invocation/{id}/response")))
            .body(r#"{"ok":true}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 202);
        assert_eq!(invoker.await.unwrap().unwrap(), br#"{"ok":true}"#.to_vec());

        // THEN a second answer for the same id is refused
        let again = http
            .post(url(&api, &format!("/invocation/{id}/response")))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 400);
    }

    #[tokio::test]
    async fn a_reported_error_and_an_init_error_fail_the_invocation() {
        let api = Arc::new(RuntimeApi::start("arn:f").await.unwrap());
        let http = reqwest::Client::new();
        let invoker = {
            let api = api.clone();
            tokio::spawn(async move { api.invoke(b"{}".to_vec(), Duration::from_secs(10)).await })
        };
        let next = http
            .get(url(&api, "/invocation/next"))
            .send()
            .await
            .unwrap();
        let id = next.headers()["lambda-runtime-aws-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let posted = http
            .post(url(&api, &format!("/invocation/{id}/error")))
            .header("Lambda-Runtime-Function-Error-Type", "Unhandled")
            .body(r#"{"errorMessage":"boom","errorType":"MyError"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 202);
        match invoker.await.unwrap() {
            Err(InvokeError::Function {
                error_type,
                message,
            }) => {
                assert_eq!(error_type, "MyError");
                assert_eq!(message, "boom");
            }
            other => panic!("expected a function error, got {other:?}"),
        }

        let waiting = {
            let api = api.clone();
            tokio::spawn(async move { api.invoke(b"{}".to_vec(), Duration::from_secs(10)).await })
        };
        let posted = http
            .post(url(&api, "/init/error"))
            .body(r#"{"errorMessage":"no config","errorType":"Runtime.InitError"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 202);
        assert!(
            matches!(waiting.await.unwrap(), Err(InvokeError::Init(m)) if m.contains("no config"))
        );
    }

    #[tokio::test]
    async fn an_unanswered_invocation_times_out() {
        let api = RuntimeApi::start("arn:f").await.unwrap();
        let result = api.invoke(b"{}".to_vec(), Duration::from_millis(50)).await;
        assert!(matches!(result, Err(InvokeError::Timeout(_))));
        api.stop().await;
    }

    /// The real client (`lambda_runtime::run`, what every function's main calls) against this
    /// emulator: events in, responses and handler errors out.
    #[tokio::test]
    async fn the_lambda_runtime_client_handles_invocations_through_it() {
        let api = Arc::new(
            RuntimeApi::start("arn:aws:lambda:us-east-1:000000000000:function:echo")
                .await
                .unwrap(),
        );
        // The only test that sets these; lambda_runtime reads its configuration from them.
        std::env::set_var("AWS_LAMBDA_RUNTIME_API", api.endpoint());
        std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "echo");
        std::env::set_var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
        std::env::set_var("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        let client = tokio::spawn(lambda_runtime::run(lambda_runtime::service_fn(
            |event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
                if event.payload["fail"] == true {
                    return Err(lambda_runtime::Error::from("asked to fail"));
                }
                assert!(event.context.deadline > 0);
                assert_eq!(
                    event.context.invoked_function_arn,
                    "arn:aws:lambda:us-east-1:000000000000:function:echo"
                );
                Ok(json!({"echo": event.payload, "id": event.context.request_id}))
            },
        )));
        for n in 0..3 {
            let answer = api
                .invoke(
                    json!({"n": n}).to_string().into_bytes(),
                    Duration::from_secs(10),
                )
                .await
                .unwrap();
            let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
            assert_eq!(answer["echo"]["n"], n);
            assert_eq!(answer["id"].as_str().unwrap().len(), 36);
        }
        let failed = api
            .invoke(br#"{"fail":true}"#.to_vec(), Duration::from_secs(10))
            .await;
        assert!(
            matches!(&failed, Err(InvokeError::Function { message, .. }) if message.contains("asked to fail")),
            "{failed:?}"
        );
        client.abort();
    }
}
