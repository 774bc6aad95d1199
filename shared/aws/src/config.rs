//! Reading a function's typed configuration from the environment template.yaml gives it.
//! Each function declares only the variables it uses; [`Env`] collects every missing or
//! malformed one, so start-up fails once, naming them all.

use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("missing environment variable(s): {0}")]
    Missing(String),
    #[error("{0}")]
    Invalid(String),
}

/// What stops a function at start-up, naming what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("HTTP client: {0}")]
    Http(String),
}

impl StartupError {
    /// The partners' HTTP client could not be built (its TLS set-up failed).
    pub fn http(error: impl std::fmt::Display) -> StartupError {
        StartupError::Http(error.to_string())
    }
}

/// The AWS SDK's configuration from the environment (credentials, region, and the
/// standard `AWS_ENDPOINT_URL` that points every client at an emulator), with the one HTTP
/// client all its clients share: hyper 1 and rustls on ring, the stack reqwest uses too.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client())
        .load()
        .await
}

/// A function's SDK configuration on Lambda: the region and the execution role's
/// credentials that the Lambda runtime puts in the environment, and `AWS_ENDPOINT_URL`
/// when it is set (the local runtime and the benchmarks point it at an emulator), or
/// `AWS_ENDPOINT_URL_<SERVICE>` for one service (DynamoDB Local beside another emulator).
///
/// Not [`sdk_config`]'s default provider chain: its profile files, SSO, IMDS, container and
/// web-identity (STS) providers never apply inside Lambda, and leaving them out keeps their
/// code, and an STS client, out of every function's binary.
pub fn lambda_sdk_config() -> Result<aws_config::SdkConfig, ConfigError> {
    lambda_sdk_config_from(
        Env::process(),
        ServiceEndpoints::from_vars(std::env::vars()),
    )
}

fn lambda_sdk_config_from(
    mut env: Env,
    service_endpoints: ServiceEndpoints,
) -> Result<aws_config::SdkConfig, ConfigError> {
    use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Region};
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
    use std::time::Duration;

    let region = env.required("AWS_REGION");
    // Read here only to be named when missing; the provider reads them again on each
    // refresh (AWS_SESSION_TOKEN too).
    env.required("AWS_ACCESS_KEY_ID");
    env.required("AWS_SECRET_ACCESS_KEY");
    let endpoint = env
        .optional("AWS_ENDPOINT_URL")
        .filter(|url| !url.is_empty());
    env.finish()?;
    let roots = TrustRoots::for_endpoints(
        &region,
        endpoint
            .iter()
            .chain(service_endpoints.0.values())
            .map(String::as_str),
    );
    let credentials =
        aws_config::environment::credentials::EnvironmentVariableCredentialsProvider::new();
    let mut config = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(http_client_trusting(roots))
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
        // As the default loader: standard retries. A connection to a regional endpoint takes
        // milliseconds; one that takes a second is better retried. The calls themselves are
        // bounded by the function's timeout.
        .retry_config(RetryConfig::standard())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .build(),
        )
        .service_config(service_endpoints);
    config.set_endpoint_url(endpoint);
    Ok(config.build())
}

/// `AWS_ENDPOINT_URL_<SERVICE ID>` (upper case, spaces as `_`: `AWS_ENDPOINT_URL_DYNAMODB`,
/// `AWS_ENDPOINT_URL_SECRETS_MANAGER`), which each client prefers to `AWS_ENDPOINT_URL`, as
/// the SDKs' standard endpoint configuration has it.
#[derive(Debug, Default)]
struct ServiceEndpoints(std::collections::HashMap<String, String>);

const ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";

impl ServiceEndpoints {
    fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> ServiceEndpoints {
        let prefix = format!("{ENDPOINT_URL}_");
        ServiceEndpoints(
            vars.into_iter()
                .filter(|(name, url)| name.starts_with(&prefix) && !url.is_empty())
                .collect(),
        )
    }
}

impl aws_types::service_config::LoadServiceConfig for ServiceEndpoints {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        if key.env() != ENDPOINT_URL {
            return None;
        }
        let service = key.service_id().to_uppercase().replace(' ', "_");
        self.0.get(&format!("{ENDPOINT_URL}_{service}")).cloned()
    }
}

/// The HTTP client every AWS client uses: hyper 1 with rustls on ring, the same TLS stack
/// as the partners' reqwest clients, trusting the system's root certificates.
pub fn http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    http_client_trusting(TrustRoots::System)
}

