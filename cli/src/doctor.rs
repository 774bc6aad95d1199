//! `courier-bridge doctor`: one checklist for a stack, each line ok, warn or fail with the
//! fix in words. It reads what the functions read (the secrets, the store rules, the
//! queues) and asks each partner what the functions would ask, so a line that says ok is
//! one the pipeline will find ok too. A fail makes the exit code non-zero; `--json` is the
//! same checklist for a pipeline.

use crate::error::CliError;
use crate::stack::Stack;
use aws::secrets::SecretStore;
use aws::stack::StackStores;
use domain::ports::{Secrets, ShipmentFind, ShipmentQuery, ShipmentStore, StoreRules};
use domain::Channel;
use partners::connect::{self as registry, WebhookAdmin};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Warn,
    Fail,
}

/// One line of the checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub outcome: Outcome,
    /// What was checked: `secret shopify/acme`, `dlq TasksDLQ`.
    pub check: String,
    pub detail: String,
    /// What to do about a warn or a fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub stack: String,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.outcome == Outcome::Fail)
    }

    /// The lines with one outcome.
    pub fn with(&self, outcome: Outcome) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(move |c| c.outcome == outcome)
    }

    pub fn render(&self) -> String {
        let mut lines = vec![format!("courier-bridge doctor: stack {}", self.stack)];
        for c in &self.checks {
            let mark = match c.outcome {
                Outcome::Ok => "ok  ",
                Outcome::Warn => "warn",
                Outcome::Fail => "FAIL",
            };
            lines.push(format!("{mark}  {:<40} {}", c.check, c.detail));
            if let Some(fix) = &c.fix {
                lines.push(format!("      {:<40} fix: {fix}", ""));
            }
        }
        let count = |o| self.with(o).count();
        lines.push(format!(
            "{} ok, {} warn, {} fail",
            count(Outcome::Ok),
            count(Outcome::Warn),
            count(Outcome::Fail)
        ));
        lines.join("\n")
    }

    fn push(&mut self, outcome: Outcome, check: impl Into<String>, detail: impl Into<String>) {
        self.checks.push(Check {
            outcome,
            check: check.into(),
            detail: detail.into(),
            fix: None,
        });
    }

    fn push_fix(
        &mut self,
        outcome: Outcome,
        check: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.checks.push(Check {
            outcome,
            check: check.into(),
            detail: detail.into(),
            fix: Some(fix.into()),
        });
    }
}

#[derive(Debug, Clone, Default)]
pub struct DoctorOptions {
    /// Only this store's lines (the stack-wide ones stay).
    pub store: Option<String>,
    /// The stack's webhook base URL when it has no `WebhookUrl` output.
    pub webhook_url: Option<String>,
    pub now_ms: i64,
}

/// The secrets of senders with stores, by channel.
const STORE_CHANNELS: [Channel; 4] = [
    Channel::Shopify,
    Channel::WooCommerce,
    Channel::Amazon,
    Channel::Api,
];
const DEAD_LETTER_QUEUES: [(&str, &str); 5] = [
    ("IntakeDLQ", "IntakeQueue"),
    ("TasksDLQ", "TasksQueue"),
    ("SyncDLQ", "SyncQueue"),
    ("OutboxDLQ", "OutboxQueue"),
    ("AmazonNotificationsDLQ", "AmazonNotificationsQueue"),
];
/// How far back the last order per channel is looked for.
const RECENT_DAYS: i64 = 2;

