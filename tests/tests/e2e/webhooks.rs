//! Webhooks through the gateway, delivered to a real receiver (`tests/webhook-receiver`, Node.js)
//! that verifies every request with the Standard Webhooks reference library (npm
//! `standardwebhooks`): retries after failures, attempts queryable, 410 disabling, manual
//! replay, replay after a cursor, metrics; and two delivery workers sharing one database.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use roadmap_e2e::{TestHub, first_error, regional_plan, set_measure_status};
use roadmap_hub::targets::Target;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const WAIT: Duration = Duration::from_secs(30);

/// The Node.js receiver, one process per test.
struct Receiver {
    _child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    base: String,
    /// Every request line read so far.
    seen: Vec<Value>,
}

impl Receiver {
    async fn start() -> Receiver {
        // Installs the receiver's pinned dependencies the first time (blocking: a file lock).
        let dir = tokio::task::spawn_blocking(roadmap_e2e::webhook_receiver_dir)
            .await
            .expect("install task")
            .unwrap_or_else(|e| panic!("{e:#}"));
        let mut child = Command::new("node")
            .arg("receiver.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (Node.js 20 is needed)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("the receiver starts")
            .expect("stdout")
            .expect("a first line");
        let first: Value = serde_json::from_str(&first).expect("JSON");
        let port = first["listening"].as_u64().expect("listening port");
        Receiver {
            _child: child,
            lines,
            base: format!("http://127.0.0.1:{port}"),
            seen: Vec::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Gives `path` its secret and the statuses to answer its first requests with.
    async fn configure(&self, path: &str, secret: &str, script: &[u16]) {
        let response = reqwest::Client::new()
            .post(self.url("/_config"))
            .json(&json!({ "path": path, "secret": secret, "script": script }))
            .send()
            .await
            .expect("configure the receiver");
        assert_eq!(response.status().as_u16(), 204);
    }

    /// Reads request lines until `done` holds for the lines of `path`; returns those lines.
    async fn wait_for(&mut self, path: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let of_path: Vec<Value> = self.seen.iter().filter(|l| l["path"] == path).cloned().collect();
            if done(&of_path) {
                return of_path;
            }
            let line = tokio::time::timeout_at(deadline, self.lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("{path}: timed out; seen {:#?}", self.seen))
                .expect("stdout")
                .expect("the receiver is running");
            self.seen.push(serde_json::from_str(&line).expect("JSON line"));
        }
    }

    /// Request lines that arrive within `wait` (for checking that nothing comes).
    async fn drain(&mut self, wait: Duration) -> usize {
        let before = self.seen.len();
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Ok(Some(line))) = tokio::time::timeout_at(deadline, self.lines.next_line()).await {
            self.seen.push(serde_json::from_str(&line).expect("JSON line"));
        }
        self.seen.len() - before
    }
}

const REGISTER: &str = "mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { \
    secret webhook { id url enabled filter { plan kinds } } } }";

const WEBHOOK: &str = "query($id: ID!) { webhook(id: $id) { id enabled disabledReason \
    deliveries(first: 50) { edges { cursor node { id state attemptCount nextAttemptAt deliveredAt \
        event { id cursor kind measure { title } } \
        attempts { number statusCode error durationMs attemptedAt } } } } } }";

/// Registers a webhook; returns (id, secret).
async fn register(hub: &TestHub, url: &str, filter: Value) -> (String, String) {
    let data = hub
        .gql(
            REGISTER,
            json!({ "input": { "url": url, "description": "test", "filter": filter } }),
        )
        .await
        .expect("registerWebhook");
    let r = &data["registerWebhook"];
    assert_eq!(r["webhook"]["url"], url);
    assert_eq!(r["webhook"]["enabled"], true);
    (
        r["webhook"]["id"].as_str().expect("id").to_string(),
        r["secret"].as_str().expect("secret").to_string(),
    )
}

/// The webhook, polled until `done` holds for it.
async fn webhook_until(hub: &TestHub, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let data = hub.gql(WEBHOOK, json!({ "id": id })).await.expect("webhook");
        let webhook = data["webhook"].clone();
        if done(&webhook) {
            return webhook;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {webhook:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn deliveries(webhook: &Value) -> Vec<Value> {
    webhook["deliveries"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn statuses(delivery: &Value) -> Vec<Value> {
    delivery["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["statusCode"].clone())
        .collect()
}

/// `roadmap_webhook_...` series of the events subgraph, by their full name with labels.
async fn metric(hub: &TestHub, series: &str) -> Option<f64> {
    let addr = hub.hub.as_ref().expect("hub").addr(Target::EVENTS).expect("events");
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn a_standard_webhooks_receiver_verifies_deliveries_after_failures_and_replays() {
    let hub = TestHub::spawn_with(Target::ALL, |c| {
        c.webhooks.retry_schedule = vec![Duration::from_millis(300); 3];
    })
    .await
    .expect("hub");
    let mut receiver = Receiver::start().await;
    let (_, plan, measures) = regional_plan(&hub, &["1.1"]).await;
    let filter = json!({ "plan": plan, "kinds": ["MEASURE_STATUS_CHANGED"] });
    let (hook, secret) = register(&hub, &receiver.url("/hook"), filter.clone()).await;
    // `whsec_` + base64 of at least 24 bytes (32 base64 characters).
    assert!(secret.starts_with("whsec_") && secret.len() >= 6 + 32, "{secret}");
    let (gone, gone_secret) = register(&hub, &receiver.url("/gone"), filter).await;
    assert_ne!(secret, gone_secret, "secrets are per endpoint");
    let (other, _) = register(&hub, &receiver.url("/targets"), json!({ "kinds": ["TARGET_SET"] })).await;
    receiver.configure("/hook", &secret, &[500, 500]).await;
    receiver.configure("/gone", &gone_secret, &[410]).await;

    set_measure_status(&hub, &measures[0], "IN_PROGRESS").await;

    // Two failures, then verified and accepted; every attempt signed the same way.
    let lines = receiver
        .wait_for("/hook", |l| l.iter().any(|l| l["status"] == 200))
        .await;
    let answered: Vec<&Value> = lines.iter().map(|l| &l["status"]).collect();
    assert_eq!(answered, [500, 500, 200], "{lines:#?}");
    let event_id = lines[0]["webhookId"].as_str().expect("webhook-id").to_string();
    let now = chrono::Utc::now().timestamp();
    for line in &lines {
        assert_eq!(line["verified"], true, "{line}");
        assert_eq!(
            line["wrongSecretVerified"], false,
            "a wrong secret must not verify: {line}"
        );
        assert_eq!(
            line["tamperedVerified"], false,
            "a tampered body must not verify: {line}"
        );
        assert_eq!(line["webhookId"], event_id.as_str(), "same webhook-id on every retry");
        assert_eq!(line["contentType"], "application/json");
        let ts: i64 = line["timestamp"]
            .as_str()
            .expect("timestamp")
            .parse()
            .expect("unix seconds");
        assert!((now - ts).abs() < 60, "{ts} vs {now}");
        let payload = &line["payload"];
        assert_eq!(payload["type"], "MEASURE_STATUS_CHANGED");
        assert_eq!(payload["data"]["id"], event_id.as_str());
        assert_eq!(payload["data"]["subjectType"], "Measure");
        assert_eq!(payload["data"]["subjectId"], measures[0].as_str());
        assert_eq!(payload["data"]["before"]["status"], "PLANNED");
        assert_eq!(payload["data"]["after"]["status"], "IN_PROGRESS");
        assert_eq!(payload["data"]["context"]["plan"], plan.as_str());
    }

    // The delivery and its attempts, through the gateway, with the event's measure resolved
    // by the plans subgraph.
    let webhook = webhook_until(&hub, &hook, |w| {
        deliveries(w).first().is_some_and(|d| d["state"] == "DELIVERED")
    })
    .await;
    let delivered = deliveries(&webhook);
    assert_eq!(delivered.len(), 1, "{webhook:#}");
    let delivery = &delivered[0];
    assert_eq!(delivery["attemptCount"], 3);
    assert_eq!(statuses(delivery), [json!(500), json!(500), json!(200)]);
    assert_eq!(delivery["event"]["id"], event_id.as_str());
    assert_eq!(delivery["event"]["measure"]["title"], "Мероприятие 1.1");
    assert!(delivery["nextAttemptAt"].is_null() && delivery["deliveredAt"].is_string());
    for (i, attempt) in delivery["attempts"].as_array().expect("attempts").iter().enumerate() {
        assert_eq!(attempt["number"], i + 1);
        assert!(attempt["error"].is_null());
        assert!(attempt["durationMs"].as_i64().expect("duration") >= 0);
    }
    let first_cursor = delivery["event"]["cursor"].as_str().expect("cursor").to_string();
    let delivery_id = delivery["id"].as_str().expect("id").to_string();

    // 410 Gone disables its endpoint.
    let gone_lines = receiver.wait_for("/gone", |l| !l.is_empty()).await;
    assert_eq!(gone_lines[0]["status"], 410);
    assert_eq!(gone_lines[0]["verified"], true);
    let webhook = webhook_until(&hub, &gone, |w| w["enabled"] == false).await;
    assert!(
        webhook["disabledReason"].as_str().is_some_and(|r| r.contains("410")),
        "{webhook:#}"
    );
    let gone_deliveries = deliveries(&webhook);
    assert_eq!(gone_deliveries.len(), 1);
    assert_eq!(gone_deliveries[0]["state"], "FAILED");
    assert_eq!(statuses(&gone_deliveries[0]), [json!(410)]);
    // A disabled endpoint's delivery is not replayed.
    let body = hub
        .request(
            "mutation($id: ID!) { replayWebhookDelivery(id: $id) { state } }",
            json!({ "id": gone_deliveries[0]["id"] }),
        )
        .await
        .expect("response");
    let error = first_error(&body).expect("an error");
    assert!(error.starts_with("id: ") && error.contains("disabled"), "{error}");

    // The filter kept the other endpoint out.
    let webhook = webhook_until(&hub, &other, |_| true).await;
    assert!(deliveries(&webhook).is_empty(), "{webhook:#}");

    // Manual replay: sent again now, same webhook-id, verified.
    let data = hub
        .gql(
            "mutation($id: ID!) { replayWebhookDelivery(id: $id) { id state } }",
            json!({ "id": delivery_id }),
        )
        .await
        .expect("replayWebhookDelivery");
    assert_eq!(data["replayWebhookDelivery"]["id"], delivery_id.as_str());
    let lines = receiver.wait_for("/hook", |l| l.len() == 4).await;
    assert_eq!(lines[3]["status"], 200);
    assert_eq!(lines[3]["verified"], true);
    assert_eq!(lines[3]["webhookId"], event_id.as_str());
    let webhook = webhook_until(&hub, &hook, |w| deliveries(w)[0]["attemptCount"] == 4).await;
    assert_eq!(deliveries(&webhook)[0]["state"], "DELIVERED");

    // An outage: disabled, an event passes by, enabled, then replayed after the last cursor seen.
    let data = hub
        .gql(
            "mutation($id: ID!) { disableWebhook(id: $id, reason: \"maintenance\") { enabled disabledReason } }",
            json!({ "id": hook }),
        )
        .await
        .expect("disableWebhook");
    assert_eq!(
        data["disableWebhook"],
        json!({ "enabled": false, "disabledReason": "maintenance" })
    );
    set_measure_status(&hub, &measures[0], "DONE").await;
    // Wait for the event to be in the log, then check nothing was sent.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let data = hub
            .gql(
                "query($a: String) { events(after: $a) { id } }",
                json!({ "a": first_cursor }),
            )
            .await
            .expect("events");
        if data["events"].as_array().is_some_and(|e| !e.is_empty()) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second event never reached the log"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        receiver.drain(Duration::from_millis(700)).await,
        0,
        "{:#?}",
        receiver.seen
    );
    let data = hub
        .gql(
            "mutation($id: ID!) { enableWebhook(id: $id) { enabled disabledReason } }",
            json!({ "id": hook }),
        )
        .await
        .expect("enableWebhook");
    assert_eq!(
        data["enableWebhook"],
        json!({ "enabled": true, "disabledReason": null })
    );
    let data = hub
        .gql(
            "mutation($id: ID!, $after: String) { replayWebhookEvents(endpoint: $id, after: $after) }",
            json!({ "id": hook, "after": first_cursor }),
        )
        .await
        .expect("replayWebhookEvents");
    assert_eq!(data["replayWebhookEvents"], 1);
    let lines = receiver.wait_for("/hook", |l| l.len() == 5).await;
    assert_eq!(lines[4]["status"], 200);
    assert_eq!(lines[4]["verified"], true);
    assert_eq!(lines[4]["payload"]["data"]["after"]["status"], "DONE");
    assert_ne!(lines[4]["webhookId"], event_id.as_str());
    let webhook = webhook_until(&hub, &hook, |w| {
        let d = deliveries(w);
        d.len() == 2 && d[1]["state"] == "DELIVERED"
    })
    .await;
    // Listed in log order.
    let d = deliveries(&webhook);
    assert_eq!(d[0]["event"]["id"], event_id.as_str());
    assert_eq!(d[1]["event"]["id"], lines[4]["webhookId"]);

    // Every attempt counted by outcome: 3 delivered (first, replay, replay after the outage),
    // 2 retries, 1 gone; 3 failures.
    let events =
        |outcome: &str| format!("roadmap_webhook_deliveries_total{{outcome=\"{outcome}\",subgraph=\"events\"}}");
    assert_eq!(metric(&hub, &events("delivered")).await, Some(3.0));
    assert_eq!(metric(&hub, &events("retry")).await, Some(2.0));
    assert_eq!(metric(&hub, &events("gone")).await, Some(1.0));
    assert_eq!(metric(&hub, &events("failed")).await, Some(0.0));
    assert_eq!(
        metric(&hub, "roadmap_webhook_failures_total{subgraph=\"events\"}").await,
        Some(3.0)
    );
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn bad_registrations_name_the_field_and_an_unreachable_endpoint_fails_after_its_schedule() {
    let hub = TestHub::spawn_with(Target::ALL, |c| {
        c.webhooks.retry_schedule = vec![Duration::from_millis(100)];
    })
    .await
    .expect("hub");
    for (input, field) in [
        (json!({ "url": "ftp://example.org/hook" }), "input.url"),
        (json!({ "url": "not a url" }), "input.url"),
        (json!({ "url": "http://" }), "input.url"),
        (
            json!({ "url": "http://127.0.0.1:9/", "filter": { "level": "GALACTIC" } }),
            "input.filter.level",
        ),
        (
            json!({ "url": "http://127.0.0.1:9/", "filter": { "plan": "nope" } }),
            "input.filter.plan",
        ),
    ] {
        let body = hub
            .request(REGISTER, json!({ "input": input }))
            .await
            .expect("response");
        let error = first_error(&body).unwrap_or_else(|| panic!("{input} was accepted: {body}"));
        assert!(error.starts_with(&format!("{field}: ")), "{input}: {error}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    }
    let body = hub
        .request(
            "mutation { enableWebhook(id: \"6f1c1a3e-8a55-4d2b-9d43-0a4a51c2c0de\") { id } }",
            json!({}),
        )
        .await
        .expect("response");
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{body}");
    let webhooks = hub.gql("{ webhooks { id } }", json!({})).await.expect("webhooks");
    assert_eq!(webhooks["webhooks"], json!([]), "nothing half-stored");

    // A port nobody listens on: connection refused, retried once, then FAILED.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let (_, plan, measures) = regional_plan(&hub, &["1"]).await;
    let (id, _) = register(&hub, &format!("http://127.0.0.1:{port}/hook"), json!({ "plan": plan })).await;
    let body = hub
        .request(
            "mutation($id: ID!) { replayWebhookEvents(endpoint: $id, after: \"-3\") }",
            json!({ "id": id }),
        )
        .await
        .expect("response");
    assert!(first_error(&body).is_some_and(|e| e.starts_with("after: ")), "{body}");
    set_measure_status(&hub, &measures[0], "DONE").await;
    let webhook = webhook_until(&hub, &id, |w| {
        deliveries(w).first().is_some_and(|d| d["state"] == "FAILED")
    })
    .await;
    let delivery = &deliveries(&webhook)[0];
    assert_eq!(delivery["attemptCount"], 2, "{delivery:#}");
    for attempt in delivery["attempts"].as_array().expect("attempts") {
        assert!(attempt["statusCode"].is_null(), "{attempt}");
        assert!(attempt["error"].as_str().is_some_and(|e| !e.is_empty()), "{attempt}");
    }
    assert_eq!(webhook["enabled"], true, "only 410 disables");
    let failed =
        |outcome: &str| format!("roadmap_webhook_deliveries_total{{outcome=\"{outcome}\",subgraph=\"events\"}}");
    assert_eq!(metric(&hub, &failed("retry")).await, Some(1.0));
    assert_eq!(metric(&hub, &failed("failed")).await, Some(1.0));
    hub.finish().await.expect("finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_on_one_database_send_each_delivery_once() {
    // A receiver that counts each webhook-id it is sent.
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let seen = seen.clone();
            move |headers: axum::http::HeaderMap| {
                let seen = seen.clone();
                async move {
                    let id = headers
                        .get("webhook-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    *seen.lock().expect("lock").entry(id).or_default() += 1;
                    // Slow enough for both workers to be busy at once.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("receiver");
    let receiver = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let hub = TestHub::spawn().await.expect("hub");
    // A second worker on the same database, as another events replica would run.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let pool = roadmap_common::db::connect_schema_quiet(&hub.database_url, roadmap_events::NAME, 3)
        .await
        .expect("pool");
    let second = tokio::spawn(roadmap_events::webhooks::worker::run(
        pool,
        roadmap_common::config::HubConfig::defaults().webhooks,
        stopped,
    ));
    let numbers: Vec<String> = (1..=12).map(|n| n.to_string()).collect();
    let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let (_, plan, measures) = regional_plan(&hub, &numbers).await;
    let (hook, _) = register(&hub, &format!("http://{receiver}/hook"), json!({ "plan": plan })).await;
    for m in &measures {
        set_measure_status(&hub, m, "DONE").await;
    }
    let webhook = webhook_until(&hub, &hook, |w| {
        let d = deliveries(w);
        d.len() == measures.len() && d.iter().all(|d| d["state"] == "DELIVERED")
    })
    .await;
    for d in deliveries(&webhook) {
        assert_eq!(d["attemptCount"], 1, "{d:#}");
    }
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), measures.len(), "{seen:?}");
    assert!(seen.values().all(|n| *n == 1), "sent twice: {seen:?}");
    let _ = stop.send(true);
    second.await.expect("second worker stops");
    hub.finish().await.expect("finish");
}

const CREATE_TERRITORY: &str = "mutation($input: CreateTerritoryInput!) { createTerritory(input: $input) { id } }";

async fn create_territory(hub: &TestHub, name: &str, kind: &str, parent: Option<&str>) -> String {
    let data = hub
        .gql(
            CREATE_TERRITORY,
            json!({ "input": { "name": name, "kind": kind, "parent": parent } }),
        )
        .await
        .unwrap_or_else(|e| panic!("territory {name}: {e}"));
    data["createTerritory"]["id"].as_str().expect("id").to_string()
}

/// A municipal plan with one measure in `territory`; returns the measure.
async fn municipal_measure(hub: &TestHub, title: &str, territory: &str, state: &str) -> String {
    let data = hub
        .gql(
            "mutation($input: CreatePlanInput!) { createPlan(input: $input) { sections { measures { id } } } }",
            json!({ "input": { "title": title, "level": "MUNICIPAL", "territory": territory, "state": state,
                               "sections": [{ "number": "1", "title": "Раздел",
                                              "measures": [{ "number": "1.1", "title": title }] }] } }),
        )
        .await
        .expect("plan");
    data["createPlan"]["sections"][0]["measures"][0]["id"]
        .as_str()
        .expect("id")
        .to_string()
}

#[tokio::test]
async fn a_municipal_editors_webhook_receives_its_municipalitys_events_and_not_the_next_ones() {
    use roadmap_common::auth::Role;
    let hub = TestHub::spawn().await.expect("hub");
    let mut receiver = Receiver::start().await;
    let region = create_territory(&hub, "Крючковый край", "REGION", None).await;
    let here = create_territory(&hub, "Свой район", "MUNICIPALITY", Some(&region)).await;
    let there = create_territory(&hub, "Соседний район", "MUNICIPALITY", Some(&region)).await;
    let uuid = |t: &str| Some(uuid::Uuid::parse_str(t).expect("id"));
    let editor_here = roadmap_e2e::token("editor@here", &[Role::Editor], uuid(&here));
    let editor_there = roadmap_e2e::token("editor@there", &[Role::Editor], uuid(&there));

    // A filter outside the registrant's territory is refused, naming it; nothing is stored.
    let input = |path: &str, filter: Value| json!({ "input": { "url": receiver.url(path), "description": "scoped", "filter": filter } });
    let body = hub
        .request_as(
            Some(&editor_here),
            REGISTER,
            input("/here", json!({ "territory": there })),
        )
        .await
        .expect("response");
    let error = first_error(&body).unwrap_or_default();
    assert!(
        error.contains("input.filter.territory") && error.contains(&there),
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");

    let mut hooks = Vec::new();
    for (token, path) in [(&editor_here, "/here"), (&editor_there, "/there")] {
        let data = hub
            .gql_as(Some(token), REGISTER, input(path, json!({})))
            .await
            .expect("registerWebhook");
        let secret = data["registerWebhook"]["secret"].as_str().expect("secret").to_string();
        receiver.configure(path, &secret, &[]).await;
        hooks.push(
            data["registerWebhook"]["webhook"]["id"]
                .as_str()
                .expect("id")
                .to_string(),
        );
    }

    let here_draft = municipal_measure(&hub, "Свой черновик", &here, "DRAFT").await;
    let here_public = municipal_measure(&hub, "Свой утверждённый", &here, "APPROVED").await;
    let there_public = municipal_measure(&hub, "Соседний утверждённый", &there, "APPROVED").await;
    let there_draft = municipal_measure(&hub, "Соседний черновик", &there, "DRAFT").await;
    for measure in [&there_public, &here_draft, &there_draft, &here_public] {
        set_measure_status(&hub, measure, "IN_PROGRESS").await;
    }
    let subjects = |lines: &[Value]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l["status"] == 200)
            .filter_map(|l| l["payload"]["data"]["subjectId"].as_str().map(str::to_string))
            .collect()
    };
    let here_lines = receiver.wait_for("/here", |l| subjects(l).contains(&here_public)).await;
    let there_lines = receiver
        .wait_for("/there", |l| subjects(l).contains(&there_draft))
        .await;
    // Anything else would have been enqueued with the events seen: give stragglers a moment.
    receiver.drain(Duration::from_secs(1)).await;
    let of = |path: &str| {
        subjects(
            &receiver
                .seen
                .iter()
                .filter(|l| l["path"] == path)
                .cloned()
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        of("/here"),
        [here_draft.clone(), here_public.clone()],
        "{here_lines:#?}"
    );
    assert_eq!(
        of("/there"),
        [there_public.clone(), there_draft.clone()],
        "{there_lines:#?}"
    );
    assert!(receiver.seen.iter().all(|l| l["verified"] == true));
    hub.finish().await.expect("finish");
}

/// A webhook's registration (its URL, filter, deliveries) is its registrant's business: anonymous
/// callers list none, another editor neither sees nor disables it, its registrant and admins do.
#[tokio::test]
async fn a_webhook_is_read_and_managed_only_by_its_registrant_and_admins() {
    use roadmap_common::auth::Role;
    let hub = TestHub::spawn().await.expect("hub");
    let owner = roadmap_e2e::token("owner@hooks", &[Role::Editor], None);
    let other = roadmap_e2e::token("other@hooks", &[Role::Editor], None);
    let data = hub
        .gql_as(
            Some(&owner),
            REGISTER,
            json!({ "input": { "url": "http://127.0.0.1:9/hook", "description": "mine", "filter": {} } }),
        )
        .await
        .expect("registerWebhook");
    let id = data["registerWebhook"]["webhook"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let list = "query($id: ID!) { webhooks { id url } webhook(id: $id) { id url } }";
    let seen = |body: &Value| {
        (
            body["data"]["webhooks"].as_array().map(Vec::len).unwrap_or(usize::MAX),
            !body["data"]["webhook"].is_null(),
        )
    };
    let anonymous = hub
        .request_as(None, list, json!({ "id": id }))
        .await
        .expect("anonymous");
    assert_eq!(seen(&anonymous), (0, false), "{anonymous}");
    let stranger = hub
        .request_as(Some(&other), list, json!({ "id": id }))
        .await
        .expect("other");
    assert_eq!(seen(&stranger), (0, false), "{stranger}");
    let mine = hub
        .request_as(Some(&owner), list, json!({ "id": id }))
        .await
        .expect("owner");
    assert_eq!(seen(&mine), (1, true), "{mine}");
    let admin = hub
        .request_as(Some(&roadmap_e2e::admin_token()), list, json!({ "id": id }))
        .await
        .expect("admin");
    assert!(seen(&admin).1, "{admin}");

    let disable = "mutation($id: ID!) { disableWebhook(id: $id) { id enabled } }";
    let refused = hub
        .request_as(Some(&other), disable, json!({ "id": id }))
        .await
        .expect("other disables");
    assert_eq!(refused["errors"][0]["extensions"]["code"], "NOT_FOUND", "{refused}");
    let done = hub
        .gql_as(Some(&owner), disable, json!({ "id": id }))
        .await
        .expect("owner disables");
    assert_eq!(done["disableWebhook"]["enabled"], false);
}
