//! `courier-bridge`: the operator CLI. It connects stores and the courier to a stack
//! ([`connect`]), checks a stack ([`doctor`]), and works the review inbox (list, show, fix, release,
//! dismiss), the dead-letter queues (list, redrive), store configurations and shipments
//! (status, history, proof, messages) and cash on delivery (hand-overs, reconciliation,
//! cash-out tasks, reports), against a
//! stack deployed with CloudFormation or one the local runtime provisioned in an emulator
//! (the endpoint is the standard `AWS_ENDPOINT_URL`).
//!
//! The binary is a thin shell over [`run`] / [`execute`]; every command is also a function
//! ([`review::release`], [`dlq::redrive`], ...) that returns a typed result, which the tests
//! use directly.

pub mod cod;
pub mod connect;
pub mod dispatch;
pub mod dlq;
pub mod doctor;
pub mod error;
pub mod links;
mod render;
pub mod review;
pub mod rotate;
pub mod shipment;
pub mod stack;
pub mod store;

use aws::stack::StackStores;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};
use domain::Channel;
pub use error::CliError;
use serde::Serialize;
use stack::Stack;
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "courier-bridge",
    version,
    about = "Operate a courier-bridge stack: connect stores and the courier, check the stack (doctor), the review inbox, dead-letter queues, store settings, shipments.",
    after_help = "Resources come from the CloudFormation stack's outputs; when no such stack \
exists (the local runtime against an emulator), from the names `{stack}-{LogicalId}`. \
AWS_ENDPOINT_URL selects an emulator.\n\nExit codes: 0 ok, 1 refused (not open, invalid \
draft), 2 usage, 3 AWS error."
)]
pub struct Cli {
    /// Stack name: the CloudFormation stack, or the local runtime's `--stack`.
    #[arg(long, global = true, env = "COURIER_BRIDGE_STACK", value_name = "NAME")]
    pub stack: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The review inbox: orders and payloads that need a person.
    #[command(subcommand)]
    Review(ReviewCommand),
    /// Dead-letter queues: messages that failed for good.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// A store's configuration (trigger policy, service rules).
    #[command(subcommand)]
    Store(StoreCommand),
    /// A shipment: status, history, proof of delivery, customer messages.
    #[command(subcommand)]
    Shipment(ShipmentCommand),
    /// Cash on delivery: hand-overs, reconciliation, cash-out tasks, reports.
    #[command(subcommand)]
    Cod(CodCommand),
    /// The fleet: drivers, vehicles, shifts, skills, zones, pickup points (JSON,
    /// docs/dispatch.md).
    #[command(subcommand)]
    Fleet(FleetCommand),
    /// Route planning: plan a day now, show a day's plans.
    #[command(subcommand)]
    Dispatch(DispatchCommand),
    /// Customers' signed links: rotate their keys, make one by hand.
    #[command(subcommand)]
    Links(LinksCommand),
    /// Joins a store or the courier to the stack: stores its secret and registers the
    /// stack's webhooks at the partner (twice changes nothing; a refusal leaves nothing made).
    #[command(subcommand)]
    Connect(connect::ConnectCommand),
    /// Removes what connect made: the stack's registrations at the partner and the secret.
    #[command(subcommand)]
    Disconnect(connect::DisconnectCommand),
    /// One checklist for the stack: each store's secret, rules and webhooks, the courier,
    /// the message providers, the dead-letter queues, the alarms, the last order per
    /// channel; each line ok, warn or fail with the fix. Exits 1 on a fail.
    Doctor {
        /// Only this store's lines (the stack-wide ones stay).
        #[arg(long)]
        store: Option<String>,
        #[arg(long, env = "COURIER_BRIDGE_WEBHOOK_URL", value_name = "URL")]
        webhook_url: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Rotates a webhook sender's signing secret: the new one signs from now on, and the
    /// previous one is still accepted for --grace-hours, so nothing on its way is refused.
    Rotate {
        /// shopify, woocommerce or api (a store's webhooks), or courier (sandbox, onfleet).
        channel: String,
        /// The store's name in its webhook URL; for a courier, sandbox or onfleet.
        name: String,
        /// The new secret. Without it a random one is made and printed (WooCommerce, the
        /// generic API and the sandbox take any; Shopify signs with the app's secret: give
        /// that).
        #[arg(long)]
        secret: Option<String>,
        /// How long the previous secret stays accepted.
        #[arg(long, default_value_t = 72)]
        grace_hours: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum LinksCommand {
    /// Creates the link keys, or rotates them (the previous key stays accepted until the
    /// next rotation).
    Rotate,
    /// A signed link to a shipment's tracking page.
    Track {
        /// The shipment key, channel:store:order:shipment.
        #[arg(long)]
        shipment: String,
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Where the stack's pages are; default: the stack's `PagesUrl`.
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Checks a fleet file and stores it, replacing the current fleet.
    Put {
        #[arg(long, value_name = "PATH")]
        file: PathBuf,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Checks a fleet file without storing it: every mistake, with where it is.
    Check {
        #[arg(long, value_name = "PATH")]
        file: PathBuf,
    },
    /// The stored fleet, as JSON.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum DispatchCommand {
    /// Plans a day now (as the scheduled run does) and gives each driver their route at
    /// the courier; shipments no driver can take become review items.
    Plan {
        /// The local day in the fleet's time zone, YYYY-MM-DD.
        #[arg(long)]
        day: String,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        /// How long the solver may search; it stops earlier once the plan stops improving.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        #[arg(long)]
        json: bool,
    },
    /// A day's plans: each driver's stops in order with their expected times.
    Show {
        #[arg(long)]
        day: String,
        #[arg(long)]
        json: bool,
    },
    /// A plan's page (the routes drawn, a table per driver): the day's latest plan, or --plan.
    Page {
        #[arg(long)]
        day: String,
        #[arg(long, value_name = "ID")]
        plan: Option<String>,
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CodCommand {
    /// Records cash a courier handed over (once per receipt).
    Handover {
        /// platform/driver, as in the reports: sandbox/drv_01.
        #[arg(long)]
        courier: String,
        /// The day the cash was collected (YYYY-MM-DD; the fleet's local day, UTC without a
        /// fleet).
        #[arg(long)]
        day: String,
        /// The amount, e.g. 125.40 (exact; no more decimals than the currency has).
        #[arg(long)]
        amount: String,
        #[arg(long)]
        currency: String,
        /// The hand-over slip's number: the same slip typed twice counts once.
        #[arg(long)]
        receipt: String,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Reconciles a day now (as the nightly run does): lines, exceptions, cash-out tasks,
    /// report.
    Reconcile {
        #[arg(long)]
        day: String,
        #[arg(long)]
        json: bool,
    },
    /// The day's cash-out tasks: what each courier owes.
    Cashouts {
        #[arg(long)]
        day: String,
        #[arg(long)]
        json: bool,
    },
    /// The stored reports (of one day, or all).
    Reports {
        #[arg(long)]
        day: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Prints one report file (or writes it to --out).
    Report {
        #[arg(long)]
        day: String,
        /// couriers.csv, exceptions.csv or report.html.
        #[arg(long, default_value = "report.html")]
        file: String,
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ShipmentCommand {
    /// The shipment's status and path, proof, money, courier events and messages.
    Show {
        /// The shipment key, e.g. "shopify:acme:1001:1".
        key: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Items with a status (open by default), oldest first.
    List {
        #[arg(long, value_enum, default_value_t)]
        status: review::StatusFilter,
        #[arg(long)]
        json: bool,
    },
    /// One item: reasons with their values, the draft, the fixes, the source payload.
    Show {
        /// The item id ("review:shopify:acme:1001:1") or its subject ("shopify:acme:1001:1").
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Corrects fields of an open item's draft and re-validates it.
    Fix {
        /// The item id or its subject.
        id: String,
        /// A draft field and its value: phone=+4930901820, address.postal_code=10119,
        /// pieces=2 (JSON, or else text). Repeatable; all are stored together.
        #[arg(long = "set", value_name = "PATH=VALUE", required = true)]
        set: Vec<review::FieldFix>,
        /// Who fixes it, for the audit trail [default: $USER].
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Sends a valid draft on to the courier, exactly as a valid event would, and closes the
    /// item.
    Release {
        /// The item id or its subject.
        id: String,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Closes an item without sending anything on.
    Dismiss {
        /// The item id or its subject.
        id: String,
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Shows the messages in a queue's DLQ without consuming them.
    List {
        #[arg(long, value_enum, ignore_case = true)]
        queue: dlq::SourceQueue,
        #[arg(long, default_value_t = 100)]
        max: usize,
        #[arg(long)]
        json: bool,
    },
    /// Moves every message in a queue's DLQ back to the queue.
    Redrive {
        #[arg(long, value_enum, ignore_case = true)]
        queue: dlq::SourceQueue,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Prints the store's configuration (or the defaults it runs on).
    Show {
        #[arg(long, value_parser = channel_parser())]
        channel: Channel,
        #[arg(long)]
        store: String,
    },
    /// Replaces the store's configuration with a JSON file ("-": standard input).
    Put {
        #[arg(long, value_parser = channel_parser())]
        channel: Channel,
        #[arg(long)]
        store: String,
        #[arg(long, value_name = "PATH")]
        file: PathBuf,
    },
}

/// The channels, listed from the domain so `--help` and the parser never drift from it.
fn channel_parser() -> impl TypedValueParser<Value = Channel> {
    PossibleValuesParser::new(Channel::ALL.map(|c| c.as_str()))
        .try_map(|name| name.parse::<Channel>())
}

/// Parses `args` (the program name first) and runs the command against the AWS account or
/// emulator that the environment selects. `--help` and `--version` return their text.
pub async fn run<I, T>(args: I) -> Result<String, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => return Ok(e.to_string()),
        Err(e) => return Err(CliError::Usage(e.to_string())),
    };
    let sdk = aws::config::sdk_config().await;
    execute(cli, &sdk).await
}

/// Runs a parsed command; returns what it prints on success.
pub async fn execute(cli: Cli, sdk: &aws_config::SdkConfig) -> Result<String, CliError> {
    let name = cli.stack.filter(|s| !s.trim().is_empty()).ok_or_else(|| {
        CliError::Usage("--stack NAME is required (or COURIER_BRIDGE_STACK)".into())
    })?;
    let stack = Stack::resolve(sdk, &name).await?;
    match cli.command {
        // DLQs need the queues only, not the functions' whole configuration.
        Command::Dlq(command) => dlq_command(&stack, command).await,
        Command::Review(command) => review_command(&stores(sdk, &stack).await?, command).await,
        Command::Store(command) => store_command(&stores(sdk, &stack).await?, command).await,
        Command::Cod(command) => cod_command(&stores(sdk, &stack).await?, command).await,
        Command::Shipment(ShipmentCommand::Show { key, json }) => {
            let stores = stores(sdk, &stack).await?;
            let view = shipment::show(&stores, &key).await?;
            output(json, &view, shipment::render_show)
        }
        Command::Fleet(command) => fleet_command(&stores(sdk, &stack).await?, command).await,
        Command::Dispatch(command) => {
            dispatch_command(sdk, &stack, &stores(sdk, &stack).await?, command).await
        }
        Command::Links(command) => links_command(sdk, &stack, command).await,
        Command::Doctor {
            store,
            webhook_url,
            json,
        } => {
            let stores = stores(sdk, &stack).await?;
            let options = doctor::DoctorOptions {
                store,
                webhook_url,
                now_ms: domain::clock::now_ms(),
            };
            let report = doctor::run(sdk, &stack, &stores, &options).await?;
            let text = if json {
                serde_json::to_string_pretty(&report)
                    .map_err(|e| CliError::Startup(e.to_string()))?
            } else {
                report.render()
            };
            if report.failed() {
                Err(CliError::Unhealthy(text))
            } else {
                Ok(text)
            }
        }
        Command::Connect(command) => connect::connect(sdk, &stack, command).await,
        Command::Disconnect(command) => connect::disconnect(sdk, &stack, command).await,
        Command::Rotate {
            channel,
            name,
            secret,
            grace_hours,
        } => {
            rotate::rotate(
                &stack.secret_store(sdk),
                &channel,
                &name,
                secret,
                grace_hours,
                time::OffsetDateTime::now_utc(),
            )
            .await
        }
    }
}

async fn links_command(
    sdk: &aws_config::SdkConfig,
    stack: &Stack,
    command: LinksCommand,
) -> Result<String, CliError> {
    let secrets = stack.secret_store(sdk);
    match command {
        LinksCommand::Rotate => links::rotate(&secrets).await,
        LinksCommand::Track {
            shipment,
            days,
            base_url,
        } => {
            let key: domain::ShipmentKey = shipment.parse().map_err(|e| CliError::Input {
                what: "--shipment".into(),
                error: format!("{e}"),
            })?;
            let pages_url = match base_url.or_else(|| stack.pages_url()) {
                Some(url) => url,
                None => {
                    return Err(CliError::Usage(
                        "the stack has no PagesUrl: pass --base-url".into(),
                    ))
                }
            };
            links::track(&secrets, &pages_url, &key, days, domain::clock::now_ms()).await
        }
    }
}

fn read_text(path: &std::path::Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::Input {
        what: path.display().to_string(),
        error: e.to_string(),
    })
}

async fn fleet_command(stores: &StackStores, command: FleetCommand) -> Result<String, CliError> {
    match command {
        FleetCommand::Put { file, by } => {
            let fleet = dispatch::parse_fleet(&read_text(&file)?, &file.display().to_string())?;
            dispatch::put_fleet(stores, &fleet, &operator(by)).await
        }
        FleetCommand::Check { file } => {
            let fleet = dispatch::parse_fleet(&read_text(&file)?, &file.display().to_string())?;
            Ok(format!(
                "{} is a valid fleet: {} drivers, {} zones, {} pickup points",
                file.display(),
                fleet.drivers.len(),
                fleet.zones.len(),
                fleet.pickups.len()
            ))
        }
        FleetCommand::Show => dispatch::show_fleet(stores).await,
    }
}

async fn dispatch_command(
    sdk: &aws_config::SdkConfig,
    stack: &Stack,
    stores: &StackStores,
    command: DispatchCommand,
) -> Result<String, CliError> {
    match command {
        DispatchCommand::Plan {
            day,
            by,
            seconds,
            json,
        } => {
            let couriers = stack.couriers(sdk)?;
            let geocoder = stack.geocoder(sdk)?;
            let roads = stack.road_router(sdk)?;
            let geo = dispatch::Geo {
                geocoder: geocoder.as_ref().map(|g| g as &dyn domain::ports::Geocoder),
                roads: roads.as_ref().map(|r| r as &dyn domain::ports::RoadRouter),
            };
            let ran = dispatch::plan(stores, &couriers, geo, &day, &operator(by), seconds).await?;
            output(json, &ran, dispatch::render_ran)
        }
        DispatchCommand::Page { day, plan, out } => {
            let bytes = dispatch::page(stores, &day, plan.as_deref()).await?;
            write_out(out, &bytes)
        }
        DispatchCommand::Show { day, json } => {
            let plans = dispatch::plans(stores, &day).await?;
            output(json, &plans, |plans| {
                if plans.is_empty() {
                    format!("no plan for {day}")
                } else {
                    plans
                        .iter()
                        .map(dispatch::render_plan)
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            })
        }
    }
}

/// Every store and queue of the stack, as an operator sees them.
pub async fn stores(sdk: &aws_config::SdkConfig, stack: &Stack) -> Result<StackStores, CliError> {
    let resources = stack.resources().await?;
    StackStores::new(sdk, resources).map_err(|e| CliError::Startup(e.to_string()))
}

async fn dlq_command(stack: &Stack, command: DlqCommand) -> Result<String, CliError> {
    match command {
        DlqCommand::List { queue, max, json } => {
            let listed = dlq::list(stack, queue, max).await?;
            output(json, &listed, dlq::render_list)
        }
        DlqCommand::Redrive { queue } => {
            Ok(dlq::render_redriven(&dlq::redrive(stack, queue).await?))
        }
    }
}

async fn review_command(stores: &StackStores, command: ReviewCommand) -> Result<String, CliError> {
    match command {
        ReviewCommand::List { status, json } => {
            let items = review::list(stores, status).await?;
            output(json, &items, |items| review::render_list(items))
        }
        ReviewCommand::Show { id, json } => {
            let shown = review::show(stores, &id).await?;
            if json {
                to_json(&shown)
            } else {
                review::render_show(&shown)
            }
        }
        ReviewCommand::Fix { id, set, by } => {
            let fixed = review::fix(stores, &id, &set, &operator(by)).await?;
            Ok(review::render_fixed(&fixed))
        }
        ReviewCommand::Release { id, by } => {
            let released = review::release(stores, &id, &operator(by)).await?;
            Ok(review::render_released(&released))
        }
        ReviewCommand::Dismiss { id, reason, by } => {
            let id = review::dismiss(stores, &id, &reason, &operator(by)).await?;
            Ok(format!("dismissed {id}"))
        }
    }
}

async fn store_command(stores: &StackStores, command: StoreCommand) -> Result<String, CliError> {
    match command {
        StoreCommand::Show { channel, store } => {
            let config = store::show(stores, channel, &store).await?;
            store::render_show(channel, &store, config.as_ref())
        }
        StoreCommand::Put {
            channel,
            store,
            file,
        } => {
            let config = store::read_file(&file)?;
            store::put(stores, channel, &store, &config).await?;
            Ok(format!("stored the configuration of {channel}:{store}"))
        }
    }
}

async fn cod_command(stores: &StackStores, command: CodCommand) -> Result<String, CliError> {
    match command {
        CodCommand::Handover {
            courier,
            day,
            amount,
            currency,
            receipt,
            by,
            json,
        } => {
            let handover = domain::cod::Handover {
                courier: cod::courier(&courier)?,
                receipt,
                amount: cod::amount(&amount, &currency)?,
            };
            let recorded = cod::handover(stores, cod::day(&day)?, &handover, &operator(by)).await?;
            output(json, &recorded, cod::render_recorded)
        }
        CodCommand::Reconcile { day, json } => {
            let reconciled = cod::reconcile(stores, cod::day(&day)?).await?;
            output(json, &reconciled, cod::render_reconciled)
        }
        CodCommand::Cashouts { day, json } => {
            let lines = cod::cash_outs(stores, cod::day(&day)?).await?;
            output(json, &lines, |l| cod::render_cash_outs(l))
        }
        CodCommand::Reports { day, json } => {
            let day = day.as_deref().map(cod::day).transpose()?;
            let files = cod::reports(stores, day).await?;
            output(json, &files, |f| cod::render_reports(f))
        }
        CodCommand::Report { day, file, out } => {
            let bytes = cod::report(stores, cod::day(&day)?, &file).await?;
            write_out(out, &bytes)
        }
    }
}

/// A fetched file written to `out`, or printed.
fn write_out(out: Option<PathBuf>, bytes: &[u8]) -> Result<String, CliError> {
    match out {
        Some(path) => {
            std::fs::write(&path, bytes).map_err(|e| CliError::Input {
                what: format!("writing {}", path.display()),
                error: e.to_string(),
            })?;
            Ok(format!("wrote {} ({} bytes)", path.display(), bytes.len()))
        }
        None => Ok(String::from_utf8_lossy(bytes).trim_end().to_owned()),
    }
}

/// Who is acting, for resolutions and fix notes.
fn operator(by: Option<String>) -> String {
    by.or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "operator".to_owned())
}

fn output<T: Serialize + ?Sized>(
    json: bool,
    value: &T,
    text: impl FnOnce(&T) -> String,
) -> Result<String, CliError> {
    if json {
        to_json(value)
    } else {
        Ok(text(value))
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(value).map_err(|e| CliError::Input {
        what: "JSON output".into(),
        error: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_parse_into_commands() {
        let cli = Cli::try_parse_from([
            "courier-bridge",
            "review",
            "fix",
            "shopify:acme:1:1",
            "--set",
            "phone=+4930901820",
            "--set",
            "address.postal_code=10119",
            "--stack",
            "demo",
        ])
        .unwrap();
        assert_eq!(cli.stack.as_deref(), Some("demo"));
        let Command::Review(ReviewCommand::Fix { set, .. }) = cli.command else {
            panic!("not a fix: {cli:?}");
        };
        assert_eq!(set.len(), 2);

        let cli = Cli::try_parse_from([
            "courier-bridge",
            "--stack",
            "demo",
            "dlq",
            "list",
            "--queue",
            "tasks",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Command::Dlq(DlqCommand::List {
                queue: dlq::SourceQueue::TasksQueue,
                ..
            })
        ));
        let cli = Cli::try_parse_from([
            "courier-bridge",
            "store",
            "show",
            "--channel",
            "woocommerce",
            "--store",
            "acme",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Command::Store(StoreCommand::Show {
                channel: Channel::WooCommerce,
                ..
            })
        ));
    }

    #[test]
    fn malformed_input_is_a_usage_error() {
        for args in [
            &["courier-bridge", "review", "fix", "x", "--set", "phone"][..],
            &["courier-bridge", "review", "fix", "x"],
            &[
                "courier-bridge",
                "store",
                "show",
                "--channel",
                "ebay",
                "--store",
                "a",
            ],
            &["courier-bridge", "dlq", "list", "--queue", "ReviewQueue"],
            &["courier-bridge", "shipment", "show"],
            &["courier-bridge", "review", "list", "--status", "closed"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}
