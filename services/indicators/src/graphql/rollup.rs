//! `Rollup`, `SourceRollup`, `RollupChild` and their enums: the GraphQL face of
//! [`crate::rollup`], which computes them. A rollup's figures come from one bottom-up pass over
//! its source's tree ([`RollupView`]); its levels (`children`, at any depth) and its other
//! sources (`bySource`) are read from that pass only when the query selects them.

use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, Object, Result, SimpleObject};
use uuid::Uuid;

use roadmap_common::{ServiceError, people};

use super::{Indicator, Organisation, ResultSource, Territory, id_of};
use crate::loaders::Loaders;
use crate::rollup::{self, Node, RESULT_SOURCES, ROOT, RollupInputs, RollupView, Summary, Unit, baseline, pick};
use crate::store::IndicatorRow;
use crate::values::{opt_subject, subject_key};

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

/// Where a value comes from.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum ValueSource {
    /// Computed from the children's observations.
    Rollup,
    /// The unit's own observation (for the unit asked for: no child data, or not aggregatable;
    /// for a child: its own reported value, which wins over its children's).
    Observed,
}

impl From<rollup::Source> for ValueSource {
    fn from(s: rollup::Source) -> Self {
        match s {
            rollup::Source::Rollup => ValueSource::Rollup,
            rollup::Source::Observed => ValueSource::Observed,
        }
    }
}

/// A territory's (or an organisation's) value of one indicator for one period and subject,
/// computed for dashboards from the official results; `bySource` puts every result source side by
/// side.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Rollup {
    pub indicator: Indicator,
    /// The territory rolled up, or the organisation's territory.
    pub territory: Territory,
    /// The organisation rolled up (`Organisation.rollup`: a school from its classes); none for a
    /// territory's rollup.
    pub organisation: Option<Organisation>,
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
    /// Sum of the used children's numerators: how many of `denominator` the value counts.
    pub numerator: Option<f64>,
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
    #[graphql(skip)]
    view: Arc<RollupView>,
}

#[ComplexObject]
impl Rollup {
    /// Best first (by the indicator's direction); children without a value last.
    async fn children(&self) -> Vec<RollupChild> {
        children(&self.view, OFFICIAL, ROOT)
    }

    /// The same rollup for every result source with data for the subject, `OFFICIAL` first
    /// (always): class mock exams next to the official results, never folded into them.
    async fn by_source(&self) -> Vec<SourceRollup> {
        self.view
            .sources()
            .into_iter()
            .map(|source| SourceRollup {
                source: ResultSource::from_db(RESULT_SOURCES[source]).unwrap_or(ResultSource::Official),
                figures: RollupFigures::new(
                    self.view.root(source),
                    Branch {
                        view: self.view.clone(),
                        source,
                        node: ROOT,
                    },
                ),
            })
            .collect()
    }
}

/// The official source's index in [`RESULT_SOURCES`].
const OFFICIAL: usize = 0;

/// Where a unit's figures sit: its node in one source's tree of a view.
#[derive(Clone)]
struct Branch {
    view: Arc<RollupView>,
    source: usize,
    node: Node,
}

/// The children of `node` in `source`'s tree of `view`, ranked.
fn children(view: &Arc<RollupView>, source: usize, node: Node) -> Vec<RollupChild> {
    view.level(source, node)
        .into_iter()
        .map(|c| RollupChild {
            territory: c.unit.territory().map(|id| Territory { id }),
            organisation: c.unit.organisation().map(|id| Organisation { id: id_of(id) }),
            rank: c.rank.map(|r| r as i32),
            target: c.target,
            figures: RollupFigures::new(
                view.child(source, &c),
                Branch {
                    view: view.clone(),
                    source,
                    node: c.node,
                },
            ),
        })
        .collect()
}

/// What a unit shows for one result source (flattened into `SourceRollup` and `RollupChild`).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct RollupFigures {
    /// The territory asked for: `rolledUp` when the children have data, else `observed`. A
    /// child: what it counts as in its parent, its own value when usable, else its children's.
    pub value: Option<f64>,
    /// OBSERVED: its own reported value; ROLLUP: its children's.
    pub value_source: Option<ValueSource>,
    /// Its own reported value.
    pub observed: Option<f64>,
    /// Its children's rollup (a child's: shown, never added to `observed`).
    pub rolled_up: Option<f64>,
    /// How many of `denominator` the value counts (e.g. pupils below the minimum score).
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// `value − target` (the territory's target; a child's own).
    pub gap: Option<f64>,
    pub status: Option<TrackStatus>,
    pub children_with_data: i32,
    pub missing_children: i32,
    #[graphql(skip)]
    below: Branch,
}

#[ComplexObject]
impl RollupFigures {
    /// Its children (a school's classes), best first; children without a value last.
    async fn children(&self) -> Vec<RollupChild> {
        children(&self.below.view, self.below.source, self.below.node)
    }
}

