//! The soak bench: a mixed load through the gateway of a split deployment of this binary for a
//! fixed time (dashboard reads, traces, status changes, 1,000 `statusChanged` subscribers over
//! graphql-ws and SSE), then the figures and what must hold. The load and its checks are
//! `roadmap_e2e::soak` (a short smoke of it runs with the tests: `gateway/tests/soak.rs`).
//!
//! Prints throughput, p50/p95/p99 per kind of request, errors (must be 0), events lost (must
//! be 0) and the hub processes' RSS after the warm-up and at the end (growth at most 10 %);
//! exits non-zero when one of these fails.
//!
//! `cargo bench -p roadmap-hub --bench soak` (release; 10 minutes, 1,000 subscribers).
//! `-- --duration 30m --subscribers 2000 --rate 20 --redis-outage 60s`, or `SOAK_DURATION` /
//! `SOAK_SUBSCRIBERS` / `SOAK_RATE` / `SOAK_REDIS_OUTAGE`, change them (`--rate`: status changes
//! per second, default 5; `--redis-outage`: kill the deployment's Redis for that long a third of
//! the way through the load, then start it again; none by default).
//! Needs PostgreSQL and `redis-server` as the tests do.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};

/// Largest RSS growth of the hub processes from the end of the warm-up to the end.
const MAX_RSS_GROWTH: f64 = 0.10;

fn options() -> anyhow::Result<roadmap_e2e::soak::Options> {
    let mut duration = std::env::var("SOAK_DURATION").unwrap_or_else(|_| "10m".into());
    let mut subscribers = std::env::var("SOAK_SUBSCRIBERS").unwrap_or_else(|_| "1000".into());
    let mut rate = std::env::var("SOAK_RATE").unwrap_or_else(|_| "5".into());
    let mut outage = std::env::var("SOAK_REDIS_OUTAGE").ok();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--duration" => duration = args.next().context("--duration needs a value (10m, 90s)")?,
            "--subscribers" => subscribers = args.next().context("--subscribers needs a count")?,
            "--rate" => rate = args.next().context("--rate needs status changes per second")?,
            "--redis-outage" => outage = Some(args.next().context("--redis-outage needs a duration (60s)")?),
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            other => bail!("unknown argument {other:?} (--duration, --subscribers, --rate, --redis-outage)"),
        }
    }
    let duration: Duration =
        roadmap_common::config::parse_duration(&duration).map_err(|e| anyhow::anyhow!("--duration: {e}"))?;
    let subscribers = subscribers.parse().context("--subscribers: a count")?;
    let rate: f64 = rate.parse().context("--rate: status changes per second")?;
    if !(rate > 0.0 && rate <= 1000.0) {
        bail!("--rate: between 0 and 1000 status changes per second, not {rate}");
    }
    let mut options = roadmap_e2e::soak::Options::bench(duration, subscribers, rate);
    options.redis_outage = outage
        .map(|o| roadmap_common::config::parse_duration(&o).map_err(|e| anyhow::anyhow!("--redis-outage: {e}")))
        .transpose()?;
    Ok(options)
}

fn main() -> anyhow::Result<ExitCode> {
    let options = options()?;
    roadmap_common::telemetry::init_with_default(roadmap_common::telemetry::LogFormat::Text, "warn");
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(roadmap_e2e::soak::run(
        env!("CARGO_BIN_EXE_roadmap-hub").as_ref(),
        &options,
    ))?;
    report.print();
    let failures = report.failures(Some(MAX_RSS_GROWTH));
    for failure in &failures {
        println!("FAILED: {failure}");
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
