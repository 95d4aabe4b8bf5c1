//! The cascade through the gateway: links (direction, cycles, many-to-many), traces down and up,
//! coverage, statuses with a fixed clock, rolled-up progress, and the SQL statement bound.

use roadmap_common::telemetry::sql_statement_count;
use roadmap_e2e::{TestHub, ensure_territory as territory, first_error};
use roadmap_hub::targets::Target;
use roadmap_plans::store::NodeReads;
use serde_json::{Value, json};

const CREATE_PLAN: &str =
    "mutation($input: CreatePlanInput!) { createPlan(input: $input) { id sections { measures { id number } } } }";
const LINK: &str = "mutation($m: ID!, $i: ID!) { linkMeasures(measure: $m, implements: $i) { id state createdBy } }";

/// A plan with the given measure numbers; returns (plan id, measure ids in order).
async fn plan(hub: &TestHub, title: &str, level: &str, territory: &str, numbers: &[&str]) -> (String, Vec<String>) {
    let measures: Vec<Value> = numbers
        .iter()
        .map(|n| json!({ "number": n, "title": format!("{title}: мероприятие {n}") }))
        .collect();
    let data = hub
        .gql(
            CREATE_PLAN,
            json!({ "input": { "title": title, "level": level, "territory": territory,
                               "sections": [{ "number": "1", "title": "Раздел", "measures": measures }] } }),
        )
        .await
        .expect("plan");
    let ids = data["createPlan"]["sections"][0]["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect();
    (data["createPlan"]["id"].as_str().expect("id").to_string(), ids)
}

async fn link(hub: &TestHub, measure: &str, implements: &str) -> Value {
    hub.request(LINK, json!({ "m": measure, "i": implements }))
        .await
        .expect("link request")
}

struct Cascade {
    region_plan: String,
    r1: String,
    r2: String,
    m1a: String,
    m1b: String,
    m2a: String,
    s1: String,
    municipalities: [String; 3],
}

async fn cascade(hub: &TestHub) -> Cascade {
    let region = territory(hub, "Тестовый край", "REGION", None).await;
    let m1 = territory(hub, "Первый район", "MUNICIPALITY", Some(&region)).await;
    let m2 = territory(hub, "Второй район", "MUNICIPALITY", Some(&region)).await;
    let m3 = territory(hub, "Третий район", "MUNICIPALITY", Some(&region)).await;
    let (region_plan, r) = plan(hub, "Региональная карта", "REGIONAL", &region, &["1.1", "1.2"]).await;
    let (_, p1) = plan(hub, "Карта первого района", "MUNICIPAL", &m1, &["1", "2"]).await;
    let (_, p2) = plan(hub, "Карта второго района", "MUNICIPAL", &m2, &["1"]).await;
    let (_, s) = plan(hub, "Карта школы № 1", "SCHOOL", &m1, &["1"]).await;
    let c = Cascade {
        region_plan,
        r1: r[0].clone(),
        r2: r[1].clone(),
        m1a: p1[0].clone(),
        m1b: p1[1].clone(),
        m2a: p2[0].clone(),
        s1: s[0].clone(),
        municipalities: [m1, m2, m3],
    };
    for (m, i) in [
        (&c.m1a, &c.r1),
        (&c.m2a, &c.r1),
        (&c.m1b, &c.r2),
        (&c.m1a, &c.r2),
        (&c.s1, &c.m1a),
    ] {
        let body = link(hub, m, i).await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(body["data"]["linkMeasures"]["state"], "CONFIRMED");
    }
    c
}

#[tokio::test]
async fn links_go_upward_only_and_never_close_a_cycle() {
    let hub = TestHub::spawn().await.expect("hub");
    let c = cascade(&hub).await;
    let body = link(&hub, &c.r1, &c.m1a).await;
    assert_eq!(
        first_error(&body).as_deref(),
        Some(
            "implements: must belong to a plan of a higher level than the measure's plan, or to its declared parent plan"
        )
    );
    let body = link(&hub, &c.m1a, &c.m1b).await;
    assert_eq!(
        first_error(&body).as_deref(),
        Some("implements: links join measures of different plans")
    );
    let body = link(&hub, &c.s1, &c.s1).await;
    assert_eq!(
        first_error(&body).as_deref(),
        Some("implements: a measure cannot implement itself")
    );

    // Two municipal plans that declare each other parents: one link is fine, the way back is a cycle.
    let t = territory(&hub, "Четвёртый район", "MUNICIPALITY", None).await;
    let (a_plan, a) = plan(&hub, "План А", "MUNICIPAL", &t, &["1"]).await;
    let (b_plan, b) = plan(&hub, "План Б", "MUNICIPAL", &t, &["1"]).await;
    let body = link(&hub, &a[0], &b[0]).await;
    assert!(
        first_error(&body).is_some(),
        "same level without a declared parent is refused"
    );
    for (p, q) in [(&a_plan, &b_plan), (&b_plan, &a_plan)] {
        hub.gql(
            "mutation($p: ID!, $q: ID!) { setPlanParent(plan: $p, parent: $q) { id } }",
            json!({ "p": p, "q": q }),
        )
        .await
        .expect("parent");
    }
    let body = link(&hub, &a[0], &b[0]).await;
    assert!(body.get("errors").is_none(), "{body}");
    let body = link(&hub, &b[0], &a[0]).await;
    assert_eq!(
        first_error(&body).as_deref(),
        Some("implements: the link would close a cycle")
    );
    // Recorded as rejected, the way back is kept; confirming it later is refused the same way.
    let body = hub
        .request(
            "mutation($m: ID!, $i: ID!) { linkMeasures(measure: $m, implements: $i, state: REJECTED) { id state } }",
            json!({ "m": b[0], "i": a[0] }),
        )
        .await
        .expect("link request");
    assert_eq!(body["data"]["linkMeasures"]["state"], "REJECTED", "{body}");
    let rejected = body["data"]["linkMeasures"]["id"].as_str().expect("id").to_string();
    let body = hub
        .request(
            "mutation($id: ID!) { decideLink(id: $id, state: CONFIRMED) { state } }",
            json!({ "id": rejected }),
        )
        .await
        .expect("decide request");
    assert_eq!(
        first_error(&body).as_deref(),
        Some("state: the link would close a cycle")
    );
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn traces_go_down_and_up_with_plans_territories_and_organisations() {
    let hub = TestHub::spawn().await.expect("hub");
    let c = cascade(&hub).await;
    let down = hub
        .gql(
            "query($id: ID!) { measure(id: $id) { number implementedBy(depth: 3) { depth link { state } \
               measure { number status plan { level territory { name } } } \
               next { depth measure { number plan { level } } } } } }",
            json!({ "id": c.r1 }),
        )
        .await
        .expect("down");
    let nodes = down["measure"]["implementedBy"].as_array().expect("nodes");
    let titles: Vec<(&str, &str)> = nodes
        .iter()
        .map(|n| {
            (
                n["measure"]["plan"]["territory"]["name"].as_str().unwrap_or(""),
                n["measure"]["number"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(nodes.len(), 2, "{down}");
    assert!(
        titles.contains(&("Первый район", "1")) && titles.contains(&("Второй район", "1")),
        "{titles:?}"
    );
    let first = nodes
        .iter()
        .find(|n| n["measure"]["plan"]["territory"]["name"] == "Первый район")
        .expect("m1a");
    assert_eq!(first["measure"]["status"], "PLANNED");
    assert_eq!(first["next"][0]["depth"], 2);
    assert_eq!(first["next"][0]["measure"]["plan"]["level"], "SCHOOL");

    let up = hub
        .gql(
            "query($id: ID!) { measure(id: $id) { implements { measure { id plan { level } } \
               next { measure { id number plan { level title } } } } } }",
            json!({ "id": c.s1 }),
        )
        .await
        .expect("up");
    let level1 = &up["measure"]["implements"][0];
    assert_eq!(level1["measure"]["id"], c.m1a.as_str());
    let tops: Vec<&str> = level1["next"]
        .as_array()
        .expect("next")
        .iter()
        .filter_map(|n| n["measure"]["id"].as_str())
        .collect();
    assert_eq!(tops.len(), 2, "m1a implements r1 and r2 (many-to-many)");
    assert!(tops.contains(&c.r1.as_str()) && tops.contains(&c.r2.as_str()));
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn coverage_shows_municipalities_without_an_implementing_measure() {
    let hub = TestHub::spawn().await.expect("hub");
    let c = cascade(&hub).await;
    let data = hub
        .gql(
            "query($id: ID!, $plan: ID!) { measure(id: $id) { coverage { territory { id name } covered implementingMeasures { id } } } \
               plan(id: $plan) { implementationByTerritory { territory { name } implemented total share } } }",
            json!({ "id": c.r1, "plan": c.region_plan }),
        )
        .await
        .expect("coverage");
    let rows = data["measure"]["coverage"].as_array().expect("rows");
    let covered = |name: &str| {
        rows.iter()
            .find(|r| r["territory"]["name"] == name)
            .map(|r| r["covered"].clone())
    };
    assert_eq!(covered("Первый район"), Some(json!(true)));
    assert_eq!(covered("Второй район"), Some(json!(true)));
    assert_eq!(
        covered("Третий район"),
        Some(json!(false)),
        "the auditor sees what is missing"
    );
    assert_eq!(rows.len(), c.municipalities.len());
    let share = |name: &str| {
        data["plan"]["implementationByTerritory"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["territory"]["name"] == name)
            .map(|r| {
                (
                    r["implemented"].as_i64().unwrap_or(-1),
                    r["total"].as_i64().unwrap_or(-1),
                )
            })
    };
    assert_eq!(share("Первый район"), Some((2, 2)));
    assert_eq!(share("Второй район"), Some((1, 2)));
    assert_eq!(share("Третий район"), Some((0, 2)));
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn progress_rolls_up_the_tree() {
    let hub = TestHub::spawn().await.expect("hub");
    let c = cascade(&hub).await;
    let set = "mutation($m: ID!, $s: MeasureStatus!, $p: Float) { setMeasureStatus(measure: $m, status: $s, progress: $p) { status progress } }";
    hub.gql(set, json!({ "m": c.s1, "s": "IN_PROGRESS", "p": 20.0 }))
        .await
        .expect("s1");
    hub.gql(set, json!({ "m": c.m1a, "s": "IN_PROGRESS", "p": 90.0 }))
        .await
        .expect("m1a");
    hub.gql(set, json!({ "m": c.m2a, "s": "DONE" })).await.expect("m2a");
    let data = hub
        .gql(
            "query($id: ID!) { measure(id: $id) { rolledProgress } }",
            json!({ "id": c.r1 }),
        )
        .await
        .expect("rolled");
    // m1a has an implementer (s1 at 20), so it counts 20, not its own 90; m2a is done: (20 + 100) / 2.
    assert_eq!(data["measure"]["rolledProgress"], 60.0);
    let body = hub
        .request(set, json!({ "m": c.s1, "s": "OVERDUE" }))
        .await
        .expect("request");
    assert_eq!(
        first_error(&body).as_deref(),
        Some("status: OVERDUE is derived from the deadline, not set")
    );
    let body = hub
        .request(set, json!({ "m": c.s1, "s": "DONE", "p": 120.0 }))
        .await
        .expect("request");
    assert_eq!(
        first_error(&body).as_deref(),
        Some("progress: must be between 0 and 100")
    );
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn overdue_is_derived_with_a_fixed_clock() {
    let today = chrono::NaiveDate::from_ymd_opt(2024, 6, 1).expect("date");
    let hub = TestHub::spawn_with(Target::ALL, |c| c.clock = roadmap_common::clock::Clock::fixed(today))
        .await
        .expect("hub");
    let running = hub.hub.as_ref().expect("hub");
    roadmap_hub::demo::load(running).await.expect("seeds");
    let data = hub
        .gql(
            "{ plans(level: REGIONAL) { edges { node { title measures { id key dueOn status } } } } }",
            json!({}),
        )
        .await
        .expect("plans");
    let zab = data["plans"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .find(|e| e["node"]["title"].as_str().is_some_and(|t| t.contains("Забайкальском")))
        .expect("002");
    let measures = zab["node"]["measures"].as_array().expect("measures");
    let m11 = measures.iter().find(|m| m["key"] == "1.1").expect("1.1");
    assert_eq!(m11["dueOn"], "2024-02-29", "Январь – февраль 2024 года");
    assert_eq!(m11["status"], "OVERDUE");
    let later = measures
        .iter()
        .find(|m| m["dueOn"].as_str().is_some_and(|d| d > "2024-06-01"))
        .expect("a measure due later");
    assert_eq!(later["status"], "PLANNED");
    let done = hub
        .gql(
            "mutation($m: ID!) { setMeasureStatus(measure: $m, status: DONE) { status reportedStatus } }",
            json!({ "m": m11["id"] }),
        )
        .await
        .expect("done");
    assert_eq!(done["setMeasureStatus"]["status"], "DONE");
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn trace_statements_are_bounded_by_depth_not_by_nodes() {
    let hub = TestHub::spawn().await.expect("hub");
    let region = territory(&hub, "Большой край", "REGION", None).await;
    let (_, r) = plan(&hub, "Краевая карта", "REGIONAL", &region, &["1", "2"]).await;
    let query = "query($id: ID!) { measure(id: $id) { implementedBy(depth: 2) { link { state } \
        measure { number status plan { level territory { name } } responsible { id } } \
        next { measure { number plan { level } } } } } }";
    let mut counts = Vec::new();
    for (root, n) in [(&r[0], 2), (&r[1], 12)] {
        for i in 0..n {
            let t = territory(&hub, &format!("Район {root} {i}"), "MUNICIPALITY", Some(&region)).await;
            let (_, m) = plan(&hub, &format!("Карта района {i}"), "MUNICIPAL", &t, &["1"]).await;
            let (_, s) = plan(&hub, &format!("Карта школы {i}"), "SCHOOL", &t, &["1"]).await;
            assert!(link(&hub, &m[0], root).await.get("errors").is_none());
            assert!(link(&hub, &s[0], &m[0]).await.get("errors").is_none());
        }
        hub.settle().await.expect("the event log caught up");
        let before = sql_statement_count();
        let data = hub.gql(query, json!({ "id": root })).await.expect("trace");
        counts.push(sql_statement_count() - before);
        let nodes = data["measure"]["implementedBy"].as_array().expect("nodes");
        assert_eq!(nodes.len(), n);
        assert!(nodes.iter().all(|n| n["next"].as_array().map(Vec::len) == Some(1)));
    }
    assert!(counts[0] > 0);
    assert_eq!(counts[0], counts[1], "statements for 2 and 12 branches: {counts:?}");
    hub.finish().await.expect("finish");
}

/// The depth-2 trace of issue 18 (`measure { number status plan { level } }` on every node, two
/// levels) costs at most two SQL statements whatever its size: the root with its plan, then one
/// statement reading the edges with the reached measures, statuses and plans (fed to the
/// request's loaders). Background work of the hub (the relay's polls) also counts statements in
/// this process, so each size takes the least of three runs.
#[tokio::test]
async fn a_depth_two_trace_costs_at_most_two_statements_whatever_its_size() {
    let hub = TestHub::spawn().await.expect("hub");
    let region = territory(&hub, "Край трасс", "REGION", None).await;
    let (_, r) = plan(&hub, "Краевая карта трасс", "REGIONAL", &region, &["1", "2"]).await;
    let query = "query($id: ID!) { measure(id: $id) { implementedBy(depth: 2) { \
        measure { number status plan { level } } next { measure { number status } } } } }";
    let mut counts = Vec::new();
    for (root, branches, schools) in [(&r[0], 2, 1), (&r[1], 10, 3)] {
        for i in 0..branches {
            let t = territory(&hub, &format!("Район трасс {root} {i}"), "MUNICIPALITY", Some(&region)).await;
            let (_, m) = plan(&hub, &format!("Карта района трасс {i}"), "MUNICIPAL", &t, &["1"]).await;
            assert!(link(&hub, &m[0], root).await.get("errors").is_none());
            for j in 0..schools {
                let (_, s) = plan(&hub, &format!("Карта школы трасс {i}.{j}"), "SCHOOL", &t, &["1"]).await;
                assert!(link(&hub, &s[0], &m[0]).await.get("errors").is_none());
            }
        }
        let mut least = u64::MAX;
        for _ in 0..3 {
            let before = sql_statement_count();
            let data = hub.gql(query, json!({ "id": root })).await.expect("trace");
            least = least.min(sql_statement_count() - before);
            let nodes = data["measure"]["implementedBy"].as_array().expect("nodes");
            assert_eq!(nodes.len(), branches, "{data}");
            for n in nodes {
                assert_eq!(n["measure"]["plan"]["level"], "MUNICIPAL", "{n}");
                assert_eq!(n["measure"]["status"], "PLANNED", "{n}");
                let next = n["next"].as_array().expect("next");
                assert_eq!(next.len(), schools, "{n}");
                assert!(
                    next.iter()
                        .all(|s| s["measure"]["number"] == "1" && s["measure"]["status"] == "PLANNED")
                );
            }
        }
        counts.push((branches * (1 + schools), least));
    }
    for (nodes, statements) in &counts {
        assert!(
            *statements <= 2,
            "{statements} statements for a trace of {nodes} nodes: {counts:?}"
        );
    }
    hub.finish().await.expect("finish");
}

/// A trace reads only the columns of the measures it reaches that its selection asks for (the
/// document's long texts and JSON, the rolled-up progress, single light columns), and every field
/// asked through a trace is the measure's own: equal to the same field asked of the measure
/// directly, whichever columns the trace read, at either level, in both orders. A rolled-up
/// progress asked outside a trace that did not read it is the measure's own too.
#[tokio::test]
async fn trace_nodes_answer_like_the_measures_themselves_whatever_they_read() {
    let hub = TestHub::spawn_with_demo().await.expect("hub with the demo");
    let light = "id number title key kind dueOn startsOn scheduleKind sourceLine status reportedStatus";
    let heavy = "id number scheduleText expectedResult responsibleText notes reportingForms indicatorText \
        targets parties schedule extraColumns { header value }";
    // Some reached measures past their due day, so that OVERDUE (derived from the due day,
    // whether or not `dueOn` is asked) is among what is compared.
    let pool = hub.plans_pool().clone();
    past_due(&pool, 3).await;
    let mut compared = 0;
    let mut texts = 0;
    let mut rolled = 0;
    let mut overdue = 0;
    let pairs = [
        (light, heavy),
        (heavy, light),
        ("id number status", "id rolledProgress progress"),
        ("id rolledProgress", "id title dueOn"),
        ("id key sourceLine", "id"),
    ];
    for (first, second) in pairs {
        let query = format!(
            "{{ plans(level: REGIONAL) {{ edges {{ node {{ measures {{ implementedBy(depth: 2) {{ \
               measure {{ {first} plan {{ level }} }} next {{ measure {{ {second} }} }} }} }} }} }} }} }}"
        );
        let data = hub.gql(&query, json!({})).await.expect("trace");
        let mut nodes: Vec<(&str, Value)> = Vec::new();
        for plan in data["plans"]["edges"].as_array().expect("plans") {
            for m in plan["node"]["measures"].as_array().into_iter().flatten() {
                for n in m["implementedBy"].as_array().into_iter().flatten() {
                    let mut at_one = n["measure"].clone();
                    assert!(at_one["plan"]["level"].is_string(), "{n}");
                    at_one.as_object_mut().expect("measure").remove("plan");
                    nodes.push((first, at_one));
                    for s in n["next"].as_array().into_iter().flatten() {
                        nodes.push((second, s["measure"].clone()));
                    }
                }
            }
        }
        assert!(
            nodes.len() > 4,
            "the demo's regional plans have implementers two levels down"
        );
        for (fields, node) in nodes.iter().take(40) {
            let direct = hub
                .gql(
                    &format!("query($id: ID!) {{ measure(id: $id) {{ {fields} }} }}"),
                    json!({ "id": node["id"] }),
                )
                .await
                .expect("measure");
            assert_eq!(&direct["measure"], node, "through a trace and directly");
            compared += 1;
            if node["scheduleText"].is_string() || node["expectedResult"].is_string() {
                texts += 1;
            }
            if node["rolledProgress"].as_f64().is_some_and(|p| p > 0.0) {
                rolled += 1;
            }
            if node["status"] == "OVERDUE" {
                overdue += 1;
            }
        }
    }
    assert!(compared > 30, "{compared}");
    assert!(texts > 0, "some reached measure has its document texts: {texts}");
    assert!(rolled > 0, "some reached measure has a rolled-up progress: {rolled}");
    assert!(overdue > 0, "some reached measure is overdue: {overdue}");
    // A trace that does not read the rolled-up progress hands its statuses to the request's
    // loaders; the same measures' rolled-up progress asked beside it is still their own.
    let data = hub
        .gql(
            "{ plans(level: REGIONAL) { edges { node { measures { id implementedBy(depth: 1) { \
               measure { id status } } } } } } }",
            json!({}),
        )
        .await
        .expect("trace");
    // (a regional measure, one of its implementers)
    let pairs: Vec<(Value, Value)> = data["plans"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["node"]["measures"].as_array().into_iter().flatten())
        .map(|m| (m["id"].clone(), m["implementedBy"][0]["measure"]["id"].clone()))
        .filter(|(_, id)| id.is_string())
        .take(10)
        .collect();
    assert!(!pairs.is_empty(), "regional measures with implementers");
    for (root, id) in pairs {
        let beside = hub
            .gql(
                "query($root: ID!, $id: ID!) { a: measure(id: $root) { implementedBy(depth: 2) { \
                   measure { id status } next { measure { id status } } } } \
                   b: measure(id: $id) { rolledProgress status } }",
                json!({ "root": root, "id": id }),
            )
            .await
            .expect("trace beside a measure");
        let direct = hub
            .gql(
                "query($id: ID!) { measure(id: $id) { rolledProgress status } }",
                json!({ "id": id }),
            )
            .await
            .expect("measure");
        assert_eq!(beside["b"], direct["measure"], "beside a trace and alone");
        assert!(
            beside["a"]["implementedBy"]
                .as_array()
                .is_some_and(|a| a.iter().any(|n| n["measure"]["id"] == id)),
            "the measure is a node of the trace beside it"
        );
    }
    hub.finish().await.expect("finish");
}

/// A trace answers the same whether its plain selection is written in one pass over its tree
/// (`roadmap_plans::graphql::trace`) or resolved field by field (a directive anywhere in the
/// selection sends it there): aliases, `__typename`, OVERDUE derived from a past due day, plans
/// at some levels, and a draft's measure as null for a visitor and whole for an administrator.
#[tokio::test]
async fn a_trace_answers_the_same_however_it_is_resolved() {
    let hub = TestHub::spawn_with_demo().await.expect("hub with the demo");
    let pool = hub.plans_pool().clone();
    past_due(&pool, 2).await;
    sqlx::query(
        "UPDATE plan SET state = 'DRAFT' WHERE id = (SELECT m.plan_id FROM measure m \
           JOIN measure_link l ON l.measure_id = m.id JOIN measure r ON r.id = l.implements_id \
           JOIN plan rp ON rp.id = r.plan_id WHERE rp.level = 'REGIONAL' ORDER BY m.plan_id LIMIT 1)",
    )
    .execute(&pool)
    .await
    .expect("a draft");
    let fields = "__typename id number title key kind startsOn dueOn status progress";
    let plain = format!(
        "{{ plans(level: REGIONAL) {{ edges {{ node {{ measures {{ id implementedBy(depth: 3) {{ \
           __typename d: depth measure {{ {fields} plan {{ __typename id title level state }} }} \
           next {{ depth measure {{ {fields} n: number }} next {{ measure {{ id s: status }} }} }} }} }} }} }} }} }}"
    );
    let generic = plain.replacen("d: depth", "d: depth @include(if: true)", 1);
    assert_ne!(plain, generic);
    for token in [None, Some(roadmap_e2e::admin_token())] {
        let fast = hub.gql_as(token.as_deref(), &plain, json!({})).await.expect("plain");
        let slow = hub
            .gql_as(token.as_deref(), &generic, json!({}))
            .await
            .expect("generic");
        assert_eq!(
            first_difference(&fast, &slow, ""),
            None,
            "one pass and field by field (token: {})",
            token.is_some()
        );
        let text = fast.to_string();
        assert!(text.contains("\"OVERDUE\""), "an overdue node: {text}");
        assert!(text.contains("\"level\":\"MUNICIPAL\""), "plans at depth 1: {text}");
        assert!(text.contains("\"__typename\":\"TraceNode\""), "{text}");
        assert!(text.contains("\"n\":"), "aliases: {text}");
        let hidden = text.contains("\"measure\":null");
        assert_eq!(
            hidden,
            token.is_none(),
            "the draft's measure is null for a visitor only"
        );
    }
    hub.finish().await.expect("finish");
}

/// Puts about one in `one_in` of the measures that implement another (and are neither done nor
/// cancelled) past their due day, so that OVERDUE is among what a trace answers.
async fn past_due(pool: &sqlx::PgPool, one_in: i32) {
    sqlx::query(
        "UPDATE measure SET due_on = DATE '2020-01-31' WHERE status NOT IN ('DONE', 'CANCELLED') \
         AND id IN (SELECT measure_id FROM measure_link) AND get_byte(uuid_send(id), 15) % $1 = 0",
    )
    .bind(one_in)
    .execute(pool)
    .await
    .expect("past due");
}

/// Where `a` and `b` first differ (a JSON path with both values), if they do.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x
            .keys()
            .chain(y.keys())
            .find_map(|k| first_difference(&x[k], y.get(k).unwrap_or(&Value::Null), &format!("{path}.{k}")))
            .or_else(|| (x.len() != y.len()).then(|| format!("{path}: keys {:?} vs {:?}", x.keys(), y.keys()))),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (a, b))| first_difference(a, b, &format!("{path}[{i}]"))),
        _ => (a != b).then(|| format!("{path}: {a} vs {b}")),
    }
}

async fn setting(conn: &mut sqlx::PgConnection, name: &str) -> String {
    sqlx::query_scalar("SELECT current_setting($1)")
        .bind(name)
        .fetch_one(conn)
        .await
        .expect("setting")
}

/// `EXPLAIN (ANALYZE, FORMAT JSON)` of a statement with its binds, through `conn`.
/// `EXPLAIN ANALYZE` of a trace statement from `roots`, depth 2; `reads`: the node statement's
/// plan depths, bound as `$3` (none for the edges-only statement).
async fn explain(conn: &mut sqlx::PgConnection, sql: &str, roots: &[uuid::Uuid], reads: Option<NodeReads>) -> Value {
    let sql = format!("EXPLAIN (ANALYZE, FORMAT JSON) {sql}");
    let query = sqlx::query_scalar(&sql).bind(roots).bind(2i32);
    let query = match reads {
        Some(reads) => query.bind(reads.plan_depths as i32),
        None => query,
    };
    let plan: Value = query.fetch_one(conn).await.expect("explain");
    plan[0].clone()
}

/// None of the hub's trace statements is JIT-compiled: on a generated cascade, through a
/// connection of the plans target's pool (`jit = off`, `service_options`), `EXPLAIN ANALYZE` of
/// each trace statement has no "JIT" entry, even with `jit_above_cost` lowered to 0 for the
/// session so that its estimate passes it; the same statement on the same data is compiled once
/// JIT is on again, so the setting is what keeps it out (issue 18: ~10 ms per trace).
#[tokio::test]
async fn trace_statements_are_never_jit_compiled() {
    use roadmap_plans::store::{Direction, trace_statement};

    let hub = TestHub::spawn().await.expect("hub");
    let pool = hub.plans_pool().clone();
    let mut conn = pool.acquire().await.expect("conn");
    let params = roadmap_hub::generate::Params {
        regions: 2,
        municipalities: 6,
        schools: 8,
        seed: 23,
    };
    let today = chrono::Utc::now().date_naive();
    roadmap_hub::generate::load(&mut conn, params, today, false)
        .await
        .expect("generate");
    sqlx::query("ANALYZE measure, measure_link, plan")
        .execute(&mut *conn)
        .await
        .expect("analyze");
    assert_eq!(setting(&mut conn, "jit").await, "off");
    assert_eq!(
        setting(&mut conn, "jit_above_cost").await,
        "100000",
        "the server default is left alone"
    );
    let down: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT m.id FROM measure m JOIN plan p ON p.id = m.plan_id WHERE p.level = 'REGIONAL' ORDER BY m.id",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("regional roots");
    let up: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT m.id FROM measure m JOIN plan p ON p.id = m.plan_id WHERE p.level = 'SCHOOL' ORDER BY m.id LIMIT 200",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("school roots");
    // Every shape the hub runs: edges only, light and whole rows, plans at some levels or none.
    let light = NodeReads {
        plan_depths: 0b10,
        ..NodeReads::default()
    }
    .with_columns(&["number"])
    .expect("a column");
    let whole = NodeReads {
        plan_depths: 0b110,
        ..NodeReads::WHOLE
    };
    let mut statements = Vec::new();
    for (direction, roots) in [(Direction::Down, &down), (Direction::Up, &up)] {
        for reads in [Some(light), Some(whole), None] {
            statements.push((trace_statement(direction, reads), roots, reads));
        }
    }
    // At the server's default threshold, and with the threshold at 0 (every estimate passes).
    for threshold in ["100000", "0"] {
        sqlx::query("SELECT set_config('jit_above_cost', $1, false)")
            .bind(threshold)
            .execute(&mut *conn)
            .await
            .expect("set");
        for (sql, roots, reads) in &statements {
            let plan = explain(&mut conn, sql, roots, *reads).await;
            let rows = plan["Plan"]["Actual Rows"].as_u64().unwrap_or(0);
            assert!(rows > 0, "the trace reaches nodes: {plan}");
            assert!(
                plan.get("JIT").is_none(),
                "JIT-compiled at jit_above_cost = {threshold} (cost {}): {}",
                plan["Plan"]["Total Cost"],
                plan["JIT"]
            );
        }
    }
    // The setting is what keeps JIT out: switched back on, the same statement is compiled.
    sqlx::query("SET jit = on").execute(&mut *conn).await.expect("jit on");
    let plan = explain(&mut conn, &statements[0].0, statements[0].1, statements[0].2).await;
    assert!(
        plan["JIT"]["Functions"].as_u64().unwrap_or(0) > 0,
        "compiled with jit on: {plan}"
    );
    // Back to the service's settings before the connection returns to the pool.
    sqlx::query("RESET jit").execute(&mut *conn).await.expect("reset");
    sqlx::query("RESET jit_above_cost")
        .execute(&mut *conn)
        .await
        .expect("reset");
    assert_eq!(setting(&mut conn, "jit").await, "off");
    drop(conn);
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn suggestions_rank_the_same_measure_at_another_level_first() {
    let hub = TestHub::spawn().await.expect("hub");
    // Only the five seeds (the generated demo cascade copies seed texts on purpose).
    for seed in &roadmap_hub::demo::SEEDS {
        hub.gql(
            "mutation($input: ImportRoadmapInput!) { importRoadmap(input: $input) { status } }",
            json!({ "input": { "document": String::from_utf8_lossy(seed.text), "fileName": seed.file_name,
                               "territory": seed.territory } }),
        )
        .await
        .expect("import");
    }
    let data = hub
        .gql(
            "{ plans(first: 10) { edges { node { title measures { id key } } } } }",
            json!({}),
        )
        .await
        .expect("plans");
    let find = |title_part: &str, key: &str| -> String {
        data["plans"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .find(|e| e["node"]["title"].as_str().is_some_and(|t| t.contains(title_part)))
            .and_then(|e| {
                e["node"]["measures"]
                    .as_array()?
                    .iter()
                    .find(|m| m["key"] == key)
                    .cloned()
            })
            .and_then(|m| m["id"].as_str().map(str::to_string))
            .unwrap_or_else(|| panic!("{title_part} {key}"))
    };
    let nikolaevsky = find("Николаевского", "III.1");
    let zabaykalsky = find("Забайкальском", "3.7");
    let query = "query($id: ID!) { measure(id: $id) { similarMeasures(first: 3, scope: OTHER_PLANS) { score measure { id key } } } }";
    for (from, to) in [(&nikolaevsky, &zabaykalsky), (&zabaykalsky, &nikolaevsky)] {
        let got = hub.gql(query, json!({ "id": from })).await.expect("similar");
        let list = got["measure"]["similarMeasures"].as_array().expect("list");
        assert_eq!(list[0]["measure"]["id"], to.as_str(), "{got}");
        assert!(
            list[0]["score"].as_f64().unwrap_or(0.0) > list.get(1).and_then(|s| s["score"].as_f64()).unwrap_or(0.0)
        );
    }
    // The default scope for a municipal measure is every higher-level plan: 002 is regional.
    let got = hub
        .gql(
            "query($id: ID!) { measure(id: $id) { similarMeasures { measure { id } } } }",
            json!({ "id": nikolaevsky }),
        )
        .await
        .expect("default scope");
    assert_eq!(
        got["measure"]["similarMeasures"][0]["measure"]["id"],
        zabaykalsky.as_str()
    );
    hub.finish().await.expect("finish");
}

/// `up --demo`: one query traces ministry → region → municipality → school and back up.
#[tokio::test]
async fn demo_cascade_traces_from_ministry_to_school_and_back() {
    let hub = TestHub::spawn_with_demo().await.expect("hub with the demo");
    let data = hub
        .gql(
            "{ plans(level: FEDERAL) { edges { node { title measures { id number \
               implementedBy(depth: 3) { measure { status plan { level territory { name } } responsible { name } } \
                 next { measure { plan { level territory { name } } responsible { name kind } } \
                   next { measure { id status plan { level } responsible { name kind } } } } } } } } } }",
            json!({}),
        )
        .await
        .expect("trace");
    let plan = &data["plans"]["edges"][0]["node"];
    assert!(plan["title"].as_str().unwrap_or("").contains("сгенерировано"), "{plan}");
    // Find a path federal → regional → municipal → school.
    let mut school_measure = None;
    for m in plan["measures"].as_array().expect("measures") {
        for r in m["implementedBy"].as_array().into_iter().flatten() {
            assert_eq!(r["measure"]["plan"]["level"], "REGIONAL");
            assert!(
                r["measure"]["responsible"][0]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("Министерство"))
            );
            for mu in r["next"].as_array().into_iter().flatten() {
                assert_eq!(mu["measure"]["plan"]["level"], "MUNICIPAL");
                assert_eq!(mu["measure"]["responsible"][0]["kind"], "MUNICIPAL_AUTHORITY");
                if let Some(s) = mu["next"].as_array().and_then(|n| n.first()) {
                    assert_eq!(s["measure"]["plan"]["level"], "SCHOOL");
                    assert_eq!(s["measure"]["responsible"][0]["kind"], "SCHOOL");
                    assert!(s["measure"]["status"].as_str().is_some());
                    school_measure = s["measure"]["id"].as_str().map(str::to_string);
                }
            }
        }
    }
    let school_measure = school_measure.expect("a path down to a school");
    let up = hub
        .gql(
            "query($id: ID!) { measure(id: $id) { implements(depth: 5) { measure { plan { level } } \
               next { measure { plan { level } } next { measure { plan { level } } } } } } }",
            json!({ "id": school_measure }),
        )
        .await
        .expect("up");
    let first = &up["measure"]["implements"][0];
    assert_eq!(first["measure"]["plan"]["level"], "MUNICIPAL");
    assert_eq!(first["next"][0]["measure"]["plan"]["level"], "REGIONAL");
    assert_eq!(first["next"][0]["next"][0]["measure"]["plan"]["level"], "FEDERAL");
    hub.finish().await.expect("finish");
}

/// The generated cascade carries targets and observations: a generated region rolls up from its
/// municipalities' observations, weighted, against the region's own target.
#[tokio::test]
async fn generated_regions_have_targets_and_weighted_observations() {
    let hub = TestHub::spawn_with_demo().await.expect("hub with the demo");
    let data = hub
        .gql(
            "{ plans(level: REGIONAL) { edges { node { title territory { id name } } } } }",
            json!({}),
        )
        .await
        .expect("plans");
    let region = data["plans"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .find(|e| e["node"]["title"].as_str().is_some_and(|t| t.contains("сгенерировано")))
        .map(|e| e["node"]["territory"]["id"].clone())
        .expect("a generated region");
    let code = format!("generated:{}:ege_below_min", roadmap_hub::demo::DEMO_CASCADE.seed);
    let data = hub
        .gql(
            "query($t: ID!, $code: String!) { territory(id: $t) { name rollup(indicator: $code, period: 2024, subject: \"chemistry\") { \
               value target status childrenWithData denominator children { value denominator rank } } } }",
            json!({ "t": region, "code": code }),
        )
        .await
        .expect("rollup");
    let rollup = &data["territory"]["rollup"];
    let children = rollup["children"].as_array().expect("children");
    assert_eq!(
        rollup["childrenWithData"],
        roadmap_hub::demo::DEMO_CASCADE.municipalities,
        "{data}"
    );
    // The regional value is the denominator-weighted mean of the municipalities' values.
    let (sum, weights) = children.iter().fold((0.0, 0.0), |(s, w), c| {
        let d = c["denominator"].as_f64().unwrap_or(0.0);
        (s + c["value"].as_f64().unwrap_or(0.0) * d, w + d)
    });
    let value = rollup["value"].as_f64().expect("value");
    assert!((value - sum / weights).abs() < 1e-6, "{value} vs {}", sum / weights);
    assert!(
        rollup["target"].as_f64().is_some(),
        "the region's 2024 target: {rollup}"
    );
    assert!(rollup["status"].as_str().is_some());
    hub.finish().await.expect("finish");
}

/// `Measure.coverage` and `Plan.implementationByTerritory` read where each measure is carried out
/// from the stored reach (migration `0015_reach`): the first read stores it, a stored row is what
/// is answered, and every change that moves it (a plan approved, a link added two levels down,
/// a link rejected, a measure moved to another plan) is seen by the next read, by the reader who
/// may see it.
#[tokio::test]
async fn stored_reach_is_read_and_follows_every_change() {
    let hub = TestHub::spawn().await.expect("hub");
    let c = cascade(&hub).await;
    let pool = hub.plans_pool().clone();
    const COVERAGE: &str = "query($id: ID!, $plan: ID!) { \
        measure(id: $id) { coverage { territory { name } covered implementingMeasures { id } } } \
        plan(id: $plan) { implementationByTerritory { territory { name } implemented } } }";
    // (municipality, implementing measures of r1 there) and (municipality, implemented of the plan).
    let ask = |token: Option<String>| {
        let hub = &hub;
        let vars = json!({ "id": c.r1, "plan": c.region_plan });
        async move {
            let data = hub.gql_as(token.as_deref(), COVERAGE, vars).await.expect("coverage");
            let coverage: Vec<(String, Vec<String>)> = data["measure"]["coverage"]
                .as_array()
                .expect("coverage")
                .iter()
                .map(|r| {
                    let ids = r["implementingMeasures"].as_array().expect("measures");
                    assert_eq!(r["covered"], json!(!ids.is_empty()), "{r}");
                    let ids = ids.iter().map(|m| m["id"].as_str().expect("id").to_string()).collect();
                    (r["territory"]["name"].as_str().expect("name").to_string(), ids)
                })
                .collect();
            let shares: Vec<(String, i64)> = data["plan"]["implementationByTerritory"]
                .as_array()
                .expect("shares")
                .iter()
                .map(|r| {
                    (
                        r["territory"]["name"].as_str().expect("name").to_string(),
                        r["implemented"].as_i64().expect("implemented"),
                    )
                })
                .collect();
            (coverage, shares)
        }
    };
    let admin = || Some(roadmap_e2e::admin_token());
    let of = |list: &[(String, Vec<String>)], name: &str| -> Vec<String> {
        list.iter()
            .find(|(n, _)| n == name)
            .map(|(_, ids)| ids.clone())
            .expect(name)
    };
    let share = |list: &[(String, i64)], name: &str| -> i64 {
        list.iter().find(|(n, _)| n == name).map(|(_, n)| *n).expect(name)
    };
    let plan_of = |measure: &str| {
        let hub = &hub;
        let vars = json!({ "id": measure });
        async move {
            let data = hub
                .gql("query($id: ID!) { measure(id: $id) { plan { id } } }", vars)
                .await
                .expect("plan");
            data["measure"]["plan"]["id"].as_str().expect("plan id").to_string()
        }
    };
    let approve = |plan: String| {
        let hub = &hub;
        async move {
            hub.gql(
                "mutation($p: ID!) { approvePlan(plan: $p) { state } }",
                json!({ "p": plan }),
            )
            .await
            .expect("approve");
        }
    };
    let r1: uuid::Uuid = c.r1.parse().expect("uuid");
    let second: uuid::Uuid = c.municipalities[1].parse().expect("uuid");

    let (coverage, shares) = ask(admin()).await;
    // The first district carries r1 out twice: its own measure and, under it, its school's.
    let mut first = of(&coverage, "Первый район");
    first.sort_unstable();
    let mut expected = [c.m1a.clone(), c.s1.clone()];
    expected.sort_unstable();
    assert_eq!(first, expected);
    assert_eq!(of(&coverage, "Второй район"), [c.m2a.as_str()]);
    assert!(of(&coverage, "Третий район").is_empty());
    assert_eq!(
        [
            share(&shares, "Первый район"),
            share(&shares, "Второй район"),
            share(&shares, "Третий район")
        ],
        [2, 1, 0]
    );
    let (generation, computed): (i64, Option<i64>) =
        sqlx::query_as("SELECT generation, computed FROM reach_root WHERE measure_id = $1")
            .bind(r1)
            .fetch_one(&pool)
            .await
            .expect("r1 is stored");
    assert_eq!(computed, Some(generation), "the read stored r1's reach as current");

    // A stored row is what is answered: without it the second municipality is not covered ...
    sqlx::query("DELETE FROM reach WHERE root = $1 AND territory_id = $2")
        .bind(r1)
        .bind(second)
        .execute(&pool)
        .await
        .expect("delete");
    assert!(of(&ask(admin()).await.0, "Второй район").is_empty());
    // ... until a change bumps r1's generation: then it is computed again.
    sqlx::query("UPDATE reach_root SET generation = generation + 1 WHERE measure_id = $1")
        .bind(r1)
        .execute(&pool)
        .await
        .expect("bump");
    assert_eq!(of(&ask(admin()).await.0, "Второй район"), [c.m2a.as_str()]);

    // Drafts count only for those who may see them; approving a plan shows its measures.
    approve(c.region_plan.clone()).await;
    approve(plan_of(&c.m1a).await).await;
    let (coverage, shares) = ask(None).await;
    assert_eq!(
        of(&coverage, "Первый район"),
        [c.m1a.as_str()],
        "the school's plan is a draft"
    );
    assert!(
        of(&coverage, "Второй район").is_empty(),
        "the second district's plan is a draft"
    );
    assert_eq!(share(&shares, "Второй район"), 0);
    approve(plan_of(&c.m2a).await).await;
    let (coverage, shares) = ask(None).await;
    assert_eq!(of(&coverage, "Второй район"), [c.m2a.as_str()]);
    assert_eq!(share(&shares, "Второй район"), 1);

    // A school of the third district carries out the second district's measure: two levels
    // under r1, the third district is covered too.
    let (school_plan, y) = plan(
        &hub,
        "Карта школы третьего района",
        "SCHOOL",
        &c.municipalities[2],
        &["1"],
    )
    .await;
    let body = link(&hub, &y[0], &c.m2a).await;
    assert!(body.get("errors").is_none(), "{body}");
    let link_id = body["data"]["linkMeasures"]["id"]
        .as_str()
        .expect("link id")
        .to_string();
    let (coverage, shares) = ask(admin()).await;
    assert_eq!(of(&coverage, "Третий район"), [y[0].as_str()]);
    assert_eq!(share(&shares, "Третий район"), 1);
    // Rejected, the link no longer counts. Nobody reads r1 now: the warmer computes it again
    // (r1 was read before), so the stored rows are current before the next reader comes.
    hub.gql(
        "mutation($id: ID!) { decideLink(id: $id, state: REJECTED) { state } }",
        json!({ "id": link_id }),
    )
    .await
    .expect("reject");
    let third: uuid::Uuid = c.municipalities[2].parse().expect("uuid");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (current, third_stored): (bool, bool) = sqlx::query_as(
            "SELECT computed = generation, EXISTS (SELECT 1 FROM reach WHERE root = $1 AND territory_id = $2) \
               FROM reach_root WHERE measure_id = $1",
        )
        .bind(r1)
        .bind(third)
        .fetch_one(&pool)
        .await
        .expect("r1");
        if current {
            assert!(!third_stored, "the warmer stored r1 without the rejected link");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the warmer did not compute r1 again in 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (coverage, shares) = ask(admin()).await;
    assert!(of(&coverage, "Третий район").is_empty());
    assert_eq!(share(&shares, "Третий район"), 0);

    // A measure moved to another plan (by SQL, as an administrator would) takes its links along:
    // the second district's measure moved into the third district's school plan (a draft) carries
    // r1 out there now, for the next reader who may see that draft. Only a changed plan counts.
    let generation = || {
        let pool = &pool;
        async move {
            sqlx::query_scalar::<_, i64>("SELECT generation FROM reach_root WHERE measure_id = $1")
                .bind(r1)
                .fetch_one(pool)
                .await
                .expect("r1's generation")
        }
    };
    let m2a: uuid::Uuid = c.m2a.parse().expect("uuid");
    let school_plan: uuid::Uuid = school_plan.parse().expect("uuid");
    let before = generation().await;
    sqlx::query("UPDATE measure SET plan_id = plan_id, title = title || '.' WHERE id = $1")
        .bind(m2a)
        .execute(&pool)
        .await
        .expect("update in place");
    assert_eq!(
        generation().await,
        before,
        "an update that moves nothing keeps r1's reach"
    );
    sqlx::query("UPDATE measure SET plan_id = $2, section_id = NULL WHERE id = $1")
        .bind(m2a)
        .bind(school_plan)
        .execute(&pool)
        .await
        .expect("move");
    assert!(
        generation().await > before,
        "moving a measure that implements r1 bumps r1"
    );
    let (coverage, shares) = ask(admin()).await;
    assert!(of(&coverage, "Второй район").is_empty());
    assert_eq!(of(&coverage, "Третий район"), [c.m2a.as_str()]);
    assert_eq!([share(&shares, "Второй район"), share(&shares, "Третий район")], [0, 1]);
    let (coverage, shares) = ask(None).await;
    assert!(of(&coverage, "Второй район").is_empty());
    assert!(of(&coverage, "Третий район").is_empty(), "the school's plan is a draft");
    assert_eq!([share(&shares, "Второй район"), share(&shares, "Третий район")], [0, 0]);
    hub.finish().await.expect("finish");
}
