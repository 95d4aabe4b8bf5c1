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

use super::{
    Direction, MEASURE_COLUMNS, MeasureRow, PLAN_COLUMNS, PlanRow, Today, group_day, trace_statement, zone_join,
    zone_today,
};

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
///
/// One statement over the groups of plans of the territories (`plan_group_counts`, see
/// [`crate::counts`]; about one per territory): a group's stored counts when they are of today
/// in its zone, else its plans' measures counted here by the same definition
/// (`plan_group_measure_counts`, migration 0013), so the answer never depends on whether the
/// refresher has run. The count is a scalar subquery under `CASE`, evaluated only for groups
/// without current counts, once per group (the inner `SELECT` is kept from being flattened by
/// `OFFSET 0`). Plans, plans in force and visibility come from the groups' keys and plan counts,
/// which are always exact.
pub async fn territory_counts(
    pool: &PgPool,
    territories: &[Uuid],
    today: NaiveDate,
    zoned: &Today,
    drafts: Option<&[Uuid]>,
) -> ServiceResult<Vec<TerritoryCountRow>> {
    let day = group_day(4);
    let current = format!("g.as_of = {day}");
    let sql = format!(
        "SELECT territory_id, sum(plans)::int4 AS plans, \
                coalesce(sum(plans) FILTER (WHERE period_start <= $2 AND period_end >= $2), 0)::int4 AS plans_in_force, \
                sum(coalesce(total, live[1]))::int4 AS total, sum(coalesce(done, live[2]))::int4 AS done, \
                sum(coalesce(in_progress, live[3]))::int4 AS in_progress, \
                sum(coalesce(overdue, live[4]))::int4 AS overdue, \
                sum(coalesce(not_started, live[5]))::int4 AS not_started, \
                sum(coalesce(cancelled, live[6]))::int4 AS cancelled \
         FROM (SELECT g.territory_id, g.plans, g.period_start, g.period_end, \
                      CASE WHEN {current} THEN g.total END AS total, CASE WHEN {current} THEN g.done END AS done, \
                      CASE WHEN {current} THEN g.in_progress END AS in_progress, \
                      CASE WHEN {current} THEN g.overdue END AS overdue, \
                      CASE WHEN {current} THEN g.not_started END AS not_started, \
                      CASE WHEN {current} THEN g.cancelled END AS cancelled, \
                      CASE WHEN g.as_of IS DISTINCT FROM {day} THEN \
                          (SELECT ARRAY[n.total, n.done, n.in_progress, n.overdue, n.not_started, n.cancelled] \
                             FROM plan_group_measure_counts(g, {day}) n) END AS live \
               FROM plan_group_counts g {} \
               WHERE g.territory_id = ANY($1) AND {} OFFSET 0) counted \
         GROUP BY territory_id",
        zone_join(4),
        visible_group("$3")
    );
    let query = sqlx::query_as(&sql).bind(territories).bind(today).bind(drafts);
    Ok(zoned.bind(query).fetch_all(pool).await?)
}

/// Who may see the plans of group `g`, in SQL: approved, or drafts the reader may see
/// (`$drafts`), as [`visible`] for a plan.
fn visible_group(drafts: &str) -> String {
    format!("(g.state = 'APPROVED' OR {drafts}::uuid[] IS NULL OR g.territory_id = ANY({drafts}))")
}

/// Which measures a list holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Listed {
    /// Neither done nor cancelled, last due day before today; most overdue first.
    Overdue,
    /// Neither done nor cancelled, not changed since this moment; least recently changed first.
    Stale(DateTime<Utc>),
}

/// A measure of a list under a territory (`root`), with the list's whole length when it was
/// counted.
#[derive(Clone, Debug, FromRow)]
pub struct ListedMeasureRow {
    pub root: Uuid,
    pub total: Option<i64>,
    #[sqlx(flatten)]
    pub measure: MeasureRow,
}

