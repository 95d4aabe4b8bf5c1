//! `Query`: the log, the webhooks, the audit trail, and the `Event` entity the router resolves
//! here.

use async_graphql::{Context, ID, Object, Result};
use roadmap_common::ServiceError;
use roadmap_common::auth::{self, Role};
use roadmap_common::error::parse_id;
use roadmap_common::relay::page_size;
use sqlx::PgPool;

use super::audit::{AuditEntry, AuditFilter};
use super::webhook::Webhook;
use super::{Event, EventFilter, parse_cursor, parse_seq};
use crate::filter::Filter;
use crate::loaders::Loaders;
use crate::scope::Reader;
use crate::store::{self, AuditConditions};

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The log in order, after the given cursor, optionally filtered.
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Vec<Event>> {
        let filter = Filter::parse(filter)?;
        let after = parse_cursor(after)?.unwrap_or(0);
        let limit = page_size(first, 100, 1000)?;
        let reader = Reader::of(auth::actor(ctx));
        let rows = store::read_log(ctx.data::<PgPool>()?, &filter, &reader, after, limit)
            .await
            .map_err(ServiceError::from)?;
        Ok(rows.into_iter().map(Event).collect())
    }

    #[graphql(entity)]
    async fn find_event_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Event>> {
        let id = parse_id("id", &id)?;
        let row = ctx.data::<Loaders>()?.event_by_id.load_one(id).await?;
        let reader = Reader::of(auth::actor(ctx));
        Ok(row.filter(|r| reader.sees(r)).map(Event))
    }

    /// Every registered webhook, oldest first.
    /// The webhooks the caller registered (admins: every one; anonymous callers: none). An
    /// endpoint's URL and filter are its registrant's business.
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<Webhook>> {
        let actor = auth::actor(ctx);
        if actor.is_anonymous() {
            return Ok(Vec::new());
        }
        let rows = crate::webhooks::store::endpoints(ctx.data::<PgPool>()?)
            .await
            .map_err(ServiceError::from)?;
        Ok(rows
            .into_iter()
            .filter(|row| super::webhook::belongs_to(actor, row))
            .map(Webhook)
            .collect())
    }

    /// A webhook the caller registered (admins: any); `null` otherwise.
    async fn webhook(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Webhook>> {
        let id = parse_id("id", &id)?;
        let row = ctx.data::<Loaders>()?.webhook_by_id.load_one(id).await?;
        Ok(row
            .filter(|row| super::webhook::belongs_to(auth::actor(ctx), row))
            .map(Webhook))
    }

    /// The audit trail in order (auditors and admins only).
    async fn audit_trail(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Vec<AuditEntry>> {
        auth::actor(ctx).require(&[Role::Auditor], "reading the audit trail")?;
        let filter = filter.unwrap_or_default();
        let after = match after {
            Some(a) => parse_seq("after", &a, "an audit cursor")?,
            None => 0,
        };
        let conditions = AuditConditions {
            subject: filter
                .subject
                .as_ref()
                .map(|s| parse_id("filter.subject", s))
                .transpose()?,
            actor: filter.actor,
            action: filter.action,
            service: filter.service,
        };
        let limit = page_size(first, 100, 1000)?;
        let rows = store::audit_trail(ctx.data::<PgPool>()?, &conditions, after, limit)
            .await
            .map_err(ServiceError::from)?;
        Ok(rows.into_iter().map(AuditEntry).collect())
    }
}
