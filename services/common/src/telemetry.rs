//! Tracing set-up shared by every target, and the SQL statement counter.
//!
//! sqlx reports every statement it runs as a tracing event with target `sqlx::query`. The
//! counter layer counts those events, which lets tests assert that a query's SQL statement count
//! does not grow with the data (no N+1) without wrapping the database driver.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::Subscriber;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

static SQL_STATEMENTS: AtomicU64 = AtomicU64::new(0);
static INIT: OnceLock<()> = OnceLock::new();

/// SQL statements executed by this process since it started (only counted once
/// [`init`] or [`init_for_tests`] installed the counter).
pub fn sql_statement_count() -> u64 {
    SQL_STATEMENTS.load(Ordering::SeqCst)
}

struct SqlCounter;

impl<S: Subscriber> Layer<S> for SqlCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            SQL_STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Output format of the process logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Log filter used when `RUST_LOG` is not set: the router's runtime is chatty at `info`.
const DEFAULT_FILTER: &str =
    "info,ntex=warn,ntex_server=warn,ntex_rt=warn,ntex_service=warn,ntex_io=warn,sqlx::postgres::notice=warn";

/// Installs the global subscriber once: logs filtered by `RUST_LOG` (default `info`), plus the SQL
/// counter. Later calls are no-ops, so every target and every test may call it.
pub fn init(format: LogFormat) {
    init_with_default(format, DEFAULT_FILTER)
}

/// Like [`init`] with another filter for when `RUST_LOG` is unset (one-shot commands log less).
pub fn init_with_default(format: LogFormat, default_filter: &str) {
    INIT.get_or_init(|| {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
        // sqlx statements must reach the counter even when logs are quiet.
        let counter = SqlCounter
            .with_filter(tracing_subscriber::filter::Targets::new().with_target("sqlx::query", tracing::Level::TRACE));
        let registry = tracing_subscriber::registry().with(counter);
        let result = match format {
            LogFormat::Text => registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_writer(std::io::stderr)
                        .with_filter(filter),
                )
                .try_init(),
            LogFormat::Json => registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .json()
                        .with_writer(std::io::stderr)
                        .with_filter(filter),
                )
                .try_init(),
        };
        if let Err(err) = result {
            eprintln!("tracing already initialised elsewhere: {err}");
        }
    });
}

/// For tests: silent unless `TEST_LOG` is set (then like [`init`]).
pub fn init_for_tests() {
    INIT.get_or_init(|| {
        let counter = SqlCounter
            .with_filter(tracing_subscriber::filter::Targets::new().with_target("sqlx::query", tracing::Level::TRACE));
        let registry = tracing_subscriber::registry().with(counter);
        let result = if std::env::var_os("TEST_LOG").is_some() {
            let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
            registry
                .with(tracing_subscriber::fmt::layer().with_test_writer().with_filter(filter))
                .try_init()
        } else {
            registry.try_init()
        };
        let _ = result;
    });
}
