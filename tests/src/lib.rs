//! Test harness: [`TestHub::spawn`] starts every target in-process on free ports against a fresh
//! database, and [`TestHub::gql`] talks to the gateway over real HTTP, as users do.
//!
//! Requests carry a development token of an admin unless a test says otherwise
//! ([`TestHub::request_as`], [`token`]): the gateway verifies it like any other.
//!
//! Run with `cargo nextest run`: each test is its own process, so process-wide counters (the SQL
//! statement counter) see only that test.
//!
//! [`split`] runs every target as its own process instead, for the hub's fault tests
//! (`gateway/tests/faults.rs`).

pub mod load;
pub mod otlp;
pub mod soak;
pub mod split;

use std::time::Duration;

use anyhow::{Context as _, bail};
use roadmap_common::auth::Role;
use roadmap_common::config::HubConfig;
use roadmap_hub::targets::{Hub, Target};
use roadmap_hub::token::{TokenRequest, sign_dev};
use serde_json::{Value, json};

/// Base URL of the server tests create their databases on: `TEST_DATABASE_SERVER` when set, else
/// the server on 127.0.0.1:5432 when one answers, else a PostgreSQL cluster of the tests' own in
/// `target/test-pg`, shared by every test process and left running for the next run (see
/// [`roadmap_common::pg_cluster::test_server_url`]; it needs PostgreSQL installed, not running).
pub fn server_url() -> String {
    roadmap_common::pg_cluster::test_server_url().unwrap_or_else(|e| panic!("no PostgreSQL for the tests: {e}"))
}

/// The webhook receiver's directory (`tests/webhook-receiver`) with its pinned dependencies
/// installed ([`npm_installed`]).
pub fn webhook_receiver_dir() -> anyhow::Result<std::path::PathBuf> {
    node_package("webhook-receiver")
}

/// The directory of the tests' Node.js package `tests/<name>` (the webhook receiver, the OpenID
/// Connect provider of the sign-in tests) with its pinned dependencies installed
/// ([`npm_installed`]).
pub fn node_package(name: &str) -> anyhow::Result<std::path::PathBuf> {
    npm_installed(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name))
}

/// The development router config (`gateway/router.config.yaml`) with its relative paths (the
/// supergraph, the development JWKS) made absolute, for a test's changed copy written elsewhere.
pub fn dev_router_config() -> anyhow::Result<String> {
    let gateway = roadmap_hub::workspace_root().join("gateway");
    let path = gateway.join("router.config.yaml");
    let dev = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut config = dev;
    for (relative, absolute) in [
        (
            "../schema/supergraph.graphql",
            gateway.join("../schema/supergraph.graphql").canonicalize()?,
        ),
        ("dev/jwks.json", gateway.join("dev/jwks.json")),
    ] {
        let relative = format!("path: {relative}\n");
        if !config.contains(&relative) {
            bail!("{} no longer has `{}`", path.display(), relative.trim());
        }
        config = config.replace(&relative, &format!("path: {}\n", absolute.display()));
    }
    Ok(config)
}

/// `dir`, a Node.js package with a `package-lock.json` (the webhook receiver, the peer
/// benchmark's PostGraphile), with its pinned dependencies installed: `npm ci` runs the first
/// time, and again whenever `package-lock.json` changes.
///
/// Safe when tests run in parallel processes (nextest): an exclusive lock on `package-lock.json`
/// itself (npm only reads that file) serialises the installs, and a copy of the lock file written
/// into `node_modules` after a successful install is the stamp the others compare with. `npm ci`
/// empties `node_modules` first, so an interrupted install leaves no stamp and is redone.
pub fn npm_installed(dir: std::path::PathBuf) -> anyhow::Result<std::path::PathBuf> {
    use std::process::{Command, Stdio};
    use std::time::Instant;

    let lock_path = dir.join("package-lock.json");
    let stamp = dir.join("node_modules").join(".roadmap-installed-package-lock.json");
    let wanted = std::fs::read(&lock_path).with_context(|| format!("reading {}", lock_path.display()))?;
    let installed = || std::fs::read(&stamp).is_ok_and(|s| s == wanted);
    if installed() {
        return Ok(dir);
    }
    let lock = std::fs::File::open(&lock_path).with_context(|| format!("opening {}", lock_path.display()))?;
    // Another test process may be installing: wait for it (bounded, like the install itself).
    let limit = Duration::from_secs(300);
    let deadline = Instant::now() + limit;
    loop {
        match lock.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                bail!(
                    "another process has been installing the dependencies of {} for {limit:?}",
                    dir.display()
                )
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e).context(format!("locking {}", lock_path.display())),
        }
    }
    if installed() {
        return Ok(dir);
    }
    let missing = |tool: &str| {
        !Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if missing("node") || missing("npm") {
        bail!(
            "{} is a Node.js package: install Node.js 20 with npm (`apt-get install nodejs npm`, \
             `brew install node`)",
            dir.display()
        );
    }
    let mut child = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("running npm ci")?;
    let mut stderr = child.stderr.take().context("npm's stderr")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).ok();
        text
    });
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for npm ci")? {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            bail!("npm ci in {} did not finish within {limit:?}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let errors = reader.join().unwrap_or_default();
    if !status.success() {
        bail!("npm ci in {} failed ({status}): {}", dir.display(), errors.trim());
    }
    std::fs::write(&stamp, &wanted).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(dir)
}

