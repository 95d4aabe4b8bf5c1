//! Every SQL statement of the indicators subgraph (schema `indicators`: indicator,
//! indicator_target, observation, measure_indicator), including what the outbox reads for an
//! event's payload. NUMERIC values are written from their decimal text and read as float8.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{FromRow, PgExecutor, PgPool, Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::ServiceResult;

#[derive(Clone, Debug, FromRow)]
pub struct IndicatorRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub direction: String,
    pub aggregation: String,
    pub dimensions: Vec<String>,
    #[sqlx(flatten)]
    pub bounds: IndicatorBounds,
}

/// What an indicator is about and which values it takes: its exam and grade, the periods and the
/// range of valid values. Stored with the definition ([`IndicatorRow`], [`NewIndicator`]) and
/// given as is by `createIndicator` (flattened into `CreateIndicatorInput`).
#[derive(Clone, Debug, Default, FromRow, async_graphql::InputObject)]
pub struct IndicatorBounds {
    pub exam: Option<String>,
    pub grade: Option<i32>,
    pub period_from: Option<i32>,
    pub period_to: Option<i32>,
    /// Default 0 for `%`.
    pub min_value: Option<f64>,
    /// Default 100 for `%`.
    pub max_value: Option<f64>,
}

const INDICATOR_SELECT: &str = "SELECT id, code, name, unit, direction, aggregation, dimensions, exam, grade, \
     period_from, period_to, min_value::float8 AS min_value, max_value::float8 AS max_value FROM indicator";

/// What a target or an observation is a value of: the indicator, the place (a territory, or an
/// organisation with its territory), the period and the subject key ('' for none). Rows hold it
/// flattened and read its fields through `Deref`.
#[derive(Clone, Debug, FromRow)]
pub struct ValueOf {
    pub indicator_id: Uuid,
    pub territory_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub period: i32,
    pub subject: String,
}

macro_rules! deref_value_of {
    ($($row:ty),*) => {$(
        impl std::ops::Deref for $row {
            type Target = ValueOf;

            fn deref(&self) -> &ValueOf {
                &self.of
            }
        }
    )*};
}

deref_value_of!(TargetRow, ObservationRow);

#[derive(Clone, Debug, FromRow)]
pub struct TargetRow {
    pub id: Uuid,
    #[sqlx(flatten)]
    pub of: ValueOf,
    /// BASELINE or TARGET.
    pub kind: String,
    pub comparator: String,
    pub value: f64,
    pub value_raw: String,
    pub plan_id: Option<Uuid>,
    pub measure_id: Option<Uuid>,
    pub source_line: Option<i32>,
    pub position: Option<i32>,
    pub updated_at: DateTime<Utc>,
}

const TARGET_SELECT: &str = "SELECT t.id, t.indicator_id, t.territory_id, t.organisation_id, t.period, t.subject, \
     t.kind, t.comparator, t.value::float8 AS value, t.value_raw, t.plan_id, t.measure_id, t.source_line, t.position, t.updated_at \
     FROM indicator_target t";

/// A target before it is written; `value` is decimal text with a point ("32.79").
#[derive(Clone, Debug)]
pub struct NewTarget {
    pub indicator_id: Uuid,
    pub territory_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub period: i32,
    pub subject: String,
    pub kind: &'static str,
    pub comparator: &'static str,
    pub value: String,
    pub value_raw: String,
    pub plan_id: Option<Uuid>,
    pub measure_id: Option<Uuid>,
    pub source_line: Option<i32>,
    pub position: Option<i32>,
}

#[derive(Clone, Debug, FromRow)]
pub struct ObservationRow {
    pub id: Uuid,
    #[sqlx(flatten)]
    pub of: ValueOf,
    /// The territory it rolls up into directly (none under an organisation).
    pub parent_territory_id: Option<Uuid>,
    pub value: f64,
    pub value_raw: String,
    pub denominator: Option<f64>,
    pub source: Option<String>,
    pub observed_on: Option<NaiveDate>,
    pub recorded_at: DateTime<Utc>,
    /// OFFICIAL, MOCK_EXAM or DIAGNOSTIC.
    pub result_source: String,
    pub numerator: Option<f64>,
    /// Organisations above the observed unit, nearest first.
    pub organisation_path: Vec<Uuid>,
    /// Territories above it, nearest first; none when not recorded.
    pub territory_path: Option<Vec<Uuid>>,
}

