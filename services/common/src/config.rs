//! The hub's configuration, every key defined once: its file key, environment variable, default
//! and doc live in one [`Key`] of [`KEYS`] (plus the per-target `ports.<target>` /
//! `ROADMAP_<TARGET>_PORT` and `urls.<target>` / `ROADMAP_<TARGET>_URL`).
//!
//! Precedence: the defaults, then a TOML file (`--config FILE` or `ROADMAP_CONFIG`), then the
//! environment. The README's configuration table and `gateway/roadmap-hub.example.toml` list
//! every key (a test checks both against [`KEYS`]). An unknown file key is refused with its name
//! and line; an empty environment variable counts as unset.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};

use crate::auth::GatewaySecret;
use crate::clock::Clock;
use crate::db;

/// Everything a hub needs to start. Built by [`HubConfig::load`]; see [`KEYS`] for each field's
/// key, variable and default.
#[derive(Clone)]
pub struct HubConfig {
    pub database_url: String,
    pub host: IpAddr,
    /// Port per target name; 0 lets the OS choose (tests). Missing: the target's default port.
    pub ports: BTreeMap<String, u16>,
    /// URLs of targets this process does not run (split deployment), by target name.
    pub remote_urls: BTreeMap<String, String>,
    pub router_config: PathBuf,
    /// What "today" is for derived statuses (overdue) and the deadline watcher.
    pub clock: Clock,
    /// Redis carrying status-change events from the outboxes to the events service; without it,
    /// an in-process channel (all targets in one process).
    pub redis_url: Option<String>,
    pub event_stream: String,
    /// Consumer name of the events service in the stream's consumer group (one per replica).
    pub events_consumer: String,
    /// The secret the gateway sends to subgraphs and subgraphs send each other. Unset: random per
    /// process, which only works when the gateway and the subgraphs share the process.
    pub gateway_secret: GatewaySecret,
    /// Connections per subgraph pool.
    pub pool_size: u32,
    /// Time between passes of the plans target's deadline watcher (it also passes at start).
    pub deadline_interval: Duration,
    pub webhooks: WebhookSettings,
    /// Requests per second the gateway accepts from one client (token subject, else address);
    /// 0: no limit.
    pub rate_limit: u32,
    /// The web target's sign-in through an OpenID Connect provider.
    pub oidc: OidcSettings,
}

/// The web target's production sign-in (authorization code with PKCE, `roadmap_web::oidc`).
/// Without an issuer only the development sign-in (a pasted token) is offered.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct OidcSettings {
    /// The provider's issuer URL, exactly as its discovery document names it.
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    /// A confidential client's secret; none: a public client (PKCE alone proves the caller).
    pub client_secret: Option<String>,
    /// Space-separated scopes asked for (`openid` and whatever the provider needs to issue an
    /// access token for the gateway's audience).
    pub scope: String,
    /// RFC 8707 resource indicator, for providers that choose the access token's audience by it.
    pub resource: Option<String>,
    /// The web pages' address as browsers reach them, without a trailing slash: the redirect URI
    /// is `<public_url>/auth/callback`.
    pub public_url: Option<String>,
}

/// The secret is never printed.
impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("scope", &self.scope)
            .field("resource", &self.resource)
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// How the webhook delivery worker sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Delay before each retry after a failed attempt; the first attempt is immediate.
    pub retry_schedule: Vec<Duration>,
    /// Limit of one attempt, connecting and answering included.
    pub timeout: Duration,
}

/// Where a value comes from: relative paths are relative to the file's folder, to the working
/// directory for the environment, to the workspace for defaults.
#[derive(Clone, Copy, Debug)]
enum Origin<'a> {
    Default,
    File(&'a Path),
    Env,
}

