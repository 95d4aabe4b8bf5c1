//! The audit trail (see `roadmap_common::audit`): entries arrive through the event stream like
//! events, are stored once by id in the append-only `audit_log` ([`crate::store`]), and are read
//! by auditors and admins through `Query.auditTrail` (`graphql/audit.rs`). They never reach
//! subscribers or webhooks.

use serde_json::Value;
use uuid::Uuid;

use roadmap_common::auth;
use roadmap_common::outbox::OutboxEvent;

/// Whether a consumed entry belongs to the trail rather than the log.
pub fn is_audit_entry(event: &OutboxEvent) -> bool {
    event.kind == roadmap_common::audit::KIND
}

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
    crate::store::insert_audit_entry(conn, &entry).await
}