/// Amazon Trust Services' roots (Amazon Root CA 1–4 and the Starfield Services root G2 that
/// cross-signs them, <https://www.amazontrust.com/repository/>), to which every AWS service
/// endpoint's certificate chains.
const AMAZON_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// Which root certificates a function's AWS clients trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TrustRoots {
    /// [`AMAZON_ROOTS`]: five certificates to parse as the process starts, where the
    /// system's bundle is about 150 (reading and parsing it was half of a function's
    /// start-up).
    Amazon,
    /// The system's bundle: for an HTTPS endpoint of one's own (an emulator, a proxy) and
    /// the China regions, whose endpoints are certified by other authorities.
    System,
}

impl TrustRoots {
    /// `own_endpoints`: the `AWS_ENDPOINT_URL*` set. A plain-HTTP one (a local emulator)
    /// needs no certificates at all.
    fn for_endpoints<'a>(
        region: &str,
        mut own_endpoints: impl Iterator<Item = &'a str>,
    ) -> TrustRoots {
        let own_tls = own_endpoints.any(|url| !url.starts_with("http://"));
        if own_tls || region.starts_with("cn-") {
            TrustRoots::System
        } else {
            TrustRoots::Amazon
        }
    }
}

fn http_client_trusting(roots: TrustRoots) -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{
        rustls_provider::CryptoMode, Provider, TlsContext, TrustStore,
    };
    let trust = match roots {
        TrustRoots::Amazon => TrustStore::empty().with_pem_certificate(AMAZON_ROOTS),
        TrustRoots::System => TrustStore::default(),
    };
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(trust)
                .build()
                .unwrap_or_default(),
        )
        .build_https()
}

type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// A lookup of environment variables (the process's, or the ones the local runtime resolves
/// from template.yaml for one function) that remembers what was wrong.
pub struct Env<'a> {
    lookup: Lookup<'a>,
    missing: Vec<&'static str>,
    invalid: Vec<String>,
}

impl<'a> Env<'a> {
    pub fn new(lookup: impl Fn(&str) -> Option<String> + 'a) -> Env<'a> {
        Env {
            lookup: Box::new(lookup),
            missing: Vec::new(),
            invalid: Vec::new(),
        }
    }

    /// The process environment.
    pub fn process() -> Env<'static> {
        Env::new(|name| std::env::var(name).ok())
    }

    /// The variable, unless absent or empty.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// The variable; noted as missing (and empty here) when absent or empty.
    pub fn required(&mut self, name: &'static str) -> String {
        self.optional(name).unwrap_or_else(|| {
            self.missing.push(name);
            String::new()
        })
    }

    pub fn or(&self, name: &str, default: &str) -> String {
        self.optional(name).unwrap_or_else(|| default.to_owned())
    }

    /// The variable parsed as `T`, or `default` when absent; noted as invalid (and the
    /// default here) when it does not parse.
    pub fn parsed<T: FromStr>(&mut self, name: &'static str, default: T, expected: &str) -> T {
        match self.optional(name) {
            None => default,
            Some(text) => text.trim().parse().unwrap_or_else(|_| {
                self.invalid(name, &text, expected);
                default
            }),
        }
    }

    pub fn number(&mut self, name: &'static str, default: u64) -> u64 {
        self.parsed(name, default, "a whole number")
    }

    pub fn seconds(&mut self, name: &'static str, default_secs: u64) -> Duration {
        Duration::from_secs(self.number(name, default_secs))
    }

    pub fn millis(&mut self, name: &'static str, default_ms: u64) -> Duration {
        Duration::from_millis(self.number(name, default_ms))
    }

    /// A value read by `read` from these variables, or `default` (noting the problem)
    /// when `read` refuses them.
    pub fn read_with<T>(
        &mut self,
        names: &str,
        default: T,
        read: impl FnOnce(&dyn Fn(&str) -> Option<String>) -> Result<T, String>,
    ) -> T {
        let lookup = |name: &str| self.optional(name);
        match read(&lookup) {
            Ok(value) => value,
            Err(problem) => {
                self.invalid
                    .push(format!("environment variable(s) {names}: {problem}"));
                default
            }
        }
    }

    /// Notes a variable whose value is not what it must be.
    pub fn invalid(&mut self, name: &str, value: &str, expected: &str) {
        self.invalid.push(format!(
            "environment variable {name}={value:?} is not {expected}"
        ));
    }

    /// Every problem at once, or nothing.
    pub fn finish(self) -> Result<(), ConfigError> {
        if !self.missing.is_empty() {
            return Err(ConfigError::Missing(self.missing.join(", ")));
        }
        if !self.invalid.is_empty() {
            return Err(ConfigError::Invalid(self.invalid.join("; ")));
        }
        Ok(())
    }
}

