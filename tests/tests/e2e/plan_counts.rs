//! Stored measure counts per group of plans (`plan_group_counts`, migration 0013,
//! `roadmap_plans::counts`) behind `Territory.measureCounts`: the answer through the gateway
//! equals the effective statuses of the plans' measures whether groups are counted for today,
//! for another day or not at all, through status changes, a new plan, a re-import, a draft
//! approved, deletions of measures and of a plan; it comes from the stored counts when they are
//! current (a count changed behind the triggers' back shows); and, in SQL on a migrated
//! database, the triggers keep every group's plans exact and its counts exact for its own day
//! through any change of measures and plans, stop at once during bulk loads with nothing
//! counted, and lose no change to concurrent writers or to the refresher.
//!
//! Groups are checked against the plans and measures counted by the test's own statement
//! ([`problems`]), not by the migrations' functions.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDate;
use roadmap_common::clock::Clock;
use roadmap_e2e::{TestHub, create_plan};
use roadmap_hub::targets::Target;
use roadmap_plans::counts::{self, Today};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{Audited, COUNTS, audited, counts_of, expected_counts};

/// The hub's day: the 2024–2026 Zabaykalsky plan has measures overdue and measures not yet due.
const HUB_DAY: &str = "2025-01-15";
/// Another day, before the plan's first deadline: counts of it are not current for the hub.
const OTHER_DAY: &str = "2024-01-01";

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

/// What is wrong with the stored groups, counted here from `plan` and `measure`: a group whose
/// number of plans differs (or a group of plans with no row, or a row of no plans), or a
/// counted group whose counts differ from its plans' measures as of the group's day.
async fn problems(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "WITH plans AS ( \
           SELECT territory_id, state, COALESCE(time_zone, '') AS time_zone, \
                  COALESCE(period_start, '-infinity') AS period_start, COALESCE(period_end, 'infinity') AS period_end, \
                  count(*)::int4 AS plans \
             FROM plan WHERE territory_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5) \
         SELECT format('plans of %s %s: %s stored, %s there', \
                       coalesce(p.territory_id, g.territory_id), coalesce(p.state, g.state), g.plans, p.plans) \
           FROM plans p FULL JOIN plan_group_counts g \
             ON (g.territory_id, g.state, g.time_zone, g.period_start, g.period_end) \
              = (p.territory_id, p.state, p.time_zone, p.period_start, p.period_end) \
          WHERE g.plans IS DISTINCT FROM p.plans \
         UNION ALL \
         SELECT format('counts of %s %s as of %s: %s stored, %s there', g.territory_id, g.state, g.as_of, \
                       ARRAY[g.total, g.done, g.in_progress, g.overdue, g.not_started, g.cancelled], \
                       ARRAY[n.total, n.done, n.in_progress, n.overdue, n.not_started, n.cancelled]) \
           FROM plan_group_counts g CROSS JOIN LATERAL ( \
                SELECT count(m.id)::int4 AS total, \
                       count(m.id) FILTER (WHERE m.status = 'DONE')::int4 AS done, \
                       count(m.id) FILTER (WHERE m.status = 'IN_PROGRESS' AND (m.due_on IS NULL OR m.due_on >= g.as_of))::int4 AS in_progress, \
                       count(m.id) FILTER (WHERE m.status IN ('PLANNED', 'IN_PROGRESS') AND m.due_on < g.as_of)::int4 AS overdue, \
                       count(m.id) FILTER (WHERE m.status = 'PLANNED' AND (m.due_on IS NULL OR m.due_on >= g.as_of))::int4 AS not_started, \
                       count(m.id) FILTER (WHERE m.status = 'CANCELLED')::int4 AS cancelled \
                  FROM plan p LEFT JOIN measure m ON m.plan_id = p.id \
                 WHERE p.territory_id = g.territory_id AND p.state = g.state \
                   AND COALESCE(p.time_zone, '') = g.time_zone \
                   AND COALESCE(p.period_start, '-infinity') = g.period_start \
                   AND COALESCE(p.period_end, 'infinity') = g.period_end) n \
          WHERE g.as_of IS NOT NULL \
            AND (g.total, g.done, g.in_progress, g.overdue, g.not_started, g.cancelled) \
                IS DISTINCT FROM (n.total, n.done, n.in_progress, n.overdue, n.not_started, n.cancelled)",
    )
    .fetch_all(pool)
    .await
    .expect("groups checked")
}

