//! The audit trail (see `roadmap_common::audit`): entries arrive through the event stream like
//! events, are stored once by id in the append-only `audit_log`, and are read by auditors and
//! admins through `Query.auditTrail`. They never reach subscribers or webhooks.

use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use roadmap_common::ServiceError;
use roadmap_common::auth::{self, Role};
use roadmap_common::outbox::OutboxEvent;
use roadmap_common::relay::page_size;

/// Records a mutation of the events service itself, in its transaction (the events service
/// owns the trail, so its entries go there directly instead of through an outbox).
pub async fn record_local(
    conn: &mut sqlx::PgConnection,
    actor: &auth::Actor,
    action: &str,
    subject: (&str, Uuid),
    before: Option<Value>,
    after: Option<Value>,
) -> Result<(), sqlx::Error> {
    let entry = roadmap_common::audit::entry(crate::NAME, actor, action, subject, before, after);
    insert(conn, &entry).await
}

/// Stores an audit entry once (by id); the entry's `context` carries action, service and actor.
pub async fn insert(db: impl sqlx::PgExecutor<'_>, entry: &OutboxEvent) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (id, service, action, actor, subject_type, subject_id, occurred_at, before, after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
    )
    .bind(entry.id)
    .bind(entry.context["service"].as_str().unwrap_or("unknown"))
    .bind(entry.context["action"].as_str().unwrap_or("unknown"))
    .bind(entry.context.get("actor").cloned().unwrap_or(Value::Null))
    .bind(&entry.subject_type)
    .bind(entry.subject_id)
    .bind(entry.occurred_at)
    .bind(&entry.before)
    .bind(&entry.after)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct Row {
    id: Uuid,
    seq: i64,
    service: String,
    action: String,
    actor: Value,
    subject_type: String,
    subject_id: Uuid,
    occurred_at: DateTime<Utc>,
    before: Option<Value>,
    after: Option<Value>,
}

/// One audited change.
pub struct AuditEntry(Row);

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

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit trail in order (auditors and admins only).
    async fn audit_trail(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Vec<AuditEntry>> {
        auth::actor(ctx).require(&[Role::Auditor], "reading the audit trail")?;
        let filter = filter.unwrap_or_default();
        let after = match after {
            Some(a) => a
                .parse::<i64>()
                .ok()
                .filter(|c| *c >= 0)
                .ok_or_else(|| ServiceError::invalid("after", format!("`{a}` is not an audit cursor")))?,
            None => 0,
        };
        let subject = filter
            .subject
            .as_ref()
            .map(|s| {
                Uuid::parse_str(s.as_str()).map_err(|_| ServiceError::invalid("filter.subject", "is not a valid id"))
            })
            .transpose()?;
        let limit = page_size(first, 100, 1000)?;
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, seq, service, action, actor, subject_type, subject_id, occurred_at, before, after \
             FROM audit_log WHERE seq > $1 \
               AND ($2::text IS NULL OR actor->>'subject' = $2) \
               AND ($3::uuid IS NULL OR subject_id = $3) \
               AND ($4::text IS NULL OR action = $4) \
               AND ($5::text IS NULL OR service = $5) \
             ORDER BY seq LIMIT $6",
        )
        .bind(after)
        .bind(&filter.actor)
        .bind(subject)
        .bind(&filter.action)
        .bind(&filter.service)
        .bind(limit)
        .fetch_all(ctx.data::<PgPool>()?)
        .await
        .map_err(ServiceError::from)?;
        Ok(rows.into_iter().map(AuditEntry).collect())
    }
}
