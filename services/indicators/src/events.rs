//! The hook for the event stream. Recording an observation or changing a target (or a plan's
//! targets) changes what dashboards show as status, so every such write calls
//! [`status_changed`] inside its own transaction.

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::ServiceResult;

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusChange {
    ObservationRecorded { observation: Uuid },
    TargetChanged { target: Uuid },
    PlanTargetsReplaced { plan: Uuid },
}

/// A status-relevant change, called inside the writing transaction. Today a no-op: the events
/// issue turns it into an outbox row written with `tx`, so the event exists exactly when the
/// change commits.
pub async fn status_changed(
    _tx: &mut Transaction<'_, Postgres>,
    indicator: Uuid,
    change: StatusChange,
) -> ServiceResult<()> {
    tracing::debug!(%indicator, ?change, "indicator status-relevant change");
    Ok(())
}
