//! The sandbox courier: one status webhook per API key (`PUT`/`GET`/`DELETE /v1/webhook`,
//! docs/sandbox-courier-api.md), signed with the secret it is given.

use super::{Subscription, WebhookAdmin};
use crate::couriers::sandbox::{SandboxCredentials, PARTNER};
use crate::http::{self, Effect, Reply};
use async_trait::async_trait;
use domain::PartnerError;
use serde::Deserialize;
use serde_json::json;

/// The sandbox sends every status change under one topic.
pub const TOPIC: &str = "task.status_changed";

pub fn topics() -> Vec<String> {
    vec![TOPIC.to_owned()]
}

#[derive(Debug, Deserialize)]
struct Registered {
    url: String,
}

pub struct SandboxWebhook {
    http: reqwest::Client,
    credentials: SandboxCredentials,
    secret: String,
}

impl SandboxWebhook {
    /// `secret` signs the events from the next registration on.
    pub fn new(http: reqwest::Client, credentials: SandboxCredentials, secret: &str) -> Self {
        SandboxWebhook {
            http,
            credentials,
            secret: secret.to_owned(),
        }
    }

    fn url(&self) -> String {
        format!(
            "{}/v1/webhook",
            self.credentials.base_url.trim_end_matches('/')
        )
    }

    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        effect: Effect,
    ) -> Result<Reply, PartnerError> {
        let request = request.bearer_auth(&self.credentials.api_key);
        http::exchange(PARTNER, request, effect).await
    }
}

fn refused(reply: &Reply) -> PartnerError {
    http::refusal(PARTNER, reply, reply.text(500))
}

#[async_trait]
impl WebhookAdmin for SandboxWebhook {
    fn partner(&self) -> &'static str {
        PARTNER
    }

    /// Reading the webhook proves the key.
    async fn preflight(&self, _topics: &[String]) -> Result<(), PartnerError> {
        self.list().await.map(|_| ())
    }

    async fn list(&self) -> Result<Vec<Subscription>, PartnerError> {
        let reply = self.call(self.http.get(self.url()), Effect::Read).await?;
        match reply.status.as_u16() {
            200 => {
                let registered: Registered = reply.json(PARTNER, Effect::Read)?;
                Ok(vec![Subscription {
                    id: TOPIC.to_owned(),
                    topic: TOPIC.to_owned(),
                    url: registered.url,
                }])
            }
            404 => Ok(Vec::new()),
            _ => Err(refused(&reply)),
        }
    }

    /// Replaces whatever is registered: the sandbox has one webhook.
    async fn create(&self, topic: &str, url: &str) -> Result<Subscription, PartnerError> {
        let request = self
            .http
            .put(self.url())
            .json(&json!({ "url": url, "secret": self.secret }));
        let reply = self.call(request, Effect::Write).await?;
        if !reply.is_success() {
            return Err(refused(&reply));
        }
        Ok(Subscription {
            id: TOPIC.to_owned(),
            topic: topic.to_owned(),
            url: url.to_owned(),
        })
    }

    async fn delete(&self, _subscription: &Subscription) -> Result<(), PartnerError> {
        let reply = self
            .call(self.http.delete(self.url()), Effect::Write)
            .await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(refused(&reply))
        }
    }

    /// A second URL replaces the first.
    fn one_per_topic(&self) -> bool {
        true
    }
}
