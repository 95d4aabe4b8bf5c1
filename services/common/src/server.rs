//! The HTTP face of a subgraph: GraphQL over HTTP on `/graphql`, graphql-transport-ws on `/ws`
//! (the router talks WebSocket to subgraphs for subscriptions), `/health` and `/ready`.

use std::future::Future;

use async_graphql::{ObjectType, Schema, SubscriptionType};
use async_graphql_axum::{GraphQL, GraphQLSubscription};
use axum::Router;
use axum::routing::{get, post_service};
use sqlx::PgPool;

pub const GRAPHQL_PATH: &str = "/graphql";
pub const WS_PATH: &str = "/ws";

/// Builds the axum router of one subgraph.
pub fn graphql_router<Q, M, S>(schema: Schema<Q, M, S>, pool: PgPool) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    Router::new()
        .route(GRAPHQL_PATH, post_service(GraphQL::new(schema.clone())))
        .route_service(WS_PATH, GraphQLSubscription::new(schema))
        .route("/health", get(|| async { "ok" }))
        .route(
            "/ready",
            get(move || {
                let pool = pool.clone();
                async move {
                    match sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&pool).await {
                        Ok(_) => (axum::http::StatusCode::OK, "ready"),
                        Err(_) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
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
