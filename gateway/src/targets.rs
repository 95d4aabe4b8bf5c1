//! Targets and the hub that runs any set of them in one process.
//!
//! `up` is `serve --target all`; a split deployment runs one target per process with the same
//! code. A subgraph target owns a Postgres schema and serves on its own port; the gateway target
//! embeds the router and points it at the subgraphs, local or remote.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use roadmap_common::{db, outbox, server};
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::router::{self, RouterHandle, RouterOptions};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Plans,
    Indicators,
    People,
    Events,
    Gateway,
}

impl Target {
    pub const ALL: [Target; 5] = [
        Target::Plans,
        Target::Indicators,
        Target::People,
        Target::Events,
        Target::Gateway,
    ];
    pub const SUBGRAPHS: [Target; 4] = [Target::Plans, Target::Indicators, Target::People, Target::Events];

    pub fn name(self) -> &'static str {
        match self {
            Target::Plans => roadmap_plans::NAME,
            Target::Indicators => roadmap_indicators::NAME,
            Target::People => roadmap_people::NAME,
            Target::Events => roadmap_events::NAME,
            Target::Gateway => "gateway",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Target::Gateway => 4000,
            Target::Plans => 4001,
            Target::Indicators => 4002,
            Target::People => 4003,
            Target::Events => 4004,
        }
    }

    /// Parses `plans,gateway` or `all`.
    pub fn parse_list(text: &str) -> anyhow::Result<Vec<Target>> {
        let mut out = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "all" {
                out.extend(Target::ALL);
                continue;
            }
            let target = Target::ALL.into_iter().find(|t| t.name() == part).ok_or_else(|| {
                anyhow!("unknown target `{part}`; expected one of plans, indicators, people, events, gateway, all")
            })?;
            out.push(target);
        }
        if out.is_empty() {
            bail!("no target given");
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Targets that write status-change events or audit entries to an outbox (and run a relay).
    pub fn produces_events(self) -> bool {
        matches!(self, Target::Plans | Target::Indicators | Target::People)
    }

    fn env_prefix(self) -> String {
        format!("ROADMAP_{}", self.name().to_uppercase())
    }
}

/// Everything a hub needs to start: defaults, then the config file, then the environment
/// ([`HubConfig::load`]). README "Configuration" lists every key with its variable and default.
#[derive(Clone)]
pub struct HubConfig {
    pub database_url: String,
    pub host: IpAddr,
    /// Port per target; 0 lets the OS choose (tests).
    pub ports: BTreeMap<Target, u16>,
    /// GraphQL URLs of subgraphs this process does not run (split deployment).
    pub remote_urls: BTreeMap<Target, String>,
    pub router_config: PathBuf,
    /// What "today" is for derived statuses (overdue); `ROADMAP_CLOCK=YYYY-MM-DD` fixes it.
    pub clock: roadmap_common::clock::Clock,
    /// Redis carrying status-change events from the outboxes to the events service
    /// (`REDIS_URL`); without it, an in-process channel (all targets in one process).
    pub redis_url: Option<String>,
    /// The Redis Stream of events (`ROADMAP_EVENT_STREAM`, default `roadmap:events`).
    pub event_stream: String,
    /// Consumer name of the events service in the stream's consumer group
    /// (`ROADMAP_EVENTS_CONSUMER`, default `events-1`; one per events replica).
    pub events_consumer: String,
    /// The secret the gateway sends to subgraphs and subgraphs send each other
    /// (`ROADMAP_GATEWAY_SECRET`, at least 16 printable characters). Unset: a random one per
    /// process, which only works when the gateway and the subgraphs run in the same process.
    pub gateway_secret: roadmap_common::auth::GatewaySecret,
    /// Connections per subgraph pool (`ROADMAP_DB_POOL_SIZE`, default 16).
    pub pool_size: u32,
    /// Time between passes of the plans target's deadline watcher
    /// (`ROADMAP_DEADLINE_INTERVAL`, seconds, default 600); it also passes once at start.
    pub deadline_interval: Duration,
    /// Webhook delivery: the retry delays after a failed attempt
    /// (`ROADMAP_WEBHOOK_RETRY_SCHEDULE`, default `5s,5m,30m,2h,5h,10h,14h,20h,24h`) and the
    /// per-attempt timeout (`ROADMAP_WEBHOOK_TIMEOUT`, default `15s`).
    pub webhooks: roadmap_events::WebhookConfig,
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
            .finish()
    }
}

