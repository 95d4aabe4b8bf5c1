//! Who is asking, and may they: the trust boundary between the gateway and the subgraphs, the
//! acting user ([`Actor`]) and the role and territory checks every subgraph applies.
//!
//! # Trust
//! The gateway (Hive Router) verifies the client's JWT against its JWKS. On every subgraph request
//! it removes any client-sent `x-roadmap-*` header and inserts two of its own:
//! - [`SECRET_HEADER`]: the shared gateway secret (`ROADMAP_GATEWAY_SECRET`; a random one per
//!   process when unset, which is enough when one process runs every target). A subgraph refuses
//!   `/graphql` requests without it (401) and `/ws` connections whose `connection_init` payload
//!   lacks it (the router sends its subgraph headers there);
//! - [`CLAIMS_HEADER`]: the verified claims as base64 JSON (`{}` when the client sent no token).
//!
//! Subgraphs calling each other (the plans importer resolving organisations in people) send the
//! secret and [`SERVICE_HEADER`] instead of claims: they act as the service itself.
//!
//! # Claims
//! `sub` (who), `name`, `roles` (`viewer`, `editor`, `coordinator`, `auditor`, `admin`),
//! `territory` (the id of the territory the roles apply to: the scope covers it and everything
//! under it; no `territory` means the whole country) and `organisation`.
//!
//! # Rules
//! - Reading approved plans needs nothing; drafts are seen by viewers (and every other role) whose
//!   scope covers the plan's territory, and by auditors and admins everywhere.
//! - Changing a plan (import, status, approval), its targets and observations needs `editor`
//!   (or `coordinator`) whose scope covers the plan's territory.
//! - Linking measures and confirming or rejecting links needs `coordinator` (or `editor` when both
//!   plans are in scope); the scope must cover both plans.
//! - Linking a measure to an indicator needs `editor` (or `coordinator`) whose scope covers the
//!   measure's plan.
//! - Events follow their plan: a draft's events are read like the draft ([`Actor::drafts`]); a
//!   webhook receives what its registrant may read, inside the registrant's territory (admins:
//!   anywhere). The events service applies it (`roadmap_events::scope`).
//! - The audit trail is read by `auditor` and `admin` only; nobody can change it through the API.
//! - `admin` may do everything everywhere.
//! - The `organisation` claim narrows writes further, whatever the territory: a token naming an
//!   organisational unit (a school, or a class, subject team or staff role under it) changes only
//!   what belongs to that unit or a unit under it: plans it (or a sub-unit) owns, their measures,
//!   statuses and occurrence reports, and the units under it. A class teacher's token
//!   (`--organisation <class id>`) reports for its class and is refused for the class next door.
//!   Writes about something no unit owns (a plan without owner, a territory) are refused to such a
//!   token. Reading is not narrowed. Checked with [`Actor::require_in_organisation`] against the
//!   owner's lineage (the unit and its parents), which the people subgraph gives.

use std::sync::{Arc, LazyLock};

use async_graphql::Context;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{ServiceError, ServiceResult};

/// The gateway's shared secret on every subgraph request.
pub const SECRET_HEADER: &str = "x-roadmap-gateway-secret";
/// The verified JWT claims, base64 (standard alphabet) of their JSON.
pub const CLAIMS_HEADER: &str = "x-roadmap-claims";
/// Set instead of claims by a subgraph calling another one; the value names the caller.
pub const SERVICE_HEADER: &str = "x-roadmap-service";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, async_graphql::Enum, Serialize, Deserialize)]
pub enum Role {
    Viewer,
    Editor,
    Coordinator,
    Auditor,
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text.trim().to_ascii_lowercase().as_str() {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "coordinator" => Some(Role::Coordinator),
            "auditor" => Some(Role::Auditor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Coordinator => "coordinator",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

/// The claims the hub reads from a token (the gateway has verified signature, expiry, issuer
/// and audience).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// Set by the gateway when the request carried a token that did not verify.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub invalid_token: bool,
}

/// The acting user of one request.
#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    /// `anonymous`, the token's `sub`, or `service:<name>`.
    pub subject: String,
    pub name: Option<String>,
    pub roles: Vec<Role>,
    /// The root of the scope; `None` is the whole country.
    pub territory: Option<Uuid>,
    pub organisation: Option<Uuid>,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Anonymous,
    User,
    Service,
}

static ANONYMOUS: LazyLock<Actor> = LazyLock::new(Actor::anonymous);

/// Anonymous: whoever forgets to say who acts may do nothing.
impl Default for Actor {
    fn default() -> Self {
        Actor::anonymous()
    }
}

impl Actor {
    pub fn anonymous() -> Actor {
        Actor {
            subject: "anonymous".to_string(),
            name: None,
            roles: Vec::new(),
            territory: None,
            organisation: None,
            kind: Kind::Anonymous,
        }
    }

