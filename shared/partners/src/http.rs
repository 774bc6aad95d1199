//! The one place where talking HTTP to a partner meets the pipeline's idea of failure
//! ([`PartnerError`]): whether a request was sent at all, whether it may have been applied,
//! what an error status means, and how long a rate limit asks us to wait. Every partner
//! client sends through [`exchange`] and reads error statuses with [`refusal`], adding only
//! what is its own (its error body's shape, its special codes).

use domain::PartnerError;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use std::time::Duration;

/// Whether a request changes something at the partner. A write that fails after it was
/// sent may have been applied; a read that fails changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Read,
    Write,
}

/// A partner's answer, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Sends `request` and reads the answer.
///
/// - A request that could not be built, or a connection never made: nothing was sent
///   ([`PartnerError::Config`] for a request we built wrong, else `Unavailable`).
/// - Any failure after sending (a timeout, a cut connection): a write is `Ambiguous`, a
///   read `Unavailable`.
/// - A success whose body cannot be read: likewise. An error whose body cannot be read
///   keeps its status, with an empty body.
///
/// Errors leave the URL out: a query may carry a token.
pub async fn exchange(
    partner: &'static str,
    request: RequestBuilder,
    effect: Effect,
) -> Result<Reply, PartnerError> {
    let response = match request.send().await.map_err(reqwest::Error::without_url) {
        Ok(response) => response,
        Err(e) => return Err(send_failure(partner, &e, effect)),
    };
    let status = response.status();
    let headers = response.headers().clone();
    let body = match response.bytes().await {
        Ok(bytes) => bytes.to_vec(),
        Err(e) if status.is_success() => {
            return Err(after_sending(
                partner,
                effect,
                format!("{status}, but the answer could not be read: {e}"),
            ))
        }
        Err(_) => Vec::new(),
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// What a failed `send()` means.
pub fn send_failure(partner: &'static str, err: &reqwest::Error, effect: Effect) -> PartnerError {
    if err.is_builder() {
        PartnerError::config(partner, format!("the request could not be built: {err}"))
    } else if err.is_connect() {
        PartnerError::unavailable(partner, format!("not reached: {err}"))
    } else {
        after_sending(partner, effect, format!("sent, no answer: {err}"))
    }
}

/// A failure once the request was on its way.
fn after_sending(partner: &'static str, effect: Effect, message: String) -> PartnerError {
    match effect {
        Effect::Write => PartnerError::ambiguous(partner, message),
        Effect::Read => PartnerError::unavailable(partner, message),
    }
}

impl Reply {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// `Retry-After`, in seconds (the form partners' APIs use; HTTP dates are rare there).
    pub fn retry_after(&self) -> Option<Duration> {
        retry_after(&self.headers)
    }

    /// The body as JSON of type `T`. A success we cannot read is treated like a failure
    /// after sending: ambiguous for a write (it was applied, we cannot say how), plain
    /// unavailability for a read.
    pub fn json<T: serde::de::DeserializeOwned>(
        &self,
        partner: &'static str,
        effect: Effect,
    ) -> Result<T, PartnerError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            after_sending(
                partner,
                effect,
                format!("{}: unreadable answer: {e}", self.status),
            )
        })
    }

    /// The body as text, at most `max_chars` characters (error pages can be long).
    pub fn text(&self, max_chars: usize) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(max_chars)
            .collect()
    }
}

/// Reads `Retry-After` in seconds.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The usual meaning of an error status, for a partner without a code of its own:
/// 429 is its rate limit (honouring `Retry-After`), 401 and 403 our credentials, 408 and
/// 5xx "not now", any other status a refusal that will not change. `message` describes
/// the answer (the partner's error text, never a customer's contact).
pub fn refusal(partner: &'static str, reply: &Reply, message: String) -> PartnerError {
    let status = reply.status;
    match status.as_u16() {
        429 => PartnerError::Throttled {
            partner,
            retry_after: reply.retry_after(),
        },
        401 | 403 => PartnerError::config(partner, format!("{status}: {message}")),
        300..=399 => PartnerError::config(
            partner,
            format!(
                "{status}: redirected to {}; configure the partner's final URL (https, host, path)",
                redirect_target(&reply.headers)
            ),
        ),
        408 | 500..=599 => PartnerError::unavailable(partner, format!("{status}: {message}")),
        code => PartnerError::rejected(partner, code.to_string(), message),
    }
}

