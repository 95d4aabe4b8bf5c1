//! The schema of the events subgraph, one file per type family: [`event`] (`Event`,
//! `EventKind`, `EventFilter` and the entity references), [`webhook`] (`Webhook…`), [`audit`]
//! (`AuditEntry`, `AuditActor`, `AuditFilter`); the roots in [`query`], [`mutation`] and
//! [`subscription`].

pub mod audit;
pub mod event;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod webhook;

pub use async_graphql::ID;
pub use event::{Event, EventFilter, EventKind};
pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use subscription::SubscriptionRoot;

use roadmap_common::ServiceError;

/// An event cursor argument (`after`), as the log's `cursor`.
fn parse_cursor(after: Option<String>) -> Result<Option<i64>, ServiceError> {
    after.map(|a| parse_seq("after", &a, "an event cursor")).transpose()
}

/// A non-negative position in the log or the audit trail; `what` names it in the error.
fn parse_seq(field: &str, text: &str, what: &str) -> Result<i64, ServiceError> {
    text.parse::<i64>()
        .ok()
        .filter(|c| *c >= 0)
        .ok_or_else(|| ServiceError::invalid(field, format!("`{text}` is not {what}")))
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursors_are_non_negative_numbers() {
        assert!(parse_cursor(Some("-1".into())).is_err());
        assert!(parse_cursor(Some("x".into())).is_err());
        assert_eq!(parse_cursor(Some("42".into())).unwrap(), Some(42));
        assert_eq!(parse_cursor(None).unwrap(), None);
    }
}
