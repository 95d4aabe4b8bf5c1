//! Event-to-delivery latency of `statusChanged` fanned out to many concurrent subscribers through
//! the gateway.
//!
//! Starts every target in-process on a fresh database (dropped at the end; the in-process event
//! bus, or with `--redis` the Redis at `REDIS_URL` on a private stream), creates an approved
//! regional plan, then for each subscriber count N and each selection:
//!
//! 1. a client process (this binary again, `--client-process`) opens N graphql-transport-ws
//!    connections to the gateway, each anonymous and subscribed to `statusChanged` with
//!    `cursor kind subjectId` and, in the `entity` selection, `measure { title }` (so every event
//!    costs the router one entity fetch from the plans subgraph per subscription);
//! 2. the benchmark changes a warm-up measure's status until every subscriber has seen one event
//!    (connect + subscribe time is measured up to that point), then changes a third measure once
//!    and waits until every subscriber has that event, so no warm-up event is still queued;
//! 3. it changes the status of K other measures through the gateway, one after another, stamping
//!    the wall time of each mutation's response; the client stamps the wall time of every event it
//!    receives.
//!
//! Prints p50/p95/p99/max of event-to-delivery latency (mutation response → event received by a
//! subscriber), events/s delivered, missing and failed deliveries, and the peak RSS (VmHWM) of the
//! hub process and of the client process. Exits non-zero when any delivery is missing or failed.
//!
//! The clients run in their own process because a process here may hold at most `ulimit -Hn`
//! (20,000 on the benchmark machine) descriptors: 10,000 client sockets and the 10,000 sockets
//! the gateway accepts would not fit in one. Wall-clock stamps compare across the two processes
//! on one machine.
//!
//! `cargo bench -p roadmap-hub --bench subscribers -- --subscribers 1000,10000 --events 20
//! --selections entity,plain [--redis]` (these are the defaults, without `--redis`;
//! `--profile dev` builds faster).
//!
//! # Distinct subscribers
//!
//! Identical subscribers share one upstream subscription in the router; real ones do not. With
//! `BENCH_DISTINCT=<n>` the bench runs this instead (per selection of `--selections`; `--redis`
//! applies):
//!
//! 1. it makes a cascade through the gateway as an admin: 5 regions of 4 municipalities, an
//!    approved regional plan per region (6 measures), a municipal plan per municipality (the last
//!    of each region a draft), two of three municipal measures implementing one of the first 4
//!    regional ones (confirmed links);
//! 2. n subscribers, each with a token of its own (subject `bench-subscriber-<i>`; auditors,
//!    users without a role, viewers and editors of a territory drawn from every region and
//!    municipality) and a filter of its own (none, `territory`, `plan` or `underMeasure`), half
//!    over graphql-ws and half over SSE (`roadmap_e2e::split::Subscriber`), in the client
//!    process; who must receive a measure's changes follows from how the cascade was made, by
//!    the rules of README "Event stream" (filters; drafts' events only to those who may read
//!    them);
//! 3. warm-up and drain as above, on measures chosen so that every subscriber receives one;
//! 4. the load: `BENCH_RATE` changes/s (default 50) for `BENCH_SECONDS` (60), one started every
//!    1/rate s, plus `BENCH_BURST` changes at once (200; 0: none) every `BENCH_BURST_EVERY` s
//!    (15), each `setMeasureStatus` on a measure with no change in flight.
//!
//! Prints latency from the mutation's request (and response) to delivery, p50/p95/p99/max (also
//! for steady changes, bursts, graphql-ws and SSE apart; goal p99 ≤ 250 ms), deliveries/s,
//! missing, duplicated, unexpected (to a subscriber its filter or token excludes) and out-of-order
//! deliveries, the RSS of this process (the hub, every target in-process, plus the admin client
//! of the changes; goal ≤ 1 GB) before subscribing, when the load began and at the end, the
//! client process's peak, and the events subgraph's open subscriptions during the load and after
//! the clients left. Exits non-zero on any missing, duplicated, unexpected, out-of-order or failed
//! delivery or failed change.
//!
//! `BENCH_DISTINCT=500 BENCH_RATE=50 BENCH_SECONDS=60 BENCH_BURST=200 BENCH_BURST_EVERY=15
//! cargo bench -p roadmap-hub --bench subscribers -- --selections entity`

use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use futures::{SinkExt, StreamExt};
use roadmap_e2e::load::{Gateway, approved_plan, ensure_territory, peak_rss_kb, percentiles, plan_of};
use roadmap_e2e::split::{Subscriber, Transport};
use roadmap_hub::targets::{Hub, Target};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Handshakes in flight at once (the gateway's listen backlog is finite).
const HANDSHAKES: usize = 200;
/// How long the benchmark waits for all deliveries after the last mutation.
const DELIVERY_WAIT: Duration = Duration::from_secs(120);

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// The soft limit of open files of this process, from /proc/self/limits.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The fields of `statusChanged` a selection asks for.
fn selection_fields(selection: &str) -> anyhow::Result<&'static str> {
    Ok(match selection {
        "entity" => "cursor kind subjectId measure { title }",
        "plain" => "cursor kind subjectId",
        other => bail!("--selections: unknown selection {other:?} (entity, plain)"),
    })
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Runtime::new()?;
    match args.first().map(String::as_str) {
        Some("--client-process") => return runtime.block_on(client_process(&args[1..])),
        Some("--distinct-clients") => return runtime.block_on(distinct_clients()),
        _ => {}
    }
    runtime.block_on(bench(&args))
}

struct Options {
    subscribers: Vec<usize>,
    events: usize,
    selections: Vec<String>,
    redis: bool,
}

fn options(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options {
        subscribers: vec![1000, 10000],
        events: 20,
        selections: vec!["entity".into(), "plain".into()],
        redis: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().cloned().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--subscribers" => {
                o.subscribers = value("--subscribers")?
                    .split(',')
                    .map(|n| {
                        n.trim()
                            .parse()
                            .context("--subscribers: a comma-separated list of counts")
                    })
                    .collect::<anyhow::Result<_>>()?
            }
            "--events" => o.events = value("--events")?.parse().context("--events: a count")?,
            "--selections" => o.selections = value("--selections")?.split(',').map(str::to_string).collect(),
            "--redis" => o.redis = true,
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            other => bail!("unknown argument {other:?} (--subscribers, --events, --selections, --redis)"),
        }
    }
    if o.events == 0 || o.subscribers.contains(&0) {
        bail!("--events and --subscribers must be positive");
    }
    for s in &o.selections {
        selection_fields(s)?;
    }
    Ok(o)
}

