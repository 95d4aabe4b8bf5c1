//! The plans subgraph: roadmaps as published, level by level.
//!
//! Layout:
//! - `store`: SQL over the `plans` schema (plan, section, measure, measure_responsible).
//! - `loaders`: DataLoaders per entity and per parent key, so nested fields never run N+1.
//! - `graphql`: types, queries (`plans`, `plan`, `measure`) and mutations (`createPlan`, all or
//!   nothing). `Organisation` and `Territory` are referenced by id and resolved by the people
//!   subgraph through the gateway.

pub mod graphql;
pub mod import;
pub mod loaders;
pub mod people_client;
pub mod store;

use async_graphql::{EmptySubscription, Schema};
use sqlx::PgPool;

pub use graphql::{MutationRoot, QueryRoot};

pub const NAME: &str = "plans";

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/plans");

pub type PlansSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema; without a pool it can only print its SDL. `people` is the people
/// subgraph the importer resolves organisations with.
pub fn schema(pool: Option<PgPool>, people: Option<people_client::PeopleClient>) -> PlansSchema {
    let mut builder = Schema::build(QueryRoot, MutationRoot, EmptySubscription).enable_federation();
    if let Some(pool) = pool {
        builder = builder.data(loaders::Loaders::new(pool.clone())).data(pool);
    }
    if let Some(people) = people {
        builder = builder.data(people);
    }
    builder.finish()
}

/// The axum router of this subgraph; `people_url` is the people subgraph's GraphQL URL.
pub fn router(pool: PgPool, people_url: &str) -> axum::Router {
    let people = people_client::PeopleClient::new(people_url);
    roadmap_common::server::graphql_router(schema(Some(pool.clone()), Some(people)), pool)
}
