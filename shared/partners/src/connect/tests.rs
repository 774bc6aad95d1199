use super::*;
use std::sync::Mutex;

/// A partner's registry in memory, failing the create of one topic when told to.
#[derive(Default)]
struct Registry {
    subscriptions: Mutex<Vec<Subscription>>,
    next: Mutex<u32>,
    refuse_topic: Option<String>,
    refuse_preflight: bool,
    one_per_topic: bool,
}

#[async_trait]
impl WebhookAdmin for Registry {
    fn partner(&self) -> &'static str {
        "test"
    }
    async fn preflight(&self, _topics: &[String]) -> Result<(), PartnerError> {
        if self.refuse_preflight {
            return Err(PartnerError::config("test", "missing scope read_orders"));
        }
        Ok(())
    }
    async fn list(&self) -> Result<Vec<Subscription>, PartnerError> {
        Ok(self.subscriptions.lock().unwrap().clone())
    }
    async fn create(&self, topic: &str, url: &str) -> Result<Subscription, PartnerError> {
        if self.refuse_topic.as_deref() == Some(topic) {
            return Err(PartnerError::rejected("test", "422", "no such topic"));
        }
        let mut next = self.next.lock().unwrap();
        *next += 1;
        let made = Subscription {
            id: format!("s{next}"),
            topic: topic.into(),
            url: url.into(),
        };
        self.subscriptions.lock().unwrap().push(made.clone());
        Ok(made)
    }
    async fn delete(&self, subscription: &Subscription) -> Result<(), PartnerError> {
        self.subscriptions
            .lock()
            .unwrap()
            .retain(|s| s.id != subscription.id);
        Ok(())
    }
    fn one_per_topic(&self) -> bool {
        self.one_per_topic
    }
}

fn topics(names: &[&str]) -> Vec<String> {
    names.iter().map(|t| (*t).to_owned()).collect()
}

const URL: &str = "https://hooks.example/webhooks/shopify/acme";

#[tokio::test]
async fn connecting_twice_makes_each_registration_once() {
    let registry = Registry::default();
    let wanted = topics(&["A", "B"]);
    let first = connect(&registry, &wanted, URL, false).await.unwrap();
    assert_eq!(first.created.len(), 2);
    let second = connect(&registry, &wanted, URL, false).await.unwrap();
    assert!(second.created.is_empty());
    assert_eq!(second.kept, first.created);
    assert_eq!(registry.list().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_refused_preflight_makes_nothing() {
    let registry = Registry {
        refuse_preflight: true,
        ..Registry::default()
    };
    let error = connect(&registry, &topics(&["A"]), URL, false)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("read_orders"), "{error}");
    assert!(registry.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_registration_removes_those_made_before_it() {
    let registry = Registry {
        refuse_topic: Some("C".into()),
        ..Registry::default()
    };
    let error = connect(&registry, &topics(&["A", "B", "C"]), URL, false)
        .await
        .unwrap_err();
    assert_eq!(error.rolled_back.len(), 2);
    assert!(error.left.is_empty());
    assert!(error.to_string().contains("removed again"), "{error}");
    assert!(registry.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn another_url_is_reported_and_removed_only_when_replacing() {
    let registry = Registry::default();
    let old = "https://old.example/webhooks/shopify/acme";
    connect(&registry, &topics(&["A"]), old, false)
        .await
        .unwrap();
    let kept = connect(&registry, &topics(&["A"]), URL, false)
        .await
        .unwrap();
    assert_eq!(kept.elsewhere.len(), 1);
    assert_eq!(kept.elsewhere[0].url, old);
    assert_eq!(registry.list().await.unwrap().len(), 2);

    let replaced = connect(&registry, &topics(&["A"]), URL, true)
        .await
        .unwrap();
    assert!(replaced.replaced);
    let left = registry.list().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].url, URL);
}

#[tokio::test]
async fn one_per_topic_partners_lose_the_old_registration_before_the_new_is_made() {
    let registry = Registry {
        one_per_topic: true,
        ..Registry::default()
    };
    connect(&registry, &topics(&["A"]), "arn:old", false)
        .await
        .unwrap();
    let replaced = connect(&registry, &topics(&["A"]), "arn:new", true)
        .await
        .unwrap();
    assert_eq!(replaced.created.len(), 1);
    let left = registry.list().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].url, "arn:new");
}

#[tokio::test]
async fn disconnect_removes_the_stacks_registrations_and_nothing_else() {
    let registry = Registry::default();
    let other = "https://zapier.example/hooks/1";
    connect(&registry, &topics(&["A", "B"]), URL, false)
        .await
        .unwrap();
    connect(&registry, &topics(&["A"]), other, false)
        .await
        .unwrap();
    let removed = disconnect(&registry, &topics(&["A", "B"]), URL)
        .await
        .unwrap();
    assert_eq!(removed.len(), 2);
    let left = registry.list().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].url, other);
}

#[test]
fn standing_sees_missing_present_and_elsewhere() {
    let subscriptions = vec![
        Subscription {
            id: "1".into(),
            topic: "A".into(),
            url: "HTTPS://Hooks.example/webhooks/shopify/acme/".into(),
        },
        Subscription {
            id: "2".into(),
            topic: "B".into(),
            url: "https://old.example/webhooks/shopify/acme".into(),
        },
        Subscription {
            id: "3".into(),
            topic: "Z".into(),
            url: "https://elsewhere.example".into(),
        },
    ];
    let standing = standing(&subscriptions, &topics(&["A", "B"]), URL);
    assert_eq!(
        standing.present.len(),
        1,
        "case and a trailing slash: same URL"
    );
    assert_eq!(standing.missing, vec!["B".to_owned()]);
    assert_eq!(standing.elsewhere.len(), 1);
    assert_eq!(standing.elsewhere[0].id, "2");
}

#[test]
fn webhook_urls_join_without_double_slashes() {
    assert_eq!(
        webhook_url("https://x.example/webhooks/", "woocommerce", "acme"),
        "https://x.example/webhooks/woocommerce/acme"
    );
}

#[tokio::test]
async fn one_per_topic_partners_refuse_to_move_a_registration_without_replace() {
    let registry = Registry {
        one_per_topic: true,
        ..Registry::default()
    };
    connect(&registry, &topics(&["A"]), "arn:old", false)
        .await
        .unwrap();
    let error = connect(&registry, &topics(&["A"]), "arn:new", false)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("--replace"), "{error}");
    let left = registry.list().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].url, "arn:old", "nothing moved");
}
