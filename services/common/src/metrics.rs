//! Prometheus metrics of the subgraphs, served on `/metrics` by every subgraph target.
//!
//! One registry per process: when several subgraphs run in one process (`up`), each subgraph's
//! `/metrics` shows the series of all of them, told apart by their `subgraph` label. The
//! `prometheus` crate is the version the router already depends on (one copy in the build).
//!
//! Series (all prefixed `roadmap_`):
//! - `http_requests_total{subgraph,method,route,status}` and
//!   `http_request_duration_seconds{subgraph,method,route}`: every routed request (axum middleware).
//! - `dataloader_batch_size{loader}`: keys per DataLoader batch ([`Measured`] wraps a loader).
//! - `db_pool_connections{subgraph,state="open"|"idle"|"max"}`: the sqlx pool, sampled at scrape.
//! - Registered here (0 for every subgraph from the start), filled by the event stream (outbox
//!   relay, Redis streams, subscriptions, webhooks): `outbox_lag_events{subgraph}`,
//!   `redis_stream_lag_entries{subgraph}` (entries of the event stream not yet delivered to the
//!   consumer group: `lag` of `XINFO GROUPS`), `redis_stream_pending_entries{subgraph}`
//!   (delivered to the group, not yet acknowledged: the count of `XPENDING`); both sampled every
//!   second by the events consumer when `REDIS_URL` is set, 0 without Redis.
//!   `subscribers{subgraph}`,
//!   `deadlines_pending{subgraph}` (set by the plans deadline watcher after each pass),
//!   `webhook_deliveries_total{subgraph,outcome}` (webhook attempts by outcome: `delivered`,
//!   `retry`, `failed` when the retry schedule is exhausted, `gone` for 410) and
//!   `webhook_failures_total{subgraph}` (attempts that were not delivered).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use async_graphql::dataloader::Loader;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder, exponential_buckets,
};
use sqlx::PgPool;
use tracing::Instrument;

/// The `outcome` labels of `webhook_deliveries_total`.
pub const WEBHOOK_OUTCOMES: [&str; 4] = ["delivered", "retry", "failed", "gone"];

/// The process-wide metrics of the subgraphs.
pub struct Metrics {
    pub registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub dataloader_batch_size: HistogramVec,
    pub db_pool_connections: IntGaugeVec,
    /// Events written to an outbox and not yet relayed (filled by the events work).
    pub outbox_lag: IntGaugeVec,
    /// Entries of the event stream not yet delivered to the consumer group (`XINFO GROUPS` lag).
    pub redis_stream_lag: IntGaugeVec,
    /// Entries delivered to the consumer group and not yet acknowledged (`XPENDING` count).
    pub redis_stream_pending: IntGaugeVec,
    /// Open GraphQL subscriptions (events work).
    pub subscribers: IntGaugeVec,
    /// Measures past their due day, unfinished, whose `DEADLINE_MISSED` is not emitted yet (the
    /// plans deadline watcher sets it after every pass: a backlog it is working through).
    pub deadlines_pending: IntGaugeVec,
    /// Webhook attempts by outcome: delivered, retry, failed, gone.
    pub webhook_deliveries: IntCounterVec,
    /// Webhook attempts that were not delivered (every outcome but `delivered`).
    pub webhook_failures: IntCounterVec,
    pools: Mutex<Vec<(String, PgPool)>>,
}

