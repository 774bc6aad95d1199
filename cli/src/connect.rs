//! `courier-bridge connect` and `disconnect`: a store or the courier joined to the stack in
//! one command. Connect stores the partner's secret in the shape the functions read
//! (docs/configuration.md) and registers the stack's webhooks at the partner through
//! [`partners::connect`]: what is there already is kept, so running it twice changes
//! nothing. If the partner refuses (a missing scope, a rejected token), the registrations
//! this run made are removed again and the secret is put back as it was. Disconnect
//! removes the stack's registrations and the secret.

use crate::error::CliError;
use crate::stack::Stack;
use aws::secrets::SecretStore;
use clap::{Args, Subcommand};
use domain::ports::{SecretError, Secrets};
use domain::PartnerError;
use partners::connect::{self as registry, Connected, Subscription, WebhookAdmin};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Args)]
pub struct Common {
    /// The stack's webhook base URL; default: its `WebhookUrl` output (`make up` prints
    /// the local one).
    #[arg(long, env = "COURIER_BRIDGE_WEBHOOK_URL", value_name = "URL")]
    pub webhook_url: Option<String>,
    /// Also remove the same topics' registrations to other URLs (an old stack's).
    #[arg(long)]
    pub replace: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConnectCommand {
    /// A Shopify shop: webhook subscriptions through the Admin GraphQL API.
    Shopify {
        /// The store's name in its webhook URL (lowercase letters, digits, -).
        #[arg(long)]
        store: String,
        /// The shop: acme.myshopify.com, or a URL (https://acme.myshopify.com).
        #[arg(long)]
        shop: String,
        /// The app's Admin API access token (shpat_…).
        #[arg(long)]
        token: String,
        /// The app's client secret, which Shopify signs webhooks with; default: the one
        /// already stored.
        #[arg(long)]
        secret: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// A WooCommerce site: webhooks through the REST API v3.
    #[command(name = "woocommerce")]
    WooCommerce {
        #[arg(long)]
        store: String,
        /// The site's address, https://shop.example.
        #[arg(long)]
        site: String,
        /// A REST API key with read/write access.
        #[arg(long)]
        consumer_key: String,
        #[arg(long)]
        consumer_secret: String,
        /// The webhooks' secret; default: the one stored, else a new random one.
        #[arg(long)]
        secret: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// An Amazon seller: an SQS destination and an ORDER_CHANGE subscription (SP-API
    /// Notifications v1).
    Amazon {
        /// The seller id (stored lowercase, as the notifications name it).
        #[arg(long)]
        seller: String,
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        client_secret: String,
        /// The seller's authorization of the application (Atzr|…).
        #[arg(long)]
        refresh_token: String,
        /// Used when an order names none, e.g. ATVPDKIKX0DER.
        #[arg(long)]
        marketplace: String,
        /// The SP-API region's endpoint.
        #[arg(long, default_value = "https://sellingpartnerapi-na.amazon.com")]
        endpoint: String,
        #[arg(long, default_value = partners::stores::amazon::DEFAULT_LWA_TOKEN_URL)]
        lwa_token_url: String,
        /// The queue's ARN; default: the stack's AmazonNotificationsQueue.
        #[arg(long, value_name = "ARN")]
        queue_arn: Option<String>,
        #[arg(long)]
        replace: bool,
    },
    /// The Onfleet courier: one webhook per trigger.
    Onfleet {
        #[arg(long)]
        api_key: String,
        /// The webhook secret Onfleet's dashboard shows (hex).
        #[arg(long)]
        webhook_secret: String,
        #[arg(long, default_value = partners::couriers::onfleet::DEFAULT_BASE_URL)]
        base_url: String,
        #[command(flatten)]
        common: Common,
    },
    /// The sandbox courier: its status webhook.
    Sandbox {
        /// Where the sandbox serves (make up prints it).
        #[arg(long)]
        base_url: String,
        #[arg(long)]
        api_key: String,
        #[command(flatten)]
        common: Common,
    },
    /// A custom store on the generic API: its signing secret and URL, printed.
    Api {
        #[arg(long)]
        store: String,
        /// Where tracking is POSTed back (optional).
        #[arg(long)]
        callback_url: Option<String>,
        #[arg(long, env = "COURIER_BRIDGE_WEBHOOK_URL", value_name = "URL")]
        webhook_url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DisconnectCommand {
    Shopify {
        #[arg(long)]
        store: String,
        #[arg(long, env = "COURIER_BRIDGE_WEBHOOK_URL", value_name = "URL")]
        webhook_url: Option<String>,
    },
    #[command(name = "woocommerce")]
    WooCommerce {
        #[arg(long)]
        store: String,
        #[arg(long, env = "COURIER_BRIDGE_WEBHOOK_URL", value_name = "URL")]
        webhook_url: Option<String>,
    },
    Amazon {
        #[arg(long)]
        seller: String,
        #[arg(long, value_name = "ARN")]
        queue_arn: Option<String>,
    },
    Onfleet {
        #[arg(long, env = "COURIER_BRIDGE_WEBHOOK_URL", value_name = "URL")]
        webhook_url: Option<String>,
    },
    Sandbox {
        #[arg(long, env = "COURIER_BRIDGE_WEBHOOK_URL", value_name = "URL")]
        webhook_url: Option<String>,
    },
    Api {
        #[arg(long)]
        store: String,
    },
}

/// A disconnected secret stays restorable this long (`aws secretsmanager restore-secret`).
const RECOVERY_DAYS: i64 = 7;

/// What one connect is about: the secret, the partner, the topics, where they go.
struct Plan {
    /// `{channel}/{store}` or `courier/{name}`.
    secret_name: String,
    secret: Value,
    admin: Option<Box<dyn WebhookAdmin>>,
    topics: Vec<String>,
    url: String,
    replace: bool,
    /// Printed after the registrations (a secret to give the store, the URL).
    note: Option<String>,
}

pub async fn connect(
    sdk: &aws_config::SdkConfig,
    stack: &Stack,
    command: ConnectCommand,
) -> Result<String, CliError> {
    let secrets = stack.secret_store(sdk);
    let http = http()?;
    let plan = match command {
        ConnectCommand::Shopify {
            store,
            shop,
            token,
            secret,
            common,
        } => {
            store_name(&store)?;
            let secret_name = format!("shopify/{store}");
            let stored = stored(&secrets, &secret_name).await?;
            let webhook_secret = secret
                .or_else(|| text_field(&stored, "webhook_secret"))
                .ok_or_else(|| {
                    CliError::Usage(
                        "Shopify signs webhooks with the app's client secret: pass --secret".into(),
                    )
                })?;
            let base = shop_url(&shop)?;
            let stores = crate::stores(sdk, stack).await?;
            let config =
                domain::ports::StoreRules::get(&stores.stores, domain::Channel::Shopify, &store)
                    .await?;
            Plan {
                secret: merged(
                    stored,
                    json!({
                        "webhook_secret": webhook_secret,
                        "admin_access_token": token,
                        "admin_api_base_url": base,
                    }),
                ),
                admin: Some(Box::new(registry::shopify::ShopifyWebhooks::new(
                    http, &base, &token,
                ))),
                topics: registry::shopify::topics(&config),
                url: registry::webhook_url(
                    &stack.webhook_url(common.webhook_url.as_deref())?,
                    "shopify",
                    &store,
                ),
                replace: common.replace,
                note: None,
                secret_name,
            }
        }
        ConnectCommand::WooCommerce {
            store,
            site,
            consumer_key,
            consumer_secret,
            secret,
            common,
        } => {
            store_name(&store)?;
            let secret_name = format!("woocommerce/{store}");
            let stored = stored(&secrets, &secret_name).await?;
            let kept = text_field(&stored, "webhook_secret");
            // Webhooks already made sign with the stored secret: changing it here would
            // make them fail verification. Rotation changes it with a grace period.
            if let (Some(given), Some(kept)) = (&secret, &kept) {
                if given != kept {
                    return Err(CliError::Usage(format!(
                        "woocommerce/{store} already has a webhook secret, which its webhooks \
                         sign with; change it with `courier-bridge rotate woocommerce {store} \
                         --secret ...` and set the same in WooCommerce"
                    )));
                }
            }
            let webhook_secret = secret.or(kept).unwrap_or_else(|| random_secret("wcsec_"));
            let rest = partners::stores::woocommerce::WooCommerceRest::new(
                http,
                &site,
                &consumer_key,
                &consumer_secret,
            )
            .map_err(partner_refused)?;
            Plan {
                secret: merged(
                    stored,
                    json!({
                        "webhook_secret": webhook_secret,
                        "site_url": site,
                        "consumer_key": consumer_key,
                        "consumer_secret": consumer_secret,
                    }),
                ),
                admin: Some(Box::new(registry::woocommerce::WooCommerceWebhooks::new(
                    rest,
                    &webhook_secret,
                ))),
                topics: registry::woocommerce::topics(),
                url: registry::webhook_url(
                    &stack.webhook_url(common.webhook_url.as_deref())?,
                    "woocommerce",
                    &store,
                ),
                replace: common.replace,
                note: None,
                secret_name,
            }
        }
        ConnectCommand::Amazon {
            seller,
            client_id,
            client_secret,
            refresh_token,
            marketplace,
            endpoint,
            lwa_token_url,
            queue_arn,
            replace,
        } => {
            let seller = seller.to_ascii_lowercase();
            store_name(&seller)?;
            let secret_name = format!("amazon/{seller}");
            let stored = stored(&secrets, &secret_name).await?;
            let secret = merged(
                stored,
                json!({
                    "lwa_client_id": client_id,
                    "lwa_client_secret": client_secret,
                    "refresh_token": refresh_token,
                    "marketplace_id": marketplace,
                    "endpoint": endpoint,
                    "lwa_token_url": lwa_token_url,
                }),
            );
            let credentials = serde_json::from_value(secret.clone())
                .map_err(|e| CliError::Usage(format!("the Amazon credentials: {e}")))?;
            let url = match queue_arn {
                Some(arn) => arn,
                None => stack.amazon_queue_arn().await?,
            };
            Plan {
                secret,
                admin: Some(Box::new(registry::amazon::AmazonNotifications::new(
                    http,
                    credentials,
                ))),
                topics: registry::amazon::topics(),
                url,
                replace,
                note: None,
                secret_name,
            }
        }
        ConnectCommand::Onfleet {
            api_key,
            webhook_secret,
            base_url,
            common,
        } => {
            if hex::decode(webhook_secret.trim()).map_or(true, |bytes| bytes.is_empty()) {
                return Err(CliError::Usage(
                    "--webhook-secret is the hex secret Onfleet's dashboard shows".into(),
                ));
            }
            let secret_name = "courier/onfleet".to_owned();
            let stored = stored(&secrets, &secret_name).await?;
            let credentials = partners::couriers::onfleet::OnfleetCredentials {
                api_key: api_key.clone(),
                base_url: base_url.clone(),
            };
            Plan {
                secret: merged(
                    stored,
                    json!({
                        "api_key": api_key,
                        "webhook_secret": webhook_secret.trim(),
                        "base_url": base_url,
                    }),
                ),
                admin: Some(Box::new(registry::onfleet::OnfleetWebhooks::new(
                    http,
                    credentials,
                ))),
                topics: registry::onfleet::topics(),
                url: registry::webhook_url(
                    &stack.webhook_url(common.webhook_url.as_deref())?,
                    "courier",
                    "onfleet",
                ),
                replace: common.replace,
                note: None,
                secret_name,
            }
        }
        ConnectCommand::Sandbox {
            base_url,
            api_key,
            common,
        } => {
            let secret_name = "courier/sandbox".to_owned();
            let stored = stored(&secrets, &secret_name).await?;
            let webhook_secret =
                text_field(&stored, "webhook_secret").unwrap_or_else(|| random_secret("whsec_"));
            let credentials = partners::couriers::sandbox::SandboxCredentials {
                base_url: base_url.clone(),
                api_key: api_key.clone(),
            };
            Plan {
                secret: merged(
                    stored,
                    json!({
                        "base_url": base_url,
                        "api_key": api_key,
                        "webhook_secret": webhook_secret,
                    }),
                ),
                admin: Some(Box::new(registry::sandbox::SandboxWebhook::new(
                    http,
                    credentials,
                    &webhook_secret,
                ))),
                topics: registry::sandbox::topics(),
                url: registry::webhook_url(
                    &stack.webhook_url(common.webhook_url.as_deref())?,
                    "courier",
                    "sandbox",
                ),
                replace: common.replace,
                note: None,
                secret_name,
            }
        }
        ConnectCommand::Api {
            store,
            callback_url,
            webhook_url,
        } => {
            store_name(&store)?;
            let secret_name = format!("api/{store}");
            let stored = stored(&secrets, &secret_name).await?;
            let signing_secret =
                text_field(&stored, "signing_secret").unwrap_or_else(|| random_secret("cbsec_"));
            let url =
                registry::webhook_url(&stack.webhook_url(webhook_url.as_deref())?, "api", &store);
            let mut update = json!({ "signing_secret": signing_secret });
            if let Some(callback) = callback_url {
                update["callback_url"] = Value::String(callback);
            }
            Plan {
                secret: merged(stored, update),
                admin: None,
                topics: Vec::new(),
                note: Some(format!(
                    "The store posts its orders to {url}\nsigned with (HMAC-SHA256, base64, \
                     header X-Courier-Bridge-Signature): {signing_secret}\n(docs/api/README.md)"
                )),
                url,
                replace: false,
                secret_name,
            }
        }
    };
    apply(&secrets, plan).await
}

/// Writes the secret, then registers; a refusal puts the secret back as it was.
async fn apply(secrets: &SecretStore, plan: Plan) -> Result<String, CliError> {
    let full = secrets.full_name(&plan.secret_name);
    let before = match secrets.fresh_text(&plan.secret_name).await {
        Ok(text) => Some(text),
        Err(SecretError::NotFound(_)) => None,
        Err(SecretError::Malformed { .. }) => None,
        Err(SecretError::Storage(e)) => return Err(e.into()),
    };
    secrets
        .write(&plan.secret_name, &plan.secret.to_string())
        .await?;
    let mut said = vec![format!("{full} stored.")];
    if let Some(admin) = &plan.admin {
        match registry::connect(admin.as_ref(), &plan.topics, &plan.url, plan.replace).await {
            Ok(connected) => said.extend(describe(admin.partner(), &plan.url, &connected)),
            Err(failed) => {
                match before {
                    Some(text) => secrets.write(&plan.secret_name, &text).await?,
                    None => secrets.delete(&plan.secret_name, None).await?,
                }
                let secret = if failed.left.is_empty() {
                    format!("{full} is as it was before")
                } else {
                    format!("{full} is as it was before; run disconnect to remove the rest")
                };
                return Err(CliError::Refused(format!(
                    "{} refused: {failed}. Nothing is connected: {secret}.",
                    admin.partner()
                )));
            }
        }
    }
    if let Some(note) = plan.note {
        said.push(note);
    }
    Ok(said.join("\n"))
}

fn describe(partner: &str, url: &str, connected: &Connected) -> Vec<String> {
    let mut lines = vec![format!(
        "{partner}: {} made, {} already there, to {url}",
        connected.created.len(),
        connected.kept.len()
    )];
    for made in &connected.created {
        lines.push(format!("  + {} ({})", made.topic, made.id));
    }
    for kept in &connected.kept {
        lines.push(format!("  = {} ({})", kept.topic, kept.id));
    }
    for other in &connected.elsewhere {
        let verb = if connected.replaced {
            "removed"
        } else {
            "also sent elsewhere (--replace removes it)"
        };
        lines.push(format!("  ! {} to {}: {verb}", other.topic, other.url));
    }
    lines
}

pub async fn disconnect(
    sdk: &aws_config::SdkConfig,
    stack: &Stack,
    command: DisconnectCommand,
) -> Result<String, CliError> {
    let secrets = stack.secret_store(sdk);
    let http = http()?;
    let (secret_name, removal) = match command {
        DisconnectCommand::Api { store } => {
            store_name(&store)?;
            (format!("api/{store}"), None)
        }
        other => {
            let (name, registration) = stored_admin(&secrets, stack, http, other).await?;
            (name, Some(registration))
        }
    };
    let full = secrets.full_name(&secret_name);
    let mut said = Vec::new();
    if let Some(Registration { admin, topics, url }) = removal {
        let removed: Vec<Subscription> = registry::disconnect(admin.as_ref(), &topics, &url)
            .await
            .map_err(partner_refused)?;
        said.push(format!(
            "{}: {} registration(s) to {url} removed",
            admin.partner(),
            removed.len()
        ));
        for gone in &removed {
            said.push(format!("  - {} ({})", gone.topic, gone.id));
        }
    }
    secrets.delete(&secret_name, Some(RECOVERY_DAYS)).await?;
    said.push(format!(
        "{full} deleted (restorable for {RECOVERY_DAYS} days with `aws secretsmanager restore-secret`)."
    ));
    Ok(said.join("\n"))
}

/// Where a partner sends the stack's topics.
struct Registration {
    admin: Box<dyn WebhookAdmin>,
    topics: Vec<String>,
    url: String,
}

/// The partner's registry, from the credentials connect stored.
async fn stored_admin(
    secrets: &SecretStore,
    stack: &Stack,
    http: reqwest::Client,
    command: DisconnectCommand,
) -> Result<(String, Registration), CliError> {
    let (name, admin, topics, url): (String, Box<dyn WebhookAdmin>, _, _) = match command {
        DisconnectCommand::Shopify { store, webhook_url } => {
            store_name(&store)?;
            let name = format!("shopify/{store}");
            let c: partners::stores::shopify::ShopifyCredentials =
                credentials(secrets, &name).await?;
            // Every topic connect may have made, whatever the rules say now.
            let all = domain::StoreConfig {
                trigger: domain::TriggerPolicy::ReadyToShip,
                ..Default::default()
            };
            let admin = registry::shopify::ShopifyWebhooks::new(
                http,
                &c.admin_base_url(&store),
                &c.admin_access_token,
            );
            let url = registry::webhook_url(
                &stack.webhook_url(webhook_url.as_deref())?,
                "shopify",
                &store,
            );
            (name, Box::new(admin), registry::shopify::topics(&all), url)
        }
        DisconnectCommand::WooCommerce { store, webhook_url } => {
            store_name(&store)?;
            let name = format!("woocommerce/{store}");
            let c: partners::stores::woocommerce::WooCommerceCredentials =
                credentials(secrets, &name).await?;
            let rest = partners::stores::woocommerce::WooCommerceRest::from_credentials(http, &c)
                .map_err(partner_refused)?;
            let admin = registry::woocommerce::WooCommerceWebhooks::new(rest, &c.webhook_secret);
            let url = registry::webhook_url(
                &stack.webhook_url(webhook_url.as_deref())?,
                "woocommerce",
                &store,
            );
            (name, Box::new(admin), registry::woocommerce::topics(), url)
        }
        DisconnectCommand::Amazon { seller, queue_arn } => {
            let seller = seller.to_ascii_lowercase();
            store_name(&seller)?;
            let name = format!("amazon/{seller}");
            let c = credentials(secrets, &name).await?;
            let url = match queue_arn {
                Some(arn) => arn,
                None => stack.amazon_queue_arn().await?,
            };
            let admin = registry::amazon::AmazonNotifications::new(http, c);
            (name, Box::new(admin), registry::amazon::topics(), url)
        }
        DisconnectCommand::Onfleet { webhook_url } => {
            let name = "courier/onfleet".to_owned();
            let c = credentials(secrets, &name).await?;
            let admin = registry::onfleet::OnfleetWebhooks::new(http, c);
            let url = registry::webhook_url(
                &stack.webhook_url(webhook_url.as_deref())?,
                "courier",
                "onfleet",
            );
            (name, Box::new(admin), registry::onfleet::topics(), url)
        }
        DisconnectCommand::Sandbox { webhook_url } => {
            let name = "courier/sandbox".to_owned();
            let c = credentials(secrets, &name).await?;
            let admin = registry::sandbox::SandboxWebhook::new(http, c, "");
            let url = registry::webhook_url(
                &stack.webhook_url(webhook_url.as_deref())?,
                "courier",
                "sandbox",
            );
            (name, Box::new(admin), registry::sandbox::topics(), url)
        }
        DisconnectCommand::Api { .. } => {
            return Err(CliError::Usage("the generic API registers nothing".into()))
        }
    };
    Ok((name, Registration { admin, topics, url }))
}

async fn credentials<T: serde::de::DeserializeOwned>(
    secrets: &SecretStore,
    name: &str,
) -> Result<T, CliError> {
    let full = secrets.full_name(name);
    let text = match secrets.fresh_text(name).await {
        Ok(text) => text,
        Err(SecretError::NotFound(_)) => {
            return Err(CliError::Refused(format!(
                "there is no secret {full}: nothing is connected"
            )))
        }
        Err(SecretError::Malformed { name, problem }) => {
            return Err(CliError::Refused(format!("{name}: {problem}")))
        }
        Err(SecretError::Storage(e)) => return Err(e.into()),
    };
    serde_json::from_str(&text).map_err(|e| CliError::Refused(format!("{full}: {e}")))
}

/// The secret as stored, as a JSON object (empty when there is none). A stored secret that
/// is not a JSON object is refused: connect would otherwise throw away what is in it.
async fn stored(secrets: &SecretStore, name: &str) -> Result<Map<String, Value>, CliError> {
    match secrets.fresh_text(name).await {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(CliError::Refused(format!(
                "{} is not a JSON object; fix or delete it first, nothing changed",
                secrets.full_name(name)
            ))),
        },
        Err(SecretError::NotFound(_)) => Ok(Map::new()),
        Err(SecretError::Malformed { name, problem }) => {
            Err(CliError::Refused(format!("{name}: {problem}")))
        }
        Err(SecretError::Storage(e)) => Err(e.into()),
    }
}

/// The stored secret with `update`'s fields over it: what connect does not set (a
/// previous secret in its grace period, a callback URL) stays.
fn merged(mut stored: Map<String, Value>, update: Value) -> Value {
    if let Value::Object(fields) = update {
        stored.extend(fields);
    }
    Value::Object(stored)
}

fn text_field(stored: &Map<String, Value>, field: &str) -> Option<String> {
    stored
        .get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn random_secret(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(rand::random::<[u8; 24]>()))
}

/// `acme.myshopify.com` → `https://acme.myshopify.com`; a URL is kept (the sandbox's).
fn shop_url(shop: &str) -> Result<String, CliError> {
    let shop = shop.trim().trim_end_matches('/');
    let url = if shop.contains("://") {
        shop.to_owned()
    } else {
        format!("https://{shop}")
    };
    match reqwest::Url::parse(&url) {
        Ok(parsed) if parsed.host_str().is_some() => Ok(url),
        _ => Err(CliError::Usage(format!(
            "--shop {shop:?} is neither a shop domain (acme.myshopify.com) nor a URL"
        ))),
    }
}

fn store_name(name: &str) -> Result<(), CliError> {
    if domain::shipment::is_valid_store_name(name) {
        Ok(())
    } else {
        Err(CliError::Usage(format!("{name:?} is not a store name")))
    }
}

fn http() -> Result<reqwest::Client, CliError> {
    partners::http_client(std::time::Duration::from_secs(20))
        .map_err(|e| CliError::Startup(e.to_string()))
}

fn partner_refused(error: PartnerError) -> CliError {
    CliError::Refused(error.to_string())
}
