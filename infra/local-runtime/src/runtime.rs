//! One local deployment: the stack provisioned from template.yaml, each function's services
//! built from the environment the template gives it, the HTTP routes served, the SQS
//! mappings polled.

use crate::functions::Function;
use crate::mappings::{self, Mapping};
use crate::process::{FunctionProcesses, ProcessOptions, ProcessStats};
use crate::provision::{self, ProvisionError, Stack};
use crate::template::{EventSpec, Template, TemplateError};
use aws::stack::{StackResources, StackStores};
use aws_config::SdkConfig;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    #[error("could not verify the e-mail sender {sender} in SES: {message}")]
    EmailSender { sender: String, message: String },
    #[error("function {function}: {message}")]
    Function { function: String, message: String },
    #[error("function {function}: {source}")]
    Process {
        function: String,
        source: crate::process::ProcessError,
    },
    #[error("could not serve the HTTP API on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    pub template: PathBuf,
    /// Prefix of every physical name: runs with different names never collide.
    pub stack_name: String,
    pub parameter_overrides: BTreeMap<String, String>,
    /// Extra environment for every function (e.g. shorter retries in tests), applied over
    /// what the template resolves to.
    pub env_overrides: BTreeMap<String, String>,
    pub http_addr: SocketAddr,
    /// Concurrent pollers per SQS mapping (Lambda scales out; so do we, a little).
    pub pollers_per_queue: usize,
    pub poll_wait_secs: u32,
    /// How the SQS mappings and the HTTP API invoke the functions.
    pub functions: FunctionMode,
}

/// How a function is invoked.
#[derive(Debug, Clone, Default)]
pub enum FunctionMode {
    /// Its handler, called in this process (tests and the demo).
    #[default]
    InProcess,
    /// Its own binary, as processes speaking the Lambda Runtime API (the benchmark).
    Processes(ProcessOptions),
}

impl RuntimeOptions {
    pub fn new(stack_name: &str) -> Self {
        RuntimeOptions {
            template: default_template_path(),
            stack_name: stack_name.to_owned(),
            // The sender of customer e-mail, verified in the emulator's SES at start.
            parameter_overrides: BTreeMap::from([(
                "NotifyEmailFrom".to_owned(),
                LOCAL_EMAIL_SENDER.to_owned(),
            )]),
            // CloudWatch picks EMF metrics out of a Lambda's stdout; locally they would
            // drown the demo's output, so they go to a file (one per stack).
            env_overrides: BTreeMap::from([(
                "METRICS_CAPTURE_FILE".to_owned(),
                std::env::temp_dir()
                    .join(format!("courier-bridge-metrics-{stack_name}.jsonl"))
                    .display()
                    .to_string(),
            )]),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            pollers_per_queue: 3,
            poll_wait_secs: 1,
            functions: FunctionMode::InProcess,
        }
    }
}

/// Verifies `sender` in the emulator's SES; an identity that exists already is fine.
pub async fn verify_email_sender(sdk: &SdkConfig, sender: &str) -> Result<(), RuntimeError> {
    let ses = aws_sdk_sesv2::Client::new(sdk);
    match ses
        .create_email_identity()
        .email_identity(sender)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_already_exists_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(RuntimeError::EmailSender {
            sender: sender.to_owned(),
            message: aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string(),
        }),
    }
}

/// Customer e-mail's sender in local runs.
pub const LOCAL_EMAIL_SENDER: &str = "deliveries@courier-bridge.local";

/// The repository's template.yaml (this crate lives in infra/local-runtime).
pub fn default_template_path() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml"))
}

pub struct LocalRuntime {
    pub stack: Stack,
    pub sdk: SdkConfig,
    /// e.g. "http://127.0.0.1:41234": the API Gateway stage URL.
    pub http_url: String,
    functions: BTreeMap<String, Arc<Function>>,
    /// Every table and queue of the stack, for the demo and the tests to look at.
    stores: Arc<StackStores>,
    processes: BTreeMap<String, Arc<FunctionProcesses>>,
    stop: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
}

/// What a scheduled function reported.
#[derive(Debug)]
pub enum Scheduled {
    CodReconcile(cod_reconcile::DayReport),
    ShipByWatch(ship_by_watch::ShipByReport),
    Dispatch(dispatch_function::DispatchReport),
}

