//! The events subgraph: the ordered log of status changes (`Event`, keyed by `id`, ordered by
//! `cursor`), fed by the producers' outboxes, `Subscription.statusChanged`, and webhooks.
//!
//! Layout:
//! - this file: the log, its consumer, filters, `Query.events` and the subscription;
//! - [`webhooks`]: endpoints, signed deliveries, retries, replay (its own docs);
//! - [`loaders`]: DataLoaders (events, webhooks, delivery attempts).
//!
//! # The path of an event
//!
//! 1. **Outbox.** plans (`MEASURE_STATUS_CHANGED`, `LINK_CONFIRMED`, `LINK_CHANGED`,
//!    `DEADLINE_MISSED` from its deadline watcher, `OCCURRENCE_REPORTED`, `PLAN_IMPORTED`) and
//!    indicators (`TARGET_SET`, `OBSERVATION_RECORDED`) write an outbox row in the transaction of
//!    the change ([`roadmap_common::outbox::record`]): no event without its change, no change
//!    without its event.
//! 2. **Relay.** One task per producing service ([`roadmap_common::outbox::run_relay`], started by
//!    the hub) publishes unpublished rows in order and marks them; woken by `NOTIFY` at commit,
//!    polling every second as a fallback. Transport down → rows stay, retried with backoff
//!    (100 ms doubling to 5 s).
//! 3. **Transport.** With `REDIS_URL`, the Redis Stream `ROADMAP_EVENT_STREAM` (default
//!    `roadmap:events`). Without it, an in-process channel to the events target of the same
//!    process (`up`, tests): the relay marks a batch published only after the consumer has
//!    stored it in the log, so a crash re-publishes rather than loses. Nothing crosses processes
//!    that way: a split deployment needs Redis (a producer without a local events target and
//!    without Redis keeps its rows in the outbox and logs a warning on each retry).
//! 4. **Consumer** ([`consume`]). Redis: consumer group `events` (created at `0` with `MKSTREAM`,
//!    so events published before the first start are read), consumer name from
//!    `ROADMAP_EVENTS_CONSUMER` (default `events-1`). On every (re)connection it first re-reads
//!    its own pending entries (delivered, not acknowledged: a crash between insert and `XACK`),
//!    then new ones. Each event is inserted once (`ON CONFLICT (id) DO NOTHING`: delivery is at
//!    least once, the log is exactly once), then acknowledged. An entry that cannot be decoded is
//!    logged and acknowledged (it would block the group forever). Only newly inserted events are
//!    broadcast to live subscribers. The insert also creates the event's webhook deliveries, in
//!    the same transaction ([`webhooks::store::enqueue_event`]). Each batch read is a root span
//!    `event batch consumed` with one `event consumed` span per entry (id, kind, outcome); with
//!    Redis, a companion task samples the group every second into the lag and pending gauges
//!    (`monitor_stream`).
//! 5. **Subscription.** `statusChanged(filter, after)` subscribes to the broadcast *before*
//!    reading the backlog after `after`, then replays the backlog in cursor order, then live
//!    events, dropping any with a cursor not above the last one sent: no gap, no duplicate. A
//!    subscriber that falls behind the broadcast buffer (1024 events) catches up from the log.
//!    Without `after`, only live events are sent.
//!
//! **One events replica.** Live delivery is a per-process broadcast and the log's cursor is
//! assigned by one consumer inserting in stream order; several events replicas in one consumer
//! group would each see only their share of live events and could commit cursors out of order.
//! Scaling out needs a shared live fan-out (e.g. Postgres `LISTEN` on inserts) first.
//!
//! `Event.measure` / `Event.indicator` / `Event.plan` are entity references (`@key(fields: "id", resolvable:
//! false)`): the router resolves `measure { title plan { title } }` in the plans subgraph within
//! the same subscription.
//!
//! **Occurrences and the calendar**, which the design places here, are served by the plans
//! subgraph (`roadmap_plans::occurrences`, `roadmap_plans::calendar`): whether a reported date is
//! an occurrence depends on the measure's schedule and plan period, which plans owns. This log
//! receives every report as an `OCCURRENCE_REPORTED` event (the replaced report as `before`).
//!
//! Filters (`EventFilter`): `territory`, `plan`, `level` (plan level), `kinds`, `underMeasure`
//! (the subject is that measure or implements it through confirmed links, transitively, as of the
//! moment of the event). They match the `context` the producer recorded.

