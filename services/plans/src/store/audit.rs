//! What the auditor's questions read ("what is missing"): measure counts by status per
//! territory, overdue and stale measures under territories, the territories a plan's measures
//! reach through the cascade, the plans implementing a plan, and when measures last changed.
//! Each is one statement for any number of territories, plans or measures.
//!
//! `drafts` everywhere: `None` every draft counts, `Some(territories)` only drafts of those
//! territories (as in [`super::list_plans`]).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use roadmap_common::ServiceResult;

use super::{Direction, MEASURE_COLUMNS, MeasureRow, PLAN_COLUMNS, PlanRow, Today, trace_statement, zone_today};

/// Who may see a plan `p`, in SQL: approved, or a draft the reader may see (`$drafts`).
fn visible(drafts: &str) -> String {
    format!("(p.state = 'APPROVED' OR {drafts}::uuid[] IS NULL OR p.territory_id = ANY({drafts}))")
}

/// Plans and measures by effective status.
#[derive(async_graphql::SimpleObject, Clone, Copy, Debug, Default, FromRow, PartialEq, Eq)]
pub struct MeasureCounts {
    /// Plans the reader may see.
    pub plans: i32,
    /// Of them, those whose period covers today (a plan without a period counts).
    pub plans_in_force: i32,
    /// Measures of those plans, every row (sub-rows and control points too).
    pub total: i32,
    pub done: i32,
    pub in_progress: i32,
    /// Past the last due day, neither done nor cancelled.
    pub overdue: i32,
    /// PLANNED and not overdue.
    pub not_started: i32,
    pub cancelled: i32,
}

impl MeasureCounts {
    /// Adds `other`'s counts (saturating: a sum past `i32::MAX` stays there).
    pub fn add(&mut self, other: &MeasureCounts) {
        for (sum, n) in [
            (&mut self.plans, other.plans),
            (&mut self.plans_in_force, other.plans_in_force),
            (&mut self.total, other.total),
            (&mut self.done, other.done),
            (&mut self.in_progress, other.in_progress),
            (&mut self.overdue, other.overdue),
            (&mut self.not_started, other.not_started),
            (&mut self.cancelled, other.cancelled),
        ] {
            *sum = sum.saturating_add(n);
        }
    }
}

/// [`MeasureCounts`] of the plans of one territory (its own, not those under it), by the
/// effective status on today in each plan's time zone (OVERDUE: neither done nor cancelled, last
/// due day before that day); plans in force (their period covers `today`) by `today`.
#[derive(Clone, Copy, Debug, Default, FromRow, PartialEq, Eq)]
pub struct TerritoryCountRow {
    pub territory_id: Uuid,
    #[sqlx(flatten)]
    pub counts: MeasureCounts,
}

/// [`TerritoryCountRow`] of each of `territories` that has a plan the reader may see.
pub async fn territory_counts(
    pool: &PgPool,
    territories: &[Uuid],
    today: NaiveDate,
    zoned: &Today,
    drafts: Option<&[Uuid]>,
) -> ServiceResult<Vec<TerritoryCountRow>> {
    // Today in the plan's zone, found once per plan (not once per measure and condition).
    let today_of_plan = zone_today("COALESCE(p.time_zone, $7)", 4);
    let due = "m.due_on < z.today";
    let sql = format!(
        "SELECT p.territory_id, count(DISTINCT p.id)::int4 AS plans, \
                count(DISTINCT p.id) FILTER (WHERE (p.period_start IS NULL OR p.period_start <= $2) \
                                               AND (p.period_end IS NULL OR p.period_end >= $2))::int4 AS plans_in_force, \
                count(m.id)::int4 AS total, \
                count(m.id) FILTER (WHERE m.status = 'DONE')::int4 AS done, \
                count(m.id) FILTER (WHERE m.status = 'IN_PROGRESS' AND NOT coalesce({due}, false))::int4 AS in_progress, \
                count(m.id) FILTER (WHERE m.status IN ('PLANNED', 'IN_PROGRESS') AND {due})::int4 AS overdue, \
                count(m.id) FILTER (WHERE m.status = 'PLANNED' AND NOT coalesce({due}, false))::int4 AS not_started, \
                count(m.id) FILTER (WHERE m.status = 'CANCELLED')::int4 AS cancelled \
         FROM plan p CROSS JOIN LATERAL (SELECT {today_of_plan} AS today) z \
         LEFT JOIN measure m ON m.plan_id = p.id \
         WHERE p.territory_id = ANY($1) AND {} \
         GROUP BY p.territory_id",
        visible("$3")
    );
    let query = sqlx::query_as(&sql).bind(territories).bind(today).bind(drafts);
    Ok(zoned.bind(query).fetch_all(pool).await?)
}

/// Which measures a list holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Listed {
    /// Neither done nor cancelled, last due day before today; most overdue first.
    Overdue,
    /// Neither done nor cancelled, not changed since this moment; least recently changed first.
    Stale(DateTime<Utc>),
}

/// A measure of a list under a territory (`root`), with the list's whole length.
#[derive(Clone, Debug, FromRow)]
pub struct ListedMeasureRow {
    pub root: Uuid,
    pub total: i64,
    #[sqlx(flatten)]
    pub measure: MeasureRow,
}

