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
//!
//! Nothing here knows about plans, measures or territories.

pub mod audit;
pub mod auth;
pub mod client;
pub mod clock;
pub mod db;
pub mod error;
pub mod loaders;
pub mod metrics;
pub mod outbox;
pub mod relay;
pub mod server;
pub mod telemetry;

pub use error::{LoadError, ServiceError, ServiceResult};
