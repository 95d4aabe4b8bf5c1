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

use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use futures::{SinkExt, StreamExt};
use roadmap_e2e::load::{Gateway, approved_plan, peak_rss_kb, percentiles};
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

fn selection_query(selection: &str) -> anyhow::Result<&'static str> {
    Ok(match selection {
        "entity" => "subscription { statusChanged { cursor kind subjectId measure { title } } }",
        "plain" => "subscription { statusChanged { cursor kind subjectId } }",
        other => bail!("--selections: unknown selection {other:?} (entity, plain)"),
    })
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Runtime::new()?;
    if args.first().map(String::as_str) == Some("--client-process") {
        return runtime.block_on(client_process(&args[1..]));
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
        selection_query(s)?;
    }
    Ok(o)
}

async fn bench(args: &[String]) -> anyhow::Result<()> {
    let o = options(args)?;
    // Slow-statement warnings are expected under this load and would bury the figures.
    roadmap_common::telemetry::init_with_default(roadmap_common::telemetry::LogFormat::Text, "warn,sqlx=error");
    let largest = o.subscribers.iter().copied().max().unwrap_or(0) as u64;
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
    let result = run(&hub, &o).await;
    hub.shutdown().await?;
    roadmap_common::db::drop_database(&database_url).await?;
    if let Some((url, name)) = stream {
        let client = redis::Client::open(url.as_str())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        let _: () = redis::cmd("DEL").arg(&name).query_async(&mut conn).await?;
    }
    let failed = result?;
    if failed > 0 {
        bail!("{failed} deliveries missing or failed");
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
                let next = if asked {
                    lines.next_line().await?
                } else {
                    match tokio::time::timeout_at(deadline, lines.next_line()).await {
                        Ok(l) => l?,
                        Err(_) => {
                            stdin.write_all(b"done\n").await?;
                            asked = true;
                            continue;
                        }
                    }
                };
                let line = next.context("client process ended before reporting")?;
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
    let query = selection_query(selection)?;
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
        let (url, warm, sync, measured, tx) = (url.clone(), warm.clone(), sync.clone(), measured.clone(), tx.clone());
        let (handshakes, acked, failed, all_acked) =
            (handshakes.clone(), acked.clone(), failed.clone(), all_acked.clone());
        tokio::spawn(async move {
            let permit = handshakes.acquire_owned().await;
            let socket = subscribe(&url, query).await;
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
