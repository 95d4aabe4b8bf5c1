//! The deadline watcher's flags (`deadline_miss`).

use chrono::NaiveDate;
use sqlx::{FromRow, Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::ServiceResult;

/// A measure the deadline watcher found past due: its status as people set it and the missed day.
#[derive(Clone, Debug, FromRow)]
pub struct MissedRow {
    pub measure_id: Uuid,
    pub status: String,
    pub due_on: NaiveDate,
}

/// Locks up to `limit` measures past due on `today`, neither done nor cancelled, whose due day is
/// not flagged yet, and flags them; returns the newly flagged ones. Rows another transaction holds
/// (another replica's watcher, a status change) are skipped: they are seen on a later pass.
pub async fn flag_missed_deadlines(
    tx: &mut Transaction<'_, Postgres>,
    today: NaiveDate,
    limit: i64,
) -> ServiceResult<Vec<MissedRow>> {
    Ok(sqlx::query_as(
        "WITH due AS ( \
             SELECT m.id, m.status, m.due_on FROM measure m \
             WHERE m.due_on < $1 AND m.status NOT IN ('DONE', 'CANCELLED') \
               AND NOT EXISTS (SELECT 1 FROM deadline_miss d WHERE d.measure_id = m.id AND d.due_on = m.due_on) \
             ORDER BY m.due_on, m.id LIMIT $2 FOR UPDATE OF m SKIP LOCKED), \
         flagged AS ( \
             INSERT INTO deadline_miss (measure_id, due_on, detected_on) SELECT id, due_on, $1 FROM due \
             ON CONFLICT ON CONSTRAINT deadline_miss_pkey DO NOTHING RETURNING measure_id, due_on) \
         SELECT f.measure_id, due.status, f.due_on FROM flagged f JOIN due ON due.id = f.measure_id \
         ORDER BY f.due_on, f.measure_id",
    )
    .bind(today)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?)
}
