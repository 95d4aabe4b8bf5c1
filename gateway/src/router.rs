//! The embedded gateway: a custom build of Hive Router (no home-made query planner).
//!
//! The router runs on ntex, whose workers are single-threaded runtimes, so it gets its own OS
//! thread and ntex system next to the tokio runtime of the subgraphs. We do not call
//! `hive_router::router_entrypoint`: it installs a global tracing subscriber (ours is already
//! installed, and a second one panics), reads its config path from a process-wide environment
//! variable and binds its own address. Instead we assemble the same server from the crate's
//! public parts, with our listener, our subgraph URLs and our shutdown.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use hive_router::background_tasks::BackgroundTasksManager;
use hive_router::config::headers::RequestHeaderRule;
use hive_router::config::override_subgraph_urls::OverrideUrlConfig;
use hive_router::config::{HiveRouterConfig, load_config};
use hive_router::ntex::web;
use hive_router::ntex::{self, SharedCfg};
use hive_router::opentelemetry::metrics::MeterProvider as _;
use hive_router::pipeline::long_lived_client_limit::LongLivedClientLimitService;
use hive_router::pipeline::request_identifiers::RequestIdentifiersService;
use hive_router::pipeline::request_summary::RequestSummaryService;
use hive_router::pipeline::response_compression::ResponseCompressionService;
use hive_router::plugins::plugins_service::PluginService;
use hive_router::telemetry::metrics::build_meter_provider_from_config;
use hive_router::telemetry::utils::http::normalize_route_path;
use hive_router::telemetry::{PrometheusAttached, TelemetryContext, build_resource, build_scope};
use hive_router::{
    PluginRegistry, RouterPaths, build_http_service_config, configure_app_from_config, configure_ntex_app,
    invoke_shutdown_hooks,
};
use roadmap_common::auth::{self, GatewaySecret};

use crate::rate_limit::RateLimit;

/// The gateway target: the router over every subgraph (local, or `urls.<name>`).
pub const TARGET: roadmap_common::target::Descriptor = roadmap_common::target::Descriptor {
    name: "gateway",
    default_port: 4000,
    about: "the federation router: /graphql (HTTP, WebSocket, SSE), /health, /readiness, /metrics",
    migrator: None,
    sdl: None,
    produces_events: false,
    consumes_events: false,
    depends_on: SUBGRAPHS,
    calls: SUBGRAPHS,
    ops: false,
    home: roadmap_common::server::GRAPHQL_PATH,
    start: |deps| Box::pin(start_target(deps)),
};

/// The subgraphs the gateway routes to (the supergraph's names).
const SUBGRAPHS: &[&str] = &[
    roadmap_plans::NAME,
    roadmap_indicators::NAME,
    roadmap_people::NAME,
    roadmap_events::NAME,
];

async fn start_target(deps: roadmap_common::target::Deps) -> anyhow::Result<roadmap_common::target::Started> {
    let listener = deps
        .take_listener()
        .ok_or_else(|| anyhow!("the gateway needs a listener"))?
        .into_std()?;
    let addr = listener.local_addr()?;
    let subgraph_urls = SUBGRAPHS
        .iter()
        .map(|name| (name.to_string(), deps.url(name)))
        .collect();
    let handle = start(RouterOptions {
        config_path: deps.config.router_config.clone(),
        listener,
        subgraph_urls,
        secret: deps.secret(),
        rate_limit: deps.config.rate_limit,
    })?;
    if let Err(e) = crate::targets::wait_ready(addr, "/readiness", std::time::Duration::from_secs(30)).await {
        let _ = handle.stop().await;
        return Err(e.context("the gateway did not become ready (is schema/supergraph.graphql present?)"));
    }
    tracing::info!(%addr, "gateway listening on http://{addr}/graphql");
    Ok(roadmap_common::target::Started {
        stop: Some(Box::new(move || Box::pin(handle.stop()))),
        addr: Some(addr),
        ..Default::default()
    })
}

/// What the embedded router needs to start.
pub struct RouterOptions {
    /// `router.config.yaml`; its `supergraph.path` is relative to the file.
    pub config_path: PathBuf,
    /// Already bound, so callers know the address (tests bind port 0).
    pub listener: TcpListener,
    /// Subgraph name → GraphQL URL, overriding the URLs composed into the supergraph.
    pub subgraph_urls: HashMap<String, String>,
    /// Sent to every subgraph (see `roadmap_common::auth`).
    pub secret: GatewaySecret,
    /// Requests per second per client (`crate::rate_limit`); 0: no limit.
    pub rate_limit: u32,
}

