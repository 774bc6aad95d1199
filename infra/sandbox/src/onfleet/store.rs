//! The fake Onfleet organization's webhooks.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A webhook of the fake Onfleet organization, as returned by
/// [`crate::Sandbox::onfleet_webhooks`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnfleetWebhookView {
    /// 24 characters, like Onfleet's ids.
    pub id: String,
    pub url: String,
    /// The trigger number, e.g. 3 (`taskCompleted`).
    pub trigger: u8,
    pub name: Option<String>,
}

/// A webhook as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Webhook {
    pub(crate) view: OnfleetWebhookView,
    /// Seconds (`taskEta`) or metres (`taskArrival`).
    pub(crate) threshold: Option<u64>,
}

/// A webhook to create, validated and its URL checked by the handler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NewWebhook {
    pub(crate) url: String,
    pub(crate) trigger: u8,
    pub(crate) name: Option<String>,
    pub(crate) threshold: Option<u64>,
}

#[derive(Debug, Default)]
pub(crate) struct OnfleetStore {
    /// In creation order.
    webhooks: Vec<Webhook>,
    /// Built on first use and shared by every URL check.
    client: Option<reqwest::Client>,
}

impl OnfleetStore {
    /// Adds the webhook. Onfleet allows several webhooks with one URL and trigger, so this
    /// never refuses.
    pub(crate) fn add(&mut self, new: NewWebhook) -> Webhook {
        let mut id = Uuid::new_v4().simple().to_string();
        id.truncate(24);
        let webhook = Webhook {
            view: OnfleetWebhookView {
                id,
                url: new.url,
                trigger: new.trigger,
                name: new.name,
            },
            threshold: new.threshold,
        };
        self.webhooks.push(webhook.clone());
        webhook
    }

    pub(crate) fn webhooks(&self) -> Vec<Webhook> {
        self.webhooks.clone()
    }

    /// Deletes the webhook with this id; `false` if there is none.
    pub(crate) fn delete(&mut self, id: &str) -> bool {
        let before = self.webhooks.len();
        self.webhooks.retain(|w| w.view.id != id);
        self.webhooks.len() < before
    }

    pub(crate) fn views(&self) -> Vec<OnfleetWebhookView> {
        self.webhooks.iter().map(|w| w.view.clone()).collect()
    }

    /// The client URL checks are made with; built once.
    pub(crate) fn client(
        &mut self,
        build: impl FnOnce() -> reqwest::Result<reqwest::Client>,
    ) -> reqwest::Result<reqwest::Client> {
        if let Some(client) = &self.client {
            return Ok(client.clone());
        }
        let client = build()?;
        self.client = Some(client.clone());
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(url: &str) -> NewWebhook {
        NewWebhook {
            url: url.into(),
            trigger: 3,
            name: None,
            threshold: None,
        }
    }

    #[test]
    fn duplicates_are_allowed_and_ids_are_24_characters() {
        let mut store = OnfleetStore::default();
        let first = store.add(new("https://example.com/hooks"));
        let second = store.add(new("https://example.com/hooks"));
        assert_eq!(first.view.id.len(), 24);
        assert_ne!(first.view.id, second.view.id);
        assert!(store.delete(&first.view.id));
        assert!(!store.delete(&first.view.id));
        assert_eq!(store.views(), [second.view]);
    }
}
