//! `IndicatorTarget` (baselines and targets), `TargetKind` and the inputs that set them:
//! `SetTargetInput` (one, by hand) and `PlanTargetInput` (a plan's, from the importer).

use std::collections::{HashMap, HashSet};

use async_graphql::{Enum, ID, InputObject, Object};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::{ServiceError, ServiceResult};

use super::{Measure, Placed, Plan, ValueOf, ValueOfInput, opt_id};
use crate::seed;
use crate::store::{self, NewIndicator, NewTarget, TargetRow};
use crate::values::{check_period, check_value, comparator, opt_subject, parse_decimal, subject_key, value_texts};

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum TargetKind {
    /// The value the plan starts from.
    Baseline,
    /// The value the plan aims at.
    Target,
}

roadmap_common::db_enum!(TargetKind {
    Baseline => "BASELINE",
    Target => "TARGET",
});

/// A baseline or target set by a plan (or by hand) for a territory or organisation, period and
/// subject.
pub struct Target(pub TargetRow);

impl Target {
    /// Read back after a write, in the order of `ids`.
    pub(super) async fn by_ids(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<Target>> {
        let stored = store::targets_by_ids(pool, ids).await?;
        let mut by_id: HashMap<Uuid, TargetRow> = stored.into_iter().map(|t| (t.id, t)).collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).map(Target).collect())
    }

    pub(super) async fn by_id(pool: &PgPool, id: Uuid) -> ServiceResult<Target> {
        let row = Self::by_ids(pool, &[id]).await?.into_iter().next();
        row.ok_or_else(|| ServiceError::not_found("IndicatorTarget", id))
    }
}

#[Object(name = "IndicatorTarget")]
impl Target {
    #[graphql(flatten)]
    async fn placed(&self) -> Placed<Target> {
        Placed::new(self.0.id, &self.0.of)
    }

    /// The year the value is for.
    async fn period(&self) -> i32 {
        self.0.period
    }

    /// Subject key (`chemistry`), when the indicator is broken down by subject.
    async fn subject(&self) -> Option<&str> {
        opt_subject(&self.0.subject)
    }

    async fn kind(&self) -> TargetKind {
        TargetKind::from_db(&self.0.kind).unwrap_or(TargetKind::Target)
    }

    /// EQ, LE ("до 12 %"), GE, LT, GT.
    async fn comparator(&self) -> &str {
        &self.0.comparator
    }

    async fn value(&self) -> f64 {
        self.0.value
    }

    /// The value exactly as written ("32,79").
    async fn value_raw(&self) -> &str {
        &self.0.value_raw
    }

    /// The plan that set it (resolved by the plans subgraph).
    async fn plan(&self) -> Option<Plan> {
        self.0.plan_id.map(|id| Plan { id })
    }

    async fn measure(&self) -> Option<Measure> {
        self.0.measure_id.map(|id| Measure { id })
    }

