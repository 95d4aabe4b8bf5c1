//! The deadline watcher: when a measure's structured deadline passes without the measure being
//! done (or cancelled), a `DEADLINE_MISSED` event is produced, once.
//!
//! - **Deadline** is the measure's `due_on`, the last day of its structured schedule (see
//!   `import::schedule_bounds`); it is missed when it lies before today by the hub's clock
//!   (`ROADMAP_CLOCK`, [`roadmap_common::clock`]) — the same rule that makes the effective status
//!   OVERDUE (`cascade::effective_status_now`). **Today is local**: the day in the time zone of
//!   the plan's territory (`plan.time_zone`, Moscow when unset), so a Zabaykalsky measure due
//!   10 March is missed at 15:00 UTC that day (midnight in Chita), a Kaliningrad one at 22:00
//!   UTC. Each pass reads the zones the plans are in once ([`Today::of`]); a plan with a zone not
//!   seen yet is judged on the next pass. `detected_on` is the plan's local day.
//! - **Once.** Each miss is a row of `deadline_miss`, keyed by (measure, due day), written in the
//!   transaction of its outbox event: re-scans and restarts find the row and emit nothing.
//!   Several replicas may run the watcher: candidate measures are locked `FOR UPDATE SKIP
//!   LOCKED` and the key refuses a second row, so two watchers never emit the same miss.
//! - **A moved deadline is a new deadline.** When a re-import moves a measure's due day, the
//!   (measure, new day) pair has no row: if the new day passes unfinished too, a second event is
//!   produced. Moving it back to a day already missed emits nothing again.
//! - Marking a measure DONE after the miss does not withdraw the event (it happened); the
//!   effective status then shows DONE.
//! - **When.** [`run`] passes once at start, then every `interval` (the hub's
//!   `deadline_interval`, `ROADMAP_DEADLINE_INTERVAL`).
//! - **A backlog** (a database loaded with a year of unfinished measures: a million misses at
//!   once) is worked through, not swallowed: a pass flags in batches of [`BATCH`] measures, one
//!   transaction each (one statement flags a batch and reads its events' context, one insert
//!   writes its events), walking candidates in (due day, id) order from a cursor; it stops after
//!   [`PASS_BATCHES`] batches, and while a backlog remains the next pass follows after
//!   [`BACKLOG_PAUSE`] from where the last one stopped, instead of waiting the interval. Between
//!   passes the hub serves requests and the relay carries the events on; shutdown is honoured
//!   between batches.
//! - **Observable.** After every pass the backlog left is counted into the gauge
//!   `roadmap_deadlines_pending{subgraph="plans"}` and a log line says what the pass did
//!   (`flagged`, `pending`, `batches`, `ms`): `info` when it flagged something, else `debug`.

use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::watch;

use roadmap_common::clock::Clock;
use roadmap_common::{ServiceError, ServiceResult};

pub use crate::store::Today;
use crate::store::{self, MissCursor};

/// Measures flagged per transaction.
pub const BATCH: i64 = 1000;
/// Batches per pass at most (so a pass flags at most 50,000 measures).
pub const PASS_BATCHES: usize = 50;
/// Pause between passes while a backlog remains.
pub const BACKLOG_PAUSE: Duration = Duration::from_secs(1);

/// One batch in one transaction: flags up to [`BATCH`] measures whose deadline passed before
/// `today` (in their plans' zones), after `after`, and writes their `DEADLINE_MISSED` events;
/// returns how many were flagged and the cursor after the last one.
pub async fn scan_batch(
    pool: &PgPool,
    today: &Today,
    after: Option<MissCursor>,
) -> ServiceResult<(usize, Option<MissCursor>)> {
    let mut tx = pool.begin().await?;
    let missed = store::flag_missed_deadlines(&mut tx, today, after, BATCH).await?;
    crate::outbox::deadlines_missed(&mut tx, &missed).await?;
    tx.commit().await.map_err(ServiceError::from)?;
    let cursor = missed.last().map(|m| (m.due_on, m.measure_id)).or(after);
    Ok((missed.len(), cursor))
}

