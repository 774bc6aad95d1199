//! Signed links for customers. A customer message carries a link to a page about one
//! shipment — to track it, to fix its address, to reschedule it — that works without a
//! login: the link itself is the permission. So it names the shipment, the purpose and an
//! expiry, signed with HMAC-SHA256 under a secret the deployment holds; a link for another
//! purpose, another shipment, past its expiry or signed under an unknown key is refused,
//! and the page says nothing about why (a refusal must not tell a guesser what is close).
//!
//! Keys rotate: links are signed with the current key and accepted under the current and
//! the previous one, so links already sent keep working through a rotation until they
//! expire.
//!
//! Token: `v1.<base64url(payload)>.<base64url(mac)>`, payload `purpose|expires|shipment`
//! (the shipment key last, so whatever its ids hold is read back whole).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use domain::ShipmentKey;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The secret that holds the keys, under the deployment's secrets prefix.
pub const SECRET_NAME: &str = "links";

/// The secret's JSON: base64 keys of at least [`MIN_KEY_BYTES`] bytes each. Rotating puts
/// a new `current` and moves the old one to `previous`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSecret {
    pub current: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

impl LinkSecret {
    /// The keys it holds.
    pub fn keys(&self) -> Result<LinkKeys, WeakKey> {
        let decode = |text: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| WeakKey)
        };
        let previous = self.previous.as_deref().map(decode).transpose()?;
        LinkKeys::new(&decode(&self.current)?, previous.as_deref())
    }

    /// The secret after a rotation to `new_key`: links signed before keep working until
    /// the next rotation.
    pub fn rotated(&self, new_key: &[u8]) -> LinkSecret {
        LinkSecret {
            current: base64::engine::general_purpose::STANDARD.encode(new_key),
            previous: Some(self.current.clone()),
        }
    }

    /// A first secret with `key`.
    pub fn first(key: &[u8]) -> LinkSecret {
        LinkSecret {
            current: base64::engine::general_purpose::STANDARD.encode(key),
            previous: None,
        }
    }
}

const VERSION: &str = "v1";

/// What a link lets its holder do: open one of the customer's pages.
pub use domain::ports::CustomerPage as Purpose;

fn parse_purpose(text: &str) -> Option<Purpose> {
    Purpose::ALL.into_iter().find(|p| p.as_str() == text)
}

/// The signing secrets: the current one signs; both are accepted.
#[derive(Clone)]
pub struct LinkKeys {
    current: Vec<u8>,
    previous: Option<Vec<u8>>,
}

impl std::fmt::Debug for LinkKeys {
    // Never the secrets themselves, even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkKeys")
            .field("previous", &self.previous.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a link was not accepted. Each is permanent: the same link fails the same way.
/// A page shows all of them alike.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefused {
    #[error("not a link token")]
    Malformed,
    #[error("the signature does not match any key")]
    Forged,
    #[error("the link is for another purpose")]
    OtherPurpose,
    #[error("the link expired")]
    Expired,
}

/// A key too short to resist guessing is a configuration mistake, not a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a link signing key must be base64 of at least {MIN_KEY_BYTES} bytes")]
pub struct WeakKey;

pub const MIN_KEY_BYTES: usize = 32;

impl LinkKeys {
    pub fn new(current: &[u8], previous: Option<&[u8]>) -> Result<LinkKeys, WeakKey> {
        if current.len() < MIN_KEY_BYTES || previous.is_some_and(|p| p.len() < MIN_KEY_BYTES) {
            return Err(WeakKey);
        }
        Ok(LinkKeys {
            current: current.to_vec(),
            previous: previous.map(<[u8]>::to_vec),
        })
    }

    /// A link token for `shipment` and `purpose`, valid until `expires_s` (seconds since
    /// the epoch).
    pub fn sign(&self, shipment: &ShipmentKey, purpose: Purpose, expires_s: i64) -> String {
        let payload = format!("{}|{expires_s}|{shipment}", purpose.as_str());
        let mac = mac(&self.current, &payload).finalize().into_bytes();
        format!(
            "{VERSION}.{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(mac)
        )
    }

