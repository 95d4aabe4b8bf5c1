//! The dashboards' rollups at national scale: each through the gateway next to the SQL floor, the
//! one statement that computes the same numbers from the database.
//!
//! Generates a cascade (default: national scale, see `common`) into `BENCH_DATABASE_URL` unless
//! one with the same seed is there, starts every target in-process, waits for the deadline
//! watcher's backlog, then times, one request at a time, `BENCH_ROUNDS` times (default 40) after
//! a warm-up round over every sample:
//!
//! - `Territory.rollup` of the generated indicator (share below the minimum ЕГЭ score) for 2024
//!   and `BENCH_SUBJECT` (default `math_profile`), as a dashboard shows it (value, target, gap,
//!   status, the children with their names, values, targets, gaps, statuses and ranks), for the
//!   country and for a region (cycling through up to 10);
//! - `Plan.implementationByTerritory` (per child territory: how many of the plan's measures are
//!   implemented there at any depth, out of all) for the federal plan and for a regional plan
//!   (cycling through up to 10).
//!
//! The floor of a rollup follows the indicators subgraph's rules (`roadmap_indicators::rollup`)
//! over the generated cascade's official results: a unit's own value (with a denominator) wins
//! over its children's, else its children's mean weighted by their denominators, down to three
//! levels under the unit (country → regions → municipalities → schools); children ranked and
//! compared with their targets (the latest set), direction-aware. It leaves out children without
//! a value (the generated cascade has none: every municipality and school reports every
//! subject). The floor of an implementation follows the links (not rejected, up to the cascade's
//! depth) from the plan's measures proper and counts, per child territory of the plan's, the
//! measures with an implementing measure in a plan of that territory. Both sides are checked
//! against each other on every sample in the warm-up (same children, names, statuses and ranks;
//! numbers to 1e-9 of their magnitude). The bench's connection runs with `jit = off`, as the
//! hub's do.
//!
//! Prints p50/p95/max of both and the SQL statements per request through the gateway (the
//! process's count, background work included), and the times of each sample's first request in
//! the warm-up: the indicators subgraph keeps a unit's rollup index between requests until the
//! indicator's observations change (`roadmap_indicators::cache`), so a rollup's first request
//! reads the unit's observations and the timed rounds use the kept index. Asserts nothing about
//! time.
//!
//! `cargo bench -p roadmap-hub --bench rollups` (release; `--profile dev` builds faster).
//! Sizes: `BENCH_REGIONS`, `BENCH_MUNICIPALITIES`, `BENCH_SCHOOLS`, `BENCH_SEED`.

mod common;

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use roadmap_hub::targets::{Hub, Target};
use serde_json::{Value, json};
use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

use common::{Dataset, env, stats};

/// The period the generated cascade observes.
const PERIOD: i32 = 2024;
/// Regions and regional plans cycled through.
const SAMPLES: i64 = 10;

/// What a dashboard asks of a territory's rollup.
const ROLLUP_QUERY: &str = "query($id: ID!, $indicator: String!, $period: Int!, $subject: String) { \
     territory(id: $id) { id name rollup(indicator: $indicator, period: $period, subject: $subject) { \
     value source target gap status numerator denominator childrenWithData missingChildren \
     children { territory { id name } value denominator rank target gap status } } } }";

/// What a dashboard asks of a plan's implementation by territory.
const IMPLEMENTATION_QUERY: &str = "query($id: ID!) { plan(id: $id) { id title \
     implementationByTerritory { territory { id name } implemented total share } } }";

/// The rule of `roadmap_indicators::rollup::status` in SQL: `value` against `target` by the
/// direction of the indicator (`ind.direction`).
fn status_sql(value: &str, target: &str) -> String {
    let shortfall =
        format!("(CASE WHEN ind.direction = 'LOWER_IS_BETTER' THEN {value} - {target} ELSE {target} - {value} END)");
    format!(
        "CASE WHEN {value} IS NULL OR {target} IS NULL THEN NULL \
         WHEN {shortfall} <= 1e-9::float8 THEN 'ON_TRACK' \
         WHEN {shortfall} <= {tolerance}::float8 * abs({target}) + 1e-9::float8 THEN 'AT_RISK' \
         ELSE 'OFF_TRACK' END",
        tolerance = roadmap_indicators::rollup::AT_RISK_TOLERANCE
    )
}

