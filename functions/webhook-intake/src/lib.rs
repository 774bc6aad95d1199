//! webhook-intake: `POST /webhooks/{channel}/{store}` behind API Gateway (HTTP API), for
//! the senders that deliver by signed webhook: the stores (`shopify`, `woocommerce`, `api`)
//! and the couriers (`/webhooks/courier/{onfleet|sandbox}`). Amazon delivers its
//! notifications to an SQS queue instead (marketplace-intake). Each sender's contract
//! (signature, topic, delivery id) is its own module's, found by `channels::webhook::route`.
//!
//! It only does what must happen before answering, and answers in milliseconds (Shopify
//! gives up after 5 s and re-sends): authenticate (size, the sender's signature with the
//! store's secret), dedupe (the payload into the audit trail, once per delivery id), and
//! enqueue a reference (orders to normalize, courier events to status-sync).
//!
//! | request                                       | answer | recorded                       |
//! |-----------------------------------------------|--------|--------------------------------|
//! | unknown channel, or store name not URL-safe   | 404    | -                              |
//! | GET with no URL check to answer; not POST     | 405 + `Allow`      | -                   |
//! | WooCommerce's unsigned activation ping        | 200 `ping`         | -                   |
//! | body over `MAX_WEBHOOK_BODY_BYTES`            | 413    | rejection                      |
//! | store without a secret                        | 404    | rejection                      |
//! | missing or wrong HMAC                         | 401    | rejection                      |
//! | no topic or webhook id header                 | 400    | rejection                      |
//! | delivery id over 256 bytes (the generic API's: over 128) or not printable | 400 | rejection |
//! | topic courier-bridge does not act on          | 200 `ignored`      | payload, not queued |
//! | signed but not JSON                           | 200 `needs_review` | payload + review item |
//! | webhook id seen before                        | 200 `duplicate`    | duplicate counted   |
//! | accepted                                      | 200 `accepted`     | payload, queued     |
//! | AWS unavailable                               | 503    | - (the channel retries)        |

mod wiring;

pub use wiring::Config;

use aws::metrics::Metrics;
use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use base64::Engine;
use channels::webhook::{DeliveryId, Sender, TopicSource, WebhookContract};
use channels::webhook_secret::WebhookSecret;
use domain::audit::{AuditOutcome, InboundState, NewInbound, Receipt, Rejection, SignedWith};
use domain::clock::now_ms;
use domain::messages::{InboundReceived, SyncEvent};
use domain::ports::{
    fresh_secret_json, secret_json, AuditTrail, Queue, ReviewInbox, SecretError, Secrets,
};
use domain::shipment::is_valid_store_name;
use domain::{Channel, ReviewItem, ReviewReason, StorageError};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tracing::Instrument;

/// This function's name in its metrics' Function dimension.
pub const FUNCTION: &str = "webhook-intake";

/// What webhook-intake reads and writes, each behind the domain's port.
pub struct WebhookIntake {
    pub secrets: Arc<dyn Secrets>,
    pub audit: Arc<dyn AuditTrail>,
    pub reviews: Arc<dyn ReviewInbox>,
    /// Orders, to normalize.
    pub intake: Arc<dyn Queue<InboundReceived>>,
    /// Courier events, to status-sync.
    pub sync: Arc<dyn Queue<SyncEvent>>,
    pub metrics: Metrics,
    /// `MAX_WEBHOOK_BODY_BYTES`: larger bodies are refused before anything else.
    pub max_body_bytes: usize,
}

/// What intake records as the topic when a courier's body names no event it knows.
const UNKNOWN_TOPIC: &str = "unknown";

/// A duplicate that finds the first delivery still `received` (not yet queued) and younger
/// than this is answered 503: the first delivery is probably still running, and if it died
/// the channel's retry will find the payload old enough to queue it again.
const IN_FLIGHT_GRACE_MS: i64 = 10_000;

/// Channels' delivery ids are UUIDs or short hashes; anything much longer is not one.
const MAX_DELIVERY_ID_BYTES: usize = 256;

/// One request, read: who sent it, its exact bytes and what its headers say.
struct Delivery<'a> {
    sender: Sender,
    contract: &'static WebhookContract,
    store: &'a str,
    request: &'a ApiGatewayV2httpRequest,
    body: Vec<u8>,
    body_digest: String,
    topic: Option<String>,
    delivery_id: Option<String>,
}

impl Delivery<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        header(self.request, name)
    }

    fn rejection(&self, reason: &'static str, http_status: u16) -> Rejection<'_> {
        Rejection {
            channel: self.sender.audit_channel(),
            store: self.store,
            reason,
            http_status,
            body_len: self.body.len(),
            body_sha256: self.body_digest.clone(),
            webhook_id: self.delivery_id.as_deref(),
            topic: self.topic.as_deref(),
        }
    }
}