    /// Line of the plan's source document.
    async fn source_line(&self) -> Option<i32> {
        self.0.source_line
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(InputObject)]
pub struct SetTargetInput {
    #[graphql(flatten)]
    pub of: ValueOfInput,
    #[graphql(default_with = "TargetKind::Target")]
    pub kind: TargetKind,
    pub value: f64,
    /// As written; must be the same number as `value`.
    pub value_raw: Option<String>,
    pub plan: Option<ID>,
    pub measure: Option<ID>,
}

impl SetTargetInput {
    /// The row to store, its value checked against the indicator (the period is, by
    /// [`ValueOfInput::read`]).
    pub(super) fn to_new(&self, of: &ValueOf) -> ServiceResult<NewTarget> {
        check_value("input.value", &of.indicator, self.value)?;
        let (value, value_raw) = value_texts("input.valueRaw", self.value, self.value_raw.as_deref())?;
        Ok(NewTarget {
            indicator_id: of.indicator.id,
            territory_id: of.territory,
            organisation_id: of.organisation,
            period: of.period,
            subject: of.subject.clone(),
            kind: self.kind.as_db(),
            comparator: "EQ",
            value,
            value_raw,
            plan_id: opt_id("input.plan", self.plan.as_ref())?,
            measure_id: opt_id("input.measure", self.measure.as_ref())?,
            source_line: None,
            position: None,
        })
    }
}

/// One baseline or target as the roadmap parser reads it (`roadmap_import::IndicatorTarget`).
#[derive(InputObject, Clone, Debug)]
pub struct PlanTargetInput {
    /// Indicator name as written.
    pub indicator: String,
    /// Subject as written ("Химия", "по химии").
    #[graphql(default)]
    pub subject: String,
    /// The parser's subject key (`Chemistry`), when it has one.
    pub subject_key: Option<String>,
    /// "ЕГЭ" or "ОГЭ": picks the indicator (`ege_below_min`, `oge_below_min`).
    pub exam: Option<String>,
    pub grade: Option<i32>,
    /// None: the end of the plan's period.
    pub year: Option<i32>,
    /// Eq, Le, Ge, Lt, Gt (any case); default Eq.
    pub comparator: Option<String>,
    /// The value exactly as written ("32,79").
    pub value_raw: String,
    #[graphql(default)]
    pub is_baseline: bool,
    pub line: Option<i32>,
    pub measure: Option<ID>,
}

/// Where a plan's targets apply: the plan, its territory and the end of its period.
pub(super) struct PlanPlace {
    pub plan: Uuid,
    pub territory: Option<Uuid>,
    pub period_end: Option<NaiveDate>,
}

/// A plan's targets checked, each with the definition of its (seed) indicator; `indicator_id`
/// is left nil until the indicators exist.
pub(super) fn plan_targets(
    place: &PlanPlace,
    targets: &[PlanTargetInput],
) -> ServiceResult<Vec<(NewIndicator, NewTarget)>> {
    let mut seen = HashSet::new();
    targets
        .iter()
        .enumerate()
        .map(|(i, t)| t.to_new(i, place, &mut seen))
        .collect()
}

/// What may not repeat among a plan's targets: (indicator code, period, subject, kind).
type PlanTargetKey = (String, i32, String, &'static str);

impl PlanTargetInput {
    /// The `i`th target of a plan, refused when its key is in `seen` already.
    fn to_new(
        &self,
        i: usize,
        place: &PlanPlace,
        seen: &mut HashSet<PlanTargetKey>,
    ) -> ServiceResult<(NewIndicator, NewTarget)> {
        let path = format!("targets[{i}]");
        let exam = self.exam.as_deref().unwrap_or("");
        let definition = seed::seed_indicator(exam)
            .filter(|_| self.indicator.to_lowercase().contains("порог"))
            .ok_or_else(|| {
                ServiceError::invalid(
                    format!("{path}.indicator"),
                    format!("`{}` ({exam}) is not an indicator this service knows", self.indicator),
                )
            })?;
        let period = match (self.year, place.period_end) {
            (Some(y), _) => y,
            (None, Some(end)) => chrono::Datelike::year(&end),
            (None, None) => {
                return Err(ServiceError::invalid(
                    format!("{path}.year"),
                    "has no year and the plan has no periodEnd",
                ));
            }
        };
        let (value, parsed) = parse_decimal(&format!("{path}.valueRaw"), &self.value_raw)?;
        let subject = subject_key(
            self.subject_key
                .as_deref()
                .filter(|k| *k != "Other")
                .unwrap_or(&self.subject),
        );
        let probe = seed::as_row(&definition);
        check_period(&format!("{path}.year"), &probe, period)?;
        check_value(&format!("{path}.valueRaw"), &probe, parsed)?;
        let kind = if self.is_baseline {
            TargetKind::Baseline
        } else {
            TargetKind::Target
        }
        .as_db();
        if !seen.insert((definition.code.clone(), period, subject.clone(), kind)) {
            return Err(ServiceError::invalid(
                path,
                format!(
                    "repeats the {} of {} for {period}",
                    kind.to_lowercase(),
                    definition.code
                ),
            ));
        }
        let target = NewTarget {
            indicator_id: Uuid::nil(),
            territory_id: place.territory,
            organisation_id: None,
            period,
            subject,
            kind,
            comparator: comparator(&format!("{path}.comparator"), self.comparator.as_deref())?,
            value,
            value_raw: self.value_raw.trim().to_string(),
            plan_id: Some(place.plan),
            measure_id: opt_id(&format!("{path}.measure"), self.measure.as_ref())?,
            source_line: self.line,
            position: i32::try_from(i).ok(),
        };
        Ok((definition, target))
    }
}
