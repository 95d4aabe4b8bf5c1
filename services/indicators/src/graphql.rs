//! GraphQL types of the indicators subgraph.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::{ServiceError, ServiceResult};

use roadmap_common::auth::{self, Role};

use crate::events::{self, StatusChange};
use crate::loaders::{Loaders, RollupData};
use crate::people_client::PeopleClient;
use crate::rollup;
use crate::store::{self, IndicatorRow, NewIndicator, NewObservation, NewTarget, ObservationRow, TargetRow};

macro_rules! db_enum {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_db(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
            pub fn from_db(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

/// Which way is better.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum IndicatorDirection {
    /// E.g. the share of students below the minimum score.
    LowerIsBetter,
    HigherIsBetter,
}

db_enum!(IndicatorDirection {
    LowerIsBetter => "LOWER_IS_BETTER",
    HigherIsBetter => "HIGHER_IS_BETTER",
});

impl From<IndicatorDirection> for rollup::Direction {
    fn from(d: IndicatorDirection) -> Self {
        match d {
            IndicatorDirection::LowerIsBetter => rollup::Direction::LowerIsBetter,
            IndicatorDirection::HigherIsBetter => rollup::Direction::HigherIsBetter,
        }
    }
}

/// How children's values make a parent's.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum IndicatorAggregation {
    /// Mean weighted by each child's denominator (e.g. number of participants).
    WeightedMean,
    Sum,
    /// Qualitative or otherwise not additive: never summed.
    NotAggregatable,
}

db_enum!(IndicatorAggregation {
    WeightedMean => "WEIGHTED_MEAN",
    Sum => "SUM",
    NotAggregatable => "NOT_AGGREGATABLE",
});

impl From<IndicatorAggregation> for rollup::Aggregation {
    fn from(a: IndicatorAggregation) -> Self {
        match a {
            IndicatorAggregation::WeightedMean => rollup::Aggregation::WeightedMean,
            IndicatorAggregation::Sum => rollup::Aggregation::Sum,
            IndicatorAggregation::NotAggregatable => rollup::Aggregation::NotAggregatable,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum TargetKind {
    /// The value the plan starts from.
    Baseline,
    /// The value the plan aims at.
    Target,
}

db_enum!(TargetKind {
    Baseline => "BASELINE",
    Target => "TARGET",
});

/// Direction-aware status of a value against its target; the rule is in `rollup`'s docs:
/// met → ON_TRACK, missed by at most 10 % of the target → AT_RISK, else OFF_TRACK.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum TrackStatus {
    OnTrack,
    AtRisk,
    OffTrack,
}

impl From<rollup::Status> for TrackStatus {
    fn from(s: rollup::Status) -> Self {
        match s {
            rollup::Status::OnTrack => TrackStatus::OnTrack,
            rollup::Status::AtRisk => TrackStatus::AtRisk,
            rollup::Status::OffTrack => TrackStatus::OffTrack,
        }
    }
}

pub fn parse_id(field: &str, id: &ID) -> ServiceResult<Uuid> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| ServiceError::invalid(field, format!("`{}` is not a valid id", id.as_str())))
}

fn id_of(id: Uuid) -> ID {
    ID(id.to_string())
}

/// Normalises a decimal as documents write it ("32,79", "3", "-0,5") to "32.79"; `None` when it
/// is not one.
pub fn decimal_text(raw: &str) -> Option<String> {
    let t = raw.trim().replace(',', ".");
    let digits = t.strip_prefix('-').unwrap_or(&t);
    let mut parts = digits.split('.');
    let whole = parts.next()?;
    let frac = parts.next();
    if parts.next().is_some()
        || whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some(t)
}

/// The stable key of a subject: `chemistry`, `math_basic` ... for the subjects the parser knows
/// (in any Russian case form or as a key), else the text in lower case. Empty for none.
pub fn subject_key(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        return String::new();
    }
    const KEYS: [&str; 7] = [
        "russian",
        "math",
        "math_basic",
        "math_profile",
        "physics",
        "chemistry",
        "biology",
    ];
    let lower = t.to_lowercase();
    if KEYS.contains(&lower.as_str()) {
        return lower;
    }
    // serde names of roadmap_import::Subject ("MathBasic").
    let snake: String = t
        .chars()
        .enumerate()
        .flat_map(|(i, c)| {
            let sep = (i > 0 && c.is_ascii_uppercase()).then_some('_');
            sep.into_iter().chain(c.to_lowercase())
        })
        .collect();
    if KEYS.contains(&snake.as_str()) {
        return snake;
    }
    use roadmap_import::Subject;
    match roadmap_import::indicators::subject_key(t) {
        Subject::Russian => "russian",
        Subject::Math => "math",
        Subject::MathBasic => "math_basic",
        Subject::MathProfile => "math_profile",
        Subject::Physics => "physics",
        Subject::Chemistry => "chemistry",
        Subject::Biology => "biology",
        Subject::Other => return lower.split_whitespace().collect::<Vec<_>>().join(" "),
    }
    .to_string()
}

