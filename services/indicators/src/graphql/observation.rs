//! `Observation` (an actual value), `ResultSource` and `RecordObservationInput`.

use async_graphql::{Enum, InputObject, Object};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::people::PeopleClient;
use roadmap_common::{ServiceError, ServiceResult};

use super::{IndicatorAggregation, Organisation, Placed, Territory, ValueOf, ValueOfInput, id_of};
use crate::store::{self, IndicatorRow, NewObservation, ObservationRow};
use crate::values::{check_value, opt_subject, parse_decimal, value_texts};

/// Which assessment a value comes from. Rollups keep each source apart: a mock exam is not the
/// exam.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum ResultSource {
    /// The exam's results as the assessment centre reports them (ЕГЭ, ОГЭ).
    Official,
    /// A mock exam ("пробный экзамен"), e.g. written by a class.
    MockExam,
    /// A diagnostic test ("диагностическая работа").
    Diagnostic,
}

roadmap_common::db_enum!(ResultSource {
    Official => "OFFICIAL",
    MockExam => "MOCK_EXAM",
    Diagnostic => "DIAGNOSTIC",
});

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
    #[graphql(flatten)]
    async fn placed(&self) -> Placed<Observation> {
        Placed::new(self.0.id, &self.0.of)
    }

    /// The territory this value rolls up into (recorded when the value was); none for a unit
    /// under an organisation (a class), which rolls up into `parentOrganisation`.
    async fn parent_territory(&self) -> Option<Territory> {
        self.0.parent_territory_id.map(|id| Territory { id })
    }

    /// The organisation this value rolls up into: a class's school (recorded when the value was).
    async fn parent_organisation(&self) -> Option<Organisation> {
        self.0
            .organisation_path
            .first()
            .map(|id| Organisation { id: id_of(*id) })
    }

    /// Which assessment the value comes from.
    async fn result_source(&self) -> ResultSource {
        ResultSource::from_db(&self.0.result_source).unwrap_or(ResultSource::Official)
    }

    /// How many of `denominator` the value counts (5 of 24 below the minimum), when reported so.
    async fn numerator(&self) -> Option<f64> {
        self.0.numerator
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

    /// Who reported it, as written ("РЦОИ").
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
    #[graphql(flatten)]
    pub of: ValueOfInput,
    /// The value; may be left out for a share in % given as `numerator` of `denominator`.
    pub value: Option<f64>,
    pub value_raw: Option<String>,
    /// What the value is a share of (e.g. participants); required for weighted-mean indicators.
    /// For a count (a `SUM` indicator), what it counts out of (pupils of the class).
    pub denominator: Option<f64>,
    /// How many of `denominator` the value counts (5 of 24 wrote below the minimum): a whole
    /// number; for a share in % the value is `numerator / denominator · 100`.
    pub numerator: Option<f64>,
    /// Which assessment the value comes from.
    #[graphql(default_with = "ResultSource::Official")]
    pub result_source: ResultSource,
    /// Who reported it, as written ("РЦОИ").
    pub source: Option<String>,
    pub observed_on: Option<NaiveDate>,
}

/// Where an observation is, as the people subgraph places it.
pub(super) struct Placement {
    /// The territory it is about: the given one, or the organisation's.
    pub territory: Option<Uuid>,
    pub organisation: Option<Uuid>,
    /// The organisations above it, nearest first (a class: its school).
    pub organisations: Vec<Uuid>,
    /// The territories above it, nearest first (an organisation's: its territory first).
    pub territories: Vec<Uuid>,
}

