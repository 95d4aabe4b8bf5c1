//! The events subgraph: the ordered log of status changes (`Event`, keyed by `id`, ordered by
//! `cursor`), fed by the producers' outboxes, `Subscription.statusChanged`, webhooks and the
//! audit trail.
//!
//! Layout:
//! - this file: the target's [`TARGET`] descriptor (router, consumer, webhook worker) and
//!   [`schema`];
//! - [`graphql`]: the schema's types and roots, one file per type family (`Event` →
//!   `graphql/event.rs`, `Webhook…` → `graphql/webhook.rs`, `AuditEntry` → `graphql/audit.rs`),
//!   `Query.*` in `graphql/query.rs`, `Mutation.*` in `graphql/mutation.rs`,
//!   `Subscription.statusChanged` in `graphql/subscription.rs`;
//! - [`store`]: every SQL statement of the log and the audit trail (the webhooks' own tables are
//!   in [`webhooks::store`]);
//! - [`filter`]: an `EventFilter` checked once, then matched by SQL and by live events alike;
//! - [`scope`]: who sees which events (drafts, a webhook's registrant), by SQL and live alike,
//!   and the consumer's cache of territory ancestries;
//! - [`live`]: the broadcast of newly logged events and the subscription's replay (backlog, then
//!   live, no gap, no duplicate);
//! - [`consumer`]: moves events from the stream (Redis or in-process) into the log, and samples
//!   the Redis consumer group;
//! - [`loaders`]: DataLoaders (events, webhooks, delivery attempts);
//! - [`audit`]: how entries reach the audit trail (this service's own mutations write theirs
//!   directly, `graphql/mutation.rs`);
//! - [`webhooks`]: endpoints, signed deliveries, retries, replay (its own docs).
//!
//! # The path of an event
//!
//! 1. **Outbox.** plans (`MEASURE_STATUS_CHANGED`, `LINK_CONFIRMED`, `LINK_CHANGED`,
//!    `DEADLINE_MISSED` from its deadline watcher, `OCCURRENCE_REPORTED`, `PLAN_IMPORTED`) and
//!    indicators (`TARGET_SET`, `OBSERVATION_RECORDED`) write an outbox row in the transaction of
//!    the change ([`roadmap_common::outbox::record`]): no event without its change, no change
//!    without its event.
//! 2. **Relay.** One task per producing service ([`roadmap_common::outbox::run_relay`], started by
//!    the hub) publishes unpublished rows in order and marks them; woken by `NOTIFY` at commit,
//!    polling every second as a fallback. Transport down → rows stay, retried with backoff
//!    (100 ms doubling to 5 s).
//! 3. **Transport.** With `REDIS_URL`, the Redis Stream `ROADMAP_EVENT_STREAM` (default
//!    `roadmap:events`). Without it, an in-process channel to the events target of the same
//!    process (`up`, tests): the relay marks a batch published only after the consumer has
//!    stored it in the log, so a crash re-publishes rather than loses. Nothing crosses processes
//!    that way: a split deployment needs Redis (a producer without a local events target and
//!    without Redis keeps its rows in the outbox and logs a warning on each retry).
//! 4. **Consumer** ([`consumer::consume`]). Redis: consumer group `events` (created at `0` with `MKSTREAM`,
//!    so events published before the first start are read), consumer name from
//!    `ROADMAP_EVENTS_CONSUMER` (default `events-1`). On every (re)connection it first re-reads
//!    its own pending entries (delivered, not acknowledged: a crash between insert and `XACK`),
//!    then new ones. Each event is inserted once (`ON CONFLICT (id) DO NOTHING`: delivery is at
//!    least once, the log is exactly once), then acknowledged. An entry that cannot be decoded is
//!    logged and acknowledged (it would block the group forever). Only newly inserted events are
//!    broadcast to live subscribers. The insert also creates the event's webhook deliveries, in
//!    the same transaction ([`webhooks::store::enqueue_event`]). Each batch read is a root span
//!    `event batch consumed` with one `event consumed` span per entry (id, kind, outcome); with
//!    Redis, a companion task samples the group every second into the lag and pending gauges
//!    ([`consumer`]'s `monitor_stream`).
//! 5. **Subscription** ([`live`]). `statusChanged(filter, after)` subscribes to the broadcast *before*
//!    reading the backlog after `after`, then replays the backlog in cursor order, then live
//!    events, dropping any with a cursor not above the last one sent: no gap, no duplicate. A
//!    subscriber that falls behind the broadcast buffer (1024 events) catches up from the log.
//!    Without `after`, only live events are sent.
//!
//! **One trace per change.** The W3C trace context travels with the event: the outbox row keeps
//! the mutation's `traceparent`, the relay publishes each event in an `outbox publish` span of
//! that trace and hands its own `traceparent` on (Redis entry or in-process batch), the
//! consumer's `event consumed` span continues it and the log keeps that span's `traceparent`
//! (`event.traceparent`), from which each live `subscription delivery` span and each
//! `webhook delivery` attempt (and its `traceparent` request header) continue. A client that
//! sends `traceparent` with its mutation finds all of these in its own trace. Batch spans
//! (`outbox relay`, `event batch consumed`) stay roots: a batch carries many traces.
//!
//! **One events replica.** Live delivery is a per-process broadcast and the log's cursor is
//! assigned by one consumer inserting in stream order; several events replicas in one consumer
//! group would each see only their share of live events and could commit cursors out of order.
//! Scaling out needs a shared live fan-out (e.g. Postgres `LISTEN` on inserts) first.
//!
//! `Event.measure` / `Event.indicator` / `Event.plan` are entity references (`@key(fields: "id", resolvable:
//! false)`): the router resolves `measure { title plan { title } }` in the plans subgraph within
//! the same subscription.
//!
//! **Occurrences and the calendar**, which the design places here, are served by the plans
//! subgraph (`roadmap_plans::occurrences`, `roadmap_plans::calendar`): whether a reported date is
//! an occurrence depends on the measure's schedule and plan period, which plans owns. This log
//! receives every report as an `OCCURRENCE_REPORTED` event (the replaced report as `before`).
//!
//! # Who sees which events
//!
//! The log follows the rule of `plans`/`measure` ([`roadmap_common::auth::Actor::drafts`]):
//! events of a plan that is a draft **now** are seen only by those who may read that draft
//! (admins, auditors and services everywhere; other users with a role when their scope covers
//! the plan's territory; anonymous users and users without a role never). Everything else is
//! public. This holds for `Query.events`, the `Event` entity, `statusChanged` (graphql-ws and
//! SSE: per subscriber, by the token of its connection) and webhooks.
//!
//! - **What the log knows.** plans records `draft` (the plan's state in the change's transaction)
//!   in each event's `context`; the consumer keeps `plan_visibility` (plan → draft) from it in
//!   the transaction of the insert: `PLAN_APPROVED`, or any event recorded while the plan was
//!   approved, makes a plan public for good (plans never go back to draft); an event recorded
//!   while it was a draft marks it a draft only if nothing is known yet, so an event written
//!   just before an approval but logged after it cannot hide the plan again. Events of other
//!   producers (indicators) that name a known draft plan in `context.plan` are hidden with it.
//! - **Now, not then.** Visibility is the plan's state now, not at the event's time: a draft's
//!   history becomes public when the plan is approved (as the plan itself does), and stays
//!   hidden while it is a draft. Judging by the state at the event's time alone would be the
//!   same for these events, but not for a plan approved later (its earlier events would stay
//!   hidden forever) nor for events logged before `draft` was recorded (they would show a plan
//!   that is still a draft); the latter become hidden as soon as one new event of the plan
//!   arrives.
//! - **Live events are judged once**, as they are logged: a subscriber who could not see a
//!   draft's event does not receive it when the plan is approved later; resuming with `after`
//!   (or `Query.events`) shows it. The same for webhooks: their deliveries are created at
//!   logging time; `replayWebhookEvents` sends a draft's earlier events after its approval.
//! - **Territories.** The consumer stores with each event its territory's ancestry
//!   (`event.territories`, asked of the people subgraph once per territory, [`scope::Territories`]):
//!   a scope covers an event when its root is in it. If people does not answer, the event waits
//!   (like one the log cannot take) rather than being logged unscoped: lag grows on `/metrics`.
//! - **Webhooks** receive what their registrant (stored with the endpoint) may see, and only in
//!   the registrant's territory, approved plans' events included (admins: anywhere): a
//!   municipal editor's webhook gets its municipality's events, not the next one's, and events
//!   without a territory (federal plans) reach only national scopes. A filter naming a
//!   territory outside that scope is refused at registration. Endpoints registered before
//!   registrants were kept get the anonymous view.
//!
//! Filters (`EventFilter`, checked and matched in [`filter`]): `territory`, `plan`, `level` (plan level), `kinds`, `underMeasure`
//! (the subject is that measure or implements it through confirmed links, transitively, as of the
//! moment of the event). They match the `context` the producer recorded.