impl RollupFigures {
    fn new(s: Summary, below: Branch) -> RollupFigures {
        RollupFigures {
            value: s.value,
            value_source: s.value_source.map(Into::into),
            observed: s.observed,
            rolled_up: s.rolled_up,
            numerator: s.numerator,
            denominator: s.denominator,
            gap: s.gap,
            status: s.status.map(Into::into),
            children_with_data: s.children_with_data as i32,
            missing_children: s.missing_children as i32,
            below,
        }
    }
}

/// One result source's rollup: its own tree of children, compared with the same target.
#[derive(SimpleObject)]
pub struct SourceRollup {
    pub source: ResultSource,
    #[graphql(flatten)]
    pub figures: RollupFigures,
}

#[derive(SimpleObject)]
pub struct RollupChild {
    pub territory: Option<Territory>,
    pub organisation: Option<Organisation>,
    /// 1 = best; equal values share a rank; none without a value.
    pub rank: Option<i32>,
    pub target: Option<f64>,
    #[graphql(flatten)]
    pub figures: RollupFigures,
}

/// `rollup` of a territory or an organisation, flattened into both (`Territory.rollup`,
/// `Organisation.rollup`): one resolver for either unit. One Rust type per user, as with
/// `Placed`: a flattened object must be complete when its user copies its fields.
pub struct UnitRollup<Of> {
    unit: Unit,
    of: PhantomData<fn() -> Of>,
}

impl<Of> UnitRollup<Of> {
    pub fn new(unit: Unit) -> Self {
        UnitRollup { unit, of: PhantomData }
    }
}

#[Object(
    concrete(name = "TerritoryRollupField", params(Territory)),
    concrete(name = "OrganisationRollupField", params(Organisation))
)]
impl<Of: Send + Sync + 'static> UnitRollup<Of> {
    /// The value of `indicator` (code) for `period` computed from the children (municipalities
    /// of a region, schools of a municipality, classes of a school), next to the unit's own
    /// observation, its gap to its target and its status, with the children ranked. For an
    /// organisation, `territory` is the organisation's territory.
    async fn rollup(
        &self,
        ctx: &Context<'_>,
        indicator: String,
        period: i32,
        subject: Option<String>,
    ) -> Result<Rollup> {
        let territory = match self.unit {
            Unit::Territory(id) => id,
            Unit::Organisation(id) => people::from_ctx(ctx)?
                .organisation_territory("id", id)
                .await?
                .ok_or_else(|| {
                    ServiceError::invalid(
                        "organisation",
                        format!("organisation {id} has no territory to roll up into"),
                    )
                })?,
        };
        let (row, data) = Rollup::inputs(ctx, &indicator, self.unit).await?;
        let subject = subject.as_deref().map(subject_key).unwrap_or_default();
        Ok(Rollup::compute(
            &row,
            &data,
            territory,
            self.unit.organisation(),
            period,
            &subject,
        ))
    }
}

impl Rollup {
    /// The indicator with code `code` and what rollups of it under `unit` are computed from.
    pub(super) async fn inputs(ctx: &Context<'_>, code: &str, unit: Unit) -> Result<(IndicatorRow, RollupInputs)> {
        let loaders = ctx.data::<Loaders>()?;
        let row = loaders
            .indicator_by_code
            .load_one(code.trim().to_string())
            .await?
            .ok_or_else(|| ServiceError::invalid("indicator", format!("unknown indicator `{code}`")))?;
        let inputs = loaders.rollup_data.load_one((row.id, unit)).await?.unwrap_or_default();
        Ok((row, inputs))
    }

    /// The rollup of `indicator` under `territory`, or under `organisation` (of `territory`):
    /// its official tree computed, the rest on demand ([`RollupView`]).
    pub(super) fn compute(
        indicator: &IndicatorRow,
        inputs: &RollupInputs,
        territory: Uuid,
        organisation: Option<Uuid>,
        period: i32,
        subject: &str,
    ) -> Rollup {
        let indicator = Indicator(indicator.clone());
        let target = pick(inputs.targets.iter(), "TARGET", period, subject);
        let base = baseline(&inputs.targets, period, subject);
        let view = Arc::new(RollupView::new(
            indicator.rules(),
            inputs.index.clone(),
            target.map(|t| t.value),
            &inputs.child_targets,
            period,
            subject,
        ));
        let official = view.root(OFFICIAL);
        Rollup {
            indicator,
            territory: Territory { id: territory },
            organisation: organisation.map(|id| Organisation { id: id_of(id) }),
            period,
            subject: opt_subject(subject).map(str::to_string),
            value: official.value,
            source: official.value_source.map(Into::into),
            rolled_up: official.rolled_up,
            observed: official.observed,
            // Of the children's rollup, as before sources: none for a value observed alone.
            numerator: official.rolled_up.and(official.numerator),
            denominator: official.rolled_up.and(official.denominator),
            target: target.map(|t| t.value),
            target_raw: target.map(|t| t.value_raw.clone()),
            baseline: base.map(|t| t.value),
            baseline_period: base.map(|t| t.period),
            gap: official.gap,
            status: official.status.map(Into::into),
            children_with_data: official.children_with_data as i32,
            missing_children: official.missing_children as i32,
            view,
        }
    }
}
