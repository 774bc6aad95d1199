//! Webhook signatures. The comparison is constant-time (`Mac::verify_slice`), so a forger
//! learns nothing from how long a wrong guess takes.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Checks a base64 HMAC-SHA256 of the raw body (Shopify's `X-Shopify-Hmac-Sha256`,
/// WooCommerce's `X-WC-Webhook-Signature`). An empty secret never verifies: it would let
/// anyone who knows the algorithm sign.
pub fn verify_base64_hmac_sha256(secret: &[u8], body: &[u8], signature_b64: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature_b64.trim())
    else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Signs a body the way Shopify does; used by the demo and the tests to play the store.
pub fn sign_base64_hmac_sha256(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks a lowercase-or-uppercase hex HMAC-SHA256 of the raw body (the sandbox courier's
/// `X-Sandbox-Signature`). An empty secret never verifies.
pub fn verify_hex_hmac_sha256(secret: &[u8], body: &[u8], signature_hex: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    let Ok(expected) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Signs a body the way the sandbox courier does (tests play the courier with it).
pub fn sign_hex_hmac_sha256(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_made_with_another_secret_does_not_verify() {
        let sig = sign_base64_hmac_sha256(b"one", b"{}");
        assert!(verify_base64_hmac_sha256(b"one", b"{}", &sig));
        assert!(!verify_base64_hmac_sha256(b"two", b"{}", &sig));
        assert!(!verify_base64_hmac_sha256(b"", b"{}", &sig));
        assert!(!verify_base64_hmac_sha256(b"one", b"{}", "not base64!"));
    }
}
