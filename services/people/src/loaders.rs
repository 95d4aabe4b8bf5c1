//! DataLoaders of the people subgraph, one per entity key. They are shared by all requests
//! without a cache, so they batch without ever serving stale rows.

use roadmap_common::LoadError;
use std::collections::HashMap;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};
use roadmap_common::metrics::Measured;
use sqlx::PgPool;
use uuid::Uuid;

use crate::store::{self, OrganisationRow, TerritoryRow};

/// How long a loader waits for more keys before querying: sibling fields are resolved in the
/// same poll, so a short wait is enough to batch them.
pub const BATCH_DELAY: Duration = Duration::from_micros(500);

pub struct Loaders {
    pub territory_by_id: DataLoader<Measured<TerritoryByIdLoader>>,
    pub territories_by_parent: DataLoader<Measured<TerritoriesByParentLoader>>,
    pub organisation_by_id: DataLoader<Measured<OrganisationByIdLoader>>,
    pub organisations_by_territory: DataLoader<Measured<OrganisationsByTerritoryLoader>>,
}

impl Loaders {
    pub fn new(pool: PgPool) -> Self {
        Self {
            territory_by_id: DataLoader::new(
                Measured::new(TerritoryByIdLoader(pool.clone())),
                roadmap_common::metrics::spawn_in_current_span,
            )
            .delay(BATCH_DELAY),
            territories_by_parent: DataLoader::new(
                Measured::new(TerritoriesByParentLoader(pool.clone())),
                roadmap_common::metrics::spawn_in_current_span,
            )
            .delay(BATCH_DELAY),
            organisation_by_id: DataLoader::new(
                Measured::new(OrganisationByIdLoader(pool.clone())),
                roadmap_common::metrics::spawn_in_current_span,
            )
            .delay(BATCH_DELAY),
            organisations_by_territory: DataLoader::new(
                Measured::new(OrganisationsByTerritoryLoader(pool)),
                roadmap_common::metrics::spawn_in_current_span,
            )
            .delay(BATCH_DELAY),
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
        let mut map: HashMap<Uuid, Vec<TerritoryRow>> = HashMap::new();
        for row in store::territory_children(&self.0, keys).await? {
            if let Some(parent) = row.parent_id {
                map.entry(parent).or_default().push(row);
            }
        }
        Ok(map)
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
        let mut map: HashMap<Uuid, Vec<OrganisationRow>> = HashMap::new();
        for row in store::organisations_by_territories(&self.0, keys).await? {
            if let Some(t) = row.territory_id {
                map.entry(t).or_default().push(row);
            }
        }
        Ok(map)
    }
}
