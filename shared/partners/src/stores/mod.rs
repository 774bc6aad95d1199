//! Store write-back clients: the tracking and each delivery status back to the channel the
//! order came from (a Shopify fulfillment and its events, WooCommerce order notes, Amazon's
//! shipment confirmation, the generic API's signed callbacks). Each implements
//! [`domain::ports::StoreWriter`]; [`ChannelWriters`] picks a shipment's by its channel,
//! with the store's credentials from the secret store (`{prefix}{channel}/{store}`).
//! [`amazon::AmazonOrders`] fetches what Amazon's notifications leave out.

pub mod amazon;
pub mod api;
pub mod shopify;
pub mod woocommerce;

use async_trait::async_trait;
use domain::ports::{secret_json, Secrets, StoreRules, StoreWriter, StoreWriters};
use domain::{Channel, PartnerError, ShipmentKey};
use std::sync::Arc;

/// The write-back client of a shipment's channel and store.
pub struct ChannelWriters {
    secrets: Arc<dyn Secrets>,
    /// WooCommerce reads the store's rules (the order status to set after tracking and
    /// after delivery, which messages the customer gets from us).
    rules: Arc<dyn StoreRules>,
    http: reqwest::Client,
}

impl ChannelWriters {
    pub fn new(
        secrets: Arc<dyn Secrets>,
        rules: Arc<dyn StoreRules>,
        http: reqwest::Client,
    ) -> Self {
        ChannelWriters {
            secrets,
            rules,
            http,
        }
    }
}

/// The secret of a store: `{channel}/{store}`.
pub fn secret_name(channel: Channel, store: &str) -> String {
    format!("{channel}/{store}")
}

#[async_trait]
impl StoreWriters for ChannelWriters {
    async fn writer(&self, key: &ShipmentKey) -> Result<Box<dyn StoreWriter>, PartnerError> {
        let name = secret_name(key.channel, &key.store);
        let secrets = self.secrets.as_ref();
        Ok(match key.channel {
            Channel::Shopify => {
                let c: shopify::ShopifyCredentials = secret_json(secrets, &name)
                    .await
                    .map_err(|e| e.for_partner(shopify::PARTNER))?;
                Box::new(shopify::ShopifyAdmin::new(
                    self.http.clone(),
                    &c.admin_base_url(&key.store),
                    &c.admin_access_token,
                ))
            }
            Channel::WooCommerce => {
                let c: woocommerce::WooCommerceCredentials = secret_json(secrets, &name)
                    .await
                    .map_err(|e| e.for_partner(woocommerce::PARTNER))?;
                let config =
                    self.rules.get(key.channel, &key.store).await.map_err(|e| {
                        PartnerError::unavailable(woocommerce::PARTNER, e.to_string())
                    })?;
                let rest = woocommerce::WooCommerceRest::from_credentials(self.http.clone(), &c)?;
                Box::new(woocommerce::WooCommerceWriter::new(rest, &config))
            }
            Channel::Amazon => {
                let c: amazon::AmazonCredentials = secret_json(secrets, &name)
                    .await
                    .map_err(|e| e.for_partner(amazon::PARTNER))?;
                Box::new(amazon::SpApiClient::new(self.http.clone(), c))
            }
            Channel::Api => {
                let c: api::ApiCredentials = secret_json(secrets, &name)
                    .await
                    .map_err(|e| e.for_partner(api::PARTNER))?;
                Box::new(api::ApiWriter::new(self.http.clone(), &c)?)
            }
        })
    }
}
