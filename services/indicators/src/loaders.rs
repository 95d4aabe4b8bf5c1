//! DataLoaders of the indicators subgraph, `<Type>By<Key>Loader`, one per key. Shared by all
//! requests without a cache: they batch (entity extensions resolved for many territories, plans
//! or measures at once cost one statement per field) but never serve stale rows. Rows come from
//! [`crate::store`]; the rollup loader's rows are sorted per key by [`RollupData::assemble`].

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use roadmap_common::loaders::{group_by, loader};
use roadmap_common::metrics::Measured;
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::LoadError;

use crate::rollup::{RollupData, RollupKey};
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
        Ok(group_pairs(store::indicators_by_measures(&self.0, keys).await?))
    }
}

pub struct MeasuresByIndicatorLoader(PgPool);

impl Loader<Uuid> for MeasuresByIndicatorLoader {
    type Value = Vec<Uuid>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Uuid>>, LoadError> {
        Ok(group_pairs(store::measures_by_indicators(&self.0, keys).await?))
    }
}

/// (key, value) rows of a link table grouped by key, in order.
fn group_pairs<V>(pairs: Vec<(Uuid, V)>) -> HashMap<Uuid, Vec<V>> {
    let mut map: HashMap<Uuid, Vec<V>> = HashMap::new();
    for (key, value) in pairs {
        map.entry(key).or_default().push(value);
    }
    map
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
        Ok(RollupData::assemble(keys, &observations, &targets))
    }
}