async fn bench(args: &[String]) -> anyhow::Result<()> {
    let o = options(args)?;
    let distinct = Distinct::from_env()?;
    // Slow-statement warnings are expected under this load and would bury the figures.
    roadmap_common::telemetry::init_with_default(roadmap_common::telemetry::LogFormat::Text, "warn,sqlx=error");
    let largest = match &distinct {
        Some(d) => d.subscribers as u64,
        None => o.subscribers.iter().copied().max().unwrap_or(0) as u64,
    };
    if let Some(limit) = open_files_limit()
        && limit < largest + 1000
    {
        bail!(
            "open files limit {limit} is too low for {largest} subscribers (the hub holds one socket per \
             subscriber, plus about 1000 for itself): run with `ulimit -n {}`",
            largest + 1000
        );
    }
    let server = roadmap_common::pg_cluster::test_server_url().expect("a PostgreSQL server for tests");
    let database_url = format!("{server}/roadmap_bench_{}", uuid::Uuid::new_v4().simple());
    let mut config = roadmap_hub::targets::ephemeral_config(database_url.clone());
    let mut stream = None;
    if o.redis {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let name = format!("roadmap:bench:{}", uuid::Uuid::new_v4().simple());
        config.redis_url = Some(url.clone());
        config.event_stream = name.clone();
        stream = Some((url, name));
    }
    let hub = Hub::start(&config, Target::ALL).await?;
    let result = match &distinct {
        Some(d) => run_distinct(&hub, &o, d).await,
        None => run(&hub, &o).await,
    };
    hub.shutdown().await?;
    roadmap_common::db::drop_database(&database_url).await?;
    if let Some((url, name)) = stream {
        let client = redis::Client::open(url.as_str())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        let _: () = redis::cmd("DEL").arg(&name).query_async(&mut conn).await?;
    }
    let failed = result?;
    if failed > 0 {
        bail!("{failed} deliveries (or changes) missing, duplicated, unexpected or failed");
    }
    Ok(())
}

