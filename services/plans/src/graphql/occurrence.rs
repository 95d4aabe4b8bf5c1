//! `Occurrence` and its report: a measure's schedule as dated occurrences (rules in
//! `crate::occurrences`), with `OccurrenceKind`, `UndatedReason`, `UndatedScheduleItem`,
//! `OccurrenceReport`.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use roadmap_common::ServiceError;
use roadmap_import::occurrence;

use crate::graphql::Measure;
use crate::loaders::Loaders;
use crate::occurrences::expansion;
use crate::store::{MeasureRow, PlanRow, ReportRow};

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "occurrence::OccurrenceKind")]
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

/// Why part of a schedule has no dated occurrences.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum UndatedReason {
    /// Ongoing work ("постоянно", "в течение года"), not dated events.
    Continuous,
    /// Dates set by another document or body ("по плану курсовой подготовки", "по графику ФЦТ").
    External,
    /// A deadline relative to an event the plan does not date ("не позднее 10 дней после
    /// получения результатов ЕГЭ", "после утверждения плана").
    RelativeToEvent,
    /// "по мере необходимости", "по запросу".
    OnDemand,
    /// A school term or holidays ("в период осенних каникул", "3 четверть"): the school's
    /// calendar sets the dates.
    SchoolCalendar,
    /// Months named without a year that the plan period cannot decide.
    NoYear,
    /// A recurrence with neither a range of its own nor a plan period.
    NoPeriod,
    /// Text the parser did not understand.
    Unparsed,
    /// The measure was entered by hand: its schedule is text only.
    NotStructured,
}

impl From<occurrence::UndatedCause> for UndatedReason {
    fn from(cause: occurrence::UndatedCause) -> Self {
        use occurrence::UndatedCause as C;
        match cause {
            C::Continuous => Self::Continuous,
            C::External => Self::External,
            C::RelativeToEvent => Self::RelativeToEvent,
            C::OnDemand => Self::OnDemand,
            C::SchoolCalendar => Self::SchoolCalendar,
            C::NoYear => Self::NoYear,
            C::NoPeriod => Self::NoPeriod,
            C::Unparsed => Self::Unparsed,
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
                reason: u.cause.into(),
                detail: u.detail,
            })
            .collect(),
        None => vec![UndatedScheduleItem {
            reason: UndatedReason::NotStructured,
            detail: measure.schedule_text.clone(),
        }],
    })
}
