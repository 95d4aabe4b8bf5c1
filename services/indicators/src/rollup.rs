//! Rollup arithmetic, pure: no SQL, no GraphQL, so every rule is unit-tested here.
//!
//! - **The tree.** Values roll up through units: a class into its school, a school into its
//!   municipality, a municipality into its region, a region into the country. Each observation
//!   carries the units above its own ([`units_above`]), recorded from the people subgraph when it
//!   was; a rollup of a unit reads every observation whose path holds it, however deep, and
//!   rebuilds the tree from the paths, so a municipality that reports nothing itself still
//!   appears (with its schools and their classes under it). Values recorded without a path
//!   (before classes existed, bulk loads) roll up one level, into their `parent_territory_id`.
//! - **Aggregation** of children's values into the parent's: `WEIGHTED_MEAN` weights each child by
//!   its denominator (e.g. number of exam participants), so a parent's share is
//!   `Σ valueᵢ·denominatorᵢ / Σ denominatorᵢ` (11Б: 5 of 24 below the minimum, 11А: 3 of 20 →
//!   the school (5+3)/(24+20)); `SUM` adds values (pupils with an individual route, per class);
//!   `NOT_AGGREGATABLE` (qualitative indicators) never produces a value. Children without a value
//!   for the period, or (weighted mean) without a denominator, are *missing*: they are left out
//!   and counted, at every level, never read as 0.
//! - **Numerator** is how many of the denominator the value counts: the one reported with the
//!   value (5 of 24), else `value·denominator/scale` (scale 100 for a share in %); summed like the
//!   denominators. For `SUM` it is the sum itself.
//! - **No double counting: a unit's own reported value wins over its children's.** A unit that
//!   reports its own value *and* has children that report counts in its parent with its own value
//!   only; its children's rollup is shown next to it (`rolledUp`), never added. The reason: a
//!   unit's own figure covers all of it (a school's result covers every pupil who wrote, also
//!   those of classes that reported nothing), while its children's sum covers only the children
//!   that reported; and a unit is the authority on its own total. The children's rollup stands in
//!   for a unit only when it has no usable value of its own (none, or a weighted mean without a
//!   denominator). The rollup asked for is its unit's children's (`value` is `rolledUp` when they
//!   have data, else the unit's own `observed`), with `observed` beside it.
//! - **Result sources** (`OFFICIAL`, `MOCK_EXAM`, `DIAGNOSTIC`: the exam as the assessment centre
//!   reports it, a mock exam, a diagnostic test) are never folded together: each source has its
//!   own tree (a child is known to a source's rollup when it, or a unit under it, reported that
//!   source), its own value and children, shown side by side ([`Rollup::by_source`]). The
//!   rollup's main value is the official one: a mock exam is not the exam.
//! - **Gap** is `value − target`, signed as is (for a "lower is better" share a positive gap is
//!   bad, for "higher is better" a negative one).
//! - **Status** is direction-aware. The *shortfall* is how far the value misses the target in the
//!   bad direction (`value − target` when lower is better, `target − value` when higher is
//!   better). `ON_TRACK`: shortfall ≤ 0 (the target is met). `AT_RISK`: the shortfall is at most
//!   [`AT_RISK_TOLERANCE`] (10 %) of the target's magnitude. `OFF_TRACK`: anything worse. No
//!   status without both a value and a target. Every source's value is compared with the same
//!   target.
//! - **Ranking** orders the children of each unit best first by direction; equal values share a
//!   rank (1, 2, 2, 4); children without a value are not ranked.
//! - **Children** of a unit are the units (territories, organisations) with an observation
//!   recorded under it in any period or subject (of the source), listed ranked (children of equal
//!   rank, and those without a rank, in the order they are first seen in the rows ordered by
//!   period and subject); a child without a value for the rollup's period and subject is missing.
//! - **Targets**: when several plans set one for the same place, period and subject, the latest
//!   set wins; the baseline of a period is the latest one not after it, else the earliest.
//!
//! How it is computed. A unit's observations (its own and every one below it, every period,
//! subject and source) are read once into a [`RollupIndex`]: per source, the tree of units (each
//! unit once, its children in first-seen order) and the values reported in it by subject and
//! period, without the rows' other columns. A rollup of one period and subject
//! ([`RollupView`]) computes a source's tree bottom-up in one pass (every unit once, whatever the
//! depth; a unit under two parents, from paths recorded before a move, is computed once and
//! listed under both), and ranks a level only when it is read: the GraphQL layer reads the levels
//! and sources a query selects, [`compute_rollup`] reads all of them over the rows
//! [`RollupData`] holds. The index is what the loader keeps between requests
//! ([`crate::cache`]). The tree rebuilt from every row, as rollups were computed before the
//! index, is kept in the tests as the oracle the index is compared with, over generated trees
//! (several levels, sources, periods and subjects, paths recorded before a move or not at all).

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, OnceLock};

use uuid::Uuid;

use crate::store::{ObservationRow, RollupRow, TargetRow};

/// Rounding noise below this is ignored when comparing values.
const EPSILON: f64 = 1e-9;

/// Share of the target's magnitude a value may miss it by and still be `AT_RISK` rather than
/// `OFF_TRACK`.
pub const AT_RISK_TOLERANCE: f64 = 0.10;

/// The result sources, official first: the order rollups list them in (the stored text).
pub const RESULT_SOURCES: [&str; 3] = ["OFFICIAL", "MOCK_EXAM", "DIAGNOSTIC"];

/// The source of the rollup's main value.
pub const OFFICIAL: &str = RESULT_SOURCES[0];

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