pub async fn run(
    sdk: &aws_config::SdkConfig,
    stack: &Stack,
    stores: &StackStores,
    options: &DoctorOptions,
) -> Result<Report, CliError> {
    let secrets = stack.secret_store(sdk);
    let http = partners::http_client(std::time::Duration::from_secs(10))
        .map_err(|e| CliError::Startup(e.to_string()))?;
    let mut report = Report {
        stack: stack.name.clone(),
        checks: Vec::new(),
    };
    let webhook_url = stack.webhook_url(options.webhook_url.as_deref()).ok();
    if webhook_url.is_none() {
        report.push_fix(
            Outcome::Warn,
            "webhook URL",
            "the stack has no WebhookUrl output: webhooks are not compared with it",
            "pass --webhook-url (make up prints it)",
        );
    }
    let connected = connected_stores(sdk, stack, options.store.as_deref()).await?;
    if connected.is_empty() {
        report.push_fix(
            Outcome::Warn,
            "stores",
            "no store has a secret: no order can come in",
            "courier-bridge connect <shopify|woocommerce|amazon|api> --store NAME ...",
        );
    }
    for (channel, store) in &connected {
        check_store(
            &mut report,
            &secrets,
            stack,
            stores,
            http.clone(),
            *channel,
            store,
            webhook_url.as_deref(),
        )
        .await;
    }
    check_courier(&mut report, &secrets, stack, http, webhook_url.as_deref()).await;
    check_notifications(&mut report, sdk, &secrets, stack).await;
    check_dead_letters(&mut report, stack).await;
    check_alarms(&mut report, stack);
    check_last_events(&mut report, stores, &connected, options.now_ms).await?;
    Ok(report)
}

/// `(channel, store)` for every store secret under the stack's prefix.
async fn connected_stores(
    sdk: &aws_config::SdkConfig,
    stack: &Stack,
    only: Option<&str>,
) -> Result<Vec<(Channel, String)>, CliError> {
    let prefix = stack.secrets_prefix();
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let mut found = Vec::new();
    let mut pages = client
        .list_secrets()
        .filters(
            aws_sdk_secretsmanager::types::Filter::builder()
                .key(aws_sdk_secretsmanager::types::FilterNameStringType::Name)
                .values(&prefix)
                .build(),
        )
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws::classify("ListSecrets", e))?;
        for entry in page.secret_list() {
            // A secret scheduled for deletion (a disconnect) is no store.
            if entry.deleted_date().is_some() {
                continue;
            }
            let Some(rest) = entry.name().and_then(|n| n.strip_prefix(prefix.as_str())) else {
                continue;
            };
            let Some((channel, store)) = rest.split_once('/') else {
                continue;
            };
            let Ok(channel) = channel.parse::<Channel>() else {
                continue;
            };
            if STORE_CHANNELS.contains(&channel) && only.is_none_or(|o| o == store) {
                found.push((channel, store.to_owned()));
            }
        }
    }
    found.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    found.dedup();
    Ok(found)
}

