//! `Query`: plans (paginated, drafts only for those who may see them), a plan, a measure, and
//! the entity resolvers the gateway calls for `Plan` and `Measure` references.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, ID, Object, Result};
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::relay::{decode_cursor, encode_cursor, page_size};
use roadmap_common::{ServiceError, parse_id};

use crate::access;
use crate::graphql::measure;
use crate::graphql::{ImportPreview, ImportRoadmapInput, Measure, Plan, PlanLevel, Territory};
use crate::loaders::Loaders;
use crate::store;

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// Plans ordered by title, filtered by level and by the territory they belong to.
    async fn plans(
        &self,
        ctx: &Context<'_>,
        level: Option<PlanLevel>,
        territory: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Plan, EmptyFields, EmptyFields>> {
        let territory = territory.as_ref().map(|t| parse_id("territory", t)).transpose()?;
        let limit = page_size(first, 20, 200)?;
        let after = match after {
            Some(c) => {
                let key = decode_cursor("after", &c)?;
                Some(Uuid::parse_str(&key).map_err(|_| ServiceError::invalid("after", "is not a plan cursor"))?)
            }
            None => None,
        };
        let drafts = access::draft_territories(ctx).await?;
        let mut rows = store::list_plans(
            ctx.data::<PgPool>()?,
            level.map(PlanLevel::as_db),
            territory,
            after,
            limit + 1,
            drafts.as_deref(),
        )
        .await?;
        let has_next = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(
            rows.into_iter()
                .map(|r| Edge::new(encode_cursor(&r.id.to_string()), Plan(r))),
        );
        Ok(connection)
    }

    /// A plan; `null` for a draft the caller may not see.
    async fn plan(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Plan>> {
        let id = parse_id("id", &id)?;
        match ctx.data::<Loaders>()?.plan_by_id.load_one(id).await? {
            Some(row) if access::may_see(ctx, &row).await? => Ok(Some(Plan(row))),
            _ => Ok(None),
        }
    }

    /// A measure; `null` when it belongs to a draft the caller may not see.
    async fn measure(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Measure>> {
        let id = parse_id("id", &id)?;
        // The measure and its plan in one statement: the plan decides visibility and is then at
        // hand for `plan { ... }` (a trace from here costs one more statement, whatever its size).
        let loaders = ctx.data::<Loaders>()?;
        // Its traces, when asked, are read at the same time (`measure::read_traces_ahead`).
        let (row, ()) = futures::future::join(
            loaders.measure_with_plan_by_id.load_one(id),
            measure::read_traces_ahead(ctx.look_ahead().selection_fields(), loaders, id),
        )
        .await;
        let Some(row) = row? else {
            return Ok(None);
        };
        if let Some(plan) = row.plan {
            loaders.plan_by_id.feed_one(plan.0.id, plan.0).await;
        }
        loaders.measure_by_id.feed_one(id, row.measure.clone()).await;
        access::visible_measure(ctx, Some(row.measure)).await
    }

    /// What `importRoadmap` with this input would do, without doing it: the report (status,
    /// version, changes against the stored plan, lint findings, unresolved names), the territories
    /// it would create, and every parsed row next to its source line. Nothing is stored. Needs the
    /// permission of the import itself.
    async fn import_preview(&self, ctx: &Context<'_>, input: ImportRoadmapInput) -> Result<ImportPreview> {
        let people = roadmap_common::people::from_ctx(ctx)?;
        let bytes = input.bytes()?;
        let options = input.options(roadmap_common::auth::actor(ctx).clone());
        let preview = crate::import::preview_document(ctx.data::<PgPool>()?, people, &bytes, &options).await?;
        Ok(ImportPreview(preview))
    }

    #[graphql(entity)]
    async fn find_plan_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Plan>> {
        self.plan(ctx, id).await
    }

    /// A territory reference (for the fields this subgraph adds to it).
    #[graphql(entity)]
    async fn find_territory_by_id(&self, id: ID) -> Territory {
        Territory { id }
    }

    #[graphql(entity)]
    async fn find_measure_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Measure>> {
        self.measure(ctx, id).await
    }
}
