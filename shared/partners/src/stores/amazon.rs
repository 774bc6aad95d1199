//! Amazon Selling Partner API client: Login with Amazon (LWA) access tokens, the Orders API
//! v0 reads that turn an `ORDER_CHANGE` notification into a delivery, and the tracking
//! write-back (`confirmShipment`), which is what marks an MFN order shipped and shows the
//! buyer the tracking number.
//!
//! Contract: `models/orders-api-model/ordersV0.json` in amzn/selling-partner-api-models. Every
//! call carries an LWA access token in `x-amz-access-token` (SP-API no longer needs AWS
//! signatures). Usage plans are per operation (`getOrder` 0.5 req/s, burst 30;
//! `confirmShipment` 2 req/s, burst 10) and a 429 names its rate in `x-amzn-RateLimit-Limit`
//! when it names one.
//!
//! # Delivery statuses
//!
//! None are written: every status is [`StatusWriteBack::NotShown`], without a call.
//! `confirmShipment` is the seller's one write for a merchant-fulfilled delivery: once the
//! order is confirmed shipped with a carrier and tracking number, what the buyer sees of the
//! delivery comes from that tracking on Amazon's side, and the Orders API has no operation
//! for a seller to post delivery events. Its only status update, `updateShipmentStatus`,
//! takes pickup states (`ReadyForPickup`, `PickedUp`, `RefusedPickup`:
//! <https://developer-docs.amazon.com/sp-api/lang-en_EN/reference/updateshipmentstatus>),
//! which describe an order the buyer collects (the `IsISPU` in-store pickup orders of
//! `getOrders`), not a courier delivery: writing our statuses there would tell Amazon a
//! buyer collected a parcel that a driver delivered to their door.

use crate::http::{self, Effect};
use async_trait::async_trait;
use channels::amazon::{self as channel, BuyerInfo, Order, OrderAddress, OrderItem};
use channels::ParseError;
use domain::order::OrderEvent;
use domain::ports::{OrderSource, Secrets, StoreWriter};
use domain::write_back::{StatusReport, StatusWriteBack, Tracking, WriteBack};
use domain::{Channel, PartnerError, ShipmentKey};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const DEFAULT_LWA_TOKEN_URL: &str = "https://api.amazon.com/auth/o2/token";
pub const ACCESS_TOKEN_HEADER: &str = "x-amz-access-token";
const RATE_LIMIT_HEADER: &str = "x-amzn-ratelimit-limit";

/// The `carrierCode` for a carrier outside Amazon's list; `carrierName` then names it.
pub const OTHER_CARRIER: &str = "Other";

/// A token is replaced this long before LWA says it expires, so none expires in flight.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// A guard against a server that keeps handing out `NextToken`s.
const MAX_ITEM_PAGES: usize = 100;

/// What the store secret holds (Secrets Manager, `{prefix}amazon/{store}`).
#[derive(Clone, Deserialize)]
pub struct AmazonCredentials {
    pub lwa_client_id: String,
    pub lwa_client_secret: String,
    /// The seller's authorization of this application (from the OAuth or self-authorization
    /// flow); long-lived, exchanged for hour-long access tokens.
    pub refresh_token: String,
    /// Used when an order does not name its own marketplace.
    pub marketplace_id: String,
    /// The SP-API regional base URL, e.g. `https://sellingpartnerapi-na.amazon.com` (the
    /// sandbox's URL in local runs).
    pub endpoint: String,
    #[serde(default = "default_lwa_token_url")]
    pub lwa_token_url: String,
}

fn default_lwa_token_url() -> String {
    DEFAULT_LWA_TOKEN_URL.to_owned()
}

// Hand-written so the client secret and the refresh token never reach a log.
impl fmt::Debug for AmazonCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmazonCredentials")
            .field("lwa_client_id", &self.lwa_client_id)
            .field("lwa_client_secret", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("marketplace_id", &self.marketplace_id)
            .field("endpoint", &self.endpoint)
            .field("lwa_token_url", &self.lwa_token_url)
            .finish()
    }
}

pub(crate) const PARTNER: &str = "amazon";

/// Amazon has no such order (for this seller): retrying cannot make it appear.
fn order_not_found(order_id: &str) -> PartnerError {
    PartnerError::rejected(PARTNER, "404", format!("Amazon has no order {order_id}"))
}

/// The order is in no state to be confirmed shipped (cancelled, pending, fulfilled by
/// Amazon).
fn not_confirmable(message: String) -> PartnerError {
    PartnerError::rejected(PARTNER, "not_confirmable", message)
}

