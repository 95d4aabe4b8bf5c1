//! The federated skeleton end to end: plans and people through one gateway.

use roadmap_common::telemetry::sql_statement_count;
use roadmap_e2e::{TestHub, first_error};
use roadmap_hub::targets::{Hub, Target};
use serde_json::{Value, json};

const CREATE_ORG: &str = "mutation($input: CreateOrganisationInput!) { createOrganisation(input: $input) { id name } }";
const CREATE_PLAN: &str = "mutation($input: CreatePlanInput!) { createPlan(input: $input) { id title } }";
const READ_PLAN: &str = "query($id: ID!) { plan(id: $id) { title level periodStart sections { number title \
    measures { number title scheduleText responsible { id name abbreviations } } } } }";

async fn create_org(hub: &TestHub, name: &str, abbreviation: &str) -> String {
    let data = hub
        .gql(
            CREATE_ORG,
            json!({ "input": { "name": name, "kind": "METHODOLOGICAL_CENTRE", "abbreviations": [abbreviation] } }),
        )
        .await
        .expect("create organisation");
    data["createOrganisation"]["id"].as_str().expect("id").to_string()
}

/// A plan of `n` measures in two sections, each measure with two responsible organisations.
fn plan_input(title: &str, n: usize, orgs: &[String]) -> Value {
    // Two distinct organisations per measure when there are two to choose from.
    let responsible = |i: usize| -> Vec<&String> {
        let mut picked: Vec<&String> = Vec::new();
        for k in 0..orgs.len().min(2) {
            picked.push(&orgs[(i + k) % orgs.len()]);
        }
        picked
    };
    let measures = |from: usize, to: usize| -> Vec<Value> {
        (from..to)
            .map(|i| {
                json!({
                    "number": format!("{}.{}", if i < n / 2 { 1 } else { 2 }, i + 1),
                    "title": format!("Мероприятие {i}"),
                    "scheduleText": "октябрь 2023 г. – март 2024 г. еженедельно",
                    "responsible": responsible(i),
                })
            })
            .collect()
    };
    json!({
        "title": title,
        "level": "MUNICIPAL",
        "periodStart": "2023-09-01",
        "periodEnd": "2024-08-31",
        "periodText": "2023/2024 учебный год",
        "sections": [
            { "number": "1", "title": "Организационные мероприятия", "measures": measures(0, n / 2) },
            { "number": "2", "title": "Работа с педагогами", "measures": measures(n / 2, n) },
        ],
    })
}