use std::collections::VecDeque;
use std::time::Duration;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, Schema, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures::Stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{FromRow, PgExecutor, PgPool};
use tokio::sync::{broadcast, mpsc, watch};
use tracing::Instrument;
use uuid::Uuid;

use roadmap_common::ServiceError;
use roadmap_common::outbox::{InProcessBatch, OutboxEvent};
use roadmap_common::relay::page_size;

pub mod audit;
pub mod loaders;
pub mod webhooks;

pub use webhooks::WebhookConfig;
pub use webhooks::graphql::MutationRoot;

pub const NAME: &str = "events";

/// Consumer group of the events service on the stream.
pub const GROUP: &str = "events";

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/events");

pub type EventsSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Live events, newly inserted into the log, in cursor order.
#[derive(Clone)]
pub struct Live(broadcast::Sender<EventRow>);

impl Default for Live {
    fn default() -> Self {
        Live(broadcast::channel(1024).0)
    }
}

pub fn schema(pool: Option<PgPool>, live: Option<Live>) -> EventsSchema {
    let mut builder = Schema::build(QueryRoot::default(), MutationRoot, SubscriptionRoot)
        .enable_federation()
        .enable_subscription_in_federation();
    if let Some(pool) = pool {
        builder = builder.data(loaders::Loaders::new(pool.clone())).data(pool);
    }
    builder = builder.data(live.unwrap_or_default());
    builder.finish()
}

pub fn router(pool: PgPool, live: Live, secret: roadmap_common::auth::GatewaySecret) -> axum::Router {
    roadmap_common::server::graphql_router(schema(Some(pool.clone()), Some(live)), pool, secret)
}

#[derive(FromRow, Clone, Debug)]
pub struct EventRow {
    pub id: Uuid,
    pub cursor: i64,
    pub kind: String,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub context: Value,
}

/// A measure of the plans subgraph, by reference.
#[derive(SimpleObject)]
#[graphql(name = "Measure", unresolvable)]
pub struct MeasureRef {
    pub id: ID,
}

/// A plan of the plans subgraph, by reference.
#[derive(SimpleObject)]
#[graphql(name = "Plan", unresolvable)]
pub struct PlanRef {
    pub id: ID,
}

/// An indicator of the indicators subgraph, by reference.
#[derive(SimpleObject)]
#[graphql(name = "Indicator", unresolvable)]
pub struct IndicatorRef {
    pub id: ID,
}

/// One entry of the log.
pub struct Event(pub EventRow);

#[Object]
impl Event {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Position in the log; pass it as `after` to resume.
    async fn cursor(&self) -> String {
        self.0.cursor.to_string()
    }

    /// `MEASURE_STATUS_CHANGED`, `LINK_CONFIRMED`, `LINK_CHANGED`, `TARGET_SET`,
    /// `OBSERVATION_RECORDED`, `DEADLINE_MISSED`, `OCCURRENCE_REPORTED`, `PLAN_IMPORTED`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    /// `Measure`, `Indicator` or `Plan`.
    async fn subject_type(&self) -> &str {
        &self.0.subject_type
    }

    async fn subject_id(&self) -> ID {
        ID(self.0.subject_id.to_string())
    }

    /// The subject when it is a measure (resolved by the plans subgraph).
    async fn measure(&self) -> Option<MeasureRef> {
        (self.0.subject_type == "Measure").then(|| MeasureRef {
            id: ID(self.0.subject_id.to_string()),
        })
    }

    /// The subject when it is an indicator (resolved by the indicators subgraph).
    async fn indicator(&self) -> Option<IndicatorRef> {
        (self.0.subject_type == "Indicator").then(|| IndicatorRef {
            id: ID(self.0.subject_id.to_string()),
        })
    }

    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// The relevant values before the change (e.g. `{"status": "PLANNED"}`), as JSON text.
    async fn before(&self) -> Option<String> {
        self.0.before.as_ref().map(Value::to_string)
    }