/// `packageDetail` of `confirmShipment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageDetail {
    /// Positive digits only (Amazon's rule), unique within the order.
    pub package_reference_id: String,
    pub carrier_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_method: Option<String>,
    pub tracking_number: String,
    /// RFC 3339.
    pub ship_date: String,
    pub order_items: Vec<ConfirmItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmItem {
    pub order_item_id: String,
    pub quantity: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfirmShipmentRequest<'a> {
    marketplace_id: &'a str,
    package_detail: &'a PackageDetail,
}

/// An order with what `getOrderAddress`, `getOrderBuyerInfo` and `getOrderItems` add to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedOrder {
    pub order: Order,
    pub address: Option<OrderAddress>,
    pub buyer: Option<BuyerInfo>,
    pub items: Vec<OrderItem>,
}

impl FetchedOrder {
    pub fn event(&self, store: &str) -> OrderEvent {
        channel::order_event(
            &self.order,
            self.address.as_ref(),
            self.buyer.as_ref(),
            &self.items,
            store,
        )
    }
}

pub(crate) struct AccessToken {
    pub(crate) value: String,
    refresh_at: Instant,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    /// Seconds; LWA says 3600.
    expires_in: u64,
}

/// LWA's OAuth error body.
#[derive(Deserialize)]
struct LwaError {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// SP-API's error body: `{"errors": [{"code", "message", "details"}]}`.
#[derive(Deserialize)]
struct ErrorList {
    #[serde(default)]
    errors: Vec<ApiError>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Option<String>,
}

/// One seller's SP-API access. Keep it (per store, per warm Lambda): the access token is
/// cached in it until shortly before it expires.
pub struct SpApiClient {
    http: reqwest::Client,
    credentials: AmazonCredentials,
    /// A tokio mutex, held across the LWA request, so concurrent calls share one refresh.
    token: tokio::sync::Mutex<Option<AccessToken>>,
}

impl fmt::Debug for SpApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpApiClient")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl SpApiClient {
    pub fn new(http: reqwest::Client, credentials: AmazonCredentials) -> SpApiClient {
        SpApiClient {
            http,
            credentials,
            token: tokio::sync::Mutex::new(None),
        }
    }

    pub fn marketplace_id(&self) -> &str {
        &self.credentials.marketplace_id
    }

    /// `getOrder`. A 404 is a permanent refusal: Amazon has no such order.
    pub async fn get_order(&self, order_id: &str) -> Result<Order, PartnerError> {
        let path = order_path(order_id)?;
        let body = self.get(&path, &[], order_id).await?;
        channel::parse_order(&body).map_err(shape)
    }

    /// `getOrderAddress`: the shipping address (restricted data) and delivery preferences.
    pub async fn get_order_address(&self, order_id: &str) -> Result<OrderAddress, PartnerError> {
        let path = format!("{}/address", order_path(order_id)?);
        let body = self.get(&path, &[], order_id).await?;
        channel::parse_order_address(&body).map_err(shape)
    }

    /// `getOrderBuyerInfo`: the buyer's relay e-mail and name.
    pub async fn get_order_buyer_info(&self, order_id: &str) -> Result<BuyerInfo, PartnerError> {
        let path = format!("{}/buyerInfo", order_path(order_id)?);
        let body = self.get(&path, &[], order_id).await?;
        channel::parse_buyer_info(&body).map_err(shape)
    }

    /// `getOrderItems`, every page (following `NextToken`).
    pub async fn get_order_items(&self, order_id: &str) -> Result<Vec<OrderItem>, PartnerError> {
        let path = format!("{}/orderItems", order_path(order_id)?);
        let mut items = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..MAX_ITEM_PAGES {
            let query: Vec<(&str, &str)> = next
                .as_deref()
                .map(|t| vec![("NextToken", t)])
                .unwrap_or_default();
            let body = self.get(&path, &query, order_id).await?;
            let page = channel::parse_order_items(&body).map_err(shape)?;
            items.extend(page.order_items);
            next = page.next_token.filter(|t| !t.trim().is_empty());
            if next.is_none() {
                return Ok(items);
            }
        }
        Err(PartnerError::unavailable(
            PARTNER,
            format!("getOrderItems for {order_id} did not end after {MAX_ITEM_PAGES} pages"),
        ))
    }

