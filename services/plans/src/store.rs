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
    /// Stable identity within the plan across re-imports (the parser's key); `None` for measures
    /// entered by hand.
    pub key: Option<String>,
    pub kind: String,
    pub schedule: Option<serde_json::Value>,
    pub schedule_kind: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub reporting_forms: Option<String>,
    pub notes: Option<String>,
    pub indicator_text: Option<String>,
    pub targets: serde_json::Value,
    pub parties: serde_json::Value,
    pub source_line: Option<i32>,
}

impl MeasureRow {
    /// How people refer to the measure: the parser's key when imported (section-qualified,
    /// "III.1"), else the number as written, else its id.
    pub fn label(&self) -> String {
        [self.key.as_deref(), Some(self.number.trim())]
            .into_iter()
            .flatten()
            .find(|s| !s.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| self.id.to_string())
    }

    /// A measure with only the fields a person types by hand.
    pub fn manual(id: Uuid, plan_id: Uuid, position: i32, number: String, title: String) -> Self {
        Self {
            id,
            plan_id,
            section_id: None,
            parent_measure_id: None,
            position,
            number,
            title,
            schedule_text: None,
            expected_result: None,
            responsible_text: None,
            key: None,
            kind: "MEASURE".to_string(),
            schedule: None,
            schedule_kind: None,
            starts_on: None,
            due_on: None,
            reporting_forms: None,
            notes: None,
            indicator_text: None,
            targets: serde_json::Value::Array(Vec::new()),
            parties: serde_json::Value::Array(Vec::new()),
            source_line: None,
        }
    }
}

const PLAN_COLUMNS: &str = "id, title, level, period_start, period_end, period_text, owner_organisation_id, \
     territory_id, source_key, version, approval_kind, approval_number, approval_date, approval_signatory, goals, state";
const MEASURE_COLUMNS: &str = "id, plan_id, section_id, parent_measure_id, position, number, title, \
     schedule_text, expected_result, responsible_text, key, kind, schedule, schedule_kind, starts_on, due_on, \
     reporting_forms, notes, indicator_text, targets, parties, source_line";

pub async fn plans_by_ids(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<PlanRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {PLAN_COLUMNS} FROM plan WHERE id = ANY($1)"))
            .bind(ids)
            .fetch_all(pool)
            .await?,
    )
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
    sqlx::query(&format!(
        "INSERT INTO plan ({PLAN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    ))
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
    .execute(&mut **tx)
    .await?;
    Ok(())
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

/// Inserts (or, for ids that exist, updates: re-imports keep measure ids) all measures in one
/// statement; parents must precede their children in `rows`, which
/// one statement satisfies because foreign keys are checked at its end.
pub async fn insert_measures(tx: &mut Transaction<'_, Postgres>, rows: &[MeasureRow]) -> ServiceResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&MeasureRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    sqlx::query(&format!(
        "INSERT INTO measure ({MEASURE_COLUMNS}) \
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::int[], $6::text[], $7::text[], \
                              $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::jsonb[], $14::text[], \
                              $15::date[], $16::date[], $17::text[], $18::text[], $19::text[], $20::jsonb[], $21::jsonb[], \
                              $22::int[]) \
         ON CONFLICT (id) DO UPDATE SET section_id = EXCLUDED.section_id, parent_measure_id = EXCLUDED.parent_measure_id, \
            position = EXCLUDED.position, number = EXCLUDED.number, title = EXCLUDED.title, \
            schedule_text = EXCLUDED.schedule_text, expected_result = EXCLUDED.expected_result, \
            responsible_text = EXCLUDED.responsible_text, key = EXCLUDED.key, kind = EXCLUDED.kind, \
            schedule = EXCLUDED.schedule, schedule_kind = EXCLUDED.schedule_kind, starts_on = EXCLUDED.starts_on, \
            due_on = EXCLUDED.due_on, reporting_forms = EXCLUDED.reporting_forms, notes = EXCLUDED.notes, \
            indicator_text = EXCLUDED.indicator_text, targets = EXCLUDED.targets, parties = EXCLUDED.parties, \
            source_line = EXCLUDED.source_line"
    ))
    .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.plan_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.section_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.parent_measure_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.position).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.number.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.title.clone()).collect::<Vec<_>>())
    .bind(col(|r| r.schedule_text.clone()))
    .bind(col(|r| r.expected_result.clone()))
    .bind(col(|r| r.responsible_text.clone()))
    .bind(col(|r| r.key.clone()))
    .bind(rows.iter().map(|r| r.kind.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.schedule.clone()).collect::<Vec<_>>())
    .bind(col(|r| r.schedule_kind.clone()))
    .bind(rows.iter().map(|r| r.starts_on).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.due_on).collect::<Vec<_>>())
    .bind(col(|r| r.reporting_forms.clone()))
    .bind(col(|r| r.notes.clone()))
    .bind(col(|r| r.indicator_text.clone()))
    .bind(rows.iter().map(|r| r.targets.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.parties.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.source_line).collect::<Vec<_>>())
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

