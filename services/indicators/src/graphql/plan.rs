//! Entities of the plans subgraph seen from here (same `@key(id)`): `Plan`, extended with the
//! targets it sets, and `Measure`, extended with the indicators it serves.

use async_graphql::{Context, ID, Object, Result};
use uuid::Uuid;

use super::{Indicator, Target, id_of};
use crate::loaders::Loaders;

/// A plan of the plans subgraph, extended with the targets and baselines it sets.
pub struct Plan {
    pub id: Uuid,
}

#[Object]
impl Plan {
    async fn id(&self) -> ID {
        id_of(self.id)
    }

    /// Baselines and targets this plan sets, in document order.
    async fn targets(&self, ctx: &Context<'_>) -> Result<Vec<Target>> {
        let rows = ctx.data::<Loaders>()?.targets_by_plan.load_one(self.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Target).collect())
    }
}

/// A measure of the plans subgraph, extended with the indicators it serves.
pub struct Measure {
    pub id: Uuid,
}

#[Object]
impl Measure {
    async fn id(&self) -> ID {
        id_of(self.id)
    }

    /// Indicators this measure is meant to move.
    async fn contributes_to(&self, ctx: &Context<'_>) -> Result<Vec<Indicator>> {
        let rows = ctx.data::<Loaders>()?.indicators_by_measure.load_one(self.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Indicator).collect())
    }
}