    /// The relevant values after the change, as JSON text.
    async fn after(&self) -> Option<String> {
        self.0.after.as_ref().map(Value::to_string)
    }

    /// The plan of the subject (the subject itself for `PLAN_IMPORTED`), resolved by the plans
    /// subgraph.
    async fn plan(&self) -> Option<PlanRef> {
        self.0
            .context
            .get("plan")
            .and_then(Value::as_str)
            .map(|s| PlanRef { id: ID(s.to_string()) })
    }

    /// Plan id of the subject, when it has one.
    async fn plan_id(&self) -> Option<ID> {
        self.0
            .context
            .get("plan")
            .and_then(Value::as_str)
            .map(|s| ID(s.to_string()))
    }

    /// Territory id of the subject, when it has one.
    async fn territory_id(&self) -> Option<ID> {
        self.0
            .context
            .get("territory")
            .and_then(Value::as_str)
            .map(|s| ID(s.to_string()))
    }

    /// Plan level of the subject, when it has one.
    async fn level(&self) -> Option<&str> {
        self.0.context.get("level").and_then(Value::as_str)
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    MeasureStatusChanged,
    LinkConfirmed,
    LinkChanged,
    TargetSet,
    ObservationRecorded,
    PlanApproved,
    /// A measure's deadline passed unfinished (once per missed due day).
    DeadlineMissed,
    /// An occurrence of a measure was reported held or not held.
    OccurrenceReported,
    /// A plan was imported: a new plan or a new version.
    PlanImported,
}

impl EventKind {
    const ALL: [EventKind; 5] = [
        EventKind::MeasureStatusChanged,
        EventKind::LinkConfirmed,
        EventKind::LinkChanged,
        EventKind::TargetSet,
        EventKind::ObservationRecorded,
    ];

    fn from_db(kind: &str) -> Option<EventKind> {
        Self::ALL.into_iter().find(|k| k.as_db() == kind)
    }

    fn as_db(self) -> &'static str {
        use roadmap_common::outbox::kind;
        match self {
            EventKind::MeasureStatusChanged => kind::MEASURE_STATUS_CHANGED,
            EventKind::LinkConfirmed => kind::LINK_CONFIRMED,
            EventKind::LinkChanged => kind::LINK_CHANGED,
            EventKind::TargetSet => kind::TARGET_SET,
            EventKind::ObservationRecorded => kind::OBSERVATION_RECORDED,
            EventKind::PlanApproved => kind::PLAN_APPROVED,
            EventKind::DeadlineMissed => kind::DEADLINE_MISSED,
            EventKind::OccurrenceReported => kind::OCCURRENCE_REPORTED,
            EventKind::PlanImported => kind::PLAN_IMPORTED,
        }
    }
}

/// Which events to receive; all given conditions must hold.
#[derive(InputObject, Default, Clone, Debug)]
pub struct EventFilter {
    /// Territory of the subject (the plan's territory for measures).
    pub territory: Option<ID>,
    /// Plan of the subject.
    pub plan: Option<ID>,
    /// Plan level: FEDERAL, REGIONAL, MUNICIPAL or SCHOOL.
    pub level: Option<String>,
    pub kinds: Option<Vec<EventKind>>,
    /// The subject is this measure or implements it (confirmed links, transitively).
    pub under_measure: Option<ID>,
}

/// A validated [`EventFilter`]; webhooks store it as JSON in the same shape (`underMeasure`,
/// kinds by name, absent conditions left out).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Filter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    territory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kinds: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    under_measure: Option<String>,
}

fn parse_uuid(field: &str, id: &Option<ID>) -> Result<Option<String>, ServiceError> {
    id.as_ref()
        .map(|id| {
            Uuid::parse_str(id.as_str())
                .map(|u| u.to_string())
                .map_err(|_| ServiceError::invalid(field, format!("`{}` is not a valid id", id.as_str())))
        })
        .transpose()
}

