//! What the importer writes besides plans and measures: source keys and versions, the
//! replacement of a plan's rows by a new version, lint findings.

use sqlx::{FromRow, PgPool, Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::ServiceResult;
use roadmap_common::db::RowWrite;

use super::{MEASURE_COLUMNS, MeasureRow, PLAN_COLUMNS, PlanRow};

pub async fn plan_by_source_key(
    tx: &mut Transaction<'_, Postgres>,
    source_key: &str,
) -> ServiceResult<Option<PlanRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PLAN_COLUMNS} FROM plan WHERE source_key = $1 FOR UPDATE"
    ))
    .bind(source_key)
    .fetch_optional(&mut **tx)
    .await?)
}

pub async fn version_sha(
    tx: &mut Transaction<'_, Postgres>,
    plan_id: Uuid,
    version: i32,
) -> ServiceResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT source_sha256 FROM plan_version WHERE plan_id = $1 AND version = $2")
            .bind(plan_id)
            .bind(version)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

pub async fn version_summary(pool: &PgPool, plan_id: Uuid, version: i32) -> ServiceResult<Option<serde_json::Value>> {
    Ok(
        sqlx::query_scalar("SELECT summary FROM plan_version WHERE plan_id = $1 AND version = $2")
            .bind(plan_id)
            .bind(version)
            .fetch_optional(pool)
            .await?,
    )
}

/// The measures of a plan as stored, for comparing with a new version.
pub async fn plan_measures_for_update(
    tx: &mut Transaction<'_, Postgres>,
    plan_id: Uuid,
) -> ServiceResult<Vec<MeasureRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {MEASURE_COLUMNS} FROM measure WHERE plan_id = $1 ORDER BY position FOR UPDATE"
    ))
    .bind(plan_id)
    .fetch_all(&mut **tx)
    .await?)
}

/// Rewrites a plan's metadata from a new version; its source key and state stay (`$9` and `$16`
/// of [`super::plan::bind_plan`] are bound but not used).
pub async fn update_plan_meta(tx: &mut Transaction<'_, Postgres>, plan: &PlanRow) -> ServiceResult<()> {
    super::plan::bind_plan(
        sqlx::query(
            "UPDATE plan SET title = $2, level = $3, period_start = $4, period_end = $5, period_text = $6, \
             owner_organisation_id = $7, territory_id = $8, version = $10, approval_kind = $11, \
             approval_number = $12, approval_date = $13, approval_signatory = $14, goals = $15, time_zone = $17, updated_at = now() \
             WHERE id = $1",
        ),
        plan,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What a new version of a plan replaces: its measures or its sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanPart {
    /// Measures (their children and links go with them).
    Measures,
    Sections,
}

/// Removes a plan's measures or sections that are not in `keep`.
pub async fn delete_except(
    tx: &mut Transaction<'_, Postgres>,
    part: PlanPart,
    plan_id: Uuid,
    keep: &[Uuid],
) -> ServiceResult<()> {
    let table = match part {
        PlanPart::Measures => "measure",
        PlanPart::Sections => "section",
    };
    sqlx::query(&format!(
        "DELETE FROM {table} WHERE plan_id = $1 AND NOT (id = ANY($2))"
    ))
    .bind(plan_id)
    .bind(keep)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn delete_plan_responsible(tx: &mut Transaction<'_, Postgres>, plan_id: Uuid) -> ServiceResult<()> {
    sqlx::query("DELETE FROM measure_responsible r USING measure m WHERE r.measure_id = m.id AND m.plan_id = $1")
        .bind(plan_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Clone, Debug, FromRow, serde::Serialize)]
pub struct LintRow {
    pub plan_id: Uuid,
    pub position: i32,
    pub code: String,
    pub severity: String,
    pub message: String,
    pub line: Option<i32>,
    pub measure_number: Option<String>,
}

pub async fn replace_lint(tx: &mut Transaction<'_, Postgres>, plan_id: Uuid, rows: &[LintRow]) -> ServiceResult<()> {
    sqlx::query("DELETE FROM lint_finding WHERE plan_id = $1")
        .bind(plan_id)
        .execute(&mut **tx)
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO lint_finding (plan_id, position, code, severity, message, line, measure_number) \
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[])",
    )
    .bind(rows.iter().map(|r| r.plan_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.position).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.code.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.severity.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.message.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.line).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.measure_number.clone()).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn lint_by_plans(pool: &PgPool, plan_ids: &[Uuid]) -> ServiceResult<Vec<LintRow>> {
    Ok(sqlx::query_as(
        "SELECT plan_id, position, code, severity, message, line, measure_number FROM lint_finding \
         WHERE plan_id = ANY($1) ORDER BY plan_id, position",
    )
    .bind(plan_ids)
    .fetch_all(pool)
    .await?)
}

/// A plan version to store; field names are the columns' (`roadmap_common::db::RowWrite`).
#[derive(serde::Serialize)]
pub struct VersionRow<'a> {
    pub plan_id: Uuid,
    pub version: i32,
    #[serde(rename = "source_sha256")]
    pub sha256: &'a str,
    pub source_text: &'a str,
    pub file_name: Option<&'a str>,
    pub summary: serde_json::Value,
    pub changes: serde_json::Value,
}