    /// A tag binding `context` to these keys: the console's CSRF token for a session
    /// (`context` names its use, so a tag is never a link: a link's payload starts with a
    /// page's name).
    pub fn tag(&self, context: &str) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.current, context).finalize().into_bytes())
    }

    /// Whether `tag` is [`LinkKeys::tag`] of `context` under the current or the previous
    /// key, compared in constant time.
    pub fn check_tag(&self, context: &str, tag: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        std::iter::once(&self.current)
            .chain(&self.previous)
            .any(|key| mac(key, context).verify_slice(&tag).is_ok())
    }

    /// The shipment `token` is about, if it is a genuine link for `purpose` that has not
    /// expired at `now_s`.
    pub fn verify(
        &self,
        token: &str,
        purpose: Purpose,
        now_s: i64,
    ) -> Result<ShipmentKey, LinkRefused> {
        let mut parts = token.split('.');
        let (Some(VERSION), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(LinkRefused::Malformed);
        };
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(LinkRefused::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| LinkRefused::Malformed)?;
        // The signature first: nothing of an unsigned payload is believed, not even its
        // purpose or expiry. `verify_slice` compares in constant time.
        let genuine = std::iter::once(&self.current)
            .chain(&self.previous)
            .any(|key| mac(key, &payload).verify_slice(&signature).is_ok());
        if !genuine {
            return Err(LinkRefused::Forged);
        }
        let mut fields = payload.splitn(3, '|');
        let (Some(kind), Some(expires), Some(shipment)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(LinkRefused::Malformed);
        };
        if parse_purpose(kind) != Some(purpose) {
            return Err(LinkRefused::OtherPurpose);
        }
        let expires: i64 = expires.parse().map_err(|_| LinkRefused::Malformed)?;
        if now_s >= expires {
            return Err(LinkRefused::Expired);
        }
        shipment.parse().map_err(|_| LinkRefused::Malformed)
    }
}

fn mac(key: &[u8], payload: &str) -> HmacSha256 {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(payload.as_bytes());
    mac
}

/// The domain's [`domain::ports::CustomerLinks`]: signs with the keys in the deployment's
/// secret (read through the secrets port, which caches it), under the pages' base URL.
pub struct SignedLinks {
    pub secrets: std::sync::Arc<dyn domain::ports::Secrets>,
    /// Where the stack's pages are (`https://…/`, the stack's `PagesUrl`), without a
    /// trailing slash or with one.
    pub base_url: String,
    /// How long a link works, in seconds.
    pub lifetime_s: i64,
}

/// A link works for 30 days: long after the delivery, short of forever. (A link to fix an
/// address or reschedule stops doing anything sooner: once the item is closed or the parcel
/// picked up, its page says so.)
pub const LINK_LIFETIME_S: i64 = 30 * 86_400;

#[async_trait::async_trait]
impl domain::ports::CustomerLinks for SignedLinks {
    async fn page(
        &self,
        page: Purpose,
        shipment: &ShipmentKey,
        now_ms: i64,
    ) -> Result<String, domain::ports::SecretError> {
        let secret: LinkSecret =
            domain::ports::secret_json(self.secrets.as_ref(), SECRET_NAME).await?;
        let keys = secret
            .keys()
            .map_err(|e| domain::ports::SecretError::Malformed {
                name: self.secrets.full_name(SECRET_NAME),
                problem: e.to_string(),
            })?;
        let token = keys.sign(shipment, page, now_ms.div_euclid(1000) + self.lifetime_s);
        Ok(format!(
            "{}/{}/{token}",
            self.base_url.trim_end_matches('/'),
            page.path()
        ))
    }
}

/// The links to the pages of a deployment whose pages are at `pages_url` (the stack's
/// `PagesUrl`); `None` without one: messages then carry the courier's tracking link and the
/// store's own reschedule link, and ask for an address by reply.
pub fn customer_links(
    secrets: std::sync::Arc<dyn domain::ports::Secrets>,
    pages_url: Option<String>,
) -> Option<std::sync::Arc<dyn domain::ports::CustomerLinks>> {
    pages_url.map(|base_url| {
        std::sync::Arc::new(SignedLinks {
            secrets,
            base_url,
            lifetime_s: LINK_LIFETIME_S,
        }) as std::sync::Arc<dyn domain::ports::CustomerLinks>
    })
}
