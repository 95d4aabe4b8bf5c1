//! Development tokens: `roadmap-hub token --role editor --territory ...` signs a JWT with the
//! committed development key (`gateway/dev/jwt-dev-key.pem`), which the development router
//! config trusts through `gateway/dev/jwks.json`. The production config trusts the identity
//! provider's JWKS instead, so these tokens are worthless there.

use std::path::PathBuf;

use anyhow::{Context as _, anyhow, bail};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use roadmap_common::auth::{Actor, Claims, Role};
use serde::Serialize;
use uuid::Uuid;

pub const DEV_ISSUER: &str = "roadmap-hub-dev";
pub const AUDIENCE: &str = "roadmap-hub";
pub const DEV_KEY_ID: &str = "roadmap-hub-dev";

/// The committed development signing key.
pub fn dev_key_path() -> PathBuf {
    crate::workspace_root().join("gateway/dev/jwt-dev-key.pem")
}

/// What a token says: the user it makes (name and organisation included) and how long it lasts.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub user: Actor,
    pub ttl: chrono::Duration,
}

impl TokenRequest {
    /// A token for 8 hours; `territory` is the scope root (`None`: the whole country).
    pub fn new(subject: impl Into<String>, roles: &[Role], territory: Option<Uuid>) -> Self {
        Self {
            user: Actor::user(subject, roles, territory),
            ttl: chrono::Duration::hours(8),
        }
    }

    /// The same token with an `organisation` claim: its writes are narrowed to that unit and the
    /// units under it, whatever its territory (`token --role editor --organisation <class id>`
    /// makes a class teacher's token; rules in `roadmap_common::auth`).
    pub fn with_organisation(mut self, organisation: Option<Uuid>) -> Self {
        self.user.organisation = organisation;
        self
    }
}

#[derive(Serialize)]
struct Jwt {
    #[serde(flatten)]
    claims: Claims,
    iss: &'static str,
    aud: &'static str,
    iat: i64,
    exp: i64,
}

/// Signs `request` with the development key.
pub fn sign_dev(request: &TokenRequest) -> anyhow::Result<String> {
    let path = dev_key_path();
    let pem = std::fs::read(&path).with_context(|| format!("reading the dev key {}", path.display()))?;
    sign(request, &pem)
}

/// Signs `request` (RS256) with a PEM private key.
pub fn sign(request: &TokenRequest, pem: &[u8]) -> anyhow::Result<String> {
    if request.user.subject.trim().is_empty() {
        bail!("--subject must not be empty");
    }
    let key = EncodingKey::from_rsa_pem(pem).map_err(|e| anyhow!("the signing key is not an RSA PEM key: {e}"))?;
    let now = chrono::Utc::now().timestamp();
    let jwt = Jwt {
        claims: request.user.claims(),
        iss: DEV_ISSUER,
        aud: AUDIENCE,
        iat: now,
        exp: now + request.ttl.num_seconds(),
    };
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(DEV_KEY_ID.to_string());
    jsonwebtoken::encode(&header, &jwt, &key).map_err(|e| anyhow!("signing the token: {e}"))
}

/// Parses `--role` values.
pub fn parse_roles(values: &[String]) -> anyhow::Result<Vec<Role>> {
    if values.is_empty() {
        bail!("give at least one --role (viewer, editor, coordinator, auditor, admin)");
    }
    values
        .iter()
        .map(|v| {
            Role::parse(v)
                .ok_or_else(|| anyhow!("--role `{v}` is not one of viewer, editor, coordinator, auditor, admin"))
        })
        .collect()
}

/// A territory given as an id, or as a path of names ("Забайкальский край/Читинский район")
/// looked up in the people schema of `database_url`.
pub async fn resolve_territory(database_url: &str, text: &str) -> anyhow::Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(text.trim()) {
        return Ok(id);
    }
    let pool = roadmap_common::db::connect_schema_quiet(database_url, roadmap_people::NAME, 1).await?;
    let mut parent: Option<Uuid> = None;
    for name in text.split('/').map(str::trim) {
        if name.is_empty() {
            bail!("--territory `{text}` has an empty part");
        }
        let id: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM territory WHERE name = $1 AND parent_id IS NOT DISTINCT FROM $2")
                .bind(name)
                .bind(parent)
                .fetch_optional(&pool)
                .await?;
        parent = Some(id.ok_or_else(|| {
            anyhow!("--territory: no territory `{name}` under {parent:?} (give an id or an existing path)")
        })?);
    }
    pool.close().await;
    parent.ok_or_else(|| anyhow!("--territory is empty"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_a_token_the_dev_jwks_verifies() {
        let territory = Uuid::new_v4();
        let token = sign_dev(&TokenRequest::new("editor@test", &[Role::Editor], Some(territory))).unwrap();
        let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_str(
            &std::fs::read_to_string(crate::workspace_root().join("gateway/dev/jwks.json")).unwrap(),
        )
        .unwrap();
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[DEV_ISSUER]);
        let data = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).unwrap();
        assert_eq!(data.claims["sub"], "editor@test");
        assert_eq!(data.claims["roles"], serde_json::json!(["editor"]));
        assert_eq!(data.claims["territory"], territory.to_string());
        assert!(parse_roles(&["boss".to_string()]).is_err());
        let class = Uuid::new_v4();
        let teacher = TokenRequest::new("teacher@9a", &[Role::Editor], Some(territory)).with_organisation(Some(class));
        let token = sign_dev(&teacher).unwrap();
        let data = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).unwrap();
        assert_eq!(data.claims["organisation"], class.to_string());
    }
}
