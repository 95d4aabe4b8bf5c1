//! The soak run: a mixed load through the gateway of a split deployment ([`crate::split`]: every
//! target its own `roadmap-hub serve` process, a Redis of its own) for a fixed time, then what
//! must hold: no error, no event lost, memory that does not keep growing.
//!
//! The load, all at once:
//! - **dashboard reads**: the web pages' own operations (`roadmap_web::operations`), a
//!   territory's dashboard (`WebTerritory`) and a plan (`WebPlan`), on a small generated cascade
//!   (`roadmap_hub::generate`: one region, three municipalities, two schools each);
//! - **traces**: the measure page's operation (`WebMeasure`: cascade down and up, coverage) on the
//!   cascade's regional measures;
//! - **status changes**: `setMeasureStatus` on the measures of an approved plan of its own, at a
//!   steady rate, one after another (each one a change, so each one an event);
//! - **subscribers**: `statusChanged` of that plan, half graphql-ws, half SSE, anonymous, each
//!   from cursor 0 (so a subscriber that connects late still owes every event), opened over a
//!   ramp at the start.
//!
//! Afterwards the event log of the plan is read through the gateway; each subscriber must hold
//! exactly its events, once each, in order. **Errors** count failed requests (transport, non-JSON
//! body, GraphQL errors) and subscription streams that ended or could not be opened; **lost**
//! counts events of the log a subscriber never received, plus successful status changes missing
//! from the log. **RSS** is the sum of the hub processes' resident memory (`VmRSS`), sampled
//! through the run (twenty samples) and compared between the end of the warm-up and the end of
//! the load. In the bench the warm-up lasts at least until the router's per-subscription buffers
//! are full ([`ROUTER_BUFFER`] events each at the run's rate of changes): until then every
//! subscription's memory grows by design, after that growth means a leak.
//!
//! [`run`] is called by the bench (`gateway/benches/soak.rs`, release, 10 minutes, 1,000
//! subscribers) and by a short smoke test (`gateway/tests/soak.rs`, ~15 s, 100 subscribers).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::load::{Gateway, approved_plan, percentiles, status_kb};
use crate::split::{Split, Subscriber, TARGETS, Transport};

/// Events the router keeps per upstream subscription (`subscriptions.broadcast_capacity` of
/// `gateway/router.config.yaml`, checked by a test of the gateway): its broadcast ring holds the
/// last that many events, so a subscription's memory grows until that many have passed. Every
/// soak subscriber replays from a cursor and so has an upstream subscription of its own.
pub const ROUTER_BUFFER: usize = 1024;

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// How long the load runs (warm-up included).
    pub duration: Duration,
    /// RSS is measured from the end of the warm-up.
    pub warm_up: Duration,
    /// `statusChanged` subscribers, half graphql-ws, half SSE.
    pub subscribers: usize,
    /// Clients sending dashboard reads and traces, each one request after another.
    pub readers: usize,
    /// Status changes per second.
    pub changes_per_second: f64,
    /// Longest wait, after the load, for every subscriber to hold every event.
    pub drain: Duration,
    /// Kill the deployment's Redis (SIGKILL) for this long, a third of the way through the load
    /// after the warm-up, then start it again: changes keep being made meanwhile, and every event
    /// must still reach every subscriber once, in order.
    pub redis_outage: Option<Duration>,
}

impl Options {
    /// The bench: e.g. 10 minutes, 1,000 subscribers, 5 status changes per second. The warm-up
    /// is a fifth of the run (at most a minute), but at least until the router's buffers are full
    /// ([`ROUTER_BUFFER`] changes, plus 10 s), and at most half the run.
    pub fn bench(duration: Duration, subscribers: usize, changes_per_second: f64) -> Options {
        let buffers_full = Duration::from_secs_f64(ROUTER_BUFFER as f64 / changes_per_second + 10.0);
        Options {
            duration,
            warm_up: (duration / 5)
                .min(Duration::from_secs(60))
                .max(buffers_full)
                .min(duration / 2),
            subscribers,
            readers: 8,
            changes_per_second,
            drain: Duration::from_secs(120),
            redis_outage: None,
        }
    }

