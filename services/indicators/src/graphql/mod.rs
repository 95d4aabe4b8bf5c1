//! The GraphQL schema of the indicators subgraph, one file per type family, so a field of
//! `schema/supergraph.graphql` is found in one step:
//!
//! - `Indicator`, `IndicatorDirection`, `IndicatorAggregation`, `CreateIndicatorInput` →
//!   [`indicator`];
//! - `IndicatorTarget`, `TargetKind`, `SetTargetInput`, `PlanTargetInput` → [`target`];
//! - `Observation`, `ResultSource`, `RecordObservationInput` → [`observation`];
//! - the id, `indicator`, `territory` and `organisation` fields that `IndicatorTarget` and
//!   `Observation` share → [`placed`];
//! - `Territory` (extended with `indicators`, `rollup`, `series`), `TerritoryIndicator`,
//!   `Organisation` (entities of the people subgraph) → [`territory`];
//! - `Plan` (extended with `targets`), `Measure` (extended with `contributesTo`) (entities of the
//!   plans subgraph) → [`plan`];
//! - `Rollup`, `SourceRollup`, `RollupChild`, `TrackStatus`, `ValueSource`, and the `rollup` field
//!   of `Territory` and `Organisation` (`UnitRollup`) → [`rollup`];
//! - `Query.*` and the entity resolvers → [`query`]; `Mutation.*` → [`mutation`].
//!
//! Resolvers read through [`crate::loaders`] and write through [`crate::store`] and
//! [`crate::outbox`]; rules live in [`crate::values`] and [`crate::rollup`].

pub mod indicator;
pub mod mutation;
pub mod observation;
pub mod placed;
pub mod plan;
pub mod query;
pub mod rollup;
pub mod target;
pub mod territory;

use async_graphql::{ID, InputObject};
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::{ServiceResult, parse_id};

use crate::store::IndicatorRow;
use crate::values::{check_period, subject_key};

pub use indicator::{CreateIndicatorInput, Indicator, IndicatorAggregation, IndicatorDirection};
pub use mutation::MutationRoot;
pub use observation::{Observation, RecordObservationInput, ResultSource};
pub use placed::Placed;
pub use plan::{Measure, Plan};
pub use query::QueryRoot;
pub use rollup::{Rollup, RollupChild, RollupFigures, SourceRollup, TrackStatus, UnitRollup, ValueSource};
pub use target::{PlanTargetInput, SetTargetInput, Target, TargetKind};
pub use territory::{Organisation, Territory, TerritoryIndicator};

fn id_of(id: Uuid) -> ID {
    ID(id.to_string())
}

/// An optional `ID` argument as a UUID; `field` names it in the error.
fn opt_id(field: &str, id: Option<&ID>) -> ServiceResult<Option<Uuid>> {
    id.map(|id| parse_id(field, id)).transpose()
}

/// What `SetTargetInput` and `RecordObservationInput` set a value of (flattened into both): the
/// indicator, the place, the period and the subject.
#[derive(InputObject)]
pub struct ValueOfInput {
    pub indicator: ID,
    /// The territory the value is about (or give `organisation`).
    pub territory: Option<ID>,
    /// A school, a class or another organisation the value is about; it rolls up into the unit
    /// above it (a class into its school, a school into its territory).
    pub organisation: Option<ID>,
    /// The year.
    pub period: i32,
    pub subject: Option<String>,
}

/// A [`ValueOfInput`] read: the indicator (checked to exist, the period checked against it), the
/// territory and organisation ids as given, and the subject key.
pub(crate) struct ValueOf {
    pub indicator: IndicatorRow,
    pub territory: Option<Uuid>,
    pub organisation: Option<Uuid>,
    pub period: i32,
    pub subject: String,
}

impl ValueOfInput {
    /// Reads the input, naming `input.<field>` in errors.
    pub(crate) async fn read(&self, pool: &PgPool) -> ServiceResult<ValueOf> {
        let indicator = Indicator::for_input(pool, "input.indicator", &self.indicator).await?;
        check_period("input.period", &indicator, self.period)?;
        Ok(ValueOf {
            territory: opt_id("input.territory", self.territory.as_ref())?,
            organisation: opt_id("input.organisation", self.organisation.as_ref())?,
            period: self.period,
            subject: self.subject.as_deref().map(subject_key).unwrap_or_default(),
            indicator,
        })
    }
}