/// Runs every (N, selection); returns the number of missing or failed deliveries.
async fn run(hub: &Hub, o: &Options) -> anyhow::Result<usize> {
    let gateway = Gateway::admin(&hub.graphql_url(Target::GATEWAY).context("gateway address")?)?;
    let (_, ids) = approved_plan(&gateway, "Нагрузочный край", "Нагрузка", o.events + 2).await?;
    let [warm, sync, measured @ ..] = &ids[..] else {
        bail!("createPlan returned fewer measures than asked for");
    };
    // Every run moves each measure to the other status, so every mutation is a change.
    let mut status: HashMap<String, &str> = ids.iter().map(|m| (m.clone(), "PLANNED")).collect();
    let mut flip = |m: &str| {
        let next = if status[m] == "PLANNED" {
            "IN_PROGRESS"
        } else {
            "PLANNED"
        };
        status.insert(m.to_string(), next);
        next
    };
    println!(
        "subscriber fan-out through the gateway: {} events per run, event bus: {}",
        o.events,
        if o.redis { "Redis Stream" } else { "in-process" }
    );
    let mut failed_total = 0;
    for &n in &o.subscribers {
        for selection in &o.selections {
            let ws = gateway.url.replacen("http://", "ws://", 1);
            let exe = std::env::current_exe()?;
            let mut child = tokio::process::Command::new(exe)
                .args([
                    "--client-process",
                    &ws,
                    &n.to_string(),
                    selection,
                    warm,
                    sync,
                    &measured.join(","),
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .context("starting the client process")?;
            let mut lines = BufReader::new(child.stdout.take().context("client stdout")?).lines();
            let mut stdin = child.stdin.take().context("client stdin")?;
            let started = Instant::now();
            let line = lines
                .next_line()
                .await?
                .context("client process ended before connecting")?;
            let acked: Vec<usize> = line
                .strip_prefix("acked ")
                .with_context(|| format!("client: {line}"))?
                .split(' ')
                .map(|v| v.parse().unwrap_or(usize::MAX))
                .collect();
            let connected = started.elapsed();
            if acked.get(1) != Some(&0) {
                bail!(
                    "{n} subscribers, {selection}: {} connections failed",
                    acked.get(1).copied().unwrap_or(n)
                );
            }
            // Subscriptions start asynchronously behind the gateway: change the warm-up measure
            // until every subscriber has seen one event.
            let mut ready = false;
            for _ in 0..40 {
                gateway.set_status(warm, flip(warm)).await?;
                match tokio::time::timeout(Duration::from_secs(3), lines.next_line()).await {
                    Ok(Ok(Some(l))) if l == "warm" => {
                        ready = true;
                        break;
                    }
                    Ok(Ok(Some(l))) => bail!("client: {l}"),
                    Ok(_) => bail!("client process ended while warming up"),
                    Err(_) => {}
                }
            }
            if !ready {
                bail!("{n} subscribers, {selection}: not every subscriber saw a warm-up event in 120 s");
            }
            let subscribed = started.elapsed();
            // Events reach a subscriber in log order: once every subscriber has this one, no
            // warm-up event is left in any queue.
            gateway.set_status(sync, flip(sync)).await?;
            match tokio::time::timeout(DELIVERY_WAIT, lines.next_line()).await {
                Ok(Ok(Some(l))) if l == "synced" => {}
                Ok(Ok(Some(l))) => bail!("client: {l}"),
                Ok(_) => bail!("client process ended while draining the warm-up"),
                Err(_) => bail!("{n} subscribers, {selection}: the drain event did not reach everyone"),
            }
            let first_send = now_nanos();
            let (mut sent, mut responded) = (Vec::new(), Vec::new());
            for m in measured {
                sent.push(now_nanos());
                gateway.set_status(m, flip(m)).await?;
                responded.push(now_nanos());
            }
            let mutations = Duration::from_nanos(now_nanos() - first_send);
            // Results come when every subscriber has every event, or when asked after the wait.
            let mut received: HashMap<(u32, u32), u64> = HashMap::new();
            let (mut duplicates, mut failures) = (0usize, Vec::new());
            let deadline = tokio::time::Instant::now() + DELIVERY_WAIT;
            let mut asked = false;
            loop {
                let line = report_line(&mut lines, &mut stdin, deadline, &mut asked).await?;
                let mut f = line.split(' ');
                match f.next() {
                    Some("e") => {
                        let v: Vec<u64> = f.filter_map(|x| x.parse().ok()).collect();
                        if let [sub, k, at] = v[..]
                            && received.insert((sub as u32, k as u32), at).is_some()
                        {
                            duplicates += 1;
                        }
                    }
                    Some("f") => failures.push(line[2..].to_string()),
                    Some("end") => break,
                    _ => {}
                }
            }
            let client_rss: u64 = lines
                .next_line()
                .await?
                .and_then(|l| l.strip_prefix("rss ").and_then(|v| v.parse().ok()))
                .unwrap_or(0);
            drop(stdin);
            child.wait().await?;
            let (mut from_response, mut from_request) = (Vec::new(), Vec::new());
            let mut early = 0usize;
            let mut last = first_send;
            for (&(_, k), &at) in &received {
                last = last.max(at);
                if at < responded[k as usize] {
                    early += 1;
                }
                from_response.push(at.saturating_sub(responded[k as usize]));
                from_request.push(at.saturating_sub(sent[k as usize]));
            }
            let expected = n * measured.len();
            let missing = expected - received.len();
            let span = (last - first_send) as f64 / 1e9;
            println!("{n} subscribers, selection {selection}:");
            println!(
                "  connected (connection_ack) {:.2} s, subscribed (warm-up event seen by all) {:.2} s",
                connected.as_secs_f64(),
                subscribed.as_secs_f64()
            );
            println!(
                "  {} mutations, one after another, in {:.2} s",
                measured.len(),
                mutations.as_secs_f64()
            );
            println!(
                "  latency mutation response → delivery: {} ({early} arrived before the response: 0)",
                percentiles(from_response)
            );
            println!("  latency mutation request → delivery:  {}", percentiles(from_request));
            println!(
                "  delivered {}/{expected} in {span:.2} s ({:.0} events/s); missing {missing}, duplicates \
                 {duplicates}, failed {}",
                received.len(),
                received.len() as f64 / span.max(1e-9),
                failures.len()
            );
            for f in failures.iter().take(5) {
                println!("    failure: {f}");
            }
            println!(
                "  peak RSS: hub process {} MB, client process {} MB",
                peak_rss_kb() / 1024,
                client_rss / 1024
            );
            failed_total += missing + failures.len();
            // Let the gateway close the finished connections before the next run.
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    }
    Ok(failed_total)
}

/// What a subscriber reports to the collector.
enum Report {
    Warm,
    Synced,
    Event { sub: u32, k: u32, at: u64 },
    Failure(String),
}

/// The client process: `--client-process <ws url> <n> <selection> <warm-up measure> <drain
/// measure> <measures,>`. Prints `acked <ok> <failed>`, `warm` when every subscriber has seen a
/// warm-up event, `synced` when every subscriber has seen the drain measure's event, then
/// (when every subscriber has every event, or on `done` from stdin) `e <sub> <k> <nanos>` per
/// delivery, `f <reason>` per failure, `end` and `rss <kB>`.
async fn client_process(args: &[String]) -> anyhow::Result<()> {
    let [url, n, selection, warm, sync, measured] = args else {
        bail!("--client-process <ws url> <n> <selection> <warm-up measure> <drain measure> <measures>");
    };
    let n: usize = n.parse()?;
    let query: Arc<str> = format!(
        "subscription {{ statusChanged {{ {} }} }}",
        selection_fields(selection)?
    )
    .into();
    let measured: Arc<HashMap<String, u32>> = Arc::new(
        measured
            .split(',')
            .enumerate()
            .map(|(k, m)| (m.to_string(), k as u32))
            .collect(),
    );
    let (warm, sync) = (Arc::new(warm.clone()), Arc::new(sync.clone()));
    let handshakes = Arc::new(tokio::sync::Semaphore::new(HANDSHAKES));
    let (acked, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let all_acked = Arc::new(tokio::sync::Notify::new());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for sub in 0..n as u32 {
        let (url, query, warm, sync, measured, tx) = (
            url.clone(),
            query.clone(),
            warm.clone(),
            sync.clone(),
            measured.clone(),
            tx.clone(),
        );
        let (handshakes, acked, failed, all_acked) =
            (handshakes.clone(), acked.clone(), failed.clone(), all_acked.clone());
        tokio::spawn(async move {
            let permit = handshakes.acquire_owned().await;
            let socket = subscribe(&url, &query).await;
            drop(permit);
            let counter = if socket.is_ok() { &acked } else { &failed };
            counter.fetch_add(1, Ordering::SeqCst);
            if acked.load(Ordering::SeqCst) + failed.load(Ordering::SeqCst) == n {
                all_acked.notify_one();
            }
            let mut socket = match socket {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(Report::Failure(format!("subscriber {sub}: {e:#}")));
                    return;
                }
            };
            let (mut warmed, mut synced) = (false, false);
            while let Some(frame) = socket.next().await {
                let at = now_nanos();
                let text = match frame {
                    Ok(Message::Text(t)) => t,
                    Ok(Message::Close(c)) => {
                        let _ = tx.send(Report::Failure(format!("subscriber {sub}: closed {c:?}")));
                        return;
                    }
                    Ok(_) => continue,
                    Err(e) => {
                        let _ = tx.send(Report::Failure(format!("subscriber {sub}: {e}")));
                        return;
                    }
                };
                let msg: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                match msg["type"].as_str() {
                    Some("ping") => {
                        let _ = socket.send(Message::text(json!({ "type": "pong" }).to_string())).await;
                    }
                    Some("next") => {
                        let event = &msg["payload"]["data"]["statusChanged"];
                        let subject = event["subjectId"].as_str().unwrap_or("");
                        if msg["payload"].get("errors").is_some()
                            || (query.contains("measure") && event["measure"]["title"].as_str().is_none())
                        {
                            let _ = tx.send(Report::Failure(format!("subscriber {sub}: {msg}")));
                        } else if subject == warm.as_str() {
                            if !warmed {
                                warmed = true;
                                let _ = tx.send(Report::Warm);
                            }
                        } else if subject == sync.as_str() {
                            if !synced {
                                synced = true;
                                let _ = tx.send(Report::Synced);
                            }
                        } else if let Some(&k) = measured.get(subject) {
                            let _ = tx.send(Report::Event { sub, k, at });
                        }
                    }
                    _ => {
                        let _ = tx.send(Report::Failure(format!("subscriber {sub}: {msg}")));
                    }
                }
            }
            let _ = tx.send(Report::Failure(format!("subscriber {sub}: the stream ended")));
        });
    }
    drop(tx);
    all_acked.notified().await;
    println!(
        "acked {} {}",
        acked.load(Ordering::SeqCst),
        failed.load(Ordering::SeqCst)
    );
    let expected = n * measured.len();
    let (mut warmed, mut synced) = (0usize, 0usize);
    let (mut events, mut failures) = (Vec::with_capacity(expected), Vec::new());
    let mut distinct = HashSet::with_capacity(expected);
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            report = rx.recv() => match report {
                Some(Report::Warm) => {
                    warmed += 1;
                    if warmed == n {
                        println!("warm");
                    }
                }
                Some(Report::Synced) => {
                    synced += 1;
                    if synced == n {
                        println!("synced");
                    }
                }
                Some(Report::Event { sub, k, at }) => {
                    events.push((sub, k, at));
                    distinct.insert((sub, k));
                    if distinct.len() == expected {
                        break;
                    }
                }
                Some(Report::Failure(f)) => failures.push(f),
                None => break,
            },
            line = stdin.next_line() => match line {
                Ok(Some(l)) if l == "done" => break,
                Ok(Some(_)) => {}
                _ => break,
            },
        }
    }
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (sub, k, at) in events {
        writeln!(out, "e {sub} {k} {at}")?;
    }
    for f in failures {
        writeln!(out, "f {}", f.replace('\n', " "))?;
    }
    writeln!(out, "end")?;
    writeln!(out, "rss {}", peak_rss_kb())?;
    out.flush()?;
    drop(out);
    // Exiting closes every socket at once.
    std::process::exit(0)
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects, waits for `connection_ack`, sends the subscription.
async fn subscribe(url: &str, query: &str) -> anyhow::Result<Socket> {
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
    // Events are small: the default 128 KiB read buffer per connection would make the client
    // process, not the hub, the memory bound.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    let (mut socket, _) = tokio::time::timeout(Duration::from_secs(60), connect)
        .await
        .context("connect timed out")??;
    socket
        .send(Message::text(
            json!({ "type": "connection_init", "payload": {} }).to_string(),
        ))
        .await?;
    let ack = tokio::time::timeout(Duration::from_secs(60), socket.next())
        .await
        .context("no connection_ack in 60 s")?
        .context("closed before connection_ack")??;
    let ack: Value = serde_json::from_str(ack.to_text()?)?;
    if ack["type"] != "connection_ack" {
        bail!("expected connection_ack, got {ack}");
    }
    socket
        .send(Message::text(
            json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }).to_string(),
        ))
        .await?;
    Ok(socket)
}

