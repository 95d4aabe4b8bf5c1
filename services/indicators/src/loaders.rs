//! DataLoaders of the indicators subgraph, `<Type>By<Key>Loader`, one per key. Shared by all
//! requests without a cache: they batch (entity extensions resolved for many territories, plans
//! or measures at once cost one statement per field) but never serve stale rows. Rows come from
//! [`crate::store`]; the rollup loader's rows are sorted into each key's index by
//! [`assemble_indexes`], and the indexes kept between requests while they are current, never
//! longer ([`RollupCache`]).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::{LoadError, ServiceError};

use crate::cache::RollupCache;
use crate::rollup::{RollupInputs, RollupKey, Unit, assemble_indexes};
use crate::store::{self, IndicatorRow, ObservationRow, TargetRow};

roadmap_common::pg_loaders! {
    indicator_by_id: IndicatorByIdLoader,
    indicator_by_code: IndicatorByCodeLoader,
    targets_by_plan: TargetsByPlanLoader,
    targets_by_territory: TargetsByTerritoryLoader,
    targets_by_indicator: TargetsByIndicatorLoader,
    observations_by_territory: ObservationsByTerritoryLoader,
    indicators_by_measure: IndicatorsByMeasureLoader,
    measures_by_indicator: MeasuresByIndicatorLoader,
    rollup_data: RollupDataLoader(Arc::new(RollupCache::default())),
}

roadmap_common::pg_loader!(IndicatorByIdLoader: Uuid => one IndicatorRow = store::indicators_by_ids, |r| r.id);

roadmap_common::pg_loader!(IndicatorByCodeLoader: String => one IndicatorRow = store::indicators_by_codes, |r| r.code.clone());

roadmap_common::pg_loader!(TargetsByPlanLoader: Uuid => many TargetRow = store::targets_by_plans, |r| r.plan_id);

roadmap_common::pg_loader!(TargetsByTerritoryLoader: Uuid => many TargetRow = store::targets_by_territories, |r| r.territory_id);

roadmap_common::pg_loader!(TargetsByIndicatorLoader: Uuid => many TargetRow = store::targets_by_indicators, |r| Some(r.indicator_id));

roadmap_common::pg_loader!(ObservationsByTerritoryLoader: Uuid => many ObservationRow = store::observations_by_territories, |r| r.territory_id);

roadmap_common::pg_loader!(IndicatorsByMeasureLoader: Uuid => pairs IndicatorRow = store::indicators_by_measures);

roadmap_common::pg_loader!(MeasuresByIndicatorLoader: Uuid => pairs Uuid = store::measures_by_indicators);

/// What rollups of (indicator, unit) keys are computed from ([`RollupInputs`]), whatever the depth
/// of their trees: the indicators' generations, then, for the keys without a current kept index,
/// the observations of their subtrees (one statement for all), then the targets of the keys'
/// units and of their children. Two statements per batch when every index is kept, three else.
pub struct RollupDataLoader(PgPool, Arc<RollupCache>);

/// The territory and organisation ids among `units`, each sorted without repeats.
fn split_units(units: impl Iterator<Item = Unit>) -> (Vec<Uuid>, Vec<Uuid>) {
    let (mut territories, mut organisations) = (Vec::new(), Vec::new());
    for unit in units {
        match unit {
            Unit::Territory(id) => territories.push(id),
            Unit::Organisation(id) => organisations.push(id),
        }
    }
    for ids in [&mut territories, &mut organisations] {
        ids.sort();
        ids.dedup();
    }
    (territories, organisations)
}

impl Loader<RollupKey> for RollupDataLoader {
    type Value = RollupInputs;
    type Error = LoadError;

    async fn load(&self, keys: &[RollupKey]) -> Result<HashMap<RollupKey, RollupInputs>, LoadError> {
        let (pool, cache) = (&self.0, &self.1);
        let mut indicators: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        indicators.sort();
        indicators.dedup();
        // Before the rows: an index is kept with the generation read before its rows were.
        let generations: HashMap<Uuid, i64> = store::rollup_generations(pool, &indicators)
            .await?
            .into_iter()
            .collect();
        let generation = |indicator: &Uuid| generations.get(indicator).copied().unwrap_or(0);
        let mut data: HashMap<RollupKey, RollupInputs> = HashMap::new();
        let mut missing = Vec::new();
        for key in keys {
            match cache.get(key, generation(&key.0)) {
                Some(index) => {
                    data.insert(
                        *key,
                        RollupInputs {
                            index,
                            ..RollupInputs::default()
                        },
                    );
                }
                None => missing.push(*key),
            }
        }
        if !missing.is_empty() {
            let mut indicators: Vec<Uuid> = missing.iter().map(|k| k.0).collect();
            indicators.sort();
            indicators.dedup();
            let (territories, organisations) = split_units(missing.iter().map(|k| k.1));
            let rows = store::rollup_rows(pool, (&indicators, &territories, &organisations)).await?;
            // A country's index takes tens of milliseconds of CPU: off the runtime's threads.
            let built = tokio::task::spawn_blocking(move || assemble_indexes(&missing, &rows))
                .await
                .map_err(|e| ServiceError::internal_msg(format!("building rollup indexes: {e}")))?;
            for (key, index) in built {
                let index = Arc::new(index);
                cache.put(key, generation(&key.0), index.clone());
                data.insert(
                    key,
                    RollupInputs {
                        index,
                        ..RollupInputs::default()
                    },
                );
            }
        }
        let units = keys
            .iter()
            .map(|k| k.1)
            .chain(data.values().flat_map(|d| d.index.children()));
        let (territories, organisations) = split_units(units);
        let targets = store::targets_of_units(pool, (&indicators, &territories, &organisations)).await?;
        RollupInputs::attach_targets(&mut data, &targets);
        Ok(data)
    }
}