/// Retries of failed SQS records: exponential, from `RETRY_BASE_MS` (default 2 s) up to
/// `RETRY_MAX_MS` (15 min).
pub fn backoff(env: &mut Env) -> crate::batch::Backoff {
    crate::batch::Backoff {
        base: env.millis("RETRY_BASE_MS", 2_000),
        max: env.millis("RETRY_MAX_MS", 900_000),
    }
}

/// How partners are reached: the request timeout (`PARTNER_TIMEOUT_MS`, default 10 s; keep
/// it well under the idempotency lease), where their credentials are (`SECRETS_PREFIX`,
/// default `courier-bridge/`) and how long they are cached (`SECRETS_TTL_SECONDS`, 300).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerAccess {
    pub timeout: Duration,
    pub secrets_prefix: String,
    pub secrets_ttl: Duration,
}

impl PartnerAccess {
    pub fn read(env: &mut Env) -> PartnerAccess {
        PartnerAccess {
            timeout: env.millis("PARTNER_TIMEOUT_MS", 10_000),
            secrets_prefix: env.or("SECRETS_PREFIX", "courier-bridge/"),
            secrets_ttl: env.seconds("SECRETS_TTL_SECONDS", 300),
        }
    }

    /// The partners' credentials in Secrets Manager, each cached for `secrets_ttl`.
    pub fn secret_store(
        &self,
        sdk: &aws_config::SdkConfig,
    ) -> std::sync::Arc<crate::secrets::SecretStore> {
        std::sync::Arc::new(crate::secrets::SecretStore::new(
            aws_sdk_secretsmanager::Client::new(sdk),
            &self.secrets_prefix,
            self.secrets_ttl,
        ))
    }
}

/// The idempotency lease (`IDEMPOTENCY_LEASE_SECONDS`, default 60).
pub fn idempotency_lease(env: &mut Env) -> Duration {
    env.seconds("IDEMPOTENCY_LEASE_SECONDS", 60)
}

/// Metrics go to this JSON-lines file instead of stdout (`METRICS_CAPTURE_FILE`: local
/// runs and tests).
pub fn metrics(env: &Env) -> crate::metrics::Metrics {
    crate::metrics::Metrics::from_capture_file(env.optional("METRICS_CAPTURE_FILE").as_deref())
}

/// `Name=url,Name=url` (template.yaml builds it with `!Sub`): the name becomes the metric's
/// Queue dimension, so it is the queue's logical id, the same in every stack.
pub fn dlq_urls(env: &mut Env) -> Vec<(String, String)> {
    named_urls(env, "DLQ_URLS")
}

/// `variable` as `Name=url,Name=url` pairs (queues by their logical ids); empty when unset.
pub fn named_urls(env: &mut Env, variable: &'static str) -> Vec<(String, String)> {
    let text = env.optional(variable).unwrap_or_default();
    match parse_dlq_urls(&text) {
        Some(pairs) => pairs,
        None => {
            env.invalid(variable, &text, "Name=url pairs separated by commas");
            Vec::new()
        }
    }
}

