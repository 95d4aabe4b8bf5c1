//! The indicators subgraph: indicator definitions, baselines and targets plans set, observed
//! values, and rollups for dashboards.
//!
//! Layout:
//! - this file: the target's [`TARGET`] descriptor, [`schema`] and [`router`].
//! - [`graphql`]: types and resolvers, one file per type family (`Indicator` →
//!   `graphql/indicator.rs`, `IndicatorTarget` → `graphql/target.rs`, `Observation` →
//!   `graphql/observation.rs`, `Territory`/`TerritoryIndicator`/`Organisation` →
//!   `graphql/territory.rs`, `Plan`/`Measure` → `graphql/plan.rs`, `Rollup` →
//!   `graphql/rollup.rs`), `Query.*` in `graphql/query.rs`, `Mutation.*` in
//!   `graphql/mutation.rs`. `Indicator` is this subgraph's entity; `Territory`, `Plan` and
//!   `Measure` are entities of other subgraphs that this one extends (same `@key(id)`) with
//!   `Territory.indicators/rollup/series`, `Plan.targets` and `Measure.contributesTo`;
//!   `Indicator.measures` goes back to plans.
//! - [`store`]: every SQL statement, over the `indicators` schema (indicator, indicator_target,
//!   observation, measure_indicator).
//! - [`loaders`]: one DataLoader per key; rollups of any number of territories cost three
//!   statements whatever the depth of their trees, two when their indexes are kept ([`cache`]).
//! - [`cache`]: the rollup indexes kept between requests, exact by a generation the observations'
//!   writes bump (migration `0006`).
//! - [`outbox`]: the events every status-relevant write records in its transaction, and the
//!   commit that ends every mutation (events, audit entry, commit).
//! - [`rollup`]: the arithmetic (weighted means, gaps, direction-aware status, ranks) and the
//!   assembly of a rollup from its rows, pure and unit-tested; its docs state the rules.
//! - [`values`]: decimal text as written, subject keys, comparators, range checks; pure.
//! - [`seed`]: the indicators seed roadmaps set targets for, created on demand.
//!
//! The people subgraph ([`roadmap_common::people::PeopleClient`]) says where an observation rolls
//! up to and checks scopes; the plans subgraph ([`plans_client`]) says which territory a
//! measure's plan is in, so linking a measure to an indicator checks it.
//!
//! Decisions:
//! - **The tree.** This service never reads another service's schema. Each observation stores
//!   the units above the one it is about, asked from the people subgraph once when it is
//!   recorded: `organisation_path` (a class: its school) and `territory_path` (the organisation's
//!   territory and that territory's ancestors, or a territory's own ancestors), plus
//!   `parent_territory_id`, the territory it rolls up into directly (none for a class). A rollup
//!   of any unit reads every observation whose path holds it, in one indexed statement however
//!   deep (kept, as an index, until the indicator's observations change: [`cache`]), and
//!   rebuilds the tree from the paths ([`rollup`]): a region's rollup reaches its
//!   municipalities, their schools and the schools' classes, also through units that report
//!   nothing themselves. A unit moved to another parent later keeps its old path on values
//!   already recorded (re-record to move them). Values without a path (recorded before classes
//!   existed, or bulk-loaded by `generate`) roll up one level into `parent_territory_id`. The
//!   children a rollup knows are those with data in any period: children that never reported
//!   are invisible to it; those that reported other periods or subjects count as
//!   `missingChildren`.
//! - **Result sources.** `OFFICIAL` (the exam's results), `MOCK_EXAM`, `DIAGNOSTIC`: one value per
//!   unit, period, subject and source; rollups keep each source apart (`Rollup.bySource`) and
//!   their main value is the official one. The free-text `source` ("РЦОИ") says who reported it.
//! - **Counts, not pupils.** A class-level value is a count or a share with its numerator and
//!   denominator (5 of 24); nothing about a pupil is stored.
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

pub mod cache;
pub mod graphql;
pub mod loaders;
pub mod outbox;
pub mod plans_client;
pub mod rollup;
pub mod seed;
pub mod store;
pub mod values;

use async_graphql::{EmptySubscription, Schema};
use futures::future::BoxFuture;
use sqlx::PgPool;

use roadmap_common::auth::GatewaySecret;
use roadmap_common::people::{PEOPLE, PeopleClient};
use roadmap_common::target::{Deps, Descriptor, Started};

use crate::plans_client::PlansClient;

pub use graphql::{MutationRoot, QueryRoot};

pub const NAME: &str = "indicators";

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/indicators");

/// The indicators target: its subgraph (it calls people, and its outbox feeds the event stream).
pub const TARGET: Descriptor = Descriptor {
    name: NAME,
    default_port: 4002,
    about: "subgraph: indicators, baselines, targets, observations, rollups",
    migrator: Some(&MIGRATOR),
    sdl: Some(sdl),
    produces_events: true,
    consumes_events: false,
    depends_on: &[],
    calls: &[PEOPLE, plans_client::PLANS],
    ops: true,
    home: roadmap_common::server::GRAPHQL_PATH,
    start,
};

pub type IndicatorsSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema; without a pool it can only print its SDL. `people` is the people subgraph
/// observations are placed in the territory tree with.
pub fn schema(pool: Option<PgPool>, people: Option<PeopleClient>, plans: Option<PlansClient>) -> IndicatorsSchema {
    let mut builder = Schema::build(QueryRoot, MutationRoot, EmptySubscription).enable_federation();
    if let Some(pool) = pool {
        builder = builder.data(loaders::Loaders::new(pool.clone())).data(pool);
    }
    if let Some(people) = people {
        builder = builder.data(people);
    }
    if let Some(plans) = plans {
        builder = builder.data(plans);
    }
    roadmap_common::server::build_schema(builder)
}

/// The federation SDL, as `schema/indicators.graphql` holds it.
fn sdl() -> String {
    schema(None, None, None).sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive())
}

/// The axum router of this subgraph; `people_url` and `plans_url` are the people and plans
/// subgraphs' GraphQL URLs.
pub fn router(pool: PgPool, people_url: &str, plans_url: &str, secret: GatewaySecret) -> axum::Router {
    let people = PeopleClient::new(NAME, people_url, secret.clone());
    let plans = PlansClient::new(plans_url, secret.clone());
    roadmap_common::server::graphql_router(schema(Some(pool.clone()), Some(people), Some(plans)), pool, secret)
}

fn start(deps: Deps) -> BoxFuture<'static, anyhow::Result<Started>> {
    Box::pin(async move {
        let (people, plans) = (deps.url(PEOPLE), deps.url(plans_client::PLANS));
        Ok(Started::router(router(deps.pool()?, &people, &plans, deps.secret())))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sdl_is_the_committed_snapshot() {
        let committed = include_str!("../../../schema/indicators.graphql");
        assert!(
            super::sdl() == committed,
            "schema/indicators.graphql is stale: run `roadmap-hub compose`"
        );
    }
}
