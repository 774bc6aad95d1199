//! Puts secrets into the emulator's Secrets Manager (create, or update if present): the
//! demo's store and courier credentials, and the tests'.

use aws_config::SdkConfig;

#[derive(Debug, thiserror::Error)]
#[error("could not store secret {name}: {message}")]
pub struct SeedError {
    pub name: String,
    pub message: String,
}

/// Stores `value` as the secret `name` (its full name): the same create-or-update as the
/// operators' tools use (`aws::secrets::SecretStore::write`).
pub async fn put_secret(
    sdk: &SdkConfig,
    name: &str,
    value: &serde_json::Value,
) -> Result<(), SeedError> {
    let store = aws::secrets::SecretStore::new(
        aws_sdk_secretsmanager::Client::new(sdk),
        "",
        std::time::Duration::ZERO,
    );
    store
        .write(name, &value.to_string())
        .await
        .map_err(|e| SeedError {
            name: name.to_owned(),
            message: e.to_string(),
        })
}
