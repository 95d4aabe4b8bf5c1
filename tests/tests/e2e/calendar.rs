//! Deadlines, occurrences and the calendar through the gateway: the deadline watcher's
//! `DEADLINE_MISSED` event happens once (across passes, restarts and concurrent watchers), a
//! moved deadline is a new one, seed schedules expand into dated occurrences, reports on them are
//! checked and kept, and an organisation's iCalendar feed parses with a real parser.

use std::collections::HashSet;
use std::time::Duration;

use chrono::NaiveDate;
use roadmap_e2e::{TestHub, first_error};
use roadmap_hub::targets::Target;
use serde_json::{Value, json};

const ZAB: &str = "002_587447f0e4c9bb26.txt";
const NIK: &str = "000_4b83c36956a51ac0.txt";
const NIK_OWNER: &str = "Управление образования администрации Николаевского муниципального района";

fn fixture(name: &str) -> String {
    let path = format!("{}/fixtures/roadmaps/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

/// Imports `text` through the gateway; returns the report.
async fn import(hub: &TestHub, file: &str, text: &str, territory: &str, owner: Option<&str>) -> Value {
    let data = hub
        .gql(
            "mutation($input: ImportRoadmapInput!) { importRoadmap(input: $input) { status version plan { id title } } }",
            json!({ "input": { "document": text, "fileName": file, "territory": territory, "owner": owner } }),
        )
        .await
        .unwrap_or_else(|e| panic!("import {file}: {e}"));
    data["importRoadmap"].clone()
}

/// Imports 000 (Nikolaevsky district) with its education authority as the owner.
async fn import_nikolaevsk(hub: &TestHub) -> Value {
    import(
        hub,
        NIK,
        &fixture(NIK),
        "Хабаровский край/Николаевский муниципальный район",
        Some(NIK_OWNER),
    )
    .await
}

/// Every event of the log matching `filter`, in order.
async fn events(hub: &TestHub, filter: Value) -> Vec<Value> {
    let data = hub
        .gql(
            "query($f: EventFilter) { events(filter: $f, first: 1000) { kind subjectId before after level \
             measure { id key } plan { id title } } }",
            json!({ "f": filter }),
        )
        .await
        .expect("events");
    data["events"].as_array().expect("list").clone()
}

/// Waits until every outbox row of plans is in the events log.
async fn drained(hub: &TestHub) {
    let pool = hub.plans_pool();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while roadmap_common::outbox::unpublished(pool).await.expect("outbox") > 0 {
        assert!(tokio::time::Instant::now() < deadline, "outbox not drained in 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Measures of a plan with their key, due day and effective status.
async fn measures(hub: &TestHub, plan: &str) -> Vec<Value> {
    let data = hub
        .gql(
            "query($id: ID!) { plan(id: $id) { measures { id key number dueOn status } } }",
            json!({ "id": plan }),
        )
        .await
        .expect("measures");
    data["plan"]["measures"].as_array().expect("list").clone()
}

fn by_key<'a>(measures: &'a [Value], key: &str) -> &'a Value {
    measures
        .iter()
        .find(|m| m["key"] == key)
        .unwrap_or_else(|| panic!("no measure {key}"))
}

fn json_field(event: &Value, field: &str) -> Value {
    serde_json::from_str(event[field].as_str().unwrap_or("null")).expect("JSON text")
}

#[tokio::test]
async fn deadline_missed_fires_once_across_passes_and_restarts_and_not_for_done_measures() {
    let today = date("2024-06-01");
    // Only the pass at start runs (on an empty database) until the restart below.
    let mut hub = TestHub::spawn_with(Target::ALL, |c| {
        c.clock = roadmap_common::clock::Clock::fixed(today);
        c.deadline_interval = Duration::from_secs(3600);
    })
    .await
    .expect("hub");
    let report = import(&hub, ZAB, &fixture(ZAB), "Забайкальский край", None).await;
    let plan = report["plan"]["id"].as_str().expect("plan id").to_string();
    let ms = measures(&hub, &plan).await;
    let m11 = by_key(&ms, "1.1");
    assert_eq!(m11["dueOn"], "2024-02-29");
    assert_eq!(m11["status"], "OVERDUE");
    // Another measure past due, finished before the watcher sees it.
    let done = ms
        .iter()
        .find(|m| m["key"] != "1.1" && m["status"] == "OVERDUE")
        .expect("a second overdue measure");
    hub.gql(
        "mutation($m: ID!) { setMeasureStatus(measure: $m, status: DONE) { status } }",
        json!({ "m": done["id"] }),
    )
    .await
    .expect("done");
    let overdue: HashSet<String> = measures(&hub, &plan)
        .await
        .iter()
        .filter(|m| m["status"] == "OVERDUE")
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect();
    assert!(overdue.contains(m11["id"].as_str().expect("id")));
    drained(&hub).await;
    let filter = json!({ "kinds": ["DEADLINE_MISSED"], "plan": plan });
    assert!(events(&hub, filter.clone()).await.is_empty(), "nothing before a pass");

    // Restart on the same database with a watcher passing every 100 ms: many passes.
    hub.restart_with(|c| c.deadline_interval = Duration::from_millis(100))
        .await
        .expect("restart");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drained(&hub).await;
    let missed = events(&hub, filter.clone()).await;
    let subjects: Vec<String> = missed
        .iter()
        .map(|e| e["subjectId"].as_str().expect("subject").to_string())
        .collect();
    assert_eq!(
        subjects.len(),
        overdue.len(),
        "one event per overdue measure: {subjects:?}"
    );
    assert_eq!(subjects.iter().cloned().collect::<HashSet<_>>(), overdue);
    assert!(!subjects.contains(&done["id"].as_str().expect("id").to_string()));
    let e11 = missed
        .iter()
        .find(|e| e["subjectId"] == m11["id"])
        .expect("event of 1.1");
    assert_eq!(e11["level"], "REGIONAL");
    assert_eq!(e11["measure"]["key"], "1.1", "{e11}");
    assert_eq!(e11["plan"]["id"], plan.as_str());
    assert_eq!(
        json_field(e11, "before"),
        json!({ "status": "PLANNED", "dueOn": "2024-02-29" })
    );
    assert_eq!(
        json_field(e11, "after"),
        json!({ "status": "OVERDUE", "dueOn": "2024-02-29" })
    );

    // Another restart, more passes: still one event per measure.
    hub.restart_with(|_| {}).await.expect("second restart");
    tokio::time::sleep(Duration::from_millis(800)).await;
    drained(&hub).await;
    assert_eq!(events(&hub, filter).await.len(), overdue.len());
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn a_moved_deadline_is_a_new_deadline_and_concurrent_watchers_emit_each_miss_once() {
    let today = date("2024-06-01");
    let hub = TestHub::spawn_with(Target::ALL, |c| {
        c.clock = roadmap_common::clock::Clock::fixed(today);
        c.deadline_interval = Duration::from_secs(3600);
    })
    .await
    .expect("hub");
    let text = fixture(ZAB);
    let report = import(&hub, ZAB, &text, "Забайкальский край", None).await;
    let plan = report["plan"]["id"].as_str().expect("plan id").to_string();
    let overdue = measures(&hub, &plan)
        .await
        .iter()
        .filter(|m| m["status"] == "OVERDUE")
        .count();
    assert!(overdue > 1);

    // Three watchers (replicas) at once on the same database.
    let pool = hub.plans_pool().clone();
    let passes = (0..3).map(|_| {
        let pool = pool.clone();
        tokio::spawn(async move { roadmap_plans::deadlines::scan(&pool, today, None).await })
    });
    let mut flagged = 0;
    for pass in passes {
        flagged += pass.await.expect("task").map_err(|e| e.message()).expect("scan");
    }
    assert_eq!(flagged, overdue, "each miss flagged by exactly one watcher");
    drained(&hub).await;
    let filter = json!({ "kinds": ["DEADLINE_MISSED"], "plan": plan });
    assert_eq!(events(&hub, filter.clone()).await.len(), overdue);

    // A new version of the document moves 1.1 from January–February to March–April.
    let moved = text.replacen(
        "(далее – Минобразования)\tЯнварь – февраль 2024 года",
        "(далее – Минобразования)\tМарт – апрель 2024 года",
        1,
    );
    assert_ne!(moved, text);
    let report = import(&hub, ZAB, &moved, "Забайкальский край", None).await;
    assert_eq!(report["status"], "UPDATED");
    let m11 = by_key(&measures(&hub, &plan).await, "1.1").clone();
    assert_eq!(m11["dueOn"], "2024-04-30");
    assert_eq!(roadmap_plans::deadlines::scan(&pool, today, None).await.ok(), Some(1));
    assert_eq!(roadmap_plans::deadlines::scan(&pool, today, None).await.ok(), Some(0));
    drained(&hub).await;
    let of_11: Vec<Value> = events(&hub, filter)
        .await
        .into_iter()
        .filter(|e| e["subjectId"] == m11["id"])
        .collect();
    let due: Vec<Value> = of_11.iter().map(|e| json_field(e, "after")["dueOn"].clone()).collect();
    assert_eq!(due, vec![json!("2024-02-29"), json!("2024-04-30")]);

    // Imports are events too; an unchanged re-import is not.
    import(&hub, ZAB, &moved, "Забайкальский край", None).await;
    drained(&hub).await;
    let imported = events(&hub, json!({ "kinds": ["PLAN_IMPORTED"], "plan": plan })).await;
    let statuses: Vec<Value> = imported
        .iter()
        .map(|e| json_field(e, "after")["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("CREATED"), json!("UPDATED")]);
    assert_eq!(imported[1]["plan"]["title"], report["plan"]["title"]);
    assert_eq!(json_field(&imported[1], "after")["changes"]["changed"], json!(["1.1"]));
    hub.finish().await.expect("finish");
}

/// "Today" is a day of the plan's territory's time zone: 002 imported three times (its 1.1 due
/// 10 March 2026) into Zabaykalsky Krai (Asia/Chita, UTC+9, by the region reference), Kaliningrad
/// oblast (UTC+2) and Moscow oblast (Moscow time). At 16:00 UTC on 10 March it is the 11th in
/// Chita only: 1.1 is OVERDUE there and the watcher flags it there alone; Moscow's follows at
/// 21:00 UTC, Kaliningrad's at 22:00 UTC, each with its local day as `detected_on`.
#[tokio::test]
async fn overdue_and_missed_deadlines_follow_the_territorys_time_zone() {
    let clock = |at: &str| roadmap_common::clock::Clock::parse(at).expect("instant");
    let at_16 = clock("2026-03-10T16:00:00Z");
    let hub = TestHub::spawn_with(Target::ALL, |c| {
        c.clock = at_16;
        c.deadline_interval = Duration::from_secs(3600);
    })
    .await
    .expect("hub");
    let text = fixture(ZAB).replacen(
        "(далее – Минобразования)\tЯнварь – февраль 2024 года",
        "(далее – Минобразования)\tдо 10.03.2026",
        1,
    );
    let regions = [
        ("Забайкальский край", "Asia/Chita"),
        ("Калининградская область", "Europe/Kaliningrad"),
        ("Московская область", "Europe/Moscow"),
    ];
    let mut plans = Vec::new();
    for (region, zone) in regions {
        let data = hub
            .gql(
                "mutation($input: ImportRoadmapInput!) { importRoadmap(input: $input) { plan { id \
                 territory { timeZone } } } }",
                json!({ "input": { "document": text, "fileName": ZAB, "territory": region, "key": region } }),
            )
            .await
            .unwrap_or_else(|e| panic!("import into {region}: {e}"));
        let plan = &data["importRoadmap"]["plan"];
        assert_eq!(plan["territory"]["timeZone"], zone, "{region}");
        plans.push(plan["id"].as_str().expect("plan id").to_string());
    }
    let mut m11 = Vec::new();
    for plan in &plans {
        let ms = measures(&hub, plan).await;
        let m = by_key(&ms, "1.1").clone();
        assert_eq!(m["dueOn"], "2026-03-10");
        m11.push((m["id"].as_str().expect("id").to_string(), m["status"].clone()));
    }
    let statuses: Vec<&Value> = m11.iter().map(|m| &m.1).collect();
    assert_eq!(statuses, [&json!("OVERDUE"), &json!("PLANNED"), &json!("PLANNED")]);
    // The auditor's counts and lists of overdue measures take the same local day.
    let mut audited = Vec::new();
    for plan in &plans {
        let data = hub
            .gql(
                "query($id: ID!) { plan(id: $id) { territory { \
                 measureCounts { overdue } overdueMeasures { totalCount measures { id } } } } }",
                json!({ "id": plan }),
            )
            .await
            .unwrap_or_else(|e| panic!("audit of plan {plan}: {e}"));
        let t = &data["plan"]["territory"];
        let listed: Vec<&str> = t["overdueMeasures"]["measures"]
            .as_array()
            .expect("measures")
            .iter()
            .filter_map(|m| m["id"].as_str())
            .collect();
        audited.push((
            t["measureCounts"]["overdue"].as_i64().expect("overdue"),
            t["overdueMeasures"]["totalCount"].as_i64().expect("totalCount"),
            listed.iter().any(|id| m11.iter().any(|m| m.0 == *id)),
        ));
    }
    let (chita, kaliningrad, moscow) = (audited[0], audited[1], audited[2]);
    assert!(
        chita.2 && !kaliningrad.2 && !moscow.2,
        "1.1 listed as overdue in Chita only: {audited:?}"
    );
    assert_eq!(chita.0, kaliningrad.0 + 1, "one more overdue in Chita: {audited:?}");
    assert_eq!(kaliningrad.0, moscow.0, "{audited:?}");
    assert_eq!(
        (chita.0, kaliningrad.0),
        (chita.1, kaliningrad.1),
        "counts and lists agree: {audited:?}"
    );

    let pool = hub.plans_pool().clone();
    // Which plans' 1.1 a pass at `at` flags (their `detected_on`), and every miss is an event.
    let missed_11 = |at: roadmap_common::clock::Clock| {
        let (pool, ids) = (pool.clone(), m11.iter().map(|m| m.0.clone()).collect::<Vec<_>>());
        async move {
            let today = roadmap_plans::deadlines::Today::of(&pool, &at).await.expect("zones");
            roadmap_plans::deadlines::scan(&pool, today, None).await.expect("scan");
            let mut out = Vec::new();
            for id in ids {
                let detected: Option<NaiveDate> =
                    sqlx::query_scalar("SELECT detected_on FROM deadline_miss WHERE measure_id = $1::uuid")
                        .bind(&id)
                        .fetch_optional(&pool)
                        .await
                        .expect("deadline_miss");
                out.push(detected.map(|d| d.to_string()));
            }
            out
        }
    };
    let day = |d: &str| Some(d.to_string());
    assert_eq!(missed_11(at_16).await, [day("2026-03-11"), None, None]);
    // 23:59 in Moscow, 22:59 in Kaliningrad: nothing more.
    assert_eq!(
        missed_11(clock("2026-03-10T20:59:00Z")).await,
        [day("2026-03-11"), None, None]
    );
    assert_eq!(
        missed_11(clock("2026-03-10T21:00:00Z")).await,
        [day("2026-03-11"), None, day("2026-03-11")]
    );
    assert_eq!(
        missed_11(clock("2026-03-10T22:00:00Z")).await,
        [day("2026-03-11"), day("2026-03-11"), day("2026-03-11")]
    );
    drained(&hub).await;
    for (plan, (id, _)) in plans.iter().zip(&m11) {
        let of_11 = events(&hub, json!({ "kinds": ["DEADLINE_MISSED"], "plan": plan }))
            .await
            .into_iter()
            .filter(|e| e["subjectId"] == id.as_str())
            .count();
        assert_eq!(of_11, 1, "one DEADLINE_MISSED of 1.1 in plan {plan}");
    }

    // A territory's own zone: checked by name, inherited below it.
    let bad = hub
        .gql(
            "mutation { createTerritory(input: { name: \"Усть-Майский улус\", kind: MUNICIPALITY, \
             timeZone: \"Asia/Khandygaa\" }) { id } }",
            json!({}),
        )
        .await
        .expect_err("an unknown zone is refused");
    let message = bad.to_string();
    assert!(
        message.contains("input.timeZone") && message.contains("Asia/Khandygaa"),
        "{message}"
    );
    let data = hub
        .gql(
            "mutation { createTerritory(input: { name: \"Оймяконский улус\", kind: MUNICIPALITY, \
             timeZone: \"Asia/Vladivostok\" }) { id timeZone } }",
            json!({}),
        )
        .await
        .expect("territory with a zone");
    assert_eq!(data["createTerritory"]["timeZone"], "Asia/Vladivostok");
    let ulus = data["createTerritory"]["id"].clone();
    let data = hub
        .gql(
            "mutation($p: ID) { createTerritory(input: { name: \"Томтор\", kind: SETTLEMENT, parent: $p }) \
             { timeZone } }",
            json!({ "p": ulus }),
        )
        .await
        .expect("settlement");
    assert_eq!(data["createTerritory"]["timeZone"], "Asia/Vladivostok", "inherited");
    hub.finish().await.expect("finish");
}

/// The weekly practicums of 000 III.1: the first working day of each week from 2 October 2023
/// to 25 March 2024 by the production calendar. The Mondays, except that Monday 6 November 2023
/// was a day off (met on Tuesday 7th), the week of 1 January 2024 was all holidays (none) and
/// Monday 8 January was a holiday too (met on Tuesday 9th): 25 dates.
fn practicum_mondays() -> Vec<String> {
    let off = [date("2023-11-06"), date("2024-01-01"), date("2024-01-08")];
    let mut days: Vec<NaiveDate> = date("2023-10-02")
        .iter_weeks()
        .take_while(|d| *d <= date("2024-03-31"))
        .filter(|d| !off.contains(d))
        .chain([date("2023-11-07"), date("2024-01-09")])
        .collect();
    days.sort();
    assert_eq!(days.len(), 25);
    days.iter().map(|d| d.to_string()).collect()
}

const OCCURRENCES: &str = "query($id: ID!, $from: NaiveDate, $to: NaiveDate) { plan(id: $id) { measures { id key \
    occurrences(from: $from, to: $to) { date endDate kind } undatedSchedule { reason detail } } } }";

const REPORT: &str = "mutation($m: ID!, $d: NaiveDate!, $held: Boolean!, $p: Int, $e: [String!], $n: String) { \
    reportOccurrence(measure: $m, date: $d, held: $held, participants: $p, evidence: $e, note: $n) { \
    date kind measure { key } report { revision held participants evidence note reportedBy } \
    history { revision held participants } } }";

#[tokio::test]
async fn seed_schedules_expand_into_occurrences_and_reports_are_checked_and_kept() {
    let hub = TestHub::spawn().await.expect("hub");
    let report = import_nikolaevsk(&hub).await;
    let plan = report["plan"]["id"].as_str().expect("plan id").to_string();
    let data = hub.gql(OCCURRENCES, json!({ "id": plan })).await.expect("occurrences");
    let ms = data["plan"]["measures"].as_array().expect("measures").clone();
    let iii1 = by_key(&ms, "III.1");
    let dates: Vec<String> = iii1["occurrences"]
        .as_array()
        .expect("list")
        .iter()
        .map(|o| o["date"].as_str().expect("date").to_string())
        .collect();
    assert_eq!(dates, practicum_mondays());
    assert_eq!(dates.len(), 25);
    assert!(
        iii1["occurrences"]
            .as_array()
            .expect("list")
            .iter()
            .all(|o| o["kind"] == "RECURRING")
    );
    assert_eq!(iii1["undatedSchedule"], json!([]));
    let iii2: Vec<&str> = by_key(&ms, "III.2")["occurrences"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|o| o["date"].as_str())
        .collect();
    assert_eq!(
        iii2,
        [
            "2023-10-16",
            "2023-11-20",
            "2023-12-18",
            "2024-01-15",
            "2024-02-19",
            "2024-03-18"
        ],
        "каждая третья неделя месяца"
    );
    // "постоянно": no occurrences, and the API says why.
    let continuous = by_key(&ms, "I.4");
    assert_eq!(continuous["occurrences"], json!([]));
    assert_eq!(
        continuous["undatedSchedule"],
        json!([{ "reason": "CONTINUOUS", "detail": null }])
    );
    // A window is one occurrence with its last day.
    assert_eq!(
        by_key(&ms, "I.3")["occurrences"],
        json!([{ "date": "2023-10-01", "endDate": "2024-03-31", "kind": "WINDOW" }])
    );
    // Narrowed to December.
    let data = hub
        .gql(
            OCCURRENCES,
            json!({ "id": plan, "from": "2023-12-01", "to": "2023-12-31" }),
        )
        .await
        .expect("december");
    let december: Vec<&str> = by_key(data["plan"]["measures"].as_array().expect("list"), "III.1")["occurrences"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|o| o["date"].as_str())
        .collect();
    assert_eq!(december, ["2023-12-04", "2023-12-11", "2023-12-18", "2023-12-25"]);
    let body = hub
        .request(
            OCCURRENCES,
            json!({ "id": plan, "from": "2024-01-01", "to": "2023-12-31" }),
        )
        .await
        .expect("request");
    assert_eq!(
        first_error(&body).as_deref(),
        Some("to: 2023-12-31 is before from 2024-01-01")
    );

    let m = iii1["id"].clone();
    let first = hub
        .gql(
            REPORT,
            json!({ "m": m, "d": "2023-10-09", "held": true, "p": 24,
                    "e": ["https://nikolaevsk.example/practicum/2023-10-09.pdf"], "n": "Математика, 11 класс" }),
        )
        .await
        .expect("report");
    let r = &first["reportOccurrence"];
    assert_eq!(r["date"], "2023-10-09");
    assert_eq!(r["measure"]["key"], "III.1");
    assert_eq!(r["report"]["revision"], 1);
    assert_eq!(r["report"]["participants"], 24);
    assert_eq!(
        r["report"]["evidence"],
        json!(["https://nikolaevsk.example/practicum/2023-10-09.pdf"])
    );
    assert_eq!(r["report"]["reportedBy"], "test-admin", "the token's subject");
    let second = hub
        .gql(
            REPORT,
            json!({ "m": m, "d": "2023-10-09", "held": false, "p": 0, "n": "Карантин" }),
        )
        .await
        .expect("second report");
    let r = &second["reportOccurrence"];
    assert_eq!(r["report"]["revision"], 2);
    assert_eq!(r["report"]["held"], false);
    assert_eq!(
        r["history"],
        json!([{ "revision": 1, "held": true, "participants": 24 }, { "revision": 2, "held": false, "participants": 0 }])
    );

    // Refused, with the field named, and nothing stored.
    let refuse = |vars: Value| {
        let hub = &hub;
        async move {
            let body = hub.request(REPORT, vars).await.expect("request");
            first_error(&body).unwrap_or_else(|| panic!("accepted: {body}"))
        }
    };
    assert_eq!(
        refuse(json!({ "m": m, "d": "2023-10-10", "held": true })).await,
        "date: 2023-10-10 is not an occurrence of measure III.1 (nearest: 2023-10-09, 2023-10-16; see Measure.occurrences)"
    );
    assert_eq!(
        refuse(json!({ "m": m, "d": "2023-10-16", "held": true, "p": -3 })).await,
        "participants: -3 is negative"
    );
    let err = refuse(
        json!({ "m": m, "d": "2023-10-16", "held": true, "e": ["https://ok.example/a", "javascript:alert(1)"] }),
    )
    .await;
    assert!(err.starts_with("evidence[1]: "), "{err}");
    assert_eq!(
        refuse(json!({ "m": m, "d": "2023-10-16", "held": false, "p": 5 })).await,
        "participants: an occurrence that was not held has no participants"
    );
    let err = refuse(json!({ "m": continuous["id"], "d": "2023-10-16", "held": true })).await;
    assert_eq!(
        err,
        "date: measure I.4 has no dated occurrences: its schedule is continuous work"
    );
    let err = refuse(json!({ "m": "00000000-0000-0000-0000-000000000000", "d": "2023-10-16", "held": true })).await;
    assert!(err.contains("not found"), "{err}");
    let history = hub
        .gql(
            "query($id: ID!) { measure(id: $id) { occurrences(from: \"2023-10-09\", to: \"2023-10-16\") { date history { revision } } } }",
            json!({ "id": m }),
        )
        .await
        .expect("history");
    assert_eq!(
        history["measure"]["occurrences"],
        json!([{ "date": "2023-10-09", "history": [{ "revision": 1 }, { "revision": 2 }] }, { "date": "2023-10-16", "history": [] }])
    );

    // Both reports are in the event log, the second with the first as `before`.
    drained(&hub).await;
    let reported = events(&hub, json!({ "kinds": ["OCCURRENCE_REPORTED"], "underMeasure": m })).await;
    assert_eq!(reported.len(), 2);
    assert_eq!(json_field(&reported[0], "before"), Value::Null);
    assert_eq!(json_field(&reported[1], "before")["held"], true);
    assert_eq!(json_field(&reported[1], "after")["date"], "2023-10-09");
    assert_eq!(json_field(&reported[1], "after")["revision"], 2);
    hub.finish().await.expect("finish");
}

/// Fetches a calendar feed from the plans subgraph: (status, content type, body).
async fn feed(hub: &TestHub, organisation: &str) -> (u16, String, String) {
    let addr = hub
        .hub
        .as_ref()
        .and_then(|h| h.addr(Target::PLANS))
        .expect("plans address");
    let url = roadmap_plans::calendar::feed_url(&format!("http://{addr}"), organisation);
    let response = reqwest::get(&url).await.expect("feed request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, content_type, response.text().await.expect("feed body"))
}

/// The VEVENTs of a feed, parsed by the `icalendar` crate: (uid, start day, summary, description).
fn parse_events(body: &str) -> Vec<(String, NaiveDate, String, String)> {
    use icalendar::{CalendarComponent, Component, DatePerhapsTime};
    let calendar: icalendar::Calendar = body.parse().unwrap_or_else(|e| panic!("not iCalendar: {e}"));
    calendar
        .components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .map(|e| {
            let start = match e.get_start() {
                Some(DatePerhapsTime::Date(d)) => d,
                other => panic!("DTSTART is not a date: {other:?}"),
            };
            (
                e.get_uid().expect("UID").to_string(),
                start,
                e.get_summary().expect("SUMMARY").to_string(),
                e.get_description().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_organisations_calendar_feed_parses_and_holds_the_weekly_practicums_of_000_iii_1() {
    let hub = TestHub::spawn().await.expect("hub");
    let report = import_nikolaevsk(&hub).await;
    let plan_title = report["plan"]["title"].as_str().expect("title").to_string();
    let data = hub
        .gql(
            "query($id: ID!) { plan(id: $id) { owner { id name } measures { id key responsible { id abbreviations } } } }",
            json!({ "id": report["plan"]["id"] }),
        )
        .await
        .expect("plan");
    let owner = data["plan"]["owner"]["id"].as_str().expect("owner").to_string();
    let ms = data["plan"]["measures"].as_array().expect("measures").clone();
    let iii1 = by_key(&ms, "III.1")["id"].as_str().expect("id").to_string();
    // "учителя-предметники ОО" is a role: the measure falls to the plan's owner.
    assert_eq!(by_key(&ms, "III.1")["responsible"], json!([]));

    let (status, content_type, body) = feed(&hub, &owner).await;
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with("text/calendar"), "{content_type}");
    assert!(body.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    assert!(body.ends_with("END:VCALENDAR\r\n"));
    // CRLF only, folded at 75 octets.
    assert!(!body.replace("\r\n", "").contains(['\r', '\n']));
    for line in body.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    // The title's commas are escaped in the raw text.
    let unfolded = body.replace("\r\n ", "");
    assert!(unfolded.contains("(математика\\, физика\\, химия\\, биология\\, русский язык)"));
    // Named after the owner (the document's own spelling of it, resolved by the people subgraph).
    let owner_name = data["plan"]["owner"]["name"].as_str().expect("owner name");
    assert!(owner_name.to_lowercase() == NIK_OWNER.to_lowercase(), "{owner_name}");
    assert!(unfolded.contains(&format!("\r\nX-WR-CALNAME:{owner_name}\r\n")));

    let events = parse_events(&body);
    let practicums: Vec<&(String, NaiveDate, String, String)> =
        events.iter().filter(|e| e.2.starts_with("III.1 ")).collect();
    let starts: Vec<String> = practicums.iter().map(|e| e.1.to_string()).collect();
    assert_eq!(starts, practicum_mondays());
    let (uid, _, summary, description) = practicums[0];
    assert_eq!(uid, &format!("{iii1}-20231002@roadmap-hub"));
    assert!(summary.contains("Организация практикумов с обучающимися"), "{summary}");
    assert!(
        description.contains(plan_title.split_whitespace().next().unwrap_or("")),
        "{description}"
    );
    // Every occurrence is its own event, and UIDs are stable from one fetch to the next.
    let uids: Vec<&String> = events.iter().map(|e| &e.0).collect();
    assert_eq!(uids.iter().collect::<HashSet<_>>().len(), uids.len());
    let again: Vec<String> = parse_events(&feed(&hub, &owner).await.2)
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(again.iter().collect::<Vec<_>>(), uids);
    // "постоянно" (I.4) has no events.
    assert!(!events.iter().any(|e| e.2.starts_with("I.4 ")));

    // МБУ ИМЦ is responsible for I.6 (weekly webinars), not for III.1.
    let imc = by_key(&ms, "I.6")["responsible"]
        .as_array()
        .expect("responsible")
        .iter()
        .find(|o| {
            o["abbreviations"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "МБУ ИМЦ"))
        })
        .and_then(|o| o["id"].as_str())
        .expect("МБУ ИМЦ")
        .to_string();
    let (status, _, body) = feed(&hub, &imc).await;
    assert_eq!(status, 200);
    let imc_events = parse_events(&body);
    let webinars: Vec<String> = imc_events
        .iter()
        .filter(|e| e.2.starts_with("I.6 "))
        .map(|e| e.1.to_string())
        .collect();
    assert_eq!(webinars, practicum_mondays());
    assert!(!imc_events.iter().any(|e| e.2.starts_with("III.1 ")));

    // An organisation with no measures has an empty calendar; an unknown one has none.
    let data = hub
        .gql(
            "mutation { createOrganisation(input: { name: \"МБОУ СОШ № 2 г. Николаевска-на-Амуре\", kind: SCHOOL }) { id } }",
            json!({}),
        )
        .await
        .expect("school");
    let school = data["createOrganisation"]["id"].as_str().expect("id").to_string();
    let (status, _, body) = feed(&hub, &school).await;
    assert_eq!(status, 200, "{body}");
    assert!(parse_events(&body).is_empty());
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, _, body) = feed(&hub, &unknown).await;
    assert_eq!((status, body), (404, format!("organisation {unknown} not found")));
    let (status, _, body) = feed(&hub, "nobody").await;
    assert_eq!((status, body), (400, "`nobody` is not an organisation id".to_string()));
    hub.finish().await.expect("finish");
}

/// A generated year of unfinished measures (a backlog of thousands of misses at once) is worked
/// through in bounded, batched passes: a pass stops at its bound with the rest counted in
/// `roadmap_deadlines_pending`, batches cost a handful of statements each whatever their size, and
/// the hub's own watcher finishes the rest at its next start, one event per measure.
#[tokio::test]
async fn a_backlog_of_missed_deadlines_is_worked_through_in_bounded_batched_passes() {
    // Generated for the start of a school year (almost nothing due yet), watched a year later.
    let generated_on = date("2024-09-02");
    let today = date("2025-09-01");
    let settings = |c: &mut roadmap_common::config::HubConfig| {
        c.clock = roadmap_common::clock::Clock::fixed(today);
        c.deadline_interval = Duration::from_secs(3600);
    };
    // First without the events target: the outbox keeps the events (its relay waits), so the
    // statements counted below are the watcher's own.
    let mut hub = TestHub::spawn_with(&[Target::PEOPLE, Target::PLANS, Target::INDICATORS], settings)
        .await
        .expect("hub");
    let running = hub.hub.take().expect("hub");
    let pool = running.pool(Target::PLANS).expect("pool").clone();
    let params = roadmap_hub::generate::Params {
        regions: 1,
        municipalities: 10,
        schools: 18,
        seed: 41,
    };
    let mut conn = pool.acquire().await.expect("conn");
    roadmap_hub::generate::load(&mut conn, params, generated_on, false)
        .await
        .expect("generate");
    drop(conn);
    let backlog = roadmap_plans::store::pending_missed_deadlines(&pool, today)
        .await
        .map_err(|e| e.message())
        .expect("pending");
    assert!(backlog >= 5_000, "a backlog of {backlog}");

    // Bounded: a pass of two batches flags two thousand and says what is left.
    let before = roadmap_common::telemetry::sql_statement_count();
    let first = roadmap_plans::deadlines::pass(&pool, today, None, 2, None)
        .await
        .map_err(|e| e.message())
        .expect("pass");
    let statements = roadmap_common::telemetry::sql_statement_count() - before;
    assert_eq!((first.flagged, first.batches), (2_000, 2));
    assert!(first.resume.is_some());
    assert_eq!(first.pending, backlog - 2_000);
    // Per batch: begin, flag (with the events' context), insert the events, notify, commit; then
    // the count; the relay's retries add a few. Nothing per measure (it was three each).
    assert!(statements <= 40, "{statements} statements for 2,000 measures");
    let metrics = reqwest::get(format!("http://{}/metrics", running.addr(Target::PLANS).expect("addr")))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(&format!(
            "roadmap_deadlines_pending{{subgraph=\"plans\"}} {}",
            backlog - 2_000
        )),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("deadlines"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    running.shutdown().await.expect("stop");

    // Every target on the same database: the watcher's pass at start does the rest, in bounded
    // time, and every event reaches the log once.
    let started = std::time::Instant::now();
    let mut config = roadmap_hub::targets::ephemeral_config(hub.database_url.clone());
    settings(&mut config);
    let running = roadmap_hub::targets::Hub::start(&config, Target::ALL)
        .await
        .expect("restart");
    let pool = running.pool(Target::PLANS).expect("pool").clone();
    loop {
        let left = roadmap_plans::store::pending_missed_deadlines(&pool, today)
            .await
            .map_err(|e| e.message())
            .expect("pending");
        if left == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{left} left after 2 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while roadmap_common::outbox::unpublished(&pool).await.expect("outbox") > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "outbox not drained in 2 minutes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (events, measures): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT subject_id) FROM events.event WHERE kind = 'DEADLINE_MISSED'")
            .fetch_one(&pool)
            .await
            .expect("events");
    assert_eq!((events, measures), (backlog, backlog), "one event per missed measure");
    // A sample event carries the context the batch read with it.
    let context: Value = sqlx::query_scalar(
        "SELECT context FROM events.event WHERE kind = 'DEADLINE_MISSED' AND context->>'level' = 'SCHOOL' LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("a school measure's event");
    assert_eq!(context["draft"], false);
    assert!(
        context["plan"].is_string() && context["territory"].is_string(),
        "{context}"
    );
    // Its municipal and regional measures (and the federal one, when the regional implements it).
    assert!(
        context["ancestors"]
            .as_array()
            .is_some_and(|a| (2..=3).contains(&a.len())),
        "{context}"
    );
    running.shutdown().await.expect("stop");
    hub.finish().await.expect("finish");
}
