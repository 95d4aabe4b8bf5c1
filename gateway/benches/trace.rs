//! Trace latency through the gateway next to the raw SQL floor for the same traversal.
//!
//! Generates a cascade (default: national scale, 89 regions × 26 municipalities × 17 schools,
//! about 1.8 million measures) into `BENCH_DATABASE_URL` unless one with the same seed is
//! already there, starts every target in-process, then for `BENCH_TRACES` regional measures
//! times (a) `measure { implementedBy(depth: 2) { measure { number status plan { level } } next
//! { measure { number status } } } }` through the gateway over HTTP and (b) the recursive SQL
//! statement that returns the same nodes (measures fetched by primary key, as the loaders do).
//! Prints p50/p95/max of both; asserts nothing about time.
//!
//! Also times the same query sent straight to the plans subgraph (the gateway's secret and an
//! anonymous visitor's claims, as the router sends it): the difference is the router's hop.
//!
//! Also times (c) the hub's own trace statement (`roadmap_plans::store::trace_statement`: the edges
//! with the reached measures, statuses and plans) and counts the SQL statements per trace through
//! the gateway. The bench's own connection runs with `jit = off`, as the hub's do.
//!
//! `cargo bench -p roadmap-hub --bench trace` (release; `--profile dev` builds faster).
//! Sizes: `BENCH_REGIONS`, `BENCH_MUNICIPALITIES`, `BENCH_SCHOOLS`, `BENCH_SEED`. `BENCH_DEPTH`
//! (default 2, at most 4) sets how many levels the trace follows: 3 reaches the class plans
//! (region → municipality → school → class), each further level another `next { measure {
//! number status } }`.

mod common;

use std::time::Instant;

use roadmap_hub::targets::{Hub, Target};

