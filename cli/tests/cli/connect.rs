//! `courier-bridge connect` and `disconnect` against the emulator and the sandbox's fakes of
//! the partners' admin APIs: the secret stored in the shape the functions read, each
//! registration made once however often connect runs, and a refusal (a missing scope, a
//! rejected or read-only key, a missing role) leaving nothing made.

use crate::support::TestStack;
use cli::error::exit;
use domain::ports::Secrets;
use sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

pub const COURIER_KEY: &str = "sbx_connect_key";
pub const SHOPIFY_TOKEN: &str = "shpat_connect";
/// Not reached by these tests: the partners only record where they would send.
pub const WEBHOOK_URL: &str = "https://hooks.example/webhooks";

pub async fn sandbox() -> Sandbox {
    Sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SandboxConfig {
            courier_api_key: COURIER_KEY.into(),
            shopify_access_token: SHOPIFY_TOKEN.into(),
        },
    )
    .await
    .expect("the sandbox starts")
}

/// A stack with its own secrets prefix, so its secrets are its own.
pub async fn stack(test: &str) -> TestStack {
    let prefix = format!("{test}-{:06x}/", rand::random::<u32>() & 0xff_ffff);
    TestStack::create_with(test, &[("SecretsPrefix", &prefix)]).await
}

pub async fn secret(stack: &TestStack, name: &str) -> Option<Value> {
    let cli_stack = cli::stack::Stack::resolve(&stack.sdk, &stack.name)
        .await
        .unwrap();
    match cli_stack.secret_store(&stack.sdk).fresh_text(name).await {
        Ok(text) => Some(serde_json::from_str(&text).expect("JSON")),
        Err(domain::ports::SecretError::NotFound(_)) => None,
        Err(e) => panic!("{e}"),
    }
}

pub fn shopify_args<'a>(sandbox_url: &'a str, store: &'a str, token: &'a str) -> Vec<&'a str> {
    vec![
        "connect",
        "shopify",
        "--store",
        store,
        "--shop",
        sandbox_url,
        "--token",
        token,
        "--secret",
        "shpss_app_secret",
        "--webhook-url",
        WEBHOOK_URL,
    ]
}

#[tokio::test]
async fn shopify_connected_twice_has_each_topic_once_and_the_secret_the_functions_read() {
    let stack = stack("cli-connect-shopify").await;
    let sandbox = sandbox().await;
    let url = sandbox.base_url();
    let said = stack
        .run(&shopify_args(&url, "acme", SHOPIFY_TOKEN))
        .await
        .unwrap();
    assert!(said.contains("4 made, 0 already there"), "{said}");
    let first = sandbox.shopify_webhook_subscriptions();
    let mut topics: Vec<&str> = first.iter().map(|s| s.topic.as_str()).collect();
    topics.sort_unstable();
    assert_eq!(
        topics,
        [
            "ORDERS_CANCELLED",
            "ORDERS_CREATE",
            "ORDERS_PAID",
            "ORDERS_UPDATED"
        ]
    );
    assert!(first
        .iter()
        .all(|s| s.callback_url == format!("{WEBHOOK_URL}/shopify/acme")));

    let again = stack
        .run(&shopify_args(&url, "acme", SHOPIFY_TOKEN))
        .await
        .unwrap();
    assert!(again.contains("0 made, 4 already there"), "{again}");
    assert_eq!(sandbox.shopify_webhook_subscriptions(), first);

    let stored = secret(&stack, "shopify/acme").await.expect("stored");
    let credentials: partners::stores::shopify::ShopifyCredentials =
        serde_json::from_value(stored.clone()).expect("the shape the write-back reads");
    assert_eq!(credentials.admin_access_token, SHOPIFY_TOKEN);
    assert_eq!(credentials.admin_base_url("acme"), url);
    assert_eq!(stored["webhook_secret"], "shpss_app_secret");

    // A store that ships on fulfillment needs its fulfillments too.
    let rules = std::env::temp_dir().join(format!("{}-rules.json", stack.name));
    std::fs::write(&rules, r#"{"trigger": "ready_to_ship"}"#).unwrap();
    stack
        .run(&[
            "store",
            "put",
            "--channel",
            "shopify",
            "--store",
            "acme",
            "--file",
            rules.to_str().unwrap(),
        ])
        .await
        .unwrap();
    let more = stack
        .run(&shopify_args(&url, "acme", SHOPIFY_TOKEN))
        .await
        .unwrap();
    assert!(more.contains("1 made, 4 already there"), "{more}");
    assert!(sandbox
        .shopify_webhook_subscriptions()
        .iter()
        .any(|s| s.topic == "FULFILLMENTS_CREATE"));

    let gone = stack
        .run(&[
            "disconnect",
            "shopify",
            "--store",
            "acme",
            "--webhook-url",
            WEBHOOK_URL,
        ])
        .await
        .unwrap();
    assert!(gone.contains("5 registration(s)"), "{gone}");
    assert!(sandbox.shopify_webhook_subscriptions().is_empty());
    assert_eq!(secret(&stack, "shopify/acme").await, None);

    // Within the deleted secret's recovery window, connecting again brings it back.
    let back = stack
        .run(&shopify_args(&url, "acme", SHOPIFY_TOKEN))
        .await
        .unwrap();
    assert!(back.contains("5 made"), "{back}");
    assert!(secret(&stack, "shopify/acme").await.is_some());
    stack.teardown().await;
}

#[tokio::test]
async fn a_missing_scope_or_a_rejected_token_connects_nothing_and_stores_nothing() {
    let stack = stack("cli-connect-scope").await;
    let sandbox = sandbox().await;
    let url = sandbox.base_url();
    sandbox.set_shopify_scopes(&["write_merchant_managed_fulfillment_orders"]);
    let error = stack
        .run(&shopify_args(&url, "acme", SHOPIFY_TOKEN))
        .await
        .unwrap_err();
    assert_eq!(error.exit_code(), exit::REFUSED);
    let text = error.to_string();
    assert!(text.contains("read_orders"), "{text}");
    assert!(text.contains("Nothing is connected"), "{text}");
    assert!(sandbox.shopify_webhook_subscriptions().is_empty());
    assert_eq!(secret(&stack, "shopify/acme").await, None);

    sandbox.set_shopify_scopes(&["read_orders", "write_merchant_managed_fulfillment_orders"]);
    let error = stack
        .run(&shopify_args(&url, "acme", "shpat_wrong"))
        .await
        .unwrap_err();
    assert_eq!(error.exit_code(), exit::REFUSED);
    assert!(error.to_string().contains("401"), "{error}");
    assert!(sandbox.shopify_webhook_subscriptions().is_empty());
    assert_eq!(secret(&stack, "shopify/acme").await, None);
    stack.teardown().await;
}

fn woocommerce_args<'a>(
    site: &'a str,
    key: &'a str,
    secret: &'a str,
    url: &'a str,
) -> Vec<&'a str> {
    vec![
        "connect",
        "woocommerce",
        "--store",
        "shop",
        "--site",
        site,
        "--consumer-key",
        key,
        "--consumer-secret",
        secret,
        "--webhook-url",
        url,
    ]
}