/// For each `(root, territory)` of `scope` (a root and every territory under it): the first
/// `limit` measures of the list under each root, and how many there are when `count` (the
/// overdue ones are counted by [`territory_counts`] already).
#[allow(clippy::too_many_arguments)]
pub async fn listed_measures(
    pool: &PgPool,
    scope: &[(Uuid, Uuid)],
    listed: Listed,
    count: bool,
    zoned: &Today,
    drafts: Option<&[Uuid]>,
    limit: i64,
) -> ServiceResult<Vec<ListedMeasureRow>> {
    let (condition, first_key, since) = match listed {
        Listed::Overdue => (
            format!(
                "m.due_on < $3 AND m.due_on < {}",
                zone_today("COALESCE(p.time_zone, $10)", 7)
            ),
            "m.due_on",
            None,
        ),
        Listed::Stale(since) => ("m.updated_at < $6".to_string(), "m.updated_at", Some(since)),
    };
    let (roots, territories): (Vec<Uuid>, Vec<Uuid>) = scope.iter().copied().unzip();
    // Per root: the length of the list (a count) and its first `limit` ids in order (a top-N
    // that an index on the first key can stop early), then the rows of those only. Open is
    // written as "not done nor cancelled" (the same, by the status check) so that the partial
    // index of open measures by due day (`measure_open_due_idx`) applies.
    let hits = format!(
        "FROM plan p JOIN measure m ON m.plan_id = p.id \
         WHERE p.territory_id = ANY(s.territories) AND m.status NOT IN ('DONE', 'CANCELLED') \
           AND {condition} AND {}",
        visible("$4")
    );
    let (total, counted) = if count {
        (
            "c.total",
            format!("CROSS JOIN LATERAL (SELECT count(*) AS total {hits}) c"),
        )
    } else {
        ("NULL::int8 AS total", String::new())
    };
    let sql = format!(
        "WITH scope AS (SELECT root, array_agg(territory) AS territories \
                          FROM unnest($1::uuid[], $2::uuid[]) AS x(root, territory) GROUP BY root) \
         SELECT s.root, {total}, {} \
         FROM scope s {counted} \
         CROSS JOIN LATERAL (SELECT m.id, {first_key} AS k1, p.title AS k2, p.id AS k3, m.position AS k4 {hits} \
                             ORDER BY {first_key}, p.title, p.id, m.position LIMIT $5) top \
         JOIN measure m ON m.id = top.id \
         ORDER BY s.root, top.k1, top.k2, top.k3, top.k4",
        MEASURE_COLUMNS
            .split(", ")
            .map(|c| format!("m.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
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

/// [`ReachRow`] with the implementing measures in that territory's plans of that state.
#[derive(Clone, Debug, FromRow, PartialEq, Eq)]
pub struct ReachedRow {
    #[sqlx(flatten)]
    pub reach: ReachRow,
    pub measures: Vec<Uuid>,
}

/// A root asked about, whether its stored reach is current, and one stored row of it (none when
/// it is not current or has none); its measures only when asked for.
#[derive(FromRow)]
struct StoredReachRow {
    root: Uuid,
    generation: i64,
    fresh: bool,
    territory_id: Option<Uuid>,
    state: Option<String>,
    measures: Option<Vec<Uuid>>,
}

/// [`ReachRow`] with its measures when they were asked for.
#[derive(FromRow)]
struct ReadReachRow {
    #[sqlx(flatten)]
    reach: ReachRow,
    measures: Option<Vec<Uuid>>,
}

/// For each of `roots`, the territories (with the plan's state) of the plans whose measures
/// implement it, down to [`crate::cascade::MAX_DEPTH`] (the trace statement of
/// [`super::trace`]), with those measures: read from the `reach` cache (migration `0015_reach`)
/// where it is current, the others computed in one statement that also stores them. One
/// statement when every root is current, two otherwise.
pub async fn reached(pool: &PgPool, roots: &[Uuid]) -> ServiceResult<Vec<ReachedRow>> {
    Ok(read_reach(pool, roots, true)
        .await?
        .into_iter()
        .map(|r| ReachedRow {
            reach: r.reach,
            measures: r.measures.unwrap_or_default(),
        })
        .collect())
}

/// [`reached`] without the measures: the territories and states only, the same rows. The
/// `measures` arrays are neither selected nor sent (a federal plan's measures reach ~600,000);
/// stale roots are computed and stored whole all the same.
pub async fn reached_territories(pool: &PgPool, roots: &[Uuid]) -> ServiceResult<Vec<ReachRow>> {
    Ok(read_reach(pool, roots, false)
        .await?
        .into_iter()
        .map(|r| r.reach)
        .collect())
}

/// [`reached`], with the measures selected only when `with_measures`.
async fn read_reach(pool: &PgPool, roots: &[Uuid], with_measures: bool) -> ServiceResult<Vec<ReadReachRow>> {
    let measures = |of: &str| {
        if with_measures {
            format!("{of}measures")
        } else {
            "NULL::uuid[] AS measures".to_string()
        }
    };
    let stored: Vec<StoredReachRow> = sqlx::query_as(&format!(
        "WITH roots AS ( \
           SELECT x.id, COALESCE(rr.generation, 0) AS generation, \
                  COALESCE(rr.computed = rr.generation, false) AS fresh \
             FROM unnest($1::uuid[]) AS x(id) LEFT JOIN reach_root rr ON rr.measure_id = x.id) \
         SELECT r.id AS root, r.generation, r.fresh, s.territory_id, s.state, {} \
           FROM roots r LEFT JOIN reach s ON r.fresh AND s.root = r.id",
        measures("s.")
    ))
    .bind(roots)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::new();
    let mut stale: Vec<(Uuid, i64)> = Vec::new();
    for row in stored {
        if !row.fresh {
            stale.push((row.root, row.generation));
            continue;
        }
        if let (Some(territory_id), Some(state)) = (row.territory_id, row.state) {
            out.push(ReadReachRow {
                reach: ReachRow {
                    root: row.root,
                    territory_id,
                    state,
                },
                measures: row.measures,
            });
        }
    }
    if stale.is_empty() {
        return Ok(out);
    }
    stale.sort_unstable();
    stale.dedup_by_key(|(root, _)| *root);
    let (ids, generations): (Vec<Uuid>, Vec<i64>) = stale.into_iter().unzip();
    // Stored only where the generation read is still the row's: a change committed since then
    // bumped it, and the next reader computes again. Rows are locked in id order, as the
    // changes' triggers lock them, so two never wait on each other in a circle.
    let computed: Vec<ReadReachRow> = sqlx::query_as(&format!(
        "WITH computed AS ( \
           SELECT e.root, p.territory_id, p.state, array_agg(DISTINCT e.measure_id) AS measures \
             FROM ({}) e JOIN measure m ON m.id = e.measure_id JOIN plan p ON p.id = m.plan_id \
            WHERE p.territory_id IS NOT NULL GROUP BY e.root, p.territory_id, p.state), \
         marked AS ( \
           INSERT INTO reach_root (measure_id, generation, computed) \
           SELECT x.id, x.generation, x.generation \
             FROM unnest($1::uuid[], $3::int8[]) AS x(id, generation) JOIN measure m ON m.id = x.id \
            ORDER BY x.id \
           ON CONFLICT (measure_id) DO UPDATE SET computed = EXCLUDED.computed \
            WHERE reach_root.generation = EXCLUDED.generation \
           RETURNING measure_id), \
         kept AS ( \
           INSERT INTO reach (root, territory_id, state, measures) \
           SELECT c.root, c.territory_id, c.state, c.measures FROM computed c JOIN marked k ON k.measure_id = c.root \
           ON CONFLICT DO NOTHING) \
         SELECT root, territory_id, state, {} FROM computed",
        trace_statement(Direction::Down, None),
        measures("")
    ))
    .bind(&ids)
    .bind(crate::cascade::MAX_DEPTH)
    .bind(&generations)
    .fetch_all(pool)
    .await?;
    out.extend(computed);
    Ok(out)
}

/// Up to `limit` roots whose stored reach was computed once and is out of date now (a change
/// bumped their generation since), in id order.
pub async fn stale_reach_roots(pool: &PgPool, limit: i64) -> ServiceResult<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT measure_id FROM reach_root WHERE computed IS NOT NULL AND computed <> generation \
         ORDER BY measure_id LIMIT $1",
    )
    .bind(limit)
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
