//! Measures, the organisations responsible for them, and their statuses.

use chrono::NaiveDate;
use sqlx::{FromRow, PgPool, Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::{ServiceError, ServiceResult};

use super::MEASURE_COLUMNS;

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
    /// Cells of the document's columns the parser has no role for: `[{header, value}]`, in
    /// column order (`roadmap_import::ExtraColumn`).
    pub extra: serde_json::Value,
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
            extra: serde_json::Value::Array(Vec::new()),
        }
    }
}

pub async fn measures_by_ids(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<MeasureRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {MEASURE_COLUMNS} FROM measure WHERE id = ANY($1)"))
            .bind(ids)
            .fetch_all(pool)
            .await?,
    )
}

/// One measure; `NotFound` when there is none.
pub async fn measure_by_id(pool: &PgPool, id: Uuid) -> ServiceResult<MeasureRow> {
    measures_by_ids(pool, &[id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ServiceError::not_found("Measure", id))
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
                              $22::int[], $23::jsonb[]) \
         ON CONFLICT (id) DO UPDATE SET section_id = EXCLUDED.section_id, parent_measure_id = EXCLUDED.parent_measure_id, \
            position = EXCLUDED.position, number = EXCLUDED.number, title = EXCLUDED.title, \
            schedule_text = EXCLUDED.schedule_text, expected_result = EXCLUDED.expected_result, \
            responsible_text = EXCLUDED.responsible_text, key = EXCLUDED.key, kind = EXCLUDED.kind, \
            schedule = EXCLUDED.schedule, schedule_kind = EXCLUDED.schedule_kind, starts_on = EXCLUDED.starts_on, \
            due_on = EXCLUDED.due_on, reporting_forms = EXCLUDED.reporting_forms, notes = EXCLUDED.notes, \
            indicator_text = EXCLUDED.indicator_text, targets = EXCLUDED.targets, parties = EXCLUDED.parties, \
            source_line = EXCLUDED.source_line, extra = EXCLUDED.extra"
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
    .bind(rows.iter().map(|r| r.extra.clone()).collect::<Vec<_>>())
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

/// Status and progress of measures, keyed by id.
#[derive(Clone, Debug, FromRow)]
pub struct StatusRow {
    pub id: Uuid,
    pub status: String,
    pub progress: Option<f64>,
    pub weight: f64,
    /// The rolled-up progress (`ROLLED_PROGRESS`); `None` for a cancelled measure, and when
    /// not read (`rolled_read`).
    pub rolled_progress: Option<f64>,
    /// `rolled_progress` was read: a trace reads it only when asked for
    /// (`super::NodeReads::rolled`), and `Measure.rolledProgress` reads it then
    /// ([`rolled_progress`]).
    pub rolled_read: bool,
    pub due_on: Option<NaiveDate>,
    /// The time zone of the measure's plan (`PlanRow::time_zone`): OVERDUE is judged on its day.
    pub time_zone: Option<String>,
}

/// The rolled-up progress of measure `m`, as a [`StatusRow`] column: the rule applied to its
/// status, progress and its implementers' mean as the database keeps it (`crate::cascade`; one
/// primary-key read, a correlated subquery so that it never changes the plan of the statement
/// around it).
pub(super) const ROLLED_PROGRESS: &str = "measure_rolled_rule(m.status, m.progress, \
     (SELECT mr.mean FROM measure_rollup mr WHERE mr.measure_id = m.id))::float8 AS rolled_progress";

pub async fn statuses(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<StatusRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT m.id, m.status, m.progress::float8 AS progress, m.weight::float8 AS weight, {ROLLED_PROGRESS}, \
                true AS rolled_read, m.due_on, p.time_zone \
         FROM measure m JOIN plan p ON p.id = m.plan_id WHERE m.id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await?)
}

/// A measure's rolled-up progress alone (`ROLLED_PROGRESS`), for statuses read without it.
#[derive(Clone, Debug, FromRow)]
pub struct RolledRow {
    pub id: Uuid,
    pub rolled_progress: Option<f64>,
}

pub async fn rolled_progress(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<RolledRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT m.id, {ROLLED_PROGRESS} FROM measure m WHERE m.id = ANY($1)"
    ))
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

/// A measure with its plan, read together where a request starts from a measure (`measure(id)`,
/// its entity): the plan decides whether the measure may be seen, and is then at hand for its
/// fields.
#[derive(Clone, Debug, FromRow)]
pub struct MeasureWithPlanRow {
    #[sqlx(flatten)]
    pub measure: MeasureRow,
    pub plan: Option<sqlx::types::Json<super::PlanRow>>,
}

/// Measures by id with their plans, in one statement.
pub async fn measures_with_plans(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<MeasureWithPlanRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT m.*, (SELECT to_jsonb(p) FROM (SELECT {} FROM plan WHERE id = m.plan_id) p) AS plan \
         FROM (SELECT {MEASURE_COLUMNS} FROM measure WHERE id = ANY($1)) m",
        super::PLAN_COLUMNS
    ))
    .bind(ids)
    .fetch_all(pool)
    .await?)
}