/// The floor of `Territory.rollup`: `$1` indicator code, `$2` period, `$3` subject, `$4` the
/// territory. One row per child with a value, the territory's figures on each.
fn rollup_floor() -> String {
    // `up`: where the territory sits in an observation's path (1: the observed unit is its
    // child); `k1`, `k2`: the observed unit's ancestors one and two levels under the territory.
    format!(
        "WITH ind AS ( \
           SELECT id, direction, CASE WHEN btrim(unit) = '%' THEN 100 ELSE 1 END::float8 AS scale \
           FROM indicators.indicator WHERE code = $1), \
         o AS ( \
           SELECT array_position(o.territory_path, $4::uuid) AS up, o.territory_path AS tp, \
                  coalesce(o.organisation_id, o.territory_id) AS unit, o.value::float8 AS v, \
                  o.denominator::float8 AS d, \
                  coalesce(o.numerator::float8, o.value::float8 * o.denominator::float8 / ind.scale) AS n \
           FROM indicators.observation o JOIN ind ON ind.id = o.indicator_id \
           WHERE o.period = $2 AND o.subject = $3 AND o.result_source = 'OFFICIAL' \
             AND o.organisation_path = '{{}}' AND o.territory_path @> ARRAY[$4::uuid] \
             AND o.denominator IS NOT NULL), \
         k AS ( \
           SELECT up, v, d, n, CASE WHEN up = 1 THEN unit ELSE tp[up - 1] END AS k1, \
                  CASE WHEN up = 2 THEN unit WHEN up > 2 THEN tp[up - 2] END AS k2 \
           FROM o WHERE up <= 3), \
         l2 AS ( \
           SELECT coalesce(own.k1, below.k1) AS k1, coalesce(own.v, below.vd / below.d) AS v, \
                  coalesce(own.d, below.d) AS d, coalesce(own.n, below.n) AS n \
           FROM (SELECT k1, k2, v, d, n FROM k WHERE up = 2) own \
           FULL JOIN (SELECT k1, k2, sum(v * d) AS vd, sum(d) AS d, sum(n) AS n FROM k WHERE up = 3 \
                      GROUP BY k1, k2) below ON below.k1 = own.k1 AND below.k2 = own.k2), \
         l1 AS ( \
           SELECT coalesce(own.k1, below.k1) AS id, coalesce(own.v, below.vd / below.d) AS v, \
                  coalesce(own.d, below.d) AS d, coalesce(own.n, below.n) AS n \
           FROM (SELECT k1, v, d, n FROM k WHERE up = 1) own \
           FULL JOIN (SELECT k1, sum(v * d) AS vd, sum(d) AS d, sum(n) AS n FROM l2 GROUP BY k1) below \
             ON below.k1 = own.k1), \
         top AS (SELECT sum(v * d) / sum(d) AS v, sum(d) AS d, sum(n) AS n, count(*) AS used FROM l1), \
         tg AS ( \
           SELECT DISTINCT ON (t.territory_id) t.territory_id, t.value::float8 AS value \
           FROM indicators.indicator_target t JOIN ind ON ind.id = t.indicator_id \
           WHERE t.kind = 'TARGET' AND t.period = $2 AND t.subject = $3 AND t.organisation_id IS NULL \
             AND (t.territory_id = $4 OR t.territory_id IN (SELECT id FROM l1)) \
           ORDER BY t.territory_id, t.updated_at DESC) \
         SELECT c.id::text AS id, pt.name, c.v AS value, c.d AS denominator, ct.value AS target, \
                c.v - ct.value AS gap, {child_status} AS status, \
                rank() OVER (ORDER BY CASE WHEN ind.direction = 'LOWER_IS_BETTER' THEN c.v ELSE -c.v END)::float8 \
                  AS rank, \
                (SELECT name FROM people.territory WHERE id = $4) AS unit_name, \
                top.v AS unit_value, top.n AS unit_numerator, top.d AS unit_denominator, \
                top.used::float8 AS unit_children, ut.value AS unit_target, top.v - ut.value AS unit_gap, \
                {unit_status} AS unit_status \
         FROM l1 c CROSS JOIN top CROSS JOIN ind \
         LEFT JOIN tg ct ON ct.territory_id = c.id \
         LEFT JOIN tg ut ON ut.territory_id = $4 \
         LEFT JOIN people.territory pt ON pt.id = c.id",
        child_status = status_sql("c.v", "ct.value"),
        unit_status = status_sql("top.v", "ut.value"),
    )
}

