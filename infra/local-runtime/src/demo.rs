//! `make demo`: real published sample orders of every channel through the whole local
//! loop: API Gateway (or Amazon's notifications queue) → intake → normalize → create-task
//! (sandbox courier) → status-sync (the sandbox's fake Shopify, WooCommerce and SP-API
//! stores), then each shipment's task, tracking and status, the review inbox, and one
//! order's audit trail.
//!
//! The first delivery is Shopify's published sample, byte for byte, with its published
//! signature and secret. The others are that same sample as a store would send it at later
//! moments (paid; paid with a dialable phone; cash on delivery, confirmed), each change
//! named in the output; then WooCommerce's published order (as it is, and as a COD order
//! with a dialable phone), the generic API's two-parcel example, and Amazon's published
//! ORDER_CHANGE notification with its sandbox order and address.

use crate::runtime::{LocalRuntime, RuntimeError, RuntimeOptions};
use crate::secrets::{put_secret, SeedError};
use aws::stack::StackStores;
use aws_config::SdkConfig;
use domain::cod::{CourierId, Handover};
use domain::ports::{
    AuditTrail, CashBook, CustomerPage, Outbox, ReportShelf, ReviewInbox, ShipmentStore,
};
use domain::{Channel, Money, ShipmentKey, ShipmentStatus};
use sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

/// Shopify's published sample order and the signature triple that goes with it (see
/// tests/fixtures/SOURCES.md).
pub const SAMPLE_ORDER: &[u8] =
    include_bytes!("../../../tests/fixtures/shopify/orders_create_laravel-shopify_webhook.json");
pub const SAMPLE_ORDER_HMAC: &str =
    include_str!("../../../tests/fixtures/shopify/orders_create_laravel-shopify_webhook.hmac.json");
const WOO_ORDER: &[u8] =
    include_bytes!("../../../tests/fixtures/woocommerce/order_wp-api-v3_docs_create_response.json");
const API_ORDER: &[u8] =
    include_bytes!("../../../docs/api/examples/order.created.prepaid-two-shipments.json");
const AMAZON_NOTIFICATION: &[u8] =
    include_bytes!("../../../tests/fixtures/amazon/ORDER_CHANGE_notification_example.json");
const AMAZON_ORDER: &[u8] =
    include_bytes!("../../../tests/fixtures/amazon/getOrder_sandbox_TEST_CASE_200.json");
const AMAZON_ADDRESS: &[u8] =
    include_bytes!("../../../tests/fixtures/amazon/getOrderAddress_sandbox_TEST_CASE_200.json");
const WOO_STORE: &str = "demo-woo";
const API_STORE: &str = "demo-api";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error("sandbox: {0}")]
    Sandbox(#[from] std::io::Error),
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("AWS: {0}")]
    Aws(#[from] domain::StorageError),
    #[error("fixture: {0}")]
    Fixture(String),
    #[error("console user: {0}")]
    ConsoleUser(String),
    #[error("courier-bridge {command}: {error}")]
    Cli {
        command: &'static str,
        error: cli::CliError,
    },
    #[error("the loop did not settle within {0:?}: {1}")]
    Timeout(Duration, String),
}

/// A store the demo plays: its name in the webhook URL and its webhook secret.
pub struct DemoStore {
    pub name: String,
    pub secret: String,
}

/// One webhook delivery the demo makes.
pub struct Delivery {
    pub label: String,
    pub store: String,
    pub topic: String,
    pub webhook_id: String,
    pub body: Vec<u8>,
    pub signature: String,
}

