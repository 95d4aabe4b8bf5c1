//! Entities of the people subgraph seen from here: `Territory`, extended (same `@key(id)`) with
//! its indicator values (`indicators`, `rollup`, `series`), its `TerritoryIndicator` groups, and
//! `Organisation`, extended with `rollup` (a school's value from its classes).

use std::collections::BTreeMap;

use async_graphql::{Context, ID, Object, Result};
use uuid::Uuid;

use roadmap_common::parse_id;

use super::{Indicator, Observation, Rollup, Target, TargetKind, UnitRollup, id_of};
use crate::loaders::Loaders;
use crate::rollup::{Unit, baseline, pick};
use crate::store::{ObservationRow, TargetRow};
use crate::values::{opt_subject, subject_key};

pub struct Organisation {
    pub id: ID,
}

/// An organisation of the people subgraph, extended with its indicator values.
#[Object]
impl Organisation {
    async fn id(&self) -> &ID {
        &self.id
    }

    #[graphql(flatten)]
    async fn rollup(&self) -> Result<UnitRollup<Organisation>> {
        Ok(UnitRollup::new(Unit::Organisation(parse_id("id", &self.id)?)))
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
        let wanted =
            |indicator: Uuid, s: &str| only.is_none_or(|o| o == indicator) && subject.as_deref().is_none_or(|w| w == s);
        Ok(TerritoryIndicator::group(
            targets
                .unwrap_or_default()
                .into_iter()
                .filter(|t| wanted(t.indicator_id, &t.subject)),
            observations
                .unwrap_or_default()
                .into_iter()
                .filter(|o| wanted(o.indicator_id, &o.subject)),
        ))
    }

    #[graphql(flatten)]
    async fn rollup(&self) -> UnitRollup<Territory> {
        UnitRollup::new(Unit::Territory(self.id))
    }

    /// The rollup for every period that has observations, baselines or targets, in order.
    async fn series(&self, ctx: &Context<'_>, indicator: String, subject: Option<String>) -> Result<Vec<Rollup>> {
        let (row, inputs) = Rollup::inputs(ctx, &indicator, Unit::Territory(self.id)).await?;
        let subject = subject.as_deref().map(subject_key).unwrap_or_default();
        Ok(inputs
            .periods(&subject)
            .into_iter()
            .map(|p| Rollup::compute(&row, &inputs, self.id, None, p, &subject))
            .collect())
    }
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

    /// Groups rows by (indicator, subject), in that order.
    fn group(
        targets: impl Iterator<Item = TargetRow>,
        observations: impl Iterator<Item = ObservationRow>,
    ) -> Vec<TerritoryIndicator> {
        let mut groups: BTreeMap<(Uuid, String), TerritoryIndicator> = BTreeMap::new();
        fn entry<'g>(
            groups: &'g mut BTreeMap<(Uuid, String), TerritoryIndicator>,
            indicator: Uuid,
            subject: &str,
        ) -> &'g mut TerritoryIndicator {
            groups
                .entry((indicator, subject.to_string()))
                .or_insert_with(|| TerritoryIndicator::new(indicator, subject))
        }
        for t in targets {
            entry(&mut groups, t.indicator_id, &t.subject).targets.push(t);
        }
        for o in observations {
            entry(&mut groups, o.indicator_id, &o.subject).observations.push(o);
        }
        groups.into_values().collect()
    }

    fn of_kind(&self, kind: TargetKind) -> Vec<Target> {
        let mut rows: Vec<TargetRow> = self
            .targets
            .iter()
            .filter(|t| t.kind == kind.as_db())
            .cloned()
            .collect();
        rows.sort_by_key(|t| (t.period, t.updated_at));
        rows.into_iter().map(Target).collect()
    }
}

#[Object]
impl TerritoryIndicator {
    async fn indicator(&self, ctx: &Context<'_>) -> Result<Indicator> {
        Indicator::load(ctx, self.indicator_id).await
    }

    async fn subject(&self) -> Option<&str> {
        opt_subject(&self.subject)
    }

    /// Baselines, by period.
    async fn baselines(&self) -> Vec<Target> {
        self.of_kind(TargetKind::Baseline)
    }

    /// Targets, by period.
    async fn targets(&self) -> Vec<Target> {
        self.of_kind(TargetKind::Target)
    }

    /// The target for one period (the latest set, when several plans set one).
    async fn target(&self, period: i32) -> Option<Target> {
        pick(self.targets.iter(), TargetKind::Target.as_db(), period, &self.subject)
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
