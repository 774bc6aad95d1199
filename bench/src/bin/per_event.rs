//! The cost of one event, per function: start-up (process start → its first poll of the
//! Runtime API), cold start (process start → first answer), CPU per warm event (new and
//! duplicate, the process's utime + stime), peak memory (`VmHWM`) and the AWS calls it made
//! per event, counted by operation.
//!
//! Each function runs as one release-build process behind the Lambda Runtime API emulator
//! (`local_runtime::runtime_api`), against the AWS emulator through [`EmulatorProxy`], which
//! counts the calls and either closes every connection after its answer, as moto server
//! does, or keeps connections alive, as AWS does; both modes are measured. webhook-intake is
//! measured against its peer, `bench/peer/intake.py` (Python, boto3, AWS Lambda Powertools
//! idempotency, run by `awslambdaric`), the two alternating round by round against the same
//! Runtime API emulator and the same emulator.
//!
//! Events are real and fresh: signed Shopify orders with new ids for webhook-intake; for
//! each later function the very messages the one before it queued (normalize, create-task
//! with the sandbox courier, status-sync, notify); Amazon's published notification with a
//! new notification id for marketplace-intake; scheduled events for cod-reconcile and
//! ship-by-watch. A duplicate is the same event handed again. Every answer is checked: a
//! benchmark of failures measures nothing.
//!
//! `BENCH_EVENTS` (default 200) events per measurement, `BENCH_ROUNDS` (default 3) alternating
//! rounds for webhook-intake and its peer (the median round is reported), `BENCH_MODES`
//! (default `close,keep-alive`) the connection modes. Run under
//! `infra/scripts/with-emulator.sh` after `cargo build --release` of the functions.

use courier_bridge_bench::proxy::{calls_between, Connections, EmulatorProxy};
use courier_bridge_bench::stack::{
    scheduled_event, sqs_event_with_body, summarize, BenchStack, STORE,
};
use courier_bridge_bench::{
    bin_dir, env_usize, fixtures, paid_order, results_dir, shopify_request, BenchError, EventCost,
    PeerComparison, PerEvent,
};
use local_runtime::process::{cpu_time, lambda_service_environment, logged_command, peak_rss_kib};
use local_runtime::runtime_api::RuntimeApi;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("per_event: {e}");
        std::process::exit(1);
    }
}

/// What is started: one of our function binaries, or the Python peer.
struct Subject {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    dir: Option<PathBuf>,
    env: BTreeMap<String, String>,
    timeout: Duration,
}

/// The events of one measurement and the answers each must get.
struct Workload {
    first: Vec<u8>,
    new: Vec<Vec<u8>>,
    duplicates: Vec<Vec<u8>>,
    /// What every new answer must be (`summarize`'s text), and every duplicate's.
    new_answer: &'static str,
    duplicate_answer: &'static str,
}

struct Bench {
    stack: BenchStack,
    proxy: EmulatorProxy,
    log_dir: PathBuf,
    events: usize,
    order_ids: std::sync::atomic::AtomicU64,
}

impl Bench {
    /// One of our functions, as the template deploys it, talking to the emulator through
    /// the proxy.
    fn function(&self, binary: &str) -> Result<Subject, BenchError> {
        let (_, deployed) = self.stack.function(binary)?;
        let mut env = deployed.env.clone();
        env.insert("AWS_ENDPOINT_URL".into(), self.proxy.endpoint());
        // What template.yaml's LoggingConfig has Lambda set: JSON lines, as deployed.
        env.insert("AWS_LAMBDA_LOG_FORMAT".into(), "JSON".into());
        Ok(Subject {
            name: binary.to_owned(),
            program: bin_dir().join(binary),
            args: Vec::new(),
            dir: None,
            env,
            timeout: Duration::from_secs(deployed.timeout_secs.into()),
        })
    }

