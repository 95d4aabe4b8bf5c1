//! The Roadmap Hub binary as a library, so tests start exactly what users start.
//!
//! Layout:
//! - [`targets`]: the targets (`plans`, `indicators`, `people`, `events`, `gateway`, `all`) and
//!   [`targets::Hub`], which starts any set of them in one process, the way `up` and `serve` do.
//! - [`router`]: the embedded Hive Router: its own OS thread, its own ntex system, our listener.
//! - [`compose`]: subgraph SDL export and supergraph composition (`roadmap-hub compose`).
//! - [`demo`]: demo data for `up --demo`.
//! - [`token`]: development tokens (`roadmap-hub token`).
//! - [`cli`]: the command line.

#![recursion_limit = "256"]

pub mod cli;
pub mod compose;
pub mod demo;
pub mod generate;
pub mod router;
pub mod targets;
pub mod token;

/// The workspace root, for locating `schema/`, `gateway/router.config.yaml` and fixtures when run
/// from a checkout.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default()
}
