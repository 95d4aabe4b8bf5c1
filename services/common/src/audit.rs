//! The audit trail: who changed what, when, with the state before and after.
//!
//! A mutation calls [`record`] inside its own transaction, so the entry exists exactly when the
//! change commits. Entries ride the service's transactional outbox (kind [`KIND`]) to the events
//! service, which keeps them in its append-only `audit_log` (a trigger refuses `UPDATE` and
//! `DELETE`; the API offers no mutation of it) and serves them to auditors as
//! `Query.auditTrail`. Audit entries never reach subscribers or webhooks.

use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ServiceResult;
use crate::auth::Actor;
use crate::outbox::{self, OutboxEvent};

/// Outbox kind of audit entries.
pub const KIND: &str = "AUDIT";

/// The audit entry of `action` by `actor` on `subject` = (type, id); the state before and after
/// are the caller's to set (`before`, `after`), as [`record`] does.
pub fn entry(service: &str, actor: &Actor, action: &str, subject: (&str, Uuid)) -> OutboxEvent {
    let mut event = OutboxEvent::new(KIND, subject.0, subject.1);
    event.context = json!({
        "action": action,
        "service": service,
        "actor": actor.audit_json(),
    });
    event
}

/// Writes the audit [`entry`] with the state before and after into the outbox of the
/// connection's schema; call it with the transaction of the change.
pub async fn record(
    conn: &mut PgConnection,
    service: &str,
    actor: &Actor,
    action: &str,
    subject: (&str, Uuid),
    before: Option<Value>,
    after: Option<Value>,
) -> ServiceResult<()> {
    let mut entry = entry(service, actor, action, subject);
    (entry.before, entry.after) = (before, after);
    Ok(outbox::record(conn, &entry).await?)
}
