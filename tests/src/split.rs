//! A split deployment of real processes, for fault tests and benches: every target its own
//! `roadmap-hub serve --target <t>` process on loopback, with a Redis of its own, so a test can
//! SIGKILL, SIGTERM and restart any of them (and Redis) and look at what users see through the
//! gateway.
//!
//! - **The binary is the caller's** (`env!("CARGO_BIN_EXE_roadmap-hub")` in the hub's tests and
//!   benches): this crate cannot name it.
//! - **Ports** are picked free before anything starts and kept across restarts, so the URLs given
//!   to the other processes (`ROADMAP_<TARGET>_URL`) stay valid, as behind a Kubernetes Service.
//! - **Redis** persists with `appendfsync always`: a Redis without persistence that dies loses
//!   entries published but not yet consumed, which no hub can recover (the outbox rows are already
//!   marked published). Production Redis for the hub must persist too.
//! - **Pools** of 4 connections (`ROADMAP_DB_POOL_SIZE`; `env` of [`Split::start`] overrides it).
//! - **Logs**: each process writes `<logs>/<target>.log` (appended across restarts); a failed
//!   wait names the log and quotes its end.
//! - **Bounded**: every wait has a limit; dropping a [`Split`] (a test that panicked or timed
//!   out) kills what it started.

use std::collections::BTreeMap;
use std::io::{Read as _, Seek as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};

/// The targets a split deployment runs, subgraphs first (the gateway starts last).
pub const TARGETS: [&str; 5] = ["plans", "indicators", "people", "events", "gateway"];

/// Longest wait for a process to answer its readiness probe.
const READY_LIMIT: Duration = Duration::from_secs(60);

/// Runs `test` within `limit`, or panics naming it: a fault test must never hang the suite.
/// Dropping the future on timeout drops its [`Split`], which kills every process it started.
pub async fn bounded<T>(limit: Duration, what: &str, test: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, test).await {
        Ok(value) => value,
        Err(_) => panic!("{what}: did not finish within {limit:?}"),
    }
}

/// A free port on 127.0.0.1 (nothing holds it once returned; the caller binds it soon).
pub fn free_port() -> u16 {
    roadmap_common::pg_cluster::free_port().expect("a free port")
}

/// A private `redis-server` on its own port, persisting every write (see the module docs).
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a Redis on `port` with its append-only file in `dir`; returns once it answers.
    pub async fn start(port: u16, dir: &Path) -> anyhow::Result<RedisServer> {
        let mut redis = RedisServer {
            port,
            dir: dir.to_path_buf(),
            child: None,
        };
        redis.start_again().await?;
        Ok(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts it again on the same port and data directory (after [`RedisServer::kill`]).
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))?;
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting redis-server (apt-get install redis-server)")?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while roadmap_common::server::redis_ping(&self.url()).await.is_err() {
            if Instant::now() > deadline {
                bail!("redis-server on port {} did not answer PING within 20 s", self.port);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// SIGKILL, as a crash would; returns once the process is gone.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = tokio::task::spawn_blocking(move || child.wait()).await;
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A GraphQL answer of the gateway as a client sees it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// The body as JSON; [`Split::request`] fails when it is not JSON.
    pub body: Value,
    pub took: Duration,
}

impl Answer {
    pub fn errors(&self) -> &[Value] {
        self.body["errors"].as_array().map_or(&[], Vec::as_slice)
    }
}

