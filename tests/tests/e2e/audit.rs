//! The auditor's questions through the gateway ("what is missing", page 5 of the web target):
//! `Territory.measureCounts`, `coverageGaps`, `childrenWithoutPlan`, `overdueMeasures`,
//! `staleMeasures(days)` and `Measure.updatedAt`, with drafts counted only for those who may see
//! them, and their SQL statements not growing with the number of territories; and the web
//! target's "what is missing" page and its CSV tables from the same data.
//!
//! The expected numbers are read from the data through the fields that existed before
//! (`plans { measures { status } }`, `Measure.coverage`), never from the fields under test.

use std::collections::{BTreeMap, BTreeSet};

use roadmap_common::telemetry::sql_statement_count;
use roadmap_e2e::{TestHub, create_plan, ensure_territory as territory, first_error};
use roadmap_hub::targets::Target;
use serde_json::{Value, json};

const ZAB: &str = "002_587447f0e4c9bb26.txt";
const LINK: &str = "mutation($m: ID!, $i: ID!) { linkMeasures(measure: $m, implements: $i) { state } }";

fn fixture(name: &str) -> String {
    let path = format!("{}/fixtures/roadmaps/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn id(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("not an id: {v}")).to_string()
}

/// A plan of one section; returns (plan id, measure ids).
async fn plan(hub: &TestHub, title: &str, territory: &str, state: &str, measures: &[&str]) -> (String, Vec<String>) {
    let measures: Vec<Value> = measures
        .iter()
        .enumerate()
        .map(|(i, t)| json!({ "number": format!("1.{}", i + 1), "title": t }))
        .collect();
    create_plan(
        hub,
        json!({ "title": title, "level": "MUNICIPAL", "territory": territory, "state": state,
                "sections": [{ "number": "1", "title": "Раздел", "measures": measures }] }),
    )
    .await
}

/// The Zabaykalsky regional plan (seed 002) with three districts under the region:
/// - «Читинский район»: an approved plan carrying out the first two measures proper of 002;
/// - «Агинский район»: an approved plan declaring 002 its parent plan, no measure linked;
/// - «Могочинский район»: only a draft carrying out the third measure.
pub struct Audited {
    pub region: String,
    pub regional_plan: String,
    /// Measures of 002: (id, kind, status) in document order.
    pub measures: Vec<Value>,
    pub chita: String,
    pub aga: String,
    pub mogocha: String,
    pub chita_plan: String,
}

pub async fn audited(hub: &TestHub) -> Audited {
    let data = hub
        .gql(
            "mutation($input: ImportRoadmapInput!) { importRoadmap(input: $input) { plan { id territory { id } } } }",
            json!({ "input": { "document": fixture(ZAB), "fileName": ZAB, "level": "REGIONAL",
                               "territory": "Забайкальский край", "state": "APPROVED" } }),
        )
        .await
        .expect("import 002");
    let regional_plan = id(&data["importRoadmap"]["plan"]["id"]);
    let region = id(&data["importRoadmap"]["plan"]["territory"]["id"]);
    let chita = territory(hub, "Читинский район", "MUNICIPALITY", Some(&region)).await;
    let aga = territory(hub, "Агинский район", "MUNICIPALITY", Some(&region)).await;
    let mogocha = territory(hub, "Могочинский район", "MUNICIPALITY", Some(&region)).await;
    let measures = plan_measures(hub, &regional_plan).await;
    let proper: Vec<String> = measures
        .iter()
        .filter(|m| m["kind"] == "MEASURE")
        .map(|m| id(&m["id"]))
        .collect();
    let (chita_plan, chita_measures) = plan(
        hub,
        "Дорожная карта Читинского района",
        &chita,
        "APPROVED",
        &["Диагностика в школах района", "Семинар для учителей района"],
    )
    .await;
    hub.gql(LINK, json!({ "m": chita_measures[0], "i": proper[0] }))
        .await
        .expect("link");
    hub.gql(LINK, json!({ "m": chita_measures[1], "i": proper[1] }))
        .await
        .expect("link");
    let (aga_plan, _) = plan(hub, "Дорожная карта Агинского района", &aga, "APPROVED", &["Свои меры"]).await;
    hub.gql(
        "mutation($p: ID!, $q: ID!) { setPlanParent(plan: $p, parent: $q) { id } }",
        json!({ "p": aga_plan, "q": regional_plan }),
    )
    .await
    .expect("parent");
    let (_, draft) = plan(
        hub,
        "Проект карты Могочинского района",
        &mogocha,
        "DRAFT",
        &["Черновая мера"],
    )
    .await;
    hub.gql(LINK, json!({ "m": draft[0], "i": proper[2] }))
        .await
        .expect("link");
    Audited {
        region,
        regional_plan,
        measures,
        chita,
        aga,
        mogocha,
        chita_plan,
    }
}

async fn plan_measures(hub: &TestHub, plan: &str) -> Vec<Value> {
    let data = hub
        .gql(
            "query($id: ID!) { plan(id: $id) { measures { id kind status dueOn } } }",
            json!({ "id": plan }),
        )
        .await
        .expect("measures");
    data["plan"]["measures"].as_array().expect("measures").clone()
}

/// Counts by effective status of every measure of the plans of `territories` the reader sees,
/// read through `plans(territory) { measures { status } }`.
pub(crate) async fn expected_counts(
    hub: &TestHub,
    token: Option<&str>,
    territories: &[&str],
) -> BTreeMap<&'static str, i64> {
    let mut counts = BTreeMap::new();
    for t in territories {
        let data = hub
            .gql_as(
                token,
                "query($t: ID!) { plans(territory: $t, first: 200) { nodes { measures { status } } } }",
                json!({ "t": t }),
            )
            .await
            .expect("plans");
        for p in data["plans"]["nodes"].as_array().expect("nodes") {
            *counts.entry("plans").or_insert(0) += 1;
            for m in p["measures"].as_array().expect("measures") {
                let key = match m["status"].as_str().unwrap_or("") {
                    "DONE" => "done",
                    "IN_PROGRESS" => "inProgress",
                    "OVERDUE" => "overdue",
                    "PLANNED" => "notStarted",
                    "CANCELLED" => "cancelled",
                    other => panic!("status {other}"),
                };
                *counts.entry(key).or_insert(0) += 1;
                *counts.entry("total").or_insert(0) += 1;
            }
        }
    }
    counts
}

