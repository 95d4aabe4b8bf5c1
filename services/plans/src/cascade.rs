//! The cascade: implements-links between measures of plans at different levels, traces down and
//! up, coverage, statuses and rolled-up progress.
//!
//! Rules:
//! - A link goes upward: the implemented measure belongs to a plan of a higher level
//!   (FEDERAL > REGIONAL > MUNICIPAL > SCHOOL > CLASSROOM) or to a plan the implementing plan declares as its
//!   parent. Links within one plan, and links that would close a cycle, are refused.
//! - Links are SUGGESTED (by the similarity ranker or a person) or CONFIRMED; REJECTED links are
//!   kept for the record and ignored by traces.
//! - Effective status: the status people set (PLANNED, IN_PROGRESS, DONE, CANCELLED), or OVERDUE
//!   when the measure is neither done nor cancelled and its last due day is before today (by the
//!   hub's clock, `ROADMAP_CLOCK` to fix it), today being the day in the time zone of the plan's
//!   territory ([`effective_status_now`]): a measure due 10 March is OVERDUE in Chita (UTC+9) from
//!   15:00 UTC on the 10th, in Moscow from 21:00 UTC.
//! - Rolled-up progress of a measure: DONE counts 100; a CANCELLED measure is left out; a measure
//!   with confirmed implementers (not cancelled) takes the weighted mean of their rolled-up
//!   progress, weights being the implementers' `weight` (default 1); otherwise its reported
//!   progress, or 0.
//! - Rolled-up progress is kept by the database, not walked per request
//!   (migrations/plans/0014_rolled_progress.sql, where the rule is written in SQL,
//!   `measure_rolled_rule`). What is stored is the one part that depends on other measures: for
//!   each measure with counted implementers, their weighted mean (`measure_rollup`); the
//!   rule is applied to it, the measure's status and progress where it is read
//!   ([`crate::store::StatusRow`]'s `rolled_progress`). Triggers keep the means exact whoever
//!   writes (mutations, the importer, SQL by hand): a change of a status, progress or weight, or
//!   of a confirmed link, recomputes the means of the measures above, round by round along
//!   confirmed links, stopping where nothing changes. `Measure.rolledProgress` reads it with the
//!   measure's status: a plan's measures cost one batched read between them, and a trace reads
//!   it for its nodes in its one statement. Walking the cascade on each request read every link
//!   and status under the measure (~600,000 trace rows for a federal measure of the national
//!   cascade, 17 s for the federal plan's page). Bulk loads (the generator's COPY) defer the
//!   triggers and rebuild every mean set-based before they commit (`measure_rolled_rebuild()`).
//!   A mean, not the value, and a table of its own, not a column of `measure`: a new measure has
//!   no row (a COPY writes nothing more), a status change of a measure rewrites nothing of its
//!   own, and the wide, eight-index `measure` rows, their `updated_at` and their statement
//!   triggers are never touched. On a copy of the national cascade (1.99 M measures, 2-core VM
//!   with builds running, 2026-11-30) the migration took 25 s (224,090 means written); a
//!   `rolled_progress` column filled the same way took over 7 minutes, rewriting every row. The
//!   stored value covers the whole confirmed cascade; the walk it replaces stopped at
//!   [`MAX_DEPTH`] levels, deeper than a cascade of the five plan levels goes unless declared
//!   parent plans chain.
//! - A trace costs one SQL statement, however many nodes it reaches: the recursive walk over the
//!   links reads the reached measures (only the columns the selection needs), their statuses,
//!   their plans' states and, at the levels that ask for them, their plans with it. Who may see a
//!   reached measure is decided once per plan (drafts), not per node.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use uuid::Uuid;

use roadmap_common::ServiceError;
use roadmap_common::clock::Clock;

use crate::graphql::MeasureStatus;
use crate::store::{Direction, MeasureRow, StatusRow, TraceRow};