use futures::future::BoxFuture;
use roadmap_common::people::PeopleClient;
use roadmap_common::target::{Deps, Descriptor, Started};
use sqlx::PgPool;

pub mod audit;
pub mod consumer;
pub mod filter;
pub mod graphql;
pub mod live;
pub mod loaders;
pub mod scope;
pub mod store;
pub mod webhooks;

pub use consumer::{Source, consume};
pub use graphql::{MutationRoot, QueryRoot, SubscriptionRoot};
pub use live::Live;
pub use store::EventRow;

pub const NAME: &str = "events";

/// Consumer group of the events service on the stream.
pub const GROUP: &str = "events";

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/events");

/// The events target: its subgraph, the consumer of the event stream and the webhook worker.
pub const TARGET: Descriptor = Descriptor {
    name: NAME,
    default_port: 4004,
    about: "subgraph: the ordered event log, subscriptions, webhooks, the audit trail",
    migrator: Some(&MIGRATOR),
    sdl: Some(sdl),
    produces_events: false,
    consumes_events: true,
    depends_on: &[],
    // The consumer asks people for territory ancestries (who may see an event), and
    // registering a webhook checks its filter's territory.
    calls: &[roadmap_common::people::PEOPLE],
    ops: true,
    home: roadmap_common::server::GRAPHQL_PATH,
    start,
};

