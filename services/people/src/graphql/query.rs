//! `Query`: lists and lookups of territories and organisations, and the entity resolvers the
//! gateway calls for `Territory` and `Organisation` references.

use async_graphql::{Context, ID, Object, Result};
use sqlx::PgPool;

use roadmap_common::parse_id;

use crate::graphql::{Organisation, Territory, TerritoryKind};
use crate::loaders::Loaders;
use crate::store;

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// Territories, optionally of one kind and/or under one parent.
    async fn territories(
        &self,
        ctx: &Context<'_>,
        kind: Option<TerritoryKind>,
        parent: Option<ID>,
    ) -> Result<Vec<Territory>> {
        let parent = parent.as_ref().map(|p| parse_id("parent", p)).transpose()?;
        let rows = store::list_territories(ctx.data::<PgPool>()?, kind.map(TerritoryKind::as_db), parent).await?;
        Ok(rows.into_iter().map(Territory).collect())
    }

    async fn territory(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Territory>> {
        let id = parse_id("id", &id)?;
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders.territory_by_id.load_one(id).await?.map(Territory))
    }

    /// The territories of a path of names from the root down ("Region", "Municipality",
    /// "Settlement"), as far as they exist: what an import naming this path would find, and so
    /// which of its parts it would create. Reads only.
    async fn territory_path(&self, ctx: &Context<'_>, names: Vec<String>) -> Result<Vec<Territory>> {
        if names.len() > 3 {
            return Err(roadmap_common::ServiceError::invalid("names", "has more than three parts").into());
        }
        let names: Vec<String> = names.iter().map(|n| n.trim().to_string()).collect();
        let rows = store::territory_path(ctx.data::<PgPool>()?, &names).await?;
        Ok(rows.into_iter().map(Territory).collect())
    }

    /// Organisations whose name contains `search` or whose abbreviation equals it.
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        territory: Option<ID>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<Organisation>> {
        let territory = territory.as_ref().map(|t| parse_id("territory", t)).transpose()?;
        let limit = roadmap_common::relay::page_size(Some(first), 50, 500)?;
        let rows = store::search_organisations(ctx.data::<PgPool>()?, search.as_deref(), territory, limit).await?;
        Ok(rows.into_iter().map(Organisation).collect())
    }

    async fn organisation(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organisation>> {
        let id = parse_id("id", &id)?;
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders.organisation_by_id.load_one(id).await?.map(Organisation))
    }

    #[graphql(entity)]
    async fn find_territory_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Territory>> {
        self.territory(ctx, id).await
    }

    #[graphql(entity)]
    async fn find_organisation_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organisation>> {
        self.organisation(ctx, id).await
    }
}
