//! Replays and the router's subscription dedupe, through the gateway with real clients
//! (graphql-transport-ws and SSE): subscribers asking for the same cursor each get the whole
//! replay, however late they join, while live-only subscribers still share one upstream
//! subscription to the events subgraph (the gateway's `replay_partition` plugin).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use roadmap_e2e::split::{Subscriber, Transport};
use roadmap_e2e::{TestHub, regional_plan, set_measure_status};
use roadmap_hub::targets::Target;
use serde_json::{Value, json};

/// The plan's status-change cursors in the log, in order.
async fn log(hub: &TestHub, filter: &Value) -> Vec<i64> {
    let data = hub
        .gql(
            "query($f: EventFilter) { events(filter: $f, after: \"0\", first: 1000) { cursor } }",
            json!({ "f": filter }),
        )
        .await
        .expect("events");
    cursors(data["events"].as_array().expect("events"))
}

fn cursors(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .map(|e| e["cursor"].as_str().and_then(|c| c.parse().ok()).expect("cursor"))
        .collect()
}

/// Reads until the last cursor received is at least `until` (unknown, `i64::MAX`, at first).
async fn read_to(mut sub: Subscriber, until: Arc<AtomicI64>) -> Subscriber {
    let reached = |events: &[Value]| {
        events
            .last()
            .and_then(|e| e["cursor"].as_str()?.parse::<i64>().ok())
            .is_some_and(|c| c >= until.load(Ordering::SeqCst))
    };
    if let Err(e) = sub.read_until(Duration::from_secs(90), reached).await {
        sub.endings.push(format!("{e:#}"));
    }
    sub
}

/// Polls `roadmap_subscribers{subgraph="events"}` (the events subgraph's open subscriptions: one
/// per upstream subscription of the router) until it reads `want`; returns the last reading.
async fn upstream_subscriptions(hub: &TestHub, want: i64) -> Option<i64> {
    let addr = hub
        .hub
        .as_ref()
        .and_then(|h| h.addr(Target::EVENTS))
        .expect("events addr");
    let url = format!("http://{addr}/metrics");
    let mut seen = None;
    for _ in 0..50 {
        let text = reqwest::get(&url).await.expect("metrics").text().await.expect("text");
        seen = text.lines().find_map(|l| {
            l.strip_prefix("roadmap_subscribers{subgraph=\"events\"}")?
                .trim()
                .parse()
                .ok()
        });
        if seen == Some(want) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seen
}

/// 24 identical subscriptions (`after: "0"`, same filter, anonymous; half graphql-ws, half SSE)
/// opened one every 100 ms while the plan's statuses change: each gets every event of the log,
/// once, in order: the ones logged before it subscribed (the replay) and the live ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_identical_subscribers_each_get_the_whole_replay() {
    const SUBSCRIBERS: usize = 24;
    let hub = TestHub::spawn().await.expect("hub");
    let numbers: Vec<String> = (1..=6).map(|n| n.to_string()).collect();
    let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let (_, plan, measures) = regional_plan(&hub, &numbers).await;
    let filter = json!({ "plan": plan, "kinds": ["MEASURE_STATUS_CHANGED"] });
    // Each measure flips IN_PROGRESS, then DONE, round after round: every call is a change.
    let mut calls = 0usize;
    let mut change = move || {
        calls += 1;
        let status = if (calls / measures.len()).is_multiple_of(2) {
            "IN_PROGRESS"
        } else {
            "DONE"
        };
        (measures[calls % measures.len()].clone(), status, calls)
    };
    // A backlog before anyone subscribes.
    for _ in 0..3 {
        let (m, s, _) = change();
        set_measure_status(&hub, &m, s).await;
    }

    let until = Arc::new(AtomicI64::new(i64::MAX));
    let mut tasks = Vec::new();
    for i in 0..SUBSCRIBERS {
        let transport = if i % 2 == 0 { Transport::Ws } else { Transport::Sse };
        let sub = Subscriber::new(transport, &hub.gateway, filter.clone(), "cursor");
        let until = until.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100) * i as u32).await;
            read_to(sub, until).await
        }));
    }
    // Changes while they join (one every 150 ms over the 2.4 s ramp), then two more.
    let ramp = tokio::time::Instant::now() + Duration::from_millis(100) * SUBSCRIBERS as u32;
    while tokio::time::Instant::now() < ramp {
        let (m, s, _) = change();
        set_measure_status(&hub, &m, s).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let mut made = 0;
    for _ in 0..2 {
        let (m, s, n) = change();
        set_measure_status(&hub, &m, s).await;
        made = n;
    }

    // Every change is one event; wait until the relay has logged them all.
    let mut logged = log(&hub, &filter).await;
    for _ in 0..100 {
        if logged.len() >= made {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        logged = log(&hub, &filter).await;
    }
    assert_eq!(logged.len(), made, "one event per change: {logged:?}");
    assert!(made >= 3 + 3 + 2, "a backlog, changes during the ramp, a tail: {made}");
    until.store(*logged.last().expect("events"), Ordering::SeqCst);

    let mut failures = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let sub = task.await.expect("subscriber task");
        let got = cursors(&sub.events);
        if got != logged || !sub.endings.is_empty() {
            failures.push(format!(
                "subscriber {i} ({:?}): got {got:?}, endings {:?}",
                sub.transport, sub.endings
            ));
        }
        sub.close().await;
    }
    assert!(
        failures.is_empty(),
        "each subscriber must get the log {logged:?} exactly once, in order:\n{}",
        failures.join("\n")
    );
    hub.finish().await.expect("finish");
}

