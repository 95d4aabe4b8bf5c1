//! DataLoaders of the events subgraph, one per entity key: events (the `_entities` calls of the
//! gateway and `WebhookDelivery.event`), webhooks and delivery attempts.

use async_graphql::dataloader::DataLoader;
use roadmap_common::loaders::loader;
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

roadmap_common::pg_loader!(EventByIdLoader: Uuid => one EventRow = store::events_by_ids, |r| r.id);

roadmap_common::pg_loader!(WebhookByIdLoader: Uuid => one EndpointRow = webhook_store::endpoints_by_ids, |r| r.id);

roadmap_common::pg_loader!(AttemptsByDeliveryLoader: Uuid => many AttemptRow = webhook_store::attempts_by_deliveries, |r| Some(r.delivery_id));
