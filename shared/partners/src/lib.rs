//! courier-bridge's partners: the HTTP clients of couriers ([`couriers`]), stores and
//! marketplaces ([`stores`]) and message providers ([`notifiers`]), each implementing a
//! port of the domain. Every one of them sends through [`http`], so "was it sent, may it
//! have been applied, will asking again help" is decided in one place.
//!
//! Credentials come from the secret store through the domain's
//! [`domain::ports::Secrets`]; nothing here knows it is AWS Secrets Manager.

pub mod connect;
pub mod couriers;
pub mod http;
pub mod notifiers;
pub mod stores;

/// The one pooled HTTP client (rustls) every partner call goes through, with a bound on
/// each request (`timeout`: keep it well under the idempotency lease, since a create that
/// times out is ambiguous) and on connecting.
pub fn http_client(timeout: std::time::Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(std::time::Duration::from_secs(3))
        // No partner API redirects a call it serves. Followed, a 301/302 turns a POST into a
        // GET (a store's http→https redirect would "succeed" with a listing instead of
        // writing); refused, it is a configuration error naming where it pointed.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("courier-bridge/", env!("CARGO_PKG_VERSION")))
        .build()
}
