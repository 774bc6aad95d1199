//! The end-to-end harness: one stack per test (tables and queues from template.yaml, named
//! apart so tests run in parallel against one emulator), the local runtime running the
//! functions' own handlers, the sandbox courier and store over real HTTP.

use aws::stack::StackStores;
use aws_config::SdkConfig;
use domain::ports::{ReviewInbox, ShipmentStore, StoreRules};
use domain::{Channel, StoreConfig};
use local_runtime::demo::{
    connect_courier_webhooks, post_webhook, seed_courier, seed_notifications, seed_store, Delivery,
    DemoStore,
};
use local_runtime::{LocalRuntime, RuntimeOptions};
use sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const STORE: &str = "test-store";

/// The domain's ports: the stack's stores are read through them.
pub mod ports {
    pub use domain::ports::{
        AuditTrail, CashBook, IdempotencyStore, Outbox, PlanStore, ReportShelf, ReviewInbox,
        ShipmentStore, StatusHistory, StoreRules,
    };
}

/// The emulator from `make test` (infra/scripts/with-emulator.sh), reached with the SDK
/// configuration the functions build on Lambda (credentials and region from the
/// environment), so that every end-to-end test runs the functions as they start there.
pub async fn sdk() -> SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run the tests with `make test`, which starts moto server"
    );
    aws::config::lambda_sdk_config().expect("with-emulator.sh sets the region and credentials")
}

/// What the sandbox courier signs its status webhooks with in tests.
pub const COURIER_WEBHOOK_SECRET: &str = "whsec_sandbox_courier_test";

pub struct Harness {
    pub runtime: LocalRuntime,
    pub sandbox: Sandbox,
    pub sdk: SdkConfig,
    pub secret: String,
    /// The stack's Secrets Manager prefix ("<stack>/").
    pub prefix: String,
    /// The customers' link keys the stack's pages accept.
    pub links: links::LinkSecret,
    http: reqwest::Client,
}

impl Harness {
    /// Starts a stack named after the test; `env` overrides function settings (retries...).
    pub async fn start(test: &str, env: &[(&str, &str)]) -> Harness {
        let sdk = sdk().await;
        let stack = format!("{test}-{:06x}", rand::random::<u32>() & 0xff_ffff);
        let prefix = format!("{stack}/");
        let sandbox = Sandbox::start(
            ([127, 0, 0, 1], 0).into(),
            SandboxConfig {
                courier_api_key: "sbx_test_key".into(),
                shopify_access_token: "shpat_test".into(),
            },
        )
        .await
        .expect("sandbox starts");
        let mut options = RuntimeOptions::new(&stack);
        options
            .parameter_overrides
            .insert("SecretsPrefix".into(), prefix.clone());
        // Fast retries, so the fault tests walk to the DLQ in seconds.
        options
            .env_overrides
            .insert("RETRY_BASE_MS".into(), "100".into());
        options
            .env_overrides
            .insert("RETRY_MAX_MS".into(), "1000".into());
        local_runtime::demo::use_sandbox_location(&mut options, &sandbox.base_url());
        for (k, v) in env {
            options.env_overrides.insert((*k).into(), (*v).into());
        }
        let runtime = LocalRuntime::start(&sdk, options)
            .await
            .expect("local runtime starts");
        let secret = format!("whsec_{:x}", rand::random::<u64>());
        let store = DemoStore {
            name: STORE.into(),
            secret: secret.clone(),
        };
        seed_store(&sdk, &prefix, &store, &sandbox.base_url(), "shpat_test")
            .await
            .expect("store secret");
        seed_courier(
            &sdk,
            &prefix,
            &sandbox.base_url(),
            "sbx_test_key",
            COURIER_WEBHOOK_SECRET,
        )
        .await
        .expect("courier secret");
        seed_notifications(&sdk, &prefix, &sandbox.base_url())
            .await
            .expect("notification secret");
        let links = local_runtime::demo::seed_links(&sdk, &prefix)
            .await
            .expect("link keys");
        connect_courier_webhooks(&sandbox, &runtime, COURIER_WEBHOOK_SECRET);
        Harness {
            runtime,
            sandbox,
            sdk,
            secret,
            prefix,
            links,
            http: reqwest::Client::new(),
        }
    }

