//! Indicators through the gateway: seed targets and baselines loaded on import, entity extensions
//! mixing subgraphs in one query, rollups of municipalities into a region, bad input refused.

use roadmap_common::auth::Role;
use roadmap_common::telemetry::sql_statement_count;
use roadmap_e2e::{TestHub, first_error, token};
use serde_json::{Value, json};

const CREATE_TERRITORY: &str = "mutation($input: CreateTerritoryInput!) { createTerritory(input: $input) { id name } }";
const RECORD: &str = "mutation($input: RecordObservationInput!) { recordObservation(input: $input) { id value \
    valueRaw denominator period subject parentTerritory { id } } }";
const ROLLUP: &str = "query($id: ID!, $period: Int!) { territory(id: $id) { name \
    rollup(indicator: \"ege_below_min\", period: $period, subject: \"Химия\") { value source rolledUp observed \
    denominator target baseline baselinePeriod gap status childrenWithData missingChildren \
    children { territory { id name } organisation { id name } value denominator rank target gap status } } } }";

async fn territory(hub: &TestHub, name: &str, kind: &str, parent: Option<&str>) -> String {
    let data = hub
        .gql(
            CREATE_TERRITORY,
            json!({ "input": { "name": name, "kind": kind, "parent": parent } }),
        )
        .await
        .unwrap_or_else(|e| panic!("territory {name}: {e}"));
    data["createTerritory"]["id"].as_str().expect("id").to_string()
}

async fn load_seeds(hub: &TestHub) -> Vec<roadmap_plans::import::ImportSummary> {
    roadmap_hub::demo::load(hub.hub.as_ref().expect("hub"))
        .await
        .expect("demo data")
}

async fn indicator_id(hub: &TestHub, code: &str) -> String {
    let data = hub
        .gql("query($c: String) { indicator(code: $c) { id } }", json!({ "c": code }))
        .await
        .expect("indicator");
    data["indicator"]["id"].as_str().expect("indicator exists").to_string()
}

async fn region_id(hub: &TestHub, name: &str) -> String {
    let data = hub
        .gql("{ territories(kind: REGION) { id name } }", json!({}))
        .await
        .expect("regions");
    data["territories"]
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["name"] == name)
        .and_then(|t| t["id"].as_str())
        .unwrap_or_else(|| panic!("no region {name}"))
        .to_string()
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-9)
}