/// The deepest trace a caller may ask for.
pub const MAX_DEPTH: i32 = 10;

/// The effective status of a measure on `today`.
pub fn effective_status(row: &StatusRow, today: NaiveDate) -> MeasureStatus {
    let status = MeasureStatus::from_db(&row.status).unwrap_or(MeasureStatus::Planned);
    match (status, row.due_on) {
        (MeasureStatus::Done | MeasureStatus::Cancelled, _) => status,
        (_, Some(due)) if due < today => MeasureStatus::Overdue,
        _ => status,
    }
}

/// The effective status of a measure now, by `clock`, on today's day in its plan's time zone.
pub fn effective_status_now(row: &StatusRow, clock: &Clock) -> MeasureStatus {
    effective_status(row, clock.today_in_named(row.time_zone.as_deref()))
}

/// Rank of a plan level: a link goes from a lower rank to a higher one.
pub fn level_rank(level: &str) -> u8 {
    match level {
        "FEDERAL" => 4,
        "REGIONAL" => 3,
        "MUNICIPAL" => 2,
        "CLASSROOM" => 0,
        _ => 1,
    }
}

/// What a trace knows of a reached measure before its fields are resolved.
#[derive(Clone, Debug)]
pub enum Reached {
    /// Nothing yet: the measure is read, and who may see it decided, when it is asked for.
    Unknown,
    /// The actor may not see it (it belongs to a draft): its `measure` is null.
    Hidden,
    /// Its row as the trace's statement read it (only the columns the selection needs).
    Row(Arc<MeasureRow>),
}

/// One node of a trace: the measure reached, the link that reached it, and what lies beyond
/// (served as the GraphQL `TraceNode`).
pub struct TraceNode {
    pub depth: i32,
    pub link_id: Uuid,
    pub measure_id: Uuid,
    pub reached: Reached,
    pub next: Vec<TraceNode>,
}

/// Builds the tree under `root` from flat trace rows of a trace in `direction`; `reached` says
/// what is known of a reached measure. Rows are grouped by parent first, so the tree costs a
/// pass over the rows, not a scan per node.
pub fn build_tree(
    root: Uuid,
    rows: &[TraceRow],
    direction: Direction,
    reached: &dyn Fn(Uuid) -> Reached,
) -> Vec<TraceNode> {
    let down = direction == Direction::Down;
    // (depth, the measure a row hangs under) → (link, the measure it reaches), in row order.
    let mut under: HashMap<(i32, Uuid), Vec<(Uuid, Uuid)>> = HashMap::new();
    for r in rows {
        let (parent, measure) = if down {
            (r.implements_id, r.measure_id)
        } else {
            (r.measure_id, r.implements_id)
        };
        under.entry((r.depth, parent)).or_default().push((r.link_id, measure));
    }
    fn children(
        parent: Uuid,
        depth: i32,
        under: &HashMap<(i32, Uuid), Vec<(Uuid, Uuid)>>,
        reached: &dyn Fn(Uuid) -> Reached,
    ) -> Vec<TraceNode> {
        under
            .get(&(depth, parent))
            .into_iter()
            .flatten()
            .map(|&(link_id, measure)| TraceNode {
                depth,
                link_id,
                measure_id: measure,
                reached: reached(measure),
                next: children(measure, depth + 1, under, reached),
            })
            .collect()
    }
    children(root, 1, &under, reached)
}

