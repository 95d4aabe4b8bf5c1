//! The audit trail (see `roadmap_common::audit`): entries arrive through the event stream like
//! events, are stored once by id in the append-only `audit_log` ([`crate::store`]), and are read
//! by auditors and admins through `Query.auditTrail` (`graphql/audit.rs`). They never reach
//! subscribers or webhooks.

use roadmap_common::outbox::OutboxEvent;

/// Whether a consumed entry belongs to the trail rather than the log.
pub fn is_audit_entry(event: &OutboxEvent) -> bool {
    event.kind == roadmap_common::audit::KIND
}
