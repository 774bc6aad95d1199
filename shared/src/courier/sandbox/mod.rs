//! The sandbox courier's HTTP API (docs/sandbox-courier-api.md): bearer key, an
//! `Idempotency-Key` header, lookup by reference. It is also the model for a generic REST
//! courier.

pub mod webhook;

use crate::courier::{classify_send_error, retry_after, Courier, CourierError, CourierTask};
use crate::domain::Shipment;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::format_description::well_known::Rfc3339;

/// What the courier secret holds (Secrets Manager, `{prefix}courier/sandbox`).
#[derive(Clone, Deserialize)]
pub struct SandboxCredentials {
    pub base_url: String,
    pub api_key: String,
}

impl std::fmt::Debug for SandboxCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxCredentials")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

pub struct SandboxCourier {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
}

#[derive(Debug, Deserialize)]
struct TaskBody {
    id: String,
    tracking_number: String,
    tracking_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TaskList {
    tasks: Vec<TaskBody>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize, Serialize)]
struct ErrorDetail {
    code: String,
    message: String,
    #[serde(default)]
    field: Option<String>,
    /// The task's status, on a refused update or cancellation.
    #[serde(default)]
    status: Option<String>,
}

impl From<TaskBody> for CourierTask {
    fn from(t: TaskBody) -> Self {
        CourierTask {
            task_id: t.id,
            tracking_number: t.tracking_number,
            tracking_url: t.tracking_url,
        }
    }
}

impl SandboxCourier {
    /// `http` carries the per-request timeout: a create that times out is ambiguous, so
    /// keep it well under the idempotency lease.
    pub fn new(http: reqwest::Client, credentials: SandboxCredentials) -> Self {
        SandboxCourier {
            http,
            base_url: credentials.base_url.trim_end_matches('/').to_owned(),
            api_key: credentials.api_key,
        }
    }

    async fn error_from(response: reqwest::Response) -> CourierError {
        let status = response.status().as_u16();
        let wait = retry_after(response.headers());
        // An unreadable error body still leaves the status code to go by.
        let text = response.text().await.unwrap_or_default();
        classify(status, wait, &text)
    }

    /// `{base_url}/v1/tasks/{task_id}[/{action}]`, the id escaped as one path segment so a
    /// stored id can never address another route.
    fn task_url(&self, task_id: &str, action: Option<&str>) -> Result<reqwest::Url, CourierError> {
        let config = |detail: &str| {
            CourierError::Config(format!("sandbox base_url {:?}: {detail}", self.base_url))
        };
        let mut url = reqwest::Url::parse(&self.base_url).map_err(|e| config(&e.to_string()))?;
        url.path_segments_mut()
            .map_err(|()| config("not a base URL"))?
            .pop_if_empty()
            .extend(["v1", "tasks", task_id])
            .extend(action);
        Ok(url)
    }

    /// Sends a change to an existing task. A failure after sending is `Ambiguous`, as for a
    /// create; both changes are idempotent, so the caller may simply send it again.
    async fn change(&self, request: reqwest::RequestBuilder) -> Result<(), CourierError> {
        let response = request
            .bearer_auth(&self.api_key)
            .send()
            .await
            .map_err(|e| classify_send_error(&e))?;
        if !response.status().is_success() {
            return Err(Self::error_from(response).await);
        }
        Ok(())
    }
}

/// What an error answer means, from its status and its `{"error": {...}}` body.
fn classify(status: u16, wait: Option<std::time::Duration>, text: &str) -> CourierError {
    let detail = serde_json::from_str::<ErrorBody>(text)
        .ok()
        .map(|b| b.error);
    let message = match &detail {
        Some(ErrorDetail {
            code,
            message,
            field: Some(field),
            ..
        }) => format!("{code}: {message} ({field})"),
        Some(ErrorDetail { code, message, .. }) => format!("{code}: {message}"),
        None => text.to_owned(),
    };
    let code = detail.as_ref().map(|d| d.code.as_str());
    match (status, code) {
        (409, Some("task_in_progress")) => CourierError::TooLate {
            status: detail
                .and_then(|d| d.status)
                .unwrap_or_else(|| "unknown".to_owned()),
        },
        (422, Some("address_not_found")) => CourierError::AddressUnresolved {
            ambiguous: false,
            message,
        },
        (422, Some("address_ambiguous")) => CourierError::AddressUnresolved {
            ambiguous: true,
            message,
        },
        (429, _) => CourierError::RateLimited { retry_after: wait },
        (401 | 403, _) => CourierError::Config(format!("{status}: {message}")),
        (500..=599, _) => CourierError::Unavailable(format!("{status}: {message}")),
        // Including 404 (no such task) and 409 `task_cancelled`: asking again changes nothing.
        _ => CourierError::Rejected { status, message },
    }
}

fn task_request(reference: &str, s: &Shipment) -> serde_json::Value {
    let a = &s.address;
    json!({
        "reference": reference,
        "recipient": {
            "name": s.recipient.name,
            "phone": s.recipient.phone.as_ref().map(|p| &p.e164),
            "email": s.recipient.email,
            "alternate_contact": s.recipient.alternate_contact.as_ref().map(|c| &c.address),
        },
        "destination": {
            "line1": a.street_line(),
            "line2": a.details_line(),
            "city": a.city,
            "region": a.region,
            "postal_code": a.postal_code,
            "country_code": a.country_code,
            "latitude": a.latitude,
            "longitude": a.longitude,
        },
        "parcel": {"pieces": s.parcel.pieces, "weight_grams": s.parcel.weight_grams},
        "cash_on_delivery": s.payment.cod_amount().map(|m| json!({
            "amount_minor": m.minor,
            "currency": m.currency.code(),
        })),
        "notes": s.notes.to_text(a.intercom.as_deref()),
        "service": s.service.as_str(),
        "complete_after": s.window.as_ref().and_then(|w| w.start.format(&Rfc3339).ok()),
        "complete_before": s.window.as_ref().and_then(|w| w.end.format(&Rfc3339).ok()),
    })
}

