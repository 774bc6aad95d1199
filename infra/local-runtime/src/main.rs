//! `courier-bridge-local`: courier-bridge on this machine, against an AWS emulator.
//!
//! ```text
//! courier-bridge-local demo                         replay Shopify samples through the whole loop
//! courier-bridge-local serve [--stack NAME]         run until Ctrl-C: HTTP API, queues, sandbox
//! courier-bridge-local dlq list    --stack NAME --queue TasksQueue
//! courier-bridge-local dlq redrive --stack NAME --queue TasksQueue
//! ```
//! The emulator endpoint is the standard `AWS_ENDPOINT_URL` (moto server from `make`, or
//! LocalStack at http://localhost:4566); without it, the commands talk to real AWS.

use local_runtime::demo;
use local_runtime::dlq;
use local_runtime::{LocalRuntime, RuntimeOptions};
use std::process::ExitCode;

const USAGE: &str = "usage: courier-bridge-local demo
       courier-bridge-local serve [--stack NAME]
       courier-bridge-local dlq (list|redrive) --stack NAME --queue (IntakeQueue|TasksQueue|SyncQueue)";

#[tokio::main]
async fn main() -> ExitCode {
    aws::telemetry::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let sdk = aws::config::sdk_config().await;
    let result: Result<(), String> = match args.first().map(String::as_str) {
        Some("demo") => demo::run(&sdk, &mut std::io::stdout())
            .await
            .map_err(|e| e.to_string()),
        Some("serve") => {
            serve(
                &sdk,
                &flag("--stack").unwrap_or_else(|| "courier-bridge-local".into()),
            )
            .await
        }
        Some("dlq") => match (
            args.get(1).map(String::as_str),
            flag("--stack"),
            flag("--queue"),
        ) {
            (Some(action @ ("list" | "redrive")), Some(stack), Some(queue)) => {
                dlq_command(&sdk, action, &stack, &queue).await
            }
            _ => Err(USAGE.into()),
        },
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(sdk: &aws_config::SdkConfig, stack: &str) -> Result<(), String> {
    let mut options = RuntimeOptions::new(stack);
    options.http_addr = ([127, 0, 0, 1], 3000).into();
    let runtime = LocalRuntime::start(sdk, options)
        .await
        .map_err(|e| e.to_string())?;
    println!("courier-bridge is running; stack {stack}");
    println!(
        "  webhooks: {}/webhooks/shopify/{{store}}",
        runtime.http_url
    );
    for (id, queue) in &runtime.stack.queues {
        println!("  {id:<10} {}", queue.url);
    }
    println!("Store and courier secrets go under the SecretsPrefix (default courier-bridge/). Ctrl-C stops.");
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    runtime.stop().await;
    Ok(())
}

async fn dlq_command(
    sdk: &aws_config::SdkConfig,
    action: &str,
    stack: &str,
    queue: &str,
) -> Result<(), String> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let source = queue_url(&sqs, &format!("{stack}-{queue}")).await?;
    let dlq = queue_url(&sqs, &format!("{stack}-{}", queue.replace("Queue", "DLQ"))).await?;
    match action {
        "list" => {
            let letters = dlq::list(&sqs, &dlq, 100)
                .await
                .map_err(|e| e.to_string())?;
            println!("{} message(s) in {dlq}", letters.len());
            for letter in letters {
                println!(
                    "  {}  received {}x  {}",
                    letter.message_id, letter.receive_count, letter.body
                );
            }
        }
        _ => {
            let moved = dlq::redrive(&sqs, &dlq, &source)
                .await
                .map_err(|e| e.to_string())?;
            println!("moved {moved} message(s) from {dlq} back to {source}");
        }
    }
    Ok(())
}

async fn queue_url(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<String, String> {
    sqs.get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| {
            format!(
                "queue {name}: {}",
                aws_sdk_sqs::error::DisplayErrorContext(&e)
            )
        })?
        .queue_url
        .ok_or_else(|| format!("queue {name} has no URL"))
}