/// Where a redirect points, without its query (which may carry a token).
fn redirect_target(headers: &HeaderMap) -> String {
    headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|location| {
            location
                .split(['?', '#'])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .unwrap_or_else(|| "nowhere given".into())
}

/// A partner's answer as the tests of each client make it up.
#[cfg(test)]
pub(crate) fn test_reply(status: u16, retry_after: Option<Duration>, body: &str) -> Reply {
    let mut headers = HeaderMap::new();
    if let Some(wait) = retry_after {
        headers.insert(RETRY_AFTER, wait.as_secs().into());
    }
    Reply {
        status: StatusCode::from_u16(status).expect("a valid status in a test"),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn reply(status: u16, retry_after: Option<&str>) -> Reply {
        let mut headers = HeaderMap::new();
        if let Some(value) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        }
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: b"{\"ok\":true}".to_vec(),
        }
    }

    #[test]
    fn error_statuses_mean_what_every_partner_means_by_them() {
        let kind = |status: u16| refusal("p", &reply(status, None), "m".into());
        assert!(matches!(kind(429), PartnerError::Throttled { .. }));
        assert!(matches!(kind(401), PartnerError::Config { .. }));
        assert!(matches!(kind(403), PartnerError::Config { .. }));
        assert!(matches!(kind(408), PartnerError::Unavailable { .. }));
        assert!(matches!(kind(502), PartnerError::Unavailable { .. }));
        assert!(
            matches!(kind(422), PartnerError::Rejected { ref code, .. } if code == "422"),
            "{:?}",
            kind(422)
        );
    }

    #[test]
    fn a_rate_limit_carries_its_retry_after_in_seconds_and_ignores_dates() {
        let limited = refusal("p", &reply(429, Some(" 7 ")), "m".into());
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(7)));
        let dated = reply(429, Some("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(dated.retry_after(), None);
    }

    #[test]
    fn an_unreadable_success_is_ambiguous_for_a_write_and_unavailable_for_a_read() {
        let garbled = Reply {
            body: b"<html>".to_vec(),
            ..reply(201, None)
        };
        let write = garbled.json::<serde_json::Value>("p", Effect::Write);
        assert!(matches!(write, Err(PartnerError::Ambiguous { .. })));
        let read = garbled.json::<serde_json::Value>("p", Effect::Read);
        assert!(matches!(read, Err(PartnerError::Unavailable { .. })));
        assert!(reply(200, None)
            .json::<serde_json::Value>("p", Effect::Read)
            .is_ok());
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_and_is_a_configuration_error_naming_its_target() {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/wp-json/wc/v3/orders/7/notes"))
            .respond_with(ResponseTemplate::new(301).insert_header(
                "location",
                format!("{}/moved/notes?consumer_key=ck_secret", server.uri()),
            ))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/moved/notes"))
            .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
            .expect(0)
            .mount(&server)
            .await;

        let http = crate::http_client(Duration::from_secs(5)).unwrap();
        let request = http.post(format!("{}/wp-json/wc/v3/orders/7/notes", server.uri()));
        let reply = exchange("woocommerce", request, Effect::Write)
            .await
            .unwrap();
        let err = refusal("woocommerce", &reply, reply.text(200));
        let PartnerError::Config { message, .. } = &err else {
            panic!("{err:?}");
        };
        assert!(
            message.contains("301") && message.contains("/moved/notes"),
            "{message}"
        );
        assert!(!message.contains("ck_secret"), "no query: {message}");
    }

    #[tokio::test]
    async fn a_connection_never_made_is_unavailable_even_for_a_write() {
        // A port nothing listens on: bind one, then close it.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let http = reqwest::Client::new();
        let request = http.post(format!("http://127.0.0.1:{port}/tasks"));
        let err = exchange("p", request, Effect::Write).await.unwrap_err();
        assert!(matches!(err, PartnerError::Unavailable { .. }), "{err:?}");
    }
}
