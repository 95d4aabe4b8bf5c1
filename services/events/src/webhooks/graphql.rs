//! GraphQL of the webhooks: types, `Query.webhooks` / `Query.webhook` (called from the
//! subgraph's `QueryRoot`) and the subgraph's `MutationRoot`.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use roadmap_common::ServiceError;
use roadmap_common::auth::{self, Role};
use roadmap_common::relay::{decode_cursor, encode_cursor, page_size};
use sqlx::PgPool;
use uuid::Uuid;

use super::sign::new_secret;
use super::store::{self, AttemptRow, DeliveryRow, EndpointRow};
use crate::loaders::Loaders;
use crate::{Event, EventFilter, EventKind, Filter, parse_cursor};

/// Longest description kept.
const MAX_DESCRIPTION: usize = 2000;

/// Who is acting: the token's subject.
fn actor(ctx: &Context<'_>) -> String {
    auth::actor(ctx).subject.clone()
}

/// Managing webhooks needs a signed-in user with a role (third-party tools get a service
/// account); what they deliver is what `statusChanged` shows anyone.
fn require_manager(ctx: &Context<'_>, doing: &str) -> Result<(), ServiceError> {
    auth::actor(ctx).require(&[Role::Viewer, Role::Editor, Role::Coordinator, Role::Auditor], doing)
}

async fn audited(
    tx: &mut sqlx::PgConnection,
    ctx: &Context<'_>,
    action: &str,
    subject: (&str, Uuid),
    after: serde_json::Value,
) -> Result<(), ServiceError> {
    crate::audit::record_local(tx, auth::actor(ctx), action, subject, None, Some(after))
        .await
        .map_err(ServiceError::from)
}

fn parse_id(field: &str, id: &ID) -> Result<Uuid, ServiceError> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| ServiceError::invalid(field, format!("`{}` is not a valid id", id.as_str())))
}

