//! webhook-intake: `POST /webhooks/{channel}/{store}` behind API Gateway (HTTP API), for
//! the channels that deliver by signed webhook: `shopify`, `woocommerce` and `api` (the
//! generic JSON API). Amazon delivers its notifications to an SQS queue instead
//! (marketplace-intake).
//!
//! It only does what must happen before answering the channel, and answers in milliseconds
//! (Shopify gives up after 5 s and re-sends): size check, signature check with the store's
//! secret, dedupe by the channel's delivery id, the payload into the audit trail, a
//! reference onto the intake queue. Parsing the order is normalize's job.
//!
//! | request                                       | answer | recorded                       |
//! |-----------------------------------------------|--------|--------------------------------|
//! | unknown channel, or store name not URL-safe   | 404    | -                              |
//! | WooCommerce's unsigned activation ping        | 200 `ping`         | -                   |
//! | body over `MAX_WEBHOOK_BODY_BYTES`            | 413    | rejection                      |
//! | store without a secret                        | 404    | rejection                      |
//! | missing or wrong HMAC                         | 401    | rejection                      |
//! | no topic or webhook id header                 | 400    | rejection                      |
//! | delivery id over 256 bytes or not printable   | 400    | rejection                      |
//! | topic courier-bridge does not act on          | 200 `ignored`      | payload, not queued |
//! | signed but not JSON                           | 200 `needs_review` | payload + review item |
//! | webhook id seen before                        | 200 `duplicate`    | duplicate counted   |
//! | accepted                                      | 200 `accepted`     | payload, queued     |
//! | AWS unavailable                               | 503    | - (the channel retries)        |

use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::aws::inbound::{InboundState, NewInbound, Outcome, Receipt, Rejection};
use shared::aws::item::now_ms;
use shared::aws::reviews::ReviewItem;
use shared::aws::secrets::SecretError;
use shared::channel::{api, shopify, woocommerce};
use shared::courier::onfleet::webhook as onfleet;
use shared::courier::sandbox::webhook as sandbox_webhook;
use shared::domain::shipment::is_valid_store_name;
use shared::domain::Channel;
use shared::domain::ReviewReason;
use shared::messages::{InboundReceived, SyncEvent};
use shared::services::Services;

/// How one sender signs and labels its webhooks: the stores (Shopify, WooCommerce, the
/// generic API sign the raw body with base64 HMAC-SHA256 and differ in header names and
/// topics) and the couriers (Onfleet: hex HMAC-SHA512 with a hex key and no delivery id;
/// the sandbox courier: hex HMAC-SHA256).
struct Contract {
    /// The audit trail's channel name, and the first part of the secret's name.
    channel: &'static str,
    signature: &'static str,
    /// `(secret, body, signature header) -> valid`.
    verify: fn(&str, &[u8], &str) -> bool,
    topic: TopicFrom,
    /// `None`: the sender gives no delivery id, and the body's digest stands in for it
    /// (Onfleet re-sends the same bytes).
    delivery_id: Option<&'static str>,
    triggered_at: Option<&'static str>,
    acts_on: fn(&str) -> bool,
    /// The delivery's deduplication key from its id header and body.
    dedupe_key: fn(&str, &[u8]) -> String,
    /// Orders go to normalize; courier events to status-sync.
    next: Next,
}

