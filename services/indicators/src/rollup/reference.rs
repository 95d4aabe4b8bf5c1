//! The rollup as it was computed before [`super::RollupIndex`]: a tree rebuilt from every row of
//! [`RollupData`], recursively, each child cloned into its parent. Kept, unchanged, as the oracle
//! the index's results are compared with (`super::tests`).

use std::collections::{HashMap, HashSet};

use super::*;

/// The tree of one result source under a rollup's unit.
struct Tree<'d> {
    rules: Rules,
    period: i32,
    subject: &'d str,
    /// Children of each unit, first seen first; `None` is the rollup's unit.
    children: HashMap<Option<Unit>, Vec<Unit>>,
    /// Each unit's observations of the source.
    observed: HashMap<Unit, Vec<&'d ObservationRow>>,
    child_targets: &'d [TargetRow],
}

impl<'d> Tree<'d> {
    fn new(rules: Rules, data: &'d RollupData, source: &str, period: i32, subject: &'d str) -> Tree<'d> {
        let mut children: HashMap<Option<Unit>, Vec<Unit>> = HashMap::new();
        let mut edges = HashSet::new();
        let mut observed: HashMap<Unit, Vec<&ObservationRow>> = HashMap::new();
        for b in data.below.iter().filter(|b| b.row.result_source == source) {
            let mut up = None;
            for unit in &b.path {
                if edges.insert((up, *unit)) {
                    children.entry(up).or_default().push(*unit);
                }
                up = Some(*unit);
            }
            if let Some(unit) = up {
                observed.entry(unit).or_default().push(&b.row);
            }
        }
        Tree {
            rules,
            period,
            subject,
            children,
            observed,
            child_targets: &data.child_targets,
        }
    }

    /// A row's contribution as reported.
    fn reported(&self, o: &ObservationRow) -> ChildValue {
        let numerator = match self.rules.aggregation {
            Aggregation::Sum => Some(o.value),
            Aggregation::WeightedMean => o.numerator.or(o.denominator.map(|d| o.value * d / self.rules.scale)),
            Aggregation::NotAggregatable => None,
        };
        ChildValue {
            value: Some(o.value),
            denominator: o.denominator,
            numerator,
        }
    }

    fn own(&self, rows: &[&ObservationRow]) -> Option<ChildValue> {
        rows.iter()
            .find(|o| o.period == self.period && o.subject == self.subject)
            .map(|o| self.reported(o))
    }

    /// Whether a reported value can stand for its unit in a parent's aggregate.
    fn usable(&self, v: &ChildValue) -> bool {
        match self.rules.aggregation {
            Aggregation::WeightedMean => v.value.is_some() && v.denominator.is_some_and(|d| d > 0.0),
            Aggregation::Sum | Aggregation::NotAggregatable => v.value.is_some(),
        }
    }

    /// The children of `parent` (`None`: the rollup's unit), ranked, and their aggregate.
    fn level(&self, parent: Option<Unit>) -> (Vec<Child>, Aggregate) {
        let children: Vec<Child> = self
            .children
            .get(&parent)
            .into_iter()
            .flatten()
            .map(|u| self.child(*u, parent.is_none()))
            .collect();
        let values: Vec<ChildValue> = children
            .iter()
            .map(|c| ChildValue {
                value: c.value,
                denominator: c.denominator,
                numerator: c.numerator,
            })
            .collect();
        let aggregate = aggregate(self.rules.aggregation, &values);
        let ranks = ranks(
            self.rules.direction,
            &values.iter().map(|v| v.value).collect::<Vec<_>>(),
        );
        let mut children: Vec<Child> = children
            .into_iter()
            .zip(ranks)
            .map(|(c, rank)| Child { rank, ..c })
            .collect();
        children.sort_by_key(|c| (c.rank.is_none(), c.rank));
        (children, aggregate)
    }

    /// One unit: its own value when usable, else its children's (the rule against double
    /// counting); `with_target` for the rollup unit's direct children.
    fn child(&self, unit: Unit, with_target: bool) -> Child {
        let (children, below) = self.level(Some(unit));
        let own = self.observed.get(&unit).and_then(|rows| self.own(rows));
        let rolled = ChildValue {
            value: below.value,
            denominator: below.denominator,
            numerator: below.numerator,
        };
        let (value, source) = match own {
            Some(v) if self.usable(&v) || below.value.is_none() => (v, Some(Source::Observed)),
            _ if below.value.is_some() => (rolled, Some(Source::Rollup)),
            _ => (
                ChildValue {
                    value: None,
                    denominator: None,
                    numerator: None,
                },
                None,
            ),
        };
        let target = if with_target {
            let targets = self
                .child_targets
                .iter()
                .filter(|t| Unit::of(t.territory_id, t.organisation_id) == Some(unit));
            pick(targets, "TARGET", self.period, self.subject).map(|t| t.value)
        } else {
            None
        };
        let direction = self.rules.direction;
        Child {
            territory: unit.territory(),
            organisation: unit.organisation(),
            rank: None,
            target,
            figures: Figures {
                value: value.value,
                value_source: source,
                observed: own.and_then(|v| v.value),
                rolled_up: below.value,
                numerator: value.numerator,
                denominator: value.denominator,
                gap: value.value.zip(target).map(|(v, t)| gap(v, t)),
                status: value.value.zip(target).map(|(v, t)| status(direction, v, t)),
                children_with_data: below.used,
                missing_children: below.missing,
                children,
            },
        }
    }
}

/// The rollup of one result source of `data` for `period` and `subject`.
fn source_rollup(
    rules: Rules,
    data: &RollupData,
    source: &'static str,
    period: i32,
    subject: &str,
    target: Option<f64>,
) -> SourceRollup {
    let tree = Tree::new(rules, data, source, period, subject);
    let (children, aggregate) = tree.level(None);
    let own: Vec<&ObservationRow> = data.own.iter().filter(|o| o.result_source == source).collect();
    let observed = tree.own(&own);
    let value = aggregate.value.or(observed.and_then(|o| o.value));
    let (numerator, denominator) = match aggregate.value {
        Some(_) => (aggregate.numerator, aggregate.denominator),
        None => observed.map_or((None, None), |o| (o.numerator, o.denominator)),
    };
    SourceRollup {
        source,
        figures: Figures {
            value,
            value_source: match (aggregate.value, value) {
                (Some(_), _) => Some(Source::Rollup),
                (None, Some(_)) => Some(Source::Observed),
                (None, None) => None,
            },
            observed: observed.and_then(|o| o.value),
            rolled_up: aggregate.value,
            numerator,
            denominator,
            gap: value.zip(target).map(|(v, t)| gap(v, t)),
            status: value.zip(target).map(|(v, t)| status(rules.direction, v, t)),
            children_with_data: aggregate.used,
            missing_children: aggregate.missing,
            children,
        },
    }
}

/// The rollup of `data` for `period` and `subject` (the empty key for none).
pub fn reference_rollup<'a>(rules: Rules, data: &'a RollupData, period: i32, subject: &str) -> Rollup<'a> {
    let target = pick(data.targets.iter(), "TARGET", period, subject);
    let by_source: Vec<SourceRollup> = data
        .sources(subject)
        .into_iter()
        .map(|s| source_rollup(rules, data, s, period, subject, target.map(|t| t.value)))
        .collect();
    let official = by_source
        .iter()
        .find(|s| s.source == OFFICIAL)
        .cloned()
        .unwrap_or_else(|| source_rollup(rules, data, OFFICIAL, period, subject, target.map(|t| t.value)));
    Rollup {
        target,
        baseline: baseline(&data.targets, period, subject),
        official,
        by_source,
    }
}