/// A running router; [`RouterHandle::stop`] drains and stops it.
pub struct RouterHandle {
    server: ntex::server::Server,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl RouterHandle {
    /// Stops accepting, lets in-flight requests finish (within the config's shutdown timeout)
    /// and joins the router thread.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.server.stop(true).await;
        if let Some(thread) = self.thread.take() {
            tokio::task::spawn_blocking(move || thread.join())
                .await?
                .map_err(|_| anyhow!("router thread panicked"))?
                .map_err(|e| anyhow!(e))?;
        }
        Ok(())
    }
}

/// Loads the router config and applies our overrides: the subgraph URLs, first in the
/// request header rules for every subgraph: drop any client-sent `x-roadmap-*` header, insert
/// the gateway secret and the verified JWT claims (base64 JSON; `{}` without a token) (the
/// rules of the config file apply after these), and the plugin that keeps replaying
/// subscriptions out of shared streams ([`crate::replay_partition`]).
pub fn load(
    config_path: &Path,
    subgraph_urls: &HashMap<String, String>,
    secret: &GatewaySecret,
) -> anyhow::Result<HiveRouterConfig> {
    let path = config_path
        .to_str()
        .ok_or_else(|| anyhow!("router config path {} is not UTF-8", config_path.display()))?;
    let mut config =
        load_config(Some(path.to_string())).map_err(|e| anyhow!("router config {}: {e}", config_path.display()))?;
    for (name, url) in subgraph_urls {
        // The config type is non-exhaustive; going through serde builds it the way YAML would.
        let entry: OverrideUrlConfig = serde_json::from_value(serde_json::json!({ "url": url }))
            .with_context(|| format!("subgraph URL override for {name}"))?;
        config.override_subgraph_urls.subgraphs.insert(name.clone(), entry);
    }
    let ours: Vec<RequestHeaderRule> = serde_json::from_value(serde_json::json!([
        { "remove": { "matching": "^x-roadmap-" } },
        { "insert": { "name": auth::SECRET_HEADER, "value": secret.expose() } },
        { "insert": {
            "name": auth::CLAIMS_HEADER,
            // A bearer token that did not verify (bad signature, expired, wrong issuer) makes the
            // router treat the request as anonymous; mark it so subgraphs refuse it instead.
            "expression": "if .request.jwt.authenticated != true && exists(.request.headers.authorization) { \
                           encode_base64(\"{\\\"invalid_token\\\":true}\") } else { \
                           encode_base64(encode_json(.request.jwt.claims)) }"
        } },
    ]))
    .context("gateway header rules")?;
    let all = config.headers.all.get_or_insert_with(Default::default);
    let mut rules = ours;
    rules.extend(all.request.take().unwrap_or_default());
    all.request = Some(rules);
    // Always on, whatever the file says: without it a replaying subscription may join another
    // subscriber's stream and miss its replay (`crate::replay_partition`).
    config
        .plugins
        .insert(crate::replay_partition::NAME.to_string(), Default::default());
    Ok(config)
}

