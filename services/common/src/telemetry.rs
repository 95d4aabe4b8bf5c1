//! Tracing set-up shared by every target, the SQL statement counter, and W3C trace context.
//!
//! sqlx reports every statement it runs as a tracing event with target `sqlx::query`. The
//! counter layer counts those events, which lets tests assert that a query's SQL statement count
//! does not grow with the data (no N+1) without wrapping the database driver.
//!
//! OpenTelemetry is off unless the binary passes an exporting layer to [`init_with`] (the gateway
//! crate builds it from `OTEL_EXPORTER_OTLP_*`). Every subgraph request runs in a
//! `subgraph.request` span whose parent is the caller's `traceparent` ([`trace_http`]), and which
//! records `trace_id`, so JSON log lines inside a request carry the trace id (`span.trace_id`).
//!
//! Work that leaves a request behind (an outbox row, a stream entry, a webhook attempt) carries
//! the W3C `traceparent` of the span that produced it ([`traceparent_of`], [`current_traceparent`])
//! and the next step continues it ([`continue_trace`]): one trace runs from a mutation through
//! the relay, the consumer, subscription delivery and the webhook attempt.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TraceId};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::{Instrument, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// A layer installed first on the registry, e.g. an OpenTelemetry exporter.
pub type ExtraLayer = Box<dyn Layer<Registry> + Send + Sync>;

static SQL_STATEMENTS: AtomicU64 = AtomicU64::new(0);
static INIT: OnceLock<()> = OnceLock::new();
static EXPORT: AtomicBool = AtomicBool::new(false);

/// Whether an exporting layer was installed: services then add resolver spans (async-graphql's
/// `Tracing` extension), which are not worth their cost when nothing exports them.
pub fn export_enabled() -> bool {
    EXPORT.load(Ordering::SeqCst)
}

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
pub const DEFAULT_FILTER: &str =
    "info,ntex=warn,ntex_server=warn,ntex_rt=warn,ntex_service=warn,ntex_io=warn,sqlx::postgres::notice=warn";

/// Installs the global subscriber once: logs filtered by `RUST_LOG` (default `info`), plus the SQL
/// counter. Later calls are no-ops, so every target and every test may call it.
pub fn init(format: LogFormat) {
    init_with_default(format, DEFAULT_FILTER)
}

/// Like [`init`] with another filter for when `RUST_LOG` is unset (one-shot commands log less).
pub fn init_with_default(format: LogFormat, default_filter: &str) {
    init_with(format, default_filter, None)
}

/// Like [`init_with_default`], with `extra` (an OpenTelemetry exporting layer) under the logs.
pub fn init_with(format: LogFormat, default_filter: &str, extra: Option<ExtraLayer>) {
    INIT.get_or_init(|| {
        EXPORT.store(extra.is_some(), Ordering::SeqCst);
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
        let logs = Logs {
            format,
            filter,
            writer: BoxMakeWriter::new(std::io::stderr),
        };
        if let Err(err) = install(extra, Some(logs)) {
            eprintln!("tracing already initialised elsewhere: {err}");
        }
    });
}

/// Where and how log lines go.
struct Logs {
    format: LogFormat,
    filter: EnvFilter,
    writer: BoxMakeWriter,
}

/// The router's own spans (target `hive-router`: parse, plan, execute, the operation) are kept
/// out of the log lines' span context. Its log lines carry their own fields; and the log layer
/// appends every field recorded on a span to that span's text, so a subscription's operation
/// span, which the router records on for every event it delivers (its cost), grew by some 70
/// bytes per event per subscription for as long as the subscription lived (README "Soak").
fn not_router_spans() -> tracing_subscriber::filter::FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool> {
    tracing_subscriber::filter::filter_fn(|meta| !(meta.is_span() && meta.target() == ROUTER_SPAN_TARGET))
}

/// The target of the router's spans.
pub const ROUTER_SPAN_TARGET: &str = "hive-router";

/// Installs the global subscriber: `extra` first on the registry when there is one, the SQL
/// counter, and the log lines when there are any.
///
/// A missing `extra` is left out of the stack rather than added as `None`: tracing-subscriber's
/// `Option` layer, when empty, enables every callsite, so every span of every crate at every level
/// (the router's, the HTTP stack's) would be built and entered for nothing: 9 % of the hub's CPU
/// on the depth-2 trace (README "Side by side with PostGraphile").
fn install(extra: Option<ExtraLayer>, logs: Option<Logs>) -> Result<(), tracing_subscriber::util::TryInitError> {
    match extra {
        Some(extra) => install_over(tracing_subscriber::registry().with(extra), logs),
        None => install_over(tracing_subscriber::registry(), logs),
    }
}

fn install_over<S>(subscriber: S, logs: Option<Logs>) -> Result<(), tracing_subscriber::util::TryInitError>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    // sqlx statements must reach the counter even when logs are quiet.
    let counter = SqlCounter
        .with_filter(tracing_subscriber::filter::Targets::new().with_target("sqlx::query", tracing::Level::TRACE));
    let subscriber = subscriber.with(counter);
    let Some(Logs { format, filter, writer }) = logs else {
        return subscriber.try_init();
    };
    let lines = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer().with_writer(writer).boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer().json().with_writer(writer).boxed(),
    };
    subscriber
        .with(lines.with_filter(filter.and(not_router_spans())))
        .try_init()
}

