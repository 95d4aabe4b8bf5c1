//! Shared plumbing of the Roadmap Hub services.
//!
//! Layout:
//! - [`db`]: connecting to PostgreSQL, creating the database when missing, one Postgres schema and
//!   one migrations table per service.
//! - [`error`]: the error type every service returns; internal causes are logged, never sent.
//! - [`server`]: the axum router around an async-graphql schema (`/graphql`, `/ws`, health) and
//!   `run(listener, router, shutdown)`.
//! - [`metrics`]: the Prometheus registry behind every subgraph's `/metrics`, request and
//!   DataLoader instrumentation.
//! - [`telemetry`]: tracing initialisation and the SQL statement counter tests rely on.
//! - [`outbox`]: the transactional outbox of status-change events and its relay (Redis Stream or
//!   in-process).
//! - [`auth`]: the gateway secret between router and subgraphs, the acting user and the role and
//!   territory checks; [`client`]: subgraph-to-subgraph calls; [`audit`]: the audit trail.
//! - [`relay`]: Relay connection cursors shared by every paginated query.
//! - [`pg_cluster`]: a local PostgreSQL cluster owned by the process (initdb, start, stop): the
//!   embedded database when no `DATABASE_URL` is set, and the tests' own servers.
//! - [`config`]: the hub's configuration, every key once (file key, variable, default, doc).
//! - [`target`]: what a target is ([`target::Descriptor`]) and what the hub hands it.
//! - [`people`]: the one client of the people subgraph the other subgraphs use.
//! - [`personal_data`]: the detector of personal names in free text (class-level text is refused
//!   with it).
//! - [`periodic`]: how background tasks wait between passes (until shutdown begins).
//! - [`clock`]: the settable "today"; [`loaders`]: the DataLoader builder with metrics;
//!   [`macros`]: `db_enum!` (GraphQL enum ↔ database text, with `ALL`), `pg_loader!` (one
//!   DataLoader over a store call) and `pg_loaders!` (a subgraph's `Loaders`).
//!
//! Nothing here knows about plans or measures; [`people`] knows the people subgraph's API only.

pub mod audit;
pub mod auth;
pub mod client;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod loaders;
pub mod macros;
pub mod metrics;
pub mod outbox;
pub mod people;
pub mod periodic;
pub mod personal_data;
pub mod pg_cluster;
pub mod relay;
pub mod server;
pub mod target;
pub mod telemetry;

pub use error::{LoadError, ServiceError, ServiceResult, parse_id};

// What the macros expand to, so crates using them need no direct dependency for it.
#[doc(hidden)]
pub use async_graphql as __async_graphql;
#[doc(hidden)]
pub use sqlx as __sqlx;
