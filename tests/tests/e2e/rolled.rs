//! Rolled-up progress as the database keeps it (`measure_rollup`, kept by triggers; the
//! rule applied on read, `STORED` below): after every kind of change (statuses, progress, weights, links suggested, confirmed, rejected
//! and deleted, measures and plans deleted, a re-import, a generated bulk load) every measure's
//! stored value equals the rule computed from scratch over the confirmed links, at every level;
//! the GraphQL field answers the stored value; a propagated value is not a change of the measures
//! above (`updated_at`); and a plan's measures' `rolledProgress` costs one batched statement whatever
//! the cascade under them.

use std::collections::HashMap;

use roadmap_common::telemetry::sql_statement_count;
use roadmap_e2e::{TestHub, create_plan, ensure_territory as territory};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::import::fixture;
use crate::versions::changed_copy;

const LINK: &str =
    "mutation($m: ID!, $i: ID!, $s: LinkState) { linkMeasures(measure: $m, implements: $i, state: $s) { id state } }";
const DECIDE: &str = "mutation($id: ID!, $s: LinkState!) { decideLink(id: $id, state: $s) { state } }";
/// A measure `m`'s rolled-up progress as the database keeps it (what the hub reads).
const STORED: &str = "plans.measure_rolled_rule(m.status, m.progress, \
     (SELECT mr.mean FROM plans.measure_rollup mr WHERE mr.measure_id = m.id))::float8";
const SET: &str = "mutation($m: ID!, $s: MeasureStatus!, $p: Float) { setMeasureStatus(measure: $m, status: $s, progress: $p) { status } }";

/// An approved plan of `level` with `n` measures; returns (plan id, measure ids in order).
async fn plan(hub: &TestHub, title: &str, level: &str, territory: Option<&str>, n: usize) -> (String, Vec<String>) {
    let measures: Vec<Value> = (1..=n)
        .map(|i| json!({ "number": i.to_string(), "title": format!("{title}: мероприятие {i}") }))
        .collect();
    create_plan(
        hub,
        json!({ "title": title, "level": level, "territory": territory, "state": "APPROVED",
                "sections": [{ "number": "1", "title": "Раздел", "measures": measures }] }),
    )
    .await
}

/// Links `measure` → `implements` in `state` (CONFIRMED, SUGGESTED); returns the link's id.
async fn link(hub: &TestHub, measure: &str, implements: &str, state: &str) -> String {
    let data = hub
        .gql(LINK, json!({ "m": measure, "i": implements, "s": state }))
        .await
        .expect("link");
    assert_eq!(data["linkMeasures"]["state"], state);
    data["linkMeasures"]["id"].as_str().expect("id").to_string()
}

async fn set(hub: &TestHub, measure: &str, status: &str, progress: Option<f64>) {
    hub.gql(SET, json!({ "m": measure, "s": status, "p": progress }))
        .await
        .expect("setMeasureStatus");
}

