//! The web target's pages at national scale: how long each kind of page takes to answer, how big
//! it is and how many GraphQL requests it sends to the gateway.
//!
//! Generates a cascade (default: national scale, see `common`) into `BENCH_DATABASE_URL` unless
//! one with the same seed is there, starts every target in-process (the web pages read the
//! gateway over HTTP, as in production), waits for the deadline watcher's backlog, then asks each
//! kind of page `BENCH_PAGE_ROUNDS` times (default 40; after two warm-up rounds), one request at
//! a time, as an anonymous visitor, cycling through up to 10 samples of its kind (territories,
//! plans, measures of each level; the generated indicator). Prints p50/p95/max, the page's size
//! and the GraphQL requests per page (counted by the web target's gateway client); fails if a
//! page does not answer 200. Asserts nothing about time.
//!
//! `cargo bench -p roadmap-hub --bench pages` (release).

mod common;

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use roadmap_hub::targets::{Hub, Target};
use sqlx::PgConnection;

use common::{Dataset, env, percentile};

/// Up to `limit` ids (as text) from `sql`.
async fn ids(conn: &mut PgConnection, sql: &str, limit: i64) -> anyhow::Result<Vec<String>> {
    let rows: Vec<String> = sqlx::query_scalar(sql).bind(limit).fetch_all(conn).await?;
    ensure!(!rows.is_empty(), "the generated cascade has none of: {sql}");
    Ok(rows)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    roadmap_common::telemetry::init_with_default(roadmap_common::telemetry::LogFormat::Text, "warn");
    let dataset = Dataset::from_env();
    let rounds: usize = env("BENCH_PAGE_ROUNDS", 40);
    let mut config = roadmap_hub::targets::ephemeral_config(dataset.url.clone());
    config.ports.values_mut().for_each(|p| *p = 0);
    let hub = Hub::start(&config, Target::ALL).await?;
    let mut conn = roadmap_common::db::connect_one(&dataset.url).await?;
    dataset.ensure(&mut conn, config.clock.today()).await?;
    if let Some(plans) = hub.pool(Target::PLANS) {
        common::wait_for_backlog(plans, || config.clock.today()).await?;
    }
    let web = hub
        .home_url(Target::WEB)
        .context("the web target runs")?
        .trim_end_matches('/')
        .to_string();

    const SAMPLES: i64 = 10;
    let territories =
        |kind: &str| format!("SELECT id::text FROM people.territory WHERE kind = '{kind}' ORDER BY id LIMIT $1");
    let plans = |level: &str| {
        format!(
            "SELECT id::text FROM plans.plan WHERE level = '{level}' AND source_key LIKE 'generated:%' \
             ORDER BY id LIMIT $1"
        )
    };
    let measures = |level: &str| {
        format!(
            "SELECT m.id::text FROM plans.measure m JOIN plans.plan p ON p.id = m.plan_id \
             WHERE p.level = '{level}' AND p.source_key LIKE 'generated:%' AND m.parent_measure_id IS NULL \
             ORDER BY m.id LIMIT $1"
        )
    };
    let country = ids(&mut conn, &territories("COUNTRY"), 1).await?;
    let regions = ids(&mut conn, &territories("REGION"), SAMPLES).await?;
    let municipalities = ids(&mut conn, &territories("MUNICIPALITY"), SAMPLES).await?;
    let (code, subject): (String, String) = sqlx::query_as(
        "SELECT i.code, t.subject FROM indicators.indicator_target t JOIN indicators.indicator i ON i.id = t.indicator_id \
         WHERE t.subject IS NOT NULL ORDER BY i.code, t.subject LIMIT 1",
    )
    .fetch_one(&mut conn)
    .await
    .context("the generated indicator")?;
    let under = |ids: &[String], path: &str| -> Vec<String> { ids.iter().map(|id| format!("{path}{id}")).collect() };
    let pages: Vec<(&str, Vec<String>)> = vec![
        ("overview", vec!["/".to_string()]),
        ("country", under(&country, "/territories/")),
        ("region", under(&regions, "/territories/")),
        ("municipality", under(&municipalities, "/territories/")),
        (
            "what is missing, country",
            country.iter().map(|id| format!("/territories/{id}/missing")).collect(),
        ),
        (
            "what is missing, region",
            regions.iter().map(|id| format!("/territories/{id}/missing")).collect(),
        ),
        (
            "federal plan",
            under(&ids(&mut conn, &plans("FEDERAL"), SAMPLES).await?, "/plans/"),
        ),
        (
            "regional plan",
            under(&ids(&mut conn, &plans("REGIONAL"), SAMPLES).await?, "/plans/"),
        ),
        (
            "municipal plan",
            under(&ids(&mut conn, &plans("MUNICIPAL"), SAMPLES).await?, "/plans/"),
        ),
        (
            "school plan",
            under(&ids(&mut conn, &plans("SCHOOL"), SAMPLES).await?, "/plans/"),
        ),
        (
            "federal measure",
            under(&ids(&mut conn, &measures("FEDERAL"), SAMPLES).await?, "/measures/"),
        ),
        (
            "regional measure",
            common::regional_roots(&mut conn, SAMPLES as usize)
                .await?
                .iter()
                .map(|id| format!("/measures/{id}"))
                .collect(),
        ),
        (
            "school measure",
            under(&ids(&mut conn, &measures("SCHOOL"), SAMPLES).await?, "/measures/"),
        ),
        ("indicators", vec!["/indicators".to_string()]),
        ("indicator", vec![format!("/indicators/{code}")]),
        (
            "indicator × country",
            country
                .iter()
                .map(|id| format!("/indicators/{code}/{id}?subject={subject}"))
                .collect(),
        ),
        (
            "indicator × region",
            regions
                .iter()
                .map(|id| format!("/indicators/{code}/{id}?subject={subject}"))
                .collect(),
        ),
    ];

    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM plans.measure")
        .fetch_one(&mut conn)
        .await?;
    println!("web pages over {total} measures, {rounds} requests per page kind, one at a time, anonymous:");
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>9} {:>13}",
        "page", "p50 ms", "p95 ms", "max ms", "KB", "GraphQL/page"
    );
    let mut worst_p95 = 0.0f64;
    let mut most_requests = 0.0f64;
    for (name, urls) in &pages {
        for url in urls.iter().cycle().take(2 * urls.len()) {
            client.get(format!("{web}{url}")).send().await?.bytes().await?;
        }
        let mut times = Vec::with_capacity(rounds);
        let mut bytes = 0usize;
        let sent = roadmap_web::gateway::requests_sent();
        for url in urls.iter().cycle().take(rounds) {
            let t = Instant::now();
            let response = client.get(format!("{web}{url}")).send().await?;
            let status = response.status();
            let body = response.bytes().await?;
            times.push(t.elapsed());
            ensure!(
                status.is_success(),
                "{name} {url}: HTTP {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            );
            bytes += body.len();
        }
        let requests = (roadmap_web::gateway::requests_sent() - sent) as f64 / rounds as f64;
        times.sort();
        let p95 = percentile(&times, 0.95);
        worst_p95 = worst_p95.max(p95);
        most_requests = most_requests.max(requests);
        println!(
            "{name:<28} {:>9.1} {p95:>9.1} {:>9.1} {:>9.1} {requests:>13.1}",
            percentile(&times, 0.5),
            percentile(&times, 1.0),
            bytes as f64 / rounds as f64 / 1024.0,
        );
    }
    println!("slowest p95: {worst_p95:.1} ms; most GraphQL requests per page: {most_requests:.1}");
    hub.shutdown().await?;
    Ok(())
}