#[tokio::test]
async fn seed_targets_and_baselines_are_loaded_exactly_as_written_and_linked_to_their_plans() {
    let hub = TestHub::spawn().await.expect("hub");
    let summaries = load_seeds(&hub).await;

    // One gateway query: territory names from people, values from indicators, plan titles from plans.
    let data = hub
        .gql(
            "{ territories(kind: REGION) { name indicators(code: \"ege_below_min\", subject: \"chemistry\") { \
               indicator { code unit direction aggregation } subject \
               target(period: 2026) { value valueRaw kind plan { title level } } \
               baseline { period value valueRaw kind } targets { period value } } } }",
            json!({}),
        )
        .await
        .expect("query");
    let regions = data["territories"].as_array().expect("regions");
    let zab = regions
        .iter()
        .find(|t| t["name"] == "Забайкальский край")
        .expect("Забайкальский край");
    let chem = &zab["indicators"][0];
    assert_eq!(zab["indicators"].as_array().map(Vec::len), Some(1), "{zab}");
    assert_eq!(chem["indicator"]["code"], "ege_below_min");
    assert_eq!(chem["indicator"]["unit"], "%");
    assert_eq!(chem["indicator"]["direction"], "LOWER_IS_BETTER");
    assert_eq!(chem["indicator"]["aggregation"], "WEIGHTED_MEAN");
    assert_eq!(chem["subject"], "chemistry");
    assert!(close(&chem["target"]["value"], 23.0), "{chem}");
    assert_eq!(chem["target"]["valueRaw"], "23");
    assert_eq!(chem["target"]["kind"], "TARGET");
    assert_eq!(chem["target"]["plan"]["level"], "REGIONAL");
    assert!(
        chem["target"]["plan"]["title"]
            .as_str()
            .is_some_and(|t| t.contains("Забайкальском")),
        "{chem}"
    );
    assert_eq!(chem["baseline"]["period"], 2023);
    assert!(close(&chem["baseline"]["value"], 32.79), "{chem}");
    assert_eq!(chem["baseline"]["valueRaw"], "32,79");
    assert_eq!(chem["baseline"]["kind"], "BASELINE");
    let series: Vec<(i64, f64)> = chem["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            (
                t["period"].as_i64().unwrap_or(0),
                t["value"].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect();
    assert_eq!(series, vec![(2024, 30.0), (2025, 27.0), (2026, 23.0)]);

    // Every value of both plans, through Plan.targets.
    let plan_of = |title: &str| {
        summaries
            .iter()
            .find(|s| s.title.contains(title))
            .map(|s| s.plan_id.to_string())
            .unwrap_or_else(|| panic!("no plan titled …{title}…"))
    };
    let read = "query($id: ID!) { plan(id: $id) { title territory { name } targets { indicator { code } \
        subject period kind comparator value valueRaw territory { name } } } }";
    let zab_plan = hub
        .gql(read, json!({ "id": plan_of("Забайкальском") }))
        .await
        .expect("002");
    let targets = zab_plan["plan"]["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 24, "6 subjects × (2023 baseline + 3 targets)");
    assert_eq!(targets.iter().filter(|t| t["kind"] == "BASELINE").count(), 6);
    assert!(targets.iter().all(|t| t["territory"]["name"] == "Забайкальский край"));
    let raw: Vec<&str> = targets
        .iter()
        .filter(|t| t["period"] == 2023)
        .map(|t| t["valueRaw"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(raw, ["4,56", "12,6", "0,75", "16,71", "32,79", "24,91"]);
    let math_basic_2025 = targets
        .iter()
        .find(|t| t["subject"] == "math_basic" && t["period"] == 2025)
        .expect("math basic 2025");
    assert!(close(&math_basic_2025["value"], 3.3));

    let sakh = hub
        .gql(read, json!({ "id": plan_of("Сахалинской") }))
        .await
        .expect("003");
    let targets = sakh["plan"]["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 8, "{sakh}");
    assert!(targets.iter().all(|t| t["kind"] == "TARGET" && t["comparator"] == "LE"));
    assert!(targets.iter().all(|t| t["territory"]["name"] == "Сахалинская область"));
    // Goal sentences aim at the end of the plan's period.
    assert!(targets.iter().all(|t| t["period"] == 2024), "{sakh}");
    let codes: Vec<&str> = targets
        .iter()
        .map(|t| t["indicator"]["code"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(codes.iter().filter(|c| **c == "ege_below_min").count(), 6);
    assert_eq!(codes.iter().filter(|c| **c == "oge_below_min").count(), 2);
    let russian_11 = targets
        .iter()
        .find(|t| t["subject"] == "russian" && t["indicator"]["code"] == "ege_below_min")
        .expect("russian 11");
    assert_eq!(russian_11["valueRaw"], "0,3");
    let oge_math = targets
        .iter()
        .find(|t| t["subject"] == "math" && t["indicator"]["code"] == "oge_below_min")
        .expect("ОГЭ math");
    assert!(close(&oge_math["value"], 15.0));

    // Loading the seeds again changes nothing (and duplicates nothing).
    load_seeds(&hub).await;
    let again = hub
        .gql(read, json!({ "id": plan_of("Забайкальском") }))
        .await
        .expect("002 again");
    assert_eq!(again["plan"]["targets"].as_array().map(Vec::len), Some(24));
    let data = hub.gql("{ indicators { code } }", json!({})).await.expect("indicators");
    // The demo's generated cascade brings its own indicator; the seeds define exactly two.
    let seed_codes: Vec<&str> = data["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .filter_map(|i| i["code"].as_str())
        .filter(|c| !c.starts_with("generated:"))
        .collect();
    assert_eq!(seed_codes, ["ege_below_min", "oge_below_min"]);
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn regional_value_is_weighted_from_municipalities_with_gap_status_and_ranking() {
    let hub = TestHub::spawn().await.expect("hub");
    load_seeds(&hub).await;
    let region = region_id(&hub, "Забайкальский край").await;
    let chita = territory(&hub, "Городской округ «Город Чита»", "MUNICIPALITY", Some(&region)).await;
    let borzya = territory(&hub, "Борзинский район", "MUNICIPALITY", Some(&region)).await;
    let aga = territory(&hub, "Агинский район", "MUNICIPALITY", Some(&region)).await;
    let ege = indicator_id(&hub, "ege_below_min").await;
    let record = |territory: &str, period: i32, value: f64, raw: Option<&str>, participants: f64| {
        json!({ "input": { "indicator": ege, "territory": territory, "period": period, "subject": "химия",
            "value": value, "valueRaw": raw, "denominator": participants, "source": "РЦОИ", "observedOn": "2024-07-15" } })
    };
    // 2024: Chita 20 % of 300 participants, Borzya 36 % of 100; Aga reported 2023 only.
    let chita_obs = hub
        .gql(RECORD, record(&chita, 2024, 20.0, Some("20,0"), 300.0))
        .await
        .expect("chita");
    assert_eq!(chita_obs["recordObservation"]["parentTerritory"]["id"], region.as_str());
    assert_eq!(chita_obs["recordObservation"]["valueRaw"], "20,0");
    assert_eq!(chita_obs["recordObservation"]["subject"], "chemistry");
    hub.gql(RECORD, record(&borzya, 2024, 36.0, None, 100.0))
        .await
        .expect("borzya");
    hub.gql(RECORD, record(&aga, 2023, 50.0, None, 40.0))
        .await
        .expect("aga");

    let data = hub
        .gql(ROLLUP, json!({ "id": region, "period": 2024 }))
        .await
        .expect("rollup");
    assert_eq!(data["territory"]["name"], "Забайкальский край");
    let r = &data["territory"]["rollup"];
    // (20·300 + 36·100) / 400 = 24, not the unweighted 28.
    assert!(close(&r["value"], 24.0), "{r}");
    assert_eq!(r["source"], "ROLLUP");
    assert!(close(&r["denominator"], 400.0), "{r}");
    // 2024 target of 002 is 30: met, lower is better.
    assert!(close(&r["target"], 30.0), "{r}");
    assert!(close(&r["gap"], -6.0), "{r}");
    assert_eq!(r["status"], "ON_TRACK");
    assert!(close(&r["baseline"], 32.79), "{r}");
    assert_eq!(r["baselinePeriod"], 2023);
    assert_eq!(r["childrenWithData"], 2);
    assert_eq!(r["missingChildren"], 1, "Aga reported 2023 only");
    let children = r["children"].as_array().expect("children");
    let names: Vec<&str> = children
        .iter()
        .map(|c| c["territory"]["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        ["Городской округ «Город Чита»", "Борзинский район", "Агинский район"]
    );
    assert_eq!(children[0]["rank"], 1);
    assert_eq!(children[1]["rank"], 2);
    assert_eq!(children[2]["rank"], Value::Null);

    // Borzya worsens to 60 %: (20·300 + 60·100) / 400 = 30, exactly the target: still on track.
    // A changed target of 28 makes it at risk (2 over, within 10 % of 28); 25 makes it off track.
    hub.gql(RECORD, record(&borzya, 2024, 60.0, None, 100.0))
        .await
        .expect("borzya again");
    let r = hub
        .gql(ROLLUP, json!({ "id": region, "period": 2024 }))
        .await
        .expect("rollup")["territory"]["rollup"]
        .clone();
    assert!(close(&r["value"], 30.0), "{r}");
    assert_eq!(r["status"], "ON_TRACK");
    assert_eq!(r["children"][1]["territory"]["name"], "Борзинский район");
    let set = "mutation($input: SetTargetInput!) { setTarget(input: $input) { period value valueRaw kind } }";
    hub.gql(
        set,
        json!({ "input": { "indicator": ege, "territory": region, "period": 2024, "subject": "chemistry", "value": 28.0, "valueRaw": "28" } }),
    )
    .await
    .expect("set target");
    let r = hub
        .gql(ROLLUP, json!({ "id": region, "period": 2024 }))
        .await
        .expect("rollup")["territory"]["rollup"]
        .clone();
    assert!(close(&r["target"], 28.0), "the latest target wins: {r}");
    assert!(close(&r["gap"], 2.0), "{r}");
    assert_eq!(r["status"], "AT_RISK", "2 over a target of 28 is within 10 %");
    hub.gql(
        set,
        json!({ "input": { "indicator": ege, "territory": region, "period": 2024, "subject": "chemistry", "value": 25.0 } }),
    )
    .await
    .expect("change target");
    let r = hub
        .gql(ROLLUP, json!({ "id": region, "period": 2024 }))
        .await
        .expect("rollup")["territory"]["rollup"]
        .clone();
    assert_eq!(r["status"], "OFF_TRACK", "{r}");

    // A municipality rolls up from its schools.
    let school = hub
        .gql(
            "mutation($t: ID!) { createOrganisation(input: { name: \"МБОУ СОШ № 1 г. Читы\", kind: SCHOOL, territory: $t }) { id } }",
            json!({ "t": chita }),
        )
        .await
        .expect("school")["createOrganisation"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let school_obs = hub
        .gql(
            RECORD,
            json!({ "input": { "indicator": ege, "organisation": school, "period": 2024, "subject": "Химия", "value": 10.0, "denominator": 30.0 } }),
        )
        .await
        .expect("school observation");
    assert_eq!(school_obs["recordObservation"]["parentTerritory"]["id"], chita.as_str());
    let data = hub
        .gql(ROLLUP, json!({ "id": chita, "period": 2024 }))
        .await
        .expect("municipal rollup");
    let r = &data["territory"]["rollup"];
    assert!(close(&r["rolledUp"], 10.0), "{r}");
    assert!(
        close(&r["observed"], 20.0),
        "the municipality's own value is kept apart: {r}"
    );
    assert_eq!(r["children"][0]["organisation"]["name"], "МБОУ СОШ № 1 г. Читы");

    // The series over periods.
    let data = hub
        .gql(
            "query($id: ID!) { territory(id: $id) { series(indicator: \"ege_below_min\", subject: \"chemistry\") { period value target status } } }",
            json!({ "id": region }),
        )
        .await
        .expect("series");
    let series = data["territory"]["series"].as_array().expect("series");
    let periods: Vec<i64> = series.iter().filter_map(|p| p["period"].as_i64()).collect();
    assert_eq!(periods, [2023, 2024, 2025, 2026]);
    assert!(close(&series[0]["value"], 50.0), "2023: Aga alone: {}", series[0]);
    assert_eq!(series[0]["target"], Value::Null);
    assert_eq!(series[2]["value"], Value::Null);
    assert!(close(&series[3]["target"], 23.0));
    hub.finish().await.expect("finish");
}

async fn region_with_municipalities(hub: &TestHub, ege: &str, name: &str, n: usize) -> String {
    let region = territory(hub, name, "REGION", None).await;
    for i in 0..n {
        let m = territory(hub, &format!("{name}: район {i}"), "MUNICIPALITY", Some(&region)).await;
        hub.gql(
            RECORD,
            json!({ "input": { "indicator": ege, "territory": m, "period": 2024, "subject": "chemistry",
                "value": (i % 50) as f64, "denominator": 10.0 + i as f64 } }),
        )
        .await
        .expect("observation");
    }
    hub.gql(
        "mutation($input: SetTargetInput!) { setTarget(input: $input) { id } }",
        json!({ "input": { "indicator": ege, "territory": region, "period": 2024, "subject": "chemistry", "value": 20.0 } }),
    )
    .await
    .expect("target");
    region
}

#[tokio::test]
async fn rollup_sql_statements_do_not_grow_with_the_number_of_territories() {
    let hub = TestHub::spawn().await.expect("hub");
    let ege = hub
        .gql(
            "mutation { createIndicator(input: { code: \"ege_below_min\", name: \"Доля ниже порога ЕГЭ\", unit: \"%\", \
               direction: LOWER_IS_BETTER, aggregation: WEIGHTED_MEAN, dimensions: [\"subject\"] }) { id } }",
            json!({}),
        )
        .await
        .expect("indicator")["createIndicator"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let small = region_with_municipalities(&hub, &ege, "Малый край", 3).await;
    let large = region_with_municipalities(&hub, &ege, "Большой край", 30).await;
    // The events consumer logs those writes' events in the background (asking people for each
    // new territory's ancestry): let it finish, so its statements are not counted.
    hub.settle().await.expect("the event log caught up");
    let query = "query($id: ID!) { territory(id: $id) { name rollup(indicator: \"ege_below_min\", period: 2024, subject: \"chemistry\") { \
        value target status children { territory { name } value rank status } } \
        indicators { indicator { code } targets { value plan { id } } observations { value } } } }";
    let mut counts = Vec::new();
    for (region, n) in [(&small, 3usize), (&large, 30)] {
        let before = sql_statement_count();
        let data = hub.gql(query, json!({ "id": region })).await.expect("rollup");
        counts.push(sql_statement_count() - before);
        let children = data["territory"]["rollup"]["children"].as_array().expect("children");
        assert_eq!(children.len(), n);
        assert!(
            children
                .iter()
                .all(|c| c["territory"]["name"].as_str().is_some_and(|s| s.contains("район")))
        );
        assert!(data["territory"]["rollup"]["value"].as_f64().is_some());
        assert_eq!(data["territory"]["rollup"]["target"], 20.0);
    }
    assert!(counts[0] > 0, "the counter sees SQL statements: {counts:?}");
    assert_eq!(
        counts[0], counts[1],
        "SQL statements for 3 and 30 municipalities: {counts:?}"
    );

    // Both regions in one request cost what one does.
    let both = "query { territories(kind: REGION) { rollup(indicator: \"ege_below_min\", period: 2024, subject: \"chemistry\") { value children { territory { name } } } } }";
    let before = sql_statement_count();
    let data = hub.gql(both, json!({})).await.expect("both");
    let used = sql_statement_count() - before;
    assert_eq!(data["territories"].as_array().map(Vec::len), Some(2));
    assert!(
        used <= counts[0] + 1,
        "two regions: {used} statements, one: {}",
        counts[0]
    );
    hub.finish().await.expect("finish");
}

/// Every figure of a territory's rollup, every source, two levels down.
const KEPT_ROLLUP: &str = "query($id: ID!, $period: Int!, $subject: String) { territory(id: $id) { \
    rollup(indicator: \"ege_below_min\", period: $period, subject: $subject) { period value source rolledUp \
    observed numerator denominator target gap status childrenWithData missingChildren \
    children { territory { id } organisation { id } value rank target gap status missingChildren \
      children { organisation { id } value valueSource rank } } \
    bySource { source value missingChildren children { territory { id } value rank missingChildren \
      children { organisation { id } value rank children { organisation { id } value } } } } } } }";

#[tokio::test]
async fn kept_rollups_follow_every_write_and_a_period_reads_as_in_the_series() {
    let hub = TestHub::spawn().await.expect("hub");
    let ege = hub
        .gql(
            "mutation { createIndicator(input: { code: \"ege_below_min\", name: \"Доля ниже порога ЕГЭ\", unit: \"%\", \
               direction: LOWER_IS_BETTER, aggregation: WEIGHTED_MEAN, dimensions: [\"subject\"] }) { id } }",
            json!({}),
        )
        .await
        .expect("indicator")["createIndicator"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let region = territory(&hub, "Край", "REGION", None).await;
    let mut m = Vec::new();
    for name in ["Район 0", "Район 1", "Район 2"] {
        m.push(territory(&hub, name, "MUNICIPALITY", Some(&region)).await);
    }
    let school = hub
        .gql(
            "mutation($t: ID!) { createOrganisation(input: { name: \"Школа № 1\", kind: SCHOOL, territory: $t }) { id } }",
            json!({ "t": m[0] }),
        )
        .await
        .expect("school")["createOrganisation"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let record = |place: (&str, &str), period: i32, subject: &str, source: &str, value: f64, denominator: f64| {
        let (key, id) = place;
        json!({ "input": { "indicator": ege, key: id, "period": period, "subject": subject, "resultSource": source,
            "value": value, "denominator": denominator } })
    };
    // Район 0 and 1 report 2024 chemistry, Район 2 only 2023 (missing in 2024); Район 0's school
    // reports chemistry (official and a mock exam) and russian.
    for input in [
        record(("territory", &m[0]), 2024, "chemistry", "OFFICIAL", 20.0, 300.0),
        record(("territory", &m[1]), 2024, "chemistry", "OFFICIAL", 36.0, 100.0),
        record(("territory", &m[2]), 2023, "chemistry", "OFFICIAL", 50.0, 40.0),
        record(("organisation", &school), 2024, "chemistry", "OFFICIAL", 10.0, 30.0),
        record(("organisation", &school), 2024, "chemistry", "MOCK_EXAM", 15.0, 20.0),
        record(("organisation", &school), 2023, "russian", "OFFICIAL", 5.0, 25.0),
    ] {
        hub.gql(RECORD, input).await.expect("observation");
    }
    hub.settle().await.expect("the event log caught up");
    let rollup = |period: i32| {
        let hub = &hub;
        let region = region.clone();
        async move {
            let before = sql_statement_count();
            let data = hub
                .gql(
                    KEPT_ROLLUP,
                    json!({ "id": region, "period": period, "subject": "chemistry" }),
                )
                .await
                .expect("rollup");
            (data["territory"]["rollup"].clone(), sql_statement_count() - before)
        }
    };

    // Built once, then kept: the same answer without reading the observations again.
    let (first, cold) = rollup(2024).await;
    let (again, kept) = rollup(2024).await;
    assert_eq!(again, first);
    assert_eq!(
        kept + 1,
        cold,
        "a kept rollup reads no observation: {kept} and {cold} statements"
    );
    assert!(close(&first["value"], 24.0), "(20·300 + 36·100) / 400: {first}");
    assert_eq!(
        (first["childrenWithData"].as_i64(), first["missingChildren"].as_i64()),
        (Some(2), Some(1))
    );
    let mock = &first["bySource"][1];
    assert_eq!(mock["source"], "MOCK_EXAM");
    assert!(close(&mock["value"], 15.0), "{mock}");

    // A rollup asked for one period is that period's entry of the series, the kept index or not.
    let series = hub
        .gql(
            "query($id: ID!) { territory(id: $id) { series(indicator: \"ege_below_min\", subject: \"chemistry\") { \
               period value source missingChildren children { territory { id } value rank } } } }",
            json!({ "id": region }),
        )
        .await
        .expect("series")["territory"]["series"]
        .clone();
    let periods: Vec<i64> = series
        .as_array()
        .expect("series")
        .iter()
        .filter_map(|p| p["period"].as_i64())
        .collect();
    assert_eq!(periods, [2023, 2024]);
    for entry in series.as_array().expect("series") {
        let (r, _) = rollup(entry["period"].as_i64().expect("period") as i32).await;
        for field in ["value", "source", "missingChildren"] {
            assert_eq!(r[field], entry[field], "{field} of {entry}");
        }
        let children = |v: &Value| -> Vec<(Value, Value, Value)> {
            v["children"]
                .as_array()
                .expect("children")
                .iter()
                .map(|c| (c["territory"]["id"].clone(), c["value"].clone(), c["rank"].clone()))
                .collect()
        };
        assert_eq!(children(&r), children(entry));
    }

    // A recorded value is seen at once, in its unit and above.
    hub.gql(
        RECORD,
        record(("territory", &m[1]), 2024, "chemistry", "OFFICIAL", 60.0, 100.0),
    )
    .await
    .expect("changed");
    let (r, _) = rollup(2024).await;
    assert!(close(&r["value"], 30.0), "(20·300 + 60·100) / 400: {r}");
    hub.gql(
        RECORD,
        record(("organisation", &school), 2024, "chemistry", "MOCK_EXAM", 25.0, 20.0),
    )
    .await
    .expect("mock changed");
    let (r, _) = rollup(2024).await;
    assert!(close(&r["bySource"][1]["value"], 25.0), "{r}");

    // So is a write made outside the API: updated, deleted, truncated.
    let mut conn = roadmap_common::db::connect_one(&hub.database_url)
        .await
        .expect("connect");
    sqlx::query("UPDATE indicators.observation SET value = 40, value_raw = '40' WHERE territory_id = $1::uuid AND period = 2024")
        .bind(&m[1])
        .execute(&mut conn)
        .await
        .expect("update");
    let (r, _) = rollup(2024).await;
    assert!(close(&r["value"], 25.0), "(20·300 + 40·100) / 400: {r}");
    sqlx::query("DELETE FROM indicators.observation WHERE territory_id = $1::uuid")
        .bind(&m[2])
        .execute(&mut conn)
        .await
        .expect("delete");
    let (r, _) = rollup(2024).await;
    assert_eq!(
        (r["childrenWithData"].as_i64(), r["missingChildren"].as_i64()),
        (Some(2), Some(0)),
        "{r}"
    );
    assert_eq!(
        r["children"].as_array().map(Vec::len),
        Some(2),
        "Район 2 reported nothing left: {r}"
    );
    sqlx::query("TRUNCATE indicators.observation")
        .execute(&mut conn)
        .await
        .expect("truncate");
    let (r, _) = rollup(2024).await;
    assert_eq!(
        (r["value"].clone(), r["children"].as_array().map(Vec::len)),
        (Value::Null, Some(0)),
        "{r}"
    );
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn measures_link_to_indicators_both_ways_across_subgraphs() {
    let hub = TestHub::spawn().await.expect("hub");
    let summaries = load_seeds(&hub).await;
    let plan = summaries
        .iter()
        .find(|s| s.title.contains("Забайкальском"))
        .expect("002")
        .plan_id
        .to_string();
    let data = hub
        .gql(
            "query($id: ID!) { plan(id: $id) { measures { id number } } }",
            json!({ "id": plan }),
        )
        .await
        .expect("measures");
    let measure = data["plan"]["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .find(|m| m["number"] == "2.3.")
        .expect("measure 2.3")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let ege = indicator_id(&hub, "ege_below_min").await;
    let link = "mutation($m: ID!, $i: ID!) { linkMeasureToIndicator(measure: $m, indicator: $i) { id number contributesTo { code } } }";
    let linked = hub.gql(link, json!({ "m": measure, "i": ege })).await.expect("link");
    assert_eq!(linked["linkMeasureToIndicator"]["number"], "2.3.");
    assert_eq!(
        linked["linkMeasureToIndicator"]["contributesTo"],
        json!([{ "code": "ege_below_min" }])
    );
    hub.gql(link, json!({ "m": measure, "i": ege }))
        .await
        .expect("idempotent");
    let data = hub
        .gql(
            "query($id: ID!) { plan(id: $id) { measures { number contributesTo { code } } } \
               indicator(code: \"ege_below_min\") { measures { number title plan { title } } } }",
            json!({ "id": plan }),
        )
        .await
        .expect("both ways");
    let with_links: Vec<&Value> = data["plan"]["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .filter(|m| !m["contributesTo"].as_array().is_none_or(Vec::is_empty))
        .collect();
    assert_eq!(with_links.len(), 1);
    assert_eq!(with_links[0]["number"], "2.3.");
    let back = data["indicator"]["measures"].as_array().expect("back");
    assert_eq!(back.len(), 1);
    assert_eq!(back[0]["number"], "2.3.");
    assert!(
        back[0]["plan"]["title"]
            .as_str()
            .is_some_and(|t| t.contains("Забайкальском"))
    );

    let body = hub
        .request(link, json!({ "m": measure, "i": uuid::Uuid::new_v4().to_string() }))
        .await
        .expect("unknown indicator");
    assert!(
        first_error(&body).is_some_and(|m| m.starts_with("indicator: unknown indicator")),
        "{body}"
    );

    // The territory of the measure's plan is checked, not only the role: an editor of another
    // region is refused (and nothing is linked), one of the plan's region may link.
    let own = region_id(&hub, "Забайкальский край").await;
    let other = territory(&hub, "Соседний край", "REGION", None).await;
    let uuid = |t: &str| Some(uuid::Uuid::parse_str(t).expect("territory id"));
    let outsider = token("editor@other", &[Role::Editor], uuid(&other));
    let insider = token("editor@own", &[Role::Editor], uuid(&own));
    let oge = indicator_id(&hub, "oge_below_min").await;
    let vars = json!({ "m": measure, "i": oge });
    let body = hub
        .request_as(Some(&outsider), link, vars.clone())
        .await
        .expect("outsider");
    let err = first_error(&body).unwrap_or_default();
    assert!(
        err.starts_with("forbidden: linking a measure to an indicator") && err.contains(&own),
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    let data = hub
        .gql(
            "query($id: ID!) { measure(id: $id) { contributesTo { code } } }",
            json!({ "id": measure }),
        )
        .await
        .expect("links after the refusal");
    assert_eq!(data["measure"]["contributesTo"], json!([{ "code": "ege_below_min" }]));
    let linked = hub.gql_as(Some(&insider), link, vars).await.expect("insider links");
    let codes: Vec<&str> = linked["linkMeasureToIndicator"]["contributesTo"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(|c| c["code"].as_str())
        .collect();
    assert!(codes.contains(&"oge_below_min"), "{linked}");
    let body = hub
        .request_as(
            Some(&insider),
            link,
            json!({ "m": uuid::Uuid::new_v4().to_string(), "i": oge }),
        )
        .await
        .expect("unknown measure");
    assert!(
        first_error(&body).is_some_and(|m| m.starts_with("measure: measure ") && m.ends_with("does not exist")),
        "{body}"
    );
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn bad_observations_and_targets_are_refused_with_the_field_named_and_nothing_stored() {
    let hub = TestHub::spawn().await.expect("hub");
    let ind = hub
        .gql(
            "mutation { createIndicator(input: { code: \"share_low\", name: \"Доля\", unit: \"%\", direction: LOWER_IS_BETTER, \
               aggregation: WEIGHTED_MEAN, periodFrom: 2023, periodTo: 2026 }) { id minValue maxValue } }",
            json!({}),
        )
        .await
        .expect("indicator")["createIndicator"]
        .clone();
    assert_eq!(ind["minValue"], 0.0);
    assert_eq!(ind["maxValue"], 100.0);
    let ind = ind["id"].as_str().expect("id").to_string();
    let region = territory(&hub, "Сахалинская область", "REGION", None).await;
    let good = json!({ "indicator": ind, "territory": region, "period": 2024, "value": 12.5, "denominator": 80.0 });
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "indicator",
            json!(uuid::Uuid::new_v4().to_string()),
            "input.indicator: unknown indicator",
        ),
        ("indicator", json!("nope"), "input.indicator: `nope` is not a valid id"),
        (
            "period",
            json!(2030),
            "input.period: 2030 is outside the periods of `share_low` (2023–2026)",
        ),
        (
            "value",
            json!(-1.5),
            "input.value: -1.5 is below the minimum 0 of `share_low` (%)",
        ),
        ("value", json!(101), "input.value: 101 is above the maximum 100"),
        ("denominator", json!(0), "input.denominator: 0 is not greater than 0"),
        ("denominator", Value::Null, "input.denominator: is required"),
        ("valueRaw", json!("12,6"), "input.valueRaw: `12,6` is not 12.5"),
        (
            "territory",
            json!(uuid::Uuid::new_v4().to_string()),
            "input.territory: territory",
        ),
    ];
    for (field, value, expected) in cases {
        let mut input = good.clone();
        input[field] = value;
        let body = hub.request(RECORD, json!({ "input": input })).await.expect("request");
        let message = first_error(&body).unwrap_or_else(|| panic!("{field}: no error: {body}"));
        assert!(message.starts_with(expected), "{field}: {message}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    }
    let stored = "query($id: ID!) { territory(id: $id) { indicators { observations { value } targets { value } } } }";
    let data = hub.gql(stored, json!({ "id": region })).await.expect("stored");
    assert_eq!(data["territory"]["indicators"], json!([]), "nothing was stored");

    // Plan targets: one bad value refuses the whole call.
    let plan = uuid::Uuid::new_v4().to_string();
    let record_plan = "mutation($plan: ID!, $t: ID, $targets: [PlanTargetInput!]!) { \
        recordPlanTargets(plan: $plan, territory: $t, periodEnd: \"2026-12-31\", targets: $targets) { value } }";
    let target = |raw: &str, year: Option<i32>| {
        json!({ "indicator": "Доля обучающихся, не преодолевших минимальный порог баллов на ЕГЭ, %", "subject": "Химия",
            "subjectKey": "Chemistry", "exam": "ЕГЭ", "grade": 11, "year": year, "comparator": "Eq", "valueRaw": raw })
    };
    for (targets, expected) in [
        (
            json!([target("30", Some(2024)), target("-3", Some(2025))]),
            "targets[1].valueRaw: -3 is below the minimum 0",
        ),
        (
            json!([target("3O", Some(2024))]),
            "targets[0].valueRaw: `3O` is not a number",
        ),
        (
            json!([target("30", Some(2024)), target("27", Some(2024))]),
            "targets[1]: repeats the target of ege_below_min for 2024",
        ),
        (
            json!([{ "indicator": "Средний балл", "valueRaw": "60", "year": 2024 }]),
            "targets[0].indicator:",
        ),
    ] {
        let body = hub
            .request(record_plan, json!({ "plan": plan, "t": region, "targets": targets }))
            .await
            .expect("request");
        let message = first_error(&body).unwrap_or_else(|| panic!("no error: {body}"));
        assert!(message.starts_with(expected), "{message}");
    }
    let data = hub.gql(stored, json!({ "id": region })).await.expect("stored");
    assert_eq!(data["territory"]["indicators"], json!([]), "no target was stored");

    // Unknown indicator code in a rollup.
    let body = hub
        .request(
            "query($id: ID!) { territory(id: $id) { rollup(indicator: \"nope\", period: 2024) { value } } }",
            json!({ "id": region }),
        )
        .await
        .expect("request");
    assert_eq!(
        first_error(&body).as_deref(),
        Some("indicator: unknown indicator `nope`")
    );

    // And the good input is accepted.
    hub.gql(RECORD, json!({ "input": good }))
        .await
        .expect("good observation");
    let data = hub.gql(stored, json!({ "id": region })).await.expect("stored");
    assert_eq!(
        data["territory"]["indicators"][0]["observations"],
        json!([{ "value": 12.5 }])
    );
    hub.finish().await.expect("finish");
}
