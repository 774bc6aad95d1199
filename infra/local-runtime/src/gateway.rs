//! API Gateway (HTTP API, payload format 2.0) on 127.0.0.1: each route of the template
//! becomes an axum route whose request is turned into the `ApiGatewayV2httpRequest` Lambda
//! would receive, and whose handler's response is sent back as is.

use crate::functions::Function;
use crate::process::FunctionProcesses;
use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::collections::HashMap;
use std::sync::Arc;

/// A function behind HTTP routes: its handler here, or its processes.
#[derive(Clone)]
pub enum HttpHandler {
    InProcess(Arc<Function>),
    Process(Arc<FunctionProcesses>),
}

impl HttpHandler {
    async fn invoke(&self, request: ApiGatewayV2httpRequest) -> Response {
        match self {
            HttpHandler::InProcess(function) => from_lambda(function.invoke_http(request).await),
            HttpHandler::Process(process) => {
                let answer = match serde_json::to_vec(&request) {
                    Ok(event) => process.invoke(event).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                match answer.and_then(|bytes| {
                    serde_json::from_slice::<ApiGatewayV2httpResponse>(&bytes)
                        .map_err(|e| e.to_string())
                }) {
                    Ok(response) => from_lambda(response),
                    Err(error) => {
                        tracing::warn!(%error, "invocation failed");
                        // What an HTTP API answers when its integration fails.
                        (
                            StatusCode::INTERNAL_SERVER_ERROR,
                            axum::Json(serde_json::json!({"message": "Internal Server Error"})),
                        )
                            .into_response()
                    }
                }
            }
        }
    }
}

/// Each route of the template, `(method, path, the function behind it)`, as API Gateway
/// routes it.
pub fn router(routes: &[(String, String, HttpHandler)]) -> axum::Router {
    let mut router = axum::Router::new();
    for (method, path, handler) in routes {
        let route_key = format!("{method} {path}");
        let handler = handler.clone();
        let handler = move |Path(params): Path<HashMap<String, String>>,
                            method: Method,
                            uri: Uri,
                            headers: HeaderMap,
                            body: Bytes| async move {
            let request = to_lambda(&route_key, method, &uri, headers, params, &body);
            handler.invoke(request).await
        };
        let method_router = match method.as_str() {
            "GET" => axum::routing::get(handler),
            "PUT" => axum::routing::put(handler),
            "DELETE" => axum::routing::delete(handler),
            _ => axum::routing::post(handler),
        };
        router = router.route(path, method_router);
    }
    router
}

fn to_lambda(
    route_key: &str,
    method: Method,
    uri: &Uri,
    headers: HeaderMap,
    params: HashMap<String, String>,
    body: &[u8],
) -> ApiGatewayV2httpRequest {
    let mut request = ApiGatewayV2httpRequest::default();
    request.version = Some("2.0".into());
    request.route_key = Some(route_key.to_owned());
    request.raw_path = Some(uri.path().to_owned());
    request.raw_query_string = Some(uri.query().unwrap_or("").to_owned());
    // As API Gateway does: decoded, repeated keys kept in order.
    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        query
            .entry(k.into_owned())
            .or_default()
            .push(v.into_owned());
    }
    request.query_string_parameters = query.into();
    // Payload format 2.0: the cookies in their own field, not among the headers.
    let cookies: Vec<String> = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    request.cookies = (!cookies.is_empty()).then_some(cookies);
    let mut headers = headers;
    headers.remove(axum::http::header::COOKIE);
    request.headers = headers;
    request.path_parameters = params;
    // API Gateway passes text bodies as they are and base64-encodes the rest.
    match std::str::from_utf8(body) {
        Ok(text) => {
            request.body = Some(text.to_owned());
            request.is_base64_encoded = false;
        }
        Err(_) => {
            request.body = Some(base64::engine::general_purpose::STANDARD.encode(body));
            request.is_base64_encoded = true;
        }
    }
    request.request_context.route_key = Some(route_key.to_owned());
    request.request_context.http.method = method;
    request.request_context.http.path = Some(uri.path().to_owned());
    request.request_context.time_epoch = domain::clock::now_ms();
    request
}

fn from_lambda(response: ApiGatewayV2httpResponse) -> Response {
    let status = u16::try_from(response.status_code)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let body = match response.body {
        // A body that came back through JSON reads as text; the flag says it is base64.
        Some(Body::Text(text)) if response.is_base64_encoded => {
            base64::engine::general_purpose::STANDARD
                .decode(&text)
                .unwrap_or_else(|_| text.into_bytes())
        }
        Some(Body::Text(text)) => text.into_bytes(),
        Some(Body::Binary(bytes)) => bytes,
        _ => Vec::new(),
    };
    let mut headers = response.headers;
    for cookie in &response.cookies {
        match axum::http::HeaderValue::from_str(cookie) {
            Ok(value) => {
                headers.append(axum::http::header::SET_COOKIE, value);
            }
            Err(error) => tracing::warn!(%error, "a cookie that is no header value; dropped"),
        }
    }
    (status, headers, body).into_response()
}