    /// Everything [`channel::order_event`] reads. The address, buyer and items are fetched
    /// only for an order ready to ship (before that Amazon serves no address; after it, or
    /// for an order Amazon fulfils, there is nothing to deliver), and the buyer's relay
    /// address only when the phone is hidden: each call spends the seller's quota.
    pub async fn fetch_order(&self, order_id: &str) -> Result<FetchedOrder, PartnerError> {
        let order = self.get_order(order_id).await?;
        if !order.is_ready_to_ship() {
            return Ok(FetchedOrder {
                order,
                address: None,
                buyer: None,
                items: Vec::new(),
            });
        }
        let address = self.get_order_address(order_id).await?;
        let phone_hidden = address
            .shipping_address
            .as_ref()
            .and_then(|a| a.phone.as_deref())
            .is_none_or(|p| p.trim().is_empty() || channel::is_masked_phone(p));
        let buyer = if phone_hidden {
            Some(self.get_order_buyer_info(order_id).await?)
        } else {
            None
        };
        let items = self.get_order_items(order_id).await?;
        Ok(FetchedOrder {
            order,
            address: Some(address),
            buyer,
            items,
        })
    }

    /// `confirmShipment` (204 on success). Not idempotent on Amazon's side: see
    /// [`SpApiClient::write_tracking`] for the look-first write.
    pub async fn confirm_shipment(
        &self,
        order_id: &str,
        marketplace_id: &str,
        package: &PackageDetail,
    ) -> Result<(), PartnerError> {
        let path = format!("{}/shipmentConfirmation", order_path(order_id)?);
        let body = serde_json::to_vec(&ConfirmShipmentRequest {
            marketplace_id,
            package_detail: package,
        })
        .map_err(|e| PartnerError::unavailable(PARTNER, format!("confirmShipment body: {e}")))?;
        self.call(Method::POST, &path, &[], Some(body), order_id)
            .await
            .map(drop)
    }

    /// Confirms the order's unshipped quantities as one package carrying `tracking`, once:
    /// an order Amazon already shows as shipped (an earlier attempt got through) is
    /// `AlreadyThere`. The package reference is derived from the shipment key, so every
    /// attempt names the same package.
    pub async fn write_tracking(
        &self,
        key: &ShipmentKey,
        tracking: &Tracking,
    ) -> Result<WriteBack, PartnerError> {
        let order_id = key.order_id.as_str();
        let reference = package_reference_id(key);
        let order = self.get_order(order_id).await?;
        let refuse = |why: String| not_confirmable(format!("order {order_id}: {why}"));
        if order.is_fulfilled_by_amazon() {
            return Err(refuse("fulfilled by Amazon, not by the seller".into()));
        }
        match order.order_status.as_str() {
            "Shipped" | "InvoiceUnconfirmed" => return Ok(WriteBack::AlreadyThere { reference }),
            "Unshipped" | "PartiallyShipped" => {}
            other => {
                return Err(refuse(format!(
                    "status {other} cannot be confirmed shipped"
                )))
            }
        }
        let items: Vec<ConfirmItem> = self
            .get_order_items(order_id)
            .await?
            .iter()
            .filter(|i| i.unshipped_quantity() > 0)
            .map(|i| ConfirmItem {
                order_item_id: i.order_item_id.clone(),
                quantity: i.unshipped_quantity(),
            })
            .collect();
        // The status lags the items: every unit shipped means our confirmation is there.
        if items.is_empty() {
            return Ok(WriteBack::AlreadyThere { reference });
        }
        let now = OffsetDateTime::now_utc();
        let ship_date = now
            .replace_nanosecond(0)
            .unwrap_or(now)
            .format(&Rfc3339)
            .map_err(|e| PartnerError::unavailable(PARTNER, format!("ship date: {e}")))?;
        let package = PackageDetail {
            package_reference_id: reference.clone(),
            carrier_code: OTHER_CARRIER.into(),
            carrier_name: Some(tracking.company.clone()),
            shipping_method: None,
            tracking_number: tracking.number.clone(),
            ship_date,
            order_items: items,
        };
        let marketplace = order
            .marketplace_id
            .as_deref()
            .filter(|m| !m.trim().is_empty())
            .unwrap_or(&self.credentials.marketplace_id);
        self.confirm_shipment(order_id, marketplace, &package)
            .await?;
        Ok(WriteBack::Written { reference })
    }

