//! One trace across the event stream, with real processes: a split deployment of this binary
//! (every target its own process, Redis between the relay and the consumer) exporting over
//! OTLP/HTTP to a receiver on loopback (`roadmap_e2e::otlp`, decoding with the protocol's own
//! messages). A client sends a status change with its own `traceparent`; the spans of the
//! mutation (plans), the relay's publish (plans), the consumer (events), the live subscription
//! delivery (events) and the webhook attempt (events) must all be in that trace, each the child
//! of the step before, and the webhook request must carry the attempt's `traceparent`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use roadmap_e2e::load::{SET_STATUS, approved_plan};
use roadmap_e2e::otlp::{OtlpReceiver, ReceivedSpan};
use roadmap_e2e::split::{Split, Subscriber, Transport, bounded};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_roadmap-hub");

/// (`traceparent`, `webhook-id`) of each request a webhook receiver got.
type Hooks = Arc<Mutex<Vec<(Option<String>, Option<String>)>>>;

/// A webhook receiver that keeps the headers of every request and answers 204.
async fn webhook_receiver() -> (String, Hooks) {
    let hooks: Hooks = Arc::default();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let hooks = hooks.clone();
            move |headers: axum::http::HeaderMap| {
                let hooks = hooks.clone();
                async move {
                    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
                    if let Ok(mut hooks) = hooks.lock() {
                        hooks.push((header("traceparent"), header("webhook-id")));
                    }
                    axum::http::StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("receiver");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, hooks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_change_is_one_trace_through_relay_consumer_subscription_and_webhook() {
    bounded(Duration::from_secs(180), "trace across the stream", async {
        let otlp = OtlpReceiver::start().await.expect("OTLP receiver");
        let (hook_url, hooks) = webhook_receiver().await;
        let database = format!(
            "{}/roadmap_trace_{}",
            roadmap_e2e::server_url(),
            uuid::Uuid::new_v4().simple()
        );
        let split = Split::start(BIN, database, &[("OTEL_EXPORTER_OTLP_ENDPOINT", &otlp.endpoint())])
            .await
            .expect("split deployment");
        let admin = split.admin().expect("admin client");
        let (plan, measures) = approved_plan(&admin, "Край трассировки", "Карта трассировки", 1)
            .await
            .expect("plan");
        let filter = json!({ "plan": plan, "kinds": ["MEASURE_STATUS_CHANGED"] });
        admin
            .gql(
                "mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id } } }",
                json!({ "input": { "url": hook_url, "description": "trace test", "filter": filter } }),
            )
            .await
            .expect("registerWebhook");

        // A first change, until the subscriber has it: from then on it receives events live (a
        // replayed backlog is a read of the log, not a delivery of the event's trace).
        let mut subscriber = Subscriber::new(Transport::Ws, &split.gateway(), filter, "id cursor");
        admin
            .set_status(&measures[0], "IN_PROGRESS")
            .await
            .expect("first change");
        subscriber
            .read_until(Duration::from_secs(30), |e| !e.is_empty())
            .await
            .expect("the first event");

        // The client's own trace: a fresh trace id, its span as the parent.
        let trace_id = uuid::Uuid::new_v4().simple().to_string();
        let client_span = "00f067aa0ba902b7";
        let answer: serde_json::Value = admin
            .client
            .post(&admin.url)
            .bearer_auth(&admin.token)
            .header("traceparent", format!("00-{trace_id}-{client_span}-01"))
            .json(&json!({ "query": SET_STATUS, "variables": { "m": measures[0], "s": "DONE" } }))
            .send()
            .await
            .expect("the traced change")
            .json()
            .await
            .expect("JSON");
        assert_eq!(answer["data"]["setMeasureStatus"]["status"], "DONE", "{answer}");
        subscriber
            .read_until(Duration::from_secs(30), |e| e.len() >= 2)
            .await
            .expect("the traced event, live");
        let event = subscriber.events[1]["id"].as_str().expect("event id").to_string();
        subscriber.close().await;

        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let (traceparent, webhook_id) = loop {
            let got = hooks
                .lock()
                .expect("hooks")
                .iter()
                .find(|(_, id)| id.as_deref() == Some(&event))
                .cloned();
            if let Some(got) = got {
                break got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the webhook got no request for {event}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(webhook_id.as_deref(), Some(event.as_str()));
        let traceparent = traceparent.expect("the webhook request carries traceparent");

        // Every step's span, exported by the process that ran it (batches leave every ~5 s).
        let step = |spans: &[ReceivedSpan], name: &str| -> Option<ReceivedSpan> {
            spans
                .iter()
                .find(|s| s.trace_id == trace_id && s.name == name && s.attribute("event.id") == Some(event.as_str()))
                .cloned()
        };
        let names = [
            "outbox publish",
            "event consumed",
            "subscription delivery",
            "webhook delivery",
        ];
        let spans = otlp
            .wait_for(Duration::from_secs(40), |spans| {
                names.iter().all(|n| step(spans, n).is_some())
                    // The router's span under the client's (the gateway process exports it).
                    && spans.iter().any(|s| s.trace_id == trace_id && s.parent_span_id == client_span)
            })
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        let [publish, consumed, delivery, webhook] = names.map(|n| step(&spans, n).expect("step"));
        let ours: Vec<&ReceivedSpan> = spans.iter().filter(|s| s.trace_id == trace_id).collect();
        let summary = ours
            .iter()
            .map(|s| format!("{} {} <- {} {}", s.span_id, s.name, s.parent_span_id, s.service))
            .collect::<Vec<_>>()
            .join("\n");

        // The mutation: the router continues the client's span, plans runs the resolver.
        let mutation = ours
            .iter()
            .find(|s| s.name.starts_with("plans POST /graphql"))
            .unwrap_or_else(|| panic!("no plans request span in the client's trace:\n{summary}"));
        assert!(
            ours.iter().any(|s| s.parent_span_id == client_span),
            "a span continues the client's:\n{summary}"
        );
        // The relay's publish hangs under the mutation's request (directly, or under a resolver
        // span of it).
        let mut ancestor = publish.parent_span_id.clone();
        let mut hops = 0;
        while ancestor != mutation.span_id {
            let parent = ours
                .iter()
                .find(|s| s.span_id == ancestor)
                .unwrap_or_else(|| panic!("publish's ancestor {ancestor} is not in the trace:\n{summary}"));
            ancestor = parent.parent_span_id.clone();
            hops += 1;
            assert!(hops < 20, "publish is not under the mutation:\n{summary}");
        }
        assert_eq!(publish.attribute("event.kind"), Some("MEASURE_STATUS_CHANGED"));
        // Across Redis into the events process: each step the child of the one before.
        assert_eq!(consumed.parent_span_id, publish.span_id, "{summary}");
        assert_eq!(consumed.attribute("outcome"), Some("inserted"));
        assert_eq!(delivery.parent_span_id, consumed.span_id, "{summary}");
        assert_eq!(webhook.parent_span_id, consumed.span_id, "{summary}");
        assert_eq!(webhook.attribute("outcome"), Some("delivered"));
        // The webhook request continues the attempt's span.
        assert_eq!(
            traceparent,
            format!("00-{trace_id}-{}-01", webhook.span_id),
            "{summary}"
        );
        split.finish().await.expect("finish");
    })
    .await;
}
