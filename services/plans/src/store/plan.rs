//! Plans and their sections: reading, listing a page, creating, approving.

use chrono::NaiveDate;
use sqlx::postgres::PgArguments;
use sqlx::{FromRow, PgPool, Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::{ServiceError, ServiceResult};

use super::PLAN_COLUMNS;

/// `Deserialize`: a trace reads its nodes' plans as JSON in the statement that finds them
/// (`store::trace` of `TraceNodeRow`); field names are the column names.
#[derive(Clone, Debug, FromRow, serde::Deserialize)]
pub struct PlanRow {
    pub id: Uuid,
    pub title: String,
    pub level: String,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub period_text: Option<String>,
    pub owner_organisation_id: Option<Uuid>,
    pub territory_id: Option<Uuid>,
    /// Identity of the source document across re-imports; `None` for plans entered by hand.
    pub source_key: Option<String>,
    pub version: i32,
    pub approval_kind: Option<String>,
    pub approval_number: Option<String>,
    pub approval_date: Option<NaiveDate>,
    pub approval_signatory: Option<String>,
    pub goals: Vec<String>,
    /// `DRAFT` or `APPROVED`.
    pub state: String,
    /// The IANA time zone of the plan's territory (`Territory.timeZone` when it was imported or
    /// created), in which "today" and OVERDUE are taken; `None`: Moscow time.
    pub time_zone: Option<String>,
}

impl PlanRow {
    /// A plan entered by hand: version 1, no source document, approval, goals, period or place
    /// (set what is known with struct update syntax).
    pub fn new(id: Uuid, title: String, level: &str, state: &str) -> Self {
        Self {
            id,
            title,
            level: level.to_string(),
            period_start: None,
            period_end: None,
            period_text: None,
            owner_organisation_id: None,
            territory_id: None,
            source_key: None,
            version: 1,
            approval_kind: None,
            approval_number: None,
            approval_date: None,
            approval_signatory: None,
            goals: Vec::new(),
            state: state.to_string(),
            time_zone: None,
        }
    }
}

#[derive(Clone, Debug, FromRow)]
pub struct SectionRow {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub position: i32,
    pub number: String,
    pub title: String,
}

pub async fn plans_by_ids(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<PlanRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {PLAN_COLUMNS} FROM plan WHERE id = ANY($1)"))
            .bind(ids)
            .fetch_all(pool)
            .await?,
    )
}

/// One plan; `NotFound` when there is none.
pub async fn plan_by_id(pool: &PgPool, id: Uuid) -> ServiceResult<PlanRow> {
    plans_by_ids(pool, &[id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ServiceError::not_found("Plan", id))
}

/// One page of plans ordered by (title, id), after the plan `after` if given.
/// `drafts`: `None` lists every draft, `Some(territories)` only drafts of those territories.
pub async fn list_plans(
    pool: &PgPool,
    level: Option<&str>,
    territory: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
    drafts: Option<&[Uuid]>,
) -> ServiceResult<Vec<PlanRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PLAN_COLUMNS} FROM plan p \
         WHERE ($1::text IS NULL OR p.level = $1) \
           AND ($2::uuid IS NULL OR p.territory_id = $2) \
           AND ($3::uuid IS NULL OR (p.title, p.id) > (SELECT title, id FROM plan WHERE id = $3)) \
           AND (p.state = 'APPROVED' OR $5::uuid[] IS NULL OR p.territory_id = ANY($5)) \
         ORDER BY p.title, p.id LIMIT $4"
    ))
    .bind(level)
    .bind(territory)
    .bind(after)
    .bind(limit)
    .bind(drafts)
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

pub async fn insert_plan(tx: &mut Transaction<'_, Postgres>, plan: &PlanRow) -> ServiceResult<()> {
    bind_plan(
        sqlx::query(&format!(
            "INSERT INTO plan ({PLAN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        )),
        plan,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Binds `plan` as `$1` to `$17`, in the order of `PLAN_COLUMNS`: one list for the insert and the
/// import's update, so a new column cannot be bound in one and forgotten in the other.
pub(super) fn bind_plan<'q>(
    query: sqlx::query::Query<'q, Postgres, PgArguments>,
    plan: &'q PlanRow,
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    query
        .bind(plan.id)
        .bind(&plan.title)
        .bind(&plan.level)
        .bind(plan.period_start)
        .bind(plan.period_end)
        .bind(&plan.period_text)
        .bind(plan.owner_organisation_id)
        .bind(plan.territory_id)
        .bind(&plan.source_key)
        .bind(plan.version)
        .bind(&plan.approval_kind)
        .bind(&plan.approval_number)
        .bind(plan.approval_date)
        .bind(&plan.approval_signatory)
        .bind(&plan.goals)
        .bind(&plan.state)
        .bind(&plan.time_zone)
}

/// Approves a plan; returns its state before, `None` when there is no such plan.
pub async fn approve_plan(tx: &mut Transaction<'_, Postgres>, plan: Uuid) -> ServiceResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "UPDATE plan p SET state = 'APPROVED', updated_at = now() FROM plan old \
         WHERE p.id = $1 AND old.id = p.id RETURNING old.state",
    )
    .bind(plan)
    .fetch_optional(&mut **tx)
    .await?)
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
