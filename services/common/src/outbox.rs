//! The transactional outbox and its relay.
//!
//! A producing service (plans, indicators) writes an [`OutboxEvent`] with [`record`] inside the
//! transaction of the change it reports, so the event exists exactly when the change commits.
//! [`run_relay`] (one background task per producing service) moves unpublished rows, oldest
//! first, to the [`Publisher`] and marks them published. Publishing is at least once: a crash
//! between publishing and marking re-publishes, and the consumer inserts by event id, once.
//!
//! Transports:
//! - [`Publisher::redis`]: `XADD <stream> * event <json>` to a Redis Stream (`roadmap:events` by
//!   default); the events service reads it with a consumer group.
//! - [`Publisher::in_process`]: an in-process channel to the events target of the same process,
//!   used when no `REDIS_URL` is configured (a laptop, `up`, tests); rows are marked published
//!   only once the consumer has stored them. Nothing crosses processes this way: a split
//!   deployment needs Redis. When no events target listens, sends fail and rows stay in the outbox.
//!
//! When the transport is down, rows stay unpublished and the relay retries with exponential
//! backoff (100 ms doubling to 5 s): nothing is lost.
//!
//! Each published batch is a root span `outbox relay` ([`relay_once`]); `outbox_lag_events`
//! is refreshed after every pass.
//!
//! **Trace context.** [`OutboxEvent::new`] keeps the W3C `traceparent` of the span it is made in
//! (the mutation's request, when traces are exported) in the row's `traceparent` column. The
//! relay publishes each event in an `outbox publish` span continuing that trace (a child of the
//! batch span when the event has none) and hands on that span's `traceparent` with the event:
//! in the JSON of the Redis entry, or the in-process batch. The consumer continues from there
//! (see the events crate).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::Instrument;
use uuid::Uuid;

/// Default Redis Stream of status-change events.
pub const DEFAULT_STREAM: &str = "roadmap:events";

/// Event kinds the producers emit.
pub mod kind {
    pub const MEASURE_STATUS_CHANGED: &str = "MEASURE_STATUS_CHANGED";
    pub const LINK_CONFIRMED: &str = "LINK_CONFIRMED";
    pub const LINK_CHANGED: &str = "LINK_CHANGED";
    pub const TARGET_SET: &str = "TARGET_SET";
    pub const OBSERVATION_RECORDED: &str = "OBSERVATION_RECORDED";
    pub const PLAN_APPROVED: &str = "PLAN_APPROVED";
    /// A measure's deadline passed unfinished (the deadline watcher of plans).
    pub const DEADLINE_MISSED: &str = "DEADLINE_MISSED";
    /// Someone reported whether an occurrence of a measure was held.
    pub const OCCURRENCE_REPORTED: &str = "OCCURRENCE_REPORTED";
    /// A plan was imported: a new plan or a new version (subject: the plan).
    pub const PLAN_IMPORTED: &str = "PLAN_IMPORTED";
    pub const ALL: [&str; 9] = [
        MEASURE_STATUS_CHANGED,
        LINK_CONFIRMED,
        LINK_CHANGED,
        TARGET_SET,
        OBSERVATION_RECORDED,
        PLAN_APPROVED,
        DEADLINE_MISSED,
        OCCURRENCE_REPORTED,
        PLAN_IMPORTED,
    ];
}

/// One status-relevant change, as stored in the outbox and carried on the stream.
///
/// `context` is what subscribers filter on: `territory`, `plan`, `level` (strings) and
/// `ancestors` (ids of the measures the subject implements, transitively), when known.
/// `traceparent` is the W3C trace context of the step that last handled the event (absent when
/// traces are not exported and none came with the request).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct OutboxEvent {
    pub id: Uuid,
    pub kind: String,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub context: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[sqlx(default)]
    pub traceparent: Option<String>,
}

