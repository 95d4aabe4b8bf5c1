//! Who may see and change what, through the gateway: anonymous readers, scoped editors, a
//! regional coordinator, an auditor reading the trail; the gateway secret; the router's limits.

use std::time::Duration;

use roadmap_common::auth::Role;
use roadmap_e2e::{TestHub, first_error, token};
use roadmap_hub::targets::Target;
use serde_json::{Value, json};

const CREATE_PLAN: &str =
    "mutation($input: CreatePlanInput!) { createPlan(input: $input) { id state sections { measures { id } } } }";
const SET_STATUS: &str =
    "mutation($m: ID!, $s: MeasureStatus!) { setMeasureStatus(measure: $m, status: $s) { id status } }";
const LINK: &str = "mutation($m: ID!, $i: ID!) { linkMeasures(measure: $m, implements: $i) { id createdBy } }";

async fn territory(hub: &TestHub, name: &str, kind: &str, parent: Option<&str>) -> String {
    let data = hub
        .gql(
            "mutation($n: String!, $k: TerritoryKind!, $p: ID) { createTerritory(input: { name: $n, kind: $k, parent: $p }) { id } }",
            json!({ "n": name, "k": kind, "p": parent }),
        )
        .await
        .expect("territory");
    data["createTerritory"]["id"].as_str().expect("id").to_string()
}

/// Creates a plan (as admin) with one measure; returns (plan id, measure id).
async fn plan(hub: &TestHub, title: &str, level: &str, territory: &str, state: &str) -> (String, String) {
    let data = hub
        .gql(
            CREATE_PLAN,
            json!({ "input": { "title": title, "level": level, "territory": territory, "state": state,
                               "sections": [{ "number": "1", "title": "Раздел",
                                              "measures": [{ "number": "1.1", "title": format!("{title}: мероприятие") }] }] } }),
        )
        .await
        .expect("plan");
    assert_eq!(data["createPlan"]["state"], state);
    (
        data["createPlan"]["id"].as_str().expect("id").to_string(),
        data["createPlan"]["sections"][0]["measures"][0]["id"]
            .as_str()
            .expect("measure")
            .to_string(),
    )
}

fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

fn plan_titles(data: &Value) -> Vec<String> {
    let mut titles: Vec<String> = data["plans"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["title"].as_str().expect("title").to_string())
        .collect();
    titles.sort();
    titles
}