    /// Every table and queue of the test's stack.
    /// A paid order whose postal code is not German (and whose recipient is `recipient`),
    /// once normalize has filed it for review: its shipment and the item's id.
    pub async fn order_for_review(
        &self,
        id: u64,
        recipient: &str,
    ) -> (domain::ShipmentKey, String) {
        let mut order = paid_order(id);
        order["shipping_address"]["zip"] = serde_json::json!("1011");
        order["shipping_address"]["name"] = serde_json::json!(recipient);
        let (status, _, _) = self
            .deliver(
                "orders/paid",
                &format!("w-{id}"),
                order.to_string().as_bytes(),
            )
            .await;
        assert_eq!(status, 200);
        let key = domain::ShipmentKey::new(domain::Channel::Shopify, STORE, &id.to_string(), "1");
        let item = wait_for(
            "the order filed for review",
            Duration::from_secs(40),
            || async {
                self.open_reviews("invalid_postal_code")
                    .await
                    .into_iter()
                    .find(|i| i.shipment_key.as_deref() == Some(key.to_string().as_str()))
            },
        )
        .await;
        (key, item.id)
    }

    /// A console user in the stack's user pool, in `group`; its password.
    pub async fn console_user(&self, user: &str, group: &str) -> String {
        let password = format!("Test-{user}-Pass-1234");
        local_runtime::demo::add_console_user(&self.sdk, &self.runtime, user, &password, group)
            .await
            .expect("the console user created");
        password
    }

    pub fn stores(&self) -> &Arc<StackStores> {
        self.runtime.stores()
    }

    /// Posts `body` as Shopify would, signed with the store's secret.
    pub async fn post(&self, topic: &str, webhook_id: &str, body: &[u8]) -> (u16, Value) {
        let signature = channels::signature::sign_base64_hmac_sha256(self.secret.as_bytes(), body);
        self.post_signed(STORE, topic, webhook_id, body, &signature)
            .await
    }

    pub async fn post_signed(
        &self,
        store: &str,
        topic: &str,
        webhook_id: &str,
        body: &[u8],
        signature: &str,
    ) -> (u16, Value) {
        let delivery = Delivery {
            label: String::new(),
            store: store.into(),
            topic: topic.into(),
            webhook_id: webhook_id.into(),
            body: body.to_vec(),
            signature: signature.into(),
        };
        post_webhook(&self.http, &self.runtime.http_url, &delivery)
            .await
            .expect("HTTP API answers")
    }