/// The config file (`--config FILE` or `ROADMAP_CONFIG`, TOML). Every key is optional; an
/// unknown key is an error naming it and its line.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    host: Option<IpAddr>,
    redis_url: Option<String>,
    event_stream: Option<String>,
    events_consumer: Option<String>,
    /// Relative to the config file.
    router_config: Option<PathBuf>,
    /// `"YYYY-MM-DD"`.
    clock: Option<String>,
    gateway_secret: Option<String>,
    pool_size: Option<u32>,
    /// Seconds.
    deadline_interval: Option<f64>,
    #[serde(default)]
    ports: PerTarget<u16>,
    #[serde(default)]
    urls: PerTarget<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PerTarget<T> {
    gateway: Option<T>,
    plans: Option<T>,
    indicators: Option<T>,
    people: Option<T>,
    events: Option<T>,
}

impl<T> Default for PerTarget<T> {
    fn default() -> Self {
        Self {
            gateway: None,
            plans: None,
            indicators: None,
            people: None,
            events: None,
        }
    }
}

impl<T> PerTarget<T> {
    fn take(&mut self, target: Target) -> Option<T> {
        match target {
            Target::Gateway => self.gateway.take(),
            Target::Plans => self.plans.take(),
            Target::Indicators => self.indicators.take(),
            Target::People => self.people.take(),
            Target::Events => self.events.take(),
        }
    }
}

impl HubConfig {
    /// [`HubConfig::load`] with the file named by `ROADMAP_CONFIG`, if any.
    pub fn from_env() -> anyhow::Result<Self> {
        let file = std::env::var_os("ROADMAP_CONFIG").map(PathBuf::from);
        Self::load(file.as_deref())
    }