enum TopicFrom {
    Header(&'static str),
    /// Couriers name the event inside the body.
    Body(fn(&[u8]) -> Option<String>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Next {
    Normalize,
    StatusSync,
}

fn base64_hmac_sha256(secret: &str, body: &[u8], signature: &str) -> bool {
    shared::signature::verify_base64_hmac_sha256(secret.as_bytes(), body, signature)
}

/// `channel` is the first path segment; couriers are `/webhooks/courier/{courier}`.
fn contract(channel: &str, store: &str) -> Option<Contract> {
    match (channel, store) {
        ("shopify", _) => Some(Contract {
            channel: Channel::Shopify.as_str(),
            signature: shopify::HMAC_HEADER,
            verify: base64_hmac_sha256,
            topic: TopicFrom::Header(shopify::TOPIC_HEADER),
            delivery_id: Some(shopify::WEBHOOK_ID_HEADER),
            triggered_at: Some(shopify::TRIGGERED_AT_HEADER),
            acts_on: |t| shopify::Topic::parse(t).is_some(),
            dedupe_key: |id, _| id.to_owned(),
            next: Next::Normalize,
        }),
        ("woocommerce", _) => Some(Contract {
            channel: Channel::WooCommerce.as_str(),
            signature: woocommerce::SIGNATURE_HEADER,
            verify: base64_hmac_sha256,
            topic: TopicFrom::Header(woocommerce::TOPIC_HEADER),
            delivery_id: Some(woocommerce::DELIVERY_ID_HEADER),
            triggered_at: None,
            acts_on: woocommerce::acts_on,
            // WooCommerce's delivery id repeats within a second; the body digest tells
            // deliveries apart.
            dedupe_key: woocommerce::dedupe_key,
            next: Next::Normalize,
        }),
        ("api", _) => Some(Contract {
            channel: Channel::Api.as_str(),
            signature: api::SIGNATURE_HEADER,
            verify: base64_hmac_sha256,
            topic: TopicFrom::Header(api::TOPIC_HEADER),
            delivery_id: Some(api::EVENT_ID_HEADER),
            triggered_at: Some(api::SENT_AT_HEADER),
            acts_on: api::acts_on,
            dedupe_key: |id, _| id.to_owned(),
            next: Next::Normalize,
        }),
        ("courier", "onfleet") => Some(Contract {
            channel: COURIER,
            signature: onfleet::SIGNATURE_HEADER,
            verify: onfleet::verify_signature,
            topic: TopicFrom::Body(onfleet::trigger_name),
            delivery_id: None,
            triggered_at: None,
            acts_on: |t| onfleet::Trigger::from_name(t).is_some_and(|t| t.is_task_trigger()),
            dedupe_key: |id, _| id.to_owned(),
            next: Next::StatusSync,
        }),
        ("courier", "sandbox") => Some(Contract {
            channel: COURIER,
            signature: sandbox_webhook::SIGNATURE_HEADER,
            verify: |secret, body, sig| {
                shared::signature::verify_hex_hmac_sha256(secret.as_bytes(), body, sig)
            },
            topic: TopicFrom::Body(|body| {
                serde_json::from_slice::<serde_json::Value>(body)
                    .ok()?
                    .get("type")?
                    .as_str()
                    .map(str::to_owned)
            }),
            delivery_id: Some(sandbox_webhook::EVENT_ID_HEADER),
            triggered_at: None,
            acts_on: |t| t == sandbox_webhook::EVENT_TYPE,
            dedupe_key: |id, _| id.to_owned(),
            next: Next::StatusSync,
        }),
        _ => None,
    }
}

/// The audit trail's channel for courier webhooks; the courier is the "store" part.
const COURIER: &str = "courier";

/// What intake records as the topic when a courier's body names no event it knows.
const UNKNOWN_TOPIC: &str = "unknown";

/// The part of every webhook channel's store secret that intake reads. (The generic API
/// calls it the signing secret.)
#[derive(serde::Deserialize)]
struct WebhookSecret {
    #[serde(alias = "signing_secret")]
    webhook_secret: String,
}

/// A duplicate that finds the first delivery still `received` (not yet queued) and younger
/// than this is answered 503: the first delivery is probably still running, and if it died
/// the channel's retry will find the payload old enough to queue it again.
const IN_FLIGHT_GRACE_MS: i64 = 10_000;

/// Channels' delivery ids are UUIDs or short hashes; anything much longer is not one.
const MAX_DELIVERY_ID_BYTES: usize = 256;

pub async fn handle(
    services: &Services,
    request: ApiGatewayV2httpRequest,
) -> ApiGatewayV2httpResponse {
    let channel = request
        .path_parameters
        .get("channel")
        .cloned()
        .unwrap_or_default();
    let store = request
        .path_parameters
        .get("store")
        .cloned()
        .unwrap_or_default();
    let Some(contract) = contract(&channel, &store) else {
        return respond(404, json!({ "error": "unknown_channel" }));
    };
    let channel_name = contract.channel;
    if !is_valid_store_name(&store) {
        return respond(404, json!({ "error": "unknown_store" }));
    }
    if request.request_context.http.method == http::Method::GET {
        return validation(&channel, &store, &request);
    }
    let span = tracing::info_span!("webhook", %channel, %store);
    let _guard = span.enter();
    let body = match raw_body(&request) {
        Ok(body) => body,
        Err(()) => return respond(400, json!({ "error": "body_not_base64" })),
    };
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let body_digest = hex::encode(Sha256::digest(&body));
    let topic_from_body;
    let topic = match contract.topic {
        TopicFrom::Header(name) => header(name),
        TopicFrom::Body(read) => {
            topic_from_body = read(&body).unwrap_or_else(|| UNKNOWN_TOPIC.to_owned());
            Some(topic_from_body.as_str())
        }
    };
    let delivery_id = match contract.delivery_id {
        Some(name) => header(name),
        None => Some(body_digest.as_str()),
    };
    let reject = |reason: &'static str, status: u16| Rejection {
        channel: channel_name,
        store: &store,
        reason,
        http_status: status,
        body_len: body.len(),
        body_sha256: body_digest.clone(),
        webhook_id: delivery_id,
        topic,
    };

    if body.len() > services.config.max_webhook_body_bytes {
        return rejected(services, reject("body_too_large", 413), "payload_too_large").await;
    }

    let credentials = match services
        .secrets
        .get_json::<WebhookSecret>(&format!("{channel_name}/{store}"))
        .await
    {
        Ok(c) => c,
        Err(SecretError::NotFound(_)) => {
            return rejected(services, reject("unknown_store", 404), "unknown_store").await
        }
        Err(SecretError::Malformed { name, problem }) => {
            tracing::error!(secret = %name, %problem, "store secret is malformed");
            return respond(500, json!({ "error": "store_misconfigured" }));
        }
        Err(SecretError::Aws(e)) => {
            tracing::warn!(error = %e, "could not read the store secret");
            return respond(503, json!({ "error": "temporarily_unavailable" }));
        }
    };

    // WooCommerce checks a new webhook's URL with an unsigned `webhook_id=<n>` form post
    // and activates it only on a 2xx. It carries no order, so answering it trusts nothing.
    if contract.channel == Channel::WooCommerce.as_str()
        && header(contract.signature).is_none()
        && woocommerce::is_ping(&body)
    {
        tracing::info!("WooCommerce activation ping");
        return respond(200, json!({ "status": "ping" }));
    }
    // An empty secret would make any sender's signature over "" checkable by anyone.
    let signed = !credentials.webhook_secret.is_empty()
        && header(contract.signature)
            .is_some_and(|sig| (contract.verify)(&credentials.webhook_secret, &body, sig));
    if !signed {
        return rejected(
            services,
            reject("invalid_signature", 401),
            "invalid_signature",
        )
        .await;
    }
    let (Some(topic), Some(delivery_id)) = (topic, delivery_id) else {
        return rejected(
            services,
            reject("missing_header", 400),
            "missing_topic_or_webhook_id",
        )
        .await;
    };
    // The delivery id becomes part of a DynamoDB key (at most 2 KB) and of log lines.
    if delivery_id.len() > MAX_DELIVERY_ID_BYTES
        || !delivery_id.bytes().all(|b| b.is_ascii_graphic())
    {
        return rejected(services, reject("bad_delivery_id", 400), "bad_delivery_id").await;
    }
    let dedupe_key = (contract.dedupe_key)(delivery_id, &body);
    let webhook_id = dedupe_key.as_str();
    tracing::info!(topic, webhook_id, bytes = body.len(), "signed webhook");

    let known_topic = (contract.acts_on)(topic);
    let well_formed = serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok();
    let state = match (known_topic, well_formed) {
        (false, _) => InboundState::Ignored,
        (true, false) => InboundState::Review,
        (true, true) => InboundState::Received,
    };
    let inbound = NewInbound {
        channel: channel_name,
        store: &store,
        topic,
        webhook_id,
        triggered_at: contract.triggered_at.and_then(header),
        body: &body,
        state,
    };
    let id = inbound.id();
    let receipt = match services.inbound.receive(&inbound).await {
        Ok(r) => r,
        Err(e) => return unavailable(&e),
    };

    if contract.next == Next::Normalize && matches!(receipt, Receipt::Duplicate { .. }) {
        // Every redelivery of an order delivery seen before, whatever is answered below. (A
        // repeated courier event creates nothing; status-sync's writes absorb it.)
        services
            .metrics
            .duplicate_creation_attempt("webhook-intake", channel_name, "webhook");
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
            tracing::info!(webhook_id, count, "duplicate of a delivery still in flight");
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
                webhook_id,
                count,
                "duplicate of a delivery that was not queued; queueing it"
            );
            enqueue(services, contract.next, &id, channel_name, &store, topic).await
        }
        (Receipt::Duplicate { count, .. }, _) => {
            tracing::info!(webhook_id, count, "duplicate webhook");
            respond(200, json!({ "status": "duplicate", "inbound_id": id }))
        }
        (Receipt::New, InboundState::Ignored) => {
            tracing::info!(topic, "topic not acted on; acknowledged and kept");
            respond(200, json!({ "status": "ignored", "inbound_id": id }))
        }
        (Receipt::New, InboundState::Review) => review_unparseable(services, &id, &body).await,
        (Receipt::New, _) => {
            enqueue(services, contract.next, &id, channel_name, &store, topic).await
        }
    }
}