/// A development token (signed with the dev key the test router trusts).
pub fn token(subject: &str, roles: &[Role], territory: Option<uuid::Uuid>) -> String {
    sign_dev(&TokenRequest::new(subject, roles, territory)).expect("dev token")
}

/// The admin token [`TestHub::request`] sends.
pub fn admin_token() -> String {
    token("test-admin", &[Role::Admin], None)
}

pub struct TestHub {
    pub hub: Option<Hub>,
    pub database_url: String,
    pub gateway: String,
    client: reqwest::Client,
    /// What the hub was started with, for [`TestHub::restart_with`].
    config: HubConfig,
    targets: Vec<Target>,
}

impl TestHub {
    /// Every target, fresh database.
    pub async fn spawn() -> anyhow::Result<TestHub> {
        Self::spawn_targets(Target::ALL).await
    }

    /// Every target, fresh database, with the demo data of `up --demo` loaded.
    pub async fn spawn_with_demo() -> anyhow::Result<TestHub> {
        let hub = Self::spawn().await?;
        roadmap_hub::demo::load(hub.hub.as_ref().context("the hub")?).await?;
        Ok(hub)
    }

    pub async fn spawn_targets(targets: &[Target]) -> anyhow::Result<TestHub> {
        Self::spawn_with(targets, |_| {}).await
    }

    /// Like [`TestHub::spawn_targets`], with a chance to adjust the config (e.g. fix the clock).
    pub async fn spawn_with(targets: &[Target], adjust: impl FnOnce(&mut HubConfig)) -> anyhow::Result<TestHub> {
        roadmap_common::telemetry::init_for_tests();
        let database_url = format!("{}/roadmap_test_{}", server_url(), uuid::Uuid::new_v4().simple());
        let mut config = roadmap_hub::targets::ephemeral_config(database_url.clone());
        adjust(&mut config);
        let hub = Hub::start(&config, targets).await?;
        let gateway = hub.graphql_url(Target::GATEWAY).unwrap_or_default();
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
        Ok(TestHub {
            hub: Some(hub),
            database_url,
            gateway,
            client,
            config,
            targets: targets.to_vec(),
        })
    }

    /// Stops the hub and starts the same targets again on the same database (a restart of the
    /// process), with a chance to adjust the config first. Ports change.
    pub async fn restart_with(&mut self, adjust: impl FnOnce(&mut HubConfig)) -> anyhow::Result<()> {
        if let Some(hub) = self.hub.take() {
            hub.shutdown().await?;
        }
        adjust(&mut self.config);
        let hub = Hub::start(&self.config, &self.targets).await?;
        self.gateway = hub.graphql_url(Target::GATEWAY).unwrap_or_default();
        self.hub = Some(hub);
        Ok(())
    }

    /// POSTs a GraphQL request to the gateway as an admin and returns the whole response body.
    pub async fn request(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        self.request_as(Some(&admin_token()), query, variables).await
    }

    /// POSTs a GraphQL request with `token` as bearer (`None`: anonymous).
    pub async fn request_as(&self, token: Option<&str>, query: &str, variables: Value) -> anyhow::Result<Value> {
        let mut request = self.client.post(&self.gateway);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .context("gateway request")?;
        let status = response.status();
        let body: Value = response.json().await.context("gateway response is not JSON")?;
        if !status.is_success() && body.get("errors").is_none() {
            bail!("gateway answered {status}: {body}");
        }
        Ok(body)
    }

    /// Like [`TestHub::request`] but fails on any GraphQL error and returns `data`.
    pub async fn gql(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        self.gql_as(Some(&admin_token()), query, variables).await
    }

    /// Like [`TestHub::request_as`] but fails on any GraphQL error and returns `data`.
    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> anyhow::Result<Value> {
        let body = self.request_as(token, query, variables).await?;
        if let Some(errors) = body.get("errors") {
            bail!("GraphQL errors: {errors}");
        }
        Ok(body["data"].clone())
    }

