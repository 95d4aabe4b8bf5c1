//! The hook for the event stream. Recording an observation or changing a target (or a plan's
//! targets) changes what dashboards show as status, so every such write calls
//! [`status_changed`] inside its own transaction, which writes an outbox row
//! ([`roadmap_common::outbox`]): the event exists exactly when the change commits.

use serde_json::{Value, json};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::outbox::{self, OutboxEvent, kind};
use roadmap_common::{ServiceError, ServiceResult};

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusChange {
    ObservationRecorded { observation: Uuid },
    TargetChanged { target: Uuid },
    PlanTargetsReplaced { plan: Uuid },
}

/// A status-relevant change of `indicator`, called inside the writing transaction. The subject
/// is the indicator; `context` carries the territory and plan when the change has them.
pub async fn status_changed(
    tx: &mut Transaction<'_, Postgres>,
    indicator: Uuid,
    change: StatusChange,
) -> ServiceResult<()> {
    tracing::debug!(%indicator, ?change, "indicator status-relevant change");
    let (kind, after, context): (&str, Value, Value) = match change {
        StatusChange::ObservationRecorded { observation } => {
            let row: Option<(Option<Uuid>, String, f64)> =
                sqlx::query_as("SELECT territory_id, period::text, value::float8 FROM observation WHERE id = $1")
                    .bind(observation)
                    .fetch_optional(&mut **tx)
                    .await?;
            let (territory, period, value) = match row {
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
            let row: Option<(Option<Uuid>, Option<Uuid>)> =
                sqlx::query_as("SELECT territory_id, plan_id FROM indicator_target WHERE id = $1")
                    .bind(target)
                    .fetch_optional(&mut **tx)
                    .await?;
            let (territory, plan) = row.unwrap_or_default();
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
