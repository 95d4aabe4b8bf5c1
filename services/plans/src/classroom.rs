//! Class plans (`CLASSROOM`): a class's or teacher's plan ("План работы с обучающимися группы
//! риска 9А по математике на 2024/25"), the fifth level under the school's.
//!
//! Rules:
//! - A class plan is owned by a class or a staff role of a school (people's `CLASS` /
//!   `STAFF_ROLE` units); it lies in its owner's territory (given or not; another territory is
//!   refused). It is created with `createPlan`, never imported.
//! - Its measures implement the school's measures through the usual links (`linkMeasures`;
//!   CLASSROOM ranks below SCHOOL), and its schedules are parsed as an imported plan's are, so
//!   its occurrences (lessons, consultations) are dated and reported with participant counts.
//! - Its free text (title, period, sections, measure texts) and the notes of its occurrence
//!   reports must not name people: text that looks like a personal name
//!   (`roadmap_common::personal_data`) is refused with the field it is in. Evidence links are
//!   not read.

use chrono::NaiveDate;
use roadmap_common::personal_data::refuse_personal_names;
use roadmap_common::{ServiceError, ServiceResult};
use roadmap_import::{Period, PeriodKind};

use crate::graphql::{CreatePlanInput, MeasureInput, PlanLevel};
use crate::store::{MeasureRow, PlanRow};

/// Owner kinds of a class plan.
pub const OWNER_KINDS: [&str; 2] = ["CLASS", "STAFF_ROLE"];

/// Refuses `text` of `field` when it looks like a personal name.
pub fn refuse_names(field: &str, text: Option<&str>) -> ServiceResult<()> {
    match text {
        Some(t) => refuse_personal_names(t).map_err(|m| ServiceError::invalid(field, m)),
        None => Ok(()),
    }
}

/// Every free text of a class plan's input, checked for personal names; errors name the input
/// path (`input.sections[0].measures[1].title`).
pub fn check_texts(input: &CreatePlanInput) -> ServiceResult<()> {
    refuse_names("input.title", Some(&input.title))?;
    refuse_names("input.periodText", input.period_text.as_deref())?;
    for (si, section) in input.sections.iter().enumerate() {
        refuse_names(&format!("input.sections[{si}].title"), Some(&section.title))?;
        for (mi, measure) in section.measures.iter().enumerate() {
            check_measure(&format!("input.sections[{si}].measures[{mi}]"), measure)?;
        }
    }
    Ok(())
}

fn check_measure(path: &str, m: &MeasureInput) -> ServiceResult<()> {
    refuse_names(&format!("{path}.title"), Some(&m.title))?;
    refuse_names(&format!("{path}.scheduleText"), m.schedule_text.as_deref())?;
    refuse_names(&format!("{path}.expectedResult"), m.expected_result.as_deref())?;
    refuse_names(&format!("{path}.responsibleText"), m.responsible_text.as_deref())?;
    for (ci, child) in m.children.iter().enumerate() {
        check_measure(&format!("{path}.children[{ci}]"), child)?;
    }
    Ok(())
}

/// Whether a plan is a class plan.
pub fn is_classroom(plan: &PlanRow) -> bool {
    plan.level == PlanLevel::Classroom.as_db()
}

/// Parses each measure's schedule text as the importer does (within the plan's period when it
/// has one), so a class plan entered by hand has dated occurrences.
pub fn parse_schedules(plan: &PlanRow, measures: &mut [MeasureRow]) {
    let period = match (plan.period_start, plan.period_end) {
        (Some(start), Some(end)) => Some(Period {
            start,
            end,
            kind: period_kind(start, end),
            raw: plan.period_text.clone().unwrap_or_default(),
            line: 0,
            inferred: false,
        }),
        _ => None,
    };
    for m in measures.iter_mut() {
        let Some(raw) = m.schedule_text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
            continue;
        };
        let schedule = roadmap_import::parse_schedule(raw, period.as_ref());
        let (starts_on, due_on) = crate::import::schedule_bounds(&schedule);
        m.schedule_kind = Some(crate::import::enum_text(&schedule.kind));
        m.schedule = serde_json::to_value(&schedule).ok();
        m.starts_on = starts_on;
        m.due_on = due_on;
    }
}

fn period_kind(start: NaiveDate, end: NaiveDate) -> PeriodKind {
    use chrono::Datelike;
    if start.month() == 1 && start.day() == 1 && end.month() == 12 {
        PeriodKind::CalendarYears
    } else {
        PeriodKind::SchoolYears
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::{PlanState, SectionInput};

    fn input(title: &str, measure: &str) -> CreatePlanInput {
        CreatePlanInput {
            title: title.into(),
            level: PlanLevel::Classroom,
            period_start: None,
            period_end: None,
            period_text: None,
            owner: None,
            territory: None,
            state: PlanState::Draft,
            sections: vec![SectionInput {
                number: "1".into(),
                title: "Работа с группой риска".into(),
                measures: vec![MeasureInput {
                    number: "1.1".into(),
                    title: measure.into(),
                    schedule_text: Some("еженедельно".into()),
                    expected_result: None,
                    responsible_text: Some("учитель математики".into()),
                    responsible: vec![],
                    children: vec![],
                }],
            }],
        }
    }

    #[test]
    fn names_in_a_class_plan_are_refused_where_they_are() {
        assert!(
            check_texts(&input(
                "План работы с обучающимися группы риска 9А по математике на 2024/25",
                "Консультации"
            ))
            .is_ok()
        );
        let err = check_texts(&input("План 9А", "Консультации для Смирнова П.С.")).unwrap_err();
        match err {
            ServiceError::Invalid { field, message } => {
                assert_eq!(field, "input.sections[0].measures[0].title");
                assert!(message.contains("Смирнова П.С."), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