/// A signed delivery, with what dedupe needs.
struct Authenticated {
    topic: String,
    /// The sender's current secret, or the previous one during a rotation.
    signed_with: SignedWith,
    /// The deduplication key: the delivery id, or what the sender's contract makes of it.
    dedupe_key: String,
}

fn header<'r>(request: &'r ApiGatewayV2httpRequest, name: &str) -> Option<&'r str> {
    request
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

impl WebhookIntake {
    pub async fn handle(&self, request: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        let segment = path_parameter(&request, "channel");
        let store = path_parameter(&request, "store");
        let Some((sender, contract)) = channels::webhook::route(&segment, &store) else {
            return respond(404, json!({ "error": "unknown_channel" }));
        };
        if !is_valid_store_name(&store) {
            return respond(404, json!({ "error": "unknown_store" }));
        }
        match request.request_context.http.method {
            http::Method::POST => {}
            http::Method::GET => return validation(contract, &request),
            // Not a delivery (HEAD, PUT...), whatever route let it in: never read as one.
            _ => return method_not_allowed(contract),
        }
        // Attached to this request's future: requests run concurrently, and each log line
        // must carry its own sender and store.
        let span = tracing::info_span!("webhook", channel = %segment, %store);
        self.receive(sender, contract, &store, &request)
            .instrument(span)
            .await
    }

    async fn receive(
        &self,
        sender: Sender,
        contract: &'static WebhookContract,
        store: &str,
        request: &ApiGatewayV2httpRequest,
    ) -> ApiGatewayV2httpResponse {
        let Ok(body) = raw_body(request) else {
            return respond(400, json!({ "error": "body_not_base64" }));
        };
        let body_digest = hex::encode(Sha256::digest(&body));
        let topic = match contract.topic {
            TopicSource::Header(name) => header(request, name).map(str::to_owned),
            TopicSource::Body(read) => Some(read(&body).unwrap_or_else(|| UNKNOWN_TOPIC.into())),
        };
        let delivery_id = match contract.delivery_id {
            DeliveryId::Header(name) => header(request, name).map(str::to_owned),
            DeliveryId::BodyDigest => Some(body_digest.clone()),
        };
        let delivery = Delivery {
            sender,
            contract,
            store,
            request,
            body,
            body_digest,
            topic,
            delivery_id,
        };
        let signed = match self.authenticate(&delivery).await {
            Ok(signed) => signed,
            Err(answer) => return answer,
        };
        tracing::info!(topic = %signed.topic, webhook_id = %signed.dedupe_key, bytes = delivery.body.len(), "signed webhook");
        self.dedupe_and_enqueue(&delivery, &signed).await
    }

    /// Size, the store's secret, the sender's signature and headers: everything checked
    /// before the payload is trusted. A refusal is recorded (without the body) and answered.
    async fn authenticate(
        &self,
        delivery: &Delivery<'_>,
    ) -> Result<Authenticated, ApiGatewayV2httpResponse> {
        if delivery.body.len() > self.max_body_bytes {
            return Err(self
                .rejected(
                    delivery.rejection("body_too_large", 413),
                    "payload_too_large",
                )
                .await);
        }
        let secret_name = format!("{}/{}", delivery.sender.audit_channel(), delivery.store);
        let secret = match secret_json::<WebhookSecret>(self.secrets.as_ref(), &secret_name).await {
            Ok(secret) => secret,
            Err(SecretError::NotFound(_)) => {
                return Err(self
                    .rejected(delivery.rejection("unknown_store", 404), "unknown_store")
                    .await)
            }
            Err(SecretError::Malformed { name, problem }) => {
                tracing::error!(secret = %name, %problem, "store secret is malformed");
                return Err(respond(500, json!({ "error": "store_misconfigured" })));
            }
            Err(SecretError::Storage(e)) => {
                tracing::warn!(error = %e, "could not read the store secret");
                return Err(respond(503, json!({ "error": "temporarily_unavailable" })));
            }
        };
        let contract = delivery.contract;
        let signature = delivery.header(contract.signature_header);
        // An unsigned request to activate a webhook carries no order: answering it trusts
        // nothing.
        if signature.is_none() && contract.unsigned_ping.is_some_and(|is| is(&delivery.body)) {
            tracing::info!("activation ping");
            return Err(respond(200, json!({ "status": "ping" })));
        }
        let verify = |secret: &WebhookSecret| {
            signature.and_then(|sig| {
                secret.verify(time::OffsetDateTime::now_utc(), |key| {
                    (contract.verify)(key, &delivery.body, sig)
                })
            })
        };
        let mut signed_with = verify(&secret);
        if signed_with.is_none() && signature.is_some() {
            // The cached secret may be from before a rotation: a store already sending
            // with the new one is checked against the secret as it is now.
            if let Ok(fresh) =
                fresh_secret_json::<WebhookSecret>(self.secrets.as_ref(), &secret_name).await
            {
                signed_with = verify(&fresh);
            }
        }
        let Some(signed_with) = signed_with else {
            return Err(self
                .rejected(
                    delivery.rejection("invalid_signature", 401),
                    "invalid_signature",
                )
                .await);
        };
        if signed_with == SignedWith::Previous {
            tracing::info!(secret = %secret_name, "signed with the previous secret, still accepted during its rotation");
        }
        let (Some(topic), Some(delivery_id)) = (&delivery.topic, &delivery.delivery_id) else {
            return Err(self
                .rejected(
                    delivery.rejection("missing_header", 400),
                    "missing_topic_or_webhook_id",
                )
                .await);
        };
        // The delivery id becomes part of a DynamoDB key (at most 2 KB) and of log lines.
        let well_formed_id = match delivery.sender {
            // The generic API publishes its bound (docs/api/openapi.yaml): 1-128 characters.
            Sender::Store(Channel::Api) => channels::api::is_valid_event_id(delivery_id),
            _ => {
                delivery_id.len() <= MAX_DELIVERY_ID_BYTES
                    && delivery_id.bytes().all(|b| b.is_ascii_graphic())
            }
        };
        if !well_formed_id {
            return Err(self
                .rejected(
                    delivery.rejection("bad_delivery_id", 400),
                    "bad_delivery_id",
                )
                .await);
        }
        Ok(Authenticated {
            topic: topic.clone(),
            signed_with,
            dedupe_key: (contract.dedupe_key)(delivery_id, &delivery.body),
        })
    }

