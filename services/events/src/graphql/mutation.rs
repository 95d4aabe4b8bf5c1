//! `Mutation`: registering, disabling, enabling webhooks and replaying their deliveries. Every
//! mutation is audited in its transaction (`audited`).

use async_graphql::{Context, ID, Object, Result};
use chrono::Utc;
use roadmap_common::ServiceError;
use roadmap_common::auth::{self, Role};
use roadmap_common::error::parse_id;
use sqlx::PgPool;
use uuid::Uuid;

use super::parse_cursor;
use super::webhook::{RegisterWebhookInput, RegisteredWebhook, Webhook, WebhookDelivery};
use crate::filter::Filter;
use crate::loaders::Loaders;
use crate::webhooks::sign::new_secret;
use crate::webhooks::store::{self, EndpointRow};

/// Longest description kept.
const MAX_DESCRIPTION: usize = 2000;

/// Who is acting: the token's subject.
fn actor(ctx: &Context<'_>) -> String {
    auth::actor(ctx).subject.clone()
}

/// Managing webhooks needs a signed-in user with a role (third-party tools get a service
/// account); what a webhook delivers is what its registrant may see, in the registrant's
/// territory ([`crate::scope::Reader::registrant`]).
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
    // The events service owns the trail: its own entries go there directly, not through an outbox.
    let mut entry = roadmap_common::audit::entry(crate::NAME, auth::actor(ctx), action, subject);
    entry.after = Some(after);
    crate::store::insert_audit_entry(tx, &entry)
        .await
        .map_err(ServiceError::from)
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

/// Refuses a filter on a territory outside the registrant's scope: such a webhook would never
/// receive anything, which is a mistake to name, not to store.
async fn require_filter_in_scope(ctx: &Context<'_>, filter: &Filter) -> Result<(), ServiceError> {
    let reader = crate::scope::Reader::registrant(auth::actor(ctx));
    let (Some(scope), Some(territory)) = (reader.scope, filter.territory()) else {
        return Ok(());
    };
    let ancestry = roadmap_common::people::from_ctx(ctx)?
        .territory_ancestry(territory)
        .await
        .map_err(|e| match e {
            ServiceError::Invalid { message, .. } => ServiceError::invalid("input.filter.territory", message),
            other => other,
        })?;
    if ancestry.contains(&scope) {
        return Ok(());
    }
    Err(ServiceError::Forbidden(format!(
        "input.filter.territory: territory {territory} is outside the scope of {} (territory {scope}); \
         a webhook receives only events of its registrant's territory",
        auth::actor(ctx).subject
    )))
}

/// A webhook of the caller's (see [`super::webhook::belongs_to`]), or not found.
async fn own_endpoint(ctx: &Context<'_>, id: Uuid) -> Result<EndpointRow> {
    ctx.data::<Loaders>()?
        .webhook_by_id
        .load_one(id)
        .await?
        .filter(|row| super::webhook::belongs_to(auth::actor(ctx), row))
        .ok_or_else(|| ServiceError::not_found("webhook", id).into())
}

/// An existing, enabled webhook of the caller's, or an error naming `field`.
async fn enabled_endpoint(ctx: &Context<'_>, field: &str, id: Uuid) -> Result<EndpointRow> {
    let endpoint = own_endpoint(ctx, id).await?;
    if !endpoint.enabled {
        return Err(ServiceError::invalid(field, format!("webhook {id} is disabled; enable it first")).into());
    }
    Ok(endpoint)
}

/// Enables or disables an endpoint of the caller's, audited, in one transaction.
async fn set_enabled(ctx: &Context<'_>, id: Uuid, enabled: bool, reason: Option<&str>) -> Result<Webhook> {
    own_endpoint(ctx, id).await?;
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

pub struct MutationRoot;

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
        require_filter_in_scope(ctx, &filter).await?;
        let secret = new_secret().map_err(|e| ServiceError::internal_msg(e.to_string()))?;
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
            registrant: Some(crate::scope::registrant_json(auth::actor(ctx))),
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
        let queued = store::requeue_after(&mut tx, id, &filter, &endpoint.reader(), after)
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
