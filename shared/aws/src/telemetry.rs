//! Logging: `tracing`, JSON when Lambda asks for it (`AWS_LAMBDA_LOG_FORMAT=JSON`, set by
//! template.yaml's LoggingConfig), compact text otherwise. Personal data never goes in a
//! field: use the masking helpers.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber once; later calls (tests, the local runtime) are no-ops.
pub fn init() {
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // Colours only for a person at a terminal: in CloudWatch or a log file they are noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let format = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_target(false)
        .without_time();
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if json {
        registry
            .with(format.json().flatten_event(true).with_current_span(true))
            .try_init()
    } else {
        registry.with(format.compact()).try_init()
    };
}

/// `RUST_LOG` as `level` or `target=level,…` (what template.yaml sets); `info` when unset or
/// unreadable. A `Targets` filter rather than `EnvFilter`: the functions need no span-field
/// filters, and EnvFilter's regex engine is a good part of a function's binary.
fn log_filter(rust_log: Option<&str>) -> Targets {
    rust_log
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .and_then(|text| text.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

/// "an***@example.com": enough to tell two customers apart in a log, not to contact one.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let head: String = local.chars().take(2).collect();
            format!("{head}***@{domain}")
        }
        None => "***".into(),
    }
}

pub use domain::phone::mask_digits as mask_phone;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_sets_the_level_and_per_target_levels() {
        assert_eq!(log_filter(None).default_level(), Some(LevelFilter::INFO));
        assert_eq!(
            log_filter(Some("")).default_level(),
            Some(LevelFilter::INFO)
        );
        assert_eq!(
            log_filter(Some("debug")).default_level(),
            Some(LevelFilter::DEBUG)
        );
        let targets = log_filter(Some("warn,normalize=trace"));
        assert_eq!(targets.default_level(), Some(LevelFilter::WARN));
        assert!(targets.would_enable("normalize", &tracing::Level::TRACE));
        assert!(!targets.would_enable("aws_smithy_runtime", &tracing::Level::INFO));
    }

    #[test]
    fn emails_keep_only_their_first_letters_and_domain() {
        assert_eq!(mask_email("ana.lima@example.com"), "an***@example.com");
        assert_eq!(mask_email("nonsense"), "***");
    }
}
