//! Operations end to end: liveness and readiness per target, Prometheus metrics.
//!
//! Readiness is tested against a database that goes away without touching the machine's
//! PostgreSQL: the hub talks to PostgreSQL through a TCP proxy the test owns and cuts.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use roadmap_e2e::otlp::{OtlpReceiver, ReceivedSpan as ExportedSpan};
use roadmap_e2e::{TestHub, regional_plan, server_url, set_measure_status};
use roadmap_hub::targets::Target;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// Forwards 127.0.0.1:<port> to PostgreSQL. While down, open connections are cut and new ones
/// are accepted and closed at once (the listener stays, so the port never changes).
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy listener");
        let addr = listener.local_addr().expect("proxy addr");
        let up = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = tokio::spawn({
            let up = up.clone();
            let connections = connections.clone();
            async move {
                loop {
                    let Ok((mut client, _)) = listener.accept().await else {
                        continue;
                    };
                    if !up.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let upstream = upstream.clone();
                    let task = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(&upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    let mut list = connections.lock().await;
                    list.retain(|t| !t.is_finished());
                    list.push(task);
                }
            }
        });
        Proxy {
            addr,
            up,
            connections,
            accept,
        }
    }

    /// PostgreSQL "goes away": every connection through the proxy is cut, new ones refused.
    async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for task in self.connections.lock().await.drain(..) {
            task.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// `host:port` of the test database server (`postgres://user@host:port`).
fn upstream_addr() -> String {
    let url = server_url();
    let authority = url.split("://").nth(1).unwrap_or(&url);
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = host.split('/').next().unwrap_or(host);
    if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    }
}

async fn status(client: &reqwest::Client, url: &str) -> u16 {
    match client.get(url).send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

/// Polls `url` until it answers `want` (or fails after 60 s: the whole suite on two cores is slow).
async fn wait_status(client: &reqwest::Client, url: &str, want: u16) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let got = status(client, url).await;
        if got == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} answered {got}, expected {want}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn readiness_follows_the_database_and_liveness_does_not() {
    let proxy = Proxy::start(upstream_addr()).await;
    let proxied = proxy.addr;
    let hub = TestHub::spawn_with(&[Target::PLANS, Target::PEOPLE, Target::GATEWAY], |config| {
        let name = config.database_url.rsplit('/').next().unwrap_or_default().to_string();
        config.database_url = format!("postgres://postgres@{proxied}/{name}");
    })
    .await
    .expect("hub through the proxy");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let running = hub.hub.as_ref().expect("hub");
    let subgraphs: Vec<String> = [Target::PLANS, Target::PEOPLE]
        .into_iter()
        .map(|t| format!("http://{}", running.addr(t).expect("subgraph addr")))
        .collect();
    let gateway = format!("http://{}", running.addr(Target::GATEWAY).expect("gateway addr"));

    for base in &subgraphs {
        assert_eq!(status(&client, &format!("{base}/health")).await, 200);
        assert_eq!(status(&client, &format!("{base}/ready")).await, 200);
    }
    assert_eq!(status(&client, &format!("{gateway}/health")).await, 200);
    assert_eq!(status(&client, &format!("{gateway}/readiness")).await, 200);

    proxy.cut().await;
    for base in &subgraphs {
        wait_status(&client, &format!("{base}/ready"), 503).await;
        let reason = client
            .get(format!("{base}/ready"))
            .send()
            .await
            .expect("ready")
            .text()
            .await
            .expect("body");
        assert_eq!(reason, "database unavailable");
        // Alive all the same: restarting the process would not bring the database back.
        assert_eq!(status(&client, &format!("{base}/health")).await, 200);
    }

    proxy.restore();
    for base in &subgraphs {
        wait_status(&client, &format!("{base}/ready"), 200).await;
    }
    // And the data path works again.
    hub.gql("{ plans { edges { node { id } } } }", json!({}))
        .await
        .expect("query after the database came back");
    hub.finish().await.expect("finish");
}

const CREATE_ORG: &str = "mutation($input: CreateOrganisationInput!) { createOrganisation(input: $input) { id } }";
const CREATE_PLAN: &str = "mutation($input: CreatePlanInput!) { createPlan(input: $input) { id } }";
const READ_PLAN: &str =
    "query($id: ID!) { plan(id: $id) { title sections { measures { title responsible { name } } } } }";

