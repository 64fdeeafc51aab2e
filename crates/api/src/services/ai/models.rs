//! Which AI answers: the provider built from `[ai]`, and the start-up check that the configured
//! Gemini model exists (`models.get`), since Google retires models and then answers 404.

use planwright_gemini::ThinkingLevel;
use secrecy::ExposeSecret;

use super::{AiProvider, gemini::GeminiPlanner, offline::OfflinePlanner};
use crate::settings::{AiProviderKind, AiSettings, Settings};

/// The provider `settings` ask for: Gemini when chosen (or, with `auto`, when a key is set).
///
/// # Errors
/// When `ai.provider = "gemini"` has no key, `ai.thinking_level` is not a level, or the HTTP
/// client cannot be built.
pub fn provider(settings: &AiSettings) -> anyhow::Result<AiProvider> {
    let key = settings.gemini_api_key.as_ref().filter(|k| !k.expose_secret().trim().is_empty());
    match (settings.provider, key) {
        (AiProviderKind::Offline, _) | (AiProviderKind::Auto, None) => {
            Ok(AiProvider::Offline(OfflinePlanner))
        }
        (AiProviderKind::Gemini, None) => {
            anyhow::bail!("ai.provider = \"gemini\" needs a key: set PLANWRIGHT__AI__GEMINI_API_KEY")
        }
        (AiProviderKind::Gemini | AiProviderKind::Auto, Some(key)) => {
            let config = planwright_gemini::Config::new()
                .with_base_url(settings.gemini_base_url.clone())
                .with_api_key(key.clone())
                .with_model(settings.model.clone())
                .with_timeout(std::time::Duration::from_secs(settings.timeout_secs))
                .with_retry_policy(
                    planwright_gemini::RetryPolicy::default().with_max_retries(settings.max_retries),
                );
            let client = planwright_gemini::Client::new(config)?;
            let thinking = thinking_level(&settings.thinking_level)?;
            Ok(AiProvider::Gemini(GeminiPlanner::new(client, thinking, &settings.fallback_models)))
        }
    }
}

/// Parses `ai.thinking_level`.
fn thinking_level(raw: &str) -> anyhow::Result<ThinkingLevel> {
    match raw.trim().to_lowercase().as_str() {
        "minimal" => Ok(ThinkingLevel::Minimal),
        "low" => Ok(ThinkingLevel::Low),
        "medium" => Ok(ThinkingLevel::Medium),
        "high" => Ok(ThinkingLevel::High),
        other => anyhow::bail!("ai.thinking_level = {other:?} is not one of minimal, low, medium, high"),
    }
}

/// Checks, when Gemini would answer, that Google knows `ai.model` (`models.get`). An unknown or
/// retired model (404) stops start-up when `ai.require_model` is set (production) and otherwise
/// turns the AI to the offline planner with one warning; Google unreachable is a warning, and
/// start-up goes on; with `ai.check_model` off nothing is asked. Returns the settings to start with.
///
/// # Errors
/// With `ai.require_model`, when Google says the model does not exist; and as [`provider`].
pub async fn check_at_startup(mut settings: Settings) -> anyhow::Result<Settings> {
    if !settings.ai.check_model {
        return Ok(settings);
    }
    let AiProvider::Gemini(planner) = provider(&settings.ai)? else { return Ok(settings) };
    let Some(client) = planner.client() else { return Ok(settings) };
    let model = settings.ai.model.clone();
    match client.get_model().await {
        Ok(found) => {
            tracing::info!(%model, version = %found.version, "Gemini model found");
            Ok(settings)
        }
        Err(error) if error.is_not_found() => {
            let line = format!(
                "ai.model = \"{model}\" is unknown to Gemini or retired (Google answered 404 NOT_FOUND); \
                 set ai.model (PLANWRIGHT__AI__MODEL) to a current model such as \"{}\"",
                planwright_gemini::DEFAULT_MODEL
            );
            if settings.ai.require_model {
                anyhow::bail!(line);
            }
            tracing::warn!("{line}; using the offline planner until then");
            settings.ai.provider = AiProviderKind::Offline;
            Ok(settings)
        }
        Err(error) => {
            tracing::warn!(%model, error = %error, "could not check the Gemini model at start-up; starting anyway");
            Ok(settings)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinking_levels_parse_and_others_are_refused() {
        assert_eq!(thinking_level(" High ").ok(), Some(ThinkingLevel::High));
        assert_eq!(thinking_level("minimal").ok(), Some(ThinkingLevel::Minimal));
        assert!(thinking_level("1024").is_err());
    }
}