    /// Starts `subject`, hands it the workload's events one at a time and measures.
    async fn measure(
        &self,
        subject: &Subject,
        mode: Connections,
        work: Workload,
    ) -> Result<EventCost, BenchError> {
        self.proxy.set_connections(mode);
        let api = RuntimeApi::start(&format!(
            "arn:aws:lambda:us-east-1:000000000000:function:{}",
            subject.name
        ))
        .await
        .map_err(|e| BenchError::Setup(e.to_string()))?;
        let mut env = subject.env.clone();
        env.extend(lambda_service_environment(&api.endpoint(), &subject.name));
        let log = self.log_dir.join(format!("{}.log", subject.name));
        let mut command = logged_command(&subject.program, &env, Some(&log))?;
        command.args(&subject.args);
        if let Some(dir) = &subject.dir {
            command.current_dir(dir);
        }
        let spawned = Instant::now();
        let mut child = command.spawn().map_err(|e| {
            BenchError::Setup(format!(
                "could not start {}: {e}",
                subject.program.display()
            ))
        })?;
        let pid = child
            .id()
            .ok_or_else(|| BenchError::Setup(format!("{} exited at once", subject.name)))?;
        let first = api.invoke(work.first, subject.timeout).await;
        let cold_start_ms = ms(spawned.elapsed());
        let start_up_ms = api
            .first_polled_at()
            .map(|at| ms(at.duration_since(spawned)))
            .unwrap_or(f64::NAN);
        let first = first.map_err(|e| BenchError::Check(format!("{}: {e}", subject.name)))?;
        let first_answer = summarize(&first);

        let new_count = work.new.len();
        let (cpu_new_ms, calls_new) = self
            .phase(&api, subject, pid, work.new, work.new_answer)
            .await?;
        let (cpu_duplicate_ms, calls_duplicate) = if work.duplicates.is_empty() {
            (f64::NAN, BTreeMap::new())
        } else {
            self.phase(&api, subject, pid, work.duplicates, work.duplicate_answer)
                .await?
        };
        let peak_rss_kib = peak_rss_kib(pid).unwrap_or(0);
        let _ = child.start_kill();
        let _ = child.wait().await;
        api.stop().await;
        let cost = EventCost {
            subject: subject.name.clone(),
            connections: mode,
            events: new_count,
            first_answer,
            start_up_ms,
            cold_start_ms,
            cpu_new_ms,
            cpu_duplicate_ms,
            calls_new,
            calls_duplicate,
            peak_rss_kib,
        };
        println!("per_event: {}", cost.line());
        Ok(cost)
    }

    /// Hands the process `events` one at a time, checks each answer, and returns the CPU
    /// time and the AWS calls per event.
    async fn phase(
        &self,
        api: &RuntimeApi,
        subject: &Subject,
        pid: u32,
        events: Vec<Vec<u8>>,
        expected: &str,
    ) -> Result<(f64, BTreeMap<String, f64>), BenchError> {
        let calls_before = self.proxy.calls();
        let cpu_before = cpu_time(pid);
        let count = events.len();
        for event in events {
            let answer = api
                .invoke(event, subject.timeout)
                .await
                .map_err(|e| BenchError::Check(format!("{}: {e}", subject.name)))?;
            let answer = summarize(&answer);
            if !answer.starts_with(expected) {
                return Err(BenchError::Check(format!(
                    "{} answered {answer:?}, expected {expected:?}",
                    subject.name
                )));
            }
        }
        let cpu = match (cpu_before, cpu_time(pid)) {
            (Some(before), Some(after)) => ms(after.saturating_sub(before)),
            _ => f64::NAN,
        };
        let calls = calls_between(&calls_before, &self.proxy.calls());
        Ok((per(cpu, count), per_event_calls(&calls, count)))
    }

    fn next_order_id(&self) -> u64 {
        self.order_ids
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }

    /// Signed Shopify orders/paid deliveries, each a new order with a new webhook id.
    fn orders(&self, n: usize) -> Result<Vec<Vec<u8>>, BenchError> {
        (0..n)
            .map(|_| {
                let id = self.next_order_id();
                let body = paid_order(id).to_string().into_bytes();
                let request = shopify_request(
                    STORE,
                    &self.stack.store_secret,
                    "orders/paid",
                    &format!("bench-{id}"),
                    &body,
                );
                Ok(serde_json::to_vec(&request)?)
            })
            .collect()
    }

    /// `n` messages from `queue`, as SQS events of one record (what the function before
    /// queued); the rest of the queue is emptied.
    async fn messages(&self, queue: &str, n: usize) -> Result<Vec<Vec<u8>>, BenchError> {
        let mut events = Vec::with_capacity(n);
        while events.len() < n {
            let Some(event) = self.stack.take(queue).await else {
                return Err(BenchError::Check(format!(
                    "{queue} holds {} messages, {n} needed",
                    events.len()
                )));
            };
            events.push(serde_json::to_vec(&event)?);
        }
        self.stack.drain(queue).await;
        Ok(events)
    }

    /// webhook-intake's workload: a first order, then new orders, then each again.
    fn intake_workload(&self) -> Result<Workload, BenchError> {
        let mut orders = self.orders(self.events + 1)?;
        let first = orders.remove(0);
        Ok(Workload {
            first,
            duplicates: orders.clone(),
            new: orders,
            new_answer: "HTTP 200 accepted",
            duplicate_answer: "HTTP 200 duplicate",
        })
    }

