//! Import benchmark: all five seed roadmaps into a fresh database through the real importer
//! (parser, people subgraph over HTTP, one transaction per plan), then again (unchanged).
//!
//! `cargo bench -p roadmap-plans --bench import` (release). Needs PostgreSQL; `BENCH_DATABASE_SERVER`
//! overrides `postgres://postgres@127.0.0.1:5432`. Prints figures; asserts nothing about time.

use std::time::{Duration, Instant};

use roadmap_common::db;
use roadmap_common::people::PeopleClient;
use roadmap_plans::import::{ImportOptions, ImportStatus, import_document};

const SEEDS: [&str; 5] = [
    "000_4b83c36956a51ac0.txt",
    "001_874814e5f764bb7a.txt",
    "002_587447f0e4c9bb26.txt",
    "003_7f00e907b2a1d76c.txt",
    "004_cded1a1a885c41f7.txt",
];
const ROUNDS: usize = 5;

#[tokio::main]
async fn main() -> anyhow_free::Result {
    let server = std::env::var("BENCH_DATABASE_SERVER").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/roadmaps");
    let docs: Vec<(&str, Vec<u8>)> = SEEDS
        .iter()
        .map(|f| (*f, std::fs::read(format!("{dir}/{f}")).expect("fixture")))
        .collect();
    let mut created = Vec::new();
    let mut unchanged = Vec::new();
    let mut per_file = vec![Duration::ZERO; SEEDS.len()];
    for round in 0..ROUNDS {
        let url = format!("{server}/roadmap_bench_{}_{round}", std::process::id());
        db::ensure_database(&url).await?;
        let people_pool = db::prepare(&url, roadmap_people::NAME, &roadmap_people::MIGRATOR, 16).await?;
        let plans_pool = db::prepare(&url, roadmap_plans::NAME, &roadmap_plans::MIGRATOR, 16).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let people_url = format!("http://{}/graphql", listener.local_addr()?);
        let secret = roadmap_common::auth::GatewaySecret::random();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server_task = tokio::spawn(roadmap_common::server::run(
            listener,
            roadmap_people::router(people_pool.clone(), secret.clone()),
            async move {
                let _ = stopped.await;
            },
        ));
        let people = PeopleClient::new(roadmap_plans::NAME, people_url, secret.clone());
        let options = |i: usize| ImportOptions {
            territory: Some(format!("Регион {i}")),
            file_name: Some(SEEDS[i].to_string()),
            actor: roadmap_common::auth::Actor::service("bench"),
            ..Default::default()
        };
        let start = Instant::now();
        for (i, (_, bytes)) in docs.iter().enumerate() {
            let t = Instant::now();
            let s = import_document(&plans_pool, &people, bytes, &options(i))
                .await
                .map_err(|e| e.message())?;
            assert_eq!(s.status, ImportStatus::Created);
            per_file[i] += t.elapsed();
        }
        created.push(start.elapsed());
        let start = Instant::now();
        for (i, (_, bytes)) in docs.iter().enumerate() {
            let s = import_document(&plans_pool, &people, bytes, &options(i))
                .await
                .map_err(|e| e.message())?;
            assert_eq!(s.status, ImportStatus::Unchanged);
        }
        unchanged.push(start.elapsed());
        let _ = stop.send(());
        server_task.await??;
        people_pool.close().await;
        plans_pool.close().await;
        db::drop_database(&url).await?;
    }
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    println!("import of the five seeds into a fresh database, {ROUNDS} rounds (release):");
    for (i, f) in SEEDS.iter().enumerate() {
        println!("  {f}: mean {:.1} ms", ms(&per_file[i]) / ROUNDS as f64);
    }
    println!("  all five, created:   median {:.1} ms", ms(&median(&mut created)));
    println!("  all five, unchanged: median {:.1} ms", ms(&median(&mut unchanged)));
    Ok(())
}

/// A boxed error is enough for a bench binary.
mod anyhow_free {
    pub type Result = std::result::Result<(), Box<dyn std::error::Error>>;
}
