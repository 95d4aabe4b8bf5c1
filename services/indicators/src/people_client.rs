//! The indicators subgraph's client of the people subgraph: where an observation rolls up to.
//!
//! Asked once per recorded observation, at write time; the answer is stored as the observation's
//! `parent_territory_id`, so rollups never call another service (see the crate docs).

use serde_json::{Value, json};
use uuid::Uuid;

use roadmap_common::auth::GatewaySecret;
use roadmap_common::client::SubgraphClient;
use roadmap_common::{ServiceError, ServiceResult};

#[derive(Clone, Debug)]
pub struct PeopleClient(SubgraphClient);

impl PeopleClient {
    pub fn new(url: impl Into<String>, secret: GatewaySecret) -> Self {
        Self(SubgraphClient::new(crate::NAME, "people", url, secret))
    }

    async fn call(&self, query: &str, variables: Value) -> ServiceResult<Value> {
        self.0.call(query, variables).await
    }

    /// The underlying client (scope checks, see `SubgraphClient::require_scope`).
    pub fn subgraph(&self) -> &roadmap_common::client::SubgraphClient {
        &self.0
    }

    /// A territory and its ancestors, nearest first (what a scope is checked against).
    pub async fn territory_ancestry(&self, territory: Uuid) -> ServiceResult<Vec<Uuid>> {
        self.0.territory_ancestry(territory).await
    }

    /// The parent of a territory: `Ok(None)` for a root, `Err` naming `field` when the territory
    /// does not exist.
    pub async fn territory_parent(&self, field: &str, territory: Uuid) -> ServiceResult<Option<Uuid>> {
        let data = self
            .call(
                "query($id: ID!) { territory(id: $id) { id parent { id } } }",
                json!({ "id": territory.to_string() }),
            )
            .await?;
        if data["territory"].is_null() {
            return Err(ServiceError::invalid(
                field,
                format!("territory {territory} does not exist"),
            ));
        }
        optional_uuid(&data["territory"]["parent"]["id"])
    }

    /// The territory of an organisation, `Err` naming `field` when it does not exist.
    pub async fn organisation_territory(&self, field: &str, organisation: Uuid) -> ServiceResult<Option<Uuid>> {
        let data = self
            .call(
                "query($id: ID!) { organisation(id: $id) { id territory { id } } }",
                json!({ "id": organisation.to_string() }),
            )
            .await?;
        if data["organisation"].is_null() {
            return Err(ServiceError::invalid(
                field,
                format!("organisation {organisation} does not exist"),
            ));
        }
        optional_uuid(&data["organisation"]["territory"]["id"])
    }
}

fn optional_uuid(value: &Value) -> ServiceResult<Option<Uuid>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Uuid::parse_str(s)
            .map(Some)
            .map_err(|_| ServiceError::internal(std::io::Error::other(format!("people: bad id {s}")))),
        other => Err(ServiceError::internal(std::io::Error::other(format!(
            "people: bad id {other}"
        )))),
    }
}
