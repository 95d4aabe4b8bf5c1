//! The end-to-end tests: one test binary (the hub is linked once), one module per area. Under
//! nextest every test still runs in its own process, so process-wide counters (the SQL statement
//! counter) see only that test. Run one area with `cargo nextest run -p roadmap-e2e -E 'test(/^cascade::/)'`.

mod audit;
mod auth;
mod calendar;
mod cascade;
mod classroom;
mod classroom_indicators;
mod events;
mod formats;
mod import;
mod indicators;
mod limits;
mod ops;
mod plan_counts;
mod preview;
mod replay;
mod rolled;
mod skeleton;
mod versions;
mod web;
mod web_signin;
mod webhook_kinds;
mod webhooks;
