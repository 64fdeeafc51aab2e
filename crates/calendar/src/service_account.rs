//! A [`TokenSource`] for a service account, optionally acting as a Workspace user through
//! domain-wide delegation, built on `yup-oauth2`'s `ServiceAccountAuthenticator`.

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::DateTime;

use crate::error::Error;
use crate::token::{AccessToken, TokenFuture, TokenSource};

/// Re-exported from `yup-oauth2`: a service-account key file (`"type": "service_account"`).
/// Careful: its `Debug` prints the private key.
pub use yup_oauth2::ServiceAccountKey;

/// Access tokens for a service account, signed locally with its key (RS256 JWT bearer grant) and
/// cached by `yup-oauth2` until shortly before they expire. With a `subject` the service account
/// impersonates that Workspace user (domain-wide delegation must be granted for the scopes in the
/// Admin console, otherwise Google answers `unauthorized_client`).
///
/// The token endpoint is the key's `token_uri` (edit it in the [`ServiceAccountKey`] to point
/// elsewhere). `yup-oauth2` logs request and response bodies through the `log` crate at `debug`:
/// keep its log target (`yup_oauth2`) at `info` or above. `Debug` prints neither key nor token.
pub struct ServiceAccountTokenSource {
    authenticator: yup_oauth2::authenticator::DefaultAuthenticator,
    scopes: Vec<String>,
    client_email: String,
    subject: Option<String>,
    force_refresh: AtomicBool,
}

impl fmt::Debug for ServiceAccountTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountTokenSource")
            .field("client_email", &self.client_email)
            .field("subject", &self.subject)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountTokenSource {
    /// A source for `key` with `scopes`, impersonating `subject` when given.
    ///
    /// # Errors
    /// [`Error::Config`] when the private key cannot be used for signing.
    pub async fn new<S: Into<String>>(
        key: ServiceAccountKey,
        scopes: impl IntoIterator<Item = S>,
        subject: Option<String>,
    ) -> Result<Self, Error> {
        let client_email = key.client_email.clone();
        let mut builder = yup_oauth2::ServiceAccountAuthenticator::builder(key);
        if let Some(subject) = &subject {
            builder = builder.subject(subject.clone());
        }
        let authenticator = builder
            .build()
            .await
            .map_err(|error| Error::config(format!("unusable service-account key: {error}")))?;
        Ok(Self {
            authenticator,
            scopes: scopes.into_iter().map(Into::into).collect(),
            client_email,
            subject,
            force_refresh: AtomicBool::new(false),
        })
    }

    /// Parses a service-account key JSON and builds the source (see [`new`](Self::new)).
    ///
    /// # Errors
    /// [`Error::Config`] when the JSON is not a service-account key or the key is unusable.
    pub async fn from_json<S: Into<String>>(
        json: impl AsRef<[u8]>,
        scopes: impl IntoIterator<Item = S>,
        subject: Option<String>,
    ) -> Result<Self, Error> {
        let key = yup_oauth2::parse_service_account_key(json)
            .map_err(|error| Error::config(format!("not a service-account key: {error}")))?;
        Self::new(key, scopes, subject).await
    }

    /// Reads a service-account key file and builds the source (see [`new`](Self::new)).
    ///
    /// # Errors
    /// [`Error::Config`] when the file cannot be read, is not a key, or the key is unusable.
    pub async fn from_file<S: Into<String>>(
        path: impl AsRef<Path>,
        scopes: impl IntoIterator<Item = S>,
        subject: Option<String>,
    ) -> Result<Self, Error> {
        let path = path.as_ref();
        let key = yup_oauth2::read_service_account_key(path)
            .await
            .map_err(|error| Error::config(format!("cannot read {}: {error}", path.display())))?;
        Self::new(key, scopes, subject).await
    }

    /// The service account's email.
    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    /// The impersonated user, if any.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    async fn fetch(&self) -> Result<AccessToken, Error> {
        let token = if self.force_refresh.swap(false, Ordering::SeqCst) {
            self.authenticator.force_refreshed_token(&self.scopes).await
        } else {
            self.authenticator.token(&self.scopes).await
        }
        .map_err(map_yup_error)?;
        let secret = token.token().ok_or_else(|| Error::TokenSource {
            message: "the token endpoint answered without an access token".to_owned(),
            source: None,
        })?;
        let access = AccessToken::new(secret);
        Ok(match token.expiration_time().and_then(|at| DateTime::from_timestamp(at.unix_timestamp(), 0)) {
            Some(expires_at) => access.with_expires_at(expires_at),
            None => access,
        })
    }
}

impl TokenSource for ServiceAccountTokenSource {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.fetch())
    }

    fn invalidate(&self, _rejected: &AccessToken) -> bool {
        self.force_refresh.store(true, Ordering::SeqCst);
        true
    }
}

fn map_yup_error(error: yup_oauth2::Error) -> Error {
    use yup_oauth2::error::AuthErrorCode;
    match error {
        yup_oauth2::Error::AuthError(auth) => match auth.error {
            AuthErrorCode::InvalidGrant => Error::InvalidGrant { description: auth.error_description },
            code => Error::OAuth { error: code.as_str().to_owned(), description: auth.error_description },
        },
        other => Error::token_source("the service-account token request failed", other),
    }
}