    /// A workload of an SQS function: `n + 1` messages its predecessor queued.
    async fn queued_workload(&self, queue: &str) -> Result<Workload, BenchError> {
        let mut events = self.messages(queue, self.events + 1).await?;
        let first = events.remove(0);
        Ok(Workload {
            first,
            duplicates: events.clone(),
            new: events,
            new_answer: "0 batch item failure(s)",
            duplicate_answer: "0 batch item failure(s)",
        })
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn per(total: f64, count: usize) -> f64 {
    if count == 0 {
        f64::NAN
    } else {
        total / count as f64
    }
}

fn per_event_calls(calls: &BTreeMap<String, u64>, count: usize) -> BTreeMap<String, f64> {
    calls
        .iter()
        .map(|(op, n)| (op.clone(), per(*n as f64, count)))
        .collect()
}

/// Amazon's published notification with a new notification and order id each time.
fn amazon_notification(arn: &str, n: u64) -> Result<Vec<u8>, BenchError> {
    let mut notification: Value = serde_json::from_slice(fixtures::AMAZON_NOTIFICATION)?;
    if let Some(id) = notification.pointer_mut("/NotificationMetadata/NotificationId") {
        *id = Value::String(format!("bench-notification-{n}"));
    }
    if let Some(id) = notification.pointer_mut("/Payload/OrderChangeNotification/AmazonOrderId") {
        *id = Value::String(format!("903-{:07}-{:07}", n / 10_000_000, n % 10_000_000));
    }
    Ok(serde_json::to_vec(&sqs_event_with_body(
        &notification.to_string(),
        arn,
    ))?)
}

/// The peer's own table and queue (Powertools keys its records by `id`), created in the
/// emulator for this run.
struct PeerResources {
    idempotency_table: String,
    inbound_table: String,
    queue_url: String,
}

impl PeerResources {
    async fn create(sdk: &aws_config::SdkConfig, run: &str) -> Result<PeerResources, BenchError> {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let setup = |e: &dyn std::fmt::Display| BenchError::Setup(format!("peer resources: {e}"));
        let mut tables = Vec::new();
        for (name, key) in [("idempotency", "id"), ("inbound", "pk")] {
            let table = format!("{run}-peer-{name}");
            dynamodb
                .create_table()
                .table_name(&table)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(key)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(|e| setup(&e))?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(key)
                        .key_type(KeyType::Hash)
                        .build()
                        .map_err(|e| setup(&e))?,
                )
                .send()
                .await
                .map_err(|e| setup(&aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
            tables.push(table);
        }
        let queue_url = aws_sdk_sqs::Client::new(sdk)
            .create_queue()
            .queue_name(format!("{run}-peer-intake"))
            .send()
            .await
            .map_err(|e| setup(&aws_sdk_sqs::error::DisplayErrorContext(e)))?
            .queue_url
            .unwrap_or_default();
        Ok(PeerResources {
            idempotency_table: tables[0].clone(),
            inbound_table: tables[1].clone(),
            queue_url,
        })
    }

    async fn delete(&self, sdk: &aws_config::SdkConfig) {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        for table in [&self.idempotency_table, &self.inbound_table] {
            let _ = dynamodb.delete_table().table_name(table).send().await;
        }
        let _ = aws_sdk_sqs::Client::new(sdk)
            .delete_queue()
            .queue_url(&self.queue_url)
            .send()
            .await;
    }
}

/// The Python peer, run by `.venv/bin/python -m awslambdaric intake.handler`.
fn peer(bench: &Bench, resources: &PeerResources) -> Result<Subject, BenchError> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("../.venv/bin/python");
    if !python.is_file() {
        return Err(BenchError::Setup(format!(
            "{} not found: run `make setup`",
            python.display()
        )));
    }
    let env = BTreeMap::from([
        ("AWS_ENDPOINT_URL".into(), bench.proxy.endpoint()),
        (
            "PEER_IDEMPOTENCY_TABLE".into(),
            resources.idempotency_table.clone(),
        ),
        ("PEER_INBOUND_TABLE".into(), resources.inbound_table.clone()),
        ("PEER_QUEUE_URL".into(), resources.queue_url.clone()),
        ("SECRETS_PREFIX".into(), bench.stack.prefix.clone()),
        ("POWERTOOLS_SERVICE_NAME".into(), "peer-intake".into()),
        ("POWERTOOLS_LOG_LEVEL".into(), "INFO".into()),
        (
            "LAMBDA_TASK_ROOT".into(),
            root.join("peer").display().to_string(),
        ),
    ]);
    Ok(Subject {
        name: "python-powertools-intake".into(),
        program: python,
        args: vec!["-m".into(), "awslambdaric".into(), "intake.handler".into()],
        dir: Some(root.join("peer")),
        env,
        timeout: Duration::from_secs(10),
    })
}

/// `BENCH_MODES`: `close`, `keep-alive`, or both (the default), comma-separated.
fn modes() -> Result<Vec<Connections>, BenchError> {
    let text = std::env::var("BENCH_MODES").unwrap_or_else(|_| "close,keep-alive".into());
    text.split(',')
        .map(|mode| match mode.trim() {
            "close" => Ok(Connections::Close),
            "keep-alive" => Ok(Connections::KeepAlive),
            other => Err(BenchError::Setup(format!(
                "BENCH_MODES: {other:?} is neither close nor keep-alive"
            ))),
        })
        .collect()
}

fn median_round(mut rounds: Vec<EventCost>) -> Option<EventCost> {
    rounds.sort_by(|a, b| a.cpu_new_ms.total_cmp(&b.cpu_new_ms));
    let middle = rounds.len() / 2;
    rounds.into_iter().nth(middle)
}

async fn run() -> Result<(), BenchError> {
    let events = env_usize("BENCH_EVENTS", 200);
    let rounds = env_usize("BENCH_ROUNDS", 3);
    let stack = BenchStack::provision("per-event").await?;
    let upstream = std::env::var("AWS_ENDPOINT_URL")
        .map_err(|_| BenchError::Setup("AWS_ENDPOINT_URL is not set".into()))?;
    let proxy = EmulatorProxy::start(&upstream).await?;
    let log_dir = results_dir()?.join("per-event-logs");
    std::fs::create_dir_all(&log_dir)?;
    let bench = Bench {
        proxy,
        log_dir,
        events,
        order_ids: std::sync::atomic::AtomicU64::new(
            7_000_000_000_000_000_000 + u64::from(rand::random::<u32>()) * 1_000_000,
        ),
        stack,
    };
    let resources = PeerResources::create(&bench.stack.sdk, &bench.stack.stack.name).await?;
    let peer = peer(&bench, &resources)?;
    let amazon_arn = bench.stack.queue_arn("AmazonNotificationsQueue");

    let mut costs = Vec::new();
    let mut comparisons = Vec::new();
    for mode in modes()? {
        // webhook-intake and its peer, alternating; intake's messages feed the chain below.
        let intake = bench.function("webhook-intake")?;
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            bench.stack.drain("IntakeQueue").await;
            ours.push(
                bench
                    .measure(&intake, mode, bench.intake_workload()?)
                    .await?,
            );
            let mut work = bench.intake_workload()?;
            // Powertools answers a repeated key with the first result.
            work.duplicate_answer = "HTTP 200 accepted";
            theirs.push(bench.measure(&peer, mode, work).await?);
        }
        let (Some(ours), Some(theirs)) = (median_round(ours), median_round(theirs)) else {
            return Err(BenchError::Check("no rounds measured".into()));
        };
        comparisons.push(PeerComparison::of(&ours, &theirs));
        costs.push(ours);
        costs.push(theirs);

        // Down the loop: each function gets the messages the one before it queued.
        for (binary, queue) in [
            ("normalize", "IntakeQueue"),
            ("create-task", "TasksQueue"),
            ("status-sync", "SyncQueue"),
            ("notify", "OutboxQueue"),
        ] {
            let work = bench.queued_workload(queue).await?;
            costs.push(bench.measure(&bench.function(binary)?, mode, work).await?);
        }
        for queue in ["TasksQueue", "SyncQueue", "OutboxQueue"] {
            bench.stack.drain(queue).await;
        }

        let notifications = (0..=events as u64)
            .map(|_| amazon_notification(&amazon_arn, bench.next_order_id()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut new = notifications;
        let first = new.remove(0);
        let work = Workload {
            first,
            duplicates: new.clone(),
            new,
            new_answer: "0 batch item failure(s)",
            duplicate_answer: "0 batch item failure(s)",
        };
        costs.push(
            bench
                .measure(&bench.function("marketplace-intake")?, mode, work)
                .await?,
        );
        bench.stack.drain("IntakeQueue").await;

        // Scheduled functions: one run per event; there is no duplicate of a schedule.
        let scheduled = scheduled_event()?;
        for binary in ["cod-reconcile", "ship-by-watch"] {
            let work = Workload {
                first: scheduled.clone(),
                new: vec![scheduled.clone(); events.min(50)],
                duplicates: Vec::new(),
                new_answer: "",
                duplicate_answer: "",
            };
            costs.push(bench.measure(&bench.function(binary)?, mode, work).await?);
        }
    }

    let result = PerEvent {
        events,
        rounds,
        costs,
        comparisons,
    };
    let path = results_dir()?.join("per_event.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&result)?)?;
    println!("per_event: written to {}", path.display());
    resources.delete(&bench.stack.sdk).await;
    bench.proxy.stop();
    bench.stack.teardown().await
}