    async fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
        order_id: &str,
    ) -> Result<Vec<u8>, PartnerError> {
        self.call(Method::GET, path, query, None, order_id).await
    }

    /// One SP-API call. A call with a body changes the order: a failure after sending it is
    /// ambiguous.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
        order_id: &str,
    ) -> Result<Vec<u8>, PartnerError> {
        let write = body.is_some();
        let token = self.access_token().await?;
        let url = format!("{}{path}", self.credentials.endpoint.trim_end_matches('/'));
        let mut request = self
            .http
            .request(method, url)
            .header(ACCESS_TOKEN_HEADER, &token)
            .query(query);
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let effect = if write { Effect::Write } else { Effect::Read };
        let reply = http::exchange(PARTNER, request, effect).await?;
        let status = reply.status;
        match status.as_u16() {
            200..=299 => Ok(reply.body),
            404 => Err(order_not_found(order_id)),
            401 | 403 => {
                // An expired or revoked token is replaced on the next call.
                self.forget_token(&token).await;
                Err(PartnerError::config(
                    PARTNER,
                    format!("{status}: {}", errors_text(&reply.body)),
                ))
            }
            429 => Err(PartnerError::Throttled {
                partner: PARTNER,
                retry_after: throttle_wait(&reply.headers),
            }),
            // Only 503 says the request was not taken in; any other 5xx may have applied it.
            500..=599 if write && status.as_u16() != 503 => {
                Err(PartnerError::ambiguous(PARTNER, status.to_string()))
            }
            _ => Err(http::refusal(PARTNER, &reply, errors_text(&reply.body))),
        }
    }

    /// The cached access token, or a new one from LWA.
    async fn access_token(&self) -> Result<String, PartnerError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok(token.value.clone());
        }
        let fresh = self.request_token().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    async fn forget_token(&self, used: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == used) {
            *cached = None;
        }
    }

    /// LWA's refresh-token grant: a token that acts for the seller.
    async fn request_token(&self) -> Result<AccessToken, PartnerError> {
        let c = &self.credentials;
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", c.refresh_token.as_str()),
            ("client_id", c.lwa_client_id.as_str()),
            ("client_secret", c.lwa_client_secret.as_str()),
        ];
        lwa_grant(&self.http, &c.lwa_token_url, &form).await
    }
}

/// One Login with Amazon grant (`form` names it). Asking again is harmless, so every
/// failure to reach LWA is plain unavailability.
pub(crate) async fn lwa_grant(
    http: &reqwest::Client,
    token_url: &str,
    form: &[(&str, &str)],
) -> Result<AccessToken, PartnerError> {
    let requested = Instant::now();
    // A token request is a read.
    let reply = http::exchange(PARTNER, http.post(token_url).form(form), Effect::Read).await?;
    match reply.status.as_u16() {
        200..=299 => {
            let token: TokenResponse = reply.json(PARTNER, Effect::Read)?;
            let lifetime = Duration::from_secs(token.expires_in).saturating_sub(TOKEN_MARGIN);
            Ok(AccessToken {
                value: token.access_token,
                refresh_at: requested + lifetime,
            })
        }
        429 => Err(PartnerError::Throttled {
            partner: PARTNER,
            retry_after: throttle_wait(&reply.headers),
        }),
        500..=599 => Err(PartnerError::unavailable(
            PARTNER,
            format!("LWA {}", reply.status),
        )),
        _ => {
            let error = serde_json::from_slice::<LwaError>(&reply.body).ok();
            let text = error
                .map(|e| {
                    [e.error, e.error_description]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(": ")
                })
                .unwrap_or_default();
            Err(PartnerError::config(
                PARTNER,
                format!("LWA {}: {text}", reply.status),
            ))
        }
    }
}

#[async_trait::async_trait]
impl StoreWriter for SpApiClient {
    /// Nothing to write for any status: Amazon follows the delivery through the tracking
    /// confirmed with `confirmShipment` (see the module's documentation).
    async fn write_status(
        &self,
        _key: &ShipmentKey,
        _report: &StatusReport,
    ) -> Result<StatusWriteBack, PartnerError> {
        Ok(StatusWriteBack::NotShown)
    }

    async fn write_tracking(
        &self,
        key: &ShipmentKey,
        tracking: &Tracking,
    ) -> Result<WriteBack, PartnerError> {
        Ok(SpApiClient::write_tracking(self, key, tracking).await?)
    }
}

/// Per seller: the secret's text the client was made from, and the client (which keeps the
/// seller's access token between calls).
type SellerClients = std::collections::HashMap<String, (Arc<String>, Arc<SpApiClient>)>;

