//! Rollup arithmetic, pure: no SQL, no GraphQL, so every rule is unit-tested here.
//!
//! - **Aggregation** of children's values into the parent's: `WEIGHTED_MEAN` weights each child by
//!   its denominator (e.g. number of exam participants), so a parent's share is
//!   `Σ valueᵢ·denominatorᵢ / Σ denominatorᵢ`; `SUM` adds values; `NOT_AGGREGATABLE` (qualitative
//!   indicators) never produces a value. Children without a value for the period, or (weighted
//!   mean) without a denominator, are *missing*: they are left out and counted, never read as 0.
//! - **Gap** is `value − target`, signed as is (for a "lower is better" share a positive gap is
//!   bad, for "higher is better" a negative one).
//! - **Status** is direction-aware. The *shortfall* is how far the value misses the target in the
//!   bad direction (`value − target` when lower is better, `target − value` when higher is
//!   better). `ON_TRACK`: shortfall ≤ 0 (the target is met). `AT_RISK`: the shortfall is at most
//!   [`AT_RISK_TOLERANCE`] (10 %) of the target's magnitude. `OFF_TRACK`: anything worse. No
//!   status without both a value and a target.
//! - **Ranking** orders children best first by direction; equal values share a rank (1, 2, 2, 4);
//!   children without a value are not ranked.
//! - **Children** of a parent are the places (territories, organisations) with an observation
//!   recorded under it in any period or subject; a child without a value for the rollup's period
//!   and subject is missing. A parent's own observation is its value only when no child has one.
//! - **Targets**: when several plans set one for the same place, period and subject, the latest
//!   set wins; the baseline of a period is the latest one not after it, else the earliest.
//!
//! [`compute_rollup`] puts these together over the rows [`RollupData`] holds; the GraphQL layer
//! only names the result.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};

use uuid::Uuid;

use crate::store::{ObservationRow, TargetRow};

/// Rounding noise below this is ignored when comparing values.
const EPSILON: f64 = 1e-9;

/// Share of the target's magnitude a value may miss it by and still be `AT_RISK` rather than
/// `OFF_TRACK`.
pub const AT_RISK_TOLERANCE: f64 = 0.10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    LowerIsBetter,
    HigherIsBetter,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregation {
    WeightedMean,
    Sum,
    NotAggregatable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    OnTrack,
    AtRisk,
    OffTrack,
}

/// One child's contribution for one period: `None` when it has no observation for it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChildValue {
    pub value: Option<f64>,
    pub denominator: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aggregate {
    /// `None` when nothing could be aggregated (no child data, or not aggregatable).
    pub value: Option<f64>,
    /// Sum of the used children's denominators (weighted mean and sum), if any had one.
    pub denominator: Option<f64>,
    /// Children whose values went into `value`.
    pub used: usize,
    /// Children left out: no value, or no usable denominator for a weighted mean.
    pub missing: usize,
}

/// Aggregates children's values (see the module docs).
pub fn aggregate(aggregation: Aggregation, children: &[ChildValue]) -> Aggregate {
    let mut out = Aggregate {
        value: None,
        denominator: None,
        used: 0,
        missing: 0,
    };
    match aggregation {
        Aggregation::NotAggregatable => {
            out.missing = children.iter().filter(|c| c.value.is_none()).count();
        }
        Aggregation::Sum => {
            let mut sum = 0.0;
            let mut denominator: Option<f64> = None;
            for c in children {
                match c.value {
                    Some(v) => {
                        sum += v;
                        out.used += 1;
                        if let Some(d) = c.denominator {
                            *denominator.get_or_insert(0.0) += d;
                        }
                    }
                    None => out.missing += 1,
                }
            }
            if out.used > 0 {
                out.value = Some(sum);
                out.denominator = denominator;
            }
        }
        Aggregation::WeightedMean => {
            let mut weighted = 0.0;
            let mut weights = 0.0;
            for c in children {
                match (c.value, c.denominator) {
                    (Some(v), Some(d)) if d > 0.0 => {
                        weighted += v * d;
                        weights += d;
                        out.used += 1;
                    }
                    _ => out.missing += 1,
                }
            }
            if out.used > 0 {
                out.value = Some(weighted / weights);
                out.denominator = Some(weights);
            }
        }
    }
    out
}