/// Starts the router on its own thread and returns once it is accepting connections.
pub fn start(options: RouterOptions) -> anyhow::Result<RouterHandle> {
    static CRYPTO: std::sync::Once = std::sync::Once::new();
    // The router's HTTP client needs a process-wide rustls provider, installed exactly once.
    CRYPTO.call_once(hive_router::init_rustls_crypto_provider);
    let config = load(&options.config_path, &options.subgraph_urls, &options.secret)?;
    let listener = options.listener;
    let rate_limit = RateLimit::new(options.rate_limit);
    listener.set_nonblocking(true).context("router listener")?;
    let (tx, rx) = std::sync::mpsc::channel::<Result<ntex::server::Server, String>>();
    let thread = std::thread::Builder::new()
        .name("gateway".into())
        .spawn(move || {
            ntex::rt::System::build()
                .name("gateway")
                .build(ntex::rt::DefaultRuntime)
                .block_on(serve(config.into_static(), listener, rate_limit, tx))
        })
        .context("spawning the gateway thread")?;
    match rx.recv() {
        Ok(Ok(server)) => Ok(RouterHandle {
            server,
            thread: Some(thread),
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(anyhow!("gateway failed to start: {e}"))
        }
        Err(_) => {
            let reason = match thread.join() {
                Ok(Err(e)) => e,
                Ok(Ok(())) => "stopped before starting".to_string(),
                Err(_) => "panicked while starting".to_string(),
            };
            Err(anyhow!("gateway failed to start: {reason}"))
        }
    }
}

/// The router plugins of the gateway; [`load`] enables them in the config.
fn plugins() -> PluginRegistry {
    PluginRegistry::new().register::<crate::replay_partition::ReplayPartition>()
}

/// The body of the router thread. `RouterInitError` is not `Send`, so errors become strings here.
async fn serve(
    config: &'static HiveRouterConfig,
    listener: TcpListener,
    rate_limit: RateLimit,
    started: std::sync::mpsc::Sender<Result<ntex::server::Server, String>>,
) -> Result<(), String> {
    // The router's own metrics, built the way `Telemetry::init_global` builds them but without
    // installing anything global: a meter provider from `telemetry.metrics`, its meter in the
    // telemetry context, and a Prometheus exporter served on the router's listener.
    let metrics = match build_resource(&config.telemetry)
        .and_then(|resource| build_meter_provider_from_config(&config.telemetry, resource))
    {
        Ok(metrics) => metrics,
        Err(e) => {
            let msg = format!("router telemetry: {e}");
            let _ = started.send(Err(msg.clone()));
            return Err(msg);
        }
    };
    let meter = metrics.as_ref().map(|m| m.provider.meter_with_scope(build_scope()));
    let prometheus = metrics.as_ref().and_then(|m| m.prometheus.as_ref()).map(|p| {
        if p.port.is_some_and(|port| port != config.port()) {
            tracing::warn!(
                path = %p.path,
                "router metrics: a separate Prometheus port is not supported here; serving on the gateway port"
            );
        }
        PrometheusAttached {
            registry: p.registry.clone(),
            endpoint: normalize_route_path(&p.path),
        }
    });
    let telemetry = TelemetryContext::from_propagation_config_with_meter(
        &config.telemetry.tracing.propagation,
        &config.log,
        meter,
        false,
    );
    let mut bg_tasks = BackgroundTasksManager::new();
    let (shared_state, schema_state) =
        match configure_app_from_config(config, telemetry, &mut bg_tasks, plugins()).await {
            Ok(states) => states,
            Err(e) => {
                let msg = e.to_string();
                let _ = started.send(Err(msg.clone()));
                return Err(msg);
            }
        };
    let graphql_path = config.graphql_path().to_string();
    let paths = RouterPaths::new(graphql_path.clone(), config.websocket_path().map(str::to_string), None);
    if let Err(e) = paths.detect_conflicts(&prometheus) {
        let msg = e.to_string();
        let _ = started.send(Err(msg.clone()));
        return Err(msg);
    }
    let long_lived = LongLivedClientLimitService::new(config);
    let compression = ResponseCompressionService::new(config);
    let app_shared = shared_state.clone();
    let mut server = web::HttpServer::new(async move || {
        let paths_for_plugin = paths.clone();
        let prometheus = prometheus.clone();
        web::App::new()
            .middleware(rate_limit.clone())
            .middleware(long_lived.clone())
            .middleware(PluginService::new(
                paths_for_plugin,
                prometheus.as_ref().map(|p| p.endpoint.clone()),
            ))
            .middleware(RequestSummaryService::new(&graphql_path))
            .middleware(RequestIdentifiersService)
            .middleware(compression.clone())
            .state(app_shared.clone())
            .state(schema_state.clone())
            .state(app_shared.telemetry_context.clone())
            .state(schema_state.callback_subscriptions.clone())
            .configure(|m| configure_ntex_app(m, &paths, prometheus))
            .default_service(web::to(|| async {
                web::HttpResponse::NotFound().body("not found; GraphQL is at /graphql")
            }))
    })
    .config(SharedCfg::new("ROADMAP_HUB_GATEWAY").add(build_http_service_config(config)))
    .shutdown_timeout(config.shutdown_timeout())
    .disable_signals();
    if let Some(workers) = config.workers() {
        server = server.workers(workers.get());
    }
    let server = match server.listen(listener) {
        Ok(s) => s.run(),
        Err(e) => {
            let msg = format!("cannot listen: {e}");
            let _ = started.send(Err(msg.clone()));
            return Err(msg);
        }
    };
    let _ = started.send(Ok(server.clone()));
    let result = server.await.map_err(|e| e.to_string());
    bg_tasks.graceful_shutdown().await;
    invoke_shutdown_hooks(&shared_state).await;
    if let Some(metrics) = metrics {
        let _ = metrics.provider.shutdown();
    }
    result
}

/// Where traces go: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full URL), else
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces` over HTTP); `None` when neither is set.
fn otlp_endpoint_from_env() -> Option<(String, &'static str)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let protocol = match var("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() {
        Some("grpc") => "grpc",
        _ => "http",
    };
    if let Some(url) = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        return Some((url, protocol));
    }
    let base = var("OTEL_EXPORTER_OTLP_ENDPOINT")?;
    let base = base.trim_end_matches('/');
    Some(match protocol {
        "grpc" => (base.to_string(), protocol),
        _ => (format!("{base}/v1/traces"), protocol),
    })
}

/// Flushes and stops the trace exporter (call before the process exits).
pub type TracingShutdown = Box<dyn FnOnce() + Send>;

/// The OpenTelemetry layer of the whole process from `OTEL_EXPORTER_OTLP_*` and
/// `OTEL_SERVICE_NAME` (default `roadmap-hub`); `None` when no endpoint is configured: tracing
/// export is off by default. See [`otel_layer`].
pub fn otel_layer_from_env() -> anyhow::Result<Option<(roadmap_common::telemetry::ExtraLayer, TracingShutdown)>> {
    let Some((endpoint, protocol)) = otlp_endpoint_from_env() else {
        return Ok(None);
    };
    let service = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "roadmap-hub".to_string());
    otel_layer(&endpoint, protocol, &service).map(Some)
}

/// The OpenTelemetry layer of the whole process: router and subgraphs share it, so one request
/// is one trace. The exporter is the router's own pipeline (its batch processor and OTLP
/// exporter, `protocol` `http` = OTLP/HTTP protobuf or `grpc`), the layer is
/// [`roadmap_common::telemetry::otel_layer`] (spans plus SQL statements as span events).
///
/// The router's `telemetry.tracing` section of `router.config.yaml` is not used:
/// `Telemetry::init_global`, which would read it, installs its own global subscriber.
pub fn otel_layer(
    endpoint: &str,
    protocol: &str,
    service: &str,
) -> anyhow::Result<(roadmap_common::telemetry::ExtraLayer, TracingShutdown)> {
    use hive_router::opentelemetry::trace::TracerProvider as _;
    // The config type is non-exhaustive; serde builds it the way YAML would.
    let config: hive_router::config::telemetry::TelemetryConfig = serde_json::from_value(serde_json::json!({
        "resource": { "attributes": { "service.name": service } },
        "tracing": {
            "exporters": [{ "kind": "otlp", "endpoint": endpoint, "protocol": protocol }],
        },
    }))
    .context("OpenTelemetry configuration")?;
    let resource = build_resource(&config).map_err(|e| anyhow!("OpenTelemetry resource: {e}"))?;
    let (_, provider) = hive_router::telemetry::build_otel_layer_from_config::<tracing_subscriber::Registry, _>(
        &config,
        opentelemetry_sdk::trace::RandomIdGenerator::default(),
        build_scope(),
        resource,
    )
    .map_err(|e| anyhow!("OpenTelemetry exporter: {e}"))?
    .ok_or_else(|| anyhow!("OpenTelemetry exporter: tracing not enabled"))?;
    hive_router::telemetry::traces::set_tracing_enabled(true);
    let layer = roadmap_common::telemetry::otel_layer(provider.tracer_with_scope(build_scope()));
    let shutdown: TracingShutdown = Box::new(move || {
        let _ = provider.force_flush();
        let _ = provider.shutdown();
    });
    Ok((layer, shutdown))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The logs keep the router's spans out by their target (`roadmap_common::telemetry`): it
    /// must be the router's.
    #[test]
    fn the_logs_know_the_routers_span_target() {
        assert_eq!(
            roadmap_common::telemetry::ROUTER_SPAN_TARGET,
            hive_router::telemetry::traces::spans::TARGET_NAME
        );
    }

    #[test]
    fn both_configs_load_and_carry_our_header_rules() {
        let root = crate::workspace_root();
        let secret = GatewaySecret::new("test-secret-0123456789").unwrap();
        let dev = load(&root.join("gateway/router.config.yaml"), &HashMap::new(), &secret).unwrap();
        assert!(dev.jwt.is_jwt_auth_enabled());
        assert!(dev.laboratory.enabled);
        let rules = serde_json::to_value(&dev.headers).unwrap();
        let text = rules.to_string();
        assert!(
            text.contains(auth::SECRET_HEADER) && text.contains("test-secret-0123456789"),
            "{text}"
        );
        assert!(text.contains(auth::CLAIMS_HEADER), "{text}");

        // Each test is its own process under nextest, so setting variables here touches no other test.
        // SAFETY: no other thread of this test process reads the environment concurrently.
        unsafe {
            std::env::set_var("ROADMAP_JWKS_URL", "https://id.example.org/jwks.json");
            std::env::set_var("ROADMAP_JWT_ISSUER", "https://id.example.org/");
        }
        let prod = load(&root.join("gateway/router.production.yaml"), &HashMap::new(), &secret).unwrap();
        assert!(prod.jwt.is_jwt_auth_enabled());
        assert!(!prod.laboratory.enabled, "no IDE in production");
        assert!(
            matches!(
                prod.introspection,
                Some(hive_router::config::introspection_policy::IntrospectionPermissionConfig::Boolean(false))
            ),
            "no introspection in production"
        );
        assert!(prod.persisted_documents.enabled);
        assert!(prod.csrf.enabled && dev.csrf.enabled);
        assert!(prod.demand_control.as_ref().is_some_and(|d| d.enabled));
        for config in [&dev, &prod] {
            let plugin = config.plugins.get(crate::replay_partition::NAME);
            assert!(
                plugin.is_some_and(|p| p.enabled),
                "replaying subscriptions stay out of shared streams"
            );
        }
    }
}
