//! Registering the stack's webhooks with a partner, and taking them away again: what
//! `courier-bridge connect`, `disconnect` and `doctor` do at a store or a courier.
//!
//! Each partner keeps "send topic T to URL U" in its own shape (Shopify's webhook
//! subscriptions, WooCommerce's webhooks, Onfleet's one webhook per trigger, Amazon's
//! destination plus subscription, the sandbox courier's one URL). [`WebhookAdmin`] is that
//! registry as a list of [`Subscription`]s; [`connect`] and [`disconnect`] are written once
//! over it, so "running it twice changes nothing" and "nothing half-made" hold for every
//! partner alike.

pub mod amazon;
pub mod onfleet;
pub mod sandbox;
pub mod shopify;
pub mod woocommerce;

use async_trait::async_trait;
use domain::PartnerError;
use serde::Serialize;

/// One registration at a partner: events of `topic` are sent to `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscription {
    /// The partner's id for it (what deleting it takes).
    pub id: String,
    /// The partner's own name for the events: `ORDERS_PAID`, `order.created`, an Onfleet
    /// trigger number, `ORDER_CHANGE`.
    pub topic: String,
    /// Where they go: a webhook URL, or for Amazon the SQS queue's ARN.
    pub url: String,
}

/// A partner's registry of webhooks, seen through one store's (or courier's) credentials.
#[async_trait]
pub trait WebhookAdmin: Send + Sync {
    /// The partner's name in messages.
    fn partner(&self) -> &'static str;

    /// Checks, before anything is made, that the credentials may register `topics` (a token
    /// without a scope, a read-only key): refused here, a connect makes nothing at all.
    async fn preflight(&self, topics: &[String]) -> Result<(), PartnerError>;

    /// Every registration the credentials can see.
    async fn list(&self) -> Result<Vec<Subscription>, PartnerError>;

    /// Registers `topic` to `url`.
    async fn create(&self, topic: &str, url: &str) -> Result<Subscription, PartnerError>;

    /// Removes one registration.
    async fn delete(&self, subscription: &Subscription) -> Result<(), PartnerError>;

    /// Whether the partner keeps one registration per topic (Amazon: one subscription per
    /// notification type), so one to another place must go before the stack's can be made.
    fn one_per_topic(&self) -> bool {
        false
    }
}

/// How a partner's registrations stand against what the stack needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Standing {
    /// Needed topics already sent to the stack.
    pub present: Vec<Subscription>,
    /// Needed topics not sent to the stack.
    pub missing: Vec<String>,
    /// Needed topics sent somewhere else too (another stack, an old URL).
    pub elsewhere: Vec<Subscription>,
}

/// Compares `subscriptions` with the `topics` the stack needs at `url`. Registrations of
/// other topics are not ours to judge and are left out.
pub fn standing(subscriptions: &[Subscription], topics: &[String], url: &str) -> Standing {
    let mut standing = Standing::default();
    for topic in topics {
        let of_topic = subscriptions.iter().filter(|s| &s.topic == topic);
        let (ours, others): (Vec<_>, Vec<_>) = of_topic.partition(|s| same_url(&s.url, url));
        match ours.first() {
            Some(present) => standing.present.push((*present).clone()),
            None => standing.missing.push(topic.clone()),
        }
        standing.elsewhere.extend(others.into_iter().cloned());
    }
    standing
}

/// Trailing slashes and the scheme's and host's case do not make another URL.
fn same_url(a: &str, b: &str) -> bool {
    match (reqwest::Url::parse(a), reqwest::Url::parse(b)) {
        (Ok(a), Ok(b)) => {
            a.scheme() == b.scheme()
                && a.host_str().map(str::to_ascii_lowercase)
                    == b.host_str().map(str::to_ascii_lowercase)
                && a.port_or_known_default() == b.port_or_known_default()
                && a.path().trim_end_matches('/') == b.path().trim_end_matches('/')
                && a.query() == b.query()
        }
        // Amazon's "URL" is a queue ARN.
        _ => a == b,
    }
}

/// What a connect did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Connected {
    /// Registered now.
    pub created: Vec<Subscription>,
    /// Already there; left as they were.
    pub kept: Vec<Subscription>,
    /// Registrations of the same topics to another URL. Reported, or with `replace`,
    /// removed once the stack's own are in place.
    pub elsewhere: Vec<Subscription>,
    /// Whether `elsewhere` was removed.
    pub replaced: bool,
}

