//! `courier-bridge rotate`: a webhook sender's signing secret replaced, the previous one
//! still accepted for a grace period (`channels::webhook_secret`), so webhooks already on
//! their way, and a store admin not yet updated, are not refused.

use crate::error::CliError;
use aws::secrets::SecretStore;
use domain::ports::{SecretError, Secrets};
use time::OffsetDateTime;

/// The senders whose webhooks are signed with a secret the stack keeps.
const SENDERS: [&str; 4] = ["shopify", "woocommerce", "api", "courier"];

/// Rotates `{channel}/{name}`'s secret to `new` (a random one when `None`, printed), the
/// previous one accepted until `grace_hours` from `now`.
pub async fn rotate(
    secrets: &SecretStore,
    channel: &str,
    name: &str,
    new: Option<String>,
    grace_hours: u32,
    now: OffsetDateTime,
) -> Result<String, CliError> {
    if !SENDERS.contains(&channel) {
        return Err(CliError::Usage(format!(
            "{channel:?} signs no webhooks here: one of {}",
            SENDERS.join(", ")
        )));
    }
    if !domain::shipment::is_valid_store_name(name) {
        return Err(CliError::Usage(format!("{name:?} is not a store name")));
    }
    let secret_name = format!("{channel}/{name}");
    let full = secrets.full_name(&secret_name);
    let text = match secrets.fresh_text(&secret_name).await {
        Ok(text) => text,
        Err(SecretError::NotFound(_)) => {
            return Err(CliError::Refused(format!(
                "there is no secret {full}: connect the sender first"
            )))
        }
        Err(SecretError::Malformed { name, problem }) => {
            return Err(CliError::Refused(format!("{name}: {problem}")))
        }
        Err(SecretError::Storage(error)) => return Err(error.into()),
    };
    let mut value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::Refused(format!("{full} is not JSON ({e}); nothing changed")))?;
    let generated = new.is_none();
    let new = new.unwrap_or_else(|| format!("whsec_{}", hex::encode(rand::random::<[u8; 24]>())));
    let until = now + time::Duration::hours(i64::from(grace_hours));
    channels::webhook_secret::rotate(&mut value, &new, until)
        .map_err(|e| CliError::Refused(format!("{full}: {e}; nothing changed")))?;
    secrets.write(&secret_name, &value.to_string()).await?;
    let until = until
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut said = format!(
        "{full} rotated: webhooks signed with the new secret are accepted now, and with the \
         previous one until {until}."
    );
    if generated {
        said.push_str(&format!("\nThe new secret: {new}"));
    }
    said.push_str(
        "\nSet the new secret where the sender signs its webhooks (the store's webhook settings).",
    );
    Ok(said)
}