// Distinct subscribers (`BENCH_DISTINCT`): each its own token and filter, over graphql-ws and SSE.

/// Regions of the distinct run's cascade, municipalities per region (the last one's plan is a
/// draft), measures of a regional plan, and how many of those municipal measures implement.
const REGIONS: usize = 5;
const MUNICIPALITIES: usize = 4;
const REGIONAL_MEASURES: usize = 6;
const LINK_TARGETS: usize = 4;

/// The distinct run's settings, from the environment.
struct Distinct {
    subscribers: usize,
    rate: f64,
    duration: Duration,
    burst: usize,
    burst_every: Duration,
}

impl Distinct {
    /// `None` unless `BENCH_DISTINCT` is set.
    fn from_env() -> anyhow::Result<Option<Distinct>> {
        let Ok(subscribers) = std::env::var("BENCH_DISTINCT") else {
            return Ok(None);
        };
        let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
        let seconds = |name: &str, default: &str| -> anyhow::Result<Duration> {
            let text = var(name, default);
            text.parse::<f64>()
                .ok()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .with_context(|| format!("{name}: seconds (60, 0.5), not {text:?}"))
        };
        let d = Distinct {
            subscribers: subscribers
                .parse()
                .with_context(|| format!("BENCH_DISTINCT: a count of subscribers, not {subscribers:?}"))?,
            rate: var("BENCH_RATE", "50")
                .parse()
                .context("BENCH_RATE: status changes per second")?,
            duration: seconds("BENCH_SECONDS", "60")?,
            burst: var("BENCH_BURST", "200")
                .parse()
                .context("BENCH_BURST: status changes per burst")?,
            burst_every: seconds("BENCH_BURST_EVERY", "15")?,
        };
        if d.subscribers == 0 {
            bail!("BENCH_DISTINCT must be positive");
        }
        if !(d.rate > 0.0 && d.rate <= 1000.0) {
            bail!(
                "BENCH_RATE: between 0 and 1000 status changes per second, not {}",
                d.rate
            );
        }
        if d.burst > 0 && d.burst_every.is_zero() {
            bail!("BENCH_BURST_EVERY must be positive when BENCH_BURST is");
        }
        Ok(Some(d))
    }
}

struct Territory {
    id: String,
    /// Itself first, then its region.
    ancestry: Vec<usize>,
}

struct Plan {
    id: String,
    territory: usize,
    draft: bool,
}

struct Measure {
    id: String,
    plan: usize,
    /// The regional measure it implements (a confirmed link).
    implements: Option<usize>,
}

/// The distinct run's cascade, as it was made: who must receive which event follows from it.
#[derive(Default)]
struct Cascade {
    territories: Vec<Territory>,
    plans: Vec<Plan>,
    measures: Vec<Measure>,
}

/// Which drafts' events a subscriber's token may see (`Actor::drafts`).
#[derive(Clone, Copy)]
enum Drafts {
    All,
    None,
    Under(usize),
}

/// A subscriber's `EventFilter`.
#[derive(Clone, Copy)]
enum Only {
    Everything,
    Territory(usize),
    Plan(usize),
    UnderMeasure(usize),
}

struct Sub {
    transport: Transport,
    token: String,
    drafts: Drafts,
    only: Only,
}

impl Cascade {
    /// Whether `sub` must receive the status changes of measure `m`: the rules of the events
    /// subgraph (README "Event stream", "Who sees which events"; `EventFilter`) applied to what
    /// the cascade was made of.
    fn receives(&self, sub: &Sub, m: usize) -> bool {
        let measure = &self.measures[m];
        let plan = &self.plans[measure.plan];
        let visible = !plan.draft
            || match sub.drafts {
                Drafts::All => true,
                Drafts::None => false,
                Drafts::Under(root) => self.territories[plan.territory].ancestry.contains(&root),
            };
        visible
            && match sub.only {
                Only::Everything => true,
                Only::Territory(t) => plan.territory == t,
                Only::Plan(p) => measure.plan == p,
                Only::UnderMeasure(x) => m == x || measure.implements == Some(x),
            }
    }

    fn filter(&self, only: Only) -> Value {
        match only {
            Only::Everything => Value::Null,
            Only::Territory(t) => json!({ "territory": self.territories[t].id }),
            Only::Plan(p) => json!({ "plan": self.plans[p].id }),
            Only::UnderMeasure(m) => json!({ "underMeasure": self.measures[m].id }),
        }
    }
}

/// [`REGIONS`] regions of [`MUNICIPALITIES`] municipalities each, through the gateway as an
/// admin: an approved regional plan per region, a municipal plan per municipality (the last
/// one of each region a draft) with `municipal_measures` measures, two of three implementing
/// one of the first [`LINK_TARGETS`] regional measures (confirmed links).
async fn distinct_cascade(gateway: &Gateway, municipal_measures: usize) -> anyhow::Result<Cascade> {
    let mut c = Cascade::default();
    for r in 1..=REGIONS {
        let region = ensure_territory(gateway, &format!("Край нагрузки {r}"), "REGION", None).await?;
        let region_index = c.territories.len();
        c.territories.push(Territory {
            id: region.clone(),
            ancestry: vec![region_index],
        });
        let title = format!("Региональный план {r}");
        let (plan, ids) = plan_of(gateway, &title, "REGIONAL", &region, "APPROVED", REGIONAL_MEASURES).await?;
        c.plans.push(Plan {
            id: plan,
            territory: region_index,
            draft: false,
        });
        let regional = c.measures.len();
        c.measures.extend(ids.into_iter().map(|id| Measure {
            id,
            plan: c.plans.len() - 1,
            implements: None,
        }));
        for u in 1..=MUNICIPALITIES {
            let name = format!("Округ нагрузки {r}.{u}");
            let municipality = ensure_territory(gateway, &name, "MUNICIPALITY", Some(&region)).await?;
            c.territories.push(Territory {
                id: municipality.clone(),
                ancestry: vec![c.territories.len(), region_index],
            });
            let draft = u == MUNICIPALITIES;
            let state = if draft { "DRAFT" } else { "APPROVED" };
            let title = format!("Муниципальный план {r}.{u}");
            let (plan, ids) = plan_of(gateway, &title, "MUNICIPAL", &municipality, state, municipal_measures).await?;
            c.plans.push(Plan {
                id: plan,
                territory: c.territories.len() - 1,
                draft,
            });
            let mut links = Vec::new();
            for (j, id) in ids.into_iter().enumerate() {
                let implements = (j % 3 != 2).then_some(regional + j % LINK_TARGETS);
                if let Some(high) = implements {
                    links.push(link(gateway, id.clone(), c.measures[high].id.clone()));
                }
                c.measures.push(Measure {
                    id,
                    plan: c.plans.len() - 1,
                    implements,
                });
            }
            futures::future::try_join_all(links).await?;
        }
    }
    Ok(c)
}

