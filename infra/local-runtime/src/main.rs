//! `courier-bridge-local`: courier-bridge on this machine, against an AWS emulator.
//!
//! ```text
//! courier-bridge-local demo                         replay Shopify samples through the whole loop
//! courier-bridge-local serve [--stack NAME] [--port N] [--store NAME]
//!                                                   the whole stack until Ctrl-C (`make up`): HTTP
//!                                                   API, functions, sandbox courier, a connected
//!                                                   store per channel; prints URLs and secrets
//! courier-bridge-local dlq list    --stack NAME --queue TasksQueue
//! courier-bridge-local dlq redrive --stack NAME --queue TasksQueue
//! ```
//! The emulator endpoint is the standard `AWS_ENDPOINT_URL` (moto server from `make`, or
//! LocalStack at http://localhost:4566); without it, the commands talk to real AWS.

use local_runtime::demo;
use local_runtime::dlq;
use std::process::ExitCode;

const USAGE: &str = "usage: courier-bridge-local demo
       courier-bridge-local serve [--stack NAME] [--port N] [--store NAME]
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
            let mut options = local_runtime::serve::ServeOptions::default();
            if let Some(stack) = flag("--stack") {
                options.stack = stack;
            }
            if let Some(store) = flag("--store") {
                options.store = store;
            }
            match flag("--port").map(|p| p.parse::<u16>()) {
                Some(Ok(port)) => {
                    options.http_addr.set_port(port);
                    options.sandbox_addr.set_port(port.saturating_add(1));
                }
                Some(Err(_)) => return usage(),
                None => {}
            }
            serve(&sdk, &options).await
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

async fn serve(
    sdk: &aws_config::SdkConfig,
    options: &local_runtime::serve::ServeOptions,
) -> Result<(), String> {
    let stack = local_runtime::serve::LocalStack::start(sdk, options)
        .await
        .map_err(|e| e.to_string())?;
    stack.describe(&mut std::io::stdout());
    let stopped = tokio::signal::ctrl_c().await.map_err(|e| e.to_string());
    stack.stop().await.map_err(|e| e.to_string())?;
    stopped
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

fn usage() -> ExitCode {
    eprintln!("{USAGE}");
    ExitCode::FAILURE
}