/// What one pass did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pass {
    /// Measures flagged (events written).
    pub flagged: usize,
    pub batches: usize,
    /// Where to resume: `Some` when the pass stopped at its bound (or on shutdown) with
    /// candidates possibly left after it, `None` when it reached the end.
    pub resume: Option<MissCursor>,
    /// The backlog left after the pass (also in `roadmap_deadlines_pending`).
    pub pending: i64,
}

/// One pass: batches from `from` until fewer than a batch is left (the rest, if any, is locked by
/// another watcher or a status change and is seen on a later pass), at most `max_batches`, or
/// until `stop` turns true. Counts the backlog left into the pending gauge.
pub async fn pass(
    pool: &PgPool,
    today: impl Into<Today>,
    from: Option<MissCursor>,
    max_batches: usize,
    stop: Option<&watch::Receiver<bool>>,
) -> ServiceResult<Pass> {
    let today = today.into();
    let (mut flagged, mut batches, mut cursor) = (0, 0, from);
    let resume = loop {
        let (n, next) = scan_batch(pool, &today, cursor).await?;
        flagged += n;
        batches += 1;
        cursor = next;
        if (n as i64) < BATCH {
            break None;
        }
        if batches >= max_batches || stop.is_some_and(|s| *s.borrow()) {
            break cursor;
        }
    };
    let pending = store::pending_missed_deadlines(pool, today).await?;
    roadmap_common::metrics::metrics()
        .deadlines_pending
        .with_label_values(&[crate::NAME])
        .set(pending);
    Ok(Pass {
        flagged,
        batches,
        resume,
        pending,
    })
}

/// Passes until the end is reached (or `stop` turns true); returns how many were flagged.
pub async fn scan(
    pool: &PgPool,
    today: impl Into<Today>,
    stop: Option<&watch::Receiver<bool>>,
) -> ServiceResult<usize> {
    let today = today.into();
    let mut total = 0;
    let mut from = None;
    loop {
        let p = pass(pool, today.clone(), from, PASS_BATCHES, stop).await?;
        total += p.flagged;
        from = p.resume;
        if from.is_none() || stop.is_some_and(|s| *s.borrow()) {
            return Ok(total);
        }
    }
}

/// The watcher task of the plans target: a pass at start, then one every `interval` (after
/// [`BACKLOG_PAUSE`] while a backlog remains), until `shutdown` turns true. Failed passes are
/// logged and retried at the next tick.
pub async fn run(pool: PgPool, clock: Clock, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut resume: Option<(Today, MissCursor)> = None;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let today = Today::of_or_default(&pool, &clock, "deadline watcher").await;
        // A new day starts from the beginning: the cursor is only good for the days it was made on.
        let from = resume.take().filter(|r| r.0 == today).map(|r| r.1);
        let started = Instant::now();
        let wait = match pass(&pool, today.clone(), from, PASS_BATCHES, Some(&shutdown)).await {
            Ok(p) => {
                let ms = started.elapsed().as_millis() as u64;
                if p.flagged > 0 {
                    tracing::info!(today = %today.latest(), flagged = p.flagged, pending = p.pending, batches = p.batches, ms,
                        "deadline watcher pass: deadlines missed");
                } else {
                    tracing::debug!(today = %today.latest(), pending = p.pending, ms, "deadline watcher pass: no new misses");
                }
                resume = p.resume.map(|c| (today, c));
                if resume.is_some() {
                    BACKLOG_PAUSE.min(interval)
                } else {
                    interval
                }
            }
            Err(e) => {
                let cause = e.cause();
                tracing::warn!(today = %today.latest(), error = %cause, "deadline watcher pass failed; retrying at the next tick");
                interval
            }
        };
        if roadmap_common::periodic::pause(wait, &mut shutdown).await {
            return;
        }
    }
}
