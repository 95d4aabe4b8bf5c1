//! SQL of the plans subgraph.

use chrono::NaiveDate;
use sqlx::{FromRow, PgPool, Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::ServiceResult;

#[derive(Clone, Debug, FromRow)]
pub struct PlanRow {
    pub id: Uuid,
    pub title: String,
    pub level: String,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub period_text: Option<String>,
    pub owner_organisation_id: Option<Uuid>,
    pub territory_id: Option<Uuid>,
}

#[derive(Clone, Debug, FromRow)]
pub struct SectionRow {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub position: i32,
    pub number: String,
    pub title: String,
}

#[derive(Clone, Debug, FromRow)]
pub struct MeasureRow {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub section_id: Option<Uuid>,
    pub parent_measure_id: Option<Uuid>,
    pub position: i32,
    pub number: String,
    pub title: String,
    pub schedule_text: Option<String>,
    pub expected_result: Option<String>,
    pub responsible_text: Option<String>,
}

const PLAN_COLUMNS: &str =
    "id, title, level, period_start, period_end, period_text, owner_organisation_id, territory_id";
const MEASURE_COLUMNS: &str = "id, plan_id, section_id, parent_measure_id, position, number, title, \
     schedule_text, expected_result, responsible_text";

pub async fn plans_by_ids(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<PlanRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {PLAN_COLUMNS} FROM plan WHERE id = ANY($1)"))
            .bind(ids)
            .fetch_all(pool)
            .await?,
    )
}

/// One page of plans ordered by (title, id), after the plan `after` if given.
pub async fn list_plans(
    pool: &PgPool,
    level: Option<&str>,
    territory: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> ServiceResult<Vec<PlanRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PLAN_COLUMNS} FROM plan p \
         WHERE ($1::text IS NULL OR p.level = $1) \
           AND ($2::uuid IS NULL OR p.territory_id = $2) \
           AND ($3::uuid IS NULL OR (p.title, p.id) > (SELECT title, id FROM plan WHERE id = $3)) \
         ORDER BY p.title, p.id LIMIT $4"
    ))
    .bind(level)
    .bind(territory)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

pub async fn sections_by_plans(pool: &PgPool, plan_ids: &[Uuid]) -> ServiceResult<Vec<SectionRow>> {
    Ok(sqlx::query_as(
        "SELECT id, plan_id, position, number, title FROM section WHERE plan_id = ANY($1) ORDER BY position",
    )
    .bind(plan_ids)
    .fetch_all(pool)
    .await?)
}

pub async fn measures_by_ids(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<MeasureRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {MEASURE_COLUMNS} FROM measure WHERE id = ANY($1)"))
            .bind(ids)
            .fetch_all(pool)
            .await?,
    )
}

/// Top-level measures (not children) of the given sections.
pub async fn measures_by_sections(pool: &PgPool, section_ids: &[Uuid]) -> ServiceResult<Vec<MeasureRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {MEASURE_COLUMNS} FROM measure WHERE section_id = ANY($1) AND parent_measure_id IS NULL ORDER BY position"
    ))
    .bind(section_ids)
    .fetch_all(pool)
    .await?)
}

/// Every measure of the given plans, children included, in document order.
pub async fn measures_by_plans(pool: &PgPool, plan_ids: &[Uuid]) -> ServiceResult<Vec<MeasureRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {MEASURE_COLUMNS} FROM measure WHERE plan_id = ANY($1) ORDER BY position"
    ))
    .bind(plan_ids)
    .fetch_all(pool)
    .await?)
}

pub async fn measures_by_parents(pool: &PgPool, parent_ids: &[Uuid]) -> ServiceResult<Vec<MeasureRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {MEASURE_COLUMNS} FROM measure WHERE parent_measure_id = ANY($1) ORDER BY position"
    ))
    .bind(parent_ids)
    .fetch_all(pool)
    .await?)
}

/// (measure id, organisation id) pairs in the order the document names them.
pub async fn responsible_by_measures(pool: &PgPool, measure_ids: &[Uuid]) -> ServiceResult<Vec<(Uuid, Uuid)>> {
    Ok(sqlx::query_as(
        "SELECT measure_id, organisation_id FROM measure_responsible WHERE measure_id = ANY($1) ORDER BY position",
    )
    .bind(measure_ids)
    .fetch_all(pool)
    .await?)
}

pub async fn insert_plan(tx: &mut Transaction<'_, Postgres>, plan: &PlanRow) -> ServiceResult<()> {
    sqlx::query(
        "INSERT INTO plan (id, title, level, period_start, period_end, period_text, owner_organisation_id, territory_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(plan.id)
    .bind(&plan.title)
    .bind(&plan.level)
    .bind(plan.period_start)
    .bind(plan.period_end)
    .bind(&plan.period_text)
    .bind(plan.owner_organisation_id)
    .bind(plan.territory_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inserts all sections in one statement.
pub async fn insert_sections(tx: &mut Transaction<'_, Postgres>, rows: &[SectionRow]) -> ServiceResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO section (id, plan_id, position, number, title) \
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[])",
    )
    .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.plan_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.position).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.number.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.title.clone()).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inserts all measures in one statement; parents must precede their children in `rows`, which
/// one statement satisfies because foreign keys are checked at its end.
pub async fn insert_measures(tx: &mut Transaction<'_, Postgres>, rows: &[MeasureRow]) -> ServiceResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO measure (id, plan_id, section_id, parent_measure_id, position, number, title, \
                              schedule_text, expected_result, responsible_text) \
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::int[], $6::text[], $7::text[], \
                              $8::text[], $9::text[], $10::text[])",
    )
    .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.plan_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.section_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.parent_measure_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.position).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.number.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.title.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.schedule_text.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.expected_result.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.responsible_text.clone()).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inserts (measure, organisation, position) triples in one statement.
pub async fn insert_responsible(tx: &mut Transaction<'_, Postgres>, rows: &[(Uuid, Uuid, i32)]) -> ServiceResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO measure_responsible (measure_id, organisation_id, position) \
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[])",
    )
    .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.2).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