/// A territory's ancestors, nearest first; `Err` naming `field` when it does not exist.
async fn ancestors(people: &PeopleClient, field: &str, territory: Uuid) -> ServiceResult<Vec<Uuid>> {
    let query = "query($id: ID!) { territory(id: $id) { id ancestors { id } } }";
    let found = people.subgraph().existing(field, "territory", territory, query).await?;
    found["ancestors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| roadmap_common::client::parse_uuid(&n["id"]))
        .collect()
}

impl Placement {
    /// Asks the people subgraph; a given territory must be the organisation's.
    pub(super) async fn ask(
        people: &PeopleClient,
        territory: Option<Uuid>,
        organisation: Option<Uuid>,
    ) -> ServiceResult<Placement> {
        match (territory, organisation) {
            (_, Some(org)) => {
                let found = people.organisation_info("input.organisation", org).await?;
                if let (Some(given), Some(own)) = (territory, found.territory)
                    && given != own
                {
                    return Err(ServiceError::invalid(
                        "input.territory",
                        format!("the organisation is in territory {own}, not {given}"),
                    ));
                }
                let territory = found.territory.or(territory);
                let above = match territory {
                    Some(t) => ancestors(people, "input.organisation", t).await?,
                    None => Vec::new(),
                };
                Ok(Placement {
                    territory,
                    organisation,
                    // The lineage starts with the organisation itself.
                    organisations: found.lineage.into_iter().skip(1).collect(),
                    territories: territory.into_iter().chain(above).collect(),
                })
            }
            (Some(t), None) => Ok(Placement {
                territory: Some(t),
                organisation: None,
                organisations: Vec::new(),
                territories: ancestors(people, "input.territory", t).await?,
            }),
            (None, None) => Err(ServiceError::invalid(
                "input.territory",
                "give a territory or an organisation",
            )),
        }
    }

    /// `row` placed here. `parent_territory_id` is the territory it rolls up into directly: none
    /// for a unit under an organisation.
    pub(super) fn place(self, row: NewObservation) -> NewObservation {
        NewObservation {
            territory_id: self.territory,
            organisation_id: self.organisation,
            parent_territory_id: self
                .organisations
                .is_empty()
                .then(|| self.territories.first().copied())
                .flatten(),
            organisation_path: self.organisations,
            territory_path: Some(self.territories),
            ..row
        }
    }
}

/// Whether `value` is `exact` to the digits written (`written`, else the value's own digits).
fn agrees(value: f64, written: Option<&str>, exact: f64) -> bool {
    let text = written.map_or_else(|| format!("{value}"), |w| w.trim().replace(',', "."));
    let digits = text.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
    (value - exact).abs() <= 0.5 * 10f64.powi(-digits) + 1e-9
}

impl RecordObservationInput {
    /// The denominator as stored, checked: above 0, required for weighted means.
    fn denominator(&self, indicator: &IndicatorRow) -> ServiceResult<Option<f64>> {
        match self.denominator {
            Some(d) if !d.is_finite() || d <= 0.0 => Err(ServiceError::invalid(
                "input.denominator",
                format!("{d} is not greater than 0"),
            )),
            None if indicator.aggregation == IndicatorAggregation::WeightedMean.as_db() => Err(ServiceError::invalid(
                "input.denominator",
                format!("is required: `{}` is a weighted mean", indicator.code),
            )),
            d => Ok(d),
        }
    }

    /// The share `numerator` of `denominator` makes, checked: a whole number within it, for an
    /// indicator in %.
    fn share(&self, indicator: &IndicatorRow, denominator: Option<f64>) -> ServiceResult<Option<f64>> {
        let Some(n) = self.numerator else {
            return Ok(None);
        };
        let field = "input.numerator";
        let Some(d) = denominator else {
            return Err(ServiceError::invalid(
                "input.denominator",
                "is required with a numerator",
            ));
        };
        if indicator.unit.trim() != "%" {
            return Err(ServiceError::invalid(
                field,
                format!(
                    "`{}` is in {}, not a share in %: give value",
                    indicator.code, indicator.unit
                ),
            ));
        }
        if !n.is_finite() || n < 0.0 || n.fract() != 0.0 {
            return Err(ServiceError::invalid(
                field,
                format!("{n} is not a whole number of 0 or more"),
            ));
        }
        if n > d {
            return Err(ServiceError::invalid(
                field,
                format!("{n} is more than the denominator {d}"),
            ));
        }
        Ok(Some(n / d * 100.0))
    }

    /// The row to store, its period, value, numerator and denominator checked against
    /// `indicator`; where it is ([`Placement`]) is filled in after, once the people subgraph was
    /// asked.
    pub(super) fn to_new(&self, of: &ValueOf) -> ServiceResult<NewObservation> {
        let indicator = &of.indicator;
        let denominator = self.denominator(indicator)?;
        let share = self.share(indicator, denominator)?;
        let raw = self.value_raw.as_deref();
        let written = match (self.value, raw) {
            (Some(v), _) => Some(v),
            (None, Some(raw)) => Some(parse_decimal("input.valueRaw", raw)?.1),
            (None, None) => None,
        };
        let (value, (value_text, value_raw)) = match (written, share) {
            (Some(v), Some(exact)) if !agrees(v, raw, exact) => {
                return Err(ServiceError::invalid(
                    if self.value.is_some() {
                        "input.value"
                    } else {
                        "input.valueRaw"
                    },
                    format!(
                        "{v} is not numerator / denominator: {} of {} is {exact} %",
                        self.numerator.unwrap_or_default(),
                        denominator.unwrap_or_default()
                    ),
                ));
            }
            (Some(v), _) => (v, value_texts("input.valueRaw", v, raw)?),
            (None, Some(exact)) => (exact, value_texts("input.valueRaw", exact, None)?),
            (None, None) => {
                return Err(ServiceError::invalid(
                    "input.value",
                    "is required (or give numerator and denominator)",
                ));
            }
        };
        check_value("input.value", indicator, value)?;
        if let Some(d) = denominator
            && indicator.aggregation == IndicatorAggregation::Sum.as_db()
            && value > d
        {
            return Err(ServiceError::invalid(
                "input.value",
                format!("{value} is more than the denominator {d}: a count cannot exceed what it counts out of"),
            ));
        }
        Ok(NewObservation {
            indicator_id: indicator.id,
            territory_id: None,
            organisation_id: None,
            parent_territory_id: None,
            period: of.period,
            subject: of.subject.clone(),
            value: value_text,
            value_raw,
            denominator: denominator.map(|d| format!("{d}")),
            source: self
                .source
                .as_ref()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            observed_on: self.observed_on,
            result_source: self.result_source.as_db(),
            numerator: self.numerator.map(|n| format!("{n}")),
            organisation_path: Vec::new(),
            territory_path: None,
        })
    }
}
