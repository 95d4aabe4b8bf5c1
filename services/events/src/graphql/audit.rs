//! The audit trail's types: `AuditEntry`, `AuditActor`, `AuditFilter` (`Query.auditTrail` is in
//! `query.rs`).

use async_graphql::{ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::store::AuditRow;

/// One audited change.
pub struct AuditEntry(pub AuditRow);

/// Who made an audited change, as the token said.
#[derive(SimpleObject)]
pub struct AuditActor {
    /// The token's subject, `service:<name>` for the hub's own services, or `anonymous`.
    pub subject: String,
    pub name: Option<String>,
    pub roles: Vec<String>,
    pub territory: Option<ID>,
}

#[Object]
impl AuditEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Position in the trail (use as `after` to page).
    async fn cursor(&self) -> String {
        self.0.seq.to_string()
    }
    async fn service(&self) -> &str {
        &self.0.service
    }
    /// The mutation, e.g. `setMeasureStatus`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn actor(&self) -> AuditActor {
        let a = &self.0.actor;
        AuditActor {
            subject: a["subject"].as_str().unwrap_or("unknown").to_string(),
            name: a["name"].as_str().map(str::to_string),
            roles: a["roles"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect(),
            territory: a["territory"].as_str().map(|t| ID(t.to_string())),
        }
    }
    async fn subject_type(&self) -> &str {
        &self.0.subject_type
    }
    async fn subject_id(&self) -> ID {
        ID(self.0.subject_id.to_string())
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    async fn before(&self) -> Option<Json<Value>> {
        self.0.before.clone().map(Json)
    }
    async fn after(&self) -> Option<Json<Value>> {
        self.0.after.clone().map(Json)
    }
}

#[derive(InputObject, Default)]
pub struct AuditFilter {
    /// The token subject of the actor.
    pub actor: Option<String>,
    pub subject: Option<ID>,
    pub action: Option<String>,
    pub service: Option<String>,
}
