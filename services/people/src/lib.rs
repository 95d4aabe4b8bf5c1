//! The people subgraph: who acts and where.
//!
//! Layout:
//! - this file: the target's [`TARGET`] descriptor and [`schema`];
//! - [`graphql`]: the schema's types and roots, one file per type family (`Territory` →
//!   `graphql/territory.rs`, `Organisation` → `graphql/organisation.rs`), `Query.*` in
//!   `graphql/query.rs`, `Mutation.*` in `graphql/mutation.rs`; `Territory` and `Organisation`
//!   are entities keyed by `id` that other subgraphs reference;
//! - [`store`]: every SQL statement, over the `people` schema (territory, organisation,
//!   organisation_abbreviation);
//! - [`loaders`]: one DataLoader per entity key; `_entities` calls from the gateway go through
//!   them;
//! - [`units`]: the rules of a school's classes, subject teams and staff roles (organisations
//!   with a parent; a class counts its pupils and never names them).
//! - [`time_zones`]: a territory's time zone (its own, a region's by reference, inherited).

pub mod graphql;
pub mod loaders;
pub mod store;
pub mod time_zones;
pub mod units;

use async_graphql::{EmptySubscription, Schema};
use futures::future::BoxFuture;
use roadmap_common::target::{Deps, Descriptor, Started};
use sqlx::PgPool;

pub use graphql::{MutationRoot, QueryRoot};

/// Name of the target, the Postgres schema and the subgraph.
pub const NAME: &str = "people";

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/people");

/// The people target: its subgraph. Its audit entries go through its outbox, so it produces
/// events (the hub runs its relay).
pub const TARGET: Descriptor = Descriptor {
    name: NAME,
    default_port: 4003,
    about: "subgraph: territories, organisations, abbreviations",
    migrator: Some(&MIGRATOR),
    sdl: Some(sdl),
    produces_events: true,
    consumes_events: false,
    depends_on: &[],
    calls: &[],
    ops: true,
    home: roadmap_common::server::GRAPHQL_PATH,
    start,
};

pub type PeopleSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema; without a pool it can only print its SDL.
pub fn schema(pool: Option<PgPool>) -> PeopleSchema {
    let mut builder = Schema::build(QueryRoot, MutationRoot, EmptySubscription).enable_federation();
    if let Some(pool) = pool {
        builder = builder.data(loaders::Loaders::new(pool.clone())).data(pool);
    }
    roadmap_common::server::build_schema(builder)
}

/// The federation SDL, as `schema/people.graphql` holds it.
pub fn sdl() -> String {
    schema(None).sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive())
}

/// The axum router of this subgraph.
pub fn router(pool: PgPool, secret: roadmap_common::auth::GatewaySecret) -> axum::Router {
    roadmap_common::server::graphql_router(schema(Some(pool.clone())), pool, secret)
}

fn start(deps: Deps) -> BoxFuture<'static, anyhow::Result<Started>> {
    Box::pin(async move { Ok(Started::router(router(deps.pool()?, deps.secret()))) })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sdl_is_the_committed_snapshot() {
        let committed = include_str!("../../../schema/people.graphql");
        assert!(
            super::sdl() == committed,
            "schema/people.graphql is stale: run `roadmap-hub compose`"
        );
    }
}
