//! Courier clients: where a shipment becomes a delivery task. Each implements
//! [`domain::ports::Courier`] for one [`CourierKind`]; [`ConfiguredCourier`] is the
//! deployment's courier, with its credentials from the secret store.

pub mod onfleet;
pub mod sandbox;

use async_trait::async_trait;
use domain::courier::{CourierError, CourierKind};
use domain::ports::{secret_json, Courier, Couriers, Secrets};
use std::sync::Arc;

/// The deployment's courier (`COURIER_NAME`), its credentials read from
/// `{prefix}courier/{name}` on each use (the secret store caches them), so an operator's
/// fix or rotation takes effect without a restart.
pub struct ConfiguredCourier {
    kind: CourierKind,
    secrets: Arc<dyn Secrets>,
    http: reqwest::Client,
}

impl ConfiguredCourier {
    /// `http` carries the per-request timeout: a create that times out is ambiguous, so
    /// keep it well under the idempotency lease.
    pub fn new(kind: CourierKind, secrets: Arc<dyn Secrets>, http: reqwest::Client) -> Self {
        ConfiguredCourier {
            kind,
            secrets,
            http,
        }
    }

    /// The secret's name for a courier: `courier/{name}`.
    pub fn secret_name(kind: CourierKind) -> String {
        format!("courier/{kind}")
    }
}

#[async_trait]
impl Couriers for ConfiguredCourier {
    async fn courier(&self) -> Result<Arc<dyn Courier>, CourierError> {
        let name = Self::secret_name(self.kind);
        let partner = self.kind.as_str();
        let secrets = self.secrets.as_ref();
        Ok(match self.kind {
            CourierKind::Sandbox => {
                let credentials = secret_json(secrets, &name)
                    .await
                    .map_err(|e| e.for_partner(partner))?;
                Arc::new(sandbox::SandboxCourier::new(self.http.clone(), credentials))
            }
            CourierKind::Onfleet => {
                let credentials = secret_json(secrets, &name)
                    .await
                    .map_err(|e| e.for_partner(partner))?;
                Arc::new(onfleet::OnfleetCourier::new(self.http.clone(), credentials))
            }
        })
    }
}
