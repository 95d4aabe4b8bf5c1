//! `importPreview` through the gateway: what an import of a file would do, nothing stored
//! (the web target's upload page shows it before the editor confirms).

use base64::Engine as _;
use roadmap_common::auth::Role;
use roadmap_e2e::{TestHub, ensure_territory, first_error, token};
use serde_json::{Value, json};

const PREVIEW: &str = "query($input: ImportRoadmapInput!) { importPreview(input: $input) { \
    status version sourceKey title format sections measures childMeasures milestones unresolvedNames \
    newTerritories existingPlan { id version } changes { added removed changed } \
    lint { code line measureNumber } sourceLines \
    rows { key section depth milestone number title scheduleText dueOn responsibleText responsible line source } } }";

const IMPORT: &str =
    "mutation($input: ImportRoadmapInput!) { importRoadmap(input: $input) { status version plan { id } } }";

/// What was stored: plans (with versions), territories and organisations.
const STORED: &str =
    "{ plans { edges { node { id version } } } territories { id name } organisations(first: 500) { id } }";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/roadmaps/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn text_input(text: &str, territory: &str) -> Value {
    json!({ "input": { "document": text, "fileName": "002.txt", "level": "REGIONAL", "territory": territory } })
}

async fn preview_as(hub: &TestHub, token: Option<&str>, variables: Value) -> Value {
    let data = hub.gql_as(token, PREVIEW, variables).await.expect("importPreview");
    data["importPreview"].clone()
}

