//! The GraphQL schema of the indicators subgraph, one file per type family, so a field of
//! `schema/supergraph.graphql` is found in one step:
//!
//! - `Indicator`, `IndicatorDirection`, `IndicatorAggregation`, `CreateIndicatorInput` →
//!   [`indicator`];
//! - `IndicatorTarget`, `TargetKind`, `SetTargetInput`, `PlanTargetInput` → [`target`];
//! - `Observation`, `RecordObservationInput` → [`observation`];
//! - `Territory` (extended with `indicators`, `rollup`, `series`), `TerritoryIndicator`,
//!   `Organisation` (entities of the people subgraph) → [`territory`];
//! - `Plan` (extended with `targets`), `Measure` (extended with `contributesTo`) (entities of the
//!   plans subgraph) → [`plan`];
//! - `Rollup`, `RollupChild`, `TrackStatus`, `ValueSource` → [`rollup`];
//! - `Query.*` and the entity resolvers → [`query`]; `Mutation.*` → [`mutation`].
//!
//! Resolvers read through [`crate::loaders`] and write through [`crate::store`] and
//! [`crate::outbox`]; rules live in [`crate::values`] and [`crate::rollup`].

pub mod indicator;
pub mod mutation;
pub mod observation;
pub mod plan;
pub mod query;
pub mod rollup;
pub mod target;
pub mod territory;

use async_graphql::ID;
use uuid::Uuid;

use roadmap_common::{ServiceResult, parse_id};

pub use indicator::{CreateIndicatorInput, Indicator, IndicatorAggregation, IndicatorDirection};
pub use mutation::MutationRoot;
pub use observation::{Observation, RecordObservationInput};
pub use plan::{Measure, Plan};
pub use query::QueryRoot;
pub use rollup::{Rollup, RollupChild, TrackStatus, ValueSource};
pub use target::{PlanTargetInput, SetTargetInput, Target, TargetKind};
pub use territory::{Organisation, Territory, TerritoryIndicator};

fn id_of(id: Uuid) -> ID {
    ID(id.to_string())
}

/// An optional `ID` argument as a UUID; `field` names it in the error.
fn opt_id(field: &str, id: Option<&ID>) -> ServiceResult<Option<Uuid>> {
    id.map(|id| parse_id(field, id)).transpose()
}
