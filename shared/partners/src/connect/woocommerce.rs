//! WooCommerce: webhooks through the REST API v3 (`/wp-json/wc/v3/webhooks`,
//! <https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks>). A webhook made
//! through v3 delivers v3 payloads, signed with the secret it is given.
//!
//! Webhooks belong to the site, not to a key: another plugin's `order.created` webhook is
//! listed too, and only touched by `--replace`.

use super::{Subscription, WebhookAdmin};
use crate::http::Effect;
use crate::stores::woocommerce::{WooCommerceRest, PARTNER};
use async_trait::async_trait;
use domain::PartnerError;
use serde::Deserialize;
use serde_json::json;

/// The topics webhook-intake acts on (docs/channels.md): an order made, changed, deleted.
pub fn topics() -> Vec<String> {
    ["order.created", "order.updated", "order.deleted"]
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// WooCommerce's largest page.
const PAGE: usize = 100;
const MAX_PAGES: usize = 50;

#[derive(Debug, Deserialize)]
struct Webhook {
    id: u64,
    topic: String,
    delivery_url: String,
}

impl From<Webhook> for Subscription {
    fn from(webhook: Webhook) -> Self {
        Subscription {
            id: webhook.id.to_string(),
            topic: webhook.topic,
            url: webhook.delivery_url,
        }
    }
}

/// One site's webhooks, with the secret new ones are signed with.
pub struct WooCommerceWebhooks {
    rest: WooCommerceRest,
    secret: String,
}

impl WooCommerceWebhooks {
    pub fn new(rest: WooCommerceRest, secret: &str) -> WooCommerceWebhooks {
        WooCommerceWebhooks {
            rest,
            secret: secret.to_owned(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/webhooks{path}", self.rest.api)
    }
}

#[async_trait]
impl WebhookAdmin for WooCommerceWebhooks {
    fn partner(&self) -> &'static str {
        PARTNER
    }

    /// WooCommerce says whether a key may write only when it writes; a read proves the
    /// site, the route and the key. A read-only key is refused at the first webhook, before
    /// anything is made.
    async fn preflight(&self, _topics: &[String]) -> Result<(), PartnerError> {
        let request = self.rest.http.get(self.url("")).query(&[("per_page", "1")]);
        self.rest.call(request, Effect::Read).await.map(|_| ())
    }

    async fn list(&self) -> Result<Vec<Subscription>, PartnerError> {
        let mut webhooks = Vec::new();
        for page in 1..=MAX_PAGES {
            let request = self
                .rest
                .http
                .get(self.url(""))
                .query(&[("per_page", PAGE.to_string()), ("page", page.to_string())]);
            let body = self.rest.call(request, Effect::Read).await?;
            let batch: Vec<Webhook> = serde_json::from_value(body).map_err(|e| {
                PartnerError::unavailable(PARTNER, format!("unexpected webhooks shape: {e}"))
            })?;
            let last = batch.len() < PAGE;
            webhooks.extend(batch.into_iter().map(Subscription::from));
            if last {
                return Ok(webhooks);
            }
        }
        Err(PartnerError::unavailable(
            PARTNER,
            format!("the webhook list did not end after {MAX_PAGES} pages"),
        ))
    }

    async fn create(&self, topic: &str, url: &str) -> Result<Subscription, PartnerError> {
        let request = self.rest.http.post(self.url("")).json(&json!({
            "name": format!("courier-bridge {topic}"),
            "topic": topic,
            "delivery_url": url,
            "secret": self.secret,
            "status": "active",
        }));
        let body = self.rest.call(request, Effect::Write).await?;
        serde_json::from_value::<Webhook>(body)
            .map(Subscription::from)
            .map_err(|e| PartnerError::ambiguous(PARTNER, format!("unexpected webhook: {e}")))
    }

    async fn delete(&self, subscription: &Subscription) -> Result<(), PartnerError> {
        // Ids are numbers; anything else would change the path.
        let id: u64 = subscription.id.parse().map_err(|_| {
            PartnerError::rejected(
                PARTNER,
                "id",
                format!("{:?} is not a webhook id", subscription.id),
            )
        })?;
        // Webhooks cannot be trashed: without force WooCommerce answers 501.
        let request = self
            .rest
            .http
            .delete(self.url(&format!("/{id}")))
            .query(&[("force", "true")]);
        self.rest.call(request, Effect::Write).await.map(|_| ())
    }
}