/// One configuration key.
pub struct Key {
    /// Key in the TOML file.
    pub file: &'static str,
    /// Environment variable (wins over the file).
    pub env: &'static str,
    /// The default as written in the file; `None`: unset (see `unset`).
    pub default: Option<&'static str>,
    /// What unset means, when there is no default value.
    pub unset: &'static str,
    pub doc: &'static str,
    /// A secret: never printed.
    pub secret: bool,
    set: fn(&mut HubConfig, &str, Origin<'_>) -> anyhow::Result<()>,
}

/// Every scalar key. Per-target keys are added by [`HubConfig::load`] from the target list.
pub const KEYS: &[Key] = &[
    Key {
        file: "database_url",
        env: "DATABASE_URL",
        default: None,
        unset: "the embedded PostgreSQL (`up`, `import`, `migrate`, `generate`, `token`; data in `--data-dir`); `serve` refuses to start",
        doc: "one database; each service uses its own schema in it",
        secret: true,
        set: |c, v, _| {
            c.database_url = v.to_string();
            Ok(())
        },
    },
    Key {
        file: "host",
        env: "ROADMAP_HOST",
        default: Some("127.0.0.1"),
        unset: "",
        doc: "address every target binds",
        secret: false,
        set: |c, v, _| {
            c.host = v.trim().parse().map_err(|_| anyhow!("`{v}` is not an IP address"))?;
            Ok(())
        },
    },
    Key {
        file: "redis_url",
        env: "REDIS_URL",
        default: None,
        unset: "an in-process channel (all targets in one process)",
        doc: "Redis carrying status-change events (outbox relay → stream → events); when set, `/ready` of plans, indicators and events also waits for Redis `PING`",
        secret: true,
        set: |c, v, _| {
            c.redis_url = Some(v.to_string());
            Ok(())
        },
    },
    Key {
        file: "event_stream",
        env: "ROADMAP_EVENT_STREAM",
        default: Some(crate::outbox::DEFAULT_STREAM),
        unset: "",
        doc: "the Redis Stream of events",
        secret: false,
        set: |c, v, _| {
            c.event_stream = v.to_string();
            Ok(())
        },
    },
    Key {
        file: "events_consumer",
        env: "ROADMAP_EVENTS_CONSUMER",
        default: Some("events-1"),
        unset: "",
        doc: "consumer name of the events service in the stream's consumer group (run one events replica)",
        secret: false,
        set: |c, v, _| {
            c.events_consumer = v.to_string();
            Ok(())
        },
    },
    Key {
        file: "router_config",
        env: "ROUTER_CONFIG_FILE_PATH",
        default: Some("gateway/router.config.yaml"),
        unset: "",
        doc: "router configuration (including `telemetry.metrics` for the gateway's `/metrics`); in the file, relative to the file",
        secret: false,
        set: |c, v, origin| {
            c.router_config = match origin {
                Origin::Default => workspace_root().join(v),
                Origin::File(dir) => dir.join(v),
                Origin::Env => PathBuf::from(v),
            };
            Ok(())
        },
    },
    Key {
        file: "clock",
        env: "ROADMAP_CLOCK",
        default: None,
        unset: "the system date",
        doc: "fix \"today\" for derived statuses such as OVERDUE and for the deadline watcher: a date (`YYYY-MM-DD`, that day in every time zone) or an instant (`2026-03-10T16:00:00Z`, read in each territory's zone)",
        secret: false,
        set: |c, v, _| {
            c.clock = Clock::parse(v).ok_or_else(|| {
                anyhow!("`{v}` is not a date like 2024-03-31 or an instant like 2026-03-10T16:00:00Z")
            })?;
            Ok(())
        },
    },
    Key {
        file: "gateway_secret",
        env: "ROADMAP_GATEWAY_SECRET",
        default: None,
        unset: "random per process",
        doc: "shared secret the gateway sends to subgraphs (and subgraphs to each other); required for a split deployment, at least 16 characters",
        secret: true,
        set: |c, v, _| {
            c.gateway_secret = GatewaySecret::new(v).map_err(|e| anyhow!("{e}"))?;
            Ok(())
        },
    },
    Key {
        file: "pool_size",
        env: "ROADMAP_DB_POOL_SIZE",
        default: Some("16"),
        unset: "",
        doc: "connections per subgraph pool (1-1000)",
        secret: false,
        set: |c, v, _| {
            let n: u32 = v.trim().parse().map_err(|_| anyhow!("`{v}` is not a number"))?;
            if !(1..=1000).contains(&n) {
                bail!("{n} is not between 1 and 1000");
            }
            c.pool_size = n;
            Ok(())
        },
    },
    Key {
        file: "deadline_interval",
        env: "ROADMAP_DEADLINE_INTERVAL",
        default: Some("600"),
        unset: "",
        doc: "seconds between passes of the deadline watcher (plans target; it also passes at start)",
        secret: false,
        set: |c, v, _| {
            let seconds = v.trim().parse::<f64>().unwrap_or(f64::NAN);
            if !(seconds.is_finite() && seconds > 0.0 && seconds < 1e9) {
                bail!("`{v}` is not a positive number of seconds");
            }
            c.deadline_interval = Duration::from_secs_f64(seconds);
            Ok(())
        },
    },
    Key {
        file: "rate_limit",
        env: "ROADMAP_RATE_LIMIT",
        default: Some("0"),
        unset: "",
        doc: "requests per second the gateway accepts from one client (the verified token's subject, else the client address), with bursts of as many; more get HTTP 429 with a GraphQL error and `Retry-After`; `0` is no limit",
        secret: false,
        set: |c, v, _| {
            c.rate_limit = v
                .trim()
                .parse()
                .map_err(|_| anyhow!("`{v}` is not a whole number of requests per second (0 for no limit)"))?;
            Ok(())
        },
    },
    Key {
        file: "webhook_retry_schedule",
        env: "ROADMAP_WEBHOOK_RETRY_SCHEDULE",
        default: Some("5s,5m,30m,2h,5h,10h,14h,20h,24h"),
        unset: "",
        doc: "delays before each webhook retry after a failed attempt (units `ms`, `s`, `m`, `h`, `d`); after the last, the delivery fails",
        secret: false,
        set: |c, v, _| {
            c.webhooks.retry_schedule = parse_schedule(v).map_err(|e| anyhow!(e))?;
            Ok(())
        },
    },
    Key {
        file: "webhook_timeout",
        env: "ROADMAP_WEBHOOK_TIMEOUT",
        default: Some("15s"),
        unset: "",
        doc: "limit of one webhook attempt",
        secret: false,
        set: |c, v, _| {
            c.webhooks.timeout = parse_duration(v).map_err(|e| anyhow!(e))?;
            Ok(())
        },
    },
    Key {
        file: "web_public_url",
        env: "ROADMAP_WEB_PUBLIC_URL",
        default: None,
        unset: "needed only with `oidc_issuer`",
        doc: "the web pages' address as visitors' browsers reach them (`https://roadmaps.example.ru`); the sign-in's redirect URI is `<it>/auth/callback`",
        secret: false,
        set: |c, v, _| {
            c.oidc.public_url = Some(http_url(v)?.trim_end_matches('/').to_string());
            Ok(())
        },
    },
    Key {
        file: "oidc_issuer",
        env: "ROADMAP_OIDC_ISSUER",
        default: None,
        unset: "the development sign-in only (a pasted token)",
        doc: "issuer URL of the OpenID Connect provider the web pages sign visitors in with (authorization code with PKCE; endpoints from `<issuer>/.well-known/openid-configuration`); the gateway must trust its tokens (`ROADMAP_JWKS_URL`, `ROADMAP_JWT_ISSUER`)",
        secret: false,
        set: |c, v, _| {
            c.oidc.issuer = Some(http_url(v)?.to_string());
            Ok(())
        },
    },
    Key {
        file: "oidc_client_id",
        env: "ROADMAP_OIDC_CLIENT_ID",
        default: None,
        unset: "needed with `oidc_issuer`",
        doc: "the web pages' client id at the provider",
        secret: false,
        set: |c, v, _| {
            c.oidc.client_id = Some(v.trim().to_string());
            Ok(())
        },
    },
    Key {
        file: "oidc_client_secret",
        env: "ROADMAP_OIDC_CLIENT_SECRET",
        default: None,
        unset: "a public client (PKCE only)",
        doc: "secret of a confidential client, sent in the token request's body (`client_secret_post`)",
        secret: true,
        set: |c, v, _| {
            c.oidc.client_secret = Some(v.to_string());
            Ok(())
        },
    },
    Key {
        file: "oidc_scope",
        env: "ROADMAP_OIDC_SCOPE",
        default: Some("openid"),
        unset: "",
        doc: "scopes the sign-in asks for, space-separated: `openid` and whatever the provider needs to issue an access token for audience `roadmap-hub`",
        secret: false,
        set: |c, v, _| {
            let scope = v.split_whitespace().collect::<Vec<_>>().join(" ");
            if !scope.split(' ').any(|s| s == "openid") {
                bail!("`{v}` lacks `openid`");
            }
            c.oidc.scope = scope;
            Ok(())
        },
    },
    Key {
        file: "oidc_resource",
        env: "ROADMAP_OIDC_RESOURCE",
        default: None,
        unset: "no `resource` parameter",
        doc: "resource indicator (RFC 8707, an absolute URI such as `urn:roadmap-hub`) sent with the authorization and token requests, for providers that choose the access token's audience by it",
        secret: false,
        set: |c, v, _| {
            let v = v.trim();
            if !v.contains(':') || v.contains('#') {
                bail!("`{v}` is not an absolute URI without a fragment");
            }
            c.oidc.resource = Some(v.to_string());
            Ok(())
        },
    },
];

/// The variable naming the config file (same as `--config`).
pub const CONFIG_ENV: &str = "ROADMAP_CONFIG";

/// `ROADMAP_<TARGET>_PORT`.
pub fn port_env(target: &str) -> String {
    format!("ROADMAP_{}_PORT", target.to_uppercase())
}

/// `ROADMAP_<TARGET>_URL`.
pub fn url_env(target: &str) -> String {
    format!("ROADMAP_{}_URL", target.to_uppercase())
}

/// Secrets never reach logs: URLs lose their passwords, the gateway secret is not printed.
impl std::fmt::Debug for HubConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubConfig")
            .field("database_url", &db::redact_url(&self.database_url))
            .field("host", &self.host)
            .field("ports", &self.ports)
            .field("remote_urls", &self.remote_urls)
            .field("router_config", &self.router_config)
            .field("clock", &self.clock)
            .field("redis_url", &self.redis_url.as_deref().map(db::redact_url))
            .field("event_stream", &self.event_stream)
            .field("events_consumer", &self.events_consumer)
            .field("gateway_secret", &self.gateway_secret)
            .field("pool_size", &self.pool_size)
            .field("deadline_interval", &self.deadline_interval)
            .field("webhooks", &self.webhooks)
            .field("rate_limit", &self.rate_limit)
            .field("oidc", &self.oidc)
            .finish()
    }
}

