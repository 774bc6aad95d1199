//! Onfleet: one webhook per trigger (`POST /webhooks`,
//! <https://docs.onfleet.com/reference/webhooks>). Onfleet first checks the URL with
//! `GET {url}?check=<token>` and creates the webhook only if the token comes back, which
//! webhook-intake does. Every webhook of the organisation is signed with the one secret its
//! dashboard shows; none is given per webhook.

use super::{Subscription, WebhookAdmin};
use crate::couriers::onfleet::{parse_error, OnfleetCredentials, PARTNER};
use crate::http::{self, Effect, Reply};
use async_trait::async_trait;
use channels::onfleet::Trigger;
use domain::PartnerError;
use serde::Deserialize;
use serde_json::json;

/// The triggers status-sync maps to a shipment status (docs/configuration.md), by the
/// number a webhook is made with.
pub fn topics() -> Vec<String> {
    Trigger::ALL
        .into_iter()
        .filter(|t| t.is_task_trigger() && *t != Trigger::TaskCreated && *t != Trigger::TaskCloned)
        .map(|t| t.id().to_string())
        .collect()
}

#[derive(Debug, Deserialize)]
struct Webhook {
    id: String,
    trigger: u64,
    url: String,
}

pub struct OnfleetWebhooks {
    http: reqwest::Client,
    credentials: OnfleetCredentials,
}

impl OnfleetWebhooks {
    pub fn new(http: reqwest::Client, credentials: OnfleetCredentials) -> OnfleetWebhooks {
        OnfleetWebhooks { http, credentials }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.credentials.base_url.trim_end_matches('/'))
    }

    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        effect: Effect,
    ) -> Result<Reply, PartnerError> {
        let request = request.basic_auth(&self.credentials.api_key, Some(""));
        let reply = http::exchange(PARTNER, request, effect).await?;
        if reply.is_success() {
            return Ok(reply);
        }
        let summary = parse_error(&reply.text(10_000)).summary;
        Err(http::refusal(PARTNER, &reply, summary))
    }

    /// `GET /auth/test`: whether Onfleet takes the key.
    pub async fn authenticate(&self) -> Result<(), PartnerError> {
        self.call(self.http.get(self.url("/auth/test")), Effect::Read)
            .await
            .map(|_| ())
    }
}

#[async_trait]
impl WebhookAdmin for OnfleetWebhooks {
    fn partner(&self) -> &'static str {
        PARTNER
    }

    async fn preflight(&self, _topics: &[String]) -> Result<(), PartnerError> {
        self.authenticate().await
    }

    async fn list(&self) -> Result<Vec<Subscription>, PartnerError> {
        let reply = self
            .call(self.http.get(self.url("/webhooks")), Effect::Read)
            .await?;
        let webhooks: Vec<Webhook> = reply.json(PARTNER, Effect::Read)?;
        Ok(webhooks
            .into_iter()
            .map(|w| Subscription {
                id: w.id,
                topic: w.trigger.to_string(),
                url: w.url,
            })
            .collect())
    }

    async fn create(&self, topic: &str, url: &str) -> Result<Subscription, PartnerError> {
        let trigger: u64 = topic.parse().map_err(|_| {
            PartnerError::rejected(
                PARTNER,
                "trigger",
                format!("{topic:?} is not a trigger number"),
            )
        })?;
        let name = Trigger::from_id(trigger)
            .map(|t| format!("courier-bridge {}", t.name()))
            .unwrap_or_else(|| format!("courier-bridge {trigger}"));
        let request = self.http.post(self.url("/webhooks")).json(&json!({
            "url": url,
            "trigger": trigger,
            "name": name,
        }));
        let reply = self.call(request, Effect::Write).await?;
        let webhook: Webhook = reply.json(PARTNER, Effect::Write)?;
        Ok(Subscription {
            id: webhook.id,
            topic: webhook.trigger.to_string(),
            url: webhook.url,
        })
    }

    async fn delete(&self, subscription: &Subscription) -> Result<(), PartnerError> {
        let mut url = reqwest::Url::parse(&self.url("/webhooks"))
            .map_err(|e| PartnerError::config(PARTNER, format!("base_url: {e}")))?;
        // The id is one path segment, escaped, whatever it holds.
        url.path_segments_mut()
            .map_err(|()| PartnerError::config(PARTNER, "base_url cannot take a path"))?
            .push(&subscription.id);
        self.call(self.http.delete(url), Effect::Write)
            .await
            .map(|_| ())
    }
}
