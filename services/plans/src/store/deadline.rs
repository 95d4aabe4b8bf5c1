//! The deadline watcher's flags (`deadline_miss`).

use chrono::NaiveDate;
use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;
use sqlx::{FromRow, PgPool, Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::ServiceResult;
use roadmap_common::clock::{Clock, DEFAULT_TIME_ZONE};

use super::MeasureContextRow;

/// "Today" for the watcher: one day in every time zone (a clock fixed to a date, or a test), or
/// the day of each time zone the plans are in ([`Today::of`]). A measure is past due when its due
/// day is before today in its plan's zone (`plan.time_zone`, Moscow when unset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Today {
    pub(crate) everywhere: Option<NaiveDate>,
    pub(crate) zones: Vec<String>,
    pub(crate) days: Vec<NaiveDate>,
}

impl From<NaiveDate> for Today {
    fn from(day: NaiveDate) -> Self {
        Self {
            everywhere: Some(day),
            zones: Vec::new(),
            days: Vec::new(),
        }
    }
}

impl Today {
    /// Today by `clock` in every zone the plans are in (one statement).
    pub async fn of(pool: &PgPool, clock: &Clock) -> ServiceResult<Self> {
        if let Some(day) = clock.same_day_everywhere() {
            return Ok(day.into());
        }
        // A skip scan along `plan_zone_idx` (migration 0017): one index probe per zone, not a
        // pass over every plan. '' stands for a plan without a zone (the default zone).
        let found: Vec<String> = sqlx::query_scalar(
            "WITH RECURSIVE z(zone) AS ( \
               SELECT min(COALESCE(time_zone, '')) FROM plan \
               UNION ALL \
               SELECT (SELECT min(COALESCE(p.time_zone, '')) FROM plan p WHERE COALESCE(p.time_zone, '') > z.zone) \
                 FROM z WHERE z.zone IS NOT NULL) \
             SELECT zone FROM z WHERE zone IS NOT NULL",
        )
        .fetch_all(pool)
        .await?;
        let mut zones: Vec<String> = found
            .into_iter()
            .map(|z| if z.is_empty() { DEFAULT_TIME_ZONE.to_string() } else { z })
            .collect();
        zones.sort();
        zones.dedup();
        Ok(Self::in_zones(clock, zones))
    }

    /// [`Today::of`] for a background task (`task` names it in the log): when the zones cannot
    /// be read, today in the default zone, and a warning; the next pass reads them again.
    pub async fn of_or_default(pool: &PgPool, clock: &Clock, task: &str) -> Self {
        match Self::of(pool, clock).await {
            Ok(today) => today,
            Err(e) => {
                tracing::warn!(task, error = %e.message(), "time zones unreadable; retrying at the next tick");
                Self::in_zones(clock, Vec::new())
            }
        }
    }

    /// Today by `clock` in each of `zones` (IANA names); with none (no plan yet), in the
    /// default zone, so that [`Today::latest`] is a real day.
    pub fn in_zones(clock: &Clock, zones: Vec<String>) -> Self {
        let zones = if zones.is_empty() {
            vec![DEFAULT_TIME_ZONE.to_string()]
        } else {
            zones
        };
        let days = zones.iter().map(|z| clock.today_in_named(Some(z))).collect();
        Self {
            everywhere: clock.same_day_everywhere(),
            zones,
            days,
        }
    }

    /// Binds the parameters [`zone_today`] names, from its `n` on: `everywhere`, `zones`, `days`,
    /// then the default zone (for a plan without one).
    pub(crate) fn bind<'q, O>(
        &'q self,
        query: QueryAs<'q, Postgres, O, PgArguments>,
    ) -> QueryAs<'q, Postgres, O, PgArguments> {
        query
            .bind(self.everywhere)
            .bind(&self.zones)
            .bind(&self.days)
            .bind(DEFAULT_TIME_ZONE)
    }

    /// The latest of the days: no due day on or after it is past due anywhere.
    pub fn latest(&self) -> NaiveDate {
        self.everywhere
            .into_iter()
            .chain(self.days.iter().copied())
            .max()
            .unwrap_or(NaiveDate::MIN)
    }
}

/// SQL of today in the zone of the plan of measure `m`, with [`Today`] bound from `$n` on (its
/// `everywhere`, `zones`, `days`, then the default zone); NULL for a zone [`Today`] does not know (a plan added with a new zone since it
/// was read: judged on the next pass, never guessed).
fn plan_today(n: usize) -> String {
    zone_today(
        &format!(
            "(SELECT COALESCE(p.time_zone, ${}) FROM plan p WHERE p.id = m.plan_id)",
            n + 3
        ),
        n,
    )
}

/// SQL of today in the zone `zone` (an SQL expression naming an IANA zone), with [`Today`] bound
/// from `$n` on (`everywhere`, `zones`, `days`); NULL for a zone [`Today`] does not know.
pub(crate) fn zone_today(zone: &str, n: usize) -> String {
    let (everywhere, zones, days) = (n, n + 1, n + 2);
    format!(
        "COALESCE(${everywhere}::date, (SELECT z.day FROM unnest(${zones}::text[], ${days}::date[]) AS z(zone, day) \
         WHERE z.zone = {zone}))"
    )
}