async fn sql(pool: &PgPool, statement: &str, id: &str) {
    sqlx::query(statement)
        .bind(Uuid::parse_str(id).expect("uuid"))
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// Every measure's rolled-up progress by the rule, computed from scratch in this test over the
/// statuses, progress, weights and confirmed links as stored, next to the stored value; panics
/// on a cycle. Keyed by measure id: (by the rule, stored).
async fn from_scratch(pool: &PgPool) -> HashMap<Uuid, (Option<f64>, Option<f64>)> {
    // (id, status, progress, weight, stored value)
    type Figures = (Uuid, String, Option<f64>, f64, Option<f64>);
    let rows: Vec<Figures> = sqlx::query_as(&format!(
        "SELECT m.id, m.status, m.progress::float8, m.weight::float8, {STORED} FROM plans.measure m"
    ))
    .fetch_all(pool)
    .await
    .expect("measures");
    let links: Vec<(Uuid, Uuid)> =
        sqlx::query_as("SELECT implements_id, measure_id FROM plans.measure_link WHERE state = 'CONFIRMED'")
            .fetch_all(pool)
            .await
            .expect("links");
    let mut implementers: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (implemented, implementer) in links {
        implementers.entry(implemented).or_default().push(implementer);
    }
    let measures: HashMap<Uuid, (String, Option<f64>, f64)> = rows
        .iter()
        .map(|(id, status, progress, weight, _)| (*id, (status.clone(), *progress, *weight)))
        .collect();
    fn rule(
        id: Uuid,
        measures: &HashMap<Uuid, (String, Option<f64>, f64)>,
        implementers: &HashMap<Uuid, Vec<Uuid>>,
        memo: &mut HashMap<Uuid, Option<f64>>,
        path: &mut Vec<Uuid>,
    ) -> Option<f64> {
        if let Some(known) = memo.get(&id) {
            return *known;
        }
        assert!(!path.contains(&id), "a cycle through {id}");
        let (status, progress, _) = &measures[&id];
        let value = match status.as_str() {
            "CANCELLED" => None,
            "DONE" => Some(100.0),
            _ => {
                path.push(id);
                let (mut sum, mut weights) = (0.0, 0.0);
                for child in implementers.get(&id).into_iter().flatten() {
                    if let Some(v) = rule(*child, measures, implementers, memo, path) {
                        sum += v * measures[child].2;
                        weights += measures[child].2;
                    }
                }
                path.pop();
                Some(if weights > 0.0 {
                    sum / weights
                } else {
                    progress.unwrap_or(0.0)
                })
            }
        };
        memo.insert(id, value);
        value
    }
    let mut memo = HashMap::new();
    rows.iter()
        .map(|(id, _, _, _, stored)| {
            let expected = rule(*id, &measures, &implementers, &mut memo, &mut Vec::new());
            (*id, (expected, *stored))
        })
        .collect()
}

fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
        (None, None) => true,
        _ => false,
    }
}

/// Every stored value equals the rule from scratch; returns the values by id (as strings, the
/// GraphQL ids) for the test's own expectations.
async fn check(pool: &PgPool, after: &str) -> HashMap<String, Option<f64>> {
    let all = from_scratch(pool).await;
    let wrong: Vec<_> = all.iter().filter(|(_, (rule, stored))| !same(*rule, *stored)).collect();
    assert!(wrong.is_empty(), "after {after}: (by the rule, stored) {wrong:?}");
    all.into_iter().map(|(id, (v, _))| (id.to_string(), v)).collect()
}

fn approx(v: Option<f64>, expected: f64) -> bool {
    same(v, Some(expected))
}

async fn updated_at(pool: &PgPool, id: &str) -> chrono::DateTime<chrono::Utc> {
    sqlx::query_scalar("SELECT updated_at FROM plans.measure WHERE id = $1")
        .bind(Uuid::parse_str(id).expect("uuid"))
        .fetch_one(pool)
        .await
        .expect("updated_at")
}

