//! SQL of the log (`event`) and the audit trail (`audit_log`). The webhooks' tables have their
//! own store ([`crate::webhooks::store`]).

use std::ops::Deref;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use roadmap_common::outbox::OutboxEvent;

use crate::filter::Filter;
use crate::scope::Reader;
use crate::webhooks;

/// One entry of the log: the event as its producer wrote it, and what the log adds. Reads
/// through to the event's fields (`row.kind`: [`Deref`]).
#[derive(FromRow, Clone, Debug)]
pub struct EventRow {
    #[sqlx(flatten)]
    pub event: OutboxEvent,
    pub cursor: i64,
    /// The event's territory and its ancestors (`[]`: none; `None`: logged before they were kept).
    pub territories: Option<Vec<Uuid>>,
    /// Its plan is a draft now (not when the event happened): see the crate docs.
    pub draft: bool,
}

impl Deref for EventRow {
    type Target = OutboxEvent;

    fn deref(&self) -> &OutboxEvent {
        &self.event
    }
}

/// The columns of an [`EventRow`] of the log aliased `e`; `draft` is the plan's state now.
const EVENT_COLUMNS: &str = "e.id, e.cursor, e.kind, e.subject_type, e.subject_id, e.occurred_at, e.before, \
     e.after, e.context, e.traceparent, e.territories, \
     EXISTS (SELECT 1 FROM plan_visibility v WHERE v.plan = e.context->>'plan' AND v.draft) AS draft";

/// Inserts `event` once with its territories (ancestry) and, in the same transaction, what it
/// says about its plan's visibility and the webhook deliveries it makes; returns the new row when
/// it was not in the log yet.
pub async fn insert(pool: &PgPool, event: &OutboxEvent, territories: &[Uuid]) -> Result<Option<EventRow>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    record_visibility(&mut tx, event).await?;
    let mut arguments = event.arguments()?;
    sqlx::Arguments::add(&mut arguments, territories).map_err(sqlx::Error::Encode)?;
    let row: Option<EventRow> = sqlx::query_as_with(
        &format!(
            "INSERT INTO event AS e ({}, territories) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO NOTHING RETURNING {EVENT_COLUMNS}",
            OutboxEvent::COLUMNS
        ),
        arguments,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = &row {
        webhooks::store::enqueue_event(&mut tx, row).await?;
    }
    tx.commit().await?;
    Ok(row)
}

/// What an event says about its plan's visibility (see the crate docs): `PLAN_APPROVED`, or an
/// event recorded while the plan was approved (`context.draft` false), makes it public for good;
/// one recorded while it was a draft marks it a draft only when nothing is known yet, so a late
/// event written just before the approval cannot hide the plan again.
async fn record_visibility(conn: &mut PgConnection, event: &OutboxEvent) -> Result<(), sqlx::Error> {
    let Some(plan) = event.context.get("plan").and_then(Value::as_str) else {
        return Ok(());
    };
    let draft = if event.kind == roadmap_common::outbox::kind::PLAN_APPROVED {
        false
    } else {
        match event.context.get("draft").and_then(Value::as_bool) {
            Some(draft) => draft,
            None => return Ok(()),
        }
    };
    sqlx::query(
        "INSERT INTO plan_visibility (plan, draft) VALUES ($1, $2) \
         ON CONFLICT (plan) DO UPDATE SET draft = false WHERE NOT EXCLUDED.draft",
    )
    .bind(plan)
    .bind(draft)
    .execute(conn)
    .await?;
    Ok(())
}