async fn enqueue(
    services: &Services,
    next: Next,
    id: &str,
    channel: &str,
    store: &str,
    topic: &str,
) -> ApiGatewayV2httpResponse {
    let sent = match next {
        Next::Normalize => {
            services
                .intake_queue
                .send(&InboundReceived {
                    inbound_id: id.to_owned(),
                    channel: channel.into(),
                    store: store.to_owned(),
                    topic: topic.to_owned(),
                })
                .await
        }
        Next::StatusSync => {
            services
                .sync_queue
                .send(&SyncEvent::CourierReported {
                    inbound_id: id.to_owned(),
                    courier: store.to_owned(),
                })
                .await
        }
    };
    if let Err(e) = sent {
        return unavailable(&e);
    }
    if let Err(e) = services
        .inbound
        .advance(id, &[InboundState::Received], InboundState::Enqueued)
        .await
    {
        // Queued already; the state is bookkeeping and a redelivery dedupes downstream.
        tracing::warn!(error = %e, "queued, but could not mark the payload enqueued");
    }
    respond(200, json!({ "status": "accepted", "inbound_id": id }))
}

async fn review_unparseable(
    services: &Services,
    id: &str,
    body: &[u8],
) -> ApiGatewayV2httpResponse {
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
    if let Err(e) = services.reviews.open(&item).await {
        return unavailable(&e);
    }
    let outcome = Outcome {
        state: InboundState::Review,
        summary: "needs review: unparseable payload",
        order_key: None,
        shipment_key: None,
        review_id: Some(&item.id),
    };
    if let Err(e) = services.inbound.record_outcome(id, &outcome).await {
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

async fn rejected(
    services: &Services,
    rejection: Rejection<'_>,
    error: &str,
) -> ApiGatewayV2httpResponse {
    tracing::warn!(
        reason = rejection.reason,
        status = rejection.http_status,
        "webhook rejected"
    );
    if let Err(e) = services.inbound.record_rejection(&rejection).await {
        tracing::warn!(error = %e, "could not record the rejection");
    }
    respond(rejection.http_status, json!({ "error": error }))
}

/// `GET`: only Onfleet validates a webhook URL this way, with `?check=<token>` echoed back
/// exactly, status 200, as text. It carries no signature and reveals nothing.
fn validation(
    channel: &str,
    store: &str,
    request: &ApiGatewayV2httpRequest,
) -> ApiGatewayV2httpResponse {
    if (channel, store) != ("courier", "onfleet") {
        return respond(405, json!({ "error": "method_not_allowed" }));
    }
    match onfleet::handshake_answer(request.query_string_parameters.first("check")) {
        Some(answer) => {
            tracing::info!("Onfleet webhook validation answered");
            let mut response = ApiGatewayV2httpResponse::default();
            response.status_code = 200;
            response.headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(onfleet::HANDSHAKE_CONTENT_TYPE),
            );
            response.body = Some(Body::Text(answer));
            response
        }
        None => respond(400, json!({ "error": "missing_check" })),
    }
}

fn unavailable(error: &shared::aws::AwsError) -> ApiGatewayV2httpResponse {
    tracing::error!(%error, "AWS call failed; asking the channel to retry");
    respond(503, json!({ "error": "temporarily_unavailable" }))
}

/// The exact bytes the channel signed: API Gateway base64-encodes bodies it treats as binary.
fn raw_body(request: &ApiGatewayV2httpRequest) -> Result<Vec<u8>, ()> {
    let body = request.body.as_deref().unwrap_or("");
    if request.is_base64_encoded {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| ())
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
