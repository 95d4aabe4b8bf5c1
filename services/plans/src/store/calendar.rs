//! What an organisation's calendar feed reads.

use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::ServiceResult;

use super::{MEASURE_COLUMNS, MeasureRow};

/// Whether this subgraph knows the organisation: responsible for a measure or owner of a plan.
pub async fn organisation_known(pool: &PgPool, organisation: Uuid) -> ServiceResult<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM measure_responsible WHERE organisation_id = $1) \
             OR EXISTS (SELECT 1 FROM plan WHERE owner_organisation_id = $1)",
    )
    .bind(organisation)
    .fetch_one(pool)
    .await?)
}

/// The measures on an organisation's calendar: those it is responsible for and every measure of
/// the plans it owns, in plan and document order.
pub async fn measures_of_organisation(pool: &PgPool, organisation: Uuid) -> ServiceResult<Vec<MeasureRow>> {
    let columns = MEASURE_COLUMNS
        .split(", ")
        .map(|c| format!("m.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(sqlx::query_as(&format!(
        "SELECT {columns} FROM measure m JOIN plan p ON p.id = m.plan_id \
         WHERE p.owner_organisation_id = $1 \
            OR EXISTS (SELECT 1 FROM measure_responsible r WHERE r.measure_id = m.id AND r.organisation_id = $1) \
         ORDER BY p.title, p.id, m.position"
    ))
    .bind(organisation)
    .fetch_all(pool)
    .await?)
}