/// The stored groups: (territory, state, time zone) → the day they are counted for, if any.
async fn groups(pool: &PgPool) -> BTreeMap<(Uuid, String, String), Option<NaiveDate>> {
    sqlx::query_as::<_, (Uuid, String, String, Option<NaiveDate>)>(
        "SELECT territory_id, state, time_zone, as_of FROM plan_group_counts",
    )
    .fetch_all(pool)
    .await
    .expect("groups")
    .into_iter()
    .map(|(t, s, z, d)| ((t, s, z), d))
    .collect()
}

async fn execute(pool: &PgPool, sql: &str) {
    sqlx::query(sql)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// `measureCounts` of the region and of its districts, anonymous and as an admin, each equal to
/// the effective statuses of the measures of the plans the reader sees; returns the admin's
/// answer for the region.
async fn assert_counts(hub: &TestHub, a: &Audited, stage: &str) -> Value {
    let query = format!("query($t: ID!) {{ territory(id: $t) {{ {COUNTS} children {{ id {COUNTS} }} }} }}");
    let all = [a.region.as_str(), &a.chita, &a.aga, &a.mogocha];
    let mut region = Value::Null;
    for token in [None, Some(roadmap_e2e::admin_token())] {
        let token = token.as_deref();
        let data = hub
            .gql_as(token, &query, json!({ "t": a.region }))
            .await
            .unwrap_or_else(|e| panic!("{stage}: {e}"));
        let got = &data["territory"];
        let expected = expected_counts(hub, token, &all).await;
        assert_eq!(counts_of(&got["measureCounts"]), expected, "{stage}: the region");
        for child in got["children"].as_array().expect("children") {
            let expected = expected_counts(hub, token, &[child["id"].as_str().expect("id")]).await;
            assert_eq!(counts_of(&child["measureCounts"]), expected, "{stage}: {}", child["id"]);
        }
        region = got["measureCounts"].clone();
    }
    region
}

async fn region_counts(hub: &TestHub, a: &Audited) -> Value {
    let data = hub
        .gql(
            &format!("query($t: ID!) {{ territory(id: $t) {{ {COUNTS} }} }}"),
            json!({ "t": a.region }),
        )
        .await
        .expect("counts");
    data["territory"]["measureCounts"].clone()
}

/// Sets a measure's status as people do (its effective status may then be OVERDUE).
async fn set_measure_status(hub: &TestHub, measure: &str, status: &str) {
    hub.gql(
        "mutation($m: ID!, $s: MeasureStatus!) { setMeasureStatus(measure: $m, status: $s) { status } }",
        json!({ "m": measure, "s": status }),
    )
    .await
    .unwrap_or_else(|e| panic!("{measure} {status}: {e}"));
}

fn n(counts: &Value, field: &str) -> i64 {
    counts[field].as_i64().unwrap_or_else(|| panic!("{field} in {counts}"))
}

/// The day each group of `territory` is counted for.
async fn days_of(pool: &PgPool, territory: &str) -> Vec<Option<NaiveDate>> {
    sqlx::query_scalar("SELECT as_of FROM plan_group_counts WHERE territory_id = $1::uuid ORDER BY id")
        .bind(territory)
        .fetch_all(pool)
        .await
        .expect("days")
}

#[tokio::test]
async fn measure_counts_from_stored_groups_equal_the_live_count_through_changes() {
    let hub = TestHub::spawn_with(Target::ALL, |c| {
        c.clock = Clock::fixed(day(HUB_DAY));
        // The refresher's start pass only: this test runs its passes itself.
        c.deadline_interval = Duration::from_secs(3600);
    })
    .await
    .expect("hub");
    let a = audited(&hub).await;
    let pool = hub.plans_pool().clone();
    assert_eq!(problems(&pool).await, Vec::<String>::new());

    // Counted from the measures (nothing counted yet, unless the start pass ran late).
    let live = assert_counts(&hub, &a, "before any pass").await;
    assert!(
        n(&live, "overdue") > 0 && n(&live, "notStarted") > 0,
        "both sides of the hub's day: {live}"
    );

    // A pass: every group is counted for the hub's day, exactly, and the answer is the same.
    let today = Today::from(day(HUB_DAY));
    counts::refresh(&pool, &today, None).await.expect("refresh");
    let stored = groups(&pool).await;
    assert_eq!(stored.len(), 4, "the region's plan, three districts' plans: {stored:?}");
    assert!(stored.values().all(|d| *d == Some(day(HUB_DAY))), "{stored:?}");
    assert_eq!(problems(&pool).await, Vec::<String>::new());
    assert_eq!(assert_counts(&hub, &a, "counted for today").await, live);

    // The answer comes from the stored counts: one changed behind the triggers' back shows ...
    let region_group = format!("territory_id = '{}'", a.region);
    execute(
        &pool,
        &format!("UPDATE plan_group_counts SET total = total + 1000 WHERE {region_group}"),
    )
    .await;
    assert_eq!(n(&region_counts(&hub, &a).await, "total"), n(&live, "total") + 1000);
    // ... unless it is not of today: then the group is counted from its plans' measures.
    execute(
        &pool,
        &format!("UPDATE plan_group_counts SET as_of = as_of - 1 WHERE {region_group}"),
    )
    .await;
    assert_eq!(region_counts(&hub, &a).await, live);
    let pass = counts::pass(&pool, &today, None, counts::PASS_BATCHES, None)
        .await
        .expect("pass");
    assert_eq!(
        (pass.counted, pass.pending, pass.done, pass.busy),
        (1, 0, true, false),
        "only the group of another day is counted again"
    );
    assert_eq!(problems(&pool).await, Vec::<String>::new());

    // A new plan joins Chita's counted group, its measures counted by the triggers.
    create_plan(
        &hub,
        json!({ "title": "Карта школ Читинского района", "level": "MUNICIPAL", "territory": a.chita,
                "state": "APPROVED", "sections": [{ "number": "1", "title": "Раздел",
                "measures": [{ "number": "1", "title": "Мера школ" }, { "number": "2", "title": "Ещё мера" }] }] }),
    )
    .await;
    assert_eq!(days_of(&pool, &a.chita).await, vec![Some(day(HUB_DAY))]);
    assert_eq!(problems(&pool).await, Vec::<String>::new());
    let grown = assert_counts(&hub, &a, "a new plan").await;
    assert_eq!(n(&grown, "total"), n(&live, "total") + 2);

    // Status changes, people's and the re-import's, kept by the triggers.
    let proper: Vec<String> = a
        .measures
        .iter()
        .filter(|m| m["kind"] == "MEASURE")
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect();
    for (measure, status) in [
        (&proper[0], "DONE"),
        (&proper[1], "CANCELLED"),
        (&proper[2], "IN_PROGRESS"),
        (&proper[3], "DONE"),
        (&proper[3], "PLANNED"),
    ] {
        set_measure_status(&hub, measure, status).await;
    }
    assert_eq!(problems(&pool).await, Vec::<String>::new());
    let changed = assert_counts(&hub, &a, "status changes").await;
    assert_ne!(changed, grown, "the statuses changed the counts");
    assert!(
        groups(&pool).await.values().all(|d| *d == Some(day(HUB_DAY))),
        "still counted for today"
    );

    let original = crate::import::fixture("002_587447f0e4c9bb26.txt");
    let data = hub
        .gql(
            "mutation($input: ImportRoadmapInput!) { importRoadmap(input: $input) { status plan { id } } }",
            json!({ "input": { "document": crate::versions::changed_copy(&original), "fileName": "002-v2.txt",
                               "level": "REGIONAL", "territory": "Забайкальский край", "state": "APPROVED" } }),
        )
        .await
        .expect("re-import");
    assert_eq!(data["importRoadmap"]["status"], "UPDATED");
    assert_eq!(data["importRoadmap"]["plan"]["id"], a.regional_plan.as_str());
    assert_eq!(problems(&pool).await, Vec::<String>::new());
    assert_eq!(days_of(&pool, &a.region).await, vec![Some(day(HUB_DAY))]);
    assert_counts(&hub, &a, "re-import").await;

    // The draft approved: it moves to a new group, not counted yet, read next to counted ones.
    let draft: Uuid = sqlx::query_scalar("SELECT id FROM plan WHERE territory_id = $1::uuid")
        .bind(&a.mogocha)
        .fetch_one(&pool)
        .await
        .expect("the draft");
    hub.gql(
        "mutation($p: ID!) { approvePlan(plan: $p) { state } }",
        json!({ "p": draft }),
    )
    .await
    .expect("approve");
    assert_eq!(days_of(&pool, &a.mogocha).await, vec![None]);
    assert_eq!(problems(&pool).await, Vec::<String>::new());
    let approved = assert_counts(&hub, &a, "a draft approved").await;
    assert_eq!(n(&approved, "plans"), n(&changed, "plans"));

    // Deletions (no mutation deletes a measure or a plan: an administrator's SQL).
    execute(
        &pool,
        &format!(
            "DELETE FROM measure WHERE id IN (SELECT id FROM measure WHERE plan_id = '{}' ORDER BY position LIMIT 1)",
            a.chita_plan
        ),
    )
    .await;
    assert_eq!(problems(&pool).await, Vec::<String>::new());
    assert_counts(&hub, &a, "a measure deleted").await;
    execute(&pool, &format!("DELETE FROM plan WHERE territory_id = '{}'", a.aga)).await;
    assert_eq!(days_of(&pool, &a.aga).await, Vec::<Option<NaiveDate>>::new());
    assert_eq!(problems(&pool).await, Vec::<String>::new());
    let after_deletions = assert_counts(&hub, &a, "a plan deleted").await;

    // Counts of another day: exact for it, ignored on the hub's day.
    counts::refresh(&pool, &Today::from(day(OTHER_DAY)), None)
        .await
        .expect("refresh");
    assert!(groups(&pool).await.values().all(|d| *d == Some(day(OTHER_DAY))));
    assert_eq!(problems(&pool).await, Vec::<String>::new());
    let stored_overdue: i64 = sqlx::query_scalar("SELECT sum(overdue)::int8 FROM plan_group_counts")
        .fetch_one(&pool)
        .await
        .expect("sum");
    assert!(
        stored_overdue < n(&after_deletions, "overdue"),
        "less is overdue at the start of 2024: {stored_overdue} against {after_deletions}"
    );
    assert_eq!(assert_counts(&hub, &a, "counts of another day").await, after_deletions);
    // A change while the counts are of another day recounts them for that day.
    set_measure_status(&hub, &proper[4], "DONE").await;
    assert_eq!(problems(&pool).await, Vec::<String>::new());
    assert_counts(&hub, &a, "a change to counts of another day").await;
    hub.finish().await.expect("finish");
}

/// A database with the plans schema migrated, and no hub (no refresher running beside the test).
struct Migrated {
    url: String,
    pool: PgPool,
}

impl Migrated {
    async fn new() -> Migrated {
        let url = format!("{}/roadmap_test_{}", roadmap_e2e::server_url(), Uuid::new_v4().simple());
        let pool = roadmap_common::db::prepare(&url, "plans", &roadmap_plans::MIGRATOR, 4)
            .await
            .expect("migrated");
        Migrated { url, pool }
    }

    async fn finish(self) {
        self.pool.close().await;
        roadmap_common::db::drop_database(&self.url).await.expect("drop");
    }
}

const TERRITORY: Uuid = Uuid::from_u128(0x7e);
const OTHER: Uuid = Uuid::from_u128(0x7f);
/// In `TERRITORY`, Chita's zone, with [`PLAN_D`].
const PLAN_A: Uuid = Uuid::from_u128(0xa);
/// In `TERRITORY`, no zone (Moscow's).
const PLAN_B: Uuid = Uuid::from_u128(0xb);
/// In `OTHER`, Kaliningrad's zone.
const PLAN_C: Uuid = Uuid::from_u128(0xc);
/// In `TERRITORY`, Chita's zone: A's group.
const PLAN_D: Uuid = Uuid::from_u128(0xd);
const SECTION_A2: Uuid = Uuid::from_u128(0xa2);

/// Plans A and D (one group), B and C (a group each), a section each (two for A), and 10
/// measures in each section, in three statements (the last inserts the measures).
fn seed_statements() -> [String; 3] {
    [
        format!(
            "INSERT INTO plan (id, title, level, territory_id, time_zone) VALUES \
               ('{PLAN_A}', 'План А', 'MUNICIPAL', '{TERRITORY}', 'Asia/Chita'), \
               ('{PLAN_B}', 'План Б', 'MUNICIPAL', '{TERRITORY}', NULL), \
               ('{PLAN_C}', 'План В', 'MUNICIPAL', '{OTHER}', 'Europe/Kaliningrad'), \
               ('{PLAN_D}', 'План Г', 'SCHOOL', '{TERRITORY}', 'Asia/Chita')"
        ),
        format!(
            "INSERT INTO section (id, plan_id, position, number, title) VALUES \
               (gen_random_uuid(), '{PLAN_A}', 1, '1', 'Раздел 1'), ('{SECTION_A2}', '{PLAN_A}', 2, '2', 'Раздел 2'), \
               (gen_random_uuid(), '{PLAN_B}', 1, '1', 'Раздел'), (gen_random_uuid(), '{PLAN_C}', 1, '1', 'Раздел'), \
               (gen_random_uuid(), '{PLAN_D}', 1, '1', 'Раздел')"
        ),
        add_measures(10),
    ]
}

async fn seed(conn: &mut sqlx::PgConnection) {
    for sql in seed_statements() {
        sqlx::query(&sql)
            .execute(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// One statement adding `count` measures to every section, with statuses and due days around
/// the days of the tests (none for every fifth).
fn add_measures(count: i32) -> String {
    format!(
        "INSERT INTO measure (id, plan_id, section_id, position, number, title, status, due_on) \
         SELECT gen_random_uuid(), s.plan_id, s.id, s.position * 1000 + i, i::text, 'Мера ' || i, \
                (ARRAY['PLANNED', 'IN_PROGRESS', 'DONE', 'CANCELLED'])[1 + i % 4], \
                CASE WHEN i % 5 = 0 THEN NULL ELSE date '2025-01-01' + (i * 37 % 240) END \
           FROM section s, generate_series(1, {count}) i"
    )
}

/// Scans of `plan_group_counts` by the current transaction so far.
async fn scans(tx: &mut sqlx::PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables WHERE relname = 'plan_group_counts'",
    )
    .fetch_one(tx)
    .await
    .expect("scans")
}

/// Group (territory, state, time zone) of the seed.
fn group(territory: Uuid, zone: &str) -> (Uuid, String, String) {
    (territory, "APPROVED".to_string(), zone.to_string())
}

#[tokio::test]
async fn plan_group_counts_triggers_keep_each_group_exact_for_its_day() {
    let db = Migrated::new().await;
    let pool = &db.pool;
    let (d1, d2) = (day("2025-03-01"), day("2025-06-01"));

    // With nothing counted (a bulk load), the one insert of measures looks at the table once and
    // stops; the plans are in their groups.
    let mut tx = pool.begin().await.expect("begin");
    let mut before = 0;
    for (i, sql) in seed_statements().iter().enumerate() {
        if i == 2 {
            before = scans(&mut tx).await;
        }
        sqlx::query(sql).execute(&mut *tx).await.expect("seed");
    }
    let looks = scans(&mut tx).await - before;
    tx.commit().await.expect("commit");
    assert_eq!(looks, 1, "one look at the table for the one insert of measures");
    let all_new = BTreeMap::from([
        (group(TERRITORY, "Asia/Chita"), None),
        (group(TERRITORY, ""), None),
        (group(OTHER, "Europe/Kaliningrad"), None),
    ]);
    assert_eq!(groups(pool).await, all_new, "plans in groups, nothing counted");
    assert_eq!(problems(pool).await, Vec::<String>::new());

    // A and D's group of d1, B's of d2, C's not counted.
    assert_eq!(counts::refresh(pool, &Today::from(d1), None).await.expect("refresh"), 3);
    let mut tx = pool.begin().await.expect("begin");
    for sql in [
        "SELECT plan_group_counts_try_refresh()".to_string(),
        format!(
            "UPDATE plan_group_counts SET as_of = NULL, total = NULL, done = NULL, in_progress = NULL, \
             overdue = NULL, not_started = NULL, cancelled = NULL WHERE territory_id = '{OTHER}'"
        ),
        format!("UPDATE plan_group_counts SET as_of = '{d2}' WHERE territory_id = '{TERRITORY}' AND time_zone = ''"),
        format!("SELECT plan_group_counts_recount(ARRAY['{PLAN_B}'::uuid])"),
    ] {
        sqlx::query(&sql).execute(&mut *tx).await.expect("days");
    }
    tx.commit().await.expect("commit");
    let expected = BTreeMap::from([
        (group(TERRITORY, "Asia/Chita"), Some(d1)),
        (group(TERRITORY, ""), Some(d2)),
        (group(OTHER, "Europe/Kaliningrad"), None),
    ]);
    assert_eq!(groups(pool).await, expected);
    assert_eq!(problems(pool).await, Vec::<String>::new());
    let counts_of_a = || async {
        sqlx::query_as::<_, (i32, i32)>("SELECT done, overdue FROM plan_group_counts WHERE time_zone = 'Asia/Chita'")
            .fetch_one(pool)
            .await
            .expect("counts")
    };
    let before = counts_of_a().await;

    // With groups counted, a statement touching their plans recounts them (more than one look).
    let mut tx = pool.begin().await.expect("begin");
    let start = scans(&mut tx).await;
    sqlx::query(&format!(
        "UPDATE measure SET status = 'DONE' WHERE plan_id = '{PLAN_D}' AND status = 'PLANNED'"
    ))
    .execute(&mut *tx)
    .await
    .expect("update");
    let looks = scans(&mut tx).await - start;
    tx.commit().await.expect("commit");
    assert!(looks > 1, "{looks}");
    assert_eq!(problems(pool).await, Vec::<String>::new());
    assert_ne!(before, counts_of_a().await, "D's change is in A and D's group");

    let statements = [
        // Statuses across every plan, in one statement.
        "UPDATE measure SET status = 'IN_PROGRESS' WHERE position % 3 = 0".to_string(),
        // Due days moved between d1 and d2: overdue for B's group (of d2), not for A's (of d1).
        "UPDATE measure SET due_on = date '2025-04-15' WHERE status IN ('PLANNED', 'IN_PROGRESS')".to_string(),
        // Measures moved from A to B.
        format!(
            "UPDATE measure SET plan_id = '{PLAN_B}', section_id = NULL \
             WHERE id IN (SELECT id FROM measure WHERE plan_id = '{PLAN_A}' ORDER BY position LIMIT 2)"
        ),
        // Nothing counted changes.
        "UPDATE measure SET title = title || '.'".to_string(),
        // Sub-rows of a measure of A, then the measure deleted with them.
        format!(
            "UPDATE measure SET parent_measure_id = (SELECT id FROM measure WHERE plan_id = '{PLAN_A}' \
                                                     ORDER BY position DESC LIMIT 1) \
             WHERE id IN (SELECT id FROM measure WHERE plan_id = '{PLAN_A}' ORDER BY position LIMIT 3)"
        ),
        format!(
            "DELETE FROM measure WHERE id = (SELECT id FROM measure WHERE plan_id = '{PLAN_A}' \
                                              ORDER BY position DESC LIMIT 1)"
        ),
        // Deleted measures of B, a section of A deleted with its measures.
        format!("DELETE FROM measure WHERE plan_id = '{PLAN_B}' AND status = 'CANCELLED'"),
        format!("DELETE FROM section WHERE id = '{SECTION_A2}'"),
        // New measures in every section, C's included.
        add_measures(5),
        // A new plan in A and D's group (no measures yet), then its measures.
        format!(
            "INSERT INTO plan (id, title, level, territory_id, time_zone) \
             VALUES ('{}', 'План Д', 'SCHOOL', '{TERRITORY}', 'Asia/Chita')",
            Uuid::from_u128(0xe)
        ),
        format!(
            "INSERT INTO measure (id, plan_id, position, number, title, status, due_on) VALUES \
               (gen_random_uuid(), '{0}', 1, '1', 'Мера', 'PLANNED', date '2025-02-01'), \
               (gen_random_uuid(), '{0}', 2, '2', 'Мера', 'DONE', NULL)",
            Uuid::from_u128(0xe)
        ),
        // A plan deleted with its measures from A and D's group.
        format!("DELETE FROM plan WHERE id = '{}'", Uuid::from_u128(0xe)),
    ];
    for sql in &statements {
        execute(pool, sql).await;
        assert_eq!(problems(pool).await, Vec::<String>::new(), "after {sql}");
        assert_eq!(groups(pool).await, expected, "no group added or re-dated by {sql}");
    }

    // D moved to another period: its old and new groups are no longer counted.
    execute(
        pool,
        &format!("UPDATE plan SET period_end = date '2026-12-31' WHERE id = '{PLAN_D}'"),
    )
    .await;
    assert_eq!(problems(pool).await, Vec::<String>::new());
    let moved: Vec<(String, Option<NaiveDate>, i32)> = sqlx::query_as(
        "SELECT period_end::text, as_of, plans FROM plan_group_counts WHERE time_zone = 'Asia/Chita' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("groups");
    assert_eq!(
        moved,
        vec![("2026-12-31".to_string(), None, 1), ("infinity".to_string(), None, 1)]
    );
    // B's plan deleted: its group goes.
    execute(pool, &format!("DELETE FROM plan WHERE id = '{PLAN_B}'")).await;
    assert!(!groups(pool).await.contains_key(&group(TERRITORY, "")));
    assert_eq!(problems(pool).await, Vec::<String>::new());

    // Only READ COMMITTED changes measures (a later snapshot could miss counts stored meanwhile).
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .execute(&mut *tx)
        .await
        .expect("isolation");
    let refused = sqlx::query("UPDATE measure SET status = 'DONE'")
        .execute(&mut *tx)
        .await
        .expect_err("refused");
    assert!(refused.to_string().contains("READ COMMITTED"), "{refused}");
    tx.rollback().await.expect("rollback");

    // TRUNCATE names no rows: measures truncated uncount every group, plans truncated empty the
    // table.
    counts::refresh(pool, &Today::from(d1), None).await.expect("refresh");
    execute(pool, "TRUNCATE measure CASCADE").await;
    assert!(groups(pool).await.values().all(Option::is_none));
    assert_eq!(problems(pool).await, Vec::<String>::new());
    execute(pool, "TRUNCATE plan CASCADE").await;
    assert!(groups(pool).await.is_empty());
    db.finish().await;
}

/// Waits until backend `pid` waits for a lock.
async fn waits_for_a_lock(pool: &PgPool, pid: i32) {
    for _ in 0..400 {
        let waiting: Option<String> = sqlx::query_scalar("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1")
            .bind(pid)
            .fetch_optional(pool)
            .await
            .expect("activity")
            .flatten();
        if waiting.as_deref() == Some("Lock") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("backend {pid} never waited for a lock");
}

/// Runs `sql` on a connection of its own in a task, once that connection waits for a lock.
async fn blocked(pool: &PgPool, sql: String) -> tokio::task::JoinHandle<()> {
    let mut conn = pool.acquire().await.expect("connection");
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await
        .expect("pid");
    let task = tokio::spawn(async move {
        sqlx::query(&sql)
            .execute(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    });
    waits_for_a_lock(pool, pid).await;
    task
}

#[tokio::test]
async fn plan_group_counts_lose_no_change_to_concurrent_writers_or_the_refresher() {
    let db = Migrated::new().await;
    let pool = &db.pool;
    let today = Today::from(day("2025-03-01"));
    seed(&mut pool.acquire().await.expect("connection")).await;

    // A transaction that changed measures keeps the refresher out until it commits.
    let mut writer = pool.begin().await.expect("begin");
    sqlx::query(&format!(
        "UPDATE measure SET status = 'DONE' WHERE plan_id = '{PLAN_C}' AND status = 'PLANNED'"
    ))
    .execute(&mut *writer)
    .await
    .expect("update");
    assert_eq!(
        counts::count_batch(pool, &today, None).await.expect("batch"),
        None,
        "busy"
    );
    let pass = counts::pass(pool, &today, None, 1, None).await.expect("pass");
    assert!(
        pass.busy && !pass.done && pass.counted == 0 && pass.pending == 3,
        "{pass:?}"
    );
    writer.commit().await.expect("commit");
    let counted = counts::count_batch(pool, &today, None)
        .await
        .expect("batch")
        .expect("not busy");
    assert_eq!(counted.len(), 3);
    assert_eq!(problems(pool).await, Vec::<String>::new());

    // A change made while a batch of the refresher is open waits for it, then recounts the group
    // the batch counted (before the change).
    execute(
        pool,
        &format!(
            "UPDATE plan_group_counts SET as_of = NULL, total = NULL, done = NULL, in_progress = NULL, \
             overdue = NULL, not_started = NULL, cancelled = NULL WHERE territory_id = '{OTHER}'"
        ),
    )
    .await;
    let mut batch = pool.begin().await.expect("begin");
    assert!(
        roadmap_plans::store::try_lock_plan_group_counts(&mut batch)
            .await
            .expect("lock")
    );
    let stored = roadmap_plans::store::count_plan_groups(&mut batch, &today, None, counts::BATCH)
        .await
        .expect("count");
    assert_eq!(stored.len(), 1);
    let change = blocked(
        pool,
        format!("UPDATE measure SET status = 'CANCELLED' WHERE plan_id = '{PLAN_C}' AND status = 'IN_PROGRESS'"),
    )
    .await;
    batch.commit().await.expect("commit");
    change.await.expect("change");
    assert_eq!(problems(pool).await, Vec::<String>::new());

    // Two writers of one group (A's and D's measures): the second waits for the first's group,
    // then counts its change too.
    let mut first = pool.begin().await.expect("begin");
    sqlx::query(&format!(
        "UPDATE measure SET status = 'DONE' WHERE id = (SELECT id FROM measure WHERE plan_id = '{PLAN_A}' \
                                                         AND status = 'PLANNED' ORDER BY position LIMIT 1)"
    ))
    .execute(&mut *first)
    .await
    .expect("first");
    let second = blocked(
        pool,
        format!(
            "UPDATE measure SET status = 'DONE' WHERE id = (SELECT id FROM measure WHERE plan_id = '{PLAN_D}' \
                                                             AND status = 'IN_PROGRESS' ORDER BY position LIMIT 1)"
        ),
    )
    .await;
    first.commit().await.expect("commit");
    second.await.expect("second");
    assert_eq!(problems(pool).await, Vec::<String>::new());

    // A plan moved to another group while a change of its measures is open: the move waits for
    // it, then leaves both groups uncounted (the change counted in neither is never lost).
    let mut change = pool.begin().await.expect("begin");
    sqlx::query(&format!(
        "UPDATE measure SET status = 'CANCELLED' WHERE id = (SELECT id FROM measure WHERE plan_id = '{PLAN_D}' \
                                                              AND status = 'DONE' ORDER BY position LIMIT 1)"
    ))
    .execute(&mut *change)
    .await
    .expect("change");
    let approval = blocked(pool, format!("UPDATE plan SET state = 'DRAFT' WHERE id = '{PLAN_D}'")).await;
    change.commit().await.expect("commit");
    approval.await.expect("move");
    assert_eq!(problems(pool).await, Vec::<String>::new());
    let chita: Vec<(String, Option<NaiveDate>)> =
        sqlx::query_as("SELECT state, as_of FROM plan_group_counts WHERE time_zone = 'Asia/Chita' ORDER BY state")
            .fetch_all(pool)
            .await
            .expect("groups");
    assert_eq!(chita, vec![("APPROVED".to_string(), None), ("DRAFT".to_string(), None)]);
    counts::refresh(pool, &today, None).await.expect("refresh");
    assert_eq!(problems(pool).await, Vec::<String>::new());
    db.finish().await;
}

/// Counts of the territories `TERRITORY` and `OTHER` by the read of `measureCounts`.
async fn read(pool: &PgPool, today: &Today) -> Vec<(Uuid, [i32; 8])> {
    let mut rows = roadmap_plans::store::territory_counts(pool, &[TERRITORY, OTHER], today.latest(), today, None)
        .await
        .expect("read");
    rows.sort_by_key(|r| r.territory_id);
    rows.into_iter()
        .map(|r| {
            let c = r.counts;
            let n = [
                c.plans,
                c.plans_in_force,
                c.total,
                c.done,
                c.in_progress,
                c.overdue,
                c.not_started,
                c.cancelled,
            ];
            (r.territory_id, n)
        })
        .collect()
}

#[tokio::test]
async fn plan_group_counts_are_current_by_the_day_in_each_groups_zone() {
    let db = Migrated::new().await;
    let pool = &db.pool;
    seed(&mut pool.acquire().await.expect("connection")).await;
    // Measures due on 10 March, unfinished.
    execute(
        pool,
        "UPDATE measure SET due_on = date '2025-03-10' WHERE status IN ('PLANNED', 'IN_PROGRESS') AND position % 2 = 0",
    )
    .await;
    let zones = vec![
        "Asia/Chita".to_string(),
        "Europe/Kaliningrad".to_string(),
        "Europe/Moscow".to_string(),
    ];
    // 16:00 UTC on 10 March: the 11th in Chita (A's and D's due measures overdue), the 10th
    // elsewhere.
    let evening = Today::in_zones(&Clock::parse("2025-03-10T16:00:00Z").expect("clock"), zones.clone());
    let live = read(pool, &evening).await;
    assert_eq!(live.len(), 2);
    counts::refresh(pool, &evening, None).await.expect("refresh");
    assert_eq!(
        groups(pool).await,
        BTreeMap::from([
            (group(TERRITORY, "Asia/Chita"), Some(day("2025-03-11"))),
            (group(TERRITORY, ""), Some(day("2025-03-10"))),
            (group(OTHER, "Europe/Kaliningrad"), Some(day("2025-03-10")))
        ])
    );
    assert_eq!(problems(pool).await, Vec::<String>::new());
    assert_eq!(
        read(pool, &evening).await,
        live,
        "the stored counts give the live answer"
    );

    // Every group's counts are read (100 added to each group's total behind the triggers' back
    // shows twice in TERRITORY) ...
    execute(pool, "UPDATE plan_group_counts SET total = total + 100").await;
    let tampered = read(pool, &evening).await;
    assert_eq!(tampered[0].1[2], live[0].1[2] + 200, "A and D's group, B's");
    assert_eq!(tampered[1].1[2], live[1].1[2] + 100, "C's");
    // ... and at 14:00 UTC, still the 10th in Chita, the Chita group's of the 11th are not.
    let afternoon = Today::in_zones(&Clock::parse("2025-03-10T14:00:00Z").expect("clock"), zones);
    let earlier = read(pool, &afternoon).await;
    execute(pool, "UPDATE plan_group_counts SET total = total - 100").await;
    let earlier_exact = read(pool, &afternoon).await;
    assert_eq!(earlier[0].1[2], earlier_exact[0].1[2] + 100, "B's group only");
    assert_eq!(earlier[1].1[2], earlier_exact[1].1[2] + 100, "C's");
    assert_ne!(earlier_exact, live, "fewer overdue in Chita on the 10th");
    db.finish().await;
}
