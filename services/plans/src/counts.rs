//! Stored measure counts per group of plans, for `Territory.measureCounts` at national scale,
//! and their refresher.
//!
//! Counting every measure of every plan under the country on each request (about 2 million rows
//! of the national cascade) takes seconds; so does summing even one stored row per plan (160,000
//! plans with the class plans: 0.5 s). Decisions:
//!
//! - **What is stored** (`plan_group_counts`, migration `0013_plan_counts`; per-plan rows
//!   were measured first and were too slow): one row per *group of plans*, the
//!   plans of one territory with one state, time zone and period (about one group per territory:
//!   2,404 for the national cascade), with how many plans it has (always exact) and its plans'
//!   measures by effective status *as of a day* `as_of` (OVERDUE: PLANNED or IN_PROGRESS with a
//!   due day before `as_of`; the rules of `Territory.measureCounts`), or none yet. The counts of
//!   a plan are defined once in SQL (`plan_measure_counts`) and used by the refresher, the
//!   triggers and readers alike. What readers need besides (visibility by state, plans in force
//!   by period) is in a group's key, so nothing is read from `plan` when every group is counted.
//! - **Exact at any moment.** Triggers keep each group's `plans` exact (statement-level, on
//!   `plan`: inserted, deleted, moved to another group) and its counts exact for its own `as_of`
//!   (on `measure`: INSERT, UPDATE of a plan, status or due day, DELETE, cascades included: the
//!   counted groups of the plans touched are recounted in the changing transaction). A plan
//!   moved to another group (a draft approved, a period or zone changed by a re-import) uncounts
//!   both groups rather than recounting them, so that a measure changed meanwhile by a
//!   transaction that still saw the plan in its old group is never left out of the new one;
//!   TRUNCATE uncounts every group. Counts are never wrong for their day; they are only
//!   *current* or not.
//! - **Readers** ([`crate::store::territory_counts`]) take a group's counts when its `as_of` is
//!   today in the group's zone (the request's clock, as before) and count the group's plans
//!   themselves otherwise, in the same statement: the answer never depends on whether the
//!   refresher has run, only its speed does. A zone change moves the plans to another group.
//! - **The refresher** ([`run`]) counts the groups that are not counted as of today in their
//!   zone (the hub's clock, [`Today::of`], as the deadline watcher), in batches of [`BATCH`]
//!   groups in id order, one transaction each, at most [`PASS_BATCHES`] per pass; a backlog
//!   continues after [`BACKLOG_PAUSE`]. Passes run at start, every `deadline_interval`
//!   (`ROADMAP_DEADLINE_INTERVAL`, the same tick as the watcher) and one second after midnight
//!   in any zone the plans are in, when that zone's counts stop being current.
//! - **Writers and the refresher** exclude each other with one advisory lock: a transaction that
//!   changes measures or plans holds it shared (its triggers take it) until it commits; a batch
//!   of the refresher takes it exclusively, only if it gets it at once (else the pass stops as
//!   *busy* and is retried after [`BACKLOG_PAUSE`]), and counts in a statement after it. So a
//!   batch never misses a committed change, and a change committed after it recounts the group.
//!   Two writers of one group lock its row before recounting it (in a statement after the lock),
//!   so the second counts the first's change too; writers of one territory therefore take turns
//!   at commit. Writers must run at READ COMMITTED (the triggers refuse others).
//! - **Bulk loads stay cheap**: with no group counted (a database being loaded, before the
//!   refresher's first pass) a measure trigger stops after the lock and one look at the table,
//!   whatever the number of rows a COPY wrote, and a plan trigger only adds the plans to their
//!   groups' `plans`; the refresher counts the groups after the load commits. A statement that
//!   changes measures of many counted groups at once pays for recounting each of them (about
//!   5 ms a group of the national cascade).
//! - **Observable.** After every pass a log line says what it did (`counted`, `pending`,
//!   `batches`, `busy`, `ms`): `info` when it counted groups, else `debug`; `pending` is the
//!   number of groups without counts of today.

use std::time::{Duration, Instant};

use chrono::{DateTime, Days, TimeZone, Utc};
use sqlx::PgPool;
use tokio::sync::watch;

use roadmap_common::clock::{Clock, zone_or_default};
use roadmap_common::{ServiceError, ServiceResult};

use crate::store;
pub use crate::store::Today;

/// Groups counted per transaction (about 80,000 measures of the national cascade).
pub const BATCH: i64 = 100;
/// Batches per pass at most (so a pass counts at most 10,000 groups: the national cascade's
/// 2,404 in one).
pub const PASS_BATCHES: usize = 100;
/// Pause between passes while a backlog remains or writers held the lock.
pub const BACKLOG_PAUSE: Duration = Duration::from_secs(1);

/// One batch in one transaction: counts up to [`BATCH`] groups due after `after` as of today in
/// each group's zone; returns their ids in id order, or `None` when a transaction that changed
/// measures or plans is still open (nothing done).
pub async fn count_batch(pool: &PgPool, today: &Today, after: Option<i64>) -> ServiceResult<Option<Vec<i64>>> {
    let mut tx = pool.begin().await?;
    if !store::try_lock_plan_group_counts(&mut tx).await? {
        tx.rollback().await.map_err(ServiceError::from)?;
        return Ok(None);
    }
    let counted = store::count_plan_groups(&mut tx, today, after, BATCH).await?;
    tx.commit().await.map_err(ServiceError::from)?;
    Ok(Some(counted))
}

