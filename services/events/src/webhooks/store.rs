//! SQL of the webhooks: endpoints, deliveries, attempts.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use crate::filter::Filter;
use crate::scope::Reader;
use crate::store::EventRow;

/// `NOTIFY` channel that wakes the delivery worker; sent at commit of every transaction that
/// makes a delivery due.
pub fn channel() -> String {
    format!("webhooks_{}", crate::NAME)
}

async fn notify(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(channel())
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(FromRow, Clone, Debug)]
pub struct EndpointRow {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    pub filter: Value,
    pub secret: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// Who registered it, as claims: its deliveries are what they may see ([`Reader::registrant`]).
    pub registrant: Option<Value>,
}

impl EndpointRow {
    /// What the endpoint may receive: its registrant's view.
    pub fn reader(&self) -> Reader {
        crate::scope::registrant_reader(self.registrant.as_ref())
    }

    /// The stored filter; one that cannot be read matches nothing (and is logged).
    pub fn filter(&self) -> Option<Filter> {
        match serde_json::from_value(self.filter.clone()) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::error!(endpoint = %self.id, error = %e, "unreadable webhook filter; endpoint skipped");
                None
            }
        }
    }
}

const ENDPOINT_COLUMNS: &str =
    "id, url, description, filter, secret, enabled, disabled_reason, created_at, created_by, registrant";

#[derive(FromRow, Clone, Debug)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_cursor: i64,
    pub state: String,
    pub attempts: i32,
    pub retry_step: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

const DELIVERY_COLUMNS: &str =
    "id, endpoint_id, event_id, event_cursor, state, attempts, retry_step, next_attempt_at, created_at, delivered_at";

#[derive(FromRow, Clone, Debug)]
pub struct AttemptRow {
    pub delivery_id: Uuid,
    pub number: i32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// Creates the deliveries of a newly logged event for every enabled endpoint whose filter
/// matches it and whose registrant may see it, in the caller's transaction (the one inserting the
/// event). Matching is the live subscription's [`Filter::matches`] and [`Reader::sees`].
pub async fn enqueue_event(conn: &mut PgConnection, event: &EventRow) -> Result<usize, sqlx::Error> {
    let endpoints: Vec<EndpointRow> = sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoint WHERE enabled"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let matching: Vec<Uuid> = endpoints
        .iter()
        .filter(|e| e.reader().sees(event) && e.filter().is_some_and(|f| f.matches(event)))
        .map(|e| e.id)
        .collect();
    if matching.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = matching.iter().map(|_| Uuid::new_v4()).collect();
    sqlx::query(
        "INSERT INTO webhook_delivery (id, endpoint_id, event_id, event_cursor, next_attempt_at) \
         SELECT d, e, $3, $4, now() FROM unnest($1::uuid[], $2::uuid[]) AS t(d, e) \
         ON CONFLICT (endpoint_id, event_id) DO NOTHING",
    )
    .bind(&ids)
    .bind(&matching)
    .bind(event.id)
    .bind(event.cursor)
    .execute(&mut *conn)
    .await?;
    notify(conn).await?;
    Ok(matching.len())
}

pub async fn insert_endpoint(conn: &mut PgConnection, row: &EndpointRow) -> Result<EndpointRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "INSERT INTO webhook_endpoint (id, url, description, filter, secret, enabled, created_by, registrant) \
         VALUES ($1, $2, $3, $4, $5, true, $6, $7) RETURNING {ENDPOINT_COLUMNS}"
    ))
    .bind(row.id)
    .bind(&row.url)
    .bind(&row.description)
    .bind(&row.filter)
    .bind(&row.secret)
    .bind(&row.created_by)
    .bind(&row.registrant)
    .fetch_one(conn)
    .await
}

pub async fn endpoints(pool: &PgPool) -> Result<Vec<EndpointRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoint ORDER BY created_at, id"
    ))
    .fetch_all(pool)
    .await
}