/// What an indicator's rollups follow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rules {
    pub direction: Direction,
    pub aggregation: Aggregation,
    /// What a value is per unit of its denominator: 100 for a share in %, else 1.
    pub scale: f64,
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
    /// How many of the denominator the value counts.
    pub numerator: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aggregate {
    /// `None` when nothing could be aggregated (no child data, or not aggregatable).
    pub value: Option<f64>,
    /// Sum of the used children's denominators (weighted mean and sum), if any had one.
    pub denominator: Option<f64>,
    /// Sum of the used children's numerators (weighted mean: when every used child has one).
    pub numerator: Option<f64>,
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
        numerator: None,
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
                out.numerator = Some(sum);
                out.denominator = denominator;
            }
        }
        Aggregation::WeightedMean => {
            let mut weighted = 0.0;
            let mut weights = 0.0;
            let mut numerator = Some(0.0);
            for c in children {
                match (c.value, c.denominator) {
                    (Some(v), Some(d)) if d > 0.0 => {
                        weighted += v * d;
                        weights += d;
                        numerator = numerator.zip(c.numerator).map(|(a, b)| a + b);
                        out.used += 1;
                    }
                    _ => out.missing += 1,
                }
            }
            if out.used > 0 {
                out.value = Some(weighted / weights);
                out.denominator = Some(weights);
                out.numerator = numerator;
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

/// A unit of the tree values roll up through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    Territory(Uuid),
    Organisation(Uuid),
}

impl Unit {
    /// The unit a row (observation or target) is about: its organisation, else its territory.
    pub fn of(territory: Option<Uuid>, organisation: Option<Uuid>) -> Option<Unit> {
        organisation.map(Unit::Organisation).or(territory.map(Unit::Territory))
    }

    pub fn territory(self) -> Option<Uuid> {
        match self {
            Unit::Territory(id) => Some(id),
            Unit::Organisation(_) => None,
        }
    }

    pub fn organisation(self) -> Option<Uuid> {
        match self {
            Unit::Organisation(id) => Some(id),
            Unit::Territory(_) => None,
        }
    }
}

/// The units above an observation's own, nearest first, as recorded with it: the organisations
/// above (a class's school), then the territories; without a recorded path, its
/// `parent_territory_id` alone.
pub fn units_above(o: &ObservationRow) -> Vec<Unit> {
    let organisations = o.organisation_path.iter().map(|&id| Unit::Organisation(id));
    match &o.territory_path {
        Some(territories) => organisations
            .chain(territories.iter().map(|&id| Unit::Territory(id)))
            .collect(),
        None => organisations
            .chain(o.parent_territory_id.map(Unit::Territory))
            .collect(),
    }
}

/// Key of a rollup: (indicator, the unit rolled up into).
pub type RollupKey = (Uuid, Unit);

/// An observation under a rollup's unit, with the way down to it.
#[derive(Clone, Debug)]
pub struct Below {
    /// From the rollup's unit down: its child first, the observed unit last.
    pub path: Vec<Unit>,
    pub row: ObservationRow,
}

/// The targets of `key`'s indicator set for its unit (into `own`) and for one of its `children`
/// (into `of_children`), out of the targets of one batch.
fn split_targets(
    (indicator, unit): &RollupKey,
    children: &BTreeSet<Unit>,
    targets: &[TargetRow],
    own: &mut Vec<TargetRow>,
    of_children: &mut Vec<TargetRow>,
) {
    for t in targets.iter().filter(|t| t.indicator_id == *indicator) {
        match Unit::of(t.territory_id, t.organisation_id) {
            Some(u) if u == *unit => own.push(t.clone()),
            Some(u) if children.contains(&u) => of_children.push(t.clone()),
            _ => {}
        }
    }
}

/// The rows rollups and series of one (indicator, unit) are computed from, in full: the form
/// [`compute_rollup`] reads (and the tests write). The loader reads [`RollupRow`]s into a
/// [`RollupIndex`] instead ([`assemble_indexes`]); [`RollupData::index`] is the same index.
#[derive(Clone, Debug, Default)]
pub struct RollupData {
    /// The unit's own observations, every period, subject and source.
    pub own: Vec<ObservationRow>,
    /// Observations of every unit under it, however deep, every period, subject and source.
    pub below: Vec<Below>,
    /// Targets of the unit.
    pub targets: Vec<TargetRow>,
    /// Targets of its children.
    pub child_targets: Vec<TargetRow>,
}

impl RollupData {
    /// Sorts the observations of one batch (of every key's indicator, under or of every key's
    /// unit) into each key's data; targets come after, by [`RollupData::attach_targets`].
    pub fn assemble(keys: &[RollupKey], observations: &[ObservationRow]) -> HashMap<RollupKey, RollupData> {
        let mut map: HashMap<RollupKey, RollupData> = keys.iter().map(|k| (*k, RollupData::default())).collect();
        for o in observations {
            let Some(unit) = Unit::of(o.territory_id, o.organisation_id) else {
                continue;
            };
            if let Some(data) = map.get_mut(&(o.indicator_id, unit)) {
                data.own.push(o.clone());
            }
            let above = units_above(o);
            for (depth, up) in above.iter().enumerate() {
                if let Some(data) = map.get_mut(&(o.indicator_id, *up)) {
                    let path = above[..depth].iter().rev().copied().chain([unit]).collect();
                    data.below.push(Below { path, row: o.clone() });
                }
            }
        }
        map
    }

    /// The units directly under this one that have data below them.
    pub fn children(&self) -> BTreeSet<Unit> {
        self.below.iter().filter_map(|b| b.path.first().copied()).collect()
    }

    /// Gives each key the targets of its unit and of its children, from the targets of one batch.
    pub fn attach_targets(map: &mut HashMap<RollupKey, RollupData>, targets: &[TargetRow]) {
        for (key, data) in map.iter_mut() {
            let children = data.children();
            split_targets(key, &children, targets, &mut data.targets, &mut data.child_targets);
        }
    }

    /// Every period with an observation or a target for `subject`, in order: what a series shows.
    pub fn periods(&self, subject: &str) -> BTreeSet<i32> {
        self.own
            .iter()
            .chain(self.below.iter().map(|b| &b.row))
            .filter(|o| o.subject == subject)
            .map(|o| o.period)
            .chain(self.targets.iter().filter(|t| t.subject == subject).map(|t| t.period))
            .collect()
    }

    /// The result sources with an observation for `subject`, official first (always).
    pub fn sources(&self, subject: &str) -> Vec<&'static str> {
        let present: HashSet<&str> = self
            .own
            .iter()
            .chain(self.below.iter().map(|b| &b.row))
            .filter(|o| o.subject == subject)
            .map(|o| o.result_source.as_str())
            .collect();
        RESULT_SOURCES
            .into_iter()
            .filter(|s| *s == OFFICIAL || present.contains(s))
            .collect()
    }
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

/// Where a unit's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Its children's values.
    Rollup,
    /// Its own reported value.
    Observed,
}

/// A unit's value of one indicator for one period and subject (see the module docs): the
/// official source's (its [`Figures`], through `Deref`), with every source's side by side.
#[derive(Clone, Debug)]
pub struct Rollup<'a> {
    pub target: Option<&'a TargetRow>,
    pub baseline: Option<&'a TargetRow>,
    pub official: SourceRollup,
    /// Every result source with data for the subject, official first.
    pub by_source: Vec<SourceRollup>,
}

impl std::ops::Deref for Rollup<'_> {
    type Target = Figures;

    fn deref(&self) -> &Figures {
        &self.official.figures
    }
}

/// What a unit shows for one result source, period and subject: the rollup's unit in
/// [`SourceRollup`], each child in [`Child`].
#[derive(Clone, Debug, PartialEq)]
pub struct Figures {
    /// The rollup's unit: `rolled_up` when the children have data, else `observed`. A child: what
    /// it counts as in its parent, its own value when usable, else its children's.
    pub value: Option<f64>,
    pub value_source: Option<Source>,
    /// Its own reported value.
    pub observed: Option<f64>,
    /// Its children's rollup (for a child: shown, not added when `observed` is used).
    pub rolled_up: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// `value − target`: the unit's target for the rollup's unit, the child's for a child.
    pub gap: Option<f64>,
    pub status: Option<Status>,
    pub children_with_data: usize,
    pub missing_children: usize,
    /// Best first; children without a value last.
    pub children: Vec<Child>,
}

/// One result source's rollup.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceRollup {
    /// `OFFICIAL`, `MOCK_EXAM`, `DIAGNOSTIC`.
    pub source: &'static str,
    pub figures: Figures,
}

/// One child in a rollup, with its own children.
#[derive(Clone, Debug, PartialEq)]
pub struct Child {
    /// The child territory; none when the child is an organisation.
    pub territory: Option<Uuid>,
    pub organisation: Option<Uuid>,
    pub rank: Option<u32>,
    /// Its target (direct children of the rollup's unit only).
    pub target: Option<f64>,
    pub figures: Figures,
}

impl std::ops::Deref for SourceRollup {
    type Target = Figures;

    fn deref(&self) -> &Figures {
        &self.figures
    }
}

impl std::ops::Deref for Child {
    type Target = Figures;

    fn deref(&self) -> &Figures {
        &self.figures
    }
}

/// FxHash (rustc's: rotate, xor, multiply) for the maps an index is built with, a few lookups
/// per observation: their keys are ids and numbers the database generated (no one can choose
/// them to collide), and the default SipHash is several times slower on such short keys.
#[derive(Clone, Copy, Default)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(n.into());
    }

    fn write_u32(&mut self, n: u32) {
        self.add(n.into());
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
type FxSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

/// A value as reported: the value, and its denominator and numerator as stored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reported {
    pub value: f64,
    pub denominator: Option<f64>,
    pub numerator: Option<f64>,
}

impl Reported {
    /// Its contribution to a parent under `rules` (the numerator per the module docs).
    fn counted(&self, rules: Rules) -> ChildValue {
        let numerator = match rules.aggregation {
            Aggregation::Sum => Some(self.value),
            Aggregation::WeightedMean => self
                .numerator
                .or(self.denominator.map(|d| self.value * d / rules.scale)),
            Aggregation::NotAggregatable => None,
        };
        ChildValue {
            value: Some(self.value),
            denominator: self.denominator,
            numerator,
        }
    }
}

/// A unit of one source's tree in a [`RollupIndex`]: [`ROOT`] is the rollup's unit.
pub type Node = u32;