#[async_trait]
impl Courier for SandboxCourier {
    fn name(&self) -> &str {
        "sandbox"
    }

    async fn create_task(
        &self,
        reference: &str,
        shipment: &Shipment,
    ) -> Result<CourierTask, CourierError> {
        let response = self
            .http
            .post(format!("{}/v1/tasks", self.base_url))
            .bearer_auth(&self.api_key)
            .header("Idempotency-Key", reference)
            .json(&task_request(reference, shipment))
            .send()
            .await
            .map_err(|e| classify_send_error(&e))?;
        if !response.status().is_success() {
            return Err(Self::error_from(response).await);
        }
        // The task exists once the courier answered 2xx: an unreadable body is ambiguous,
        // not a failure to create.
        response
            .json::<TaskBody>()
            .await
            .map(CourierTask::from)
            .map_err(|e| CourierError::Ambiguous(format!("unreadable success response: {e}")))
    }

    async fn find_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<CourierTask>, CourierError> {
        let response = self
            .http
            .get(format!("{}/v1/tasks", self.base_url))
            .bearer_auth(&self.api_key)
            .query(&[("reference", reference)])
            .send()
            .await
            // A lookup has no side effect: any failure is simply "try again".
            .map_err(|e| CourierError::Unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(Self::error_from(response).await);
        }
        let list: TaskList = response
            .json()
            .await
            .map_err(|e| CourierError::Unavailable(format!("unreadable lookup response: {e}")))?;
        Ok(list.tasks.into_iter().next().map(CourierTask::from))
    }

    async fn update_task(
        &self,
        task_id: &str,
        reference: &str,
        shipment: &Shipment,
    ) -> Result<(), CourierError> {
        // The same body as a create: the courier replaces every delivery detail, and checks
        // the reference against the task's own.
        let url = self.task_url(task_id, None)?;
        self.change(self.http.put(url).json(&task_request(reference, shipment)))
            .await
    }

    async fn cancel_task(&self, task_id: &str) -> Result<(), CourierError> {
        let url = self.task_url(task_id, Some("cancel"))?;
        self.change(self.http.post(url)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: &str, status: Option<&str>) -> String {
        json!({"error": {"code": code, "message": "m", "status": status}}).to_string()
    }

    #[test]
    fn refused_changes_say_how_far_the_task_got() {
        assert!(matches!(
            classify(409, None, &error("task_in_progress", Some("picked_up"))),
            CourierError::TooLate { status } if status == "picked_up"
        ));
        assert!(matches!(
            classify(409, None, &error("task_in_progress", None)),
            CourierError::TooLate { status } if status == "unknown"
        ));
        assert!(matches!(
            classify(409, None, &error("task_cancelled", Some("cancelled"))),
            CourierError::Rejected { status: 409, .. }
        ));
        assert!(matches!(
            classify(404, None, &error("not_found", None)),
            CourierError::Rejected { status: 404, .. }
        ));
    }

    #[test]
    fn unplaceable_addresses_are_unresolved_not_rejected() {
        assert!(matches!(
            classify(422, None, &error("address_not_found", None)),
            CourierError::AddressUnresolved { ambiguous: false, message } if message == "address_not_found: m"
        ));
        assert!(matches!(
            classify(422, None, &error("address_ambiguous", None)),
            CourierError::AddressUnresolved {
                ambiguous: true,
                ..
            }
        ));
        assert!(matches!(
            classify(422, None, &error("invalid_request", None)),
            CourierError::Rejected { status: 422, .. }
        ));
    }

    #[test]
    fn other_answers_keep_their_meaning() {
        assert!(matches!(
            classify(503, None, "<html>down</html>"),
            CourierError::Unavailable(m) if m == "503: <html>down</html>"
        ));
        assert!(matches!(
            classify(401, None, &error("unauthorized", None)),
            CourierError::Config(_)
        ));
        assert!(matches!(
            classify(429, Some(std::time::Duration::from_secs(1)), ""),
            CourierError::RateLimited {
                retry_after: Some(_)
            }
        ));
        // A 409 without the sandbox's body is not mistaken for "too late".
        assert!(matches!(
            classify(409, None, "conflict"),
            CourierError::Rejected { status: 409, .. }
        ));
    }

    #[test]
    fn task_urls_escape_the_id_and_keep_a_base_path() {
        let courier = SandboxCourier::new(
            reqwest::Client::new(),
            SandboxCredentials {
                base_url: "http://127.0.0.1:8787/courier/".into(),
                api_key: "k".into(),
            },
        );
        let url = courier.task_url("tsk_1/../x?y", Some("cancel")).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8787/courier/v1/tasks/tsk_1%2F..%2Fx%3Fy/cancel"
        );
        let bad = SandboxCourier::new(
            reqwest::Client::new(),
            SandboxCredentials {
                base_url: "not a url".into(),
                api_key: "k".into(),
            },
        );
        assert!(matches!(
            bad.task_url("t", None),
            Err(CourierError::Config(_))
        ));
    }
}
