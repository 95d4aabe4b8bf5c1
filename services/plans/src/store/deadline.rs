//! The deadline watcher's flags (`deadline_miss`).

use chrono::NaiveDate;
use sqlx::{FromRow, PgPool, Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::ServiceResult;

use super::MeasureContextRow;

/// A measure the deadline watcher found past due: its status as people set it, the missed day,
/// and where it sits (the event's filtering context), all read by the statement that flags it.
#[derive(Clone, Debug, FromRow)]
pub struct MissedRow {
    pub measure_id: Uuid,
    pub status: String,
    pub due_on: NaiveDate,
    #[sqlx(flatten)]
    pub context: MeasureContextRow,
}

/// Where a pass of the watcher has got to: candidates are walked in (due day, id) order.
pub type MissCursor = (NaiveDate, Uuid);

/// Locks up to `limit` measures past due on `today`, neither done nor cancelled, whose due day is
/// not flagged yet and that come after `after` in (due day, id) order, and flags them; returns the
/// newly flagged ones with their context, in that order, in one statement whatever `limit`. Rows
/// another transaction holds (another replica's watcher, a status change) are skipped: they are
/// seen on a later pass. The cursor keeps a pass from walking again over what it flagged (on
/// `measure_open_due_idx`), so a large backlog costs one index walk per pass, not one per batch.
pub async fn flag_missed_deadlines(
    tx: &mut Transaction<'_, Postgres>,
    today: NaiveDate,
    after: Option<MissCursor>,
    limit: i64,
) -> ServiceResult<Vec<MissedRow>> {
    Ok(sqlx::query_as(
        "WITH RECURSIVE due AS ( \
             SELECT m.id, m.status, m.due_on, m.plan_id FROM measure m \
             WHERE m.due_on < $1 AND m.status NOT IN ('DONE', 'CANCELLED') \
               AND ($3::date IS NULL OR (m.due_on >= $3 AND (m.due_on, m.id) > ($3, $4))) \
               AND NOT EXISTS (SELECT 1 FROM deadline_miss d WHERE d.measure_id = m.id AND d.due_on = m.due_on) \
             ORDER BY m.due_on, m.id LIMIT $2 FOR UPDATE OF m SKIP LOCKED), \
         flagged AS ( \
             INSERT INTO deadline_miss (measure_id, due_on, detected_on) SELECT id, due_on, $1 FROM due \
             ON CONFLICT ON CONSTRAINT deadline_miss_pkey DO NOTHING RETURNING measure_id, due_on), \
         up(origin, id, depth) AS ( \
             SELECT l.measure_id, l.implements_id, 1 FROM measure_link l JOIN due ON l.measure_id = due.id \
             WHERE l.state = 'CONFIRMED' \
             UNION \
             SELECT up.origin, l.implements_id, up.depth + 1 FROM measure_link l JOIN up ON l.measure_id = up.id \
             WHERE l.state = 'CONFIRMED' AND up.depth < 32), \
         ancestors AS (SELECT origin, array_agg(DISTINCT id) AS ids FROM up GROUP BY origin) \
         SELECT f.measure_id, due.status, f.due_on, p.id AS plan_id, p.level, p.territory_id, \
                p.state = 'DRAFT' AS draft, COALESCE(a.ids, '{}') AS ancestors \
         FROM flagged f JOIN due ON due.id = f.measure_id JOIN plan p ON p.id = due.plan_id \
         LEFT JOIN ancestors a ON a.origin = f.measure_id \
         ORDER BY f.due_on, f.measure_id",
    )
    .bind(today)
    .bind(limit)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .fetch_all(&mut **tx)
    .await?)
}

/// Measures past due on `today`, unfinished, whose miss is not flagged yet: the watcher's backlog.
pub async fn pending_missed_deadlines(pool: &PgPool, today: NaiveDate) -> ServiceResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM measure m WHERE m.due_on < $1 AND m.status NOT IN ('DONE', 'CANCELLED') \
           AND NOT EXISTS (SELECT 1 FROM deadline_miss d WHERE d.measure_id = m.id AND d.due_on = m.due_on)",
    )
    .bind(today)
    .fetch_one(pool)
    .await?)
}
