//! Standard Webhooks symmetric signatures: `whsec_` secrets and `v1,` HMAC-SHA256 signatures
//! over `{webhook-id}.{webhook-timestamp}.{body}`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Prefix of a symmetric secret as shown to users.
pub const SECRET_PREFIX: &str = "whsec_";

/// Random bytes of a new signing key: the spec asks for 24 to 64.
const KEY_BYTES: usize = 32;

/// A new secret: `whsec_` + base64 of `KEY_BYTES` random bytes from the operating system.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut key = [0u8; KEY_BYTES];
    getrandom::fill(&mut key)?;
    Ok(format!("{SECRET_PREFIX}{}", BASE64.encode(key)))
}

/// The signing key of a secret: the base64-decoded part after `whsec_`.
pub fn key_of(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    BASE64.decode(encoded).ok().filter(|k| !k.is_empty())
}

/// The `webhook-signature` value: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector of the reference libraries' signing test (standard-webhooks, `TestWebhookSign`).
    #[test]
    fn signs_the_reference_vector() {
        let key = key_of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid secret");
        let signature = sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // Any change to id, timestamp or body changes the signature.
        assert_ne!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265331,
                br#"{"test": 2432232314}"#
            ),
            signature
        );
        assert_ne!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232315}"#
            ),
            signature
        );
    }

    #[test]
    fn new_secrets_are_prefixed_random_and_long_enough() {
        let a = new_secret().expect("randomness");
        let b = new_secret().expect("randomness");
        assert!(a.starts_with(SECRET_PREFIX), "{a}");
        assert_ne!(a, b);
        assert_eq!(key_of(&a).expect("decodes").len(), KEY_BYTES);
        assert!(key_of("whsec_!!!").is_none());
        assert!(key_of("whsec_").is_none());
    }
}
