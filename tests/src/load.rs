//! What the benches, the soak run and the fault tests share: an admin client of the gateway, an
//! approved plan (or territories and plans of any level and state) to change statuses in,
//! latency percentiles and resident memory figures.

use std::time::Duration;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

pub const SET_STATUS: &str =
    "mutation($m: ID!, $s: MeasureStatus!) { setMeasureStatus(measure: $m, status: $s) { status } }";

/// The gateway, as an admin.
#[derive(Clone)]
pub struct Gateway {
    pub url: String,
    pub client: reqwest::Client,
    pub token: String,
}

impl Gateway {
    /// An admin client of the gateway at `url` (`…/graphql`).
    pub fn admin(url: &str) -> anyhow::Result<Gateway> {
        Ok(Gateway {
            url: url.to_string(),
            // The router closes connections idle for 5 s (`keep_alive`); reusing one it is
            // closing at that moment fails with a reset, so idle ones are dropped sooner here.
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .pool_idle_timeout(Duration::from_secs(2))
                .build()?,
            token: crate::admin_token(),
        })
    }

    /// Fails on a transport error, a body that is not JSON, or any GraphQL error; returns `data`.
    pub async fn gql(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let body: Value = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .context("gateway request")?
            .json()
            .await
            .context("gateway response is not JSON")?;
        if let Some(errors) = body.get("errors") {
            bail!("GraphQL errors: {errors}");
        }
        Ok(body["data"].clone())
    }

    /// `setMeasureStatus`; fails unless the answer carries the new status.
    pub async fn set_status(&self, measure: &str, status: &str) -> anyhow::Result<()> {
        let data = self.gql(SET_STATUS, json!({ "m": measure, "s": status })).await?;
        if data["setMeasureStatus"]["status"] != status {
            bail!("setMeasureStatus answered {data}");
        }
        Ok(())
    }
}

/// An approved (public: anonymous subscribers see its events) regional plan titled `title` with
/// `count` measures and no schedules (so no deadline events), in a region `territory` of its
/// own; returns (plan, measures).
pub async fn approved_plan(
    gateway: &Gateway,
    territory: &str,
    title: &str,
    count: usize,
) -> anyhow::Result<(String, Vec<String>)> {
    let territory = ensure_territory(gateway, territory, "REGION", None).await?;
    plan_of(gateway, title, "REGIONAL", &territory, "APPROVED", count).await
}

/// `ensureTerritory` (`kind`: `REGION`, `MUNICIPALITY`…); returns its id.
pub async fn ensure_territory(
    gateway: &Gateway,
    name: &str,
    kind: &str,
    parent: Option<&str>,
) -> anyhow::Result<String> {
    let data = gateway
        .gql(
            "mutation($n: String!, $k: TerritoryKind!, $p: ID) { ensureTerritory(name: $n, kind: $k, parent: $p) { id } }",
            json!({ "n": name, "k": kind, "p": parent }),
        )
        .await?;
    Ok(data["ensureTerritory"]["id"]
        .as_str()
        .context("ensureTerritory returned no id")?
        .to_string())
}

/// A plan titled `title` of `level` in `territory`, in `state` (`APPROVED`, `DRAFT`), with one
/// section of `count` measures (`Мероприятие <n>`) and no schedules (so no deadline events);
/// returns (plan, measures).
pub async fn plan_of(
    gateway: &Gateway,
    title: &str,
    level: &str,
    territory: &str,
    state: &str,
    count: usize,
) -> anyhow::Result<(String, Vec<String>)> {
    let measures: Vec<Value> = (1..=count)
        .map(|n| json!({ "number": n.to_string(), "title": format!("Мероприятие {n}") }))
        .collect();
    let data = gateway
        .gql(
            "mutation($input: CreatePlanInput!) { createPlan(input: $input) { id sections { measures { id } } } }",
            json!({ "input": { "title": title, "level": level, "territory": territory, "state": state,
                               "sections": [{ "number": "1", "title": "Раздел", "measures": measures }] } }),
        )
        .await?;
    let plan = data["createPlan"]["id"].as_str().context("createPlan returned no id")?;
    let ids = data["createPlan"]["sections"][0]["measures"]
        .as_array()
        .context("createPlan returned no measures")?
        .iter()
        .map(|m| m["id"].as_str().map(str::to_string).context("measure id"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((plan.to_string(), ids))
}

/// p50/p95/p99/max of nanosecond latencies, in ms.
pub fn percentiles(mut v: Vec<u64>) -> String {
    v.sort_unstable();
    let ms = |q: f64| {
        v.get(((v.len().max(1) - 1) as f64 * q) as usize)
            .map_or(f64::NAN, |&x| x as f64 / 1e6)
    };
    format!(
        "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(0.5),
        ms(0.95),
        ms(0.99),
        ms(1.0)
    )
}

/// A `kB` line (`VmRSS:`, `VmHWM:`) of `/proc/<pid>/status` (`self` for this process).
pub fn status_kb(pid: &str, field: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Peak resident set size of this process (kB; 0 when unknown).
pub fn peak_rss_kb() -> u64 {
    status_kb("self", "VmHWM:").unwrap_or(0)
}