pub async fn update_plan_meta(tx: &mut Transaction<'_, Postgres>, plan: &PlanRow) -> ServiceResult<()> {
    sqlx::query(
        "UPDATE plan SET title = $2, level = $3, period_start = $4, period_end = $5, period_text = $6, \
         owner_organisation_id = $7, territory_id = $8, version = $9, approval_kind = $10, approval_number = $11, \
         approval_date = $12, approval_signatory = $13, goals = $14, updated_at = now() WHERE id = $1",
    )
    .bind(plan.id)
    .bind(&plan.title)
    .bind(&plan.level)
    .bind(plan.period_start)
    .bind(plan.period_end)
    .bind(&plan.period_text)
    .bind(plan.owner_organisation_id)
    .bind(plan.territory_id)
    .bind(plan.version)
    .bind(&plan.approval_kind)
    .bind(&plan.approval_number)
    .bind(plan.approval_date)
    .bind(&plan.approval_signatory)
    .bind(&plan.goals)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes a plan's measures that are not in `keep` (their children and links go with them).
pub async fn delete_measures_except(
    tx: &mut Transaction<'_, Postgres>,
    plan_id: Uuid,
    keep: &[Uuid],
) -> ServiceResult<()> {
    sqlx::query("DELETE FROM measure WHERE plan_id = $1 AND NOT (id = ANY($2))")
        .bind(plan_id)
        .bind(keep)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn delete_sections_except(
    tx: &mut Transaction<'_, Postgres>,
    plan_id: Uuid,
    keep: &[Uuid],
) -> ServiceResult<()> {
    sqlx::query("DELETE FROM section WHERE plan_id = $1 AND NOT (id = ANY($2))")
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

pub struct VersionRow<'a> {
    pub plan_id: Uuid,
    pub version: i32,
    pub sha256: &'a str,
    pub source_text: &'a str,
    pub file_name: Option<&'a str>,
    pub summary: serde_json::Value,
    pub changes: serde_json::Value,
}

pub async fn insert_version(tx: &mut Transaction<'_, Postgres>, v: &VersionRow<'_>) -> ServiceResult<()> {
    sqlx::query(
        "INSERT INTO plan_version (plan_id, version, source_sha256, source_text, file_name, summary, changes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(v.plan_id)
    .bind(v.version)
    .bind(v.sha256)
    .bind(v.source_text)
    .bind(v.file_name)
    .bind(&v.summary)
    .bind(&v.changes)
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

// ---- cascade ----------------------------------------------------------------------------------

#[derive(Clone, Debug, FromRow)]
pub struct LinkRow {
    pub id: Uuid,
    pub measure_id: Uuid,
    pub implements_id: Uuid,
    pub state: String,
    pub score: Option<f64>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

const LINK_COLUMNS: &str =
    "id, measure_id, implements_id, state, score, created_by, created_at, decided_by, decided_at";

/// One edge reached by a trace: `depth` 1 is a direct link of a root.
#[derive(Clone, Debug, FromRow)]
pub struct TraceRow {
    pub root: Uuid,
    pub depth: i32,
    pub link_id: Uuid,
    pub measure_id: Uuid,
    pub implements_id: Uuid,
}

/// Every non-rejected link below the roots, down to `max_depth`, in one statement whatever the
/// size of the tree. Paths never revisit a measure.
pub async fn trace_down(pool: &PgPool, roots: &[Uuid], max_depth: i32) -> ServiceResult<Vec<TraceRow>> {
    Ok(sqlx::query_as(
        "WITH RECURSIVE t(root, depth, link_id, measure_id, implements_id, path) AS ( \
           SELECT l.implements_id, 1, l.id, l.measure_id, l.implements_id, ARRAY[l.implements_id, l.measure_id] \
             FROM measure_link l WHERE l.implements_id = ANY($1) AND l.state <> 'REJECTED' \
           UNION ALL \
           SELECT t.root, t.depth + 1, l.id, l.measure_id, l.implements_id, t.path || l.measure_id \
             FROM measure_link l JOIN t ON l.implements_id = t.measure_id \
            WHERE t.depth < $2 AND l.state <> 'REJECTED' AND NOT l.measure_id = ANY(t.path)) \
         SELECT root, depth, link_id, measure_id, implements_id FROM t ORDER BY root, depth",
    )
    .bind(roots)
    .bind(max_depth)
    .fetch_all(pool)
    .await?)
}

/// Every non-rejected link above the roots, up to the top (bounded by `max_depth`).
pub async fn trace_up(pool: &PgPool, roots: &[Uuid], max_depth: i32) -> ServiceResult<Vec<TraceRow>> {
    Ok(sqlx::query_as(
        "WITH RECURSIVE t(root, depth, link_id, measure_id, implements_id, path) AS ( \
           SELECT l.measure_id, 1, l.id, l.measure_id, l.implements_id, ARRAY[l.measure_id, l.implements_id] \
             FROM measure_link l WHERE l.measure_id = ANY($1) AND l.state <> 'REJECTED' \
           UNION ALL \
           SELECT t.root, t.depth + 1, l.id, l.measure_id, l.implements_id, t.path || l.implements_id \
             FROM measure_link l JOIN t ON l.measure_id = t.implements_id \
            WHERE t.depth < $2 AND l.state <> 'REJECTED' AND NOT l.implements_id = ANY(t.path)) \
         SELECT root, depth, link_id, measure_id, implements_id FROM t ORDER BY root, depth",
    )
    .bind(roots)
    .bind(max_depth)
    .fetch_all(pool)
    .await?)
}

pub async fn links_by_ids(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<LinkRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {LINK_COLUMNS} FROM measure_link WHERE id = ANY($1)"))
            .bind(ids)
            .fetch_all(pool)
            .await?,
    )
}

/// Would linking `measure` → `implements` close a cycle (is `measure` already above `implements`)?
pub async fn creates_cycle(tx: &mut Transaction<'_, Postgres>, measure: Uuid, implements: Uuid) -> ServiceResult<bool> {
    Ok(sqlx::query_scalar(
        "WITH RECURSIVE up(id) AS ( \
           SELECT implements_id FROM measure_link WHERE measure_id = $1 AND state <> 'REJECTED' \
           UNION SELECT l.implements_id FROM measure_link l JOIN up ON l.measure_id = up.id WHERE l.state <> 'REJECTED') \
         SELECT $1 = $2 OR EXISTS (SELECT 1 FROM up WHERE id = $2)",
    )
    .bind(implements)
    .bind(measure)
    .fetch_one(&mut **tx)
    .await?)
}

pub async fn is_parent_plan(tx: &mut Transaction<'_, Postgres>, plan: Uuid, parent: Uuid) -> ServiceResult<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM plan_parent WHERE plan_id = $1 AND parent_plan_id = $2)")
            .bind(plan)
            .bind(parent)
            .fetch_one(&mut **tx)
            .await?,
    )
}

pub async fn upsert_link(tx: &mut Transaction<'_, Postgres>, link: &LinkRow) -> ServiceResult<LinkRow> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO measure_link ({LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT ON CONSTRAINT measure_link_unique DO UPDATE SET state = EXCLUDED.state, \
            score = COALESCE(EXCLUDED.score, measure_link.score), decided_by = EXCLUDED.decided_by, \
            decided_at = EXCLUDED.decided_at \
         RETURNING {LINK_COLUMNS}"
    ))
    .bind(link.id)
    .bind(link.measure_id)
    .bind(link.implements_id)
    .bind(&link.state)
    .bind(link.score)
    .bind(&link.created_by)
    .bind(link.created_at)
    .bind(&link.decided_by)
    .bind(link.decided_at)
    .fetch_one(&mut **tx)
    .await?)
}

