//! `Territory`, `TerritoryKind` and the input that creates a territory.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};

use crate::graphql::Organisation;
use crate::loaders::Loaders;
use crate::store::TerritoryRow;

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum TerritoryKind {
    Country,
    Region,
    Municipality,
    Settlement,
}

roadmap_common::db_enum!(TerritoryKind {
    Country => "COUNTRY",
    Region => "REGION",
    Municipality => "MUNICIPALITY",
    Settlement => "SETTLEMENT",
});

/// A region, municipality or other territory; a scope covers its descendants.
pub struct Territory(pub TerritoryRow);

#[Object]
impl Territory {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn kind(&self) -> Option<TerritoryKind> {
        TerritoryKind::from_db(&self.0.kind)
    }

    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Territory>> {
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders.territory_by_id.load_one(parent).await?.map(Territory))
    }

    /// The territories above this one, nearest first (parent, grandparent, ..., the root).
    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<Territory>> {
        let loaders = ctx.data::<Loaders>()?;
        let rows = loaders.ancestors_by_territory.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Territory).collect())
    }

    /// The IANA time zone (e.g. `Asia/Chita`) in which this territory's plans take "today" and
    /// OVERDUE: its own, else a region's by reference, else the nearest ancestor's, else
    /// `Europe/Moscow`.
    async fn time_zone(&self, ctx: &Context<'_>) -> Result<String> {
        if let Some(zone) = self.0.time_zone.as_deref() {
            return Ok(zone.to_string());
        }
        let ancestors = match self.0.parent_id {
            Some(_) => ctx
                .data::<Loaders>()?
                .ancestors_by_territory
                .load_one(self.0.id)
                .await?
                .unwrap_or_default(),
            None => Vec::new(),
        };
        Ok(crate::time_zones::effective(&self.0, &ancestors).to_string())
    }

    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Territory>> {
        let loaders = ctx.data::<Loaders>()?;
        let rows = loaders.territories_by_parent.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Territory).collect())
    }

    async fn organisations(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        let loaders = ctx.data::<Loaders>()?;
        let rows = loaders.organisations_by_territory.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Organisation).collect())
    }
}

#[derive(InputObject)]
pub struct CreateTerritoryInput {
    pub name: String,
    pub kind: TerritoryKind,
    pub parent: Option<ID>,
    /// The territory's own IANA time zone (`Asia/Chita`); unset: by reference for a region, else
    /// inherited (see `Territory.timeZone`).
    pub time_zone: Option<String>,
}