#[tokio::test]
async fn plan_with_measures_and_responsible_names_in_one_gateway_request() {
    let hub = TestHub::spawn().await.expect("hub");
    let imc = create_org(&hub, "Информационно-методический центр", "МБУ ИМЦ").await;
    let uo = create_org(&hub, "Управление образования", "УО").await;
    let created = hub
        .gql(
            CREATE_PLAN,
            json!({ "input": plan_input("Дорожная карта", 4, &[imc.clone(), uo.clone()]) }),
        )
        .await
        .expect("create plan");
    let id = created["createPlan"]["id"].as_str().expect("plan id");

    let data = hub.gql(READ_PLAN, json!({ "id": id })).await.expect("read plan");
    let plan = &data["plan"];
    assert_eq!(plan["title"], "Дорожная карта");
    assert_eq!(plan["level"], "MUNICIPAL");
    assert_eq!(plan["periodStart"], "2023-09-01");
    let sections = plan["sections"].as_array().expect("sections");
    assert_eq!(sections.len(), 2);
    let numbers: Vec<&str> = sections
        .iter()
        .flat_map(|s| s["measures"].as_array().into_iter().flatten())
        .map(|m| m["number"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(numbers, ["1.1", "1.2", "2.3", "2.4"]);
    // Names come from the people subgraph, in the order the plan lists them.
    let first = &sections[0]["measures"][0]["responsible"];
    assert_eq!(first[0]["name"], "Информационно-методический центр");
    assert_eq!(first[0]["abbreviations"], json!(["МБУ ИМЦ"]));
    assert_eq!(first[1]["name"], "Управление образования");
    assert_eq!(sections[0]["measures"][1]["responsible"][0]["id"], uo.as_str());
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn sql_statements_do_not_grow_with_the_number_of_measures() {
    let hub = TestHub::spawn().await.expect("hub");
    let orgs: Vec<String> = futures_orgs(&hub, 6).await;
    let mut counts = Vec::new();
    for n in [4usize, 40] {
        let created = hub
            .gql(
                CREATE_PLAN,
                json!({ "input": plan_input(&format!("План на {n}"), n, &orgs) }),
            )
            .await
            .expect("create plan");
        let id = created["createPlan"]["id"].as_str().expect("id").to_string();
        hub.settle().await.expect("the event log caught up");
        let before = sql_statement_count();
        let data = hub.gql(READ_PLAN, json!({ "id": id })).await.expect("read");
        let used = sql_statement_count() - before;
        let names = data["plan"]["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .flat_map(|s| s["measures"].as_array().cloned().unwrap_or_default())
            .flat_map(|m| m["responsible"].as_array().cloned().unwrap_or_default())
            .filter(|o| o["name"].as_str().is_some_and(|n| n.starts_with("Организация")))
            .count();
        assert_eq!(names, 2 * n, "every measure shows two resolved names");
        counts.push(used);
    }
    assert!(counts[0] > 0, "the counter sees SQL statements: {counts:?}");
    assert_eq!(counts[0], counts[1], "SQL statements for 4 and 40 measures: {counts:?}");
    hub.finish().await.expect("finish");
}

async fn futures_orgs(hub: &TestHub, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(create_org(hub, &format!("Организация {i}"), &format!("ОРГ{i}")).await);
    }
    ids
}

#[tokio::test]
async fn create_plan_is_all_or_nothing_and_names_the_bad_field() {
    let hub = TestHub::spawn().await.expect("hub");
    let mut input = plan_input("Неполный план", 4, &[uuid::Uuid::new_v4().to_string()]);
    input["sections"][1]["measures"][1]["title"] = json!("   ");
    let body = hub
        .request(CREATE_PLAN, json!({ "input": input }))
        .await
        .expect("request");
    let message = first_error(&body).expect("an error");
    assert_eq!(message, "input.sections[1].measures[1].title: must not be empty");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    let mut input = plan_input("План с плохим id", 2, &["not-an-id".to_string()]);
    input["title"] = json!("План с плохим id");
    let body = hub
        .request(CREATE_PLAN, json!({ "input": input }))
        .await
        .expect("request");
    let message = first_error(&body).expect("an error");
    assert!(
        message.starts_with("input.sections[0].measures[0].responsible[0]:"),
        "{message}"
    );

    let mut input = plan_input("Перепутанный период", 2, &[]);
    input["periodStart"] = json!("2024-09-01");
    let body = hub
        .request(CREATE_PLAN, json!({ "input": input }))
        .await
        .expect("request");
    assert!(first_error(&body).expect("an error").starts_with("input.periodEnd:"));

    let data = hub
        .gql("{ plans { edges { node { id } } } }", json!({}))
        .await
        .expect("list");
    assert_eq!(
        data["plans"]["edges"],
        json!([]),
        "nothing of the refused plans was stored"
    );
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn plans_page_and_filter_by_level_and_territory() {
    let hub = TestHub::spawn().await.expect("hub");
    let region = hub
        .gql(
            "mutation { createTerritory(input: { name: \"Забайкальский край\", kind: REGION }) { id } }",
            json!({}),
        )
        .await
        .expect("territory")["createTerritory"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    for (title, level) in [("А план", "MUNICIPAL"), ("Б план", "REGIONAL"), ("В план", "MUNICIPAL")] {
        let mut input = plan_input(title, 2, &[]);
        input["level"] = json!(level);
        if level == "REGIONAL" {
            input["territory"] = json!(region);
        }
        hub.gql(CREATE_PLAN, json!({ "input": input })).await.expect("create");
    }
    let page = "query($after: String) { plans(first: 1, level: MUNICIPAL, after: $after) { \
        edges { cursor node { title } } pageInfo { hasNextPage } } }";
    let first = hub.gql(page, json!({})).await.expect("page 1");
    assert_eq!(first["plans"]["edges"][0]["node"]["title"], "А план");
    assert_eq!(first["plans"]["pageInfo"]["hasNextPage"], true);
    let cursor = first["plans"]["edges"][0]["cursor"].clone();
    let second = hub.gql(page, json!({ "after": cursor })).await.expect("page 2");
    assert_eq!(second["plans"]["edges"][0]["node"]["title"], "В план");
    assert_eq!(second["plans"]["pageInfo"]["hasNextPage"], false);

    let by_territory = hub
        .gql(
            "query($t: ID!) { plans(territory: $t) { edges { node { title territory { id name } } } } }",
            json!({ "t": region }),
        )
        .await
        .expect("by territory");
    assert_eq!(by_territory["plans"]["edges"][0]["node"]["title"], "Б план");
    assert_eq!(
        by_territory["plans"]["edges"][0]["node"]["territory"]["name"],
        "Забайкальский край"
    );
    assert_eq!(by_territory["plans"]["edges"].as_array().map(Vec::len), Some(1));

    let body = hub
        .request("{ plans(after: \"zz\") { edges { cursor } } }", json!({}))
        .await
        .expect("bad cursor");
    assert_eq!(
        first_error(&body).as_deref(),
        Some("after: is not a cursor returned by this API")
    );
    hub.finish().await.expect("finish");
}

/// Split deployment: subgraphs in one hub, the gateway in another pointed at them by URL.
#[tokio::test]
async fn split_targets_serve_the_same_api() {
    let subgraphs = TestHub::spawn_targets(&Target::subgraphs()).await.expect("subgraphs");
    let sub_hub = subgraphs.hub.as_ref().expect("hub");
    let mut config = roadmap_hub::targets::ephemeral_config(subgraphs.database_url.clone());
    config.gateway_secret = sub_hub.secret().clone();
    for target in Target::subgraphs() {
        config
            .remote_urls
            .insert(target.name().to_string(), sub_hub.graphql_url(target).expect("url"));
    }
    let gateway = Hub::start(&config, &[Target::GATEWAY]).await.expect("gateway");
    assert!(
        gateway.pool(Target::PLANS).is_none(),
        "the gateway target opens no database"
    );
    let url = gateway.graphql_url(Target::GATEWAY).expect("gateway url");
    let body: Value = reqwest::Client::new()
        .post(&url)
        .bearer_auth(roadmap_e2e::admin_token())
        .json(&json!({ "query": "mutation { createTerritory(input: { name: \"Сахалинская область\", kind: REGION }) { name kind } }" }))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(body["data"]["createTerritory"]["name"], "Сахалинская область", "{body}");
    gateway.shutdown().await.expect("gateway shutdown");
    subgraphs.finish().await.expect("finish");
}

#[tokio::test]
async fn every_subgraph_answers_through_the_gateway() {
    let hub = TestHub::spawn().await.expect("hub");
    let data = hub
        .gql(
            "mutation { createIndicator(input: { code: \"ege_below_min\", name: \"Доля не преодолевших минимальный порог ЕГЭ\", unit: \"%\" }) { code } }",
            json!({}),
        )
        .await
        .expect("indicator");
    assert_eq!(data["createIndicator"]["code"], "ege_below_min");
    let data = hub
        .gql(
            "{ indicators { code unit } events(first: 10) { id } territories { id } }",
            json!({}),
        )
        .await
        .expect("query");
    assert_eq!(data["indicators"], json!([{ "code": "ege_below_min", "unit": "%" }]));
    assert_eq!(data["events"], json!([]));
    let body = hub
        .request("{ events(after: \"x\") { id } }", json!({}))
        .await
        .expect("bad cursor");
    assert_eq!(first_error(&body).as_deref(), Some("after: `x` is not an event cursor"));
    hub.finish().await.expect("finish");
}