    /// Defaults, then `file` (TOML), then the environment: `DATABASE_URL`, `ROADMAP_HOST`,
    /// `ROADMAP_<TARGET>_PORT`, `ROADMAP_<SUBGRAPH>_URL`, `ROUTER_CONFIG_FILE_PATH`,
    /// `ROADMAP_CLOCK`, `REDIS_URL`, `ROADMAP_EVENT_STREAM`, `ROADMAP_EVENTS_CONSUMER`,
    /// `ROADMAP_GATEWAY_SECRET`, `ROADMAP_DB_POOL_SIZE`.
    pub fn load(file: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let mut config = Self::defaults();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).with_context(|| format!("config file {}", path.display()))?;
            config
                .apply_file(&text, path.parent().unwrap_or(std::path::Path::new(".")))
                .with_context(|| format!("config file {}", path.display()))?;
        }
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    /// Applies a TOML config file's text; relative paths are relative to `dir`.
    fn apply_file(&mut self, text: &str, dir: &std::path::Path) -> anyhow::Result<()> {
        // toml's messages name the line, column and key (e.g. "unknown field `prot`").
        let mut file: FileConfig = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
        if let Some(v) = file.database_url {
            self.database_url = v;
        }
        if let Some(v) = file.host {
            self.host = v;
        }
        if let Some(v) = file.redis_url.filter(|u| !u.trim().is_empty()) {
            self.redis_url = Some(v);
        }
        if let Some(v) = file.event_stream {
            self.event_stream = v;
        }
        if let Some(v) = file.events_consumer {
            self.events_consumer = v;
        }
        if let Some(v) = file.router_config {
            self.router_config = dir.join(v);
        }
        if let Some(v) = file.clock {
            self.clock = parse_clock("clock", &v)?;
        }
        if let Some(v) = file.gateway_secret {
            self.gateway_secret =
                roadmap_common::auth::GatewaySecret::new(v).map_err(|e| anyhow!("gateway_secret: {e}"))?;
        }
        if let Some(v) = file.pool_size {
            self.pool_size = check_pool_size("pool_size", v)?;
        }
        if let Some(v) = file.deadline_interval {
            self.deadline_interval = check_interval("deadline_interval", v)?;
        }
        for target in Target::ALL {
            if let Some(port) = file.ports.take(target) {
                self.ports.insert(target, port);
            }
            if let Some(url) = file.urls.take(target) {
                if target == Target::Gateway {
                    bail!("urls.gateway: only subgraphs have URLs to point at");
                }
                self.remote_urls.insert(target, url);
            }
        }
        Ok(())
    }

    /// Applies environment variables, read through `var` (the process environment in
    /// [`HubConfig::load`]).
    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        if let Some(url) = var("DATABASE_URL") {
            self.database_url = url;
        }
        if let Some(host) = var("ROADMAP_HOST") {
            self.host = host
                .parse()
                .with_context(|| format!("ROADMAP_HOST `{host}` is not an IP address"))?;
        }
        for target in Target::ALL {
            let name = format!("{}_PORT", target.env_prefix());
            if let Some(port) = var(&name) {
                let port = port
                    .parse()
                    .with_context(|| format!("{name} `{port}` is not a port number"))?;
                self.ports.insert(target, port);
            }
            let name = format!("{}_URL", target.env_prefix());
            if let Some(url) = var(&name) {
                self.remote_urls.insert(target, url);
            }
        }
        if let Some(text) = var("ROADMAP_CLOCK") {
            self.clock = parse_clock("ROADMAP_CLOCK", &text)?;
        }
        if let Some(path) = var("ROUTER_CONFIG_FILE_PATH") {
            self.router_config = path.into();
        }
        if let Some(url) = var("REDIS_URL").filter(|u| !u.trim().is_empty()) {
            self.redis_url = Some(url);
        }
        if let Some(stream) = var("ROADMAP_EVENT_STREAM") {
            self.event_stream = stream;
        }
        if let Some(consumer) = var("ROADMAP_EVENTS_CONSUMER") {
            self.events_consumer = consumer;
        }
        if let Some(secret) = var("ROADMAP_GATEWAY_SECRET") {
            self.gateway_secret =
                roadmap_common::auth::GatewaySecret::new(secret).map_err(|e| anyhow!("ROADMAP_GATEWAY_SECRET: {e}"))?;
        }
        if let Some(size) = var("ROADMAP_DB_POOL_SIZE") {
            let n = size
                .parse()
                .with_context(|| format!("ROADMAP_DB_POOL_SIZE `{size}` is not a number"))?;
            self.pool_size = check_pool_size("ROADMAP_DB_POOL_SIZE", n)?;
        }
        if let Some(text) = var("ROADMAP_DEADLINE_INTERVAL") {
            let seconds = text.trim().parse::<f64>().unwrap_or(f64::NAN);
            self.deadline_interval = check_interval("ROADMAP_DEADLINE_INTERVAL", seconds)?;
        }
        if let Some(schedule) = var("ROADMAP_WEBHOOK_RETRY_SCHEDULE") {
            self.webhooks.retry_schedule = roadmap_events::webhooks::parse_schedule(&schedule)
                .map_err(|e| anyhow!("ROADMAP_WEBHOOK_RETRY_SCHEDULE: {e}"))?;
        }
        if let Some(timeout) = var("ROADMAP_WEBHOOK_TIMEOUT") {
            self.webhooks.timeout = roadmap_events::webhooks::parse_duration(&timeout)
                .map_err(|e| anyhow!("ROADMAP_WEBHOOK_TIMEOUT: {e}"))?;
        }
        Ok(())
    }

    pub fn defaults() -> Self {
        Self {
            database_url: db::DEFAULT_DATABASE_URL.to_string(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: Target::ALL.into_iter().map(|t| (t, t.default_port())).collect(),
            remote_urls: BTreeMap::new(),
            router_config: crate::workspace_root().join("gateway/router.config.yaml"),
            clock: roadmap_common::clock::Clock::system(),
            redis_url: None,
            event_stream: outbox::DEFAULT_STREAM.to_string(),
            events_consumer: "events-1".to_string(),
            gateway_secret: roadmap_common::auth::GatewaySecret::random(),
            pool_size: 16,
            deadline_interval: roadmap_plans::deadlines::DEFAULT_INTERVAL,
            webhooks: roadmap_events::WebhookConfig::default(),
        }
    }

    /// Every port 0: for tests, which run many hubs side by side.
    pub fn ephemeral(database_url: String) -> Self {
        Self {
            database_url,
            ports: Target::ALL.into_iter().map(|t| (t, 0)).collect(),
            ..Self::defaults()
        }
    }

    fn port(&self, target: Target) -> u16 {
        self.ports.get(&target).copied().unwrap_or(target.default_port())
    }
}