const VERSION: RowWrite = RowWrite {
    table: "plan_version",
    columns: &[
        "plan_id",
        "version",
        "source_sha256",
        "source_text",
        "file_name",
        "summary",
        "changes",
    ],
};

pub async fn insert_version(tx: &mut Transaction<'_, Postgres>, v: &VersionRow<'_>) -> ServiceResult<()> {
    sqlx::query(&VERSION.insert(""))
        .bind(VERSION.row_json(v)?)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Moves a plan's current sections out of the way of the positions a new version takes.
pub async fn park_sections(tx: &mut Transaction<'_, Postgres>, plan_id: Uuid) -> ServiceResult<()> {
    sqlx::query("UPDATE section SET position = -position - 1 WHERE plan_id = $1")
        .bind(plan_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The text a plan version was imported from (the rendered text for DOCX, XLSX, ...).
pub async fn version_source_text(pool: &PgPool, plan_id: Uuid, version: i32) -> ServiceResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT source_text FROM plan_version WHERE plan_id = $1 AND version = $2")
            .bind(plan_id)
            .bind(version)
            .fetch_optional(pool)
            .await?,
    )
}

/// A stored version as `Plan.versions` lists it: what its summary says, without its text.
#[derive(Clone, Debug, FromRow)]
pub struct PlanVersionRow {
    pub plan_id: Uuid,
    pub version: i32,
    pub file_name: Option<String>,
    pub imported_at: chrono::DateTime<chrono::Utc>,
    /// The format the file was read as; empty in summaries stored before formats were recorded.
    pub format: String,
    pub measures: i32,
    pub child_measures: i32,
    pub milestones: i32,
    /// `crate::import::Changes` as stored.
    pub changes: serde_json::Value,
}

/// The versions of many plans, newest first per plan, in one statement.
pub async fn versions_by_plans(pool: &PgPool, plan_ids: &[Uuid]) -> ServiceResult<Vec<PlanVersionRow>> {
    Ok(sqlx::query_as(
        "SELECT plan_id, version, file_name, imported_at, COALESCE(summary->>'format', '') AS format, \
         COALESCE((summary->>'measures')::int, 0) AS measures, \
         COALESCE((summary->>'child_measures')::int, 0) AS child_measures, \
         COALESCE((summary->>'milestones')::int, 0) AS milestones, changes \
         FROM plan_version WHERE plan_id = ANY($1) ORDER BY plan_id, version DESC",
    )
    .bind(plan_ids)
    .fetch_all(pool)
    .await?)
}

/// The text of one stored version.
#[derive(Clone, Debug, FromRow)]
pub struct VersionTextRow {
    pub plan_id: Uuid,
    pub version: i32,
    pub source_text: String,
}

/// The texts of many (plan, version) pairs in one statement.
pub async fn version_texts(pool: &PgPool, keys: &[(Uuid, i32)]) -> ServiceResult<Vec<VersionTextRow>> {
    Ok(sqlx::query_as(
        "SELECT v.plan_id, v.version, v.source_text FROM plan_version v \
         JOIN unnest($1::uuid[], $2::int[]) AS k(plan_id, version) USING (plan_id, version)",
    )
    .bind(keys.iter().map(|k| k.0).collect::<Vec<_>>())
    .bind(keys.iter().map(|k| k.1).collect::<Vec<_>>())
    .fetch_all(pool)
    .await?)
}
