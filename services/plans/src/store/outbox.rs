//! What the outbox writers read about the subject of an event.

use sqlx::{FromRow, Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::ServiceResult;

/// Where a measure sits: its plan, the plan's level and territory, and the measures it
/// implements through confirmed links, transitively.
#[derive(Clone, Debug, FromRow)]
pub struct MeasureContextRow {
    pub plan_id: Uuid,
    pub level: String,
    pub territory_id: Option<Uuid>,
    pub ancestors: Vec<Uuid>,
    /// The plan is a draft (as this transaction sees it): who may see the event depends on it.
    pub draft: bool,
}

/// The context of `measure` in one recursive statement; `None` when it does not exist.
pub async fn measure_context(
    tx: &mut Transaction<'_, Postgres>,
    measure: Uuid,
) -> ServiceResult<Option<MeasureContextRow>> {
    Ok(sqlx::query_as(
        "WITH RECURSIVE up(id, depth) AS ( \
             SELECT l.implements_id, 1 FROM measure_link l WHERE l.measure_id = $1 AND l.state = 'CONFIRMED' \
             UNION \
             SELECT l.implements_id, up.depth + 1 FROM measure_link l JOIN up ON l.measure_id = up.id \
             WHERE l.state = 'CONFIRMED' AND up.depth < 32) \
         SELECT p.id AS plan_id, p.level, p.territory_id, p.state = 'DRAFT' AS draft, \
                COALESCE((SELECT array_agg(DISTINCT id) FROM up), '{}') AS ancestors \
         FROM measure m JOIN plan p ON p.id = m.plan_id WHERE m.id = $1",
    )
    .bind(measure)
    .fetch_optional(&mut **tx)
    .await?)
}
