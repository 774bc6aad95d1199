//! Amazon: SP-API Notifications v1
//! (<https://developer-docs.amazon.com/sp-api/docs/notifications-api-v1-reference>). Events
//! go to the stack's SQS queue through a *destination* (the queue's ARN, made with a
//! grantless token: it belongs to the application, not to a seller) and a *subscription* of
//! the seller to `ORDER_CHANGE` on it (made with the seller's token). Amazon keeps one
//! subscription per notification type and seller, so a subscription to another queue must
//! go before the stack's can be made.
//!
//! The queue's policy must let Amazon's notifications principal send to it; template.yaml
//! gives `AmazonNotificationsQueue` that policy.

use super::{Subscription, WebhookAdmin};
use crate::http::{self, Effect};
use crate::stores::amazon::{errors_text, lwa_grant, AmazonCredentials, PARTNER};
use async_trait::async_trait;
use domain::PartnerError;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::Mutex;

/// The notification webhook-intake's queue consumer reads.
pub const ORDER_CHANGE: &str = "ORDER_CHANGE";
/// The scope of the grantless token that manages destinations.
const NOTIFICATIONS_SCOPE: &str = "sellingpartnerapi::notifications";
const DESTINATION_NAME: &str = "courier-bridge";
const ACCESS_TOKEN_HEADER: &str = "x-amz-access-token";

pub fn topics() -> Vec<String> {
    vec![ORDER_CHANGE.to_owned()]
}

/// Which token a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    /// The application's own (`client_credentials`, the notifications scope).
    Grantless,
    /// The seller's (`refresh_token`).
    Seller,
}

#[derive(Debug, Deserialize)]
struct Destination {
    #[serde(rename = "destinationId")]
    id: String,
    resource: Value,
}

impl Destination {
    fn arn(&self) -> Option<&str> {
        self.resource["sqs"]["arn"].as_str()
    }
}

#[derive(Debug, Deserialize)]
struct SubscriptionPayload {
    #[serde(rename = "subscriptionId")]
    id: String,
    #[serde(rename = "destinationId")]
    destination_id: String,
}

pub struct AmazonNotifications {
    http: reqwest::Client,
    credentials: AmazonCredentials,
    grantless: Mutex<Option<String>>,
    seller: Mutex<Option<String>>,
}

impl AmazonNotifications {
    pub fn new(http: reqwest::Client, credentials: AmazonCredentials) -> Self {
        AmazonNotifications {
            http,
            credentials,
            grantless: Mutex::new(None),
            seller: Mutex::new(None),
        }
    }