/// `value − target`.
pub fn gap(value: f64, target: f64) -> f64 {
    value - target
}

/// How far `value` misses `target` in the bad direction (≤ 0 when the target is met).
pub fn shortfall(direction: Direction, value: f64, target: f64) -> f64 {
    match direction {
        Direction::LowerIsBetter => value - target,
        Direction::HigherIsBetter => target - value,
    }
}

/// Direction-aware status (see the module docs).
pub fn status(direction: Direction, value: f64, target: f64) -> Status {
    let miss = shortfall(direction, value, target);
    if miss <= EPSILON {
        Status::OnTrack
    } else if miss <= AT_RISK_TOLERANCE * target.abs() + EPSILON {
        Status::AtRisk
    } else {
        Status::OffTrack
    }
}

/// Competition ranks (1 = best) of `values` by direction; `None` for values that are `None`.
pub fn ranks(direction: Direction, values: &[Option<f64>]) -> Vec<Option<u32>> {
    let better = |a: f64, b: f64| -> Ordering {
        let ord = a.partial_cmp(&b).unwrap_or(Ordering::Equal);
        match direction {
            Direction::LowerIsBetter => ord,
            Direction::HigherIsBetter => ord.reverse(),
        }
    };
    values
        .iter()
        .map(|v| {
            v.map(|v| {
                let ahead = values
                    .iter()
                    .flatten()
                    .filter(|&&other| (other - v).abs() > EPSILON && better(other, v) == Ordering::Less)
                    .count();
                ahead as u32 + 1
            })
        })
        .collect()
}

/// Key of a rollup: (indicator, parent territory).
pub type RollupKey = (Uuid, Uuid);

/// What rollups and series of one (indicator, parent territory) are computed from.
#[derive(Clone, Debug, Default)]
pub struct RollupData {
    /// The parent's own observations, every period and subject.
    pub own: Vec<ObservationRow>,
    /// Observations of its children (territories and organisations), every period and subject.
    pub children: Vec<ObservationRow>,
    /// Targets of the parent.
    pub targets: Vec<TargetRow>,
    /// Targets of the children.
    pub child_targets: Vec<TargetRow>,
}

/// A child of a rollup: (territory, organisation) as observations record it.
type Place = (Option<Uuid>, Option<Uuid>);

impl RollupData {
    /// Sorts the rows of one batch (observations and targets of every key's indicator, under or of
    /// every key's parent) into each key's data.
    pub fn assemble(
        keys: &[RollupKey],
        observations: &[ObservationRow],
        targets: &[TargetRow],
    ) -> HashMap<RollupKey, RollupData> {
        let mut map: HashMap<RollupKey, RollupData> = keys.iter().map(|k| (*k, RollupData::default())).collect();
        for o in observations {
            if let Some(parent) = o.parent_territory_id
                && let Some(data) = map.get_mut(&(o.indicator_id, parent))
            {
                data.children.push(o.clone());
            }
            if let Some(t) = own_territory(o.territory_id, o.organisation_id)
                && let Some(data) = map.get_mut(&(o.indicator_id, t))
            {
                data.own.push(o.clone());
            }
        }
        for ((indicator, _), data) in map.iter_mut() {
            let child_places: HashSet<Place> = data
                .children
                .iter()
                .map(|o| (o.territory_id, o.organisation_id))
                .collect();
            data.child_targets = targets
                .iter()
                .filter(|t| t.indicator_id == *indicator && child_places.contains(&(t.territory_id, t.organisation_id)))
                .cloned()
                .collect();
        }
        for t in targets {
            if let Some(territory) = own_territory(t.territory_id, t.organisation_id)
                && let Some(data) = map.get_mut(&(t.indicator_id, territory))
            {
                data.targets.push(t.clone());
            }
        }
        map
    }

    /// Every period with an observation or a target for `subject`, in order: what a series shows.
    pub fn periods(&self, subject: &str) -> BTreeSet<i32> {
        self.own
            .iter()
            .chain(&self.children)
            .filter(|o| o.subject == subject)
            .map(|o| o.period)
            .chain(self.targets.iter().filter(|t| t.subject == subject).map(|t| t.period))
            .collect()
    }
}

