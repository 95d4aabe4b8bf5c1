//! The command line as users run it: `roadmap-hub import` on every seed, then again (unchanged),
//! and a bad file refused; `roadmap-hub migrate`.

use std::process::Command;

fn database() -> String {
    let server = std::env::var("TEST_DATABASE_SERVER").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    format!("{server}/roadmap_cli_{}", uuid::Uuid::new_v4().simple())
}

fn hub(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_roadmap-hub"))
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("RUST_LOG")
        .output()
        .expect("run roadmap-hub")
}

fn fixture(name: &str) -> String {
    format!("{}/../tests/fixtures/roadmaps/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn import_every_seed_from_the_command_line() {
    let db = database();
    let migrate = hub(&db, &["migrate"]);
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("plans: migrated"));
    for seed in &roadmap_hub::demo::SEEDS {
        let path = fixture(seed.file_name);
        let mut args = vec!["import", path.as_str(), "--json"];
        if let Some(t) = seed.territory {
            args.extend(["--territory", t]);
        }
        let out = hub(&db, &args);
        assert!(
            out.status.success(),
            "{}: {}",
            seed.file_name,
            String::from_utf8_lossy(&out.stderr)
        );
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the summary is JSON on stdout");
        assert_eq!(summary["status"], "CREATED", "{}", seed.file_name);
        let parsed = roadmap_import::parse_document_bytes(seed.text).expect("parses");
        assert_eq!(summary["measures"], parsed.stats.measures, "{}", seed.file_name);

        let again = hub(&db, &["import", path.as_str()]);
        assert!(again.status.success());
        let text = String::from_utf8_lossy(&again.stdout);
        assert!(text.starts_with("Unchanged: plan "), "{text}");
        assert!(
            text.contains("deadlines:"),
            "the text summary lists parsed deadlines: {text}"
        );
    }
    let bad = std::env::temp_dir().join(format!("roadmap-bad-{}.txt", std::process::id()));
    std::fs::write(&bad, b"\x00\x01\x02 not text").expect("write");
    let out = hub(&db, &["import", bad.to_str().expect("path")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("looks binary") && err.contains("line 1"), "{err}");
    std::fs::remove_file(&bad).ok();
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(roadmap_common::db::drop_database(&db))
        .expect("drop the test database");
}