fn opt_subject(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// An organisation of the people subgraph, referenced by id.
#[derive(SimpleObject)]
#[graphql(unresolvable)]
pub struct Organisation {
    pub id: ID,
}

/// A measurable quantity plans set targets for (e.g. share of graduates below the minimum score).
pub struct Indicator(pub IndicatorRow);

impl Indicator {
    pub fn direction(&self) -> IndicatorDirection {
        IndicatorDirection::from_db(&self.0.direction).unwrap_or(IndicatorDirection::HigherIsBetter)
    }

    pub fn aggregation(&self) -> IndicatorAggregation {
        IndicatorAggregation::from_db(&self.0.aggregation).unwrap_or(IndicatorAggregation::NotAggregatable)
    }
}

#[Object]
impl Indicator {
    async fn id(&self) -> ID {
        id_of(self.0.id)
    }

    /// Stable code, e.g. `ege_below_min`.
    async fn code(&self) -> &str {
        &self.0.code
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn unit(&self) -> &str {
        &self.0.unit
    }

    #[graphql(name = "direction")]
    async fn gql_direction(&self) -> IndicatorDirection {
        self.direction()
    }

    #[graphql(name = "aggregation")]
    async fn gql_aggregation(&self) -> IndicatorAggregation {
        self.aggregation()
    }

    /// Dimensions values are broken down by (e.g. `subject`).
    async fn dimensions(&self) -> &[String] {
        &self.0.dimensions
    }

    /// "ЕГЭ" or "ОГЭ" when the indicator is about one exam.
    async fn exam(&self) -> Option<&str> {
        self.0.exam.as_deref()
    }

    async fn grade(&self) -> Option<i32> {
        self.0.grade
    }

    /// First year values may be recorded for (inclusive).
    async fn period_from(&self) -> Option<i32> {
        self.0.period_from
    }

    async fn period_to(&self) -> Option<i32> {
        self.0.period_to
    }

    async fn min_value(&self) -> Option<f64> {
        self.0.min_value
    }

    async fn max_value(&self) -> Option<f64> {
        self.0.max_value
    }

    /// Plan measures linked to this indicator (resolved by the plans subgraph).
    async fn measures(&self, ctx: &Context<'_>) -> Result<Vec<Measure>> {
        let ids = ctx.data::<Loaders>()?.measures_by_indicator.load_one(self.0.id).await?;
        Ok(ids.unwrap_or_default().into_iter().map(|id| Measure { id }).collect())
    }

    /// Baselines and targets of this indicator, optionally for one territory and subject.
    async fn targets(&self, ctx: &Context<'_>, territory: Option<ID>, subject: Option<String>) -> Result<Vec<Target>> {
        let territory = territory.as_ref().map(|t| parse_id("territory", t)).transpose()?;
        let subject = subject.as_deref().map(subject_key);
        let rows = ctx.data::<Loaders>()?.targets_by_indicator.load_one(self.0.id).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .filter(|t| territory.is_none_or(|id| t.territory_id == Some(id)))
            .filter(|t| subject.as_ref().is_none_or(|s| &t.subject == s))
            .map(Target)
            .collect())
    }
}

async fn load_indicator(ctx: &Context<'_>, id: Uuid) -> Result<Indicator> {
    ctx.data::<Loaders>()?
        .indicator_by_id
        .load_one(id)
        .await?
        .map(Indicator)
        .ok_or_else(|| ServiceError::not_found("Indicator", id).into())
}

/// A baseline or target set by a plan (or by hand) for a territory or organisation, period and
/// subject.
pub struct Target(pub TargetRow);

#[Object(name = "IndicatorTarget")]
impl Target {
    async fn id(&self) -> ID {
        id_of(self.0.id)
    }

    async fn indicator(&self, ctx: &Context<'_>) -> Result<Indicator> {
        load_indicator(ctx, self.0.indicator_id).await
    }

    async fn territory(&self) -> Option<Territory> {
        self.0.territory_id.map(|id| Territory { id })
    }

    async fn organisation(&self) -> Option<Organisation> {
        self.0.organisation_id.map(|id| Organisation { id: id_of(id) })
    }

    /// The year the value is for.
    async fn period(&self) -> i32 {
        self.0.period
    }

    /// Subject key (`chemistry`), when the indicator is broken down by subject.
    async fn subject(&self) -> Option<&str> {
        opt_subject(&self.0.subject)
    }

    async fn kind(&self) -> TargetKind {
        TargetKind::from_db(&self.0.kind).unwrap_or(TargetKind::Target)
    }

    /// EQ, LE ("до 12 %"), GE, LT, GT.
    async fn comparator(&self) -> &str {
        &self.0.comparator
    }

    async fn value(&self) -> f64 {
        self.0.value
    }

    /// The value exactly as written ("32,79").
    async fn value_raw(&self) -> &str {
        &self.0.value_raw
    }

    /// The plan that set it (resolved by the plans subgraph).
    async fn plan(&self) -> Option<Plan> {
        self.0.plan_id.map(|id| Plan { id })
    }

    async fn measure(&self) -> Option<Measure> {
        self.0.measure_id.map(|id| Measure { id })
    }

    /// Line of the plan's source document.
    async fn source_line(&self) -> Option<i32> {
        self.0.source_line
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// An actual value of an indicator.
pub struct Observation(pub ObservationRow);

#[Object]
impl Observation {
    async fn id(&self) -> ID {
        id_of(self.0.id)
    }

    async fn indicator(&self, ctx: &Context<'_>) -> Result<Indicator> {
        load_indicator(ctx, self.0.indicator_id).await
    }

    /// The territory it is about, or the organisation's territory.
    async fn territory(&self) -> Option<Territory> {
        self.0.territory_id.map(|id| Territory { id })
    }

    async fn organisation(&self) -> Option<Organisation> {
        self.0.organisation_id.map(|id| Organisation { id: id_of(id) })
    }

    /// The territory this value rolls up into (recorded when the value was).
    async fn parent_territory(&self) -> Option<Territory> {
        self.0.parent_territory_id.map(|id| Territory { id })
    }

    async fn period(&self) -> i32 {
        self.0.period
    }

    async fn subject(&self) -> Option<&str> {
        opt_subject(&self.0.subject)
    }

    async fn value(&self) -> f64 {
        self.0.value
    }

    async fn value_raw(&self) -> &str {
        &self.0.value_raw
    }

    /// What the value is a share of (e.g. number of participants): the weight in rollups.
    async fn denominator(&self) -> Option<f64> {
        self.0.denominator
    }

    async fn source(&self) -> Option<&str> {
        self.0.source.as_deref()
    }

    async fn observed_on(&self) -> Option<NaiveDate> {
        self.0.observed_on
    }

    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

/// A territory of the people subgraph, extended with its indicator values.
pub struct Territory {
    pub id: Uuid,
}

#[Object]
impl Territory {
    async fn id(&self) -> ID {
        id_of(self.id)
    }

    /// Baselines, targets and observations of this territory, per indicator and subject;
    /// optionally only for one indicator code and/or subject.
    async fn indicators(
        &self,
        ctx: &Context<'_>,
        code: Option<String>,
        subject: Option<String>,
    ) -> Result<Vec<TerritoryIndicator>> {
        let loaders = ctx.data::<Loaders>()?;
        let only = match code {
            Some(code) => match loaders.indicator_by_code.load_one(code).await? {
                Some(row) => Some(row.id),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let subject = subject.as_deref().map(subject_key);
        let (targets, observations) = futures::try_join!(
            loaders.targets_by_territory.load_one(self.id),
            loaders.observations_by_territory.load_one(self.id)
        )?;
        let mut groups: std::collections::BTreeMap<(Uuid, String), TerritoryIndicator> = Default::default();
        let wanted =
            |indicator: Uuid, s: &str| only.is_none_or(|o| o == indicator) && subject.as_deref().is_none_or(|w| w == s);
        for t in targets.unwrap_or_default() {
            if wanted(t.indicator_id, &t.subject) {
                groups
                    .entry((t.indicator_id, t.subject.clone()))
                    .or_insert_with(|| TerritoryIndicator::new(t.indicator_id, &t.subject))
                    .targets
                    .push(t);
            }
        }
        for o in observations.unwrap_or_default() {
            if wanted(o.indicator_id, &o.subject) {
                groups
                    .entry((o.indicator_id, o.subject.clone()))
                    .or_insert_with(|| TerritoryIndicator::new(o.indicator_id, &o.subject))
                    .observations
                    .push(o);
            }
        }
        Ok(groups.into_values().collect())
    }

    /// The value of `indicator` (code) for `period` computed from this territory's children
    /// (municipalities of a region, schools of a municipality), its gap to this territory's target
    /// and its status, with the children ranked.
    async fn rollup(
        &self,
        ctx: &Context<'_>,
        indicator: String,
        period: i32,
        subject: Option<String>,
    ) -> Result<Rollup> {
        let (row, data) = rollup_inputs(ctx, &indicator, self.id).await?;
        Ok(compute_rollup(
            &row,
            &data,
            self.id,
            period,
            &subject.as_deref().map(subject_key).unwrap_or_default(),
        ))
    }

    /// The rollup for every period that has observations, baselines or targets, in order.
    async fn series(&self, ctx: &Context<'_>, indicator: String, subject: Option<String>) -> Result<Vec<Rollup>> {
        let (row, data) = rollup_inputs(ctx, &indicator, self.id).await?;
        let subject = subject.as_deref().map(subject_key).unwrap_or_default();
        let periods: BTreeSet<i32> = data
            .own
            .iter()
            .chain(&data.children)
            .filter(|o| o.subject == subject)
            .map(|o| o.period)
            .chain(data.targets.iter().filter(|t| t.subject == subject).map(|t| t.period))
            .collect();
        Ok(periods
            .into_iter()
            .map(|p| compute_rollup(&row, &data, self.id, p, &subject))
            .collect())
    }
}

async fn rollup_inputs(ctx: &Context<'_>, code: &str, territory: Uuid) -> Result<(IndicatorRow, RollupData)> {
    let loaders = ctx.data::<Loaders>()?;
    let row = loaders
        .indicator_by_code
        .load_one(code.trim().to_string())
        .await?
        .ok_or_else(|| ServiceError::invalid("indicator", format!("unknown indicator `{code}`")))?;
    let data = loaders
        .rollup_data
        .load_one((row.id, territory))
        .await?
        .unwrap_or_default();
    Ok((row, data))
}

/// The latest-updated target of `kind` for (place, period, subject) among `rows`.
fn pick<'a>(
    rows: impl Iterator<Item = &'a TargetRow>,
    kind: &str,
    period: i32,
    subject: &str,
) -> Option<&'a TargetRow> {
    rows.filter(|t| t.kind == kind && t.period == period && t.subject == subject)
        .max_by_key(|t| t.updated_at)
}

/// The baseline for `period`: the latest one not after it, else the earliest.
fn baseline<'a>(rows: &'a [TargetRow], period: i32, subject: &str) -> Option<&'a TargetRow> {
    let baselines = rows.iter().filter(|t| t.kind == "BASELINE" && t.subject == subject);
    baselines
        .clone()
        .filter(|t| t.period <= period)
        .max_by_key(|t| (t.period, t.updated_at))
        .or_else(|| baselines.min_by_key(|t| t.period))
}

fn compute_rollup(indicator: &IndicatorRow, data: &RollupData, territory: Uuid, period: i32, subject: &str) -> Rollup {
    let ind = Indicator(indicator.clone());
    let direction: rollup::Direction = ind.direction().into();
    // Every child known to report this indicator, in a stable order.
    let mut places: Vec<(Option<Uuid>, Option<Uuid>)> = Vec::new();
    let mut seen = HashSet::new();
    for o in &data.children {
        if seen.insert((o.territory_id, o.organisation_id)) {
            places.push((o.territory_id, o.organisation_id));
        }
    }
    let current: HashMap<(Option<Uuid>, Option<Uuid>), &ObservationRow> = data
        .children
        .iter()
        .filter(|o| o.period == period && o.subject == subject)
        .map(|o| ((o.territory_id, o.organisation_id), o))
        .collect();
    let values: Vec<rollup::ChildValue> = places
        .iter()
        .map(|p| rollup::ChildValue {
            value: current.get(p).map(|o| o.value),
            denominator: current.get(p).and_then(|o| o.denominator),
        })
        .collect();
    let aggregate = rollup::aggregate(ind.aggregation().into(), &values);
    let ranks = rollup::ranks(direction, &values.iter().map(|v| v.value).collect::<Vec<_>>());
    let mut children: Vec<RollupChild> = places
        .iter()
        .zip(&values)
        .zip(ranks)
        .map(|((place, v), rank)| {
            let target = pick(
                data.child_targets
                    .iter()
                    .filter(|t| (t.territory_id, t.organisation_id) == *place),
                "TARGET",
                period,
                subject,
            )
            .map(|t| t.value);
            RollupChild {
                territory: if place.1.is_none() {
                    place.0.map(|id| Territory { id })
                } else {
                    None
                },
                organisation: place.1.map(|id| Organisation { id: id_of(id) }),
                value: v.value,
                denominator: v.denominator,
                rank: rank.map(|r| r as i32),
                target,
                gap: v.value.zip(target).map(|(v, t)| rollup::gap(v, t)),
                status: v.value.zip(target).map(|(v, t)| rollup::status(direction, v, t).into()),
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
    let base = baseline(&data.targets, period, subject);
    let value = aggregate.value.or(observed);
    Rollup {
        indicator: ind,
        territory: Territory { id: territory },
        period,
        subject: opt_subject(subject).map(str::to_string),
        value,
        source: if aggregate.value.is_some() {
            Some(ValueSource::Rollup)
        } else {
            observed.map(|_| ValueSource::Observed)
        },
        rolled_up: aggregate.value,
        observed,
        denominator: aggregate.denominator,
        target: target.map(|t| t.value),
        target_raw: target.map(|t| t.value_raw.clone()),
        baseline: base.map(|t| t.value),
        baseline_period: base.map(|t| t.period),
        gap: value.zip(target).map(|(v, t)| rollup::gap(v, t.value)),
        status: value
            .zip(target)
            .map(|(v, t)| rollup::status(direction, v, t.value).into()),
        children_with_data: aggregate.used as i32,
        missing_children: aggregate.missing as i32,
        children,
    }
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum ValueSource {
    /// Computed from the children's observations.
    Rollup,
    /// The territory's own observation (no child data, or not aggregatable).
    Observed,
}

/// A territory's value of one indicator for one period and subject, computed for dashboards.
#[derive(SimpleObject)]
pub struct Rollup {
    pub indicator: Indicator,
    pub territory: Territory,
    pub period: i32,
    pub subject: Option<String>,
    /// `rolledUp` when the children have data, else `observed`.
    pub value: Option<f64>,
    pub source: Option<ValueSource>,
    /// From the children's observations (see `IndicatorAggregation`); never for qualitative
    /// indicators.
    pub rolled_up: Option<f64>,
    /// The territory's own observation.
    pub observed: Option<f64>,
    /// Sum of the used children's denominators.
    pub denominator: Option<f64>,
    pub target: Option<f64>,
    pub target_raw: Option<String>,
    pub baseline: Option<f64>,
    pub baseline_period: Option<i32>,
    /// `value − target`.
    pub gap: Option<f64>,
    pub status: Option<TrackStatus>,
    pub children_with_data: i32,
    /// Children that report this indicator but have no usable value for this period and subject.
    pub missing_children: i32,
    /// Best first (by the indicator's direction); children without a value last.
    pub children: Vec<RollupChild>,
}

#[derive(SimpleObject)]
pub struct RollupChild {
    pub territory: Option<Territory>,
    pub organisation: Option<Organisation>,
    pub value: Option<f64>,
    pub denominator: Option<f64>,
    /// 1 = best; equal values share a rank; none without a value.
    pub rank: Option<i32>,
    pub target: Option<f64>,
    pub gap: Option<f64>,
    pub status: Option<TrackStatus>,
}

/// One indicator and subject of a territory: its baselines, targets and observations.
pub struct TerritoryIndicator {
    indicator_id: Uuid,
    subject: String,
    targets: Vec<TargetRow>,
    observations: Vec<ObservationRow>,
}

impl TerritoryIndicator {
    fn new(indicator_id: Uuid, subject: &str) -> Self {
        Self {
            indicator_id,
            subject: subject.to_string(),
            targets: Vec::new(),
            observations: Vec::new(),
        }
    }
}

#[Object]
impl TerritoryIndicator {
    async fn indicator(&self, ctx: &Context<'_>) -> Result<Indicator> {
        load_indicator(ctx, self.indicator_id).await
    }

    async fn subject(&self) -> Option<&str> {
        opt_subject(&self.subject)
    }

    /// Baselines, by period.
    async fn baselines(&self) -> Vec<Target> {
        self.of_kind("BASELINE")
    }

    /// Targets, by period.
    async fn targets(&self) -> Vec<Target> {
        self.of_kind("TARGET")
    }

    /// The target for one period (the latest set, when several plans set one).
    async fn target(&self, period: i32) -> Option<Target> {
        pick(self.targets.iter(), "TARGET", period, &self.subject)
            .cloned()
            .map(Target)
    }

    /// The baseline in force for `period` (the latest not after it), or the earliest baseline.
    async fn baseline(&self, period: Option<i32>) -> Option<Target> {
        baseline(&self.targets, period.unwrap_or(i32::MAX), &self.subject)
            .cloned()
            .map(Target)
    }

    async fn observations(&self) -> Vec<Observation> {
        self.observations.iter().cloned().map(Observation).collect()
    }
}

impl TerritoryIndicator {
    fn of_kind(&self, kind: &str) -> Vec<Target> {
        let mut rows: Vec<TargetRow> = self.targets.iter().filter(|t| t.kind == kind).cloned().collect();
        rows.sort_by_key(|t| (t.period, t.updated_at));
        rows.into_iter().map(Target).collect()
    }
}

/// A plan of the plans subgraph, extended with the targets and baselines it sets.
pub struct Plan {
    pub id: Uuid,
}

#[Object]
impl Plan {
    async fn id(&self) -> ID {
        id_of(self.id)
    }

    /// Baselines and targets this plan sets, in document order.
    async fn targets(&self, ctx: &Context<'_>) -> Result<Vec<Target>> {
        let rows = ctx.data::<Loaders>()?.targets_by_plan.load_one(self.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Target).collect())
    }
}

/// A measure of the plans subgraph, extended with the indicators it serves.
pub struct Measure {
    pub id: Uuid,
}

#[Object]
impl Measure {
    async fn id(&self) -> ID {
        id_of(self.id)
    }

    /// Indicators this measure is meant to move.
    async fn contributes_to(&self, ctx: &Context<'_>) -> Result<Vec<Indicator>> {
        let rows = ctx.data::<Loaders>()?.indicators_by_measure.load_one(self.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Indicator).collect())
    }
}

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    async fn indicators(&self, ctx: &Context<'_>) -> Result<Vec<Indicator>> {
        let rows = store::list_indicators(ctx.data::<PgPool>()?).await?;
        Ok(rows.into_iter().map(Indicator).collect())
    }

    /// One indicator by id or by code.
    async fn indicator(&self, ctx: &Context<'_>, id: Option<ID>, code: Option<String>) -> Result<Option<Indicator>> {
        let loaders = ctx.data::<Loaders>()?;
        match (id, code) {
            (Some(id), None) => {
                let id = parse_id("id", &id)?;
                Ok(loaders.indicator_by_id.load_one(id).await?.map(Indicator))
            }
            (None, Some(code)) => Ok(loaders
                .indicator_by_code
                .load_one(code.trim().to_string())
                .await?
                .map(Indicator)),
            _ => Err(ServiceError::invalid("id", "give exactly one of id and code").into()),
        }
    }

    #[graphql(entity)]
    async fn find_indicator_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Indicator>> {
        let id = parse_id("id", &id)?;
        Ok(ctx
            .data::<Loaders>()?
            .indicator_by_id
            .load_one(id)
            .await?
            .map(Indicator))
    }

    #[graphql(entity)]
    async fn find_territory_by_id(&self, id: ID) -> Result<Territory> {
        Ok(Territory {
            id: parse_id("id", &id)?,
        })
    }

    #[graphql(entity)]
    async fn find_plan_by_id(&self, id: ID) -> Result<Plan> {
        Ok(Plan {
            id: parse_id("id", &id)?,
        })
    }

    #[graphql(entity)]
    async fn find_measure_by_id(&self, id: ID) -> Result<Measure> {
        Ok(Measure {
            id: parse_id("id", &id)?,
        })
    }
}

#[derive(InputObject)]
pub struct CreateIndicatorInput {
    pub code: String,
    pub name: String,
    pub unit: String,
    #[graphql(default_with = "IndicatorDirection::HigherIsBetter")]
    pub direction: IndicatorDirection,
    #[graphql(default_with = "IndicatorAggregation::NotAggregatable")]
    pub aggregation: IndicatorAggregation,
    #[graphql(default)]
    pub dimensions: Vec<String>,
    pub exam: Option<String>,
    pub grade: Option<i32>,
    pub period_from: Option<i32>,
    pub period_to: Option<i32>,
    /// Default 0 for `%`.
    pub min_value: Option<f64>,
    /// Default 100 for `%`.
    pub max_value: Option<f64>,
}

/// One baseline or target as the roadmap parser reads it (`roadmap_import::IndicatorTarget`).
#[derive(InputObject, Clone, Debug)]
pub struct PlanTargetInput {
    /// Indicator name as written.
    pub indicator: String,
    /// Subject as written ("Химия", "по химии").
    #[graphql(default)]
    pub subject: String,
    /// The parser's subject key (`Chemistry`), when it has one.
    pub subject_key: Option<String>,
    /// "ЕГЭ" or "ОГЭ": picks the indicator (`ege_below_min`, `oge_below_min`).
    pub exam: Option<String>,
    pub grade: Option<i32>,
    /// None: the end of the plan's period.
    pub year: Option<i32>,
    /// Eq, Le, Ge, Lt, Gt (any case); default Eq.
    pub comparator: Option<String>,
    /// The value exactly as written ("32,79").
    pub value_raw: String,
    #[graphql(default)]
    pub is_baseline: bool,
    pub line: Option<i32>,
    pub measure: Option<ID>,
}

#[derive(InputObject)]
pub struct SetTargetInput {
    pub indicator: ID,
    pub territory: Option<ID>,
    pub organisation: Option<ID>,
    pub period: i32,
    pub subject: Option<String>,
    #[graphql(default_with = "TargetKind::Target")]
    pub kind: TargetKind,
    pub value: f64,
    /// As written; must be the same number as `value`.
    pub value_raw: Option<String>,
    pub plan: Option<ID>,
    pub measure: Option<ID>,
}

#[derive(InputObject)]
pub struct RecordObservationInput {
    pub indicator: ID,
    /// The territory the value is about (or give `organisation`).
    pub territory: Option<ID>,
    /// A school or other organisation the value is about; it rolls up into its territory.
    pub organisation: Option<ID>,
    /// The year.
    pub period: i32,
    pub subject: Option<String>,
    pub value: f64,
    pub value_raw: Option<String>,
    /// What the value is a share of (e.g. participants); required for weighted-mean indicators.
    pub denominator: Option<f64>,
    pub source: Option<String>,
    pub observed_on: Option<NaiveDate>,
}

/// Definitions of the indicators seed roadmaps set targets for, by exam.
pub fn seed_indicator(exam: &str) -> Option<NewIndicator> {
    let (code, name, grade) = match exam.trim() {
        "ЕГЭ" => (
            "ege_below_min",
            "Доля обучающихся, не преодолевших минимальный порог баллов на ЕГЭ",
            11,
        ),
        "ОГЭ" => (
            "oge_below_min",
            "Доля обучающихся, не преодолевших минимальный порог баллов на ОГЭ",
            9,
        ),
        _ => return None,
    };
    Some(NewIndicator {
        code: code.to_string(),
        name: name.to_string(),
        unit: "%".to_string(),
        direction: IndicatorDirection::LowerIsBetter.as_db(),
        aggregation: IndicatorAggregation::WeightedMean.as_db(),
        dimensions: vec!["subject".to_string()],
        exam: Some(exam.trim().to_string()),
        grade: Some(grade),
        period_from: Some(2000),
        period_to: Some(2100),
        min_value: Some("0".to_string()),
        max_value: Some("100".to_string()),
    })
}

fn comparator(field: &str, text: Option<&str>) -> ServiceResult<&'static str> {
    Ok(match text.map(|t| t.trim().to_uppercase()).as_deref() {
        None | Some("EQ") | Some("=") => "EQ",
        Some("LE") | Some("<=") | Some("≤") => "LE",
        Some("GE") | Some(">=") | Some("≥") => "GE",
        Some("LT") | Some("<") => "LT",
        Some("GT") | Some(">") => "GT",
        Some(other) => {
            return Err(ServiceError::invalid(
                field,
                format!("`{other}` is not one of EQ, LE, GE, LT, GT"),
            ));
        }
    })
}

/// Refuses a period outside the indicator's range.
pub fn check_period(field: &str, indicator: &IndicatorRow, period: i32) -> ServiceResult<()> {
    let from = indicator.period_from.unwrap_or(1900);
    let to = indicator.period_to.unwrap_or(2200);
    if period < from || period > to {
        return Err(ServiceError::invalid(
            field,
            format!("{period} is outside the periods of `{}` ({from}–{to})", indicator.code),
        ));
    }
    Ok(())
}

/// Refuses a value that is not finite or outside the indicator's range (e.g. a negative share).
pub fn check_value(field: &str, indicator: &IndicatorRow, value: f64) -> ServiceResult<()> {
    if !value.is_finite() {
        return Err(ServiceError::invalid(field, "must be a finite number"));
    }
    if let Some(min) = indicator.min_value
        && value < min
    {
        return Err(ServiceError::invalid(
            field,
            format!(
                "{value} is below the minimum {min} of `{}` ({})",
                indicator.code, indicator.unit
            ),
        ));
    }
    if let Some(max) = indicator.max_value
        && value > max
    {
        return Err(ServiceError::invalid(
            field,
            format!(
                "{value} is above the maximum {max} of `{}` ({})",
                indicator.code, indicator.unit
            ),
        ));
    }
    Ok(())
}

/// The decimal text of `value`, checked against `raw` when given; (value text, raw text).
fn value_texts(field_raw: &str, value: f64, raw: Option<&str>) -> ServiceResult<(String, String)> {
    let text = format!("{value}");
    match raw {
        None => Ok((text.clone(), text)),
        Some(raw) => {
            let normal = decimal_text(raw)
                .ok_or_else(|| ServiceError::invalid(field_raw, format!("`{raw}` is not a number")))?;
            let parsed: f64 = normal
                .parse()
                .map_err(|_| ServiceError::invalid(field_raw, format!("`{raw}` is not a number")))?;
            if (parsed - value).abs() > 1e-9 * value.abs().max(1.0) {
                return Err(ServiceError::invalid(field_raw, format!("`{raw}` is not {value}")));
            }
            Ok((normal, raw.trim().to_string()))
        }
    }
}

async fn indicator_for_input(pool: &PgPool, field: &str, id: &ID) -> ServiceResult<IndicatorRow> {
    let id = parse_id(field, id)?;
    store::indicators_by_ids(pool, &[id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ServiceError::invalid(field, format!("unknown indicator {id}")))
}

pub struct MutationRoot;

fn people<'a>(ctx: &'a Context<'_>) -> ServiceResult<&'a PeopleClient> {
    ctx.data::<PeopleClient>()
        .map_err(|_| ServiceError::internal(std::io::Error::other("the indicators service has no people URL")))
}

/// Editors and coordinators whose scope covers the territories.
async fn require_scope(ctx: &Context<'_>, doing: &str, territories: &[Option<Uuid>]) -> ServiceResult<()> {
    people(ctx)?
        .subgraph()
        .require_scope(auth::actor(ctx), &[Role::Editor, Role::Coordinator], doing, territories)
        .await
}

#[Object(name = "Mutation")]
impl MutationRoot {
    async fn create_indicator(&self, ctx: &Context<'_>, input: CreateIndicatorInput) -> Result<Indicator> {
        for (field, value) in [("input.code", &input.code), ("input.name", &input.name)] {
            if value.trim().is_empty() {
                return Err(ServiceError::invalid(field, "must not be empty").into());
            }
        }
        if let (Some(f), Some(t)) = (input.period_from, input.period_to)
            && f > t
        {
            return Err(ServiceError::invalid("input.periodTo", format!("{t} is before periodFrom {f}")).into());
        }
        let percent = input.unit.trim() == "%";
        let min = input.min_value.or(percent.then_some(0.0));
        let max = input.max_value.or(percent.then_some(100.0));
        for (field, v) in [("input.minValue", min), ("input.maxValue", max)] {
            if v.is_some_and(|v| !v.is_finite()) {
                return Err(ServiceError::invalid(field, "must be a finite number").into());
            }
        }
        if let (Some(lo), Some(hi)) = (min, max)
            && lo > hi
        {
            return Err(ServiceError::invalid("input.maxValue", format!("{hi} is below minValue {lo}")).into());
        }
        let new = NewIndicator {
            code: input.code.trim().to_string(),
            name: input.name.trim().to_string(),
            unit: input.unit.trim().to_string(),
            direction: input.direction.as_db(),
            aggregation: input.aggregation.as_db(),
            dimensions: input.dimensions.iter().map(|d| d.trim().to_string()).collect(),
            exam: input.exam.map(|e| e.trim().to_string()),
            grade: input.grade,
            period_from: input.period_from,
            period_to: input.period_to,
            min_value: min.map(|v| format!("{v}")),
            max_value: max.map(|v| format!("{v}")),
        };
        let pool = ctx.data::<PgPool>()?;
        let actor = auth::actor(ctx);
        actor.require(&[Role::Coordinator], "defining an indicator")?;
        let mut tx = pool.begin().await?;
        let id = store::insert_indicator(&mut tx, &new).await.map_err(|e| match e {
            ServiceError::Conflict(_) => {
                ServiceError::invalid("input.code", format!("an indicator `{}` exists", new.code))
            }
            other => other,
        })?;
        let after = serde_json::json!({ "code": new.code, "name": new.name, "unit": new.unit });
        roadmap_common::audit::record(
            &mut tx,
            crate::NAME,
            actor,
            "createIndicator",
            ("Indicator", id),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        let row = store::indicators_by_ids(pool, &[id]).await?.into_iter().next();
        row.map(Indicator)
            .ok_or_else(|| ServiceError::not_found("Indicator", id).into())
    }

    /// Replaces the baselines and targets `plan` sets with `targets`, in one transaction
    /// (idempotent: the plans importer calls it after every changed import). Indicators are picked
    /// by exam and created when missing. `territory` is the plan's; a target without a year is for
    /// the year `periodEnd` falls in. Returns the stored targets in input order.
    async fn record_plan_targets(
        &self,
        ctx: &Context<'_>,
        plan: ID,
        territory: Option<ID>,
        period_end: Option<NaiveDate>,
        targets: Vec<PlanTargetInput>,
    ) -> Result<Vec<Target>> {
        let plan_id = parse_id("plan", &plan)?;
        let territory = territory.as_ref().map(|t| parse_id("territory", t)).transpose()?;
        require_scope(ctx, "recording a plan's targets", &[territory]).await?;
        let mut wanted: Vec<(NewIndicator, NewTarget)> = Vec::with_capacity(targets.len());
        let mut keys = HashSet::new();
        for (i, t) in targets.iter().enumerate() {
            let path = format!("targets[{i}]");
            let exam = t.exam.as_deref().unwrap_or("");
            let definition = seed_indicator(exam)
                .filter(|_| t.indicator.to_lowercase().contains("порог"))
                .ok_or_else(|| {
                    ServiceError::invalid(
                        format!("{path}.indicator"),
                        format!("`{}` ({exam}) is not an indicator this service knows", t.indicator),
                    )
                })?;
            let period = match (t.year, period_end) {
                (Some(y), _) => y,
                (None, Some(end)) => chrono::Datelike::year(&end),
                (None, None) => {
                    return Err(ServiceError::invalid(
                        format!("{path}.year"),
                        "has no year and the plan has no periodEnd",
                    )
                    .into());
                }
            };
            let value = decimal_text(&t.value_raw).ok_or_else(|| {
                ServiceError::invalid(format!("{path}.valueRaw"), format!("`{}` is not a number", t.value_raw))
            })?;
            let parsed: f64 = value.parse().map_err(|_| {
                ServiceError::invalid(format!("{path}.valueRaw"), format!("`{}` is not a number", t.value_raw))
            })?;
            let subject = subject_key(t.subject_key.as_deref().filter(|k| *k != "Other").unwrap_or(&t.subject));
            let probe = IndicatorRow {
                id: Uuid::nil(),
                code: definition.code.clone(),
                name: definition.name.clone(),
                unit: definition.unit.clone(),
                direction: definition.direction.to_string(),
                aggregation: definition.aggregation.to_string(),
                dimensions: definition.dimensions.clone(),
                exam: definition.exam.clone(),
                grade: definition.grade,
                period_from: definition.period_from,
                period_to: definition.period_to,
                min_value: Some(0.0),
                max_value: Some(100.0),
            };
            check_period(&format!("{path}.year"), &probe, period)?;
            check_value(&format!("{path}.valueRaw"), &probe, parsed)?;
            let kind = if t.is_baseline { "BASELINE" } else { "TARGET" };
            if !keys.insert((definition.code.clone(), period, subject.clone(), kind)) {
                return Err(ServiceError::invalid(
                    path,
                    format!(
                        "repeats the {} of {} for {period}",
                        kind.to_lowercase(),
                        definition.code
                    ),
                )
                .into());
            }
            let target = NewTarget {
                indicator_id: Uuid::nil(),
                territory_id: territory,
                organisation_id: None,
                period,
                subject,
                kind,
                comparator: comparator(&format!("{path}.comparator"), t.comparator.as_deref())?,
                value,
                value_raw: t.value_raw.trim().to_string(),
                plan_id: Some(plan_id),
                measure_id: t
                    .measure
                    .as_ref()
                    .map(|m| parse_id(&format!("{path}.measure"), m))
                    .transpose()?,
                source_line: t.line,
                position: i32::try_from(i).ok(),
            };
            wanted.push((definition, target));
        }
        let pool = ctx.data::<PgPool>()?;
        let mut tx = pool.begin().await?;
        let mut ids_by_code: HashMap<String, Uuid> = HashMap::new();
        let mut rows = Vec::with_capacity(wanted.len());
        for (definition, mut target) in wanted {
            let id = match ids_by_code.get(&definition.code) {
                Some(id) => *id,
                None => {
                    let id = store::ensure_indicator(&mut tx, &definition).await?;
                    ids_by_code.insert(definition.code.clone(), id);
                    id
                }
            };
            target.indicator_id = id;
            rows.push(target);
        }
        store::delete_plan_targets(&mut tx, plan_id).await?;
        let ids = store::upsert_targets(&mut tx, &rows).await?;
        let mut indicators: Vec<Uuid> = ids_by_code.into_values().collect();
        indicators.sort();
        for indicator in indicators {
            events::status_changed(&mut tx, indicator, StatusChange::PlanTargetsReplaced { plan: plan_id }).await?;
        }
        let after = serde_json::json!({ "targets": ids, "territory": territory });
        roadmap_common::audit::record(
            &mut tx,
            crate::NAME,
            auth::actor(ctx),
            "recordPlanTargets",
            ("Plan", plan_id),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        let stored = store::targets_by_ids(pool, &ids).await?;
        let mut by_id: HashMap<Uuid, TargetRow> = stored.into_iter().map(|t| (t.id, t)).collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).map(Target).collect())
    }

    /// Sets (or changes) one baseline or target.
    async fn set_target(&self, ctx: &Context<'_>, input: SetTargetInput) -> Result<Target> {
        let pool = ctx.data::<PgPool>()?;
        let indicator = indicator_for_input(pool, "input.indicator", &input.indicator).await?;
        let territory = input
            .territory
            .as_ref()
            .map(|t| parse_id("input.territory", t))
            .transpose()?;
        let organisation = input
            .organisation
            .as_ref()
            .map(|o| parse_id("input.organisation", o))
            .transpose()?;
        if territory.is_none() && organisation.is_none() {
            return Err(ServiceError::invalid("input.territory", "give a territory or an organisation").into());
        }
        let scope = match (territory, organisation) {
            (Some(t), _) => Some(t),
            (None, Some(org)) => people(ctx)?.organisation_territory("input.organisation", org).await?,
            (None, None) => None,
        };
        require_scope(ctx, "setting a target", &[scope]).await?;
        check_period("input.period", &indicator, input.period)?;
        check_value("input.value", &indicator, input.value)?;
        let (value, value_raw) = value_texts("input.valueRaw", input.value, input.value_raw.as_deref())?;
        let row = NewTarget {
            indicator_id: indicator.id,
            territory_id: territory,
            organisation_id: organisation,
            period: input.period,
            subject: input.subject.as_deref().map(subject_key).unwrap_or_default(),
            kind: input.kind.as_db(),
            comparator: "EQ",
            value,
            value_raw,
            plan_id: input.plan.as_ref().map(|p| parse_id("input.plan", p)).transpose()?,
            measure_id: input
                .measure
                .as_ref()
                .map(|m| parse_id("input.measure", m))
                .transpose()?,
            source_line: None,
            position: None,
        };
        let mut tx = pool.begin().await?;
        let ids = store::upsert_targets(&mut tx, std::slice::from_ref(&row)).await?;
        let id = *ids
            .first()
            .ok_or_else(|| ServiceError::internal(std::io::Error::other("upserted target not found")))?;
        events::status_changed(&mut tx, indicator.id, StatusChange::TargetChanged { target: id }).await?;
        let after = serde_json::json!({
            "indicator": indicator.code, "territory": row.territory_id, "organisation": row.organisation_id,
            "period": row.period, "subject": row.subject, "kind": row.kind, "value": row.value_raw,
        });
        roadmap_common::audit::record(
            &mut tx,
            crate::NAME,
            auth::actor(ctx),
            "setTarget",
            ("IndicatorTarget", id),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        let row = store::targets_by_ids(pool, &[id]).await?.into_iter().next();
        row.map(Target)
            .ok_or_else(|| ServiceError::not_found("IndicatorTarget", id).into())
    }

    /// Records (or replaces) the actual value of an indicator for a territory or organisation,
    /// period and subject. Where it rolls up to is asked from the people subgraph now.
    async fn record_observation(&self, ctx: &Context<'_>, input: RecordObservationInput) -> Result<Observation> {
        let pool = ctx.data::<PgPool>()?;
        let indicator = indicator_for_input(pool, "input.indicator", &input.indicator).await?;
        let territory = input
            .territory
            .as_ref()
            .map(|t| parse_id("input.territory", t))
            .transpose()?;
        let organisation = input
            .organisation
            .as_ref()
            .map(|o| parse_id("input.organisation", o))
            .transpose()?;
        check_period("input.period", &indicator, input.period)?;
        check_value("input.value", &indicator, input.value)?;
        let (value, value_raw) = value_texts("input.valueRaw", input.value, input.value_raw.as_deref())?;
        let denominator = match input.denominator {
            Some(d) if !d.is_finite() || d <= 0.0 => {
                return Err(ServiceError::invalid("input.denominator", format!("{d} is not greater than 0")).into());
            }
            Some(d) => Some(format!("{d}")),
            None if indicator.aggregation == "WEIGHTED_MEAN" => {
                return Err(ServiceError::invalid(
                    "input.denominator",
                    format!("is required: `{}` is a weighted mean", indicator.code),
                )
                .into());
            }
            None => None,
        };
        let people = people(ctx)?;
        let (territory, parent) = match (territory, organisation) {
            (_, Some(org)) => {
                let own = people.organisation_territory("input.organisation", org).await?;
                if let (Some(given), Some(own)) = (territory, own)
                    && given != own
                {
                    return Err(ServiceError::invalid(
                        "input.territory",
                        format!("the organisation is in territory {own}, not {given}"),
                    )
                    .into());
                }
                (own.or(territory), own.or(territory))
            }
            (Some(t), None) => (Some(t), people.territory_parent("input.territory", t).await?),
            (None, None) => {
                return Err(ServiceError::invalid("input.territory", "give a territory or an organisation").into());
            }
        };
        require_scope(ctx, "recording an observation", &[territory]).await?;
        let row = NewObservation {
            indicator_id: indicator.id,
            territory_id: territory,
            organisation_id: organisation,
            parent_territory_id: parent,
            period: input.period,
            subject: input.subject.as_deref().map(subject_key).unwrap_or_default(),
            value,
            value_raw,
            denominator,
            source: input.source.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
            observed_on: input.observed_on,
        };
        let mut tx = pool.begin().await?;
        let id = store::upsert_observation(&mut tx, &row).await?;
        events::status_changed(
            &mut tx,
            indicator.id,
            StatusChange::ObservationRecorded { observation: id },
        )
        .await?;
        let after = serde_json::json!({
            "indicator": indicator.code, "territory": row.territory_id, "organisation": row.organisation_id,
            "period": row.period, "subject": row.subject, "value": row.value_raw, "denominator": row.denominator,
        });
        roadmap_common::audit::record(
            &mut tx,
            crate::NAME,
            auth::actor(ctx),
            "recordObservation",
            ("Observation", id),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        let row = store::observations_by_ids(pool, &[id]).await?.into_iter().next();
        row.map(Observation)
            .ok_or_else(|| ServiceError::not_found("Observation", id).into())
    }

    /// Records that `measure` (plans subgraph) serves `indicator`. Idempotent.
    async fn link_measure_to_indicator(&self, ctx: &Context<'_>, measure: ID, indicator: ID) -> Result<Measure> {
        let measure = parse_id("measure", &measure)?;
        let pool = ctx.data::<PgPool>()?;
        let indicator = indicator_for_input(pool, "indicator", &indicator).await?;
        // The measure's plan is in the plans subgraph; the role is checked here, not its territory.
        let actor = auth::actor(ctx);
        actor.require(&[Role::Editor, Role::Coordinator], "linking a measure to an indicator")?;
        let mut tx = pool.begin().await?;
        store::link_measure(&mut tx, measure, indicator.id).await?;
        let after = serde_json::json!({ "measure": measure, "indicator": indicator.code });
        roadmap_common::audit::record(
            &mut tx,
            crate::NAME,
            actor,
            "linkMeasureToIndicator",
            ("Indicator", indicator.id),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        Ok(Measure { id: measure })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_read_as_written() {
        assert_eq!(decimal_text("32,79").as_deref(), Some("32.79"));
        assert_eq!(decimal_text(" 3 ").as_deref(), Some("3"));
        assert_eq!(decimal_text("-0,5").as_deref(), Some("-0.5"));
        for bad in ["", ",5", "1,2,3", "12%", "1e5", "5,"] {
            assert_eq!(decimal_text(bad), None, "{bad}");
        }
    }

    #[test]
    fn subjects_have_stable_keys() {
        assert_eq!(subject_key("Химия"), "chemistry");
        assert_eq!(subject_key("химии"), "chemistry");
        assert_eq!(subject_key("Chemistry"), "chemistry");
        assert_eq!(subject_key("MathBasic"), "math_basic");
        assert_eq!(subject_key("Математика (база)"), "math_basic");
        assert_eq!(subject_key("math_profile"), "math_profile");
        assert_eq!(subject_key("  "), "");
        assert_eq!(subject_key("Информатика  и ИКТ"), "информатика и икт");
    }

    #[test]
    fn seed_indicators_by_exam() {
        let ege = seed_indicator("ЕГЭ").expect("ЕГЭ");
        assert_eq!(
            (ege.code.as_str(), ege.grade, ege.direction),
            ("ege_below_min", Some(11), "LOWER_IS_BETTER")
        );
        assert_eq!(seed_indicator("ОГЭ").expect("ОГЭ").code, "oge_below_min");
        assert!(seed_indicator("ВПР").is_none());
    }
}