/// The floor of `Plan.implementationByTerritory`: `$1` the plan, `$2` the deepest link followed
/// (`roadmap_plans::cascade::MAX_DEPTH`). One row per child territory of the plan's.
const IMPLEMENTATION_FLOOR: &str = "WITH RECURSIVE ms AS ( \
       SELECT id FROM plans.measure WHERE plan_id = $1 AND kind = 'MEASURE'), \
     t(root, depth, measure_id) AS ( \
       SELECT l.implements_id, 1, l.measure_id FROM plans.measure_link l \
       WHERE l.implements_id IN (SELECT id FROM ms) AND l.state <> 'REJECTED' \
       UNION ALL \
       SELECT t.root, t.depth + 1, l.measure_id FROM plans.measure_link l JOIN t ON l.implements_id = t.measure_id \
       WHERE t.depth < $2 AND l.state <> 'REJECTED'), \
     hit AS ( \
       SELECT DISTINCT t.root, p.territory_id FROM t \
       JOIN plans.measure m ON m.id = t.measure_id JOIN plans.plan p ON p.id = m.plan_id), \
     total AS (SELECT count(*) AS n FROM ms) \
     SELECT c.id::text AS id, c.name, count(hit.root)::float8 AS implemented, total.n::float8 AS total, \
            CASE WHEN total.n > 0 THEN count(hit.root)::float8 / total.n ELSE 0 END AS share \
     FROM people.territory c CROSS JOIN total LEFT JOIN hit ON hit.territory_id = c.id \
     WHERE c.parent_id = (SELECT territory_id FROM plans.plan WHERE id = $1) \
     GROUP BY c.id, c.name, total.n";

/// One unit's figures as one side gives them: numbers and labels (statuses, sources) in the
/// same order on both sides.
#[derive(Debug)]
struct Figures {
    id: String,
    name: String,
    numbers: Vec<Option<f64>>,
    labels: Vec<Option<String>>,
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
        (a, b) => a.is_none() && b.is_none(),
    }
}

/// Fails unless both sides give the same units with the same figures.
fn same(what: &str, mut gateway: Vec<Figures>, mut floor: Vec<Figures>) -> anyhow::Result<()> {
    gateway.sort_by(|a, b| a.id.cmp(&b.id));
    floor.sort_by(|a, b| a.id.cmp(&b.id));
    let ids = |v: &[Figures]| v.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
    ensure!(
        ids(&gateway) == ids(&floor),
        "{what}: the gateway gives units {:?}, the floor {:?}",
        ids(&gateway),
        ids(&floor)
    );
    for (g, f) in gateway.iter().zip(&floor) {
        let numbers =
            g.numbers.len() == f.numbers.len() && g.numbers.iter().zip(&f.numbers).all(|(a, b)| close(*a, *b));
        ensure!(
            g.name == f.name && g.labels == f.labels && numbers,
            "{what}: the gateway gives {g:?}, the floor {f:?}"
        );
    }
    Ok(())
}

/// Which rollup a row times.
#[derive(Clone, Copy)]
enum Kind {
    /// `Territory.rollup` of the generated indicator.
    Rollup,
    /// `Plan.implementationByTerritory`.
    Implementation,
}

/// The gateway, the bench's own connection and what the queries are about.
struct Bench {
    client: reqwest::Client,
    gateway: String,
    conn: PgConnection,
    indicator: String,
    subject: String,
    rollup_floor: String,
}

impl Bench {
    /// One request through the gateway: its figures, its time and the SQL statements it cost.
    async fn gateway(&self, kind: Kind, id: Uuid) -> anyhow::Result<(Vec<Figures>, Duration, u64)> {
        let (query, variables) = match kind {
            Kind::Rollup => (
                ROLLUP_QUERY,
                json!({ "id": id, "indicator": self.indicator, "period": PERIOD, "subject": self.subject }),
            ),
            Kind::Implementation => (IMPLEMENTATION_QUERY, json!({ "id": id })),
        };
        let counted = roadmap_common::telemetry::sql_statement_count();
        let t = Instant::now();
        let body: Value = self
            .client
            .post(&self.gateway)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await?
            .json()
            .await?;
        let elapsed = t.elapsed();
        let statements = roadmap_common::telemetry::sql_statement_count() - counted;
        ensure!(body.get("errors").is_none(), "the gateway answers {body}");
        let label = |v: &Value| v.as_str().map(str::to_string);
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let figures = match kind {
            Kind::Rollup => {
                let territory = &body["data"]["territory"];
                let r = &territory["rollup"];
                let children = r["children"].as_array().context("rollup children")?;
                let valueless = children.iter().filter(|c| c["value"].is_null()).count();
                ensure!(
                    r["missingChildren"].as_u64() == Some(valueless as u64),
                    "children without a value are the missing ones: {r}"
                );
                let mut figures = vec![Figures {
                    id: text(&territory["id"]),
                    name: text(&territory["name"]),
                    numbers: ["value", "target", "gap", "numerator", "denominator", "childrenWithData"]
                        .map(|f| r[f].as_f64())
                        .to_vec(),
                    labels: vec![label(&r["status"]), label(&r["source"])],
                }];
                figures.extend(children.iter().filter(|c| !c["value"].is_null()).map(|c| {
                    Figures {
                        id: text(&c["territory"]["id"]),
                        name: text(&c["territory"]["name"]),
                        numbers: ["value", "denominator", "target", "gap", "rank"]
                            .map(|f| c[f].as_f64())
                            .to_vec(),
                        labels: vec![label(&c["status"])],
                    }
                }));
                figures
            }
            Kind::Implementation => body["data"]["plan"]["implementationByTerritory"]
                .as_array()
                .context("implementationByTerritory")?
                .iter()
                .map(|i| Figures {
                    id: text(&i["territory"]["id"]),
                    name: text(&i["territory"]["name"]),
                    numbers: ["implemented", "total", "share"].map(|f| i[f].as_f64()).to_vec(),
                    labels: Vec::new(),
                })
                .collect(),
        };
        Ok((figures, elapsed, statements))
    }