#[allow(clippy::too_many_arguments)]
async fn check_store(
    report: &mut Report,
    secrets: &SecretStore,
    stack: &Stack,
    stores: &StackStores,
    http: reqwest::Client,
    channel: Channel,
    store: &str,
    webhook_url: Option<&str>,
) {
    let name = format!("{channel}/{store}");
    let reconnect = format!("courier-bridge connect {channel} --store {store} ...");
    // The secret, in the shape the functions read.
    let text = match secrets.fresh_text(&name).await {
        Ok(text) => text,
        Err(e) => {
            report.push_fix(
                Outcome::Fail,
                format!("secret {name}"),
                e.to_string(),
                reconnect,
            );
            return;
        }
    };
    let parsed: Result<Box<dyn WebhookAdmin>, String> = match channel {
        Channel::Shopify => parse::<partners::stores::shopify::ShopifyCredentials>(&text)
            .and_then(|c| webhook_secret(&text).map(|()| c))
            .map(|c| {
                Box::new(registry::shopify::ShopifyWebhooks::new(
                    http,
                    &c.admin_base_url(store),
                    &c.admin_access_token,
                )) as Box<dyn WebhookAdmin>
            }),
        Channel::WooCommerce => {
            parse::<partners::stores::woocommerce::WooCommerceCredentials>(&text)
                .and_then(|c| webhook_secret(&text).map(|()| c))
                .and_then(|c| {
                    partners::stores::woocommerce::WooCommerceRest::from_credentials(http, &c)
                        .map(|rest| {
                            Box::new(registry::woocommerce::WooCommerceWebhooks::new(
                                rest,
                                &c.webhook_secret,
                            )) as Box<dyn WebhookAdmin>
                        })
                        .map_err(|e| e.to_string())
                })
        }
        Channel::Amazon => parse::<partners::stores::amazon::AmazonCredentials>(&text).map(|c| {
            Box::new(registry::amazon::AmazonNotifications::new(http, c)) as Box<dyn WebhookAdmin>
        }),
        _ => parse::<partners::stores::api::ApiCredentials>(&text)
            .and_then(|_| webhook_secret(&text))
            .map(|()| Box::new(NoRegistry) as Box<dyn WebhookAdmin>),
    };
    let admin = match parsed {
        Ok(admin) => {
            report.push(Outcome::Ok, format!("secret {name}"), "well-formed");
            admin
        }
        Err(problem) => {
            report.push_fix(
                Outcome::Fail,
                format!("secret {name}"),
                format!(
                    "{} is not what the functions read: {problem}",
                    secrets.full_name(&name)
                ),
                reconnect,
            );
            return;
        }
    };
    // The store's rules.
    let config = match stores.stores.read(channel, store).await {
        Ok(Some(config)) => {
            report.push(Outcome::Ok, format!("rules {channel}/{store}"), "parse");
            config
        }
        Ok(None) => {
            report.push(
                Outcome::Ok,
                format!("rules {channel}/{store}"),
                "none stored: the defaults",
            );
            domain::StoreConfig::default()
        }
        Err(e) => {
            report.push_fix(
                Outcome::Fail,
                format!("rules {channel}/{store}"),
                e.to_string(),
                format!("courier-bridge store put --channel {channel} --store {store} --file rules.json"),
            );
            return;
        }
    };
    // Where its events go.
    let (topics, target) = match channel {
        Channel::Shopify => (
            registry::shopify::topics(&config),
            webhook_url.map(|base| registry::webhook_url(base, "shopify", store)),
        ),
        Channel::WooCommerce => (
            registry::woocommerce::topics(),
            webhook_url.map(|base| registry::webhook_url(base, "woocommerce", store)),
        ),
        Channel::Amazon => (
            registry::amazon::topics(),
            stack.amazon_queue_arn().await.ok(),
        ),
        _ => return,
    };
    let Some(target) = target else {
        return;
    };
    check_registrations(
        report,
        admin.as_ref(),
        &format!("webhooks {name}"),
        &topics,
        &target,
        &reconnect,
    )
    .await;
}

/// The partner's registrations against what the stack needs.
async fn check_registrations(
    report: &mut Report,
    admin: &dyn WebhookAdmin,
    check: &str,
    topics: &[String],
    target: &str,
    reconnect: &str,
) {
    let existing = match admin.list().await {
        Ok(existing) => existing,
        Err(e) => {
            report.push_fix(Outcome::Fail, check, e.to_string(), reconnect);
            return;
        }
    };
    let standing = registry::standing(&existing, topics, target);
    let elsewhere: Vec<String> = standing
        .elsewhere
        .iter()
        .map(|s| format!("{} → {}", s.topic, s.url))
        .collect();
    if standing.missing.is_empty() {
        report.push(
            Outcome::Ok,
            check,
            format!("{} topic(s) go to {target}", standing.present.len()),
        );
    } else {
        let mut detail = format!("{} not sent to {target}", standing.missing.join(", "));
        if !elsewhere.is_empty() {
            detail.push_str(&format!(" (sent to: {})", elsewhere.join(", ")));
        }
        report.push_fix(
            Outcome::Fail,
            check,
            detail,
            format!("{reconnect} (add --replace to move them from another URL)"),
        );
        return;
    }
    if !standing.elsewhere.is_empty() {
        report.push_fix(
            Outcome::Warn,
            check,
            format!("also sent elsewhere: {}", elsewhere.join(", ")),
            format!("{reconnect} --replace, if those are an old stack's"),
        );
    }
}