/// A confirmed link: `measure` implements `implements`.
async fn link(gateway: &Gateway, measure: String, implements: String) -> anyhow::Result<()> {
    let data = gateway
        .gql(
            "mutation($m: ID!, $i: ID!) { linkMeasures(measure: $m, implements: $i) { state } }",
            json!({ "m": measure, "i": implements }),
        )
        .await?;
    if data["linkMeasures"]["state"] != "CONFIRMED" {
        bail!("linkMeasures answered {data}");
    }
    Ok(())
}

/// `n` subscribers, each with a token of its own (subject `bench-subscriber-<i>`): a tenth
/// auditors (every draft), a tenth signed in without a role (no draft), four tenths viewers and
/// four tenths editors of a territory (drafts under it), the territories drawn from every region
/// and municipality; each with a filter drawn from none, `territory`, `plan` and `underMeasure`
/// (a regional measure municipal ones implement), redrawn until it leaves the subscriber at
/// least three measures; even ones over graphql-ws, odd ones over SSE.
fn distinct_subscribers(c: &Cascade, n: usize) -> anyhow::Result<Vec<Sub>> {
    use roadmap_common::auth::Role;
    let mut rng = roadmap_hub::generate::Rng::new(n as u64);
    let targets: Vec<usize> = (0..c.measures.len())
        .filter(|&m| c.measures.iter().any(|l| l.implements == Some(m)))
        .collect();
    let mut subs = Vec::with_capacity(n);
    for i in 0..n {
        let territory = rng.below(c.territories.len());
        let (roles, drafts, scope): (&[Role], _, _) = match i % 10 {
            0 => (&[Role::Auditor], Drafts::All, None),
            1 => (&[], Drafts::None, Some(territory)),
            2..=5 => (&[Role::Viewer], Drafts::Under(territory), Some(territory)),
            _ => (&[Role::Editor], Drafts::Under(territory), Some(territory)),
        };
        let scope = scope
            .map(|t| uuid::Uuid::parse_str(&c.territories[t].id))
            .transpose()
            .context("a territory id that is not a UUID")?;
        let mut sub = Sub {
            transport: if i % 2 == 0 { Transport::Ws } else { Transport::Sse },
            token: roadmap_e2e::token(&format!("bench-subscriber-{i}"), roles, scope),
            drafts,
            only: Only::Everything,
        };
        for _ in 0..50 {
            let only = sub.only;
            sub.only = match rng.below(4) {
                0 => Only::Everything,
                1 => Only::Territory(rng.below(c.territories.len())),
                2 => Only::Plan(rng.below(c.plans.len())),
                _ => Only::UnderMeasure(targets[rng.below(targets.len())]),
            };
            if (0..c.measures.len()).filter(|&m| c.receives(&sub, m)).count() >= 3 {
                break;
            }
            sub.only = only;
        }
        subs.push(sub);
    }
    Ok(subs)
}

/// Measures, none of `taken`, until every subscriber that receives one of the others receives
/// one of them (greedy: the measure reaching most of those left first).
fn cover(c: &Cascade, subs: &[Sub], taken: &HashSet<usize>) -> Vec<usize> {
    let free: Vec<usize> = (0..c.measures.len()).filter(|m| !taken.contains(m)).collect();
    let mut left: Vec<&Sub> = subs.iter().filter(|s| free.iter().any(|&m| c.receives(s, m))).collect();
    let mut chosen = Vec::new();
    while !left.is_empty() {
        let Some(&best) = free
            .iter()
            .filter(|m| !chosen.contains(*m))
            .max_by_key(|&&m| left.iter().filter(|s| c.receives(s, m)).count())
        else {
            break;
        };
        chosen.push(best);
        left.retain(|s| !c.receives(s, best));
    }
    chosen
}

fn flip(status: &str) -> &'static str {
    if status == "PLANNED" { "IN_PROGRESS" } else { "PLANNED" }
}

/// One status change of the load.
struct Change {
    measure: usize,
    sent: u64,
    responded: u64,
    burst: bool,
}

/// Measures not being changed, with their status; a change takes one and puts it back.
type Idle = Arc<std::sync::Mutex<std::collections::VecDeque<(usize, &'static str)>>>;

/// Changes the status of an idle measure; a measure whose change failed is not put back (its
/// status is unknown).
async fn change(
    gateway: Gateway,
    ids: Arc<Vec<String>>,
    idle: Idle,
    (measure, status): (usize, &'static str),
    burst: bool,
) -> Result<Change, (usize, String)> {
    let next = flip(status);
    let sent = now_nanos();
    let result = gateway.set_status(&ids[measure], next).await;
    let responded = now_nanos();
    match result {
        Ok(()) => {
            idle.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push_back((measure, next));
            Ok(Change {
                measure,
                sent,
                responded,
                burst,
            })
        }
        Err(e) => Err((measure, format!("{e:#}"))),
    }
}

/// The client process's next report line. Until `deadline` it reports as deliveries come; then
/// it is told `done` (once, `asked`) and reports what it has, so the read waits without limit.
async fn report_line(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    stdin: &mut tokio::process::ChildStdin,
    deadline: tokio::time::Instant,
    asked: &mut bool,
) -> anyhow::Result<String> {
    loop {
        let next = if *asked {
            lines.next_line().await?
        } else {
            match tokio::time::timeout_at(deadline, lines.next_line()).await {
                Ok(l) => l?,
                Err(_) => {
                    stdin.write_all(b"done\n").await?;
                    *asked = true;
                    continue;
                }
            }
        };
        return next.context("client process ended before reporting");
    }
}

/// Reads the client process's next line within `wait` (`None` when none came).
async fn next_line(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    wait: Duration,
) -> anyhow::Result<Option<String>> {
    match tokio::time::timeout(wait, lines.next_line()).await {
        Ok(line) => Ok(Some(line?.context("the client process ended")?)),
        Err(_) => Ok(None),
    }
}

/// The events subgraph's open `statusChanged` subscriptions (`roadmap_subscribers` on its
/// `/metrics`: one per upstream subscription of the router).
async fn upstream_subscriptions(hub: &Hub) -> Option<i64> {
    let url = format!("http://{}/metrics", hub.addr(Target::EVENTS)?);
    let text = reqwest::get(&url).await.ok()?.text().await.ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix("roadmap_subscribers{subgraph=\"events\"}")?
            .trim()
            .parse()
            .ok()
    })
}

fn rss_mb(field: &str) -> u64 {
    roadmap_e2e::load::status_kb("self", field).unwrap_or(0) / 1024
}

