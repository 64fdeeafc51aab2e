//! Loads [`Settings`] from `config/*.toml` and the environment, and settles the secrets.

use std::path::{Path, PathBuf};

use base64::{Engine, engine::general_purpose::STANDARD};
use config::{Config, Environment as EnvSource, File, FileFormat};
use planwright_api::{
    services::credentials::random_secret,
    settings::{AiProviderKind, Environment, Settings},
};
use secrecy::{ExposeSecret, SecretString};

/// The defaults, compiled in so the binary runs without a config folder.
const DEFAULTS: &str = include_str!("../../../config/default.toml");

/// A configuration that cannot be used; its message is one line naming the key to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// Settings ready to use, with what the operator should know about how they were settled.
#[derive(Debug)]
pub struct Loaded {
    /// The settings.
    pub settings: Settings,
    /// The deployment they describe.
    pub environment: Environment,
    /// Things worth a warning at start-up (generated secrets).
    pub warnings: Vec<String>,
}

/// `PLANWRIGHT_ENV`, `development` when unset.
pub fn environment() -> Result<Environment, ConfigError> {
    match std::env::var("PLANWRIGHT_ENV") {
        Ok(raw) if !raw.trim().is_empty() => raw.parse().map_err(ConfigError),
        _ => Ok(Environment::Development),
    }
}

/// The folder of the TOML files: `PLANWRIGHT_CONFIG_DIR`, else `./config`.
pub fn config_dir() -> PathBuf {
    std::env::var_os("PLANWRIGHT_CONFIG_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("config"))
}

/// Loads the settings for the current process environment.
pub fn load() -> Result<Loaded, ConfigError> {
    load_from(&config_dir(), environment()?)
}

/// Loads the settings of `environment` from the files in `dir` and the process environment.
pub fn load_from(dir: &Path, environment: Environment) -> Result<Loaded, ConfigError> {
    let mut builder = Config::builder()
        .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
        .add_source(File::from(dir.join("default.toml")).required(false))
        .add_source(File::from(dir.join(format!("{}.toml", environment.as_str()))).required(false));
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.trim().is_empty()
    {
        builder = builder.set_override("database.url", url).map_err(describe)?;
    }
    let config = builder
        .add_source(
            EnvSource::with_prefix("PLANWRIGHT")
                .prefix_separator("__")
                .separator("__")
                .list_separator(",")
                .with_list_parse_key("cors.allowed_origins")
                .with_list_parse_key("google.frontend_origins")
                .with_list_parse_key("security.previous_encryption_keys")
                .with_list_parse_key("ai.fallback_models")
                .try_parsing(true),
        )
        .build()
        .map_err(describe)?;
    let mut settings: Settings = config.try_deserialize().map_err(describe)?;
    // `PLANWRIGHT__CORS__ALLOWED_ORIGINS=` (empty) means "none", not one empty origin.
    settings.cors.allowed_origins.retain(|origin| !origin.trim().is_empty());
    settings.google.frontend_origins.retain(|origin| !origin.trim().is_empty());
    let warnings = settle_secrets(&mut settings, environment)?;
    settings.validate().map_err(ConfigError)?;
    Ok(Loaded { settings, environment, warnings })
}

fn describe(error: config::ConfigError) -> ConfigError {
    ConfigError(format!("configuration error: {error}"))
}

/// Production must be given its secrets; elsewhere missing ones are generated, with a warning.
fn settle_secrets(settings: &mut Settings, environment: Environment) -> Result<Vec<String>, ConfigError> {
    let mut warnings = Vec::new();
    let production = environment == Environment::Production;
    // Production names every missing secret at once, so one restart fixes them all.
    let mut missing = Vec::new();
    if settings.auth.jwt_secret.as_ref().is_none_or(|s| s.expose_secret().trim().is_empty()) {
        if production {
            missing.push("PLANWRIGHT__AUTH__JWT_SECRET (32+ random characters)");
        } else {
            settings.auth.jwt_secret = Some(SecretString::from(random_secret()));
            warnings.push(
                "auth.jwt_secret is not set: generated one for this run, so tokens stop working on restart (set PLANWRIGHT__AUTH__JWT_SECRET)".to_owned(),
            );
        }
    }
    match &settings.security.encryption_key {
        Some(key) if !key.expose_secret().trim().is_empty() => {
            let bytes = STANDARD.decode(key.expose_secret().trim()).map_err(|_| {
                ConfigError(
                    "security.encryption_key must be base64 (e.g. `openssl rand -base64 32`)".to_owned(),
                )
            })?;
            if bytes.len() != 32 {
                return Err(ConfigError(format!(
                    "security.encryption_key must decode to 32 bytes for AES-256-GCM (it decodes to {})",
                    bytes.len()
                )));
            }
        }
        _ if production => missing.push(
            "PLANWRIGHT__SECURITY__ENCRYPTION_KEY (base64 of 32 random bytes: `openssl rand -base64 32`)",
        ),
        _ => {
            let mut key = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut key);
            settings.security.encryption_key = Some(SecretString::from(STANDARD.encode(key)));
            warnings.push(
                "security.encryption_key is not set: generated one for this run, so secrets encrypted now cannot be read after a restart (set PLANWRIGHT__SECURITY__ENCRYPTION_KEY)".to_owned(),
            );
        }
    }
    if !missing.is_empty() {
        return Err(ConfigError(format!(
            "PLANWRIGHT_ENV=production needs secrets: set {}",
            missing.join(" and ")
        )));
    }
    if production && runs_offline_ai(settings) {
        warnings.push(
            "PLANWRIGHT_ENV=production runs the offline AI (rule-based plans and answers): set PLANWRIGHT__AI__GEMINI_API_KEY for Gemini, or ai.provider = \"offline\" to say this is meant".to_owned(),
        );
    }
    Ok(warnings)
}