    /// A signed-in user with `roles` in the scope of `territory` (`None`: the whole country), as
    /// a token's claims make one; `name` and `organisation` are the caller's to set.
    pub fn user(subject: impl Into<String>, roles: &[Role], territory: Option<Uuid>) -> Actor {
        Actor {
            subject: subject.into(),
            roles: roles.to_vec(),
            territory,
            kind: Kind::User,
            ..Actor::anonymous()
        }
    }

    /// The claims that make this actor again through [`Actor::from_claims`]: what a token says,
    /// or what is stored to act as this actor later (a webhook's registrant).
    pub fn claims(&self) -> Claims {
        Claims {
            sub: Some(self.subject.clone()),
            name: self.name.clone(),
            roles: self.roles.iter().map(|r| r.as_str().to_string()).collect(),
            territory: self.territory.map(|t| t.to_string()),
            organisation: self.organisation.map(|o| o.to_string()),
            invalid_token: false,
        }
    }

    /// Another subgraph of the hub acting on its own behalf (it has checked its caller).
    pub fn service(name: &str) -> Actor {
        Actor {
            subject: format!("service:{name}"),
            name: None,
            roles: vec![Role::Admin],
            territory: None,
            organisation: None,
            kind: Kind::Service,
        }
    }

    /// The actor of verified claims. Unknown roles are ignored; a malformed territory or
    /// organisation id is an error (a token we cannot scope must not act unscoped).
    pub fn from_claims(claims: Claims) -> Result<Actor, String> {
        if claims.invalid_token {
            return Err(
                "the bearer token is invalid or expired (signature, issuer, audience or expiry did not verify)"
                    .to_string(),
            );
        }
        let Some(subject) = claims.sub.filter(|s| !s.trim().is_empty()) else {
            return Ok(Actor::anonymous());
        };
        let parse = |what: &str, value: Option<String>| -> Result<Option<Uuid>, String> {
            value
                .filter(|v| !v.trim().is_empty())
                .map(|v| Uuid::parse_str(v.trim()).map_err(|_| format!("token claim `{what}` is not an id: `{v}`")))
                .transpose()
        };
        let mut roles: Vec<Role> = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
        roles.sort_by_key(|r| r.as_str());
        roles.dedup();
        Ok(Actor {
            subject,
            name: claims.name,
            roles,
            territory: parse("territory", claims.territory)?,
            organisation: parse("organisation", claims.organisation)?,
            kind: Kind::User,
        })
    }

    /// The actor of a subgraph request, from the headers the gateway (or a sibling subgraph) set.
    pub fn from_headers(headers: &HeaderMap) -> Result<Actor, String> {
        if let Some(service) = headers.get(SERVICE_HEADER).and_then(|v| v.to_str().ok()) {
            return Ok(Actor::service(service));
        }
        match headers.get(CLAIMS_HEADER).and_then(|v| v.to_str().ok()) {
            Some(encoded) => Actor::from_encoded_claims(encoded),
            None => Ok(Actor::anonymous()),
        }
    }

    /// Decodes the [`CLAIMS_HEADER`] value.
    pub fn from_encoded_claims(encoded: &str) -> Result<Actor, String> {
        use base64::Engine as _;
        let encoded = encoded.trim();
        if encoded.is_empty() {
            return Ok(Actor::anonymous());
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| format!("claims header is not base64: {e}"))?;
        let claims: Claims = serde_json::from_slice(&bytes).map_err(|e| format!("claims header is not JSON: {e}"))?;
        Actor::from_claims(claims)
    }

    pub fn is_anonymous(&self) -> bool {
        self.kind == Kind::Anonymous
    }

    pub fn is_service(&self) -> bool {
        self.kind == Kind::Service
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&Role::Admin) || self.roles.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }

    /// Admins, auditors and the hub's own services see every territory, drafts included.
    pub fn reads_everything(&self) -> bool {
        self.has_any(&[Role::Admin, Role::Auditor])
    }

    /// Which draft plans the actor may read: admins, auditors and the hub's services every one;
    /// other signed-in users with a role those of their scope (a national scope: every one);
    /// anonymous users and users without a role none.
    pub fn drafts(&self) -> Drafts {
        if self.reads_everything() {
            Drafts::All
        } else if self.is_anonymous() || self.roles.is_empty() {
            Drafts::None
        } else {
            match self.territory {
                None => Drafts::All,
                Some(scope) => Drafts::Under(scope),
            }
        }
    }

