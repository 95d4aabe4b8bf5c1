//! `Indicator`, the entity of this subgraph, its enums and `CreateIndicatorInput`.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::{ServiceError, ServiceResult, parse_id};

use super::{Measure, Target, id_of, opt_id};
use crate::loaders::Loaders;
use crate::rollup;
use crate::store::{self, IndicatorBounds, IndicatorRow, NewIndicator};
use crate::values::subject_key;

/// Which way is better.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum IndicatorDirection {
    /// E.g. the share of students below the minimum score.
    LowerIsBetter,
    HigherIsBetter,
}

roadmap_common::db_enum!(IndicatorDirection {
    LowerIsBetter => "LOWER_IS_BETTER",
    HigherIsBetter => "HIGHER_IS_BETTER",
});

impl From<IndicatorDirection> for rollup::Direction {
    fn from(d: IndicatorDirection) -> Self {
        match d {
            IndicatorDirection::LowerIsBetter => rollup::Direction::LowerIsBetter,
            IndicatorDirection::HigherIsBetter => rollup::Direction::HigherIsBetter,
        }
    }
}

/// How children's values make a parent's.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum IndicatorAggregation {
    /// Mean weighted by each child's denominator (e.g. number of participants).
    WeightedMean,
    Sum,
    /// Qualitative or otherwise not additive: never summed.
    NotAggregatable,
}

roadmap_common::db_enum!(IndicatorAggregation {
    WeightedMean => "WEIGHTED_MEAN",
    Sum => "SUM",
    NotAggregatable => "NOT_AGGREGATABLE",
});

impl From<IndicatorAggregation> for rollup::Aggregation {
    fn from(a: IndicatorAggregation) -> Self {
        match a {
            IndicatorAggregation::WeightedMean => rollup::Aggregation::WeightedMean,
            IndicatorAggregation::Sum => rollup::Aggregation::Sum,
            IndicatorAggregation::NotAggregatable => rollup::Aggregation::NotAggregatable,
        }
    }
}

/// A measurable quantity plans set targets for (e.g. share of graduates below the minimum score).
pub struct Indicator(pub IndicatorRow);

impl Indicator {
    pub fn direction(&self) -> IndicatorDirection {
        IndicatorDirection::from_db(&self.0.direction).unwrap_or(IndicatorDirection::HigherIsBetter)
    }

    pub fn aggregation(&self) -> IndicatorAggregation {
        IndicatorAggregation::from_db(&self.0.aggregation).unwrap_or(IndicatorAggregation::NotAggregatable)
    }

    /// What its rollups follow: direction, aggregation, and the scale of a share in %.
    pub fn rules(&self) -> rollup::Rules {
        rollup::Rules {
            direction: self.direction().into(),
            aggregation: self.aggregation().into(),
            scale: if self.0.unit.trim() == "%" { 100.0 } else { 1.0 },
        }
    }

    /// Through the loader, for fields that point at an indicator.
    pub(super) async fn load(ctx: &Context<'_>, id: Uuid) -> Result<Indicator> {
        ctx.data::<Loaders>()?
            .indicator_by_id
            .load_one(id)
            .await?
            .map(Indicator)
            .ok_or_else(|| ServiceError::not_found("Indicator", id).into())
    }

    /// Read back after a write (not through the loader, which may have batched before it).
    pub(super) async fn by_id(pool: &PgPool, id: Uuid) -> ServiceResult<Indicator> {
        let row = store::indicators_by_ids(pool, &[id]).await?.into_iter().next();
        row.map(Indicator)
            .ok_or_else(|| ServiceError::not_found("Indicator", id))
    }

    /// The indicator a mutation's `field` names, an input error when it does not exist.
    pub(super) async fn for_input(pool: &PgPool, field: &str, id: &ID) -> ServiceResult<IndicatorRow> {
        let id = parse_id(field, id)?;
        store::indicators_by_ids(pool, &[id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::invalid(field, format!("unknown indicator {id}")))
    }
}

#[Object]
impl Indicator {
    async fn id(&self) -> ID {
        id_of(self.0.id)
    }