/// For each `(root, territory)` of `scope` (a root and every territory under it): the first
/// `limit` measures of the list under each root and how many there are.
pub async fn listed_measures(
    pool: &PgPool,
    scope: &[(Uuid, Uuid)],
    listed: Listed,
    zoned: &Today,
    drafts: Option<&[Uuid]>,
    limit: i64,
) -> ServiceResult<Vec<ListedMeasureRow>> {
    let (condition, order, since) = match listed {
        Listed::Overdue => (
            format!(
                "m.due_on < $3 AND m.due_on < {}",
                zone_today("COALESCE(p.time_zone, $10)", 7)
            ),
            "m.due_on, p.title, p.id, m.position",
            None,
        ),
        Listed::Stale(since) => (
            "m.updated_at < $6".to_string(),
            "m.updated_at, p.title, p.id, m.position",
            Some(since),
        ),
    };
    let (roots, territories): (Vec<Uuid>, Vec<Uuid>) = scope.iter().copied().unzip();
    let sql = format!(
        "WITH scope(root, territory) AS (SELECT * FROM unnest($1::uuid[], $2::uuid[])), \
         hits AS (SELECT s.root, m.*, count(*) OVER (PARTITION BY s.root) AS total, \
                         row_number() OVER (PARTITION BY s.root ORDER BY {order}) AS n \
                  FROM scope s JOIN plan p ON p.territory_id = s.territory JOIN measure m ON m.plan_id = p.id \
                  WHERE m.status IN ('PLANNED', 'IN_PROGRESS') AND {condition} AND {}) \
         SELECT root, total, {MEASURE_COLUMNS} FROM hits WHERE n <= $5 ORDER BY root, n",
        visible("$4")
    );
    let query = sqlx::query_as(&sql)
        .bind(roots)
        .bind(territories)
        .bind(zoned.latest())
        .bind(drafts)
        .bind(limit)
        .bind(since);
    Ok(zoned.bind(query).fetch_all(pool).await?)
}

/// The plans of `territories` themselves (not of those under them) the reader may see, by
/// title.
pub async fn plans_of_territories(
    pool: &PgPool,
    territories: &[Uuid],
    drafts: Option<&[Uuid]>,
) -> ServiceResult<Vec<PlanRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PLAN_COLUMNS} FROM plan p WHERE p.territory_id = ANY($1) AND {} ORDER BY p.title, p.id",
        visible("$2")
    ))
    .bind(territories)
    .bind(drafts)
    .fetch_all(pool)
    .await?)
}

/// Where a plan's measure is carried out: a territory with a plan (in `state`) one of whose
/// measures implements it, at any depth.
#[derive(Clone, Debug, FromRow, PartialEq, Eq)]
pub struct ReachRow {
    pub root: Uuid,
    pub territory_id: Uuid,
    pub state: String,
}

/// For each measure of `roots`, the territories (with the plan's state) of the plans whose
/// measures implement it, down to `depth`: the trace statement of [`super::trace`], its reached
/// measures' plans read with it.
pub async fn reached_territories(pool: &PgPool, roots: &[Uuid], depth: i32) -> ServiceResult<Vec<ReachRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT DISTINCT e.root, p.territory_id, p.state \
         FROM ({}) e JOIN measure m ON m.id = e.measure_id JOIN plan p ON p.id = m.plan_id \
         WHERE p.territory_id IS NOT NULL",
        trace_statement(Direction::Down, None)
    ))
    .bind(roots)
    .bind(depth)
    .fetch_all(pool)
    .await?)
}

/// For each of `parents`, the territories (with the plan's state) of the plans that implement
/// it: they declare it as a parent plan, or one of their measures is linked (not rejected) to
/// one of its measures.
pub async fn implementing_territories(pool: &PgPool, parents: &[Uuid]) -> ServiceResult<Vec<ReachRow>> {
    Ok(sqlx::query_as(
        "SELECT pp.parent_plan_id AS root, c.territory_id, c.state \
           FROM plan_parent pp JOIN plan c ON c.id = pp.plan_id \
          WHERE pp.parent_plan_id = ANY($1) AND c.territory_id IS NOT NULL \
         UNION \
         SELECT pm.plan_id, c.territory_id, c.state \
           FROM measure pm JOIN measure_link l ON l.implements_id = pm.id AND l.state <> 'REJECTED' \
           JOIN measure cm ON cm.id = l.measure_id JOIN plan c ON c.id = cm.plan_id \
          WHERE pm.plan_id = ANY($1) AND c.territory_id IS NOT NULL",
    )
    .bind(parents)
    .fetch_all(pool)
    .await?)
}

/// Measures of `plans` an implementer is expected for: measures proper (not control points),
/// not cancelled, in plan then document order.
pub async fn measures_to_implement(pool: &PgPool, plans: &[Uuid]) -> ServiceResult<Vec<MeasureRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {MEASURE_COLUMNS} FROM measure \
         WHERE plan_id = ANY($1) AND kind = 'MEASURE' AND status <> 'CANCELLED' ORDER BY plan_id, position"
    ))
    .bind(plans)
    .fetch_all(pool)
    .await?)
}

/// When each of `ids` last changed (see migration `0011_measure_updated_at`).
pub async fn updated_at(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<(Uuid, DateTime<Utc>)>> {
    Ok(sqlx::query_as("SELECT id, updated_at FROM measure WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(pool)
        .await?)
}
