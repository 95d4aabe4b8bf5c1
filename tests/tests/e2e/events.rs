//! The status-change stream through the gateway, with real clients: graphql-transport-ws
//! (tokio-tungstenite) and SSE (reqwest), replay from a cursor, the Redis transport, and an
//! outage of Redis (a private redis-server stopped and started again).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use roadmap_e2e::{TestHub, regional_plan, set_measure_status};
use roadmap_hub::targets::Target;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SUBSCRIPTION: &str = "subscription($after: String, $filter: EventFilter) { \
    statusChanged(after: $after, filter: $filter) { \
        id cursor kind subjectId before after level \
        measure { id title plan { title } } } }";

/// A graphql-transport-ws client of one subscription.
struct WsSubscription {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl WsSubscription {
    async fn start(hub: &TestHub, variables: Value) -> WsSubscription {
        Self::start_as(hub, None, variables).await
    }

    /// Subscribes with `token` in the `connection_init` payload (`None`: anonymous).
    async fn start_as(hub: &TestHub, token: Option<&str>, variables: Value) -> WsSubscription {
        let url = hub.gateway.replacen("http://", "ws://", 1);
        let mut request = url.into_client_request().expect("ws request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("ws connect");
        socket
            .send(Message::text(
                json!({ "type": "connection_init", "payload": match token {
                    Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
                    None => json!({}),
                } })
                .to_string(),
            ))
            .await
            .expect("connection_init");
        let mut sub = WsSubscription { socket };
        let ack = sub.message(Duration::from_secs(10)).await.expect("connection_ack");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        sub.socket
            .send(Message::text(
                json!({ "id": "1", "type": "subscribe",
                        "payload": { "query": SUBSCRIPTION, "variables": variables } })
                .to_string(),
            ))
            .await
            .expect("subscribe");
        sub
    }

    /// The next protocol message (answering pings), or `None` after `wait`.
    async fn message(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next()).await.ok()??;
            let text = match frame.expect("ws frame") {
                Message::Text(t) => t.to_string(),
                Message::Close(c) => panic!("socket closed: {c:?}"),
                _ => continue,
            };
            let msg: Value = serde_json::from_str(&text).expect("JSON message");
            match msg["type"].as_str() {
                Some("ping") => {
                    let pong = json!({ "type": "pong" }).to_string();
                    self.socket.send(Message::text(pong)).await.expect("pong");
                }
                _ => return Some(msg),
            }
        }
    }

    /// The next event, or `None` after `wait`; fails on protocol errors.
    async fn event(&mut self, wait: Duration) -> Option<Value> {
        let msg = self.message(wait).await?;
        assert_eq!(msg["type"], "next", "{msg}");
        assert!(msg["payload"].get("errors").is_none(), "{msg}");
        Some(msg["payload"]["data"]["statusChanged"].clone())
    }

    /// Completes the subscription and closes the socket, waiting for the server's close (an open
    /// socket would hold the gateway's graceful shutdown).
    async fn close(mut self) {
        let complete = json!({ "id": "1", "type": "complete" }).to_string();
        let _ = self.socket.send(Message::text(complete)).await;
        let _ = self.socket.close(None).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(Ok(_)) = self.socket.next().await {}
        })
        .await;
    }
}

/// Reads SSE `data:` payloads of one subscription request.
struct SseSubscription {
    response: reqwest::Response,
    buffer: String,
}

impl SseSubscription {
    async fn start(hub: &TestHub, variables: Value) -> SseSubscription {
        Self::start_as(hub, None, variables).await
    }

    /// Subscribes with `token` as bearer (`None`: anonymous).
    async fn start_as(hub: &TestHub, token: Option<&str>, variables: Value) -> SseSubscription {
        let client = reqwest::Client::new();
        let mut request = client.post(&hub.gateway);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .header("Accept", "text/event-stream")
            .json(&json!({ "query": SUBSCRIPTION, "variables": variables }))
            .send()
            .await
            .expect("SSE request");
        assert!(response.status().is_success(), "{}", response.status());
        let content_type = response.headers()["content-type"].to_str().unwrap_or("").to_string();
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        SseSubscription {
            response,
            buffer: String::new(),
        }
    }