    /// The floor's one statement: its figures (in the gateway's form) and its time.
    async fn floor(&mut self, kind: Kind, id: Uuid) -> anyhow::Result<(Vec<Figures>, Duration)> {
        let t = Instant::now();
        let rows = match kind {
            Kind::Rollup => {
                sqlx::query(&self.rollup_floor)
                    .bind(&self.indicator)
                    .bind(PERIOD)
                    .bind(&self.subject)
                    .bind(id)
                    .fetch_all(&mut self.conn)
                    .await?
            }
            Kind::Implementation => {
                sqlx::query(IMPLEMENTATION_FLOOR)
                    .bind(id)
                    .bind(roadmap_plans::cascade::MAX_DEPTH)
                    .fetch_all(&mut self.conn)
                    .await?
            }
        };
        let elapsed = t.elapsed();
        let numbers = |row: &sqlx::postgres::PgRow, columns: &[&str]| -> anyhow::Result<Vec<Option<f64>>> {
            columns
                .iter()
                .map(|c| row.try_get::<Option<f64>, _>(*c).with_context(|| format!("column {c}")))
                .collect()
        };
        let mut figures = Vec::with_capacity(rows.len() + 1);
        if let Kind::Rollup = kind {
            let unit = match rows.first() {
                Some(row) => Figures {
                    id: id.to_string(),
                    name: row.try_get::<Option<String>, _>("unit_name")?.unwrap_or_default(),
                    numbers: numbers(
                        row,
                        &[
                            "unit_value",
                            "unit_target",
                            "unit_gap",
                            "unit_numerator",
                            "unit_denominator",
                            "unit_children",
                        ],
                    )?,
                    labels: vec![row.try_get("unit_status")?, Some("ROLLUP".to_string())],
                },
                None => anyhow::bail!("the floor finds no child with a value under {id}"),
            };
            figures.push(unit);
        }
        for row in &rows {
            let (columns, labels): (&[&str], Vec<Option<String>>) = match kind {
                Kind::Rollup => (
                    &["value", "denominator", "target", "gap", "rank"],
                    vec![row.try_get("status")?],
                ),
                Kind::Implementation => (&["implemented", "total", "share"], Vec::new()),
            };
            figures.push(Figures {
                id: row.try_get("id")?,
                name: row.try_get::<Option<String>, _>("name")?.unwrap_or_default(),
                numbers: numbers(row, columns)?,
                labels,
            });
        }
        Ok((figures, elapsed))
    }
}

