//! The OAuth web-server flow end to end: authorization URL, code exchange, scope check, then a
//! client whose token source refreshes by itself.
//!
//! ```sh
//! GOOGLE_CLIENT_SECRET_FILE=client_secret.json cargo run -p planwright-calendar --example oauth_flow
//! ```
//! Open the printed URL, consent, and paste the URL Google redirected to (or just its `code`).
//! Set `REVOKE=1` to revoke the grant at the end.

use std::io::{BufRead, Write};

use planwright_calendar::{
    AuthorizationRequest, Client, Config, EventListParams, OAuthClient, OAuthConfig, RefreshingTokenSource,
    scopes,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = std::env::var("GOOGLE_CLIENT_SECRET_FILE").map_err(|_| "set GOOGLE_CLIENT_SECRET_FILE")?;
    let oauth = OAuthClient::new(OAuthConfig::from_client_secret_file(file).await?)?;
    let mut out = std::io::stdout().lock();

    // 1. Send the user to Google. Keep `state` and the PKCE verifier (encrypted) until the callback.
    let auth = oauth.authorization_url(&AuthorizationRequest::new(scopes::RECOMMENDED.iter().copied()));
    writeln!(out, "Open this URL and consent:\n\n{}\n\nPaste the redirect URL or the code:", auth.url)?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let pasted = line.trim();

    // 2. Check `state` (when a full URL was pasted) and take the code.
    let code = match reqwest::Url::parse(pasted) {
        Ok(url) => {
            let param = |name: &str| {
                url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
            };
            if param("state").as_deref() != Some(auth.state.as_str()) {
                return Err("state mismatch: not the redirect of this authorization".into());
            }
            param("code").ok_or("no code in the URL")?
        }
        Err(_) => pasted.to_owned(),
    };

    // 3. Exchange it and check which scopes the user actually granted.
    let tokens = oauth.exchange_code(&code, &auth.pkce_verifier).await?;
    let missing = tokens.missing_scopes(scopes::RECOMMENDED);
    if !missing.is_empty() {
        writeln!(out, "the user did not grant: {}", missing.join(", "))?;
    }
    let refresh_token =
        tokens.refresh_token.clone().ok_or("no refresh token: revoke access and consent again")?;
    writeln!(
        out,
        "connected; access token expires at {:?} (store both tokens encrypted)",
        tokens.expires_at
    )?;

    // 4. A client that refreshes on its own and reports new tokens for storage.
    let source = RefreshingTokenSource::new(oauth.clone(), refresh_token.clone())
        .with_access_token(tokens.access())
        .on_refresh(|refreshed| tracing::info!(expires_at = ?refreshed.expires_at, "refreshed; persist the new token"));
    let client = Client::new(Config::new().with_token_source(source))?;
    let page = client.events().list("primary", &EventListParams::new().with_max_results(5)).await?;
    writeln!(out, "first page has {} events", page.items.len())?;

    if std::env::var("REVOKE").is_ok_and(|value| value == "1") {
        oauth.revoke(&refresh_token).await?;
        writeln!(out, "revoked")?;
    }
    Ok(())
}
