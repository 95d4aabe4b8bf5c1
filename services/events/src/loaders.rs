//! DataLoaders of the events subgraph, one per entity key: events (the `_entities` calls of the
//! gateway and `WebhookDelivery.event`), webhooks and delivery attempts.

use uuid::Uuid;

use crate::store::{self, EventRow};
use crate::webhooks::store::{self as webhook_store, AttemptRow, EndpointRow};

roadmap_common::pg_loaders! {
    event_by_id: EventByIdLoader,
    webhook_by_id: WebhookByIdLoader,
    attempts_by_delivery: AttemptsByDeliveryLoader,
}

roadmap_common::pg_loader!(EventByIdLoader: Uuid => one EventRow = store::events_by_ids, |r| r.id);

roadmap_common::pg_loader!(WebhookByIdLoader: Uuid => one EndpointRow = webhook_store::endpoints_by_ids, |r| r.id);

roadmap_common::pg_loader!(AttemptsByDeliveryLoader: Uuid => many AttemptRow = webhook_store::attempts_by_deliveries, |r| Some(r.delivery_id));
