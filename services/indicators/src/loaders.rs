//! DataLoaders of the indicators subgraph, one per key. Shared by all requests without a cache:
//! they batch (entity extensions resolved for many territories, plans or measures at once cost one
//! statement per field) but never serve stale rows.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use roadmap_common::loaders::{group_by, loader};
use roadmap_common::metrics::Measured;
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::LoadError;

use crate::store::{self, IndicatorRow, ObservationRow, TargetRow};

pub struct Loaders {
    pub indicator_by_id: DataLoader<Measured<IndicatorByIdLoader>>,
    pub indicator_by_code: DataLoader<Measured<IndicatorByCodeLoader>>,
    pub targets_by_plan: DataLoader<Measured<TargetsByPlanLoader>>,
    pub targets_by_territory: DataLoader<Measured<TargetsByTerritoryLoader>>,
    pub targets_by_indicator: DataLoader<Measured<TargetsByIndicatorLoader>>,
    pub observations_by_territory: DataLoader<Measured<ObservationsByTerritoryLoader>>,
    pub indicators_by_measure: DataLoader<Measured<IndicatorsByMeasureLoader>>,
    pub measures_by_indicator: DataLoader<Measured<MeasuresByIndicatorLoader>>,
    pub rollup_data: DataLoader<Measured<RollupDataLoader>>,
}

impl Loaders {
    pub fn new(pool: PgPool) -> Self {
        Self {
            indicator_by_id: loader(IndicatorByIdLoader(pool.clone())),
            indicator_by_code: loader(IndicatorByCodeLoader(pool.clone())),
            targets_by_plan: loader(TargetsByPlanLoader(pool.clone())),
            targets_by_territory: loader(TargetsByTerritoryLoader(pool.clone())),
            targets_by_indicator: loader(TargetsByIndicatorLoader(pool.clone())),
            observations_by_territory: loader(ObservationsByTerritoryLoader(pool.clone())),
            indicators_by_measure: loader(IndicatorsByMeasureLoader(pool.clone())),
            measures_by_indicator: loader(MeasuresByIndicatorLoader(pool.clone())),
            rollup_data: loader(RollupDataLoader(pool)),
        }
    }
}

pub struct IndicatorByIdLoader(PgPool);

impl Loader<Uuid> for IndicatorByIdLoader {
    type Value = IndicatorRow;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, IndicatorRow>, LoadError> {
        Ok(store::indicators_by_ids(&self.0, keys)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect())
    }
}

pub struct IndicatorByCodeLoader(PgPool);

impl Loader<String> for IndicatorByCodeLoader {
    type Value = IndicatorRow;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, IndicatorRow>, LoadError> {
        Ok(store::indicators_by_codes(&self.0, keys)
            .await?
            .into_iter()
            .map(|r| (r.code.clone(), r))
            .collect())
    }
}

pub struct TargetsByPlanLoader(PgPool);

impl Loader<Uuid> for TargetsByPlanLoader {
    type Value = Vec<TargetRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<TargetRow>>, LoadError> {
        Ok(group_by(store::targets_by_plans(&self.0, keys).await?, |r| r.plan_id))
    }
}

pub struct TargetsByTerritoryLoader(PgPool);

impl Loader<Uuid> for TargetsByTerritoryLoader {
    type Value = Vec<TargetRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<TargetRow>>, LoadError> {
        Ok(group_by(store::targets_by_territories(&self.0, keys).await?, |r| {
            r.territory_id
        }))
    }
}

pub struct TargetsByIndicatorLoader(PgPool);

impl Loader<Uuid> for TargetsByIndicatorLoader {
    type Value = Vec<TargetRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<TargetRow>>, LoadError> {
        Ok(group_by(store::targets_by_indicators(&self.0, keys).await?, |r| {
            Some(r.indicator_id)
        }))
    }
}

pub struct ObservationsByTerritoryLoader(PgPool);

impl Loader<Uuid> for ObservationsByTerritoryLoader {
    type Value = Vec<ObservationRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<ObservationRow>>, LoadError> {
        Ok(group_by(
            store::observations_by_territories(&self.0, keys).await?,
            |r| r.territory_id,
        ))
    }
}

pub struct IndicatorsByMeasureLoader(PgPool);

impl Loader<Uuid> for IndicatorsByMeasureLoader {
    type Value = Vec<IndicatorRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<IndicatorRow>>, LoadError> {
        let mut map: HashMap<Uuid, Vec<IndicatorRow>> = HashMap::new();
        for (measure, indicator) in store::indicators_by_measures(&self.0, keys).await? {
            map.entry(measure).or_default().push(indicator);
        }
        Ok(map)
    }
}

pub struct MeasuresByIndicatorLoader(PgPool);

impl Loader<Uuid> for MeasuresByIndicatorLoader {
    type Value = Vec<Uuid>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Uuid>>, LoadError> {
        let mut map: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (indicator, measure) in store::measures_by_indicators(&self.0, keys).await? {
            map.entry(indicator).or_default().push(measure);
        }
        Ok(map)
    }
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

/// Two statements per batch, however many parents and children.
pub struct RollupDataLoader(PgPool);

impl Loader<RollupKey> for RollupDataLoader {
    type Value = RollupData;
    type Error = LoadError;

    async fn load(&self, keys: &[RollupKey]) -> Result<HashMap<RollupKey, RollupData>, LoadError> {
        let mut indicators: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let mut parents: Vec<Uuid> = keys.iter().map(|k| k.1).collect();
        indicators.sort();
        indicators.dedup();
        parents.sort();
        parents.dedup();
        let observations = store::rollup_observations(&self.0, &indicators, &parents).await?;
        let targets = store::rollup_targets(&self.0, &indicators, &parents).await?;
        let mut map: HashMap<RollupKey, RollupData> = keys.iter().map(|k| (*k, RollupData::default())).collect();
        for o in &observations {
            if let Some(parent) = o.parent_territory_id
                && let Some(data) = map.get_mut(&(o.indicator_id, parent))
            {
                data.children.push(o.clone());
            }
            if o.organisation_id.is_none()
                && let Some(t) = o.territory_id
                && let Some(data) = map.get_mut(&(o.indicator_id, t))
            {
                data.own.push(o.clone());
            }
        }
        for ((indicator, _), data) in map.iter_mut() {
            let child_places: std::collections::HashSet<(Option<Uuid>, Option<Uuid>)> = data
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
        for t in &targets {
            if t.organisation_id.is_none()
                && let Some(territory) = t.territory_id
                && let Some(data) = map.get_mut(&(t.indicator_id, territory))
            {
                data.targets.push(t.clone());
            }
        }
        Ok(map)
    }
}
