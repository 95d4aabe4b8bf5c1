//! The Roadmap Hub binary as a library, so tests start exactly what users start.
//!
//! Layout:
//! - [`targets`]: the target registry ([`targets::Target::ALL`], one descriptor per target) and
//!   [`targets::Hub`], which starts any set of them in one process, the way `up` and `serve` do.
//! - [`router`]: the embedded Hive Router (its own OS thread, its own ntex system, our listener)
//!   and the gateway target's descriptor.
//! - [`rate_limit`]: requests per second per client, in front of the router's pipeline.
//! - [`replay_partition`]: the router plugin that keeps subscriptions replaying from a cursor
//!   out of other subscribers' shared streams.
//! - [`compose`]: subgraph SDL export and supergraph composition (`roadmap-hub compose`).
//! - [`demo`]: demo data for `up --demo`.
//! - [`generate`]: the deterministic generated cascade (`roadmap-hub generate`, benchmarks).
//! - [`token`]: development tokens (`roadmap-hub token`).
//! - [`cli`]: the command line.
//!
//! The configuration (every key once) is `roadmap_common::config`, so each target's descriptor
//! reads its own settings.

#![recursion_limit = "256"]

pub mod cli;
pub mod compose;
pub mod demo;
pub mod generate;
pub mod rate_limit;
pub mod replay_partition;
pub mod router;
pub mod targets;
pub mod token;

/// The workspace root, for locating `schema/`, `gateway/router.config.yaml` and fixtures when run
/// from a checkout.
pub use roadmap_common::config::workspace_root;
