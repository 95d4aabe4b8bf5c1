//! The consumer of the event stream (step 4 of "the path of an event" in the crate docs): moves
//! events from the Redis consumer group or the in-process channel into the log, and newly logged
//! ones to live subscribers; audit entries go to the audit trail. With Redis, a companion task
//! samples the consumer group into the lag and pending gauges.

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tracing::Instrument;

use roadmap_common::outbox::{InProcessBatch, OutboxEvent};
use roadmap_common::periodic::pause;

use crate::live::Live;
use crate::scope::Territories;
use crate::{GROUP, NAME, audit, store};

/// Where the consumer reads events from.
pub enum Source {
    /// The in-process channel the relays of the same process publish to (no `REDIS_URL`).
    InProcess(mpsc::UnboundedReceiver<InProcessBatch>),
    Redis {
        url: String,
        stream: String,
        consumer: String,
    },
}

/// First and longest wait between retries (inserting, reconnecting).
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// How often [`monitor_stream`] samples the consumer group.
const MONITOR_EVERY: Duration = Duration::from_secs(1);

/// Entries read from the stream at once.
const READ_COUNT: usize = 100;

/// How long one read waits for new entries, so shutdown is seen between reads.
const READ_BLOCK_MS: usize = 1000;

#[derive(Debug, thiserror::Error)]
enum ConsumeError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("event log: {0}")]
    Sql(#[from] sqlx::Error),
    /// The people subgraph did not tell an event's territory ancestry (who may see the event
    /// depends on it): the event waits, like one the log cannot take.
    #[error("people subgraph: {0}")]
    People(String),
}

/// The consumer: moves events from `source` into the log and to live subscribers until
/// `shutdown` turns true.
pub async fn consume(
    pool: sqlx::PgPool,
    live: Live,
    territories: Territories,
    source: Source,
    shutdown: watch::Receiver<bool>,
) {
    let sink = Sink {
        pool,
        live,
        territories,
    };
    match source {
        Source::InProcess(rx) => consume_in_process(&sink, rx, shutdown).await,
        Source::Redis { url, stream, consumer } => {
            let monitor = monitor_stream(&url, &stream, shutdown.clone());
            let consumer = consume_redis(&sink, &url, &stream, &consumer, shutdown);
            tokio::join!(monitor, consumer);
        }
    }
}

/// Where consumed events go: the log (with their territories), then live subscribers.
struct Sink {
    pool: sqlx::PgPool,
    live: Live,
    territories: Territories,
}