use common::{Dataset, env, stats};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    roadmap_common::telemetry::init_with_default(roadmap_common::telemetry::LogFormat::Text, "warn");
    let dataset = Dataset::from_env();
    let url = dataset.url.clone();
    let traces: usize = env("BENCH_TRACES", 200);
    let mut config = roadmap_hub::targets::ephemeral_config(url.clone());
    config.ports.values_mut().for_each(|p| *p = 0);
    let hub = Hub::start(&config, Target::ALL).await?;
    let mut conn = roadmap_common::db::connect_one(&url).await?;
    // As the hub's connections (`service_options`): the floor is not a floor with JIT on.
    sqlx::query("SET jit = off").execute(&mut conn).await?;
    // The hub's trace statement names its tables as the plans target does (its schema first).
    sqlx::query("SET search_path = plans, public")
        .execute(&mut conn)
        .await?;
    dataset.ensure(&mut conn, config.clock.today()).await?;
    // The statement count too should be the traces' own: the watcher's backlog first.
    if let Some(plans) = hub.pool(Target::PLANS) {
        common::wait_for_backlog(plans, || config.clock.today()).await?;
    }
    let roots = common::regional_roots(&mut conn, traces).await?;
    let gateway = hub.graphql_url(Target::GATEWAY).unwrap_or_default();
    let client = reqwest::Client::new();
    let depth: i32 = env("BENCH_DEPTH", 2).clamp(1, 4);
    let mut next = String::new();
    for _ in 1..depth {
        next = format!(" next {{ measure {{ number status }}{next} }}");
    }
    let query = format!(
        "query($id: ID!) {{ measure(id: $id) {{ implementedBy(depth: {depth}) {{ \
         measure {{ number status plan {{ level }} }}{next} }} }} }}"
    );
    // The same query straight to the plans subgraph, as the gateway sends it (its secret, an
    // anonymous visitor's claims): the difference to the gateway's time is the router's hop.
    let plans = hub.graphql_url(Target::PLANS).unwrap_or_default();
    let anonymous = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode("{}")
    };
    let mut via_subgraph = Vec::new();
    let (mut via_gateway, mut via_sql, mut via_hub_sql, mut nodes) = (Vec::new(), Vec::new(), Vec::new(), 0usize);
    let mut reached = 0usize;
    let mut statements = Vec::new();
    for root in &roots {
        let counted = roadmap_common::telemetry::sql_statement_count();
        let t = Instant::now();
        let body: serde_json::Value = client
            .post(&gateway)
            .json(&serde_json::json!({ "query": query, "variables": { "id": root } }))
            .send()
            .await?
            .json()
            .await?;
        via_gateway.push(t.elapsed());
        statements.push(roadmap_common::telemetry::sql_statement_count() - counted);
        let t = Instant::now();
        let direct: serde_json::Value = client
            .post(&plans)
            .header(roadmap_common::auth::SECRET_HEADER, config.gateway_secret.expose())
            .header(roadmap_common::auth::CLAIMS_HEADER, &anonymous)
            .json(&serde_json::json!({ "query": query, "variables": { "id": root } }))
            .send()
            .await?
            .json()
            .await?;
        via_subgraph.push(t.elapsed());
        assert_eq!(
            direct["data"], body["data"],
            "the subgraph answers what the gateway does"
        );
        let level1 = body["data"]["measure"]["implementedBy"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        nodes += level1;
        let t = Instant::now();
        let rows = sqlx::query(
            "WITH RECURSIVE t(depth, measure_id) AS ( \
               SELECT 1, l.measure_id FROM plans.measure_link l WHERE l.implements_id = $1 AND l.state <> 'REJECTED' \
               UNION ALL SELECT t.depth + 1, l.measure_id FROM plans.measure_link l JOIN t ON l.implements_id = t.measure_id \
               WHERE t.depth < $2 AND l.state <> 'REJECTED') \
             SELECT m.number, m.status, p.level FROM plans.measure m JOIN plans.plan p ON p.id = m.plan_id \
             WHERE m.id = ANY(ARRAY(SELECT measure_id FROM t))",
        )
        .bind(root)
        .bind(depth)
        .fetch_all(&mut conn)
        .await?;
        via_sql.push(t.elapsed());
        reached += rows.len();
        let t = Instant::now();
        // What the gateway's query makes the hub read: numbers, plans at depth 1.
        let reads = roadmap_plans::store::NodeReads {
            plan_depths: 1 << 1,
            ..Default::default()
        }
        .with_columns(&["number"])
        .expect("a column");
        let hub_rows = sqlx::query(&roadmap_plans::store::trace_statement(
            roadmap_plans::store::Direction::Down,
            Some(reads),
        ))
        .bind([*root].as_slice())
        .bind(depth)
        .bind(reads.plan_depths as i32)
        .fetch_all(&mut conn)
        .await?;
        via_hub_sql.push(t.elapsed());
        assert_eq!(hub_rows.len(), rows.len(), "the hub's statement reaches the same nodes");
        assert_eq!(
            rows.is_empty(),
            level1 == 0,
            "the gateway and SQL reach the same cascade"
        );
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM plans.measure")
        .fetch_one(&mut conn)
        .await?;
    println!(
        "trace of {} regional measures, depth {depth}, {total} measures in the database:",
        roots.len()
    );
    println!("  through the gateway: {}", stats(via_gateway));
    println!("  the plans subgraph directly (no router): {}", stats(via_subgraph));
    println!("  raw SQL floor:       {}", stats(via_sql));
    println!("  the hub's statement: {}", stats(via_hub_sql));
    statements.sort();
    println!(
        "  SQL statements per trace through the gateway: median {}, max {} (the process's count, \
         background work included)",
        statements[statements.len() / 2],
        statements.last().copied().unwrap_or(0)
    );
    println!(
        "  ({nodes} municipal implementers reached at depth 1 in total; {:.0} nodes per trace on average)",
        reached as f64 / roots.len().max(1) as f64
    );
    hub.shutdown().await?;
    Ok(())
}
