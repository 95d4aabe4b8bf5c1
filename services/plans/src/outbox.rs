//! Status-relevant changes of the plans subgraph, written as outbox rows
//! ([`roadmap_common::outbox`]) inside the transaction of the change: the event exists exactly
//! when the change commits, and the relay carries it to the events service.

use serde_json::{Value, json};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::outbox::{self, OutboxEvent, kind};
use roadmap_common::{ServiceError, ServiceResult};

use crate::store::{self, LinkRow, MissedRow, PlanRow, ReportRow};

/// Filtering context of a measure: its plan, the plan's level and territory, and the measures it
/// implements through confirmed links, transitively.
async fn measure_context(tx: &mut Transaction<'_, Postgres>, measure: Uuid) -> ServiceResult<Value> {
    Ok(match store::measure_context(tx, measure).await? {
        Some(c) => json!({
            "plan": c.plan_id,
            "level": c.level,
            "territory": c.territory_id,
            "ancestors": c.ancestors,
        }),
        None => json!({}),
    })
}

async fn record(tx: &mut Transaction<'_, Postgres>, event: OutboxEvent) -> ServiceResult<()> {
    outbox::record(tx, &event).await.map_err(ServiceError::from)
}

/// A person set a measure's status.
pub async fn measure_status_changed(
    tx: &mut Transaction<'_, Postgres>,
    measure: Uuid,
    before: &str,
    after: &str,
) -> ServiceResult<()> {
    tracing::debug!(%measure, before, after, "measure status changed");
    let mut event = OutboxEvent::new(kind::MEASURE_STATUS_CHANGED, "Measure", measure);
    event.before = Some(json!({ "status": before }));
    event.after = Some(json!({ "status": after }));
    event.context = measure_context(tx, measure).await?;
    record(tx, event).await
}

/// A link was created, confirmed or rejected: `LINK_CONFIRMED` when it is now confirmed,
/// `LINK_CHANGED` otherwise. The subject is the implementing (lower-level) measure.
pub async fn link_changed(tx: &mut Transaction<'_, Postgres>, link: &LinkRow) -> ServiceResult<()> {
    tracing::debug!(link = %link.id, state = link.state, "link changed");
    let kind = if link.state == "CONFIRMED" {
        kind::LINK_CONFIRMED
    } else {
        kind::LINK_CHANGED
    };
    let mut event = OutboxEvent::new(kind, "Measure", link.measure_id);
    event.after = Some(json!({
        "link": link.id,
        "implements": link.implements_id,
        "state": link.state,
    }));
    event.context = measure_context(tx, link.measure_id).await?;
    record(tx, event).await
}

/// A draft plan was approved (it is public from now on).
pub async fn plan_approved(tx: &mut Transaction<'_, Postgres>, plan: &PlanRow) -> ServiceResult<()> {
    let mut event = OutboxEvent::new(kind::PLAN_APPROVED, "Plan", plan.id);
    event.before = Some(json!({ "state": plan.state }));
    event.after = Some(json!({ "state": "APPROVED" }));
    event.context = json!({ "plan": plan.id, "level": plan.level, "territory": plan.territory_id });
    record(tx, event).await
}

/// The deadline watcher found a measure past its due day, unfinished (`deadlines`). Before: the
/// status people set; after: OVERDUE; both with the missed day.
pub async fn deadline_missed(tx: &mut Transaction<'_, Postgres>, missed: &MissedRow) -> ServiceResult<()> {
    tracing::debug!(measure = %missed.measure_id, due_on = %missed.due_on, "deadline missed");
    let mut event = OutboxEvent::new(kind::DEADLINE_MISSED, "Measure", missed.measure_id);
    event.before = Some(json!({ "status": missed.status, "dueOn": missed.due_on }));
    event.after = Some(json!({ "status": "OVERDUE", "dueOn": missed.due_on }));
    event.context = measure_context(tx, missed.measure_id).await?;
    record(tx, event).await
}

/// A report on an occurrence of a measure; `before` is the report it replaces, if any.
pub async fn occurrence_reported(
    tx: &mut Transaction<'_, Postgres>,
    before: Option<&ReportRow>,
    after: &ReportRow,
) -> ServiceResult<()> {
    let report = |r: &ReportRow| {
        json!({
            "date": r.occurs_on,
            "revision": r.revision,
            "held": r.held,
            "participants": r.participants,
            "evidence": r.evidence,
            "note": r.note,
            "reportedBy": r.reported_by,
        })
    };
    let mut event = OutboxEvent::new(kind::OCCURRENCE_REPORTED, "Measure", after.measure_id);
    event.before = before.map(report);
    event.after = Some(report(after));
    event.context = measure_context(tx, after.measure_id).await?;
    record(tx, event).await
}

/// A plan was imported (created, or a new version). The subject is the plan; `after` carries the
/// version, the outcome and the approving act.
pub async fn plan_imported(
    tx: &mut Transaction<'_, Postgres>,
    plan: &PlanRow,
    status: &str,
    changes: &serde_json::Value,
) -> ServiceResult<()> {
    let mut event = OutboxEvent::new(kind::PLAN_IMPORTED, "Plan", plan.id);
    event.after = Some(json!({
        "status": status,
        "version": plan.version,
        "title": plan.title,
        "approval": {
            "kind": plan.approval_kind,
            "number": plan.approval_number,
            "date": plan.approval_date,
        },
        "changes": changes,
    }));
    event.context = json!({
        "plan": plan.id,
        "level": plan.level,
        "territory": plan.territory_id,
        "ancestors": [],
    });
    record(tx, event).await
}
