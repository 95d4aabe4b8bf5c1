//! A plan's versions through the gateway: a document imported, then a copy with one measure's
//! deadline and title changed, one row removed and one added; the versions list and the changes
//! field by field; a draft's versions hidden from those who may not see the draft; arguments
//! that name no version refused naming the argument; many plans' versions read without N+1.

use roadmap_common::telemetry::sql_statement_count;
use roadmap_e2e::{TestHub, first_error};
use serde_json::{Value, json};

use crate::import::fixture;

const SEED: &str = "002_587447f0e4c9bb26.txt";

const IMPORT: &str = "mutation($input: ImportRoadmapInput!) { importRoadmap(input: $input) { \
    status version changes { added removed changed } plan { id } } }";

const VERSIONS: &str = "query($id: ID!) { plan(id: $id) { version versions { version importedAt fileName \
    format measures childMeasures milestones changes { added removed changed } } } }";

const CHANGES: &str = "query($id: ID!, $from: Int, $to: Int) { plan(id: $id) { id \
    versionChanges(from: $from, to: $to) { from to added { key number title } \
    removed { key number title } changed { key number title fields { field header before after } } } } }";

/// Measure 2.5's title and deadline changed, 1.7 removed, 2.13 added at the end of section 2.
pub(crate) fn changed_copy(original: &str) -> String {
    let mut out = Vec::new();
    for line in original.split('\n') {
        if line.starts_with("1.7.\t") {
            continue;
        }
        if line.starts_with("2.5.\t") {
            out.push(
                line.replacen("«Учитель по обмену»\t", "«Учитель по обмену» в районах края\t", 1)
                    .replacen("\tМай 2024 года\t", "\tСентябрь 2024 года\t", 1),
            );
            continue;
        }
        if line.starts_with("3. Работа с обучающимися") {
            out.push(
                "2.13.\tПроведение регионального фестиваля педагогических практик\tИРО Забайкальского края\t\
                 Ноябрь 2024 года\tПроведён фестиваль"
                    .to_string(),
            );
        }
        out.push(line.to_string());
    }
    out.join("\n")
}

async fn import(hub: &TestHub, text: &str, file: &str, extra: Value) -> Value {
    let mut input =
        json!({ "document": text, "fileName": file, "level": "REGIONAL", "territory": "Забайкальский край" });
    if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
        input.extend(extra.clone());
    }
    hub.gql(IMPORT, json!({ "input": input }))
        .await
        .unwrap_or_else(|e| panic!("{file}: {e}"))["importRoadmap"]
        .clone()
}

