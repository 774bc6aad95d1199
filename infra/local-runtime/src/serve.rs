//! `courier-bridge-local serve` (`make up`): the whole stack on this machine until Ctrl-C,
//! ready for a user's own payloads. The emulator's resources from template.yaml, the
//! functions, the sandbox courier (with its fake Shopify and WooCommerce admin APIs), one
//! connected store per webhook channel, customer messages and links, the console's local
//! user — and every URL and signing secret printed, so an order posted with curl becomes a
//! task at the sandbox courier, followed with the CLI or in the console.
//!
//! The demo (`make demo`) replays samples and ends; this starts the same parts and waits.

use crate::demo::{
    add_console_user, connect_courier_webhooks, seed_api, seed_courier, seed_links,
    seed_notifications, seed_store, seed_woocommerce, use_sandbox_location, DemoError, DemoStore,
    CONSOLE_PASSWORD, CONSOLE_USER,
};
use crate::runtime::{LocalRuntime, RuntimeOptions};
use aws_config::SdkConfig;
use domain::Channel;
use sandbox::{Sandbox, SandboxConfig};
use std::io::Write;
use std::net::SocketAddr;

/// Where the stack listens and what it is called.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The stack's name: the prefix of every table, queue and secret it makes.
    pub stack: String,
    /// The HTTP API (webhooks, pages, console); port 0 picks a free one.
    pub http_addr: SocketAddr,
    /// The sandbox courier and the store fakes; port 0 picks a free one.
    pub sandbox_addr: SocketAddr,
    /// The connected store's name, the same in every channel's webhook URL.
    pub store: String,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            stack: "courier-bridge-local".into(),
            http_addr: ([127, 0, 0, 1], 3000).into(),
            sandbox_addr: ([127, 0, 0, 1], 3001).into(),
            store: "my-store".into(),
        }
    }
}

/// One connected store of one channel: where its webhooks go and what signs them.
#[derive(Debug, Clone)]
pub struct StoreEndpoint {
    pub channel: Channel,
    pub url: String,
    /// The signing secret the store's webhooks carry a signature of.
    pub secret: String,
    /// The header the signature travels in.
    pub signature_header: &'static str,
}

/// The running stack.
pub struct LocalStack {
    pub runtime: LocalRuntime,
    pub sandbox: Sandbox,
    pub stack: String,
    pub secrets_prefix: String,
    pub stores: Vec<StoreEndpoint>,
    /// The sandbox courier's API key (its task list asks for it).
    pub courier_key: String,
    /// The emulator the stack lives in, and its region, for the CLI.
    pub endpoint: Option<String>,
    pub region: String,
}

