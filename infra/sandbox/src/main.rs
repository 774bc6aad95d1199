//! `sandbox-courier`: serves the sandbox courier and the fake Shopify Admin API until Ctrl-C.
//!
//! Environment: `SANDBOX_ADDR` (default `127.0.0.1:8787`), `SANDBOX_COURIER_API_KEY` and
//! `SANDBOX_SHOPIFY_ACCESS_TOKEN` (both required).

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::process::ExitCode;

use sandbox::{Sandbox, SandboxConfig};
use tracing_subscriber::EnvFilter;

const DEFAULT_ADDR: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8787));

#[derive(Debug, thiserror::Error)]
enum StartupError {
    #[error("{0} must be set (and not empty)")]
    Missing(&'static str),
    #[error("{0} is not valid UTF-8")]
    NotUnicode(&'static str),
    #[error("SANDBOX_ADDR={value:?} is not a socket address such as {DEFAULT_ADDR}: {source}")]
    BadAddr {
        value: String,
        source: std::net::AddrParseError,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot wait for Ctrl-C: {0}")]
    Signal(std::io::Error),
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sandbox-courier: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), StartupError> {
    let addr = match optional_var("SANDBOX_ADDR")? {
        Some(value) => value
            .parse()
            .map_err(|source| StartupError::BadAddr { value, source })?,
        None => DEFAULT_ADDR,
    };
    let config = SandboxConfig {
        courier_api_key: required_var("SANDBOX_COURIER_API_KEY")?,
        shopify_access_token: required_var("SANDBOX_SHOPIFY_ACCESS_TOKEN")?,
    };

    let sandbox = Sandbox::start(addr, config)
        .await
        .map_err(|source| StartupError::Bind { addr, source })?;
    let url = sandbox.base_url();
    tracing::info!(
        courier = %format!("{url}/v1"),
        shopify = %format!("{url}/admin/api/<version>/graphql.json"),
        control = %format!("{url}/sandbox"),
        "sandbox courier listening; Ctrl-C to stop"
    );

    let signal = tokio::signal::ctrl_c().await.map_err(StartupError::Signal);
    tracing::info!("shutting down");
    sandbox.shutdown().await;
    signal
}

/// An unset or empty variable is `None`: an empty key is a configuration mistake, not a key.
fn optional_var(name: &'static str) -> Result<Option<String>, StartupError> {
    match std::env::var(name) {
        Ok(value) if value.is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(StartupError::NotUnicode(name)),
    }
}

fn required_var(name: &'static str) -> Result<String, StartupError> {
    optional_var(name)?.ok_or(StartupError::Missing(name))
}
