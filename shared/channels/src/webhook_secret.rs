//! A webhook sender's signing secret as the stack keeps it (`{prefix}{channel}/{store}` in
//! Secrets Manager, beside the sender's other credentials), and its rotation: the new secret
//! signs from now on, and the previous one is still accepted until a time the operator
//! chose, so webhooks already on their way (and a store admin not yet updated) are not lost.

use domain::audit::SignedWith;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

/// The parts of a sender's secret that verify its webhooks. (The generic API names its
/// secret `signing_secret`.)
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSecret {
    #[serde(alias = "signing_secret")]
    pub webhook_secret: String,
    /// The secret before the last rotation.
    #[serde(default, alias = "previous_signing_secret")]
    pub previous_webhook_secret: Option<String>,
    /// Until when the previous secret is accepted (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub previous_valid_until: Option<OffsetDateTime>,
}

impl WebhookSecret {
    /// Which secret `verifies` accepts at `now`: the current one first, the previous one
    /// only before its time is up; `None` when neither does.
    pub fn verify(
        &self,
        now: OffsetDateTime,
        verifies: impl Fn(&str) -> bool,
    ) -> Option<SignedWith> {
        if verifies(&self.webhook_secret) {
            return Some(SignedWith::Current);
        }
        match (&self.previous_webhook_secret, self.previous_valid_until) {
            (Some(previous), Some(until)) if now < until && verifies(previous) => {
                Some(SignedWith::Previous)
            }
            _ => None,
        }
    }
}

/// Why a secret cannot be rotated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RotateError {
    #[error("the secret is not a JSON object with a webhook_secret or signing_secret")]
    NoSecret,
    #[error("the new secret is empty")]
    Empty,
    #[error("the new secret is the current one")]
    Same,
}

/// Rotates the secret JSON of a sender in place: `new` becomes the secret, the current one
/// the previous, accepted until `previous_until`. Every other field (the store's API
/// credentials) is kept as it is.
pub fn rotate(
    secret: &mut Value,
    new: &str,
    previous_until: OffsetDateTime,
) -> Result<(), RotateError> {
    if new.trim().is_empty() {
        return Err(RotateError::Empty);
    }
    let object = secret.as_object_mut().ok_or(RotateError::NoSecret)?;
    let (field, previous_field) = if object.contains_key("webhook_secret") {
        ("webhook_secret", "previous_webhook_secret")
    } else if object.contains_key("signing_secret") {
        ("signing_secret", "previous_signing_secret")
    } else {
        return Err(RotateError::NoSecret);
    };
    let current = object
        .get(field)
        .and_then(Value::as_str)
        .ok_or(RotateError::NoSecret)?
        .to_owned();
    if current == new {
        return Err(RotateError::Same);
    }
    let until = previous_until
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|_| RotateError::NoSecret)?;
    object.insert(field.into(), Value::String(new.to_owned()));
    object.insert(previous_field.into(), Value::String(current));
    object.insert("previous_valid_until".into(), Value::String(until));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn secret(value: Value) -> WebhookSecret {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_current_secret_always_verifies_and_the_previous_only_until_its_time() {
        let s = secret(json!({
            "webhook_secret": "new", "previous_webhook_secret": "old",
            "previous_valid_until": "2026-12-08T12:00:00Z", "admin_access_token": "shpat"
        }));
        let with = |key: &'static str| move |candidate: &str| candidate == key;
        let before = datetime!(2026-12-08 11:59:59 UTC);
        let after = datetime!(2026-12-08 12:00:00 UTC);
        assert_eq!(s.verify(before, with("new")), Some(SignedWith::Current));
        assert_eq!(s.verify(after, with("new")), Some(SignedWith::Current));
        assert_eq!(s.verify(before, with("old")), Some(SignedWith::Previous));
        assert_eq!(s.verify(after, with("old")), None);
        assert_eq!(s.verify(before, with("other")), None);
        // Without a time, a previous secret is never accepted.
        let open = secret(json!({"signing_secret": "new", "previous_signing_secret": "old"}));
        assert_eq!(open.verify(before, with("old")), None);
        assert_eq!(open.verify(before, with("new")), Some(SignedWith::Current));
    }

    #[test]
    fn a_time_that_is_not_rfc_3339_is_a_malformed_secret() {
        let parsed = serde_json::from_value::<WebhookSecret>(json!({
            "webhook_secret": "new", "previous_webhook_secret": "old",
            "previous_valid_until": "next Tuesday"
        }));
        assert!(parsed.is_err());
    }

    #[test]
    fn rotating_keeps_the_other_credentials_and_names_the_old_secret_previous() {
        let until = datetime!(2026-12-09 09:30:00 UTC);
        let mut shopify = json!({
            "webhook_secret": "old", "admin_access_token": "shpat", "admin_api_base_url": "https://x"
        });
        rotate(&mut shopify, "new", until).unwrap();
        assert_eq!(
            shopify,
            json!({
                "webhook_secret": "new", "previous_webhook_secret": "old",
                "previous_valid_until": "2026-12-09T09:30:00Z",
                "admin_access_token": "shpat", "admin_api_base_url": "https://x"
            })
        );
        // Again: the secret before is the previous one now, the first one is gone.
        rotate(&mut shopify, "newer", until).unwrap();
        assert_eq!(shopify["previous_webhook_secret"], "new");
        assert_eq!(shopify["webhook_secret"], "newer");

        let mut api = json!({"signing_secret": "old"});
        rotate(&mut api, "new", until).unwrap();
        assert_eq!(api["previous_signing_secret"], "old");
        let read = secret(api);
        assert_eq!(read.webhook_secret, "new");
        assert_eq!(read.previous_webhook_secret.as_deref(), Some("old"));
    }

    #[test]
    fn what_cannot_be_rotated_is_refused_and_left_as_it_was() {
        let until = datetime!(2026-12-09 09:30:00 UTC);
        for (mut value, new, error) in [
            (json!({"api_key": "x"}), "new", RotateError::NoSecret),
            (json!("text"), "new", RotateError::NoSecret),
            (json!({"webhook_secret": "same"}), "same", RotateError::Same),
            (json!({"webhook_secret": "old"}), " ", RotateError::Empty),
        ] {
            let before = value.clone();
            assert_eq!(rotate(&mut value, new, until), Err(error));
            assert_eq!(value, before);
        }
    }
}