/// Federal → regional → municipal → school, changed every way the hub (or SQL by hand) changes
/// it; after each change the whole table is checked against the rule from scratch, and a few
/// values at each level against figures worked out by hand.
#[tokio::test]
async fn stored_rolled_progress_follows_every_change_at_every_level() {
    let hub = TestHub::spawn().await.expect("hub");
    let pool = hub.plans_pool().clone();
    let region = territory(&hub, "Край прогресса", "REGION", None).await;
    let m_one = territory(&hub, "Первый район прогресса", "MUNICIPALITY", Some(&region)).await;
    let m_two = territory(&hub, "Второй район прогресса", "MUNICIPALITY", Some(&region)).await;
    let (_, f) = plan(&hub, "Федеральная карта", "FEDERAL", None, 2).await;
    let (_, r) = plan(&hub, "Краевая карта", "REGIONAL", Some(&region), 3).await;
    let (_, m1) = plan(&hub, "Карта первого района", "MUNICIPAL", Some(&m_one), 2).await;
    let (m2_plan, m2) = plan(&hub, "Карта второго района", "MUNICIPAL", Some(&m_two), 1).await;
    let (_, s) = plan(&hub, "Карта школы", "SCHOOL", Some(&m_one), 3).await;
    // f0 ← r0, r1, r2; f1 ← r2; r0 ← m1[0], m2[0]; r1 ← m1[1]; m1[0] ← s0, s1 (and s2 suggested).
    for (m, i) in [
        (&r[0], &f[0]),
        (&r[1], &f[0]),
        (&r[2], &f[0]),
        (&r[2], &f[1]),
        (&m1[0], &r[0]),
        (&m2[0], &r[0]),
        (&m1[1], &r[1]),
        (&s[0], &m1[0]),
        (&s[1], &m1[0]),
    ] {
        link(&hub, m, i, "CONFIRMED").await;
    }
    let suggested = link(&hub, &s[2], &m1[0], "SUGGESTED").await;
    let v = check(&pool, "linking").await;
    assert!(approx(v[&f[0]], 0.0), "nothing reported anywhere");

    set(&hub, &s[0], "IN_PROGRESS", Some(20.0)).await;
    set(&hub, &s[1], "IN_PROGRESS", Some(60.0)).await;
    set(&hub, &m1[0], "IN_PROGRESS", Some(90.0)).await; // has implementers: its own 90 does not count
    set(&hub, &m2[0], "DONE", None).await;
    set(&hub, &m1[1], "IN_PROGRESS", Some(30.0)).await;
    set(&hub, &r[2], "IN_PROGRESS", Some(70.0)).await;
    let v = check(&pool, "statuses").await;
    assert!(approx(v[&m1[0]], 40.0), "(20 + 60) / 2");
    assert!(approx(v[&r[0]], 70.0), "(40 + 100) / 2");
    assert!(approx(v[&r[1]], 30.0));
    assert!(approx(v[&f[0]], (70.0 + 30.0 + 70.0) / 3.0));
    assert!(approx(v[&f[1]], 70.0));

    // What GraphQL answers is the stored value, for one measure and for a plan's measures.
    let data = hub
        .gql(
            "query($id: ID!) { measure(id: $id) { rolledProgress plan { measures { id rolledProgress } } } }",
            json!({ "id": r[0] }),
        )
        .await
        .expect("rolled");
    assert_eq!(data["measure"]["rolledProgress"], 70.0);
    for m in data["measure"]["plan"]["measures"].as_array().expect("measures") {
        let id = m["id"].as_str().expect("id");
        assert!(
            approx(m["rolledProgress"].as_f64(), v[id].expect("not cancelled")),
            "{m}"
        );
    }

    // A propagated value is not a change of the measures above; the changed one is.
    let (f0_before, s0_before) = (updated_at(&pool, &f[0]).await, updated_at(&pool, &s[0]).await);
    set(&hub, &s[0], "DONE", None).await;
    let v = check(&pool, "a school measure done").await;
    assert!(approx(v[&m1[0]], 80.0), "(100 + 60) / 2");
    assert_eq!(
        updated_at(&pool, &f[0]).await,
        f0_before,
        "f0's rolled progress moved, f0 did not"
    );
    assert!(updated_at(&pool, &s[0]).await > s0_before);

    // Weights, written by SQL (no mutation sets them): the triggers keep up whoever writes.
    sql(&pool, "UPDATE plans.measure SET weight = 3 WHERE id = $1", &m2[0]).await;
    let v = check(&pool, "a weight").await;
    assert!(approx(v[&r[0]], (80.0 + 300.0) / 4.0));

    // A suggested link counts once confirmed, and no more once rejected.
    set(&hub, &s[2], "IN_PROGRESS", Some(5.0)).await;
    let v = check(&pool, "progress of a suggested implementer").await;
    assert!(approx(v[&m1[0]], 80.0), "a suggestion does not count");
    hub.gql(DECIDE, json!({ "id": suggested, "s": "CONFIRMED" }))
        .await
        .expect("confirm");
    let v = check(&pool, "a link confirmed").await;
    assert!(approx(v[&m1[0]], (100.0 + 60.0 + 5.0) / 3.0));
    hub.gql(DECIDE, json!({ "id": suggested, "s": "REJECTED" }))
        .await
        .expect("reject");
    let v = check(&pool, "a link rejected").await;
    assert!(approx(v[&m1[0]], 80.0));

    // A confirmed link added above measures under way (m1[1] now implements r0 too).
    link(&hub, &m1[1], &r[0], "CONFIRMED").await;
    let v = check(&pool, "a link added").await;
    assert!(approx(v[&r[0]], (80.0 + 300.0 + 30.0) / 5.0));

    // Cancelled implementers are left out; a cancelled measure has none.
    set(&hub, &r[1], "CANCELLED", None).await;
    let v = check(&pool, "a regional measure cancelled").await;
    assert_eq!(v[&r[1]], None);
    assert!(approx(v[&f[0]], (v[&r[0]].expect("r0") + 70.0) / 2.0));
    let data = hub
        .gql(
            "query($id: ID!) { measure(id: $id) { rolledProgress } }",
            json!({ "id": r[1] }),
        )
        .await
        .expect("cancelled");
    assert_eq!(data["measure"]["rolledProgress"], Value::Null);
    set(&hub, &r[1], "IN_PROGRESS", None).await;
    check(&pool, "a regional measure resumed").await;

    // Links deleted (m1[1]'s two), a measure deleted, a plan deleted (by SQL: links go with
    // their measures).
    sql(&pool, "DELETE FROM plans.measure_link WHERE measure_id = $1", &m1[1]).await;
    let v = check(&pool, "links deleted").await;
    assert!(approx(v[&r[1]], 0.0), "r1's own figure: no progress reported");
    sql(&pool, "DELETE FROM plans.measure WHERE id = $1", &s[1]).await;
    let v = check(&pool, "a school measure deleted").await;
    assert!(approx(v[&m1[0]], 100.0), "s0 alone");
    sql(&pool, "DELETE FROM plans.plan WHERE id = $1", &m2_plan).await;
    let v = check(&pool, "a municipal plan deleted").await;
    assert!(approx(v[&r[0]], 100.0), "m1[0] alone");
    assert!(approx(v[&f[0]], (100.0 + 0.0 + 70.0) / 3.0));
    hub.finish().await.expect("finish");
}

