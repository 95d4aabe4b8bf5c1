//! The indicators subgraph. For now it owns indicator definitions (`Indicator`, keyed by `id`);
//! baselines, targets, observations and rollups are added on this base.

use async_graphql::{Context, EmptySubscription, ID, InputObject, Object, Result, Schema};
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use roadmap_common::ServiceError;

pub const NAME: &str = "indicators";

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/indicators");

pub type IndicatorsSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

pub fn schema(pool: Option<PgPool>) -> IndicatorsSchema {
    let mut builder = Schema::build(QueryRoot, MutationRoot, EmptySubscription).enable_federation();
    if let Some(pool) = pool {
        builder = builder.data(pool);
    }
    builder.finish()
}

pub fn router(pool: PgPool) -> axum::Router {
    roadmap_common::server::graphql_router(schema(Some(pool.clone())), pool)
}

/// A row of `indicator`.
#[derive(FromRow, Clone, Debug)]
pub struct Indicator {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub unit: String,
}

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    async fn indicators(&self, ctx: &Context<'_>) -> Result<Vec<IndicatorNode>> {
        let rows: Vec<Indicator> = sqlx::query_as("SELECT id, code, name, unit FROM indicator ORDER BY code")
            .fetch_all(ctx.data::<PgPool>()?)
            .await
            .map_err(ServiceError::from)?;
        Ok(rows.into_iter().map(IndicatorNode).collect())
    }

    #[graphql(entity)]
    async fn find_indicator_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<IndicatorNode>> {
        let id = Uuid::parse_str(id.as_str()).map_err(|_| ServiceError::invalid("id", "is not a valid id"))?;
        let row: Option<Indicator> = sqlx::query_as("SELECT id, code, name, unit FROM indicator WHERE id = $1")
            .bind(id)
            .fetch_optional(ctx.data::<PgPool>()?)
            .await
            .map_err(ServiceError::from)?;
        Ok(row.map(IndicatorNode))
    }
}

/// A measurable quantity a plan sets targets for (e.g. share of graduates below the minimum score).
pub struct IndicatorNode(pub Indicator);

#[Object(name = "Indicator")]
impl IndicatorNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn code(&self) -> &str {
        &self.0.code
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn unit(&self) -> &str {
        &self.0.unit
    }
}

#[derive(InputObject)]
pub struct CreateIndicatorInput {
    pub code: String,
    pub name: String,
    pub unit: String,
}

pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    async fn create_indicator(&self, ctx: &Context<'_>, input: CreateIndicatorInput) -> Result<IndicatorNode> {
        for (field, value) in [("input.code", &input.code), ("input.name", &input.name)] {
            if value.trim().is_empty() {
                return Err(ServiceError::invalid(field, "must not be empty").into());
            }
        }
        let row: Indicator = sqlx::query_as(
            "INSERT INTO indicator (id, code, name, unit) VALUES ($1, $2, $3, $4) RETURNING id, code, name, unit",
        )
        .bind(Uuid::new_v4())
        .bind(input.code.trim())
        .bind(input.name.trim())
        .bind(input.unit.trim())
        .fetch_one(ctx.data::<PgPool>()?)
        .await
        .map_err(ServiceError::from)?;
        Ok(IndicatorNode(row))
    }
}
