//! The webhooks' types: `Webhook`, `WebhookFilter`, `WebhookDelivery`, `WebhookDeliveryState`,
//! `WebhookAttempt`, `RegisterWebhookInput`, `RegisteredWebhook` (what they do: [`crate::webhooks`];
//! their mutations: `mutation.rs`).

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use roadmap_common::ServiceError;
use roadmap_common::relay::{decode_cursor, encode_cursor, page_size};
use sqlx::PgPool;

use super::{Event, EventFilter, EventKind};
use crate::loaders::Loaders;
use crate::webhooks::store::{self, AttemptRow, DeliveryRow, EndpointRow};

/// An HTTP endpoint that receives the events its filter matches.
pub struct Webhook(pub EndpointRow);

/// The conditions of a webhook, as given at registration (see `EventFilter`).
#[derive(SimpleObject)]
pub struct WebhookFilter {
    pub territory: Option<ID>,
    pub plan: Option<ID>,
    pub level: Option<String>,
    pub kinds: Option<Vec<EventKind>>,
    pub under_measure: Option<ID>,
}

/// An HTTP endpoint that receives the events its filter matches, signed per Standard Webhooks.
#[Object]
impl Webhook {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn url(&self) -> &str {
        &self.0.url
    }

    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Which events it receives; absent conditions match everything.
    async fn filter(&self) -> WebhookFilter {
        let f = self.0.filter().unwrap_or_default();
        WebhookFilter {
            territory: f.territory.map(ID),
            plan: f.plan.map(ID),
            level: f.level,
            kinds: f
                .kinds
                .map(|k| k.iter().filter_map(|k| EventKind::from_db(k)).collect()),
            under_measure: f.under_measure.map(ID),
        }
    }

    /// Disabled endpoints get no new deliveries and their pending ones wait.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// Why it is disabled (by `disableWebhook`, or the endpoint answered 410 Gone).
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn created_by(&self) -> &str {
        &self.0.created_by
    }

    /// Its deliveries in log order (one per matching event), optionally in one state.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        state: Option<WebhookDeliveryState>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, WebhookDelivery, EmptyFields, EmptyFields>> {
        let limit = page_size(first, 20, 200)?;
        let after_cursor = match &after {
            Some(c) => decode_cursor("after", c)?
                .parse::<i64>()
                .map_err(|_| ServiceError::invalid("after", "is not a delivery cursor"))?,
            None => 0,
        };
        let mut rows = store::deliveries(
            ctx.data::<PgPool>()?,
            self.0.id,
            state.map(WebhookDeliveryState::as_db),
            after_cursor,
            limit + 1,
        )
        .await
        .map_err(ServiceError::from)?;
        let has_next = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(
            rows.into_iter()
                .map(|r| Edge::new(encode_cursor(&r.event_cursor.to_string()), WebhookDelivery(r))),
        );
        Ok(connection)
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum WebhookDeliveryState {
    /// An attempt is due at `nextAttemptAt`.
    Pending,
    Delivered,
    /// The retry schedule is exhausted, or the endpoint answered 410 Gone.
    Failed,
}

roadmap_common::db_enum!(WebhookDeliveryState {
    Pending => "PENDING",
    Delivered => "DELIVERED",
    Failed => "FAILED",
});

/// One event to one webhook, with every attempt to send it.
pub struct WebhookDelivery(pub DeliveryRow);

/// One event to one webhook, with every attempt to send it.
#[Object]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn state(&self) -> WebhookDeliveryState {
        WebhookDeliveryState::from_db(&self.0.state).unwrap_or(WebhookDeliveryState::Pending)
    }

    /// Attempts made so far, replays included.
    async fn attempt_count(&self) -> i32 {
        self.0.attempts
    }

    /// When the next attempt is due (pending deliveries only).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_attempt_at
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }

    /// The event sent; its id is the `webhook-id` header.
    async fn event(&self, ctx: &Context<'_>) -> Result<Option<Event>> {
        Ok(ctx
            .data::<Loaders>()?
            .event_by_id
            .load_one(self.0.event_id)
            .await?
            .map(Event))
    }

    async fn webhook(&self, ctx: &Context<'_>) -> Result<Option<Webhook>> {
        Ok(ctx
            .data::<Loaders>()?
            .webhook_by_id
            .load_one(self.0.endpoint_id)
            .await?
            .map(Webhook))
    }

    /// Every attempt, first to last.
    async fn attempts(&self, ctx: &Context<'_>) -> Result<Vec<WebhookAttempt>> {
        Ok(ctx
            .data::<Loaders>()?
            .attempts_by_delivery
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(WebhookAttempt)
            .collect())
    }
}

/// One try to send a delivery.
pub struct WebhookAttempt(pub AttemptRow);

/// One try to send a delivery.
#[Object]
impl WebhookAttempt {
    /// 1 for the first attempt of the delivery.
    async fn number(&self) -> i32 {
        self.0.number
    }

    async fn attempted_at(&self) -> DateTime<Utc> {
        self.0.attempted_at
    }

    /// The HTTP status answered; absent when no answer came.
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }

    /// Why no answer came (timeout, connection refused, ...).
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    /// From sending the request to the answer (or the error), in milliseconds.
    async fn duration_ms(&self) -> i32 {
        self.0.duration_ms
    }
}

#[derive(InputObject)]
pub struct RegisterWebhookInput {
    /// Where to POST events: an http or https URL.
    pub url: String,
    pub description: Option<String>,
    /// Which events to send; none: every event.
    pub filter: Option<EventFilter>,
}

/// A new webhook and its signing secret, shown only here.
#[derive(SimpleObject)]
pub struct RegisteredWebhook {
    pub webhook: Webhook,
    /// `whsec_` + base64 key: verify `webhook-signature` with it (any Standard Webhooks library).
    pub secret: String,
}

/// Who reads and manages a webhook's registration: its registrant and admins. To anyone else
/// it does not exist (its URL and filter are the registrant's business).
pub(crate) fn belongs_to(actor: &roadmap_common::auth::Actor, row: &crate::webhooks::store::EndpointRow) -> bool {
    actor.has(roadmap_common::auth::Role::Admin) || (!actor.is_anonymous() && row.created_by == actor.subject)
}
