//! The indicators subgraph: indicator definitions, baselines and targets plans set, observed
//! values, and rollups for dashboards.
//!
//! Layout:
//! - `store`: SQL over the `indicators` schema (indicator, indicator_target, observation,
//!   measure_indicator).
//! - `loaders`: one DataLoader per key; rollups of any number of territories cost two statements.
//! - `rollup`: the arithmetic (weighted means, gaps, direction-aware status, ranks), pure and
//!   unit-tested; its docs state the status rule.
//! - `graphql`: types, queries and mutations. `Indicator` is this subgraph's entity; `Territory`,
//!   `Plan` and `Measure` are entities of other subgraphs that this one extends (same `@key(id)`)
//!   with `Territory.indicators/rollup/series`, `Plan.targets` and `Measure.contributesTo`;
//!   `Indicator.measures` goes back to plans.
//! - `people_client`: asks the people subgraph where an observation rolls up to.
//! - `events`: the hook every status-relevant write calls inside its transaction.
//!
//! Decisions:
//! - **Territory tree.** This service never reads another service's schema. Each observation
//!   stores `parent_territory_id`, the territory it rolls up into, asked from the people subgraph
//!   once when it is recorded: a territory's parent for a territory's own value, the
//!   organisation's territory for a school's. A region's rollup is then its municipalities'
//!   observations, a municipality's its schools', in one indexed query. A territory moved to
//!   another parent later keeps its old parent on values already recorded (re-record to move
//!   them). The children a rollup knows are those that reported the indicator in any period:
//!   children that never reported are invisible to it; those that reported other periods or
//!   subjects count as `missingChildren`.
//! - **Periods** are years (the exam campaign's year). A plan target without a year (goal
//!   sentences: "снижение доли ... до 12 %") is for the year the plan's period ends in.
//! - **Values** keep their text as written (`valueRaw`, "32,79") next to an exact NUMERIC; the
//!   API reads them as floats.
//! - **Several plans** may set a target for the same territory, period and subject; rollups and
//!   `TerritoryIndicator.target` use the most recently set one.
//! - **Plan targets** come from the plans importer through `recordPlanTargets`, after the plan's
//!   own transaction committed: best-effort but idempotent (the mutation replaces that plan's
//!   targets in one transaction), so a failed load is repaired by re-importing. The seed
//!   indicators (`ege_below_min`, `oge_below_min`: %, lower is better, weighted mean by
//!   participants, by subject) are created on demand.

pub mod events;
pub mod graphql;
pub mod loaders;
pub mod people_client;
pub mod rollup;
pub mod store;

use async_graphql::{EmptySubscription, Schema};
use sqlx::PgPool;

pub use graphql::{MutationRoot, QueryRoot};

pub const NAME: &str = "indicators";

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/indicators");

pub type IndicatorsSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema; without a pool it can only print its SDL. `people` is the people subgraph
/// observations are placed in the territory tree with.
pub fn schema(pool: Option<PgPool>, people: Option<people_client::PeopleClient>) -> IndicatorsSchema {
    let mut builder = Schema::build(QueryRoot, MutationRoot, EmptySubscription).enable_federation();
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
    builder.finish()
}

/// The axum router of this subgraph; `people_url` is the people subgraph's GraphQL URL.
pub fn router(pool: PgPool, people_url: &str, secret: roadmap_common::auth::GatewaySecret) -> axum::Router {
    let people = people_client::PeopleClient::new(people_url, secret.clone());
    roadmap_common::server::graphql_router(schema(Some(pool.clone()), Some(people)), pool, secret)
}