/// The generic API registers nothing at the store.
struct NoRegistry;

#[async_trait::async_trait]
impl WebhookAdmin for NoRegistry {
    fn partner(&self) -> &'static str {
        "api"
    }
    async fn preflight(&self, _topics: &[String]) -> Result<(), domain::PartnerError> {
        Ok(())
    }
    async fn list(&self) -> Result<Vec<registry::Subscription>, domain::PartnerError> {
        Ok(Vec::new())
    }
    async fn create(
        &self,
        _topic: &str,
        _url: &str,
    ) -> Result<registry::Subscription, domain::PartnerError> {
        Err(domain::PartnerError::config(
            "api",
            "the generic API registers nothing",
        ))
    }
    async fn delete(&self, _s: &registry::Subscription) -> Result<(), domain::PartnerError> {
        Ok(())
    }
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// The signing part, rotation fields included, as webhook-intake reads it.
fn webhook_secret(text: &str) -> Result<(), String> {
    let secret: channels::webhook_secret::WebhookSecret = parse(text)?;
    if secret.webhook_secret.trim().is_empty() {
        return Err("the webhook secret is empty".into());
    }
    Ok(())
}

async fn check_courier(
    report: &mut Report,
    secrets: &SecretStore,
    stack: &Stack,
    http: reqwest::Client,
    webhook_url: Option<&str>,
) {
    let kind = stack.parameter("CourierName", "sandbox");
    let name = format!("courier/{kind}");
    let check = format!("courier {kind}");
    let reconnect = format!("courier-bridge connect {kind} ...");
    let text = match secrets.fresh_text(&name).await {
        Ok(text) => text,
        Err(e) => {
            report.push_fix(Outcome::Fail, check, e.to_string(), reconnect);
            return;
        }
    };
    let webhook_secret = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["webhook_secret"].as_str().map(str::to_owned))
        .filter(|s| !s.trim().is_empty());
    if webhook_secret.is_none() {
        report.push_fix(
            Outcome::Fail,
            format!("secret {name}"),
            "no webhook_secret: the courier's status webhooks cannot be verified",
            reconnect.clone(),
        );
    }
    let (admin, topics): (Box<dyn WebhookAdmin>, Vec<String>) = match kind.as_str() {
        "onfleet" => match parse::<partners::couriers::onfleet::OnfleetCredentials>(&text) {
            Ok(c) => {
                let admin = registry::onfleet::OnfleetWebhooks::new(http, c);
                match admin.authenticate().await {
                    Ok(()) => {
                        report.push(Outcome::Ok, check.clone(), "answers and accepts our key")
                    }
                    Err(e) => {
                        report.push_fix(Outcome::Fail, check, e.to_string(), reconnect);
                        return;
                    }
                }
                (Box::new(admin), registry::onfleet::topics())
            }
            Err(e) => {
                report.push_fix(Outcome::Fail, format!("secret {name}"), e, reconnect);
                return;
            }
        },
        _ => match parse::<partners::couriers::sandbox::SandboxCredentials>(&text) {
            Ok(c) => {
                let admin = registry::sandbox::SandboxWebhook::new(http, c, "");
                match admin.list().await {
                    Ok(_) => report.push(Outcome::Ok, check.clone(), "answers and accepts our key"),
                    Err(e) => {
                        report.push_fix(Outcome::Fail, check, e.to_string(), reconnect);
                        return;
                    }
                }
                (Box::new(admin), registry::sandbox::topics())
            }
            Err(e) => {
                report.push_fix(Outcome::Fail, format!("secret {name}"), e, reconnect);
                return;
            }
        },
    };
    if let Some(base) = webhook_url {
        let target = registry::webhook_url(base, "courier", &kind);
        check_registrations(
            report,
            admin.as_ref(),
            &format!("webhooks courier/{kind}"),
            &topics,
            &target,
            &reconnect,
        )
        .await;
    }
}