const OBSERVATION_SELECT: &str = "SELECT o.id, o.indicator_id, o.territory_id, o.organisation_id, \
     o.parent_territory_id, o.period, o.subject, o.value::float8 AS value, o.value_raw, \
     o.denominator::float8 AS denominator, o.source, o.observed_on, o.recorded_at, o.result_source, \
     o.numerator::float8 AS numerator, o.organisation_path, o.territory_path FROM observation o";

/// An observation as rollups read it: where it sits and what it reports, nothing else. Read by
/// column position ([`rollup_rows`]' order): a country's rollup reads every observation of the
/// indicator.
#[derive(Clone, Debug)]
pub struct RollupRow {
    pub indicator_id: Uuid,
    /// The organisation it is about, else the territory.
    pub unit_id: Uuid,
    pub is_organisation: bool,
    /// Only without a `territory_path`, the one time it is read.
    pub parent_territory_id: Option<Uuid>,
    pub period: i32,
    pub subject: String,
    pub result_source: String,
    pub value: f64,
    pub denominator: Option<f64>,
    pub numerator: Option<f64>,
    pub organisation_path: Vec<Uuid>,
    pub territory_path: Option<Vec<Uuid>>,
}

impl<'r> FromRow<'r, sqlx::postgres::PgRow> for RollupRow {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row as _;
        Ok(RollupRow {
            indicator_id: row.try_get(0)?,
            unit_id: row.try_get(1)?,
            is_organisation: row.try_get(2)?,
            parent_territory_id: row.try_get(3)?,
            period: row.try_get(4)?,
            subject: row.try_get(5)?,
            result_source: row.try_get(6)?,
            value: row.try_get(7)?,
            denominator: row.try_get(8)?,
            numerator: row.try_get(9)?,
            organisation_path: row.try_get(10)?,
            territory_path: row.try_get(11)?,
        })
    }
}

impl From<&ObservationRow> for RollupRow {
    fn from(o: &ObservationRow) -> Self {
        RollupRow {
            indicator_id: o.indicator_id,
            unit_id: o.organisation_id.or(o.territory_id).unwrap_or_default(),
            is_organisation: o.organisation_id.is_some(),
            parent_territory_id: o.parent_territory_id.filter(|_| o.territory_path.is_none()),
            period: o.period,
            subject: o.subject.clone(),
            result_source: o.result_source.clone(),
            value: o.value,
            denominator: o.denominator,
            numerator: o.numerator,
            organisation_path: o.organisation_path.clone(),
            territory_path: o.territory_path.clone(),
        }
    }
}

/// An observation before it is written, named as its columns are: numbers are decimal text.
#[derive(Clone, Debug, serde::Serialize)]
pub struct NewObservation {
    pub indicator_id: Uuid,
    pub territory_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub parent_territory_id: Option<Uuid>,
    pub period: i32,
    pub subject: String,
    pub value: String,
    pub value_raw: String,
    pub denominator: Option<String>,
    pub source: Option<String>,
    pub observed_on: Option<NaiveDate>,
    pub result_source: &'static str,
    pub numerator: Option<String>,
    pub organisation_path: Vec<Uuid>,
    pub territory_path: Option<Vec<Uuid>>,
}

/// An indicator definition before it is written.
#[derive(Clone, Debug)]
pub struct NewIndicator {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub direction: &'static str,
    pub aggregation: &'static str,
    pub dimensions: Vec<String>,
    pub bounds: IndicatorBounds,
}

/// The rows `sql` selects with `ids` bound as `$1`, the form of most reads here.
async fn select_by_ids<R>(db: impl PgExecutor<'_>, sql: &str, ids: &[Uuid]) -> ServiceResult<Vec<R>>
where
    R: for<'r> FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    Ok(sqlx::query_as(sql).bind(ids).fetch_all(db).await?)
}

