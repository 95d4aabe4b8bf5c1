//! `roadmap-hub`: see the library for the targets and commands.

// The router's middleware types are deeply nested.
#![recursion_limit = "256"]

use hive_router::{RouterGlobalAllocator, configure_global_allocator};

configure_global_allocator!();

fn main() -> std::process::ExitCode {
    roadmap_hub::cli::main()
}