/// Amazon's orders, fetched for a notification that names one (normalize): the seller's
/// credentials from `amazon/{store}`, one client per seller kept for its access token.
pub struct AmazonOrders {
    secrets: Arc<dyn Secrets>,
    http: reqwest::Client,
    /// A changed secret makes a new client.
    clients: tokio::sync::Mutex<SellerClients>,
}

impl AmazonOrders {
    pub fn new(secrets: Arc<dyn Secrets>, http: reqwest::Client) -> Self {
        AmazonOrders {
            secrets,
            http,
            clients: tokio::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    async fn client(&self, store: &str) -> Result<Arc<SpApiClient>, PartnerError> {
        let name = super::secret_name(Channel::Amazon, store);
        // The secret store caches the text, so this is cheap; comparing it notices rotation.
        let text = self
            .secrets
            .text(&name)
            .await
            .map_err(|e| e.for_partner(PARTNER))?;
        let mut clients = self.clients.lock().await;
        if let Some((seen, client)) = clients.get(store) {
            if *seen == text {
                return Ok(client.clone());
            }
        }
        let credentials: AmazonCredentials = serde_json::from_str(&text).map_err(|e| {
            PartnerError::config(
                PARTNER,
                format!("secret {} is not valid: {e}", self.secrets.full_name(&name)),
            )
        })?;
        let client = Arc::new(SpApiClient::new(self.http.clone(), credentials));
        clients.insert(store.to_owned(), (text, client.clone()));
        Ok(client)
    }
}

#[async_trait]
impl OrderSource for AmazonOrders {
    async fn order_event(
        &self,
        channel: Channel,
        store: &str,
        order_id: &str,
    ) -> Result<OrderEvent, PartnerError> {
        if channel != Channel::Amazon {
            return Err(PartnerError::config(
                PARTNER,
                format!("{channel} orders are not fetched from Amazon"),
            ));
        }
        let client = self.client(store).await?;
        Ok(client.fetch_order(order_id).await?.event(store))
    }
}

/// `/orders/v0/orders/{orderId}`. Amazon ids are digits and dashes (the sandbox's test ids
/// add letters and '_'); anything else would change the path, so it is refused.
fn order_path(order_id: &str) -> Result<String, PartnerError> {
    let ok = !order_id.is_empty()
        && order_id.len() <= 64
        && order_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(format!("/orders/v0/orders/{order_id}"))
    } else {
        Err(PartnerError::rejected(
            PARTNER,
            "invalid_order_id",
            format!("{order_id:?} is not an Amazon order id"),
        ))
    }
}

/// The package id of a shipment: Amazon wants positive digits, unique within the order, and
/// every retry must name the same package. Twelve digits of the key's SHA-256 stay clear of
/// the small sequence numbers other tools use.
pub fn package_reference_id(key: &ShipmentKey) -> String {
    let digest = Sha256::digest(key.to_string().as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    let n = u64::from_be_bytes(head) % 1_000_000_000_000;
    n.max(1).to_string()
}

/// How long to wait after a 429: `Retry-After` when given, else one request's worth of the
/// usage-plan rate in `x-amzn-RateLimit-Limit` (requests per second), at most a minute.
pub(crate) fn throttle_wait(headers: &HeaderMap) -> Option<Duration> {
    http::retry_after(headers).or_else(|| {
        let rate: f64 = headers
            .get(RATE_LIMIT_HEADER)?
            .to_str()
            .ok()?
            .trim()
            .parse()
            .ok()?;
        // Whole seconds, rounded up: 0.0167 req/s is one request a minute.
        (rate.is_finite() && rate > 0.0)
            .then(|| Duration::from_secs((1.0 / rate).ceil().clamp(1.0, 60.0) as u64))
    })
}

/// The messages of an SP-API error body, or its first bytes.
pub(crate) fn errors_text(body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorList>(body) {
        Ok(list) if !list.errors.is_empty() => list
            .errors
            .iter()
            .map(|e| {
                let head = [e.code.as_deref(), e.message.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": ");
                match e.details.as_deref().filter(|d| !d.is_empty()) {
                    Some(d) => format!("{head} ({d})"),
                    None => head,
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
    }
}

/// A 2xx answer that is not the documented shape: Amazon's side or a proxy, not the order.
fn shape(e: ParseError) -> PartnerError {
    PartnerError::unavailable(PARTNER, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::error::Classify;
    use reqwest::header::HeaderValue;

    fn credentials() -> AmazonCredentials {
        serde_json::from_value(serde_json::json!({
            "lwa_client_id": "amzn1.application-oa2-client.abc",
            "lwa_client_secret": "cs-secret-value",
            "refresh_token": "Atzr|refresh-secret",
            "marketplace_id": "ATVPDKIKX0DER",
            "endpoint": "https://sellingpartnerapi-na.amazon.com"
        }))
        .unwrap()
    }

    #[test]
    fn the_lwa_url_defaults_and_debug_hides_the_secrets() {
        let c = credentials();
        assert_eq!(c.lwa_token_url, DEFAULT_LWA_TOKEN_URL);
        let debug = format!("{:?}", SpApiClient::new(reqwest::Client::new(), c));
        assert!(
            !debug.contains("cs-secret-value") && !debug.contains("refresh-secret"),
            "{debug}"
        );
        assert!(debug.contains("amzn1.application-oa2-client.abc"));
    }

    #[test]
    fn package_references_are_positive_digits_and_stable_per_shipment() {
        let key = ShipmentKey::new(Channel::Amazon, "s", "902-1845936-5435065", "1");
        let id = package_reference_id(&key);
        assert!(!id.is_empty() && id.len() <= 12 && id.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(id, "0");
        assert_eq!(package_reference_id(&key), id);
        let other = ShipmentKey::new(Channel::Amazon, "s", "902-1845936-5435066", "1");
        assert_ne!(package_reference_id(&other), id);
    }

    #[test]
    fn order_ids_cannot_change_the_path() {
        assert_eq!(
            order_path("902-1845936-5435065").unwrap(),
            "/orders/v0/orders/902-1845936-5435065"
        );
        assert!(order_path("TEST_CASE_200").is_ok());
        for bad in ["", "../../tokens", "1/address", "1?x=2", "1 2"] {
            assert!(
                matches!(order_path(bad), Err(PartnerError::Rejected { ref code, .. }) if code == "invalid_order_id"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_throttle_waits_for_retry_after_or_one_request_of_the_rate() {
        let mut h = HeaderMap::new();
        assert_eq!(throttle_wait(&h), None);
        h.insert(RATE_LIMIT_HEADER, HeaderValue::from_static("0.5"));
        assert_eq!(throttle_wait(&h), Some(Duration::from_secs(2)));
        h.insert(RATE_LIMIT_HEADER, HeaderValue::from_static("0.0167"));
        assert_eq!(throttle_wait(&h), Some(Duration::from_secs(60)));
        h.insert(RATE_LIMIT_HEADER, HeaderValue::from_static("20"));
        assert_eq!(throttle_wait(&h), Some(Duration::from_secs(1)));
        h.insert(RATE_LIMIT_HEADER, HeaderValue::from_static("0"));
        assert_eq!(throttle_wait(&h), None);
        h.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(throttle_wait(&h), Some(Duration::from_secs(7)));
    }

    #[test]
    fn a_missing_order_is_a_permanent_refusal() {
        let e = order_not_found("1");
        assert!(!e.is_transient());
        assert!(e.to_string().contains("no order 1"), "{e}");
        assert_eq!(e.rejected_status(), Some(404));
    }

    #[test]
    fn error_bodies_read_as_their_messages() {
        let body =
            br#"{"errors":[{"code":"InvalidInput","message":"Invalid Input","details":"1001"}]}"#;
        assert_eq!(errors_text(body), "InvalidInput: Invalid Input (1001)");
        assert_eq!(errors_text(b"<html>"), "<html>");
    }

    #[test]
    fn the_confirmation_body_has_amazons_field_names() {
        let package = PackageDetail {
            package_reference_id: "1".into(),
            carrier_code: OTHER_CARRIER.into(),
            carrier_name: Some("Sandbox Courier".into()),
            shipping_method: None,
            tracking_number: "SBX1".into(),
            ship_date: "2026-11-20T10:00:00Z".into(),
            order_items: vec![ConfirmItem {
                order_item_id: "05015851154158".into(),
                quantity: 1,
            }],
        };
        let body = serde_json::to_value(ConfirmShipmentRequest {
            marketplace_id: "ATVPDKIKX0DER",
            package_detail: &package,
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "marketplaceId": "ATVPDKIKX0DER",
                "packageDetail": {
                    "packageReferenceId": "1", "carrierCode": "Other",
                    "carrierName": "Sandbox Courier", "trackingNumber": "SBX1",
                    "shipDate": "2026-11-20T10:00:00Z",
                    "orderItems": [{"orderItemId": "05015851154158", "quantity": 1}]
                }
            })
        );
    }
}