pub async fn list_indicators(pool: &PgPool) -> ServiceResult<Vec<IndicatorRow>> {
    sqlx::query_as(&format!("{INDICATOR_SELECT} ORDER BY code"))
        .fetch_all(pool)
        .await
        .map_err(Into::into)
}

pub async fn indicators_by_ids(db: impl PgExecutor<'_>, ids: &[Uuid]) -> ServiceResult<Vec<IndicatorRow>> {
    select_by_ids(db, &format!("{INDICATOR_SELECT} WHERE id = ANY($1)"), ids).await
}

pub async fn indicators_by_codes(pool: &PgPool, codes: &[String]) -> ServiceResult<Vec<IndicatorRow>> {
    sqlx::query_as(&format!("{INDICATOR_SELECT} WHERE code = ANY($1)"))
        .bind(codes)
        .fetch_all(pool)
        .await
        .map_err(Into::into)
}

const INDICATOR_INSERT: &str = "INSERT INTO indicator (id, code, name, unit, direction, aggregation, dimensions, \
     exam, grade, period_from, period_to, min_value, max_value) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::numeric, $13::numeric)";

fn bind_indicator<'q>(
    query: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    id: Uuid,
    i: &'q NewIndicator,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(id)
        .bind(&i.code)
        .bind(&i.name)
        .bind(&i.unit)
        .bind(i.direction)
        .bind(i.aggregation)
        .bind(&i.dimensions)
        .bind(&i.bounds.exam)
        .bind(i.bounds.grade)
        .bind(i.bounds.period_from)
        .bind(i.bounds.period_to)
        // NUMERIC from the decimal text of the number.
        .bind(i.bounds.min_value.map(|v| v.to_string()))
        .bind(i.bounds.max_value.map(|v| v.to_string()))
}

pub async fn insert_indicator(conn: &mut sqlx::PgConnection, indicator: &NewIndicator) -> ServiceResult<Uuid> {
    let id = Uuid::new_v4();
    bind_indicator(sqlx::query(INDICATOR_INSERT), id, indicator)
        .execute(conn)
        .await?;
    Ok(id)
}

/// The id of the indicator with this code, created from `indicator` when missing.
async fn ensure_indicator(tx: &mut Transaction<'_, Postgres>, indicator: &NewIndicator) -> ServiceResult<Uuid> {
    let insert = format!("{INDICATOR_INSERT} ON CONFLICT ON CONSTRAINT indicator_code_unique DO NOTHING");
    bind_indicator(sqlx::query(&insert), Uuid::new_v4(), indicator)
        .execute(&mut **tx)
        .await?;
    Ok(sqlx::query_scalar("SELECT id FROM indicator WHERE code = $1")
        .bind(&indicator.code)
        .fetch_one(&mut **tx)
        .await?)
}

/// The ids of the indicators `definitions` define (by code), each created when missing.
pub async fn ensure_indicators(
    tx: &mut Transaction<'_, Postgres>,
    definitions: &[NewIndicator],
) -> ServiceResult<HashMap<String, Uuid>> {
    let mut ids = HashMap::new();
    for definition in definitions {
        if !ids.contains_key(&definition.code) {
            ids.insert(definition.code.clone(), ensure_indicator(tx, definition).await?);
        }
    }
    Ok(ids)
}

