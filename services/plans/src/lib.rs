//! The plans subgraph: roadmaps as published, level by level.
//!
//! Layout:
//! - this file: the target's [`TARGET`] descriptor (router with the calendar feeds and exports, deadline
//!   watcher, plan counts refresher, reach warmer) and [`schema`];
//! - [`graphql`]: the schema's types and roots, one file per type family (`Plan` →
//!   `graphql/plan.rs`, `Measure` → `graphql/measure.rs`, `MeasureLink` and the other cascade
//!   types → `graphql/link.rs`, ...), `Query.*` in `graphql/query.rs`, `Mutation.*` in
//!   `graphql/mutation.rs`. `Organisation` and `Territory` are referenced by id and resolved by
//!   the people subgraph through the gateway;
//! - [`store`]: every SQL statement, over the `plans` schema, one file per area (plans,
//!   measures, cascade, import, occurrences, deadlines, calendar, outbox context);
//! - [`loaders`]: DataLoaders per entity and per parent key, so nested fields never run N+1;
//! - [`outbox`]: the events of status-relevant changes, written as outbox rows in the change's
//!   transaction;
//! - [`access`]: who may see drafts and change plans (rules in `roadmap_common::auth`), scope
//!   checks through the people subgraph;
//! - [`cascade`]: the rules of links between levels: effective status (OVERDUE derived),
//!   rolled-up progress (stored and kept by the database's triggers), trace trees (pure);
//! - [`classroom`]: class plans (CLASSROOM): owned by a class or staff role, no personal names
//!   in their text or reports, schedules parsed when entered by hand (pure);
//! - [`similarity`]: BM25 over stemmed Russian titles, ranking link suggestions (pure);
//! - [`occurrences`]: schedules expanded into dated occurrences, checks of occurrence reports
//!   (pure);
//! - [`import`]: a roadmap document imported as a plan (parse, resolve parties, write a
//!   version), all or nothing;
//! - [`versions`]: what changed between two imported versions of a plan, measure by measure
//!   (pure);
//! - [`deadlines`]: the deadline watcher (a `DEADLINE_MISSED` event once per missed due day);
//! - [`counts`]: measure counts per group of plans (a territory's plans of one state, zone and
//!   period) stored for `Territory.measureCounts`, and their refresher;
//! - [`reach`]: the warmer of the stored reach (where each measure is carried out, read by
//!   `Measure.coverage`, `Plan.implementationByTerritory`, `Territory.coverageGaps`);
//! - [`calendar`]: the iCalendar feed per organisation, `GET /calendar/organisations/{id}.ics`;
//! - [`export`]: a plan as CSV or XLSX, `GET /export/plans/{id}.csv|.xlsx` (signed links for
//!   drafts), and the derived columns the importer ignores;
//! - [`indicators_client`]: hands imported indicator targets to the indicators subgraph (the
//!   people subgraph's client is `roadmap_common::people`).

pub mod access;
pub mod calendar;
pub mod cascade;
pub mod classroom;
pub mod counts;
pub mod deadlines;
pub mod export;
pub mod graphql;
pub mod import;
pub mod indicators_client;
pub mod loaders;
pub mod occurrences;
pub mod outbox;
pub mod reach;
pub mod similarity;
pub mod store;
pub mod versions;

use async_graphql::{EmptySubscription, Schema};
use futures::future::BoxFuture;
use roadmap_common::clock::Clock;
use roadmap_common::people::{PEOPLE, PeopleClient};
use roadmap_common::target::{Deps, Descriptor, Started};
use sqlx::PgPool;

use indicators_client::IndicatorsClient;

pub use graphql::{MutationRoot, QueryRoot};

pub const NAME: &str = "plans";

/// The indicators subgraph, which the importer hands indicator targets to.
const INDICATORS: &str = "indicators";

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/plans");

/// The plans target: its subgraph with the calendar feeds, the deadline watcher and the plan
/// counts refresher.
pub const TARGET: Descriptor = Descriptor {
    name: NAME,
    default_port: 4001,
    about: "subgraph: plans, sections, measures, links, statuses, deadlines, occurrences, calendar feed",
    migrator: Some(&MIGRATOR),
    sdl: Some(sdl),
    produces_events: true,
    consumes_events: false,
    depends_on: &[],
    calls: &[PEOPLE, INDICATORS],
    ops: true,
    home: roadmap_common::server::GRAPHQL_PATH,
    start,
};

