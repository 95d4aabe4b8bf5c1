//! Status-relevant changes of the plans subgraph. Each hook runs inside the transaction of the
//! change it reports; the event-stream issue turns these into outbox rows (same transaction,
//! relayed to Redis Streams), so callers already hold the transaction.

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::ServiceResult;

use crate::store::LinkRow;

/// A person set a measure's status.
pub async fn measure_status_changed(
    _tx: &mut Transaction<'_, Postgres>,
    measure: Uuid,
    before: &str,
    after: &str,
) -> ServiceResult<()> {
    tracing::debug!(%measure, before, after, "measure status changed");
    Ok(())
}

/// A link was created, confirmed or rejected.
pub async fn link_changed(_tx: &mut Transaction<'_, Postgres>, link: &LinkRow) -> ServiceResult<()> {
    tracing::debug!(link = %link.id, state = link.state, "link changed");
    Ok(())
}
