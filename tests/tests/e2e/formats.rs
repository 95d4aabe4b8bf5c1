//! Documents as people have them, through the gateway: a DOCX sent as base64 gives the plan its
//! plain text gives; a 300 KB DOCX fits the router's body limit; damaged files are refused naming
//! them, nothing stored; extra columns are kept; a plan exported as CSV and XLSX and imported
//! back reports no change; drafts' exports need a signed link.

use base64::Engine as _;
use roadmap_e2e::{TestHub, first_error};
use roadmap_hub::targets::Target;
use serde_json::{Value, json};

const IMPORT: &str = "mutation($input: ImportRoadmapInput!) { importRoadmap(input: $input) { \
    status version format measures childMeasures milestones extraColumns ignoredColumns \
    changes { added removed changed } plan { id state exports { csv xlsx } } } }";

/// What must survive every round: identity, text as written, parsed schedule, extra columns.
const MEASURES: &str = "query($id: ID!) { plan(id: $id) { version sections { number title } \
    measures { id key kind number title scheduleText responsibleText expectedResult reportingForms notes \
    indicatorText scheduleKind dueOn extraColumns { header value } } } }";

fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/roadmaps/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn import_file(hub: &TestHub, name: &str, bytes: &[u8], level: &str, territory: Option<&str>) -> Value {
    let input = json!({ "contentBase64": base64(bytes), "fileName": name, "level": level, "territory": territory });
    hub.gql(IMPORT, json!({ "input": input }))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))["importRoadmap"]
        .clone()
}

async fn measures(hub: &TestHub, plan: &str) -> Value {
    hub.gql(MEASURES, json!({ "id": plan })).await.expect("measures")["plan"].clone()
}

/// The measures without what a version may change (ids are compared separately).
fn fields(plan: &Value) -> Vec<Value> {
    plan["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .map(|m| {
            let mut m = m.clone();
            m.as_object_mut().expect("object").remove("id");
            m
        })
        .collect()
}

fn plans_address(hub: &TestHub) -> String {
    let addr = hub
        .hub
        .as_ref()
        .and_then(|h| h.addr(Target::PLANS))
        .expect("plans address");
    format!("http://{addr}")
}

/// GETs a link of `Plan.exports` on the plans target (where an ingress routes `/export/`).
async fn fetch(hub: &TestHub, link: &str) -> (u16, String, Vec<u8>) {
    let response = reqwest::get(format!("{}{link}", plans_address(hub)))
        .await
        .expect("export request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, content_type, response.bytes().await.expect("body").to_vec())
}

async fn plan_count(hub: &TestHub) -> usize {
    let data = hub
        .gql("{ plans(first: 50) { edges { node { id } } } }", json!({}))
        .await
        .expect("plans");
    data["plans"]["edges"].as_array().map(Vec::len).unwrap_or(0)
}

/// The seed's DOCX with a stored (uncompressed) part of `padding` incompressible bytes added, as
/// embedded images make real documents large; the readers ignore parts they do not read.
fn padded_docx(docx: &[u8], padding: usize) -> Vec<u8> {
    use std::io::Write as _;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx)).expect("a DOCX is a ZIP");
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        writer
            .raw_copy_file(archive.by_index_raw(i).expect("entry"))
            .expect("copy entry");
    }
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    writer.start_file("word/media/image1.bin", options).expect("start");
    // xorshift: incompressible and the same on every run.
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let bytes: Vec<u8> = (0..padding)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    writer.write_all(&bytes).expect("write");
    writer.finish().expect("finish").into_inner()
}