impl HubConfig {
    /// Every key at its default ([`KEYS`]); `targets` are the target names per-target keys
    /// accept.
    pub fn defaults() -> Self {
        let mut config = HubConfig {
            database_url: String::new(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: BTreeMap::new(),
            remote_urls: BTreeMap::new(),
            router_config: PathBuf::new(),
            clock: Clock::system(),
            redis_url: None,
            event_stream: String::new(),
            events_consumer: String::new(),
            gateway_secret: GatewaySecret::random(),
            pool_size: 1,
            deadline_interval: Duration::from_secs(1),
            webhooks: WebhookSettings {
                retry_schedule: Vec::new(),
                timeout: Duration::from_secs(1),
            },
            rate_limit: 0,
            oidc: OidcSettings::default(),
        };
        for key in KEYS {
            if let Some(default) = key.default {
                // The defaults are constants checked by a test.
                (key.set)(&mut config, default, Origin::Default)
                    .unwrap_or_else(|e| panic!("the default of `{}` is invalid: {e}", key.file));
            }
        }
        config
    }

    /// Defaults, then `file` (TOML), then the environment. `targets` are the names of the
    /// targets (per-target keys `ports.<name>`, `urls.<name>`).
    pub fn load(file: Option<&Path>, targets: &[&str]) -> anyhow::Result<Self> {
        let mut config = Self::defaults();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).with_context(|| format!("config file {}", path.display()))?;
            config
                .apply_file(&text, path.parent().unwrap_or(Path::new(".")), targets)
                .with_context(|| format!("config file {}", path.display()))?;
        }
        config.apply_env(|name| std::env::var(name).ok(), targets)?;
        Ok(config)
    }

    /// [`HubConfig::load`] with the file named by `ROADMAP_CONFIG`, if any.
    pub fn from_env(targets: &[&str]) -> anyhow::Result<Self> {
        let file = std::env::var_os(CONFIG_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Self::load(file.as_deref(), targets)
    }

    /// Applies a TOML config file's text; relative paths are relative to `dir`.
    pub fn apply_file(&mut self, text: &str, dir: &Path, targets: &[&str]) -> anyhow::Result<()> {
        // toml's messages name the line and column of syntax errors.
        let table: toml::Table = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
        let origin = Origin::File(dir);
        for (name, value) in &table {
            match (name.as_str(), value) {
                ("ports" | "urls", toml::Value::Table(per_target)) => {
                    for (target, value) in per_target {
                        let full = format!("{name}.{target}");
                        if !targets.contains(&target.as_str()) {
                            bail!(
                                "unknown key `{full}` at line {}; targets are {}",
                                line_of(text, target),
                                targets.join(", ")
                            );
                        }
                        let text_value = scalar(&full, value)?;
                        self.set_per_target(name, target, &text_value)
                            .with_context(|| format!("{full} (line {})", line_of(text, target)))?;
                    }
                }
                _ => {
                    let key = KEYS
                        .iter()
                        .find(|k| k.file == name)
                        .ok_or_else(|| anyhow!("unknown key `{name}` at line {}", line_of(text, name)))?;
                    let text_value = scalar(name, value)?;
                    if text_value.trim().is_empty() {
                        continue;
                    }
                    (key.set)(self, &text_value, origin)
                        .with_context(|| format!("{name} (line {})", line_of(text, name)))?;
                }
            }
        }
        Ok(())
    }

    /// Applies environment variables read through `var`; empty ones count as unset.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>, targets: &[&str]) -> anyhow::Result<()> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        for key in KEYS {
            if let Some(value) = var(key.env) {
                (key.set)(self, &value, Origin::Env).with_context(|| key.env.to_string())?;
            }
        }
        for target in targets {
            if let Some(port) = var(&port_env(target)) {
                self.set_per_target("ports", target, &port)
                    .with_context(|| port_env(target))?;
            }
            if let Some(url) = var(&url_env(target)) {
                self.set_per_target("urls", target, &url)?;
            }
        }
        Ok(())
    }

    fn set_per_target(&mut self, table: &str, target: &str, value: &str) -> anyhow::Result<()> {
        if table == "ports" {
            let port = value
                .trim()
                .parse()
                .map_err(|_| anyhow!("`{value}` is not a port number"))?;
            self.ports.insert(target.to_string(), port);
        } else {
            self.remote_urls.insert(target.to_string(), value.to_string());
        }
        Ok(())
    }

    /// Every port of `targets` 0, for tests, which run many hubs side by side.
    pub fn ephemeral(database_url: String, targets: &[&str]) -> Self {
        Self {
            database_url,
            ports: targets.iter().map(|t| (t.to_string(), 0)).collect(),
            ..Self::defaults()
        }
    }

    /// The configured port of a target, else `default`.
    pub fn port(&self, target: &str, default: u16) -> u16 {
        self.ports.get(target).copied().unwrap_or(default)
    }
}

