//! Password hashing (argon2id) and tokens: JWT access tokens and opaque refresh tokens.

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{Output, ParamsString, SaltString, rand_core::OsRng},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use planwright_domain::Password;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const ISSUER: &str = "planwright";

/// Hashes and checks passwords with argon2id. Hashing runs on the blocking pool.
#[derive(Clone)]
pub struct PasswordHashing {
    params: Params,
    /// A hash of a random password, checked when a login names an unknown email so that the
    /// answer takes as long as for a known one.
    decoy_hash: String,
}

impl std::fmt::Debug for PasswordHashing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHashing").field("params", &self.params).finish_non_exhaustive()
    }
}

impl PasswordHashing {
    /// argon2id with `memory_kib` of memory and `iterations` passes.
    pub fn new(memory_kib: u32, iterations: u32) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        let mut decoy = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut decoy);
        let decoy_hash = hash_with(&params, &URL_SAFE_NO_PAD.encode(decoy))?;
        Ok(Self { params, decoy_hash })
    }

    /// A PHC-format hash of `password`.
    pub async fn hash(&self, password: Password) -> anyhow::Result<String> {
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || hash_with(&params, password.expose())).await?
    }

    /// Whether `password` matches `hash`; with no hash, checks a decoy and answers `false`.
    pub async fn verify(&self, password: String, hash: Option<String>) -> anyhow::Result<bool> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy_hash.clone());
        let matched = tokio::task::spawn_blocking(move || matches_hash(password.as_bytes(), &hash)).await??;
        Ok(known && matched)
    }
}

fn hash_with(params: &Params, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| anyhow::anyhow!("encoding the salt failed: {e}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = derive(&argon2, password.as_bytes(), salt_bytes, output_len)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params)
            .map_err(|e| anyhow::anyhow!("encoding the parameters failed: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// Whether `password` hashes to the stored PHC string `hash`, under the parameters it names.
fn matches_hash(password: &[u8], hash: &str) -> anyhow::Result<bool> {
    let unreadable = |e: &dyn std::fmt::Display| anyhow::anyhow!("stored hash is unreadable: {e}");
    let parsed = PasswordHash::new(hash).map_err(|e| unreadable(&e))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(unreadable(&"it has no salt or no output"));
    };
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| unreadable(&e))?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(|e| unreadable(&e))?;
    let params = Params::try_from(&parsed).map_err(|e| unreadable(&e))?;
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|e| unreadable(&e))?;
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params);
    let computed = derive(&argon2, password, salt_bytes, expected.len())?;
    // `Output`'s equality is constant-time.
    Ok(computed == expected)
}

/// glibc serves an allocation above its largest mmap threshold (32 MiB on 64-bit) with a
/// mapping of its own and unmaps it on free. A smaller one, once a hash has raised the
/// threshold, comes from a heap that is never trimmed: each worker thread would keep a hash's
/// worth of memory (19 MiB by default) for the life of the process.
const UNMAPPED_ON_FREE_BYTES: usize = 33 << 20;

/// Runs argon2 over `password` and `salt` into an output of `len` bytes. The working memory is
/// reserved above the allocator's mmap ceiling, so it goes back to the system when the hash
/// ends; only the pages the hash touches become resident.
fn derive(argon2: &Argon2<'_>, password: &[u8], salt: &[u8], len: usize) -> anyhow::Result<Output> {
    let blocks = argon2.params().block_count();
    let reserved = blocks.max(UNMAPPED_ON_FREE_BYTES / std::mem::size_of::<Block>());
    let mut memory: Vec<Block> = Vec::with_capacity(reserved);
    memory.resize(blocks, Block::default());
    Output::init_with(len, |out| {
        argon2
            .hash_password_into_with_memory(password, salt, out, &mut memory)
            .map_err(argon2::password_hash::Error::from)
    })
    .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Always `planwright`.
    pub iss: String,
}

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Well-formed and signed by us, but past its expiry.
    Expired,
    /// Malformed, signed with another key, or otherwise unacceptable.
    Invalid,
}