/// A set of running targets.
pub struct Hub {
    addrs: BTreeMap<Target, SocketAddr>,
    pools: BTreeMap<Target, PgPool>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<(Target, JoinHandle<std::io::Result<()>>)>,
    router: Option<RouterHandle>,
    secret: roadmap_common::auth::GatewaySecret,
}

/// Prepares a subgraph's database: creates it if missing, applies the service's migrations.
pub async fn connect(config: &HubConfig, target: Target) -> anyhow::Result<PgPool> {
    let migrator = match target {
        Target::Plans => &roadmap_plans::MIGRATOR,
        Target::Indicators => &roadmap_indicators::MIGRATOR,
        Target::People => &roadmap_people::MIGRATOR,
        Target::Events => &roadmap_events::MIGRATOR,
        Target::Gateway => bail!("the gateway has no database"),
    };
    Ok(db::prepare(&config.database_url, target.name(), migrator, config.pool_size).await?)
}

fn subgraph_router(
    config: &HubConfig,
    target: Target,
    pool: PgPool,
    urls: &HashMap<String, String>,
    live: &roadmap_events::Live,
) -> axum::Router {
    match target {
        Target::Plans => roadmap_plans::router(
            pool,
            urls.get(roadmap_people::NAME).map(String::as_str).unwrap_or(""),
            urls.get(roadmap_indicators::NAME).map(String::as_str).unwrap_or(""),
            config.clock,
            config.gateway_secret.clone(),
        ),
        Target::Indicators => roadmap_indicators::router(
            pool,
            urls.get(roadmap_people::NAME).map(String::as_str).unwrap_or(""),
            config.gateway_secret.clone(),
        ),
        Target::People => roadmap_people::router(pool, config.gateway_secret.clone()),
        Target::Events => roadmap_events::router(pool, live.clone(), config.gateway_secret.clone()),
        Target::Gateway => unreachable!("the gateway is not an axum router"),
    }
}

