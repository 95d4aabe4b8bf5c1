//! Keeps the stored reach warm (where each measure is carried out, migration `0015_reach`, read
//! by `crate::store::reached`).
//!
//! A change in the cascade (a link, a plan's state or territory) bumps the generation of every
//! measure above it, so the next reader of such a measure computes its reach again: for a
//! federal measure of a national cascade that is a walk over ~75,000 links, seconds. The warmer
//! does that walk in the background instead, so readers keep finding a current row. Decisions:
//!
//! - It recomputes only roots that somebody has read before (`computed` set, unequal to
//!   `generation`; a partial index finds them): a bulk load bumps every measure with an
//!   implementer, and computing all of them ahead of any reader would be work nobody asked for.
//! - [`BATCH`] roots per statement, the one statement readers use (through
//!   `store::reached_territories`, which does not send back the measure ids it stores), so what
//!   the warmer stores obeys the same generation check: a change committed while it computes
//!   wins, and the root stays to be computed again.
//! - A pass runs every [`TICK`] until nothing is left; a log line says how many roots it
//!   computed and how long it took (`info` when it computed any). A failed pass is logged and
//!   retried at the next tick. Readers never wait for it: a stale root is computed by its
//!   reader as before.

use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::watch;

use roadmap_common::ServiceResult;

use crate::store;

/// Roots computed per statement.
pub const BATCH: i64 = 16;
/// Pause between passes.
pub const TICK: Duration = Duration::from_secs(1);

/// One pass: computes and stores every root read before whose stored reach is out of date, in
/// batches; returns how many it computed.
pub async fn pass(pool: &PgPool, shutdown: Option<&watch::Receiver<bool>>) -> ServiceResult<usize> {
    let mut computed = 0;
    loop {
        if shutdown.is_some_and(|s| *s.borrow()) {
            return Ok(computed);
        }
        let roots = store::stale_reach_roots(pool, BATCH).await?;
        if roots.is_empty() {
            return Ok(computed);
        }
        store::reached_territories(pool, &roots).await?;
        computed += roots.len();
    }
}

/// The warmer's loop, until `shutdown`.
pub async fn run(pool: PgPool, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        let started = Instant::now();
        match pass(&pool, Some(&shutdown)).await {
            Ok(0) => {}
            Ok(roots) => tracing::info!(
                roots,
                ms = started.elapsed().as_millis() as u64,
                "reach warmer pass: stored reach computed again"
            ),
            Err(e) => {
                let cause = e.cause();
                tracing::warn!(error = %cause, "reach warmer pass failed; retrying at the next tick");
            }
        }
        if roadmap_common::periodic::pause(TICK, &mut shutdown).await {
            return;
        }
    }
}
