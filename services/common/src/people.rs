//! The one client of the people subgraph that other subgraphs use: plans (the importer resolves
//! territories and organisations, the calendar names organisations, scope checks) and indicators
//! (where an observation rolls up to). Every call goes through [`SubgraphClient`], with the
//! gateway secret and the caller's name.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, Loader};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::GatewaySecret;
use crate::client::{SubgraphClient, parse_uuid};
use crate::metrics::Measured;
use crate::{LoadError, ServiceError, ServiceResult};

/// Name of the people subgraph (its target, schema and URL key).
pub const PEOPLE: &str = "people";

/// Talks GraphQL over HTTP to the people subgraph. Child-territory lookups made at the same
/// moment (sibling resolvers: `coverage` of every measure of a plan) go out as one call.
#[derive(Clone)]
pub struct PeopleClient {
    client: SubgraphClient,
    children: Arc<DataLoader<Measured<TerritoryChildrenLoader>>>,
    organisations: Arc<DataLoader<Measured<OrganisationNodeLoader>>>,
}

impl std::fmt::Debug for PeopleClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PeopleClient").field(&self.client).finish()
    }
}

/// Child territories of many territories in one call (the people subgraph's entity lookup); a
/// territory it does not know has none.
pub struct TerritoryChildrenLoader(SubgraphClient);

impl Loader<Uuid> for TerritoryChildrenLoader {
    type Value = Vec<Uuid>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Uuid>>, LoadError> {
        let mut out = HashMap::new();
        for node in self.0.entities("Territory", keys, "id children { id }").await? {
            let tree = TerritoryTree::read(&node)?;
            out.insert(tree.id, tree.children.iter().map(|c| c.id).collect());
        }
        Ok(out)
    }
}

/// What the people subgraph tells other subgraphs' rules of an organisation: its territory and
/// the units under it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrganisationNode {
    pub territory: Option<Uuid>,
    /// Every unit directly under it (a school's classes, subject teams, staff roles), each with
    /// the units under that unit (a class's staff roles), itself first; three levels deep.
    pub unit_subtrees: Vec<Vec<Uuid>>,
}

/// Many organisations in one call (the people subgraph's entity lookup); an organisation it does
/// not know is left out.
pub struct OrganisationNodeLoader(SubgraphClient);

impl Loader<Uuid> for OrganisationNodeLoader {
    type Value = OrganisationNode;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, OrganisationNode>, LoadError> {
        let selection = "id territory { id } units { id units { id units { id } } }";
        let mut out = HashMap::new();
        for node in self.0.entities("Organisation", keys, selection).await? {
            let unit_subtrees = node["units"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|unit| tree_ids(unit, "units"))
                .collect::<ServiceResult<Vec<_>>>()?;
            let territory = optional_uuid(&node["territory"]["id"])?;
            out.insert(
                parse_uuid(&node["id"])?,
                OrganisationNode {
                    territory,
                    unit_subtrees,
                },
            );
        }
        Ok(out)
    }
}

/// An organisation the importer needs.
#[derive(Clone, Debug, PartialEq)]
pub struct OrganisationRef {
    pub name: String,
    pub kind: &'static str,
    pub territory: Option<Uuid>,
    pub abbreviations: Vec<String>,
}

/// The people client a schema was built with; an internal error when the service was started
/// without one (only SDL-printing schemas are).
pub fn from_ctx<'a>(ctx: &Context<'a>) -> ServiceResult<&'a PeopleClient> {
    ctx.data::<PeopleClient>()
        .map_err(|_| ServiceError::internal_msg("this service was started without the people subgraph's URL"))
}

impl PeopleClient {
    /// `caller` is the calling service's name (sent with every call).
    pub fn new(caller: &'static str, url: impl Into<String>, secret: GatewaySecret) -> Self {
        let client = SubgraphClient::new(caller, PEOPLE, url, secret);
        let children = Arc::new(crate::loaders::loader(TerritoryChildrenLoader(client.clone())));
        let organisations = Arc::new(crate::loaders::loader(OrganisationNodeLoader(client.clone())));
        Self {
            client,
            children,
            organisations,
        }
    }

    /// The underlying client (scope checks, see [`SubgraphClient::require_scope`]).
    pub fn subgraph(&self) -> &SubgraphClient {
        &self.client
    }

    /// A territory and its ancestors, nearest first (what a scope is checked against).
    pub async fn territory_ancestry(&self, territory: Uuid) -> ServiceResult<Vec<Uuid>> {
        self.client.territory_ancestry(territory).await
    }