/// A measure the deadline watcher found past due: its status as people set it, the missed day,
/// and where it sits (the event's filtering context), all read by the statement that flags it.
#[derive(Clone, Debug, FromRow)]
pub struct MissedRow {
    pub measure_id: Uuid,
    pub status: String,
    pub due_on: NaiveDate,
    #[sqlx(flatten)]
    pub context: MeasureContextRow,
}

/// Where a pass of the watcher has got to: candidates are walked in (due day, id) order.
pub type MissCursor = (NaiveDate, Uuid);

/// Locks up to `limit` measures past due on `today` (in their plans' zones), neither done nor
/// cancelled, whose due day is not flagged yet and that come after `after` in (due day, id) order, and flags them; returns the
/// newly flagged ones with their context, in that order, in one statement whatever `limit`. Rows
/// another transaction holds (another replica's watcher, a status change) are skipped: they are
/// seen on a later pass. The cursor keeps a pass from walking again over what it flagged (on
/// `measure_open_due_idx`), so a large backlog costs one index walk per pass, not one per batch.
pub async fn flag_missed_deadlines(
    tx: &mut Transaction<'_, Postgres>,
    today: &Today,
    after: Option<MissCursor>,
    limit: i64,
) -> ServiceResult<Vec<MissedRow>> {
    let today_sql = plan_today(5);
    let sql = format!(
        "WITH RECURSIVE due AS ( \
             SELECT m.id, m.status, m.due_on, m.plan_id, {today_sql} AS today FROM measure m \
             WHERE m.due_on < $1 AND m.status NOT IN ('DONE', 'CANCELLED') AND m.due_on < {today_sql} \
               AND ($3::date IS NULL OR (m.due_on >= $3 AND (m.due_on, m.id) > ($3, $4))) \
               AND NOT EXISTS (SELECT 1 FROM deadline_miss d WHERE d.measure_id = m.id AND d.due_on = m.due_on) \
             ORDER BY m.due_on, m.id LIMIT $2 FOR UPDATE OF m SKIP LOCKED), \
         flagged AS ( \
             INSERT INTO deadline_miss (measure_id, due_on, detected_on) SELECT id, due_on, today FROM due \
             ON CONFLICT ON CONSTRAINT deadline_miss_pkey DO NOTHING RETURNING measure_id, due_on), \
         up(origin, id, depth) AS ( \
             SELECT l.measure_id, l.implements_id, 1 FROM measure_link l JOIN due ON l.measure_id = due.id \
             WHERE l.state = 'CONFIRMED' \
             UNION \
             SELECT up.origin, l.implements_id, up.depth + 1 FROM measure_link l JOIN up ON l.measure_id = up.id \
             WHERE l.state = 'CONFIRMED' AND up.depth < 32), \
         ancestors AS (SELECT origin, array_agg(DISTINCT id) AS ids FROM up GROUP BY origin) \
         SELECT f.measure_id, due.status, f.due_on, p.id AS plan_id, p.level, p.territory_id, \
                p.state = 'DRAFT' AS draft, COALESCE(a.ids, '{{}}') AS ancestors \
         FROM flagged f JOIN due ON due.id = f.measure_id JOIN plan p ON p.id = due.plan_id \
         LEFT JOIN ancestors a ON a.origin = f.measure_id \
         ORDER BY f.due_on, f.measure_id",
    );
    let query = sqlx::query_as(&sql)
        .bind(today.latest())
        .bind(limit)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1));
    Ok(today.bind(query).fetch_all(&mut **tx).await?)
}

/// Measures past due on `today` (in their plans' zones), unfinished, whose miss is not flagged
/// yet: the watcher's backlog.
pub async fn pending_missed_deadlines(pool: &PgPool, today: impl Into<Today>) -> ServiceResult<i64> {
    let today = today.into();
    let sql = format!(
        "SELECT count(*) FROM measure m WHERE m.due_on < $1 AND m.status NOT IN ('DONE', 'CANCELLED') \
           AND m.due_on < {} \
           AND NOT EXISTS (SELECT 1 FROM deadline_miss d WHERE d.measure_id = m.id AND d.due_on = m.due_on)",
        plan_today(2)
    );
    let query = sqlx::query_as(&sql).bind(today.latest());
    let (count,): (i64,) = today.bind(query).fetch_one(pool).await?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use roadmap_common::clock::Clock;

    use super::Today;

    #[test]
    fn without_plans_today_is_the_default_zones_day_not_the_minimum() {
        // 21:30 UTC on 29 November is 30 November in Moscow (the default zone), 29 in Kaliningrad.
        let clock = Clock::at(Utc.with_ymd_and_hms(2026, 11, 29, 21, 30, 0).unwrap());
        let today = Today::in_zones(&clock, Vec::new());
        assert_eq!(today.latest(), NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        let kaliningrad = Today::in_zones(&clock, vec!["Europe/Kaliningrad".to_string()]);
        assert_eq!(kaliningrad.latest(), NaiveDate::from_ymd_opt(2026, 11, 29).unwrap());
    }
}