#[tokio::test]
async fn woocommerce_webhooks_carry_the_stored_secret_and_a_read_only_key_makes_none() {
    let stack = stack("cli-connect-woo").await;
    let sandbox = sandbox().await;
    let site = sandbox.base_url();
    let error = stack
        .run(&woocommerce_args(
            &site,
            sandbox::WOOCOMMERCE_READ_ONLY_CONSUMER_KEY,
            sandbox::WOOCOMMERCE_READ_ONLY_CONSUMER_SECRET,
            WEBHOOK_URL,
        ))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("does not have write permissions"),
        "{error}"
    );
    assert!(sandbox.woocommerce_webhooks().is_empty());
    assert_eq!(secret(&stack, "woocommerce/shop").await, None);

    let full = woocommerce_args(
        &site,
        sandbox::WOOCOMMERCE_CONSUMER_KEY,
        sandbox::WOOCOMMERCE_CONSUMER_SECRET,
        WEBHOOK_URL,
    );
    stack.run(&full).await.unwrap();
    stack.run(&full).await.unwrap();
    let webhooks = sandbox.woocommerce_webhooks();
    let mut topics: Vec<&str> = webhooks.iter().map(|w| w.topic.as_str()).collect();
    topics.sort_unstable();
    assert_eq!(topics, ["order.created", "order.deleted", "order.updated"]);
    let stored = secret(&stack, "woocommerce/shop").await.expect("stored");
    let credentials: partners::stores::woocommerce::WooCommerceCredentials =
        serde_json::from_value(stored).expect("the shape the write-back reads");
    assert!(webhooks
        .iter()
        .all(|w| w.secret == credentials.webhook_secret
            && w.delivery_url == format!("{WEBHOOK_URL}/woocommerce/shop")));

    // Another secret would break the webhooks made with the stored one: refused.
    let mut other_secret = full.clone();
    other_secret.extend(["--secret", "wcsec_other"]);
    let error = stack.run(&other_secret).await.unwrap_err();
    assert_eq!(error.exit_code(), exit::USAGE);
    assert!(error.to_string().contains("rotate"), "{error}");

    // Moved to another stack: the old URL is reported, then replaced.
    let moved = "https://new.example/webhooks";
    let mut args = woocommerce_args(
        &site,
        sandbox::WOOCOMMERCE_CONSUMER_KEY,
        sandbox::WOOCOMMERCE_CONSUMER_SECRET,
        moved,
    );
    let said = stack.run(&args).await.unwrap();
    assert!(said.contains("--replace removes it"), "{said}");
    assert_eq!(sandbox.woocommerce_webhooks().len(), 6);
    args.push("--replace");
    stack.run(&args).await.unwrap();
    let left = sandbox.woocommerce_webhooks();
    assert_eq!(left.len(), 3);
    assert!(left.iter().all(|w| w.delivery_url.starts_with(moved)));
    stack.teardown().await;
}

