//! Occurrences of measures and reports on them.
//!
//! A measure's structured schedule is expanded into dated occurrences by the pure
//! `roadmap_import::occurrence::expand` (rules there: weekly on the Monday of each week, monthly
//! on the first working day, "каждая третья неделя" on the third Monday, ...), with the plan
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

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::{ServiceError, ServiceResult};
use roadmap_import::occurrence::{self, Expansion};
use roadmap_import::{DateRange, Schedule};

use crate::graphql::{Measure, parse_id};
use crate::loaders::Loaders;
use crate::store::{self, MeasureRow, PlanRow, ReportRow};

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

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum OccurrenceKind {
    /// One repetition of a recurrence ("еженедельно").
    Recurring,
    /// An exact date.
    Date,
    /// A deadline ("до 15.09.2023").
    Deadline,
    /// A window of several days ("октябрь – декабрь 2023 г."), from `date` to `endDate`.
    Window,
    /// A start ("с февраля 2024").
    Start,
}

impl From<occurrence::OccurrenceKind> for OccurrenceKind {
    fn from(k: occurrence::OccurrenceKind) -> Self {
        match k {
            occurrence::OccurrenceKind::Recurring => Self::Recurring,
            occurrence::OccurrenceKind::Date => Self::Date,
            occurrence::OccurrenceKind::Deadline => Self::Deadline,
            occurrence::OccurrenceKind::Window => Self::Window,
            occurrence::OccurrenceKind::Start => Self::Start,
        }
    }
}

/// Why part of a schedule has no dated occurrences.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum UndatedReason {
    /// Ongoing work ("постоянно", "в течение года"), not dated events.
    Continuous,
    /// Dates set by another document ("по плану курсовой подготовки").
    External,
    /// Months named without a year that the plan period cannot decide.
    NoYear,
    /// A recurrence with neither a range of its own nor a plan period.
    NoPeriod,
    /// Text the parser did not understand.
    Unparsed,
    /// The measure was entered by hand: its schedule is text only.
    NotStructured,
}

impl From<occurrence::UndatedReason> for UndatedReason {
    fn from(r: occurrence::UndatedReason) -> Self {
        match r {
            occurrence::UndatedReason::Continuous => Self::Continuous,
            occurrence::UndatedReason::External => Self::External,
            occurrence::UndatedReason::NoYear => Self::NoYear,
            occurrence::UndatedReason::NoPeriod => Self::NoPeriod,
            occurrence::UndatedReason::Unparsed => Self::Unparsed,
        }
    }
}

/// Part of a schedule that yields no dated occurrence.
#[derive(SimpleObject)]
pub struct UndatedScheduleItem {
    pub reason: UndatedReason,
    /// The reference or text concerned ("По плану курсовой подготовки"), when there is one.
    pub detail: Option<String>,
}

/// A report on an occurrence: one revision.
#[derive(SimpleObject)]
pub struct OccurrenceReport {
    /// 1 for the first report on the occurrence, then 2, 3, ...
    pub revision: i32,
    pub held: bool,
    /// How many took part (a count; no personal data is kept).
    pub participants: Option<i32>,
    /// Links to evidence (minutes, photos, published reports).
    pub evidence: Vec<String>,
    pub note: Option<String>,
    pub reported_by: String,
    pub reported_at: DateTime<Utc>,
}

impl From<&ReportRow> for OccurrenceReport {
    fn from(r: &ReportRow) -> Self {
        Self {
            revision: r.revision,
            held: r.held,
            participants: r.participants,
            evidence: r.evidence.clone(),
            note: r.note.clone(),
            reported_by: r.reported_by.clone(),
            reported_at: r.reported_at,
        }
    }
}

/// One dated occurrence of a measure; identified by the measure and `date`.
pub struct Occurrence {
    pub measure_id: Uuid,
    pub occurrence: occurrence::Occurrence,
}

impl Occurrence {
    async fn revisions(&self, ctx: &Context<'_>) -> Result<Vec<ReportRow>> {
        let rows = ctx
            .data::<Loaders>()?
            .reports_by_measure
            .load_one(self.measure_id)
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .filter(|r| r.occurs_on == self.occurrence.date)
            .collect())
    }
}

#[Object]
impl Occurrence {
    /// The day it happens (the first day, for a window).
    async fn date(&self) -> NaiveDate {
        self.occurrence.date
    }

    /// The last day, for a window of several days.
    async fn end_date(&self) -> Option<NaiveDate> {
        self.occurrence.end
    }

    async fn kind(&self) -> OccurrenceKind {
        self.occurrence.kind.into()
    }

    async fn measure(&self, ctx: &Context<'_>) -> Result<Option<Measure>> {
        Ok(ctx
            .data::<Loaders>()?
            .measure_by_id
            .load_one(self.measure_id)
            .await?
            .map(Measure))
    }

    /// The current report (latest revision), if anyone reported.
    async fn report(&self, ctx: &Context<'_>) -> Result<Option<OccurrenceReport>> {
        Ok(self.revisions(ctx).await?.last().map(OccurrenceReport::from))
    }

    /// Every report on this occurrence, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<OccurrenceReport>> {
        Ok(self.revisions(ctx).await?.iter().map(OccurrenceReport::from).collect())
    }
}

