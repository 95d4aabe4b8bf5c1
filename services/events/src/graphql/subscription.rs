//! `Subscription.statusChanged`: the replay of [`crate::live`] behind the schema.

use async_graphql::{Context, Result, Subscription};
use futures::Stream;
use sqlx::PgPool;

use super::{Event, EventFilter, parse_cursor};
use crate::filter::Filter;
use crate::live::{self, Live};
use crate::scope::Reader;

pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Status changes as they happen. With `after` (a cursor from `Event.cursor` or
    /// `Query.events`), first every matching event after it, then live ones: no gap, no
    /// duplicate.
    async fn status_changed(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Event, async_graphql::Error>> + use<>> {
        let filter = Filter::parse(filter)?;
        let after = parse_cursor(after)?;
        let pool = ctx.data::<PgPool>()?.clone();
        let reader = Reader::of(roadmap_common::auth::actor(ctx));
        Ok(live::replay(pool, ctx.data::<Live>()?, filter, reader, after).await?)
    }
}