pub async fn delete_plan_targets(tx: &mut Transaction<'_, Postgres>, plan_id: Uuid) -> ServiceResult<u64> {
    Ok(sqlx::query("DELETE FROM indicator_target WHERE plan_id = $1")
        .bind(plan_id)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

/// Inserts or replaces (same indicator, plan, place, period, subject, kind) targets in one
/// statement; returns their ids in input order. The caller makes sure no key repeats.
pub async fn upsert_targets(tx: &mut Transaction<'_, Postgres>, rows: &[NewTarget]) -> ServiceResult<Vec<Uuid>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::new_v4()).collect();
    let col = |f: fn(&NewTarget) -> Option<Uuid>| rows.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO indicator_target (id, indicator_id, territory_id, organisation_id, period, subject, kind, \
             comparator, value, value_raw, plan_id, measure_id, source_line, position) \
         SELECT id, indicator_id, territory_id, organisation_id, period, subject, kind, comparator, value::numeric, \
             value_raw, plan_id, measure_id, source_line, position \
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::int[], $6::text[], $7::text[], $8::text[], \
             $9::text[], $10::text[], $11::uuid[], $12::uuid[], $13::int[], $14::int[]) \
             AS r(id, indicator_id, territory_id, organisation_id, period, subject, kind, comparator, value, value_raw, \
                  plan_id, measure_id, source_line, position) \
         ON CONFLICT ON CONSTRAINT indicator_target_unique DO UPDATE SET comparator = EXCLUDED.comparator, \
             value = EXCLUDED.value, value_raw = EXCLUDED.value_raw, measure_id = EXCLUDED.measure_id, \
             source_line = EXCLUDED.source_line, position = EXCLUDED.position, updated_at = now()",
    )
    .bind(&ids)
    .bind(rows.iter().map(|r| r.indicator_id).collect::<Vec<_>>())
    .bind(col(|r| r.territory_id))
    .bind(col(|r| r.organisation_id))
    .bind(rows.iter().map(|r| r.period).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.subject.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.kind).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.comparator).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.value.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.value_raw.clone()).collect::<Vec<_>>())
    .bind(col(|r| r.plan_id))
    .bind(col(|r| r.measure_id))
    .bind(rows.iter().map(|r| r.source_line).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.position).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    // Rows that replaced an existing one keep its id: read the ids back by key.
    let keyed: Vec<TargetRow> = sqlx::query_as(&format!(
        "{TARGET_SELECT} JOIN unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::int[], $6::text[], $7::text[]) \
             WITH ORDINALITY AS k(indicator_id, plan_id, territory_id, organisation_id, period, subject, kind, n) \
         ON t.indicator_id = k.indicator_id AND t.plan_id IS NOT DISTINCT FROM k.plan_id \
            AND t.territory_id IS NOT DISTINCT FROM k.territory_id \
            AND t.organisation_id IS NOT DISTINCT FROM k.organisation_id \
            AND t.period = k.period AND t.subject = k.subject AND t.kind = k.kind ORDER BY k.n"
    ))
    .bind(rows.iter().map(|r| r.indicator_id).collect::<Vec<_>>())
    .bind(col(|r| r.plan_id))
    .bind(col(|r| r.territory_id))
    .bind(col(|r| r.organisation_id))
    .bind(rows.iter().map(|r| r.period).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.subject.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.kind).collect::<Vec<_>>())
    .fetch_all(&mut **tx)
    .await?;
    Ok(keyed.into_iter().map(|t| t.id).collect())
}

/// Inserts or replaces the observation of (indicator, place, period, subject, result source);
/// returns its id. The row goes as one JSON document, read into the table's row type.
pub async fn upsert_observation(tx: &mut Transaction<'_, Postgres>, o: &NewObservation) -> ServiceResult<Uuid> {
    const COLUMNS: &str = "id, indicator_id, territory_id, organisation_id, parent_territory_id, period, subject, \
         value, value_raw, denominator, source, observed_on, result_source, numerator, organisation_path, territory_path";
    let mut row = serde_json::to_value(o).map_err(|e| roadmap_common::ServiceError::internal_msg(e.to_string()))?;
    row["id"] = serde_json::json!(Uuid::new_v4());
    Ok(sqlx::query_scalar(&format!(
        "INSERT INTO observation ({COLUMNS}) SELECT {COLUMNS} FROM jsonb_populate_record(NULL::observation, $1) \
         ON CONFLICT ON CONSTRAINT observation_unique DO UPDATE SET parent_territory_id = EXCLUDED.parent_territory_id, \
             value = EXCLUDED.value, value_raw = EXCLUDED.value_raw, denominator = EXCLUDED.denominator, \
             source = EXCLUDED.source, observed_on = EXCLUDED.observed_on, numerator = EXCLUDED.numerator, \
             organisation_path = EXCLUDED.organisation_path, territory_path = EXCLUDED.territory_path, \
             recorded_at = now() \
         RETURNING id"
    ))
    .bind(row)
    .fetch_one(&mut **tx)
    .await?)
}