impl OutboxEvent {
    /// A new event happening now, with a fresh id, in the trace of the current span.
    pub fn new(kind: &str, subject_type: &str, subject_id: Uuid) -> Self {
        Self {
            id: Uuid::new_v4(),
            kind: kind.to_string(),
            subject_type: subject_type.to_string(),
            subject_id,
            occurred_at: Utc::now(),
            before: None,
            after: None,
            context: Value::Object(Default::default()),
            traceparent: crate::telemetry::current_traceparent(),
        }
    }

    /// The columns an event is written with (outbox and event log), in the order of
    /// [`OutboxEvent::arguments`] (`$1` to `$9`).
    pub const COLUMNS: &'static str =
        "id, kind, subject_type, subject_id, occurred_at, before, after, context, traceparent";

    /// The event's values as `$1` to `$9` of an insert into [`OutboxEvent::COLUMNS`].
    pub fn arguments(&self) -> Result<sqlx::postgres::PgArguments, sqlx::Error> {
        use sqlx::Arguments as _;
        let mut args = sqlx::postgres::PgArguments::default();
        args.add(self.id).map_err(sqlx::Error::Encode)?;
        args.add(&self.kind).map_err(sqlx::Error::Encode)?;
        args.add(&self.subject_type).map_err(sqlx::Error::Encode)?;
        args.add(self.subject_id).map_err(sqlx::Error::Encode)?;
        args.add(self.occurred_at).map_err(sqlx::Error::Encode)?;
        args.add(&self.before).map_err(sqlx::Error::Encode)?;
        args.add(&self.after).map_err(sqlx::Error::Encode)?;
        args.add(&self.context).map_err(sqlx::Error::Encode)?;
        args.add(&self.traceparent).map_err(sqlx::Error::Encode)?;
        Ok(args)
    }
}

/// Writes `event` into the `outbox` table of the connection's schema; call it with the
/// transaction of the change. Wakes the relay (a `NOTIFY` delivered at commit).
pub async fn record(conn: &mut PgConnection, event: &OutboxEvent) -> Result<(), sqlx::Error> {
    sqlx::query_with(
        &format!(
            "INSERT INTO outbox ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            OutboxEvent::COLUMNS
        ),
        event.arguments()?,
    )
    .execute(&mut *conn)
    .await?;
    wake_relay(conn).await
}

/// Writes `events` with one insert (and one wake-up of the relay): [`record`] for a batch, e.g.
/// the deadline watcher's thousand misses per transaction.
pub async fn record_many(conn: &mut PgConnection, events: &[OutboxEvent]) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        // In the slice's order: the relay publishes by `seq`.
        "INSERT INTO outbox ({}) SELECT c1, c2, c3, c4, c5, c6, c7, c8, c9 FROM unnest($1::uuid[], $2::text[], \
         $3::text[], $4::uuid[], $5::timestamptz[], $6::jsonb[], $7::jsonb[], $8::jsonb[], $9::text[]) \
         WITH ORDINALITY AS e(c1, c2, c3, c4, c5, c6, c7, c8, c9, n) ORDER BY n",
        OutboxEvent::COLUMNS
    ))
    .bind(events.iter().map(|e| e.id).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.kind.clone()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.subject_type.clone()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.subject_id).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.occurred_at).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.before.clone()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.after.clone()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.context.clone()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.traceparent.clone()).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    wake_relay(conn).await
}

/// Wakes the relay of the connection's schema: a `NOTIFY` Postgres delivers at commit.
async fn wake_relay(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify('outbox_' || current_schema(), '')")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("outbox: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("no events consumer in this process (configure REDIS_URL for a split deployment)")]
    NoConsumer,
    #[error("event {0} cannot be encoded: {1}")]
    Encode(Uuid, serde_json::Error),
}

/// A batch on the in-process channel, and how the consumer says it is in the log: the relay marks
/// the rows published only then, so a crash in between re-publishes instead of losing them.
pub struct InProcessBatch {
    pub events: Vec<OutboxEvent>,
    pub stored: oneshot::Sender<()>,
}

