//! The stack's functions, each built as its own `main` builds it: its typed configuration
//! from the environment template.yaml gives it (and only that), then its adapters. Named by
//! the binary template.yaml deploys.

use aws::config::Env;
use aws_config::SdkConfig;
use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use cod_reconcile::CodReconcile;
use console_function::Console;
use create_task::CreateTask;
use dispatch_function::Dispatch;
use marketplace_intake::MarketplaceIntake;
use normalize::Normalize;
use notify::Notify;
use ship_by_watch::ShipByWatch;
use status_sync::StatusSync;
use std::collections::BTreeMap;
use web_function::Web;
use webhook_intake::WebhookIntake;

/// One function of the stack, ready to invoke in this process.
pub enum Function {
    WebhookIntake(WebhookIntake),
    Normalize(Normalize),
    CreateTask(CreateTask),
    StatusSync(StatusSync),
    Notify(Notify),
    MarketplaceIntake(MarketplaceIntake),
    CodReconcile(CodReconcile),
    ShipByWatch(ShipByWatch),
    Dispatch(Dispatch),
    Web(Web),
    Console(Console),
}

impl Function {
    /// Builds the function deployed as `binary` from `env`, as its `main` would.
    pub fn build(
        binary: &str,
        sdk: &SdkConfig,
        env: &BTreeMap<String, String>,
    ) -> Result<Function, String> {
        Function::build_from(binary, sdk, &|name| env.get(name).cloned())
    }

    /// [`Function::build`] from any lookup of its variables (a test records which ones a
    /// function reads with it).
    pub fn build_from(
        binary: &str,
        sdk: &SdkConfig,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Function, String> {
        let env = || Env::new(lookup);
        let problem = |e: &dyn std::fmt::Display| e.to_string();
        Ok(match binary {
            "webhook-intake" => {
                let config = webhook_intake::Config::read(env()).map_err(|e| problem(&e))?;
                Function::WebhookIntake(WebhookIntake::new(sdk, config).map_err(|e| problem(&e))?)
            }
            "normalize" => {
                let config = normalize::Config::read(env()).map_err(|e| problem(&e))?;
                Function::Normalize(Normalize::new(sdk, config).map_err(|e| problem(&e))?)
            }
            "create-task" => {
                let config = create_task::Config::read(env()).map_err(|e| problem(&e))?;
                Function::CreateTask(CreateTask::new(sdk, config).map_err(|e| problem(&e))?)
            }
            "status-sync" => {
                let config = status_sync::Config::read(env()).map_err(|e| problem(&e))?;
                Function::StatusSync(StatusSync::new(sdk, config).map_err(|e| problem(&e))?)
            }
            "notify" => {
                let config = notify::Config::read(env()).map_err(|e| problem(&e))?;
                Function::Notify(Notify::new(sdk, config).map_err(|e| problem(&e))?)
            }
            "marketplace-intake" => {
                let config = marketplace_intake::Config::read(env()).map_err(|e| problem(&e))?;
                Function::MarketplaceIntake(
                    MarketplaceIntake::new(sdk, config).map_err(|e| problem(&e))?,
                )
            }
            "cod-reconcile" => {
                let config = cod_reconcile::Config::read(env()).map_err(|e| problem(&e))?;
                Function::CodReconcile(CodReconcile::new(sdk, config).map_err(|e| problem(&e))?)
            }
            "ship-by-watch" => {
                let config = ship_by_watch::Config::read(env()).map_err(|e| problem(&e))?;
                Function::ShipByWatch(ShipByWatch::new(sdk, config).map_err(|e| problem(&e))?)
            }
            "dispatch" => {
                let config = dispatch_function::Config::read(env()).map_err(|e| problem(&e))?;
                Function::Dispatch(Dispatch::new(sdk, config).map_err(|e| problem(&e))?)
            }
            "web" => {
                let config = web_function::Config::read(env()).map_err(|e| problem(&e))?;
                Function::Web(Web::new(sdk, config).map_err(|e| problem(&e))?)
            }
            "console" => {
                let config = console_function::Config::read(env()).map_err(|e| problem(&e))?;
                Function::Console(Console::new(sdk, config).map_err(|e| problem(&e))?)
            }
            other => return Err(format!("no function is deployed as binary {other:?}")),
        })
    }

    /// Whether an SQS event source can invoke it.
    pub fn takes_sqs(&self) -> bool {
        matches!(
            self,
            Function::Normalize(_)
                | Function::CreateTask(_)
                | Function::StatusSync(_)
                | Function::Notify(_)
                | Function::MarketplaceIntake(_)
        )
    }

    /// Invokes it with a batch of an SQS event source.
    pub async fn invoke_sqs(&self, event: SqsEvent) -> SqsBatchResponse {
        match self {
            Function::Normalize(f) => f.handle(event).await,
            Function::CreateTask(f) => f.handle(event).await,
            Function::StatusSync(f) => f.handle(event).await,
            Function::Notify(f) => f.handle(event).await,
            Function::MarketplaceIntake(f) => f.handle(event).await,
            // Not an SQS consumer: every record comes back, as Lambda would treat an
            // invocation that fails.
            _ => aws::batch::fail_all(&event),
        }
    }

    /// Invokes it with an HTTP API request.
    pub async fn invoke_http(&self, request: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        match self {
            Function::WebhookIntake(f) => f.handle(request).await,
            Function::Web(f) => f.handle(request).await,
            Function::Console(f) => f.handle(request).await,
            _ => {
                let mut response = ApiGatewayV2httpResponse::default();
                response.status_code = 500;
                response
            }
        }
    }
}
