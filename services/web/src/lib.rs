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
//! - [`pages`]: one pure `render` per page (overview, plan, a plan's version and its changes,
//!   measure, indicator, the auditor's "what is missing", sign-in) and the shared layout; [`format`]: Russian dates
//!   (`15.09.2023`) and numbers (`32,79`); [`csv`]: the pages' tables as CSV for Excel;
//! - [`routes`]: the axum handlers — at most two GraphQL requests per page whatever the data size
//!   (one for all but the indicator page without a subject; one per CSV table), and `/export/`
//!   forwarded to the plans target (the plan page's CSV/XLSX links);
//! - [`assets`]: the CSS, the chart starter, the live-status script and the vendored uPlot,
//!   compiled in;
//! - [`ready`]: `/ready`, ready when the gateway is (`/health`: the process answers);
//! - [`oidc`]: the production sign-in, OpenID Connect authorization code with PKCE.
//!
//! Pages read without JavaScript: the chart is drawn over a table of the same numbers, and the
//! measure and plan pages, which follow status changes live (`/…/live`, the gateway's
//! `statusChanged` over SSE forwarded with the cookie's token), show what was rendered.
//!
//! The auditor's page reads what the plans subgraph added for it: `Territory.measureCounts`
//! (plans and measures by status, a territory and everything under it, for many territories in
//! one query), `coverageGaps`, `childrenWithoutPlan`, `overdueMeasures`, `staleMeasures(days)`
//! and `Measure.updatedAt`.
//!
//! What the API still lacks for the pages of issue 14 (left out here, to be added to the owning
//! subgraph): the indicators' traffic lights of a territory without naming the
//! indicator (`Territory.series` needs its code, so a territory's page asks for the lights of
//! one indicator and subject in a second request; a `Territory.indicatorStatus` listing the
//! latest status per indicator and subject would make it one and show them all). Not drawn yet
//! though the API has it: link suggestions with scores on the measure page for coordinators
//! (`Measure.similarMeasures`).

use roadmap_common::target::{Descriptor, Started};

pub mod assets;
pub mod csv;
pub mod format;
pub mod gateway;
pub mod model;
pub mod oidc;
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
            let plans = deps.url("plans");
            let gateway = gateway::Gateway::new(deps.url("gateway"));
            let oidc = oidc::Oidc::from_settings(&deps.config.oidc, gateway.http().clone())?;
            if let Some(oidc) = &oidc {
                tracing::info!(
                    issuer = oidc.issuer(),
                    redirect_uri = oidc.redirect_uri(),
                    "visitors sign in through the OpenID Connect provider"
                );
            }
            let state = AppState {
                gateway,
                oidc,
                clock: deps.config.clock,
                exports: plans
                    .strip_suffix(roadmap_common::server::GRAPHQL_PATH)
                    .filter(|base| !base.is_empty())
                    .map(str::to_string),
            };
            tracing::info!(gateway = %state.gateway.url(), "web pages read the gateway");
            Ok(Started::router(routes::router(state)))
        })
    },
};