/// The in-process channel; the hub creates one and hands the receiver to the events target.
pub fn in_process_channel() -> (
    mpsc::UnboundedSender<InProcessBatch>,
    mpsc::UnboundedReceiver<InProcessBatch>,
) {
    mpsc::unbounded_channel()
}

/// Where the relay puts events.
pub enum Publisher {
    InProcess(mpsc::UnboundedSender<InProcessBatch>),
    Redis {
        client: redis::Client,
        stream: String,
        conn: Option<redis::aio::MultiplexedConnection>,
    },
}

impl Publisher {
    pub fn in_process(sender: mpsc::UnboundedSender<InProcessBatch>) -> Self {
        Publisher::InProcess(sender)
    }

    /// Validates the URL only; connects on first use (and again after failures).
    pub fn redis(url: &str, stream: &str) -> Result<Self, RelayError> {
        Ok(Publisher::Redis {
            client: redis::Client::open(url)?,
            stream: stream.to_string(),
            conn: None,
        })
    }

    /// `redis` or `in-process` (span attribute).
    pub fn transport(&self) -> &'static str {
        match self {
            Publisher::InProcess(_) => "in-process",
            Publisher::Redis { .. } => "redis",
        }
    }

    async fn publish(&mut self, events: &[OutboxEvent]) -> Result<(), RelayError> {
        match self {
            Publisher::InProcess(sender) => {
                let (stored, done) = oneshot::channel();
                sender
                    .send(InProcessBatch {
                        events: events.to_vec(),
                        stored,
                    })
                    .map_err(|_| RelayError::NoConsumer)?;
                match tokio::time::timeout(Duration::from_secs(30), done).await {
                    Ok(Ok(())) => Ok(()),
                    _ => Err(RelayError::NoConsumer),
                }
            }
            Publisher::Redis { client, stream, conn } => {
                if conn.is_none() {
                    let config = redis::AsyncConnectionConfig::new()
                        .set_connection_timeout(Duration::from_secs(2))
                        .set_response_timeout(Duration::from_secs(5));
                    *conn = Some(client.get_multiplexed_async_connection_with_config(&config).await?);
                }
                let Some(c) = conn.as_mut() else {
                    return Err(RelayError::NoConsumer);
                };
                let mut pipe = redis::pipe();
                for event in events {
                    let json = serde_json::to_string(event).map_err(|e| RelayError::Encode(event.id, e))?;
                    pipe.cmd("XADD")
                        .arg(stream.as_str())
                        .arg("*")
                        .arg("event")
                        .arg(json)
                        .ignore();
                }
                if let Err(e) = pipe.query_async::<()>(c).await {
                    *conn = None;
                    return Err(e.into());
                }
                Ok(())
            }
        }
    }
}

