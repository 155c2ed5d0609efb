//! Settings: `config/default.toml`, then `config/local.toml`, then `TUNGNHA_*` environment variables.
//!
//! Every value is parsed here, once, into a typed [`Settings`]; a bad value stops start-up with an error
//! that names both the key and the environment variable that sets it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

/// Which database a URL points at.
#[derive(Clone, Debug)]
pub enum DatabaseUrl {
    /// A SQLite file path (created with its parent folder if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection string, kept secret because it may hold a password.
    Postgres(SecretString),
}

impl PartialEq for DatabaseUrl {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (DatabaseUrl::Sqlite(a), DatabaseUrl::Sqlite(b)) => a == b,
            (DatabaseUrl::Postgres(a), DatabaseUrl::Postgres(b)) => {
                a.expose_secret() == b.expose_secret()
            }
            _ => false,
        }
    }
}
impl Eq for DatabaseUrl {}

impl DatabaseUrl {
    /// Parses `sqlite://PATH` or `postgres://…` / `postgresql://…`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(
                    "a sqlite:// URL needs a file path, e.g. sqlite://data/tungnha.db".into(),
                );
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(SecretString::from(raw.to_owned())))
        } else {
            Err("the URL must start with sqlite:// or postgres://".into())
        }
    }

    /// The URL with any password replaced, safe to print.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(url) => redact_password(url.expose_secret()),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, DatabaseUrl::Sqlite(_))
    }
}

fn redact_password(url: &str) -> String {
    // postgres://user:password@host/db -> postgres://user:***@host/db
    let Some((scheme, rest)) = url.split_once("://") else {
        return "postgres://***".into();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => format!("{scheme}://{userinfo}@{host}"),
        },
        None => url.split('?').next().unwrap_or(url).to_owned(),
    }
}

/// The validated settings of one process.
#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// The web app's folder; empty: the copy built into the binary (`static_files::Built`).
    pub pwa_dir: PathBuf,
    pub json_limit_bytes: usize,
    pub db_pool_size: u32,
    /// SQLite page cache of each pooled reading connection, in KiB.
    pub sqlite_cache_kib: u32,
    /// SQLite page cache of the one connection that applies pushes, in KiB.
    pub sqlite_writer_cache_kib: u32,
    pub shutdown_timeout_secs: u64,
    /// 0 means one worker per core.
    pub workers: usize,
    /// Days a refresh token stays valid without being used (a volunteer offline for weeks).
    pub refresh_idle_days: u32,
    /// Seconds an access token is valid; the app refreshes it with the refresh token.
    pub access_token_ttl_secs: u32,
    /// Token-signing secret shared by every instance; generated into `data_dir` when unset.
    pub jwt_secret: Option<SecretString>,
    /// How often the webhook worker looks for due deliveries.
    pub webhook_poll_ms: u64,
    /// The wait after a webhook delivery's first failure; it doubles with each further one.
    pub webhook_retry_base_ms: u64,
    /// Tries before a webhook delivery is given up (`dead`, replayable).
    pub webhook_max_attempts: u32,
    /// How often communes are checked against indicator targets for `indicator.threshold_crossed`.
    pub indicator_watch_ms: u64,
    /// Browser origins (`https://host[:port]`) allowed to call the API cross-origin; none by default.
    pub cors_origins: Vec<String>,
    /// Years free-text notes are kept on records; older ones are purged daily. 0 keeps them.
    pub retention_years: u32,
    /// Proxies whose forwarding header names the client (see `client.rs`); none by default.
    pub trusted_proxies: crate::client::TrustedProxies,
    /// Where webhooks may post (`webhook_allowed_targets`, `webhook_hosts`, `webhook_dns`).
    pub webhook_targets: crate::webhooks::target::TargetPolicy,
    /// The bearer token `GET /metrics` asks for; unset, the endpoint does not exist (404).
    pub metrics_token: Option<SecretString>,
    /// Text lines or JSON objects on stderr.
    pub log_format: crate::telemetry::LogFormat,
}

impl Settings {
    pub fn webhook_worker(&self) -> crate::webhooks::WorkerSettings {
        crate::webhooks::WorkerSettings {
            poll: std::time::Duration::from_millis(self.webhook_poll_ms),
            retry_base: std::time::Duration::from_millis(self.webhook_retry_base_ms),
            max_attempts: self.webhook_max_attempts,
            indicator_watch: std::time::Duration::from_millis(self.indicator_watch_ms),
            targets: self.webhook_targets.clone(),
        }
    }
}

/// A setting that could not be read, naming the key and its environment variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid setting `{key}` (environment variable TUNGNHA_{env}): {reason}")]
    Invalid {
        key: &'static str,
        env: String,
        reason: String,
    },
    #[error("could not read the configuration files: {0}")]
    Source(#[from] config::ConfigError),
}