/// The rollup's unit in every source's tree.
pub const ROOT: Node = 0;

const NO_PARENT: Node = Node::MAX;

const NO_VALUE: ChildValue = ChildValue {
    value: None,
    denominator: None,
    numerator: None,
};

const NO_AGGREGATE: Aggregate = Aggregate {
    value: None,
    denominator: None,
    numerator: None,
    used: 0,
    missing: 0,
};

/// One result source's tree under a rollup's unit and every value reported in it.
#[derive(Debug, Default)]
struct SourceIndex {
    /// The unit of each node but the root: node `n` is `units[n - 1]`.
    units: Vec<Unit>,
    /// The children of node `n`, first seen first, are `kids[offsets[n]..offsets[n + 1]]`.
    offsets: Vec<u32>,
    kids: Vec<Node>,
    /// The values reported per (subject, period): (node, value), in the order rows came.
    values: FxMap<(u32, i32), Vec<(Node, Reported)>>,
}

impl SourceIndex {
    fn nodes(&self) -> usize {
        self.units.len() + 1
    }

    fn unit(&self, node: Node) -> Option<Unit> {
        let n = node.checked_sub(1)?;
        self.units.get(n as usize).copied()
    }

    fn kids(&self, node: Node) -> &[Node] {
        let n = node as usize;
        match (self.offsets.get(n), self.offsets.get(n + 1)) {
            (Some(&from), Some(&to)) => self.kids.get(from as usize..to as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Everything rollups and series of one (indicator, unit) are computed from, compact: per result
/// source, the tree of units under the unit (every unit with an observation below it in any
/// period or subject, each child list in the order [`RollupData`] rebuilds it: first seen in
/// rows ordered by period and subject) and the values reported in it, by subject and period.
/// Built once by [`IndexBuilder`]; a rollup of any period and subject computes its source's tree
/// bottom-up once over it ([`RollupView`]), every unit once, without copying rows.
#[derive(Debug, Default)]
pub struct RollupIndex {
    subjects: Vec<String>,
    sources: [SourceIndex; RESULT_SOURCES.len()],
    facts: usize,
}

impl RollupIndex {
    /// How many observations it holds.
    pub fn facts(&self) -> usize {
        self.facts
    }

    /// What keeping it costs, in observations plus units (one root per source).
    pub fn weight(&self) -> usize {
        self.facts + self.sources.iter().map(|s| s.units.len()).sum::<usize>() + 1
    }

    fn subject(&self, subject: &str) -> Option<u32> {
        self.subjects.iter().position(|s| s == subject).map(|i| i as u32)
    }

    /// The units directly under the rollup's unit with data below them, in any source.
    pub fn children(&self) -> BTreeSet<Unit> {
        self.sources
            .iter()
            .flat_map(|s| s.kids(ROOT).iter().filter_map(|&n| s.unit(n)))
            .collect()
    }

    /// Every period with an observation (of the unit or under it) for `subject`.
    pub fn periods(&self, subject: &str) -> BTreeSet<i32> {
        let Some(k) = self.subject(subject) else {
            return BTreeSet::new();
        };
        self.sources
            .iter()
            .flat_map(|s| s.values.keys())
            .filter(|(s, _)| *s == k)
            .map(|(_, p)| *p)
            .collect()
    }

    /// The result sources (indices of [`RESULT_SOURCES`]) with an observation for `subject`,
    /// official first (always).
    pub fn sources(&self, subject: &str) -> Vec<usize> {
        self.sources_of(self.subject(subject))
    }

    fn sources_of(&self, subject: Option<u32>) -> Vec<usize> {
        (0..RESULT_SOURCES.len())
            .filter(|&i| {
                RESULT_SOURCES[i] == OFFICIAL || self.sources[i].values.keys().any(|(s, _)| Some(*s) == subject)
            })
            .collect()
    }
}

/// What rollups and series of one (indicator, unit) are computed from, as the loader gives it:
/// the unit's [`RollupIndex`] (shared, kept between requests while it is current) and the
/// targets of the unit and of its children.
#[derive(Clone, Debug, Default)]
pub struct RollupInputs {
    pub index: Arc<RollupIndex>,
    /// Targets of the unit.
    pub targets: Vec<TargetRow>,
    /// Targets of its children.
    pub child_targets: Vec<TargetRow>,
}

impl RollupInputs {
    /// Gives each key the targets of its unit and of its children, from the targets of one batch.
    pub fn attach_targets(map: &mut HashMap<RollupKey, RollupInputs>, targets: &[TargetRow]) {
        for (key, inputs) in map.iter_mut() {
            let children = inputs.index.children();
            split_targets(key, &children, targets, &mut inputs.targets, &mut inputs.child_targets);
        }
    }

    /// Every period with an observation or a target for `subject`, in order: what a series shows.
    pub fn periods(&self, subject: &str) -> BTreeSet<i32> {
        let mut periods = self.index.periods(subject);
        periods.extend(self.targets.iter().filter(|t| t.subject == subject).map(|t| t.period));
        periods
    }
}

/// Builds a [`RollupIndex`] from observations, one at a time, in the order the rows came.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    index: RollupIndex,
    sources: [SourceBuilder; RESULT_SOURCES.len()],
}

#[derive(Debug, Default)]
struct SourceBuilder {
    lookup: FxMap<Unit, Node>,
    /// The first parent each node was seen under (by node; unused for the root).
    parent: Vec<Node>,
    /// Edges (parent, child), first seen first.
    edges: Vec<(Node, Node)>,
    /// Edges to a node from a parent other than its first.
    more: FxSet<(Node, Node)>,
}

impl IndexBuilder {
    /// Adds one observation of `source`: `path` runs from the child of the rollup's unit down to
    /// the observed unit (empty: the rollup's unit's own). Rows of an unknown source are left
    /// out, as every rollup leaves them out.
    pub fn add(
        &mut self,
        path: impl IntoIterator<Item = Unit>,
        source: &str,
        (period, subject): (i32, &str),
        reported: Reported,
    ) {
        let Some(s) = RESULT_SOURCES.iter().position(|r| *r == source) else {
            return;
        };
        let (built, index) = (&mut self.sources[s], &mut self.index.sources[s]);
        let mut up = ROOT;
        for unit in path {
            let node = *built.lookup.entry(unit).or_insert_with(|| {
                index.units.push(unit);
                index.units.len() as Node
            });
            if built.parent.len() <= node as usize {
                built.parent.resize(node as usize + 1, NO_PARENT);
            }
            let first = &mut built.parent[node as usize];
            let new = if *first == NO_PARENT {
                *first = up;
                true
            } else {
                *first != up && built.more.insert((up, node))
            };
            if new {
                built.edges.push((up, node));
            }
            up = node;
        }
        let k = match self.index.subjects.iter().position(|x| x == subject) {
            Some(k) => k as u32,
            None => {
                self.index.subjects.push(subject.to_string());
                self.index.subjects.len() as u32 - 1
            }
        };
        index.values.entry((k, period)).or_default().push((up, reported));
        self.index.facts += 1;
    }

    pub fn finish(mut self) -> RollupIndex {
        for (built, index) in self.sources.iter().zip(self.index.sources.iter_mut()) {
            let nodes = index.nodes();
            let mut offsets = vec![0u32; nodes + 1];
            for &(parent, _) in &built.edges {
                offsets[parent as usize + 1] += 1;
            }
            for n in 0..nodes {
                offsets[n + 1] += offsets[n];
            }
            let mut next = offsets.clone();
            let mut kids = vec![ROOT; built.edges.len()];
            for &(parent, child) in &built.edges {
                kids[next[parent as usize] as usize] = child;
                next[parent as usize] += 1;
            }
            index.offsets = offsets;
            index.kids = kids;
            index.values.shrink_to_fit();
        }
        self.index
    }
}

impl RollupData {
    /// The index of these rows (their own first, then those below, each in order).
    pub fn index(&self) -> RollupIndex {
        let mut builder = IndexBuilder::default();
        let rows = self
            .own
            .iter()
            .map(|o| (&[][..], o))
            .chain(self.below.iter().map(|b| (&b.path[..], &b.row)));
        for (path, o) in rows {
            builder.add(
                path.iter().copied(),
                &o.result_source,
                (o.period, &o.subject),
                Reported {
                    value: o.value,
                    denominator: o.denominator,
                    numerator: o.numerator,
                },
            );
        }
        builder.finish()
    }
}

/// Sorts the rows of one batch (of every key's indicator, under or of every key's unit, in any
/// order) into each key's index, as [`RollupData::assemble`] sorts them into each key's data;
/// each index sees them by period and subject (bytewise, as the embedded database collates),
/// the order the data's rows come in.
pub fn assemble_indexes(keys: &[RollupKey], rows: &[RollupRow]) -> HashMap<RollupKey, RollupIndex> {
    let mut builders: FxMap<RollupKey, IndexBuilder> = keys.iter().map(|k| (*k, IndexBuilder::default())).collect();
    let mut above = Vec::new();
    for o in by_period_and_subject(rows) {
        let unit = match o.is_organisation {
            true => Unit::Organisation(o.unit_id),
            false => Unit::Territory(o.unit_id),
        };
        let at = (o.period, o.subject.as_str());
        let reported = Reported {
            value: o.value,
            denominator: o.denominator,
            numerator: o.numerator,
        };
        if let Some(builder) = builders.get_mut(&(o.indicator_id, unit)) {
            builder.add([], &o.result_source, at, reported);
        }
        // `units_above`, into one buffer for all rows.
        above.clear();
        above.extend(o.organisation_path.iter().map(|&id| Unit::Organisation(id)));
        match &o.territory_path {
            Some(territories) => above.extend(territories.iter().map(|&id| Unit::Territory(id))),
            None => above.extend(o.parent_territory_id.map(Unit::Territory)),
        }
        for (depth, up) in above.iter().enumerate() {
            if let Some(builder) = builders.get_mut(&(o.indicator_id, *up)) {
                let path = above[..depth].iter().rev().copied().chain([unit]);
                builder.add(path, &o.result_source, at, reported);
            }
        }
    }
    builders.into_iter().map(|(k, b)| (k, b.finish())).collect()
}

/// `rows` by period and subject, in their order among equals: a stable sort of the few distinct
/// (period, subject) pairs rather than of the rows.
fn by_period_and_subject(rows: &[RollupRow]) -> impl Iterator<Item = &RollupRow> {
    let mut pairs: FxMap<(i32, &str), u32> = FxMap::default();
    let of: Vec<u32> = rows
        .iter()
        .map(|o| {
            let next = pairs.len() as u32;
            *pairs.entry((o.period, o.subject.as_str())).or_insert(next)
        })
        .collect();
    let mut sorted: Vec<((i32, &str), u32)> = pairs.into_iter().collect();
    sorted.sort_unstable();
    let mut rank = vec![0u32; sorted.len()];
    for (position, (_, pair)) in sorted.iter().enumerate() {
        rank[*pair as usize] = position as u32;
    }
    let mut order: Vec<u32> = (0..rows.len() as u32).collect();
    order.sort_by_key(|&i| rank[of[i as usize] as usize]);
    order.into_iter().map(move |i| &rows[i as usize])
}

/// What a unit shows for one result source, period and subject, without its children (the
/// fields of [`Figures`] but `children`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub value: Option<f64>,
    pub value_source: Option<Source>,
    pub observed: Option<f64>,
    pub rolled_up: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub gap: Option<f64>,
    pub status: Option<Status>,
    pub children_with_data: usize,
    pub missing_children: usize,
}

impl Summary {
    fn with_children(self, children: Vec<Child>) -> Figures {
        let Summary {
            value,
            value_source,
            observed,
            rolled_up,
            numerator,
            denominator,
            gap,
            status,
            children_with_data,
            missing_children,
        } = self;
        Figures {
            value,
            value_source,
            observed,
            rolled_up,
            numerator,
            denominator,
            gap,
            status,
            children_with_data,
            missing_children,
            children,
        }
    }
}

/// One child of a level: its node, unit, rank among its siblings and (a child of the rollup's
/// unit) its target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ranked {
    pub node: Node,
    pub unit: Unit,
    pub rank: Option<u32>,
    pub target: Option<f64>,
}

/// One source's tree computed for a period and subject: every unit's figures, bottom-up.
#[derive(Debug)]
struct Computed {
    /// Each node's own reported value.
    own: Vec<Option<ChildValue>>,
    /// Each node's children's aggregate.
    below: Vec<Aggregate>,
    /// What each node counts as in its parent: its own value when usable, else its children's.
    counts_as: Vec<(ChildValue, Option<Source>)>,
}

/// A rollup of one period and subject over a [`RollupIndex`], read level by level: a source's
/// tree is computed (bottom-up, every unit once) the first time it is read, and a level (a unit's
/// children, ranked) only when asked for. [`compute_rollup`] reads all of it; the GraphQL layer
/// reads what the query selects.
#[derive(Debug)]
pub struct RollupView {
    index: Arc<RollupIndex>,
    rules: Rules,
    period: i32,
    subject: Option<u32>,
    /// The rollup's unit's target.
    target: Option<f64>,
    /// Its children's targets (the latest set for the period and subject).
    child_targets: HashMap<Unit, f64>,
    trees: [OnceLock<Computed>; RESULT_SOURCES.len()],
}

impl RollupView {
    /// `target`: the unit's; `child_targets`: its children's targets and baselines, any period.
    pub fn new<'t>(
        rules: Rules,
        index: Arc<RollupIndex>,
        target: Option<f64>,
        child_targets: impl IntoIterator<Item = &'t TargetRow>,
        period: i32,
        subject: &str,
    ) -> RollupView {
        let mut latest: HashMap<Unit, &TargetRow> = HashMap::new();
        for t in child_targets {
            let Some(unit) = Unit::of(t.territory_id, t.organisation_id) else {
                continue;
            };
            if t.kind == "TARGET" && t.period == period && t.subject == subject {
                // As `pick`: the latest updated; of equals, the last.
                let slot = latest.entry(unit).or_insert(t);
                if t.updated_at >= slot.updated_at {
                    *slot = t;
                }
            }
        }
        RollupView {
            subject: index.subject(subject),
            index,
            rules,
            period,
            target,
            child_targets: latest.into_iter().map(|(u, t)| (u, t.value)).collect(),
            trees: Default::default(),
        }
    }