    /// Whether the scope covers a territory, given the territory and its ancestors
    /// (`ancestry[0]` is the territory itself). No territory at all (a federal plan) is covered
    /// only by a national scope.
    pub fn covers(&self, ancestry: &[Uuid]) -> bool {
        match self.territory {
            None => true,
            Some(scope) => ancestry.contains(&scope),
        }
    }

    /// Refuses unless the actor holds one of `roles` (admin holds all).
    pub fn require(&self, roles: &[Role], doing: &str) -> ServiceResult<()> {
        if self.has_any(roles) {
            return Ok(());
        }
        let wanted = roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or ");
        if self.is_anonymous() {
            Err(ServiceError::Unauthenticated(format!(
                "{doing} needs a signed-in user with the role {wanted}; send `Authorization: Bearer <token>`"
            )))
        } else {
            Err(ServiceError::Forbidden(format!(
                "{doing} needs the role {wanted}; {} has {}",
                self.subject,
                self.roles_text()
            )))
        }
    }

    /// Refuses unless the actor holds one of `roles` and the scope covers `ancestry`
    /// (see [`Actor::covers`]); `what` names the territory in the message.
    pub fn require_in_scope(&self, roles: &[Role], doing: &str, ancestry: &[Uuid]) -> ServiceResult<()> {
        self.require(roles, doing)?;
        if self.covers(ancestry) {
            return Ok(());
        }
        let territory = ancestry
            .first()
            .map(|t| format!("territory {t}"))
            .unwrap_or_else(|| "a plan without territory (federal)".to_string());
        Err(ServiceError::Forbidden(format!(
            "{doing}: {} is scoped to territory {} which does not cover {territory}",
            self.subject,
            self.territory.map(|t| t.to_string()).unwrap_or_default()
        )))
    }

    /// Whether the `organisation` claim (if any) covers a unit, given the unit and its parents,
    /// nearest first (`lineage[0]` is the unit itself; empty: nothing owns the subject).
    pub fn covers_organisation(&self, lineage: &[Uuid]) -> bool {
        match self.organisation {
            None => true,
            Some(unit) => lineage.contains(&unit),
        }
    }

    /// Refuses unless the `organisation` claim (if any) covers the unit of `lineage` (see
    /// [`Actor::covers_organisation`]); `doing` names the change in the message.
    pub fn require_in_organisation(&self, doing: &str, lineage: &[Uuid]) -> ServiceResult<()> {
        if self.covers_organisation(lineage) {
            return Ok(());
        }
        let subject = lineage
            .first()
            .map(|o| format!("organisation {o}"))
            .unwrap_or_else(|| "something no organisation owns".to_string());
        Err(ServiceError::Forbidden(format!(
            "{doing}: {} is limited to organisation {} and the units under it, which do not include {subject}",
            self.subject,
            self.organisation.map(|o| o.to_string()).unwrap_or_default()
        )))
    }

    fn roles_text(&self) -> String {
        if self.roles.is_empty() {
            "no role".to_string()
        } else {
            self.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
        }
    }

    /// Who, as recorded in the audit trail.
    pub fn audit_json(&self) -> Value {
        json!({
            "subject": self.subject,
            "name": self.name,
            "roles": self.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "territory": self.territory,
            "organisation": self.organisation,
        })
    }
}

/// What [`Actor::drafts`] allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drafts {
    All,
    None,
    /// Drafts of this territory and everything under it.
    Under(Uuid),
}

/// The actor of a GraphQL request (anonymous when the schema was executed without one, e.g. in
/// unit tests of a resolver).
pub fn actor<'a>(ctx: &'a Context<'_>) -> &'a Actor {
    ctx.data_opt::<Actor>().unwrap_or(&ANONYMOUS)
}

/// The shared gateway secret of a deployment.
#[derive(Clone)]
pub struct GatewaySecret(Arc<str>);

impl std::fmt::Debug for GatewaySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GatewaySecret(<redacted>)")
    }
}

