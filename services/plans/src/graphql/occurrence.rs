//! `Occurrence` and its report: a measure's schedule as dated occurrences (rules in
//! `crate::occurrences`), with `OccurrenceKind`, `UndatedReason`, `UndatedScheduleItem`,
//! `OccurrenceReport`.

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::NaiveDate;
use uuid::Uuid;

use roadmap_common::ServiceError;
use roadmap_import::occurrence;

use crate::graphql::Measure;
use crate::loaders::Loaders;
use crate::occurrences::expansion;
use crate::store::{MeasureRow, PlanRow, ReportRow};

/// The GraphQL enums are the parser's own (`roadmap-import`'s `graphql` feature): one definition.
pub use occurrence::{OccurrenceKind, UndatedCause as UndatedReason};

/// Part of a schedule that yields no dated occurrence.
#[derive(SimpleObject)]
pub struct UndatedScheduleItem {
    pub reason: UndatedReason,
    /// The reference or text concerned ("По плану курсовой подготовки"), when there is one.
    pub detail: Option<String>,
}

/// A report on an occurrence: one revision (the stored row, its key left out).
pub type OccurrenceReport = ReportRow;

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
        self.occurrence.kind
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
        Ok(self.revisions(ctx).await?.last().cloned())
    }

    /// Every report on this occurrence, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<OccurrenceReport>> {
        self.revisions(ctx).await
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
    let mut dated: Vec<occurrence::Occurrence> = expansion.between(from, to).copied().collect();
    // A day reported on stays an occurrence, even when the schedule's dates have moved since (a
    // re-import, the production calendar's working days): its reports are never hidden.
    let reports = ctx
        .data::<Loaders>()?
        .reports_by_measure
        .load_one(measure.id)
        .await?
        .unwrap_or_default();
    for r in reports {
        let in_range = from.is_none_or(|f| r.occurs_on >= f) && to.is_none_or(|t| r.occurs_on <= t);
        if in_range && !dated.iter().any(|o| o.date == r.occurs_on) {
            dated.push(occurrence::Occurrence {
                date: r.occurs_on,
                end: None,
                kind: occurrence::OccurrenceKind::Recurring,
            });
        }
    }
    dated.sort_by_key(|o| o.date);
    Ok(dated
        .into_iter()
        .map(|occurrence| Occurrence {
            measure_id: measure.id,
            occurrence,
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
                reason: u.cause,
                detail: u.detail,
            })
            .collect(),
        None => vec![UndatedScheduleItem {
            reason: UndatedReason::NotStructured,
            detail: measure.schedule_text.clone(),
        }],
    })
}