/// The territory a row is about when it is the territory's own (not one of its organisations').
fn own_territory(territory: Option<Uuid>, organisation: Option<Uuid>) -> Option<Uuid> {
    territory.filter(|_| organisation.is_none())
}

/// The latest-updated target of `kind` for (place, period, subject) among `rows`.
pub fn pick<'a>(
    rows: impl Iterator<Item = &'a TargetRow>,
    kind: &str,
    period: i32,
    subject: &str,
) -> Option<&'a TargetRow> {
    rows.filter(|t| t.kind == kind && t.period == period && t.subject == subject)
        .max_by_key(|t| t.updated_at)
}

/// The baseline for `period`: the latest one not after it, else the earliest.
pub fn baseline<'a>(rows: &'a [TargetRow], period: i32, subject: &str) -> Option<&'a TargetRow> {
    let baselines = rows.iter().filter(|t| t.kind == "BASELINE" && t.subject == subject);
    baselines
        .clone()
        .filter(|t| t.period <= period)
        .max_by_key(|t| (t.period, t.updated_at))
        .or_else(|| baselines.min_by_key(|t| t.period))
}

/// Where a rollup's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Rollup,
    Observed,
}

/// A parent's value of one indicator for one period and subject (see the module docs).
#[derive(Clone, Debug)]
pub struct Rollup<'a> {
    /// `rolled_up` when the children have data, else `observed`.
    pub value: Option<f64>,
    pub source: Option<Source>,
    pub rolled_up: Option<f64>,
    pub observed: Option<f64>,
    pub denominator: Option<f64>,
    pub target: Option<&'a TargetRow>,
    pub baseline: Option<&'a TargetRow>,
    pub gap: Option<f64>,
    pub status: Option<Status>,
    pub children_with_data: usize,
    pub missing_children: usize,
    /// Best first; children without a value last.
    pub children: Vec<Child>,
}

/// One child in a rollup.
#[derive(Clone, Debug, PartialEq)]
pub struct Child {
    /// The child territory; none when the child is an organisation.
    pub territory: Option<Uuid>,
    pub organisation: Option<Uuid>,
    pub value: Option<f64>,
    pub denominator: Option<f64>,
    pub rank: Option<u32>,
    pub target: Option<f64>,
    pub gap: Option<f64>,
    pub status: Option<Status>,
}

/// The rollup of `data` for `period` and `subject` (the empty key for none).
pub fn compute_rollup<'a>(
    direction: Direction,
    aggregation: Aggregation,
    data: &'a RollupData,
    period: i32,
    subject: &str,
) -> Rollup<'a> {
    let places = child_places(&data.children);
    let current: HashMap<Place, &ObservationRow> = data
        .children
        .iter()
        .filter(|o| o.period == period && o.subject == subject)
        .map(|o| ((o.territory_id, o.organisation_id), o))
        .collect();
    let values: Vec<ChildValue> = places
        .iter()
        .map(|p| ChildValue {
            value: current.get(p).map(|o| o.value),
            denominator: current.get(p).and_then(|o| o.denominator),
        })
        .collect();
    let aggregate = aggregate(aggregation, &values);
    let ranks = ranks(direction, &values.iter().map(|v| v.value).collect::<Vec<_>>());
    let mut children: Vec<Child> = places
        .iter()
        .zip(&values)
        .zip(ranks)
        .map(|((place, v), rank)| {
            let targets = data
                .child_targets
                .iter()
                .filter(|t| (t.territory_id, t.organisation_id) == *place);
            let target = pick(targets, "TARGET", period, subject).map(|t| t.value);
            Child {
                territory: own_territory(place.0, place.1),
                organisation: place.1,
                value: v.value,
                denominator: v.denominator,
                rank,
                target,
                gap: v.value.zip(target).map(|(v, t)| gap(v, t)),
                status: v.value.zip(target).map(|(v, t)| status(direction, v, t)),
            }
        })
        .collect();
    children.sort_by_key(|c| (c.rank.is_none(), c.rank));
    let observed = data
        .own
        .iter()
        .find(|o| o.period == period && o.subject == subject)
        .map(|o| o.value);
    let target = pick(data.targets.iter(), "TARGET", period, subject);
    let value = aggregate.value.or(observed);
    Rollup {
        value,
        source: match (aggregate.value, observed) {
            (Some(_), _) => Some(Source::Rollup),
            (None, Some(_)) => Some(Source::Observed),
            (None, None) => None,
        },
        rolled_up: aggregate.value,
        observed,
        denominator: aggregate.denominator,
        target,
        baseline: baseline(&data.targets, period, subject),
        gap: value.zip(target).map(|(v, t)| gap(v, t.value)),
        status: value.zip(target).map(|(v, t)| status(direction, v, t.value)),
        children_with_data: aggregate.used,
        missing_children: aggregate.missing,
        children,
    }
}

