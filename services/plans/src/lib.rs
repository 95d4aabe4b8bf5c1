//! The plans subgraph: roadmaps as published, level by level.
//!
//! Layout:
//! - `store`: SQL over the `plans` schema (plan, section, measure, measure_responsible).
//! - `loaders`: DataLoaders per entity and per parent key, so nested fields never run N+1.
//! - `graphql`: types, queries (`plans`, `plan`, `measure`) and mutations (`createPlan`, all or
//!   nothing). `Organisation` and `Territory` are referenced by id and resolved by the people
//!   subgraph through the gateway.
//! - `cascade`: links between levels, traces, statuses (OVERDUE derived), rolled-up progress.
//! - `events`: outbox rows of status-relevant changes, written in the change's transaction.
//! - `deadlines`: the deadline watcher (a `DEADLINE_MISSED` event once per missed due day).
//! - `occurrences`: schedules expanded into dated occurrences, `reportOccurrence`.
//! - `calendar`: the iCalendar feed per organisation, `GET /calendar/organisations/{id}.ics`.

pub mod access;
pub mod calendar;
pub mod cascade;
pub mod deadlines;
pub mod events;
pub mod graphql;
pub mod import;
pub mod indicators_client;
pub mod loaders;
pub mod occurrences;
pub mod people_client;
pub mod similarity;
pub mod store;

use async_graphql::{EmptySubscription, Schema};
use sqlx::PgPool;

pub use graphql::{MutationRoot, QueryRoot};

pub const NAME: &str = "plans";

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/plans");

pub type PlansSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema; without a pool it can only print its SDL. `people` is the people
/// subgraph the importer resolves organisations with.
pub fn schema(
    pool: Option<PgPool>,
    people: Option<people_client::PeopleClient>,
    clock: roadmap_common::clock::Clock,
) -> PlansSchema {
    schema_with(pool, people, None, clock)
}

/// [`schema`] with the indicators subgraph the importer hands indicator targets to.
pub fn schema_with(
    pool: Option<PgPool>,
    people: Option<people_client::PeopleClient>,
    indicators: Option<indicators_client::IndicatorsClient>,
    clock: roadmap_common::clock::Clock,
) -> PlansSchema {
    let mut builder = Schema::build(QueryRoot, MutationRoot::default(), EmptySubscription)
        .enable_federation()
        .data(clock);
    if let Some(pool) = pool {
        builder = builder.data(loaders::Loaders::new(pool.clone())).data(pool);
    }
    if roadmap_common::telemetry::export_enabled() {
        // Resolver spans (request, parse, validation, execute, field) for the trace export.
        builder = builder.extension(async_graphql::extensions::Tracing);
    }
    if let Some(people) = people {
        builder = builder.data(people);
    }
    if let Some(indicators) = indicators {
        builder = builder.data(indicators);
    }
    builder.finish()
}

/// The axum router of this subgraph (GraphQL and the calendar feeds); `people_url` and
/// `indicators_url` are the people and indicators subgraphs' GraphQL URLs, `clock` decides what
/// "today" is for overdue measures.
pub fn router(
    pool: PgPool,
    people_url: &str,
    indicators_url: &str,
    clock: roadmap_common::clock::Clock,
    secret: roadmap_common::auth::GatewaySecret,
) -> axum::Router {
    let people = people_client::PeopleClient::new(people_url, secret.clone());
    let indicators = indicators_client::IndicatorsClient::new(indicators_url, secret.clone());
    roadmap_common::server::graphql_router(
        schema_with(Some(pool.clone()), Some(people.clone()), Some(indicators), clock),
        pool.clone(),
        secret,
    )
    .merge(calendar::routes(pool, people))
}