    /// The pool of the hub's plans target (for tests that read or set rows directly).
    pub fn plans_pool(&self) -> &sqlx::PgPool {
        self.hub
            .as_ref()
            .and_then(|h| h.pool(Target::PLANS))
            .expect("the hub runs its plans target")
    }

    /// Waits (at most 15 s) until every event the producers wrote is in the event log, so the
    /// background work earlier writes cause (the events consumer asks people for each new
    /// territory's ancestry) is over before a test counts SQL statements.
    pub async fn settle(&self) -> anyhow::Result<()> {
        use sqlx::Connection as _;
        let mut conn = roadmap_common::db::connect_one(&self.database_url).await?;
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let pending: i64 = sqlx::query_scalar(
                "SELECT (SELECT count(*) FROM plans.outbox o WHERE o.kind <> $1 \
                   AND NOT EXISTS (SELECT 1 FROM events.event e WHERE e.id = o.id)) \
                 + (SELECT count(*) FROM indicators.outbox o WHERE o.kind <> $1 \
                   AND NOT EXISTS (SELECT 1 FROM events.event e WHERE e.id = o.id))",
            )
            .bind(roadmap_common::audit::KIND)
            .fetch_one(&mut conn)
            .await?;
            if pending == 0 {
                break;
            }
            if std::time::Instant::now() > deadline {
                bail!("{pending} events are still not in the log after 15 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        conn.close().await?;
        Ok(())
    }

    /// Stops the hub and drops the database.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        if let Some(hub) = self.hub.take() {
            hub.shutdown().await?;
        }
        roadmap_common::db::drop_database(&self.database_url).await?;
        Ok(())
    }
}

/// The first GraphQL error message of a response, if any.
pub fn first_error(body: &Value) -> Option<String> {
    body["errors"][0]["message"].as_str().map(str::to_string)
}

const SET_STATUS: &str =
    "mutation($m: ID!, $s: MeasureStatus!) { setMeasureStatus(measure: $m, status: $s) { status } }";

/// A regional plan «Карта событий» with measures `numbers` (titled `Мероприятие <number>`) in a
/// new region; returns (territory, plan, measure ids).
pub async fn regional_plan(hub: &TestHub, numbers: &[&str]) -> (String, String, Vec<String>) {
    let data = hub
        .gql(
            "mutation { ensureTerritory(name: \"Событийный край\", kind: REGION) { id } }",
            json!({}),
        )
        .await
        .expect("territory");
    let territory = data["ensureTerritory"]["id"].as_str().expect("id").to_string();
    let measures: Vec<Value> = numbers
        .iter()
        .map(|n| json!({ "number": n, "title": format!("Мероприятие {n}") }))
        .collect();
    // Approved: subscribers in these tests are anonymous, and drafts are not public.
    let (plan, ids) = create_plan(
        hub,
        json!({ "title": "Карта событий", "level": "REGIONAL", "territory": territory, "state": "APPROVED",
                "sections": [{ "number": "1", "title": "Раздел", "measures": measures }] }),
    )
    .await;
    (territory, plan, ids)
}

/// `createPlan(input)` through the gateway as an admin; returns (plan id, the measure ids of its
/// first section).
pub async fn create_plan(hub: &TestHub, input: Value) -> (String, Vec<String>) {
    let data = hub
        .gql(
            "mutation($input: CreatePlanInput!) { createPlan(input: $input) { id sections { measures { id } } } }",
            json!({ "input": input }),
        )
        .await
        .expect("plan");
    let ids = data["createPlan"]["sections"][0]["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect();
    (data["createPlan"]["id"].as_str().expect("id").to_string(), ids)
}

/// `ensureTerritory` through the gateway as an admin; returns its id.
pub async fn ensure_territory(hub: &TestHub, name: &str, kind: &str, parent: Option<&str>) -> String {
    let data = hub
        .gql(
            "mutation($n: String!, $k: TerritoryKind!, $p: ID) { ensureTerritory(name: $n, kind: $k, parent: $p) { id } }",
            json!({ "n": name, "k": kind, "p": parent }),
        )
        .await
        .expect("territory");
    data["ensureTerritory"]["id"].as_str().expect("id").to_string()
}

/// Sets a measure's status through the gateway (which records a status-change event).
pub async fn set_measure_status(hub: &TestHub, measure: &str, status: &str) {
    let data = hub
        .gql(SET_STATUS, json!({ "m": measure, "s": status }))
        .await
        .expect("setMeasureStatus");
    assert_eq!(data["setMeasureStatus"]["status"], status);
}