/// `config/default.toml` as it was when the server was compiled: a server needs no file beside it.
pub const BUILT_IN_DEFAULTS: &str = include_str!("../../config/default.toml");

impl Settings {
    /// Reads the built-in defaults, then `<dir>/default.toml`, `<dir>/local.toml` (both optional) and the `TUNGNHA_*` environment.
    pub fn load(config_dir: &Path) -> Result<Self, ConfigError> {
        let raw = config::Config::builder()
            .add_source(config::File::from_str(
                BUILT_IN_DEFAULTS,
                config::FileFormat::Toml,
            ))
            .add_source(config::File::from(config_dir.join("default.toml")).required(false))
            .add_source(config::File::from(config_dir.join("local.toml")).required(false))
            .add_source(config::Environment::with_prefix("TUNGNHA").prefix_separator("_"))
            .build()?;
        Self::from_source(|key| match raw.get_string(key) {
            Ok(v) => Ok(Some(v)),
            Err(config::ConfigError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.to_string()),
        })
    }

    /// Builds settings from a key lookup; missing keys take their defaults.
    pub fn from_source(
        get: impl Fn(&'static str) -> Result<Option<String>, String>,
    ) -> Result<Self, ConfigError> {
        fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
            ConfigError::Invalid {
                key,
                env: key.to_uppercase(),
                reason: reason.into(),
            }
        }
        let value = |key: &'static str, default: &str| -> Result<String, ConfigError> {
            Ok(get(key)
                .map_err(|e| invalid(key, e))?
                .unwrap_or_else(|| default.to_owned()))
        };
        fn number<T>(key: &'static str, raw: String, min: T, max: T) -> Result<T, ConfigError>
        where
            T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
        {
            let n: T = raw
                .trim()
                .parse()
                .map_err(|_| invalid(key, format!("`{raw}` is not a whole number")))?;
            if n < min || n > max {
                return Err(invalid(key, format!("{n} is outside {min}..={max}")));
            }
            Ok(n)
        }

        let database_url = DatabaseUrl::parse(&value("database_url", "sqlite://data/tungnha.db")?)
            .map_err(|e| invalid("database_url", e))?;
        let bind_raw = value("bind", "127.0.0.1:8080")?;
        let bind = bind_raw.trim().parse::<SocketAddr>().map_err(|_| {
            invalid(
                "bind",
                format!("`{bind_raw}` is not an address:port such as 127.0.0.1:8080"),
            )
        })?;
        let data_dir = PathBuf::from(value("data_dir", "data")?);
        let pwa_dir = PathBuf::from(value("pwa_dir", "")?.trim());
        let json_limit_bytes = number(
            "json_limit_bytes",
            value("json_limit_bytes", "2097152")?,
            1024,
            64 << 20,
        )?;
        let db_pool_size = number("db_pool_size", value("db_pool_size", "8")?, 1, 256)?;
        let sqlite_cache_kib = number(
            "sqlite_cache_kib",
            value("sqlite_cache_kib", "2000")?,
            64,
            1 << 20,
        )?;
        let sqlite_writer_cache_kib = number(
            "sqlite_writer_cache_kib",
            value("sqlite_writer_cache_kib", "16384")?,
            64,
            1 << 20,
        )?;
        let shutdown_timeout_secs = number(
            "shutdown_timeout_secs",
            value("shutdown_timeout_secs", "30")?,
            0,
            3600,
        )?;
        let workers = number("workers", value("workers", "0")?, 0, 1024)?;
        let refresh_idle_days = number(
            "refresh_idle_days",
            value("refresh_idle_days", "30")?,
            1,
            365,
        )?;
        let access_token_ttl_secs = number(
            "access_token_ttl_secs",
            value("access_token_ttl_secs", "900")?,
            5,
            86_400,
        )?;
        let webhook_poll_ms = number(
            "webhook_poll_ms",
            value("webhook_poll_ms", "1000")?,
            10,
            600_000,
        )?;
        let webhook_retry_base_ms = number(
            "webhook_retry_base_ms",
            value("webhook_retry_base_ms", "30000")?,
            10,
            3_600_000,
        )?;
        let webhook_max_attempts = number(
            "webhook_max_attempts",
            value("webhook_max_attempts", "8")?,
            1,
            30,
        )?;
        let indicator_watch_ms = number(
            "indicator_watch_ms",
            value("indicator_watch_ms", "300000")?,
            10,
            86_400_000,
        )?;
        let retention_years = number("retention_years", value("retention_years", "0")?, 0, 100)?;
        let cors_origins = value("cors_origins", "")?
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| {
                let host = o
                    .strip_prefix("https://")
                    .or_else(|| o.strip_prefix("http://"))
                    .unwrap_or("");
                if host.is_empty() || host.contains('/') || o.contains('*') {
                    Err(invalid(
                        "cors_origins",
                        format!("`{o}` is not an origin such as https://app.example.vn"),
                    ))
                } else {
                    Ok(o.to_owned())
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let proxy_header =
            crate::client::ProxyHeader::parse(&value("proxy_header", "x-forwarded-for")?)
                .map_err(|e| invalid("proxy_header", e))?;
        let trusted_proxies =
            crate::client::TrustedProxies::parse(&value("trusted_proxies", "")?, proxy_header)
                .map_err(|e| invalid("trusted_proxies", e))?;
        let webhook_dns = match value("webhook_dns", "true")?.trim() {
            "true" => true,
            "false" => false,
            other => {
                return Err(invalid(
                    "webhook_dns",
                    format!("`{other}` is neither true nor false"),
                ))
            }
        };
        let webhook_targets = crate::webhooks::target::TargetPolicy::parse(
            &value("webhook_allowed_targets", "")?,
            &value("webhook_hosts", "")?,
            webhook_dns,
        )
        .map_err(|(key, reason)| invalid(key, reason))?;
        let metrics_token =
            match value("metrics_token", "")?.trim() {
                "" => None,
                t if t.chars().count() < 16 => return Err(invalid(
                    "metrics_token",
                    "use at least 16 random characters (or leave it empty to turn /metrics off)",
                )),
                t => Some(SecretString::from(t.to_owned())),
            };
        let log_format = crate::telemetry::LogFormat::parse(&value("log_format", "text")?)
            .map_err(|e| invalid("log_format", e))?;
        let jwt_secret = match get("jwt_secret").map_err(|e| invalid("jwt_secret", e))? {
            Some(s) if s.trim().len() < 32 => {
                return Err(invalid("jwt_secret", "use at least 32 random characters"))
            }
            Some(s) => Some(SecretString::from(s.trim().to_owned())),
            None => None,
        };
        Ok(Settings {
            database_url,
            bind,
            data_dir,
            pwa_dir,
            json_limit_bytes,
            db_pool_size,
            sqlite_cache_kib,
            sqlite_writer_cache_kib,
            shutdown_timeout_secs,
            workers,
            refresh_idle_days,
            access_token_ttl_secs,
            jwt_secret,
            webhook_poll_ms,
            webhook_retry_base_ms,
            webhook_max_attempts,
            indicator_watch_ms,
            cors_origins,
            retention_years,
            trusted_proxies,
            webhook_targets,
            metrics_token,
            log_format,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&'static str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<&str, String> = pairs.iter().map(|(k, v)| (*k, v.to_string())).collect();
        Settings::from_source(|k| Ok(map.get(k).cloned()))
    }

    #[test]
    fn defaults_are_sqlite_on_localhost_8080() {
        let s = settings(&[]).expect("defaults are valid");
        assert_eq!(
            s.database_url,
            DatabaseUrl::Sqlite("data/tungnha.db".into())
        );
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn a_bad_bind_address_names_the_setting() {
        let err = settings(&[("bind", "localhost")])
            .expect_err("not an address")
            .to_string();
        assert!(err.contains("TUNGNHA_BIND"), "{err}");
        assert!(err.contains("`bind`"), "{err}");
    }

    #[test]
    fn an_unknown_database_scheme_is_refused() {
        let err = settings(&[("database_url", "mysql://x")])
            .expect_err("bad scheme")
            .to_string();
        assert!(err.contains("TUNGNHA_DATABASE_URL"), "{err}");
    }

    #[test]
    fn a_number_out_of_range_is_refused() {
        let err = settings(&[("db_pool_size", "0")])
            .expect_err("zero pool")
            .to_string();
        assert!(err.contains("TUNGNHA_DB_POOL_SIZE"), "{err}");
        let err = settings(&[("json_limit_bytes", "lots")])
            .expect_err("nan")
            .to_string();
        assert!(err.contains("not a whole number"), "{err}");
    }

    #[test]
    fn sqlite_caches_default_to_two_and_sixteen_mib_and_can_be_made_smaller() {
        let s = settings(&[]).expect("defaults");
        assert_eq!(
            (s.sqlite_cache_kib, s.sqlite_writer_cache_kib),
            (2000, 16384)
        );
        let s = settings(&[("sqlite_writer_cache_kib", "256")]).expect("small cache");
        assert_eq!(s.sqlite_writer_cache_kib, 256);
        let err = settings(&[("sqlite_cache_kib", "1")])
            .expect_err("too small to hold an index")
            .to_string();
        assert!(err.contains("TUNGNHA_SQLITE_CACHE_KIB"), "{err}");
    }

    #[test]
    fn access_tokens_last_fifteen_minutes_unless_configured() {
        assert_eq!(settings(&[]).expect("defaults").access_token_ttl_secs, 900);
        let s = settings(&[("access_token_ttl_secs", "20")]).expect("short lifetimes for tests");
        assert_eq!(s.access_token_ttl_secs, 20);
        let err = settings(&[("access_token_ttl_secs", "2")])
            .expect_err("too short to use")
            .to_string();
        assert!(err.contains("TUNGNHA_ACCESS_TOKEN_TTL_SECS"), "{err}");
    }

    #[test]
    fn notes_are_kept_unless_a_retention_period_is_set() {
        assert_eq!(settings(&[]).expect("defaults").retention_years, 0);
        let s = settings(&[("retention_years", "5")]).expect("five years");
        assert_eq!(s.retention_years, 5);
        let err = settings(&[("retention_years", "-1")])
            .expect_err("negative")
            .to_string();
        assert!(err.contains("TUNGNHA_RETENTION_YEARS"), "{err}");
    }

    #[test]
    fn cors_is_closed_unless_origins_are_named() {
        assert!(settings(&[]).expect("defaults").cors_origins.is_empty());
        let s = settings(&[(
            "cors_origins",
            " https://a.example.vn, http://localhost:5173 ,",
        )])
        .expect("two origins");
        assert_eq!(
            s.cors_origins,
            vec!["https://a.example.vn", "http://localhost:5173"]
        );
        for bad in [
            "*",
            "a.example.vn",
            "https://a.example.vn/app",
            "https://*.example.vn",
        ] {
            let err = settings(&[("cors_origins", bad)])
                .expect_err(bad)
                .to_string();
            assert!(err.contains("TUNGNHA_CORS_ORIGINS"), "{err}");
        }
    }

    #[test]
    fn no_proxy_is_trusted_unless_named() {
        let s = settings(&[]).expect("defaults");
        assert!(s.trusted_proxies.is_empty());
        let s = settings(&[("trusted_proxies", "127.0.0.1, 10.0.0.0/8")]).expect("two");
        assert!(s.trusted_proxies.trusts("10.9.8.7".parse().expect("ip")));
        let err = settings(&[("trusted_proxies", "nginx")])
            .expect_err("a name")
            .to_string();
        assert!(err.contains("TUNGNHA_TRUSTED_PROXIES"), "{err}");
        let err = settings(&[("proxy_header", "x-real-ip")])
            .expect_err("unknown header")
            .to_string();
        assert!(err.contains("TUNGNHA_PROXY_HEADER"), "{err}");
    }

    #[test]
    fn a_short_jwt_secret_is_refused_and_never_printed() {
        let err = settings(&[("jwt_secret", "tooshort")])
            .expect_err("short")
            .to_string();
        assert!(
            err.contains("TUNGNHA_JWT_SECRET") && !err.contains("tooshort"),
            "{err}"
        );
        let s = settings(&[("jwt_secret", "0123456789abcdef0123456789abcdef")]).expect("valid");
        assert!(!format!("{s:?}").contains("0123456789abcdef"));
    }

    #[test]
    fn metrics_are_off_unless_a_long_enough_token_is_set() {
        assert!(settings(&[]).expect("defaults").metrics_token.is_none());
        assert!(settings(&[("metrics_token", "  ")])
            .expect("blank is off")
            .metrics_token
            .is_none());
        let s = settings(&[("metrics_token", "scrape-0123456789abcdef")]).expect("valid");
        assert_eq!(
            s.metrics_token.as_ref().map(|t| t.expose_secret()),
            Some("scrape-0123456789abcdef")
        );
        assert!(!format!("{s:?}").contains("0123456789abcdef"));
        let err = settings(&[("metrics_token", "short-secret")])
            .expect_err("short")
            .to_string();
        assert!(
            err.contains("TUNGNHA_METRICS_TOKEN") && !err.contains("short-secret"),
            "{err}"
        );
    }

    #[test]
    fn logs_are_text_unless_json_is_asked_for() {
        use crate::telemetry::LogFormat;
        assert_eq!(settings(&[]).expect("defaults").log_format, LogFormat::Text);
        let s = settings(&[("log_format", "json")]).expect("json");
        assert_eq!(s.log_format, LogFormat::Json);
        let err = settings(&[("log_format", "yaml")])
            .expect_err("unknown")
            .to_string();
        assert!(
            err.contains("TUNGNHA_LOG_FORMAT") && err.contains("yaml"),
            "{err}"
        );
    }

    #[test]
    fn postgres_passwords_never_reach_the_redacted_form() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db.local:5432/tungnha").expect("valid");
        assert_eq!(url.redacted(), "postgres://app:***@db.local:5432/tungnha");
        assert!(!format!("{url:?}").contains("s3cret"));
    }
}
