//! The HTTP API's event as an HTTP request for an axum app, and the app's response as the
//! event's answer. API Gateway (and the local runtime's gateway, which follows it) hands a
//! function the event itself (payload format 2.0), so a function that is an axum app needs
//! this conversion once; `lambda_http` does the same inside its own runtime loop, which the
//! functions here do not use (they share `lambda_runtime`'s, and the local runtime invokes
//! them in process with the event).
//!
//! Payload format 2.0 moves the request's `Cookie` header into the event's `cookies` and
//! takes the response's cookies from the answer's `cookies`: both are put back and taken
//! out here, so the app reads and sets cookies as on any HTTP server.

use aws_lambda_events::encodings::Body as EventBody;
use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

/// Answers one event with `app`.
pub async fn serve(app: Router, event: &ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let request = match to_request(event) {
        Ok(request) => request,
        Err(problem) => {
            tracing::warn!(%problem, "unreadable request");
            return to_event(StatusCode::BAD_REQUEST.into_response()).await;
        }
    };
    match app.oneshot(request).await {
        Ok(response) => to_event(response).await,
        Err(never) => match never {},
    }
}

/// The event as an HTTP request: method, raw path and query, headers (the cookies back in
/// one `Cookie` header), body.
pub fn to_request(event: &ApiGatewayV2httpRequest) -> Result<axum::extract::Request, String> {
    let path = event.raw_path.as_deref().unwrap_or("/");
    let uri = match event.raw_query_string.as_deref() {
        Some(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path.to_owned(),
    };
    let body = match &event.body {
        None => Vec::new(),
        Some(text) if event.is_base64_encoded => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| format!("body: {e}"))?,
        Some(text) => text.clone().into_bytes(),
    };
    let mut request = http::Request::builder()
        .method(event.request_context.http.method.clone())
        .uri(uri)
        .body(axum::body::Body::from(body))
        .map_err(|e| e.to_string())?;
    *request.headers_mut() = event.headers.clone();
    if let Some(cookies) = event.cookies.as_ref().filter(|c| !c.is_empty()) {
        let joined =
            HeaderValue::from_str(&cookies.join("; ")).map_err(|e| format!("cookies: {e}"))?;
        request.headers_mut().insert(header::COOKIE, joined);
    }
    Ok(request)
}

/// The app's response as the event's answer: status, headers (each once), cookies, body.
pub async fn to_event(response: Response) -> ApiGatewayV2httpResponse {
    let (parts, body) = response.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            tracing::error!(%error, "response body unreadable");
            let mut failed = ApiGatewayV2httpResponse::default();
            failed.status_code = 500;
            return failed;
        }
    };
    let mut answer = ApiGatewayV2httpResponse::default();
    answer.status_code = i64::from(parts.status.as_u16());
    answer.cookies = parts
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    answer.headers = single_valued(&parts.headers);
    answer.body = Some(EventBody::Text(
        String::from_utf8_lossy(&bytes).into_owned(),
    ));
    answer.is_base64_encoded = false;
    answer
}

/// An HTML page with the headers every page has ([`pages::SECURITY_HEADERS`]).
pub fn page(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    for (name, value) in pages::SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The plain "not found" page (404).
pub fn not_found() -> Response {
    page(StatusCode::NOT_FOUND, pages::not_found())
}

/// What a page answers when what it needs cannot be read now: 503, come back in half a
/// minute, nothing of the cause.
pub fn unavailable() -> Response {
    let mut response = page(StatusCode::SERVICE_UNAVAILABLE, pages::unavailable());
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    response
}

/// API Gateway answers each header once; the cookies go in their own field.
fn single_valued(headers: &HeaderMap) -> HeaderMap {
    let mut single = HeaderMap::new();
    for (name, value) in headers {
        if name != header::SET_COOKIE {
            single.insert(name.clone(), value.clone());
        }
    }
    single
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::apigw::ApiGatewayV2httpRequestContextHttpDescription;
    use axum::routing::get;

    fn event(path: &str, cookies: Option<Vec<String>>) -> ApiGatewayV2httpRequest {
        let mut request = ApiGatewayV2httpRequest::default();
        request.raw_path = Some(path.to_owned());
        request.raw_query_string = Some("a=1".to_owned());
        let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
        http.method = http::Method::GET;
        request.request_context.http = http;
        request.cookies = cookies;
        request
    }

    #[tokio::test]
    async fn cookies_come_in_as_one_header_and_go_out_in_their_own_field() {
        let app = Router::new().route(
            "/echo",
            get(|headers: HeaderMap, uri: http::Uri| async move {
                let cookie = headers
                    .get(header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none")
                    .to_owned();
                let mut response =
                    format!("{cookie} {}", uri.query().unwrap_or("")).into_response();
                for value in ["a=1; HttpOnly", "b=2; Secure"] {
                    response
                        .headers_mut()
                        .append(header::SET_COOKIE, HeaderValue::from_static(value));
                }
                response
            }),
        );
        let answer = serve(
            app.clone(),
            &event("/echo", Some(vec!["s=abc".into(), "t=def".into()])),
        )
        .await;
        assert_eq!(answer.status_code, 200);
        assert_eq!(
            answer.body,
            Some(EventBody::Text("s=abc; t=def a=1".into()))
        );
        assert_eq!(answer.cookies, vec!["a=1; HttpOnly", "b=2; Secure"]);
        assert!(answer.headers.get(header::SET_COOKIE).is_none());
        let without = serve(app, &event("/echo", None)).await;
        assert_eq!(without.body, Some(EventBody::Text("none a=1".into())));
    }
}