/// An http or https URL with a host, as written by the user (normalised).
fn parse_url(field: &str, text: &str) -> Result<String, ServiceError> {
    let text = text.trim();
    let url =
        reqwest::Url::parse(text).map_err(|e| ServiceError::invalid(field, format!("`{text}` is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ServiceError::invalid(
            field,
            format!("`{}` URLs are not allowed; use http or https", url.scheme()),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ServiceError::invalid(field, format!("`{text}` has no host")));
    }
    Ok(url.to_string())
}

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

impl WebhookDeliveryState {
    fn as_db(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Delivered => "DELIVERED",
            Self::Failed => "FAILED",
        }
    }

    fn from_db(state: &str) -> Self {
        match state {
            "DELIVERED" => Self::Delivered,
            "FAILED" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

/// One event to one webhook, with every attempt to send it.
pub struct WebhookDelivery(pub DeliveryRow);

/// One event to one webhook, with every attempt to send it.
#[Object]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn state(&self) -> WebhookDeliveryState {
        WebhookDeliveryState::from_db(&self.0.state)
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

pub(crate) async fn list(ctx: &Context<'_>) -> Result<Vec<Webhook>> {
    let rows = store::endpoints(ctx.data::<PgPool>()?)
        .await
        .map_err(ServiceError::from)?;
    Ok(rows.into_iter().map(Webhook).collect())
}

pub(crate) async fn find(ctx: &Context<'_>, id: &ID) -> Result<Option<Webhook>> {
    let id = parse_id("id", id)?;
    Ok(ctx.data::<Loaders>()?.webhook_by_id.load_one(id).await?.map(Webhook))
}

/// An existing, enabled webhook, or an error naming `field`.
async fn enabled_endpoint(ctx: &Context<'_>, field: &str, id: Uuid) -> Result<EndpointRow> {
    let endpoint = ctx
        .data::<Loaders>()?
        .webhook_by_id
        .load_one(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("webhook", id))?;
    if !endpoint.enabled {
        return Err(ServiceError::invalid(field, format!("webhook {id} is disabled; enable it first")).into());
    }
    Ok(endpoint)
}

pub struct MutationRoot;

/// Enables or disables an endpoint, audited, in one transaction.
async fn set_enabled(ctx: &Context<'_>, id: Uuid, enabled: bool, reason: Option<&str>) -> Result<Webhook> {
    let mut tx = ctx.data::<PgPool>()?.begin().await.map_err(ServiceError::from)?;
    let row = store::set_enabled(&mut tx, id, enabled, reason)
        .await
        .map_err(ServiceError::from)?
        .ok_or_else(|| ServiceError::not_found("webhook", id))?;
    let action = if enabled { "enableWebhook" } else { "disableWebhook" };
    let after = serde_json::json!({ "enabled": enabled, "reason": reason });
    audited(&mut tx, ctx, action, ("Webhook", id), after).await?;
    tx.commit().await.map_err(ServiceError::from)?;
    Ok(Webhook(row))
}

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Registers an endpoint for the events `filter` matches, from now on; returns it with its
    /// signing secret (shown only here).
    async fn register_webhook(&self, ctx: &Context<'_>, input: RegisterWebhookInput) -> Result<RegisteredWebhook> {
        require_manager(ctx, "registering a webhook")?;
        let url = parse_url("input.url", &input.url)?;
        let description = input.description.unwrap_or_default().trim().to_string();
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(ServiceError::invalid(
                "input.description",
                format!("is longer than {MAX_DESCRIPTION} characters"),
            )
            .into());
        }
        let filter = Filter::parse_at("input.filter", input.filter)?;
        let secret = new_secret().map_err(|e| ServiceError::internal(std::io::Error::other(e.to_string())))?;
        let row = EndpointRow {
            id: Uuid::new_v4(),
            url,
            description,
            filter: serde_json::to_value(&filter).map_err(ServiceError::internal)?,
            secret: secret.clone(),
            enabled: true,
            disabled_reason: None,
            created_at: Utc::now(),
            created_by: actor(ctx),
        };
        let mut tx = ctx.data::<PgPool>()?.begin().await.map_err(ServiceError::from)?;
        let row = store::insert_endpoint(&mut tx, &row)
            .await
            .map_err(ServiceError::from)?;
        let after = serde_json::json!({ "url": row.url, "description": row.description, "filter": row.filter });
        audited(&mut tx, ctx, "registerWebhook", ("Webhook", row.id), after).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(RegisteredWebhook {
            webhook: Webhook(row),
            secret,
        })
    }

    /// Stops deliveries to a webhook: no new ones are created and pending ones wait.
    async fn disable_webhook(&self, ctx: &Context<'_>, id: ID, reason: Option<String>) -> Result<Webhook> {
        require_manager(ctx, "disabling a webhook")?;
        let id = parse_id("id", &id)?;
        let reason = reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| format!("disabled by {}", actor(ctx)));
        set_enabled(ctx, id, false, Some(&reason)).await
    }

    /// Resumes deliveries to a webhook; its pending deliveries go out again. Events logged while
    /// it was disabled are not sent unless replayed (`replayWebhookEvents`).
    async fn enable_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<Webhook> {
        require_manager(ctx, "enabling a webhook")?;
        let id = parse_id("id", &id)?;
        set_enabled(ctx, id, true, None).await
    }

    /// Sends one delivery again now, with a fresh retry schedule and the same `webhook-id`.
    async fn replay_webhook_delivery(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookDelivery> {
        require_manager(ctx, "replaying a webhook delivery")?;
        let id = parse_id("id", &id)?;
        let pool = ctx.data::<PgPool>()?;
        let delivery = store::delivery(pool, id)
            .await
            .map_err(ServiceError::from)?
            .ok_or_else(|| ServiceError::not_found("webhook delivery", id))?;
        enabled_endpoint(ctx, "id", delivery.endpoint_id).await?;
        let mut tx = pool.begin().await.map_err(ServiceError::from)?;
        let row = store::requeue(&mut tx, id)
            .await
            .map_err(ServiceError::from)?
            .ok_or_else(|| ServiceError::not_found("webhook delivery", id))?;
        let after = serde_json::json!({ "delivery": id, "event": row.event_id });
        audited(
            &mut tx,
            ctx,
            "replayWebhookDelivery",
            ("Webhook", row.endpoint_id),
            after,
        )
        .await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(WebhookDelivery(row))
    }

    /// Sends a webhook every matching event of the log after `after` (an event cursor; absent:
    /// the whole log) again, e.g. after an outage of the receiver: missing deliveries are
    /// created, existing ones are sent again. Returns how many deliveries were queued.
    async fn replay_webhook_events(&self, ctx: &Context<'_>, endpoint: ID, after: Option<String>) -> Result<i32> {
        require_manager(ctx, "replaying webhook events")?;
        let id = parse_id("endpoint", &endpoint)?;
        let after = parse_cursor(after)?.unwrap_or(0);
        let endpoint = enabled_endpoint(ctx, "endpoint", id).await?;
        let filter = endpoint
            .filter()
            .ok_or_else(|| ServiceError::invalid("endpoint", "its stored filter cannot be read"))?;
        let mut tx = ctx.data::<PgPool>()?.begin().await.map_err(ServiceError::from)?;
        let queued = store::requeue_after(&mut tx, id, &filter, after)
            .await
            .map_err(ServiceError::from)?;
        let record = serde_json::json!({ "after": after, "queued": queued });
        audited(&mut tx, ctx, "replayWebhookEvents", ("Webhook", id), record).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(i32::try_from(queued).unwrap_or(i32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_with_a_host() {
        assert_eq!(
            parse_url("input.url", " https://example.org/hook ").unwrap(),
            "https://example.org/hook"
        );
        for bad in [
            "ftp://example.org/",
            "not a url",
            "http://",
            "mailto:someone@example.org",
        ] {
            let err = async_graphql::Error::from(parse_url("input.url", bad).unwrap_err()).message;
            assert!(err.starts_with("input.url: "), "{bad}: {err}");
        }
    }
}
