//! `courier-bridge links`: the keys customers' signed links are made with, and a link by
//! hand. `rotate` creates the keys on a stack without them; after that each rotation keeps
//! the previous key accepted, so links already sent work until the next rotation.

use crate::error::CliError;
use aws::secrets::SecretStore;
use domain::ports::SecretError;
use domain::ShipmentKey;
use links::{LinkSecret, Purpose};

/// Rotates the link keys, or creates them: a fresh random key signs from now on.
pub async fn rotate(secrets: &SecretStore) -> Result<String, CliError> {
    let key: [u8; 32] = rand::random();
    let (next, said) = match current(secrets).await? {
        Some(secret) => (
            secret.rotated(&key),
            "link keys rotated: new links are signed with the new key; links signed with the \
             previous one keep working until the next rotation",
        ),
        None => (LinkSecret::first(&key), "link keys created"),
    };
    let text = serde_json::to_string(&next).map_err(|e| CliError::Startup(e.to_string()))?;
    secrets.write(links::SECRET_NAME, &text).await?;
    Ok(format!(
        "{said} ({})",
        secrets.full_name(links::SECRET_NAME)
    ))
}

/// A link to `shipment`'s tracking page under `pages_url`, working for `days`.
pub async fn track(
    secrets: &SecretStore,
    pages_url: &str,
    shipment: &ShipmentKey,
    days: u32,
    now_ms: i64,
) -> Result<String, CliError> {
    let secret = current(secrets).await?.ok_or_else(|| {
        CliError::Refused("the stack has no link keys yet: `courier-bridge links rotate`".into())
    })?;
    let keys = secret
        .keys()
        .map_err(|e| CliError::Refused(format!("the stored link keys: {e}")))?;
    let expires_s = now_ms.div_euclid(1000) + i64::from(days) * 86_400;
    let token = keys.sign(shipment, Purpose::Track, expires_s);
    Ok(format!("{}/t/{token}", pages_url.trim_end_matches('/')))
}

async fn current(secrets: &SecretStore) -> Result<Option<LinkSecret>, CliError> {
    match domain::ports::secret_json::<LinkSecret>(secrets, links::SECRET_NAME).await {
        Ok(secret) => Ok(Some(secret)),
        Err(SecretError::NotFound(_)) => Ok(None),
        Err(SecretError::Malformed { name, problem }) => Err(CliError::Refused(format!(
            "{name} is not link keys ({problem}); fix or delete it first"
        ))),
        Err(SecretError::Storage(e)) => Err(e.into()),
    }
}