pub async fn targets_by_ids(db: impl PgExecutor<'_>, ids: &[Uuid]) -> ServiceResult<Vec<TargetRow>> {
    select_by_ids(
        db,
        &format!("{TARGET_SELECT} WHERE t.id = ANY($1) ORDER BY t.period, t.subject, t.kind"),
        ids,
    )
    .await
}

pub async fn observations_by_ids(db: impl PgExecutor<'_>, ids: &[Uuid]) -> ServiceResult<Vec<ObservationRow>> {
    select_by_ids(db, &format!("{OBSERVATION_SELECT} WHERE o.id = ANY($1)"), ids).await
}

pub async fn targets_by_plans(pool: &PgPool, plan_ids: &[Uuid]) -> ServiceResult<Vec<TargetRow>> {
    select_by_ids(pool, &format!(
        "{TARGET_SELECT} WHERE t.plan_id = ANY($1) ORDER BY t.position NULLS LAST, t.source_line NULLS LAST, t.subject, t.period, t.kind"
    ), plan_ids).await
}

/// Targets and baselines set for territories themselves (not for their organisations).
pub async fn targets_by_territories(pool: &PgPool, territory_ids: &[Uuid]) -> ServiceResult<Vec<TargetRow>> {
    select_by_ids(
        pool,
        &format!(
            "{TARGET_SELECT} WHERE t.territory_id = ANY($1) AND t.organisation_id IS NULL \
         ORDER BY t.indicator_id, t.subject, t.period, t.kind, t.updated_at"
        ),
        territory_ids,
    )
    .await
}

pub async fn targets_by_indicators(pool: &PgPool, indicator_ids: &[Uuid]) -> ServiceResult<Vec<TargetRow>> {
    select_by_ids(
        pool,
        &format!("{TARGET_SELECT} WHERE t.indicator_id = ANY($1) ORDER BY t.subject, t.period, t.kind, t.updated_at"),
        indicator_ids,
    )
    .await
}

/// Territories' own observations (not their organisations').
pub async fn observations_by_territories(pool: &PgPool, territory_ids: &[Uuid]) -> ServiceResult<Vec<ObservationRow>> {
    select_by_ids(
        pool,
        &format!(
            "{OBSERVATION_SELECT} WHERE o.territory_id = ANY($1) AND o.organisation_id IS NULL \
         ORDER BY o.indicator_id, o.subject, o.period"
        ),
        territory_ids,
    )
    .await
}

/// The rows `sql` selects with indicator, territory and organisation ids bound as `$1`, `$2`
/// and `$3`: the form of the rollup reads.
async fn select_by_units<R>(pool: &PgPool, sql: &str, units: (&[Uuid], &[Uuid], &[Uuid])) -> ServiceResult<Vec<R>>
where
    R: for<'r> FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let (indicators, territories, organisations) = units;
    Ok(sqlx::query_as(sql)
        .bind(indicators)
        .bind(territories)
        .bind(organisations)
        .fetch_all(pool)
        .await?)
}

/// Everything rollups of these units need, in one statement whatever the depth: the units' own
/// observations and those of every unit under them (territories and organisations whose
/// recorded path holds one of them, or, without a path, whose `parent_territory_id` is one),
/// every period, subject and source, of these indicators; only the columns rollups read, in no
/// order (a country's are every observation of the indicator: sorting them here spilled to disk;
/// [`crate::rollup::assemble_indexes`] orders them).
pub async fn rollup_rows(pool: &PgPool, units: (&[Uuid], &[Uuid], &[Uuid])) -> ServiceResult<Vec<RollupRow>> {
    // As `RollupRow` reads them, by position.
    let sql = "SELECT o.indicator_id, coalesce(o.organisation_id, o.territory_id), o.organisation_id IS NOT NULL, \
             CASE WHEN o.territory_path IS NULL THEN o.parent_territory_id END, o.period, o.subject, \
             o.result_source, o.value::float8, o.denominator::float8, o.numerator::float8, \
             o.organisation_path, o.territory_path \
         FROM observation o WHERE o.indicator_id = ANY($1) \
         AND (o.territory_path && $2 OR o.organisation_path && $3 OR o.organisation_id = ANY($3) \
              OR (o.territory_path IS NULL AND o.parent_territory_id = ANY($2)) \
              OR (o.territory_id = ANY($2) AND o.organisation_id IS NULL))";
    select_by_units(pool, sql, units).await
}