impl Filter {
    fn parse(filter: Option<EventFilter>) -> Result<Filter, ServiceError> {
        Self::parse_at("filter", filter)
    }

    /// Validates `filter`, naming fields under `path` in errors (`input.filter.level`).
    fn parse_at(path: &str, filter: Option<EventFilter>) -> Result<Filter, ServiceError> {
        let Some(f) = filter else {
            return Ok(Filter::default());
        };
        let level = match f.level {
            Some(l) if ["FEDERAL", "REGIONAL", "MUNICIPAL", "SCHOOL"].contains(&l.as_str()) => Some(l),
            Some(l) => {
                return Err(ServiceError::invalid(
                    format!("{path}.level"),
                    format!("`{l}` is not one of FEDERAL, REGIONAL, MUNICIPAL, SCHOOL"),
                ));
            }
            None => None,
        };
        Ok(Filter {
            territory: parse_uuid(&format!("{path}.territory"), &f.territory)?,
            plan: parse_uuid(&format!("{path}.plan"), &f.plan)?,
            level,
            kinds: f.kinds.map(|k| k.into_iter().map(|k| k.as_db().to_string()).collect()),
            under_measure: parse_uuid(&format!("{path}.underMeasure"), &f.under_measure)?,
        })
    }

    /// The same conditions as the SQL of [`read_log`], for live events.
    fn matches(&self, e: &EventRow) -> bool {
        let ctx = |key: &str| e.context.get(key).and_then(Value::as_str);
        let eq = |want: &Option<String>, key: &str| want.as_deref().is_none_or(|w| ctx(key) == Some(w));
        eq(&self.territory, "territory")
            && eq(&self.plan, "plan")
            && eq(&self.level, "level")
            && self.kinds.as_ref().is_none_or(|k| k.contains(&e.kind))
            && self.under_measure.as_deref().is_none_or(|m| {
                e.subject_id.to_string() == m
                    || e.context
                        .get("ancestors")
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(m)))
            })
    }
}

const EVENT_COLUMNS: &str = "id, cursor, kind, subject_type, subject_id, occurred_at, before, after, context";

/// Events after `after` that match `filter`, in cursor order.
async fn read_log<'e>(
    db: impl PgExecutor<'e>,
    filter: &Filter,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM event WHERE cursor > $1 \
         AND ($2::text IS NULL OR context->>'territory' = $2) \
         AND ($3::text IS NULL OR context->>'plan' = $3) \
         AND ($4::text IS NULL OR context->>'level' = $4) \
         AND ($5::text[] IS NULL OR kind = ANY($5)) \
         AND ($6::text IS NULL OR subject_id::text = $6 OR context->'ancestors' ? $6) \
         ORDER BY cursor LIMIT $7"
    ))
    .bind(after)
    .bind(&filter.territory)
    .bind(&filter.plan)
    .bind(&filter.level)
    .bind(&filter.kinds)
    .bind(&filter.under_measure)
    .bind(limit)
    .fetch_all(db)
    .await
}

fn parse_cursor(after: Option<String>) -> Result<Option<i64>, ServiceError> {
    after
        .map(|a| {
            a.parse::<i64>()
                .ok()
                .filter(|c| *c >= 0)
                .ok_or_else(|| ServiceError::invalid("after", format!("`{a}` is not an event cursor")))
        })
        .transpose()
}

#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(LogQuery, audit::AuditQuery);

#[derive(Default)]
pub struct LogQuery;

#[Object]
impl LogQuery {
    /// The log in order, after the given cursor, optionally filtered.
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Vec<Event>> {
        let filter = Filter::parse(filter)?;
        let after = parse_cursor(after)?.unwrap_or(0);
        let limit = page_size(first, 100, 1000)?;
        let rows = read_log(ctx.data::<PgPool>()?, &filter, after, limit)
            .await
            .map_err(ServiceError::from)?;
        Ok(rows.into_iter().map(Event).collect())
    }