/// Signs and posts a Shopify webhook to the local HTTP API, as Shopify would.
pub async fn post_webhook(
    http: &reqwest::Client,
    base_url: &str,
    delivery: &Delivery,
) -> Result<(u16, Value), reqwest::Error> {
    let response = http
        .post(format!("{base_url}/webhooks/shopify/{}", delivery.store))
        .header("Content-Type", "application/json")
        .header("X-Shopify-Topic", &delivery.topic)
        .header("X-Shopify-Webhook-Id", &delivery.webhook_id)
        .header("X-Shopify-Hmac-Sha256", &delivery.signature)
        .header(
            "X-Shopify-Shop-Domain",
            format!("{}.myshopify.com", delivery.store),
        )
        .header("X-Shopify-Triggered-At", domain::clock::rfc3339_now())
        .header(
            "X-Shopify-API-Version",
            partners::stores::shopify::ADMIN_API_VERSION,
        )
        .body(delivery.body.clone())
        .send()
        .await?;
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// Dispatch places addresses that came without coordinates, and gets travel times by road,
/// from the sandbox's fakes of Amazon Location's Places and Routes APIs at `sandbox_url`.
pub fn use_sandbox_location(options: &mut RuntimeOptions, sandbox_url: &str) {
    for (name, value) in [
        ("GEOCODER", "amazon-location"),
        ("GEO_PLACES_ENDPOINT", sandbox_url),
        ("ROAD_ROUTER", "amazon-location"),
        ("GEO_ROUTES_ENDPOINT", sandbox_url),
    ] {
        options.env_overrides.insert(name.into(), value.into());
    }
}

/// Posts a signed webhook of another channel with its own headers.
async fn post_channel(
    http: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, Value), reqwest::Error> {
    let mut request = http
        .post(url)
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// Stores a Shopify store's credentials (webhook secret, Admin API token and URL) under the
/// stack's secrets prefix.
pub async fn seed_store(
    sdk: &SdkConfig,
    prefix: &str,
    store: &DemoStore,
    admin_url: &str,
    token: &str,
) -> Result<(), SeedError> {
    let value = json!({
        "webhook_secret": store.secret,
        "admin_access_token": token,
        "admin_api_base_url": admin_url,
    });
    put_secret(sdk, &format!("{prefix}shopify/{}", store.name), &value).await
}

/// A WooCommerce store at the sandbox's fake REST API: its webhook secret and REST key.
pub async fn seed_woocommerce(
    sdk: &SdkConfig,
    prefix: &str,
    store: &str,
    webhook_secret: &str,
    site_url: &str,
) -> Result<(), SeedError> {
    put_secret(
        sdk,
        &format!("{prefix}woocommerce/{store}"),
        &json!({
            "webhook_secret": webhook_secret, "site_url": site_url,
            "consumer_key": sandbox::WOOCOMMERCE_CONSUMER_KEY,
            "consumer_secret": sandbox::WOOCOMMERCE_CONSUMER_SECRET,
        }),
    )
    .await
}

/// A custom store on the generic API: the secret its events are signed with.
pub async fn seed_api(
    sdk: &SdkConfig,
    prefix: &str,
    store: &str,
    signing_secret: &str,
) -> Result<(), SeedError> {
    put_secret(
        sdk,
        &format!("{prefix}api/{store}"),
        &json!({ "signing_secret": signing_secret }),
    )
    .await
}

/// The sandbox courier's API key and the secret its status webhooks are signed with.
pub async fn seed_courier(
    sdk: &SdkConfig,
    prefix: &str,
    base_url: &str,
    api_key: &str,
    webhook_secret: &str,
) -> Result<(), SeedError> {
    put_secret(
        sdk,
        &format!("{prefix}courier/sandbox"),
        &json!({ "base_url": base_url, "api_key": api_key, "webhook_secret": webhook_secret }),
    )
    .await
}

/// Customer SMS and WhatsApp through the sandbox's Twilio-compatible API.
pub async fn seed_notifications(
    sdk: &SdkConfig,
    prefix: &str,
    sandbox_url: &str,
) -> Result<(), SeedError> {
    put_secret(
        sdk,
        &format!("{prefix}notify/twilio"),
        &json!({
            "account_sid": sandbox::TWILIO_ACCOUNT_SID,
            "auth_token": sandbox::TWILIO_AUTH_TOKEN,
            "sms_from": LOCAL_SMS_SENDER,
            "whatsapp_from": LOCAL_SMS_SENDER,
            "base_url": sandbox_url,
        }),
    )
    .await
}

/// Stores a fresh key for the customers' signed links (`{prefix}links`), as
/// `courier-bridge links rotate` does on a stack without one; returns the secret, so a
/// caller can sign links the stack's pages accept.
pub async fn seed_links(sdk: &SdkConfig, prefix: &str) -> Result<links::LinkSecret, SeedError> {
    let key: [u8; 32] = rand::random();
    let secret = links::LinkSecret::first(&key);
    put_secret(
        sdk,
        &format!("{prefix}{}", links::SECRET_NAME),
        &json!(secret),
    )
    .await?;
    Ok(secret)
}

/// The link to the stack's tracking page in `shipment`'s tracking message, once the
/// message is in the outbox and carries one (pages served at `pages_url`).
pub async fn tracking_page_link(
    stores: &StackStores,
    pages_url: &str,
    shipment: &ShipmentKey,
) -> Result<Option<String>, domain::StorageError> {
    customer_page_link(
        stores,
        pages_url,
        shipment,
        "tracking_link",
        CustomerPage::Track,
    )
    .await
}

/// The link to the stack's `page` in `shipment`'s message of `template` ("tracking_link",
/// "address_clarification"), once it is in the outbox and carries one.
pub async fn customer_page_link(
    stores: &StackStores,
    pages_url: &str,
    shipment: &ShipmentKey,
    template: &str,
    page: CustomerPage,
) -> Result<Option<String>, domain::StorageError> {
    let id = domain::notify::OutboxEntry::id_for(&shipment.to_string(), template);
    let Some(message) = stores.outbox.get(&id).await? else {
        return Ok(None);
    };
    let base = format!("{pages_url}/{}/", page.path());
    Ok(message.body.find(&base).map(|start| {
        message.body[start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect()
    }))
}

/// The console's documented local user: `make demo` creates it in the stack's user pool
/// (the emulator's Cognito) and prints where to sign in with it.
pub const CONSOLE_USER: &str = "dispatcher";
pub const CONSOLE_PASSWORD: &str = "Demo-dispatcher-2026";

/// Creates `user` with a permanent `password` in the stack's console user pool, in `group`
/// (viewer, dispatcher or admin). Idempotent: an existing user gets the password again.
pub async fn add_console_user(
    sdk: &SdkConfig,
    runtime: &LocalRuntime,
    user: &str,
    password: &str,
    group: &str,
) -> Result<(), DemoError> {
    let pool = runtime
        .stack
        .user_pools
        .get("ConsoleUserPool")
        .ok_or_else(|| DemoError::ConsoleUser("the template has no ConsoleUserPool".into()))?;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(sdk);
    let failed = |operation: &str, e: &dyn std::fmt::Display| {
        DemoError::ConsoleUser(format!("{operation} {user}: {e}"))
    };
    match cognito
        .admin_create_user()
        .user_pool_id(&pool.id)
        .username(user)
        .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_username_exists_exception()) => {}
        Err(e) => {
            return Err(failed(
                "AdminCreateUser",
                &aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(&e),
            ))
        }
    }
    cognito
        .admin_set_user_password()
        .user_pool_id(&pool.id)
        .username(user)
        .password(password)
        .permanent(true)
        .send()
        .await
        .map_err(|e| {
            failed(
                "AdminSetUserPassword",
                &aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(&e),
            )
        })?;
    cognito
        .admin_add_user_to_group()
        .user_pool_id(&pool.id)
        .username(user)
        .group_name(group)
        .send()
        .await
        .map_err(|e| {
            failed(
                "AdminAddUserToGroup",
                &aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(&e),
            )
        })?;
    Ok(())
}

/// The number local customer SMS come from (Twilio's test "valid From" number).
pub const LOCAL_SMS_SENDER: &str = "+15005550006";

/// Connects the sandbox courier's status webhooks to the local webhook route.
pub fn connect_courier_webhooks(sandbox: &Sandbox, runtime: &LocalRuntime, secret: &str) {
    sandbox.set_webhook(
        format!("{}/webhooks/courier/sandbox", runtime.http_url),
        secret,
    );
}

/// Shows a contact with only its end, as logs do.
fn mask_contact(to: &str) -> String {
    let keep: String = to
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{keep}")
}

/// The demo's fleet: the sandbox's three drivers out of a depot in Berlin-Mitte, serving a
/// zone around the city.
const DEMO_FLEET: &str = r#"{
  "time_zone": "Europe/Berlin",
  "courier": "sandbox",
  "service_minutes": 4,
  "zones": [{"name": "berlin", "polygon": {"type": "Polygon",
    "coordinates": [[[13.08, 52.33], [13.77, 52.33], [13.77, 52.68], [13.08, 52.68], [13.08, 52.33]]]}}],
  "drivers": [
    {"id": "drv_01", "name": "Asha", "vehicle": "bicycle", "capacity": {"pieces": 12},
     "skills": ["carries_cash"], "shift": {"start": "00:00", "end": "23:59"},
     "start": {"lat": 52.529, "lon": 13.401}, "end": {"lat": 52.529, "lon": 13.401}, "zones": ["berlin"]},
    {"id": "drv_02", "name": "Ben", "vehicle": "van", "skills": ["carries_cash", "oversized"],
     "shift": {"start": "00:00", "end": "23:59"},
     "start": {"lat": 52.529, "lon": 13.401}, "zones": ["berlin"]},
    {"id": "drv_03", "name": "Chidi", "vehicle": "scooter", "capacity": {"pieces": 8},
     "shift": {"start": "00:00", "end": "23:59"},
     "start": {"lat": 52.529, "lon": 13.401}, "zones": ["berlin"]}
  ]
}"#;