/// Events after `after` that match `filter` and that `reader` may see, in cursor order:
/// `Query.events`, the backlog of a subscription and webhook replays. [`Filter::matches`] and
/// [`Reader::sees`] are the same conditions for live events.
pub async fn read_log<'e>(
    db: impl PgExecutor<'e>,
    filter: &Filter,
    reader: &Reader,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    let (all_drafts, drafts_under) = reader.draft_arguments();
    sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM event e WHERE e.cursor > $1 \
         AND ($2::text IS NULL OR e.context->>'territory' = $2) \
         AND ($3::text IS NULL OR e.context->>'plan' = $3) \
         AND ($4::text IS NULL OR e.context->>'level' = $4) \
         AND ($5::text[] IS NULL OR e.kind = ANY($5)) \
         AND ($6::text IS NULL OR e.subject_id::text = $6 OR e.context->'ancestors' ? $6) \
         AND ($8::uuid IS NULL OR $8 = ANY(e.territories)) \
         AND ($9 OR ($10::uuid IS NOT NULL AND $10 = ANY(e.territories)) \
              OR NOT EXISTS (SELECT 1 FROM plan_visibility v WHERE v.plan = e.context->>'plan' AND v.draft)) \
         ORDER BY e.cursor LIMIT $7"
    ))
    .bind(after)
    .bind(&filter.territory)
    .bind(&filter.plan)
    .bind(&filter.level)
    .bind(&filter.kinds)
    .bind(&filter.under_measure)
    .bind(limit)
    .bind(reader.scope)
    .bind(all_drafts)
    .bind(drafts_under)
    .fetch_all(db)
    .await
}

/// The cursor of the newest event (0 for an empty log).
pub async fn last_cursor(pool: &PgPool) -> Result<i64, sqlx::Error> {
    let last: Option<i64> = sqlx::query_scalar("SELECT max(cursor) FROM event")
        .fetch_one(pool)
        .await?;
    Ok(last.unwrap_or(0))
}

pub async fn events_by_ids(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {EVENT_COLUMNS} FROM event e WHERE e.id = ANY($1)"))
        .bind(ids)
        .fetch_all(pool)
        .await
}

/// Stores an audit entry once (by id); the entry's `context` carries action, service and actor.
pub async fn insert_audit_entry(db: impl PgExecutor<'_>, entry: &OutboxEvent) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (id, service, action, actor, subject_type, subject_id, occurred_at, before, after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
    )
    .bind(entry.id)
    .bind(entry.context["service"].as_str().unwrap_or("unknown"))
    .bind(entry.context["action"].as_str().unwrap_or("unknown"))
    .bind(entry.context.get("actor").cloned().unwrap_or(Value::Null))
    .bind(&entry.subject_type)
    .bind(entry.subject_id)
    .bind(entry.occurred_at)
    .bind(&entry.before)
    .bind(&entry.after)
    .execute(db)
    .await?;
    Ok(())
}

/// One entry of the audit trail.
#[derive(FromRow)]
pub struct AuditRow {
    pub id: Uuid,
    pub seq: i64,
    pub service: String,
    pub action: String,
    pub actor: Value,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Which audit entries to read; absent conditions match everything.
#[derive(Default)]
pub struct AuditConditions {
    /// The actor's token subject.
    pub actor: Option<String>,
    pub subject: Option<Uuid>,
    pub action: Option<String>,
    pub service: Option<String>,
}

/// Audit entries after `after` (a `seq`) that match `conditions`, in order.
pub async fn audit_trail(
    pool: &PgPool,
    conditions: &AuditConditions,
    after: i64,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, seq, service, action, actor, subject_type, subject_id, occurred_at, before, after \
         FROM audit_log WHERE seq > $1 \
           AND ($2::text IS NULL OR actor->>'subject' = $2) \
           AND ($3::uuid IS NULL OR subject_id = $3) \
           AND ($4::text IS NULL OR action = $4) \
           AND ($5::text IS NULL OR service = $5) \
         ORDER BY seq LIMIT $6",
    )
    .bind(after)
    .bind(&conditions.actor)
    .bind(conditions.subject)
    .bind(&conditions.action)
    .bind(&conditions.service)
    .bind(limit)
    .fetch_all(pool)
    .await
}
