//! Configuration: `config.toml.example` mirrored field by field.
//!
//! Values come from built-in defaults, then the optional TOML file, then environment variables
//! named `CULTURECNOUS__SECTION__KEY`. Every value is validated once, here, so the rest of the
//! program can trust it; an invalid value names its key and stops start-up (exit code 2).

use serde::{Deserialize, Serialize};
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};
use url::Url;

/// Default of `storage.max_cover_kb`: 5 MiB.
pub const DEFAULT_MAX_COVER_KB: u64 = 5 * 1024;
/// Upper bound of `storage.max_cover_kb` (20 MiB): the post forms' body limit is built from it.
pub const MAX_COVER_KB: u64 = 20 * 1024;

/// Prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "CULTURECNOUS__";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub instance: InstanceConfig,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub storage: StorageConfig,
    pub federation: FederationSettings,
    pub registration: RegistrationConfig,
    pub accounts: AccountsConfig,
    pub mail: MailConfig,
    pub moderation: ModerationConfig,
    pub meetings: MeetingsConfig,
    pub diagnosis: DiagnosisConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct InstanceConfig {
    /// Public base URL; every ActivityPub id is built from it.
    pub url: String,
    pub name: String,
    /// `fr` or `en`: the default language of the interface.
    pub language: String,
    /// Username of the institutional page staff publish as.
    pub page_actor: String,
    /// INSEE code of the département: its communes are the ones forms suggest.
    pub departement: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub bind: String,
    /// Reverse proxies (CIDRs or single addresses) whose `X-Forwarded-For` / `Forwarded`
    /// headers name the client; from anyone else these headers are ignored.
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Empty means: run a private PostgreSQL cluster under `data_dir/postgres`.
    pub url: String,
    pub pool_size: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    pub max_upload_mb: u64,
    /// Largest cover image of a post or announcement, in kibibytes (capped by `max_upload_mb`).
    pub max_cover_kb: u64,
    /// Where workspace documents are kept: `local` (`<data_dir>/files`) or `s3`.
    pub backend: String,
    /// `s3` backend: bucket, region, endpoint of an S3-compatible service (empty for AWS),
    /// credentials, and whether a plain-http endpoint is allowed.
    pub s3_bucket: String,
    pub s3_region: String,
    pub s3_endpoint: String,
    pub s3_access_key_id: String,
    pub s3_secret_access_key: String,
    pub s3_allow_http: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FederationSettings {
    /// Tests only: federate with peers on loopback and private networks, over plain http.
    pub allow_private_addresses: bool,
    pub delivery_workers: u32,
    /// Activities one verified sending server may deliver at once…
    pub inbox_burst: u32,
    /// …and the rate at which that allowance refills.
    pub inbox_per_minute: u32,
    /// Inbound activities that make us fetch something unknown (an actor, an object), per
    /// connecting address: at once…
    pub inbox_fetch_burst: u32,
    /// …and refilled at this rate.
    pub inbox_fetch_per_minute: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrationConfig {
    pub open: bool,
    /// Accounts one client address may create per hour.
    pub per_address_per_hour: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AccountsConfig {
    /// Whether a member must confirm their address (the link mailed at registration) before
    /// publishing posts, announcements or comments. Logging in and reading never wait for it.
    pub require_confirmation: bool,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            require_confirmation: true,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// Empty: mails are written as `.eml` files under `<data_dir>/outbox-mail`. Otherwise
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465` (TLS)
    /// or `smtp://host:25` (plain, local relays and tests).
    pub smtp_url: String,
    /// The sender, e.g. `Culture 88 <culture@departement.example>`. Empty:
    /// `noreply@<host of instance.url>` with the instance name as display name.
    pub from: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ModerationConfig {
    /// Where the "redirect" decision sends the author of an off-topic item (e.g. the events
    /// agenda for show listings). Empty: the decision only says the item does not belong here.
    pub redirect_url: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MeetingsConfig {
    /// Prefix of the video-room links of workspace meetings (a self-hosted Jitsi or
    /// BigBlueButton): the room name is appended to it, so it ends with `/` or `=`. Empty: no
    /// link is made, the organiser gives one.
    pub video_base_url: String,
}

/// The territorial diagnosis' open data: the licence its exports carry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DiagnosisConfig {
    /// Short identifier of the licence (a data package's `licenses[].name`, e.g. `etalab-2.0`,
    /// `ODbL-1.0`, `CC-BY-4.0`).
    pub licence_id: String,
    /// Its full title, shown on the pages and written in every export.
    pub licence_title: String,
    /// Where its text is read (http or https).
    pub licence_url: String,
}

impl Default for DiagnosisConfig {
    fn default() -> Self {
        Self {
            licence_id: "etalab-2.0".into(),
            licence_title: "Licence Ouverte / Open Licence version 2.0".into(),
            licence_url: "https://www.etalab.gouv.fr/licence-ouverte-open-licence/".into(),
        }
    }
}

impl MeetingsConfig {
    /// Why `url` cannot prefix room names, if it cannot.
    fn check_video_base_url(url: &str) -> Result<(), &'static str> {
        if url.is_empty() {
            return Ok(());
        }
        let Ok(parsed) = Url::parse(url) else {
            return Err("must be an https URL, e.g. https://visio.example/");
        };
        let local = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        match parsed.scheme() {
            "https" => {}
            "http" if local => {}
            _ => return Err("must be an https URL (http only for localhost)"),
        }
        if parsed.host().is_none() || parsed.fragment().is_some() {
            return Err("must be an https URL with a host and no fragment");
        }
        if !(url.ends_with('/') || url.ends_with('=')) {
            return Err(
                "must end where the room name is appended: with / (https://visio.example/) or = (…?room=)",
            );
        }
        Ok(())
    }
}

impl Default for InstanceConfig {
    fn default() -> Self {
        Self {
            url: "http://localhost:8080".into(),
            name: "cultureCnous".into(),
            language: "fr".into(),
            page_actor: "departement".into(),
            departement: "88".into(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            pool_size: 16,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            max_upload_mb: 25,
            max_cover_kb: DEFAULT_MAX_COVER_KB,
            backend: "local".into(),
            s3_bucket: String::new(),
            s3_region: String::new(),
            s3_endpoint: String::new(),
            s3_access_key_id: String::new(),
            s3_secret_access_key: String::new(),
            s3_allow_http: false,
        }
    }
}

impl Default for FederationSettings {
    fn default() -> Self {
        Self {
            allow_private_addresses: false,
            delivery_workers: 4,
            inbox_burst: 1000,
            inbox_per_minute: 6000,
            inbox_fetch_burst: 500,
            inbox_fetch_per_minute: 300,
        }
    }
}

impl Default for RegistrationConfig {
    fn default() -> Self {
        Self {
            open: true,
            per_address_per_hour: 5,
        }
    }
}

/// A configuration problem, always naming the key (and the value when there is one).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("invalid configuration value for `{key}` = {value:?}: {reason}")]
    Invalid {
        key: String,
        value: String,
        reason: String,
    },
    #[error("unknown configuration key `{key}`")]
    UnknownKey { key: String },
}

impl ConfigError {
    fn invalid(key: &str, value: impl std::fmt::Display, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

/// A connection string as an error message may show it: with its password masked, because
/// start-up errors end up in service-manager logs.
fn without_password(value: &str) -> String {
    if let Ok(mut url) = Url::parse(value) {
        if url.password().is_some() && url.set_password(Some("***")).is_ok() {
            return url.to_string();
        }
        return value.to_string();
    }
    if value.contains('=') {
        // libpq's `key=value` form.
        return value
            .split_whitespace()
            .map(|part| {
                if part.to_ascii_lowercase().starts_with("password=") {
                    "password=***"
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    match value.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => value.to_string(),
    }
}

/// The languages the interface speaks.
pub const LANGUAGES: &[&str] = &["fr", "en"];

impl Config {
    /// Loads defaults, then `file` (if any), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// Same as [`Config::load`] with an explicit environment, so tests need not touch the
    /// process-wide one.
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Syntax {
                        path: path.to_path_buf(),
                        message: e.to_string(),
                    })?
            }
            None => toml::Table::new(),
        };
        apply_env(&mut table, env)?;
        let config = Config::from_table(table)?;
        config.validate()?;
        Ok(config)
    }

    fn from_table(table: toml::Table) -> Result<Config, ConfigError> {
        // Check each key against the defaults first, so that the error names the exact key
        // instead of a serde message about the whole document.
        let defaults = toml::Table::try_from(Config::default()).map_err(|e| {
            ConfigError::invalid("(defaults)", "", format!("cannot serialise defaults: {e}"))
        })?;
        for (section, value) in &table {
            let Some(default_section) = defaults.get(section).and_then(|v| v.as_table()) else {
                return Err(ConfigError::UnknownKey {
                    key: section.clone(),
                });
            };
            let Some(section_table) = value.as_table() else {
                return Err(ConfigError::invalid(section, value, "expected a [section]"));
            };
            for (key, value) in section_table {
                let full = format!("{section}.{key}");
                let Some(default_value) = default_section.get(key) else {
                    return Err(ConfigError::UnknownKey { key: full });
                };
                if default_value.type_str() != value.type_str() {
                    return Err(ConfigError::invalid(
                        &full,
                        value,
                        format!("expected a {}", default_value.type_str()),
                    ));
                }
            }
        }
        Config::deserialize(toml::Value::Table(table))
            .map_err(|e| ConfigError::invalid("(file)", "", e.to_string()))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let url = Url::parse(&self.instance.url)
            .map_err(|e| ConfigError::invalid("instance.url", &self.instance.url, e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::invalid(
                "instance.url",
                &self.instance.url,
                "must start with http:// or https://",
            ));
        }
        if url.host_str().is_none() {
            return Err(ConfigError::invalid(
                "instance.url",
                &self.instance.url,
                "must name a host",
            ));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(ConfigError::invalid(
                "instance.url",
                &self.instance.url,
                "must be the site root, without path, query or fragment",
            ));
        }
        if !LANGUAGES.contains(&self.instance.language.as_str()) {
            return Err(ConfigError::invalid(
                "instance.language",
                &self.instance.language,
                "must be one of: fr, en",
            ));
        }
        if self.instance.name.trim().is_empty() {
            return Err(ConfigError::invalid(
                "instance.name",
                &self.instance.name,
                "must not be empty",
            ));
        }
        if let Err(reason) =
            crate::service::accounts::check_username_shape(&self.instance.page_actor)
        {
            return Err(ConfigError::invalid(
                "instance.page_actor",
                &self.instance.page_actor,
                reason,
            ));
        }
        if self.instance.page_actor == crate::service::actors::CHANNEL_USERNAME {
            return Err(ConfigError::invalid(
                "instance.page_actor",
                &self.instance.page_actor,
                "is the name of the announcement channel",
            ));
        }
        if crate::service::communes::in_departement(&self.instance.departement).is_empty() {
            return Err(ConfigError::invalid(
                "instance.departement",
                &self.instance.departement,
                "no commune of that département code (expected e.g. 88, 2A, 971)",
            ));
        }
        self.http.bind.parse::<SocketAddr>().map_err(|e| {
            ConfigError::invalid(
                "http.bind",
                &self.http.bind,
                format!("{e} (expected IP:PORT)"),
            )
        })?;
        crate::client_addr::parse_cidrs(&self.http.trusted_proxies).map_err(
            |(value, reason)| ConfigError::invalid("http.trusted_proxies", value, reason),
        )?;
        for (key, value) in [
            ("federation.inbox_burst", self.federation.inbox_burst),
            (
                "federation.inbox_per_minute",
                self.federation.inbox_per_minute,
            ),
            (
                "federation.inbox_fetch_burst",
                self.federation.inbox_fetch_burst,
            ),
            (
                "federation.inbox_fetch_per_minute",
                self.federation.inbox_fetch_per_minute,
            ),
            (
                "registration.per_address_per_hour",
                self.registration.per_address_per_hour,
            ),
        ] {
            if !(1..=10_000_000).contains(&value) {
                return Err(ConfigError::invalid(
                    key,
                    value,
                    "must be between 1 and 10000000",
                ));
            }
        }
        let db_url = &self.database.url;
        let db_url_ok = db_url.is_empty()
            || db_url.starts_with("postgres://")
            || db_url.starts_with("postgresql://")
            || db_url.contains("host=");
        if !db_url_ok {
            return Err(ConfigError::invalid(
                "database.url",
                without_password(&self.database.url),
                "expected postgres://user:password@host/dbname or empty for the managed database",
            ));
        }
        if !(1..=512).contains(&self.database.pool_size) {
            return Err(ConfigError::invalid(
                "database.pool_size",
                self.database.pool_size,
                "must be between 1 and 512",
            ));
        }
        if self.storage.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::invalid(
                "storage.data_dir",
                "",
                "must not be empty",
            ));
        }
        if !(1..=2048).contains(&self.storage.max_upload_mb) {
            return Err(ConfigError::invalid(
                "storage.max_upload_mb",
                self.storage.max_upload_mb,
                "must be between 1 and 2048",
            ));
        }
        if !(1..=MAX_COVER_KB).contains(&self.storage.max_cover_kb) {
            return Err(ConfigError::invalid(
                "storage.max_cover_kb",
                self.storage.max_cover_kb,
                format!("must be between 1 and {MAX_COVER_KB}"),
            ));
        }
        self.validate_storage_backend()?;
        self.validate_mail()?;
        if !self.moderation.redirect_url.is_empty() {
            let ok = Url::parse(&self.moderation.redirect_url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                return Err(ConfigError::invalid(
                    "moderation.redirect_url",
                    &self.moderation.redirect_url,
                    "must be an http(s) URL, e.g. https://agenda.example/",
                ));
            }
        }
        if let Err(reason) = MeetingsConfig::check_video_base_url(&self.meetings.video_base_url) {
            return Err(ConfigError::invalid(
                "meetings.video_base_url",
                &self.meetings.video_base_url,
                reason,
            ));
        }
        for (key, value) in [
            ("diagnosis.licence_id", &self.diagnosis.licence_id),
            ("diagnosis.licence_title", &self.diagnosis.licence_title),
        ] {
            if value.trim().is_empty() || value.chars().any(char::is_control) {
                return Err(ConfigError::invalid(
                    key,
                    value,
                    "must be a non-empty line of text (the exports carry it)",
                ));
            }
        }
        let licence_url_ok = Url::parse(&self.diagnosis.licence_url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !licence_url_ok {
            return Err(ConfigError::invalid(
                "diagnosis.licence_url",
                &self.diagnosis.licence_url,
                "must be an http(s) URL where the licence is read",
            ));
        }
        if !(1..=256).contains(&self.federation.delivery_workers) {
            return Err(ConfigError::invalid(
                "federation.delivery_workers",
                self.federation.delivery_workers,
                "must be between 1 and 256",
            ));
        }
        Ok(())
    }

    fn validate_storage_backend(&self) -> Result<(), ConfigError> {
        let s = &self.storage;
        match s.backend.as_str() {
            "local" => Ok(()),
            "s3" => {
                for (key, value) in [
                    ("storage.s3_bucket", &s.s3_bucket),
                    ("storage.s3_region", &s.s3_region),
                    ("storage.s3_access_key_id", &s.s3_access_key_id),
                    ("storage.s3_secret_access_key", &s.s3_secret_access_key),
                ] {
                    if value.trim().is_empty() {
                        return Err(ConfigError::invalid(
                            key,
                            "",
                            "must be set when storage.backend = \"s3\"",
                        ));
                    }
                }
                if !s.s3_endpoint.is_empty() {
                    let ok = Url::parse(&s.s3_endpoint).is_ok_and(|u| {
                        u.host().is_some()
                            && (u.scheme() == "https" || (u.scheme() == "http" && s.s3_allow_http))
                    });
                    if !ok {
                        return Err(ConfigError::invalid(
                            "storage.s3_endpoint",
                            &s.s3_endpoint,
                            "must be an https:// URL (http:// only with storage.s3_allow_http = true)",
                        ));
                    }
                }
                if let Err(e) = crate::service::storage::check(s) {
                    return Err(ConfigError::invalid("storage.backend", "s3", e));
                }
                Ok(())
            }
            other => Err(ConfigError::invalid(
                "storage.backend",
                other,
                "must be \"local\" or \"s3\"",
            )),
        }
    }

    fn validate_mail(&self) -> Result<(), ConfigError> {
        let smtp_url = &self.mail.smtp_url;
        if !smtp_url.is_empty() {
            let shown = without_password(smtp_url);
            let url = Url::parse(smtp_url)
                .map_err(|e| ConfigError::invalid("mail.smtp_url", &shown, e.to_string()))?;
            if !matches!(url.scheme(), "smtp" | "smtps") {
                return Err(ConfigError::invalid(
                    "mail.smtp_url",
                    &shown,
                    "must start with smtp:// or smtps://",
                ));
            }
            if url.host_str().is_none_or(str::is_empty) {
                return Err(ConfigError::invalid(
                    "mail.smtp_url",
                    &shown,
                    "must name a host",
                ));
            }
            // The transport's own reading of the URL (TLS mode, credentials): what it refuses
            // here it would refuse at the first mail.
            if let Err(e) = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(smtp_url)
            {
                return Err(ConfigError::invalid(
                    "mail.smtp_url",
                    &shown,
                    format!(
                        "{e} (expected smtp://host:25, smtp://user:password@host:587?tls=required or smtps://user:password@host:465)"
                    ),
                ));
            }
        }
        self.mail_from()?;
        Ok(())
    }

    /// The sender of every mail: `mail.from`, else `noreply@<host of instance.url>` with the
    /// instance name as display name.
    pub fn mail_from(&self) -> Result<lettre::message::Mailbox, ConfigError> {
        if !self.mail.from.is_empty() {
            return self.mail.from.parse().map_err(|e| {
                ConfigError::invalid(
                    "mail.from",
                    &self.mail.from,
                    format!(
                        "{e} (expected an address, optionally with a name: Name <address@host>)"
                    ),
                )
            });
        }
        let host = Url::parse(&self.instance.url)
            .ok()
            .and_then(|u| {
                u.host().map(|h| match h {
                    url::Host::Domain(d) => d.to_string(),
                    url::Host::Ipv4(ip) => format!("[{ip}]"),
                    url::Host::Ipv6(ip) => format!("[IPv6:{ip}]"),
                })
            })
            .unwrap_or_else(|| "localhost".to_string());
        let address = lettre::Address::new("noreply", &host).map_err(|e| {
            ConfigError::invalid(
                "mail.from",
                "",
                format!("noreply@{host} is not an address ({e}): set mail.from"),
            )
        })?;
        Ok(lettre::message::Mailbox::new(
            Some(self.instance.name.clone()),
            address,
        ))
    }

    /// The public base URL, without trailing slash, e.g. `https://culture.example`.
    pub fn base_url(&self) -> String {
        self.instance.url.trim_end_matches('/').to_string()
    }

    /// `host[:port]` of the public URL: the domain activitypub_federation compares ids with.
    pub fn domain(&self) -> String {
        Url::parse(&self.instance.url)
            .ok()
            .as_ref()
            .and_then(crate::urls::host_port)
            .unwrap_or_default()
    }

    pub fn is_https(&self) -> bool {
        self.instance.url.starts_with("https://")
    }

    /// The largest cover image accepted, in bytes: `storage.max_cover_kb`, never more than
    /// `storage.max_upload_mb`.
    pub fn max_cover_bytes(&self) -> usize {
        usize::try_from(self.storage.max_cover_kb.saturating_mul(1024))
            .unwrap_or(usize::MAX)
            .min(self.max_upload_bytes())
    }

    pub fn max_upload_bytes(&self) -> usize {
        usize::try_from(self.storage.max_upload_mb.saturating_mul(1024 * 1024))
            .unwrap_or(usize::MAX)
    }
}

/// Writes `CULTURECNOUS__SECTION__KEY=value` into the table, typed like the default value of
/// that key, so `CULTURECNOUS__STORAGE__MAX_UPLOAD_MB=abc` fails naming `storage.max_upload_mb`.
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let defaults = toml::Table::try_from(Config::default())
        .map_err(|e| ConfigError::invalid("(defaults)", "", e.to_string()))?;
    let mut pairs: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX))
        .collect();
    pairs.sort();
    for (name, raw) in pairs {
        let rest = &name[ENV_PREFIX.len()..];
        let Some((section, key)) = rest.split_once("__") else {
            return Err(ConfigError::UnknownKey { key: name });
        };
        let section = section.to_ascii_lowercase();
        let key = key.to_ascii_lowercase();
        let full = format!("{section}.{key}");
        let default_value = defaults
            .get(&section)
            .and_then(|s| s.as_table())
            .and_then(|s| s.get(&key))
            .ok_or_else(|| ConfigError::UnknownKey {
                key: format!("{full} (from {name})"),
            })?;
        let value = match default_value {
            toml::Value::Boolean(_) => match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
                "false" | "0" | "no" | "off" => toml::Value::Boolean(false),
                _ => return Err(ConfigError::invalid(&full, &raw, "expected true or false")),
            },
            toml::Value::Integer(_) => raw
                .trim()
                .parse::<i64>()
                .map(toml::Value::Integer)
                .map_err(|_| ConfigError::invalid(&full, &raw, "expected a whole number"))?,
            // Lists: comma-separated, e.g. CULTURECNOUS__HTTP__TRUSTED_PROXIES=10.0.0.0/8,::1
            toml::Value::Array(_) => toml::Value::Array(
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| toml::Value::String(s.to_string()))
                    .collect(),
            ),
            _ => toml::Value::String(raw),
        };
        let section_table = table
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        match section_table.as_table_mut() {
            Some(t) => {
                t.insert(key, value);
            }
            None => return Err(ConfigError::invalid(&section, "", "expected a [section]")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_work_without_file() {
        let c = Config::load_from(None, env(&[])).expect("defaults are valid");
        assert_eq!(c, Config::default());
        assert_eq!(c.domain(), "localhost:8080");
    }

    #[test]
    fn example_file_matches_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml.example");
        let c = Config::load_from(Some(&path), env(&[])).expect("example parses");
        assert_eq!(c, Config::default());
    }

    #[test]
    fn env_overrides_and_types() {
        let c = Config::load_from(
            None,
            env(&[
                ("CULTURECNOUS__INSTANCE__URL", "http://localhost:8081"),
                ("CULTURECNOUS__FEDERATION__ALLOW_PRIVATE_ADDRESSES", "true"),
                ("CULTURECNOUS__STORAGE__MAX_UPLOAD_MB", "3"),
            ]),
        )
        .expect("valid");
        assert_eq!(c.instance.url, "http://localhost:8081");
        assert!(c.federation.allow_private_addresses);
        assert_eq!(c.storage.max_upload_mb, 3);
        // The cover limit never exceeds the upload limit.
        assert_eq!(c.max_cover_bytes(), 3 * 1024 * 1024);
        assert_eq!(Config::default().max_cover_bytes(), 5 * 1024 * 1024);
    }

    #[test]
    fn invalid_values_name_the_key() {
        let cases = [
            ("CULTURECNOUS__INSTANCE__URL", "not a url", "instance.url"),
            (
                "CULTURECNOUS__INSTANCE__LANGUAGE",
                "de",
                "instance.language",
            ),
            (
                "CULTURECNOUS__STORAGE__MAX_UPLOAD_MB",
                "lots",
                "storage.max_upload_mb",
            ),
            ("CULTURECNOUS__HTTP__BIND", "8080", "http.bind"),
            (
                "CULTURECNOUS__HTTP__TRUSTED_PROXIES",
                "10.0.0.1,10.0.0.0/33",
                "http.trusted_proxies",
            ),
            (
                "CULTURECNOUS__HTTP__TRUSTED_PROXIES",
                "proxy.example",
                "http.trusted_proxies",
            ),
            (
                "CULTURECNOUS__FEDERATION__INBOX_BURST",
                "0",
                "federation.inbox_burst",
            ),
            (
                "CULTURECNOUS__STORAGE__MAX_COVER_KB",
                "20481",
                "storage.max_cover_kb",
            ),
            (
                "CULTURECNOUS__STORAGE__MAX_COVER_KB",
                "0",
                "storage.max_cover_kb",
            ),
            (
                "CULTURECNOUS__FEDERATION__DELIVERY_WORKERS",
                "0",
                "federation.delivery_workers",
            ),
            (
                "CULTURECNOUS__INSTANCE__PAGE_ACTOR",
                "annonces",
                "instance.page_actor",
            ),
            ("CULTURECNOUS__NOPE__KEY", "1", "nope.key"),
            (
                "CULTURECNOUS__MAIL__SMTP_URL",
                "http://mail.example",
                "mail.smtp_url",
            ),
            (
                "CULTURECNOUS__MAIL__SMTP_URL",
                "mail.example:587",
                "mail.smtp_url",
            ),
            (
                "CULTURECNOUS__MAIL__SMTP_URL",
                "smtp://mail.example?tls=sometimes",
                "mail.smtp_url",
            ),
            ("CULTURECNOUS__MAIL__FROM", "not an address", "mail.from"),
        ];
        for (k, v, key) in cases {
            let err = Config::load_from(None, env(&[(k, v)])).expect_err(k);
            assert!(err.to_string().contains(key), "{k}: {err}");
        }
    }

    #[test]
    fn mail_settings() {
        for url in [
            "smtp://localhost:25",
            "smtp://user:p%40ss@mail.example:587?tls=required",
            "smtps://user:pass@mail.example:465",
            "smtp://mail.example?tls=opportunistic",
        ] {
            let c = Config::load_from(None, env(&[("CULTURECNOUS__MAIL__SMTP_URL", url)]))
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(c.mail.smtp_url, url);
        }
        let from = Config::default().mail_from().expect("default sender");
        assert_eq!(from.email.to_string(), "noreply@localhost");
        assert_eq!(from.name.as_deref(), Some("cultureCnous"));
        let c = Config::load_from(
            None,
            env(&[(
                "CULTURECNOUS__MAIL__FROM",
                "Culture Vosges <culture@vosges.example>",
            )]),
        )
        .expect("valid sender");
        assert_eq!(
            c.mail_from().expect("sender").email.to_string(),
            "culture@vosges.example"
        );
        let err = Config::load_from(
            None,
            env(&[(
                "CULTURECNOUS__MAIL__SMTP_URL",
                "smtpx://user:s3cr3t@mail.example",
            )]),
        )
        .expect_err("scheme");
        let text = err.to_string();
        assert!(
            text.contains("mail.smtp_url") && !text.contains("s3cr3t"),
            "{text}"
        );
    }

    #[test]
    fn file_type_errors_name_the_key() {
        let dir = std::env::temp_dir().join(format!("cc-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let path = dir.join("c.toml");
        std::fs::write(&path, "[storage]\nmax_upload_mb = \"big\"\n").expect("write");
        let err = Config::load_from(Some(&path), env(&[])).expect_err("type");
        assert!(err.to_string().contains("storage.max_upload_mb"), "{err}");
        std::fs::write(&path, "[instance]\nurl = \"ftp://x\"\n").expect("write");
        let err = Config::load_from(Some(&path), env(&[])).expect_err("scheme");
        assert!(err.to_string().contains("instance.url"), "{err}");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn video_base_url_must_be_an_https_prefix() {
        let key = "CULTURECNOUS__MEETINGS__VIDEO_BASE_URL";
        for bad in [
            "meet.example/",
            "http://meet.example/",
            "ftp://meet.example/",
            "https://meet.example/room",
            "https://meet.example/#x=",
        ] {
            let err = Config::load_from(None, env(&[(key, bad)])).expect_err(bad);
            assert!(err.to_string().contains("meetings.video_base_url"), "{err}");
        }
        for good in [
            "",
            "https://meet.example/",
            "https://bbb.example/join?room=",
            "http://localhost:8000/",
        ] {
            let c = Config::load_from(None, env(&[(key, good)])).expect(good);
            assert_eq!(c.meetings.video_base_url, good);
        }
    }

    #[test]
    fn connection_string_passwords_never_appear_in_errors() {
        for (key, value) in [
            (
                "CULTURECNOUS__DATABASE__URL",
                "mysql://app:s3cr3t@db.example/culture",
            ),
            (
                "CULTURECNOUS__DATABASE__URL",
                "user=app password=s3cr3t dbname=culture",
            ),
        ] {
            let err = Config::load_from(None, env(&[(key, value)])).expect_err(value);
            let text = err.to_string();
            assert!(!text.contains("s3cr3t"), "{text}");
            assert!(text.contains("***"), "{text}");
        }
    }
}