/// Up to `limit` ids from `sql` (`$1` its text argument, `$2` the limit); fails on none.
async fn ids(conn: &mut PgConnection, sql: &str, arg: &str, limit: i64) -> anyhow::Result<Vec<Uuid>> {
    let rows: Vec<Uuid> = sqlx::query_scalar(sql).bind(arg).bind(limit).fetch_all(conn).await?;
    ensure!(!rows.is_empty(), "the generated cascade has none of: {sql} ({arg})");
    Ok(rows)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Without sqlx's slow-statement warnings: at national scale they would bury the figures.
    roadmap_common::telemetry::init_with_default(roadmap_common::telemetry::LogFormat::Text, "warn,sqlx=error");
    let dataset = Dataset::from_env();
    let rounds: usize = env("BENCH_ROUNDS", 40).max(1);
    let subject: String = env("BENCH_SUBJECT", "math_profile".to_string());
    let mut config = roadmap_hub::targets::ephemeral_config(dataset.url.clone());
    config.ports.values_mut().for_each(|p| *p = 0);
    let hub = Hub::start(&config, Target::ALL).await?;
    let mut conn = roadmap_common::db::connect_one(&dataset.url).await?;
    // As the hub's connections (`service_options`): the floor is not a floor with JIT on.
    sqlx::query("SET jit = off").execute(&mut conn).await?;
    dataset.ensure(&mut conn, config.clock.today()).await?;
    if let Some(plans) = hub.pool(Target::PLANS) {
        common::wait_for_backlog(plans, || config.clock.today()).await?;
    }

    let seed = dataset.params.seed;
    let federal = ids(
        &mut conn,
        "SELECT id FROM plans.plan WHERE source_key = $1 LIMIT $2",
        &format!("generated:{seed}:federal"),
        1,
    )
    .await?;
    let country = ids(
        &mut conn,
        "SELECT territory_id FROM plans.plan WHERE source_key = $1 LIMIT $2",
        &format!("generated:{seed}:federal"),
        1,
    )
    .await?;
    let regions = ids(
        &mut conn,
        "SELECT id FROM people.territory WHERE parent_id = $1::uuid ORDER BY id LIMIT $2",
        &country[0].to_string(),
        SAMPLES,
    )
    .await?;
    let regional_plans = ids(
        &mut conn,
        "SELECT id FROM plans.plan WHERE source_key LIKE $1 ORDER BY id LIMIT $2",
        &format!("generated:{seed}:region:%"),
        SAMPLES,
    )
    .await?;
    let (measures, observations): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM plans.measure), (SELECT count(*) FROM indicators.observation)")
            .fetch_one(&mut conn)
            .await?;

    let mut bench = Bench {
        client: reqwest::Client::builder().timeout(Duration::from_secs(600)).build()?,
        gateway: hub.graphql_url(Target::GATEWAY).unwrap_or_default(),
        conn,
        indicator: format!("generated:{seed}:ege_below_min"),
        subject,
        rollup_floor: rollup_floor(),
    };
    let rows = [
        (
            format!(
                "Territory.rollup({}, {PERIOD}, {}), the country",
                bench.indicator, bench.subject
            ),
            Kind::Rollup,
            country,
        ),
        (
            format!("Territory.rollup, a region ({} cycled through)", regions.len()),
            Kind::Rollup,
            regions,
        ),
        (
            "Plan.implementationByTerritory, the federal plan".to_string(),
            Kind::Implementation,
            federal,
        ),
        (
            format!(
                "Plan.implementationByTerritory, a regional plan ({} cycled through)",
                regional_plans.len()
            ),
            Kind::Implementation,
            regional_plans,
        ),
    ];

    println!(
        "dashboard rollups over {measures} measures and {observations} observations, {rounds} requests per row, \
         one at a time, anonymous:"
    );
    for (name, kind, samples) in &rows {
        // Warm-up: every sample once, both sides checked against each other.
        let (mut units, mut first) = (0, Vec::new());
        for id in samples {
            let (through_gateway, elapsed, _) = bench.gateway(*kind, *id).await?;
            first.push(elapsed);
            let (from_floor, _) = bench.floor(*kind, *id).await?;
            units += through_gateway.len();
            same(&format!("{name}, {id}"), through_gateway, from_floor)?;
        }
        let (mut via_gateway, mut via_floor, mut statements) = (Vec::new(), Vec::new(), Vec::new());
        for id in samples.iter().cycle().take(rounds) {
            let (_, elapsed, counted) = bench.gateway(*kind, *id).await?;
            via_gateway.push(elapsed);
            statements.push(counted);
            let (_, elapsed) = bench.floor(*kind, *id).await?;
            via_floor.push(elapsed);
        }
        statements.sort();
        println!(
            "{name}: {:.0} units per answer, the same through both",
            units as f64 / samples.len() as f64
        );
        println!("  through the gateway: {}", stats(via_gateway));
        println!("  each sample's first request (warm-up): {}", stats(first));
        println!("  SQL floor:           {}", stats(via_floor));
        println!(
            "  SQL statements per request through the gateway: median {}, max {}",
            statements[statements.len() / 2],
            statements.last().copied().unwrap_or(0)
        );
    }
    hub.shutdown().await?;
    Ok(())
}
