//! DataLoaders of the events subgraph, one per entity key: events (the `_entities` calls of the
//! gateway and `WebhookDelivery.event`), webhooks and delivery attempts.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use roadmap_common::LoadError;
use roadmap_common::ServiceError;
use roadmap_common::loaders::{group_by, loader};
use roadmap_common::metrics::Measured;
use sqlx::PgPool;
use uuid::Uuid;

use crate::store::{self, EventRow};
use crate::webhooks::store::{self as webhook_store, AttemptRow, EndpointRow};

pub struct Loaders {
    pub event_by_id: DataLoader<Measured<EventByIdLoader>>,
    pub webhook_by_id: DataLoader<Measured<WebhookByIdLoader>>,
    pub attempts_by_delivery: DataLoader<Measured<AttemptsByDeliveryLoader>>,
}

impl Loaders {
    pub fn new(pool: PgPool) -> Self {
        Self {
            event_by_id: loader(EventByIdLoader(pool.clone())),
            webhook_by_id: loader(WebhookByIdLoader(pool.clone())),
            attempts_by_delivery: loader(AttemptsByDeliveryLoader(pool)),
        }
    }
}

pub struct EventByIdLoader(PgPool);

impl Loader<Uuid> for EventByIdLoader {
    type Value = EventRow;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, EventRow>, Self::Error> {
        let rows = store::events_by_ids(&self.0, keys).await.map_err(ServiceError::from)?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

pub struct WebhookByIdLoader(PgPool);

impl Loader<Uuid> for WebhookByIdLoader {
    type Value = EndpointRow;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, EndpointRow>, Self::Error> {
        let rows = webhook_store::endpoints_by_ids(&self.0, keys)
            .await
            .map_err(ServiceError::from)?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

pub struct AttemptsByDeliveryLoader(PgPool);

impl Loader<Uuid> for AttemptsByDeliveryLoader {
    type Value = Vec<AttemptRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<AttemptRow>>, Self::Error> {
        let rows = webhook_store::attempts_by_deliveries(&self.0, keys)
            .await
            .map_err(ServiceError::from)?;
        Ok(group_by(rows, |r| Some(r.delivery_id)))
    }
}