/// Runs the distinct subscribers once per selection; returns the number of missing, duplicated,
/// unexpected or failed deliveries and failed changes.
async fn run_distinct(hub: &Hub, o: &Options, d: &Distinct) -> anyhow::Result<usize> {
    let gateway = Gateway::admin(&hub.graphql_url(Target::GATEWAY).context("gateway address")?)?;
    let setup = Instant::now();
    // Enough measures that a burst finds idle ones besides the warm-up and drain measures.
    let per_plan = (d.burst + 150).div_ceil(REGIONS * MUNICIPALITIES).max(12);
    let c = distinct_cascade(&gateway, per_plan).await?;
    let subs = distinct_subscribers(&c, d.subscribers)?;
    let warm = cover(&c, &subs, &HashSet::new());
    let sync = cover(&c, &subs, &warm.iter().copied().collect());
    let special: HashSet<usize> = warm.iter().chain(&sync).copied().collect();
    let measured: Vec<usize> = (0..c.measures.len()).filter(|m| !special.contains(m)).collect();
    let recipients: Vec<usize> = (0..c.measures.len())
        .map(|m| subs.iter().filter(|s| c.receives(s, m)).count())
        .collect();
    let ids: Arc<Vec<String>> = Arc::new(c.measures.iter().map(|m| m.id.clone()).collect());
    let kinds = |f: fn(&Only) -> bool| subs.iter().filter(|s| f(&s.only)).count();
    let drafts = |f: fn(&Drafts) -> bool| subs.iter().filter(|s| f(&s.drafts)).count();
    println!(
        "distinct subscribers through the gateway, event bus: {}; set up in {:.1} s",
        if o.redis { "Redis Stream" } else { "in-process" },
        setup.elapsed().as_secs_f64()
    );
    println!(
        "  cascade: {REGIONS} regions × {MUNICIPALITIES} municipalities, {} plans ({} drafts), {} measures ({} \
         implement a regional one); {} warm-up and {} drain measures, {} measured",
        c.plans.len(),
        c.plans.iter().filter(|p| p.draft).count(),
        c.measures.len(),
        c.measures.iter().filter(|m| m.implements.is_some()).count(),
        warm.len(),
        sync.len(),
        measured.len()
    );
    println!(
        "  {} subscribers, each its own token ({} graphql-ws, {} SSE); filters: none {}, territory {}, plan {}, \
         underMeasure {}; drafts seen: all {}, none {}, under the token's territory {}",
        subs.len(),
        subs.iter().filter(|s| s.transport == Transport::Ws).count(),
        subs.iter().filter(|s| s.transport == Transport::Sse).count(),
        kinds(|o| matches!(o, Only::Everything)),
        kinds(|o| matches!(o, Only::Territory(_))),
        kinds(|o| matches!(o, Only::Plan(_))),
        kinds(|o| matches!(o, Only::UnderMeasure(_))),
        drafts(|d| matches!(d, Drafts::All)),
        drafts(|d| matches!(d, Drafts::None)),
        drafts(|d| matches!(d, Drafts::Under(_))),
    );
    println!(
        "  a change of a measured measure is due to {:.1} subscribers on average (0 to {})",
        measured.iter().map(|&m| recipients[m]).sum::<usize>() as f64 / measured.len().max(1) as f64,
        measured.iter().map(|&m| recipients[m]).max().unwrap_or(0)
    );
    println!(
        "  load: {} changes/s for {:.0} s, plus {} changes at once every {:.0} s",
        d.rate,
        d.duration.as_secs_f64(),
        d.burst,
        d.burst_every.as_secs_f64()
    );
    let mut status: HashMap<usize, &'static str> = (0..c.measures.len()).map(|m| (m, "PLANNED")).collect();
    let mut failed_total = 0;
    for selection in &o.selections {
        let rss_before = rss_mb("VmRSS:");
        let upstream_before = upstream_subscriptions(hub).await;
        let spec = json!({
            "gateway": gateway.url,
            "fields": selection_fields(selection)?,
            "measures": *ids,
            "warm": warm,
            "sync": sync,
            "subscribers": subs.iter().map(|s| json!({
                "sse": s.transport == Transport::Sse,
                "token": s.token,
                "filter": c.filter(s.only),
                "warm": warm.iter().any(|&m| c.receives(s, m)),
                "sync": sync.iter().any(|&m| c.receives(s, m)),
            })).collect::<Vec<_>>(),
        });
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("--distinct-clients")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting the client process")?;
        let mut lines = BufReader::new(child.stdout.take().context("client stdout")?).lines();
        let mut stdin = child.stdin.take().context("client stdin")?;
        stdin.write_all(format!("{spec}\n").as_bytes()).await?;
        let started = Instant::now();
        // Subscriptions start asynchronously behind the gateway: change the warm-up measures
        // until every subscriber has seen one event.
        let mut rounds = 0;
        loop {
            if rounds == 40 {
                bail!("{selection}: not every subscriber saw a warm-up event in 40 rounds");
            }
            rounds += 1;
            let flips: Vec<_> = warm
                .iter()
                .map(|&m| {
                    let next = flip(status[&m]);
                    status.insert(m, next);
                    gateway.set_status(&ids[m], next)
                })
                .collect();
            futures::future::try_join_all(flips).await?;
            match next_line(&mut lines, Duration::from_secs(3)).await? {
                Some(l) if l == "warm" => break,
                Some(l) => bail!("client: {l}"),
                None => {}
            }
        }
        let subscribed = started.elapsed();
        // Events reach a subscriber in log order: once every subscriber has a drain event, no
        // warm-up event is left in any queue.
        let flips: Vec<_> = sync
            .iter()
            .map(|&m| {
                let next = flip(status[&m]);
                status.insert(m, next);
                gateway.set_status(&ids[m], next)
            })
            .collect();
        futures::future::try_join_all(flips).await?;
        match next_line(&mut lines, DELIVERY_WAIT).await? {
            Some(l) if l == "synced" => {}
            Some(l) => bail!("client: {l}"),
            None => bail!("{selection}: the drain events did not reach everyone"),
        }

        // The load: a steady stream of changes, one started every 1/rate s (each on an idle
        // measure, so no measure has two changes in flight), and bursts of changes at once.
        let rss_start = rss_mb("VmRSS:");
        let upstream_load = upstream_subscriptions(hub).await;
        let idle: Idle = Arc::new(std::sync::Mutex::new(
            measured.iter().map(|&m| (m, status[&m])).collect(),
        ));
        let mut tasks = tokio::task::JoinSet::new();
        let load = Instant::now();
        let first_send = now_nanos();
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / d.rate));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut next_burst, mut bursts, mut short, mut skipped) = (d.burst_every, 0usize, 0usize, 0usize);
        while load.elapsed() < d.duration {
            tick.tick().await;
            if d.burst > 0 && load.elapsed() >= next_burst {
                next_burst += d.burst_every;
                bursts += 1;
                let taken: Vec<_> = {
                    let mut idle = idle.lock().unwrap_or_else(|p| p.into_inner());
                    let k = d.burst.min(idle.len());
                    idle.drain(..k).collect()
                };
                short += d.burst - taken.len();
                for t in taken {
                    tasks.spawn(change(gateway.clone(), ids.clone(), idle.clone(), t, true));
                }
            }
            let taken = idle.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
            match taken {
                Some(t) => {
                    tasks.spawn(change(gateway.clone(), ids.clone(), idle.clone(), t, false));
                }
                None => skipped += 1,
            }
        }
        let mut changes = Vec::new();
        let mut change_errors = Vec::new();
        let mut broken = HashSet::new();
        while let Some(done) = tasks.join_next().await {
            match done? {
                Ok(ch) => changes.push(ch),
                Err((m, e)) => {
                    broken.insert(m);
                    change_errors.push(format!("{}: {e}", ids[m]));
                }
            }
        }
        let load_time = load.elapsed();
        for &(m, s) in idle.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            status.insert(m, s);
        }
        for m in &broken {
            status.remove(m);
        }
        let expected: usize = changes
            .iter()
            .filter(|ch| !broken.contains(&ch.measure))
            .map(|ch| recipients[ch.measure])
            .sum();
        stdin.write_all(format!("expect {expected}\n").as_bytes()).await?;

        // What came: every delivery, checked against who must receive what.
        let deadline = tokio::time::Instant::now() + DELIVERY_WAIT;
        let mut asked = false;
        let mut seen = HashSet::new();
        let mut last_cursor = vec![0u64; subs.len()];
        let (mut duplicates, mut unexpected, mut out_of_order) = (0usize, 0usize, 0usize);
        let mut got: HashMap<(usize, usize), Vec<(u64, u64)>> = HashMap::new();
        let mut failures = Vec::new();
        loop {
            let line = report_line(&mut lines, &mut stdin, deadline, &mut asked).await?;
            let mut f = line.split(' ');
            match f.next() {
                Some("e") => {
                    let v: Vec<u64> = f.filter_map(|x| x.parse().ok()).collect();
                    let [sub, m, cursor, at] = v[..] else {
                        bail!("client: {line}");
                    };
                    let (sub, m) = (sub as usize, m as usize);
                    if !seen.insert((sub, cursor)) {
                        duplicates += 1;
                        continue;
                    }
                    if cursor < last_cursor[sub] {
                        out_of_order += 1;
                    }
                    last_cursor[sub] = last_cursor[sub].max(cursor);
                    if m >= c.measures.len() || !c.receives(&subs[sub], m) {
                        unexpected += 1;
                    } else if !special.contains(&m) && !broken.contains(&m) {
                        got.entry((sub, m)).or_default().push((cursor, at));
                    }
                }
                Some("f") => failures.push(line[2..].to_string()),
                Some("end") => break,
                _ => {}
            }
        }
        let client_rss: u64 = lines
            .next_line()
            .await?
            .and_then(|l| l.strip_prefix("rss ").and_then(|v| v.parse().ok()))
            .unwrap_or(0);
        drop(stdin);
        child.wait().await?;

        // A subscriber receives all of a measure's changes or none: its k-th event of the
        // measure (by cursor) is the measure's k-th change.
        let mut by_measure: Vec<Vec<&Change>> = (0..c.measures.len()).map(|_| Vec::new()).collect();
        for ch in &changes {
            by_measure[ch.measure].push(ch);
        }
        for list in &mut by_measure {
            list.sort_by_key(|ch| ch.sent);
        }
        let (mut from_request, mut from_response) = (Vec::new(), Vec::new());
        let (mut steady, mut burst, mut ws, mut sse) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut missing, mut early, mut delivered) = (0usize, 0usize, 0usize);
        let mut last = first_send;
        for (s, sub) in subs.iter().enumerate() {
            for &m in &measured {
                if broken.contains(&m) || !c.receives(sub, m) {
                    continue;
                }
                let mut events = got.remove(&(s, m)).unwrap_or_default();
                events.sort_unstable();
                let due = &by_measure[m];
                missing += due.len().saturating_sub(events.len());
                unexpected += events.len().saturating_sub(due.len());
                for (ch, &(_, at)) in due.iter().zip(&events) {
                    delivered += 1;
                    last = last.max(at);
                    if at < ch.responded {
                        early += 1;
                    }
                    let latency = at.saturating_sub(ch.sent);
                    from_request.push(latency);
                    from_response.push(at.saturating_sub(ch.responded));
                    if ch.burst { &mut burst } else { &mut steady }.push(latency);
                    if sub.transport == Transport::Ws {
                        &mut ws
                    } else {
                        &mut sse
                    }
                    .push(latency);
                }
            }
        }
        // Deliveries of measures that are never due to their subscriber were counted above.
        unexpected += got.values().map(Vec::len).sum::<usize>();
        let rss_end = rss_mb("VmRSS:");
        let span = (last - first_send) as f64 / 1e9;
        let p99 = {
            let mut v = from_request.clone();
            v.sort_unstable();
            v.get((v.len().max(1) - 1) * 99 / 100).map_or(0.0, |&x| x as f64 / 1e6)
        };
        let steady_count = changes.iter().filter(|ch| !ch.burst).count();
        println!("{} distinct subscribers, selection {selection}:", subs.len());
        println!(
            "  subscribed (a warm-up event seen by all) in {:.2} s, {rounds} warm-up rounds",
            subscribed.as_secs_f64()
        );
        println!(
            "  {} changes in {:.1} s: {steady_count} steady ({:.1}/s; {skipped} ticks found no idle measure), \
             {bursts} bursts ({short} changes short of {} each); {} failed",
            changes.len() + change_errors.len(),
            load_time.as_secs_f64(),
            steady_count as f64 / load_time.as_secs_f64(),
            d.burst,
            change_errors.len()
        );
        for e in change_errors.iter().take(5) {
            println!("    failed change: {e}");
        }
        println!(
            "  latency mutation request → delivery: {} (goal p99 ≤ 250 ms: {})",
            percentiles(from_request),
            if p99 <= 250.0 { "met" } else { "NOT met" }
        );
        println!("    steady changes: {}", percentiles(steady));
        println!("    bursts:         {}", percentiles(burst));
        println!("    graphql-ws:     {}", percentiles(ws));
        println!("    SSE:            {}", percentiles(sse));
        println!(
            "  latency mutation response → delivery: {} ({early} arrived before the response: 0)",
            percentiles(from_response)
        );
        println!(
            "  delivered {delivered}/{expected} in {span:.2} s ({:.0} deliveries/s); missing {missing}, duplicates \
             {duplicates}, unexpected {unexpected}, out of order {out_of_order}, failed {}",
            delivered as f64 / span.max(1e-9),
            failures.len()
        );
        for f in failures.iter().take(5) {
            println!("    failure: {f}");
        }
        println!(
            "  RSS of the hub process (every target in-process, plus the bench's admin client; the subscribers \
             are in the client process): {rss_before} MB before subscribing, {rss_start} MB when the load began, \
             {rss_end} MB at the end, peak {} MB (goal ≤ 1 GB: {}); client process peak {} MB",
            rss_mb("VmHWM:"),
            if rss_mb("VmHWM:") <= 1024 { "met" } else { "NOT met" },
            client_rss / 1024
        );
        failed_total += missing + duplicates + unexpected + out_of_order + failures.len() + change_errors.len();
        // Let the gateway close the finished connections (and their upstream subscriptions)
        // before the next run, waiting at most 30 s, with a change of a warm-up measure every
        // 2 s (an event for the router to find its listeners gone).
        let left = Instant::now();
        let mut upstream_after = upstream_subscriptions(hub).await;
        while upstream_after.is_some_and(|n| n > upstream_before.unwrap_or(0)) && left.elapsed().as_secs() < 30 {
            if let Some(&m) = warm.first() {
                let next = flip(status[&m]);
                status.insert(m, next);
                gateway.set_status(&ids[m], next).await?;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            upstream_after = upstream_subscriptions(hub).await;
        }
        tokio::time::sleep(Duration::from_secs(3).saturating_sub(left.elapsed())).await;
        let shown = |n: Option<i64>| n.map_or("?".to_string(), |n| n.to_string());
        println!(
            "  upstream subscriptions (events subgraph): {} before subscribing, {} when the load began, {} {:.1} s \
             after the client process left",
            shown(upstream_before),
            shown(upstream_load),
            shown(upstream_after),
            left.elapsed().as_secs_f64()
        );
    }
    Ok(failed_total)
}