    #[graphql(entity)]
    async fn find_event_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Event>> {
        let id = Uuid::parse_str(id.as_str()).map_err(|_| ServiceError::invalid("id", "is not a valid id"))?;
        Ok(ctx
            .data::<loaders::Loaders>()?
            .event_by_id
            .load_one(id)
            .await?
            .map(Event))
    }

    /// Every registered webhook, oldest first.
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<webhooks::graphql::Webhook>> {
        webhooks::graphql::list(ctx).await
    }

    async fn webhook(&self, ctx: &Context<'_>, id: ID) -> Result<Option<webhooks::graphql::Webhook>> {
        webhooks::graphql::find(ctx, &id).await
    }
}

pub struct SubscriptionRoot;

const REPLAY_PAGE: i64 = 500;

struct Replay {
    pool: PgPool,
    filter: Filter,
    rx: broadcast::Receiver<EventRow>,
    queue: VecDeque<EventRow>,
    /// Highest cursor sent (or skipped by the backlog read); live events at or below it are dropped.
    last: i64,
    /// Still reading the backlog page by page.
    backlog: bool,
    /// Counts this subscriber in `subscribers{subgraph="events"}` while it lives.
    _gauge: SubscriberGauge,
}

/// Increments the subscriber gauge on creation and decrements it when the subscription ends.
struct SubscriberGauge;

impl SubscriberGauge {
    fn new() -> Self {
        roadmap_common::metrics::metrics()
            .subscribers
            .with_label_values(&[NAME])
            .inc();
        Self
    }
}

impl Drop for SubscriberGauge {
    fn drop(&mut self) {
        roadmap_common::metrics::metrics()
            .subscribers
            .with_label_values(&[NAME])
            .dec();
    }
}