/// For tests: silent unless `TEST_LOG` is set (then like [`init`]).
pub fn init_for_tests() {
    init_for_tests_with(None)
}

/// Like [`init_for_tests`] with an extra layer (tests of the OpenTelemetry export). Only the
/// first call of a process installs anything.
pub fn init_for_tests_with(extra: Option<ExtraLayer>) {
    INIT.get_or_init(|| {
        EXPORT.store(extra.is_some(), Ordering::SeqCst);
        let logs = std::env::var_os("TEST_LOG").map(|_| Logs {
            format: LogFormat::Text,
            filter: EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER)),
            writer: BoxMakeWriter::new(tracing_subscriber::fmt::TestWriter::default()),
        });
        let _ = install(extra, logs);
    });
}

/// The OpenTelemetry layer over `tracer`: spans at `info` and above (requests, resolvers,
/// DataLoader batches, the router's), plus each SQL statement (sqlx's `sqlx::query` events) as an
/// event of the span that ran it. Installed once per process through [`init_with`].
pub fn otel_layer<T>(tracer: T) -> ExtraLayer
where
    T: opentelemetry::trace::Tracer + Send + Sync + 'static,
    T::Span: Send + Sync,
{
    Box::new(CappedRecords(
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_tracked_inactivity(false)
            .with_threads(false)
            .with_filter(tracing_subscriber::filter::filter_fn(|metadata| {
                (metadata.is_span() && *metadata.level() <= tracing::Level::INFO)
                    || (metadata.is_event() && metadata.target() == "sqlx::query")
            })),
    ))
}

/// Records on one span the exporter keeps at most: an exporter keeps every field recorded on a
/// span until the span ends, and the router records on a subscription's operation span for
/// every event it delivers (its cost), so a subscription open for days would grow without end.
pub const MAX_RECORDS_PER_SPAN: usize = 64;

/// How many times a span was recorded on (in its extensions).
struct Records(usize);

/// `L` with at most [`MAX_RECORDS_PER_SPAN`] records per span passed on; the rest are dropped.
/// Everything else is `L`'s, including `downcast_raw` (the OpenTelemetry context of a span is
/// found through it).
pub struct CappedRecords<L>(pub L);

impl<S, L> Layer<S> for CappedRecords<L>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    L: Layer<S>,
{
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        self.0.on_register_dispatch(subscriber)
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.0.on_layer(subscriber)
    }

    fn register_callsite(&self, metadata: &'static tracing::Metadata<'static>) -> tracing::subscriber::Interest {
        self.0.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &tracing::Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.0.enabled(metadata, ctx)
    }

    fn on_new_span(&self, attrs: &tracing::span::Attributes<'_>, id: &tracing::span::Id, ctx: Context<'_, S>) {
        self.0.on_new_span(attrs, id, ctx)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        self.0.max_level_hint()
    }

    fn on_record(&self, id: &tracing::span::Id, values: &tracing::span::Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut extensions = span.extensions_mut();
            match extensions.get_mut::<Records>() {
                Some(records) if records.0 >= MAX_RECORDS_PER_SPAN => return,
                Some(records) => records.0 += 1,
                None => extensions.insert(Records(1)),
            }
        }
        self.0.on_record(id, values, ctx)
    }

    fn on_follows_from(&self, span: &tracing::span::Id, follows: &tracing::span::Id, ctx: Context<'_, S>) {
        self.0.on_follows_from(span, follows, ctx)
    }

    fn event_enabled(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) -> bool {
        self.0.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        self.0.on_event(event, ctx)
    }

    fn on_enter(&self, id: &tracing::span::Id, ctx: Context<'_, S>) {
        self.0.on_enter(id, ctx)
    }

    fn on_exit(&self, id: &tracing::span::Id, ctx: Context<'_, S>) {
        self.0.on_exit(id, ctx)
    }

    fn on_close(&self, id: tracing::span::Id, ctx: Context<'_, S>) {
        self.0.on_close(id, ctx)
    }

    fn on_id_change(&self, old: &tracing::span::Id, new: &tracing::span::Id, ctx: Context<'_, S>) {
        self.0.on_id_change(old, new, ctx)
    }

    unsafe fn downcast_raw(&self, id: std::any::TypeId) -> Option<*const ()> {
        if id == std::any::TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        // SAFETY: forwarded as is; `L` answers for its own types.
        unsafe { self.0.downcast_raw(id) }
    }
}

