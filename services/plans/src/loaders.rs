//! DataLoaders of the plans subgraph, one set per request ([`PerRequest`]).
//!
//! Each request gets fresh loaders that keep what they read for the rest of the request: a plan
//! read to decide a measure's visibility is not read again for `plan { level }`, and a statement
//! that already read rows hands them over with `feed_many` (a trace reads its nodes' measures,
//! statuses and plans with its edges, [`crate::graphql::Measure`]'s `trace`, and hands them over
//! when the resolvers answer it rather than its one-pass answer: `Known::feed` in
//! `graphql/trace.rs`). Nothing outlives the request, so nothing is served stale across
//! requests. Mutations run with the cache off (rows change between the reads of one request),
//! batching only.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Request, ServerResult, Variables};
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::LoadError;

use crate::store::{
    self, LinkRow, LintRow, MeasureRow, MeasureWithPlanRow, PlanRow, PlanVersionRow, ReachRow, ReachedRow, ReportRow,
    RolledRow, SectionRow, StatusRow, TraceNodeRow, TraceRow, VersionTextRow,
};

roadmap_common::pg_loaders! {
    per request;
    plan_by_id: PlanByIdLoader,
    sections_by_plan: SectionsByPlanLoader,
    measure_by_id: MeasureByIdLoader,
    measure_with_plan_by_id: MeasureWithPlanByIdLoader,
    measures_by_section: MeasuresBySectionLoader,
    measures_by_plan: MeasuresByPlanLoader,
    measures_by_parent: MeasuresByParentLoader,
    responsible_by_measure: ResponsibleByMeasureLoader,
    lint_by_plan: LintByPlanLoader,
    trace_down: TraceByMeasureLoader(store::Direction::Down),
    trace_up: TraceByMeasureLoader(store::Direction::Up),
    trace_nodes_down: TraceNodesByMeasureLoader(store::Direction::Down),
    trace_nodes_up: TraceNodesByMeasureLoader(store::Direction::Up),
    reach_by_measure: ReachByMeasureLoader,
    reach_territories_by_measure: ReachTerritoriesByMeasureLoader,
    link_by_id: LinkByIdLoader,
    status_by_measure: StatusByMeasureLoader,
    rolled_by_measure: RolledByMeasureLoader,
    parents_by_plan: ParentsByPlanLoader,
    reports_by_measure: ReportsByMeasureLoader,
    versions_by_plan: VersionsByPlanLoader,
    text_by_version: TextByVersionLoader,
}

impl Loaders {
    /// Hands rows a statement already read to the loaders that would read them again: measures,
    /// their statuses and their plans.
    pub async fn feed(
        &self,
        measures: impl IntoIterator<Item = MeasureRow>,
        statuses: impl IntoIterator<Item = StatusRow>,
        plans: impl IntoIterator<Item = PlanRow>,
    ) {
        self.measure_by_id
            .feed_many(measures.into_iter().map(|m| (m.id, m)))
            .await;
        self.status_by_measure
            .feed_many(statuses.into_iter().map(|s| (s.id, s)))
            .await;
        self.plan_by_id.feed_many(plans.into_iter().map(|p| (p.id, p))).await;
    }
}

/// The schema extension that gives every request its own [`Loaders`] (request data, found by
/// `ctx.data::<Loaders>()` like schema data), with the cache off for mutations.
pub struct PerRequest(pub PgPool);

impl ExtensionFactory for PerRequest {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequestExtension(self.0.clone()))
    }
}

struct PerRequestExtension(PgPool);

#[async_graphql::async_trait::async_trait]
impl Extension for PerRequestExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        next.run(ctx, request.data(Loaders::new(self.0.clone()))).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mutation = document
            .operations
            .iter()
            .any(|(_, op)| op.node.ty == OperationType::Mutation);
        if mutation && let Some(loaders) = ctx.data_opt::<Loaders>() {
            loaders.uncached();
        }
        Ok(document)
    }
}

roadmap_common::pg_loader!(PlanByIdLoader: Uuid => one PlanRow = store::plans_by_ids, |r| r.id);

roadmap_common::pg_loader!(SectionsByPlanLoader: Uuid => many SectionRow = store::sections_by_plans, |r| Some(r.plan_id));

roadmap_common::pg_loader!(MeasureByIdLoader: Uuid => one MeasureRow = store::measures_by_ids, |r| r.id);

roadmap_common::pg_loader!(
    /// A measure with its plan (where a request starts from a measure: see `store::measures_with_plans`).
    MeasureWithPlanByIdLoader: Uuid => one MeasureWithPlanRow = store::measures_with_plans, |r| r.measure.id);

roadmap_common::pg_loader!(MeasuresBySectionLoader: Uuid => many MeasureRow = store::measures_by_sections, |r| r.section_id);

roadmap_common::pg_loader!(MeasuresByPlanLoader: Uuid => many MeasureRow = store::measures_by_plans, |r| Some(r.plan_id));

roadmap_common::pg_loader!(MeasuresByParentLoader: Uuid => many MeasureRow = store::measures_by_parents, |r| r.parent_measure_id);

roadmap_common::pg_loader!(
    /// Organisation ids responsible for each measure, in document order.
    ResponsibleByMeasureLoader: Uuid => pairs Uuid = store::responsible_by_measures);

roadmap_common::pg_loader!(LintByPlanLoader: Uuid => many LintRow = store::lint_by_plans, |r| Some(r.plan_id));

/// A trace request: from this measure, this many levels.
pub type TraceKey = (Uuid, i32);

