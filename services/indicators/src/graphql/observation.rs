//! `Observation` (an actual value) and `RecordObservationInput`.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::people::PeopleClient;
use roadmap_common::{ServiceError, ServiceResult};

use super::{Indicator, IndicatorAggregation, Organisation, Territory, id_of};
use crate::store::{self, IndicatorRow, NewObservation, ObservationRow};
use crate::values::{check_period, check_value, opt_subject, subject_key, value_texts};

/// An actual value of an indicator.
pub struct Observation(pub ObservationRow);

impl Observation {
    /// Read back after a write.
    pub(super) async fn by_id(pool: &PgPool, id: Uuid) -> ServiceResult<Observation> {
        let row = store::observations_by_ids(pool, &[id]).await?.into_iter().next();
        row.map(Observation)
            .ok_or_else(|| ServiceError::not_found("Observation", id))
    }
}

#[Object]
impl Observation {
    async fn id(&self) -> ID {
        id_of(self.0.id)
    }

    async fn indicator(&self, ctx: &Context<'_>) -> Result<Indicator> {
        Indicator::load(ctx, self.0.indicator_id).await
    }

    /// The territory it is about, or the organisation's territory.
    async fn territory(&self) -> Option<Territory> {
        self.0.territory_id.map(|id| Territory { id })
    }

    async fn organisation(&self) -> Option<Organisation> {
        self.0.organisation_id.map(|id| Organisation { id: id_of(id) })
    }

    /// The territory this value rolls up into (recorded when the value was).
    async fn parent_territory(&self) -> Option<Territory> {
        self.0.parent_territory_id.map(|id| Territory { id })
    }

    async fn period(&self) -> i32 {
        self.0.period
    }

    async fn subject(&self) -> Option<&str> {
        opt_subject(&self.0.subject)
    }

    async fn value(&self) -> f64 {
        self.0.value
    }

    async fn value_raw(&self) -> &str {
        &self.0.value_raw
    }

    /// What the value is a share of (e.g. number of participants): the weight in rollups.
    async fn denominator(&self) -> Option<f64> {
        self.0.denominator
    }

    async fn source(&self) -> Option<&str> {
        self.0.source.as_deref()
    }

    async fn observed_on(&self) -> Option<NaiveDate> {
        self.0.observed_on
    }

    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

#[derive(InputObject)]
pub struct RecordObservationInput {
    pub indicator: ID,
    /// The territory the value is about (or give `organisation`).
    pub territory: Option<ID>,
    /// A school or other organisation the value is about; it rolls up into its territory.
    pub organisation: Option<ID>,
    /// The year.
    pub period: i32,
    pub subject: Option<String>,
    pub value: f64,
    pub value_raw: Option<String>,
    /// What the value is a share of (e.g. participants); required for weighted-mean indicators.
    pub denominator: Option<f64>,
    pub source: Option<String>,
    pub observed_on: Option<NaiveDate>,
}

/// Where an observation is, as the people subgraph places it.
pub(super) struct Placement {
    /// The territory it is about: the given one, or the organisation's.
    pub territory: Option<Uuid>,
    pub organisation: Option<Uuid>,
    /// What it rolls up into: the territory's parent, or the organisation's territory.
    pub parent: Option<Uuid>,
}

impl Placement {
    /// Asks the people subgraph; a given territory must be the organisation's.
    pub(super) async fn ask(
        people: &PeopleClient,
        territory: Option<Uuid>,
        organisation: Option<Uuid>,
    ) -> ServiceResult<Placement> {
        let (territory, parent) = match (territory, organisation) {
            (_, Some(org)) => {
                let own = people.organisation_territory("input.organisation", org).await?;
                if let (Some(given), Some(own)) = (territory, own)
                    && given != own
                {
                    return Err(ServiceError::invalid(
                        "input.territory",
                        format!("the organisation is in territory {own}, not {given}"),
                    ));
                }
                (own.or(territory), own.or(territory))
            }
            (Some(t), None) => (Some(t), people.territory_parent("input.territory", t).await?),
            (None, None) => {
                return Err(ServiceError::invalid(
                    "input.territory",
                    "give a territory or an organisation",
                ));
            }
        };
        Ok(Placement {
            territory,
            organisation,
            parent,
        })
    }
}

impl RecordObservationInput {
    /// The row to store, its period, value and denominator checked against `indicator`; where it
    /// is ([`Placement`]) is filled in after, once the people subgraph was asked.
    pub(super) fn to_new(&self, indicator: &IndicatorRow) -> ServiceResult<NewObservation> {
        check_period("input.period", indicator, self.period)?;
        check_value("input.value", indicator, self.value)?;
        let (value, value_raw) = value_texts("input.valueRaw", self.value, self.value_raw.as_deref())?;
        let denominator = match self.denominator {
            Some(d) if !d.is_finite() || d <= 0.0 => {
                return Err(ServiceError::invalid(
                    "input.denominator",
                    format!("{d} is not greater than 0"),
                ));
            }
            Some(d) => Some(format!("{d}")),
            None if indicator.aggregation == IndicatorAggregation::WeightedMean.as_db() => {
                return Err(ServiceError::invalid(
                    "input.denominator",
                    format!("is required: `{}` is a weighted mean", indicator.code),
                ));
            }
            None => None,
        };
        Ok(NewObservation {
            indicator_id: indicator.id,
            territory_id: None,
            organisation_id: None,
            parent_territory_id: None,
            period: self.period,
            subject: self.subject.as_deref().map(subject_key).unwrap_or_default(),
            value,
            value_raw,
            denominator,
            source: self
                .source
                .as_ref()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            observed_on: self.observed_on,
        })
    }
}

impl Placement {
    /// `row` placed here.
    pub(super) fn place(self, row: NewObservation) -> NewObservation {
        NewObservation {
            territory_id: self.territory,
            organisation_id: self.organisation,
            parent_territory_id: self.parent,
            ..row
        }
    }
}
