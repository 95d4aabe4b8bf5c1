//! What the benches over a generated cascade share (`trace`, `peer`, `pages`, `rollups`): the dataset named by the
//! environment, generated when absent, the wait for the deadline watcher's backlog of a fresh
//! one, the regional measures whose traces are timed, and percentiles.
//!
//! `BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/roadmap_bench_national`);
//! sizes `BENCH_REGIONS` × `BENCH_MUNICIPALITIES` × `BENCH_SCHOOLS` (default 89 × 26 × 17, the
//! national scale) and `BENCH_SEED` (default 1).

// Each bench uses the part it needs.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use roadmap_hub::generate::{self, Params};
use sqlx::{PgConnection, PgPool};

/// `name` from the environment, parsed; `default` when unset or not parsable.
pub fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The bench database and the cascade it should hold.
pub struct Dataset {
    pub url: String,
    pub params: Params,
}

impl Dataset {
    pub fn from_env() -> Dataset {
        Dataset {
            url: std::env::var("BENCH_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/roadmap_bench_national".to_string()),
            params: Params {
                regions: env("BENCH_REGIONS", 89),
                municipalities: env("BENCH_MUNICIPALITIES", 26),
                schools: env("BENCH_SCHOOLS", 17),
                seed: env("BENCH_SEED", 1),
            },
        }
    }

    /// Generates the cascade into the (migrated) database unless one of the same seed is there,
    /// dated around `today`, then ANALYZEs it.
    pub async fn ensure(&self, conn: &mut PgConnection, today: NaiveDate) -> anyhow::Result<()> {
        if generate::exists(conn, self.params.seed).await? {
            return Ok(());
        }
        let started = Instant::now();
        let measures = generate::load(conn, self.params, today, true).await?;
        println!(
            "generated {measures} measures in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        sqlx::query("ANALYZE").execute(conn).await?;
        Ok(())
    }
}

/// A freshly generated database has a backlog of missed deadlines: waits (up to 30 minutes) until
/// the plans target's deadline watcher and outbox relay are through it, so that the figures are
/// the traces' own. `plans`: a pool on the plans schema; `today`: the hub's today.
pub async fn wait_for_backlog(plans: &PgPool, today: impl Fn() -> NaiveDate) -> anyhow::Result<()> {
    let waited = Instant::now();
    loop {
        let pending = roadmap_plans::store::pending_missed_deadlines(plans, today())
            .await
            .map_err(|e| anyhow::anyhow!(e.message()))?;
        let unpublished = roadmap_common::outbox::unpublished(plans).await?;
        if pending == 0 && unpublished == 0 {
            break;
        }
        anyhow::ensure!(
            waited.elapsed() < Duration::from_secs(1800),
            "the deadline backlog is not through after 30 minutes"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    if waited.elapsed() > Duration::from_secs(2) {
        println!(
            "waited {:.0} s for the deadline watcher's backlog",
            waited.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The first `count` measures of generated regional plans (by id): the roots of the timed traces.
pub async fn regional_roots(conn: &mut PgConnection, count: usize) -> anyhow::Result<Vec<uuid::Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT m.id FROM plans.measure m JOIN plans.plan p ON p.id = m.plan_id \
         WHERE p.level = 'REGIONAL' AND p.source_key LIKE 'generated:%' ORDER BY m.id LIMIT $1",
    )
    .bind(count as i64)
    .fetch_all(conn)
    .await?)
}

/// The `q` quantile (0..=1) of sorted durations, in milliseconds; NaN when there are none.
pub fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0
}

/// "p50 …, p95 …, max … ms" of `v`.
pub fn stats(mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        percentile(&v, 0.5),
        percentile(&v, 0.95),
        percentile(&v, 1.0)
    )
}