/// A connect that failed, and what became of what it had made.
#[derive(Debug, thiserror::Error)]
#[error("{error}{}", undo_text(rolled_back, left))]
pub struct ConnectError {
    pub error: PartnerError,
    /// Made by this run, then removed again.
    pub rolled_back: Vec<Subscription>,
    /// Made by this run and could not be removed: the operator must (or run disconnect).
    pub left: Vec<Subscription>,
}

fn undo_text(rolled_back: &[Subscription], left: &[Subscription]) -> String {
    let mut text = String::new();
    if !rolled_back.is_empty() {
        text.push_str(&format!(
            "; the {} registration(s) made before it were removed again",
            rolled_back.len()
        ));
    }
    if !left.is_empty() {
        let ids: Vec<&str> = left.iter().map(|s| s.id.as_str()).collect();
        text.push_str(&format!(
            "; could not remove {} made before it: {}",
            left.len(),
            ids.join(", ")
        ));
    }
    text
}

impl From<PartnerError> for ConnectError {
    fn from(error: PartnerError) -> Self {
        ConnectError {
            error,
            rolled_back: Vec::new(),
            left: Vec::new(),
        }
    }
}

/// Registers every topic of `topics` to `url` that is not registered there yet: the
/// credentials are checked first, the registry read, and only what is missing made. If a
/// registration fails, those this run made are removed again, so a failed connect leaves
/// the partner as it found it (or names what it could not remove). With `replace`, the same
/// topics' registrations to other URLs are removed once the stack's are all in place.
pub async fn connect(
    admin: &dyn WebhookAdmin,
    topics: &[String],
    url: &str,
    replace: bool,
) -> Result<Connected, ConnectError> {
    admin.preflight(topics).await?;
    let existing = admin.list().await?;
    let standing = standing(&existing, topics, url);
    // Elsewhere a second registration is made before the old one goes, so no event falls
    // between the two (a duplicate is harmless: intake drops it).
    let replace_first = replace && admin.one_per_topic();
    if admin.one_per_topic() && !replace {
        if let Some(other) = standing.elsewhere.first() {
            return Err(PartnerError::rejected(
                admin.partner(),
                "elsewhere",
                format!(
                    "{} already goes to {}, and the partner keeps one: connect with --replace \
                     to move it to this stack",
                    other.topic, other.url
                ),
            )
            .into());
        }
    }
    if replace_first {
        for other in &standing.elsewhere {
            admin.delete(other).await?;
        }
    }
    let mut created = Vec::new();
    for topic in &standing.missing {
        match admin.create(topic, url).await {
            Ok(subscription) => created.push(subscription),
            Err(error) => return Err(roll_back(admin, error, created).await),
        }
    }
    if replace && !replace_first {
        for other in &standing.elsewhere {
            admin.delete(other).await?;
        }
    }
    Ok(Connected {
        created,
        kept: standing.present,
        elsewhere: standing.elsewhere,
        replaced: replace,
    })
}

async fn roll_back(
    admin: &dyn WebhookAdmin,
    error: PartnerError,
    created: Vec<Subscription>,
) -> ConnectError {
    let mut rolled_back = Vec::new();
    let mut left = Vec::new();
    // Newest first: Amazon's subscription goes before the destination it uses.
    for subscription in created.into_iter().rev() {
        match admin.delete(&subscription).await {
            Ok(()) => rolled_back.push(subscription),
            Err(_) => left.push(subscription),
        }
    }
    ConnectError {
        error,
        rolled_back,
        left,
    }
}

/// Removes every registration of `topics` to `url` (all of them, duplicates included), and
/// nothing else: registrations to other URLs belong to someone else.
pub async fn disconnect(
    admin: &dyn WebhookAdmin,
    topics: &[String],
    url: &str,
) -> Result<Vec<Subscription>, PartnerError> {
    let existing = admin.list().await?;
    let ours: Vec<Subscription> = existing
        .into_iter()
        .filter(|s| topics.contains(&s.topic) && same_url(&s.url, url))
        .collect();
    for subscription in &ours {
        admin.delete(subscription).await?;
    }
    Ok(ours)
}

/// `{webhook_url}/{channel}/{store}`: where webhook-intake takes a sender's events.
pub fn webhook_url(base: &str, sender: &str, name: &str) -> String {
    format!("{}/{sender}/{name}", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests;
