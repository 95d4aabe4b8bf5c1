//! The deadline watcher: when a measure's structured deadline passes without the measure being
//! done (or cancelled), a `DEADLINE_MISSED` event is produced, once.
//!
//! - **Deadline** is the measure's `due_on`, the last day of its structured schedule (see
//!   `import::schedule_bounds`); it is missed when it lies before today by the hub's clock
//!   (`ROADMAP_CLOCK`, [`roadmap_common::clock`]) — the same rule that makes the effective status
//!   OVERDUE (`cascade::effective_status`).
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
//!   `deadline_interval`, `ROADMAP_DEADLINE_INTERVAL`); a pass works in batches of [`BATCH`]
//!   measures, one transaction each.

use std::time::Duration;

use chrono::NaiveDate;
use sqlx::PgPool;
use tokio::sync::watch;

use roadmap_common::clock::Clock;
use roadmap_common::{ServiceError, ServiceResult};

use crate::store;

/// Measures flagged per transaction.
pub const BATCH: i64 = 500;

/// One batch in one transaction: flags up to [`BATCH`] measures whose deadline passed before
/// `today` and writes their `DEADLINE_MISSED` events; returns how many were flagged.
pub async fn scan_batch(pool: &PgPool, today: NaiveDate) -> ServiceResult<usize> {
    let mut tx = pool.begin().await?;
    let missed = store::flag_missed_deadlines(&mut tx, today, BATCH).await?;
    for m in &missed {
        crate::outbox::deadline_missed(&mut tx, m).await?;
    }
    tx.commit().await.map_err(ServiceError::from)?;
    Ok(missed.len())
}

/// One pass: batches until fewer than a batch is left (the rest, if any, is locked by another
/// watcher or a status change and is seen on a later pass); returns how many were flagged.
/// Stops early when `stop` turns true.
pub async fn scan(pool: &PgPool, today: NaiveDate, stop: Option<&watch::Receiver<bool>>) -> ServiceResult<usize> {
    let mut total = 0;
    loop {
        let n = scan_batch(pool, today).await?;
        total += n;
        if (n as i64) < BATCH || stop.is_some_and(|s| *s.borrow()) {
            return Ok(total);
        }
    }
}

/// The watcher task of the plans target: a pass at start, then one every `interval`, until
/// `shutdown` turns true. Failed passes are logged and retried at the next tick.
pub async fn run(pool: PgPool, clock: Clock, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        let today = clock.today();
        match scan(&pool, today, Some(&shutdown)).await {
            Ok(0) => tracing::debug!(%today, "deadline watcher: no new misses"),
            Ok(n) => tracing::info!(%today, missed = n, "deadline watcher: deadlines missed"),
            Err(e) => {
                let cause = match &e {
                    ServiceError::Internal(cause) => cause.to_string(),
                    other => other.message(),
                };
                tracing::warn!(%today, error = %cause, "deadline watcher pass failed; retrying at the next tick");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            changed = shutdown.changed() => if changed.is_err() { return },
        }
    }
}