/// Stores each batch of the relays of this process, then tells the relay it is stored.
async fn consume_in_process(
    sink: &Sink,
    mut rx: mpsc::UnboundedReceiver<InProcessBatch>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let batch = tokio::select! {
            b = rx.recv() => b,
            _ = shutdown.changed() => None,
        };
        let Some(batch) = batch else { return };
        let stored = async {
            for event in &batch.events {
                // The relay waits for `stored` (or times out and keeps the rows): retry a while.
                let mut backoff = BACKOFF_FIRST;
                while let Err(e) = insert_and_notify(sink, event).await {
                    tracing::warn!(event = %event.id, error = %e, "cannot insert event; retrying");
                    if pause(backoff, &mut shutdown).await {
                        return false;
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
            true
        }
        .instrument(batch_span("in-process", batch.events.len()))
        .await;
        if !stored {
            return;
        }
        let _ = batch.stored.send(());
    }
}

/// Consumes the Redis consumer group, reconnecting with backoff, until shutdown.
async fn consume_redis(sink: &Sink, url: &str, stream: &str, consumer: &str, mut shutdown: watch::Receiver<bool>) {
    let mut backoff = BACKOFF_FIRST;
    loop {
        if *shutdown.borrow() {
            return;
        }
        match consume_connection(sink, url, stream, consumer, &mut shutdown).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(stream, error = %e, retry_in = ?backoff, "event stream consumer failed; reconnecting");
                if pause(backoff, &mut shutdown).await {
                    return;
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// One connection's worth of consuming; `Ok` only on shutdown.
async fn consume_connection(
    sink: &Sink,
    url: &str,
    stream: &str,
    consumer: &str,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), ConsumeError> {
    use redis::streams::{StreamReadOptions, StreamReadReply};

    let mut conn = join_group(url, stream).await?;
    tracing::info!(stream, group = GROUP, consumer, "consuming the event stream");
    // "0": this consumer's pending entries first (re-claimed after a crash), then ">" (new).
    let mut position = "0";
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let mut options = StreamReadOptions::default().group(GROUP, consumer).count(READ_COUNT);
        if position == ">" {
            options = options.block(READ_BLOCK_MS);
        }
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg(&options).arg("STREAMS").arg(stream).arg(position);
        let read = cmd.query_async::<Option<StreamReadReply>>(&mut conn);
        let reply = tokio::select! {
            r = read => r?,
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() { return Ok(()) }
                continue;
            }
        };
        let entries: Vec<redis::streams::StreamId> = reply
            .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
            .unwrap_or_default();
        if entries.is_empty() {
            position = ">";
            continue;
        }
        let span = batch_span("redis", entries.len());
        store_entries(sink, &mut conn, stream, entries).instrument(span).await?;
    }
}

/// Connects and creates the consumer group when missing (at `0` with `MKSTREAM`, so events
/// published before the first start are read).
async fn join_group(url: &str, stream: &str) -> Result<redis::aio::MultiplexedConnection, ConsumeError> {
    let client = redis::Client::open(url)?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Duration::from_secs(2))
        .set_response_timeout(Duration::from_secs(10));
    let mut conn = client.get_multiplexed_async_connection_with_config(&config).await?;
    let created: redis::RedisResult<()> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg(GROUP)
        .arg("0")
        .arg("MKSTREAM")
        .query_async(&mut conn)
        .await;
    match created {
        Ok(()) => Ok(conn),
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(conn),
        Err(e) => Err(e.into()),
    }
}

/// Stores each entry, then acknowledges it; an undecodable entry is logged and acknowledged (it
/// would block the group forever).
async fn store_entries(
    sink: &Sink,
    conn: &mut redis::aio::MultiplexedConnection,
    stream: &str,
    entries: Vec<redis::streams::StreamId>,
) -> Result<(), ConsumeError> {
    for entry in entries {
        let decoded: Option<OutboxEvent> = entry
            .get::<String>("event")
            .and_then(|json| serde_json::from_str(&json).ok());
        match decoded {
            Some(event) => insert_and_notify(sink, &event).await?,
            None => tracing::error!(
                stream,
                entry = entry.id,
                "undecodable event entry; acknowledged and skipped"
            ),
        }
        redis::cmd("XACK")
            .arg(stream)
            .arg(GROUP)
            .arg(&entry.id)
            .query_async::<()>(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Stores one consumed event in an `event consumed` span (event id, kind, outcome: `inserted`,
/// `duplicate` when the log had it already, `audit` for audit entries). The span continues the
/// event's trace (the relay's `outbox publish` span; inside its batch span when the event carries
/// none), and the log keeps its `traceparent`: subscription deliveries and webhook attempts
/// continue from it.
async fn insert_and_notify(sink: &Sink, event: &OutboxEvent) -> Result<(), ConsumeError> {
    let span = tracing::info_span!(
        "event consumed",
        event.id = %event.id,
        event.kind = %event.kind,
        outcome = tracing::field::Empty,
    );
    let event = &OutboxEvent {
        traceparent: roadmap_common::telemetry::continue_trace(&span, event.traceparent.as_deref()),
        ..event.clone()
    };
    async {
        let outcome = if audit::is_audit_entry(event) {
            // Audit entries go to the trail, never to subscribers.
            store::insert_audit_entry(&sink.pool, event).await?;
            "audit"
        } else {
            let territories = sink
                .territories
                .of_context(&event.context)
                .await
                .map_err(|e| ConsumeError::People(format!("{e:?}")))?;
            match store::insert(&sink.pool, event, &territories).await? {
                Some(row) => {
                    sink.live.send(row);
                    "inserted"
                }
                None => "duplicate",
            }
        };
        tracing::Span::current().record("outcome", outcome);
        Ok(())
    }
    .instrument(span)
    .await
}

/// The root span of one batch the consumer read (`transport`: `redis` or `in-process`).
fn batch_span(transport: &'static str, size: usize) -> tracing::Span {
    tracing::info_span!(parent: None, "event batch consumed", transport, batch.size = size)
}

/// Samples the consumer group of `stream` every second into `redis_stream_lag_entries` (entries
/// not yet delivered to the group: `lag` of `XINFO GROUPS`, Redis 7) and
/// `redis_stream_pending_entries` (delivered, not acknowledged: its `pending`, the count of
/// `XPENDING`). A task of its own, on its own connection, so the gauges keep moving while the
/// consumer is stuck (the log's database slow or locked) — exactly when they matter. A Redis that
/// cannot tell the lag (older than 7, or after entries were deleted) leaves that gauge as it was.
async fn monitor_stream(url: &str, stream: &str, mut shutdown: watch::Receiver<bool>) {
    let m = roadmap_common::metrics::metrics();
    let mut conn = None;
    loop {
        if *shutdown.borrow() {
            return;
        }
        match sample_group(url, stream, &mut conn).await {
            Ok(Some(group)) => {
                if let Some(lag) = group.lag {
                    m.redis_stream_lag
                        .with_label_values(&[NAME])
                        .set(i64::try_from(lag).unwrap_or(i64::MAX));
                }
                m.redis_stream_pending
                    .with_label_values(&[NAME])
                    .set(i64::try_from(group.pending).unwrap_or(i64::MAX));
            }
            // The consumer creates the group on its first connection.
            Ok(None) => {}
            Err(e) => {
                conn = None;
                tracing::debug!(stream, error = %e, "cannot sample the event stream's consumer group");
            }
        }
        if pause(MONITOR_EVERY, &mut shutdown).await {
            return;
        }
    }
}

async fn sample_group(
    url: &str,
    stream: &str,
    conn: &mut Option<redis::aio::MultiplexedConnection>,
) -> redis::RedisResult<Option<redis::streams::StreamInfoGroup>> {
    if conn.is_none() {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(Duration::from_secs(2));
        let client = redis::Client::open(url)?;
        *conn = Some(client.get_multiplexed_async_connection_with_config(&config).await?);
    }
    let Some(c) = conn.as_mut() else { return Ok(None) };
    let reply: redis::RedisResult<redis::streams::StreamInfoGroupsReply> =
        redis::cmd("XINFO").arg("GROUPS").arg(stream).query_async(c).await;
    match reply {
        Ok(r) => Ok(r.groups.into_iter().find(|g| g.name == GROUP)),
        // No stream yet.
        Err(e) if e.kind() == redis::ErrorKind::ResponseError => Ok(None),
        Err(e) => Err(e),
    }
}
