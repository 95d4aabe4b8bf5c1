//! Class-level results through the gateway: mock exams written by classes roll up class →
//! school → municipality → region next to the official ЕГЭ figure (never into it), a school's own
//! total is not counted twice with its classes', pupils with an individual route are summed per
//! class, and bad class reports are refused naming the field.

use roadmap_common::auth::Role;
use roadmap_common::telemetry::sql_statement_count;
use roadmap_e2e::{TestHub, first_error};
use roadmap_hub::token::{TokenRequest, sign_dev};
use serde_json::{Value, json};

const ZAB: &str = "002_587447f0e4c9bb26.txt";
const RECORD: &str = "mutation($input: RecordObservationInput!) { recordObservation(input: $input) { id value \
    valueRaw numerator denominator resultSource parentTerritory { id } parentOrganisation { id } } }";
const CHILD: &str = "organisation { id name } territory { id name } value numerator denominator valueSource observed \
    rolledUp childrenWithData missingChildren rank";
const SOURCE: &str = "source value valueSource numerator denominator observed rolledUp gap status \
    childrenWithData missingChildren";

fn rollup_query() -> String {
    format!(
        "query($id: ID!, $period: Int!, $code: String!, $subject: String) {{ territory(id: $id) {{ \
         rollup(indicator: $code, period: $period, subject: $subject) {{ value source rolledUp observed numerator \
         denominator target gap status childrenWithData missingChildren children {{ {CHILD} }} \
         bySource {{ {SOURCE} children {{ {CHILD} children {{ {CHILD} children {{ {CHILD} }} }} }} }} }} }} }}"
    )
}

fn fixture(name: &str) -> String {
    let path = format!("{}/fixtures/roadmaps/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn id(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("not an id: {v}")).to_string()
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-9)
}

/// A municipality under `parent`, or a region without one.
async fn territory(hub: &TestHub, name: &str, parent: Option<&str>) -> String {
    let kind = if parent.is_some() { "MUNICIPALITY" } else { "REGION" };
    let data = hub
        .gql(
            "mutation($input: CreateTerritoryInput!) { createTerritory(input: $input) { id } }",
            json!({ "input": { "name": name, "kind": kind, "parent": parent } }),
        )
        .await
        .unwrap_or_else(|e| panic!("territory {name}: {e}"));
    id(&data["createTerritory"]["id"])
}

async fn school(hub: &TestHub, name: &str, territory: &str) -> String {
    let data = hub
        .gql(
            "mutation($t: ID!, $n: String!) { createOrganisation(input: { name: $n, kind: SCHOOL, territory: $t }) { id } }",
            json!({ "t": territory, "n": name }),
        )
        .await
        .unwrap_or_else(|e| panic!("school {name}: {e}"));
    id(&data["createOrganisation"]["id"])
}

/// Classes of `school` in 2024/25: (grade, letter, pupils); their ids in order.
async fn classes(hub: &TestHub, school: &str, wanted: &[(i32, &str, i32)]) -> Vec<String> {
    let inputs: Vec<Value> = wanted
        .iter()
        .map(|(grade, letter, pupils)| {
            json!({ "parent": school, "kind": "CLASS", "grade": grade, "letter": letter,
                    "schoolYear": "2024/25", "pupils": pupils })
        })
        .collect();
    let data = hub
        .gql(
            "mutation($inputs: [CreateUnitInput!]!) { createUnits(inputs: $inputs) { id name } }",
            json!({ "inputs": inputs }),
        )
        .await
        .expect("classes");
    data["createUnits"]
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| id(&c["id"]))
        .collect()
}

/// A new indicator by code (named for the indicators of these tests), its id.
async fn create_indicator(hub: &TestHub, code: &str, unit: &str, direction: &str, aggregation: &str) -> Value {
    let name = match code {
        "individual_routes" => "Обучающиеся с индивидуальным образовательным маршрутом",
        _ => "Доля обучающихся, не преодолевших минимальный порог баллов на ЕГЭ",
    };
    let input = json!({ "code": code, "name": name, "unit": unit, "direction": direction,
                        "aggregation": aggregation, "dimensions": ["subject"] });
    hub.gql(
        "mutation($input: CreateIndicatorInput!) { createIndicator(input: $input) { id } }",
        json!({ "input": input }),
    )
    .await
    .unwrap_or_else(|e| panic!("indicator {code}: {e}"))["createIndicator"]["id"]
        .clone()
}

