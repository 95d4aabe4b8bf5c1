//! The indicators subgraph's client of the plans subgraph: where a measure's plan is, so that
//! linking a measure to an indicator is checked against the plan's territory like every other
//! change of that plan.

use serde_json::json;
use uuid::Uuid;

use roadmap_common::auth::GatewaySecret;
use roadmap_common::client::{SubgraphClient, parse_uuid};
use roadmap_common::{ServiceError, ServiceResult};

/// The plans subgraph's name (its target and its `ROADMAP_PLANS_URL`).
pub const PLANS: &str = "plans";

/// Talks GraphQL over HTTP to the plans subgraph, as this service (which sees drafts too).
#[derive(Clone, Debug)]
pub struct PlansClient(SubgraphClient);

impl PlansClient {
    pub fn new(url: impl Into<String>, secret: GatewaySecret) -> Self {
        Self(SubgraphClient::new(crate::NAME, PLANS, url, secret))
    }

    /// The territory of the plan `measure` belongs to (`None`: a federal plan); an unknown
    /// measure is an error naming `field`.
    pub async fn measure_territory(&self, field: &str, measure: Uuid) -> ServiceResult<Option<Uuid>> {
        let data = self
            .0
            .call(
                "query($id: ID!) { measure(id: $id) { plan { territory { id } } } }",
                json!({ "id": measure.to_string() }),
            )
            .await?;
        let plan = &data["measure"]["plan"];
        if plan.is_null() {
            return Err(ServiceError::invalid(
                field,
                format!("measure {measure} does not exist"),
            ));
        }
        match &plan["territory"] {
            serde_json::Value::Null => Ok(None),
            territory => parse_uuid(&territory["id"]).map(Some),
        }
    }
}