fn parse_dlq_urls(text: &str) -> Option<Vec<(String, String)>> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| match entry.split_once('=') {
            Some((name, url)) if !name.trim().is_empty() && !url.trim().is_empty() => {
                Some((name.trim().to_owned(), url.trim().to_owned()))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> HashMap<String, String> {
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_missing_variable_is_named_at_once() {
        let mut e = Env::new(|_| None);
        e.required("SHIPMENTS_TABLE");
        e.required("TASKS_QUEUE_URL");
        let err = e.finish().unwrap_err().to_string();
        assert!(
            err.contains("SHIPMENTS_TABLE") && err.contains("TASKS_QUEUE_URL"),
            "{err}"
        );
    }

    #[test]
    fn numbers_are_checked_and_defaults_apply() {
        let vars = env(&[("SHIPMENTS_TABLE", "t")]);
        let mut e = Env::new(|k| vars.get(k).cloned());
        assert_eq!(idempotency_lease(&mut e), Duration::from_secs(60));
        assert_eq!(e.required("SHIPMENTS_TABLE"), "t");
        assert!(e.finish().is_ok());

        let vars = env(&[("IDEMPOTENCY_LEASE_SECONDS", "soon")]);
        let mut e = Env::new(|k| vars.get(k).cloned());
        idempotency_lease(&mut e);
        let err = e.finish().unwrap_err().to_string();
        assert!(err.contains("IDEMPOTENCY_LEASE_SECONDS"), "{err}");
    }

    #[test]
    fn aws_endpoints_are_trusted_on_amazons_roots_and_an_https_endpoint_of_ones_own_on_the_systems()
    {
        let none = std::iter::empty::<&str>;
        assert_eq!(
            TrustRoots::for_endpoints("eu-central-1", none()),
            TrustRoots::Amazon
        );
        assert_eq!(
            TrustRoots::for_endpoints("us-gov-west-1", none()),
            TrustRoots::Amazon
        );
        assert_eq!(
            TrustRoots::for_endpoints("cn-north-1", none()),
            TrustRoots::System
        );
        // A local emulator over plain HTTP needs no roots; one over HTTPS has its own.
        assert_eq!(
            TrustRoots::for_endpoints("us-east-1", ["http://127.0.0.1:5000"].into_iter()),
            TrustRoots::Amazon
        );
        assert_eq!(
            TrustRoots::for_endpoints(
                "us-east-1",
                [
                    "http://127.0.0.1:8000",
                    "https://localhost.localstack.cloud:4566"
                ]
                .into_iter()
            ),
            TrustRoots::System
        );
    }

    #[test]
    fn amazons_roots_are_five_parsable_certificates() {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::CertificateDer;
        let certificates = CertificateDer::pem_slice_iter(AMAZON_ROOTS)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(certificates.len(), 5);
        let mut store = rustls::RootCertStore::empty();
        let (valid, invalid) = store.add_parsable_certificates(certificates);
        assert_eq!((valid, invalid), (5, 0));
    }

    #[test]
    fn one_service_can_have_its_own_endpoint() {
        use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
        let endpoints = ServiceEndpoints::from_vars([
            (
                "AWS_ENDPOINT_URL_DYNAMODB".to_string(),
                "http://127.0.0.1:8000".to_string(),
            ),
            (
                "AWS_ENDPOINT_URL_SECRETS_MANAGER".to_string(),
                "http://127.0.0.1:4566".to_string(),
            ),
            ("AWS_ENDPOINT_URL_SQS".to_string(), String::new()),
            ("AWS_REGION".to_string(), "eu-central-1".to_string()),
        ]);
        // The keys as the generated clients build them: service id, variable, profile key.
        let endpoint = |service: &str, env: &str| {
            let key = ServiceConfigKey::builder()
                .service_id(service)
                .env(env)
                .profile("endpoint_url")
                .build()
                .unwrap();
            endpoints.load_config(key)
        };
        assert_eq!(
            endpoint("DynamoDB", "AWS_ENDPOINT_URL").as_deref(),
            Some("http://127.0.0.1:8000")
        );
        assert_eq!(
            endpoint("Secrets Manager", "AWS_ENDPOINT_URL").as_deref(),
            Some("http://127.0.0.1:4566")
        );
        // An empty variable is unset: the client falls back to AWS_ENDPOINT_URL.
        assert_eq!(endpoint("SQS", "AWS_ENDPOINT_URL"), None);
        assert_eq!(endpoint("S3", "AWS_ENDPOINT_URL"), None);
        // Only the endpoint setting is answered; other service settings stay the SDK's.
        assert_eq!(endpoint("DynamoDB", "AWS_REGION"), None);
    }

    #[test]
    fn the_lambda_sdk_configuration_names_what_the_runtime_did_not_set() {
        let err = lambda_sdk_config_from(Env::new(|_| None), ServiceEndpoints::default())
            .unwrap_err()
            .to_string();
        for name in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn the_lambda_sdk_configuration_takes_the_region_and_an_emulators_endpoint() {
        let vars = env(&[
            ("AWS_REGION", "eu-central-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]);
        let config = lambda_sdk_config_from(
            Env::new(|k| vars.get(k).cloned()),
            ServiceEndpoints::default(),
        )
        .unwrap();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-central-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:5000"));
        assert!(config.credentials_provider().is_some());

        let vars = env(&[
            ("AWS_REGION", "eu-central-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]);
        let config = lambda_sdk_config_from(
            Env::new(|k| vars.get(k).cloned()),
            ServiceEndpoints::default(),
        )
        .unwrap();
        assert_eq!(
            config.endpoint_url(),
            None,
            "on AWS: the regional endpoints"
        );
    }

    #[test]
    fn dead_letter_queues_are_named_url_pairs() {
        assert_eq!(
            parse_dlq_urls("TasksDLQ=http://q/1, SyncDLQ=http://q/2").unwrap(),
            vec![
                ("TasksDLQ".to_owned(), "http://q/1".to_owned()),
                ("SyncDLQ".to_owned(), "http://q/2".to_owned())
            ]
        );
        assert!(parse_dlq_urls("").unwrap().is_empty());
        assert!(parse_dlq_urls("http://q/1").is_none());
        let vars = env(&[("DLQ_URLS", "http://q/1")]);
        let mut e = Env::new(|k| vars.get(k).cloned());
        assert!(dlq_urls(&mut e).is_empty());
        assert!(e.finish().is_err());
    }
}