    /// The result sources with data for the subject, official first (indices of
    /// [`RESULT_SOURCES`]).
    pub fn sources(&self) -> Vec<usize> {
        self.index.sources_of(self.subject)
    }

    fn tree(&self, source: usize) -> &Computed {
        self.trees[source].get_or_init(|| self.compute(source))
    }

    fn usable(&self, v: &ChildValue) -> bool {
        match self.rules.aggregation {
            Aggregation::WeightedMean => v.value.is_some() && v.denominator.is_some_and(|d| d > 0.0),
            Aggregation::Sum | Aggregation::NotAggregatable => v.value.is_some(),
        }
    }

    /// Every unit's figures of `source`'s tree, children before parents (iteratively: the depth
    /// of the tree is the data's). A unit found on its own way down (paths recorded before a
    /// move) counts as having no value there.
    fn compute(&self, source: usize) -> Computed {
        let index = &self.index.sources[source];
        let nodes = index.nodes();
        let mut own: Vec<Option<ChildValue>> = vec![None; nodes];
        if let Some(values) = self.subject.and_then(|k| index.values.get(&(k, self.period))) {
            for (node, reported) in values {
                let slot = &mut own[*node as usize];
                if slot.is_none() {
                    *slot = Some(reported.counted(self.rules));
                }
            }
        }
        let mut below = vec![NO_AGGREGATE; nodes];
        let mut counts_as = vec![(NO_VALUE, None); nodes];
        // 0: not reached, 1: its children are being computed, 2: done.
        let mut state = vec![0u8; nodes];
        let mut stack = vec![ROOT];
        let mut values = Vec::new();
        while let Some(&node) = stack.last() {
            let n = node as usize;
            match state[n] {
                0 => {
                    state[n] = 1;
                    stack.extend(index.kids(node).iter().filter(|&&c| state[c as usize] == 0));
                }
                1 => {
                    stack.pop();
                    values.clear();
                    values.extend(index.kids(node).iter().map(|&c| match state[c as usize] {
                        2 => counts_as[c as usize].0,
                        _ => NO_VALUE,
                    }));
                    state[n] = 2;
                    let aggregate = aggregate(self.rules.aggregation, &values);
                    counts_as[n] = match own[n] {
                        Some(v) if self.usable(&v) || aggregate.value.is_none() => (v, Some(Source::Observed)),
                        _ if aggregate.value.is_some() => (
                            ChildValue {
                                value: aggregate.value,
                                denominator: aggregate.denominator,
                                numerator: aggregate.numerator,
                            },
                            Some(Source::Rollup),
                        ),
                        _ => (NO_VALUE, None),
                    };
                    below[n] = aggregate;
                }
                _ => {
                    stack.pop();
                }
            }
        }
        Computed { own, below, counts_as }
    }