/// What a distinct subscriber reports to the collector.
enum Seen {
    Event {
        sub: u32,
        measure: u32,
        cursor: u64,
        at: u64,
    },
    Failure(String),
}

/// The client process of the distinct run: `--distinct-clients`, then on stdin one line of JSON
/// (`gateway`, `fields`, `measures` (ids), `warm` and `sync` (their indices), `subscribers`:
/// `sse`, `token`, `filter`, whether it must see a `warm` and a `sync` event). Opens every
/// subscriber (`roadmap_e2e::split::Subscriber`, live), prints `warm` when every subscriber
/// that must has seen an event, `synced` when every one that must has seen a drain measure's
/// event; after `expect <n>` on stdin, once it holds n distinct deliveries of other measures
/// (and a second more for any late duplicate), or on `done`, prints `e <sub> <measure> <cursor>
/// <nanos>` per delivery (measure `4294967295`: not one of `measures`), `f <reason>` per
/// failure, `end` and `rss <kB>`.
async fn distinct_clients() -> anyhow::Result<()> {
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let spec: Value = serde_json::from_str(&stdin.next_line().await?.context("no spec on stdin")?)?;
    let gateway = spec["gateway"].as_str().context("spec: gateway")?.to_string();
    let fields = spec["fields"].as_str().context("spec: fields")?.to_string();
    let entity = fields.contains("measure");
    let index: Arc<HashMap<String, u32>> = Arc::new(
        spec["measures"]
            .as_array()
            .context("spec: measures")?
            .iter()
            .enumerate()
            .filter_map(|(k, m)| Some((m.as_str()?.to_string(), k as u32)))
            .collect(),
    );
    let set = |key: &str| -> HashSet<u32> {
        spec[key]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_u64().map(|v| v as u32)).collect())
            .unwrap_or_default()
    };
    let (warm, sync) = (set("warm"), set("sync"));
    let subs = spec["subscribers"].as_array().context("spec: subscribers")?;
    let must = |key: &str| -> Vec<bool> { subs.iter().map(|s| s[key] == true).collect() };
    let (must_warm, must_sync) = (must("warm"), must("sync"));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for (i, s) in subs.iter().enumerate() {
        let transport = if s["sse"] == true {
            Transport::Sse
        } else {
            Transport::Ws
        };
        let mut sub = Subscriber::live(transport, &gateway, s["filter"].clone(), &fields)
            .with_token(s["token"].as_str().context("spec: token")?);
        let (tx, index) = (tx.clone(), index.clone());
        // Spread the handshakes over the first second or so.
        let delay = Duration::from_millis(2 * i as u64);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            loop {
                let read = sub
                    .read_until(Duration::from_secs(86_400), |events| !events.is_empty())
                    .await;
                let at = now_nanos();
                for ending in sub.endings.drain(..) {
                    let _ = tx.send(Seen::Failure(format!("subscriber {i}: {ending}; subscribed again")));
                }
                if let Err(e) = read {
                    let _ = tx.send(Seen::Failure(format!("subscriber {i}: {e:#}")));
                    return;
                }
                for event in sub.events.drain(..) {
                    let measure = event["subjectId"]
                        .as_str()
                        .and_then(|id| index.get(id))
                        .copied()
                        .unwrap_or(u32::MAX);
                    let cursor = event["cursor"].as_str().and_then(|c| c.parse().ok());
                    match cursor {
                        Some(cursor)
                            if event["kind"] == "MEASURE_STATUS_CHANGED"
                                && (!entity || event["measure"]["title"].is_string()) =>
                        {
                            let _ = tx.send(Seen::Event {
                                sub: i as u32,
                                measure,
                                cursor,
                                at,
                            });
                        }
                        _ => {
                            let _ = tx.send(Seen::Failure(format!("subscriber {i}: {event}")));
                        }
                    }
                }
            }
        });
    }
    drop(tx);
    let (wanted_warm, wanted_sync) = (
        must_warm.iter().filter(|w| **w).count(),
        must_sync.iter().filter(|w| **w).count(),
    );
    let (mut warmed, mut synced) = (vec![false; subs.len()], vec![false; subs.len()]);
    let (mut warm_count, mut sync_count) = (0, 0);
    let (mut events, mut failures) = (Vec::new(), Vec::new());
    let mut counted = HashSet::new();
    let mut expect = None;
    let mut grace: Option<tokio::time::Instant> = None;
    loop {
        if grace.is_none() && expect.is_some_and(|n| counted.len() >= n) {
            grace = Some(tokio::time::Instant::now() + Duration::from_secs(1));
        }
        let until = grace.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400));
        tokio::select! {
            report = rx.recv() => match report {
                Some(Seen::Event { sub, measure, cursor, at }) => {
                    let s = sub as usize;
                    if must_warm[s] && !warmed[s] {
                        warmed[s] = true;
                        warm_count += 1;
                        if warm_count == wanted_warm {
                            println!("warm");
                        }
                    }
                    if must_sync[s] && !synced[s] && sync.contains(&measure) {
                        synced[s] = true;
                        sync_count += 1;
                        if sync_count == wanted_sync {
                            println!("synced");
                        }
                    }
                    if !warm.contains(&measure) && !sync.contains(&measure) {
                        counted.insert((sub, cursor));
                    }
                    events.push((sub, measure, cursor, at));
                }
                Some(Seen::Failure(f)) => failures.push(f),
                None => break,
            },
            line = stdin.next_line() => match line {
                Ok(Some(l)) if l == "done" => break,
                Ok(Some(l)) => {
                    if let Some(n) = l.strip_prefix("expect ") {
                        expect = Some(n.parse::<usize>().context("expect <count>")?);
                    }
                }
                _ => break,
            },
            _ = tokio::time::sleep_until(until) => break,
        }
    }
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (sub, measure, cursor, at) in events {
        writeln!(out, "e {sub} {measure} {cursor} {at}")?;
    }
    for f in failures {
        writeln!(out, "f {}", f.replace('\n', " "))?;
    }
    writeln!(out, "end")?;
    writeln!(out, "rss {}", peak_rss_kb())?;
    out.flush()?;
    drop(out);
    // Exiting closes every socket at once.
    std::process::exit(0)
}