impl GatewaySecret {
    pub fn new(secret: impl Into<String>) -> Result<GatewaySecret, String> {
        let secret = secret.into();
        if secret.len() < 16 {
            return Err("the gateway secret must be at least 16 characters".to_string());
        }
        if !secret.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the gateway secret must be printable ASCII without spaces".to_string());
        }
        Ok(GatewaySecret(secret.into()))
    }

    /// A fresh random secret (one process running every target needs no configured one).
    pub fn random() -> GatewaySecret {
        GatewaySecret(format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()).into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with what a request carried.
    pub fn matches(&self, given: Option<&str>) -> bool {
        let Some(given) = given else { return false };
        let (a, b) = (self.0.as_bytes(), given.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// Middleware on a subgraph's `/graphql`: refuses requests without the gateway secret and puts
/// the [`Actor`] into the request extensions.
pub async fn guard(State(secret): State<GatewaySecret>, mut request: Request, next: Next) -> Response {
    let given = request.headers().get(SECRET_HEADER).and_then(|v| v.to_str().ok());
    if !secret.matches(given) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "this subgraph accepts requests only through the gateway: missing or wrong x-roadmap-gateway-secret header",
        );
    }
    match Actor::from_headers(request.headers()) {
        Ok(actor) => {
            request.extensions_mut().insert(actor);
            next.run(request).await
        }
        Err(reason) => refuse(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", &reason),
    }
}

/// Checks a graphql-transport-ws `connection_init` payload (the router puts its subgraph headers
/// there) and returns the actor of the connection.
pub fn check_connection_init(secret: &GatewaySecret, payload: &Value) -> Result<Actor, String> {
    let field = |name: &str| payload.get(name).and_then(Value::as_str);
    if !secret.matches(field(SECRET_HEADER)) {
        return Err("this subgraph accepts subscriptions only through the gateway".to_string());
    }
    if let Some(service) = field(SERVICE_HEADER) {
        return Ok(Actor::service(service));
    }
    match field(CLAIMS_HEADER) {
        Some(encoded) => Actor::from_encoded_claims(encoded),
        None => Ok(Actor::anonymous()),
    }
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn encode(value: Value) -> String {
        base64::engine::general_purpose::STANDARD.encode(value.to_string())
    }

    #[test]
    fn empty_claims_are_anonymous() {
        let actor = Actor::from_encoded_claims(&encode(json!({}))).unwrap();
        assert!(actor.is_anonymous());
        assert!(actor.require(&[Role::Editor], "importing a plan").is_err());
    }

    #[test]
    fn scope_covers_descendants_only() {
        let (region, district, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let actor = Actor::from_encoded_claims(&encode(json!({
            "sub": "editor@district", "roles": ["editor", "unknown"], "territory": district.to_string()
        })))
        .unwrap();
        assert_eq!(actor.roles, vec![Role::Editor]);
        assert!(actor.covers(&[district, region]));
        assert!(!actor.covers(&[region]));
        assert!(!actor.covers(&[other, region]));
        assert!(!actor.covers(&[]));
        assert_eq!(actor.drafts(), Drafts::Under(district));
        assert_eq!(Actor::anonymous().drafts(), Drafts::None);
        assert_eq!(Actor::service("plans").drafts(), Drafts::All);
        let err = actor
            .require_in_scope(&[Role::Editor], "changing a plan", &[other, region])
            .unwrap_err();
        assert_eq!(err.code(), "FORBIDDEN");
        assert!(err.message().contains(&other.to_string()), "{}", err.message());
    }

    #[test]
    fn the_organisation_claim_narrows_to_the_unit_and_below() {
        let (school, class, next_door, role) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let teacher = Actor::from_encoded_claims(&encode(json!({
            "sub": "teacher@9a", "roles": ["editor"], "organisation": class.to_string()
        })))
        .unwrap();
        assert_eq!(teacher.organisation, Some(class));
        assert!(teacher.covers_organisation(&[class, school]));
        assert!(teacher.covers_organisation(&[role, class, school]));
        assert!(!teacher.covers_organisation(&[next_door, school]));
        assert!(!teacher.covers_organisation(&[school]));
        assert!(!teacher.covers_organisation(&[]));
        let err = teacher
            .require_in_organisation("reporting an occurrence", &[next_door, school])
            .unwrap_err();
        assert_eq!(err.code(), "FORBIDDEN");
        assert!(err.message().contains(&next_door.to_string()), "{}", err.message());
        let unscoped = Actor::user("editor@region", &[Role::Editor], None);
        assert!(unscoped.covers_organisation(&[]));
    }

    #[test]
    fn malformed_scope_is_refused() {
        let err =
            Actor::from_encoded_claims(&encode(json!({"sub": "x", "territory": "Забайкальский край"}))).unwrap_err();
        assert!(err.contains("territory"), "{err}");
        assert!(Actor::from_encoded_claims("not base64!").is_err());
    }

    #[test]
    fn secret_comparison() {
        let secret = GatewaySecret::new("0123456789abcdef").unwrap();
        assert!(secret.matches(Some("0123456789abcdef")));
        assert!(!secret.matches(Some("0123456789abcdeF")));
        assert!(!secret.matches(Some("0123456789abcde")));
        assert!(!secret.matches(None));
        assert!(GatewaySecret::new("short").is_err());
        assert!(!format!("{secret:?}").contains("0123"));
    }
}