    /// A connect takes a minute at most: a token is asked for once per grant.
    async fn token(&self, grant: Grant) -> Result<String, PartnerError> {
        let c = &self.credentials;
        let (cell, form) = match grant {
            Grant::Grantless => (
                &self.grantless,
                vec![
                    ("grant_type", "client_credentials"),
                    ("scope", NOTIFICATIONS_SCOPE),
                    ("client_id", c.lwa_client_id.as_str()),
                    ("client_secret", c.lwa_client_secret.as_str()),
                ],
            ),
            Grant::Seller => (
                &self.seller,
                vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", c.refresh_token.as_str()),
                    ("client_id", c.lwa_client_id.as_str()),
                    ("client_secret", c.lwa_client_secret.as_str()),
                ],
            ),
        };
        let mut cached = cell.lock().await;
        if let Some(token) = cached.as_ref() {
            return Ok(token.clone());
        }
        let token = lwa_grant(&self.http, &c.lwa_token_url, &form).await?.value;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// One call; `Ok(None)` is a 404.
    async fn call(
        &self,
        grant: Grant,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Option<Value>, PartnerError> {
        let token = self.token(grant).await?;
        let url = format!(
            "{}/notifications/v1{path}",
            self.credentials.endpoint.trim_end_matches('/')
        );
        let effect = if method == Method::GET {
            Effect::Read
        } else {
            Effect::Write
        };
        let mut request = self
            .http
            .request(method, url)
            .header(ACCESS_TOKEN_HEADER, token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = http::exchange(PARTNER, request, effect).await?;
        match reply.status.as_u16() {
            200..=299 if reply.body.is_empty() => Ok(Some(Value::Null)),
            200..=299 => reply.json(PARTNER, effect).map(Some),
            404 => Ok(None),
            403 => Err(PartnerError::config(
                PARTNER,
                format!(
                    "403 {}: the application needs the Notifications role, and the seller \
                     must have authorized it",
                    errors_text(&reply.body)
                ),
            )),
            _ => Err(http::refusal(PARTNER, &reply, errors_text(&reply.body))),
        }
    }

    async fn destinations(&self) -> Result<Vec<Destination>, PartnerError> {
        let body = self
            .call(Grant::Grantless, Method::GET, "/destinations", None)
            .await?
            .unwrap_or(Value::Null);
        serde_json::from_value(body["payload"].clone()).map_err(|e| {
            PartnerError::unavailable(PARTNER, format!("unexpected destinations: {e}"))
        })
    }

    async fn subscription(&self, topic: &str) -> Result<Option<SubscriptionPayload>, PartnerError> {
        let path = format!("/subscriptions/{}", segment(topic)?);
        match self.call(Grant::Seller, Method::GET, &path, None).await? {
            None => Ok(None),
            Some(body) => serde_json::from_value(body["payload"].clone())
                .map(Some)
                .map_err(|e| {
                    PartnerError::unavailable(PARTNER, format!("unexpected subscription: {e}"))
                }),
        }
    }

    async fn delete_destination(&self, id: &str) -> Result<(), PartnerError> {
        let path = format!("/destinations/{}", segment(id)?);
        match self
            .call(Grant::Grantless, Method::DELETE, &path, None)
            .await
        {
            Ok(_) => Ok(()),
            // Still used by another notification type of this application: it stays.
            Err(PartnerError::Rejected { code, .. }) if code == "409" => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// A notification type or id as one path segment: anything but letters, digits, `-` and
/// `_` would change the path.
fn segment(value: &str) -> Result<&str, PartnerError> {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(value)
    } else {
        Err(PartnerError::rejected(
            PARTNER,
            "id",
            format!("{value:?} is not an SP-API id"),
        ))
    }
}

#[async_trait]
impl WebhookAdmin for AmazonNotifications {
    fn partner(&self) -> &'static str {
        PARTNER
    }

    /// Both tokens: the application's credentials and the seller's authorization.
    async fn preflight(&self, _topics: &[String]) -> Result<(), PartnerError> {
        self.token(Grant::Grantless).await?;
        self.token(Grant::Seller).await.map(|_| ())
    }

    async fn list(&self) -> Result<Vec<Subscription>, PartnerError> {
        let destinations = self.destinations().await?;
        let Some(subscription) = self.subscription(ORDER_CHANGE).await? else {
            return Ok(Vec::new());
        };
        let url = destinations
            .iter()
            .find(|d| d.id == subscription.destination_id)
            .and_then(Destination::arn)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("destination {}", subscription.destination_id));
        Ok(vec![Subscription {
            id: subscription.id,
            topic: ORDER_CHANGE.to_owned(),
            url,
        }])
    }

    /// The queue's destination (found, or made), then the subscription to it. If the
    /// subscription is refused, a destination made here is removed again.
    async fn create(&self, topic: &str, arn: &str) -> Result<Subscription, PartnerError> {
        let existing = self.destinations().await?;
        let (destination, made) = match existing.into_iter().find(|d| d.arn() == Some(arn)) {
            Some(found) => (found.id, false),
            None => {
                let body = json!({
                    "name": DESTINATION_NAME,
                    "resourceSpecification": { "sqs": { "arn": arn } },
                });
                let answer = self
                    .call(Grant::Grantless, Method::POST, "/destinations", Some(body))
                    .await?
                    .unwrap_or(Value::Null);
                let made: Destination =
                    serde_json::from_value(answer["payload"].clone()).map_err(|e| {
                        PartnerError::ambiguous(PARTNER, format!("unexpected destination: {e}"))
                    })?;
                (made.id, true)
            }
        };
        let path = format!("/subscriptions/{}", segment(topic)?);
        let body = json!({ "payloadVersion": "1.0", "destinationId": destination });
        let subscribed = self
            .call(Grant::Seller, Method::POST, &path, Some(body))
            .await
            .and_then(|answer| {
                serde_json::from_value::<SubscriptionPayload>(
                    answer.unwrap_or(Value::Null)["payload"].clone(),
                )
                .map_err(|e| {
                    PartnerError::ambiguous(PARTNER, format!("unexpected subscription: {e}"))
                })
            });
        match subscribed {
            Ok(subscription) => Ok(Subscription {
                id: subscription.id,
                topic: topic.to_owned(),
                url: arn.to_owned(),
            }),
            Err(error) => {
                if made {
                    // Best effort: the error that matters is the subscription's.
                    let _ = self.delete_destination(&destination).await;
                }
                Err(error)
            }
        }
    }

    /// The subscription, then its destination if it is the queue's and nothing else uses it.
    async fn delete(&self, subscription: &Subscription) -> Result<(), PartnerError> {
        let path = format!(
            "/subscriptions/{}/{}",
            segment(&subscription.topic)?,
            segment(&subscription.id)?
        );
        self.call(Grant::Grantless, Method::DELETE, &path, None)
            .await?;
        let destinations = self.destinations().await?;
        if let Some(destination) = destinations
            .iter()
            .find(|d| d.arn() == Some(subscription.url.as_str()))
        {
            self.delete_destination(&destination.id).await?;
        }
        Ok(())
    }

    fn one_per_topic(&self) -> bool {
        true
    }
}
