//! What the hub survives, with real processes: a split deployment (every target its own
//! `roadmap-hub serve --target <t>` process, a Redis of its own; `roadmap_e2e::split`), parts of
//! it killed and restarted while clients use the gateway, and what those clients see asserted.
//! Each test is bounded in time; the recovery times they print (`--no-capture`) are the README's
//! "What it survives" table.

use std::time::{Duration, Instant};

use roadmap_e2e::load::SET_STATUS;
use roadmap_e2e::split::{Split, Subscriber, TARGETS, Transport, WebhookReceiver, bounded};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_roadmap-hub");

/// A fresh database on the tests' PostgreSQL server.
fn database() -> String {
    format!(
        "{}/roadmap_faults_{}",
        roadmap_e2e::server_url(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Prints a measurement for the README table (shown with `--no-capture`).
fn measured(fault: &str, what: &str, took: Duration) {
    println!("MEASURED {fault}: {what} {} ms", took.as_millis());
}

/// The router's `traffic_shaping.all.request_timeout` (router.config.yaml): the longest a
/// client may wait for a subgraph.
const SUBGRAPH_TIMEOUT: Duration = Duration::from_secs(30);

/// A read touching three subgraphs: plans (the plan, nullable so a failure there leaves the rest
/// of the answer), people (its territory's name; the territory list) and indicators (the
/// territory's indicators; the indicator list).
const READ: &str = "query($plan: ID!) { \
    plan(id: $plan) { title territory { name indicators { indicator { code } } } } \
    territories { name } \
    indicators { code } }";

/// 1. SIGKILL plans while reads run: every answer within the subgraph timeout, a GraphQL body
///    (never a bare 5xx), partial data with an error naming plans while it is down; full answers
///    within 5 s of its restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subgraph_killed_under_read_load_gives_partial_answers_then_full_ones() {
    bounded(Duration::from_secs(150), "subgraph killed", async {
        let mut split = Split::start(BIN, database(), &[]).await.expect("split deployment");
        let seed = &roadmap_hub::demo::SEEDS[2];
        let data = split
            .gql(
                "mutation($input: ImportRoadmapInput!) { importRoadmap(input: $input) { plan { id } } }",
                json!({ "input": { "document": String::from_utf8_lossy(seed.text), "fileName": seed.file_name,
                                   "territory": seed.territory, "owner": seed.owner } }),
            )
            .await
            .expect("import through the gateway");
        let plan = data["importRoadmap"]["plan"]["id"]
            .as_str()
            .expect("plan id")
            .to_string();
        let full = split.gql(READ, json!({ "plan": plan })).await.expect("a full answer");
        assert_eq!(full["plan"]["territory"]["name"], "Забайкальский край", "{full}");
        assert!(
            full["indicators"].as_array().is_some_and(|i| !i.is_empty()),
            "the seed sets indicator targets: {full}"
        );

        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..4 {
            let (gateway, stop, plan) = (split.gateway(), stop.clone(), plan.clone());
            let client = reqwest::Client::new();
            readers.push(tokio::spawn(async move {
                let mut answers = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let at = Instant::now();
                    let limit = SUBGRAPH_TIMEOUT + Duration::from_secs(5);
                    let variables = json!({ "plan": plan });
                    let answer = roadmap_e2e::split::post(&client, &gateway, limit, None, READ, variables).await;
                    answers.push((at, answer));
                }
                answers
            }));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let killed_at = Instant::now();
        split.kill("plans").await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let restarted_at = Instant::now();
        let start_took = split.start_target("plans").await.expect("plans again");
        let ready_at = Instant::now();
        tokio::time::sleep(Duration::from_secs(6)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut answers = Vec::new();
        for reader in readers {
            answers.extend(reader.await.expect("reader"));
        }
        answers.sort_by_key(|(at, _)| *at);

        let mut partial = 0;
        let mut first_full_after_ready = None;
        let mut slowest = Duration::ZERO;
        for (at, answer) in &answers {
            let answer = answer
                .as_ref()
                .unwrap_or_else(|e| panic!("a request got no GraphQL answer: {e:#}"));
            slowest = slowest.max(answer.took);
            assert!(
                answer.took < SUBGRAPH_TIMEOUT,
                "an answer took {:?}: {}",
                answer.took,
                answer.body
            );
            assert!(
                answer.status < 500 || !answer.errors().is_empty(),
                "{} without GraphQL errors: {}",
                answer.status,
                answer.body
            );
            let data = &answer.body["data"];
            if answer.errors().is_empty() {
                assert_eq!(
                    data["plan"]["territory"]["name"], "Забайкальский край",
                    "{}",
                    answer.body
                );
                if *at >= ready_at && first_full_after_ready.is_none() {
                    first_full_after_ready = Some(*at + answer.took - ready_at);
                }
                continue;
            }
            partial += 1;
            assert!(
                *at + answer.took >= killed_at,
                "errors before the kill: {}",
                answer.body
            );
            assert!(
                answer.errors().iter().all(|e| e["extensions"]["service"] == "plans"),
                "every error names the subgraph: {}",
                answer.body
            );
            assert!(data["plan"].is_null(), "{}", answer.body);
            assert!(
                data["territories"].as_array().is_some_and(|t| !t.is_empty()),
                "people still answers: {}",
                answer.body
            );
            assert!(
                data["indicators"].as_array().is_some_and(|i| !i.is_empty()),
                "indicators still answers: {}",
                answer.body
            );
        }
        println!("{} answers, {partial} of them partial", answers.len());
        assert!(partial > 0, "some reads ran while plans was down");
        let recovered = first_full_after_ready.expect("full answers after the restart");
        assert!(
            recovered < Duration::from_secs(5),
            "full answers {recovered:?} after plans was ready"
        );
        let late = answers.iter().filter(|(at, _)| *at > ready_at + Duration::from_secs(5));
        assert!(
            late.map(|(_, a)| a.as_ref().map(|a| a.errors().len()).unwrap_or(1))
                .sum::<usize>()
                == 0,
            "every answer is full from 5 s after the restart"
        );
        measured("subgraph killed", "slowest answer", slowest);
        measured("subgraph killed", "plans restart to ready", start_took);
        measured("subgraph killed", "ready to first full answer", recovered);
        measured(
            "subgraph killed",
            "restart to first full answer",
            ready_at - restarted_at + recovered,
        );
        split.finish().await.expect("finish");
    })
    .await;
}

/// An approved regional plan (subscribers here are anonymous) with `n` measures and no
/// schedules (so no deadline events), in a region of its own; returns (plan, measures).
async fn plan_with_measures(split: &Split, n: usize) -> (String, Vec<String>) {
    let admin = split.admin().expect("an admin client");
    roadmap_e2e::load::approved_plan(&admin, "Край отказов", "Карта отказов", n)
        .await
        .expect("plan")
}

/// The status changes a test made, in order: (measure, new status).
#[derive(Default)]
struct Changes(Vec<(String, &'static str)>);

impl Changes {
    /// Changes the next measure (round robin) to the status it does not have; every call is a
    /// change, so every call is an event.
    async fn next(&mut self, split: &Split, measures: &[String]) -> anyhow::Result<()> {
        let i = self.0.len();
        let measure = &measures[i % measures.len()];
        let status = if (i / measures.len()).is_multiple_of(2) {
            "IN_PROGRESS"
        } else {
            "DONE"
        };
        let data = split.gql(SET_STATUS, json!({ "m": measure, "s": status })).await?;
        anyhow::ensure!(data["setMeasureStatus"]["status"] == status, "{data}");
        self.0.push((measure.clone(), status));
        Ok(())
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// Asserts that `events` (log rows or subscription events with `subjectId` and `after`) are
    /// exactly these changes, once each, in order.
    fn assert_matches(&self, events: &[Value], who: &str) {
        let seen: Vec<(String, String)> = events
            .iter()
            .map(|e| {
                let after: Value = serde_json::from_str(e["after"].as_str().unwrap_or("null")).unwrap_or_default();
                (
                    e["subjectId"].as_str().unwrap_or("").to_string(),
                    after["status"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let made: Vec<(String, String)> = self.0.iter().map(|(m, s)| (m.clone(), s.to_string())).collect();
        assert_eq!(seen, made, "{who}: every change once, in order");
    }
}

/// The plan's status-change events in the log, in order.
async fn logged(split: &Split, plan: &str) -> Vec<Value> {
    let data = split
        .gql(
            "query($f: EventFilter) { events(filter: $f, first: 1000) { id cursor subjectId after } }",
            json!({ "f": { "plan": plan, "kinds": ["MEASURE_STATUS_CHANGED"] } }),
        )
        .await
        .expect("events");
    data["events"].as_array().cloned().unwrap_or_default()
}

/// Polls the log until it holds `n` events of the plan; returns them.
async fn wait_logged(split: &Split, plan: &str, n: usize, limit: Duration) -> Vec<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let events = logged(split, plan).await;
        if events.len() >= n {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} events in the log after {limit:?}",
            events.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["id"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The value of a series (name with labels) in a Prometheus text exposition.
fn series(text: &str, name: &str) -> Option<i64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
}

const OUTBOX_LAG: &str = "roadmap_outbox_lag_events{subgraph=\"plans\"}";

/// Subscribers of the plan's status changes, one per transport, reading in tasks of their own
/// until they hold `expected` events (set once the test knows how many; `usize::MAX` until then).
fn subscribe_both(
    split: &Split,
    plan: &str,
    expected: &std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<Subscriber>> {
    [Transport::Ws, Transport::Sse]
        .into_iter()
        .map(|transport| {
            let mut sub = Subscriber::new(
                transport,
                &split.gateway(),
                json!({ "plan": plan, "kinds": ["MEASURE_STATUS_CHANGED"] }),
                "id cursor subjectId after",
            );
            let expected = expected.clone();
            tokio::spawn(async move {
                let done = move |e: &[Value]| e.len() >= expected.load(std::sync::atomic::Ordering::SeqCst);
                sub.read_until(Duration::from_secs(120), done)
                    .await
                    .unwrap_or_else(|e| panic!("{e:#}"));
                sub
            })
        })
        .collect()
}

/// 2. Redis dies (SIGKILL) while status changes keep coming: every write succeeds, the outbox
///    lag grows on plans' `/metrics`; once Redis is back, every event reaches the log and both
///    subscribers exactly once and in order, and the webhook at least once, verified, with the
///    event's id as `webhook-id`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_while_status_changes_keep_coming() {
    bounded(Duration::from_secs(150), "Redis down", async {
        let mut split = Split::start(BIN, database(), &[]).await.expect("split deployment");
        let receiver = WebhookReceiver::start().await.expect("webhook receiver");
        let (plan, measures) = plan_with_measures(&split, 3).await;
        let filter = json!({ "plan": plan, "kinds": ["MEASURE_STATUS_CHANGED"] });
        let secret = register_webhook(&split, &receiver.url("/hook"), filter).await.1;
        receiver.configure("/hook", &secret, &[]).await.expect("configure");
        let expected = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
        let subscribers = subscribe_both(&split, &plan, &expected);

        let mut changes = Changes::default();
        for _ in 0..3 {
            changes.next(&split, &measures).await.expect("a write with Redis up");
        }
        wait_logged(&split, &plan, 3, Duration::from_secs(20)).await;

        split.redis.kill().await;
        let down_at = Instant::now();
        let mut lag_seen = Vec::new();
        while down_at.elapsed() < Duration::from_secs(4) {
            changes.next(&split, &measures).await.expect("a write with Redis down");
            let lag = series(&split.metrics("plans").await.expect("metrics"), OUTBOX_LAG).unwrap_or(0);
            lag_seen.push(lag);
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        // The gauge is refreshed after each relay attempt, which backs off to 5 s: wait for it to
        // show the last writes.
        let written_down = changes.len() - 3;
        let deadline = Instant::now() + Duration::from_secs(8);
        loop {
            let lag = series(&split.metrics("plans").await.expect("metrics"), OUTBOX_LAG).unwrap_or(0);
            lag_seen.push(lag);
            // Each change also wrote its audit entry into the same outbox.
            if lag >= 2 * written_down as i64 {
                break;
            }
            assert!(Instant::now() < deadline, "outbox lag on /metrics: {lag_seen:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let first_lag = lag_seen.iter().copied().find(|l| *l > 0).expect("lag shown");
        assert!(
            lag_seen.last().copied().unwrap_or(0) > first_lag,
            "the lag grows while Redis is down: {lag_seen:?}"
        );
        let down_for = down_at.elapsed();

        split.redis.start_again().await.expect("Redis again");
        let back_at = Instant::now();
        for _ in 0..3 {
            changes
                .next(&split, &measures)
                .await
                .expect("a write after Redis returned");
        }
        let n = changes.len();
        expected.store(n, std::sync::atomic::Ordering::SeqCst);
        let log = wait_logged(&split, &plan, n, Duration::from_secs(30)).await;
        let logged_after = back_at.elapsed();
        changes.assert_matches(&log, "the log");
        for task in subscribers {
            let sub = task.await.expect("subscriber");
            assert_eq!(ids(&sub.events), ids(&log), "{:?} subscriber", sub.transport);
            changes.assert_matches(&sub.events, &format!("{:?} subscriber", sub.transport));
            sub.close().await;
        }
        let subscribers_after = back_at.elapsed();
        let want: std::collections::BTreeSet<String> = ids(&log).into_iter().collect();
        let lines = receiver
            .wait_for("/hook", Duration::from_secs(30), |lines| {
                let got: std::collections::BTreeSet<String> = lines
                    .iter()
                    .filter_map(|l| l["webhookId"].as_str().map(String::from))
                    .collect();
                got == want
            })
            .await
            .expect("every event delivered to the webhook");
        let webhooks_after = back_at.elapsed();
        for line in &lines {
            assert_eq!(line["verified"], true, "{line}");
            assert_eq!(
                line["webhookId"], line["payload"]["data"]["id"],
                "webhook-id is the event id: {line}"
            );
        }
        let lag = series(&split.metrics("plans").await.expect("metrics"), OUTBOX_LAG);
        assert_eq!(lag, Some(0), "the outbox drained");
        println!("Redis down {down_for:?}: {written_down} writes, outbox lag readings {lag_seen:?}");
        measured("Redis down", "Redis back to every event in the log", logged_after);
        measured(
            "Redis down",
            "Redis back to both subscribers complete",
            subscribers_after,
        );
        measured("Redis down", "Redis back to every webhook delivered", webhooks_after);
        split.finish().await.expect("finish");
    })
    .await;
}

/// Registers a webhook as an admin; returns (id, secret).
async fn register_webhook(split: &Split, url: &str, filter: Value) -> (String, String) {
    let data = split
        .gql(
            "mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { secret webhook { id } } }",
            json!({ "input": { "url": url, "description": "fault test", "filter": filter } }),
        )
        .await
        .expect("registerWebhook");
    (
        data["registerWebhook"]["webhook"]["id"]
            .as_str()
            .expect("id")
            .to_string(),
        data["registerWebhook"]["secret"].as_str().expect("secret").to_string(),
    )
}

/// 3. The events target dies (SIGKILL) with subscribers connected and is started again while
///    status changes keep coming: graphql-ws and SSE subscribers resume with `after` and see
///    every event once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_resume_across_a_restart_of_the_events_target() {
    bounded(Duration::from_secs(150), "events restart", async {
        let mut split = Split::start(BIN, database(), &[]).await.expect("split deployment");
        let (plan, measures) = plan_with_measures(&split, 3).await;
        let expected = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
        let subscribers = subscribe_both(&split, &plan, &expected);
        let mut changes = Changes::default();
        for _ in 0..3 {
            changes.next(&split, &measures).await.expect("write");
        }
        wait_logged(&split, &plan, 3, Duration::from_secs(20)).await;
        // Let the subscribers receive them before the fault.
        tokio::time::sleep(Duration::from_millis(500)).await;

        split.kill("events").await;
        for _ in 0..3 {
            changes
                .next(&split, &measures)
                .await
                .expect("a write while events is down");
        }
        let restarted_at = Instant::now();
        let took = split.start_target("events").await.expect("events again");
        for _ in 0..3 {
            changes
                .next(&split, &measures)
                .await
                .expect("a write after the restart");
        }
        let n = changes.len();
        expected.store(n, std::sync::atomic::Ordering::SeqCst);
        let log = wait_logged(&split, &plan, n, Duration::from_secs(30)).await;
        changes.assert_matches(&log, "the log");
        for task in subscribers {
            let sub = task.await.expect("subscriber");
            assert!(
                sub.resumes >= 1,
                "{:?}: the stream ended with the events target",
                sub.transport
            );
            assert_eq!(
                ids(&sub.events),
                ids(&log),
                "{:?} subscriber: {:?}",
                sub.transport,
                sub.endings
            );
            // What ended the stream: an error naming the events subgraph (then, while it was
            // down, refused subscriptions naming the failed connection).
            assert!(sub.endings[0].contains(r#""service":"events""#), "{:?}", sub.endings[0]);
            println!(
                "{:?} subscriber: {} resumes, first ending {}",
                sub.transport, sub.resumes, sub.endings[0]
            );
            sub.close().await;
        }
        measured("events restart", "events restart to ready", took);
        measured(
            "events restart",
            "restart to every subscriber complete",
            restarted_at.elapsed(),
        );
        split.finish().await.expect("finish");
    })
    .await;
}

/// 4. PostgreSQL dies (SIGKILL of the postmaster and its backends) and comes back on the same
///    port: while it is down a read and a write fail with GraphQL errors in bounded time and
///    `/ready` says why; afterwards the same processes answer again (their pools reconnect),
///    the relay and the consumer carry new events, and every change committed before is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarts_and_the_pools_recover_without_a_hub_restart() {
    use roadmap_common::pg_cluster::{Cluster, Options};
    bounded(Duration::from_secs(200), "PostgreSQL restart", async {
        let dir = std::env::temp_dir().join(format!("roadmap-faults-pg-{}", uuid::Uuid::new_v4().simple()));
        let options = Options {
            port: Some(roadmap_e2e::split::free_port()),
            // fsync and synchronous commit on: "nothing committed is lost" holds only for a
            // server that flushes its commits (a test server without them loses the last ones
            // when killed).
            durable: true,
            ..Options::default()
        };
        let data_dir = dir.clone();
        let mut cluster = tokio::task::spawn_blocking(move || Cluster::start(&data_dir, options))
            .await
            .expect("task")
            .expect("a PostgreSQL cluster of the test's own");
        let mut split = Split::start(BIN, cluster.url_for("roadmap_faults"), &[])
            .await
            .expect("split deployment");
        let (plan, measures) = plan_with_measures(&split, 3).await;
        let mut changes = Changes::default();
        for _ in 0..3 {
            changes.next(&split, &measures).await.expect("write");
        }
        wait_logged(&split, &plan, 3, Duration::from_secs(20)).await;
        let pids: Vec<Option<u32>> = TARGETS.iter().map(|t| split.pid(t)).collect();

        cluster = tokio::task::spawn_blocking(move || cluster.kill().map(|()| cluster))
            .await
            .expect("task")
            .expect("kill PostgreSQL");
        let read = split.request_within(
            SUBGRAPH_TIMEOUT + Duration::from_secs(5),
            None,
            "query($p: ID!) { plan(id: $p) { title measures { status } } }",
            json!({ "p": plan }),
        );
        let write = split.request(SET_STATUS, json!({ "m": measures[0], "s": "CANCELLED" }));
        let (read, write) = tokio::join!(read, write);
        let mut slowest = Duration::ZERO;
        for (what, answer) in [("read", read), ("write", write)] {
            let answer = answer.unwrap_or_else(|e| panic!("{what} while PostgreSQL is down: {e:#}"));
            assert!(!answer.errors().is_empty(), "{what}: {}", answer.body);
            assert!(answer.took < SUBGRAPH_TIMEOUT, "{what} took {:?}", answer.took);
            assert!(answer.status < 500, "{what}: {} {}", answer.status, answer.body);
            slowest = slowest.max(answer.took);
        }
        let ready = reqwest::get(format!("{}/ready", split.base("plans")))
            .await
            .expect("/ready");
        assert_eq!(ready.status().as_u16(), 503);
        let reason = ready.text().await.unwrap_or_default();
        assert!(reason.contains("database"), "{reason}");

        cluster = tokio::task::spawn_blocking(move || cluster.restart().map(|()| cluster))
            .await
            .expect("task")
            .expect("PostgreSQL again");
        let up_at = Instant::now();
        let read_again = loop {
            let answer = split
                .request(
                    "query($p: ID!) { plan(id: $p) { measures { id status } } }",
                    json!({ "p": plan }),
                )
                .await
                .expect("a GraphQL answer");
            if answer.errors().is_empty() {
                break (up_at.elapsed(), answer.body["data"]["plan"]["measures"].clone());
            }
            assert!(
                up_at.elapsed() < Duration::from_secs(30),
                "no full answer 30 s after the restart: {}",
                answer.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        // Committed before the crash, all there: the statuses of the last changes, and the write
        // refused during the outage not applied.
        for measure in read_again.1.as_array().expect("measures") {
            let last = changes.0.iter().rev().find(|(m, _)| measure["id"] == m.as_str());
            assert_eq!(measure["status"], last.map_or("PLANNED", |(_, s)| *s), "{measure}");
        }
        for _ in 0..2 {
            changes
                .next(&split, &measures)
                .await
                .expect("a write after the restart");
        }
        let log = wait_logged(&split, &plan, changes.len(), Duration::from_secs(45)).await;
        let logged_after = up_at.elapsed();
        changes.assert_matches(&log, "the log");
        let now: Vec<Option<u32>> = TARGETS.iter().map(|t| split.pid(t)).collect();
        assert_eq!(now, pids, "no target was restarted");
        for target in TARGETS {
            assert!(split.is_running(target), "{target} is still running");
        }
        measured("PostgreSQL restart", "slowest answer while down", slowest);
        measured("PostgreSQL restart", "back to first full read", read_again.0);
        measured("PostgreSQL restart", "back to a new change in the log", logged_after);
        split.finish().await.expect("finish");
        tokio::task::spawn_blocking(move || cluster.stop())
            .await
            .expect("task")
            .expect("stop PostgreSQL");
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

const WEBHOOK: &str = "query($id: ID!) { webhook(id: $id) { deliveries(first: 50) { edges { node { \
    state attemptCount event { id } attempts { statusCode error } } } } } }";

async fn deliveries(split: &Split, webhook: &str) -> Vec<Value> {
    let data = split.gql(WEBHOOK, json!({ "id": webhook })).await.expect("webhook");
    data["webhook"]["deliveries"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// 5. The webhook receiver dies (SIGKILL) for a while, with a short retry schedule: attempts fail
///    (connection refused) and are retried; once it is back, every delivery arrives, verified,
///    `webhook-id` unchanged across retries (one retried after a 503 too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_receiver_down_for_a_while_gets_every_delivery_afterwards() {
    bounded(Duration::from_secs(150), "webhook receiver down", async {
        let schedule = "250ms,250ms,500ms,500ms,1s,1s,1s,2s,2s,2s,2s,2s";
        let split = Split::start(BIN, database(), &[("ROADMAP_WEBHOOK_RETRY_SCHEDULE", schedule)])
            .await
            .expect("split deployment");
        let mut receiver = WebhookReceiver::start().await.expect("webhook receiver");
        let (plan, measures) = plan_with_measures(&split, 3).await;
        let filter = json!({ "plan": plan, "kinds": ["MEASURE_STATUS_CHANGED"] });
        let (hook, secret) = register_webhook(&split, &receiver.url("/hook"), filter).await;
        receiver.configure("/hook", &secret, &[]).await.expect("configure");
        let mut changes = Changes::default();
        for _ in 0..2 {
            changes.next(&split, &measures).await.expect("write");
        }
        receiver
            .wait_for("/hook", Duration::from_secs(30), |l| l.len() >= 2)
            .await
            .expect("delivered while up");

        receiver.kill().await;
        let down_at = Instant::now();
        for _ in 0..3 {
            changes
                .next(&split, &measures)
                .await
                .expect("write while the receiver is down");
        }
        let log = wait_logged(&split, &plan, 5, Duration::from_secs(20)).await;
        let during: Vec<String> = ids(&log[2..]);
        // The worker keeps trying: every delivery of the outage has failed attempts on record.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let all = deliveries(&split, &hook).await;
            let retried = all
                .iter()
                .filter(|d| during.iter().any(|id| d["event"]["id"] == id.as_str()))
                .filter(|d| d["attemptCount"].as_i64().unwrap_or(0) >= 2)
                .count();
            if retried == during.len() {
                for d in &all {
                    if during.iter().any(|id| d["event"]["id"] == id.as_str()) {
                        assert_eq!(d["state"], "PENDING", "{d}");
                        let first = &d["attempts"][0];
                        assert!(first["statusCode"].is_null() && first["error"].is_string(), "{d}");
                    }
                }
                break;
            }
            assert!(Instant::now() < deadline, "deliveries not retried: {all:#?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }

        // Down for a while: several attempts of each fail.
        tokio::time::sleep(Duration::from_secs(3).saturating_sub(down_at.elapsed())).await;
        receiver.start_again().await.expect("receiver again");
        let back_at = Instant::now();
        // The first request after the outage is refused once more (503), so one delivery is
        // seen retried by the receiver itself.
        receiver.configure("/hook", &secret, &[503]).await.expect("configure");
        let want: std::collections::BTreeSet<String> = ids(&log).into_iter().collect();
        let lines = receiver
            .wait_for("/hook", Duration::from_secs(30), |lines| {
                let ok: std::collections::BTreeSet<String> = lines
                    .iter()
                    .filter(|l| l["status"] == 200)
                    .filter_map(|l| l["webhookId"].as_str().map(String::from))
                    .collect();
                ok == want
            })
            .await
            .expect("every delivery after the outage");
        let delivered_after = back_at.elapsed();
        // A request that came before the configuration above was answered 404 (`unknown`): one
        // more failed attempt, retried like the others.
        let lines: Vec<Value> = lines.into_iter().filter(|l| l["unknown"].is_null()).collect();
        for line in &lines {
            assert_eq!(line["verified"], true, "{line}");
            assert_eq!(line["wrongSecretVerified"], false, "{line}");
            assert_eq!(line["webhookId"], line["payload"]["data"]["id"], "{line}");
        }
        let refused: Vec<&Value> = lines.iter().filter(|l| l["status"] == 503).collect();
        assert_eq!(refused.len(), 1, "{lines:#?}");
        let again = lines
            .iter()
            .filter(|l| l["webhookId"] == refused[0]["webhookId"] && l["status"] == 200)
            .count();
        assert_eq!(again, 1, "the refused delivery came again with the same webhook-id");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let all = deliveries(&split, &hook).await;
            if all.len() == 5 && all.iter().all(|d| d["state"] == "DELIVERED") {
                break;
            }
            assert!(Instant::now() < deadline, "{all:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        measured(
            "webhook receiver down",
            "receiver back to every delivery",
            delivered_after,
        );
        split.finish().await.expect("finish");
    })
    .await;
}

/// Upper-case Roman numerals (section numbers of a generated document).
fn roman(mut n: usize) -> String {
    const DIGITS: [(usize, &str); 9] = [
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
        (0, ""),
    ];
    let mut out = String::new();
    for (value, digits) in DIGITS.iter().take(8) {
        while n >= *value {
            out.push_str(digits);
            n -= value;
        }
    }
    out
}

/// A large plain-text roadmap shaped like the seeds (tab-led cells of a five-column table):
/// `sections` sections of `per_section` measures, titles suffixed with `edition`.
fn big_roadmap(sections: usize, per_section: usize, edition: &str) -> String {
    let mut text = String::from(
        " УТВЕРЖДЕНА\nприказом управления образования администрации района \n\nот «01» ноября 2023 г. № 999-отк\n\n\n\
         ДОРОЖНАЯ КАРТА \nповышения качества общего образования в общеобразовательных организациях \
         Отказоустойчивого муниципального района в 2023/2024 учебном году\n\n\n\
         \t№ п/п\n\tНаименование мероприятия\n\tОтветственные исполнители\n\tСроки\n\tРезультаты/показатели реализации\n\n\n\n\
         \t1\n\t2\n\t3\n\t4\n\t5\n\n",
    );
    for s in 1..=sections {
        text.push_str(&format!(
            "\t{}. \n\tНаправление {s}: методическое сопровождение педагогов\n\n",
            roman(s)
        ));
        for m in 1..=per_section {
            text.push_str(&format!(
                "\t{m}. \n\tСеминар {s}.{m} для учителей предметов приоритетного внимания {edition}\n\
                 \tуправление образования, МБУ ИМЦ\n\tоктябрь 2023 г. – март 2024 г.\n\
                 \tпроведен семинар, повышены предметные компетенции педагогов\n\n"
            ));
        }
    }
    text
}

/// Whether some other session holds a write lock on `plans.measure`: an import's transaction is
/// writing measures.
async fn writing_measures(pool: &sqlx::PgPool) -> bool {
    sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'plans' AND c.relname = 'measure' AND l.mode = 'RowExclusiveLock' \
         AND l.pid <> pg_backend_pid())",
    )
    .fetch_one(pool)
    .await
    .unwrap_or(false)
}

/// Runs `roadmap-hub import` on `file`; with `terminate`, sends it SIGTERM as soon as its
/// transaction writes measures. Returns the exit status and whether the signal was sent.
async fn import(
    split: &Split,
    pool: &sqlx::PgPool,
    file: &std::path::Path,
    terminate: bool,
) -> (std::process::ExitStatus, bool) {
    let mut child = tokio::process::Command::new(BIN)
        .arg("import")
        .arg(file)
        .args(["--territory", "Отказоустойчивый край", "--level", "municipal"])
        .env("DATABASE_URL", &split.database_url)
        .env_remove("ROADMAP_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("roadmap-hub import");
    let mut signalled = false;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            // An import that ended without the signal must have succeeded: say why if not.
            if !signalled {
                let mut err = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut err)
                        .await
                        .ok();
                }
                assert!(status.success(), "import failed ({status}): {err}");
            }
            return (status, signalled);
        }
        assert!(Instant::now() < deadline, "the import did not end within 90 s");
        if terminate && !signalled && writing_measures(pool).await {
            roadmap_e2e::split::terminate(child.id().expect("pid")).expect("SIGTERM");
            signalled = true;
        }
        tokio::time::sleep(Duration::from_millis(if terminate { 2 } else { 50 })).await;
    }
}

/// The generated plan as users see it: (version, measure titles), or `None`.
async fn generated_plan(split: &Split) -> Option<(i64, Vec<String>)> {
    let data = split
        .gql(
            "{ plans(first: 100) { edges { node { title version measures { title } } } } }",
            json!({}),
        )
        .await
        .expect("plans");
    let plans: Vec<&Value> = data["plans"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| &e["node"])
        .filter(|p| p["title"].as_str().is_some_and(|t| t.contains("Отказоустойчивого")))
        .collect();
    assert!(plans.len() <= 1, "{plans:#?}");
    plans.first().map(|p| {
        let titles = p["measures"]
            .as_array()
            .expect("measures")
            .iter()
            .map(|m| m["title"].as_str().unwrap_or("").to_string())
            .collect();
        (p["version"].as_i64().unwrap_or(0), titles)
    })
}

/// 6. SIGTERM to `roadmap-hub import` while its transaction writes the measures of a large
///    generated document: the plan is absent; imported to the end, it is all there; SIGTERM
///    during the import of its next edition leaves the first edition whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_an_import_leaves_the_plan_whole_or_absent() {
    bounded(Duration::from_secs(200), "SIGTERM during import", async {
        let split = Split::start(BIN, database(), &[]).await.expect("split deployment");
        let pool = sqlx::PgPool::connect(&split.database_url).await.expect("pool");
        let dir = split.logs.clone();
        let (sections, per_section) = (30, 100);
        let first = big_roadmap(sections, per_section, "(первая редакция)");
        let second = big_roadmap(sections, per_section, "(вторая редакция)");
        let parsed = roadmap_import::parse_document_bytes(first.as_bytes()).expect("the generated document parses");
        assert_eq!(parsed.stats.measures, sections * per_section);
        let (first_file, second_file) = (dir.join("big-1.txt"), dir.join("big-2.txt"));
        std::fs::write(&first_file, &first).expect("write");
        std::fs::write(&second_file, &second).expect("write");

        let (status, signalled) = import(&split, &pool, &first_file, true).await;
        assert!(
            signalled,
            "the import ended before it wrote measures ({status}): make the document larger"
        );
        assert!(!status.success(), "{status}");
        assert_eq!(generated_plan(&split).await, None, "a terminated import left nothing");

        let started = Instant::now();
        import(&split, &pool, &first_file, false).await;
        let imported_in = started.elapsed();
        let (version, titles) = generated_plan(&split).await.expect("imported");
        assert_eq!((version, titles.len()), (1, sections * per_section));
        assert!(titles.iter().all(|t| t.ends_with("(первая редакция)")));

        let (status, signalled) = import(&split, &pool, &second_file, true).await;
        assert!(signalled && !status.success(), "{status}");
        let (version, titles) = generated_plan(&split).await.expect("still there");
        assert_eq!(
            (version, titles.len()),
            (1, sections * per_section),
            "the first edition, whole"
        );
        assert!(titles.iter().all(|t| t.ends_with("(первая редакция)")));
        measured("SIGTERM during import", "a full import of the document", imported_in);
        pool.close().await;
        split.finish().await.expect("finish");
    })
    .await;
}