/// Whether `ai.provider = "auto"` falls back to the offline provider for want of a key.
fn runs_offline_ai(settings: &Settings) -> bool {
    settings.ai.provider == AiProviderKind::Auto
        && settings.ai.gemini_api_key.as_ref().is_none_or(|key| key.expose_secret().trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, body) in files {
            std::fs::write(dir.path().join(name), body).expect("write");
        }
        dir
    }

    #[test]
    fn defaults_run_out_of_the_box_with_generated_secrets() {
        let dir = dir_with(&[]);
        let loaded = load_from(dir.path(), Environment::Development).expect("defaults load");
        assert_eq!(loaded.settings.server.port, 8080);
        assert!(loaded.settings.database.url.starts_with("sqlite://"));
        assert!(loaded.settings.auth.jwt_secret.is_some());
        assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    }

    #[test]
    fn environment_file_overrides_defaults() {
        let dir = dir_with(&[("test.toml", "[server]\nport = 9999\n")]);
        let loaded = load_from(dir.path(), Environment::Test).expect("loads");
        assert_eq!(loaded.settings.server.port, 9999);
    }

    #[test]
    fn production_without_secrets_names_the_key_to_set() {
        let dir = dir_with(&[]);
        let error =
            load_from(dir.path(), Environment::Production).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("PLANWRIGHT__AUTH__JWT_SECRET"), "{error}");
        assert!(
            error.contains("PLANWRIGHT__SECURITY__ENCRYPTION_KEY"),
            "both missing secrets at once: {error}"
        );
        assert!(!error.contains('\n'), "{error}");

        let dir =
            dir_with(&[("production.toml", "[auth]\njwt_secret = \"0123456789abcdef0123456789abcdef\"\n")]);
        let error =
            load_from(dir.path(), Environment::Production).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("PLANWRIGHT__SECURITY__ENCRYPTION_KEY"), "{error}");
    }

    #[test]
    fn production_warns_when_it_falls_back_to_the_offline_ai() {
        let secrets = "[auth]\njwt_secret = \"0123456789abcdef0123456789abcdef\"\n\n[security]\nencryption_key = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"\n";
        let dir = dir_with(&[("production.toml", secrets)]);
        let loaded = load_from(dir.path(), Environment::Production).expect("loads");
        assert!(
            loaded
                .warnings
                .iter()
                .any(|w| w.contains("offline AI") && w.contains("PLANWRIGHT__AI__GEMINI_API_KEY")),
            "{:?}",
            loaded.warnings
        );

        let chosen = format!("{secrets}\n[ai]\nprovider = \"offline\"\n");
        let dir = dir_with(&[("production.toml", chosen.as_str())]);
        let loaded = load_from(dir.path(), Environment::Production).expect("loads");
        assert!(loaded.warnings.is_empty(), "offline by choice is not warned about: {:?}", loaded.warnings);
    }

    #[test]
    fn bad_values_give_one_line_naming_the_key() {
        let dir = dir_with(&[("development.toml", "[server]\nport = \"eighty\"\n")]);
        let error =
            load_from(dir.path(), Environment::Development).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("server.port"), "{error}");
        assert!(!error.contains('\n'), "{error}");

        let dir = dir_with(&[(
            "development.toml",
            "[cors]\nallowed_origins = [\"https://app.example.com/path\"]\n",
        )]);
        let error =
            load_from(dir.path(), Environment::Development).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("cors.allowed_origins"), "{error}");

        let dir = dir_with(&[("development.toml", "[security]\nencryption_key = \"c2hvcnQ=\"\n")]);
        let error =
            load_from(dir.path(), Environment::Development).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("32 bytes"), "{error}");
    }
}