    /// Resolves "Region/Municipality[/Settlement]" to the id of its last part, creating each
    /// level when missing.
    pub async fn ensure_territory_path(&self, path: &str) -> ServiceResult<Uuid> {
        let parts = territory_path_parts(path)?;
        let mut parent: Option<Uuid> = None;
        for (depth, name) in parts.iter().enumerate() {
            let data = self
                .client
                .call(
                    "mutation($name: String!, $kind: TerritoryKind!, $parent: ID) { \
                     ensureTerritory(name: $name, kind: $kind, parent: $parent) { id } }",
                    json!({ "name": name, "kind": TERRITORY_PATH_KINDS[depth], "parent": parent.map(|p| p.to_string()) }),
                )
                .await?;
            parent = Some(parse_uuid(&data["ensureTerritory"]["id"])?);
        }
        parent.ok_or_else(|| ServiceError::invalid("territory", "is empty"))
    }

    /// What [`PeopleClient::ensure_territory_path`] would find of "Region/Municipality[/Settlement]",
    /// without creating anything: the ids of the parts that exist, from the region down, and the
    /// names of the parts it would create.
    pub async fn find_territory_path(&self, path: &str) -> ServiceResult<(Vec<Uuid>, Vec<String>)> {
        let parts = territory_path_parts(path)?;
        let data = self
            .client
            .call(
                "query($names: [String!]!) { territoryPath(names: $names) { id } }",
                json!({ "names": parts }),
            )
            .await?;
        let found = data["territoryPath"]
            .as_array()
            .map(|nodes| {
                nodes
                    .iter()
                    .map(|n| parse_uuid(&n["id"]))
                    .collect::<ServiceResult<Vec<_>>>()
            })
            .transpose()?
            .unwrap_or_default();
        let missing = parts.iter().skip(found.len()).map(|p| p.to_string()).collect();
        Ok((found, missing))
    }

    /// A territory and everything under it (three levels deep: region, municipality, settlement);
    /// empty for a territory the people subgraph does not know.
    pub async fn territory_and_descendants(&self, territory: Uuid) -> ServiceResult<Vec<Uuid>> {
        Ok(self
            .subtrees(&[territory])
            .await?
            .first()
            .map(TerritoryTree::ids)
            .unwrap_or_default())
    }

    /// The trees under many territories in one call (the people subgraph's entity lookup, batched
    /// there): each territory's children, theirs and theirs (region, municipality, settlement
    /// below a country). A territory the people subgraph does not know is left out.
    pub async fn subtrees(&self, territories: &[Uuid]) -> ServiceResult<Vec<TerritoryTree>> {
        let selection = "id children { id children { id children { id } } }";
        let nodes = self.client.entities("Territory", territories, selection).await?;
        nodes.iter().map(TerritoryTree::read).collect()
    }

    /// Child territories of a territory (municipalities of a region); none for a territory the
    /// people subgraph does not know. Batched with concurrent lookups
    /// ([`TerritoryChildrenLoader`]).
    pub async fn children(&self, territory: Uuid) -> ServiceResult<Vec<Uuid>> {
        Ok(self.children.load_one(territory).await?.unwrap_or_default())
    }

    /// The name of an organisation; `None` when the people subgraph does not know it.
    pub async fn organisation_name(&self, id: Uuid) -> ServiceResult<Option<String>> {
        let data = self
            .client
            .call_by_id("query($id: ID!) { organisation(id: $id) { name } }", id)
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
            .client
            .call(
                "mutation($inputs: [EnsureOrganisationInput!]!) { ensureOrganisations(inputs: $inputs) { id } }",
                json!({ "inputs": inputs }),
            )
            .await?;
        let ids = data["ensureOrganisations"]
            .as_array()
            .ok_or_else(|| ServiceError::internal_msg("people: no ensureOrganisations list"))?;
        if ids.len() != wanted.len() {
            return Err(ServiceError::internal_msg("people: wrong number of organisations"));
        }
        ids.iter().map(|v| parse_uuid(&v["id"])).collect()
    }

    /// The parent of a territory: `Ok(None)` for a root, `Err` naming `field` when the territory
    /// does not exist.
    pub async fn territory_parent(&self, field: &str, territory: Uuid) -> ServiceResult<Option<Uuid>> {
        let query = "query($id: ID!) { territory(id: $id) { id parent { id } } }";
        let found = self.client.existing(field, "territory", territory, query).await?;
        optional_uuid(&found["parent"]["id"])
    }

    /// The effective IANA time zone of a territory (`Territory.timeZone`: its own, a region's by
    /// reference, or inherited), `Err` naming `field` when it does not exist.
    pub async fn territory_time_zone(&self, field: &str, territory: Uuid) -> ServiceResult<String> {
        let query = "query($id: ID!) { territory(id: $id) { id timeZone } }";
        let found = self.client.existing(field, "territory", territory, query).await?;
        found["timeZone"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ServiceError::internal_msg(format!("territory {territory} came without a time zone")))
    }