/// `depth` when it is within 1..=[`MAX_DEPTH`].
pub fn check_depth(depth: i32) -> Result<i32, ServiceError> {
    if !(1..=MAX_DEPTH).contains(&depth) {
        return Err(ServiceError::invalid(
            "depth",
            format!("must be between 1 and {MAX_DEPTH}"),
        ));
    }
    Ok(depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overdue_is_derived_from_the_due_day() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let mut row = StatusRow {
            id: Uuid::nil(),
            status: "PLANNED".into(),
            progress: None,
            weight: 1.0,
            rolled_progress: None,
            rolled_read: true,
            due_on: Some(d("2024-03-31")),
            time_zone: None,
        };
        assert_eq!(effective_status(&row, d("2024-03-31")), MeasureStatus::Planned);
        assert_eq!(effective_status(&row, d("2024-04-01")), MeasureStatus::Overdue);
        row.status = "DONE".into();
        assert_eq!(effective_status(&row, d("2024-04-01")), MeasureStatus::Done);
        row.status = "IN_PROGRESS".into();
        row.due_on = None;
        assert_eq!(effective_status(&row, d("2030-01-01")), MeasureStatus::InProgress);
    }

    #[test]
    fn overdue_is_judged_on_the_day_of_the_plans_time_zone() {
        // Due 10 March 2026; at 16:00 UTC it is 01:00 on the 11th in Chita, 19:00 on the 10th in
        // Moscow and 18:00 in Kaliningrad.
        let due = NaiveDate::from_ymd_opt(2026, 3, 10);
        let clock = Clock::parse("2026-03-10T16:00:00Z").unwrap();
        let row = |zone: Option<&str>| StatusRow {
            id: Uuid::nil(),
            status: "IN_PROGRESS".into(),
            progress: None,
            weight: 1.0,
            rolled_progress: None,
            rolled_read: true,
            due_on: due,
            time_zone: zone.map(str::to_string),
        };
        assert_eq!(
            effective_status_now(&row(Some("Asia/Chita")), &clock),
            MeasureStatus::Overdue
        );
        assert_eq!(
            effective_status_now(&row(Some("Europe/Moscow")), &clock),
            MeasureStatus::InProgress
        );
        assert_eq!(
            effective_status_now(&row(Some("Europe/Kaliningrad")), &clock),
            MeasureStatus::InProgress
        );
        assert_eq!(
            effective_status_now(&row(None), &clock),
            MeasureStatus::InProgress,
            "Moscow by default"
        );
        // An hour earlier (00:00 on the 11th in Chita is 15:00 UTC) it was still the 10th there.
        let before = Clock::parse("2026-03-10T14:59:59Z").unwrap();
        assert_eq!(
            effective_status_now(&row(Some("Asia/Chita")), &before),
            MeasureStatus::InProgress
        );
        // A clock fixed to a date is that date in every zone.
        let fixed = Clock::fixed(NaiveDate::from_ymd_opt(2026, 3, 11).unwrap());
        assert_eq!(
            effective_status_now(&row(Some("Europe/Kaliningrad")), &fixed),
            MeasureStatus::Overdue
        );
    }

    #[test]
    fn trees_are_built_from_flat_rows() {
        let (r, a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let row = |depth, measure_id, implements_id| TraceRow {
            root: r,
            depth,
            link_id: Uuid::new_v4(),
            measure_id,
            implements_id,
        };
        let rows = vec![row(1, a, r), row(1, b, r), row(2, c, a)];
        let hide_b = |m| if m == b { Reached::Hidden } else { Reached::Unknown };
        let tree = build_tree(r, &rows, Direction::Down, &hide_b);
        assert_eq!(tree.len(), 2);
        assert_eq!(tree[0].measure_id, a);
        assert_eq!(tree[0].next.len(), 1);
        assert_eq!(tree[0].next[0].measure_id, c);
        assert!(tree[1].next.is_empty());
        assert!(matches!(tree[0].reached, Reached::Unknown));
        assert!(
            matches!(tree[1].reached, Reached::Hidden),
            "hidden, still in the tree (its measure is null)"
        );
        // Up: the same rows hang the other way.
        let up = build_tree(c, &[row(1, c, a), row(2, a, r)], Direction::Up, &|_| Reached::Unknown);
        assert_eq!(up[0].measure_id, a);
        assert_eq!(up[0].next[0].measure_id, r);
    }
}