pub async fn endpoints_by_ids(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<EndpointRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoint WHERE id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// Enables or disables an endpoint; `reason` is kept while disabled. Enabling wakes the worker:
/// deliveries left pending while it was disabled go out again.
pub async fn set_enabled(
    tx: &mut PgConnection,
    id: Uuid,
    enabled: bool,
    reason: Option<&str>,
) -> Result<Option<EndpointRow>, sqlx::Error> {
    let row: Option<EndpointRow> = sqlx::query_as(&format!(
        "UPDATE webhook_endpoint SET enabled = $2, disabled_reason = CASE WHEN $2 THEN NULL ELSE $3 END \
         WHERE id = $1 RETURNING {ENDPOINT_COLUMNS}"
    ))
    .bind(id)
    .bind(enabled)
    .bind(reason)
    .fetch_optional(&mut *tx)
    .await?;
    if enabled && row.is_some() {
        notify(tx).await?;
    }
    Ok(row)
}

/// An endpoint's deliveries in log order after `after` (an event cursor), optionally in one state.
pub async fn deliveries(
    pool: &PgPool,
    endpoint: Uuid,
    state: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_delivery \
         WHERE endpoint_id = $1 AND event_cursor > $2 AND ($3::text IS NULL OR state = $3) \
         ORDER BY event_cursor LIMIT $4"
    ))
    .bind(endpoint)
    .bind(after)
    .bind(state)
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub async fn delivery(pool: &PgPool, id: Uuid) -> Result<Option<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_delivery WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn attempts_by_deliveries(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<AttemptRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT delivery_id, number, attempted_at, status_code, error, duration_ms FROM webhook_attempt \
         WHERE delivery_id = ANY($1) ORDER BY delivery_id, number",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// Makes one delivery due now with a fresh retry schedule (its attempts are kept).
pub async fn requeue(tx: &mut PgConnection, id: Uuid) -> Result<Option<DeliveryRow>, sqlx::Error> {
    let row = sqlx::query_as(&format!(
        "UPDATE webhook_delivery SET state = 'PENDING', retry_step = 0, next_attempt_at = now(), \
         delivered_at = NULL WHERE id = $1 RETURNING {DELIVERY_COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    if row.is_some() {
        notify(tx).await?;
    }
    Ok(row)
}

/// Queues, for one endpoint, every event of the log after `after` that its filter matches and
/// its registrant may see (now: a plan approved since shows its earlier events):
/// missing deliveries are created (events logged while it was disabled, or before it existed)
/// and existing ones are made due now with a fresh retry schedule. All or nothing; returns how
/// many deliveries were queued.
pub async fn requeue_after(
    tx: &mut PgConnection,
    endpoint: Uuid,
    filter: &Filter,
    reader: &Reader,
    after: i64,
) -> Result<u64, sqlx::Error> {
    const PAGE: i64 = 500;
    let mut last = after;
    let mut queued = 0;
    loop {
        let events = crate::store::read_log(&mut *tx, filter, reader, last, PAGE).await?;
        let Some(tail) = events.last() else { break };
        last = tail.cursor;
        let ids: Vec<Uuid> = events.iter().map(|_| Uuid::new_v4()).collect();
        let event_ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        let cursors: Vec<i64> = events.iter().map(|e| e.cursor).collect();
        queued += sqlx::query(
            "INSERT INTO webhook_delivery (id, endpoint_id, event_id, event_cursor, next_attempt_at) \
             SELECT d, $4, e, c, now() FROM unnest($1::uuid[], $2::uuid[], $3::bigint[]) AS t(d, e, c) \
             ON CONFLICT (endpoint_id, event_id) DO UPDATE \
             SET state = 'PENDING', retry_step = 0, next_attempt_at = now(), delivered_at = NULL",
        )
        .bind(&ids)
        .bind(&event_ids)
        .bind(&cursors)
        .bind(endpoint)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if (events.len() as i64) < PAGE {
            break;
        }
    }
    if queued > 0 {
        notify(tx).await?;
    }
    Ok(queued)
}

/// A delivery claimed by the worker, with what it needs to send it.
#[derive(FromRow, Clone, Debug)]
pub struct DueDelivery {
    pub delivery_id: Uuid,
    pub endpoint_id: Uuid,
    pub retry_step: i32,
    pub attempts: i32,
    pub url: String,
    pub secret: String,
    #[sqlx(flatten)]
    pub event: EventRow,
}

/// Claims up to `limit` due deliveries of enabled endpoints for `lease`: they are skipped by
/// other workers (`FOR UPDATE SKIP LOCKED` while claiming, then `next_attempt_at` moved past the
/// lease), and come due again if this worker dies before recording the attempt.
pub async fn claim_due(pool: &PgPool, limit: i64, lease: std::time::Duration) -> Result<Vec<DueDelivery>, sqlx::Error> {
    sqlx::query_as(
        "WITH due AS ( \
             SELECT d.id FROM webhook_delivery d JOIN webhook_endpoint w ON w.id = d.endpoint_id \
             WHERE d.state = 'PENDING' AND d.next_attempt_at <= now() AND w.enabled \
             ORDER BY d.next_attempt_at, d.event_cursor LIMIT $1 FOR UPDATE OF d SKIP LOCKED), \
         claimed AS ( \
             UPDATE webhook_delivery d SET next_attempt_at = now() + $2 \
             FROM due WHERE d.id = due.id \
             RETURNING d.id, d.endpoint_id, d.event_id, d.retry_step, d.attempts) \
         SELECT c.id AS delivery_id, c.endpoint_id, c.retry_step, c.attempts, w.url, w.secret, \
                e.id, e.cursor, e.kind, e.subject_type, e.subject_id, e.occurred_at, \
                e.before, e.after, e.context, e.traceparent, e.territories, \
                EXISTS (SELECT 1 FROM plan_visibility v WHERE v.plan = e.context->>'plan' AND v.draft) AS draft \
         FROM claimed c JOIN webhook_endpoint w ON w.id = c.endpoint_id JOIN event e ON e.id = c.event_id",
    )
    .bind(limit)
    .bind(lease)
    .fetch_all(pool)
    .await
}

/// When the next pending delivery of an enabled endpoint is due, if any.
pub async fn next_due(pool: &PgPool) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT min(d.next_attempt_at) FROM webhook_delivery d JOIN webhook_endpoint w ON w.id = d.endpoint_id \
         WHERE d.state = 'PENDING' AND w.enabled",
    )
    .fetch_one(pool)
    .await
}