/// The plan imported from the seed, then from its changed copy: its id.
async fn two_versions(hub: &TestHub, extra: Value) -> String {
    let original = fixture(SEED);
    let first = import(hub, &original, "002.txt", extra.clone()).await;
    assert_eq!(first["version"], 1);
    let second = import(hub, &changed_copy(&original), "002-v2.txt", extra).await;
    assert_eq!(second["status"], "UPDATED");
    assert_eq!(second["version"], 2);
    assert_eq!(second["plan"]["id"], first["plan"]["id"]);
    first["plan"]["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn versions_list_newest_first_and_the_changes_read_field_by_field() {
    let hub = TestHub::spawn().await.expect("hub");
    let id = two_versions(&hub, json!({})).await;
    let original = fixture(SEED);
    let parsed = [
        roadmap_import::parse_document(&original).expect("v1 parses"),
        roadmap_import::parse_document(&changed_copy(&original)).expect("v2 parses"),
    ];

    let data = hub.gql(VERSIONS, json!({ "id": id })).await.expect("versions");
    let plan = &data["plan"];
    assert_eq!(plan["version"], 2);
    let versions = plan["versions"].as_array().expect("versions");
    let numbers: Vec<&Value> = versions.iter().map(|v| &v["version"]).collect();
    assert_eq!(numbers, [2, 1], "newest first");
    assert_eq!(versions[0]["fileName"], "002-v2.txt");
    assert_eq!(versions[1]["fileName"], "002.txt");
    for (v, doc) in versions.iter().zip(parsed.iter().rev()) {
        assert_eq!(v["format"], "plain text");
        assert_eq!(v["measures"], doc.stats.measures, "{v}");
        assert_eq!(v["childMeasures"], doc.stats.child_measures, "{v}");
        assert_eq!(v["milestones"], doc.milestones.len(), "{v}");
    }
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v["importedAt"].as_str().expect("at")).expect("RFC 3339");
    assert!(at(&versions[0]) >= at(&versions[1]));
    assert_eq!(
        versions[0]["changes"],
        json!({ "added": ["2.13"], "removed": ["1.7"], "changed": ["2.5"] })
    );
    assert_eq!(
        versions[1]["changes"],
        json!({ "added": [], "removed": [], "changed": [] })
    );

    // By default the newest version against the one before it; naming them gives the same.
    let default = hub.gql(CHANGES, json!({ "id": id })).await.expect("changes");
    let named = hub
        .gql(CHANGES, json!({ "id": id, "from": 1, "to": 2 }))
        .await
        .expect("changes 1→2");
    assert_eq!(default, named);
    let c = &default["plan"]["versionChanges"];
    assert_eq!((c["from"].clone(), c["to"].clone()), (json!(1), json!(2)));
    assert_eq!(
        c["added"],
        json!([{ "key": "2.13", "number": "2.13.", "title": "Проведение регионального фестиваля педагогических практик" }])
    );
    assert_eq!(
        c["removed"],
        json!([{ "key": "1.7", "number": "1.7.", "title": "Организация отбора на поощрение учителей, подготовивших \
                 победителей и призеров заключительного этапа Всероссийской олимпиады школьников" }])
    );
    assert_eq!(
        c["changed"],
        json!([{
            "key": "2.5",
            "number": "2.5.",
            "title": "Организация сетевого взаимодействия «Учитель по обмену» в районах края",
            "fields": [
                { "field": "TITLE", "header": null,
                  "before": "Организация сетевого взаимодействия «Учитель по обмену»",
                  "after": "Организация сетевого взаимодействия «Учитель по обмену» в районах края" },
                { "field": "SCHEDULE_TEXT", "header": null, "before": "Май 2024 года", "after": "Сентябрь 2024 года" },
                { "field": "DUE_ON", "header": null, "before": "2024-05-31", "after": "2024-09-30" },
            ]
        }])
    );
    // The stored plan agrees with the newer side.
    let m = hub
        .gql(
            "query($id: ID!) { plan(id: $id) { measures { key title scheduleText dueOn } } }",
            json!({ "id": id }),
        )
        .await
        .expect("measures");
    let m25 = m["plan"]["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .find(|m| m["key"] == "2.5")
        .cloned()
        .expect("2.5");
    assert_eq!(
        (m25["scheduleText"].clone(), m25["dueOn"].clone()),
        (json!("Сентябрь 2024 года"), json!("2024-09-30"))
    );

    // The first version has nothing before it.
    let first = hub.gql(CHANGES, json!({ "id": id, "to": 1 })).await.expect("first");
    assert_eq!(
        first["plan"]["versionChanges"],
        json!({ "from": null, "to": 1, "added": [], "removed": [], "changed": [] })
    );
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn arguments_naming_no_version_are_refused_naming_the_argument() {
    let hub = TestHub::spawn().await.expect("hub");
    let id = two_versions(&hub, json!({})).await;
    let cases = [
        (json!({ "to": 3 }), "to: no version 3: the plan has versions 1 to 2"),
        (
            json!({ "from": 2, "to": 2 }),
            "from: must be an earlier version than to (2), got 2",
        ),
        (
            json!({ "from": 2, "to": 1 }),
            "from: must be an earlier version than to (1), got 2",
        ),
        (json!({ "from": 0 }), "from: no version 0: the plan has versions 1 to 2"),
    ];
    for (args, expected) in cases {
        let mut vars = args.clone();
        vars["id"] = json!(id);
        let body = hub.request(CHANGES, vars).await.expect("request");
        assert_eq!(first_error(&body).as_deref(), Some(expected), "{args}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{args}");
        // The plan is there; only the comparison is not.
        assert_eq!(body["data"]["plan"]["id"], id.as_str(), "{args}");
        assert_eq!(body["data"]["plan"]["versionChanges"], Value::Null, "{args}");
    }
    // A plan entered by hand has no versions.
    let (manual, _) = roadmap_e2e::create_plan(
        &hub,
        json!({ "title": "Ручной план", "level": "SCHOOL",
                "sections": [{ "title": "Раздел", "measures": [{ "number": "1", "title": "Мероприятие" }] }] }),
    )
    .await;
    let data = hub.gql(VERSIONS, json!({ "id": manual })).await.expect("manual");
    assert_eq!(data["plan"]["versions"], json!([]));
    let body = hub.request(CHANGES, json!({ "id": manual })).await.expect("request");
    assert_eq!(
        first_error(&body).as_deref(),
        Some("to: the plan has no imported version")
    );
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn a_drafts_versions_are_hidden_from_those_who_may_not_see_it() {
    let hub = TestHub::spawn().await.expect("hub");
    let draft = two_versions(&hub, json!({ "key": "draft-002", "state": "DRAFT" })).await;
    // An approved plan that declares the draft its parent: an edge to the draft anyone can follow.
    let child = hub
        .gql(
            IMPORT,
            json!({ "input": { "document": fixture("000_4b83c36956a51ac0.txt"), "fileName": "000.txt",
                    "level": "MUNICIPAL", "territory": "Хабаровский край/Николаевский муниципальный район" } }),
        )
        .await
        .expect("child")["importRoadmap"]["plan"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    hub.gql(
        "mutation($p: ID!, $parent: ID!) { setPlanParent(plan: $p, parent: $parent) { id } }",
        json!({ "p": child, "parent": draft }),
    )
    .await
    .expect("parent");

    // Signed in with the right scope (the test admin): both versions and their changes.
    let seen = hub.gql(VERSIONS, json!({ "id": draft })).await.expect("admin");
    assert_eq!(seen["plan"]["versions"].as_array().map(Vec::len), Some(2));

    // Anonymously: the draft is not found, and reached through its child its versions are not
    // given either.
    let body = hub
        .request_as(None, VERSIONS, json!({ "id": draft }))
        .await
        .expect("anonymous");
    assert_eq!(body["data"]["plan"], Value::Null, "{body}");
    let body = hub
        .request_as(None, CHANGES, json!({ "id": draft }))
        .await
        .expect("anonymous");
    assert_eq!(body["data"]["plan"], Value::Null, "{body}");
    let body = hub
        .request_as(
            None,
            "query($id: ID!) { plan(id: $id) { parents { id versions { version fileName } \
             versionChanges { to changed { key } } } } }",
            json!({ "id": child }),
        )
        .await
        .expect("anonymous child");
    let text = body.to_string();
    assert!(
        !text.contains("002-v2.txt") && !text.contains("\"2.5\""),
        "no version of the draft: {body}"
    );
    if body["data"]["plan"]["parents"]
        .as_array()
        .is_some_and(|p| !p.is_empty())
    {
        let message = first_error(&body).unwrap_or_default();
        assert_eq!(message, format!("Plan {draft} not found"), "{body}");
    }
    hub.finish().await.expect("finish");
}

/// `Plan.versions` and `Plan.versionChanges` of every plan listed cost the same statements for
/// one plan as for two: versions and texts are read by batched loaders.
#[tokio::test]
async fn many_plans_versions_and_changes_are_read_without_n_plus_one() {
    let hub = TestHub::spawn().await.expect("hub");
    two_versions(&hub, json!({ "key": "copy-a" })).await;
    two_versions(&hub, json!({ "key": "copy-b" })).await;
    let query = "query($n: Int!) { plans(first: $n) { edges { node { id versions { version changes { added } } \
                 versionChanges { from to changed { key fields { field } } } } } } }";
    let data = hub.gql(query, json!({ "n": 2 })).await.expect("plans");
    let edges = data["plans"]["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 2);
    for e in edges {
        assert_eq!(e["node"]["versionChanges"]["changed"][0]["key"], "2.5", "{e}");
    }
    let mut used = Vec::new();
    for n in [1, 2] {
        let mut fewest = u64::MAX;
        for _ in 0..3 {
            let before = sql_statement_count();
            hub.gql(query, json!({ "n": n })).await.expect("plans");
            fewest = fewest.min(sql_statement_count() - before);
        }
        used.push(fewest);
    }
    assert!(used[0] > 0, "{used:?}");
    assert_eq!(used[0], used[1], "one plan or two: {used:?}");
    hub.finish().await.expect("finish");
}