/// Identical live-only subscriptions share one upstream subscription to the events subgraph
/// per transport (what the fan-out relies on); identical replaying ones get one each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_only_subscribers_share_an_upstream_and_replaying_ones_do_not() {
    const EACH: usize = 6;
    let hub = TestHub::spawn().await.expect("hub");
    let (_, plan, measures) = regional_plan(&hub, &["1", "2"]).await;
    let filter = json!({ "plan": plan, "kinds": ["MEASURE_STATUS_CHANGED"] });
    let before = upstream_subscriptions(&hub, 0).await.unwrap_or(0);

    // Opens `EACH` subscribers per transport and changes `measure` until each has an event, so
    // every one of them is subscribed.
    let open = async |live: bool, measure: &str| {
        let mut tasks = Vec::new();
        for transport in [Transport::Ws, Transport::Sse] {
            for _ in 0..EACH {
                let mut sub = match live {
                    true => Subscriber::live(transport, &hub.gateway, filter.clone(), "cursor"),
                    false => Subscriber::new(transport, &hub.gateway, filter.clone(), "cursor"),
                };
                tasks.push(tokio::spawn(async move {
                    let read = sub.read_until(Duration::from_secs(30), |e| !e.is_empty()).await;
                    (sub, read)
                }));
            }
        }
        let mut status = ["IN_PROGRESS", "DONE"].iter().cycle();
        while tasks.iter().any(|t| !t.is_finished()) {
            set_measure_status(&hub, measure, status.next().expect("cycle")).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let mut subs = Vec::new();
        for task in tasks {
            let (sub, read) = task.await.expect("subscriber task");
            read.expect("an event");
            assert!(sub.endings.is_empty(), "{:?}", sub.endings);
            subs.push(sub);
        }
        subs
    };

    let live = open(true, &measures[0]).await;
    // One per transport: the router's dedupe fingerprint includes the request headers, which
    // differ between a graphql-ws subscribe and an SSE request.
    let shared = upstream_subscriptions(&hub, before + 2).await;
    assert_eq!(
        shared,
        Some(before + 2),
        "{} identical live-only subscribers, half graphql-ws, half SSE: one upstream per transport",
        2 * EACH
    );
    let shared = before + 2;
    let replaying = open(false, &measures[1]).await;
    let all = upstream_subscriptions(&hub, shared + 2 * EACH as i64).await;
    assert_eq!(
        all,
        Some(shared + 2 * EACH as i64),
        "each replaying subscriber has its own upstream"
    );
    for sub in live.into_iter().chain(replaying) {
        sub.close().await;
    }
    hub.finish().await.expect("finish");
}

/// A subscriber that leaves takes its upstream subscription with it: after the clients close
/// (graphql-ws) or drop (SSE), the events subgraph's open subscriptions return to what they were,
/// while events keep flowing. (The router's deduplication map used to keep every upstream open
/// until the process ended: gateway/vendor/hive-router/PATCH.md.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_leaves_closes_its_upstream() {
    let hub = TestHub::spawn().await.expect("hub");
    let (_, plan, measures) = regional_plan(&hub, &["1"]).await;
    let before = upstream_subscriptions(&hub, 0).await.unwrap_or(0);
    // Replaying ones have one upstream each; identical live-only ones share one.
    for (transport, live) in [(Transport::Ws, false), (Transport::Sse, false), (Transport::Ws, true)] {
        let mut subs = Vec::new();
        for _ in 0..3 {
            let filter = json!({ "plan": plan, "kinds": ["MEASURE_STATUS_CHANGED"] });
            subs.push(match live {
                true => Subscriber::live(transport, &hub.gateway, filter, "cursor"),
                false => Subscriber::new(transport, &hub.gateway, filter, "cursor"),
            });
        }
        let open = if live { 1 } else { 3 };
        // Changes until each has an event (a live-only one sees those after it subscribed).
        let mut status = ["IN_PROGRESS", "DONE"].iter().cycle();
        let tasks: Vec<_> = subs
            .into_iter()
            .map(|mut sub| {
                tokio::spawn(async move {
                    let read = sub.read_until(Duration::from_secs(30), |e| !e.is_empty()).await;
                    (sub, read)
                })
            })
            .collect();
        while tasks.iter().any(|t| !t.is_finished()) {
            set_measure_status(&hub, &measures[0], status.next().expect("cycle")).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let mut subs = Vec::new();
        for task in tasks {
            let (sub, read) = task.await.expect("subscriber task");
            read.expect("an event");
            subs.push(sub);
        }
        assert_eq!(
            upstream_subscriptions(&hub, before + open).await,
            Some(before + open),
            "{transport:?}, live-only {live}: open"
        );
        for sub in subs {
            sub.close().await;
        }
        let mut left = None;
        for _ in 0..6 {
            set_measure_status(&hub, &measures[0], status.next().expect("cycle")).await;
            left = upstream_subscriptions(&hub, before).await;
            if left == Some(before) {
                break;
            }
        }
        assert_eq!(
            left,
            Some(before),
            "{transport:?}, live-only {live}: the upstreams of the subscribers that left"
        );
    }
    hub.finish().await.expect("finish");
}
