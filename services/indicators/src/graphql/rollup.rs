//! `Rollup`, `RollupChild` and their enums: the GraphQL face of [`crate::rollup`], which computes
//! them.

use async_graphql::{Context, Enum, Result, SimpleObject};
use uuid::Uuid;

use roadmap_common::ServiceError;

use super::{Indicator, Organisation, Territory, id_of};
use crate::loaders::Loaders;
use crate::rollup::{self, RollupData, compute_rollup};
use crate::store::IndicatorRow;
use crate::values::opt_subject;

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

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum ValueSource {
    /// Computed from the children's observations.
    Rollup,
    /// The territory's own observation (no child data, or not aggregatable).
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

impl Rollup {
    /// The indicator with code `code` and what rollups of it under `territory` are computed from.
    pub(super) async fn inputs(ctx: &Context<'_>, code: &str, territory: Uuid) -> Result<(IndicatorRow, RollupData)> {
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

    /// The rollup of `indicator` under `territory` ([`compute_rollup`]).
    pub(super) fn compute(
        indicator: &IndicatorRow,
        data: &RollupData,
        territory: Uuid,
        period: i32,
        subject: &str,
    ) -> Rollup {
        let indicator = Indicator(indicator.clone());
        let r = compute_rollup(
            indicator.direction().into(),
            indicator.aggregation().into(),
            data,
            period,
            subject,
        );
        Rollup {
            indicator,
            territory: Territory { id: territory },
            period,
            subject: opt_subject(subject).map(str::to_string),
            value: r.value,
            source: r.source.map(Into::into),
            rolled_up: r.rolled_up,
            observed: r.observed,
            denominator: r.denominator,
            target: r.target.map(|t| t.value),
            target_raw: r.target.map(|t| t.value_raw.clone()),
            baseline: r.baseline.map(|t| t.value),
            baseline_period: r.baseline.map(|t| t.period),
            gap: r.gap,
            status: r.status.map(Into::into),
            children_with_data: r.children_with_data as i32,
            missing_children: r.missing_children as i32,
            children: r.children.into_iter().map(RollupChild::from).collect(),
        }
    }
}

impl From<rollup::Child> for RollupChild {
    fn from(c: rollup::Child) -> Self {
        RollupChild {
            territory: c.territory.map(|id| Territory { id }),
            organisation: c.organisation.map(|id| Organisation { id: id_of(id) }),
            value: c.value,
            denominator: c.denominator,
            rank: c.rank.map(|r| r as i32),
            target: c.target,
            gap: c.gap,
            status: c.status.map(Into::into),
        }
    }
}