fn register<T: prometheus::core::Collector + Clone + 'static>(registry: &Registry, collector: T) -> T {
    registry
        .register(Box::new(collector.clone()))
        .expect("metric names are unique");
    collector
}

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new_custom(Some("roadmap".to_string()), None).expect("valid prefix");
        let counter = |name: &str, help: &str, labels: &[&str]| {
            register(
                &registry,
                IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"),
            )
        };
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            register(
                &registry,
                IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric"),
            )
        };
        let histogram = |opts: HistogramOpts, labels: &[&str]| {
            register(&registry, HistogramVec::new(opts, labels).expect("valid metric"))
        };
        let per_subgraph = ["subgraph"];
        Self {
            http_requests: counter(
                "http_requests_total",
                "HTTP requests served by a subgraph",
                &["subgraph", "method", "route", "status"],
            ),
            http_duration: histogram(
                HistogramOpts::new("http_request_duration_seconds", "Time to answer an HTTP request"),
                &["subgraph", "method", "route"],
            ),
            dataloader_batch_size: histogram(
                HistogramOpts::new("dataloader_batch_size", "Keys loaded by one DataLoader batch")
                    .buckets(exponential_buckets(1.0, 2.0, 11).expect("valid buckets")),
                &["loader"],
            ),
            db_pool_connections: gauge(
                "db_pool_connections",
                "Database pool connections (open, idle, max)",
                &["subgraph", "state"],
            ),
            outbox_lag: gauge("outbox_lag_events", "Outbox events not yet relayed", &per_subgraph),
            redis_stream_lag: gauge(
                "redis_stream_lag_entries",
                "Event stream entries not yet delivered to the consumer group",
                &per_subgraph,
            ),
            redis_stream_pending: gauge(
                "redis_stream_pending_entries",
                "Event stream entries delivered to the consumer group, not yet acknowledged",
                &per_subgraph,
            ),
            subscribers: gauge("subscribers", "Open GraphQL subscriptions", &per_subgraph),
            deadlines_pending: gauge(
                "deadlines_pending",
                "Measures past due and unfinished whose DEADLINE_MISSED is not emitted yet",
                &per_subgraph,
            ),
            webhook_deliveries: counter(
                "webhook_deliveries_total",
                "Webhook delivery attempts by outcome",
                &["subgraph", "outcome"],
            ),
            webhook_failures: counter(
                "webhook_failures_total",
                "Webhook delivery attempts that failed",
                &per_subgraph,
            ),
            pools: Mutex::new(Vec::new()),
            registry,
        }
    }

    /// Registers a running subgraph: its pool is sampled at every scrape and its event-stream
    /// series start at 0 (so they are listed before the first event).
    pub fn register_subgraph(&self, subgraph: &str, pool: PgPool) {
        self.outbox_lag.with_label_values(&[subgraph]);
        self.redis_stream_lag.with_label_values(&[subgraph]);
        self.redis_stream_pending.with_label_values(&[subgraph]);
        self.subscribers.with_label_values(&[subgraph]);
        for outcome in WEBHOOK_OUTCOMES {
            self.webhook_deliveries.with_label_values(&[subgraph, outcome]);
        }
        self.webhook_failures.with_label_values(&[subgraph]);
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools.retain(|(name, _)| name != subgraph);
        pools.push((subgraph.to_string(), pool));
    }

    /// The text exposition of every series, pools sampled now.
    pub fn render(&self) -> Result<Vec<u8>, prometheus::Error> {
        {
            let pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
            for (name, pool) in pools.iter() {
                let size = i64::from(pool.size());
                let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
                let max = i64::from(pool.options().get_max_connections());
                self.db_pool_connections.with_label_values(&[name, "open"]).set(size);
                self.db_pool_connections.with_label_values(&[name, "idle"]).set(idle);
                self.db_pool_connections.with_label_values(&[name, "max"]).set(max);
            }
        }
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        Ok(buffer)
    }
}

/// The metrics of this process.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

/// `GET /metrics`.
pub async fn metrics_handler() -> Response {
    match metrics().render() {
        Ok(body) => ([(CONTENT_TYPE, TextEncoder::new().format_type().to_string())], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode metrics");
            (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "cannot encode metrics").into_response()
        }
    }
}

/// axum middleware (`route_layer`, so the route template is known): counts and times requests.
pub async fn track_http(State(subgraph): State<&'static str>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(request).await;
    let m = metrics();
    m.http_duration
        .with_label_values(&[subgraph, method.as_str(), route.as_str()])
        .observe(started.elapsed().as_secs_f64());
    m.http_requests
        .with_label_values(&[subgraph, method.as_str(), route.as_str(), response.status().as_str()])
        .inc();
    response
}

/// A DataLoader's loader that records each batch's size (`dataloader_batch_size{loader}`) and
/// runs it in a `dataloader` span.
pub struct Measured<L> {
    name: &'static str,
    inner: L,
}

impl<L> Measured<L> {
    /// Named after the loader's type (`TerritoryByIdLoader`).
    pub fn new(inner: L) -> Self {
        let full = std::any::type_name::<L>();
        let name = full.rsplit("::").next().unwrap_or(full);
        Self { name, inner }
    }

    pub fn inner(&self) -> &L {
        &self.inner
    }
}

impl<K, L> Loader<K> for Measured<L>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    type Value = L::Value;
    type Error = L::Error;

    async fn load(&self, keys: &[K]) -> Result<HashMap<K, Self::Value>, Self::Error> {
        metrics()
            .dataloader_batch_size
            .with_label_values(&[self.name])
            .observe(keys.len() as f64);
        let span = tracing::info_span!("dataloader", loader = self.name, keys = keys.len());
        self.inner.load(keys).instrument(span).await
    }
}