pub async fn set_link_state(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    state: &str,
    by: &str,
) -> ServiceResult<Option<LinkRow>> {
    Ok(sqlx::query_as(&format!(
        "UPDATE measure_link SET state = $2, decided_by = $3, decided_at = now() WHERE id = $1 RETURNING {LINK_COLUMNS}"
    ))
    .bind(id)
    .bind(state)
    .bind(by)
    .fetch_optional(&mut **tx)
    .await?)
}

pub async fn add_plan_parent(tx: &mut Transaction<'_, Postgres>, plan: Uuid, parent: Uuid) -> ServiceResult<()> {
    sqlx::query("INSERT INTO plan_parent (plan_id, parent_plan_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(plan)
        .bind(parent)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn plan_parents(pool: &PgPool, plan_ids: &[Uuid]) -> ServiceResult<Vec<(Uuid, Uuid)>> {
    Ok(
        sqlx::query_as("SELECT plan_id, parent_plan_id FROM plan_parent WHERE plan_id = ANY($1)")
            .bind(plan_ids)
            .fetch_all(pool)
            .await?,
    )
}

/// Status and progress of measures, keyed by id.
#[derive(Clone, Debug, FromRow)]
pub struct StatusRow {
    pub id: Uuid,
    pub status: String,
    pub progress: Option<f64>,
    pub weight: f64,
    pub due_on: Option<NaiveDate>,
}

pub async fn statuses(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<StatusRow>> {
    Ok(sqlx::query_as(
        "SELECT id, status, progress::float8 AS progress, weight::float8 AS weight, due_on FROM measure WHERE id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?)
}

pub async fn set_status(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    status: &str,
    progress: Option<f64>,
) -> ServiceResult<Option<(String, Option<f64>)>> {
    Ok(sqlx::query_as(
        "UPDATE measure m SET status = $2, progress = COALESCE($3::numeric, m.progress), status_changed_at = now() \
         FROM (SELECT id, status AS old_status, progress AS old_progress FROM measure WHERE id = $1 FOR UPDATE) old \
         WHERE m.id = old.id RETURNING old.old_status, old.old_progress::float8",
    )
    .bind(id)
    .bind(status)
    .bind(progress)
    .fetch_optional(&mut **tx)
    .await?)
}

/// (id, title) of the measures a measure of `plan_id` could be linked to: of its declared parent
/// plans (`scope` = "PARENTS"), of plans of a higher level ("HIGHER"), or of any other plan.
pub async fn link_candidates(pool: &PgPool, plan_id: Uuid, scope: &str) -> ServiceResult<Vec<(Uuid, String)>> {
    Ok(sqlx::query_as(
        "WITH me AS (SELECT level FROM plan WHERE id = $1), \
              rank(level, r) AS (VALUES ('FEDERAL', 4), ('REGIONAL', 3), ('MUNICIPAL', 2), ('SCHOOL', 1)) \
         SELECT m.id, m.title FROM measure m JOIN plan p ON p.id = m.plan_id \
         WHERE m.plan_id <> $1 AND m.kind = 'MEASURE' AND btrim(m.title) <> '' AND CASE $2 \
             WHEN 'PARENTS' THEN EXISTS (SELECT 1 FROM plan_parent pp WHERE pp.plan_id = $1 AND pp.parent_plan_id = p.id) \
             WHEN 'HIGHER' THEN (SELECT r FROM rank WHERE level = p.level) > \
                                (SELECT r FROM rank, me WHERE rank.level = me.level) \
             ELSE true END",
    )
    .bind(plan_id)
    .bind(scope)
    .fetch_all(pool)
    .await?)
}

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

/// One report on one occurrence (a revision; the highest is the current report).
#[derive(Clone, Debug, FromRow, serde::Serialize)]
pub struct ReportRow {
    pub measure_id: Uuid,
    pub occurs_on: NaiveDate,
    pub revision: i32,
    pub held: bool,
    pub participants: Option<i32>,
    pub evidence: Vec<String>,
    pub note: Option<String>,
    pub reported_by: String,
    pub reported_at: chrono::DateTime<chrono::Utc>,
}

const REPORT_COLUMNS: &str =
    "measure_id, occurs_on, revision, held, participants, evidence, note, reported_by, reported_at";

/// Every report revision of the given measures, by date then revision.
pub async fn reports_by_measures(pool: &PgPool, measure_ids: &[Uuid]) -> ServiceResult<Vec<ReportRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {REPORT_COLUMNS} FROM occurrence_report WHERE measure_id = ANY($1) \
         ORDER BY measure_id, occurs_on, revision"
    ))
    .bind(measure_ids)
    .fetch_all(pool)
    .await?)
}

/// Locks the measure (reports on it are serialised) and returns its current report on `date`;
/// `None` in the outer option when the measure does not exist.
pub async fn lock_measure_report(
    tx: &mut Transaction<'_, Postgres>,
    measure: Uuid,
    date: NaiveDate,
) -> ServiceResult<Option<Option<ReportRow>>> {
    let exists: Option<Uuid> = sqlx::query_scalar("SELECT id FROM measure WHERE id = $1 FOR NO KEY UPDATE")
        .bind(measure)
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_none() {
        return Ok(None);
    }
    let current = sqlx::query_as(&format!(
        "SELECT {REPORT_COLUMNS} FROM occurrence_report WHERE measure_id = $1 AND occurs_on = $2 \
         ORDER BY revision DESC LIMIT 1"
    ))
    .bind(measure)
    .bind(date)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(Some(current))
}

pub async fn insert_report(tx: &mut Transaction<'_, Postgres>, r: &ReportRow) -> ServiceResult<ReportRow> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO occurrence_report (measure_id, occurs_on, revision, held, participants, evidence, note, reported_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {REPORT_COLUMNS}"
    ))
    .bind(r.measure_id)
    .bind(r.occurs_on)
    .bind(r.revision)
    .bind(r.held)
    .bind(r.participants)
    .bind(&r.evidence)
    .bind(&r.note)
    .bind(&r.reported_by)
    .fetch_one(&mut **tx)
    .await?)
}

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
