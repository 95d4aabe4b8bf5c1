//! Every limit of the router, exercised through the gateway rather than read from its config:
//! aliases, tokens, directives, body size, CSRF prevention, the cost estimate header, persisted
//! documents only (a router config of the test's own), and the per-client rate limit.

use std::time::Duration;

use roadmap_common::auth::Role;
use roadmap_e2e::{TestHub, first_error, token};
use roadmap_hub::targets::Target;
use serde_json::{Value, json};

/// POSTs `query` as JSON; returns (status, headers, body as JSON, or null when it is not JSON).
async fn post(hub: &TestHub, query: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = reqwest::Client::new()
        .post(&hub.gateway)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("post");
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    let text = response.text().await.expect("body");
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The query is refused: no 5xx, no data, a GraphQL error whose message contains `word`.
async fn refused(hub: &TestHub, query: &str, word: &str) {
    let (status, _, body) = post(hub, query).await;
    assert!(
        (400..500).contains(&status) || status == 200,
        "{word}: status {status}: {body}"
    );
    assert!(body["data"].is_null(), "{word}: {body}");
    let message = first_error(&body).unwrap_or_else(|| panic!("{word}: not refused: {body}"));
    assert!(message.to_lowercase().contains(word), "{word}: {message}");
}

/// The query runs: `__typename` answered, no error.
async fn accepted(hub: &TestHub, query: &str) {
    let (status, _, body) = post(hub, query).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn router_limits_refuse_what_passes_them_through_the_gateway() {
    let hub = TestHub::spawn().await.expect("hub");

    // 30 aliases pass, 31 do not.
    let aliases = |n: usize| {
        format!(
            "{{ {} }}",
            (0..n)
                .map(|i| format!("a{i}: __typename"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    accepted(&hub, &aliases(30)).await;
    refused(&hub, &aliases(31), "alias").await;

    // 5,000 tokens: `__typename` repeated (no aliases, no depth) past it.
    let tokens = format!("{{ {} }}", vec!["__typename"; 5100].join(" "));
    refused(&hub, &tokens, "token").await;

    // 20 directives pass, 21 do not (one per field: a directive may appear once per location).
    let directives = |n: usize| {
        let fields: Vec<String> = (0..n).map(|i| format!("d{i}: __typename @include(if: true)")).collect();
        format!("{{ {} }}", fields.join(" "))
    };
    accepted(&hub, &directives(20)).await;
    refused(&hub, &directives(21), "directive").await;

    // A body over 4 MB (a comment pads a valid query) is refused before parsing; one under passes.
    let padded = |bytes: usize| format!("{{ __typename }}\n#{}", "x".repeat(bytes));
    accepted(&hub, &padded(3 * 1024 * 1024)).await;
    // The router answers 413 once it has read past the limit and closes the connection, so a
    // client still writing the rest may meet the reset before it reads the answer: both are the
    // refusal. A body it accepted would answer 200 and fail here.
    match reqwest::Client::new()
        .post(&hub.gateway)
        .json(&json!({ "query": padded(5 * 1024 * 1024) }))
        .send()
        .await
    {
        Ok(response) => assert_eq!(response.status().as_u16(), 413, "body over 4 MB"),
        Err(e) => assert!(
            e.is_request() && format!("{e:?}").contains("BodyWrite"),
            "body over 4 MB: neither 413 nor a reset while sending: {e:?}"
        ),
    }

    // The estimated cost is on every answer.
    let (_, headers, body) = post(&hub, "{ plans(first: 5) { edges { node { title } } } }").await;
    assert!(body.get("errors").is_none(), "{body}");
    let estimated = headers
        .get("x-cost-estimated")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no X-Cost-Estimated: {headers:?}"));
    assert!(estimated > 0.0, "{estimated}");

    // CSRF: a request a browser may send cross-site without a preflight (GET, or a POST with a
    // non-JSON content type) and without `graphql-client-name` is refused; with the header it runs.
    let client = reqwest::Client::new();
    let simple_get = || client.get(format!("{}?query=%7B__typename%7D", hub.gateway));
    let response = simple_get().send().await.expect("get");
    let status = response.status().as_u16();
    let text = response.text().await.expect("text");
    assert!((400..500).contains(&status), "simple GET: {status} {text}");
    assert!(
        text.to_lowercase().contains("csrf") || text.contains("graphql-client-name"),
        "{text}"
    );
    let response = client
        .post(&hub.gateway)
        .header("content-type", "text/plain")
        .body(json!({ "query": "{ __typename }" }).to_string())
        .send()
        .await
        .expect("text/plain post");
    let status = response.status().as_u16();
    assert!(
        (400..500).contains(&status),
        "text/plain POST: {status} {}",
        response.text().await.unwrap_or_default()
    );
    let response = simple_get()
        .header("graphql-client-name", "dashboard")
        .header("accept", "application/json")
        .send()
        .await
        .expect("get with client name");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("json");
    assert_eq!((status, &body["data"]["__typename"]), (200, &json!("Query")), "{body}");
    hub.finish().await.expect("finish");
}

/// A router config of the test's own: the development one with its paths made absolute and
/// persisted documents required, from a manifest holding `document` under `id`.
fn persisted_only_config(dir: &std::path::Path, id: &str, document: &str) -> std::path::PathBuf {
    let config = roadmap_e2e::dev_router_config().expect("dev router config");
    let manifest = dir.join("persisted-documents.json");
    std::fs::write(&manifest, json!({ id: document }).to_string()).expect("manifest");
    let config = format!(
        "{config}\npersisted_documents:\n  enabled: true\n  require_id: true\n  storage:\n    type: file\n    path: {}\n",
        manifest.display()
    );
    let path = dir.join("router.persisted-only.yaml");
    std::fs::write(&path, config).expect("router config");
    path
}

#[tokio::test]
async fn persisted_only_mode_runs_known_documents_and_refuses_the_rest() {
    let dir = std::env::temp_dir().join(format!("roadmap-persisted-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let document = "query Regions { territories(kind: REGION) { name } }";
    let id = "regions-v1";
    let config = persisted_only_config(&dir, id, document);
    let hub = TestHub::spawn_with(Target::ALL, |c| c.router_config = config)
        .await
        .expect("hub");
    let client = reqwest::Client::new();
    let send = |body: Value| client.post(&hub.gateway).json(&body).send();

    let response = send(json!({ "documentId": id })).await.expect("known id");
    let body: Value = response.json().await.expect("json");
    assert!(
        body.get("errors").is_none() && body["data"]["territories"].is_array(),
        "{body}"
    );

    let response = send(json!({ "documentId": "not-in-the-manifest" }))
        .await
        .expect("unknown id");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("json");
    assert!(status < 500 && body["data"].is_null(), "{status} {body}");
    assert!(first_error(&body).is_some(), "{body}");

    // The same text as the known document, sent as text: refused, only ids run.
    let response = send(json!({ "query": document })).await.expect("plain query");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("json");
    assert!(status < 500 && body["data"].is_null(), "{status} {body}");
    let message = first_error(&body).unwrap_or_else(|| panic!("a plain query ran: {body}"));
    assert!(
        message.to_lowercase().contains("persisted") || message.to_lowercase().contains("id"),
        "{message}"
    );
    hub.finish().await.expect("finish");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn the_rate_limit_refuses_a_client_past_it_and_leaves_the_others_alone() {
    let hub = TestHub::spawn_with(Target::ALL, |c| c.rate_limit = 5)
        .await
        .expect("hub");
    let client = reqwest::Client::new();
    let ask = |token: Option<String>| {
        let mut request = client.post(&hub.gateway).json(&json!({ "query": "{ __typename }" }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let alice = token("alice", &[Role::Viewer], None);
    let bob = token("bob", &[Role::Viewer], None);
    // A burst of 5 passes, the 6th within the same second does not.
    for i in 0..5 {
        let response = ask(Some(alice.clone())).await.expect("request");
        assert_eq!(response.status().as_u16(), 200, "request {i}");
    }
    let response = ask(Some(alice.clone())).await.expect("request");
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.expect("a GraphQL body");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{body}");
    let message = first_error(&body).unwrap_or_default();
    assert!(
        message.contains("at most 5 requests per second") && message.contains("subject"),
        "{message}"
    );

    // Another subject, and an anonymous client (known by its address), are unaffected.
    assert_eq!(ask(Some(bob)).await.expect("bob").status().as_u16(), 200);
    assert_eq!(ask(None).await.expect("anonymous").status().as_u16(), 200);
    // A token that does not verify buys no fresh budget: it counts against its address.
    let forged = format!("{}x", token("mallory", &[Role::Admin], None));
    for _ in 0..4 {
        let _ = ask(Some(forged.clone())).await.expect("forged");
    }
    let response = ask(Some(forged)).await.expect("forged");
    assert_eq!(response.status().as_u16(), 429, "the address's budget is spent");
    let body: Value = response.json().await.expect("json");
    assert!(first_error(&body).is_some_and(|m| m.contains("address")), "{body}");
    // Probes are never limited; after a second the budget is back.
    let health = hub.gateway.replace("/graphql", "/health");
    assert_eq!(reqwest::get(&health).await.expect("health").status().as_u16(), 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(ask(Some(alice)).await.expect("alice again").status().as_u16(), 200);
    hub.finish().await.expect("finish");
}