fn amazon_args<'a>(endpoint: &'a str, token_url: &'a str, arn: &'a str) -> Vec<&'a str> {
    vec![
        "connect",
        "amazon",
        "--seller",
        "A2SELLER",
        "--client-id",
        sandbox::AMAZON_LWA_CLIENT_ID,
        "--client-secret",
        sandbox::AMAZON_LWA_CLIENT_SECRET,
        "--refresh-token",
        sandbox::AMAZON_REFRESH_TOKEN,
        "--marketplace",
        "A1PA6795UKMFR9",
        "--endpoint",
        endpoint,
        "--lwa-token-url",
        token_url,
        "--queue-arn",
        arn,
    ]
}

#[tokio::test]
async fn amazon_gets_one_destination_and_subscription_and_a_refused_subscription_leaves_no_destination(
) {
    let stack = stack("cli-connect-amazon").await;
    let sandbox = sandbox().await;
    let endpoint = sandbox.base_url();
    let token_url = format!("{endpoint}{}", sandbox::AMAZON_TOKEN_PATH);
    let arn = "arn:aws:sqs:eu-west-1:123456789012:cli-connect-amazon";

    sandbox.set_amazon_notifications_denied(true);
    let error = stack
        .run(&amazon_args(&endpoint, &token_url, arn))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("Notifications role"), "{error}");
    assert!(sandbox.amazon_subscriptions().is_empty());
    assert!(
        sandbox.amazon_destinations().is_empty(),
        "the destination made for it is removed again"
    );
    assert_eq!(secret(&stack, "amazon/a2seller").await, None);

    sandbox.set_amazon_notifications_denied(false);
    stack
        .run(&amazon_args(&endpoint, &token_url, arn))
        .await
        .unwrap();
    let said = stack
        .run(&amazon_args(&endpoint, &token_url, arn))
        .await
        .unwrap();
    assert!(said.contains("0 made, 1 already there"), "{said}");
    assert_eq!(sandbox.amazon_destinations().len(), 1);
    assert_eq!(sandbox.amazon_subscriptions().len(), 1);
    let stored = secret(&stack, "amazon/a2seller").await.expect("stored");
    let _: partners::stores::amazon::AmazonCredentials =
        serde_json::from_value(stored).expect("the shape the order fetch reads");

    stack
        .run(&[
            "disconnect",
            "amazon",
            "--seller",
            "A2SELLER",
            "--queue-arn",
            arn,
        ])
        .await
        .unwrap();
    assert!(sandbox.amazon_subscriptions().is_empty());
    assert!(sandbox.amazon_destinations().is_empty());
    stack.teardown().await;
}

#[tokio::test]
async fn the_sandbox_courier_sends_to_the_stack_and_a_custom_store_gets_its_secret() {
    let stack = stack("cli-connect-courier").await;
    let sandbox = sandbox().await;
    let url = sandbox.base_url();
    let args = [
        "connect",
        "sandbox",
        "--base-url",
        &url,
        "--api-key",
        COURIER_KEY,
        "--webhook-url",
        WEBHOOK_URL,
    ];
    let said = stack.run(&args).await.unwrap();
    assert!(said.contains("1 made"), "{said}");
    let stored = secret(&stack, "courier/sandbox").await.expect("stored");
    let secret_now = stored["webhook_secret"].as_str().unwrap().to_owned();
    let again = stack.run(&args).await.unwrap();
    assert!(again.contains("0 made, 1 already there"), "{again}");
    assert_eq!(
        secret(&stack, "courier/sandbox").await.unwrap()["webhook_secret"],
        secret_now.as_str(),
        "a second connect keeps the secret the courier signs with"
    );

    let api = stack
        .run(&[
            "connect",
            "api",
            "--store",
            "custom",
            "--webhook-url",
            WEBHOOK_URL,
        ])
        .await
        .unwrap();
    let stored = secret(&stack, "api/custom").await.expect("stored");
    let signing = stored["signing_secret"].as_str().unwrap();
    assert!(api.contains(signing), "{api}");
    assert!(api.contains(&format!("{WEBHOOK_URL}/api/custom")), "{api}");

    stack
        .run(&["disconnect", "sandbox", "--webhook-url", WEBHOOK_URL])
        .await
        .unwrap();
    assert_eq!(secret(&stack, "courier/sandbox").await, None);
    stack.teardown().await;
}
