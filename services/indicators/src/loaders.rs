//! DataLoaders of the indicators subgraph, `<Type>By<Key>Loader`, one per key. Shared by all
//! requests without a cache: they batch (entity extensions resolved for many territories, plans
//! or measures at once cost one statement per field) but never serve stale rows. Rows come from
//! [`crate::store`]; the rollup loader's rows are sorted per key by [`RollupData::assemble`].

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::LoadError;

use crate::rollup::{RollupData, RollupKey, Unit};
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
    rollup_data: RollupDataLoader,
}

roadmap_common::pg_loader!(IndicatorByIdLoader: Uuid => one IndicatorRow = store::indicators_by_ids, |r| r.id);

roadmap_common::pg_loader!(IndicatorByCodeLoader: String => one IndicatorRow = store::indicators_by_codes, |r| r.code.clone());

roadmap_common::pg_loader!(TargetsByPlanLoader: Uuid => many TargetRow = store::targets_by_plans, |r| r.plan_id);

roadmap_common::pg_loader!(TargetsByTerritoryLoader: Uuid => many TargetRow = store::targets_by_territories, |r| r.territory_id);

roadmap_common::pg_loader!(TargetsByIndicatorLoader: Uuid => many TargetRow = store::targets_by_indicators, |r| Some(r.indicator_id));

roadmap_common::pg_loader!(ObservationsByTerritoryLoader: Uuid => many ObservationRow = store::observations_by_territories, |r| r.territory_id);

roadmap_common::pg_loader!(IndicatorsByMeasureLoader: Uuid => pairs IndicatorRow = store::indicators_by_measures);

roadmap_common::pg_loader!(MeasuresByIndicatorLoader: Uuid => pairs Uuid = store::measures_by_indicators);

/// Two statements per batch, however many units and however deep their trees: the observations
/// of every key's subtree, then the targets of the keys' units and of their children.
pub struct RollupDataLoader(PgPool);

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
    type Value = RollupData;
    type Error = LoadError;

    async fn load(&self, keys: &[RollupKey]) -> Result<HashMap<RollupKey, RollupData>, LoadError> {
        let mut indicators: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        indicators.sort();
        indicators.dedup();
        let (territories, organisations) = split_units(keys.iter().map(|k| k.1));
        let observations = store::rollup_observations(&self.0, (&indicators, &territories, &organisations)).await?;
        let mut data = RollupData::assemble(keys, &observations);
        let units = keys
            .iter()
            .map(|k| k.1)
            .chain(data.values().flat_map(RollupData::children));
        let (territories, organisations) = split_units(units);
        let targets = store::targets_of_units(&self.0, (&indicators, &territories, &organisations)).await?;
        RollupData::attach_targets(&mut data, &targets);
        Ok(data)
    }
}