#[tokio::test]
async fn metrics_list_requests_batches_pools_and_event_series_after_a_federated_query() {
    let hub = TestHub::spawn().await.expect("hub");
    let org = hub
        .gql(
            CREATE_ORG,
            json!({ "input": { "name": "Управление образования", "kind": "METHODOLOGICAL_CENTRE", "abbreviations": ["УО"] } }),
        )
        .await
        .expect("organisation")["createOrganisation"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let plan = hub
        .gql(
            CREATE_PLAN,
            json!({ "input": {
                "title": "План", "level": "MUNICIPAL", "state": "APPROVED", "periodStart": "2023-09-01", "periodEnd": "2024-08-31",
                "sections": [{ "number": "1", "title": "Раздел", "measures": [
                    { "number": "1.1", "title": "Мероприятие", "responsible": [org] }
                ] }],
            } }),
        )
        .await
        .expect("plan")["createPlan"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let data = hub.gql(READ_PLAN, json!({ "id": plan })).await.expect("federated read");
    assert_eq!(
        data["plan"]["sections"][0]["measures"][0]["responsible"][0]["name"],
        "Управление образования"
    );

    let client = reqwest::Client::new();
    let running = hub.hub.as_ref().expect("hub");
    for target in [Target::PLANS, Target::PEOPLE] {
        let url = format!("http://{}/metrics", running.addr(target).expect("addr"));
        let response = client.get(&url).send().await.expect("metrics");
        assert_eq!(response.status().as_u16(), 200);
        let text = response.text().await.expect("text");
        for series in [
            "roadmap_http_requests_total{",
            "roadmap_http_request_duration_seconds_bucket{",
            "roadmap_dataloader_batch_size_bucket{",
            "roadmap_db_pool_connections{",
            "roadmap_outbox_lag_events{",
            "roadmap_redis_stream_lag_entries{",
            "roadmap_redis_stream_pending_entries{",
            "roadmap_subscribers{",
            "roadmap_webhook_deliveries_total{",
            "roadmap_webhook_failures_total{",
        ] {
            assert!(text.contains(series), "{url} lacks {series}:\n{text}");
        }
        let name = target.name();
        assert!(
            text.contains(&format!(
                "roadmap_http_requests_total{{method=\"POST\",route=\"/graphql\",status=\"200\",subgraph=\"{name}\"}}"
            )),
            "{url}: no POST /graphql count for {name}:\n{text}"
        );
        assert!(
            text.contains(&format!(
                "roadmap_db_pool_connections{{state=\"open\",subgraph=\"{name}\"}}"
            )),
            "{url}: no pool gauge for {name}:\n{text}"
        );
    }
    // The entity fetch of the responsible organisations went through a people DataLoader.
    let people = client
        .get(format!(
            "http://{}/metrics",
            running.addr(Target::PEOPLE).expect("addr")
        ))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        people.contains("roadmap_dataloader_batch_size_count{loader=\"OrganisationByIdLoader\"}"),
        "{people}"
    );
    // The router's own metrics on the gateway port: its HTTP server and its calls to subgraphs.
    let url = format!("http://{}/metrics", running.addr(Target::GATEWAY).expect("addr"));
    let router = client.get(&url).send().await.expect("metrics");
    assert_eq!(router.status().as_u16(), 200);
    let router = router.text().await.expect("text");
    for series in [
        "http_server_request_duration_seconds_count",
        "http_client_request_duration_seconds_count",
    ] {
        assert!(router.contains(series), "{url} lacks {series}:\n{router}");
    }
    hub.finish().await.expect("finish");
}

/// Starts an OTLP/HTTP receiver and installs the trace export to it (once per test process);
/// returns the receiver and the flush of the exporter.
async fn export_traces() -> (OtlpReceiver, roadmap_hub::router::TracingShutdown) {
    let receiver = OtlpReceiver::start().await.expect("OTLP receiver");
    let (layer, flush) = roadmap_hub::router::otel_layer(
        &format!("{}/v1/traces", receiver.endpoint()),
        "http",
        "roadmap-hub-test",
    )
    .expect("OpenTelemetry layer");
    roadmap_common::telemetry::init_for_tests_with(Some(layer));
    (receiver, flush)
}

/// Every span exported so far.
fn exported(received: &OtlpReceiver) -> Vec<ExportedSpan> {
    received.spans()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_federated_query_is_one_trace_across_gateway_subgraphs_and_sql() {
    let (received, flush) = export_traces().await;
    let hub = TestHub::spawn().await.expect("hub");
    let org = hub
        .gql(
            CREATE_ORG,
            json!({ "input": { "name": "Управление образования", "kind": "METHODOLOGICAL_CENTRE", "abbreviations": ["УО"] } }),
        )
        .await
        .expect("organisation")["createOrganisation"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let plan = hub
        .gql(
            CREATE_PLAN,
            json!({ "input": {
                "title": "План", "level": "MUNICIPAL", "state": "APPROVED", "periodStart": "2023-09-01", "periodEnd": "2024-08-31",
                "sections": [{ "number": "1", "title": "Раздел", "measures": [
                    { "number": "1.1", "title": "Мероприятие", "responsible": [org] }
                ] }],
            } }),
        )
        .await
        .expect("plan")["createPlan"]["id"]
        .as_str()
        .expect("id")
        .to_string();

    // The client starts the trace; the router continues it and passes it on to the subgraphs.
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let response: serde_json::Value = reqwest::Client::new()
        .post(&hub.gateway)
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({ "query": READ_PLAN, "variables": { "id": plan } }))
        .send()
        .await
        .expect("federated read")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        response["data"]["plan"]["sections"][0]["measures"][0]["responsible"][0]["name"], "Управление образования",
        "{response}"
    );
    tokio::task::spawn_blocking(flush).await.expect("flush");

    let spans = exported(&received);
    let ours: Vec<&ExportedSpan> = spans.iter().filter(|s| s.trace_id == trace_id).collect();
    let summary = |list: &[&ExportedSpan]| {
        list.iter()
            .map(|s| format!("{} {:?} events={}", s.name, s.attributes, s.events))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        !ours.is_empty(),
        "no span of trace {trace_id} among {} spans",
        spans.len()
    );
    // Spans continue the client's span (the parent ids are decoded: a root span has none).
    assert!(ours.iter().all(|s| s.has_parent()), "{}", summary(&ours));
    let subgraph_request = |name: &str| {
        ours.iter().any(|s| {
            s.name.starts_with(&format!("{name} POST /graphql"))
                && s.attributes.iter().any(|(k, v)| k == "subgraph" && v == name)
        })
    };
    assert!(subgraph_request("plans"), "no plans request span:\n{}", summary(&ours));
    assert!(
        subgraph_request("people"),
        "no people request span:\n{}",
        summary(&ours)
    );
    // The router's own spans: the incoming request, the operation, one fetch per subgraph call.
    for name in [
        "http.server",
        "graphql.operation",
        "graphql.subgraph.operation",
        "http.client",
    ] {
        assert!(
            ours.iter().any(|s| s.name == name),
            "no router span {name}:\n{}",
            summary(&ours)
        );
    }
    // Resolver spans (async-graphql's Tracing extension) in the subgraphs.
    assert!(
        ours.iter().any(|s| s.name == "field"),
        "no resolver span:\n{}",
        summary(&ours)
    );
    // DataLoader batches of both subgraphs, each with its SQL statement as a span event.
    for loader in ["PlanByIdLoader", "OrganisationByIdLoader"] {
        assert!(
            ours.iter().any(|s| s.name == "dataloader"
                && s.events > 0
                && s.attributes.iter().any(|(k, v)| k == "loader" && v == loader)),
            "no {loader} batch with SQL:\n{}",
            summary(&ours)
        );
    }
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn the_redis_readiness_check_follows_redis() {
    let redis = std::env::var("TEST_REDIS_ADDR").unwrap_or_else(|_| "127.0.0.1:6379".to_string());
    let proxy = Proxy::start(redis).await;
    let url = format!("redis://{}", proxy.addr);
    roadmap_common::server::redis_ping(&url)
        .await
        .expect("Redis answers PING");
    proxy.cut().await;
    assert!(roadmap_common::server::redis_ping(&url).await.is_err());
    proxy.restore();
    roadmap_common::server::redis_ping(&url).await.expect("Redis is back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_webhook_attempt_is_a_span_of_its_events_trace_naming_event_endpoint_and_outcome() {
    let (received, flush) = export_traces().await;
    // A webhook receiver that accepts everything.
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("receiver");
    let receiver = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let hub = TestHub::spawn().await.expect("hub");
    let (_, plan, measures) = regional_plan(&hub, &["1"]).await;
    let data = hub
        .gql(
            "mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id } } }",
            json!({ "input": { "url": format!("http://{receiver}/hook"), "filter": { "plan": plan } } }),
        )
        .await
        .expect("registerWebhook");
    let webhook = data["registerWebhook"]["webhook"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    set_measure_status(&hub, &measures[0], "DONE").await;
    let mut delivery = json!(null);
    for _ in 0..100 {
        let data = hub
            .gql(
                "query($id: ID!) { webhook(id: $id) { deliveries { edges { node { id state event { id } } } } } }",
                json!({ "id": webhook }),
            )
            .await
            .expect("webhook");
        delivery = data["webhook"]["deliveries"]["edges"][0]["node"].clone();
        if delivery["state"] == "DELIVERED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(delivery["state"], "DELIVERED", "{delivery}");
    tokio::task::spawn_blocking(flush).await.expect("flush");

    let spans = exported(&received);
    let attribute = |s: &ExportedSpan, key: &str| s.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let attempts: Vec<&ExportedSpan> = spans.iter().filter(|s| s.name == "webhook delivery").collect();
    assert_eq!(attempts.len(), 1, "{attempts:#?}");
    let span = attempts[0];
    // It continues the trace of the change that made the event (through the consumer's span).
    assert!(span.has_parent(), "in the event's trace: {span:?}");
    assert!(
        spans.iter().any(|s| s.name == "event consumed"
            && s.trace_id == span.trace_id
            && attribute(s, "event.id") == attribute(span, "event.id")),
        "the consumer's span of the event is in the attempt's trace: {spans:#?}"
    );
    assert_eq!(attribute(span, "event.id").as_deref(), delivery["event"]["id"].as_str());
    assert_eq!(attribute(span, "endpoint.id").as_deref(), Some(webhook.as_str()));
    assert_eq!(attribute(span, "delivery.id").as_deref(), delivery["id"].as_str());
    assert_eq!(attribute(span, "outcome").as_deref(), Some("delivered"));
    hub.finish().await.expect("finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_status_change_shows_its_relay_batch_and_its_consumption_as_spans() {
    let (received, flush) = export_traces().await;
    let hub = TestHub::spawn().await.expect("hub");
    let (_, _, measures) = regional_plan(&hub, &["1"]).await;
    set_measure_status(&hub, &measures[0], "DONE").await;
    let plans = hub.plans_pool().clone();
    let mut event = None;
    for _ in 0..100 {
        let data = hub
            .gql(
                "query($m: ID!) { events(after: \"0\", filter: { underMeasure: $m, kinds: [MEASURE_STATUS_CHANGED] }) { id } }",
                json!({ "m": measures[0] }),
            )
            .await
            .expect("events");
        event = data["events"][0]["id"].as_str().map(str::to_string);
        if event.is_some() && roadmap_common::outbox::unpublished(&plans).await.expect("outbox") == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let event = event.expect("the status change reached the log");
    // The spans close right after the commits the loop waited for.
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::spawn_blocking(flush).await.expect("flush");

    let spans = exported(&received);
    let attribute = |s: &ExportedSpan, key: &str| s.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let relays: Vec<&ExportedSpan> = spans
        .iter()
        .filter(|s| s.name == "outbox relay" && attribute(s, "event.ids").is_some_and(|ids| ids.contains(&event)))
        .collect();
    assert_eq!(relays.len(), 1, "one relay batch carried {event}: {spans:#?}");
    let relay = relays[0];
    assert!(!relay.has_parent(), "a root span: {relay:?}");
    assert_eq!(attribute(relay, "service").as_deref(), Some("plans"));
    assert_eq!(attribute(relay, "transport").as_deref(), Some("in-process"));
    assert_eq!(attribute(relay, "outcome").as_deref(), Some("published"));

    let consumed: Vec<&ExportedSpan> = spans
        .iter()
        .filter(|s| s.name == "event consumed" && attribute(s, "event.id").as_deref() == Some(event.as_str()))
        .collect();
    assert_eq!(consumed.len(), 1, "{consumed:#?}");
    let entry = consumed[0];
    assert_eq!(
        attribute(entry, "event.kind").as_deref(),
        Some("MEASURE_STATUS_CHANGED")
    );
    assert_eq!(attribute(entry, "outcome").as_deref(), Some("inserted"));
    // The consumption continues the event's trace: the relay's publish of it, under the mutation.
    assert!(entry.has_parent(), "in the event's trace: {entry:?}");
    assert!(
        spans.iter().any(|s| s.name == "outbox publish"
            && s.trace_id == entry.trace_id
            && attribute(s, "event.id").as_deref() == Some(event.as_str())),
        "the relay's publish span of {entry:?}"
    );
    assert!(
        spans.iter().any(|s| s.name == "event batch consumed"
            && !s.has_parent()
            && attribute(s, "transport").as_deref() == Some("in-process")),
        "the consumer's batch span (a root: a batch carries many traces)"
    );
    hub.finish().await.expect("finish");
}