/// A trace request that reads the nodes too: from this measure, this many levels, reading this.
pub type TraceNodesKey = (Uuid, i32, store::NodeReads);

/// The rows of each key out of one statement for all of them: a key's root, down to its depth.
/// A row goes to the last key that wants it without a copy (most batches have one key per root).
fn split_traces<K: Copy + Eq + std::hash::Hash, R: Clone>(
    rows: Vec<R>,
    keys: &[K],
    root_and_depth: impl Fn(&K) -> (Uuid, i32),
    edge: impl Fn(&R) -> &TraceRow,
) -> HashMap<K, Vec<R>> {
    // One key (a trace asked once, the common case): its rows are the statement's, kept in place.
    if let [key] = keys {
        let (root, depth) = root_and_depth(key);
        let mut rows = rows;
        rows.retain(|r| edge(r).root == root && edge(r).depth <= depth);
        return HashMap::from([(*key, rows)]);
    }
    let mut wanting: HashMap<Uuid, Vec<(K, i32)>> = HashMap::new();
    for key in keys {
        let (root, depth) = root_and_depth(key);
        wanting.entry(root).or_default().push((*key, depth));
    }
    let mut out: HashMap<K, Vec<R>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        let (root, depth) = (edge(&row).root, edge(&row).depth);
        let Some(keys) = wanting.get(&root) else { continue };
        let Some(last) = keys.iter().rposition(|&(_, d)| depth <= d) else {
            continue;
        };
        for (key, d) in &keys[..last] {
            if depth <= *d
                && let Some(rows) = out.get_mut(key)
            {
                rows.push(row.clone());
            }
        }
        if let Some(rows) = out.get_mut(&keys[last].0) {
            rows.push(row);
        }
    }
    out
}

/// Links from measures, one way (see [`store::Direction`]): one recursive statement for all the
/// traces of that direction a request asks for.
pub struct TraceByMeasureLoader(PgPool, store::Direction);

impl Loader<TraceKey> for TraceByMeasureLoader {
    type Value = Vec<TraceRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[TraceKey]) -> Result<HashMap<TraceKey, Vec<TraceRow>>, LoadError> {
        let roots: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let depth = keys.iter().map(|k| k.1).max().unwrap_or(1);
        Ok(split_traces(
            store::trace(&self.0, self.1, &roots, depth).await?,
            keys,
            |k| *k,
            |r| r,
        ))
    }
}

/// [`TraceByMeasureLoader`] with the reached measures, statuses and plans, in the same one
/// statement (`store::trace_nodes`, reading what all the batch's keys ask together); shared
/// (`Arc`) since a request's cache hands out clones.
pub struct TraceNodesByMeasureLoader(PgPool, store::Direction);

impl Loader<TraceNodesKey> for TraceNodesByMeasureLoader {
    type Value = Arc<Vec<TraceNodeRow>>;
    type Error = LoadError;

    async fn load(&self, keys: &[TraceNodesKey]) -> Result<HashMap<TraceNodesKey, Self::Value>, LoadError> {
        let roots: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let depth = keys.iter().map(|k| k.1).max().unwrap_or(1);
        let reads = keys.iter().fold(store::NodeReads::default(), |all, k| all.union(k.2));
        let rows = store::trace_nodes(&self.0, self.1, &roots, depth, reads).await?;
        Ok(split_traces(rows, keys, |k| (k.0, k.1), |r| &r.edge)
            .into_iter()
            .map(|(k, v)| (k, Arc::new(v)))
            .collect())
    }
}

roadmap_common::pg_loader!(
    /// Where each measure is carried out: territories (with plan state) of the plans whose
    /// measures implement it at any depth, with those measures (`store::reached`, cached in the
    /// database, current whatever changed).
    ReachByMeasureLoader: Uuid => many ReachedRow = store::reached, |r| Some(r.reach.root));

roadmap_common::pg_loader!(
    /// [`ReachByMeasureLoader`] without the measures: the territories (with plan state) only,
    /// for readers that count territories (`store::reached_territories`).
    ReachTerritoriesByMeasureLoader: Uuid => many ReachRow = store::reached_territories, |r| Some(r.root));

roadmap_common::pg_loader!(LinkByIdLoader: Uuid => one LinkRow = store::links_by_ids, |r| r.id);

roadmap_common::pg_loader!(
    /// Status, progress, weight and due date; read fresh (statuses change often, rows rarely).
    StatusByMeasureLoader: Uuid => one StatusRow = store::statuses, |r| r.id);

roadmap_common::pg_loader!(
    /// The rolled-up progress of measures whose status was read without it
    /// ([`StatusRow::rolled_read`]: a trace that did not ask for it).
    RolledByMeasureLoader: Uuid => one RolledRow = store::rolled_progress, |r| r.id);

roadmap_common::pg_loader!(
    /// Plans a plan declares it implements.
    ParentsByPlanLoader: Uuid => pairs Uuid = store::plan_parents);

roadmap_common::pg_loader!(
    /// Every occurrence report revision of a measure, by date then revision.
    ReportsByMeasureLoader: Uuid => many ReportRow = store::reports_by_measures, |r| Some(r.measure_id));

roadmap_common::pg_loader!(
    /// A plan's stored versions, newest first (their texts are not read).
    VersionsByPlanLoader: Uuid => many PlanVersionRow = store::versions_by_plans, |r| Some(r.plan_id));

roadmap_common::pg_loader!(
    /// The source text of a (plan, version): what a comparison of versions parses.
    TextByVersionLoader: (Uuid, i32) => one VersionTextRow = store::version_texts, |r| (r.plan_id, r.version));