    /// The rollup's unit for `source`: its children's rollup when they have data, else its own
    /// value, against its target.
    pub fn root(&self, source: usize) -> Summary {
        let tree = self.tree(source);
        let aggregate = tree.below[ROOT as usize];
        let observed = tree.own[ROOT as usize];
        let value = aggregate.value.or(observed.and_then(|o| o.value));
        let (numerator, denominator) = match aggregate.value {
            Some(_) => (aggregate.numerator, aggregate.denominator),
            None => observed.map_or((None, None), |o| (o.numerator, o.denominator)),
        };
        let direction = self.rules.direction;
        Summary {
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
            gap: value.zip(self.target).map(|(v, t)| gap(v, t)),
            status: value.zip(self.target).map(|(v, t)| status(direction, v, t)),
            children_with_data: aggregate.used,
            missing_children: aggregate.missing,
        }
    }

    /// The children of `node` in `source`'s tree, ranked, best first; children without a value
    /// last.
    pub fn level(&self, source: usize, node: Node) -> Vec<Ranked> {
        let index = &self.index.sources[source];
        let tree = self.tree(source);
        let kids = index.kids(node);
        let values: Vec<Option<f64>> = kids.iter().map(|&c| tree.counts_as[c as usize].0.value).collect();
        let mut level: Vec<Ranked> = kids
            .iter()
            .zip(ranks(self.rules.direction, &values))
            .filter_map(|(&c, rank)| {
                let unit = index.unit(c)?;
                let target = if node == ROOT {
                    self.child_targets.get(&unit).copied()
                } else {
                    None
                };
                Some(Ranked {
                    node: c,
                    unit,
                    rank,
                    target,
                })
            })
            .collect();
        level.sort_by_key(|c| (c.rank.is_none(), c.rank));
        level
    }

    /// A child of a level: what it counts as in its parent (its own value when usable, else its
    /// children's), against its target.
    pub fn child(&self, source: usize, child: &Ranked) -> Summary {
        let tree = self.tree(source);
        let n = child.node as usize;
        let (value, value_source) = tree.counts_as[n];
        let below = tree.below[n];
        let direction = self.rules.direction;
        Summary {
            value: value.value,
            value_source,
            observed: tree.own[n].and_then(|v| v.value),
            rolled_up: below.value,
            numerator: value.numerator,
            denominator: value.denominator,
            gap: value.value.zip(child.target).map(|(v, t)| gap(v, t)),
            status: value.value.zip(child.target).map(|(v, t)| status(direction, v, t)),
            children_with_data: below.used,
            missing_children: below.missing,
        }
    }

    /// `node`'s children with theirs, all the way down, as [`Child`]ren; `above`: the nodes
    /// from the root down to `node`, whose repeats are left out (so a cycle ends).
    fn children(&self, source: usize, node: Node, above: &mut Vec<Node>) -> Vec<Child> {
        above.push(node);
        let mut children = Vec::new();
        for c in self.level(source, node) {
            if above.contains(&c.node) {
                continue;
            }
            let below = self.children(source, c.node, above);
            children.push(Child {
                territory: c.unit.territory(),
                organisation: c.unit.organisation(),
                rank: c.rank,
                target: c.target,
                figures: self.child(source, &c).with_children(below),
            });
        }
        above.pop();
        children
    }

    /// The whole rollup of `source`, every level.
    pub fn source_rollup(&self, source: usize) -> SourceRollup {
        SourceRollup {
            source: RESULT_SOURCES[source],
            figures: self
                .root(source)
                .with_children(self.children(source, ROOT, &mut Vec::new())),
        }
    }
}

/// The rollup of `data` for `period` and `subject` (the empty key for none), every level of it.
pub fn compute_rollup<'a>(rules: Rules, data: &'a RollupData, period: i32, subject: &str) -> Rollup<'a> {
    let target = pick(data.targets.iter(), "TARGET", period, subject);
    let view = RollupView::new(
        rules,
        Arc::new(data.index()),
        target.map(|t| t.value),
        &data.child_targets,
        period,
        subject,
    );
    let by_source: Vec<SourceRollup> = view.sources().into_iter().map(|s| view.source_rollup(s)).collect();
    let official = by_source
        .iter()
        .find(|s| s.source == OFFICIAL)
        .cloned()
        .unwrap_or_else(|| view.source_rollup(0));
    Rollup {
        target,
        baseline: baseline(&data.targets, period, subject),
        official,
        by_source,
    }
}