/// Publishes one batch of unpublished rows (oldest first) of `service` and marks them; returns
/// how many. Rows are locked (`FOR UPDATE SKIP LOCKED`), so several relays of one service may run.
///
/// A non-empty batch runs in a root span `outbox relay` (`service`, `transport`, `batch.size`,
/// `event.ids` comma-separated, `outcome`: `published` or `kept` with its `error`); empty polls
/// make no span. Each event is published in an `outbox publish` span (`event.id`, `event.kind`)
/// that continues the event's own trace, and goes out with that span's `traceparent`.
pub async fn relay_once(service: &str, pool: &PgPool, publisher: &mut Publisher) -> Result<usize, RelayError> {
    let mut tx = pool.begin().await?;
    let mut rows: Vec<OutboxEvent> = sqlx::query_as(&format!(
        "SELECT {} FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT 100 FOR UPDATE SKIP LOCKED",
        OutboxEvent::COLUMNS
    ))
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let span = tracing::info_span!(
        parent: None,
        "outbox relay",
        service,
        transport = publisher.transport(),
        batch.size = rows.len(),
        event.ids = %ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(","),
        outcome = tracing::field::Empty,
        error = tracing::field::Empty,
    );
    // Ended (dropped) once the batch is published or kept.
    let _publish_spans: Vec<tracing::Span> = rows
        .iter_mut()
        .map(|row| {
            let publish = tracing::info_span!(
                parent: &span,
                "outbox publish",
                event.id = %row.id,
                event.kind = %row.kind,
            );
            row.traceparent = crate::telemetry::continue_trace(&publish, row.traceparent.as_deref());
            publish
        })
        .collect();
    let result = async {
        publisher.publish(&rows).await?;
        sqlx::query("UPDATE outbox SET published_at = now() WHERE id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows.len())
    }
    .instrument(span.clone())
    .await;
    match &result {
        Ok(_) => span.record("outcome", "published"),
        Err(e) => span
            .record("outcome", "kept")
            .record("error", tracing::field::display(e)),
    };
    result
}

/// Rows not yet published (tests and health checks).
pub async fn unpublished(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(pool)
        .await
}

/// The relay of one service: runs until `shutdown` turns true. Woken by the `NOTIFY` of
/// [`record`], and polls every second in case a notification was missed.
pub async fn run_relay(
    service: &'static str,
    pool: PgPool,
    mut publisher: Publisher,
    mut shutdown: watch::Receiver<bool>,
) {
    const MIN_BACKOFF: Duration = Duration::from_millis(100);
    const MAX_BACKOFF: Duration = Duration::from_secs(5);
    let mut wakeup = Wakeup::new(format!("outbox_{service}"));
    let mut backoff = MIN_BACKOFF;
    loop {
        if *shutdown.borrow() {
            return;
        }
        wakeup.connect(&pool).await;
        let result = relay_once(service, &pool, &mut publisher).await;
        if let Ok(lag) = unpublished(&pool).await {
            crate::metrics::metrics()
                .outbox_lag
                .with_label_values(&[service])
                .set(lag);
        }
        let wait = match result {
            Ok(0) => {
                backoff = MIN_BACKOFF;
                Duration::from_secs(1)
            }
            Ok(n) => {
                tracing::debug!(service, n, "outbox rows published");
                backoff = MIN_BACKOFF;
                continue;
            }
            Err(e) => {
                tracing::warn!(service, error = %e, retry_in = ?backoff, "outbox relay cannot publish; rows kept");
                let wait = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                // Do not let a notification cut the backoff short.
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    changed = shutdown.changed() => if changed.is_err() { return },
                }
                continue;
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            changed = shutdown.changed() => if changed.is_err() { return },
            _ = wakeup.notified() => {}
        }
    }
}

/// A `LISTEN` on one channel that background tasks sleep on, next to a polling timeout: a
/// notification wakes them early, a lost connection is re-established on the next
/// [`Wakeup::connect`], and without one they only poll.
pub struct Wakeup {
    channel: String,
    listener: Option<PgListener>,
}

impl Wakeup {
    pub fn new(channel: impl Into<String>) -> Self {
        Self {
            channel: channel.into(),
            listener: None,
        }
    }

    /// Listens when not listening yet (or any more); a failure is logged and leaves polling.
    pub async fn connect(&mut self, pool: &PgPool) {
        if self.listener.is_some() {
            return;
        }
        let listener = match PgListener::connect_with(pool).await {
            Ok(mut l) => l.listen(&self.channel).await.map(|()| l),
            Err(e) => Err(e),
        };
        match listener {
            Ok(l) => self.listener = Some(l),
            Err(e) => tracing::warn!(channel = self.channel, error = %e, "cannot LISTEN; polling"),
        }
    }

    /// Resolves on the next notification, or when the connection is lost; never when not
    /// listening.
    pub async fn notified(&mut self) {
        match self.listener.as_mut() {
            Some(l) => {
                if l.recv().await.is_err() {
                    self.listener = None;
                }
            }
            None => std::future::pending().await,
        }
    }
}
