//! DataLoaders of the people subgraph, one per entity key. They are shared by all requests
//! without a cache, so they batch without ever serving stale rows.

use async_graphql::dataloader::DataLoader;
use roadmap_common::loaders::loader;
use roadmap_common::metrics::Measured;
use sqlx::PgPool;
use uuid::Uuid;

use crate::store::{self, OrganisationRow, TerritoryRow};

pub struct Loaders {
    pub territory_by_id: DataLoader<Measured<TerritoryByIdLoader>>,
    pub territories_by_parent: DataLoader<Measured<TerritoriesByParentLoader>>,
    pub ancestors_by_territory: DataLoader<Measured<AncestorsByTerritoryLoader>>,
    pub organisation_by_id: DataLoader<Measured<OrganisationByIdLoader>>,
    pub organisations_by_territory: DataLoader<Measured<OrganisationsByTerritoryLoader>>,
}

impl Loaders {
    pub fn new(pool: PgPool) -> Self {
        Self {
            territory_by_id: loader(TerritoryByIdLoader(pool.clone())),
            territories_by_parent: loader(TerritoriesByParentLoader(pool.clone())),
            ancestors_by_territory: loader(AncestorsByTerritoryLoader(pool.clone())),
            organisation_by_id: loader(OrganisationByIdLoader(pool.clone())),
            organisations_by_territory: loader(OrganisationsByTerritoryLoader(pool)),
        }
    }
}

roadmap_common::pg_loader!(TerritoryByIdLoader: Uuid => one TerritoryRow = store::territories_by_ids, |r| r.id);

roadmap_common::pg_loader!(TerritoriesByParentLoader: Uuid => many TerritoryRow = store::territory_children, |r| r.parent_id);

roadmap_common::pg_loader!(AncestorsByTerritoryLoader: Uuid => pairs TerritoryRow = store::territory_ancestors);

roadmap_common::pg_loader!(OrganisationByIdLoader: Uuid => one OrganisationRow = store::organisations_by_ids, |r| r.id);

roadmap_common::pg_loader!(OrganisationsByTerritoryLoader: Uuid => many OrganisationRow = store::organisations_by_territories, |r| r.territory_id);
