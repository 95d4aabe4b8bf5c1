//! The events subgraph: the ordered log of status changes (`Event`, keyed by `id`, ordered by
//! `cursor`). The outbox relay, subscriptions, webhooks and the calendar are built on this base.

use async_graphql::{Context, EmptyMutation, EmptySubscription, ID, Object, Result, Schema};
use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use roadmap_common::ServiceError;
use roadmap_common::relay::page_size;

pub const NAME: &str = "events";

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/events");

pub type EventsSchema = Schema<QueryRoot, EmptyMutation, EmptySubscription>;

pub fn schema(pool: Option<PgPool>) -> EventsSchema {
    let mut builder = Schema::build(QueryRoot, EmptyMutation, EmptySubscription).enable_federation();
    if let Some(pool) = pool {
        builder = builder.data(pool);
    }
    builder.finish()
}

pub fn router(pool: PgPool) -> axum::Router {
    roadmap_common::server::graphql_router(schema(Some(pool.clone())), pool)
}

#[derive(FromRow, Clone, Debug)]
pub struct EventRow {
    pub id: Uuid,
    pub cursor: i64,
    pub kind: String,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub occurred_at: DateTime<Utc>,
}

/// One entry of the log.
pub struct Event(pub EventRow);

#[Object]
impl Event {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Position in the log; pass it as `after` to resume.
    async fn cursor(&self) -> String {
        self.0.cursor.to_string()
    }

    async fn kind(&self) -> &str {
        &self.0.kind
    }

    async fn subject_type(&self) -> &str {
        &self.0.subject_type
    }

    async fn subject_id(&self) -> ID {
        ID(self.0.subject_id.to_string())
    }

    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
}

const EVENT_COLUMNS: &str = "id, cursor, kind, subject_type, subject_id, occurred_at";

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The log in order, after the given cursor.
    async fn events(&self, ctx: &Context<'_>, after: Option<String>, first: Option<i32>) -> Result<Vec<Event>> {
        let after = match after {
            Some(a) => a
                .parse::<i64>()
                .map_err(|_| ServiceError::invalid("after", format!("`{a}` is not an event cursor")))?,
            None => 0,
        };
        let limit = page_size(first, 100, 1000)?;
        let rows: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM event WHERE cursor > $1 ORDER BY cursor LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(ctx.data::<PgPool>()?)
        .await
        .map_err(ServiceError::from)?;
        Ok(rows.into_iter().map(Event).collect())
    }

    #[graphql(entity)]
    async fn find_event_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Event>> {
        let id = Uuid::parse_str(id.as_str()).map_err(|_| ServiceError::invalid("id", "is not a valid id"))?;
        let row: Option<EventRow> = sqlx::query_as(&format!("SELECT {EVENT_COLUMNS} FROM event WHERE id = $1"))
            .bind(id)
            .fetch_optional(ctx.data::<PgPool>()?)
            .await
            .map_err(ServiceError::from)?;
        Ok(row.map(Event))
    }
}