impl LocalRuntime {
    pub async fn start(
        sdk: &SdkConfig,
        options: RuntimeOptions,
    ) -> Result<LocalRuntime, RuntimeError> {
        let mut options = options;
        // Bound first: the stack's pages are served here, and the functions that write
        // links to them are told so (the `PagesUrl` parameter), unless the caller says.
        let listener = tokio::net::TcpListener::bind(options.http_addr)
            .await
            .map_err(|source| RuntimeError::Bind {
                addr: options.http_addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| RuntimeError::Bind {
            addr: options.http_addr,
            source,
        })?;
        options
            .parameter_overrides
            .entry("PagesUrl".into())
            .or_insert_with(|| format!("http://{addr}"));
        let template = Template::from_path(&options.template)?;
        let stack = provision::provision(
            &template,
            &options.stack_name,
            &options.parameter_overrides,
            sdk,
        )
        .await?;
        // What an operator does once per account on AWS: verify the sender in SES.
        if let Some(sender) = options
            .parameter_overrides
            .get("NotifyEmailFrom")
            .filter(|s| !s.is_empty())
        {
            verify_email_sender(sdk, sender).await?;
        }
        let mut functions = BTreeMap::new();
        for (logical_id, function) in &stack.functions {
            let mut env = function.env.clone();
            env.extend(options.env_overrides.clone());
            let built = Function::build(&function.binary, sdk, &env).map_err(|message| {
                RuntimeError::Function {
                    function: logical_id.clone(),
                    message,
                }
            })?;
            functions.insert(logical_id.clone(), Arc::new(built));
        }
        let stores = Arc::new(StackStores::new(sdk, stack_resources(&stack)).map_err(|e| {
            RuntimeError::Function {
                function: "the stack".into(),
                message: e.to_string(),
            }
        })?);

        let mut processes = BTreeMap::new();
        if let FunctionMode::Processes(process_options) = &options.functions {
            for (logical_id, function) in &stack.functions {
                // Scheduled functions stay on demand (`invoke_scheduled`), in process.
                let invoked = function
                    .events
                    .iter()
                    .any(|e| matches!(e, EventSpec::Sqs { .. } | EventSpec::HttpApi { .. }));
                if !invoked {
                    continue;
                }
                let mut env = function.env.clone();
                env.extend(options.env_overrides.clone());
                let started = FunctionProcesses::start(
                    logical_id,
                    &format!("{}-{logical_id}", stack.name),
                    &function.binary,
                    &env,
                    std::time::Duration::from_secs(function.timeout_secs.into()),
                    process_options,
                )
                .await
                .map_err(|source| RuntimeError::Process {
                    function: logical_id.clone(),
                    source,
                })?;
                processes.insert(logical_id.clone(), Arc::new(started));
            }
        }

        let (stop, stopped) = watch::channel(false);
        let mut workers = Vec::new();
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let mut routes = Vec::new();
        for (logical_id, function) in &stack.functions {
            let built = functions[logical_id].clone();
            for event in &function.events {
                match event {
                    EventSpec::Sqs {
                        queue, batch_size, ..
                    } => {
                        if !built.takes_sqs() {
                            return Err(RuntimeError::Function {
                                function: logical_id.clone(),
                                message: format!("no SQS handler for binary {}", function.binary),
                            });
                        }
                        let info =
                            stack
                                .queues
                                .get(queue)
                                .ok_or_else(|| RuntimeError::Function {
                                    function: logical_id.clone(),
                                    message: format!(
                                        "event source queue {queue} is not in the stack"
                                    ),
                                })?;
                        let mapping = Arc::new(Mapping {
                            function: built.clone(),
                            sqs: sqs.clone(),
                            queue_url: info.url.clone(),
                            queue_arn: info.arn.clone(),
                            batch_size: *batch_size,
                            wait_secs: options.poll_wait_secs,
                            process: processes.get(logical_id).cloned(),
                        });
                        for _ in 0..options.pollers_per_queue.max(1) {
                            workers.push(tokio::spawn(mappings::poll(
                                mapping.clone(),
                                stopped.clone(),
                            )));
                        }
                    }
                    EventSpec::HttpApi { method, path } => {
                        let handler = match processes.get(logical_id) {
                            Some(process) => crate::gateway::HttpHandler::Process(process.clone()),
                            None => crate::gateway::HttpHandler::InProcess(built.clone()),
                        };
                        routes.push((method.to_ascii_uppercase(), path.clone(), handler));
                    }
                    // Run on demand with `invoke_scheduled` (the demo and tests do); a timer
                    // would fire during tests at unpredictable moments.
                    EventSpec::Schedule { .. } => {}
                }
            }
        }

        if !routes.is_empty() {
            let app = crate::gateway::router(&routes);
            let mut http_stop = stopped.clone();
            workers.push(tokio::spawn(async move {
                let shutdown = async move {
                    let _ = http_stop.wait_for(|s| *s).await;
                };
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
                {
                    tracing::error!(error = %e, "HTTP API stopped");
                }
            }));
        }

        Ok(LocalRuntime {
            stack,
            sdk: sdk.clone(),
            http_url: format!("http://{addr}"),
            functions,
            stores,
            processes,
            stop,
            workers,
        })
    }

    /// One function (by logical id), as the stack runs it.
    pub fn function(&self, logical_id: &str) -> Option<&Arc<Function>> {
        self.functions.get(logical_id)
    }

    /// Every table and queue of the stack.
    pub fn stores(&self) -> &Arc<StackStores> {
        &self.stores
    }

    pub fn queue_url(&self, logical_id: &str) -> Option<&str> {
        self.stack.queues.get(logical_id).map(|q| q.url.as_str())
    }

    /// Invokes each scheduled function once, as its EventBridge rule would now.
    pub async fn invoke_scheduled(&self) -> Vec<(String, Result<Scheduled, String>)> {
        let mut results = Vec::new();
        for (logical_id, function) in &self.stack.functions {
            let scheduled = function
                .events
                .iter()
                .any(|e| matches!(e, EventSpec::Schedule { .. }));
            if !scheduled {
                continue;
            }
            let result = match self.functions[logical_id].as_ref() {
                Function::CodReconcile(f) => {
                    let now = time::OffsetDateTime::now_utc()
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default();
                    let request = cod_reconcile::Request {
                        day: None,
                        time: Some(now),
                    };
                    f.handle(request)
                        .await
                        .map(Scheduled::CodReconcile)
                        .map_err(|e| e.to_string())
                }
                Function::ShipByWatch(f) => {
                    let event = aws_lambda_events::event::eventbridge::EventBridgeEvent::default();
                    f.handle(event)
                        .await
                        .map(Scheduled::ShipByWatch)
                        .map_err(|e| e.to_string())
                }
                Function::Dispatch(f) => f
                    .handle(Default::default(), &local_run_id())
                    .await
                    .map(Scheduled::Dispatch)
                    .map_err(|e| e.to_string()),
                _ => continue,
            };
            results.push((logical_id.clone(), result));
        }
        results
    }

    /// Plans `day` (local, in the fleet's time zone), as `{"day": ..., "requested_by": ...}`
    /// invokes dispatch.
    pub async fn dispatch(
        &self,
        day: &str,
        requested_by: &str,
    ) -> Result<dispatch_function::DispatchReport, RuntimeError> {
        let failed = |message: String| RuntimeError::Function {
            function: "dispatch".into(),
            message,
        };
        let dispatch = self
            .functions
            .values()
            .find_map(|f| match f.as_ref() {
                Function::Dispatch(d) => Some(d),
                _ => None,
            })
            .ok_or_else(|| failed("not in the stack".into()))?;
        let event = dispatch_function::DispatchEvent {
            day: Some(day.to_owned()),
            requested_by: Some(requested_by.to_owned()),
        };
        dispatch
            .handle(event, &local_run_id())
            .await
            .map_err(|e| failed(e.to_string()))
    }

    /// Reconciles one day's cash on delivery, as `{"day": ...}` invokes cod-reconcile.
    pub async fn reconcile_cod(
        &self,
        day: time::Date,
    ) -> Result<cod_reconcile::DayReport, RuntimeError> {
        let failed = |message: String| RuntimeError::Function {
            function: "cod-reconcile".into(),
            message,
        };
        let cod = self
            .functions
            .values()
            .find_map(|f| match f.as_ref() {
                Function::CodReconcile(cod) => Some(cod),
                _ => None,
            })
            .ok_or_else(|| failed("not in the stack".into()))?;
        cod.handle(cod_reconcile::Request::for_day(day))
            .await
            .map_err(|e| failed(e.to_string()))
    }

    /// Each function process (in [`FunctionMode::Processes`]) with its peak memory so far,
    /// by function logical id.
    pub fn process_stats(&self) -> BTreeMap<String, Vec<ProcessStats>> {
        self.processes
            .iter()
            .map(|(id, p)| (id.clone(), p.stats()))
            .collect()
    }

    /// Stops the pollers and the HTTP API, waiting for in-flight batches to finish, then the
    /// function processes.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for worker in self.workers {
            let _ = worker.await;
        }
        for (_, process) in self.processes {
            if let Ok(process) = Arc::try_unwrap(process) {
                process.stop().await;
            }
        }
    }

    /// Stops, then deletes the stack's tables and queues.
    pub async fn stop_and_teardown(self) -> Result<(), ProvisionError> {
        let stack = self.stack.clone();
        let sdk = self.sdk.clone();
        self.stop().await;
        provision::teardown(&stack, &sdk).await
    }
}

/// The stack's resources by logical id, as an operator's tools look them up.
fn stack_resources(stack: &Stack) -> StackResources {
    StackResources {
        tables: stack.tables.clone(),
        queues: stack
            .queues
            .iter()
            .map(|(id, q)| (id.clone(), q.url.clone()))
            .collect(),
        buckets: stack.buckets.clone(),
    }
}

/// A run id unique per invocation, as Lambda's request ids are: two runs in the same
/// millisecond must not share one (a dispatch plan's id is made from it).
fn local_run_id() -> String {
    format!(
        "local-{}-{:08x}",
        domain::clock::now_ms(),
        rand::random::<u32>()
    )
}