/// A cycle of confirmed links (refused by `linkMeasures` and `decideLink`, but data written
/// outside the API can hold one) does not hang the triggers or the rebuild: the rounds stop at
/// their bound and every request still answers.
#[tokio::test]
async fn a_cycle_of_links_stops_at_the_bound() {
    let hub = TestHub::spawn().await.expect("hub");
    let pool = hub.plans_pool().clone();
    let t = territory(&hub, "Район кольца", "MUNICIPALITY", None).await;
    let (a_plan, a) = plan(&hub, "План А", "MUNICIPAL", Some(&t), 1).await;
    let (b_plan, b) = plan(&hub, "План Б", "MUNICIPAL", Some(&t), 2).await;
    for (p, q) in [(&a_plan, &b_plan), (&b_plan, &a_plan)] {
        hub.gql(
            "mutation($p: ID!, $q: ID!) { setPlanParent(plan: $p, parent: $q) { id } }",
            json!({ "p": p, "q": q }),
        )
        .await
        .expect("parent");
    }
    // b[0] implements a[0], a[0] implements b[0] (the cycle), b[1] implements a[0] too.
    link(&hub, &b[0], &a[0], "CONFIRMED").await;
    link(&hub, &b[1], &a[0], "CONFIRMED").await;
    let back = link(&hub, &a[0], &b[0], "REJECTED").await;
    let refused = hub
        .request(DECIDE, json!({ "id": back, "s": "CONFIRMED" }))
        .await
        .expect("decide request");
    assert!(
        refused.get("errors").is_some(),
        "decideLink does not close a cycle: {refused}"
    );
    sql(
        &pool,
        "UPDATE plans.measure_link SET state = 'CONFIRMED' WHERE id = $1",
        &back,
    )
    .await;
    let started = std::time::Instant::now();
    set(&hub, &b[1], "DONE", None).await;
    let data = hub
        .gql(
            "query($a: ID!, $b: ID!) { a: measure(id: $a) { rolledProgress } b: measure(id: $b) { rolledProgress } }",
            json!({ "a": a[0], "b": b[0] }),
        )
        .await
        .expect("rolled");
    // a = (b + 100) / 2 and b = a: the rounds approach 100 and stop at the bound.
    for m in ["a", "b"] {
        let v = data[m]["rolledProgress"].as_f64().expect("a value");
        assert!(v > 99.0 && v < 100.0, "{data}");
    }
    let rebuilt: i64 = sqlx::query_scalar("SELECT plans.measure_rolled_rebuild()")
        .fetch_one(&pool)
        .await
        .expect("rebuild");
    assert!(rebuilt >= 0);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    hub.finish().await.expect("finish");
}