async fn check_notifications(
    report: &mut Report,
    sdk: &aws_config::SdkConfig,
    secrets: &SecretStore,
    stack: &Stack,
) {
    let sms = stack.parameter("NotifySmsProvider", "twilio");
    let whatsapp = stack.parameter("NotifyWhatsAppProvider", "twilio");
    for (what, provider) in [("sms", &sms), ("whatsapp", &whatsapp)] {
        let check = format!("notify {what}");
        match provider.as_str() {
            "twilio" => {
                let name = partners::notifiers::TWILIO_SECRET;
                let credentials = match secrets.fresh_text(name).await {
                    Ok(text) => parse::<partners::notifiers::twilio::TwilioCredentials>(&text),
                    Err(e) => Err(e.to_string()),
                };
                let fix = format!(
                    "put {{\"account_sid\", \"auth_token\", \"sms_from\"}} in {}",
                    secrets.full_name(name)
                );
                match credentials {
                    Ok(c) => {
                        let from = if what == "sms" {
                            &c.sms_from
                        } else {
                            &c.whatsapp_from
                        };
                        if from.is_some() || c.messaging_service_sid.is_some() {
                            report.push(Outcome::Ok, check, "twilio, with a sender");
                        } else {
                            report.push_fix(
                                Outcome::Fail,
                                check,
                                format!("twilio has no {what}_from and no messaging_service_sid"),
                                fix,
                            );
                        }
                    }
                    Err(problem) => {
                        report.push_fix(Outcome::Fail, check, format!("twilio: {problem}"), fix)
                    }
                }
            }
            "off" => report.push_fix(
                Outcome::Warn,
                check,
                "off: customers get no messages this way",
                format!(
                    "deploy with Notify{}Provider=twilio",
                    if what == "sms" { "Sms" } else { "WhatsApp" }
                ),
            ),
            other => report.push(
                Outcome::Ok,
                check,
                format!("{other} (messages are kept, not sent)"),
            ),
        }
    }
    let email = stack.parameter("NotifyEmailProvider", "ses");
    if email != "ses" {
        report.push(Outcome::Ok, "notify email", email);
        return;
    }
    let from = stack.parameter("NotifyEmailFrom", "");
    if from.trim().is_empty() {
        report.push_fix(
            Outcome::Fail,
            "notify email",
            "SES has no sender: NotifyEmailFrom is empty",
            "deploy with NotifyEmailFrom=deliveries@your-domain, verified in SES",
        );
        return;
    }
    let ses = aws_sdk_sesv2::Client::new(sdk);
    // The address, else its domain: either verified lets SES send as it.
    let domain = from.rsplit_once('@').map(|(_, d)| d.to_owned());
    let mut verified = false;
    let mut problem = None;
    for identity in std::iter::once(from.clone()).chain(domain) {
        match ses
            .get_email_identity()
            .email_identity(&identity)
            .send()
            .await
        {
            // Either says it: some SES-compatible APIs fill in only the status.
            Ok(out)
                if out.verified_for_sending_status()
                    || out.verification_status()
                        == Some(&aws_sdk_sesv2::types::VerificationStatus::Success) =>
            {
                verified = true;
                break;
            }
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_not_found_exception()) => {}
            Err(e) => problem = Some(aws::classify("GetEmailIdentity", e).to_string()),
        }
    }
    match (verified, problem) {
        (true, _) => report.push(Outcome::Ok, "notify email", format!("ses, {from} verified")),
        (false, Some(problem)) => report.push_fix(
            Outcome::Warn,
            "notify email",
            format!("could not ask SES about {from}: {problem}"),
            "allow ses:GetEmailIdentity, or check the sender in the SES console",
        ),
        (false, None) => report.push_fix(
            Outcome::Fail,
            "notify email",
            format!("{from} is not verified in SES: every e-mail would be refused"),
            format!("aws sesv2 create-email-identity --email-identity {from}, then click the link SES sends"),
        ),
    }
}