impl LocalStack {
    /// Provisions the stack and connects a store per webhook channel, the sandbox courier,
    /// customer messages, signed links and the console's local user.
    pub async fn start(sdk: &SdkConfig, options: &ServeOptions) -> Result<LocalStack, DemoError> {
        let courier_key = token("sbx_");
        let store_token = token("shpat_");
        let sandbox = Sandbox::start(
            options.sandbox_addr,
            SandboxConfig {
                courier_api_key: courier_key.clone(),
                shopify_access_token: store_token.clone(),
            },
        )
        .await?;
        let prefix = format!("{}/", options.stack);
        let mut runtime_options = RuntimeOptions::new(&options.stack);
        runtime_options.http_addr = options.http_addr;
        runtime_options
            .parameter_overrides
            .insert("SecretsPrefix".into(), prefix.clone());
        use_sandbox_location(&mut runtime_options, &sandbox.base_url());
        let runtime = LocalRuntime::start(sdk, runtime_options).await?;

        let base = sandbox.base_url();
        let store = &options.store;
        let webhook = |channel: &str| format!("{}/webhooks/{channel}/{store}", runtime.http_url);
        let shopify = DemoStore {
            name: store.clone(),
            secret: token("whsec_"),
        };
        seed_store(sdk, &prefix, &shopify, &base, &store_token).await?;
        let woocommerce = token("wc_");
        seed_woocommerce(sdk, &prefix, store, &woocommerce, &base).await?;
        let api = token("cb_");
        seed_api(sdk, &prefix, store, &api).await?;
        let courier_webhook_secret = token("whsec_");
        seed_courier(sdk, &prefix, &base, &courier_key, &courier_webhook_secret).await?;
        seed_notifications(sdk, &prefix, &base).await?;
        seed_links(sdk, &prefix).await?;
        connect_courier_webhooks(&sandbox, &runtime, &courier_webhook_secret);
        add_console_user(sdk, &runtime, CONSOLE_USER, CONSOLE_PASSWORD, "dispatcher").await?;
        let stores = vec![
            StoreEndpoint {
                channel: Channel::Shopify,
                url: webhook("shopify"),
                secret: shopify.secret,
                signature_header: channels::shopify::HMAC_HEADER,
            },
            StoreEndpoint {
                channel: Channel::WooCommerce,
                url: webhook("woocommerce"),
                secret: woocommerce,
                signature_header: channels::woocommerce::SIGNATURE_HEADER,
            },
            StoreEndpoint {
                channel: Channel::Api,
                url: webhook("api"),
                secret: api,
                signature_header: channels::api::SIGNATURE_HEADER,
            },
        ];
        Ok(LocalStack {
            runtime,
            sandbox,
            stack: options.stack.clone(),
            secrets_prefix: prefix,
            stores,
            courier_key,
            endpoint: sdk.endpoint_url().map(str::to_owned),
            region: sdk
                .region()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "us-east-1".into()),
        })
    }

    /// The connected store of `channel`.
    pub fn store(&self, channel: Channel) -> Option<&StoreEndpoint> {
        self.stores.iter().find(|s| s.channel == channel)
    }

    /// Every URL and secret a user needs, and how to post an order with curl.
    pub fn describe(&self, out: &mut impl Write) {
        let http = &self.runtime.http_url;
        let mut lines = vec![
            format!("courier-bridge is running locally: stack {}", self.stack),
            format!("  HTTP API          {http}"),
            format!(
                "  sandbox courier   {}/v1/tasks   (and the fake Shopify and WooCommerce admin APIs)",
                self.sandbox.base_url()
            ),
            format!(
                "  console           {http}/console   user {CONSOLE_USER}, password {CONSOLE_PASSWORD}"
            ),
            format!(
                "  secrets           under {} in the emulator's Secrets Manager",
                self.secrets_prefix
            ),
            "Connected stores (post their webhooks here, signed with the secret):".to_owned(),
        ];
        for store in &self.stores {
            lines.push(format!(
                "  {:<12} {}   secret {}   header {}",
                store.channel.as_str(),
                store.url,
                store.secret,
                store.signature_header
            ));
        }
        if let Some(api) = self.store(Channel::Api) {
            lines.push("An order through the generic API (docs/api/README.md), from the repository's root:".into());
            lines.push(format!(
                "  body=docs/api/examples/order.created.prepaid-two-shipments.json\n  \
                 sig=$(openssl dgst -sha256 -hmac '{}' -binary \"$body\" | base64)\n  \
                 curl -sS {} -H 'Content-Type: application/json' \
                 -H 'X-Courier-Bridge-Topic: order.created' -H \"X-Courier-Bridge-Event-Id: $(date +%s%N)\" \
                 -H \"X-Courier-Bridge-Signature: $sig\" --data-binary @\"$body\"",
                api.secret, api.url
            ));
        }
        if let Some(api) = self.store(Channel::Api) {
            let store = api.url.rsplit('/').next().unwrap_or_default();
            lines.push(format!(
                "Its first task at the courier:\n  curl -s -H 'Authorization: Bearer {}' \
                 '{}/v1/tasks?reference=api:{store}:SO-1001:SO-1001-1'",
                self.courier_key,
                self.sandbox.base_url()
            ));
        }
        lines.push(format!(
            "Every shipment: the console's Shipments page ({}/console/shipments).",
            self.runtime.http_url
        ));
        if let Some(endpoint) = &self.endpoint {
            lines.push(format!(
                "The CLI on this stack (from another terminal):\n  export AWS_ENDPOINT_URL={endpoint} AWS_REGION={region} \
                 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test COURIER_BRIDGE_STACK={} \
                 COURIER_BRIDGE_WEBHOOK_URL={http}/webhooks\n  \
                 target/debug/courier-bridge review list\n  \
                 target/debug/courier-bridge doctor\n  \
                 target/debug/courier-bridge connect woocommerce --store my-shop --site {} \
                 --consumer-key {} --consumer-secret {}   (the sandbox's WooCommerce)",
                self.stack,
                self.sandbox.base_url(),
                sandbox::WOOCOMMERCE_CONSUMER_KEY,
                sandbox::WOOCOMMERCE_CONSUMER_SECRET,
                region = self.region,
            ));
        }
        lines.push("Ctrl-C stops the stack and removes what it made.".into());
        for line in lines {
            writeln!(out, "{line}").ok();
        }
        out.flush().ok();
    }

    /// Stops the functions and the sandbox and removes what the stack made in the emulator.
    pub async fn stop(self) -> Result<(), DemoError> {
        self.runtime
            .stop_and_teardown()
            .await
            .map_err(crate::RuntimeError::from)?;
        self.sandbox.shutdown().await;
        Ok(())
    }
}

/// A fresh credential with a recognisable prefix.
fn token(prefix: &str) -> String {
    format!("{prefix}{:032x}", rand::random::<u128>())
}