/// Issues and checks HS256 access tokens.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: i64,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens").field("ttl_secs", &self.ttl_secs).finish_non_exhaustive()
    }
}

impl AccessTokens {
    /// Tokens signed with `secret`, valid for `ttl_secs`.
    pub fn new(secret: &SecretString, ttl_secs: i64) -> Self {
        let key = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.leeway = 5;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            ttl_secs,
        }
    }

    /// Seconds an access token lives.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// A signed token for `user_id`.
    pub fn issue(&self, user_id: Uuid) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims { sub: user_id, iat: now, exp: now + self.ttl_secs, iss: ISSUER.to_owned() };
        Ok(jsonwebtoken::encode(&Header::default(), &claims, &self.encoding)?)
    }

    /// The claims of a valid token.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

/// A new opaque refresh token and the hash under which it is stored.
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

/// The stored form of a random secret token (refresh tokens, OAuth states, feed and push-channel
/// tokens): SHA-256, hex. (The tokens have 256 random bits, so a fast hash is enough; the
/// database never holds a usable token.)
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 random bytes, URL-safe base64: a development secret.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(secret: &str, ttl: i64) -> AccessTokens {
        AccessTokens::new(&SecretString::from(secret.to_owned()), ttl)
    }

    #[test]
    fn access_token_round_trips() {
        let tokens = tokens("a-test-secret-that-is-long-enough", 60);
        let user = Uuid::new_v4();
        let token = tokens.issue(user).unwrap_or_default();
        assert_eq!(tokens.verify(&token).map(|c| c.sub), Ok(user));
    }

    #[test]
    fn expired_and_foreign_tokens_are_refused() {
        let expired = tokens("a-test-secret-that-is-long-enough", -60);
        let token = expired.issue(Uuid::new_v4()).unwrap_or_default();
        assert_eq!(expired.verify(&token).err(), Some(TokenError::Expired));
        let other = tokens("another-secret-entirely-different", 60);
        assert_eq!(other.verify(&token).err(), Some(TokenError::Invalid));
        assert_eq!(other.verify("not.a.jwt").err(), Some(TokenError::Invalid));
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(hash_a, hash_token(&a));
        assert_eq!(hash_a.len(), 64);
        assert!(!hash_a.contains(&a));
    }

    #[tokio::test]
    async fn password_hash_verifies_only_the_right_password() {
        let hashing = PasswordHashing::new(1024, 1).expect("params");
        let password = Password::parse("correct horse").expect("valid");
        let hash = hashing.hash(password).await.expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(hashing.verify("correct horse".into(), Some(hash.clone())).await.unwrap_or(false));
        assert!(!hashing.verify("wrong horse".into(), Some(hash)).await.unwrap_or(true));
        assert!(!hashing.verify("correct horse".into(), None).await.unwrap_or(true));
    }

    #[test]
    fn hashes_agree_with_the_stock_argon2_both_ways() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let params = Params::new(1024, 2, 1, None).expect("params");
        let ours = hash_with(&params, "correct horse").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"wrong horse", &parsed).is_err());

        // Hashes written before, with other parameters and the stock allocation, still verify.
        let salt = SaltString::generate(&mut OsRng);
        let stock =
            Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(2048, 1, 1, None).expect("params"))
                .hash_password(b"correct horse", &salt)
                .expect("hash")
                .to_string();
        assert!(matches_hash(b"correct horse", &stock).expect("readable"));
        assert!(!matches_hash(b"correct horsf", &stock).expect("readable"));
        let argon2i =
            Argon2::new(Algorithm::Argon2i, Version::V0x10, Params::new(1024, 1, 1, None).expect("params"))
                .hash_password(b"pw", &salt)
                .expect("hash")
                .to_string();
        assert!(matches_hash(b"pw", &argon2i).expect("readable"));
        assert!(matches_hash(b"pw", "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA").is_err());
        assert!(matches_hash(b"pw", "not a hash").is_err());
    }
}