    /// The territory of an organisation, `Err` naming `field` when it does not exist. Batched as
    /// [`PeopleClient::organisation`].
    pub async fn organisation_territory(&self, field: &str, organisation: Uuid) -> ServiceResult<Option<Uuid>> {
        let found = self
            .organisation(organisation)
            .await?
            .ok_or_else(|| ServiceError::invalid(field, format!("organisation {organisation} does not exist")))?;
        Ok(found.territory)
    }
}

/// A territory and the territories under it, as [`PeopleClient::subtrees`] reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TerritoryTree {
    pub id: Uuid,
    pub children: Vec<TerritoryTree>,
}

impl TerritoryTree {
    fn read(node: &Value) -> ServiceResult<TerritoryTree> {
        Ok(TerritoryTree {
            id: parse_uuid(&node["id"])?,
            children: node["children"]
                .as_array()
                .into_iter()
                .flatten()
                .map(TerritoryTree::read)
                .collect::<ServiceResult<_>>()?,
        })
    }

    /// This territory and every one under it.
    pub fn ids(&self) -> Vec<Uuid> {
        let mut out = vec![self.id];
        for child in &self.children {
            out.extend(child.ids());
        }
        out
    }

    /// The tree of `id` if it is this territory or under it.
    pub fn find(&self, id: Uuid) -> Option<&TerritoryTree> {
        if self.id == id {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(id))
    }
}

/// An organisation as a check of ownership needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct OrganisationInfo {
    pub id: Uuid,
    /// `SCHOOL`, `CLASS`, `STAFF_ROLE` ...
    pub kind: String,
    pub territory: Option<Uuid>,
    /// The organisation and the units above it, nearest first (what an `organisation` claim is
    /// checked against, `Actor::require_in_organisation`).
    pub lineage: Vec<Uuid>,
}

impl PeopleClient {
    /// Kind, territory and lineage of an organisation, `Err` naming `field` when it does not exist.
    pub async fn organisation_info(&self, field: &str, organisation: Uuid) -> ServiceResult<OrganisationInfo> {
        let query = "query($id: ID!) { organisation(id: $id) { id kind territory { id } ancestors { id } } }";
        let found = self.client.existing(field, "organisation", organisation, query).await?;
        let mut lineage = vec![organisation];
        for node in found["ancestors"].as_array().into_iter().flatten() {
            lineage.push(parse_uuid(&node["id"])?);
        }
        Ok(OrganisationInfo {
            id: organisation,
            kind: found["kind"].as_str().unwrap_or_default().to_string(),
            territory: optional_uuid(&found["territory"]["id"])?,
            lineage,
        })
    }

    /// An organisation's territory and units; `None` when the people subgraph does not know it.
    /// Batched with concurrent lookups ([`OrganisationNodeLoader`]): `coverageByUnit` of every
    /// measure of a plan, or the rollups of every school of a list, is one call.
    pub async fn organisation(&self, organisation: Uuid) -> ServiceResult<Option<OrganisationNode>> {
        Ok(self.organisations.load_one(organisation).await?)
    }

    /// The units directly under an organisation (a school's classes, subject teams and staff
    /// roles), each with every unit under it (two levels further down), itself first; none for an
    /// organisation the people subgraph does not know. Batched as [`PeopleClient::organisation`].
    pub async fn unit_subtrees(&self, organisation: Uuid) -> ServiceResult<Vec<Vec<Uuid>>> {
        Ok(self
            .organisation(organisation)
            .await?
            .map(|o| o.unit_subtrees)
            .unwrap_or_default())
    }
}

/// The kinds of the parts of a territory path, from the top.
const TERRITORY_PATH_KINDS: [&str; 3] = ["REGION", "MUNICIPALITY", "SETTLEMENT"];

/// The parts of "Region/Municipality[/Settlement]", or an error naming `territory`.
fn territory_path_parts(path: &str) -> ServiceResult<Vec<&str>> {
    let parts: Vec<&str> = path.split('/').map(str::trim).collect();
    if parts.is_empty() || parts.len() > TERRITORY_PATH_KINDS.len() || parts.iter().any(|p| p.is_empty()) {
        return Err(ServiceError::invalid(
            "territory",
            format!("`{path}` is not a territory path like `Хабаровский край/Николаевский муниципальный район`"),
        ));
    }
    Ok(parts)
}

/// The ids of a tree answered as nested `{ id <children> { id ... } }`, the root first.
fn tree_ids(root: &Value, children: &str) -> ServiceResult<Vec<Uuid>> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.is_null() {
            continue;
        }
        out.push(parse_uuid(&node["id"])?);
        stack.extend(node[children].as_array().into_iter().flatten());
    }
    Ok(out)
}

fn optional_uuid(value: &Value) -> ServiceResult<Option<Uuid>> {
    match value {
        Value::Null => Ok(None),
        other => parse_uuid(other).map(Some),
    }
}
