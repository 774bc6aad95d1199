//! `courier-bridge`: see the library ([`cli`]) for the commands and `--help` for usage.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // clap prints help (exit 0) or a usage error (exit 2) itself.
    let args = cli::Cli::parse();
    let sdk = aws::config::sdk_config().await;
    match cli::execute(args, &sdk).await {
        Ok(text) => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = writeln!(std::io::stdout().lock(), "{text}");
            ExitCode::SUCCESS
        }
        // The doctor's checklist is its output even when a line fails.
        Err(cli::CliError::Unhealthy(report)) => {
            let _ = writeln!(std::io::stdout().lock(), "{report}");
            ExitCode::from(cli::error::exit::REFUSED)
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "courier-bridge: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