    /// The smoke test of the normal test run: 15 s, 100 subscribers.
    pub fn smoke() -> Options {
        Options {
            duration: Duration::from_secs(15),
            warm_up: Duration::from_secs(5),
            subscribers: 100,
            readers: 4,
            changes_per_second: 4.0,
            drain: Duration::from_secs(60),
            redis_outage: None,
        }
    }
}

/// Latencies (ns) and errors of one kind of request.
#[derive(Default, Debug)]
pub struct Kind {
    pub latencies: Vec<u64>,
    pub errors: Vec<String>,
}

impl Kind {
    fn record(&mut self, started: Instant, result: anyhow::Result<()>) {
        self.latencies.push(started.elapsed().as_nanos() as u64);
        if let Err(e) = result {
            self.errors.push(format!("{e:#}"));
        }
    }
}

/// What a soak run measured.
#[derive(Debug)]
pub struct Report {
    pub options: Options,
    /// How long opening the subscribers took, until each had an event.
    pub opened: Duration,
    /// How long the load ran.
    pub elapsed: Duration,
    pub dashboard: Kind,
    pub traces: Kind,
    pub changes: Kind,
    /// The plan's status-change events in the log: the warm-up's and the load's.
    pub logged: usize,
    /// Events the subscribers received, in all.
    pub delivered: usize,
    /// Stream endings and failed subscribes, by reason.
    pub subscriber_errors: Vec<String>,
    pub lost: usize,
    /// The subscribers that missed events: transport, events held, the first cursors missed.
    pub lost_by: Vec<String>,
    pub duplicates: usize,
    /// Subscribers that received events out of cursor order.
    pub out_of_order: usize,
    /// Sum of the hub processes' VmRSS (kB) after the warm-up and at the end of the load.
    pub rss_start_kb: u64,
    pub rss_end_kb: u64,
    /// The end-of-load VmRSS (kB) of each target.
    pub rss_by_target: Vec<(&'static str, u64)>,
    /// VmRSS (kB) of each target through the run: when it was taken, and the values.
    pub rss_samples: Vec<(Duration, Vec<(&'static str, u64)>)>,
    /// When Redis was killed (from the start of the load), for how long, and the status changes
    /// made (and answered with success) while it was down.
    pub redis_outage: Option<(Duration, Duration, usize)>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.dashboard.errors.len()
            + self.traces.errors.len()
            + self.changes.errors.len()
            + self.subscriber_errors.len()
    }

    /// RSS growth from the end of the warm-up to the end of the load, as a fraction.
    pub fn rss_growth(&self) -> f64 {
        (self.rss_end_kb as f64 - self.rss_start_kb as f64) / (self.rss_start_kb.max(1) as f64)
    }

    /// What must hold and does not: errors, lost or duplicated events, order, and (when
    /// `max_rss_growth` is given) memory growth.
    pub fn failures(&self, max_rss_growth: Option<f64>) -> Vec<String> {
        let mut failures = Vec::new();
        if self.errors() > 0 {
            failures.push(format!("{} errors (must be 0)", self.errors()));
        }
        if self.lost > 0 {
            failures.push(format!("{} events lost (must be 0)", self.lost));
        }
        if self.duplicates > 0 || self.out_of_order > 0 {
            failures.push(format!(
                "{} duplicate deliveries, {} subscribers out of order (must be 0)",
                self.duplicates, self.out_of_order
            ));
        }
        if let Some(max) = max_rss_growth
            && self.rss_growth() > max
        {
            failures.push(format!(
                "RSS grew {:.1} % after the warm-up (at most {:.0} %)",
                self.rss_growth() * 100.0,
                max * 100.0
            ));
        }
        failures
    }

    pub fn print(&self) {
        let o = &self.options;
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let requests = self.dashboard.latencies.len() + self.traces.latencies.len() + self.changes.latencies.len();
        println!(
            "soak through the gateway: {:.0} s, {} subscribers ({} graphql-ws, {} SSE), {} readers, {} status changes/s",
            secs,
            o.subscribers,
            o.subscribers.div_ceil(2),
            o.subscribers / 2,
            o.readers,
            o.changes_per_second
        );
        println!(
            "  {} subscribers live in {:.1} s (each had an event)",
            o.subscribers,
            self.opened.as_secs_f64()
        );
        if let Some((at, length, during)) = self.redis_outage {
            println!(
                "  Redis killed at {:.0} s of the load for {:.0} s; {during} status changes made meanwhile",
                at.as_secs_f64(),
                length.as_secs_f64()
            );
        }
        println!(
            "  throughput: {requests} requests, {:.1} requests/s",
            requests as f64 / secs
        );
        for (name, kind) in [
            ("dashboard reads", &self.dashboard),
            ("traces", &self.traces),
            ("status changes", &self.changes),
        ] {
            println!(
                "  {name}: {} ({:.1}/s), {}, errors {}",
                kind.latencies.len(),
                kind.latencies.len() as f64 / secs,
                percentiles(kind.latencies.clone()),
                kind.errors.len()
            );
            for e in kind.errors.iter().take(3) {
                println!("    error: {e}");
            }
        }
        println!(
            "  events: {} logged, {} deliveries ({:.0}/s), lost {}, duplicates {}, out of order {}, subscriber errors {}",
            self.logged,
            self.delivered,
            self.delivered as f64 / secs,
            self.lost,
            self.duplicates,
            self.out_of_order,
            self.subscriber_errors.len()
        );
        for e in self.subscriber_errors.iter().take(3) {
            println!("    subscriber error: {e}");
        }
        for l in self.lost_by.iter().take(5) {
            println!("    lost: {l}");
        }
        println!("  errors: {} (must be 0)", self.errors());
        let by_target: Vec<String> = self
            .rss_by_target
            .iter()
            .map(|(t, kb)| format!("{t} {} MB", kb / 1024))
            .collect();
        println!(
            "  RSS of the hub processes: {} MB after the warm-up ({} s), {} MB at the end ({:+.1} %; {})",
            self.rss_start_kb / 1024,
            o.warm_up.as_secs(),
            self.rss_end_kb / 1024,
            self.rss_growth() * 100.0,
            by_target.join(", ")
        );
        println!("  RSS through the run (MB; all processes, gateway, events):");
        for (at, sample) in &self.rss_samples {
            let of = |t: &str| sample.iter().find(|(n, _)| *n == t).map_or(0, |(_, kb)| kb / 1024);
            let all: u64 = sample.iter().map(|(_, kb)| kb).sum();
            println!(
                "    {:>4} s  {:>5}  {:>5}  {:>5}",
                at.as_secs(),
                all / 1024,
                of("gateway"),
                of("events")
            );
        }
    }
}

/// Raises this process's soft limit of open files to its hard limit (the processes it starts
/// inherit it): a thousand subscribers are a thousand sockets here and two thousand in the
/// gateway.
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct passed, nothing else.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// VmRSS (kB) of each running hub process.
fn rss(split: &Split) -> Vec<(&'static str, u64)> {
    TARGETS
        .iter()
        .filter_map(|t| Some((*t, status_kb(&split.pid(t)?.to_string(), "VmRSS:")?)))
        .collect()
}

/// What the dashboard reads and traces ask for: territories and plans of the generated cascade,
/// and its regional measures.
struct Cascade {
    territories: Vec<String>,
    plans: Vec<String>,
    measures: Vec<String>,
}

/// Generates a small cascade straight into the database (as `roadmap-hub generate` does).
async fn cascade(database_url: &str) -> anyhow::Result<Cascade> {
    let mut conn = roadmap_common::db::connect_one(database_url).await?;
    let params = roadmap_hub::generate::Params {
        regions: 1,
        municipalities: 3,
        schools: 2,
        seed: 1,
    };
    roadmap_hub::generate::load(&mut conn, params, chrono::Local::now().date_naive(), false).await?;
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT m.id::text, p.id::text, p.territory_id::text FROM plans.measure m JOIN plans.plan p ON p.id = m.plan_id \
         WHERE p.source_key LIKE 'generated:%' AND p.territory_id IS NOT NULL ORDER BY p.level <> 'REGIONAL', m.id LIMIT 200",
    )
    .fetch_all(&mut conn)
    .await?;
    anyhow::ensure!(!rows.is_empty(), "the generated cascade has no measures");
    let mut c = Cascade {
        territories: Vec::new(),
        plans: Vec::new(),
        measures: Vec::new(),
    };
    for (measure, plan, territory) in rows {
        c.measures.push(measure);
        if !c.plans.contains(&plan) {
            c.plans.push(plan);
        }
        if !c.territories.contains(&territory) {
            c.territories.push(territory);
        }
    }
    c.measures.truncate(20);
    Ok(c)
}

/// The plan's status-change cursors in the log, in order, read through the gateway page by page.
async fn logged(admin: &Gateway, filter: &Value) -> anyhow::Result<Vec<i64>> {
    let mut cursors = Vec::new();
    let mut after = "0".to_string();
    loop {
        let data = admin
            .gql(
                "query($f: EventFilter, $after: String) { events(filter: $f, after: $after, first: 1000) { cursor } }",
                json!({ "f": filter, "after": after }),
            )
            .await?;
        let page: Vec<i64> = data["events"]
            .as_array()
            .context("events")?
            .iter()
            .filter_map(|e| e["cursor"].as_str()?.parse().ok())
            .collect();
        let full = page.len() == 1000;
        if let Some(last) = page.last() {
            after = last.to_string();
        }
        cursors.extend(page);
        if !full {
            return Ok(cursors);
        }
    }
}

/// One subscriber's take: cursors received in order, and why its streams ended.
struct Received {
    transport: Transport,
    cursors: Vec<i64>,
    endings: Vec<String>,
}

/// Reads, keeping the last cursor it received in `latest`, until that reaches `until` (unknown,
/// `i64::MAX`, while the load runs) or `stop`.
async fn subscriber(
    transport: Transport,
    gateway: String,
    filter: Value,
    latest: Arc<AtomicI64>,
    until: Arc<AtomicI64>,
    stop: Arc<AtomicBool>,
) -> Received {
    let mut sub = Subscriber::new(transport, &gateway, filter, "cursor");
    let mut cursors = Vec::new();
    let finished = || latest.load(Ordering::SeqCst) >= until.load(Ordering::SeqCst) || stop.load(Ordering::SeqCst);
    while !finished() {
        // Returns on each event (taken below), or soon after the end of the load is decided.
        let read = sub
            .read_until(Duration::from_secs(24 * 3600), |e| !e.is_empty() || finished())
            .await;
        if let Err(e) = read {
            sub.endings.push(format!("{e:#}"));
            break;
        }
        for event in sub.events.drain(..) {
            if let Some(cursor) = event["cursor"].as_str().and_then(|c| c.parse::<i64>().ok()) {
                cursors.push(cursor);
                latest.store(cursor, Ordering::SeqCst);
            }
        }
    }
    let endings = std::mem::take(&mut sub.endings);
    sub.close().await;
    Received {
        transport,
        cursors,
        endings,
    }
}

/// Starts a split deployment of `bin`, runs the load of `options` through its gateway, checks
/// every subscriber against the log, and stops everything; returns the figures.
pub async fn run(bin: &Path, options: &Options) -> anyhow::Result<Report> {
    raise_open_files_limit();
    let database_url = format!("{}/roadmap_soak_{}", crate::server_url(), uuid::Uuid::new_v4().simple());
    let mut split = Split::start(bin, database_url.clone(), &[]).await?;
    let result = load(&mut split, options).await;
    split.finish().await?;
    result
}

/// Opens the subscribers over a ramp, each from cursor 0, changing `warm` every 500 ms until each
/// of them has an event; returns them and how many changes that took. Subscribers that joined
/// late get the earlier changes by replay: each owes the plan's whole log.
async fn open_subscribers(
    split: &Split,
    admin: &Gateway,
    o: &Options,
    filter: &Value,
    warm: &str,
    until: &Arc<AtomicI64>,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<(Vec<tokio::task::JoinHandle<Received>>, usize)> {
    let ramp = (o.warm_up / 2).min(Duration::from_secs(10));
    let (mut latest, mut tasks) = (Vec::new(), Vec::new());
    for i in 0..o.subscribers {
        let transport = if i % 2 == 0 { Transport::Ws } else { Transport::Sse };
        let at = ramp.mul_f64(i as f64 / o.subscribers.max(1) as f64);
        let last = Arc::new(AtomicI64::new(0));
        latest.push(last.clone());
        let (gateway, filter, until, stop) = (split.gateway(), filter.clone(), until.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(at).await;
            subscriber(transport, gateway, filter, last, until, stop).await
        }));
    }
    let deadline = Instant::now() + ramp + Duration::from_secs(120);
    let mut status = ["IN_PROGRESS", "DONE"].iter().cycle();
    let mut warm_changes = 0;
    while latest.iter().any(|l| l.load(Ordering::SeqCst) == 0) {
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} of {} subscribers saw no warm-up event",
            latest.iter().filter(|l| l.load(Ordering::SeqCst) == 0).count(),
            o.subscribers
        );
        admin.set_status(warm, status.next().unwrap_or(&"DONE")).await?;
        warm_changes += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok((tasks, warm_changes))
}

