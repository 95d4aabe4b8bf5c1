//! The plans subgraph's client of the people subgraph, used by the importer to resolve
//! territories and organisations (created when missing, idempotently), and by the calendar feed
//! to name organisations.

use serde_json::{Value, json};
use uuid::Uuid;

use roadmap_common::auth::GatewaySecret;
use roadmap_common::client::{SubgraphClient, parse_uuid};
use roadmap_common::{ServiceError, ServiceResult};

/// Talks GraphQL over HTTP to the people subgraph.
#[derive(Clone, Debug)]
pub struct PeopleClient(SubgraphClient);

/// An organisation the importer needs.
#[derive(Clone, Debug, PartialEq)]
pub struct OrganisationRef {
    pub name: String,
    pub kind: &'static str,
    pub territory: Option<Uuid>,
    pub abbreviations: Vec<String>,
}

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

    /// Resolves "Region/Municipality[/Settlement]" to the id of its last part, creating each
    /// level when missing.
    pub async fn ensure_territory_path(&self, path: &str) -> ServiceResult<Uuid> {
        const KINDS: [&str; 3] = ["REGION", "MUNICIPALITY", "SETTLEMENT"];
        let parts: Vec<&str> = path.split('/').map(str::trim).collect();
        if parts.is_empty() || parts.len() > KINDS.len() || parts.iter().any(|p| p.is_empty()) {
            return Err(ServiceError::invalid(
                "territory",
                format!("`{path}` is not a territory path like `Хабаровский край/Николаевский муниципальный район`"),
            ));
        }
        let mut parent: Option<Uuid> = None;
        for (depth, name) in parts.iter().enumerate() {
            let data = self
                .call(
                    "mutation($name: String!, $kind: TerritoryKind!, $parent: ID) { \
                     ensureTerritory(name: $name, kind: $kind, parent: $parent) { id } }",
                    json!({ "name": name, "kind": KINDS[depth], "parent": parent.map(|p| p.to_string()) }),
                )
                .await?;
            parent = Some(parse_uuid(&data["ensureTerritory"]["id"])?);
        }
        parent.ok_or_else(|| ServiceError::invalid("territory", "is empty"))
    }

    /// A territory and everything under it (three levels deep: region, municipality, settlement).
    pub async fn territory_and_descendants(&self, territory: Uuid) -> ServiceResult<Vec<Uuid>> {
        let data = self
            .call(
                "query($id: ID!) { territory(id: $id) { id children { id children { id children { id } } } } }",
                json!({ "id": territory.to_string() }),
            )
            .await?;
        let mut out = Vec::new();
        let mut stack = vec![&data["territory"]];
        while let Some(node) = stack.pop() {
            if node.is_null() {
                continue;
            }
            out.push(parse_uuid(&node["id"])?);
            stack.extend(node["children"].as_array().into_iter().flatten());
        }
        Ok(out)
    }

    /// Child territories of a territory (municipalities of a region).
    pub async fn children(&self, territory: Uuid) -> ServiceResult<Vec<Uuid>> {
        let data = self
            .call(
                "query($id: ID!) { territory(id: $id) { children { id } } }",
                json!({ "id": territory.to_string() }),
            )
            .await?;
        data["territory"]["children"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| parse_uuid(&c["id"]))
            .collect()
    }

    /// The name of an organisation; `None` when the people subgraph does not know it.
    pub async fn organisation_name(&self, id: Uuid) -> ServiceResult<Option<String>> {
        let data = self
            .call(
                "query($id: ID!) { organisation(id: $id) { name } }",
                json!({ "id": id.to_string() }),
            )
            .await?;
        Ok(data["organisation"]["name"].as_str().map(str::to_string))
    }

    /// Resolves organisations to ids, in input order (see the people subgraph's
    /// `ensureOrganisations`).
    pub async fn ensure_organisations(&self, wanted: &[OrganisationRef]) -> ServiceResult<Vec<Uuid>> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let inputs: Vec<Value> = wanted
            .iter()
            .map(|w| {
                json!({
                    "name": w.name,
                    "kind": w.kind,
                    "territory": w.territory.map(|t| t.to_string()),
                    "abbreviations": w.abbreviations,
                })
            })
            .collect();
        let data = self
            .call(
                "mutation($inputs: [EnsureOrganisationInput!]!) { ensureOrganisations(inputs: $inputs) { id } }",
                json!({ "inputs": inputs }),
            )
            .await?;
        let ids = data["ensureOrganisations"]
            .as_array()
            .ok_or_else(|| ServiceError::internal(std::io::Error::other("people: no ensureOrganisations list")))?;
        if ids.len() != wanted.len() {
            return Err(ServiceError::internal(std::io::Error::other(
                "people: wrong number of organisations",
            )));
        }
        ids.iter().map(|v| parse_uuid(&v["id"])).collect()
    }
}