#[cfg(test)]
mod reference;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ValueOf;

    fn child(value: f64, denominator: f64) -> ChildValue {
        ChildValue {
            value: Some(value),
            denominator: Some(denominator),
            numerator: Some(value * denominator / 100.0),
        }
    }

    const NO_DATA: ChildValue = ChildValue {
        value: None,
        denominator: None,
        numerator: None,
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
            numerator: None,
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

    /// Chemistry of the nil indicator.
    fn of(territory_id: Option<Uuid>, organisation_id: Option<Uuid>, period: i32) -> ValueOf {
        ValueOf {
            indicator_id: Uuid::nil(),
            territory_id,
            organisation_id,
            period,
            subject: "chemistry".to_string(),
        }
    }

    const SHARE: Rules = Rules {
        direction: Direction::LowerIsBetter,
        aggregation: Aggregation::WeightedMean,
        scale: 100.0,
    };

    fn observation(
        place: (u128, Option<u128>),
        parent: u128,
        period: i32,
        value: f64,
        participants: f64,
    ) -> ObservationRow {
        ObservationRow {
            id: Uuid::new_v4(),
            of: of(Some(Uuid::from_u128(place.0)), place.1.map(Uuid::from_u128), period),
            parent_territory_id: Some(Uuid::from_u128(parent)),
            value,
            value_raw: value.to_string(),
            denominator: Some(participants),
            source: None,
            observed_on: None,
            recorded_at: chrono::Utc::now(),
            result_source: OFFICIAL.to_string(),
            numerator: None,
            organisation_path: Vec::new(),
            territory_path: None,
        }
    }

    fn target(kind: &str, territory: u128, period: i32, value: f64, minutes: i64) -> TargetRow {
        TargetRow {
            id: Uuid::new_v4(),
            of: of(Some(Uuid::from_u128(territory)), None, period),
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
        let keys = [(Uuid::nil(), Unit::Territory(Uuid::from_u128(REGION)))];
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
        let mut map = RollupData::assemble(&keys, &observations);
        RollupData::attach_targets(&mut map, &targets);
        let data = &map[&keys[0]];
        assert_eq!(
            (data.below.len(), data.targets.len(), data.child_targets.len()),
            (3, 3, 1)
        );
        assert_eq!(
            data.periods("chemistry").into_iter().collect::<Vec<_>>(),
            [2022, 2023, 2024]
        );

        let r = compute_rollup(SHARE, data, 2024, "chemistry");
        assert_eq!((r.value, r.value_source), (Some(25.0), Some(Source::Rollup)));
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

    // The tree of the tests below: region R ← municipalities M, M2 ← schools S (in M), S2 (in M2)
    // ← classes.
    const R: u128 = 1;
    const M: u128 = 2;
    const M2: u128 = 3;
    const S: u128 = 10;
    const S2: u128 = 11;

    fn t(id: u128) -> Unit {
        Unit::Territory(Uuid::from_u128(id))
    }

    fn o(id: u128) -> Unit {
        Unit::Organisation(Uuid::from_u128(id))
    }

    /// The units above `unit` as the tree above says.
    fn above(unit: Unit) -> Vec<Unit> {
        let id = match unit {
            Unit::Territory(id) | Unit::Organisation(id) => id.as_u128(),
        };
        match (unit, id) {
            (Unit::Territory(_), R) => vec![],
            (Unit::Territory(_), M | M2) => vec![t(R)],
            (Unit::Organisation(_), S) => vec![t(M), t(R)],
            (Unit::Organisation(_), S2) => vec![t(M2), t(R)],
            // Classes 100.. are in S, 200.. in S2.
            (Unit::Organisation(_), 100..200) => vec![o(S), t(M), t(R)],
            (Unit::Organisation(_), 200..300) => vec![o(S2), t(M2), t(R)],
            other => panic!("not in the test tree: {other:?}"),
        }
    }

    /// An observation of `unit` as `recordObservation` stores it: `reported` is (value,
    /// numerator, denominator).
    fn reported(unit: Unit, source: &str, period: i32, reported: (f64, Option<f64>, Option<f64>)) -> ObservationRow {
        let path = above(unit);
        let organisation_path: Vec<Uuid> = path.iter().filter_map(|u| u.organisation()).collect();
        let territory_path: Vec<Uuid> = path.iter().filter_map(|u| u.territory()).collect();
        let (value, numerator, denominator) = reported;
        ObservationRow {
            id: Uuid::new_v4(),
            of: of(
                unit.territory().or(territory_path.first().copied()),
                unit.organisation(),
                period,
            ),
            parent_territory_id: organisation_path
                .is_empty()
                .then(|| territory_path.first().copied())
                .flatten(),
            value,
            value_raw: value.to_string(),
            denominator,
            source: None,
            observed_on: None,
            recorded_at: chrono::Utc::now(),
            result_source: source.to_string(),
            numerator,
            organisation_path,
            territory_path: Some(territory_path),
        }
    }

    /// `below` of `wrote` below the minimum: a share in % with its counts.
    fn share(below: f64, wrote: f64) -> (f64, Option<f64>, Option<f64>) {
        (below / wrote * 100.0, Some(below), Some(wrote))
    }

    /// Mock-exam results of classes: (class, period, below the minimum, wrote).
    fn mock(classes: &[(u128, i32, f64, f64)]) -> Vec<ObservationRow> {
        classes
            .iter()
            .map(|&(class, period, below, wrote)| reported(o(class), "MOCK_EXAM", period, share(below, wrote)))
            .collect()
    }

    /// 11Б of S: 24 wrote, 5 below the minimum; 11А of S: 20 wrote, 3 below; S2's 11А: 10 wrote, 2.
    const CLASSES: [(u128, i32, f64, f64); 3] =
        [(101, 2025, 5.0, 24.0), (102, 2025, 3.0, 20.0), (201, 2025, 2.0, 10.0)];

    /// The data of `unit`'s rollup, kept for the test's duration (rollups borrow targets from it).
    fn data_of(unit: Unit, rows: &[ObservationRow]) -> &'static RollupData {
        let key = (Uuid::nil(), unit);
        Box::leak(Box::new(RollupData::assemble(&[key], rows).remove(&key).expect("key")))
    }

    fn near(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    /// The child territory `id` of a rollup.
    fn territory_child(rollup: &SourceRollup, id: u128) -> &Child {
        let found = rollup
            .children
            .iter()
            .find(|c| c.territory == Some(Uuid::from_u128(id)));
        found.expect("the territory is a child")
    }

    fn by_source<'r>(r: &'r Rollup, source: &str) -> &'r SourceRollup {
        r.by_source.iter().find(|s| s.source == source).expect("source")
    }

    #[test]
    fn class_results_roll_up_class_school_municipality_region_by_weighted_sums() {
        const MOCK: &str = "MOCK_EXAM";
        let rows = mock(&CLASSES);
        // Neither the schools nor the municipalities report: the paths alone place the classes.
        let r = compute_rollup(SHARE, data_of(t(R), &rows), 2025, "chemistry");
        let mock = by_source(&r, MOCK);
        assert!(
            near(mock.value, (5.0 + 3.0 + 2.0) / (24.0 + 20.0 + 10.0) * 100.0),
            "{mock:?}"
        );
        assert!(near(mock.numerator, 10.0) && near(mock.denominator, 54.0), "{mock:?}");
        assert_eq!(mock.value_source, Some(Source::Rollup));
        assert_eq!((mock.children_with_data, mock.missing_children), (2, 0));
        // Best first, lower is better: M (8 of 44, 18.18 %) before M2 (2 of 10, 20 %).
        let m2 = &mock.children[1];
        assert_eq!(
            (m2.territory, m2.rank),
            (Some(Uuid::from_u128(M2)), Some(2)),
            "{mock:?}"
        );
        let m = &mock.children[0];
        assert_eq!((m.territory, m.rank), (Some(Uuid::from_u128(M)), Some(1)));
        assert!(near(m.value, 8.0 / 44.0 * 100.0) && near(m.numerator, 8.0) && near(m.denominator, 44.0));
        assert_eq!((m.value_source, m.observed), (Some(Source::Rollup), None));
        let school = &m.children[0];
        assert_eq!(
            (school.organisation, school.territory),
            (Some(Uuid::from_u128(S)), None)
        );
        assert!(near(school.value, 8.0 / 44.0 * 100.0), "{school:?}");
        let classes: Vec<_> = school.children.iter().map(|c| (c.organisation, c.rank)).collect();
        assert_eq!(
            classes,
            [
                (Some(Uuid::from_u128(102)), Some(1)),
                (Some(Uuid::from_u128(101)), Some(2))
            ]
        );
        // The same data seen from the municipality and from the school.
        let r = compute_rollup(SHARE, data_of(t(M), &rows), 2025, "chemistry");
        assert!(near(by_source(&r, MOCK).value, 8.0 / 44.0 * 100.0));
        let r = compute_rollup(SHARE, data_of(o(S), &rows), 2025, "chemistry");
        assert_eq!(by_source(&r, MOCK).children.len(), 2);
        // The official figure is empty, not the mock exam's.
        assert_eq!((r.value, r.children.len()), (None, 0));
    }

    #[test]
    fn a_units_own_total_wins_over_its_childrens_and_is_never_added_to_them() {
        const MOCK: &str = "MOCK_EXAM";
        let classes = mock(&CLASSES);
        // Shape 1: school S also reports its own total, 7 of 50 (it counts pupils of a class that
        // reported nothing). S counts as 7/50, not 8/44 and not 15/94.
        let mut rows = classes.clone();
        rows.push(reported(o(S), MOCK, 2025, share(7.0, 50.0)));
        let r = compute_rollup(SHARE, data_of(t(R), &rows), 2025, "chemistry");
        let mock = by_source(&r, MOCK);
        assert!(
            near(mock.numerator, 7.0 + 2.0) && near(mock.denominator, 50.0 + 10.0),
            "{mock:?}"
        );
        assert!(near(mock.value, 9.0 / 60.0 * 100.0));
        let m = territory_child(mock, M);
        let school = &m.children[0];
        assert_eq!(school.value_source, Some(Source::Observed));
        assert!(near(school.value, 14.0) && near(school.observed, 14.0), "{school:?}");
        assert!(
            near(school.rolled_up, 8.0 / 44.0 * 100.0),
            "its classes are shown next to it"
        );
        assert_eq!(school.children.len(), 2);

        // Shape 2: the school reports nothing of its own: its classes stand for it.
        let r = compute_rollup(SHARE, data_of(t(R), &classes), 2025, "chemistry");
        let mock = by_source(&r, MOCK);
        assert!(near(mock.numerator, 10.0) && near(mock.denominator, 54.0), "{mock:?}");

        // A total without a denominator cannot be weighted: the classes stand for the school.
        let mut rows = classes.clone();
        rows.push(reported(o(S), MOCK, 2025, (14.0, None, None)));
        let r = compute_rollup(SHARE, data_of(t(M), &rows), 2025, "chemistry");
        let school = &by_source(&r, MOCK).children[0];
        assert_eq!(school.value_source, Some(Source::Rollup));
        assert!(
            near(school.value, 8.0 / 44.0 * 100.0) && near(school.observed, 14.0),
            "{school:?}"
        );

        // The rollup asked for is its children's; the unit's own value stands beside it.
        let mut rows = classes.clone();
        rows.push(reported(t(R), MOCK, 2025, share(1.0, 100.0)));
        let r = compute_rollup(SHARE, data_of(t(R), &rows), 2025, "chemistry");
        let mock = by_source(&r, MOCK);
        assert!(
            near(mock.value, 10.0 / 54.0 * 100.0) && near(mock.observed, 1.0),
            "{mock:?}"
        );
    }

    #[test]
    fn sources_are_never_folded_together() {
        let rows = [
            // Official ЕГЭ results as the municipalities report them.
            reported(t(M), OFFICIAL, 2025, share(30.0, 100.0)),
            reported(t(M2), OFFICIAL, 2025, share(10.0, 100.0)),
            // A mock exam in one class of S, a diagnostic test in one class of S2.
            reported(o(101), "MOCK_EXAM", 2025, share(5.0, 24.0)),
            reported(o(201), "DIAGNOSTIC", 2025, share(2.0, 10.0)),
        ];
        let r = compute_rollup(SHARE, data_of(t(R), &rows), 2025, "chemistry");
        assert!(
            near(r.value, 20.0) && near(r.denominator, 200.0),
            "official only: {r:?}"
        );
        let sources: Vec<_> = r.by_source.iter().map(|s| s.source).collect();
        assert_eq!(sources, ["OFFICIAL", "MOCK_EXAM", "DIAGNOSTIC"]);
        assert_eq!(by_source(&r, OFFICIAL).value, r.value);
        let mock = by_source(&r, "MOCK_EXAM");
        assert!(
            near(mock.value, 5.0 / 24.0 * 100.0) && near(mock.denominator, 24.0),
            "{mock:?}"
        );
        // Each source has its own tree: M2 reported no mock exam, so it is no child of that one.
        assert_eq!((mock.children.len(), mock.missing_children), (1, 0));
        let diagnostic = by_source(&r, "DIAGNOSTIC");
        assert!(near(diagnostic.value, 20.0) && near(diagnostic.numerator, 2.0));
        // In the official tree the municipalities count with their own values; no class is there.
        assert!(
            r.children
                .iter()
                .all(|c| c.children.is_empty() && c.value_source == Some(Source::Observed))
        );
        // Without any row of a source, only the official one is listed.
        let r = compute_rollup(SHARE, data_of(t(R), &rows[..2]), 2025, "chemistry");
        assert_eq!(r.by_source.len(), 1);
    }

    #[test]
    fn missing_units_are_counted_at_every_level_and_never_read_as_zero() {
        const MOCK: &str = "MOCK_EXAM";
        // 11А wrote the mock exam in 2024 only: a missing class in 2025. S2's only class reported
        // that year only too: S2, and so M2, are missing.
        let rows = mock(&[(101, 2025, 5.0, 24.0), (102, 2024, 3.0, 20.0), (201, 2024, 2.0, 10.0)]);
        let r = compute_rollup(SHARE, data_of(t(R), &rows), 2025, "chemistry");
        let mock = by_source(&r, MOCK);
        assert!(near(mock.value, 5.0 / 24.0 * 100.0), "not (5+0)/(24+20): {mock:?}");
        assert_eq!((mock.children_with_data, mock.missing_children), (1, 1));
        let m = territory_child(mock, M);
        let school = &m.children[0];
        assert_eq!((school.children_with_data, school.missing_children), (1, 1));
        let m2 = territory_child(mock, M2);
        assert_eq!((m2.value, m2.rank, m2.missing_children), (None, None, 1));
        assert_eq!(
            mock.children.last().map(|c| c.territory),
            Some(m2.territory),
            "unranked last"
        );
    }

    #[test]
    fn pupils_with_an_individual_route_are_summed_per_class() {
        let count = Rules {
            direction: Direction::HigherIsBetter,
            aggregation: Aggregation::Sum,
            scale: 1.0,
        };
        // 3 of 25 pupils of 11Б, 2 of 28 of 11А, 4 of 30 in S2's class.
        let rows = [
            reported(o(101), OFFICIAL, 2025, (3.0, None, Some(25.0))),
            reported(o(102), OFFICIAL, 2025, (2.0, None, Some(28.0))),
            reported(o(201), OFFICIAL, 2025, (4.0, None, Some(30.0))),
        ];
        let r = compute_rollup(count, data_of(t(R), &rows), 2025, "chemistry");
        assert!(
            near(r.value, 9.0) && near(r.numerator, 9.0) && near(r.denominator, 83.0),
            "{r:?}"
        );
        let r = compute_rollup(count, data_of(o(S), &rows), 2025, "chemistry");
        assert!(near(r.value, 5.0) && near(r.denominator, 53.0), "{r:?}");
    }

    #[test]
    fn values_recorded_without_a_path_roll_up_one_level() {
        let mut school = reported(o(S), OFFICIAL, 2025, share(3.0, 30.0));
        school.territory_path = None;
        let mut municipality = reported(t(M), OFFICIAL, 2025, share(20.0, 100.0));
        municipality.territory_path = None;
        let rows = [school, municipality];
        let region = data_of(t(R), &rows);
        assert_eq!(region.below.len(), 1, "only M, through its parent_territory_id");
        assert_eq!(region.below[0].path, [t(M)]);
        let m = data_of(t(M), &rows);
        assert_eq!((m.own.len(), m.below.len()), (1, 1));
        assert!(near(compute_rollup(SHARE, m, 2025, "chemistry").value, 10.0));
    }
}

