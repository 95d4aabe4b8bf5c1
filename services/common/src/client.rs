//! One way for a subgraph to call another: GraphQL over HTTP with the gateway secret and the
//! caller's service name (see [`crate::auth`]), so the callee trusts the call and records the
//! service as the actor.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::{Actor, GatewaySecret, Role, SECRET_HEADER, SERVICE_HEADER};
use crate::{ServiceError, ServiceResult};

#[derive(Clone, Debug)]
pub struct SubgraphClient {
    /// The callee's name, for messages.
    callee: &'static str,
    /// The caller's name, sent as [`SERVICE_HEADER`].
    caller: &'static str,
    url: String,
    secret: GatewaySecret,
    http: reqwest::Client,
}

impl SubgraphClient {
    pub fn new(caller: &'static str, callee: &'static str, url: impl Into<String>, secret: GatewaySecret) -> Self {
        Self {
            callee,
            caller,
            url: url.into(),
            secret,
            http: reqwest::Client::new(),
        }
    }

    /// Runs one operation; the callee's first error becomes an [`ServiceError::Invalid`] naming
    /// the field it reported (or the callee), so input errors found there reach the client.
    pub async fn call(&self, query: &str, variables: Value) -> ServiceResult<Value> {
        let response = self
            .http
            .post(&self.url)
            .header(SECRET_HEADER, self.secret.expose())
            .header(SERVICE_HEADER, self.caller)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .map_err(ServiceError::internal)?;
        let status = response.status();
        let body: Value = response.json().await.map_err(ServiceError::internal)?;
        if let Some(message) = body["errors"][0]["message"].as_str() {
            let field = body["errors"][0]["extensions"]["field"].as_str().unwrap_or(self.callee);
            return Err(ServiceError::invalid(field, message));
        }
        if !status.is_success() {
            return Err(ServiceError::internal_msg(format!("{} answered {status}", self.callee)));
        }
        Ok(body["data"].clone())
    }

    /// Runs a query of one variable, `$id: ID!`.
    pub async fn call_by_id(&self, query: &str, id: Uuid) -> ServiceResult<Value> {
        self.call(query, json!({ "id": id.to_string() })).await
    }

    /// The callee's entities of `typename` with these ids, each with `selection` (`id children { id }`),
    /// in one `_entities` call; ids it does not know are left out.
    pub async fn entities(&self, typename: &str, ids: &[Uuid], selection: &str) -> ServiceResult<Vec<Value>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let representations: Vec<Value> = ids
            .iter()
            .map(|id| json!({ "__typename": typename, "id": id.to_string() }))
            .collect();
        let query = format!(
            "query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on {typename} {{ {selection} }} }} }}"
        );
        let mut data = self.call(&query, json!({ "r": representations })).await?;
        let nodes = match data["_entities"].take() {
            Value::Array(nodes) => nodes,
            _ => Vec::new(),
        };
        Ok(nodes.into_iter().filter(|n| !n.is_null()).collect())
    }

    /// `data.<root>` of a query by `$id` (e.g. `root` "territory" of `territory(id: $id) { … }`);
    /// `Err` naming `field` ("territory <id> does not exist") when the callee has none.
    pub async fn existing(&self, field: &str, root: &str, id: Uuid, query: &str) -> ServiceResult<Value> {
        let found = self.call_by_id(query, id).await?[root].take();
        if found.is_null() {
            return Err(ServiceError::invalid(field, format!("{root} {id} does not exist")));
        }
        Ok(found)
    }

    /// A territory and its ancestors, nearest first (`[territory, parent, ..., root]`), from the
    /// people subgraph; what [`crate::auth::Actor::covers`] checks a scope against.
    pub async fn territory_ancestry(&self, territory: Uuid) -> ServiceResult<Vec<Uuid>> {
        let found = self
            .existing(
                "territory",
                "territory",
                territory,
                "query($id: ID!) { territory(id: $id) { id ancestors { id } } }",
            )
            .await?;
        let mut out = vec![territory];
        for node in found["ancestors"].as_array().into_iter().flatten() {
            out.push(parse_uuid(&node["id"])?);
        }
        Ok(out)
    }
}

impl SubgraphClient {
    /// Refuses unless `actor` holds one of `roles` with a scope covering every territory given
    /// (`None`: no territory, covered by a national scope only). Asks the people subgraph (this
    /// client's callee) for ancestries only when the scope is not national.
    pub async fn require_scope(
        &self,
        actor: &Actor,
        roles: &[Role],
        doing: &str,
        territories: &[Option<Uuid>],
    ) -> ServiceResult<()> {
        actor.require(roles, doing)?;
        if actor.territory.is_none() {
            return Ok(());
        }
        for territory in territories {
            let ancestry = match territory {
                Some(t) => self.territory_ancestry(*t).await?,
                None => Vec::new(),
            };
            actor.require_in_scope(roles, doing, &ancestry)?;
        }
        Ok(())
    }
}

/// An id the callee returned.
pub fn parse_uuid(value: &Value) -> ServiceResult<Uuid> {
    value
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| ServiceError::internal_msg(format!("expected an id, got {value}")))
}
