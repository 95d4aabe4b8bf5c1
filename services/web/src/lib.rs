//! The web target: the hub's own front-end, server-rendered HTML pages of the cascade for
//! auditors, methodologists and the public. It is a *client of the gateway*: every page's data
//! comes from the federated GraphQL API over HTTP (`deps.url("gateway")`), with the visitor's
//! token (a cookie) forwarded as `Authorization: Bearer`; it has no database and no SDL.
//!
//! Layout:
//! - [`operations`]: every GraphQL operation as a named constant, and the persisted-documents
//!   manifest (`persisted-documents.json`) made from them;
//! - [`gateway`]: the HTTP client of the gateway;
//! - [`model`]: the answers' shapes;
//! - [`pages`]: one pure `render` per page (overview, plan, measure, indicator, sign-in) and the
//!   shared layout; [`format`]: Russian dates (`15.09.2023`) and numbers (`32,79`);
//! - [`routes`]: the axum handlers — at most two GraphQL requests per page whatever the data size
//!   (one for all but the indicator page without a subject);
//! - [`assets`]: the CSS, the chart starter, the live-status script and the vendored uPlot,
//!   compiled in;
//! - [`ready`]: `/ready`, ready when the gateway is (`/health`: the process answers).
//!
//! Pages read without JavaScript: the chart is drawn over a table of the same numbers, and the
//! measure and plan pages, which follow status changes live (`/…/live`, the gateway's
//! `statusChanged` over SSE forwarded with the cookie's token), show what was rendered.
//!
//! What the API lacks for the pages of issue 14 (left out here, to be added to the owning
//! subgraph): per-territory plan and measure counts by status over many territories in one query
//! (the overview shows them for the territory itself and coverage for its children), a
//! measure's last update (stale measures), plan versions and their changes, municipalities
//! without a plan of a given parent, the indicator's traffic light per territory in the tree.

use roadmap_common::target::{Descriptor, Started};

pub mod assets;
pub mod format;
pub mod gateway;
pub mod model;
pub mod operations;
pub mod pages;
pub mod ready;
pub mod routes;

pub use routes::AppState;

/// The web target: pages on its own port (default 4005), started after the gateway.
pub const TARGET: Descriptor = Descriptor {
    name: "web",
    default_port: 4005,
    about: "pages rendered from gateway queries",
    migrator: None,
    sdl: None,
    produces_events: false,
    consumes_events: false,
    depends_on: &["gateway"],
    calls: &["gateway"],
    ops: false,
    home: "/",
    start: |deps| {
        Box::pin(async move {
            let state = AppState {
                gateway: gateway::Gateway::new(deps.url("gateway")),
                clock: deps.config.clock,
            };
            tracing::info!(gateway = %state.gateway.url(), "web pages read the gateway");
            Ok(Started::router(routes::router(state)))
        })
    },
};