    async fn event(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let data: String = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim)
                    .collect();
                if data.is_empty() {
                    continue;
                }
                let payload: Value = serde_json::from_str(&data).expect("SSE data is JSON");
                assert!(payload.get("errors").is_none(), "{payload}");
                if let Some(event) = payload["data"].get("statusChanged") {
                    return Some(event.clone());
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .expect("SSE chunk")?;
            self.buffer
                .push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n"));
        }
    }
}

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn status_change_reaches_a_websocket_subscriber_with_the_measure_resolved() {
    let hub = TestHub::spawn().await.expect("hub");
    let (_, _, m) = regional_plan(&hub, &["1"]).await;
    let mut sub = WsSubscription::start(&hub, json!({ "filter": { "kinds": ["MEASURE_STATUS_CHANGED"] } })).await;
    // Live only (no `after`): the subscription is in place once the router has reached the
    // events subgraph, which the client is not told; change the status until an event arrives.
    let mut event = None;
    for status in ["IN_PROGRESS", "DONE", "IN_PROGRESS", "DONE", "IN_PROGRESS", "DONE"] {
        set_measure_status(&hub, &m[0], status).await;
        if let Some(e) = sub.event(Duration::from_secs(2)).await {
            event = Some(e);
            break;
        }
    }
    let event = event.expect("an event within 12 s");
    assert_eq!(event["kind"], "MEASURE_STATUS_CHANGED");
    assert_eq!(event["subjectId"], m[0].as_str());
    assert_eq!(event["level"], "REGIONAL");
    assert_eq!(event["measure"]["title"], "Мероприятие 1", "{event}");
    assert_eq!(event["measure"]["plan"]["title"], "Карта событий");
    let after: Value = serde_json::from_str(event["after"].as_str().expect("after")).expect("JSON");
    assert!(["IN_PROGRESS", "DONE"].contains(&after["status"].as_str().unwrap_or("")));
    // The live subscription is counted on the events subgraph's /metrics.
    let events_url = hub
        .hub
        .as_ref()
        .and_then(|h| h.graphql_url(Target::EVENTS))
        .expect("events url");
    let metrics = reqwest::get(events_url.replace("/graphql", "/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("roadmap_subscribers{subgraph=\"events\"}") && l.ends_with(" 1")),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("subscribers"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    sub.close().await;
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn sse_subscriber_receives_status_changes() {
    let hub = TestHub::spawn().await.expect("hub");
    let (_, plan_id, m) = regional_plan(&hub, &["1", "2"]).await;
    // From the start of the log: no race with the subscription being set up.
    let mut sub = SseSubscription::start(&hub, json!({ "after": "0", "filter": { "plan": plan_id } })).await;
    set_measure_status(&hub, &m[1], "DONE").await;
    let event = sub.event(WAIT).await.expect("an SSE event");
    assert_eq!(event["kind"], "MEASURE_STATUS_CHANGED");
    assert_eq!(event["subjectId"], m[1].as_str());
    assert_eq!(event["measure"]["title"], "Мероприятие 2");
    assert_eq!(event["before"], json!({ "status": "PLANNED" }).to_string());
    drop(sub);
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn reconnecting_with_the_last_cursor_gets_exactly_the_missed_events() {
    let hub = TestHub::spawn().await.expect("hub");
    let (_, _, m) = regional_plan(&hub, &["1", "2", "3", "4"]).await;
    let mut sub = WsSubscription::start(&hub, json!({ "after": "0" })).await;
    set_measure_status(&hub, &m[0], "IN_PROGRESS").await;
    let first = sub.event(WAIT).await.expect("first event");
    assert_eq!(first["subjectId"], m[0].as_str());
    let cursor = first["cursor"].as_str().expect("cursor").to_string();
    sub.close().await;

    // Missed while disconnected.
    set_measure_status(&hub, &m[1], "DONE").await;
    set_measure_status(&hub, &m[2], "CANCELLED").await;
    // Wait until both are in the log (the relay is asynchronous).
    let mut logged = Vec::new();
    for _ in 0..100 {
        let data = hub
            .gql(
                "query($a: String) { events(after: $a) { cursor subjectId } }",
                json!({ "a": cursor }),
            )
            .await
            .expect("events");
        logged = data["events"].as_array().cloned().unwrap_or_default();
        if logged.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(logged.len(), 2, "{logged:?}");

    let mut sub = WsSubscription::start(&hub, json!({ "after": cursor })).await;
    let a = sub.event(WAIT).await.expect("missed event 1");
    let b = sub.event(WAIT).await.expect("missed event 2");
    assert_eq!(a["subjectId"], m[1].as_str());
    assert_eq!(b["subjectId"], m[2].as_str());
    assert!(a["cursor"].as_str().unwrap().parse::<i64>().unwrap() > cursor.parse::<i64>().unwrap());
    // Then live events, without a duplicate of the replayed ones.
    set_measure_status(&hub, &m[3], "DONE").await;
    let c = sub.event(WAIT).await.expect("live event");
    assert_eq!(c["subjectId"], m[3].as_str(), "{c}");
    assert!(sub.event(Duration::from_millis(500)).await.is_none(), "nothing more");
    sub.close().await;

    // The log itself: one event per change, in order, filterable.
    let data = hub
        .gql(
            "query($f: EventFilter) { events(filter: $f) { subjectId kind } }",
            json!({ "f": { "underMeasure": m[2] } }),
        )
        .await
        .expect("events");
    assert_eq!(data["events"].as_array().map(Vec::len), Some(1), "{data}");
    let data = hub.gql("{ events { subjectId } }", json!({})).await.expect("events");
    let subjects: Vec<&str> = data["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["subjectId"].as_str())
        .collect();
    assert_eq!(subjects, [&m[0], &m[1], &m[2], &m[3]].map(String::as_str));
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn bad_filters_name_the_field() {
    let hub = TestHub::spawn().await.expect("hub");
    let body = hub
        .request("{ events(filter: { level: \"GALACTIC\" }) { id } }", json!({}))
        .await
        .expect("request");
    let message = roadmap_e2e::first_error(&body).expect("an error");
    assert!(message.contains("filter.level"), "{message}");
    let body = hub
        .request("{ events(after: \"x\") { id } }", json!({}))
        .await
        .expect("request");
    let message = roadmap_e2e::first_error(&body).expect("an error");
    assert!(message.contains("after"), "{message}");
    hub.finish().await.expect("finish");
}

async fn redis_del(url: &str, key: &str) {
    if let Ok(client) = redis::Client::open(url)
        && let Ok(mut conn) = client.get_multiplexed_async_connection().await
    {
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(key).query_async(&mut conn).await;
    }
}

#[tokio::test]
async fn events_travel_through_a_redis_stream() {
    let url = "redis://127.0.0.1:6379".to_string();
    let stream = format!("roadmap:test:{}", uuid::Uuid::new_v4().simple());
    let (u, s) = (url.clone(), stream.clone());
    let hub = TestHub::spawn_with(Target::ALL, move |c| {
        c.redis_url = Some(u);
        c.event_stream = s;
    })
    .await
    .expect("hub");
    let (_, _, m) = regional_plan(&hub, &["1"]).await;
    let mut sub = SseSubscription::start(&hub, json!({ "after": "0" })).await;
    set_measure_status(&hub, &m[0], "DONE").await;
    let event = sub.event(WAIT).await.expect("an event through Redis");
    assert_eq!(event["subjectId"], m[0].as_str());
    assert_eq!(event["measure"]["title"], "Мероприятие 1");
    // It went through the stream and was acknowledged by the consumer group.
    let client = redis::Client::open(url.as_str()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    let len: i64 = redis::cmd("XLEN")
        .arg(&stream)
        .query_async(&mut conn)
        .await
        .expect("XLEN");
    assert!(len >= 1);
    drop(sub);
    hub.finish().await.expect("finish");
    redis_del(&url, &stream).await;
}

/// A private redis-server on a free port, stopped on drop.
struct RedisServer {
    child: tokio::process::Child,
}

impl RedisServer {
    async fn start(port: u16) -> RedisServer {
        let child = tokio::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server (apt install redis-server)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        RedisServer { child }
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }
}

#[tokio::test]
async fn outbox_keeps_events_while_redis_is_down_and_delivers_them_after() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let url = format!("redis://127.0.0.1:{port}");
    let redis = RedisServer::start(port).await;
    let u = url.clone();
    let hub = TestHub::spawn_with(Target::ALL, move |c| c.redis_url = Some(u))
        .await
        .expect("hub");
    let (_, _, m) = regional_plan(&hub, &["1", "2"]).await;
    redis.stop().await;

    set_measure_status(&hub, &m[0], "DONE").await;
    set_measure_status(&hub, &m[1], "CANCELLED").await;
    let plans = hub.plans_pool().clone();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let kept = roadmap_common::outbox::unpublished(&plans).await.expect("outbox");
    // Each change also wrote its audit entry, which waits in the same outbox.
    assert_eq!(
        kept, 4,
        "both events and their audit entries stay in the outbox while Redis is down"
    );

    let redis = RedisServer::start(port).await;
    let mut sub = SseSubscription::start(&hub, json!({ "after": "0" })).await;
    let a = sub.event(Duration::from_secs(30)).await.expect("first kept event");
    let b = sub.event(Duration::from_secs(30)).await.expect("second kept event");
    assert_eq!(a["subjectId"], m[0].as_str());
    assert_eq!(b["subjectId"], m[1].as_str());
    assert_eq!(roadmap_common::outbox::unpublished(&plans).await.expect("outbox"), 0);
    drop(sub);
    hub.finish().await.expect("finish");
    redis.stop().await;
}

/// The value of `series` (name and labels) in a Prometheus text exposition.
fn gauge(text: &str, series: &str) -> Option<i64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

/// Polls the events target's `/metrics` until the stream gauges read `(lag, pending)`; returns
/// the last reading.
async fn wait_stream_gauges(hub: &TestHub, want: (i64, i64)) -> (Option<i64>, Option<i64>) {
    let url = format!(
        "http://{}/metrics",
        hub.hub
            .as_ref()
            .and_then(|h| h.addr(Target::EVENTS))
            .expect("events addr")
    );
    let mut seen = (None, None);
    for _ in 0..100 {
        let text = reqwest::get(&url).await.expect("metrics").text().await.expect("text");
        seen = (
            gauge(&text, "roadmap_redis_stream_lag_entries{subgraph=\"events\"}"),
            gauge(&text, "roadmap_redis_stream_pending_entries{subgraph=\"events\"}"),
        );
        if seen == (Some(want.0), Some(want.1)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seen
}

async fn xadd(conn: &mut redis::aio::MultiplexedConnection, stream: &str) -> uuid::Uuid {
    let event = roadmap_common::outbox::OutboxEvent::new(
        roadmap_common::outbox::kind::MEASURE_STATUS_CHANGED,
        "Measure",
        uuid::Uuid::new_v4(),
    );
    let _: String = redis::cmd("XADD")
        .arg(stream)
        .arg("*")
        .arg("event")
        .arg(serde_json::to_string(&event).expect("json"))
        .query_async(conn)
        .await
        .expect("XADD");
    event.id
}

/// The consumer is held inside its first entry (the log's table locked by the test): that entry
/// is pending, the three published after it are lag; both gauges show it on the events
/// `/metrics`, and fall to 0 once the log is free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_lag_and_pending_entries_show_on_the_events_metrics() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let url = format!("redis://127.0.0.1:{port}");
    let redis = RedisServer::start(port).await;
    let u = url.clone();
    let hub = TestHub::spawn_with(Target::ALL, move |c| c.redis_url = Some(u))
        .await
        .expect("hub");
    let stream = roadmap_common::outbox::DEFAULT_STREAM;
    let client = redis::Client::open(url.as_str()).expect("client");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");

    let events = hub
        .hub
        .as_ref()
        .and_then(|h| h.pool(Target::EVENTS))
        .expect("events pool")
        .clone();
    let mut lock = events.begin().await.expect("begin");
    sqlx::query("LOCK TABLE event IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .expect("lock the log");

    let mut ids = vec![xadd(&mut conn, stream).await];
    // Wait until the consumer holds it (delivered, stuck on the lock, not acknowledged).
    let mut pending = 0;
    for _ in 0..100 {
        let info: redis::streams::StreamInfoGroupsReply = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(stream)
            .query_async(&mut conn)
            .await
            .expect("XINFO GROUPS");
        pending = info.groups.first().map_or(0, |g| g.pending);
        if pending == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pending, 1, "the consumer read the first entry");
    for _ in 0..3 {
        ids.push(xadd(&mut conn, stream).await);
    }
    assert_eq!(wait_stream_gauges(&hub, (3, 1)).await, (Some(3), Some(1)));

    lock.rollback().await.expect("unlock the log");
    assert_eq!(wait_stream_gauges(&hub, (0, 0)).await, (Some(0), Some(0)));
    let stored: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM event WHERE id = ANY($1) ORDER BY cursor")
        .bind(&ids)
        .fetch_all(&events)
        .await
        .expect("log");
    assert_eq!(stored, ids, "every entry reached the log, in stream order");
    hub.finish().await.expect("finish");
    redis.stop().await;
}

/// Stopping the hub with open subscriptions (SSE and WebSocket) ends them within the router's
/// `http.shutdown_timeout` (5 s in our configs, 30 s by default), not later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_open_subscriptions_takes_seconds() {
    let mut hub = TestHub::spawn().await.expect("hub");
    let (_, _, m) = regional_plan(&hub, &["1"]).await;
    set_measure_status(&hub, &m[0], "DONE").await;
    let mut sse = SseSubscription::start(&hub, json!({ "after": "0" })).await;
    let mut ws = WsSubscription::start(&hub, json!({ "after": "0" })).await;
    assert!(sse.event(WAIT).await.is_some(), "the SSE subscription is open");
    assert!(ws.event(WAIT).await.is_some(), "the WebSocket subscription is open");

    let started = std::time::Instant::now();
    hub.hub.take().expect("hub").shutdown().await.expect("shutdown");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(12), "shutdown took {took:?}");
    // The subscriptions ended rather than hung: the SSE body is over, the socket says so.
    let rest = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = sse.response.chunk().await {}
    })
    .await;
    assert!(rest.is_ok(), "the SSE stream ended");
    // graphql-transport-ws: `complete` for the subscription, or the socket closed.
    let end = tokio::time::timeout(Duration::from_secs(5), ws.socket.next()).await;
    assert!(end.is_ok(), "the WebSocket subscription ended");
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

/// A municipal plan in `territory` with one measure, created by an admin; returns (plan, measure).
async fn municipal_plan(hub: &TestHub, title: &str, territory: &str, state: &str) -> (String, String) {
    let data = hub
        .gql(
            "mutation($input: CreatePlanInput!) { createPlan(input: $input) { id sections { measures { id } } } }",
            json!({ "input": { "title": title, "level": "MUNICIPAL", "territory": territory, "state": state,
                               "sections": [{ "number": "1", "title": "Раздел",
                                              "measures": [{ "number": "1.1", "title": format!("{title}: мероприятие") }] }] } }),
        )
        .await
        .expect("plan");
    let plan = &data["createPlan"];
    (
        plan["id"].as_str().expect("id").to_string(),
        plan["sections"][0]["measures"][0]["id"]
            .as_str()
            .expect("id")
            .to_string(),
    )
}

const EVENTS: &str = "query($after: String) { events(after: $after, first: 100) { kind subjectId } }";

/// The subjects of `Query.events` as `token` sees them, with their kinds.
async fn log_as(hub: &TestHub, token: Option<&str>) -> Vec<(String, String)> {
    let data = hub.gql_as(token, EVENTS, json!({})).await.expect("events");
    data["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or_default().to_string(),
                e["subjectId"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn draft_plans_events_reach_only_those_who_may_read_the_draft_until_it_is_approved() {
    use roadmap_common::auth::Role;
    let hub = TestHub::spawn().await.expect("hub");
    let region = create_territory(&hub, "Черновой край", "REGION", None).await;
    let here = create_territory(&hub, "Первый район", "MUNICIPALITY", Some(&region)).await;
    let there = create_territory(&hub, "Второй район", "MUNICIPALITY", Some(&region)).await;
    let (draft, draft_measure) = municipal_plan(&hub, "Черновик", &here, "DRAFT").await;
    let (_, public_measure) = municipal_plan(&hub, "Утверждённый", &there, "APPROVED").await;
    let uuid = |t: &str| Some(uuid::Uuid::parse_str(t).expect("id"));
    let viewer_here = roadmap_e2e::token("viewer@here", &[Role::Viewer], uuid(&here));
    let editor_there = roadmap_e2e::token("editor@there", &[Role::Editor], uuid(&there));
    let regional = roadmap_e2e::token("viewer@region", &[Role::Viewer], uuid(&region));

    // Subscribers over both protocols, each with its own token.
    let mut anonymous_ws = WsSubscription::start(&hub, json!({})).await;
    let mut here_ws = WsSubscription::start_as(&hub, Some(&viewer_here), json!({})).await;
    let mut there_sse = SseSubscription::start_as(&hub, Some(&editor_there), json!({})).await;
    let mut anonymous_sse = SseSubscription::start(&hub, json!({})).await;
    let mut regional_sse = SseSubscription::start_as(&hub, Some(&regional), json!({})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The draft's event first, then a public one: whoever receives the public one first was
    // not sent the draft's.
    set_measure_status(&hub, &draft_measure, "IN_PROGRESS").await;
    set_measure_status(&hub, &public_measure, "IN_PROGRESS").await;
    let first = |e: Option<Value>| e.expect("an event")["subjectId"].as_str().expect("subject").to_string();
    assert_eq!(
        first(here_ws.event(WAIT).await),
        draft_measure,
        "the viewer of its territory sees the draft's event"
    );
    assert_eq!(first(here_ws.event(WAIT).await), public_measure);
    assert_eq!(
        first(regional_sse.event(WAIT).await),
        draft_measure,
        "a region covers its municipalities"
    );
    assert_eq!(
        first(anonymous_ws.event(WAIT).await),
        public_measure,
        "anonymous: no draft event (ws)"
    );
    assert_eq!(
        first(anonymous_sse.event(WAIT).await),
        public_measure,
        "anonymous: no draft event (SSE)"
    );
    assert_eq!(
        first(there_sse.event(WAIT).await),
        public_measure,
        "another municipality's editor: none"
    );

    // The log and the entity follow the same rule.
    let anonymous_log = log_as(&hub, None).await;
    assert!(
        !anonymous_log.iter().any(|(_, s)| *s == draft_measure),
        "{anonymous_log:?}"
    );
    assert!(
        anonymous_log.iter().any(|(_, s)| *s == public_measure),
        "{anonymous_log:?}"
    );
    assert!(
        !log_as(&hub, Some(&editor_there))
            .await
            .iter()
            .any(|(_, s)| *s == draft_measure)
    );
    let here_log = log_as(&hub, Some(&viewer_here)).await;
    assert!(
        here_log
            .iter()
            .any(|(k, s)| *s == draft_measure && k == "MEASURE_STATUS_CHANGED"),
        "{here_log:?}"
    );

    // Approved: its earlier events are public from now on (the plan is), and so are new ones.
    hub.gql(
        "mutation($p: ID!) { approvePlan(plan: $p) { state } }",
        json!({ "p": draft }),
    )
    .await
    .expect("approve");
    set_measure_status(&hub, &draft_measure, "DONE").await;
    let approved = anonymous_ws.event(WAIT).await.expect("PLAN_APPROVED");
    assert_eq!(
        (approved["kind"].as_str(), approved["subjectId"].as_str()),
        (Some("PLAN_APPROVED"), Some(draft.as_str()))
    );
    assert_eq!(
        first(anonymous_ws.event(WAIT).await),
        draft_measure,
        "live after the approval"
    );
    let anonymous_log = log_as(&hub, None).await;
    let of_draft: Vec<&str> = anonymous_log
        .iter()
        .filter(|(_, s)| *s == draft_measure)
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        of_draft,
        ["MEASURE_STATUS_CHANGED", "MEASURE_STATUS_CHANGED"],
        "{anonymous_log:?}"
    );

    anonymous_ws.close().await;
    here_ws.close().await;
    drop((there_sse, anonymous_sse, regional_sse));
    hub.finish().await.expect("finish");
}
