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

use std::cmp::Ordering;

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
}