/// The index against the way rollups were computed before it ([`reference`]: the tree rebuilt
/// from every row, recursively), over generated trees.
#[cfg(test)]
mod same_as_before {
    use super::*;
    use crate::store::ValueOf;

    /// xorshift64*: the same cases on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn chance(&mut self, percent: usize) -> bool {
            self.below(100) < percent
        }

        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len())]
        }
    }

    const COUNTRY: u128 = 1;
    const PERIODS: [i32; 3] = [2023, 2024, 2025];
    const SUBJECTS: [&str; 3] = ["chemistry", "russian", ""];

    /// A unit and the units above it, nearest first, as a recorded path says.
    #[derive(Clone)]
    struct Placed {
        unit: Unit,
        above: Vec<Unit>,
    }

    /// The country ← regions ← municipalities ← schools ← classes; some schools are also found
    /// under a second municipality (values recorded before they moved).
    fn tree(rng: &mut Rng) -> Vec<Placed> {
        let t = |n: u128| Unit::Territory(Uuid::from_u128(n));
        let o = |n: u128| Unit::Organisation(Uuid::from_u128(n));
        let mut placed = vec![Placed {
            unit: t(COUNTRY),
            above: vec![],
        }];
        let mut next = 100;
        let mut id = || {
            next += 1;
            next
        };
        let mut municipalities = Vec::new();
        for _ in 0..2 + rng.below(2) {
            let region = t(id());
            placed.push(Placed {
                unit: region,
                above: vec![t(COUNTRY)],
            });
            for _ in 0..1 + rng.below(3) {
                let m = t(id());
                municipalities.push((m, region));
                placed.push(Placed {
                    unit: m,
                    above: vec![region, t(COUNTRY)],
                });
            }
        }
        for &(m, region) in &municipalities.clone() {
            for _ in 0..rng.below(4) {
                let school = o(id());
                let (m, region) = if rng.chance(10) {
                    *rng.pick(&municipalities)
                } else {
                    (m, region)
                };
                placed.push(Placed {
                    unit: school,
                    above: vec![m, region, t(COUNTRY)],
                });
                if rng.chance(15) {
                    let (m2, r2) = *rng.pick(&municipalities);
                    placed.push(Placed {
                        unit: school,
                        above: vec![m2, r2, t(COUNTRY)],
                    });
                }
                for _ in 0..rng.below(4) {
                    placed.push(Placed {
                        unit: o(id()),
                        above: vec![school, m, region, t(COUNTRY)],
                    });
                }
            }
        }
        placed
    }

    /// An observation of `p` as stored: its path recorded, or (`pathless`) only the parent
    /// territory, as bulk loads and values recorded before classes did.
    fn row(rng: &mut Rng, p: &Placed, pathless: bool) -> ObservationRow {
        let organisation_path: Vec<Uuid> = p.above.iter().filter_map(|u| u.organisation()).collect();
        let territory_path: Vec<Uuid> = p.above.iter().filter_map(|u| u.territory()).collect();
        let denominator = rng.chance(85).then(|| 1.0 + rng.below(400) as f64);
        let numerator = denominator
            .filter(|_| rng.chance(40))
            .map(|d| (rng.below(d as usize + 1)) as f64);
        let value = rng.below(1000) as f64 / 10.0;
        let period = *rng.pick(&PERIODS);
        let subject = rng.pick(&SUBJECTS).to_string();
        ObservationRow {
            id: Uuid::from_u128(rng.next() as u128),
            of: ValueOf {
                indicator_id: Uuid::nil(),
                territory_id: p.unit.territory().or(territory_path.first().copied()),
                organisation_id: p.unit.organisation(),
                period,
                subject,
            },
            parent_territory_id: organisation_path
                .is_empty()
                .then(|| territory_path.first().copied())
                .flatten(),
            value,
            value_raw: value.to_string(),
            denominator,
            source: None,
            observed_on: None,
            recorded_at: chrono::DateTime::UNIX_EPOCH,
            result_source: rng.pick(&[OFFICIAL, OFFICIAL, "MOCK_EXAM", "DIAGNOSTIC"]).to_string(),
            numerator,
            organisation_path,
            territory_path: (!pathless).then_some(territory_path),
        }
    }

    /// Targets and baselines of `units`, some set at the same time (the last of equals wins).
    fn targets(rng: &mut Rng, units: &[Unit]) -> Vec<TargetRow> {
        let mut rows = Vec::new();
        for &unit in units {
            for _ in 0..rng.below(4) {
                let value = rng.below(600) as f64 / 10.0;
                rows.push(TargetRow {
                    id: Uuid::from_u128(rng.next() as u128),
                    of: ValueOf {
                        indicator_id: Uuid::nil(),
                        territory_id: unit.territory(),
                        organisation_id: unit.organisation(),
                        period: *rng.pick(&PERIODS),
                        subject: rng.pick(&SUBJECTS).to_string(),
                    },
                    kind: rng.pick(&["TARGET", "TARGET", "BASELINE"]).to_string(),
                    comparator: "LE".to_string(),
                    value,
                    value_raw: value.to_string(),
                    plan_id: None,
                    measure_id: None,
                    source_line: None,
                    position: None,
                    updated_at: chrono::DateTime::UNIX_EPOCH + chrono::Duration::minutes(rng.below(3) as i64),
                });
            }
        }
        rows
    }

    const RULES: [Rules; 4] = [
        Rules {
            direction: Direction::LowerIsBetter,
            aggregation: Aggregation::WeightedMean,
            scale: 100.0,
        },
        Rules {
            direction: Direction::HigherIsBetter,
            aggregation: Aggregation::WeightedMean,
            scale: 1.0,
        },
        Rules {
            direction: Direction::HigherIsBetter,
            aggregation: Aggregation::Sum,
            scale: 1.0,
        },
        Rules {
            direction: Direction::LowerIsBetter,
            aggregation: Aggregation::NotAggregatable,
            scale: 100.0,
        },
    ];

    #[test]
    fn every_rollup_of_every_unit_is_what_it_was() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut compared, mut children_seen, mut missing_seen) = (0, 0, 0);
        for case in 0..15 {
            let placed = tree(&mut rng);
            let mut rows: Vec<ObservationRow> = (0..20 + rng.below(120))
                .map(|_| {
                    let p = rng.pick(&placed).clone();
                    let pathless = rng.chance(8);
                    row(&mut rng, &p, pathless)
                })
                .collect();
            // The loader's statement gives them in no order; the data's, by period and subject.
            let compact: Vec<RollupRow> = rows.iter().map(RollupRow::from).collect();
            rows.sort_by(|a, b| (a.period, &a.subject).cmp(&(b.period, &b.subject)));
            let mut keys: Vec<RollupKey> = placed.iter().map(|p| (Uuid::nil(), p.unit)).collect();
            keys.sort();
            keys.dedup();
            let all_units: Vec<Unit> = keys.iter().map(|k| k.1).collect();
            let targets = targets(&mut rng, &all_units);
            let mut data = RollupData::assemble(&keys, &rows);
            RollupData::attach_targets(&mut data, &targets);
            // The loader's way: only the columns rollups read, every key of the batch at once.
            let indexes: HashMap<RollupKey, Arc<RollupIndex>> = assemble_indexes(&keys, &compact)
                .into_iter()
                .map(|(k, i)| (k, Arc::new(i)))
                .collect();
            for key in &keys {
                let data = &data[key];
                let index = indexes[key].clone();
                assert_eq!(index.children(), data.children(), "case {case}, {key:?}");
                for subject in SUBJECTS.iter().chain(&["physics"]) {
                    let inputs = RollupInputs {
                        index: index.clone(),
                        targets: data.targets.clone(),
                        child_targets: data.child_targets.clone(),
                    };
                    assert_eq!(inputs.periods(subject), data.periods(subject), "case {case}, {key:?}");
                    let sources: Vec<&str> = index.sources(subject).into_iter().map(|s| RESULT_SOURCES[s]).collect();
                    assert_eq!(sources, data.sources(subject), "case {case}, {key:?}");
                    for rules in RULES {
                        for period in PERIODS.iter().chain(&[2030]) {
                            let before = reference::reference_rollup(rules, data, *period, subject);
                            let now = compute_rollup(rules, data, *period, subject);
                            let what = format!("case {case}, {key:?}, {period} {subject:?}, {rules:?}");
                            assert_eq!(now.official, before.official, "{what}");
                            assert_eq!(now.by_source, before.by_source, "{what}");
                            assert_eq!(now.target.map(|t| t.id), before.target.map(|t| t.id), "{what}");
                            assert_eq!(now.baseline.map(|t| t.id), before.baseline.map(|t| t.id), "{what}");
                            // The loader's index gives the same, every source and level.
                            let view = RollupView::new(
                                rules,
                                index.clone(),
                                now.target.map(|t| t.value),
                                &data.child_targets,
                                *period,
                                subject,
                            );
                            let loaded: Vec<SourceRollup> =
                                view.sources().into_iter().map(|s| view.source_rollup(s)).collect();
                            assert_eq!(loaded, before.by_source, "{what}");
                            compared += 1;
                            children_seen += before.children.len();
                            missing_seen += before.by_source.iter().map(|s| s.missing_children).sum::<usize>();
                        }
                    }
                }
            }
        }
        // The cases reach what they are about.
        assert!(compared > 10_000, "{compared} rollups compared");
        assert!(
            children_seen > 5_000 && missing_seen > 5_000,
            "{children_seen} children, {missing_seen} missing"
        );
    }
}
