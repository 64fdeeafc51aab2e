//! Secrets at rest (Google tokens, PKCE verifiers): AES-256-GCM with a fresh random nonce per
//! value. A ciphertext names the key that sealed it (`v1.<key id>.<base64url(nonce ‖ sealed)>`,
//! the key id being the first 8 hex digits of the key's SHA-256), so keys can rotate: new values
//! use `security.encryption_key`, old ones still open with a key in
//! `security.previous_encryption_keys`.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, AeadCore, OsRng},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

const VERSION: &str = "v1";
const NONCE_LEN: usize = 12;

/// Why a secret could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    /// A configured key is not base64 of 32 bytes.
    #[error("an encryption key is not base64 of 32 bytes")]
    BadKey,
    /// No key is configured.
    #[error("no encryption key is configured")]
    NoKey,
    /// The ciphertext names a key that is not configured.
    #[error("the ciphertext was sealed with key {0}, which is not configured")]
    UnknownKey(String),
    /// The ciphertext is malformed or was tampered with.
    #[error("the ciphertext is malformed or was tampered with")]
    Corrupt,
}

/// Seals and opens secrets with the configured keys.
#[derive(Clone)]
pub struct TokenCipher {
    /// `(key id, cipher)`, the current key first.
    keys: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("TokenCipher").field("key_ids", &ids).finish()
    }
}

impl TokenCipher {
    /// A cipher sealing with `current` and opening with it or any of `previous`.
    pub fn new(current: &SecretString, previous: &[SecretString]) -> Result<Self, CipherError> {
        let keys = std::iter::once(current)
            .chain(previous)
            .map(|key| {
                let bytes = STANDARD.decode(key.expose_secret().trim()).map_err(|_| CipherError::BadKey)?;
                if bytes.len() != 32 {
                    return Err(CipherError::BadKey);
                }
                let id: String = Sha256::digest(&bytes).iter().take(4).map(|b| format!("{b:02x}")).collect();
                let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| CipherError::BadKey)?;
                Ok((id, cipher))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { keys })
    }

    /// The id of the key new values are sealed with.
    pub fn current_key_id(&self) -> &str {
        self.keys.first().map_or("", |(id, _)| id.as_str())
    }

    /// Seals `plain` with the current key.
    pub fn seal(&self, plain: &str) -> Result<String, CipherError> {
        let (id, cipher) = self.keys.first().ok_or(CipherError::NoKey)?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // The key id and version are bound to the ciphertext as associated data.
        let aad = format!("{VERSION}.{id}");
        let sealed = cipher
            .encrypt(&nonce, aes_gcm::aead::Payload { msg: plain.as_bytes(), aad: aad.as_bytes() })
            .map_err(|_| CipherError::Corrupt)?;
        let mut body = nonce.to_vec();
        body.extend_from_slice(&sealed);
        Ok(format!("{aad}.{}", URL_SAFE_NO_PAD.encode(body)))
    }

    /// Opens a value sealed by [`TokenCipher::seal`] with any configured key.
    pub fn open(&self, sealed: &str) -> Result<SecretString, CipherError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CipherError::Corrupt);
        };
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(key_id, _)| key_id == id)
            .ok_or_else(|| CipherError::UnknownKey(id.to_owned()))?;
        let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| CipherError::Corrupt)?;
        if body.len() <= NONCE_LEN {
            return Err(CipherError::Corrupt);
        }
        let (nonce, sealed_bytes) = body.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CipherError::Corrupt)?;
        let aad = format!("{VERSION}.{id}");
        let plain = cipher
            .decrypt(&Nonce::from(nonce), aes_gcm::aead::Payload { msg: sealed_bytes, aad: aad.as_bytes() })
            .map_err(|_| CipherError::Corrupt)?;
        String::from_utf8(plain).map(SecretString::from).map_err(|_| CipherError::Corrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretString {
        SecretString::from(STANDARD.encode([byte; 32]))
    }

    #[test]
    fn sealed_values_open_and_hide_the_plain_text() {
        let cipher = TokenCipher::new(&key(1), &[]).unwrap();
        let sealed = cipher.seal("ya29.secret-access-token").unwrap();
        assert!(!sealed.contains("secret"), "{sealed}");
        assert!(sealed.starts_with(&format!("v1.{}.", cipher.current_key_id())));
        assert_eq!(cipher.open(&sealed).unwrap().expose_secret(), "ya29.secret-access-token");
        assert_ne!(cipher.seal("same").unwrap(), cipher.seal("same").unwrap(), "a fresh nonce each time");
    }

    #[test]
    fn keys_rotate_old_values_still_open() {
        let old = TokenCipher::new(&key(1), &[]).unwrap();
        let sealed = old.seal("refresh-token").unwrap();
        let rotated = TokenCipher::new(&key(2), &[key(1)]).unwrap();
        assert_eq!(rotated.open(&sealed).unwrap().expose_secret(), "refresh-token");
        assert_ne!(rotated.current_key_id(), old.current_key_id());
        let fresh = rotated.seal("new").unwrap();
        assert!(matches!(old.open(&fresh), Err(CipherError::UnknownKey(_))));
    }

    #[test]
    fn tampering_is_detected() {
        let cipher = TokenCipher::new(&key(3), &[]).unwrap();
        let sealed = cipher.seal("token").unwrap();
        let mut bytes = sealed.clone().into_bytes();
        let last = bytes.len() - 1;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        assert!(matches!(cipher.open(&String::from_utf8(bytes).unwrap()), Err(CipherError::Corrupt)));
        assert!(matches!(cipher.open("v1.zz"), Err(CipherError::Corrupt)));
        assert!(matches!(cipher.open("plain-token"), Err(CipherError::Corrupt)));
        assert!(TokenCipher::new(&SecretString::from("c2hvcnQ="), &[]).is_err());
        assert!(!format!("{cipher:?}").contains("Aes"), "no key material in Debug");
    }
}
