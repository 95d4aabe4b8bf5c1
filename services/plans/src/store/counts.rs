//! Stored measure counts per group of plans (`plan_group_counts`, migration
//! `0013_plan_counts`): what the refresher writes and how readers find a group's "today".
//! The read itself is [`super::territory_counts`]; the rules are in [`crate::counts`].

use sqlx::{PgPool, Postgres, Transaction};

use roadmap_common::ServiceResult;

use super::Today;

/// SQL joining group `g` to its zone's day: `LEFT JOIN` of the zones of [`Today`] bound from `$n`
/// on (`everywhere`, `zones`, `days`, then the default zone for a group of plans without one), as
/// [`Today::bind`] binds them. [`group_day`] is then today in the group's zone. A hash join over
/// the few zones, not a subquery per group.
pub(crate) fn zone_join(n: usize) -> String {
    let (zones, days, default) = (n + 1, n + 2, n + 3);
    format!(
        "LEFT JOIN unnest(${zones}::text[], ${days}::date[]) AS zone_day(zone, day) \
         ON zone_day.zone = COALESCE(NULLIF(g.time_zone, ''), ${default})"
    )
}

/// SQL of today in the zone of group `g` after [`zone_join`] with the same `n`: the day of a
/// clock fixed to a date, else the zone's day; NULL for a zone [`Today`] does not know (plans
/// added with a new zone since it was read), as [`super::zone_today`] gives it.
pub(crate) fn group_day(n: usize) -> String {
    format!("COALESCE(${n}::date, zone_day.day)")
}

/// Groups not counted as of today in their zone, when [`Today`] is bound from `$n` on (zones
/// [`Today`] does not know are left for a later pass).
fn due(n: usize) -> String {
    let day = group_day(n);
    format!(
        "FROM plan_group_counts g {} WHERE {day} IS NOT NULL AND g.as_of IS DISTINCT FROM {day}",
        zone_join(n)
    )
}

/// Takes the refresher's side of the lock writers hold while they change measures or plans
/// (`plan_group_counts_try_refresh`, migration 0013), without waiting: false when a transaction
/// that changed some is still open.
pub async fn try_lock_plan_group_counts(tx: &mut Transaction<'_, Postgres>) -> ServiceResult<bool> {
    Ok(sqlx::query_scalar("SELECT plan_group_counts_try_refresh()")
        .fetch_one(&mut **tx)
        .await?)
}

/// Counts up to `limit` groups due (see [`stale_plan_group_counts`]) after `after` in id order,
/// as of today in each group's zone; returns their ids in that order. Run it in a transaction
/// holding [`try_lock_plan_group_counts`].
pub async fn count_plan_groups(
    tx: &mut Transaction<'_, Postgres>,
    today: &Today,
    after: Option<i64>,
    limit: i64,
) -> ServiceResult<Vec<i64>> {
    let sql = format!(
        "WITH due AS ( \
             SELECT g.id, {day} AS day {} AND ($1::int8 IS NULL OR g.id > $1) ORDER BY g.id LIMIT $2), \
         counted AS ( \
             UPDATE plan_group_counts g SET as_of = d.day, \
                    (total, done, in_progress, overdue, not_started, cancelled) = \
                    (SELECT n.total, n.done, n.in_progress, n.overdue, n.not_started, n.cancelled \
                       FROM plan_group_measure_counts(g, d.day) n) \
               FROM due d WHERE g.id = d.id \
             RETURNING g.id) \
         SELECT id FROM counted ORDER BY id",
        due(3),
        day = group_day(3),
    );
    let query = sqlx::query_as(&sql).bind(after).bind(limit);
    let rows: Vec<(i64,)> = today.bind(query).fetch_all(&mut **tx).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// How many groups are not counted as of today in their zone: the refresher's backlog.
pub async fn stale_plan_group_counts(pool: &PgPool, today: &Today) -> ServiceResult<i64> {
    let sql = format!("SELECT count(*) {}", due(1));
    let (count,): (i64,) = today.bind(sqlx::query_as(&sql)).fetch_one(pool).await?;
    Ok(count)
}