pub(crate) fn counts_of(v: &Value) -> BTreeMap<&'static str, i64> {
    [
        "plans",
        "total",
        "done",
        "inProgress",
        "overdue",
        "notStarted",
        "cancelled",
    ]
    .into_iter()
    .filter_map(|k| v[k].as_i64().filter(|n| *n > 0).map(|n| (k, n)))
    .collect()
}

pub(crate) const COUNTS: &str =
    "measureCounts { plans plansInForce total done inProgress overdue notStarted cancelled }";

fn admin() -> String {
    roadmap_e2e::admin_token()
}

#[tokio::test]
async fn measure_counts_by_status_for_a_territory_and_its_children() {
    let hub = TestHub::spawn().await.expect("hub");
    let a = audited(&hub).await;
    // Some statuses set by people next to the derived OVERDUE.
    let proper: Vec<&Value> = a.measures.iter().filter(|m| m["kind"] == "MEASURE").collect();
    roadmap_e2e::set_measure_status(&hub, proper[3]["id"].as_str().expect("id"), "DONE").await;
    hub.gql(
        "mutation($m: ID!) { setMeasureStatus(measure: $m, status: CANCELLED) { status } }",
        json!({ "m": proper[4]["id"] }),
    )
    .await
    .expect("cancel");
    let query = format!("query($t: ID!) {{ territory(id: $t) {{ name {COUNTS} children {{ id name {COUNTS} }} }} }}");
    for token in [None, Some(admin())] {
        let token = token.as_deref();
        let data = hub
            .gql_as(token, &query, json!({ "t": a.region }))
            .await
            .expect("counts");
        let region = &data["territory"];
        let all = [a.region.as_str(), &a.chita, &a.aga, &a.mogocha];
        let expected = expected_counts(&hub, token, &all).await;
        assert_eq!(counts_of(&region["measureCounts"]), expected, "the region and under it");
        assert!(expected["overdue"] > 0 && expected["done"] > 0, "{expected:?}");
        for child in region["children"].as_array().expect("children") {
            let expected = expected_counts(&hub, token, &[child["id"].as_str().expect("id")]).await;
            assert_eq!(counts_of(&child["measureCounts"]), expected, "{}", child["name"]);
        }
        let mogocha = region["children"]
            .as_array()
            .expect("children")
            .iter()
            .find(|c| c["id"] == a.mogocha.as_str())
            .expect("Mogocha");
        // The draft: only for those who may see it.
        let drafts = if token.is_some() { 1 } else { 0 };
        assert_eq!(mogocha["measureCounts"]["plans"], drafts);
        assert_eq!(mogocha["measureCounts"]["total"], drafts);
    }
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn coverage_gaps_and_districts_without_a_plan_agree_with_coverage() {
    let hub = TestHub::spawn().await.expect("hub");
    let a = audited(&hub).await;
    let names = BTreeMap::from([
        (a.chita.clone(), "Читинский район"),
        (a.aga.clone(), "Агинский район"),
        (a.mogocha.clone(), "Могочинский район"),
    ]);
    for token in [None, Some(admin())] {
        let token = token.as_deref();
        // What `Measure.coverage` says, measure by measure.
        let data = hub
            .gql_as(
                token,
                "query($id: ID!) { plan(id: $id) { measures { id kind status coverage { territory { id } covered } } } }",
                json!({ "id": a.regional_plan }),
            )
            .await
            .expect("coverage");
        let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for m in data["plan"]["measures"].as_array().expect("measures") {
            if m["kind"] != "MEASURE" || m["status"] == "CANCELLED" {
                continue;
            }
            let uncovered: BTreeSet<String> = m["coverage"]
                .as_array()
                .expect("coverage")
                .iter()
                .filter(|c| c["covered"] == false)
                .map(|c| id(&c["territory"]["id"]))
                .collect();
            if !uncovered.is_empty() {
                expected.insert(id(&m["id"]), uncovered);
            }
        }
        let data = hub
            .gql_as(
                token,
                "query($t: ID!) { territory(id: $t) { coverageGaps { measure { id plan { id } } \
                 uncovered { id name } covered territories } \
                 childrenWithoutPlan { plan { id title } territories { id name } withPlan children } } }",
                json!({ "t": a.region }),
            )
            .await
            .expect("gaps");
        let gaps = data["territory"]["coverageGaps"].as_array().expect("gaps");
        let got: BTreeMap<String, BTreeSet<String>> = gaps
            .iter()
            .map(|g| {
                let uncovered: BTreeSet<String> = g["uncovered"]
                    .as_array()
                    .expect("uncovered")
                    .iter()
                    .map(|t| id(&t["id"]))
                    .collect();
                assert_eq!(g["territories"], 3);
                assert_eq!(g["covered"].as_i64(), Some(3 - uncovered.len() as i64));
                assert_eq!(g["measure"]["plan"]["id"], a.regional_plan.as_str());
                (id(&g["measure"]["id"]), uncovered)
            })
            .collect();
        assert_eq!(got, expected, "coverage gaps = the uncovered rows of Measure.coverage");
        // Chita carries out two measures; the draft a third, for those who see it.
        let covered_somewhere = gaps.iter().filter(|g| g["covered"] != 0).count();
        assert_eq!(covered_somewhere, if token.is_some() { 3 } else { 2 });
        for g in gaps {
            for t in g["uncovered"].as_array().expect("uncovered") {
                assert_eq!(t["name"], names[&id(&t["id"])], "names come from people");
            }
        }

        let without = data["territory"]["childrenWithoutPlan"].as_array().expect("without");
        assert_eq!(without.len(), 1, "the region has one plan: {without:?}");
        assert_eq!(without[0]["plan"]["id"], a.regional_plan.as_str());
        assert_eq!(without[0]["children"], 3);
        let missing: Vec<&str> = without[0]["territories"]
            .as_array()
            .expect("territories")
            .iter()
            .map(|t| t["name"].as_str().expect("name"))
            .collect();
        // Chita links measures, Aga declares the parent plan; Mogocha has only its draft.
        if token.is_some() {
            assert_eq!(missing, Vec::<&str>::new());
            assert_eq!(without[0]["withPlan"], 3);
        } else {
            assert_eq!(missing, vec!["Могочинский район"]);
            assert_eq!(without[0]["withPlan"], 2);
        }
    }
    // A plan given: only that one; a district's own plan has no children to miss.
    let data = hub
        .gql(
            "query($t: ID!, $p: ID!) { territory(id: $t) { childrenWithoutPlan(plan: $p) { plan { id } } } }",
            json!({ "t": a.chita, "p": a.chita_plan }),
        )
        .await
        .expect("district");
    assert_eq!(
        data["territory"]["childrenWithoutPlan"],
        json!([{ "plan": { "id": a.chita_plan } }])
    );
    let body = hub
        .request(
            "query($t: ID!) { territory(id: $t) { childrenWithoutPlan(plan: \"nope\") { plan { id } } } }",
            json!({ "t": a.region }),
        )
        .await
        .expect("request");
    assert!(first_error(&body).is_some_and(|e| e.starts_with("plan:")), "{body}");
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn overdue_and_stale_measures_under_a_territory() {
    let hub = TestHub::spawn().await.expect("hub");
    let a = audited(&hub).await;
    let started = chrono::Utc::now();
    let overdue: Vec<&Value> = a.measures.iter().filter(|m| m["status"] == "OVERDUE").collect();
    assert!(overdue.len() > 3, "seed 002 is past due: {}", overdue.len());
    let data = hub
        .gql(
            "query($t: ID!) { territory(id: $t) { overdueMeasures(first: 3) { totalCount measures { id dueOn status } } } }",
            json!({ "t": a.region }),
        )
        .await
        .expect("overdue");
    let list = &data["territory"]["overdueMeasures"];
    assert_eq!(list["totalCount"].as_u64(), Some(overdue.len() as u64));
    let firsts = list["measures"].as_array().expect("measures");
    assert_eq!(firsts.len(), 3);
    let mut due: Vec<&str> = overdue.iter().map(|m| m["dueOn"].as_str().expect("due")).collect();
    due.sort_unstable();
    let shown: Vec<&str> = firsts.iter().map(|m| m["dueOn"].as_str().expect("due")).collect();
    assert_eq!(shown, due[..3].to_vec(), "most overdue first");
    assert!(firsts.iter().all(|m| m["status"] == "OVERDUE"));

    // Nothing changed for 40 days in the regional plan (a clock cannot be turned back through
    // the API: the rows are dated back here).
    let mut conn = roadmap_common::db::connect_one(&hub.database_url).await.expect("db");
    sqlx::query("UPDATE plans.measure SET updated_at = now() - interval '40 days' WHERE plan_id = $1::uuid")
        .bind(&a.regional_plan)
        .execute(&mut conn)
        .await
        .expect("date back");
    let unfinished: Vec<&Value> = a
        .measures
        .iter()
        .filter(|m| m["status"] != "DONE" && m["status"] != "CANCELLED")
        .collect();
    let stale = "query($t: ID!, $d: Int!) { territory(id: $t) { staleMeasures(days: $d, first: 5000) { \
                 totalCount measures { id updatedAt } } } }";
    let data = hub.gql(stale, json!({ "t": a.region, "d": 30 })).await.expect("stale");
    let list = &data["territory"]["staleMeasures"];
    assert_eq!(list["totalCount"].as_u64(), Some(unfinished.len() as u64));
    let ids: BTreeSet<String> = list["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .map(|m| id(&m["id"]))
        .collect();
    let expected: BTreeSet<String> = unfinished.iter().map(|m| id(&m["id"])).collect();
    assert_eq!(ids, expected, "the districts' measures changed today");
    let data = hub.gql(stale, json!({ "t": a.region, "d": 60 })).await.expect("stale");
    assert_eq!(data["territory"]["staleMeasures"]["totalCount"], 0);

    // A status change is an update.
    let changed = id(&unfinished[0]["id"]);
    hub.gql(
        "mutation($m: ID!) { setMeasureStatus(measure: $m, status: IN_PROGRESS) { reportedStatus } }",
        json!({ "m": changed }),
    )
    .await
    .expect("status");
    let data = hub.gql(stale, json!({ "t": a.region, "d": 30 })).await.expect("stale");
    let list = &data["territory"]["staleMeasures"];
    assert_eq!(list["totalCount"].as_u64(), Some(unfinished.len() as u64 - 1));
    assert!(
        !list["measures"]
            .as_array()
            .expect("measures")
            .iter()
            .any(|m| m["id"] == changed.as_str()),
        "the changed measure is no longer stale"
    );
    let data = hub
        .gql(
            "query($m: ID!) { measure(id: $m) { updatedAt } }",
            json!({ "m": changed }),
        )
        .await
        .expect("updatedAt");
    let updated: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(data["measure"]["updatedAt"].clone()).expect("a time");
    assert!(
        updated >= started - chrono::Duration::seconds(1),
        "{updated} after {started}"
    );

    let body = hub
        .request(stale, json!({ "t": a.region, "d": -1 }))
        .await
        .expect("request");
    assert_eq!(first_error(&body).as_deref(), Some("days: must be between 0 and 3660"));
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn audit_statements_do_not_grow_with_the_number_of_territories() {
    let hub = TestHub::spawn_targets(Target::ALL).await.expect("hub");
    let a = audited(&hub).await;
    // A second region with one district and a plan.
    let other = territory(&hub, "Соседний край", "REGION", None).await;
    let district = territory(&hub, "Соседний район", "MUNICIPALITY", Some(&other)).await;
    plan(&hub, "Карта соседей", &district, "APPROVED", &["Мера"]).await;
    // Every field on the children only: the router asks plans for all of them in one request.
    let query = format!(
        "query($t: ID!) {{ territory(id: $t) {{ children {{ {COUNTS} overdueMeasures {{ totalCount }} \
         staleMeasures {{ totalCount }} coverageGaps {{ covered }} childrenWithoutPlan {{ children }} }} }} }}"
    );
    hub.settle().await.expect("the event log caught up");
    // Once before counting: nothing a first request does once is counted.
    hub.gql(&query, json!({ "t": other })).await.expect("audit");
    // The fewest of five runs each: keys arriving at a loader a little apart on a busy machine
    // may now and then make two batches instead of one, and the counter is the process's, so a
    // background task's statement (the outbox relay and the reach warmer read once a second)
    // lands in a run now and then: timings, not a per-territory cost. A slow run on a loaded
    // machine overlaps more ticks, so three runs were sometimes all hit (20 vs 21, CI).
    let mut used = Vec::new();
    for t in [&other, &a.region] {
        let mut fewest = u64::MAX;
        for _ in 0..5 {
            let before = sql_statement_count();
            hub.gql(&query, json!({ "t": t })).await.expect("audit");
            fewest = fewest.min(sql_statement_count() - before);
        }
        used.push(fewest);
    }
    assert!(used[0] > 0, "{used:?}");
    assert_eq!(used[0], used[1], "one district or three: {used:?}");
    hub.finish().await.expect("finish");
}

/// The web target's address (no trailing slash).
fn web(hub: &TestHub) -> String {
    hub.hub
        .as_ref()
        .and_then(|h| h.home_url(Target::WEB))
        .expect("the web target runs")
        .trim_end_matches('/')
        .to_string()
}

async fn get(url: &str) -> reqwest::Response {
    let response = reqwest::get(url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(response.status(), 200, "{url}");
    response
}

async fn text(url: &str) -> String {
    get(url).await.text().await.expect("a page")
}

/// The text of the `<tr>` whose row header starts with `label`, tags removed, cells by `|`.
fn row_text(html: &str, label: &str) -> String {
    let start = html
        .find(&format!("<th scope=\"row\">{label}"))
        .or_else(|| html.find(&format!(">{label}</a></th>")))
        .unwrap_or_else(|| panic!("no row {label}"));
    let end = html[start..].find("</tr>").expect("row end") + start;
    let mut out = String::new();
    let mut in_tag = false;
    for c in html[start..end].chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push('|');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split('|')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("|")
}

/// A CSV download read back: UTF-8 with BOM, `;`, every row as wide as the header.
fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let body = text.strip_prefix('\u{feff}').expect("a byte-order mark for Excel");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(body.as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_string).collect())
        .collect();
    assert!(
        rows.iter().all(|r| r.len() == rows[0].len()),
        "rows as wide as the header"
    );
    rows
}

#[tokio::test]
async fn the_missing_page_and_its_csv_tables_show_the_data() {
    let hub = TestHub::spawn().await.expect("hub");
    let a = audited(&hub).await;
    let web = web(&hub);
    let page = text(&format!("{web}/territories/{}/missing", a.region)).await;
    assert!(
        page.contains("<h1>Чего не хватает: Забайкальский край</h1>"),
        "{page:.300}"
    );

    // By territory: the counts an anonymous visitor's plans give.
    for (label, territories) in [
        ("Читинский район", vec![a.chita.as_str()]),
        (
            "Забайкальский край (всего)",
            vec![a.region.as_str(), &a.chita, &a.aga, &a.mogocha],
        ),
    ] {
        let c = expected_counts(&hub, None, &territories).await;
        let n = |k: &str| c.get(k).copied().unwrap_or(0);
        let row = row_text(&page, label);
        let cells: Vec<&str> = row.split('|').skip(1).collect();
        assert_eq!(cells[0], n("plans").to_string(), "plans of {label}: {row}");
        assert_eq!(
            cells[2..].to_vec(),
            [
                n("done"),
                n("inProgress"),
                n("overdue"),
                n("notStarted"),
                n("cancelled"),
                n("total")
            ]
            .map(|x| x.to_string())
            .to_vec(),
            "{label}: {row}"
        );
    }
    // Without a plan: Mogocha (its draft is not public).
    let without = row_text(&page, "<a href=\"/plans/");
    assert!(
        without.contains("2 из 3") && without.contains("Могочинский район"),
        "{without}"
    );

    // The CSV of each table, read back.
    let csv_url = |table: &str| format!("{web}/territories/{}/missing/{table}.csv?days=30", a.region);
    assert!(
        page.contains(&csv_url("overdue")[web.len()..]),
        "the page links its CSV"
    );
    let response = get(&csv_url("overdue")).await;
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment; filename=\"overdue-"),
    );
    let rows = read_csv(&response.bytes().await.expect("body"));
    assert_eq!(rows[0], ["№", "Мероприятие", "План", "Территория", "Срок", "Статус"]);
    let overdue: Vec<&Value> = a.measures.iter().filter(|m| m["status"] == "OVERDUE").collect();
    assert_eq!(rows.len() - 1, overdue.len(), "every overdue measure, no more");
    for row in &rows[1..] {
        assert_eq!(row[3], "Забайкальский край");
        assert_eq!(row[5], "просрочено");
        let day = chrono::NaiveDate::parse_from_str(&row[4], "%d.%m.%Y").expect("a Russian date");
        assert!(
            overdue.iter().any(|m| m["dueOn"] == day.to_string().as_str()),
            "{row:?}"
        );
    }
    let data = hub
        .gql(
            "query($id: ID!) { plan(id: $id) { title measures { number title } } }",
            json!({ "id": a.regional_plan }),
        )
        .await
        .expect("plan");
    let title = data["plan"]["title"].as_str().expect("title");
    assert!(rows[1..].iter().all(|r| r[2] == title), "the plan's title as is");
    // Titles with quotes, semicolons and line breaks survive the round trip.
    for row in &rows[1..] {
        assert!(
            data["plan"]["measures"]
                .as_array()
                .expect("measures")
                .iter()
                .any(|m| m["number"] == row[0].as_str() && m["title"] == row[1].as_str()),
            "{row:?}"
        );
    }

    let rows = read_csv(&get(&csv_url("territories")).await.bytes().await.expect("body"));
    assert_eq!(rows.len(), 1 + 1 + 3, "the region and its three districts");
    let gaps = read_csv(&get(&csv_url("gaps")).await.bytes().await.expect("body"));
    let uncovered_everywhere = gaps[1..].iter().filter(|r| r[3] == "0").count();
    assert_eq!(
        gaps.len() - 1 - uncovered_everywhere,
        2,
        "Chita carries out two measures"
    );
    let without = read_csv(&get(&csv_url("without-plan")).await.bytes().await.expect("body"));
    assert_eq!(without[1][3], "Могочинский район");

    // Bad input is named; an unknown table is a 404.
    let bad = reqwest::get(format!("{web}/territories/{}/missing?days=много", a.region))
        .await
        .expect("bad days");
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.expect("text").contains("Параметр days: «много»"));
    let unknown = reqwest::get(csv_url("secrets")).await.expect("unknown");
    assert_eq!(unknown.status(), 404);
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn the_plan_page_links_its_exports_and_the_web_address_serves_them() {
    let hub = TestHub::spawn().await.expect("hub");
    let a = audited(&hub).await;
    let web = web(&hub);
    let page = text(&format!("{web}/plans/{}", a.regional_plan)).await;
    for ext in ["xlsx", "csv"] {
        let href = format!("/export/plans/{}.{ext}", a.regional_plan);
        assert!(page.contains(&format!("href=\"{href}\"")), "{ext} link");
        let file = get(&format!("{web}{href}")).await.bytes().await.expect("file");
        let starts: &[u8] = if ext == "xlsx" { b"PK" } else { "\u{feff}".as_bytes() };
        assert!(file.starts_with(starts), "{ext}");
    }
    hub.finish().await.expect("finish");
}