/// A regional plan imported, implemented by a municipal plan and implementing a federal one,
/// then imported again with one implemented measure removed and another changed: the values
/// above and below follow, and equal the rule from scratch.
#[tokio::test]
async fn stored_rolled_progress_follows_a_re_import() {
    let hub = TestHub::spawn().await.expect("hub");
    let pool = hub.plans_pool().clone();
    let import = "mutation($input: ImportRoadmapInput!) { importRoadmap(input: $input) { status plan { id territory { id } } } }";
    let original = fixture("002_587447f0e4c9bb26.txt");
    let input = |text: &str, file: &str| json!({ "input": { "document": text, "fileName": file, "level": "REGIONAL", "territory": "Забайкальский край" } });
    let first = hub.gql(import, input(&original, "002.txt")).await.expect("import");
    let plan_id = first["importRoadmap"]["plan"]["id"].as_str().expect("plan").to_string();
    let region = first["importRoadmap"]["plan"]["territory"]["id"]
        .as_str()
        .expect("territory")
        .to_string();
    let keyed = |data: &Value| -> HashMap<String, String> {
        data["plan"]["measures"]
            .as_array()
            .expect("measures")
            .iter()
            .filter_map(|m| Some((m["key"].as_str()?.to_string(), m["id"].as_str()?.to_string())))
            .collect()
    };
    let measures = "query($id: ID!) { plan(id: $id) { measures { id key } } }";
    let before = keyed(&hub.gql(measures, json!({ "id": plan_id })).await.expect("measures"));
    let (removed, changed, kept) = (&before["1.7"], &before["2.5"], &before["1.1"]);
    let municipality = territory(&hub, "Читинский район прогресса", "MUNICIPALITY", Some(&region)).await;
    let (_, f) = plan(&hub, "Федеральная карта", "FEDERAL", None, 1).await;
    let (_, m) = plan(&hub, "Карта района", "MUNICIPAL", Some(&municipality), 3).await;
    for (low, high) in [(removed, &f[0]), (changed, &f[0]), (kept, &f[0])] {
        link(&hub, low, high, "CONFIRMED").await;
    }
    for (low, high) in [(&m[0], removed), (&m[1], changed), (&m[2], kept)] {
        link(&hub, low, high, "CONFIRMED").await;
    }
    set(&hub, &m[0], "DONE", None).await;
    set(&hub, &m[1], "IN_PROGRESS", Some(40.0)).await;
    set(&hub, &m[2], "IN_PROGRESS", Some(10.0)).await;
    let v = check(&pool, "the first import").await;
    assert!(approx(v[&f[0]], (100.0 + 40.0 + 10.0) / 3.0));

    let second = hub
        .gql(import, input(&changed_copy(&original), "002-v2.txt"))
        .await
        .expect("re-import");
    assert_eq!(second["importRoadmap"]["status"], "UPDATED");
    let after = keyed(&hub.gql(measures, json!({ "id": plan_id })).await.expect("measures"));
    assert!(!after.contains_key("1.7"), "1.7 removed");
    assert_eq!(after["2.5"], *changed, "2.5 changed in place");
    let v = check(&pool, "the re-import").await;
    assert!(
        approx(v[&f[0]], (40.0 + 10.0) / 2.0),
        "1.7 and its implementer are gone"
    );
    assert!(approx(v[changed], 40.0));
    hub.finish().await.expect("finish");
}

