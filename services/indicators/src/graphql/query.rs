//! `Query`: indicators by id or code, and the entity resolvers (`find_<type>_by_id`) the router
//! calls for `Indicator` and for the other subgraphs' entities this one extends.

use async_graphql::{Context, ID, Object, Result};
use sqlx::PgPool;

use roadmap_common::{ServiceError, parse_id};

use super::{Indicator, Measure, Organisation, Plan, Territory};
use crate::loaders::Loaders;
use crate::store;

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    async fn indicators(&self, ctx: &Context<'_>) -> Result<Vec<Indicator>> {
        let rows = store::list_indicators(ctx.data::<PgPool>()?).await?;
        Ok(rows.into_iter().map(Indicator).collect())
    }

    /// One indicator by id or by code.
    async fn indicator(&self, ctx: &Context<'_>, id: Option<ID>, code: Option<String>) -> Result<Option<Indicator>> {
        let loaders = ctx.data::<Loaders>()?;
        match (id, code) {
            (Some(id), None) => {
                let id = parse_id("id", &id)?;
                Ok(loaders.indicator_by_id.load_one(id).await?.map(Indicator))
            }
            (None, Some(code)) => Ok(loaders
                .indicator_by_code
                .load_one(code.trim().to_string())
                .await?
                .map(Indicator)),
            _ => Err(ServiceError::invalid("id", "give exactly one of id and code").into()),
        }
    }

    #[graphql(entity)]
    async fn find_indicator_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Indicator>> {
        let id = parse_id("id", &id)?;
        Ok(ctx
            .data::<Loaders>()?
            .indicator_by_id
            .load_one(id)
            .await?
            .map(Indicator))
    }

    #[graphql(entity)]
    async fn find_territory_by_id(&self, id: ID) -> Result<Territory> {
        Ok(Territory {
            id: parse_id("id", &id)?,
        })
    }

    #[graphql(entity)]
    async fn find_organisation_by_id(&self, id: ID) -> Organisation {
        Organisation { id }
    }

    #[graphql(entity)]
    async fn find_plan_by_id(&self, id: ID) -> Result<Plan> {
        Ok(Plan {
            id: parse_id("id", &id)?,
        })
    }

    #[graphql(entity)]
    async fn find_measure_by_id(&self, id: ID) -> Result<Measure> {
        Ok(Measure {
            id: parse_id("id", &id)?,
        })
    }
}
