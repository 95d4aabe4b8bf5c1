//! What this service writes to the event stream and the audit trail. Recording an observation or
//! changing a target (or a plan's targets) changes what dashboards show as status, so every such
//! write records a [`StatusChange`] in its own transaction, as an outbox row
//! ([`roadmap_common::outbox`]): the event exists exactly when the change commits. [`commit`] is
//! the one end of every mutation's transaction: its events, its audit entry, then the commit.

use serde_json::{Value, json};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::auth::Actor;
use roadmap_common::outbox::{self, OutboxEvent, kind};
use roadmap_common::{ServiceError, ServiceResult};

use crate::store;

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusChange {
    ObservationRecorded { observation: Uuid },
    TargetChanged { target: Uuid },
    PlanTargetsReplaced { plan: Uuid },
}

/// What a mutation wrote, for the event stream and the audit trail.
#[derive(Debug)]
pub struct Written {
    /// The mutation's name, the audit entry's action.
    pub action: &'static str,
    /// (type, id) of what the audit entry is about.
    pub subject: (&'static str, Uuid),
    /// The audit entry's `after`.
    pub after: Value,
    /// (indicator, change) for every status-relevant change; none for definitions and links.
    pub changes: Vec<(Uuid, StatusChange)>,
}

impl Written {
    pub fn new(
        action: &'static str,
        subject: (&'static str, Uuid),
        after: Value,
        changes: Vec<(Uuid, StatusChange)>,
    ) -> Self {
        Self {
            action,
            subject,
            after,
            changes,
        }
    }
}

/// Ends a mutation's transaction: an outbox row per status change, the audit entry, the commit.
pub async fn commit(mut tx: Transaction<'_, Postgres>, actor: &Actor, written: Written) -> ServiceResult<()> {
    for (indicator, change) in written.changes {
        status_changed(&mut tx, indicator, change).await?;
    }
    roadmap_common::audit::record(
        &mut tx,
        crate::NAME,
        actor,
        written.action,
        written.subject,
        None,
        Some(written.after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A status-relevant change of `indicator`, called inside the writing transaction. The subject
/// is the indicator; `context` carries the territory and plan when the change has them.
async fn status_changed(
    tx: &mut Transaction<'_, Postgres>,
    indicator: Uuid,
    change: StatusChange,
) -> ServiceResult<()> {
    tracing::debug!(%indicator, ?change, "indicator status-relevant change");
    let (kind, after, context): (&str, Value, Value) = match change {
        StatusChange::ObservationRecorded { observation } => {
            let (territory, period, value) = match store::observation_facts(tx, observation).await? {
                Some((t, p, v)) => (t, Some(p), Some(v)),
                None => (None, None, None),
            };
            (
                kind::OBSERVATION_RECORDED,
                json!({ "observation": observation, "period": period, "value": value }),
                json!({ "indicator": indicator, "territory": territory }),
            )
        }
        StatusChange::TargetChanged { target } => {
            let (territory, plan) = store::target_place(tx, target).await?.unwrap_or_default();
            (
                kind::TARGET_SET,
                json!({ "target": target }),
                json!({ "indicator": indicator, "territory": territory, "plan": plan }),
            )
        }
        StatusChange::PlanTargetsReplaced { plan } => (
            kind::TARGET_SET,
            json!({ "plan": plan }),
            json!({ "indicator": indicator, "plan": plan }),
        ),
    };
    let mut event = OutboxEvent::new(kind, "Indicator", indicator);
    event.after = Some(after);
    event.context = context;
    outbox::record(tx, &event).await.map_err(ServiceError::from)
}