/// What one pass did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pass {
    /// Groups counted.
    pub counted: usize,
    pub batches: usize,
    /// Whether the pass stopped because writers held the lock.
    pub busy: bool,
    /// Whether the pass reached the last group (else it stopped at its bound, on shutdown or
    /// busy, and the next pass resumes after `cursor`).
    pub done: bool,
    /// The last group counted (in id order), or where the pass started.
    pub cursor: Option<i64>,
    /// Groups left without counts of today in their zone.
    pub pending: i64,
}

/// One pass: batches from `from` until fewer than a batch is counted, at most `max_batches`,
/// until writers hold the lock, or until `stop` turns true; then counts what is left.
pub async fn pass(
    pool: &PgPool,
    today: &Today,
    from: Option<i64>,
    max_batches: usize,
    stop: Option<&watch::Receiver<bool>>,
) -> ServiceResult<Pass> {
    let (mut counted, mut batches, mut cursor, mut busy) = (0, 0, from, false);
    let done = loop {
        let Some(ids) = count_batch(pool, today, cursor).await? else {
            busy = true;
            break false;
        };
        counted += ids.len();
        batches += 1;
        cursor = ids.last().copied().or(cursor);
        if (ids.len() as i64) < BATCH {
            break true;
        }
        if batches >= max_batches || stop.is_some_and(|s| *s.borrow()) {
            break false;
        }
    };
    let pending = store::stale_plan_group_counts(pool, today).await?;
    Ok(Pass {
        counted,
        batches,
        busy,
        done,
        cursor,
        pending,
    })
}

/// Passes until the last group is reached (waiting [`BACKLOG_PAUSE`] while writers hold the
/// lock) or `stop` turns true; returns how many groups were counted.
pub async fn refresh(pool: &PgPool, today: &Today, stop: Option<&watch::Receiver<bool>>) -> ServiceResult<usize> {
    let (mut total, mut from) = (0, None);
    loop {
        let p = pass(pool, today, from, PASS_BATCHES, stop).await?;
        total += p.counted;
        from = p.cursor;
        if p.done || stop.is_some_and(|s| *s.borrow()) {
            return Ok(total);
        }
        if p.busy {
            tokio::time::sleep(BACKLOG_PAUSE).await;
        }
    }
}

/// How long from `now` until one second after the next midnight in any of `zones` (IANA names;
/// an unknown one is Moscow time, as the clock reads it).
pub fn until_next_day(zones: &[String], now: DateTime<Utc>) -> Duration {
    zones
        .iter()
        .filter_map(|zone| {
            let tz = zone_or_default(Some(zone));
            let tomorrow = now.with_timezone(&tz).date_naive().checked_add_days(Days::new(1))?;
            let midnight = tz.from_local_datetime(&tomorrow.and_hms_opt(0, 0, 0)?).earliest()?;
            (midnight.with_timezone(&Utc) - now).to_std().ok()
        })
        .min()
        .map_or(Duration::MAX, |d| d + Duration::from_secs(1))
}

/// The refresher task of the plans target: a pass at start, then one every `interval`, at the
/// turn of a day in a plans' zone, or after [`BACKLOG_PAUSE`] while a backlog remains, until
/// `shutdown` turns true. Failed passes are logged and retried at the next tick.
pub async fn run(pool: PgPool, clock: Clock, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut resume: Option<(Today, Option<i64>)> = None;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let today = Today::of_or_default(&pool, &clock, "plan counts refresher").await;
        // A cursor is only good for the days it was made on.
        let from = resume.take().filter(|r| r.0 == today).and_then(|r| r.1);
        let started = Instant::now();
        let wait = match pass(&pool, &today, from, PASS_BATCHES, Some(&shutdown)).await {
            Ok(p) => {
                let ms = started.elapsed().as_millis() as u64;
                if p.counted > 0 {
                    tracing::info!(today = %today.latest(), counted = p.counted, pending = p.pending, batches = p.batches,
                        busy = p.busy, ms, "plan counts refresher pass: groups counted");
                } else {
                    tracing::debug!(today = %today.latest(), pending = p.pending, busy = p.busy, ms,
                        "plan counts refresher pass: nothing to store");
                }
                if p.done {
                    interval.min(until_next_day(&today.zones, Utc::now()))
                } else {
                    resume = Some((today, p.cursor));
                    BACKLOG_PAUSE.min(interval)
                }
            }
            Err(e) => {
                let cause = e.cause();
                tracing::warn!(today = %today.latest(), error = %cause, "plan counts refresher pass failed; retrying at the next tick");
                interval
            }
        };
        if roadmap_common::periodic::pause(wait, &mut shutdown).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_day_starts_at_the_first_midnight_of_the_zones() {
        // 14:30 UTC on 10 March 2026: 23:30 in Chita (UTC+9), 17:30 in Moscow (UTC+3).
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 14, 30, 0).unwrap();
        let zones = |names: &[&str]| names.iter().map(|z| z.to_string()).collect::<Vec<_>>();
        assert_eq!(
            until_next_day(&zones(&["Europe/Moscow", "Asia/Chita"]), now),
            Duration::from_secs(30 * 60 + 1)
        );
        assert_eq!(
            until_next_day(&zones(&["Europe/Moscow"]), now),
            Duration::from_secs(6 * 3600 + 30 * 60 + 1)
        );
        // An unknown name is Moscow time; no zone at all, no day to wait for.
        assert_eq!(
            until_next_day(&zones(&["Nowhere/City"]), now),
            Duration::from_secs(6 * 3600 + 30 * 60 + 1)
        );
        assert_eq!(until_next_day(&[], now), Duration::MAX);
    }
}