#[tokio::test]
async fn a_preview_reports_what_an_import_would_do_and_stores_nothing() {
    let hub = TestHub::spawn().await.expect("hub");
    ensure_territory(&hub, "Забайкальский край", "REGION", None).await;
    let editor = token("editor", &[Role::Editor], None);
    let text = String::from_utf8(fixture("002_587447f0e4c9bb26.txt")).expect("UTF-8");
    let parsed = roadmap_import::parse_document(&text).expect("the seed parses");
    let stored_before = hub.gql(STORED, json!({})).await.expect("stored");

    // A territory path whose city is not known yet: listed, not created.
    let p = preview_as(&hub, Some(&editor), text_input(&text, "Забайкальский край/Город Чита")).await;
    assert_eq!(p["status"], "CREATED");
    assert_eq!(p["version"], 1);
    assert_eq!(p["existingPlan"], Value::Null);
    assert_eq!(p["newTerritories"], json!(["Город Чита"]));
    assert_eq!(p["format"], "plain text");
    assert_eq!(p["measures"], parsed.stats.measures);
    assert_eq!(p["sections"], parsed.sections.len());
    assert_eq!(p["lint"].as_array().map(Vec::len), Some(parsed.lint.len()));
    assert_eq!(
        p["sourceLines"].as_array().map(Vec::len),
        Some(text.lines().count()),
        "the source as it was read, line by line"
    );
    let rows = p["rows"].as_array().expect("rows");
    let expected_rows = parsed.stats.measures + parsed.stats.child_measures + parsed.milestones.len();
    assert_eq!(rows.len(), expected_rows, "every measure, sub-row and control point");
    // Each row sits next to the line the parser read it from.
    let lines: Vec<&str> = text.lines().collect();
    for row in rows {
        let line = row["line"].as_u64().expect("line") as usize;
        assert_eq!(row["source"], lines[line - 1], "{row}");
    }
    let m14 = rows.iter().find(|r| r["key"] == "1.4").expect("1.4");
    assert_eq!(m14["scheduleText"], "Ежеквартально");
    assert!(m14["source"].as_str().unwrap_or("").contains("Ежеквартально"), "{m14}");
    assert!(
        rows.iter().any(|r| r["dueOn"].is_string()),
        "parsed due days next to the schedules as written"
    );
    assert!(
        rows.iter()
            .any(|r| r["responsible"].as_array().is_some_and(|a| !a.is_empty())),
        "parsed responsible parties"
    );

    let stored_after = hub.gql(STORED, json!({})).await.expect("stored");
    assert_eq!(
        stored_after, stored_before,
        "a preview stores no plan, territory or organisation"
    );

    // Imported, then previewed again: the same text changes nothing, changed text would make
    // version 2 with the changed measure listed, and still nothing is written.
    let imported = hub
        .gql_as(Some(&editor), IMPORT, text_input(&text, "Забайкальский край"))
        .await
        .expect("import");
    let plan_id = imported["importRoadmap"]["plan"]["id"].clone();
    let same = preview_as(&hub, Some(&editor), text_input(&text, "Забайкальский край")).await;
    assert_eq!(same["status"], "UNCHANGED");
    assert_eq!(same["version"], 1);
    assert_eq!(same["existingPlan"]["id"], plan_id);
    assert_eq!(same["newTerritories"], json!([]));

    let changed = text.replacen("Ежеквартально", "Ежемесячно", 1);
    let next = preview_as(&hub, Some(&editor), text_input(&changed, "Забайкальский край")).await;
    assert_eq!(next["status"], "UPDATED");
    assert_eq!(next["version"], 2);
    assert_eq!(next["existingPlan"]["id"], plan_id);
    assert_eq!(next["changes"]["changed"], json!(["1.4"]));
    let plan = hub
        .gql(
            "query($id: ID!) { plan(id: $id) { version } }",
            json!({ "id": plan_id }),
        )
        .await
        .expect("plan");
    assert_eq!(plan["plan"]["version"], 1, "the preview of version 2 stored nothing");
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn a_docx_preview_reads_like_its_import() {
    let hub = TestHub::spawn().await.expect("hub");
    let editor = token("editor", &[Role::Editor], None);
    let bytes = fixture("formats/002.docx");
    let input = json!({ "input": {
        "contentBase64": base64::engine::general_purpose::STANDARD.encode(&bytes),
        "fileName": "002.docx", "territory": "Забайкальский край", "level": "REGIONAL"
    } });
    let p = preview_as(&hub, Some(&editor), input.clone()).await;
    assert_eq!(p["format"], "DOCX");
    assert_eq!(p["newTerritories"], json!(["Забайкальский край"]));
    let imported = hub.gql_as(Some(&editor), IMPORT, input).await.expect("import");
    let plan = hub
        .gql(
            "query($id: ID!) { plan(id: $id) { measures { key number title scheduleText dueOn } } }",
            json!({ "id": imported["importRoadmap"]["plan"]["id"] }),
        )
        .await
        .expect("plan");
    let previewed: Vec<Value> = p["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| json!([r["key"], r["number"], r["title"], r["scheduleText"], r["dueOn"]]))
        .collect();
    let stored: Vec<Value> = plan["plan"]["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .map(|m| json!([m["key"], m["number"], m["title"], m["scheduleText"], m["dueOn"]]))
        .collect();
    assert_eq!(previewed, stored, "the preview shows what the import stores, in order");
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn a_preview_needs_the_permission_of_the_import_and_refuses_bad_files() {
    let hub = TestHub::spawn().await.expect("hub");
    let region = ensure_territory(&hub, "Забайкальский край", "REGION", None).await;
    let other = ensure_territory(&hub, "Хабаровский край", "REGION", None).await;
    let text = String::from_utf8(fixture("002_587447f0e4c9bb26.txt")).expect("UTF-8");
    let input = text_input(&text, "Забайкальский край");

    let refused = |body: &Value| first_error(body).unwrap_or_default();
    let anonymous = hub.request_as(None, PREVIEW, input.clone()).await.expect("request");
    assert!(refused(&anonymous).contains("previewing an import"), "{anonymous}");
    let viewer = token("viewer", &[Role::Viewer], Some(region.parse().expect("id")));
    let body = hub
        .request_as(Some(&viewer), PREVIEW, input.clone())
        .await
        .expect("request");
    assert!(refused(&body).contains("editor"), "{body}");
    let elsewhere = token("editor-elsewhere", &[Role::Editor], Some(other.parse().expect("id")));
    let body = hub
        .request_as(Some(&elsewhere), PREVIEW, input.clone())
        .await
        .expect("request");
    assert!(refused(&body).contains("does not cover"), "out of scope: {body}");
    let local = token("editor-local", &[Role::Editor], Some(region.parse().expect("id")));
    // A new municipality under one's own region is in scope, as for the import.
    let p = preview_as(
        &hub,
        Some(&local),
        text_input(&text, "Забайкальский край/Могочинский муниципальный округ"),
    )
    .await;
    assert_eq!(p["newTerritories"], json!(["Могочинский муниципальный округ"]));

    let bad = json!({ "input": { "document": "Просто текст без таблицы.\nЕщё строка.", "fileName": "prose.txt", "level": "MUNICIPAL" } });
    let body = hub.request_as(Some(&local), PREVIEW, bad).await.expect("request");
    let message = refused(&body);
    assert!(message.starts_with("prose.txt:"), "names the file: {message}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let path =
        json!({ "input": { "document": text, "fileName": "002.txt", "level": "REGIONAL", "territory": "A/B/C/D" } });
    let body = hub.request_as(Some(&local), PREVIEW, path).await.expect("request");
    assert!(refused(&body).contains("territory"), "{body}");
    hub.finish().await.expect("finish");
}