impl Hub {
    /// Starts `targets`: databases prepared and migrated, subgraphs listening, the gateway ready
    /// to answer (its supergraph loaded) before this returns.
    pub async fn start(config: &HubConfig, targets: &[Target]) -> anyhow::Result<Hub> {
        let (shutdown, _) = watch::channel(false);
        let mut hub = Hub {
            addrs: BTreeMap::new(),
            pools: BTreeMap::new(),
            shutdown,
            tasks: Vec::new(),
            router: None,
            secret: config.gateway_secret.clone(),
        };
        let subgraphs: Vec<Target> = targets.iter().copied().filter(|t| *t != Target::Gateway).collect();
        if !subgraphs.is_empty() {
            db::ensure_database(&config.database_url).await?;
        }
        // Bind every listener first: subgraphs that call each other (plans → people) need the
        // addresses before they start.
        let mut listeners = Vec::new();
        for &target in &subgraphs {
            let addr = SocketAddr::new(config.host, config.port(target));
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("{}: cannot listen on {addr}", target.name()))?;
            hub.addrs.insert(target, listener.local_addr()?);
            listeners.push((target, listener));
        }
        let urls = hub.subgraph_urls(config);
        // The event stream: with Redis, relays XADD and the events target reads a consumer group;
        // without, an in-process channel (dropped, so sends fail and rows stay in the outboxes,
        // when this process runs no events target).
        let live = roadmap_events::Live::default();
        let (bus, bus_rx) = outbox::in_process_channel();
        let mut bus_rx = subgraphs.contains(&Target::Events).then_some(bus_rx);
        if config.redis_url.is_none()
            && subgraphs.contains(&Target::Events) != subgraphs.iter().any(|t| t.produces_events())
        {
            tracing::warn!("no REDIS_URL: status-change events only travel within this process");
        }
        for (target, listener) in listeners {
            let pool = connect(config, target)
                .await
                .with_context(|| format!("starting {}", target.name()))?;
            let addr = listener.local_addr()?;
            let mut rx = hub.shutdown.subscribe();
            let app = subgraph_router(config, target, pool.clone(), &urls, &live);
            // `connect` applied the migrations; `/ready` also waits for Redis when configured and
            // the target uses it (the event producers and the events target).
            let uses_redis = target.produces_events() || target == Target::Events;
            let readiness = server::Readiness::new().with_redis(config.redis_url.as_deref().filter(|_| uses_redis));
            readiness.set_migrated();
            let app = server::with_ops(app, target.name(), pool.clone(), readiness);
            let task = tokio::spawn(server::run(listener, app, async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }));
            tracing::info!(target = target.name(), %addr, "subgraph listening");
            let background = if target.produces_events() || target == Target::Events {
                Some(db::connect_schema_quiet(&config.database_url, target.name(), 2).await?)
            } else {
                None
            };
            if target.produces_events() {
                let publisher = match &config.redis_url {
                    Some(url) => outbox::Publisher::redis(url, &config.event_stream)
                        .with_context(|| format!("REDIS_URL `{}`", db::redact_url(url)))?,
                    None => outbox::Publisher::in_process(bus.clone()),
                };
                let relay = outbox::run_relay(
                    target.name(),
                    background.clone().unwrap_or_else(|| pool.clone()),
                    publisher,
                    hub.shutdown.subscribe(),
                );
                hub.tasks.push((
                    target,
                    tokio::spawn(async move {
                        relay.await;
                        Ok(())
                    }),
                ));
            }
            if target == Target::Plans {
                let watcher = roadmap_plans::deadlines::run(
                    background.clone().unwrap_or_else(|| pool.clone()),
                    config.clock,
                    config.deadline_interval,
                    hub.shutdown.subscribe(),
                );
                hub.tasks.push((
                    target,
                    tokio::spawn(async move {
                        watcher.await;
                        Ok(())
                    }),
                ));
            }
            if target == Target::Events {
                let source = match &config.redis_url {
                    Some(url) => roadmap_events::Source::Redis {
                        url: url.clone(),
                        stream: config.event_stream.clone(),
                        consumer: config.events_consumer.clone(),
                    },
                    None => match bus_rx.take() {
                        Some(rx) => roadmap_events::Source::InProcess(rx),
                        None => bail!("events: the in-process event channel was already taken"),
                    },
                };
                let consumer = roadmap_events::consume(
                    background.clone().unwrap_or_else(|| pool.clone()),
                    live.clone(),
                    source,
                    hub.shutdown.subscribe(),
                );
                hub.tasks.push((
                    target,
                    tokio::spawn(async move {
                        consumer.await;
                        Ok(())
                    }),
                ));
                // The webhook worker has its own small pool: its LISTEN holds one connection.
                let worker = roadmap_events::webhooks::worker::run(
                    db::connect_schema_quiet(&config.database_url, target.name(), 3).await?,
                    config.webhooks.clone(),
                    hub.shutdown.subscribe(),
                );
                hub.tasks.push((
                    target,
                    tokio::spawn(async move {
                        worker.await;
                        Ok(())
                    }),
                ));
            }
            hub.pools.insert(target, pool);
            hub.tasks.push((target, task));
        }
        if targets.contains(&Target::Gateway) {
            let urls = hub.subgraph_urls(config);
            let addr = SocketAddr::new(config.host, config.port(Target::Gateway));
            let listener =
                std::net::TcpListener::bind(addr).with_context(|| format!("gateway: cannot listen on {addr}"))?;
            let addr = listener.local_addr()?;
            let handle = router::start(RouterOptions {
                config_path: config.router_config.clone(),
                listener,
                subgraph_urls: urls,
                secret: config.gateway_secret.clone(),
            })?;
            hub.router = Some(handle);
            hub.addrs.insert(Target::Gateway, addr);
            hub.wait_gateway_ready(addr).await?;
            tracing::info!(%addr, "gateway listening on http://{addr}/graphql");
        }
        Ok(hub)
    }

    /// GraphQL URL of every subgraph: the local one when this process runs it, else the
    /// configured remote URL, else the default port on the configured host.
    fn subgraph_urls(&self, config: &HubConfig) -> HashMap<String, String> {
        Target::SUBGRAPHS
            .into_iter()
            .map(|target| {
                let url = match (self.addrs.get(&target), config.remote_urls.get(&target)) {
                    (Some(addr), _) => format!("http://{addr}{}", server::GRAPHQL_PATH),
                    (None, Some(url)) => url.clone(),
                    (None, None) => format!(
                        "http://{}{}",
                        SocketAddr::new(config.host, target.default_port()),
                        server::GRAPHQL_PATH
                    ),
                };
                (target.name().to_string(), url)
            })
            .collect()
    }

    async fn wait_gateway_ready(&self, addr: SocketAddr) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if probe(addr, "/readiness").await {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!("gateway at {addr} did not become ready in 30 s (is schema/supergraph.graphql present?)");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn addr(&self, target: Target) -> Option<SocketAddr> {
        self.addrs.get(&target).copied()
    }

    /// `http://host:port/graphql` of a running target.
    pub fn graphql_url(&self, target: Target) -> Option<String> {
        self.addr(target).map(|a| format!("http://{a}{}", server::GRAPHQL_PATH))
    }

    /// The secret of the gateway and subgraphs of this hub (for in-process clients).
    pub fn secret(&self) -> &roadmap_common::auth::GatewaySecret {
        &self.secret
    }

    /// The pool of a running subgraph (demo loading and tests' direct checks).
    pub fn pool(&self, target: Target) -> Option<&PgPool> {
        self.pools.get(&target)
    }

    /// Stops the gateway first (no new requests reach the subgraphs), then the subgraphs,
    /// letting in-flight requests finish.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(router) = self.router.take() {
            router.stop().await?;
        }
        let _ = self.shutdown.send(true);
        for (target, task) in self.tasks.drain(..) {
            task.await?
                .with_context(|| format!("{} stopped with an error", target.name()))?;
        }
        for pool in self.pools.values() {
            pool.close().await;
        }
        Ok(())
    }
}