/// POSTs a GraphQL request to `gateway` (`token: None`: anonymous), within `limit`; fails only
/// when no JSON body came back (what a client could not handle).
pub async fn post(
    client: &reqwest::Client,
    gateway: &str,
    limit: Duration,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> anyhow::Result<Answer> {
    let started = Instant::now();
    let mut request = client
        .post(gateway)
        .timeout(limit)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.context("gateway request")?;
    let status = response.status().as_u16();
    let text = response.text().await.context("gateway response body")?;
    let body = serde_json::from_str(&text)
        .with_context(|| format!("the gateway answered {status} without a JSON body: {text:?}"))?;
    Ok(Answer {
        status,
        body,
        took: started.elapsed(),
    })
}

/// Every target of the hub, each its own `roadmap-hub serve` process, and a Redis.
pub struct Split {
    bin: PathBuf,
    pub database_url: String,
    pub redis: RedisServer,
    secret: String,
    ports: BTreeMap<&'static str, u16>,
    procs: BTreeMap<&'static str, Child>,
    /// Extra variables every process gets (e.g. a short webhook retry schedule).
    env: Vec<(String, String)>,
    pub logs: PathBuf,
    client: reqwest::Client,
}

impl Split {
    /// Migrates `database_url` (`roadmap-hub migrate`, as a deployment job does), then starts a
    /// Redis and every target of [`TARGETS`], each ready before this returns. `env` goes to every
    /// process.
    pub async fn start(bin: impl Into<PathBuf>, database_url: String, env: &[(&str, &str)]) -> anyhow::Result<Split> {
        let logs = std::env::temp_dir().join(format!("roadmap-split-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
        let redis = RedisServer::start(free_port(), &logs.join("redis")).await?;
        let mut split = Split {
            bin: bin.into(),
            database_url,
            redis,
            secret: format!("fault-test-secret-{}", uuid::Uuid::new_v4().simple()),
            ports: TARGETS.iter().map(|t| (*t, free_port())).collect(),
            procs: BTreeMap::new(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            logs,
            client: reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?,
        };
        split.migrate().await?;
        for target in TARGETS.iter().filter(|t| **t != "gateway") {
            split.spawn(target)?;
        }
        for target in TARGETS.iter().filter(|t| **t != "gateway") {
            split.wait_ready(target, READY_LIMIT).await?;
        }
        split.start_target("gateway").await?;
        Ok(split)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        let mut command = tokio::process::Command::new(&self.bin);
        command.arg("migrate").kill_on_drop(true);
        self.environment(command.as_std_mut());
        let out = tokio::time::timeout(Duration::from_secs(120), command.output())
            .await
            .context("roadmap-hub migrate did not finish within 120 s")?
            .context("running roadmap-hub migrate")?;
        if !out.status.success() {
            bail!("roadmap-hub migrate failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    /// The variables of every process: database, Redis, secret, every target's port and URL.
    fn environment(&self, command: &mut Command) {
        command
            .env_remove("ROADMAP_CONFIG")
            .env("DATABASE_URL", &self.database_url)
            .env("REDIS_URL", self.redis.url())
            .env("ROADMAP_GATEWAY_SECRET", &self.secret)
            // Small pools: four processes with the default 16 connections each, beside other
            // tests, can fill a shared server's 100 connections ("too many clients already").
            .env("ROADMAP_DB_POOL_SIZE", "4")
            .env("RUST_LOG", "info");
        for (target, port) in &self.ports {
            command
                .env(roadmap_common::config::port_env(target), port.to_string())
                .env(
                    roadmap_common::config::url_env(target),
                    format!("http://127.0.0.1:{port}/graphql"),
                );
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
    }

    fn spawn(&mut self, target: &'static str) -> anyhow::Result<()> {
        let port = self.port(target);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log(target))
            .with_context(|| format!("opening {}", self.log(target).display()))?;
        let mut command = Command::new(&self.bin);
        command
            .args(["serve", "--target", target])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        self.environment(&mut command);
        let child = command
            .spawn()
            .with_context(|| format!("starting {target} on port {port}"))?;
        self.procs.insert(target, child);
        Ok(())
    }

    /// Starts `target` (again, on its port) and waits until it is ready; returns how long that
    /// took.
    pub async fn start_target(&mut self, target: &'static str) -> anyhow::Result<Duration> {
        let started = Instant::now();
        self.spawn(target)?;
        self.wait_ready(target, READY_LIMIT).await?;
        Ok(started.elapsed())
    }

    /// Waits until `target` answers its readiness probe (`/ready`, the gateway's `/readiness`)
    /// with 200, failing early when its process exits.
    pub async fn wait_ready(&mut self, target: &'static str, limit: Duration) -> anyhow::Result<()> {
        let path = if target == "gateway" { "/readiness" } else { "/ready" };
        let url = format!("{}{path}", self.base(target));
        let deadline = Instant::now() + limit;
        loop {
            if let Some(child) = self.procs.get_mut(target)
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "{target} exited ({status}) before it was ready; {}",
                    self.log_tail(target)
                );
            }
            let probe = self.client.get(&url).timeout(Duration::from_secs(2)).send().await;
            if probe.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{target}: {url} did not answer 200 within {limit:?}; {}",
                    self.log_tail(target)
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// SIGKILL, as a crash (or the OOM killer) would; returns once the process is gone.
    pub async fn kill(&mut self, target: &'static str) {
        if let Some(mut child) = self.procs.remove(target) {
            let _ = child.kill();
            let _ = tokio::task::spawn_blocking(move || child.wait()).await;
        }
    }

    /// The process id of a running target.
    pub fn pid(&self, target: &'static str) -> Option<u32> {
        self.procs.get(target).map(Child::id)
    }

    /// Whether `target`'s process is still the one started (it has not exited).
    pub fn is_running(&mut self, target: &'static str) -> bool {
        self.procs
            .get_mut(target)
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    pub fn port(&self, target: &str) -> u16 {
        self.ports[target]
    }

    /// `http://127.0.0.1:<port>` of a target.
    pub fn base(&self, target: &str) -> String {
        format!("http://127.0.0.1:{}", self.port(target))
    }

    /// The gateway's `/graphql`.
    pub fn gateway(&self) -> String {
        format!("{}/graphql", self.base("gateway"))
    }

    /// The text of a target's `/metrics`.
    pub async fn metrics(&self, target: &str) -> anyhow::Result<String> {
        let url = format!("{}/metrics", self.base(target));
        Ok(self
            .client
            .get(&url)
            .timeout(Duration::from_secs(5))
            .send()
            .await?
            .text()
            .await?)
    }

    pub fn log(&self, target: &str) -> PathBuf {
        self.logs.join(format!("{target}.log"))
    }

    /// The last lines of a target's log, for failure messages.
    pub fn log_tail(&self, target: &str) -> String {
        let path = self.log(target);
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&path) {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let _ = file.seek(std::io::SeekFrom::Start(len.saturating_sub(3000)));
            let mut bytes = Vec::new();
            let _ = file.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        format!("log {}:\n{text}", path.display())
    }

    /// [`post`] to the gateway.
    pub async fn request_within(
        &self,
        limit: Duration,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Answer> {
        post(&self.client, &self.gateway(), limit, token, query, variables).await
    }

    /// An admin client of the gateway.
    pub fn admin(&self) -> anyhow::Result<crate::load::Gateway> {
        crate::load::Gateway::admin(&self.gateway())
    }

    /// [`Split::request_within`] as an admin, within 60 s.
    pub async fn request(&self, query: &str, variables: Value) -> anyhow::Result<Answer> {
        self.request_within(Duration::from_secs(60), Some(&crate::admin_token()), query, variables)
            .await
    }

    /// As an admin; fails on any GraphQL error; returns `data`.
    pub async fn gql(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let answer = self.request(query, variables).await?;
        if !answer.errors().is_empty() {
            bail!("GraphQL errors: {}", answer.body["errors"]);
        }
        Ok(answer.body["data"].clone())
    }

    /// Kills every process and drops the database; the logs go too.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        for target in TARGETS.iter().rev() {
            self.kill(target).await;
        }
        self.redis.kill().await;
        roadmap_common::db::drop_database(&self.database_url).await?;
        let _ = std::fs::remove_dir_all(&self.logs);
        Ok(())
    }
}

impl Drop for Split {
    fn drop(&mut self) {
        for child in self.procs.values_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// SIGTERM to a process (what Kubernetes sends before it kills).
pub fn terminate(pid: u32) -> anyhow::Result<()> {
    let pid = i32::try_from(pid).context("pid")?;
    // SAFETY: kill has no memory-safety preconditions; a stale pid is at worst an error.
    if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
        bail!("kill -TERM {pid}: {}", std::io::Error::last_os_error());
    }
    Ok(())
}

/// How a subscriber talks to the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// graphql-transport-ws on `ws://…/graphql`.
    Ws,
    /// `POST /graphql` with `Accept: text/event-stream`.
    Sse,
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

enum Connection {
    Ws(Socket),
    /// `buffer`: bytes, since a chunk may end inside a UTF-8 character.
    Sse {
        response: reqwest::Response,
        buffer: Vec<u8>,
    },
}

/// What one read of a connection gave.
enum Read {
    Event(Value),
    /// Nothing within the wait.
    Quiet,
    /// The stream ended (closed, completed, or an error message), with why.
    Ended(String),
}

/// A `statusChanged` subscriber that does what the README tells clients to do: when its stream
/// ends (the events target or the gateway went away), it subscribes again with `after: <last
/// cursor>` until that succeeds. It keeps every event it received, to check for gaps and
/// duplicates. Anonymous unless given a token ([`Subscriber::with_token`]).
pub struct Subscriber {
    pub transport: Transport,
    gateway: String,
    query: String,
    filter: Value,
    /// Sent as `Authorization: Bearer` (graphql-ws: in the `connection_init` payload).
    token: Option<String>,
    /// `after` of the next subscribe: the last cursor received (`None`: live only, until one is).
    last_cursor: Option<String>,
    connection: Option<Connection>,
    /// Every event received, in order.
    pub events: Vec<Value>,
    /// How many times the stream ended and the subscriber subscribed again.
    pub resumes: u32,
    /// Why each stream ended.
    pub endings: Vec<String>,
}

impl Subscriber {
    /// A subscriber of `statusChanged(filter, after: "0")` selecting `fields` (must include
    /// `cursor`); connects on first read.
    pub fn new(transport: Transport, gateway: &str, filter: Value, fields: &str) -> Subscriber {
        Subscriber {
            transport,
            gateway: gateway.to_string(),
            query: format!(
                "subscription($after: String, $filter: EventFilter) {{ statusChanged(after: $after, filter: $filter) {{ {fields} }} }}"
            ),
            filter,
            token: None,
            last_cursor: Some("0".to_string()),
            connection: None,
            events: Vec::new(),
            resumes: 0,
            endings: Vec::new(),
        }
    }

    /// Like [`Subscriber::new`] but live only: the first subscribe sends `after: null` (events
    /// from then on); a resubscribe sends the last cursor received, as any client should.
    pub fn live(transport: Transport, gateway: &str, filter: Value, fields: &str) -> Subscriber {
        Subscriber {
            last_cursor: None,
            ..Subscriber::new(transport, gateway, filter, fields)
        }
    }

    /// The same subscriber, subscribing as the holder of `token`.
    pub fn with_token(self, token: &str) -> Subscriber {
        Subscriber {
            token: Some(token.to_string()),
            ..self
        }
    }

    fn variables(&self) -> Value {
        json!({ "after": self.last_cursor, "filter": self.filter })
    }

    async fn connect(&self) -> anyhow::Result<Connection> {
        use tokio_tungstenite::tungstenite::Message;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        match self.transport {
            Transport::Ws => {
                let mut request = self.gateway.replacen("http://", "ws://", 1).into_client_request()?;
                request
                    .headers_mut()
                    .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
                let (mut socket, _) =
                    tokio::time::timeout(Duration::from_secs(5), tokio_tungstenite::connect_async(request))
                        .await
                        .context("WebSocket connect timed out")??;
                let payload = match &self.token {
                    Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
                    None => json!({}),
                };
                socket
                    .send(Message::text(
                        json!({ "type": "connection_init", "payload": payload }).to_string(),
                    ))
                    .await?;
                let ack = tokio::time::timeout(Duration::from_secs(5), socket.next())
                    .await
                    .context("no connection_ack within 5 s")?
                    .context("socket closed before connection_ack")??;
                let ack: Value = serde_json::from_str(ack.to_text()?)?;
                if ack["type"] != "connection_ack" {
                    bail!("expected connection_ack, got {ack}");
                }
                let subscribe = json!({ "id": "1", "type": "subscribe",
                                        "payload": { "query": self.query, "variables": self.variables() } });
                socket.send(Message::text(subscribe.to_string())).await?;
                Ok(Connection::Ws(socket))
            }
            Transport::Sse => {
                let mut request = reqwest::Client::new().post(&self.gateway);
                if let Some(t) = &self.token {
                    request = request.bearer_auth(t);
                }
                let response = request
                    .header("Accept", "text/event-stream")
                    .json(&json!({ "query": self.query, "variables": self.variables() }))
                    .timeout(Duration::from_secs(3600))
                    .send()
                    .await?;
                if !response.status().is_success() {
                    bail!("SSE subscription answered {}", response.status());
                }
                Ok(Connection::Sse {
                    response,
                    buffer: Vec::new(),
                })
            }
        }
    }

    /// Reads until `done(events)` holds, resubscribing whenever the stream ends (every 100 ms
    /// while the gateway refuses); fails after `limit`.
    pub async fn read_until(&mut self, limit: Duration, done: impl Fn(&[Value]) -> bool) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(&self.events) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                bail!(
                    "{:?} subscriber: condition not met within {limit:?}; {} events, endings {:?}",
                    self.transport,
                    self.events.len(),
                    self.endings
                );
            }
            let Some(connection) = self.connection.as_mut() else {
                match self.connect().await {
                    Ok(c) => self.connection = Some(c),
                    Err(e) => {
                        self.endings.push(format!("subscribe failed: {e:#}"));
                        tokio::time::sleep(Duration::from_millis(100).min(left)).await;
                    }
                }
                continue;
            };
            match read(connection, left.min(Duration::from_millis(500))).await {
                Read::Event(event) => {
                    if let Some(cursor) = event["cursor"].as_str() {
                        self.last_cursor = Some(cursor.to_string());
                    }
                    self.events.push(event);
                }
                Read::Quiet => {}
                Read::Ended(why) => {
                    self.endings.push(why);
                    self.connection = None;
                    self.resumes += 1;
                    // A pause before subscribing again, as a client should: while the events
                    // target is down every subscription is refused at once.
                    tokio::time::sleep(Duration::from_millis(100).min(left)).await;
                }
            }
        }
        Ok(())
    }

    /// Closes the connection (an open one holds the gateway's graceful stop).
    pub async fn close(mut self) {
        if let Some(Connection::Ws(mut socket)) = self.connection.take() {
            let _ = socket.close(None).await;
        }
    }
}

async fn read(connection: &mut Connection, wait: Duration) -> Read {
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + wait;
    match connection {
        Connection::Ws(socket) => loop {
            let frame = match tokio::time::timeout_at(deadline, socket.next()).await {
                Err(_) => return Read::Quiet,
                Ok(None) => return Read::Ended("socket ended".into()),
                Ok(Some(Err(e))) => return Read::Ended(format!("socket error: {e}")),
                Ok(Some(Ok(frame))) => frame,
            };
            let text = match frame {
                Message::Text(t) => t.to_string(),
                Message::Close(c) => return Read::Ended(format!("socket closed: {c:?}")),
                _ => continue,
            };
            let Ok(msg) = serde_json::from_str::<Value>(&text) else {
                return Read::Ended(format!("not JSON: {text}"));
            };
            match msg["type"].as_str() {
                Some("ping") => {
                    let _ = socket.send(Message::text(json!({ "type": "pong" }).to_string())).await;
                }
                Some("next") if msg["payload"].get("errors").is_none() => {
                    return Read::Event(msg["payload"]["data"]["statusChanged"].clone());
                }
                _ => return Read::Ended(format!("message {msg}")),
            }
        },
        Connection::Sse { response, buffer } => loop {
            while let Some(end) = buffer.windows(2).position(|w| w == b"\n\n") {
                let bytes: Vec<u8> = buffer.drain(..end + 2).collect();
                let block = String::from_utf8_lossy(&bytes);
                if block.lines().any(|l| l.trim() == "event: complete") {
                    return Read::Ended("SSE complete".into());
                }
                let data: String = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim)
                    .collect();
                if data.is_empty() {
                    continue;
                }
                let Ok(payload) = serde_json::from_str::<Value>(&data) else {
                    return Read::Ended(format!("SSE data is not JSON: {data}"));
                };
                match payload["data"].get("statusChanged") {
                    Some(event) if payload.get("errors").is_none() && !event.is_null() => {
                        return Read::Event(event.clone());
                    }
                    _ => return Read::Ended(format!("SSE payload {payload}")),
                }
            }
            match tokio::time::timeout_at(deadline, response.chunk()).await {
                Err(_) => return Read::Quiet,
                Ok(Ok(Some(chunk))) => buffer.extend(chunk.iter().filter(|b| **b != b'\r')),
                Ok(Ok(None)) => return Read::Ended("SSE body ended".into()),
                Ok(Err(e)) => return Read::Ended(format!("SSE error: {e}")),
            }
        },
    }
}

/// The Node.js webhook receiver (`tests/webhook-receiver`, verifying every delivery with the
/// Standard Webhooks library) as a process that can be killed and started again on its port.
/// Request lines of every run are kept, in arrival order.
pub struct WebhookReceiver {
    port: u16,
    child: Option<tokio::process::Child>,
    lines: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl WebhookReceiver {
    /// Starts it on a free port; returns once it listens.
    pub async fn start() -> anyhow::Result<WebhookReceiver> {
        let mut receiver = WebhookReceiver {
            port: free_port(),
            child: None,
            lines: Default::default(),
        };
        receiver.start_again().await?;
        Ok(receiver)
    }

    /// Starts it (again) on its port. Its configuration is gone: [`WebhookReceiver::configure`]
    /// again.
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        use tokio::io::AsyncBufReadExt as _;
        let dir = tokio::task::spawn_blocking(crate::webhook_receiver_dir).await??;
        let mut child = tokio::process::Command::new("node")
            .arg("receiver.mjs")
            .current_dir(&dir)
            .env("PORT", self.port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("node runs (Node.js 20 is needed)")?;
        let mut lines = tokio::io::BufReader::new(child.stdout.take().context("stdout")?).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("the receiver did not start within 30 s")??
            .context("the receiver exited before listening")?;
        let first: Value = serde_json::from_str(&first)?;
        if first["listening"] != self.port {
            bail!("the receiver says {first}, expected port {}", self.port);
        }
        let seen = self.lines.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(value) = serde_json::from_str(&line)
                    && let Ok(mut seen) = seen.lock()
                {
                    seen.push(value);
                }
            }
        });
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL; returns once the process is gone (the port refuses connections).
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Gives `path` its secret and the statuses to answer its first requests with.
    pub async fn configure(&self, path: &str, secret: &str, script: &[u16]) -> anyhow::Result<()> {
        let response = reqwest::Client::new()
            .post(self.url("/_config"))
            .json(&json!({ "path": path, "secret": secret, "script": script }))
            .send()
            .await?;
        if response.status().as_u16() != 204 {
            bail!("configuring the receiver: {}", response.status());
        }
        Ok(())
    }

    /// Request lines of `path` so far.
    pub fn lines(&self, path: &str) -> Vec<Value> {
        self.lines
            .lock()
            .map(|l| l.iter().filter(|l| l["path"] == path).cloned().collect())
            .unwrap_or_default()
    }

    /// Waits until `done` holds for the lines of `path`; returns them.
    pub async fn wait_for(
        &self,
        path: &str,
        limit: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> anyhow::Result<Vec<Value>> {
        let deadline = Instant::now() + limit;
        loop {
            let lines = self.lines(path);
            if done(&lines) {
                return Ok(lines);
            }
            if Instant::now() > deadline {
                bail!("{path}: condition not met within {limit:?}; lines {lines:#?}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
