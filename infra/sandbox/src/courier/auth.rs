//! `Authorization: Bearer <api_key>` on every `/v1` request.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

pub(super) async fn require_api_key(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if bearer_token(request.headers()) == Some(app.config().courier_api_key.as_str()) {
        return next.run(request).await;
    }
    let mut response = ApiError::Unauthorized.into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// The token of a `Bearer` credential; the scheme name is case-insensitive (RFC 7235).
/// A plain comparison is fine for a sandbox key: timing attacks are not in its threat model.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static(authorization),
        );
        headers
    }

    #[test]
    fn extracts_bearer_tokens_only() {
        assert_eq!(bearer_token(&headers("Bearer k1")), Some("k1"));
        assert_eq!(bearer_token(&headers("bearer k1")), Some("k1"));
        assert_eq!(bearer_token(&headers("Basic k1")), None);
        assert_eq!(bearer_token(&headers("Bearer ")), None);
        assert_eq!(bearer_token(&headers("k1")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