async fn plan_of(ctx: &Context<'_>, measure: &MeasureRow) -> Result<Option<PlanRow>> {
    Ok(ctx.data::<Loaders>()?.plan_by_id.load_one(measure.plan_id).await?)
}

/// `Measure.occurrences(from, to)`.
pub async fn of_measure(
    ctx: &Context<'_>,
    measure: &MeasureRow,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<Occurrence>> {
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        return Err(ServiceError::invalid("to", format!("{t} is before from {f}")).into());
    }
    let plan = plan_of(ctx, measure).await?;
    let Some(expansion) = expansion(measure, plan.as_ref()) else {
        return Ok(Vec::new());
    };
    Ok(expansion
        .between(from, to)
        .map(|o| Occurrence {
            measure_id: measure.id,
            occurrence: *o,
        })
        .collect())
}

/// `Measure.undatedSchedule`.
pub async fn undated(ctx: &Context<'_>, measure: &MeasureRow) -> Result<Vec<UndatedScheduleItem>> {
    let plan = plan_of(ctx, measure).await?;
    Ok(match expansion(measure, plan.as_ref()) {
        Some(e) => e
            .undated
            .into_iter()
            .map(|u| UndatedScheduleItem {
                reason: u.reason.into(),
                detail: u.detail,
            })
            .collect(),
        None => vec![UndatedScheduleItem {
            reason: UndatedReason::NotStructured,
            detail: measure.schedule_text.clone(),
        }],
    })
}

/// A report as given, checked field by field before anything is read or written.
struct ReportInput {
    held: bool,
    participants: Option<i32>,
    evidence: Vec<String>,
    note: Option<String>,
}

fn check_report(
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
fn not_an_occurrence(measure: &MeasureRow, date: NaiveDate, expansion: Option<&Expansion>) -> ServiceError {
    let name = format!("measure {}", measure.label());
    let Some(e) = expansion.filter(|e| !e.occurrences.is_empty()) else {
        let why = match expansion.map(|e| e.undated.as_slice()) {
            None => "its schedule was entered as text only".to_string(),
            Some([]) => "it has no schedule".to_string(),
            Some(undated) => {
                let reasons: Vec<&str> = undated
                    .iter()
                    .map(|u| match u.reason {
                        occurrence::UndatedReason::Continuous => "continuous work",
                        occurrence::UndatedReason::External => "dates set by another document",
                        occurrence::UndatedReason::NoYear => "months without a year",
                        occurrence::UndatedReason::NoPeriod => "a recurrence without a period",
                        occurrence::UndatedReason::Unparsed => "text not understood",
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

#[derive(Default)]
pub struct OccurrenceMutation;

#[Object]
impl OccurrenceMutation {
    /// Reports whether an occurrence of a measure was held, with the participant count, evidence
    /// links and a note. Reporting again on the same date adds a revision; the previous report
    /// stays in `Occurrence.history` and in the `OCCURRENCE_REPORTED` event.
    #[allow(clippy::too_many_arguments)]
    async fn report_occurrence(
        &self,
        ctx: &Context<'_>,
        measure: async_graphql::ID,
        date: NaiveDate,
        held: bool,
        participants: Option<i32>,
        evidence: Option<Vec<String>>,
        note: Option<String>,
    ) -> Result<Occurrence> {
        let measure_id = parse_id("measure", &measure)?;
        let input = check_report(held, participants, evidence, note)?;
        let pool = ctx.data::<PgPool>()?;
        let row = store::measures_by_ids(pool, &[measure_id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::not_found("Measure", measure_id))?;
        let plan = store::plans_by_ids(pool, &[row.plan_id]).await?.into_iter().next();
        let plans: Vec<&store::PlanRow> = plan.iter().collect();
        crate::access::require_plans(ctx, &crate::access::EDIT, "reporting an occurrence", &plans).await?;
        let expansion = expansion(&row, plan.as_ref());
        let Some(found) = expansion.as_ref().and_then(|e| e.on(date)).copied() else {
            return Err(not_an_occurrence(&row, date, expansion.as_ref()).into());
        };
        let mut tx = pool.begin().await.map_err(ServiceError::from)?;
        let previous = store::lock_measure_report(&mut tx, measure_id, date)
            .await?
            .ok_or_else(|| ServiceError::not_found("Measure", measure_id))?;
        let report = store::insert_report(
            &mut tx,
            &ReportRow {
                measure_id,
                occurs_on: date,
                revision: previous.as_ref().map(|p| p.revision + 1).unwrap_or(1),
                held: input.held,
                participants: input.participants,
                evidence: input.evidence,
                note: input.note,
                reported_by: crate::cascade::actor(ctx),
                reported_at: Utc::now(),
            },
        )
        .await?;
        crate::events::occurrence_reported(&mut tx, previous.as_ref(), &report).await?;
        roadmap_common::audit::record(
            &mut tx,
            crate::NAME,
            roadmap_common::auth::actor(ctx),
            "reportOccurrence",
            ("Measure", measure_id),
            previous
                .as_ref()
                .map(|p| serde_json::json!({ "date": p.occurs_on, "revision": p.revision, "held": p.held })),
            Some(serde_json::json!({
                "date": report.occurs_on, "revision": report.revision, "held": report.held,
                "participants": report.participants, "evidence": report.evidence,
            })),
        )
        .await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(Occurrence {
            measure_id,
            occurrence: found,
        })
    }
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
