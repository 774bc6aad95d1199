//! Puts secrets into the emulator's Secrets Manager (create, or update if present): the
//! demo's store and courier credentials, and the tests'.

use aws_config::SdkConfig;

#[derive(Debug, thiserror::Error)]
#[error("could not store secret {name}: {message}")]
pub struct SeedError {
    pub name: String,
    pub message: String,
}

pub async fn put_secret(
    sdk: &SdkConfig,
    name: &str,
    value: &serde_json::Value,
) -> Result<(), SeedError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let text = value.to_string();
    let created = client
        .create_secret()
        .name(name)
        .secret_string(&text)
        .send()
        .await;
    let error = match created {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    let exists = error
        .as_service_error()
        .is_some_and(|s| s.is_resource_exists_exception());
    if !exists {
        return Err(SeedError {
            name: name.to_owned(),
            message: aws_sdk_secretsmanager::error::DisplayErrorContext(&error).to_string(),
        });
    }
    client
        .put_secret_value()
        .secret_id(name)
        .secret_string(text)
        .send()
        .await
        .map(drop)
        .map_err(|e| SeedError {
            name: name.to_owned(),
            message: aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string(),
        })
}