    /// Posts until the answer is not 503, as Shopify retries; also says how many posts.
    pub async fn deliver(&self, topic: &str, webhook_id: &str, body: &[u8]) -> (u16, Value, u32) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut posts = 0;
        loop {
            let (status, answer) = self.post(topic, webhook_id, body).await;
            posts += 1;
            if status != 503 || Instant::now() > deadline {
                return (status, answer, posts);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    pub async fn queue_depth(&self, logical_id: &str) -> (u64, u64) {
        let url = self
            .runtime
            .queue_url(logical_id)
            .expect("queue in the stack");
        let out = aws_sdk_sqs::Client::new(&self.sdk)
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .expect("queue attributes");
        let get = |name: aws_sdk_sqs::types::QueueAttributeName| {
            out.attributes()
                .and_then(|a| a.get(&name))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (
            get(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages),
            get(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }

    /// Sets a store's configuration (trigger policy, service rules) in the stores table.
    pub async fn configure_store(&self, channel: Channel, store: &str, config: Value) {
        let config: StoreConfig = serde_json::from_value(config).expect("a valid store config");
        self.stores()
            .stores
            .put(channel, store, &config)
            .await
            .expect("store config written");
    }

    /// Stores a secret under the stack's prefix (`name` like "woocommerce/shop").
    pub async fn put_secret(&self, name: &str, value: Value) {
        local_runtime::secrets::put_secret(&self.sdk, &format!("{}{name}", self.prefix), &value)
            .await
            .expect("secret stored");
    }

    /// Posts a raw webhook to `/webhooks/{channel}/{store}` with the given headers.
    pub async fn post_raw(
        &self,
        channel: &str,
        store: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!(
                "{}/webhooks/{channel}/{store}",
                self.runtime.http_url
            ))
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("HTTP API answers");
        let status = response.status().as_u16();
        let answer = response.json().await.unwrap_or(Value::Null);
        (status, answer)
    }

    /// Moves a sandbox task `steps` statuses on, as its driver would (created → assigned →
    /// picked_up → out_for_delivery → delivered).
    pub async fn advance_task(&self, task_id: &str, steps: usize) {
        for _ in 0..steps {
            let response = self
                .http
                .post(format!(
                    "{}/v1/tasks/{task_id}/advance",
                    self.sandbox.base_url()
                ))
                .bearer_auth("sbx_test_key")
                .send()
                .await
                .expect("sandbox answers");
            assert!(
                response.status().is_success(),
                "advance {task_id}: {}",
                response.status()
            );
        }
    }

    /// One driver step with an outcome (`{"outcome": "failed", "reason": …}`, or
    /// `{"cod_collected_minor": …}` on the step to delivered).
    pub async fn advance_task_with(&self, task_id: &str, body: Value) {
        let response = self
            .http
            .post(format!(
                "{}/v1/tasks/{task_id}/advance",
                self.sandbox.base_url()
            ))
            .bearer_auth("sbx_test_key")
            .json(&body)
            .send()
            .await
            .expect("sandbox answers");
        assert!(
            response.status().is_success(),
            "advance {task_id} with {body}: {}",
            response.status()
        );
    }

    /// The shipment as stored now.
    pub async fn shipment(&self, key: &domain::ShipmentKey) -> domain::ShipmentRecord {
        self.stores()
            .shipments
            .get(key)
            .await
            .expect("shipments readable")
            .expect("the shipment exists")
    }

    /// Posts `paid_order(id)` as Shopify's `topic` and waits for its courier task and the
    /// shipment to be Created: the start of every page journey.
    pub async fn order_with_task(
        &self,
        id: u64,
        topic: &str,
        webhook_id: &str,
    ) -> (domain::ShipmentKey, sandbox::CourierTaskView) {
        let (status, _, _) = self
            .deliver(topic, webhook_id, paid_order(id).to_string().as_bytes())
            .await;
        assert_eq!(status, 200);
        let key = domain::ShipmentKey::new(Channel::Shopify, STORE, &id.to_string(), "1");
        let task = self.task_for(&key.to_string()).await;
        self.wait_for_status(&key, domain::ShipmentStatus::Created)
            .await;
        (key, task)
    }

    /// Waits until the shipment is in `status`.
    pub async fn wait_for_status(
        &self,
        key: &domain::ShipmentKey,
        status: domain::ShipmentStatus,
    ) -> domain::ShipmentRecord {
        wait_for(
            &format!("{key} {status}"),
            Duration::from_secs(40),
            || async {
                let record = self.shipment(key).await;
                (record.status == status).then_some(record)
            },
        )
        .await
    }

    /// The link to the stack's tracking page in the shipment's tracking message, once the
    /// message is composed.
    pub async fn tracking_link(&self, key: &domain::ShipmentKey) -> String {
        wait_for(
            &format!("the tracking message of {key}"),
            Duration::from_secs(40),
            || async {
                local_runtime::demo::tracking_page_link(self.stores(), &self.runtime.http_url, key)
                    .await
                    .expect("the outbox readable")
            },
        )
        .await
    }

    /// The link to the stack's fix-my-address page in the shipment's clarification
    /// request, once the request is composed.
    pub async fn fix_address_link(&self, key: &domain::ShipmentKey) -> String {
        wait_for(
            &format!("the clarification request of {key}"),
            Duration::from_secs(40),
            || async {
                local_runtime::demo::customer_page_link(
                    self.stores(),
                    &self.runtime.http_url,
                    key,
                    "address_clarification",
                    domain::ports::CustomerPage::FixAddress,
                )
                .await
                .expect("the outbox readable")
            },
        )
        .await
    }

    /// The sandbox task carrying `reference` (a shipment key), once it exists.
    pub async fn task_for(&self, reference: &str) -> sandbox::CourierTaskView {
        wait_for(
            &format!("a task for {reference}"),
            Duration::from_secs(30),
            || async {
                self.sandbox
                    .tasks()
                    .into_iter()
                    .find(|t| t.reference == reference)
            },
        )
        .await
    }

    /// The open review items with `code` among their reasons.
    pub async fn open_reviews(&self, code: &str) -> Vec<domain::ReviewItem> {
        self.stores()
            .reviews
            .all()
            .await
            .expect("reviews readable")
            .into_iter()
            .filter(|i| i.status == "open" && i.reasons.iter().any(|r| r.code() == code))
            .collect()
    }

    pub async fn stop(self) {
        self.runtime.stop_and_teardown().await.expect("teardown");
        self.sandbox.shutdown().await;
    }
}

/// Polls `check` until it returns `Some`, failing the test with `what` after `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A complete, valid prepaid order (paid) shipping to Berlin.
pub use local_runtime::demo::paid_order;