async fn record(hub: &TestHub, input: Value) -> Value {
    hub.gql(RECORD, json!({ "input": input }))
        .await
        .unwrap_or_else(|e| panic!("record {input}: {e}"))["recordObservation"]
        .clone()
}

async fn rollup(hub: &TestHub, territory: &str, code: &str, period: i32, subject: Option<&str>) -> Value {
    let variables = json!({ "id": territory, "period": period, "code": code, "subject": subject });
    hub.gql(&rollup_query(), variables).await.expect("rollup")["territory"]["rollup"].clone()
}

/// A school's chemistry mock-exam rollup of 2026 (`Organisation.rollup`), through the gateway.
async fn school_rollup(hub: &TestHub, school: &str) -> Value {
    let query = "query($id: ID!) { organisation(id: $id) { rollup(indicator: \"ege_below_min\", period: 2026, \
        subject: \"chemistry\") { territory { id } organisation { id name } target \
        bySource { source value valueSource observed rolledUp numerator denominator \
          children { organisation { id name } value } } } } }";
    hub.gql(query, json!({ "id": school })).await.expect("school rollup")["organisation"]["rollup"].clone()
}

fn source<'v>(rollup: &'v Value, name: &str) -> &'v Value {
    rollup["bySource"]
        .as_array()
        .expect("bySource")
        .iter()
        .find(|s| s["source"] == name)
        .unwrap_or_else(|| panic!("no {name} in {rollup}"))
}

/// The names of a rollup node's children (a school's classes), in their order.
fn class_names(node: &Value) -> Vec<&str> {
    node["children"]
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| c["organisation"]["name"].as_str().unwrap_or_default())
        .collect()
}

fn child<'v>(node: &'v Value, id: &str) -> &'v Value {
    node["children"]
        .as_array()
        .expect("children")
        .iter()
        .find(|c| c["organisation"]["id"] == id || c["territory"]["id"] == id)
        .unwrap_or_else(|| panic!("no child {id} in {node}"))
}