fn parse_clock(name: &str, text: &str) -> anyhow::Result<roadmap_common::clock::Clock> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map(roadmap_common::clock::Clock::fixed)
        .map_err(|_| anyhow!("{name} `{text}` is not a date like 2024-03-31"))
}

fn check_interval(name: &str, seconds: f64) -> anyhow::Result<Duration> {
    if seconds.is_finite() && seconds > 0.0 && seconds < 1e9 {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        bail!("{name}: `{seconds}` is not a positive number of seconds")
    }
}

fn check_pool_size(name: &str, n: u32) -> anyhow::Result<u32> {
    if (1..=1000).contains(&n) {
        Ok(n)
    } else {
        bail!("{name}: {n} is not between 1 and 1000")
    }
}

/// A plain HTTP/1.1 GET that reports whether the answer was 200.
async fn probe(addr: SocketAddr, path: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(Ok(mut stream)) = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr)).await
    else {
        return false;
    };
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    matches!(
        tokio::time::timeout(Duration::from_secs(2), stream.read_exact(&mut head)).await,
        Ok(Ok(_)) if head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.0 200")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() {
        let mut config = HubConfig::defaults();
        let dir = std::path::Path::new("/etc/roadmap");
        config
            .apply_file(
                "database_url = \"postgres://hub:s3cret@db:5432/hub\"\nrouter_config = \"router.yaml\"\n\
                 clock = \"2024-03-31\"\npool_size = 8\n[ports]\nplans = 5001\n[urls]\npeople = \"http://people:4003/graphql\"\n",
                dir,
            )
            .unwrap();
        assert_eq!(config.port(Target::Plans), 5001);
        assert_eq!(config.pool_size, 8);
        assert_eq!(config.router_config, dir.join("router.yaml"));
        assert_eq!(config.remote_urls[&Target::People], "http://people:4003/graphql");
        assert_eq!(
            config.clock.today(),
            chrono::NaiveDate::from_ymd_opt(2024, 3, 31).unwrap()
        );
        // The environment wins over the file.
        let env = std::collections::HashMap::from([
            ("ROADMAP_PLANS_PORT", "6001"),
            ("ROADMAP_GATEWAY_SECRET", "env-secret-0123456789"),
        ]);
        config.apply_env(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(config.port(Target::Plans), 6001);
        assert_eq!(config.gateway_secret.expose(), "env-secret-0123456789");
        // Secrets stay out of logs.
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret") && !shown.contains("env-secret"), "{shown}");
        assert!(shown.contains("db:5432"), "{shown}");
    }

    #[test]
    fn the_example_config_file_is_the_defaults() {
        let path = crate::workspace_root().join("gateway/roadmap-hub.example.toml");
        let mut config = HubConfig::defaults();
        config
            .apply_file(&std::fs::read_to_string(&path).unwrap(), path.parent().unwrap())
            .unwrap();
        let defaults = HubConfig::defaults();
        assert_eq!(config.database_url, defaults.database_url);
        assert_eq!(config.ports, defaults.ports);
        assert_eq!(config.pool_size, defaults.pool_size);
        assert_eq!(config.router_config, defaults.router_config);
    }

    #[test]
    fn config_file_errors_name_the_key_and_line() {
        let dir = std::path::Path::new(".");
        let err = HubConfig::defaults()
            .apply_file("pool_size = 4\nprot = 5\n", dir)
            .unwrap_err()
            .to_string();
        assert!(err.contains("prot") && err.contains("line 2"), "{err}");
        let err = HubConfig::defaults()
            .apply_file("[ports]\nplanz = 1\n", dir)
            .unwrap_err()
            .to_string();
        assert!(err.contains("planz"), "{err}");
        let err = HubConfig::defaults()
            .apply_file("pool_size = 0\n", dir)
            .unwrap_err()
            .to_string();
        assert!(err.contains("pool_size"), "{err}");
        let err = HubConfig::defaults()
            .apply_file("gateway_secret = \"short\"\n", dir)
            .unwrap_err()
            .to_string();
        assert!(err.contains("gateway_secret"), "{err}");
    }

    #[test]
    fn parses_target_lists() {
        assert_eq!(Target::parse_list("all").unwrap(), Target::ALL.to_vec());
        assert_eq!(
            Target::parse_list("gateway, plans").unwrap(),
            vec![Target::Plans, Target::Gateway]
        );
        let err = Target::parse_list("plans,ledger").unwrap_err().to_string();
        assert!(err.contains("ledger"), "{err}");
        assert!(Target::parse_list("").is_err());
    }
}