async fn check_dead_letters(report: &mut Report, stack: &Stack) {
    for (dlq, source) in DEAD_LETTER_QUEUES {
        let check = format!("dlq {dlq}");
        let url = match stack.queue_url(dlq).await {
            Ok(url) => url,
            Err(e) => {
                report.push(Outcome::Warn, check, e.to_string());
                continue;
            }
        };
        let attributes = stack
            .sqs()
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(
                aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            )
            .send()
            .await;
        let count = match attributes {
            Ok(out) => out
                .attributes()
                .map(|a| {
                    a.values()
                        .filter_map(|v| v.parse::<u64>().ok())
                        .sum::<u64>()
                })
                .unwrap_or(0),
            Err(e) => {
                report.push(
                    Outcome::Warn,
                    check,
                    aws::classify("GetQueueAttributes", e).to_string(),
                );
                continue;
            }
        };
        if count == 0 {
            report.push(Outcome::Ok, check, "empty");
        } else {
            report.push_fix(
                Outcome::Fail,
                check,
                format!("{count} message(s) failed for good"),
                format!(
                    "courier-bridge dlq list --queue {source}; fix the cause; courier-bridge dlq redrive --queue {source}"
                ),
            );
        }
    }
}

/// Every alarm in template.yaml notifies `AlarmTopicArn`, and only it.
fn check_alarms(report: &mut Report, stack: &Stack) {
    let topic = stack.parameter("AlarmTopicArn", "");
    if topic.trim().is_empty() {
        report.push_fix(
            Outcome::Warn,
            "alarms",
            "no topic: the alarms (a DLQ not empty, a failure rate) notify no one",
            "deploy with AlarmTopicArn=<an SNS topic someone reads>",
        );
    } else {
        report.push(Outcome::Ok, "alarms", format!("notify {topic}"));
    }
}

/// The newest order event per channel of the connected stores, in the last two days.
async fn check_last_events(
    report: &mut Report,
    stores: &StackStores,
    connected: &[(Channel, String)],
    now_ms: i64,
) -> Result<(), CliError> {
    let mut channels: Vec<Channel> = connected.iter().map(|(c, _)| *c).collect();
    channels.dedup();
    if channels.is_empty() {
        return Ok(());
    }
    let mut newest: HashMap<Channel, (i64, String)> = HashMap::new();
    'days: for back in 0..RECENT_DAYS {
        let Some(day) = domain::ports::utc_day(now_ms - back * 86_400_000) else {
            break;
        };
        let mut after = None;
        // Newest first: a channel's first shipment is its newest; a few pages suffice.
        for _ in 0..4 {
            let page = stores
                .shipments
                .search(&ShipmentQuery {
                    find: ShipmentFind::Day {
                        day: day.clone(),
                        store: None,
                        status: None,
                    },
                    limit: 100,
                    after,
                })
                .await?;
            for record in &page.shipments {
                let key = &record.shipment.key;
                newest.entry(key.channel).or_insert((
                    record.source_event_ms,
                    format!("{}:{}", key.channel, key.store),
                ));
            }
            if channels.iter().all(|c| newest.contains_key(c)) {
                break 'days;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    for channel in channels {
        let check = format!("last event {channel}");
        match newest.get(&channel) {
            Some((at, store)) => {
                let minutes = (now_ms - at).max(0) / 60_000;
                let age = if minutes < 120 {
                    format!("{minutes} min ago")
                } else {
                    format!("{} h ago", minutes / 60)
                };
                report.push(Outcome::Ok, check, format!("{age} ({store})"));
            }
            None => report.push_fix(
                Outcome::Warn,
                check,
                format!("no order in the last {} h", RECENT_DAYS * 24),
                "if the store has had orders, check its webhooks above and the review inbox",
            ),
        }
    }
    Ok(())
}
