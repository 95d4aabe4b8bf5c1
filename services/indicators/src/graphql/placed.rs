//! `Placed`: the id, indicator and place that a target and an observation share, flattened into
//! both (`IndicatorTarget`, `Observation`), so it is no type of its own in the schema.
//!
//! It is one Rust type per user (`Placed<Target>`, `Placed<Observation>`): async-graphql copies a
//! flattened object's fields while registering its user, and `indicator` leads back to both users
//! (`Indicator.targets`, `Indicator.observations`). With one shared type, the second user would be
//! registered while the shared one was still half-built and would copy no fields at all.

use std::marker::PhantomData;

use async_graphql::{Context, ID, Object, Result};
use uuid::Uuid;

use super::{Indicator, Observation, Organisation, Target, Territory, id_of};
use crate::store::ValueOf;

/// The id of a target or an observation and where its value belongs.
pub struct Placed<Of> {
    id: Uuid,
    indicator_id: Uuid,
    territory_id: Option<Uuid>,
    organisation_id: Option<Uuid>,
    of: PhantomData<fn() -> Of>,
}

impl<Of> Placed<Of> {
    pub fn new(id: Uuid, of: &ValueOf) -> Self {
        Placed {
            id,
            indicator_id: of.indicator_id,
            territory_id: of.territory_id,
            organisation_id: of.organisation_id,
            of: PhantomData,
        }
    }
}

#[Object(
    concrete(name = "PlacedTarget", params(Target)),
    concrete(name = "PlacedObservation", params(Observation))
)]
impl<Of: Send + Sync + 'static> Placed<Of> {
    async fn id(&self) -> ID {
        id_of(self.id)
    }

    async fn indicator(&self, ctx: &Context<'_>) -> Result<Indicator> {
        Indicator::load(ctx, self.indicator_id).await
    }

    /// The territory the value is about; an observation of an organisation carries the
    /// organisation's territory.
    async fn territory(&self) -> Option<Territory> {
        self.territory_id.map(|id| Territory { id })
    }

    async fn organisation(&self) -> Option<Organisation> {
        self.organisation_id.map(|id| Organisation { id: id_of(id) })
    }
}