/// The sandbox's drivers deliver every task, step by step (the last one fails and goes
/// back), and their webhooks come back through intake to status-sync.
async fn drivers_day(
    stores: &StackStores,
    sandbox: &Sandbox,
    http: &reqwest::Client,
    courier_key: &str,
    keys: &[ShipmentKey],
    out: &mut impl Write,
) -> Result<(), DemoError> {
    writeln!(
        out,
        "\nThe drivers' day (each step a signed webhook from the sandbox courier):"
    )
    .ok();
    let tasks = sandbox.tasks();
    for (i, key) in keys.iter().enumerate() {
        let Some(task) = tasks.iter().find(|t| t.reference == key.to_string()) else {
            continue;
        };
        let fails = i + 1 == keys.len();
        let steps: Vec<(Value, ShipmentStatus)> = if fails {
            vec![
                (Value::Null, ShipmentStatus::Assigned),
                (Value::Null, ShipmentStatus::PickedUp),
                (Value::Null, ShipmentStatus::OutForDelivery),
                (
                    json!({"outcome": "failed", "reason": "recipient_absent"}),
                    ShipmentStatus::Failed,
                ),
                (Value::Null, ShipmentStatus::Returned),
            ]
        } else {
            vec![
                (Value::Null, ShipmentStatus::Assigned),
                (Value::Null, ShipmentStatus::PickedUp),
                (Value::Null, ShipmentStatus::OutForDelivery),
                (Value::Null, ShipmentStatus::Delivered),
            ]
        };
        // A task dispatch gave a driver is assigned already.
        let skip = usize::from(task.status == "assigned");
        for (body, status) in steps.into_iter().skip(skip) {
            let mut request = http
                .post(format!(
                    "{}/v1/tasks/{}/advance",
                    sandbox.base_url(),
                    task.id
                ))
                .bearer_auth(courier_key);
            if !body.is_null() {
                request = request.json(&body);
            }
            let answer = request.send().await?;
            if !answer.status().is_success() {
                return Err(DemoError::Fixture(format!(
                    "the sandbox refused to advance {}: {}",
                    task.id,
                    answer.status()
                )));
            }
            let started = Instant::now();
            loop {
                let now = stores.shipments.get(key).await?.map(|r| r.status);
                if now == Some(status) {
                    break;
                }
                if started.elapsed() > Duration::from_secs(30) {
                    return Err(DemoError::Timeout(
                        Duration::from_secs(30),
                        format!("{key} never became {status}"),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        writeln!(
            out,
            "  {key}: {}",
            if fails {
                "failed (nobody home), returned"
            } else {
                "delivered"
            }
        )
        .ok();
    }
    // Let the last write-backs and messages finish before the summary reads them.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let pending = stores
            .outbox
            .all()
            .await?
            .iter()
            .any(|m| !m.state.is_final());
        if !pending {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

fn random_token(prefix: &str) -> String {
    format!("{prefix}{:024x}", rand::random::<u128>() >> 32)
}

fn variant(sample: &Value, id: u64, edits: &[(&str, Value)]) -> Value {
    let mut order = sample.clone();
    order["id"] = json!(id);
    for (pointer, value) in edits {
        if let Some(slot) = order.pointer_mut(pointer) {
            *slot = value.clone();
        }
    }
    order
}

/// One demo run: its stack, the sandbox courier and stores it talks to, and the
/// credentials it seeded.
struct Demo<'a> {
    sdk: &'a SdkConfig,
    started: Instant,
    run_id: String,
    stack_name: String,
    prefix: String,
    courier_key: String,
    sandbox: Sandbox,
    runtime: LocalRuntime,
    stores: std::sync::Arc<StackStores>,
    http: reqwest::Client,
    /// The store that sends Shopify's published sample with its published signature.
    sample_store: DemoStore,
    /// The store that sends the sample as a store would send it later.
    demo_store: DemoStore,
}

pub async fn run(sdk: &SdkConfig, out: &mut impl Write) -> Result<(), DemoError> {
    let demo = Demo::start(sdk).await?;
    demo.print_header(out);
    let sample: Value =
        serde_json::from_slice(SAMPLE_ORDER).map_err(|e| DemoError::Fixture(e.to_string()))?;
    let sample_id = sample["id"]
        .as_u64()
        .ok_or_else(|| DemoError::Fixture("sample id is not a u64".into()))?;
    demo.shopify_deliveries(&sample, sample_id, out).await?;
    let mut expected: Vec<ShipmentKey> = [sample_id + 1, sample_id + 2]
        .iter()
        .map(|id| ShipmentKey::new(Channel::Shopify, "demo-store", &id.to_string(), "1"))
        .collect();
    expected.extend(demo.other_channels(out).await?);
    // The published sample itself has no dialable phone: it ends as a review item.
    let review_id = format!("review:shopify:demo-store:{sample_id}:1");
    demo.await_tracking(&expected, &review_id).await?;
    drivers_day(
        &demo.stores,
        &demo.sandbox,
        &demo.http,
        &demo.courier_key,
        &expected,
        out,
    )
    .await?;
    demo.dispatch_day(out).await?;
    print_shipments(&demo.stores, &expected, out).await?;
    cash_on_delivery(&demo.runtime, &demo.stores, &expected, out).await?;
    print_messages(&demo.stores, demo.sandbox.sms_messages().len(), out).await?;
    print_reviews(&demo.stores, out).await?;
    print_audit_trail(&demo.stores, &expected[0], out).await?;
    demo.tracking_page(&expected[0], out).await?;
    demo.console(out).await?;
    demo.connect_and_doctor(out).await?;
    demo.finish(out).await
}

impl<'a> Demo<'a> {
    /// The sandbox, the stack from template.yaml, and every credential the loop needs.
    async fn start(sdk: &'a SdkConfig) -> Result<Demo<'a>, DemoError> {
        let started = Instant::now();
        let run_id = format!("{:08x}", rand::random::<u32>());
        let stack_name = format!("demo-{run_id}");
        let prefix = format!("{stack_name}/");
        let courier_key = random_token("sbx_");
        let store_token = random_token("shpat_");
        let sandbox = Sandbox::start(
            ([127, 0, 0, 1], 0).into(),
            SandboxConfig {
                courier_api_key: courier_key.clone(),
                shopify_access_token: store_token.clone(),
            },
        )
        .await?;
        let mut options = RuntimeOptions::new(&stack_name);
        options
            .parameter_overrides
            .insert("SecretsPrefix".into(), prefix.clone());
        use_sandbox_location(&mut options, &sandbox.base_url());
        let runtime = LocalRuntime::start(sdk, options).await?;

        let triple: Value = serde_json::from_str(SAMPLE_ORDER_HMAC)
            .map_err(|e| DemoError::Fixture(e.to_string()))?;
        let sample_store = DemoStore {
            name: "laravel-sample".into(),
            secret: triple["secret"].as_str().unwrap_or_default().to_owned(),
        };
        let demo_store = DemoStore {
            name: "demo-store".into(),
            secret: random_token("whsec_"),
        };
        for store in [&sample_store, &demo_store] {
            seed_store(sdk, &prefix, store, &sandbox.base_url(), &store_token).await?;
        }
        let courier_webhook_secret = random_token("whsec_");
        seed_courier(
            sdk,
            &prefix,
            &sandbox.base_url(),
            &courier_key,
            &courier_webhook_secret,
        )
        .await?;
        seed_notifications(sdk, &prefix, &sandbox.base_url()).await?;
        seed_links(sdk, &prefix).await?;
        connect_courier_webhooks(&sandbox, &runtime, &courier_webhook_secret);
        Ok(Demo {
            sdk,
            started,
            run_id,
            stack_name,
            prefix,
            courier_key,
            stores: runtime.stores().clone(),
            sandbox,
            runtime,
            http: reqwest::Client::new(),
            sample_store,
            demo_store,
        })
    }

    fn print_header(&self, out: &mut impl Write) {
        let lines = [
            "courier-bridge demo: published sample orders of every channel through the whole local loop".to_owned(),
            format!(
                "  AWS emulator     {}",
                self.sdk.endpoint_url().unwrap_or("(AWS default endpoint)")
            ),
            format!(
                "  stack            {} (tables and queues from template.yaml)",
                self.stack_name
            ),
            format!(
                "  webhooks         {}/webhooks/{{shopify|woocommerce|api}}/{{store}}, …/courier/{{sandbox|onfleet}}",
                self.runtime.http_url
            ),
            format!(
                "  sandbox courier  {}/v1/tasks   (and fake Shopify, WooCommerce and SP-API stores)\n",
                self.sandbox.base_url()
            ),
        ];
        for line in lines {
            writeln!(out, "{line}").ok();
        }
    }

    /// Shopify's published sample, then the same order as a store sends it later (paid;
    /// paid with a dialable phone; a retry; as an update; cash on delivery), and a forgery.
    async fn shopify_deliveries(
        &self,
        sample: &Value,
        sample_id: u64,
        out: &mut impl Write,
    ) -> Result<(), DemoError> {
        let triple: Value = serde_json::from_str(SAMPLE_ORDER_HMAC)
            .map_err(|e| DemoError::Fixture(e.to_string()))?;
        let paid = [
            ("/financial_status", json!("paid")),
            ("/cancelled_at", Value::Null),
            ("/cancel_reason", Value::Null),
        ];
        let dialable = [
            ("/shipping_address/phone", json!("+1 502-555-0147")),
            ("/shipping_address/zip", json!("40202")),
            ("/shipping_address/city", json!("Louisville")),
        ];
        let as_paid = variant(sample, sample_id, &paid);
        let paid_ok = variant(sample, sample_id + 1, &[&paid[..], &dialable[..]].concat());
        let cod_ok = variant(
            sample,
            sample_id + 2,
            &[
                &paid[..],
                &dialable[..],
                &[
                    ("/financial_status", json!("pending")),
                    ("/confirmed", json!(true)),
                    ("/payment_gateway_names", json!(["Cash on Delivery (COD)"])),
                ][..],
            ]
            .concat(),
        );
        let sign = |store: &DemoStore, body: &[u8]| {
            channels::signature::sign_base64_hmac_sha256(store.secret.as_bytes(), body)
        };
        let delivery =
            |label: &str, store: &DemoStore, topic: &str, id: &str, body: Vec<u8>| Delivery {
                label: label.to_owned(),
                store: store.name.clone(),
                topic: topic.to_owned(),
                webhook_id: format!("{}-{id}", self.run_id),
                signature: sign(store, &body),
                body,
            };
        let bytes = |v: &Value| v.to_string().into_bytes();
        let demo_store = &self.demo_store;
        let mut forged = delivery(
            "forged signature",
            demo_store,
            "orders/paid",
            "w6",
            bytes(&paid_ok),
        );
        forged.signature = sign(
            &DemoStore {
                name: String::new(),
                secret: "not-the-secret".into(),
            },
            &forged.body,
        );
        let deliveries = [
            Delivery {
                label: "published sample, published HMAC".into(),
                store: self.sample_store.name.clone(),
                topic: "orders/create".into(),
                webhook_id: format!("{}-w1", self.run_id),
                body: SAMPLE_ORDER.to_vec(),
                signature: triple["hmac"].as_str().unwrap_or_default().to_owned(),
            },
            delivery(
                "sample, now paid",
                demo_store,
                "orders/paid",
                "w2",
                bytes(&as_paid),
            ),
            delivery(
                "sample, paid, dialable phone + ZIP",
                demo_store,
                "orders/paid",
                "w3",
                bytes(&paid_ok),
            ),
            delivery(
                "  same webhook again (Shopify retry)",
                demo_store,
                "orders/paid",
                "w3",
                bytes(&paid_ok),
            ),
            delivery(
                "  same order as orders/updated",
                demo_store,
                "orders/updated",
                "w4",
                bytes(&paid_ok),
            ),
            delivery(
                "sample, cash on delivery, confirmed",
                demo_store,
                "orders/create",
                "w5",
                bytes(&cod_ok),
            ),
            forged,
        ];
        writeln!(
            out,
            "Deliveries (what the channel sends, what intake answers):"
        )
        .ok();
        for d in &deliveries {
            let (status, body) = post_webhook(&self.http, &self.runtime.http_url, d).await?;
            let answer = body["status"]
                .as_str()
                .or(body["error"].as_str())
                .unwrap_or("");
            writeln!(
                out,
                "  {:<40} {:<15} -> {status} {answer}",
                d.label, d.topic
            )
            .ok();
        }
        Ok(())
    }

    /// Waits until every expected shipment's tracking is back at its store and the
    /// sample's review item is open.
    async fn await_tracking(
        &self,
        expected: &[ShipmentKey],
        review_id: &str,
    ) -> Result<(), DemoError> {
        let deadline = Duration::from_secs(90);
        loop {
            let mut settled = self.stores.reviews.get(review_id).await?.is_some();
            for key in expected {
                let written = self
                    .stores
                    .shipments
                    .get(key)
                    .await?
                    .and_then(|r| r.tracking_written_back);
                settled &= written.is_some();
            }
            if settled {
                return Ok(());
            }
            if self.started.elapsed() > deadline {
                return Err(DemoError::Timeout(
                    deadline,
                    "shipments without tracking written back".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// An afternoon's Berlin orders planned into routes: the fleet is stored, seven paid
    /// orders come in (one without coordinates, placed by the geocoder fake), and dispatch
    /// gives each driver their route at the sandbox courier.
    async fn dispatch_day(&self, out: &mut impl Write) -> Result<(), DemoError> {
        let fleet = domain::dispatch::Fleet::from_json(DEMO_FLEET)
            .map_err(|e| DemoError::Fixture(format!("the demo fleet: {e}")))?;
        let Some(dispatch) = &self.stores.dispatch else {
            return Ok(());
        };
        domain::ports::FleetStore::put(dispatch, &fleet, "demo dispatcher").await?;
        let today =
            domain::dispatch::PlanDay::containing(domain::clock::now_ms(), &fleet.time_zone)
                .map_err(|e| DemoError::Fixture(e.to_string()))?
                .day();
        writeln!(
            out,
            "\nDispatch: seven Berlin orders, planned for {today} \
             (`courier-bridge dispatch plan --day {today}`):"
        )
        .ok();
        let places: [(Option<(f64, f64)>, &str); 7] = [
            (Some((52.5412, 13.4127)), "10437"),
            (Some((52.5487, 13.3880)), "13357"),
            (Some((52.5003, 13.4235)), "10999"),
            (Some((52.4895, 13.3890)), "10961"),
            (Some((52.5163, 13.3777)), "10117"),
            (Some((52.5306, 13.3622)), "10557"),
            (None, "10119"),
        ];
        let mut keys = Vec::new();
        for (i, (at, zip)) in places.iter().enumerate() {
            let id = 7_700_001 + i as u64;
            let mut order = paid_order(id);
            order["shipping_address"]["zip"] = json!(zip);
            if let Some((lat, lon)) = at {
                order["shipping_address"]["latitude"] = json!(lat);
                order["shipping_address"]["longitude"] = json!(lon);
            }
            let body = order.to_string().into_bytes();
            let delivery = Delivery {
                label: format!("Berlin order {i}"),
                store: self.demo_store.name.clone(),
                topic: "orders/paid".into(),
                webhook_id: format!("{}-berlin-{i}", self.run_id),
                signature: channels::signature::sign_base64_hmac_sha256(
                    self.demo_store.secret.as_bytes(),
                    &body,
                ),
                body,
            };
            post_webhook(&self.http, &self.runtime.http_url, &delivery).await?;
            keys.push(ShipmentKey::new(
                Channel::Shopify,
                &self.demo_store.name,
                &id.to_string(),
                "1",
            ));
        }
        let started = Instant::now();
        for key in &keys {
            while self
                .stores
                .shipments
                .get(key)
                .await?
                .and_then(|r| r.task)
                .is_none()
            {
                if started.elapsed() > Duration::from_secs(60) {
                    return Err(DemoError::Timeout(
                        Duration::from_secs(60),
                        format!("{key} has no task"),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        match self.runtime.dispatch(&today, "demo dispatcher").await {
            Ok(dispatch_function::DispatchReport::Applied {
                plan,
                routes,
                stops,
                unplanned,
                distance_m,
                ..
            }) => {
                let left_out = match unplanned {
                    0 => String::new(),
                    n => format!("; {n} left out, each a review item"),
                };
                writeln!(
                    out,
                    "  plan {plan}: {stops} stops on {routes} route(s), {:.1} km{left_out}",
                    distance_m as f64 / 1000.
                )
                .ok();
                let plans = domain::ports::PlanStore::plans(dispatch, &today).await?;
                let Some(plan) = plans.iter().find(|p| p.id == plan) else {
                    return Ok(());
                };
                for route in &plan.routes {
                    let stops: Vec<String> = route
                        .stops
                        .iter()
                        .map(|s| {
                            format!(
                                "{} {}",
                                s.order_name.as_deref().unwrap_or("-"),
                                domain::dispatch::local_clock(s.eta_ms, &fleet.time_zone)
                            )
                        })
                        .collect();
                    writeln!(
                        out,
                        "    {} ({}, {:.1} km): {}",
                        route.driver,
                        route.vehicle.as_str(),
                        route.distance_m as f64 / 1000.,
                        stops.join(" → ")
                    )
                    .ok();
                }
                writeln!(
                    out,
                    "  travel times by road (the sandbox's fake of Amazon Location's route \
                     matrix); each route is at the sandbox courier (PUT /v1/drivers/{{id}}/route)"
                )
                .ok();
                if let Some(page) = self.stores.reports.get(&dispatch::page::key(plan)).await? {
                    let path = std::path::Path::new(".local").join(format!("plan-{today}.html"));
                    let written = std::fs::create_dir_all(".local")
                        .and_then(|()| std::fs::write(&path, page));
                    if written.is_ok() {
                        writeln!(out, "  the plan page (routes drawn): {}", path.display()).ok();
                    }
                }
            }
            Ok(other) => {
                writeln!(out, "  {other:?}").ok();
            }
            // Late at night the day is over: the loop goes on without a plan.
            Err(e) => {
                writeln!(out, "  not planned: {e}").ok();
            }
        }
        Ok(())
    }

    /// The page the customer's tracking message links to, opened as their phone would.
    async fn tracking_page(
        &self,
        key: &ShipmentKey,
        out: &mut impl Write,
    ) -> Result<(), DemoError> {
        let Some(link) = tracking_page_link(&self.stores, &self.runtime.http_url, key).await?
        else {
            return Ok(());
        };
        let response = self.http.get(&link).send().await?;
        let status = response.status();
        let page = response.text().await?;
        let path = std::path::Path::new(".local").join("tracking-page.html");
        let written = std::fs::create_dir_all(".local").and_then(|()| std::fs::write(&path, page));
        writeln!(
            out,
            "\nThe customer's tracking page (the signed link in their message, {status}):\n  {link}{}",
            if written.is_ok() {
                format!("\n  saved as {} (the link works while the demo runs)", path.display())
            } else {
                String::new()
            }
        )
        .ok();
        Ok(())
    }

    /// What the sandbox holds, then the stack and the sandbox are taken down.
    /// The console's local user, and where to sign in with it.
    async fn console(&self, out: &mut impl Write) -> Result<(), DemoError> {
        add_console_user(
            self.sdk,
            &self.runtime,
            CONSOLE_USER,
            CONSOLE_PASSWORD,
            "dispatcher",
        )
        .await?;
        writeln!(
            out,
            "\nThe dispatcher's console: {}/console — sign in as {CONSOLE_USER} with the \
             password {CONSOLE_PASSWORD} (the emulator's Cognito user pool).",
            self.runtime.http_url
        )
        .ok();
        Ok(())
    }

    /// A store joined with the operator's CLI (`courier-bridge connect`: the secret stored,
    /// the webhooks registered at the sandbox's WooCommerce, twice to show nothing doubles),
    /// then the stack's checklist (`courier-bridge doctor`) for it.
    async fn connect_and_doctor(&self, out: &mut impl Write) -> Result<(), DemoError> {
        let webhooks = format!("{}/webhooks", self.runtime.http_url);
        let site = self.sandbox.base_url();
        let run = |command: &'static str, args: Vec<&str>| {
            let mut argv = vec!["courier-bridge", "--stack", &self.stack_name];
            argv.extend(args);
            let argv: Vec<String> = argv.into_iter().map(str::to_owned).collect();
            async move {
                cli::run(argv)
                    .await
                    .map_err(|error| DemoError::Cli { command, error })
            }
        };
        let connect = vec![
            "connect",
            "woocommerce",
            "--store",
            "connected-shop",
            "--site",
            &site,
            "--consumer-key",
            sandbox::WOOCOMMERCE_CONSUMER_KEY,
            "--consumer-secret",
            sandbox::WOOCOMMERCE_CONSUMER_SECRET,
            "--webhook-url",
            &webhooks,
        ];
        writeln!(out, "\nA store connected with the CLI (courier-bridge connect woocommerce --store connected-shop ...):").ok();
        for line in run("connect", connect.clone()).await?.lines() {
            writeln!(out, "  {line}").ok();
        }
        writeln!(out, "Connected again: nothing doubles.").ok();
        for line in run("connect", connect).await?.lines() {
            writeln!(out, "  {line}").ok();
        }
        writeln!(
            out,
            "\nThe stack's checklist (courier-bridge doctor --store connected-shop):"
        )
        .ok();
        let report = match run(
            "doctor",
            vec![
                "doctor",
                "--store",
                "connected-shop",
                "--webhook-url",
                &webhooks,
            ],
        )
        .await
        {
            Ok(report) => report,
            // A fail is the doctor's answer, shown like any other.
            Err(DemoError::Cli {
                error: cli::CliError::Unhealthy(report),
                ..
            }) => report,
            Err(e) => return Err(e),
        };
        for line in report.lines() {
            writeln!(out, "  {line}").ok();
        }
        Ok(())
    }

    async fn finish(self, out: &mut impl Write) -> Result<(), DemoError> {
        let tasks = self.sandbox.tasks();
        let mut per_reference: BTreeMap<String, usize> = BTreeMap::new();
        for t in &tasks {
            *per_reference.entry(t.reference.clone()).or_default() += 1;
        }
        writeln!(
            out,
            "\nSandbox courier holds {} task(s) for {} reference(s); the stores show {} Shopify \
             fulfillment(s), {} WooCommerce note(s), {} Amazon shipment confirmation(s). Done in {:.1} s.",
            tasks.len(),
            per_reference.len(),
            self.sandbox.fulfillments().len(),
            self.sandbox.woocommerce_notes().len(),
            self.sandbox.amazon_confirmations().len(),
            self.started.elapsed().as_secs_f64()
        )
        .ok();
        // At a terminal the stack stays up for the pages and the console; in a script (CI,
        // the tests) the demo ends here.
        if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            writeln!(
                out,
                "The stack stays up for the pages and the console; Ctrl-C stops it."
            )
            .ok();
            out.flush().ok();
            tokio::signal::ctrl_c().await?;
        }
        self.runtime
            .stop_and_teardown()
            .await
            .map_err(RuntimeError::from)?;
        self.sandbox.shutdown().await;
        Ok(())
    }
}

/// Each shipment's task, tracking, status path, proof and money.
async fn print_shipments(
    stores: &StackStores,
    expected: &[ShipmentKey],
    out: &mut impl Write,
) -> Result<(), DemoError> {
    writeln!(
        out,
        "\nShipments (courier task, tracking, status, and what the store now shows):"
    )
    .ok();
    for key in expected {
        let Some(record) = stores.shipments.get(key).await? else {
            continue;
        };
        let shipment = &record.shipment;
        writeln!(
            out,
            "  {}  {}  ({} service)",
            key,
            shipment.order_name.clone().unwrap_or_default(),
            shipment.service
        )
        .ok();
        writeln!(
            out,
            "    recipient {} {}, {} {} {}",
            shipment.recipient.name,
            shipment
                .recipient
                .phone
                .as_ref()
                .map(|p| p.masked())
                .unwrap_or_else(|| "(no phone)".into()),
            shipment.address.street_line(),
            shipment.address.city,
            shipment.address.country_code
        )
        .ok();
        let Some(task) = &record.task else {
            continue;
        };
        let cod = shipment
            .payment
            .cod_amount()
            .map(|m| format!("COD {m}"))
            .unwrap_or_else(|| "prepaid".into());
        let path: Vec<String> = record
            .transitions
            .iter()
            .map(|(s, _)| s.to_string())
            .collect();
        let lines = [
            format!(
                "    task      {} at {} ({cod}, {} pieces)",
                task.task_id,
                record.courier.map(|c| c.as_str()).unwrap_or_default(),
                shipment.parcel.pieces
            ),
            format!(
                "    tracking  {}  {}",
                task.tracking_number,
                task.tracking_url.clone().unwrap_or_default()
            ),
            format!(
                "    status    {} (Created → {}); tracking written back to the {} store as {}",
                record.status,
                path.join(" → "),
                key.channel,
                record.tracking_written_back.clone().unwrap_or_default(),
            ),
        ];
        for line in lines {
            writeln!(out, "{line}").ok();
        }
        let facts = &record.delivery;
        if let Some(proof) = &facts.proof {
            writeln!(
                out,
                "    proof     signed by {}, {} photo(s), at {}",
                proof
                    .recipient_name
                    .clone()
                    .unwrap_or_else(|| "(no name)".into()),
                proof.photo_upload_ids.len(),
                proof
                    .location
                    .map(|l| format!("{:.4},{:.4}", l.lat, l.lng))
                    .unwrap_or_else(|| "(no place)".into())
            )
            .ok();
        }
        if let Some(failure) = &facts.failure {
            writeln!(
                out,
                "    failure   {}",
                failure.reason.clone().unwrap_or_default()
            )
            .ok();
        }
        let money = |m: &Option<Money>| m.map(|m| m.to_string()).unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "    money     delivery cost {}, COD collected {}",
            money(&facts.delivery_cost),
            money(&facts.cod_collected)
        )
        .ok();
    }
    Ok(())
}

async fn print_messages(
    stores: &StackStores,
    sms_at_sandbox: usize,
    out: &mut impl Write,
) -> Result<(), DemoError> {
    writeln!(
        out,
        "\nCustomer messages (outbox: each composed once, sent at most once):"
    )
    .ok();
    for m in stores.outbox.all().await? {
        let first_line = m.subject.clone().unwrap_or_else(|| m.body.clone());
        let first_line: String = first_line.chars().take(70).collect();
        writeln!(
            out,
            "  {:<8} {:<5} to {:<22} {:<22} {}",
            m.state.as_str(),
            m.channel.as_str(),
            mask_contact(&m.to),
            m.template,
            first_line
        )
        .ok();
    }
    writeln!(
        out,
        "  ({sms_at_sandbox} SMS at the sandbox's Twilio-compatible API; e-mail through SES in the emulator)"
    )
    .ok();
    Ok(())
}

async fn print_reviews(stores: &StackStores, out: &mut impl Write) -> Result<(), DemoError> {
    writeln!(
        out,
        "\nReview inbox (orders that need a person, never a wrong task):"
    )
    .ok();
    for item in stores.reviews.all().await? {
        let reasons: Vec<String> = item.reasons.iter().map(|r| r.to_string()).collect();
        writeln!(out, "  {}  [{}]", item.id, reasons.join("; ")).ok();
    }
    Ok(())
}

async fn print_audit_trail(
    stores: &StackStores,
    audited: &ShipmentKey,
    out: &mut impl Write,
) -> Result<(), DemoError> {
    writeln!(
        out,
        "\nAudit trail of order {} (one query on the by_order index):",
        audited.order_key()
    )
    .ok();
    for r in stores.inbound.by_order(&audited.order_key()).await? {
        writeln!(
            out,
            "  {}  {:<15} webhook {:<14} signature {}  duplicates {}  -> {}{}",
            r.received_at,
            r.topic,
            r.webhook_id,
            r.signature,
            r.duplicates,
            r.outcome.clone().unwrap_or_default(),
            r.task_id
                .map(|t| format!(" (created task {t})"))
                .unwrap_or_default()
        )
        .ok();
    }
    Ok(())
}

/// The day's cash: each driver hands over what it collected (the first one a note short),
/// as a dispatcher records with `courier-bridge cod handover`; then cod-reconcile runs for
/// today and the report is copied to `.local/` (the stack is torn down after the demo).
async fn cash_on_delivery(
    runtime: &LocalRuntime,
    stores: &StackStores,
    shipments: &[ShipmentKey],
    out: &mut impl Write,
) -> Result<(), DemoError> {
    // The fleet's local day, the day cod-reconcile counts in.
    let zone = stores.fleet_time_zone().await?;
    let today = domain::cod::run::day_of(domain::clock::now_ms(), zone.as_deref())
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let mut held: BTreeMap<(CourierId, &'static str), Money> = BTreeMap::new();
    for key in shipments {
        let Some(record) = stores.shipments.get(key).await? else {
            continue;
        };
        if let Some(cash) = record.delivery.cod_collected {
            let courier = CourierId::new(
                record.courier.map_or("unknown", |c| c.as_str()),
                record.delivery.driver.as_deref(),
            );
            held.entry((courier, cash.currency.code()))
                .or_insert(Money {
                    minor: 0,
                    currency: cash.currency,
                })
                .minor += cash.minor;
        }
    }
    writeln!(
        out,
        "\nCash on delivery, {today} (expected vs collected vs handed over):"
    )
    .ok();
    for (i, ((courier, _), collected)) in held.iter().enumerate() {
        // One driver is short by one note of 5 (in the currency's units): an exception.
        let short = if i == 0 {
            5 * 10_i64.pow(collected.currency.exponent())
        } else {
            0
        };
        let handover = Handover {
            courier: courier.clone(),
            receipt: format!("slip-{}", i + 1),
            amount: Money {
                minor: (collected.minor - short).max(0),
                currency: collected.currency,
            },
        };
        stores
            .cash
            .record_handover(today, &handover, "demo dispatcher")
            .await?;
        writeln!(
            out,
            "  dispatcher: {courier} hands over {} (receipt {})",
            handover.amount, handover.receipt
        )
        .ok();
    }
    let report = runtime.reconcile_cod(today).await?;
    let reconciliation = stores
        .cash_desk(zone.as_deref())
        .reconcile_day(today)
        .await
        .map_err(|e| DemoError::Fixture(e.to_string()))?;
    for l in &reconciliation.lines {
        writeln!(
            out,
            "  {:<18} {}  {} COD deliveries  expected {:>8}  collected {:>8}  handed over {:>8}  due {:>8}",
            l.courier.to_string(),
            l.currency,
            l.cod_deliveries,
            l.expected().decimal(),
            l.collected().decimal(),
            l.handed_over().decimal(),
            l.due().decimal()
        )
        .ok();
    }
    for e in &reconciliation.exceptions {
        writeln!(
            out,
            "  exception: {} — {} ({} expected {}, actual {})",
            e.kind,
            e.courier,
            e.order.as_deref().unwrap_or("the day's hand-over"),
            e.expected
                .map(|m| m.to_string())
                .unwrap_or_else(|| "-".into()),
            e.actual
                .map(|m| m.to_string())
                .unwrap_or_else(|| "-".into())
        )
        .ok();
    }
    for task in stores.cash.cash_outs(today).await? {
        writeln!(
            out,
            "  cash-out task: {} owes {} ({})",
            task.courier,
            task.due,
            if task.is_settled() { "settled" } else { "open" }
        )
        .ok();
    }
    let again = runtime.reconcile_cod(today).await?;
    writeln!(
        out,
        "  {:.0}% of {} COD shipment(s) matched; report {}; a re-run created {} task(s), left {} unchanged",
        report.accuracy_percent,
        report.shipments_checked,
        report.report_keys.join(", "),
        again.cash_outs_created,
        again.cash_outs_unchanged
    )
    .ok();
    let html_key = format!("{}report.html", domain::cod::run::report_prefix(today));
    if let Some(html) = stores.reports.get(&html_key).await? {
        let path = std::path::Path::new(".local").join(format!("cod-report-{today}.html"));
        let written = std::fs::create_dir_all(".local").and_then(|()| std::fs::write(&path, html));
        if written.is_ok() {
            writeln!(
                out,
                "  the HTML report (a chart per courier): {}",
                path.display()
            )
            .ok();
        }
    }
    Ok(())
}

/// WooCommerce, the generic API and Amazon: each channel's published sample through the
/// same stack. Returns the shipments that should end with their tracking written back.
impl Demo<'_> {
    async fn other_channels(&self, out: &mut impl Write) -> Result<Vec<ShipmentKey>, DemoError> {
        let (sdk, prefix, runtime, sandbox, http, run_id) = (
            self.sdk,
            self.prefix.as_str(),
            &self.runtime,
            &self.sandbox,
            &self.http,
            self.run_id.as_str(),
        );
        let fixture = |e: serde_json::Error| DemoError::Fixture(e.to_string());
        let base = sandbox.base_url();
        let woo_secret = random_token("wc_");
        let api_secret = random_token("cb_");
        seed_woocommerce(sdk, prefix, WOO_STORE, &woo_secret, &base).await?;
        seed_api(sdk, prefix, API_STORE, &api_secret).await?;

        let woo_url = format!("{}/webhooks/woocommerce/{WOO_STORE}", runtime.http_url);
        let api_url = format!("{}/webhooks/api/{API_STORE}", runtime.http_url);
        let mut cod: Value = serde_json::from_slice(WOO_ORDER).map_err(fixture)?;
        cod["id"] = json!(728);
        cod["payment_method"] = json!("cod");
        cod["billing"]["phone"] = json!("(415) 555-0132");
        let cod = cod.to_string().into_bytes();
        let woo = |label: &'static str, body: Vec<u8>, delivery: &str| {
            let signature =
                channels::signature::sign_base64_hmac_sha256(woo_secret.as_bytes(), &body);
            (
                label,
                woo_url.clone(),
                format!("{run_id}-{delivery}"),
                body,
                signature,
            )
        };
        let woo_deliveries = [
            woo(
                "WooCommerce published order, as it is",
                WOO_ORDER.to_vec(),
                "d1",
            ),
            woo("WooCommerce order, COD, dialable phone", cod, "d2"),
        ];
        for (label, url, delivery, body, signature) in &woo_deliveries {
            let headers = [
                ("X-WC-Webhook-Topic", "order.created"),
                ("X-WC-Webhook-Resource", "order"),
                ("X-WC-Webhook-Delivery-ID", delivery.as_str()),
                ("X-WC-Webhook-Signature", signature.as_str()),
            ];
            let (status, answer) = post_channel(http, url, &headers, body).await?;
            writeln!(
                out,
                "  {label:<40} {:<15} -> {status} {}",
                "order.created",
                answer["status"].as_str().unwrap_or("")
            )
            .ok();
        }
        let signature =
            channels::signature::sign_base64_hmac_sha256(api_secret.as_bytes(), API_ORDER);
        let event_id = format!("{run_id}-evt-1");
        let headers = [
            ("X-Courier-Bridge-Topic", "order.created"),
            ("X-Courier-Bridge-Event-Id", event_id.as_str()),
            ("X-Courier-Bridge-Signature", signature.as_str()),
        ];
        let (status, answer) = post_channel(http, &api_url, &headers, API_ORDER).await?;
        writeln!(
            out,
            "  {:<40} {:<15} -> {status} {}",
            "API example, two parcels",
            "order.created",
            answer["status"].as_str().unwrap_or("")
        )
        .ok();

        // Amazon: the seller's credentials, the published order and address in the sandbox
        // SP-API, and the published notification on the queue Amazon delivers to.
        let notification: Value = serde_json::from_slice(AMAZON_NOTIFICATION).map_err(fixture)?;
        let seller = notification["Payload"]["OrderChangeNotification"]["SellerId"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let order_id = notification["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        put_secret(
            sdk,
            &format!("{prefix}amazon/{seller}"),
            &json!({
                "lwa_client_id": sandbox::AMAZON_LWA_CLIENT_ID,
                "lwa_client_secret": sandbox::AMAZON_LWA_CLIENT_SECRET,
                "refresh_token": sandbox::AMAZON_REFRESH_TOKEN,
                "marketplace_id": "ATVPDKIKX0DER",
                "endpoint": base,
                "lwa_token_url": format!("{base}{}", sandbox::AMAZON_TOKEN_PATH),
            }),
        )
        .await?;
        let mut order: Value =
            serde_json::from_slice::<Value>(AMAZON_ORDER).map_err(fixture)?["payload"].clone();
        order["AmazonOrderId"] = json!(order_id);
        let mut address: Value =
            serde_json::from_slice::<Value>(AMAZON_ADDRESS).map_err(fixture)?["payload"].clone();
        address["AmazonOrderId"] = json!(order_id);
        sandbox
        .seed_amazon_order(sandbox::AmazonOrderSeed {
            order,
            address: Some(address),
            buyer_info: None,
            order_items: vec![json!({"OrderItemId": "OIID34853450", "QuantityOrdered": 1, "QuantityShipped": 0, "SellerSKU": "SellerSKUID1"})],
        })
        .map_err(|e| DemoError::Fixture(e.to_string()))?;
        let queue = runtime
            .queue_url("AmazonNotificationsQueue")
            .ok_or_else(|| DemoError::Fixture("no AmazonNotificationsQueue".into()))?;
        aws_sdk_sqs::Client::new(sdk)
            .send_message()
            .queue_url(queue)
            .message_body(String::from_utf8_lossy(AMAZON_NOTIFICATION))
            .send()
            .await
            .map_err(|e| {
                DemoError::Fixture(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
            })?;
        writeln!(
            out,
            "  {:<40} {:<15} -> queued for marketplace-intake",
            "Amazon published ORDER_CHANGE", "ORDER_CHANGE"
        )
        .ok();

        Ok(vec![
            ShipmentKey::new(Channel::WooCommerce, WOO_STORE, "728", "1"),
            ShipmentKey::new(Channel::Api, API_STORE, "SO-1001", "SO-1001-1"),
            ShipmentKey::new(Channel::Api, API_STORE, "SO-1001", "SO-1001-2"),
            ShipmentKey::new(Channel::Amazon, &seller, &order_id, "1"),
        ])
    }
}

/// A complete, valid prepaid Shopify order (paid) shipping to Berlin, for the end-to-end
/// tests and the benchmark: every one becomes a task.
pub fn paid_order(id: u64) -> Value {
    json!({
        "id": id,
        "name": format!("#{}", id % 100_000),
        "email": "kunde@example.com",
        "currency": "EUR",
        "total_price": "42.50",
        "total_weight": 800,
        "financial_status": "paid",
        "confirmed": true,
        "cancelled_at": null,
        "payment_gateway_names": ["shopify_payments"],
        "shipping_address": {
            "name": "Kim Weber", "address1": "Torstraße 1", "address2": "3. OG",
            "city": "Berlin", "zip": "10119", "country_code": "DE", "phone": "030 901820"
        },
        "line_items": [{"quantity": 1, "requires_shipping": true}]
    })
}