    /// Keeps the payload once per delivery, then queues it, or answers the duplicate.
    async fn dedupe_and_enqueue(
        &self,
        delivery: &Delivery<'_>,
        signed: &Authenticated,
    ) -> ApiGatewayV2httpResponse {
        let known_topic = (delivery.contract.acts_on)(&signed.topic);
        let well_formed = serde_json::from_slice::<serde::de::IgnoredAny>(&delivery.body).is_ok();
        let state = match (known_topic, well_formed) {
            (false, _) => InboundState::Ignored,
            (true, false) => InboundState::Review,
            (true, true) => InboundState::Received,
        };
        let inbound = NewInbound {
            channel: delivery.sender.audit_channel(),
            store: delivery.store,
            topic: &signed.topic,
            webhook_id: &signed.dedupe_key,
            triggered_at: delivery
                .contract
                .triggered_at_header
                .and_then(|name| delivery.header(name)),
            body: &delivery.body,
            state,
            signed_with: signed.signed_with,
        };
        let id = inbound.id();
        let receipt = match self.audit.receive(&inbound).await {
            Ok(r) => r,
            Err(e) => return unavailable(&e),
        };
        if let (Sender::Store(channel), Receipt::Duplicate { .. }) = (delivery.sender, &receipt) {
            // Every redelivery of an order seen before, whatever is answered below. (A
            // repeated courier event creates nothing; status-sync's writes absorb it.)
            self.metrics
                .duplicate_creation_attempt(FUNCTION, channel.as_str(), "webhook");
        }
        match (receipt, state) {
            (
                Receipt::Duplicate {
                    state: InboundState::Received,
                    received_ms,
                    count,
                },
                _,
            ) if now_ms() - received_ms < IN_FLIGHT_GRACE_MS => {
                tracing::info!(count, "duplicate of a delivery still in flight");
                respond(503, json!({ "error": "in_flight", "inbound_id": id }))
            }
            (
                Receipt::Duplicate {
                    state: InboundState::Received,
                    count,
                    ..
                },
                _,
            ) => {
                // The first delivery stored the payload but never queued it.
                tracing::info!(
                    count,
                    "duplicate of a delivery that was not queued; queueing it"
                );
                self.enqueue(delivery, &id, &signed.topic).await
            }
            (Receipt::Duplicate { count, .. }, _) => {
                tracing::info!(count, "duplicate webhook");
                respond(200, json!({ "status": "duplicate", "inbound_id": id }))
            }
            (Receipt::New, InboundState::Ignored) => {
                tracing::info!(topic = %signed.topic, "topic not acted on; acknowledged and kept");
                respond(200, json!({ "status": "ignored", "inbound_id": id }))
            }
            (Receipt::New, InboundState::Review) => {
                self.review_unparseable(&id, &delivery.body).await
            }
            (Receipt::New, _) => self.enqueue(delivery, &id, &signed.topic).await,
        }
    }