pub type PlansSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema; without a pool it can only print its SDL. `people` is the people
/// subgraph the importer resolves organisations with.
pub fn schema(pool: Option<PgPool>, people: Option<PeopleClient>, clock: Clock) -> PlansSchema {
    schema_with(pool, people, None, clock)
}

/// [`schema`] with the indicators subgraph the importer hands indicator targets to.
pub fn schema_with(
    pool: Option<PgPool>,
    people: Option<PeopleClient>,
    indicators: Option<IndicatorsClient>,
    clock: Clock,
) -> PlansSchema {
    schema_signing(pool, people, indicators, clock, None)
}

/// [`schema_with`] with the signer of export links to drafts (`Plan.exports`); without one,
/// drafts get bare links, which only serve approved plans.
fn schema_signing(
    pool: Option<PgPool>,
    people: Option<PeopleClient>,
    indicators: Option<IndicatorsClient>,
    clock: Clock,
    signer: Option<export::LinkSigner>,
) -> PlansSchema {
    let mut builder = Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .enable_federation()
        .data(clock);
    if let (Some(pool), Some(people)) = (&pool, &people) {
        builder = builder.data(graphql::audit::AuditLoaders::new(pool.clone(), people.clone()));
    }
    if let Some(pool) = pool {
        builder = builder.extension(loaders::PerRequest(pool.clone())).data(pool);
    }
    if let Some(people) = people {
        builder = builder.data(people);
    }
    if let Some(indicators) = indicators {
        builder = builder.data(indicators);
    }
    if let Some(signer) = signer {
        builder = builder.data(signer);
    }
    roadmap_common::server::build_schema(builder)
}

/// The federation SDL, as `schema/plans.graphql` holds it.
pub fn sdl() -> String {
    schema(None, None, Clock::default())
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive())
}

/// The axum router of this subgraph (GraphQL, the calendar feeds and the plan exports); `people_url` and
/// `indicators_url` are the people and indicators subgraphs' GraphQL URLs, `clock` decides what
/// "today" is for overdue measures.
pub fn router(
    pool: PgPool,
    people_url: &str,
    indicators_url: &str,
    clock: Clock,
    secret: roadmap_common::auth::GatewaySecret,
) -> axum::Router {
    let people = PeopleClient::new(NAME, people_url, secret.clone());
    let indicators = IndicatorsClient::new(indicators_url, secret.clone());
    let signer = export::LinkSigner::new(secret.clone());
    roadmap_common::server::graphql_router(
        schema_signing(
            Some(pool.clone()),
            Some(people.clone()),
            Some(indicators),
            clock,
            Some(signer.clone()),
        ),
        pool.clone(),
        secret,
    )
    .merge(calendar::routes(pool.clone(), people))
    .merge(export::routes(pool, signer, clock))
}

fn start(deps: Deps) -> BoxFuture<'static, anyhow::Result<Started>> {
    Box::pin(async move {
        let pool = deps.pool()?;
        let config = &deps.config;
        let router = router(
            pool,
            &deps.url(PEOPLE),
            &deps.url(INDICATORS),
            config.clock,
            deps.secret(),
        );
        // Its own connection: a pass holds one for its batch while requests hold the main pool.
        let watcher_pool = roadmap_common::db::connect_schema_quiet(&config.database_url, NAME, 1).await?;
        let watcher = deadlines::run(
            watcher_pool,
            config.clock,
            config.deadline_interval,
            deps.shutdown.clone(),
        );
        // Its own connection too: a batch holds one while it counts a hundred groups of plans.
        let counts_pool = roadmap_common::db::connect_schema_quiet(&config.database_url, NAME, 1).await?;
        let refresher = counts::run(
            counts_pool,
            config.clock,
            config.deadline_interval,
            deps.shutdown.clone(),
        );
        // And the reach warmer: a batch may walk a federal measure's whole cascade.
        let reach_pool = roadmap_common::db::connect_schema_quiet(&config.database_url, NAME, 1).await?;
        let warmer = reach::run(reach_pool, deps.shutdown.clone());
        Ok(Started::router(router)
            .with_task("deadline watcher", watcher)
            .with_task("plan counts refresher", refresher)
            .with_task("reach warmer", warmer))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sdl_is_the_committed_snapshot() {
        let committed = include_str!("../../../schema/plans.graphql");
        assert!(
            super::sdl() == committed,
            "schema/plans.graphql is stale: run `roadmap-hub compose`"
        );
    }
}