#[tokio::test]
async fn a_300_kb_docx_sent_as_base64_gives_the_plan_its_plain_text_gives() {
    let hub = TestHub::spawn().await.expect("hub");
    let docx = padded_docx(&fixture_bytes("formats/002.docx"), 300 * 1024);
    assert!(docx.len() > 300 * 1024, "{} bytes", docx.len());
    assert!(base64(&docx).len() > 400 * 1024, "the request body is over 400 KB");
    let report = import_file(&hub, "002.docx", &docx, "REGIONAL", Some("Забайкальский край")).await;
    assert_eq!(report["status"], "CREATED");
    assert_eq!(report["format"], "DOCX");
    // Counted in the seed by hand: 1.1–1.7, 2.1–2.12, 3.1, 3.1.1, 3.2–3.7, 4.1–4.4.
    assert_eq!(report["measures"], 31);
    assert_eq!(report["milestones"], 0);
    let id = report["plan"]["id"].as_str().expect("id").to_string();
    let from_docx = measures(&hub, &id).await;

    // The plain text is the same document: the same plan, a new version changing no measure.
    let text = String::from_utf8(fixture_bytes("002_587447f0e4c9bb26.txt")).expect("UTF-8");
    let input =
        json!({ "document": text, "fileName": "002.txt", "level": "REGIONAL", "territory": "Забайкальский край" });
    let again = hub.gql(IMPORT, json!({ "input": input })).await.expect("text import")["importRoadmap"].clone();
    assert_eq!(again["plan"]["id"], id.as_str(), "the same plan");
    assert_eq!(again["format"], "plain text");
    assert_eq!(again["status"], "UPDATED", "another text, so another version");
    assert_eq!(again["changes"], json!({ "added": [], "removed": [], "changed": [] }));
    let from_text = measures(&hub, &id).await;
    assert_eq!(from_text["version"], 2);
    assert_eq!(fields(&from_docx), fields(&from_text), "field by field");
    assert_eq!(
        from_docx["measures"][0]["id"], from_text["measures"][0]["id"],
        "ids kept"
    );
    assert_eq!(from_docx["sections"], from_text["sections"]);
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn damaged_files_and_bad_inputs_are_refused_naming_them_and_nothing_is_stored() {
    let hub = TestHub::spawn().await.expect("hub");
    let docx = fixture_bytes("formats/002.docx");
    // Cut in the middle: the ZIP's central directory is gone.
    let cut = &docx[..docx.len() / 2];
    let pdf_without_text = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    let cases: [(&str, Value, &str, &str); 6] = [
        (
            "broken.docx",
            json!({ "contentBase64": base64(cut), "fileName": "broken.docx" }),
            "broken.docx:",
            "cannot be opened",
        ),
        (
            "no_table.xlsx",
            json!({ "contentBase64": base64(&fixture_bytes("formats/no_table.xlsx")), "fileName": "no_table.xlsx" }),
            "no_table.xlsx:",
            "no roadmap table",
        ),
        (
            "one byte",
            json!({ "contentBase64": base64(b"x"), "fileName": "tiny.csv" }),
            "tiny.csv:",
            "too short",
        ),
        (
            "not base64",
            json!({ "contentBase64": "это не base64", "fileName": "plan.docx" }),
            "input.contentBase64:",
            "not base64",
        ),
        (
            "both",
            json!({ "contentBase64": base64(&docx), "document": "текст", "fileName": "plan.docx" }),
            "input:",
            "not both",
        ),
        (
            "no name",
            json!({ "contentBase64": base64(&docx) }),
            "input.fileName:",
            "required",
        ),
    ];
    for (case, mut input, prefix, expected) in cases {
        input["level"] = json!("REGIONAL");
        let body = hub.request(IMPORT, json!({ "input": input })).await.expect("request");
        let message = first_error(&body).unwrap_or_default();
        assert!(
            message.starts_with(prefix),
            "{case}: names the file or field: {message}"
        );
        assert!(message.contains(expected), "{case}: {message}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{case}");
    }
    let body = hub
        .request(
            IMPORT,
            json!({ "input": { "contentBase64": base64(pdf_without_text), "fileName": "scan.pdf", "level": "REGIONAL" } }),
        )
        .await
        .expect("request");
    let message = first_error(&body).unwrap_or_default();
    assert!(message.starts_with("scan.pdf:"), "{message}");
    assert_eq!(plan_count(&hub).await, 0, "nothing stored");
    hub.finish().await.expect("finish");
}

/// Exports `plan` as CSV and XLSX through `Plan.exports`, imports each back into the plan and
/// checks that no measure was added, removed or changed and every stored field is as before.
async fn round_trip(hub: &TestHub, report: &Value, level: &str, territory: Option<&str>, name: &str) {
    let id = report["plan"]["id"].as_str().expect("id").to_string();
    let before = measures(hub, &id).await;
    for (format, content_type) in [
        ("csv", "text/csv"),
        (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ] {
        let data = hub
            .gql(
                "query($id: ID!) { plan(id: $id) { state exports { csv xlsx } } }",
                json!({ "id": id }),
            )
            .await
            .expect("links");
        let link = data["plan"]["exports"][format].as_str().expect("link").to_string();
        let path = format!("/export/plans/{id}.{format}");
        if data["plan"]["state"] == "APPROVED" {
            assert_eq!(link, path, "an approved plan's link is bare");
        } else {
            assert!(
                link.starts_with(&format!("{path}?expires=")),
                "a draft's link is signed: {link}"
            );
        }
        let (status, got_type, bytes) = fetch(hub, &link).await;
        assert_eq!(status, 200, "{name}.{format}: {}", String::from_utf8_lossy(&bytes));
        assert!(got_type.starts_with(content_type), "{got_type}");
        let file = format!("{name}-export.{format}");
        let again = import_file(hub, &file, &bytes, level, territory).await;
        assert_eq!(again["plan"]["id"], id.as_str(), "{file}: the same plan");
        assert_eq!(again["format"], format.to_uppercase(), "{file}");
        // The CSV is another text than the document's, so a new version (changing no measure);
        // the XLSX renders into the very text of the CSV, so nothing is written.
        let expected = if format == "csv" { "UPDATED" } else { "UNCHANGED" };
        assert_eq!(again["status"], expected, "{file}");
        assert_eq!(
            again["changes"],
            json!({ "added": [], "removed": [], "changed": [] }),
            "{file}"
        );
        assert_eq!(
            again["ignoredColumns"].as_array().map(Vec::len),
            Some(4),
            "{file}: the derived columns are ignored: {}",
            again["ignoredColumns"]
        );
        let after = measures(hub, &id).await;
        assert_eq!(fields(&before), fields(&after), "{file}: every stored field as before");
        assert_eq!(before["sections"], after["sections"], "{file}");
    }
}

#[tokio::test]
async fn extra_columns_are_kept_and_an_exported_plan_imported_back_reports_no_change() {
    let hub = TestHub::spawn().await.expect("hub");
    // Two-row header, start and end columns, two responsible columns, "Источник финансирования".
    let features = import_file(
        &hub,
        "features.docx",
        &fixture_bytes("formats/features.docx"),
        "MUNICIPAL",
        None,
    )
    .await;
    assert_eq!(features["extraColumns"], json!(["Источник финансирования"]));
    let id = features["plan"]["id"].as_str().expect("id").to_string();
    let stored = measures(&hub, &id).await;
    let extra: Vec<(String, Value)> = stored["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .map(|m| (m["key"].as_str().unwrap_or("").to_string(), m["extraColumns"].clone()))
        .collect();
    assert_eq!(
        extra,
        vec![
            (
                "1.1".to_string(),
                json!([{ "header": "Источник финансирования", "value": "Местный бюджет" }])
            ),
            ("1.2".to_string(), json!([])),
            (
                "2.1".to_string(),
                json!([{ "header": "Источник финансирования", "value": "Без финансирования" }])
            ),
        ]
    );
    // A status set by people is exported as derived and stays as it is on the way back; 1.1 is
    // due 31.03.2024, so its effective status is OVERDUE.
    let first = stored["measures"][0]["id"].as_str().expect("id").to_string();
    hub.gql(
        "mutation($m: ID!) { setMeasureStatus(measure: $m, status: IN_PROGRESS, progress: 40) { status } }",
        json!({ "m": first }),
    )
    .await
    .expect("status");
    let (_, _, csv) = fetch(&hub, &format!("/export/plans/{id}.csv")).await;
    let csv = String::from_utf8(csv).expect("UTF-8");
    assert!(csv.starts_with('\u{feff}'), "a BOM, so Excel reads UTF-8");
    let row = csv
        .split("\r\n")
        .find(|l| l.starts_with("1.1.;"))
        .unwrap_or_else(|| panic!("1.1 exported: {csv}"));
    assert!(
        row.contains(";Местный бюджет;31.03.2024;"),
        "extra column and due day: {row}"
    );
    assert!(row.ends_with(";OVERDUE;40"), "status and progress: {row}");
    assert!(csv.contains("Источник финансирования"), "{csv}");
    round_trip(&hub, &features, "MUNICIPAL", None, "features").await;

    // Seeds: 004 has control points (a table of their own) and child measures are in 000.
    for (file, level, territory) in [
        ("004_cded1a1a885c41f7.txt", "SCHOOL", None),
        (
            "000_4b83c36956a51ac0.txt",
            "MUNICIPAL",
            Some("Хабаровский край/Николаевский муниципальный район"),
        ),
    ] {
        let report = import_file(&hub, file, &fixture_bytes(file), level, territory).await;
        assert_eq!(report["status"], "CREATED", "{file}");
        round_trip(&hub, &report, level, territory, file).await;
    }
    let status = hub
        .gql(
            "query($m: ID!) { measure(id: $m) { reportedStatus progress } }",
            json!({ "m": first }),
        )
        .await
        .expect("status after");
    assert_eq!(
        status["measure"],
        json!({ "reportedStatus": "IN_PROGRESS", "progress": 40.0 })
    );
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn a_drafts_export_needs_the_signed_link_only_those_who_see_it_get() {
    let hub = TestHub::spawn().await.expect("hub");
    let input = json!({ "contentBase64": base64(&fixture_bytes("formats/002.xlsx")), "fileName": "002.xlsx",
        "level": "REGIONAL", "territory": "Забайкальский край", "state": "DRAFT" });
    let report = hub.gql(IMPORT, json!({ "input": input })).await.expect("import")["importRoadmap"].clone();
    assert_eq!(report["plan"]["state"], "DRAFT");
    assert_eq!(report["format"], "XLSX");
    let id = report["plan"]["id"].as_str().expect("id").to_string();
    let link = report["plan"]["exports"]["xlsx"].as_str().expect("link").to_string();
    assert!(link.starts_with(&format!("/export/plans/{id}.xlsx?expires=")), "{link}");

    let (status, _, body) = fetch(&hub, &link).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(body.starts_with(b"PK"), "an XLSX is a ZIP");
    // Without the signature, or with another plan's, a draft is not there.
    let (status, _, _) = fetch(&hub, &format!("/export/plans/{id}.xlsx")).await;
    assert_eq!(status, 404);
    let tampered = link.replace(&id, &uuid::Uuid::new_v4().to_string());
    let (status, _, _) = fetch(&hub, &tampered).await;
    assert_eq!(status, 404);
    let later = link.replace("expires=", "expires=9");
    let (status, _, _) = fetch(&hub, &later).await;
    assert_eq!(status, 404, "the expiry is signed");
    // Anonymous readers do not see the draft, so they get no link.
    let body = hub
        .request_as(
            None,
            "query($id: ID!) { plan(id: $id) { exports { csv } } }",
            json!({ "id": id }),
        )
        .await
        .expect("anonymous");
    assert!(body["data"]["plan"].is_null(), "{body}");
    // Unknown plans and names.
    let (status, _, _) = fetch(&hub, &format!("/export/plans/{}.csv", uuid::Uuid::new_v4())).await;
    assert_eq!(status, 404);
    let (status, _, body) = fetch(&hub, "/export/plans/nonsense.csv").await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    hub.finish().await.expect("finish");
}
