//! Which events a subscriber or a webhook receives: an [`EventFilter`] checked once into a
//! [`Filter`], which the log's SQL ([`crate::store::read_log`]) and live events
//! ([`Filter::matches`]) apply alike, so a replay and the live tail agree. Webhooks store it as
//! JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use roadmap_common::ServiceError;
use roadmap_common::error::parse_id;

use crate::graphql::{EventFilter, ID};
use crate::store::EventRow;

/// Plan levels a filter may name.
const LEVELS: [&str; 5] = ["FEDERAL", "REGIONAL", "MUNICIPAL", "SCHOOL", "CLASSROOM"];

/// A validated [`EventFilter`]; webhooks store it as JSON in the same shape (`underMeasure`,
/// kinds by name, absent conditions left out).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Filter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) territory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kinds: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) under_measure: Option<String>,
}

/// An optional id argument as the UUID text the log's `context` holds.
fn uuid_text(field: &str, id: &Option<ID>) -> Result<Option<String>, ServiceError> {
    id.as_ref()
        .map(|id| parse_id(field, id).map(|u| u.to_string()))
        .transpose()
}

impl Filter {
    pub fn parse(filter: Option<EventFilter>) -> Result<Filter, ServiceError> {
        Self::parse_at("filter", filter)
    }

    /// Validates `filter`, naming fields under `path` in errors (`input.filter.level`).
    pub fn parse_at(path: &str, filter: Option<EventFilter>) -> Result<Filter, ServiceError> {
        let Some(f) = filter else {
            return Ok(Filter::default());
        };
        let level = match f.level {
            Some(l) if LEVELS.contains(&l.as_str()) => Some(l),
            Some(l) => {
                return Err(ServiceError::invalid(
                    format!("{path}.level"),
                    format!("`{l}` is not one of {}", LEVELS.join(", ")),
                ));
            }
            None => None,
        };
        Ok(Filter {
            territory: uuid_text(&format!("{path}.territory"), &f.territory)?,
            plan: uuid_text(&format!("{path}.plan"), &f.plan)?,
            level,
            kinds: f.kinds.map(|k| k.into_iter().map(|k| k.as_db().to_string()).collect()),
            under_measure: uuid_text(&format!("{path}.underMeasure"), &f.under_measure)?,
        })
    }

    /// The territory the filter names, if any.
    pub fn territory(&self) -> Option<uuid::Uuid> {
        self.territory.as_deref().and_then(|t| uuid::Uuid::parse_str(t).ok())
    }

    /// The same conditions as the SQL of [`crate::store::read_log`], for live events.
    pub fn matches(&self, e: &EventRow) -> bool {
        let ctx = |key: &str| e.context.get(key).and_then(Value::as_str);
        let eq = |want: &Option<String>, key: &str| want.as_deref().is_none_or(|w| ctx(key) == Some(w));
        eq(&self.territory, "territory")
            && eq(&self.plan, "plan")
            && eq(&self.level, "level")
            && self.kinds.as_ref().is_none_or(|k| k.contains(&e.kind))
            && self.under_measure.as_deref().is_none_or(|m| {
                e.subject_id.to_string() == m
                    || e.context
                        .get("ancestors")
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(m)))
            })
    }
}

#[cfg(test)]
mod tests {
    use roadmap_common::outbox::OutboxEvent;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::graphql::EventKind;

    fn row(kind: &str, subject: Uuid, context: Value) -> EventRow {
        EventRow {
            event: OutboxEvent {
                context,
                ..OutboxEvent::new(kind, "Measure", subject)
            },
            cursor: 1,
            territories: None,
            draft: false,
        }
    }

    #[test]
    fn live_filter_matches_like_the_log_query() {
        let (plan, territory, parent, subject) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let ctx = json!({ "plan": plan, "territory": territory, "level": "MUNICIPAL", "ancestors": [parent] });
        let e = row("MEASURE_STATUS_CHANGED", subject, ctx);
        let parse = |f: EventFilter| Filter::parse(Some(f)).expect("valid filter");
        assert!(Filter::default().matches(&e));
        assert!(
            parse(EventFilter {
                plan: Some(ID(plan.to_string())),
                territory: Some(ID(territory.to_string())),
                level: Some("MUNICIPAL".into()),
                kinds: Some(vec![EventKind::MeasureStatusChanged]),
                under_measure: Some(ID(parent.to_string())),
            })
            .matches(&e)
        );
        assert!(
            parse(EventFilter {
                under_measure: Some(ID(subject.to_string())),
                ..Default::default()
            })
            .matches(&e)
        );
        assert!(
            !parse(EventFilter {
                kinds: Some(vec![EventKind::TargetSet]),
                ..Default::default()
            })
            .matches(&e)
        );
        assert!(
            !parse(EventFilter {
                level: Some("SCHOOL".into()),
                ..Default::default()
            })
            .matches(&e)
        );
        assert!(
            !parse(EventFilter {
                under_measure: Some(ID(Uuid::new_v4().to_string())),
                ..Default::default()
            })
            .matches(&e)
        );
    }

    #[test]
    fn stored_filters_keep_the_shape_of_event_filter() {
        let plan = Uuid::new_v4();
        let filter = Filter::parse(Some(EventFilter {
            plan: Some(ID(plan.to_string())),
            kinds: Some(vec![EventKind::TargetSet]),
            under_measure: Some(ID(plan.to_string())),
            ..Default::default()
        }))
        .expect("valid filter");
        let stored = serde_json::to_value(&filter).expect("serialises");
        assert_eq!(
            stored,
            json!({ "plan": plan.to_string(), "kinds": ["TARGET_SET"], "underMeasure": plan.to_string() })
        );
        assert_eq!(serde_json::from_value::<Filter>(stored).expect("reads back"), filter);
        assert_eq!(serde_json::to_value(Filter::default()).expect("serialises"), json!({}));
        assert!(serde_json::from_value::<Filter>(json!({ "planet": "x" })).is_err());
    }

    #[test]
    fn bad_filters_name_the_field() {
        let err = Filter::parse(Some(EventFilter {
            plan: Some(ID("nope".into())),
            ..Default::default()
        }))
        .unwrap_err();
        let err = async_graphql::Error::from(err).message;
        assert!(err.contains("filter.plan"), "{err}");
        let err = Filter::parse(Some(EventFilter {
            level: Some("GALACTIC".into()),
            ..Default::default()
        }))
        .unwrap_err();
        let err = async_graphql::Error::from(err).message;
        assert!(err.contains("filter.level"), "{err}");
        assert!(
            err.ends_with("`GALACTIC` is not one of FEDERAL, REGIONAL, MUNICIPAL, SCHOOL, CLASSROOM"),
            "{err}"
        );
    }
}
