//! Live events and the subscription's replay.
//!
//! [`Live`] broadcasts each event the consumer newly inserted, in cursor order. [`replay`]
//! subscribes to it *before* reading the backlog after the subscriber's cursor, then sends the
//! backlog page by page, then live events, dropping any whose cursor is not above the last one
//! sent: no gap (an event committed while the backlog is read is in the broadcast) and no
//! duplicate (one both in the backlog and in the broadcast is dropped the second time). A
//! subscriber that falls behind the broadcast buffer goes back to reading the log.

use std::collections::VecDeque;

use futures::Stream;
use sqlx::PgPool;
use tokio::sync::broadcast;

use roadmap_common::ServiceError;

use crate::filter::Filter;
use crate::graphql::Event;
use crate::scope::Reader;
use crate::store::{self, EventRow};

/// Live events a subscriber may fall behind by before it reads them from the log instead.
const BUFFER: usize = 1024;

/// Backlog rows read at once.
const REPLAY_PAGE: i64 = 500;

/// Live events, newly inserted into the log, in cursor order.
#[derive(Clone)]
pub struct Live(broadcast::Sender<EventRow>);

impl Default for Live {
    fn default() -> Self {
        Live(broadcast::channel(BUFFER).0)
    }
}

impl Live {
    /// Sends a newly logged event to the subscribers there are (none is not an error).
    pub fn send(&self, row: EventRow) {
        let _ = self.0.send(row);
    }
}

/// The events of `filter` that `reader` may see after `after` (`None`: from now on), then live
/// ones. A live event is judged as it is logged: one hidden then (its plan a draft) is not sent
/// when the plan is approved later; a replay from a cursor (or `Query.events`) shows it.
pub async fn replay(
    pool: PgPool,
    live: &Live,
    filter: Filter,
    reader: Reader,
    after: Option<i64>,
) -> Result<impl Stream<Item = Result<Event, async_graphql::Error>> + use<>, ServiceError> {
    // Subscribe first, so nothing committed while the backlog is read is missed.
    let rx = live.0.subscribe();
    let last = match after {
        Some(cursor) => cursor,
        None => store::last_cursor(&pool).await?,
    };
    let replay = Replay {
        pool,
        filter,
        reader,
        rx,
        queue: VecDeque::new(),
        last,
        backlog: after.is_some(),
        _gauge: SubscriberGauge::new(),
    };
    Ok(futures::stream::unfold(replay, |mut r| async move {
        r.next().await.map(|item| (item, r))
    }))
}

struct Replay {
    pool: PgPool,
    filter: Filter,
    /// What this subscriber may see (drafts).
    reader: Reader,
    rx: broadcast::Receiver<EventRow>,
    queue: VecDeque<EventRow>,
    /// Highest cursor sent (or skipped by the backlog read); live events at or below it are dropped.
    last: i64,
    /// Still reading the backlog page by page.
    backlog: bool,
    /// Counts this subscriber in `subscribers{subgraph="events"}` while it lives.
    _gauge: SubscriberGauge,
}

impl Replay {
    async fn next(&mut self) -> Option<Result<Event, async_graphql::Error>> {
        loop {
            if let Some(row) = self.queue.pop_front() {
                self.last = self.last.max(row.cursor);
                return Some(Ok(Event(row)));
            }
            if self.backlog {
                match store::read_log(&self.pool, &self.filter, &self.reader, self.last, REPLAY_PAGE).await {
                    Ok(rows) => {
                        self.backlog = rows.len() as i64 == REPLAY_PAGE;
                        self.queue.extend(rows);
                        continue;
                    }
                    Err(e) => return Some(Err(ServiceError::from(e).into())),
                }
            }
            match self.rx.recv().await {
                Ok(row) if row.cursor > self.last && self.filter.matches(&row) && self.reader.sees(&row) => {
                    self.last = row.cursor;
                    delivery_span(&row);
                    return Some(Ok(Event(row)));
                }
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "subscriber behind the live buffer; catching up from the log"
                    );
                    self.backlog = true;
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// Marks the hand-over of a live event to one subscriber with a `subscription delivery` span in
/// the event's trace (a child of the consumer's `event consumed` span). Only when traces are
/// exported: a thousand subscribers make a thousand spans per event. Backlog events (a resume, a
/// replay) are reads of the log and make none.
fn delivery_span(row: &EventRow) {
    if row.traceparent.is_none() || !roadmap_common::telemetry::export_enabled() {
        return;
    }
    let span = tracing::info_span!(
        parent: None,
        "subscription delivery",
        event.id = %row.id,
        event.kind = %row.kind,
        cursor = row.cursor,
    );
    roadmap_common::telemetry::continue_trace(&span, row.traceparent.as_deref());
}

/// Increments the subscriber gauge on creation and decrements it when the subscription ends.
struct SubscriberGauge;

impl SubscriberGauge {
    fn new() -> Self {
        roadmap_common::metrics::metrics()
            .subscribers
            .with_label_values(&[crate::NAME])
            .inc();
        Self
    }
}

impl Drop for SubscriberGauge {
    fn drop(&mut self) {
        roadmap_common::metrics::metrics()
            .subscribers
            .with_label_values(&[crate::NAME])
            .dec();
    }
}