    /// Orders go to normalize, courier events to status-sync.
    async fn enqueue(
        &self,
        delivery: &Delivery<'_>,
        id: &str,
        topic: &str,
    ) -> ApiGatewayV2httpResponse {
        let sent = match delivery.sender {
            Sender::Store(channel) => {
                self.intake
                    .send(&InboundReceived {
                        inbound_id: id.to_owned(),
                        channel: channel.as_str().into(),
                        store: delivery.store.to_owned(),
                        topic: topic.to_owned(),
                    })
                    .await
            }
            Sender::Courier(courier) => {
                self.sync
                    .send(&SyncEvent::CourierReported {
                        inbound_id: id.to_owned(),
                        courier,
                    })
                    .await
            }
        };
        if let Err(e) = sent {
            return unavailable(&e);
        }
        if let Err(e) = self
            .audit
            .advance(id, &[InboundState::Received], InboundState::Enqueued)
            .await
        {
            // Queued already; the state is bookkeeping and a redelivery dedupes downstream.
            tracing::warn!(error = %e, "queued, but could not mark the payload enqueued");
        }
        respond(200, json!({ "status": "accepted", "inbound_id": id }))
    }

    async fn review_unparseable(&self, id: &str, body: &[u8]) -> ApiGatewayV2httpResponse {
        let error = serde_json::from_slice::<serde::de::IgnoredAny>(body)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let mut item = ReviewItem::new(
            id,
            "payload",
            vec![ReviewReason::UnparseablePayload { error }],
        );
        item.source_inbound = Some(id.to_owned());
        if let Err(e) = self.reviews.open(&item).await {
            return unavailable(&e);
        }
        let outcome = AuditOutcome {
            state: InboundState::Review,
            summary: "needs review: unparseable payload",
            order_key: None,
            shipment_key: None,
            review_id: Some(&item.id),
        };
        if let Err(e) = self.audit.record_outcome(id, &outcome).await {
            tracing::warn!(error = %e, "review opened, but the audit outcome was not written");
        }
        tracing::warn!(
            inbound_id = id,
            "signed payload is not JSON; kept for review"
        );
        respond(
            200,
            json!({ "status": "needs_review", "inbound_id": id, "review_id": item.id }),
        )
    }

    async fn rejected(&self, rejection: Rejection<'_>, error: &str) -> ApiGatewayV2httpResponse {
        tracing::warn!(
            reason = rejection.reason,
            status = rejection.http_status,
            "webhook rejected"
        );
        if let Err(e) = self.audit.record_rejection(&rejection).await {
            tracing::warn!(error = %e, "could not record the rejection");
        }
        respond(rejection.http_status, json!({ "error": error }))
    }
}

fn path_parameter(request: &ApiGatewayV2httpRequest, name: &str) -> String {
    request
        .path_parameters
        .get(name)
        .cloned()
        .unwrap_or_default()
}

/// `GET`: a sender that checks its URL before sending (Onfleet's `?check=<token>`, echoed
/// exactly, 200, as text). It carries no signature and reveals nothing.
fn validation(
    contract: &WebhookContract,
    request: &ApiGatewayV2httpRequest,
) -> ApiGatewayV2httpResponse {
    let Some(handshake) = contract.handshake else {
        return method_not_allowed(contract);
    };
    match (handshake.answer)(request.query_string_parameters.first(handshake.query_param)) {
        Some(answer) => {
            tracing::info!("webhook URL validation answered");
            let mut response = ApiGatewayV2httpResponse::default();
            response.status_code = 200;
            response.headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(handshake.content_type),
            );
            response.body = Some(Body::Text(answer));
            response
        }
        None => respond(400, json!({ "error": "missing_check" })),
    }
}

/// 405 naming the methods the URL does answer, as RFC 9110 requires of a 405: POST, and GET
/// for a sender that checks its URL first.
fn method_not_allowed(contract: &WebhookContract) -> ApiGatewayV2httpResponse {
    let mut response = respond(405, json!({ "error": "method_not_allowed" }));
    let allow = if contract.handshake.is_some() {
        "GET, POST"
    } else {
        "POST"
    };
    response
        .headers
        .insert(http::header::ALLOW, http::HeaderValue::from_static(allow));
    response
}

fn unavailable(error: &StorageError) -> ApiGatewayV2httpResponse {
    tracing::error!(%error, "AWS call failed; asking the channel to retry");
    respond(503, json!({ "error": "temporarily_unavailable" }))
}

/// The exact bytes the channel signed: API Gateway base64-encodes bodies it treats as binary.
fn raw_body(request: &ApiGatewayV2httpRequest) -> Result<Vec<u8>, base64::DecodeError> {
    let body = request.body.as_deref().unwrap_or("");
    if request.is_base64_encoded {
        base64::engine::general_purpose::STANDARD.decode(body)
    } else {
        Ok(body.as_bytes().to_vec())
    }
}

fn respond(status: u16, body: serde_json::Value) -> ApiGatewayV2httpResponse {
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(status);
    response.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response.body = Some(Body::Text(body.to_string()));
    response
}

#[cfg(test)]
mod tests;
