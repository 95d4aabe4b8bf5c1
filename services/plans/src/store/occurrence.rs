//! Reports on occurrences of measures, revision by revision.

use chrono::NaiveDate;
use sqlx::{FromRow, PgPool, Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::ServiceResult;
use roadmap_common::db::RowWrite;

/// A report on an occurrence: one revision.
// Stored one row a revision; the highest revision is the current report. The GraphQL type
// `OccurrenceReport` is this row without its key (measure and date).
#[derive(Clone, Debug, FromRow, serde::Serialize, async_graphql::SimpleObject)]
#[graphql(name = "OccurrenceReport")]
pub struct ReportRow {
    #[graphql(skip)]
    pub measure_id: Uuid,
    #[graphql(skip)]
    pub occurs_on: NaiveDate,
    /// 1 for the first report on the occurrence, then 2, 3, ...
    pub revision: i32,
    pub held: bool,
    /// How many took part (a count; no personal data is kept).
    pub participants: Option<i32>,
    /// Links to evidence (minutes, photos, published reports).
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

const REPORT: RowWrite = RowWrite {
    table: "occurrence_report",
    columns: &[
        "measure_id",
        "occurs_on",
        "revision",
        "held",
        "participants",
        "evidence",
        "note",
        "reported_by",
    ],
};

pub async fn insert_report(tx: &mut Transaction<'_, Postgres>, r: &ReportRow) -> ServiceResult<ReportRow> {
    Ok(sqlx::query_as(&REPORT.insert(&format!("RETURNING {REPORT_COLUMNS}")))
        .bind(REPORT.row_json(r)?)
        .fetch_one(&mut **tx)
        .await?)
}
