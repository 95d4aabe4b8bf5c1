//! Test harness: [`TestHub::spawn`] starts every target in-process on free ports against a fresh
//! database, and [`TestHub::gql`] talks to the gateway over real HTTP, as users do.
//!
//! Requests carry a development token of an admin unless a test says otherwise
//! ([`TestHub::request_as`], [`token`]): the gateway verifies it like any other.
//!
//! Run with `cargo nextest run`: each test is its own process, so process-wide counters (the SQL
//! statement counter) see only that test.

use std::time::Duration;

use anyhow::{Context as _, bail};
use roadmap_common::auth::Role;
use roadmap_hub::targets::{Hub, HubConfig, Target};
use roadmap_hub::token::{TokenRequest, sign_dev};
use serde_json::{Value, json};

/// Base URL of the server tests create their databases on.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_SERVER").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

/// A development token (signed with the dev key the test router trusts).
pub fn token(subject: &str, roles: &[Role], territory: Option<uuid::Uuid>) -> String {
    sign_dev(&TokenRequest::new(subject, roles, territory)).expect("dev token")
}

/// The admin token [`TestHub::request`] sends.
pub fn admin_token() -> String {
    token("test-admin", &[Role::Admin], None)
}

pub struct TestHub {
    pub hub: Option<Hub>,
    pub database_url: String,
    pub gateway: String,
    client: reqwest::Client,
    /// What the hub was started with, for [`TestHub::restart_with`].
    config: HubConfig,
    targets: Vec<Target>,
}

impl TestHub {
    /// Every target, fresh database.
    pub async fn spawn() -> anyhow::Result<TestHub> {
        Self::spawn_targets(&Target::ALL).await
    }

    pub async fn spawn_targets(targets: &[Target]) -> anyhow::Result<TestHub> {
        Self::spawn_with(targets, |_| {}).await
    }

    /// Like [`TestHub::spawn_targets`], with a chance to adjust the config (e.g. fix the clock).
    pub async fn spawn_with(targets: &[Target], adjust: impl FnOnce(&mut HubConfig)) -> anyhow::Result<TestHub> {
        roadmap_common::telemetry::init_for_tests();
        let database_url = format!("{}/roadmap_test_{}", server_url(), uuid::Uuid::new_v4().simple());
        let mut config = HubConfig::ephemeral(database_url.clone());
        adjust(&mut config);
        let hub = Hub::start(&config, targets).await?;
        let gateway = hub.graphql_url(Target::Gateway).unwrap_or_default();
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
        Ok(TestHub {
            hub: Some(hub),
            database_url,
            gateway,
            client,
            config,
            targets: targets.to_vec(),
        })
    }

    /// Stops the hub and starts the same targets again on the same database (a restart of the
    /// process), with a chance to adjust the config first. Ports change.
    pub async fn restart_with(&mut self, adjust: impl FnOnce(&mut HubConfig)) -> anyhow::Result<()> {
        if let Some(hub) = self.hub.take() {
            hub.shutdown().await?;
        }
        adjust(&mut self.config);
        let hub = Hub::start(&self.config, &self.targets).await?;
        self.gateway = hub.graphql_url(Target::Gateway).unwrap_or_default();
        self.hub = Some(hub);
        Ok(())
    }

    /// POSTs a GraphQL request to the gateway as an admin and returns the whole response body.
    pub async fn request(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        self.request_as(Some(&admin_token()), query, variables).await
    }

    /// POSTs a GraphQL request with `token` as bearer (`None`: anonymous).
    pub async fn request_as(&self, token: Option<&str>, query: &str, variables: Value) -> anyhow::Result<Value> {
        let mut request = self.client.post(&self.gateway);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .context("gateway request")?;
        let status = response.status();
        let body: Value = response.json().await.context("gateway response is not JSON")?;
        if !status.is_success() && body.get("errors").is_none() {
            bail!("gateway answered {status}: {body}");
        }
        Ok(body)
    }

    /// Like [`TestHub::request`] but fails on any GraphQL error and returns `data`.
    pub async fn gql(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        self.gql_as(Some(&admin_token()), query, variables).await
    }

    /// Like [`TestHub::request_as`] but fails on any GraphQL error and returns `data`.
    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> anyhow::Result<Value> {
        let body = self.request_as(token, query, variables).await?;
        if let Some(errors) = body.get("errors") {
            bail!("GraphQL errors: {errors}");
        }
        Ok(body["data"].clone())
    }

    /// Stops the hub and drops the database.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        if let Some(hub) = self.hub.take() {
            hub.shutdown().await?;
        }
        roadmap_common::db::drop_database(&self.database_url).await?;
        Ok(())
    }
}

/// The first GraphQL error message of a response, if any.
pub fn first_error(body: &Value) -> Option<String> {
    body["errors"][0]["message"].as_str().map(str::to_string)
}

const SET_STATUS: &str =
    "mutation($m: ID!, $s: MeasureStatus!) { setMeasureStatus(measure: $m, status: $s) { status } }";

/// A regional plan «Карта событий» with measures `numbers` (titled `Мероприятие <number>`) in a
/// new region; returns (territory, plan, measure ids).
pub async fn regional_plan(hub: &TestHub, numbers: &[&str]) -> (String, String, Vec<String>) {
    let data = hub
        .gql(
            "mutation { ensureTerritory(name: \"Событийный край\", kind: REGION) { id } }",
            json!({}),
        )
        .await
        .expect("territory");
    let territory = data["ensureTerritory"]["id"].as_str().expect("id").to_string();
    let measures: Vec<Value> = numbers
        .iter()
        .map(|n| json!({ "number": n, "title": format!("Мероприятие {n}") }))
        .collect();
    let data = hub
        .gql(
            "mutation($input: CreatePlanInput!) { createPlan(input: $input) { id sections { measures { id } } } }",
            // Approved: subscribers in these tests are anonymous, and drafts are not public.
            json!({ "input": { "title": "Карта событий", "level": "REGIONAL", "territory": territory, "state": "APPROVED",
                               "sections": [{ "number": "1", "title": "Раздел", "measures": measures }] } }),
        )
        .await
        .expect("plan");
    let ids = data["createPlan"]["sections"][0]["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect();
    (
        territory,
        data["createPlan"]["id"].as_str().expect("id").to_string(),
        ids,
    )
}

/// Sets a measure's status through the gateway (which records a status-change event).
pub async fn set_measure_status(hub: &TestHub, measure: &str, status: &str) {
    let data = hub
        .gql(SET_STATUS, json!({ "m": measure, "s": status }))
        .await
        .expect("setMeasureStatus");
    assert_eq!(data["setMeasureStatus"]["status"], status);
}
