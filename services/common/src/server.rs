//! The HTTP face of a subgraph: GraphQL over HTTP on `/graphql`, graphql-transport-ws on `/ws`
//! (the router talks WebSocket to subgraphs for subscriptions), `/health` (liveness: the process
//! answers), `/ready` (readiness) and, through [`with_ops`], `/metrics`.
//!
//! Readiness is 200 only when the database answers `SELECT 1`, the service's migrations are
//! applied ([`Readiness::set_migrated`]) and every extra dependency check passes (Redis when
//! `REDIS_URL` is configured, see [`Readiness::with_redis`]); otherwise 503 with the reason.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{Data, ObjectType, Schema, SubscriptionType};
use async_graphql_axum::{GraphQLBatchRequest, GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::extract::WebSocketUpgrade;
use axum::routing::{get, post};
use axum::{Extension, Router};

use crate::auth::{self, Actor, GatewaySecret};
use crate::loaders;
use sqlx::PgPool;

/// A readiness check of one dependency: `Err(reason)` when it is not usable.
pub type DependencyCheck = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// What `/ready` waits for besides the database answering. Cloned into the router as an
/// extension by [`with_ops`]; without it `/ready` checks the database only.
#[derive(Clone, Default)]
pub struct Readiness {
    migrated: Arc<AtomicBool>,
    checks: Vec<(&'static str, DependencyCheck)>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    /// Called once the service's migrations are applied.
    pub fn set_migrated(&self) {
        self.migrated.store(true, Ordering::SeqCst);
    }

    pub fn is_migrated(&self) -> bool {
        self.migrated.load(Ordering::SeqCst)
    }

    /// Adds a dependency `/ready` waits for (the extension point for Redis, brokers, ...).
    pub fn with_check(mut self, name: &'static str, check: DependencyCheck) -> Self {
        self.checks.push((name, check));
        self
    }

    /// Waits for Redis when a URL is configured (`REDIS_URL`); `None` adds nothing.
    pub fn with_redis(self, url: Option<&str>) -> Self {
        match url {
            Some(url) if !url.trim().is_empty() => {
                let url: Arc<str> = Arc::from(url);
                self.with_check(
                    "redis",
                    Arc::new(move || {
                        let url = url.clone();
                        Box::pin(async move { redis_ping(&url).await })
                    }),
                )
            }
            _ => self,
        }
    }

    async fn check(&self, pool: &PgPool) -> Result<(), String> {
        let ping = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(pool);
        match tokio::time::timeout(Duration::from_secs(3), ping).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => return Err("database unavailable".to_string()),
        }
        if !self.is_migrated() {
            return Err("migrations not applied yet".to_string());
        }
        for (name, check) in &self.checks {
            match tokio::time::timeout(Duration::from_secs(3), check()).await {
                Ok(Ok(())) => {}
                Ok(Err(reason)) => return Err(format!("{name} unavailable: {reason}")),
                Err(_) => return Err(format!("{name} unavailable: timed out")),
            }
        }
        Ok(())
    }
}

/// Redis answers `PING` (a fresh connection per probe; probes are seconds apart).
pub async fn redis_ping(url: &str) -> Result<(), String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    let pong: String = redis::cmd("PING")
        .query_async(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    if pong == "PONG" {
        Ok(())
    } else {
        Err(format!("unexpected answer {pong:?}"))
    }
}

/// Adds what a deployed subgraph target needs around [`graphql_router`]: the readiness
/// conditions, `/metrics`, request metrics and the pool gauge (see [`crate::metrics`]), and the
/// request span continuing the caller's trace ([`crate::telemetry::trace_http`]).
pub fn with_ops(router: Router, subgraph: &'static str, pool: PgPool, readiness: Readiness) -> Router {
    crate::metrics::metrics().register_subgraph(subgraph, pool);
    router
        .route("/metrics", get(crate::metrics::metrics_handler))
        .route_layer(axum::middleware::from_fn_with_state(
            subgraph,
            crate::metrics::track_http,
        ))
        .layer(axum::middleware::from_fn_with_state(
            subgraph,
            crate::telemetry::trace_http,
        ))
        .layer(Extension(readiness))
}

/// Finishes a subgraph's schema the same way everywhere: resolver spans (request, parse,
/// validation, execute, field) when traces are exported.
pub fn build_schema<Q, M, S>(builder: async_graphql::SchemaBuilder<Q, M, S>) -> Schema<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let builder = if crate::telemetry::export_enabled() {
        builder.extension(async_graphql::extensions::Tracing)
    } else {
        builder
    };
    builder.finish()
}

/// How every subgraph exports its SDL for composition (a descriptor's `sdl`): federation v2
/// with `@composeDirective`.
pub fn sdl_options() -> async_graphql::SDLExportOptions {
    async_graphql::SDLExportOptions::new().federation().compose_directive()
}

pub const GRAPHQL_PATH: &str = "/graphql";
pub const WS_PATH: &str = "/ws";

/// Builds the axum router of one subgraph. `/graphql` is behind [`auth::guard`] (the gateway
/// secret; the [`auth::Actor`] goes into the request's data), `/ws` checks the same in the
/// `connection_init` payload. `/health`, `/ready` (and `/metrics`, see [`with_ops`]) stay open
/// for probes and scrapers.
pub fn graphql_router<Q, M, S>(schema: Schema<Q, M, S>, pool: PgPool, secret: GatewaySecret) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let http_schema = schema.clone();
    let graphql = post(
        move |Extension(actor): Extension<Actor>, request: GraphQLBatchRequest| {
            let schema = http_schema.clone();
            async move {
                GraphQLResponse::from(loaders::batched(schema.execute_batch(request.into_inner().data(actor))).await)
            }
        },
    )
    .route_layer(axum::middleware::from_fn_with_state(secret.clone(), auth::guard));
    let ws = get(move |protocol: GraphQLProtocol, upgrade: WebSocketUpgrade| {
        let schema = schema.clone();
        let secret = secret.clone();
        async move {
            upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |stream| {
                GraphQLWebSocket::new(stream, schema, protocol)
                    .on_connection_init(move |payload| async move {
                        let actor =
                            auth::check_connection_init(&secret, &payload).map_err(async_graphql::Error::new)?;
                        let mut data = Data::default();
                        data.insert(actor);
                        Ok(data)
                    })
                    .serve()
            })
        }
    });
    Router::new()
        .route(GRAPHQL_PATH, graphql)
        .route(WS_PATH, ws)
        .route("/health", get(|| async { "ok" }))
        .route(
            "/ready",
            get(move |readiness: Option<Extension<Readiness>>| {
                let pool = pool.clone();
                async move {
                    // Without `with_ops` (a bare router) only the database is checked.
                    let readiness = readiness.map(|Extension(r)| r).unwrap_or_else(|| {
                        let r = Readiness::new();
                        r.set_migrated();
                        r
                    });
                    match readiness.check(&pool).await {
                        Ok(()) => (axum::http::StatusCode::OK, "ready".to_string()),
                        Err(reason) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, reason),
                    }
                }
            }),
        )
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn run(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}