pub type EventsSchema = async_graphql::Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

pub fn schema(pool: Option<PgPool>, live: Option<Live>, people: Option<PeopleClient>) -> EventsSchema {
    let mut builder = async_graphql::Schema::build(QueryRoot, MutationRoot, SubscriptionRoot)
        .enable_federation()
        .enable_subscription_in_federation();
    if let Some(pool) = pool {
        builder = builder.data(loaders::Loaders::new(pool.clone())).data(pool);
    }
    if let Some(people) = people {
        builder = builder.data(people);
    }
    roadmap_common::server::build_schema(builder.data(live.unwrap_or_default()))
}

/// The federation SDL, as `schema/events.graphql` holds it.
fn sdl() -> String {
    schema(None, None, None).sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive())
}

pub fn router(
    pool: PgPool,
    live: Live,
    people: PeopleClient,
    secret: roadmap_common::auth::GatewaySecret,
) -> axum::Router {
    roadmap_common::server::graphql_router(schema(Some(pool.clone()), Some(live), Some(people)), pool, secret)
}

fn start(deps: Deps) -> BoxFuture<'static, anyhow::Result<Started>> {
    Box::pin(async move {
        let pool = deps.pool()?;
        let config = &deps.config;
        let live = Live::default();
        let source = source(&deps)?;
        let people = PeopleClient::new(NAME, deps.url(roadmap_common::people::PEOPLE), deps.secret());
        let territories = scope::Territories::new(people.clone());
        // Own small pools: the consumer keeps up while requests hold the main pool, and the
        // webhook worker's `LISTEN` holds one connection.
        let consumer_pool = roadmap_common::db::connect_schema_quiet(&config.database_url, NAME, 2).await?;
        let worker_pool = roadmap_common::db::connect_schema_quiet(&config.database_url, NAME, 3).await?;
        let consumer = consume(consumer_pool, live.clone(), territories, source, deps.shutdown.clone());
        let worker = webhooks::worker::run(worker_pool, config.webhooks.clone(), deps.shutdown.clone());
        Ok(Started::router(router(pool, live, people, deps.secret()))
            .with_task("event consumer", consumer)
            .with_task("webhook worker", worker))
    })
}

/// Redis when configured, else the in-process channel of this hub (taken once).
fn source(deps: &Deps) -> anyhow::Result<Source> {
    let config = &deps.config;
    match &config.redis_url {
        Some(url) => Ok(Source::Redis {
            url: url.clone(),
            stream: config.event_stream.clone(),
            consumer: config.events_consumer.clone(),
        }),
        None => deps
            .take_in_process_receiver()
            .map(Source::InProcess)
            .ok_or_else(|| anyhow::anyhow!("events: the in-process event channel was already taken")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sdl_is_the_committed_snapshot() {
        let committed = include_str!("../../../schema/events.graphql");
        assert!(
            super::sdl() == committed,
            "schema/events.graphql is stale: run `roadmap-hub compose`"
        );
    }
}