impl Replay {
    async fn next(&mut self) -> Option<Result<Event, async_graphql::Error>> {
        loop {
            if let Some(row) = self.queue.pop_front() {
                self.last = self.last.max(row.cursor);
                return Some(Ok(Event(row)));
            }
            if self.backlog {
                match read_log(&self.pool, &self.filter, self.last, REPLAY_PAGE).await {
                    Ok(rows) => {
                        self.backlog = rows.len() as i64 == REPLAY_PAGE;
                        self.queue.extend(rows);
                        continue;
                    }
                    Err(e) => return Some(Err(ServiceError::from(e).into())),
                }
            }
            match self.rx.recv().await {
                Ok(row) if row.cursor > self.last && self.filter.matches(&row) => {
                    self.last = row.cursor;
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

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Status changes as they happen. With `after` (a cursor from `Event.cursor` or
    /// `Query.events`), first every matching event after it, then live ones: no gap, no
    /// duplicate.
    async fn status_changed(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Event, async_graphql::Error>> + use<>> {
        let filter = Filter::parse(filter)?;
        let after = parse_cursor(after)?;
        let pool = ctx.data::<PgPool>()?.clone();
        // Subscribe first, so nothing committed while the backlog is read is missed.
        let rx = ctx.data::<Live>()?.0.subscribe();
        let last = match after {
            Some(c) => c,
            None => sqlx::query_scalar::<_, Option<i64>>("SELECT max(cursor) FROM event")
                .fetch_one(&pool)
                .await
                .map_err(ServiceError::from)?
                .unwrap_or(0),
        };
        let replay = Replay {
            pool,
            filter,
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
}

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

/// Inserts `event` once and, in the same transaction, the webhook deliveries it makes; returns
/// the new row when it was not in the log yet.
pub async fn insert(pool: &PgPool, event: &OutboxEvent) -> Result<Option<EventRow>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row: Option<EventRow> = sqlx::query_as(&format!(
        "INSERT INTO event (id, kind, subject_type, subject_id, occurred_at, before, after, context) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING {EVENT_COLUMNS}"
    ))
    .bind(event.id)
    .bind(&event.kind)
    .bind(&event.subject_type)
    .bind(event.subject_id)
    .bind(event.occurred_at)
    .bind(&event.before)
    .bind(&event.after)
    .bind(&event.context)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = &row {
        webhooks::store::enqueue_event(&mut tx, row).await?;
    }
    tx.commit().await?;
    Ok(row)
}

/// Stores one consumed event in an `event consumed` span (event id, kind, outcome: `inserted`,
/// `duplicate` when the log had it already, `audit` for audit entries).
async fn insert_and_notify(pool: &PgPool, live: &Live, event: &OutboxEvent) -> Result<(), sqlx::Error> {
    let span = tracing::info_span!(
        "event consumed",
        event.id = %event.id,
        event.kind = %event.kind,
        outcome = tracing::field::Empty,
    );
    async {
        let outcome = if event.kind == roadmap_common::audit::KIND {
            // Audit entries go to the trail, never to subscribers.
            audit::insert(pool, event).await?;
            "audit"
        } else if let Some(row) = insert(pool, event).await? {
            // No subscriber is not an error.
            let _ = live.0.send(row);
            "inserted"
        } else {
            "duplicate"
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

/// Sleeps `d` unless shutdown comes first; returns whether to stop.
async fn pause(d: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => *shutdown.borrow(),
        changed = shutdown.changed() => changed.is_err() || *shutdown.borrow(),
    }
}

/// The consumer: moves events from `source` into the log and to live subscribers until
/// `shutdown` turns true.
pub async fn consume(pool: PgPool, live: Live, source: Source, mut shutdown: watch::Receiver<bool>) {
    match source {
        Source::InProcess(mut rx) => loop {
            let batch = tokio::select! {
                b = rx.recv() => b,
                _ = shutdown.changed() => None,
            };
            let Some(batch) = batch else { return };
            let stored = async {
                for event in &batch.events {
                    // The relay waits for `stored` (or times out and keeps the rows): retry a while.
                    let mut backoff = Duration::from_millis(100);
                    while let Err(e) = insert_and_notify(&pool, &live, event).await {
                        tracing::warn!(event = %event.id, error = %e, "cannot insert event; retrying");
                        if pause(backoff, &mut shutdown).await {
                            return false;
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
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
        },
        Source::Redis { url, stream, consumer } => {
            let monitor = monitor_stream(&url, &stream, shutdown.clone());
            let consumer = async {
                let mut backoff = Duration::from_millis(100);
                loop {
                    if *shutdown.borrow() {
                        return;
                    }
                    match consume_redis(&pool, &live, &url, &stream, &consumer, &mut shutdown).await {
                        Ok(()) => return,
                        Err(e) => {
                            tracing::warn!(stream, error = %e, retry_in = ?backoff, "event stream consumer failed; reconnecting");
                            if pause(backoff, &mut shutdown).await {
                                return;
                            }
                            backoff = (backoff * 2).min(Duration::from_secs(5));
                        }
                    }
                }
            };
            tokio::join!(monitor, consumer);
        }
    }
}

/// How often [`monitor_stream`] samples the consumer group.
const MONITOR_EVERY: Duration = Duration::from_secs(1);

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

#[derive(Debug)]
enum ConsumeError {
    Redis(redis::RedisError),
    Sql(sqlx::Error),
}

impl std::fmt::Display for ConsumeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConsumeError::Redis(e) => write!(f, "redis: {e}"),
            ConsumeError::Sql(e) => write!(f, "event log: {e}"),
        }
    }
}

impl std::error::Error for ConsumeError {}

impl From<redis::RedisError> for ConsumeError {
    fn from(e: redis::RedisError) -> Self {
        ConsumeError::Redis(e)
    }
}

impl From<sqlx::Error> for ConsumeError {
    fn from(e: sqlx::Error) -> Self {
        ConsumeError::Sql(e)
    }
}

/// One connection's worth of consuming; `Ok` only on shutdown.
async fn consume_redis(
    pool: &PgPool,
    live: &Live,
    url: &str,
    stream: &str,
    consumer: &str,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), ConsumeError> {
    use redis::streams::{StreamReadOptions, StreamReadReply};

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
        Ok(()) => {}
        Err(e) if e.code() == Some("BUSYGROUP") => {}
        Err(e) => return Err(e.into()),
    }
    tracing::info!(stream, group = GROUP, consumer, "consuming the event stream");
    // "0": this consumer's pending entries first (re-claimed after a crash), then ">" (new).
    let mut position = "0";
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let mut options = StreamReadOptions::default().group(GROUP, consumer).count(100);
        if position == ">" {
            options = options.block(1000);
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
        async {
            for entry in entries {
                let decoded: Option<OutboxEvent> = entry
                    .get::<String>("event")
                    .and_then(|json| serde_json::from_str(&json).ok());
                match decoded {
                    Some(event) => insert_and_notify(pool, live, &event).await?,
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
                    .query_async::<()>(&mut conn)
                    .await?;
            }
            Ok::<(), ConsumeError>(())
        }
        .instrument(span)
        .await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(kind: &str, subject: Uuid, context: Value) -> EventRow {
        EventRow {
            id: Uuid::new_v4(),
            cursor: 1,
            kind: kind.to_string(),
            subject_type: "Measure".to_string(),
            subject_id: subject,
            occurred_at: Utc::now(),
            before: None,
            after: None,
            context,
        }
    }

    #[test]
    fn live_filter_matches_like_the_log_query() {
        let (plan, territory, parent, subject) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let ctx = json!({ "plan": plan, "territory": territory, "level": "MUNICIPAL", "ancestors": [parent] });
        let e = row("MEASURE_STATUS_CHANGED", subject, ctx);
        let parse = |f: EventFilter| Filter::parse(Some(f)).expect("valid filter");
        assert!(Filter::default().matches(&e));
        assert!(
            parse(EventFilter {
                plan: Some(ID(plan.to_string())),
                territory: Some(ID(territory.to_string())),
                level: Some("MUNICIPAL".into()),
                kinds: Some(vec![EventKind::MeasureStatusChanged]),
                under_measure: Some(ID(parent.to_string())),
            })
            .matches(&e)
        );
        assert!(
            parse(EventFilter {
                under_measure: Some(ID(subject.to_string())),
                ..Default::default()
            })
            .matches(&e)
        );
        assert!(
            !parse(EventFilter {
                kinds: Some(vec![EventKind::TargetSet]),
                ..Default::default()
            })
            .matches(&e)
        );
        assert!(
            !parse(EventFilter {
                level: Some("SCHOOL".into()),
                ..Default::default()
            })
            .matches(&e)
        );
        assert!(
            !parse(EventFilter {
                under_measure: Some(ID(Uuid::new_v4().to_string())),
                ..Default::default()
            })
            .matches(&e)
        );
    }

    #[test]
    fn stored_filters_keep_the_shape_of_event_filter() {
        let plan = Uuid::new_v4();
        let filter = Filter::parse(Some(EventFilter {
            plan: Some(ID(plan.to_string())),
            kinds: Some(vec![EventKind::TargetSet]),
            under_measure: Some(ID(plan.to_string())),
            ..Default::default()
        }))
        .expect("valid filter");
        let stored = serde_json::to_value(&filter).expect("serialises");
        assert_eq!(
            stored,
            json!({ "plan": plan.to_string(), "kinds": ["TARGET_SET"], "underMeasure": plan.to_string() })
        );
        assert_eq!(serde_json::from_value::<Filter>(stored).expect("reads back"), filter);
        assert_eq!(serde_json::to_value(Filter::default()).expect("serialises"), json!({}));
        assert!(serde_json::from_value::<Filter>(json!({ "planet": "x" })).is_err());
    }

    #[test]
    fn bad_filters_and_cursors_name_the_field() {
        let err = Filter::parse(Some(EventFilter {
            plan: Some(ID("nope".into())),
            ..Default::default()
        }))
        .unwrap_err();
        let err = async_graphql::Error::from(err).message;
        assert!(err.contains("filter.plan"), "{err}");
        let err = Filter::parse(Some(EventFilter {
            level: Some("GALACTIC".into()),
            ..Default::default()
        }))
        .unwrap_err();
        let err = async_graphql::Error::from(err).message;
        assert!(err.contains("filter.level"), "{err}");
        assert!(parse_cursor(Some("-1".into())).is_err());
        assert_eq!(parse_cursor(Some("42".into())).unwrap(), Some(42));
    }
}