/// A file value as the text a variable would hold.
fn scalar(name: &str, value: &toml::Value) -> anyhow::Result<String> {
    Ok(match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        _ => bail!("{name}: expected a string or a number"),
    })
}

/// The first line (1-based) that sets `key`, for messages.
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(0, |i| i + 1)
}

/// The workspace root, for defaults that point into a checkout (`gateway/router.config.yaml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `text` trimmed when it is an `http://` or `https://` URL with a host.
fn http_url(text: &str) -> anyhow::Result<&str> {
    let text = text.trim();
    let host = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
    match host {
        Some(host) if !host.is_empty() && !text.contains(char::is_whitespace) => Ok(text),
        _ => bail!("`{text}` is not an http:// or https:// URL"),
    }
}

/// Parses `250ms`, `5s`, `5m`, `2h` or `1d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 250ms, 5s, 5m, 2h or 1d"))?;
    let millis = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{text}` has no unit: use ms, s, m, h or d")),
    };
    number
        .checked_mul(millis)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("`{text}` is too long"))
}

/// Parses a comma-separated list of durations (`5s,5m,30m`); an empty list means no retry.
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(parse_duration)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGETS: &[&str] = &["gateway", "plans", "indicators", "people", "events"];

    #[test]
    fn file_then_environment() {
        let mut config = HubConfig::defaults();
        let dir = Path::new("/etc/roadmap");
        config
            .apply_file(
                "database_url = \"postgres://hub:s3cret@db:5432/hub\"\nrouter_config = \"router.yaml\"\n\
                 clock = \"2024-03-31\"\npool_size = 8\ndeadline_interval = 30\n\
                 webhook_retry_schedule = \"1s,2s\"\n[ports]\nplans = 5001\n[urls]\npeople = \"http://people:4003/graphql\"\n",
                dir,
                TARGETS,
            )
            .unwrap();
        assert_eq!(config.port("plans", 4001), 5001);
        assert_eq!(config.port("people", 4003), 4003);
        assert_eq!(config.pool_size, 8);
        assert_eq!(config.deadline_interval, Duration::from_secs(30));
        assert_eq!(
            config.webhooks.retry_schedule,
            vec![Duration::from_secs(1), Duration::from_secs(2)]
        );
        assert_eq!(config.router_config, dir.join("router.yaml"));
        assert_eq!(config.remote_urls["people"], "http://people:4003/graphql");
        assert_eq!(
            config.clock.today(),
            chrono::NaiveDate::from_ymd_opt(2024, 3, 31).unwrap()
        );
        // The environment wins over the file; empty variables count as unset.
        let env = std::collections::HashMap::from([
            ("ROADMAP_PLANS_PORT", "6001"),
            ("ROADMAP_GATEWAY_SECRET", "env-secret-0123456789"),
            ("DATABASE_URL", ""),
        ]);
        config
            .apply_env(|k| env.get(k).map(|v| v.to_string()), TARGETS)
            .unwrap();
        assert_eq!(config.port("plans", 4001), 6001);
        assert_eq!(config.gateway_secret.expose(), "env-secret-0123456789");
        assert_eq!(config.database_url, "postgres://hub:s3cret@db:5432/hub");
        // Secrets stay out of logs.
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret") && !shown.contains("env-secret"), "{shown}");
        assert!(shown.contains("db:5432"), "{shown}");
    }

    #[test]
    fn config_file_errors_name_the_key_and_line() {
        let dir = Path::new(".");
        let err = |text: &str| {
            HubConfig::defaults()
                .apply_file(text, dir, TARGETS)
                .unwrap_err()
                .to_string()
        };
        let e = err("pool_size = 4\nprot = 5\n");
        assert!(e.contains("prot") && e.contains("line 2"), "{e}");
        let e = err("[ports]\nplanz = 1\n");
        assert!(e.contains("planz") && e.contains("line 2"), "{e}");
        let e = format!(
            "{:#}",
            HubConfig::defaults()
                .apply_file("pool_size = 0\n", dir, TARGETS)
                .unwrap_err()
        );
        assert!(e.contains("pool_size") && e.contains("between 1 and 1000"), "{e}");
        let e = format!(
            "{:#}",
            HubConfig::defaults()
                .apply_file("gateway_secret = \"short\"\n", dir, TARGETS)
                .unwrap_err()
        );
        assert!(e.contains("gateway_secret"), "{e}");
        let e = format!(
            "{:#}",
            HubConfig::defaults()
                .apply_env(|k| (k == "ROADMAP_WEBHOOK_TIMEOUT").then(|| "5".to_string()), TARGETS)
                .unwrap_err()
        );
        assert!(e.contains("ROADMAP_WEBHOOK_TIMEOUT") && e.contains("unit"), "{e}");
    }

    #[test]
    fn oidc_settings_are_checked_and_the_secret_is_not_shown() {
        let mut config = HubConfig::defaults();
        assert_eq!(config.oidc.scope, "openid");
        assert!(config.oidc.issuer.is_none());
        let env = std::collections::HashMap::from([
            ("ROADMAP_OIDC_ISSUER", "https://id.example.ru/realms/roadmap"),
            ("ROADMAP_OIDC_CLIENT_ID", "roadmap-web"),
            ("ROADMAP_OIDC_CLIENT_SECRET", "client-s3cret"),
            ("ROADMAP_WEB_PUBLIC_URL", "https://roadmaps.example.ru/"),
            ("ROADMAP_OIDC_SCOPE", "openid  roadmap"),
        ]);
        config
            .apply_env(|k| env.get(k).map(|v| v.to_string()), TARGETS)
            .unwrap();
        assert_eq!(config.oidc.public_url.as_deref(), Some("https://roadmaps.example.ru"));
        assert_eq!(config.oidc.scope, "openid roadmap");
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("client-s3cret") && shown.contains("roadmap-web"),
            "{shown}"
        );
        let refused = |key: &str, value: &str| {
            let e = HubConfig::defaults()
                .apply_env(|k| (k == key).then(|| value.to_string()), TARGETS)
                .unwrap_err();
            format!("{e:#}")
        };
        let e = refused("ROADMAP_OIDC_ISSUER", "id.example.ru");
        assert!(e.contains("ROADMAP_OIDC_ISSUER") && e.contains("not an http"), "{e}");
        let e = refused("ROADMAP_OIDC_SCOPE", "profile");
        assert!(e.contains("openid"), "{e}");
        let e = refused("ROADMAP_OIDC_RESOURCE", "roadmap-hub");
        assert!(e.contains("absolute URI"), "{e}");
    }

    #[test]
    fn keys_are_unique_and_defaults_parse() {
        let mut seen = std::collections::HashSet::new();
        for key in KEYS {
            assert!(seen.insert(key.file), "file key {} twice", key.file);
            assert!(seen.insert(key.env), "variable {} twice", key.env);
            assert!(
                key.default.is_some() == key.unset.is_empty(),
                "{}: a default or what unset means",
                key.file
            );
        }
        let defaults = HubConfig::defaults();
        assert!(defaults.database_url.is_empty(), "unset: the embedded PostgreSQL");
        assert_eq!(defaults.pool_size, 16);
        assert_eq!(defaults.webhooks.retry_schedule.len(), 9);
        let total: Duration = defaults.webhooks.retry_schedule.iter().sum();
        assert_eq!(total.as_secs(), 75 * 3600 + 35 * 60 + 5);
        assert_eq!(defaults.deadline_interval, Duration::from_secs(600));
    }

    #[test]
    fn durations_parse_with_units_and_refuse_garbage() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration(" 2h ").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("1d").unwrap(), Duration::from_secs(86_400));
        assert!(parse_duration("5").unwrap_err().contains("unit"));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5w").is_err());
        assert_eq!(
            parse_schedule("1s, 2m").unwrap(),
            vec![Duration::from_secs(1), Duration::from_secs(120)]
        );
        assert!(parse_schedule("").unwrap().is_empty());
    }
}
