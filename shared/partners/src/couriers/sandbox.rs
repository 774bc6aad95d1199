//! The sandbox courier's HTTP API (docs/sandbox-courier-api.md): bearer key, an
//! `Idempotency-Key` header, lookup by reference. It is also the model for a generic REST
//! courier. Its webhooks are read in `channels::sandbox`.

use crate::http::{self, Effect, Reply};
use async_trait::async_trait;
use domain::courier::{CourierError, CourierKind, CourierTask};
use domain::ports::Courier;
use domain::{PartnerError, Shipment};
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

    /// `{base_url}/v1/tasks/{task_id}[/{action}]`, the id escaped as one path segment so a
    /// stored id can never address another route.
    fn task_url(&self, task_id: &str, action: Option<&str>) -> Result<reqwest::Url, CourierError> {
        let mut segments = vec!["v1", "tasks", task_id];
        segments.extend(action);
        self.url(&segments)
    }

    /// `{base_url}/{segments...}`, each escaped as one path segment.
    fn url(&self, segments: &[&str]) -> Result<reqwest::Url, CourierError> {
        let config = |detail: &str| {
            CourierError::from(PartnerError::config(
                PARTNER,
                format!("base_url {:?}: {detail}", self.base_url),
            ))
        };
        let mut url = reqwest::Url::parse(&self.base_url).map_err(|e| config(&e.to_string()))?;
        url.path_segments_mut()
            .map_err(|()| config("not a base URL"))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Sends a change to an existing task. A failure after sending is `Ambiguous`, as for a
    /// create; both changes are idempotent, so the caller may simply send it again.
    async fn change(&self, request: reqwest::RequestBuilder) -> Result<(), CourierError> {
        self.call(request, Effect::Write).await.map(drop)
    }

    /// One call with our key; an error answer read by [`classify`].
    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        effect: Effect,
    ) -> Result<Reply, CourierError> {
        let reply = http::exchange(PARTNER, request.bearer_auth(&self.api_key), effect).await?;
        if !reply.is_success() {
            return Err(classify(&reply));
        }
        Ok(reply)
    }
}

pub(crate) const PARTNER: &str = "sandbox";

/// What an error answer means, from its status and its `{"error": {...}}` body.
fn classify(reply: &Reply) -> CourierError {
    let text = reply.text(2_000);
    let detail = serde_json::from_str::<ErrorBody>(&text)
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
        None => text,
    };
    let code = detail.as_ref().map(|d| d.code.as_str());
    match (reply.status.as_u16(), code) {
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
        // Including 404 (no such task) and 409 `task_cancelled`: asking again changes nothing.
        _ => http::refusal(PARTNER, reply, message).into(),
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
    fn kind(&self) -> CourierKind {
        CourierKind::Sandbox
    }

    async fn create_task(
        &self,
        reference: &str,
        shipment: &Shipment,
    ) -> Result<CourierTask, CourierError> {
        let request = self
            .http
            .post(format!("{}/v1/tasks", self.base_url))
            .header("Idempotency-Key", reference)
            .json(&task_request(reference, shipment));
        // The task exists once the courier answered 2xx: an unreadable body is ambiguous,
        // not a failure to create.
        let reply = self.call(request, Effect::Write).await?;
        Ok(reply.json::<TaskBody>(PARTNER, Effect::Write)?.into())
    }

    async fn find_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<CourierTask>, CourierError> {
        let request = self
            .http
            .get(format!("{}/v1/tasks", self.base_url))
            .query(&[("reference", reference)]);
        // A lookup has no side effect: any failure is simply "try again".
        let reply = self.call(request, Effect::Read).await?;
        let list: TaskList = reply.json(PARTNER, Effect::Read)?;
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

    /// `PUT /v1/drivers/{driver_id}/route` (docs/sandbox-courier-api.md): the same route
    /// again changes nothing, so a retry after an ambiguous failure is safe.
    async fn assign_route(
        &self,
        driver: &str,
        plan: &str,
        task_ids: &[String],
    ) -> Result<(), CourierError> {
        let url = self.url(&["v1", "drivers", driver, "route"])?;
        self.change(
            self.http
                .put(url)
                .json(&json!({"plan": plan, "tasks": task_ids})),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: &str, status: Option<&str>) -> String {
        json!({"error": {"code": code, "message": "m", "status": status}}).to_string()
    }

    fn classify(status: u16, retry_after: Option<std::time::Duration>, body: &str) -> CourierError {
        super::classify(&crate::http::test_reply(status, retry_after, body))
    }

    fn rejected(status: u16) -> impl Fn(&CourierError) -> bool {
        move |e| matches!(e, CourierError::Partner(p) if p.rejected_status() == Some(status))
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
        assert!(rejected(409)(&classify(
            409,
            None,
            &error("task_cancelled", Some("cancelled"))
        )));
        assert!(rejected(404)(&classify(
            404,
            None,
            &error("not_found", None)
        )));
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
        assert!(rejected(422)(&classify(
            422,
            None,
            &error("invalid_request", None)
        )));
    }

    #[test]
    fn other_answers_keep_their_meaning() {
        assert!(matches!(
            classify(503, None, "<html>down</html>"),
            CourierError::Partner(PartnerError::Unavailable { message, .. }) if message == "503 Service Unavailable: <html>down</html>"
        ));
        assert!(matches!(
            classify(401, None, &error("unauthorized", None)),
            CourierError::Partner(PartnerError::Config { .. })
        ));
        assert!(matches!(
            classify(429, Some(std::time::Duration::from_secs(1)), ""),
            CourierError::Partner(PartnerError::Throttled {
                retry_after: Some(_),
                ..
            })
        ));
        // A 409 without the sandbox's body is not mistaken for "too late".
        assert!(rejected(409)(&classify(409, None, "conflict")));
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
            Err(CourierError::Partner(PartnerError::Config { .. }))
        ));
    }
}
