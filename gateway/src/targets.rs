//! The target registry and the hub that runs any set of targets in one process.
//!
//! `up` is `serve --target all`; a split deployment runs one target per process with the same
//! code. Every target is a [`Descriptor`] exported by its crate (`roadmap_plans::TARGET`, ...,
//! [`crate::router::TARGET`] for the gateway); [`Target::ALL`] is the registry, the one list of
//! them. [`Hub::start`] loops over the chosen descriptors: it binds every listener first (so
//! targets that call each other know the addresses), prepares each target's database schema,
//! runs the outbox relay of event producers, and starts the targets in dependency order
//! (`depends_on`: subgraphs, then the gateway); [`Hub::shutdown`] stops them in reverse.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use roadmap_common::config::HubConfig;
use roadmap_common::target::{Deps, Descriptor, EventChannel, Stop, Task};
use roadmap_common::{db, outbox, server};
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A target: a handle on its descriptor, compared by name.
#[derive(Clone, Copy)]
pub struct Target(pub &'static Descriptor);

impl Target {
    pub const PLANS: Target = Target(&roadmap_plans::TARGET);
    pub const INDICATORS: Target = Target(&roadmap_indicators::TARGET);
    pub const PEOPLE: Target = Target(&roadmap_people::TARGET);
    pub const EVENTS: Target = Target(&roadmap_events::TARGET);
    pub const GATEWAY: Target = Target(&crate::router::TARGET);
    pub const WEB: Target = Target(&roadmap_web::TARGET);

    /// The registry: every target, in the order `all` starts them within a dependency level
    /// and the supergraph lists subgraphs.
    pub const ALL: &'static [Target] = &[
        Target::PLANS,
        Target::INDICATORS,
        Target::PEOPLE,
        Target::EVENTS,
        Target::GATEWAY,
        Target::WEB,
    ];

    pub fn name(self) -> &'static str {
        self.0.name
    }

    pub fn descriptor(self) -> &'static Descriptor {
        self.0
    }

    pub fn default_port(self) -> u16 {
        self.0.default_port
    }

    /// The targets that are subgraphs of the supergraph.
    pub fn subgraphs() -> Vec<Target> {
        Target::ALL.iter().copied().filter(|t| t.0.is_subgraph()).collect()
    }

    /// Every target's name (what per-target config keys accept).
    pub fn names() -> Vec<&'static str> {
        Target::ALL.iter().map(|t| t.name()).collect()
    }

    pub fn named(name: &str) -> Option<Target> {
        Target::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// Parses `plans,gateway` or `all`; the result is in registry order, without duplicates.
    pub fn parse_list(text: &str) -> anyhow::Result<Vec<Target>> {
        let mut out = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "all" {
                out.extend(Target::ALL);
                continue;
            }
            let target = Target::named(part).ok_or_else(|| {
                anyhow!(
                    "unknown target `{part}`; expected one of {}, all",
                    Target::names().join(", ")
                )
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

    fn index(self) -> usize {
        Target::ALL
            .iter()
            .position(|t| t.name() == self.name())
            .unwrap_or(usize::MAX)
    }
}

impl PartialEq for Target {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Target {}

impl std::hash::Hash for Target {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

impl PartialOrd for Target {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Target {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.index().cmp(&other.index())
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Loads the hub's config ([`HubConfig::load`]) with the registry's target names.
pub fn load_config(file: Option<&std::path::Path>) -> anyhow::Result<HubConfig> {
    HubConfig::load(file, &Target::names())
}

/// A config for tests: every target on port 0, on `database_url`.
pub fn ephemeral_config(database_url: String) -> HubConfig {
    HubConfig::ephemeral(database_url, &Target::names())
}

/// Prepares a target's database: creates it if missing, applies the service's migrations.
pub async fn connect(config: &HubConfig, target: Target) -> anyhow::Result<PgPool> {
    let migrator = target
        .0
        .migrator
        .ok_or_else(|| anyhow!("the {} target has no database", target.name()))?;
    Ok(db::prepare(&config.database_url, target.name(), migrator, config.pool_size).await?)
}

/// Start order: by dependency depth among the chosen targets, then registry order.
fn levels(targets: &[Target]) -> Vec<Vec<Target>> {
    fn depth(target: Target, chosen: &[Target], seen: &mut Vec<&'static str>) -> usize {
        if seen.contains(&target.name()) {
            return 0; // a cycle would be a registry bug; the test of the registry catches it
        }
        seen.push(target.name());
        let d = target
            .0
            .depends_on
            .iter()
            .filter_map(|name| chosen.iter().copied().find(|t| t.name() == *name))
            .map(|dep| depth(dep, chosen, seen) + 1)
            .max()
            .unwrap_or(0);
        seen.pop();
        d
    }
    let mut levels: Vec<Vec<Target>> = Vec::new();
    let mut sorted = targets.to_vec();
    sorted.sort();
    sorted.dedup();
    for &target in &sorted {
        let d = depth(target, &sorted, &mut Vec::new());
        if levels.len() <= d {
            levels.resize(d + 1, Vec::new());
        }
        levels[d].push(target);
    }
    levels.retain(|l| !l.is_empty());
    levels
}

/// The targets of one dependency level, running.
struct Level {
    shutdown: watch::Sender<bool>,
    tasks: Vec<(&'static str, JoinHandle<anyhow::Result<()>>)>,
    stops: Vec<(&'static str, Stop)>,
}

/// A set of running targets.
pub struct Hub {
    addrs: BTreeMap<&'static str, SocketAddr>,
    pools: BTreeMap<&'static str, PgPool>,
    levels: Vec<Level>,
    secret: roadmap_common::auth::GatewaySecret,
    /// The hub's clock: what the demo and generated data are dated around.
    clock: roadmap_common::clock::Clock,
}

impl Hub {
    /// Starts `targets`: databases prepared and migrated, subgraphs listening, the gateway ready
    /// to answer (its supergraph loaded) before this returns.
    pub async fn start(config: &HubConfig, targets: &[Target]) -> anyhow::Result<Hub> {
        let config = Arc::new(config.clone());
        let levels = levels(targets);
        let chosen: Vec<Target> = levels.iter().flatten().copied().collect();
        let mut hub = Hub {
            addrs: BTreeMap::new(),
            pools: BTreeMap::new(),
            levels: Vec::new(),
            secret: config.gateway_secret.clone(),
            clock: config.clock,
        };
        if chosen.iter().any(|t| t.0.migrator.is_some()) {
            db::ensure_database(&config.database_url).await?;
        }
        // Bind every listener first: targets that call each other (plans → people, the gateway
        // → subgraphs) need the addresses before they start.
        let mut listeners = HashMap::new();
        for &target in &chosen {
            let addr = SocketAddr::new(config.host, config.port(target.name(), target.default_port()));
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("{}: cannot listen on {addr}", target.name()))?;
            hub.addrs.insert(target.name(), listener.local_addr()?);
            listeners.insert(target.name(), listener);
        }
        let urls = hub.urls(&config);
        let events = EventChannel::new();
        let consumes = chosen.iter().any(|t| t.0.consumes_events);
        if config.redis_url.is_none() && consumes != chosen.iter().any(|t| t.0.produces_events) {
            tracing::warn!("no REDIS_URL: status-change events only travel within this process");
        }
        for level_targets in levels {
            let (shutdown, _) = watch::channel(false);
            let mut level = Level {
                shutdown,
                tasks: Vec::new(),
                stops: Vec::new(),
            };
            for target in level_targets {
                let listener = listeners.remove(target.name());
                let started = hub
                    .start_one(&config, target, listener, &urls, &events, &mut level)
                    .await
                    .with_context(|| format!("starting {}", target.name()));
                if let Err(e) = started {
                    hub.levels.push(level);
                    let _ = hub.shutdown().await;
                    return Err(e);
                }
            }
            hub.levels.push(level);
        }
        Ok(hub)
    }

    async fn start_one(
        &mut self,
        config: &Arc<HubConfig>,
        target: Target,
        listener: Option<tokio::net::TcpListener>,
        urls: &HashMap<String, String>,
        events: &EventChannel,
        level: &mut Level,
    ) -> anyhow::Result<()> {
        let d = target.0;
        let pool = match d.migrator {
            Some(_) => Some(connect(config, target).await?),
            None => None,
        };
        let listener = Arc::new(std::sync::Mutex::new(listener));
        let deps = Deps::new(
            config.clone(),
            pool.clone(),
            listener.clone(),
            urls.clone(),
            level.shutdown.subscribe(),
            events.clone(),
        );
        let started = (d.start)(deps).await?;
        if let Some(router) = started.router {
            // Targets that serve an axum router leave the listener to the hub.
            let listener = listener
                .lock()
                .ok()
                .and_then(|mut l| l.take())
                .ok_or_else(|| anyhow!("{}: took its listener and returned a router", d.name))?;
            let addr = listener.local_addr()?;
            let app = match (&pool, d.ops) {
                (Some(pool), true) => {
                    // `/ready` also waits for Redis when configured and the target uses it.
                    let uses_redis = d.produces_events || d.consumes_events;
                    let readiness =
                        server::Readiness::new().with_redis(config.redis_url.as_deref().filter(|_| uses_redis));
                    readiness.set_migrated();
                    server::with_ops(router, d.name, pool.clone(), readiness)
                }
                _ => router,
            };
            let mut rx = level.shutdown.subscribe();
            let task = tokio::spawn(async move {
                server::run(listener, app, async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                })
                .await
                .map_err(anyhow::Error::from)
            });
            level.tasks.push((d.name, task));
            tracing::info!(target = d.name, %addr, "listening");
        }
        if let Some(addr) = started.addr {
            self.addrs.insert(d.name, addr);
        }
        if d.produces_events {
            let publisher = match &config.redis_url {
                Some(url) => outbox::Publisher::redis(url, &config.event_stream)
                    .with_context(|| format!("REDIS_URL `{}`", db::redact_url(url)))?,
                None => outbox::Publisher::in_process(events.sender.clone()),
            };
            // The relay has its own small pool, so a busy API cannot starve it.
            let background = db::connect_schema_quiet(&config.database_url, d.name, 2).await?;
            let relay = outbox::run_relay(d.name, background, publisher, level.shutdown.subscribe());
            level.tasks.push((d.name, spawn_task(Box::pin(relay))));
        }
        for (_what, task) in started.tasks {
            level.tasks.push((d.name, spawn_task(task)));
        }
        if let Some(stop) = started.stop {
            level.stops.push((d.name, stop));
        }
        if let Some(pool) = pool {
            self.pools.insert(d.name, pool);
        }
        Ok(())
    }

    /// URL of every target: the local one when this process runs it, else the configured
    /// remote URL, else the default port on the configured host.
    fn urls(&self, config: &HubConfig) -> HashMap<String, String> {
        Target::ALL
            .iter()
            .map(|target| {
                let home = target.descriptor().home;
                let url = match (self.addrs.get(target.name()), config.remote_urls.get(target.name())) {
                    (Some(addr), _) => format!("http://{addr}{home}"),
                    (None, Some(url)) => url.clone(),
                    (None, None) => format!("http://{}{home}", SocketAddr::new(config.host, target.default_port())),
                };
                (target.name().to_string(), url)
            })
            .collect()
    }

    pub fn addr(&self, target: Target) -> Option<SocketAddr> {
        self.addrs.get(target.name()).copied()
    }

    /// `http://host:port/graphql` of a running target.
    pub fn graphql_url(&self, target: Target) -> Option<String> {
        self.addr(target).map(|a| format!("http://{a}{}", server::GRAPHQL_PATH))
    }

    /// `http://host:port<home>` of a running target: its API, or its pages.
    pub fn home_url(&self, target: Target) -> Option<String> {
        self.addr(target)
            .map(|a| format!("http://{a}{}", target.descriptor().home))
    }

    /// The secret of the gateway and subgraphs of this hub (for in-process clients).
    pub fn secret(&self) -> &roadmap_common::auth::GatewaySecret {
        &self.secret
    }

    /// The hub's clock (`ROADMAP_CLOCK`).
    pub fn clock(&self) -> roadmap_common::clock::Clock {
        self.clock
    }

    /// The pool of a running subgraph (demo loading and tests' direct checks).
    pub fn pool(&self, target: Target) -> Option<&PgPool> {
        self.pools.get(target.name())
    }

    /// Stops the targets level by level in reverse start order: the gateway first (no new
    /// requests reach the subgraphs), then the subgraphs, letting in-flight requests finish.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        let mut first_error = None;
        while let Some(level) = self.levels.pop() {
            for (name, stop) in level.stops {
                if let Err(e) = stop().await {
                    first_error.get_or_insert(e.context(format!("{name} stopped with an error")));
                }
            }
            let _ = level.shutdown.send(true);
            for (name, task) in level.tasks {
                match task.await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        first_error.get_or_insert(e.context(format!("{name} stopped with an error")));
                    }
                    Err(e) => {
                        first_error.get_or_insert(anyhow!("{name} panicked: {e}"));
                    }
                }
            }
        }
        for pool in self.pools.values() {
            pool.close().await;
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn spawn_task(task: Task) -> JoinHandle<anyhow::Result<()>> {
    tokio::spawn(async move {
        task.await;
        Ok(())
    })
}

/// Waits until `GET path` on `addr` answers 200, at most `limit`.
pub async fn wait_ready(addr: SocketAddr, path: &str, limit: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if probe(addr, path).await {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            bail!("{addr}{path} did not answer 200 in {} s", limit.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
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
    fn parses_target_lists() {
        assert_eq!(Target::parse_list("all").unwrap(), Target::ALL.to_vec());
        assert_eq!(
            Target::parse_list("gateway, plans").unwrap(),
            vec![Target::PLANS, Target::GATEWAY]
        );
        let err = Target::parse_list("plans,ledger").unwrap_err().to_string();
        assert!(err.contains("ledger") && err.contains("events"), "{err}");
        assert!(Target::parse_list("").is_err());
    }

    #[test]
    fn the_registry_is_consistent() {
        let names = Target::names();
        let mut ports = std::collections::HashSet::new();
        for target in Target::ALL {
            let d = target.descriptor();
            assert!(
                ports.insert(d.default_port),
                "{}: port {} taken twice",
                d.name,
                d.default_port
            );
            for dep in d.depends_on.iter().chain(d.calls) {
                assert!(names.contains(dep), "{} names unknown target {dep}", d.name);
            }
            assert!(
                !d.ops || d.migrator.is_some(),
                "{}: the ops layer needs a database",
                d.name
            );
        }
        assert_eq!(names.len(), ports.len());
    }

    #[test]
    fn dependencies_order_the_start() {
        let levels = levels(Target::ALL);
        assert_eq!(levels.len(), 3, "{levels:?}");
        assert_eq!(levels[0], Target::subgraphs());
        assert_eq!(levels[1], vec![Target::GATEWAY]);
        assert_eq!(levels[2], vec![Target::WEB]);
        // A target alone, whatever it depends on, is one level.
        assert_eq!(levels_of(&[Target::GATEWAY]), vec![vec![Target::GATEWAY]]);
    }

    fn levels_of(targets: &[Target]) -> Vec<Vec<Target>> {
        levels(targets)
    }

    /// The example file sets every key to its default, and names every key (commented when it
    /// has no default); the README's table names every variable.
    #[test]
    fn the_example_file_and_the_readme_list_every_key() {
        use roadmap_common::config::{KEYS, port_env, url_env};
        let root = crate::workspace_root();
        let path = root.join("gateway/roadmap-hub.example.toml");
        let example = std::fs::read_to_string(&path).unwrap();
        let mut config = HubConfig::defaults();
        config
            .apply_file(&example, path.parent().unwrap(), &Target::names())
            .unwrap();
        let defaults = HubConfig::defaults();
        for target in Target::ALL {
            assert_eq!(
                config.port(target.name(), 0),
                target.default_port(),
                "[ports] {}",
                target.name()
            );
        }
        config.ports.clear();
        config.gateway_secret = defaults.gateway_secret.clone();
        assert_eq!(format!("{config:?}"), format!("{defaults:?}"));
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        for key in KEYS {
            let mentioned = example.lines().any(|l| {
                let l = l.trim_start_matches(['#', ' ']);
                l.strip_prefix(key.file)
                    .is_some_and(|r| r.trim_start().starts_with('='))
            });
            assert!(mentioned, "{} is missing from {}", key.file, path.display());
            assert!(
                readme.contains(&format!("`{}`", key.env)),
                "{} is missing from README.md",
                key.env
            );
        }
        for target in Target::ALL {
            let port = port_env(target.name());
            let url = url_env(target.name());
            assert!(
                readme.contains(&port) || readme.contains("ROADMAP_<TARGET>_PORT"),
                "{port} in README.md"
            );
            assert!(
                readme.contains(&url) || readme.contains("ROADMAP_<TARGET>_URL"),
                "{url} in README.md"
            );
        }
    }
}