/// (indicator, generation) of these indicators' observations, for those written since the
/// migration that counts them (`rollup_generation`; none: 0).
pub async fn rollup_generations(pool: &PgPool, indicator_ids: &[Uuid]) -> ServiceResult<Vec<(Uuid, i64)>> {
    sqlx::query_as("SELECT indicator_id, generation FROM rollup_generation WHERE indicator_id = ANY($1)")
        .bind(indicator_ids)
        .fetch_all(pool)
        .await
        .map_err(Into::into)
}

/// Targets of these indicators for these territories (their own, not their organisations') and
/// organisations, in one statement.
pub async fn targets_of_units(pool: &PgPool, units: (&[Uuid], &[Uuid], &[Uuid])) -> ServiceResult<Vec<TargetRow>> {
    let sql = format!(
        "{TARGET_SELECT} WHERE t.indicator_id = ANY($1) \
         AND ((t.territory_id = ANY($2) AND t.organisation_id IS NULL) OR t.organisation_id = ANY($3)) \
         ORDER BY t.period, t.subject, t.updated_at"
    );
    select_by_units(pool, &sql, units).await
}

pub async fn link_measure(conn: &mut sqlx::PgConnection, measure_id: Uuid, indicator_id: Uuid) -> ServiceResult<()> {
    sqlx::query("INSERT INTO measure_indicator (measure_id, indicator_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(measure_id)
        .bind(indicator_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// (measure id, indicator) for these measures.
pub async fn indicators_by_measures(pool: &PgPool, measure_ids: &[Uuid]) -> ServiceResult<Vec<(Uuid, IndicatorRow)>> {
    #[derive(FromRow)]
    struct Linked {
        measure_id: Uuid,
        #[sqlx(flatten)]
        indicator: IndicatorRow,
    }
    let rows: Vec<Linked> = sqlx::query_as(
        "SELECT m.measure_id, i.id, i.code, i.name, i.unit, i.direction, i.aggregation, i.dimensions, i.exam, \
             i.grade, i.period_from, i.period_to, i.min_value::float8 AS min_value, i.max_value::float8 AS max_value \
         FROM measure_indicator m JOIN indicator i ON i.id = m.indicator_id \
         WHERE m.measure_id = ANY($1) ORDER BY i.code",
    )
    .bind(measure_ids)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.measure_id, r.indicator)).collect())
}

/// (indicator id, measure id) for these indicators.
pub async fn measures_by_indicators(pool: &PgPool, indicator_ids: &[Uuid]) -> ServiceResult<Vec<(Uuid, Uuid)>> {
    sqlx::query_as(
        "SELECT indicator_id, measure_id FROM measure_indicator WHERE indicator_id = ANY($1) ORDER BY measure_id",
    )
    .bind(indicator_ids)
    .fetch_all(pool)
    .await
    .map_err(Into::into)
}

/// What an `OBSERVATION_RECORDED` event says of an observation: (territory, period, value).
pub async fn observation_facts(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
) -> ServiceResult<Option<(Option<Uuid>, String, f64)>> {
    sqlx::query_as("SELECT territory_id, period::text, value::float8 FROM observation WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(Into::into)
}

/// Where a target applies, for a `TARGET_SET` event: (territory, plan).
pub async fn target_place(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
) -> ServiceResult<Option<(Option<Uuid>, Option<Uuid>)>> {
    sqlx::query_as("SELECT territory_id, plan_id FROM indicator_target WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(Into::into)
}
