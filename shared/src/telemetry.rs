//! Logging: `tracing`, JSON when Lambda asks for it (`AWS_LAMBDA_LOG_FORMAT=JSON`, set by
//! template.yaml's LoggingConfig), compact text otherwise. Personal data never goes in a
//! field: use the masking helpers.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests, the local runtime) are no-ops.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .without_time();
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.compact().try_init()
    };
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

pub use crate::domain::phone::mask_digits as mask_phone;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_keep_only_their_first_letters_and_domain() {
        assert_eq!(mask_email("ana.lima@example.com"), "an***@example.com");
        assert_eq!(mask_email("nonsense"), "***");
    }
}
