//! The plans subgraph's client of the indicators subgraph: after an import commits, the baselines
//! and targets the document states are handed to `recordPlanTargets`, which replaces that plan's
//! targets in one transaction. Best-effort but idempotent: a failure is logged and the plan stays
//! imported; re-importing the document retries it.

use chrono::NaiveDate;
use serde_json::{Value, json};
use uuid::Uuid;

use roadmap_common::ServiceResult;
use roadmap_common::auth::GatewaySecret;
use roadmap_common::client::SubgraphClient;

/// Talks GraphQL over HTTP to the indicators subgraph.
#[derive(Clone, Debug)]
pub struct IndicatorsClient(SubgraphClient);

impl IndicatorsClient {
    pub fn new(url: impl Into<String>, secret: GatewaySecret) -> Self {
        Self(SubgraphClient::new(crate::NAME, "indicators", url, secret))
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
        let data = self
            .0
            .call(
                "mutation($plan: ID!, $territory: ID, $periodEnd: NaiveDate, $targets: [PlanTargetInput!]!) { \
                 recordPlanTargets(plan: $plan, territory: $territory, periodEnd: $periodEnd, targets: $targets) { id } }",
                json!({
                    "plan": plan.to_string(),
                    "territory": territory.map(|t| t.to_string()),
                    "periodEnd": period_end.map(|d| d.to_string()),
                    "targets": inputs,
                }),
            )
            .await?;
        Ok(data["recordPlanTargets"].as_array().map(Vec::len).unwrap_or(0))
    }
}