/// What became of one attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// 2xx.
    Delivered,
    /// Failed; try again at this time.
    Retry(DateTime<Utc>),
    /// Failed and the schedule is exhausted.
    Failed,
    /// 410 Gone: the endpoint is disabled with this reason.
    Gone(String),
}

impl Outcome {
    /// The `outcome` label of `webhook_deliveries_total`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Retry(_) => "retry",
            Outcome::Failed => "failed",
            Outcome::Gone(_) => "gone",
        }
    }
}

/// Records an attempt and its outcome in one transaction.
pub async fn record_attempt(
    pool: &PgPool,
    due: &DueDelivery,
    attempt: &AttemptRow,
    outcome: &Outcome,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO webhook_attempt (delivery_id, number, attempted_at, status_code, error, duration_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(attempt.delivery_id)
    .bind(attempt.number)
    .bind(attempt.attempted_at)
    .bind(attempt.status_code)
    .bind(&attempt.error)
    .bind(attempt.duration_ms)
    .execute(&mut *tx)
    .await?;
    let (state, next, step) = match outcome {
        Outcome::Delivered => ("DELIVERED", None, due.retry_step),
        Outcome::Retry(at) => ("PENDING", Some(*at), due.retry_step + 1),
        Outcome::Failed | Outcome::Gone(_) => ("FAILED", None, due.retry_step + 1),
    };
    sqlx::query(
        "UPDATE webhook_delivery SET attempts = $2, state = $3, next_attempt_at = $4, retry_step = $5, \
         delivered_at = CASE WHEN $3 = 'DELIVERED' THEN now() END WHERE id = $1",
    )
    .bind(due.delivery_id)
    .bind(attempt.number)
    .bind(state)
    .bind(next)
    .bind(step)
    .execute(&mut *tx)
    .await?;
    if let Outcome::Gone(reason) = outcome {
        sqlx::query("UPDATE webhook_endpoint SET enabled = false, disabled_reason = $2 WHERE id = $1")
            .bind(due.endpoint_id)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}