/// The generator's bulk load defers the triggers and rebuilds once: every value of a generated
/// cascade (five levels, classes included) equals the rule; the triggers work again after it;
/// within a deferred transaction nothing propagates until the rebuild; a rebuild repairs values
/// written wrong by hand and changes nothing on a table that is right.
#[tokio::test]
async fn a_generated_cascade_is_rolled_up_and_the_rebuild_repairs_it() {
    let hub = TestHub::spawn().await.expect("hub");
    let pool = hub.plans_pool().clone();
    let mut conn = pool.acquire().await.expect("conn");
    let params = roadmap_hub::generate::Params {
        regions: 2,
        municipalities: 3,
        schools: 3,
        seed: 29,
    };
    // Early in a school year: most measures are under way, few done.
    let today = chrono::NaiveDate::from_ymd_opt(2025, 10, 15).expect("date");
    roadmap_hub::generate::load(&mut conn, params, today, false)
        .await
        .expect("generate");
    drop(conn);
    let v = check(&pool, "a generated load").await;
    // The rule gives values that differ from the measures' own figures at every level above
    // the classes (else this test would not see a missing rebuild).
    let rolled_up: Vec<(String, i64)> = sqlx::query_as(&format!(
        "SELECT p.level, count(*) FROM plans.measure m JOIN plans.plan p ON p.id = m.plan_id \
         WHERE m.status NOT IN ('DONE', 'CANCELLED') AND {STORED} IS DISTINCT FROM COALESCE(m.progress, 0) \
         GROUP BY p.level ORDER BY p.level"
    ))
    .fetch_all(&pool)
    .await
    .expect("levels");
    let levels: Vec<&str> = rolled_up.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(levels, ["FEDERAL", "MUNICIPAL", "REGIONAL", "SCHOOL"], "{rolled_up:?}");

    // Not deferred any more: a change by SQL after the load propagates at once.
    let school: Uuid = sqlx::query_scalar(
        "SELECT l.measure_id FROM plans.measure_link l \
         JOIN plans.measure m ON m.id = l.measure_id JOIN plans.plan p ON p.id = m.plan_id \
         JOIN plans.measure u ON u.id = l.implements_id \
         WHERE l.state = 'CONFIRMED' AND p.level = 'SCHOOL' AND m.status <> 'CANCELLED' \
           AND u.status NOT IN ('DONE', 'CANCELLED') \
         ORDER BY l.measure_id LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("a school link");
    sqlx::query("UPDATE plans.measure SET status = 'CANCELLED' WHERE id = $1")
        .bind(school)
        .execute(&pool)
        .await
        .expect("cancel");
    let after = check(&pool, "a generated school measure cancelled").await;
    assert_eq!(after[&school.to_string()], None);
    assert!(v[&school.to_string()].is_some());

    // Deferred: a class measure done and linked to a municipal measure below 100 in the
    // transaction change nothing above until the rebuild, which raises it.
    let above: Uuid = sqlx::query_scalar(&format!(
        "SELECT m.id FROM plans.measure m JOIN plans.plan p ON p.id = m.plan_id \
         WHERE p.level = 'MUNICIPAL' AND m.status NOT IN ('DONE', 'CANCELLED') AND {STORED} < 100 \
         ORDER BY m.id LIMIT 1"
    ))
    .fetch_one(&pool)
    .await
    .expect("a municipal measure below 100");
    let class: Uuid = sqlx::query_scalar(
        "SELECT m.id FROM plans.measure m JOIN plans.plan p ON p.id = m.plan_id \
         WHERE p.level = 'CLASSROOM' ORDER BY m.id LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .expect("a class measure");
    let stored_sql = format!("SELECT {STORED} FROM plans.measure m WHERE m.id = $1");
    let stored = |id: Uuid| sqlx::query_scalar::<_, Option<f64>>(&stored_sql).bind(id);
    let mut tx = pool.begin().await.expect("tx");
    sqlx::query("SELECT set_config('roadmap.rolled_progress', 'deferred', true)")
        .execute(&mut *tx)
        .await
        .expect("defer");
    let before = stored(above).fetch_one(&mut *tx).await.expect("before");
    sqlx::query("UPDATE plans.measure SET status = 'DONE' WHERE id = $1")
        .bind(class)
        .execute(&mut *tx)
        .await
        .expect("done");
    sqlx::query(
        "INSERT INTO plans.measure_link (id, measure_id, implements_id, state, created_by) \
         VALUES (gen_random_uuid(), $1, $2, 'CONFIRMED', 'test')",
    )
    .bind(class)
    .bind(above)
    .execute(&mut *tx)
    .await
    .expect("link");
    assert_eq!(
        stored(class).fetch_one(&mut *tx).await.expect("own"),
        Some(100.0),
        "its own value is kept"
    );
    assert_eq!(stored(above).fetch_one(&mut *tx).await.expect("deferred"), before);
    let changed: i64 = sqlx::query_scalar("SELECT plans.measure_rolled_rebuild()")
        .fetch_one(&mut *tx)
        .await
        .expect("rebuild");
    assert!(changed > 0);
    let rebuilt = stored(above).fetch_one(&mut *tx).await.expect("rebuilt");
    assert!(rebuilt > before, "{rebuilt:?} after {before:?}");
    tx.commit().await.expect("commit");
    check(&pool, "a deferred change and a rebuild").await;

    // Means written wrong by hand (changed, missing, and for measures without implementers): the
    // rebuild repairs every one, then finds nothing to do.
    let mut wrong = 0;
    for spoil in [
        "UPDATE plans.measure_rollup SET mean = 7",
        "DELETE FROM plans.measure_rollup WHERE measure_id IN \
           (SELECT measure_id FROM plans.measure_rollup ORDER BY measure_id LIMIT 5)",
        "INSERT INTO plans.measure_rollup (measure_id, mean) SELECT m.id, 7 FROM plans.measure m \
           WHERE NOT EXISTS (SELECT 1 FROM plans.measure_rollup mr WHERE mr.measure_id = m.id) LIMIT 5",
    ] {
        wrong += sqlx::query(spoil).execute(&pool).await.expect("spoil").rows_affected();
    }
    assert!(
        from_scratch(&pool)
            .await
            .values()
            .any(|(rule, stored)| !same(*rule, *stored))
    );
    let repaired: i64 = sqlx::query_scalar("SELECT plans.measure_rolled_rebuild()")
        .fetch_one(&pool)
        .await
        .expect("rebuild");
    assert!(repaired > 0 && repaired <= wrong as i64, "{repaired} of {wrong}");
    check(&pool, "a rebuild").await;
    let again: i64 = sqlx::query_scalar("SELECT plans.measure_rolled_rebuild()")
        .fetch_one(&pool)
        .await
        .expect("rebuild");
    assert_eq!(again, 0);
    hub.finish().await.expect("finish");
}

/// `plan { measures { rolledProgress } }` costs one SQL statement more than `plan { measures
/// { id } }`, for a plan of 2 measures and one of 12, each over a cascade two levels deep: the
/// stored values of all the plan's measures are one batched read. Background work of the hub
/// also counts statements in this process, so each figure is the least of three runs.
#[tokio::test]
async fn a_plans_rolled_progress_is_one_batched_read() {
    let hub = TestHub::spawn().await.expect("hub");
    let pool = hub.plans_pool().clone();
    let region = territory(&hub, "Край пакетов", "REGION", None).await;
    let mut extra = Vec::new();
    for n in [2, 12] {
        let (regional, r) = plan(&hub, &format!("Краевая карта на {n}"), "REGIONAL", Some(&region), n).await;
        for (i, root) in r.iter().enumerate() {
            let t = territory(&hub, &format!("Район пакетов {n}.{i}"), "MUNICIPALITY", Some(&region)).await;
            let (_, m) = plan(&hub, &format!("Карта района {n}.{i}"), "MUNICIPAL", Some(&t), 1).await;
            let (_, s) = plan(&hub, &format!("Карта школы {n}.{i}"), "SCHOOL", Some(&t), 2).await;
            link(&hub, &m[0], root, "CONFIRMED").await;
            link(&hub, &s[0], &m[0], "CONFIRMED").await;
            link(&hub, &s[1], &m[0], "CONFIRMED").await;
            set(&hub, &s[0], "DONE", None).await;
            set(&hub, &s[1], "IN_PROGRESS", Some(i as f64)).await;
        }
        hub.settle().await.expect("the event log caught up");
        let least = |query: &'static str| {
            let hub = &hub;
            let regional = regional.clone();
            async move {
                let mut least = u64::MAX;
                let mut answer = Value::Null;
                for _ in 0..3 {
                    let before = sql_statement_count();
                    answer = hub.gql(query, json!({ "id": regional })).await.expect("plan");
                    least = least.min(sql_statement_count() - before);
                }
                (least, answer)
            }
        };
        let (ids, _) = least("query($id: ID!) { plan(id: $id) { measures { id } } }").await;
        let (rolled, data) = least("query($id: ID!) { plan(id: $id) { measures { id rolledProgress } } }").await;
        let v = check(&pool, "the batch").await;
        let measures = data["plan"]["measures"].as_array().expect("measures");
        assert_eq!(measures.len(), n);
        for (i, m) in measures.iter().enumerate() {
            let id = m["id"].as_str().expect("id");
            assert!(approx(m["rolledProgress"].as_f64(), v[id].expect("value")), "{m}");
            assert!(approx(m["rolledProgress"].as_f64(), (100.0 + i as f64) / 2.0), "{m}");
        }
        extra.push((n, ids, rolled));
    }
    for (n, ids, rolled) in &extra {
        assert_eq!(rolled - ids, 1, "{n} measures: {extra:?}");
    }
    hub.finish().await.expect("finish");
}
