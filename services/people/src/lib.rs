//! The people subgraph: who acts and where.
//!
//! Layout:
//! - `store`: SQL over the `people` schema (territory, organisation, organisation_abbreviation).
//! - `loaders`: one DataLoader per entity key; `_entities` calls from the gateway go through them.
//! - `graphql`: GraphQL types, queries and mutations; `Territory` and `Organisation` are entities
//!   keyed by `id` that other subgraphs reference.

pub mod graphql;
pub mod loaders;
pub mod store;

use async_graphql::{EmptySubscription, Schema};
use sqlx::PgPool;

pub use graphql::{MutationRoot, QueryRoot};

/// Name of the target, the Postgres schema and the subgraph.
pub const NAME: &str = "people";

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/people");

pub type PeopleSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema; without a pool it can only print its SDL.
pub fn schema(pool: Option<PgPool>) -> PeopleSchema {
    let mut builder = Schema::build(QueryRoot, MutationRoot, EmptySubscription).enable_federation();
    if let Some(pool) = pool {
        builder = builder.data(loaders::Loaders::new(pool.clone())).data(pool);
    }
    if roadmap_common::telemetry::export_enabled() {
        // Resolver spans (request, parse, validation, execute, field) for the trace export.
        builder = builder.extension(async_graphql::extensions::Tracing);
    }
    builder.finish()
}

/// The axum router of this subgraph.
pub fn router(pool: PgPool, secret: roadmap_common::auth::GatewaySecret) -> axum::Router {
    roadmap_common::server::graphql_router(schema(Some(pool.clone())), pool, secret)
}
