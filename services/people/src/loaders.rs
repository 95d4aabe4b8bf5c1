//! DataLoaders of the people subgraph, one per entity key. They are shared by all requests
//! without a cache, so they batch without ever serving stale rows.

use roadmap_common::LoadError;
use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use roadmap_common::loaders::{group_by, loader};
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

pub struct TerritoryByIdLoader(PgPool);

impl Loader<Uuid> for TerritoryByIdLoader {
    type Value = TerritoryRow;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, TerritoryRow>, Self::Error> {
        let rows = store::territories_by_ids(&self.0, keys).await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

pub struct TerritoriesByParentLoader(PgPool);

impl Loader<Uuid> for TerritoriesByParentLoader {
    type Value = Vec<TerritoryRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<TerritoryRow>>, Self::Error> {
        Ok(group_by(store::territory_children(&self.0, keys).await?, |r| {
            r.parent_id
        }))
    }
}

pub struct AncestorsByTerritoryLoader(PgPool);

impl Loader<Uuid> for AncestorsByTerritoryLoader {
    type Value = Vec<TerritoryRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<TerritoryRow>>, Self::Error> {
        let rows = store::territory_ancestors(&self.0, keys).await?;
        let grouped = group_by(rows, |(start, _)| Some(*start));
        Ok(grouped
            .into_iter()
            .map(|(k, rows)| (k, rows.into_iter().map(|(_, t)| t).collect()))
            .collect())
    }
}

pub struct OrganisationByIdLoader(PgPool);

impl Loader<Uuid> for OrganisationByIdLoader {
    type Value = OrganisationRow;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, OrganisationRow>, Self::Error> {
        let rows = store::organisations_by_ids(&self.0, keys).await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

pub struct OrganisationsByTerritoryLoader(PgPool);

impl Loader<Uuid> for OrganisationsByTerritoryLoader {
    type Value = Vec<OrganisationRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<OrganisationRow>>, Self::Error> {
        Ok(group_by(
            store::organisations_by_territories(&self.0, keys).await?,
            |r| r.territory_id,
        ))
    }
}