    /// Stable code, e.g. `ege_below_min`.
    async fn code(&self) -> &str {
        &self.0.code
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn unit(&self) -> &str {
        &self.0.unit
    }

    #[graphql(name = "direction")]
    async fn gql_direction(&self) -> IndicatorDirection {
        self.direction()
    }

    #[graphql(name = "aggregation")]
    async fn gql_aggregation(&self) -> IndicatorAggregation {
        self.aggregation()
    }

    /// Dimensions values are broken down by (e.g. `subject`).
    async fn dimensions(&self) -> &[String] {
        &self.0.dimensions
    }

    /// "ЕГЭ" or "ОГЭ" when the indicator is about one exam.
    async fn exam(&self) -> Option<&str> {
        self.0.bounds.exam.as_deref()
    }

    async fn grade(&self) -> Option<i32> {
        self.0.bounds.grade
    }

    /// First year values may be recorded for (inclusive).
    async fn period_from(&self) -> Option<i32> {
        self.0.bounds.period_from
    }

    async fn period_to(&self) -> Option<i32> {
        self.0.bounds.period_to
    }

    async fn min_value(&self) -> Option<f64> {
        self.0.bounds.min_value
    }

    async fn max_value(&self) -> Option<f64> {
        self.0.bounds.max_value
    }

    /// Plan measures linked to this indicator (resolved by the plans subgraph).
    async fn measures(&self, ctx: &Context<'_>) -> Result<Vec<Measure>> {
        let ids = ctx.data::<Loaders>()?.measures_by_indicator.load_one(self.0.id).await?;
        Ok(ids.unwrap_or_default().into_iter().map(|id| Measure { id }).collect())
    }

    /// Baselines and targets of this indicator, optionally for one territory and subject.
    async fn targets(&self, ctx: &Context<'_>, territory: Option<ID>, subject: Option<String>) -> Result<Vec<Target>> {
        let territory = opt_id("territory", territory.as_ref())?;
        let subject = subject.as_deref().map(subject_key);
        let rows = ctx.data::<Loaders>()?.targets_by_indicator.load_one(self.0.id).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .filter(|t| territory.is_none_or(|id| t.territory_id == Some(id)))
            .filter(|t| subject.as_ref().is_none_or(|s| &t.subject == s))
            .map(Target)
            .collect())
    }
}

#[derive(InputObject)]
pub struct CreateIndicatorInput {
    pub code: String,
    pub name: String,
    pub unit: String,
    #[graphql(default_with = "IndicatorDirection::HigherIsBetter")]
    pub direction: IndicatorDirection,
    #[graphql(default_with = "IndicatorAggregation::NotAggregatable")]
    pub aggregation: IndicatorAggregation,
    #[graphql(default)]
    pub dimensions: Vec<String>,
    #[graphql(flatten)]
    pub bounds: IndicatorBounds,
}

impl CreateIndicatorInput {
    /// The definition to store, checked: names given, periods and range in order (a `%`
    /// indicator is 0–100 unless told otherwise).
    pub(super) fn into_new(self) -> ServiceResult<NewIndicator> {
        for (field, value) in [("input.code", &self.code), ("input.name", &self.name)] {
            if value.trim().is_empty() {
                return Err(ServiceError::invalid(field, "must not be empty"));
            }
        }
        let b = self.bounds;
        if let (Some(f), Some(t)) = (b.period_from, b.period_to)
            && f > t
        {
            return Err(ServiceError::invalid(
                "input.periodTo",
                format!("{t} is before periodFrom {f}"),
            ));
        }
        let percent = self.unit.trim() == "%";
        let min = b.min_value.or(percent.then_some(0.0));
        let max = b.max_value.or(percent.then_some(100.0));
        for (field, v) in [("input.minValue", min), ("input.maxValue", max)] {
            if v.is_some_and(|v| !v.is_finite()) {
                return Err(ServiceError::invalid(field, "must be a finite number"));
            }
        }
        if let (Some(lo), Some(hi)) = (min, max)
            && lo > hi
        {
            return Err(ServiceError::invalid(
                "input.maxValue",
                format!("{hi} is below minValue {lo}"),
            ));
        }
        Ok(NewIndicator {
            code: self.code.trim().to_string(),
            name: self.name.trim().to_string(),
            unit: self.unit.trim().to_string(),
            direction: self.direction.as_db(),
            aggregation: self.aggregation.as_db(),
            dimensions: self.dimensions.iter().map(|d| d.trim().to_string()).collect(),
            bounds: IndicatorBounds {
                exam: b.exam.map(|e| e.trim().to_string()),
                min_value: min,
                max_value: max,
                ..b
            },
        })
    }
}