async fn load(split: &mut Split, o: &Options) -> anyhow::Result<Report> {
    let admin = split.admin()?;
    let cascade = Arc::new(cascade(&split.database_url).await?);
    let (plan, measures) = approved_plan(&admin, "Край нагрузки", "Нагрузка", 10).await?;
    let filter = json!({ "plan": plan, "kinds": ["MEASURE_STATUS_CHANGED"] });
    let (warm, measures) = measures.split_first().context("the plan has measures")?;

    let until = Arc::new(AtomicI64::new(i64::MAX));
    let stop = Arc::new(AtomicBool::new(false));
    let opening = Instant::now();
    let (subscribers, warm_changes) = open_subscribers(split, &admin, o, &filter, warm, &until, &stop).await?;
    let opened = opening.elapsed();

    let started = Instant::now();
    let end = started + o.duration;
    let mut readers = Vec::new();
    for r in 0..o.readers {
        let (admin, cascade) = (admin.clone(), cascade.clone());
        readers.push(tokio::spawn(async move {
            let (mut dashboard, mut traces) = (Kind::default(), Kind::default());
            let mut i = r;
            while Instant::now() < end {
                let at = Instant::now();
                let pick = |list: &[String]| list[i % list.len()].clone();
                match i % 3 {
                    0 => {
                        let vars = json!({ "id": pick(&cascade.territories) });
                        let answer = admin.gql(roadmap_web::operations::TERRITORY.document, vars).await;
                        dashboard.record(at, answer.map(drop));
                    }
                    1 => {
                        let vars = json!({ "id": pick(&cascade.plans) });
                        let answer = admin.gql(roadmap_web::operations::PLAN.document, vars).await;
                        dashboard.record(at, answer.map(drop));
                    }
                    _ => {
                        // Regional measures: their page asks three levels down.
                        let vars = json!({ "id": pick(&cascade.measures), "down": 3 });
                        let answer = admin.gql(roadmap_web::operations::MEASURE.document, vars).await;
                        traces.record(at, answer.map(drop));
                    }
                }
                i += 1;
            }
            (dashboard, traces)
        }));
    }

    // Status changes at a steady rate, one after another; each measure flips IN_PROGRESS, then
    // DONE, round after round: every call is a change.
    let mut changes = Kind::default();
    let mut made = 0usize;
    let mut rss_start = None;
    let mut rss_samples = Vec::new();
    let sample_every = (o.duration / 20).max(Duration::from_secs(1));
    let every = Duration::from_secs_f64(1.0 / o.changes_per_second.max(0.01));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let outage_at = o.warm_up + o.duration.saturating_sub(o.warm_up) / 3;
    let mut outage: Option<(Duration, Duration, usize)> = None;
    let mut redis_down = false;
    while Instant::now() < end {
        tick.tick().await;
        if let Some(length) = o.redis_outage {
            let now = started.elapsed();
            if outage.is_none() && now >= outage_at {
                split.redis.kill().await;
                redis_down = true;
                outage = Some((now, length, 0));
            } else if let Some((at, _, _)) = outage
                && redis_down
                && now >= at + length
            {
                split.redis.start_again().await?;
                redis_down = false;
            }
        }
        if rss_start.is_none() && started.elapsed() >= o.warm_up {
            rss_start = Some(rss(split));
        }
        if started.elapsed() >= sample_every * (rss_samples.len() as u32 + 1) {
            rss_samples.push((started.elapsed(), rss(split)));
        }
        let n = changes.latencies.len();
        let measure = &measures[n % measures.len()];
        let status = if (n / measures.len()).is_multiple_of(2) {
            "IN_PROGRESS"
        } else {
            "DONE"
        };
        let at = Instant::now();
        let result = admin.set_status(measure, status).await;
        made += usize::from(result.is_ok());
        if redis_down
            && result.is_ok()
            && let Some((_, _, during)) = outage.as_mut()
        {
            *during += 1;
        }
        changes.record(at, result);
    }
    if redis_down {
        split.redis.start_again().await?;
    }
    let rss_end = rss(split);
    let elapsed = started.elapsed();
    let (mut dashboard, mut traces) = (Kind::default(), Kind::default());
    for reader in readers {
        let (d, t) = reader.await.context("reader task")?;
        dashboard.latencies.extend(d.latencies);
        dashboard.errors.extend(d.errors);
        traces.latencies.extend(t.latencies);
        traces.errors.extend(t.errors);
    }

    // The plan's whole log (warm-up and load) is what every subscriber owes: each asked for it
    // with `after: "0"`, however late it joined.
    let made = warm_changes + made;
    let mut log = logged(&admin, &filter).await?;
    let settle = Instant::now() + Duration::from_secs(30);
    while log.len() < made && Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(200)).await;
        log = logged(&admin, &filter).await?;
    }
    until.store(log.last().copied().unwrap_or(0), Ordering::SeqCst);
    let drained = tokio::time::timeout(o.drain, async {
        while subscribers.iter().any(|s| !s.is_finished()) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    if drained.is_err() {
        stop.store(true, Ordering::SeqCst);
    }
    let wanted: std::collections::BTreeSet<i64> = log.iter().copied().collect();
    let mut report = Report {
        options: o.clone(),
        opened,
        elapsed,
        dashboard,
        traces,
        changes,
        logged: log.len(),
        delivered: 0,
        subscriber_errors: Vec::new(),
        lost: made.saturating_sub(log.len()),
        lost_by: Vec::new(),
        duplicates: 0,
        out_of_order: 0,
        rss_start_kb: rss_start
            .unwrap_or_else(|| rss_end.clone())
            .iter()
            .map(|(_, kb)| kb)
            .sum(),
        rss_end_kb: rss_end.iter().map(|(_, kb)| kb).sum(),
        rss_by_target: rss_end,
        rss_samples,
        redis_outage: outage,
    };
    for task in subscribers {
        let received = task.await.context("subscriber task")?;
        report.delivered += received.cursors.len();
        report.subscriber_errors.extend(received.endings);
        let got: std::collections::BTreeSet<i64> = received.cursors.iter().copied().collect();
        let missed: Vec<i64> = wanted.difference(&got).copied().collect();
        if !missed.is_empty() {
            report.lost_by.push(format!(
                "{:?} subscriber held {} of {}, missed cursors {:?}",
                received.transport,
                got.len(),
                wanted.len(),
                &missed[..missed.len().min(5)]
            ));
        }
        report.lost += missed.len();
        report.duplicates +=
            received.cursors.len() - received.cursors.iter().collect::<std::collections::BTreeSet<_>>().len();
        report.out_of_order += usize::from(received.cursors.windows(2).any(|w| w[0] >= w[1]));
    }
    Ok(report)
}
