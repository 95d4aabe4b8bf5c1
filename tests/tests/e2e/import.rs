//! Importing the seed roadmaps through the gateway: structure kept, identity stable, versions,
//! lint findings stored, bad documents refused with nothing stored.

use roadmap_e2e::{TestHub, first_error};
use serde_json::{Value, json};

const IMPORT: &str = "mutation($input: ImportRoadmapInput!) { importRoadmap(input: $input) { \
    status version sourceKey sections measures childMeasures milestones \
    deadlinesByKind { kind count } unresolvedNames lint { code line measureNumber } indicatorTargets \
    changes { added removed changed } plan { id title level approval { kind number date } } } }";

pub(crate) fn fixture(name: &str) -> String {
    let path = format!("{}/fixtures/roadmaps/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const SEEDS: [(&str, &str, Option<&str>); 5] = [
    (
        "000_4b83c36956a51ac0.txt",
        "MUNICIPAL",
        Some("Хабаровский край/Николаевский муниципальный район"),
    ),
    (
        "001_874814e5f764bb7a.txt",
        "MUNICIPAL",
        Some("Красноярский край/Казачинский район"),
    ),
    ("002_587447f0e4c9bb26.txt", "REGIONAL", Some("Забайкальский край")),
    ("003_7f00e907b2a1d76c.txt", "REGIONAL", Some("Сахалинская область")),
    ("004_cded1a1a885c41f7.txt", "SCHOOL", None),
];

async fn import(hub: &TestHub, file: &str, text: &str, level: &str, territory: Option<&str>) -> Value {
    let data = hub
        .gql(
            IMPORT,
            json!({ "input": { "document": text, "fileName": file, "level": level, "territory": territory } }),
        )
        .await
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    data["importRoadmap"].clone()
}

fn codes(report: &Value) -> Vec<String> {
    report["lint"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn every_seed_imports_with_its_structure_and_reimport_changes_nothing() {
    let hub = TestHub::spawn().await.expect("hub");
    let mut plan_ids = Vec::new();
    for (file, level, territory) in SEEDS {
        let text = fixture(file);
        let parsed = roadmap_import::parse_document(&text).expect("the seed parses");
        let report = import(&hub, file, &text, level, territory).await;
        assert_eq!(report["status"], "CREATED", "{file}");
        assert_eq!(report["version"], 1);
        assert_eq!(report["plan"]["level"], level);
        assert_eq!(report["sections"], parsed.sections.len(), "{file}");
        assert_eq!(report["measures"], parsed.stats.measures, "{file}");
        assert_eq!(report["childMeasures"], parsed.stats.child_measures, "{file}");
        assert_eq!(report["milestones"], parsed.milestones.len(), "{file}");
        let counted: u64 = report["deadlinesByKind"]
            .as_array()
            .expect("kinds")
            .iter()
            .filter_map(|k| k["count"].as_u64())
            .sum();
        let rows = (parsed.stats.measures + parsed.stats.child_measures + parsed.milestones.len()) as u64;
        assert_eq!(counted, rows, "{file}: every measure has a schedule kind");
        assert!(
            report["deadlinesByKind"]
                .as_array()
                .expect("kinds")
                .iter()
                .all(|k| k["kind"] != "Unparsed"),
            "{file}: no schedule is dropped"
        );

        // What was stored reads back through the gateway, measure numbers exactly as written.
        let id = report["plan"]["id"].as_str().expect("id").to_string();
        let data = hub
            .gql(
                "query($id: ID!) { plan(id: $id) { measures { number key kind scheduleText scheduleKind \
                 responsibleText responsible { name } } lint { code } } }",
                json!({ "id": id }),
            )
            .await
            .expect("read back");
        let stored = data["plan"]["measures"].as_array().expect("measures");
        assert_eq!(stored.len() as u64, rows, "{file}: every row stored");
        let stored_numbers: Vec<&str> = stored
            .iter()
            .filter(|m| m["kind"] == "MEASURE")
            .filter_map(|m| m["number"].as_str())
            .collect();
        let parsed_numbers: Vec<String> = parsed
            .measures()
            .map(|m| m.number.clone().unwrap_or_default())
            .collect();
        for n in &parsed_numbers {
            assert!(stored_numbers.contains(&n.as_str()), "{file}: measure {n} stored");
        }
        assert_eq!(
            data["plan"]["lint"].as_array().map(Vec::len),
            Some(parsed.lint.len()),
            "{file}: lint stored"
        );
        plan_ids.push(id);
    }

    // Re-import: same identity, nothing new.
    for (file, level, territory) in SEEDS {
        let report = import(&hub, file, &fixture(file), level, territory).await;
        assert_eq!(report["status"], "UNCHANGED", "{file}");
        assert_eq!(report["version"], 1, "{file}");
    }
    let data = hub
        .gql("{ plans(first: 50) { edges { node { id } } } }", json!({}))
        .await
        .expect("plans");
    assert_eq!(
        data["plans"]["edges"].as_array().map(Vec::len),
        Some(5),
        "no duplicates"
    );
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn seed_defects_are_flagged_not_fixed() {
    let hub = TestHub::spawn().await.expect("hub");
    let r000 = import(&hub, SEEDS[0].0, &fixture(SEEDS[0].0), "MUNICIPAL", SEEDS[0].2).await;
    let c = codes(&r000);
    assert!(c.contains(&"duplicate-number".to_string()), "000 III.5 twice: {c:?}");
    assert!(
        c.contains(&"schedule-outside-period".to_string()),
        "000 II.2 январь 2023: {c:?}"
    );
    let outside: Vec<&Value> = r000["lint"]
        .as_array()
        .expect("lint")
        .iter()
        .filter(|f| f["code"] == "schedule-outside-period")
        .collect();
    assert!(
        outside
            .iter()
            .any(|f| f["measureNumber"].as_str().is_some_and(|n| n.contains("2"))),
        "{outside:?}"
    );
    assert_eq!(r000["plan"]["approval"]["number"], "450/1-осн.р.");
    assert_eq!(r000["plan"]["approval"]["date"], "2023-11-01");

    let r001 = import(&hub, SEEDS[1].0, &fixture(SEEDS[1].0), "MUNICIPAL", SEEDS[1].2).await;
    let c = codes(&r001);
    assert!(c.contains(&"note-to-self".to_string()), "001 нужен приказ?: {c:?}");
    assert!(
        c.contains(&"abbreviation-spelling-variants".to_string()),
        "001 ШНОР/ШНРО/ШПРО: {c:?}"
    );

    let r003 = import(&hub, SEEDS[3].0, &fixture(SEEDS[3].0), "REGIONAL", SEEDS[3].2).await;
    assert!(codes(&r003).contains(&"numbering-gap".to_string()), "003 has no 2.5");
    assert_eq!(
        r003["indicatorTargets"].as_array().map(Vec::len),
        Some(8),
        "003's eight goal targets"
    );

    let r004 = import(&hub, SEEDS[4].0, &fixture(SEEDS[4].0), "SCHOOL", None).await;
    assert!(
        codes(&r004).contains(&"missing-responsible".to_string()),
        "004 control point 3"
    );
    assert!(
        r004["milestones"].as_u64().unwrap_or(0) > 0,
        "004 control points are milestones"
    );

    let r002 = import(&hub, SEEDS[2].0, &fixture(SEEDS[2].0), "REGIONAL", SEEDS[2].2).await;
    assert_eq!(r002["plan"]["approval"]["number"], "114-р");
    let targets = r002["indicatorTargets"].as_array().expect("targets");
    assert_eq!(targets.len(), 24, "six subjects × (2023 baseline + three targets)");
    let chemistry_2026 = targets
        .iter()
        .find(|t| t["subject_key"] == "Chemistry" && t["year"] == 2026)
        .expect("chemistry 2026");
    assert_eq!(chemistry_2026["value_raw"], "23");
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn a_changed_document_becomes_a_new_version_keeping_measure_ids() {
    let hub = TestHub::spawn().await.expect("hub");
    let (file, level, territory) = SEEDS[2];
    let original = fixture(file);
    let first = import(&hub, file, &original, level, territory).await;
    let id = first["plan"]["id"].as_str().expect("id").to_string();
    let read = "query($id: ID!) { plan(id: $id) { version measures { id key scheduleText } } }";
    let before = hub.gql(read, json!({ "id": id })).await.expect("before");

    let changed = original.replacen("Ежеквартально", "Ежемесячно", 1);
    assert_ne!(changed, original);
    let second = import(&hub, file, &changed, level, territory).await;
    assert_eq!(second["status"], "UPDATED");
    assert_eq!(second["version"], 2);
    assert_eq!(second["plan"]["id"], id.as_str(), "same plan");
    assert_eq!(second["changes"]["changed"], json!(["1.4"]));
    assert_eq!(second["changes"]["added"], json!([]));
    assert_eq!(second["changes"]["removed"], json!([]));

    let after = hub.gql(read, json!({ "id": id })).await.expect("after");
    assert_eq!(after["plan"]["version"], 2);
    let ids = |v: &Value| -> Vec<String> {
        v["plan"]["measures"]
            .as_array()
            .expect("m")
            .iter()
            .map(|m| m["id"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(ids(&before), ids(&after), "measure ids survive a new version");
    let m14 = after["plan"]["measures"]
        .as_array()
        .expect("m")
        .iter()
        .find(|m| m["key"] == "1.4")
        .cloned();
    assert_eq!(m14.expect("1.4")["scheduleText"], "Ежемесячно");

    let third = import(&hub, file, &changed, level, territory).await;
    assert_eq!(third["status"], "UNCHANGED");
    assert_eq!(third["version"], 2);
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn bad_documents_are_refused_and_nothing_is_stored() {
    let hub = TestHub::spawn().await.expect("hub");
    let cases = [
        // Every document goes through the readers, which refuse what is too short to be one.
        ("empty.txt", String::new(), "0 byte(s) long, too short"),
        (
            "prose.txt",
            "Просто текст без таблицы.\nЕщё строка.".to_string(),
            "no roadmap table found",
        ),
        (
            "binary.txt",
            "№ п/п\tМероприятие\u{0}\u{1}\u{2}".to_string(),
            "looks binary",
        ),
    ];
    for (name, text, expected) in cases {
        let body = hub
            .request(
                IMPORT,
                json!({ "input": { "document": text, "fileName": name, "level": "MUNICIPAL" } }),
            )
            .await
            .expect("request");
        let message = first_error(&body).unwrap_or_default();
        assert!(message.starts_with(&format!("{name}:")), "names the file: {message}");
        assert!(message.contains(expected), "{name}: {message}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    }
    // A truncated document: the seed cut in the middle of its table.
    let text = fixture(SEEDS[2].0);
    let cut: String = text.lines().take(52).collect::<Vec<_>>().join("\n");
    let body = hub
        .request(
            IMPORT,
            json!({ "input": { "document": cut, "fileName": "cut.txt", "level": "REGIONAL" } }),
        )
        .await
        .expect("request");
    // Either refused as truncated or imported with what is there; never a half-stored plan.
    if let Some(message) = first_error(&body) {
        assert!(message.starts_with("cut.txt:"), "{message}");
        let data = hub
            .gql("{ plans { edges { node { id } } } }", json!({}))
            .await
            .expect("plans");
        assert_eq!(data["plans"]["edges"], json!([]), "nothing stored");
    }
    let data = hub
        .gql("{ plans { edges { node { title } } } }", json!({}))
        .await
        .expect("plans");
    assert!(data["plans"]["edges"].as_array().map(Vec::len).unwrap_or(0) <= 1);
    hub.finish().await.expect("finish");
}

/// `up --demo` loads the seeds; loading again changes nothing.
#[tokio::test]
async fn demo_data_loads_the_seeds_idempotently() {
    let hub = TestHub::spawn().await.expect("hub");
    let running = hub.hub.as_ref().expect("hub");
    let first = roadmap_hub::demo::load(running).await.expect("demo");
    assert_eq!(first.len(), 5);
    assert!(
        first
            .iter()
            .all(|s| s.status == roadmap_plans::import::ImportStatus::Created)
    );
    let again = roadmap_hub::demo::load(running).await.expect("demo again");
    assert!(
        again
            .iter()
            .all(|s| s.status == roadmap_plans::import::ImportStatus::Unchanged)
    );
    let data = hub
        .gql(
            "{ plans(first: 10, level: REGIONAL) { edges { node { title territory { name } owner { name kind } } } } }",
            json!({}),
        )
        .await
        .expect("plans");
    let regions: Vec<&str> = data["plans"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| !e["node"]["title"].as_str().unwrap_or("").contains("(сгенерировано)"))
        .filter_map(|e| e["node"]["territory"]["name"].as_str())
        .collect();
    assert_eq!(regions.len(), 2, "{data}");
    assert!(
        regions.contains(&"Забайкальский край") && regions.contains(&"Сахалинская область"),
        "{regions:?}"
    );
    hub.finish().await.expect("finish");
}
