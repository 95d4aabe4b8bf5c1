//! `Event`, one entry of the log; `EventKind`; `EventFilter`; and the entity references an event
//! points to (`Measure`, `Plan`, `Indicator`, resolved by their own subgraphs).

use async_graphql::{Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::store::EventRow;

/// A measure of the plans subgraph, by reference.
#[derive(SimpleObject)]
#[graphql(name = "Measure", unresolvable)]
pub struct MeasureRef {
    pub id: ID,
}

/// A plan of the plans subgraph, by reference.
#[derive(SimpleObject)]
#[graphql(name = "Plan", unresolvable)]
pub struct PlanRef {
    pub id: ID,
}

/// An indicator of the indicators subgraph, by reference.
#[derive(SimpleObject)]
#[graphql(name = "Indicator", unresolvable)]
pub struct IndicatorRef {
    pub id: ID,
}

/// One entry of the log.
pub struct Event(pub EventRow);

impl Event {
    /// A text the producer recorded in the event's `context` (plan, territory, level).
    fn context_text(&self, key: &str) -> Option<&str> {
        self.0.context.get(key).and_then(Value::as_str)
    }
}

#[Object]
impl Event {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Position in the log; pass it as `after` to resume.
    async fn cursor(&self) -> String {
        self.0.cursor.to_string()
    }

    /// `MEASURE_STATUS_CHANGED`, `LINK_CONFIRMED`, `LINK_CHANGED`, `TARGET_SET`,
    /// `OBSERVATION_RECORDED`, `DEADLINE_MISSED`, `OCCURRENCE_REPORTED`, `PLAN_IMPORTED`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    /// `Measure`, `Indicator` or `Plan`.
    async fn subject_type(&self) -> &str {
        &self.0.subject_type
    }

    async fn subject_id(&self) -> ID {
        ID(self.0.subject_id.to_string())
    }

    /// The subject when it is a measure (resolved by the plans subgraph).
    async fn measure(&self) -> Option<MeasureRef> {
        (self.0.subject_type == "Measure").then(|| MeasureRef {
            id: ID(self.0.subject_id.to_string()),
        })
    }

    /// The subject when it is an indicator (resolved by the indicators subgraph).
    async fn indicator(&self) -> Option<IndicatorRef> {
        (self.0.subject_type == "Indicator").then(|| IndicatorRef {
            id: ID(self.0.subject_id.to_string()),
        })
    }

    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// The relevant values before the change (e.g. `{"status": "PLANNED"}`), as JSON text.
    async fn before(&self) -> Option<String> {
        self.0.before.as_ref().map(Value::to_string)
    }

    /// The relevant values after the change, as JSON text.
    async fn after(&self) -> Option<String> {
        self.0.after.as_ref().map(Value::to_string)
    }

    /// The plan of the subject (the subject itself for `PLAN_IMPORTED`), resolved by the plans
    /// subgraph.
    async fn plan(&self) -> Option<PlanRef> {
        self.context_text("plan").map(|s| PlanRef { id: ID(s.to_string()) })
    }

    /// Plan id of the subject, when it has one.
    async fn plan_id(&self) -> Option<ID> {
        self.context_text("plan").map(|s| ID(s.to_string()))
    }

    /// Territory id of the subject, when it has one.
    async fn territory_id(&self) -> Option<ID> {
        self.context_text("territory").map(|s| ID(s.to_string()))
    }

    /// Plan level of the subject, when it has one.
    async fn level(&self) -> Option<&str> {
        self.context_text("level")
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    MeasureStatusChanged,
    LinkConfirmed,
    LinkChanged,
    TargetSet,
    ObservationRecorded,
    PlanApproved,
    /// A measure's deadline passed unfinished (once per missed due day).
    DeadlineMissed,
    /// An occurrence of a measure was reported held or not held.
    OccurrenceReported,
    /// A plan was imported: a new plan or a new version.
    PlanImported,
}

roadmap_common::db_enum!(EventKind {
    MeasureStatusChanged => "MEASURE_STATUS_CHANGED",
    LinkConfirmed => "LINK_CONFIRMED",
    LinkChanged => "LINK_CHANGED",
    TargetSet => "TARGET_SET",
    ObservationRecorded => "OBSERVATION_RECORDED",
    PlanApproved => "PLAN_APPROVED",
    DeadlineMissed => "DEADLINE_MISSED",
    OccurrenceReported => "OCCURRENCE_REPORTED",
    PlanImported => "PLAN_IMPORTED",
});

/// Which events to receive; all given conditions must hold.
#[derive(InputObject, Default, Clone, Debug)]
pub struct EventFilter {
    /// Territory of the subject (the plan's territory for measures).
    pub territory: Option<ID>,
    /// Plan of the subject.
    pub plan: Option<ID>,
    /// Plan level: FEDERAL, REGIONAL, MUNICIPAL, SCHOOL or CLASSROOM.
    pub level: Option<String>,
    pub kinds: Option<Vec<EventKind>>,
    /// The subject is this measure or implements it (confirmed links, transitively).
    pub under_measure: Option<ID>,
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn every_kind_the_producers_write_is_listed_and_round_trips() {
        assert_eq!(EventKind::ALL.len(), 9);
        assert_eq!(EventKind::ALL.map(EventKind::as_db), roadmap_common::outbox::kind::ALL);
        for kind in EventKind::ALL {
            assert_eq!(EventKind::from_db(kind.as_db()), Some(kind));
        }
        assert_eq!(EventKind::from_db("AUDIT"), None);
    }
}
