//! Status-relevant changes of the plans subgraph, written as outbox rows
//! ([`roadmap_common::outbox`]) inside the transaction of the change: the event exists exactly
//! when the change commits, and the relay carries it to the events service.

use serde_json::{Value, json};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::outbox::{self, OutboxEvent, kind};
use roadmap_common::{ServiceError, ServiceResult};

use crate::store::{self, LinkRow, MeasureContextRow, MissedRow, PlanRow, ReportRow};

/// Filtering context of a measure: its plan, the plan's level and territory, whether the plan is
/// a draft (the events service shows drafts' events only to those who may read the draft), and
/// the measures it implements through confirmed links, transitively.
async fn measure_context(tx: &mut Transaction<'_, Postgres>, measure: Uuid) -> ServiceResult<Value> {
    Ok(match store::measure_context(tx, measure).await? {
        Some(c) => context_json(&c),
        None => json!({}),
    })
}

/// The context as events carry it (one shape whether read alone or with a batch).
fn context_json(c: &MeasureContextRow) -> Value {
    json!({
        "plan": c.plan_id,
        "level": c.level,
        "territory": c.territory_id,
        "ancestors": c.ancestors,
        "draft": c.draft,
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
    event.context = json!({ "plan": plan.id, "level": plan.level, "territory": plan.territory_id, "draft": false });
    record(tx, event).await
}

/// The deadline watcher found measures past their due day, unfinished (`deadlines`), one event
/// each. Before: the status people set; after: OVERDUE; both with the missed day. The rows carry
/// their context, and the batch is written with one insert.
pub async fn deadlines_missed(tx: &mut Transaction<'_, Postgres>, missed: &[MissedRow]) -> ServiceResult<()> {
    let events: Vec<OutboxEvent> = missed
        .iter()
        .map(|m| {
            let mut event = OutboxEvent::new(kind::DEADLINE_MISSED, "Measure", m.measure_id);
            event.before = Some(json!({ "status": m.status, "dueOn": m.due_on }));
            event.after = Some(json!({ "status": "OVERDUE", "dueOn": m.due_on }));
            event.context = context_json(&m.context);
            event
        })
        .collect();
    outbox::record_many(tx, &events).await.map_err(ServiceError::from)
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
        "draft": plan.state == "DRAFT",
    });
    record(tx, event).await
}
