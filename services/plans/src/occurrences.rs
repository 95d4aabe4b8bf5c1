//! Occurrences of measures and reports on them.
//!
//! A measure's structured schedule is expanded into dated occurrences by the pure
//! `roadmap_import::occurrence::expand` (rules there: weekly and monthly on the first working day
//! of the week or month by the production calendar, "каждая третья неделя" on the third Monday,
//! ...), with the plan
//! period as the range of recurrences that name none. Continuous work, dates set by another
//! document and undecidable months yield none: `Measure.undatedSchedule` says which and why, so
//! an empty `Measure.occurrences` is never ambiguous. Measures entered by hand carry no
//! structured schedule (`NOT_STRUCTURED`).
//!
//! **Where.** The plans subgraph serves the expansion, stores the reports and serves the
//! calendar feed (`calendar`): the schedule, the plan period and the responsible organisations
//! are its data, so checking that a reported date is an occurrence needs no call to another
//! service. Every report is also an `OCCURRENCE_REPORTED` event in the events log (with the
//! report it replaces as `before`), which is where the history of changes travels.
//!
//! **Reports** (`reportOccurrence`): held or not, a participant count (counts only: no personal
//! data of students), http(s) evidence links and a note. A report on a date that is not an
//! occurrence, a negative count, participants on an occurrence not held and malformed links are
//! refused with the field named. Reporting again on the same (measure, date) adds a revision:
//! `Occurrence.report` is the latest, `Occurrence.history` all of them. Reports are kept when a
//! re-import changes the schedule (and deleted with their measure when a re-import removes it;
//! the event log keeps them).

use chrono::NaiveDate;

use roadmap_common::{ServiceError, ServiceResult};
use roadmap_import::occurrence::{self, Expansion};
use roadmap_import::{DateRange, Schedule};

use crate::store::{MeasureRow, PlanRow};

/// At most this many evidence links per report.
pub const MAX_EVIDENCE: usize = 20;
const MAX_URL: usize = 2048;
const MAX_NOTE: usize = 4000;

/// The expansion of a measure's schedule within its plan's period; `None` when the measure has
/// no structured schedule (entered by hand).
pub fn expansion(measure: &MeasureRow, plan: Option<&PlanRow>) -> Option<Expansion> {
    let schedule: Schedule = serde_json::from_value(measure.schedule.clone()?).ok()?;
    let period = plan.and_then(|p| match (p.period_start, p.period_end) {
        (Some(start), Some(end)) => Some(DateRange { start, end }),
        _ => None,
    });
    Some(occurrence::expand(&schedule, period))
}

/// A report as given, checked field by field before anything is read or written.
pub struct ReportInput {
    pub held: bool,
    pub participants: Option<i32>,
    pub evidence: Vec<String>,
    pub note: Option<String>,
}

pub fn check_report(
    held: bool,
    participants: Option<i32>,
    evidence: Option<Vec<String>>,
    note: Option<String>,
) -> ServiceResult<ReportInput> {
    if let Some(p) = participants {
        if p < 0 {
            return Err(ServiceError::invalid("participants", format!("{p} is negative")));
        }
        if !held && p > 0 {
            return Err(ServiceError::invalid(
                "participants",
                "an occurrence that was not held has no participants",
            ));
        }
    }
    let evidence = evidence.unwrap_or_default();
    if evidence.len() > MAX_EVIDENCE {
        return Err(ServiceError::invalid(
            "evidence",
            format!("at most {MAX_EVIDENCE} links, got {}", evidence.len()),
        ));
    }
    let mut links = Vec::with_capacity(evidence.len());
    for (i, link) in evidence.iter().enumerate() {
        let field = format!("evidence[{i}]");
        let link = link.trim();
        if link.len() > MAX_URL {
            return Err(ServiceError::invalid(
                field,
                format!("longer than {MAX_URL} characters"),
            ));
        }
        let url = reqwest::Url::parse(link)
            .map_err(|e| ServiceError::invalid(&field, format!("`{link}` is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(ServiceError::invalid(field, format!("`{link}` is not an http(s) link")));
        }
        links.push(url.to_string());
    }
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if let Some(n) = &note
        && n.chars().count() > MAX_NOTE
    {
        return Err(ServiceError::invalid(
            "note",
            format!("longer than {MAX_NOTE} characters"),
        ));
    }
    Ok(ReportInput {
        held,
        participants,
        evidence: links,
        note,
    })
}

/// Why `date` is refused, naming the nearest occurrences or why there are none.
pub fn not_an_occurrence(measure: &MeasureRow, date: NaiveDate, expansion: Option<&Expansion>) -> ServiceError {
    let name = format!("measure {}", measure.label());
    let Some(e) = expansion.filter(|e| !e.occurrences.is_empty()) else {
        let why = match expansion.map(|e| e.undated.as_slice()) {
            None => "its schedule was entered as text only".to_string(),
            Some([]) => "it has no schedule".to_string(),
            Some(undated) => {
                let reasons: Vec<&str> = undated
                    .iter()
                    .map(|u| match u.cause {
                        occurrence::UndatedCause::Continuous => "continuous work",
                        occurrence::UndatedCause::External => "dates set by another document",
                        occurrence::UndatedCause::RelativeToEvent => "relative to an undated event",
                        occurrence::UndatedCause::OnDemand => "on demand",
                        occurrence::UndatedCause::SchoolCalendar => "set by the school's calendar",
                        occurrence::UndatedCause::NoYear => "months without a year",
                        occurrence::UndatedCause::NoPeriod => "a recurrence without a period",
                        occurrence::UndatedCause::Unparsed => "text not understood",
                        occurrence::UndatedCause::NotStructured => "text only",
                    })
                    .collect();
                format!("its schedule is {}", reasons.join(", "))
            }
        };
        return ServiceError::invalid("date", format!("{name} has no dated occurrences: {why}"));
    };
    let before = e.occurrences.iter().rev().find(|o| o.date < date).map(|o| o.date);
    let after = e.occurrences.iter().find(|o| o.date > date).map(|o| o.date);
    let nearest: Vec<String> = [before, after].into_iter().flatten().map(|d| d.to_string()).collect();
    ServiceError::invalid(
        "date",
        format!(
            "{date} is not an occurrence of {name} (nearest: {}; see Measure.occurrences)",
            nearest.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: ServiceError) -> String {
        e.message()
    }

    #[test]
    fn reports_are_checked_field_by_field() {
        let err = check_report(true, Some(-1), None, None).err().map(message);
        assert_eq!(err.as_deref(), Some("participants: -1 is negative"));
        let err = check_report(false, Some(3), None, None).err().map(message);
        assert!(err.is_some_and(|e| e.starts_with("participants: ")));
        let err = check_report(
            true,
            Some(12),
            Some(vec!["https://school.example/report.pdf".into(), "not a link".into()]),
            None,
        )
        .err()
        .map(message);
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("evidence[1]: `not a link` is not a URL")),
            "{err:?}"
        );
        let err = check_report(true, None, Some(vec!["ftp://files.example/x".into()]), None)
            .err()
            .map(message);
        assert_eq!(
            err.as_deref(),
            Some("evidence[0]: `ftp://files.example/x` is not an http(s) link")
        );
        let ok = check_report(
            true,
            Some(0),
            Some(vec![" https://school.example/a ".into()]),
            Some("  ".into()),
        )
        .expect("valid");
        assert_eq!(ok.evidence, vec!["https://school.example/a".to_string()]);
        assert_eq!(ok.note, None);
        assert!(check_report(false, Some(0), None, Some("отменено: карантин".into())).is_ok());
    }
}
