//! The plans subgraph's client of the indicators subgraph: after an import commits, the baselines
//! and targets the document states are handed to `recordPlanTargets`, which replaces that plan's
//! targets in one transaction. Best-effort but idempotent: a failure is logged and the plan stays
//! imported; re-importing the document retries it.

use chrono::NaiveDate;
use serde_json::{Value, json};
use uuid::Uuid;

use roadmap_common::{ServiceError, ServiceResult};

/// Talks GraphQL over HTTP to the indicators subgraph.
#[derive(Clone, Debug)]
pub struct IndicatorsClient {
    url: String,
    http: reqwest::Client,
}

impl IndicatorsClient {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            http: reqwest::Client::new(),
        }
    }

    /// Replaces the targets of `plan` with `targets`; returns how many were stored.
    pub async fn record_plan_targets(
        &self,
        plan: Uuid,
        territory: Option<Uuid>,
        period_end: Option<NaiveDate>,
        targets: &[roadmap_import::IndicatorTarget],
    ) -> ServiceResult<usize> {
        let inputs: Vec<Value> = targets
            .iter()
            .map(|t| {
                json!({
                    "indicator": t.indicator,
                    "subject": t.subject,
                    "subjectKey": serde_json::to_value(t.subject_key).ok(),
                    "exam": t.exam,
                    "grade": t.grade,
                    "year": t.year,
                    "comparator": serde_json::to_value(t.comparator).ok(),
                    "valueRaw": t.value_raw,
                    "isBaseline": t.is_baseline,
                    "line": i32::try_from(t.line).ok(),
                })
            })
            .collect();
        let response = self
            .http
            .post(&self.url)
            .json(&json!({
                "query": "mutation($plan: ID!, $territory: ID, $periodEnd: NaiveDate, $targets: [PlanTargetInput!]!) { \
                          recordPlanTargets(plan: $plan, territory: $territory, periodEnd: $periodEnd, targets: $targets) { id } }",
                "variables": {
                    "plan": plan.to_string(),
                    "territory": territory.map(|t| t.to_string()),
                    "periodEnd": period_end.map(|d| d.to_string()),
                    "targets": inputs,
                },
            }))
            .send()
            .await
            .map_err(ServiceError::internal)?;
        let body: Value = response.json().await.map_err(ServiceError::internal)?;
        if let Some(message) = body["errors"][0]["message"].as_str() {
            return Err(ServiceError::internal(std::io::Error::other(format!(
                "indicators: {message}"
            ))));
        }
        Ok(body["data"]["recordPlanTargets"].as_array().map(Vec::len).unwrap_or(0))
    }
}