/// Every child known to report the indicator, in a stable order (first seen first).
fn child_places(children: &[ObservationRow]) -> Vec<Place> {
    let mut seen = HashSet::new();
    children
        .iter()
        .map(|o| (o.territory_id, o.organisation_id))
        .filter(|place| seen.insert(*place))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(value: f64, denominator: f64) -> ChildValue {
        ChildValue {
            value: Some(value),
            denominator: Some(denominator),
        }
    }

    const NO_DATA: ChildValue = ChildValue {
        value: None,
        denominator: None,
    };

    #[test]
    fn weighted_mean_weights_by_denominator_not_by_child() {
        // 10 % of 100 and 30 % of 300 participants: 1 000 + 9 000 of 400, i.e. 25 %, not 20 %.
        let a = aggregate(Aggregation::WeightedMean, &[child(10.0, 100.0), child(30.0, 300.0)]);
        assert!((a.value.expect("value") - 25.0).abs() < 1e-9, "{a:?}");
        assert_eq!(a.denominator, Some(400.0));
        assert_eq!((a.used, a.missing), (2, 0));
    }

    #[test]
    fn missing_children_are_left_out_and_counted_not_read_as_zero() {
        let without_denominator = ChildValue {
            value: Some(90.0),
            denominator: None,
        };
        let a = aggregate(
            Aggregation::WeightedMean,
            &[child(12.0, 50.0), NO_DATA, without_denominator, child(18.0, 150.0)],
        );
        // (12·50 + 18·150) / 200 = 3 300 / 200
        assert!((a.value.expect("value") - 16.5).abs() < 1e-9, "{a:?}");
        assert_eq!((a.used, a.missing), (2, 2));
        let none = aggregate(Aggregation::WeightedMean, &[NO_DATA, NO_DATA]);
        assert_eq!(none.value, None);
        assert_eq!(none.missing, 2);
        assert_eq!(aggregate(Aggregation::WeightedMean, &[]).value, None);
    }

    #[test]
    fn sums_add_values_and_qualitative_indicators_are_never_summed() {
        let s = aggregate(Aggregation::Sum, &[child(3.0, 1.0), NO_DATA, child(4.0, 2.0)]);
        assert_eq!(s.value, Some(7.0));
        assert_eq!(s.denominator, Some(3.0));
        assert_eq!((s.used, s.missing), (2, 1));
        let q = aggregate(Aggregation::NotAggregatable, &[child(1.0, 1.0), child(1.0, 1.0)]);
        assert_eq!(q.value, None);
        assert_eq!(q.used, 0);
    }

    #[test]
    fn status_depends_on_direction() {
        // A share below the minimum score: lower is better. Target 23 %.
        assert_eq!(status(Direction::LowerIsBetter, 22.0, 23.0), Status::OnTrack);
        assert_eq!(status(Direction::LowerIsBetter, 23.0, 23.0), Status::OnTrack);
        assert_eq!(status(Direction::LowerIsBetter, 25.0, 23.0), Status::AtRisk); // 2 ≤ 2.3
        assert_eq!(status(Direction::LowerIsBetter, 25.3, 23.0), Status::AtRisk); // exactly 10 %
        assert_eq!(status(Direction::LowerIsBetter, 26.0, 23.0), Status::OffTrack);
        // The same numbers for an indicator where higher is better.
        assert_eq!(status(Direction::HigherIsBetter, 22.0, 23.0), Status::AtRisk);
        assert_eq!(status(Direction::HigherIsBetter, 26.0, 23.0), Status::OnTrack);
        assert_eq!(status(Direction::HigherIsBetter, 20.0, 23.0), Status::OffTrack);
        // A target of zero leaves no tolerance.
        assert_eq!(status(Direction::LowerIsBetter, 0.01, 0.0), Status::OffTrack);
        assert!((gap(32.79, 23.0) - 9.79).abs() < 1e-9);
        assert!((shortfall(Direction::HigherIsBetter, 32.79, 23.0) + 9.79).abs() < 1e-9);
    }

    #[test]
    fn ranks_best_first_by_direction_with_ties_and_gaps() {
        let values = [Some(10.0), None, Some(5.0), Some(10.0), Some(20.0)];
        assert_eq!(
            ranks(Direction::LowerIsBetter, &values),
            vec![Some(2), None, Some(1), Some(2), Some(4)]
        );
        assert_eq!(
            ranks(Direction::HigherIsBetter, &values),
            vec![Some(2), None, Some(4), Some(2), Some(1)]
        );
    }

    fn observation(
        place: (u128, Option<u128>),
        parent: u128,
        period: i32,
        value: f64,
        participants: f64,
    ) -> ObservationRow {
        ObservationRow {
            id: Uuid::new_v4(),
            indicator_id: Uuid::nil(),
            territory_id: Some(Uuid::from_u128(place.0)),
            organisation_id: place.1.map(Uuid::from_u128),
            parent_territory_id: Some(Uuid::from_u128(parent)),
            period,
            subject: "chemistry".to_string(),
            value,
            value_raw: value.to_string(),
            denominator: Some(participants),
            source: None,
            observed_on: None,
            recorded_at: chrono::Utc::now(),
        }
    }

    fn target(kind: &str, territory: u128, period: i32, value: f64, minutes: i64) -> TargetRow {
        TargetRow {
            id: Uuid::new_v4(),
            indicator_id: Uuid::nil(),
            territory_id: Some(Uuid::from_u128(territory)),
            organisation_id: None,
            period,
            subject: "chemistry".to_string(),
            kind: kind.to_string(),
            comparator: "LE".to_string(),
            value,
            value_raw: value.to_string(),
            plan_id: None,
            measure_id: None,
            source_line: None,
            position: None,
            updated_at: chrono::DateTime::UNIX_EPOCH + chrono::Duration::minutes(minutes),
        }
    }

    #[test]
    fn a_region_rolls_up_its_municipalities_against_its_latest_target() {
        const REGION: u128 = 1;
        let keys = [(Uuid::nil(), Uuid::from_u128(REGION))];
        let observations = [
            observation((2, None), REGION, 2024, 10.0, 100.0),
            observation((3, None), REGION, 2024, 30.0, 300.0),
            // Reported another year only: known, but missing in 2024.
            observation((4, None), REGION, 2023, 5.0, 50.0),
            // A school of municipality 2 rolls up into 2, not into the region.
            observation((2, Some(9)), 2, 2024, 99.0, 10.0),
        ];
        let targets = [
            target("TARGET", REGION, 2024, 30.0, 1),
            target("TARGET", REGION, 2024, 24.0, 2),
            target("BASELINE", REGION, 2022, 40.0, 0),
            target("TARGET", 3, 2024, 20.0, 0),
        ];
        let data = &RollupData::assemble(&keys, &observations, &targets)[&keys[0]];
        assert_eq!(
            (data.children.len(), data.targets.len(), data.child_targets.len()),
            (3, 3, 1)
        );
        assert_eq!(
            data.periods("chemistry").into_iter().collect::<Vec<_>>(),
            [2022, 2023, 2024]
        );

        let r = compute_rollup(
            Direction::LowerIsBetter,
            Aggregation::WeightedMean,
            data,
            2024,
            "chemistry",
        );
        assert_eq!((r.value, r.source), (Some(25.0), Some(Source::Rollup)));
        assert_eq!(r.target.map(|t| t.value), Some(24.0), "the latest set target");
        assert_eq!(r.baseline.map(|t| t.period), Some(2022));
        assert_eq!(r.status, Some(Status::AtRisk));
        assert_eq!((r.children_with_data, r.missing_children), (2, 1));
        let ranked: Vec<_> = r.children.iter().map(|c| (c.territory, c.rank, c.status)).collect();
        assert_eq!(
            ranked,
            [
                (Some(Uuid::from_u128(2)), Some(1), None),
                (Some(Uuid::from_u128(3)), Some(2), Some(Status::OffTrack)),
                (Some(Uuid::from_u128(4)), None, None),
            ]
        );
    }
}