#[tokio::test]
async fn roles_and_scopes_through_the_gateway_with_an_audit_trail() {
    let hub = TestHub::spawn().await.expect("hub");
    let region = territory(&hub, "Область Р", "REGION", None).await;
    let district_a = territory(&hub, "Район А", "MUNICIPALITY", Some(&region)).await;
    let district_b = territory(&hub, "Район Б", "MUNICIPALITY", Some(&region)).await;
    let (_, regional_measure) = plan(&hub, "План области", "REGIONAL", &region, "APPROVED").await;
    let (_, measure_a) = plan(&hub, "План района А", "MUNICIPAL", &district_a, "APPROVED").await;
    let (_, measure_b) = plan(&hub, "План района Б", "MUNICIPAL", &district_b, "APPROVED").await;
    let (draft_a, draft_measure) = plan(&hub, "Проект плана района А", "MUNICIPAL", &district_a, "DRAFT").await;

    let editor_a = token("editor-a", &[Role::Editor], Some(district_a.parse().unwrap()));
    let editor_b = token("editor-b", &[Role::Editor], Some(district_b.parse().unwrap()));
    let coordinator = token("coordinator-r", &[Role::Coordinator], Some(region.parse().unwrap()));
    let auditor = token("auditor", &[Role::Auditor], None);
    let list = "{ plans(first: 50) { edges { node { title state } } } }";

    // Anonymous: approved plans only; no mutation.
    let data = hub.gql_as(None, list, json!({})).await.expect("anonymous list");
    assert_eq!(
        plan_titles(&data),
        vec!["План области", "План района А", "План района Б"],
        "drafts are hidden from anonymous readers"
    );
    let data = hub
        .gql_as(
            None,
            "query($id: ID!) { plan(id: $id) { title } }",
            json!({ "id": draft_a }),
        )
        .await
        .expect("anonymous draft");
    assert!(data["plan"].is_null(), "{data}");
    let body = hub
        .request_as(None, SET_STATUS, json!({ "m": measure_a, "s": "DONE" }))
        .await
        .expect("anonymous mutation");
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    assert!(first_error(&body).unwrap().contains("editor"), "{body}");

    // Edges too: a trace of the regional measure does not reveal a draft's measure to anonymous
    // readers, while an editor of the draft's district sees it.
    hub.gql(LINK, json!({ "m": draft_measure, "i": regional_measure }))
        .await
        .expect("admin links the draft");
    let trace = "query($id: ID!) { measure(id: $id) { implementedBy(depth: 1) { measure { id } } } }";
    let data = hub
        .gql_as(None, trace, json!({ "id": regional_measure }))
        .await
        .expect("anonymous trace");
    assert_eq!(data["measure"]["implementedBy"][0]["measure"], Value::Null, "{data}");
    let data = hub
        .gql_as(Some(&editor_a), trace, json!({ "id": regional_measure }))
        .await
        .expect("editor trace");
    assert_eq!(
        data["measure"]["implementedBy"][0]["measure"]["id"], draft_measure,
        "{data}"
    );
    let coverage = "query($id: ID!) { measure(id: $id) { coverage { territory { id } covered } } }";
    let covered_a = |data: &Value| {
        data["measure"]["coverage"]
            .as_array()
            .expect("coverage")
            .iter()
            .find(|r| r["territory"]["id"] == district_a)
            .map(|r| r["covered"].clone())
    };
    let data = hub
        .gql_as(None, coverage, json!({ "id": regional_measure }))
        .await
        .expect("anonymous coverage");
    assert_eq!(
        covered_a(&data),
        Some(json!(false)),
        "a draft covers nothing publicly: {data}"
    );
    let data = hub
        .gql_as(Some(&editor_a), coverage, json!({ "id": regional_measure }))
        .await
        .expect("editor coverage");
    assert_eq!(covered_a(&data), Some(json!(true)), "{data}");

    // Scoped readers see their district's drafts, not their neighbour's.
    let data = hub
        .gql_as(Some(&editor_a), list, json!({}))
        .await
        .expect("editor A list");
    assert!(
        plan_titles(&data).contains(&"Проект плана района А".to_string()),
        "{data}"
    );
    let data = hub
        .gql_as(Some(&editor_b), list, json!({}))
        .await
        .expect("editor B list");
    assert!(
        !plan_titles(&data).contains(&"Проект плана района А".to_string()),
        "{data}"
    );

    // The editor of A changes A's plan and is refused on B's; nothing changes there.
    let data = hub
        .gql_as(
            Some(&editor_a),
            SET_STATUS,
            json!({ "m": measure_a, "s": "IN_PROGRESS" }),
        )
        .await
        .expect("editor A sets A");
    assert_eq!(data["setMeasureStatus"]["status"], "IN_PROGRESS");
    let body = hub
        .request_as(Some(&editor_a), SET_STATUS, json!({ "m": measure_b, "s": "DONE" }))
        .await
        .expect("editor A sets B");
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert!(
        first_error(&body).unwrap().contains(&district_b),
        "names the territory: {body}"
    );
    let data = hub
        .gql_as(
            None,
            "query($id: ID!) { measure(id: $id) { status } }",
            json!({ "id": measure_b }),
        )
        .await
        .expect("B unchanged");
    assert_eq!(data["measure"]["status"], "PLANNED");
    let data = hub
        .gql_as(
            Some(&editor_a),
            "mutation($p: ID!) { approvePlan(plan: $p) { state } }",
            json!({ "p": draft_a }),
        )
        .await
        .expect("editor A approves the draft");
    assert_eq!(data["approvePlan"]["state"], "APPROVED");

    // Linking across plans: the editor of A may not touch B's measure; the coordinator of the
    // region links both districts' measures to the regional one.
    let body = hub
        .request_as(Some(&editor_a), LINK, json!({ "m": measure_b, "i": regional_measure }))
        .await
        .expect("editor A links B");
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    for m in [&measure_a, &measure_b] {
        let data = hub
            .gql_as(Some(&coordinator), LINK, json!({ "m": m, "i": regional_measure }))
            .await
            .expect("coordinator links");
        assert_eq!(data["linkMeasures"]["createdBy"], "coordinator-r");
    }

    // The audit trail: auditors only; who/when/what for every mutation above.
    for who in [None, Some(editor_a.as_str()), Some(coordinator.as_str())] {
        let body = hub
            .request_as(who, "{ auditTrail { id } }", json!({}))
            .await
            .expect("trail refused");
        assert!(
            matches!(error_code(&body), Some("FORBIDDEN" | "UNAUTHENTICATED")),
            "{body}"
        );
    }
    let trail_query = "{ auditTrail(first: 1000) { action service subjectId occurredAt before after actor { subject roles territory } } }";
    let expected = [
        ("test-admin", "createTerritory", 3),
        ("test-admin", "createPlan", 4),
        ("editor-a", "setMeasureStatus", 1),
        ("editor-a", "approvePlan", 1),
        ("test-admin", "linkMeasures", 1),
        ("coordinator-r", "linkMeasures", 2),
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let trail = loop {
        let data = hub.gql_as(Some(&auditor), trail_query, json!({})).await.expect("trail");
        let trail = data["auditTrail"].as_array().expect("entries").clone();
        let complete = expected.iter().all(|(who, action, n)| {
            trail
                .iter()
                .filter(|e| e["actor"]["subject"] == *who && e["action"] == *action)
                .count()
                == *n
        });
        if complete {
            break trail;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "audit trail incomplete: {trail:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Refused mutations left no trace; every entry says who, when and what.
    assert_eq!(trail.len(), expected.iter().map(|e| e.2).sum::<usize>(), "{trail:#?}");
    let status = trail
        .iter()
        .find(|e| e["action"] == "setMeasureStatus")
        .expect("status entry");
    assert_eq!(status["subjectId"], measure_a);
    assert_eq!(status["before"]["status"], "PLANNED");
    assert_eq!(status["after"]["status"], "IN_PROGRESS");
    assert_eq!(status["actor"]["roles"], json!(["editor"]));
    assert_eq!(status["actor"]["territory"], district_a);
    assert_eq!(status["service"], "plans");
    assert!(status["occurredAt"].as_str().is_some_and(|t| t.starts_with("20")));
    let approve = trail
        .iter()
        .find(|e| e["action"] == "approvePlan")
        .expect("approve entry");
    assert_eq!(approve["before"]["state"], "DRAFT");

    // The trail cannot be edited, not even by a stray statement.
    let pool = hub
        .hub
        .as_ref()
        .and_then(|h| h.pool(Target::EVENTS))
        .expect("events pool");
    let err = sqlx::query("UPDATE audit_log SET action = 'nothing'")
        .execute(pool)
        .await
        .expect_err("append-only");
    assert!(err.to_string().contains("append-only"), "{err}");
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn subgraphs_refuse_calls_that_bypass_the_gateway() {
    let hub = TestHub::spawn().await.expect("hub");
    let client = reqwest::Client::new();
    for target in Target::subgraphs() {
        let url = hub.hub.as_ref().and_then(|h| h.graphql_url(target)).expect("url");
        for secret in [None, Some("not-the-gateway-secret")] {
            let mut request = client.post(&url).json(&json!({ "query": "{ __typename }" }));
            if let Some(secret) = secret {
                request = request.header("x-roadmap-gateway-secret", secret);
            }
            let response = request.send().await.expect("direct call");
            assert_eq!(response.status(), 401, "{}", target.name());
            let body: Value = response.json().await.expect("json");
            assert!(
                first_error(&body).unwrap().contains("through the gateway"),
                "{}: {body}",
                target.name()
            );
        }
    }
    // The same query through the gateway works.
    let data = hub
        .gql_as(None, "{ __typename }", json!({}))
        .await
        .expect("through gateway");
    assert_eq!(data["__typename"], "Query");
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn a_forged_token_is_refused_and_claims_cannot_be_smuggled() {
    let hub = TestHub::spawn().await.expect("hub");
    let region = territory(&hub, "Область Р", "REGION", None).await;
    let (_, measure) = plan(&hub, "План области", "REGIONAL", &region, "APPROVED").await;
    // A token whose signature does not verify is refused (not silently read as anonymous).
    let mut forged = token("intruder", &[Role::Admin], None);
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    let response = reqwest::Client::new()
        .post(&hub.gateway)
        .bearer_auth(&forged)
        .json(&json!({ "query": SET_STATUS, "variables": { "m": measure, "s": "DONE" } }))
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("json");
    assert!(status < 500, "{status} {body}");
    assert!(
        body["data"].is_null() || body["data"]["setMeasureStatus"].is_null(),
        "{body}"
    );
    let message = first_error(&body).expect("refused");
    assert!(message.contains("invalid or expired"), "{message}");
    // Headers a client sets to look like the gateway's are dropped by the router.
    let claims = base64_claims(json!({ "sub": "smuggled", "roles": ["admin"] }));
    let body: Value = reqwest::Client::new()
        .post(&hub.gateway)
        .header("x-roadmap-claims", claims)
        .header("x-roadmap-service", "plans")
        .json(&json!({ "query": SET_STATUS, "variables": { "m": measure, "s": "DONE" } }))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    hub.finish().await.expect("finish");
}

fn base64_claims(claims: Value) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(claims.to_string())
}

#[tokio::test]
async fn depth_and_cost_limits_refuse_with_a_clear_error() {
    let hub = TestHub::spawn().await.expect("hub");
    // 17 levels of children: past the depth limit of 15.
    let mut selection = "id".to_string();
    for _ in 0..17 {
        selection = format!("children {{ {selection} }}");
    }
    let deep = format!("{{ territories {{ {selection} }} }}");
    let response = reqwest::Client::new()
        .post(&hub.gateway)
        .json(&json!({ "query": deep }))
        .send()
        .await
        .expect("post");
    assert!(response.status().as_u16() < 500, "{}", response.status());
    let body: Value = response.json().await.expect("json");
    let message = first_error(&body).expect("refused");
    assert!(message.to_lowercase().contains("depth"), "{message}");

    // Shallow but huge: lists inside lists inside lists, estimated far above the cost limit.
    let costly = "{ plans(first: 200) { edges { node { sections { measures { children { children { children { children { responsible { name } } } } } } } } } } }";
    let response = reqwest::Client::new()
        .post(&hub.gateway)
        .json(&json!({ "query": costly }))
        .send()
        .await
        .expect("post");
    assert!(response.status().as_u16() < 500, "{}", response.status());
    let body: Value = response.json().await.expect("json");
    let message = first_error(&body).expect("refused");
    assert!(message.to_lowercase().contains("cost"), "{message}");
    assert!(body["data"].is_null(), "{body}");
    hub.finish().await.expect("finish");
}