struct HeaderExtractor<'a>(&'a axum::http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// axum middleware: runs the request in a `subgraph.request` span continuing the caller's W3C
/// trace (`traceparent`, as the router sends it when its tracing is on) and records the trace id.
pub async fn trace_http(State(subgraph): State<&'static str>, request: Request, next: Next) -> Response {
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(request.headers()));
    let span = tracing::info_span!(
        "subgraph.request",
        otel.name = %format!("{subgraph} {} {}", request.method(), request.uri().path()),
        subgraph,
        http.method = %request.method(),
        http.path = %request.uri().path(),
        trace_id = tracing::field::Empty,
    );
    let incoming = parent.span().span_context().trace_id();
    // Without an OpenTelemetry layer there is no span context to attach to; the caller's id is
    // still recorded for the logs.
    let _ = span.set_parent(parent);
    let own = span.context().span().span_context().trace_id();
    let trace_id = if own != TraceId::INVALID { own } else { incoming };
    if trace_id != TraceId::INVALID {
        span.record("trace_id", tracing::field::display(trace_id));
    }
    next.run(request).instrument(span).await
}

/// The W3C `traceparent` of `span` (`00-<trace id>-<span id>-<flags>`), when it belongs to an
/// exported trace; `None` without an OpenTelemetry layer.
pub fn traceparent_of(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = std::collections::HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove("traceparent")
}

/// [`traceparent_of`] the current span.
pub fn current_traceparent() -> Option<String> {
    traceparent_of(&tracing::Span::current())
}

/// Makes `span` (new, not entered yet) a child of the span `traceparent` names, so it joins that
/// trace; a missing or malformed `traceparent` leaves the span's parent as it was. Returns the
/// `traceparent` to hand on to the next step: the span's own when it is exported, else the one
/// received (the trace still runs through processes that export nothing).
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) -> Option<String> {
    let mut received = None;
    if let Some(value) = traceparent {
        let carrier = std::collections::HashMap::from([("traceparent".to_string(), value.to_string())]);
        let parent = TraceContextPropagator::new().extract(&carrier);
        if parent.span().span_context().is_valid() {
            let _ = span.set_parent(parent);
            received = Some(value.to_string());
        }
    }
    traceparent_of(span).or(received)
}

#[cfg(test)]
mod trace_context_tests {
    use super::*;

    #[test]
    fn without_export_the_received_traceparent_is_handed_on_and_garbage_is_dropped() {
        let value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let span = tracing::info_span!("step");
        assert_eq!(traceparent_of(&span), None);
        assert_eq!(continue_trace(&span, Some(value)).as_deref(), Some(value));
        assert_eq!(continue_trace(&tracing::info_span!("step"), Some("00-nonsense")), None);
        assert_eq!(continue_trace(&tracing::info_span!("step"), None), None);
    }
}

#[cfg(test)]
mod subscriber_tests {
    use super::*;

    /// Counts the records a layer is given.
    struct CountRecords(std::sync::Arc<AtomicU64>);

    impl<S: Subscriber> Layer<S> for CountRecords {
        fn on_record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>, _: Context<'_, S>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A span recorded on for every event of a long subscription reaches the exporter's layer
    /// [`MAX_RECORDS_PER_SPAN`] times, not once per event; another span has its own count.
    #[test]
    fn an_exporter_gets_a_bounded_number_of_records_per_span() {
        let seen = std::sync::Arc::new(AtomicU64::new(0));
        let subscriber = tracing_subscriber::registry().with(CappedRecords(CountRecords(seen.clone())));
        tracing::subscriber::with_default(subscriber, || {
            let long = tracing::info_span!("graphql.operation", cost = tracing::field::Empty);
            for cost in 0..1_000u64 {
                long.record("cost", cost);
            }
            assert_eq!(seen.load(Ordering::SeqCst), MAX_RECORDS_PER_SPAN as u64);
            let other = tracing::info_span!("graphql.operation", cost = tracing::field::Empty);
            other.record("cost", 1u64);
            assert_eq!(seen.load(Ordering::SeqCst), MAX_RECORDS_PER_SPAN as u64 + 1);
        });
    }

    /// Without an exporting layer, a span that neither the logs nor the counter want is never
    /// built (with the empty layer left in the stack it was, at every level), nor is a router
    /// span at a level the logs show (the log layer kept every field recorded on it, per event
    /// for a subscription's), while the hub's own spans are, and sqlx's statements still reach
    /// the counter.
    #[test]
    fn spans_nobody_records_are_never_built_and_statements_still_count() {
        init_with_default(LogFormat::Text, "info");
        assert!(!export_enabled());
        let probe = tracing::trace_span!(target: "roadmap_subscriber_probe", "poll");
        assert!(probe.is_disabled(), "a trace-level span is built: {probe:?}");
        let router = tracing::info_span!(target: "hive-router", "graphql.operation");
        assert!(
            router.is_disabled(),
            "the router's span is kept by the logs: {router:?}"
        );
        if std::env::var_os("RUST_LOG").is_none() {
            let own = tracing::info_span!(target: "roadmap_subscriber_probe", "subgraph.request");
            assert!(!own.is_disabled(), "the hub's own span gives log lines their context");
        }
        let before = sql_statement_count();
        tracing::debug!(target: "sqlx::query", summary = "SELECT 1");
        assert_eq!(sql_statement_count(), before + 1);
    }
}