#[tokio::test]
async fn class_mock_exams_roll_up_to_the_region_next_to_the_official_result() {
    let hub = TestHub::spawn().await.expect("hub");
    // 002 sets Zabaykalsky's chemistry targets (23 % by 2026, baseline 32,79 in 2023).
    let data = hub
        .gql(
            "mutation($input: ImportRoadmapInput!) { importRoadmap(input: $input) { plan { territory { id } } } }",
            json!({ "input": { "document": fixture(ZAB), "fileName": ZAB, "level": "REGIONAL",
                               "territory": "Забайкальский край", "state": "APPROVED" } }),
        )
        .await
        .expect("import 002");
    let region = id(&data["importRoadmap"]["plan"]["territory"]["id"]);
    let ege = hub
        .gql("{ indicator(code: \"ege_below_min\") { id } }", json!({}))
        .await
        .expect("indicator")["indicator"]["id"]
        .clone();
    let chita = territory(&hub, "Городской округ «Город Чита»", Some(&region)).await;
    let borzya = territory(&hub, "Борзинский район", Some(&region)).await;
    let school_1 = school(&hub, "МБОУ СОШ № 1 г. Читы", &chita).await;
    let school_2 = school(&hub, "МОУ Борзинская СОШ № 2", &borzya).await;
    let chita_classes = classes(&hub, &school_1, &[(11, "А", 20), (11, "Б", 25)]).await;
    let (a_11, b_11) = (&chita_classes[0], &chita_classes[1]);
    let borzya_11 = &classes(&hub, &school_2, &[(11, "А", 18)]).await[0];

    // The official ЕГЭ results of 2026 as the municipalities report them.
    let official = [(&chita, 30.0, 300.0), (&borzya, 20.0, 100.0)];
    for (municipality, share, participants) in official {
        record(
            &hub,
            json!({ "indicator": ege, "territory": municipality, "period": 2026, "subject": "Химия",
                    "value": share, "denominator": participants, "source": "РЦОИ" }),
        )
        .await;
    }
    let official_value = (30.0 * 300.0 + 20.0 * 100.0) / 400.0;
    let before = rollup(&hub, &region, "ege_below_min", 2026, Some("chemistry")).await;
    assert!(close(&before["value"], official_value), "{before}");

    // This year's mock exam in chemistry, per class: (class, wrote, below the minimum).
    let mock = [(b_11, 24.0, 5.0), (a_11, 20.0, 3.0), (borzya_11, 16.0, 4.0)];
    for (class, wrote, below) in mock {
        let stored = record(
            &hub,
            json!({ "indicator": ege, "organisation": class, "period": 2026, "subject": "химия",
                    "resultSource": "MOCK_EXAM", "numerator": below, "denominator": wrote }),
        )
        .await;
        assert!(close(&stored["value"], below / wrote * 100.0), "{stored}");
        assert_eq!(stored["resultSource"], "MOCK_EXAM");
        assert_eq!(
            stored["parentTerritory"],
            Value::Null,
            "a class rolls up into its school: {stored}"
        );
    }
    let stored_a = record(
        &hub,
        json!({ "indicator": ege, "organisation": a_11, "period": 2026, "subject": "химия",
                "resultSource": "MOCK_EXAM", "value": 15.0, "valueRaw": "15,0", "numerator": 3, "denominator": 20 }),
    )
    .await;
    assert_eq!(stored_a["parentOrganisation"]["id"], school_1.as_str());
    assert_eq!(stored_a["valueRaw"], "15,0");

    let r = rollup(&hub, &region, "ege_below_min", 2026, Some("chemistry")).await;
    // The official figure is what it was: the mock exam is shown next to it, not folded in.
    for field in ["value", "denominator", "rolledUp", "gap", "status", "childrenWithData"] {
        assert_eq!(r[field], before[field], "{field}: {r}");
    }
    assert!(close(&r["target"], 23.0), "002's 2026 target: {r}");
    let off = source(&r, "OFFICIAL");
    assert_eq!(r["bySource"][0]["source"], "OFFICIAL");
    assert!(
        close(&off["value"], official_value) && close(&off["denominator"], 400.0),
        "{off}"
    );
    let m = source(&r, "MOCK_EXAM");
    let (wrote, below): (f64, f64) = mock.iter().fold((0.0, 0.0), |(w, b), (_, wi, bi)| (w + wi, b + bi));
    assert!(close(&m["value"], below / wrote * 100.0), "(5+3+4)/(24+20+16): {m}");
    assert!(close(&m["numerator"], below) && close(&m["denominator"], wrote), "{m}");
    assert!(
        close(&m["gap"], below / wrote * 100.0 - 23.0),
        "against the same target: {m}"
    );
    assert_eq!(m["valueSource"], "ROLLUP");
    assert_eq!(
        (m["childrenWithData"].as_i64(), m["missingChildren"].as_i64()),
        (Some(2), Some(0))
    );
    // The way down: region → Chita → school № 1 → its two classes, names from people.
    let chita_node = child(m, &chita);
    assert_eq!(chita_node["territory"]["name"], "Городской округ «Город Чита»");
    assert!(
        close(&chita_node["value"], (5.0 + 3.0) / (24.0 + 20.0) * 100.0),
        "{chita_node}"
    );
    let school_node = child(chita_node, &school_1);
    assert_eq!(school_node["organisation"]["name"], "МБОУ СОШ № 1 г. Читы");
    assert_eq!(school_node["valueSource"], "ROLLUP");
    assert_eq!(
        class_names(school_node),
        ["11А", "11Б"],
        "best first: 15 % before 20,8 %"
    );
    // The school's own rollup (`Organisation.rollup`): its two classes, in Chita's territory.
    let s1 = school_rollup(&hub, &school_1).await;
    assert_eq!(s1["organisation"]["name"], "МБОУ СОШ № 1 г. Читы");
    assert_eq!(s1["territory"]["id"], chita.as_str());
    let sm = source(&s1, "MOCK_EXAM");
    assert!(
        close(&sm["value"], 8.0 / 44.0 * 100.0) && close(&sm["denominator"], 44.0),
        "(5+3)/(24+20): {sm}"
    );
    assert_eq!(sm["valueSource"], "ROLLUP");
    assert_eq!(class_names(sm), ["11А", "11Б"]);
    assert!(s1["target"].is_null(), "the school has no target of its own: {s1}");
    // In the official tree the municipalities count with their own values; no class is there.
    assert!(
        off["children"]
            .as_array()
            .expect("children")
            .iter()
            .all(|c| c["valueSource"] == "OBSERVED" && c["children"].as_array().is_some_and(Vec::is_empty)),
        "{off}"
    );

    // School № 1 also reports its own mock-exam total (7 of 50: every 11th-grader who wrote).
    // It counts once, with its own figure; its classes are shown under it, not added.
    record(
        &hub,
        json!({ "indicator": ege, "organisation": school_1, "period": 2026, "subject": "химия",
                "resultSource": "MOCK_EXAM", "numerator": 7, "denominator": 50 }),
    )
    .await;
    let r = rollup(&hub, &region, "ege_below_min", 2026, Some("chemistry")).await;
    let m = source(&r, "MOCK_EXAM");
    assert!(
        close(&m["numerator"], 7.0 + 4.0) && close(&m["denominator"], 50.0 + 16.0),
        "{m}"
    );
    assert!(
        close(&m["value"], (7.0 + 4.0) / (50.0 + 16.0) * 100.0),
        "not 15 of 110: {m}"
    );
    let school_node = child(child(m, &chita), &school_1);
    assert_eq!(school_node["valueSource"], "OBSERVED");
    assert!(close(&school_node["observed"], 14.0), "{school_node}");
    assert!(close(&school_node["rolledUp"], 8.0 / 44.0 * 100.0), "{school_node}");
    assert!(close(&r["value"], official_value), "the official value still: {r}");

    // Asked directly, the school's rollup shows its own total next to its classes' (as a
    // territory's does: the unit asked for is valued by its children when they have data).
    let sm = source(&school_rollup(&hub, &school_1).await, "MOCK_EXAM").clone();
    assert_eq!(sm["valueSource"], "ROLLUP");
    assert!(close(&sm["observed"], 14.0), "{sm}");
    assert!(close(&sm["value"], 8.0 / 44.0 * 100.0), "{sm}");
    // Seen from the municipality, the school is its only child, with its own total.
    let r = rollup(&hub, &chita, "ege_below_min", 2026, Some("chemistry")).await;
    let m = source(&r, "MOCK_EXAM");
    assert!(close(&m["value"], 14.0) && close(&m["denominator"], 50.0), "{m}");
    assert!(close(&r["observed"], 30.0), "Chita's own official value: {r}");
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn pupils_with_an_individual_route_are_counted_per_class_and_bad_reports_are_refused() {
    let hub = TestHub::spawn().await.expect("hub");
    let region = territory(&hub, "Забайкальский край", None).await;
    let routes = create_indicator(&hub, "individual_routes", "чел.", "HIGHER_IS_BETTER", "SUM").await;
    let chita = territory(&hub, "Городской округ «Город Чита»", Some(&region)).await;
    let school_1 = school(&hub, "МБОУ СОШ № 1 г. Читы", &chita).await;
    let ids = classes(&hub, &school_1, &[(9, "А", 25), (9, "Б", 28)]).await;
    // 9А: 3 of 25 pupils, 9Б: 2 of 28.
    let counts = [(&ids[0], 3.0, 25.0), (&ids[1], 2.0, 28.0)];
    for (class, pupils, of) in counts {
        record(
            &hub,
            json!({ "indicator": routes, "organisation": class, "period": 2025, "value": pupils, "denominator": of }),
        )
        .await;
    }
    let r = rollup(&hub, &region, "individual_routes", 2025, None).await;
    let (sum, of) = counts.iter().fold((0.0, 0.0), |(s, o), (_, p, d)| (s + p, o + d));
    assert!(close(&r["value"], sum) && close(&r["denominator"], of), "{r}");
    assert_eq!(source(&r, "OFFICIAL")["children"][0]["territory"]["id"], chita.as_str());

    // 9А's class teacher reports for 9А, and is refused for 9Б next door.
    let uuid = |s: &str| s.parse::<uuid::Uuid>().expect("uuid");
    let teacher =
        TokenRequest::new("teacher@9a", &[Role::Editor], Some(uuid(&region))).with_organisation(Some(uuid(&ids[0])));
    let teacher = sign_dev(&teacher).expect("token");
    let report = |class: &str, pupils: i32| json!({ "input": { "indicator": routes, "organisation": class, "period": 2025, "value": pupils, "denominator": 25 } });
    hub.gql_as(Some(&teacher), RECORD, report(&ids[0], 4))
        .await
        .expect("9А's teacher reports for 9А");
    let body = hub
        .request_as(Some(&teacher), RECORD, report(&ids[1], 9))
        .await
        .expect("answer");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    let r = rollup(&hub, &region, "individual_routes", 2025, None).await;
    assert!(close(&r["value"], 4.0 + counts[1].1), "9А now 4, 9Б unchanged: {r}");
    let sum = 4.0 + counts[1].1;

    // Bad reports: refused, naming the field, nothing stored.
    let ege = create_indicator(&hub, "ege_below_min", "%", "LOWER_IS_BETTER", "WEIGHTED_MEAN").await;
    let class = &ids[0];
    let bad = [
        (
            json!({ "indicator": routes, "organisation": class, "period": 2025, "value": 26, "denominator": 25 }),
            "input.value",
        ),
        (
            json!({ "indicator": ege, "organisation": class, "period": 2025, "subject": "химия", "numerator": 5, "denominator": 0 }),
            "input.denominator",
        ),
        (
            json!({ "indicator": ege, "organisation": class, "period": 2025, "subject": "химия", "numerator": 25, "denominator": 24 }),
            "input.numerator",
        ),
        (
            json!({ "indicator": ege, "organisation": class, "period": 2025, "subject": "химия", "numerator": 2.5, "denominator": 24 }),
            "input.numerator",
        ),
        (
            json!({ "indicator": ege, "organisation": class, "period": 2025, "subject": "химия", "value": 25, "numerator": 5, "denominator": 24 }),
            "input.value",
        ),
        (
            json!({ "indicator": routes, "organisation": class, "period": 2025, "numerator": 3, "denominator": 25 }),
            "input.numerator",
        ),
        (
            json!({ "indicator": ege, "organisation": class, "period": 2025, "subject": "химия", "denominator": 24 }),
            "input.value",
        ),
    ];
    for (input, field) in bad {
        let body = hub.request(RECORD, json!({ "input": input })).await.expect("answer");
        let error = first_error(&body).unwrap_or_else(|| panic!("accepted {input}: {body}"));
        assert!(error.contains(field), "{input}: {error}");
    }
    let r = rollup(&hub, &region, "individual_routes", 2025, None).await;
    assert!(close(&r["value"], sum), "unchanged: {r}");
    let r = rollup(&hub, &region, "ege_below_min", 2025, Some("chemistry")).await;
    assert_eq!(r["bySource"].as_array().map(Vec::len), Some(1), "nothing recorded: {r}");
    hub.finish().await.expect("finish");
}

/// A region of `schools` municipalities, each with one school whose `classes` classes wrote a mock
/// exam in chemistry.
async fn classes_region(hub: &TestHub, ege: &Value, name: &str, schools: usize, classes_each: usize) -> String {
    let region = territory(hub, name, None).await;
    for i in 0..schools {
        let municipality = territory(hub, &format!("{name}: район {i}"), Some(&region)).await;
        let school = school(hub, &format!("{name}: школа {i}"), &municipality).await;
        let letters = ["А", "Б", "В", "Г"];
        let wanted: Vec<(i32, &str, i32)> = letters[..classes_each].iter().map(|l| (11, *l, 25)).collect();
        for (k, class) in classes(hub, &school, &wanted).await.iter().enumerate() {
            record(
                hub,
                json!({ "indicator": ege, "organisation": class, "period": 2026, "subject": "химия",
                        "resultSource": "MOCK_EXAM", "numerator": k + 1, "denominator": 20 }),
            )
            .await;
        }
    }
    region
}

#[tokio::test]
async fn a_rollup_down_to_the_classes_costs_the_same_statements_for_a_small_and_a_large_tree() {
    let hub = TestHub::spawn().await.expect("hub");
    let ege = create_indicator(&hub, "ege_below_min", "%", "LOWER_IS_BETTER", "WEIGHTED_MEAN").await;
    let small = classes_region(&hub, &ege, "Малый край", 1, 2).await;
    let large = classes_region(&hub, &ege, "Большой край", 4, 4).await;
    hub.settle().await.expect("the event log caught up");
    let mut counts = Vec::new();
    for (region, schools, classes_each) in [(&small, 1usize, 2usize), (&large, 4, 4)] {
        let before = sql_statement_count();
        let r = rollup(&hub, region, "ege_below_min", 2026, Some("chemistry")).await;
        counts.push(sql_statement_count() - before);
        let m = source(&r, "MOCK_EXAM");
        // Class k of each school: k+1 of 20 below the minimum.
        let below: usize = (1..=classes_each).sum::<usize>() * schools;
        let wrote = (20 * classes_each * schools) as f64;
        assert!(
            close(&m["numerator"], below as f64) && close(&m["denominator"], wrote),
            "{m}"
        );
        let deepest = &m["children"][0]["children"][0]["children"];
        assert_eq!(deepest.as_array().map(Vec::len), Some(classes_each), "{m}");
    }
    assert!(counts[0] > 0, "the counter sees SQL statements: {counts:?}");
    assert_eq!(counts[0], counts[1], "statements for 1×2 and 4×4 classes: {counts:?}");
    hub.finish().await.expect("finish");
}
