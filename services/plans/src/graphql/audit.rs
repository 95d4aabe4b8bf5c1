//! The auditor's questions ("what is missing"), on `Territory` (an entity of the people
//! subgraph this subgraph extends): `measureCounts` (plans and measures by effective status, the
//! territory and everything under it), `coverageGaps` (measures of its plans with no
//! implementer in some child territory), `childrenWithoutPlan` (child territories with no plan
//! implementing one of its plans), `overdueMeasures` and `staleMeasures(days)` under it; and
//! `Measure.updatedAt`. Types: `MeasureCounts`, `CoverageGap`, `ChildrenWithoutPlan`,
//! `MeasureList`.
//!
//! Decisions:
//! - "Under a territory" is the territory and its descendants as the people subgraph knows them
//!   (region → municipality → settlement); a plan belongs to the territory it names (a school's
//!   plan names its municipality).
//! - Counts count every measure row of a plan (sub-rows and control points too), as the plan
//!   pages list them; statuses are effective ones (OVERDUE derived with the hub's clock). The
//!   counts of a territory's plans of one state, zone and period are read from those stored for
//!   them when they are of today in that zone, else counted from their measures, in one
//!   statement ([`crate::counts`]): the same answer either way.
//! - Coverage gaps: measures proper (not control points), not cancelled, of the territory's own
//!   plans; a child territory covers one when a plan of it or of a territory under it has a
//!   measure implementing it at any depth (a rejected link does not count).
//! - A child territory has a plan implementing a plan when one of its plans (or of a territory
//!   under it) declares it as a parent plan or carries out one of its measures directly.
//! - Stale: neither done nor cancelled and not changed (content, status, progress, an occurrence
//!   report: `Measure.updatedAt`) since the start (UTC) of the day `days` days before today.
//! - Drafts count only for readers who may see them, as everywhere.
//! - Batching: the loaders here are shared by all requests, batch without caching, and keep the
//!   request's "today" and draft scope in their keys; a batch of any number of territories is
//!   one call to the people subgraph (the trees under them) and one to three SQL statements.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::auth::{self, Drafts};
use roadmap_common::clock::Clock;
use roadmap_common::metrics::Measured;
use roadmap_common::people::{PeopleClient, TerritoryTree};
use roadmap_common::{LoadError, ServiceError, ServiceResult, parse_id};

use crate::graphql::{Measure, Plan, Territory, clock};
pub use crate::store::MeasureCounts;
use crate::store::{self, Listed, MeasureRow, PlanRow, ReachRow, TerritoryCountRow, Today};

/// The most measures one list gives (`first`).
pub const MAX_LISTED: i32 = 5000;
/// The longest `days` of `staleMeasures` (ten years).
const MAX_DAYS: i32 = 3660;

/// A measure with no implementer in some child territory.
#[derive(SimpleObject)]
pub struct CoverageGap {
    pub measure: Measure,
    /// Child territories where no measure implements it, by the people subgraph's order.
    pub uncovered: Vec<Territory>,
    /// How many child territories have an implementing measure.
    pub covered: i32,
    /// How many child territories there are.
    pub territories: i32,
}

/// A plan of the territory and its child territories with no plan implementing it.
#[derive(SimpleObject)]
pub struct ChildrenWithoutPlan {
    pub plan: Plan,
    /// Child territories none of whose plans (nor of the territories under them) implements it.
    pub territories: Vec<Territory>,
    /// How many child territories have a plan implementing it.
    pub with_plan: i32,
    /// How many child territories there are.
    pub children: i32,
}

/// The first measures of a list and its whole length.
#[derive(SimpleObject)]
pub struct MeasureList {
    pub total_count: i32,
    pub measures: Vec<Measure>,
}

#[ComplexObject]
impl Territory {
    /// Plans and measures of this territory and of every territory under it, by effective
    /// status (drafts only for those who may see them).
    async fn measure_counts(&self, ctx: &Context<'_>) -> Result<MeasureCounts> {
        let key = AuditKey::of(ctx, &self.id)?;
        Ok(loaders(ctx)?.counts.load_one(key).await?.unwrap_or_default())
    }

    /// Measures of this territory's own plans (measures proper, not cancelled) that some child
    /// territory has no implementing measure for, at any depth; in plan and document order.
    async fn coverage_gaps(&self, ctx: &Context<'_>) -> Result<Vec<CoverageGap>> {
        let key = AuditKey::of(ctx, &self.id)?;
        let gaps = loaders(ctx)?.gaps.load_one(key).await?.unwrap_or_default();
        Ok(gaps
            .iter()
            .map(|g| CoverageGap {
                measure: Measure(g.measure.clone()),
                uncovered: territories(&g.missing),
                covered: g.covered,
                territories: g.children,
            })
            .collect())
    }

    /// For each of this territory's own plans (or only `plan`), the child territories with no
    /// plan implementing it (declared as parent plan, or a measure linked to one of its
    /// measures), by plan title.
    async fn children_without_plan(&self, ctx: &Context<'_>, plan: Option<ID>) -> Result<Vec<ChildrenWithoutPlan>> {
        let only = plan.as_ref().map(|p| parse_id("plan", p)).transpose()?;
        let key = AuditKey::of(ctx, &self.id)?;
        let rows = loaders(ctx)?.without_plan.load_one(key).await?.unwrap_or_default();
        Ok(rows
            .iter()
            .filter(|r| only.is_none_or(|p| p == r.plan.id))
            .map(|r| ChildrenWithoutPlan {
                plan: Plan(r.plan.clone()),
                territories: territories(&r.missing),
                with_plan: r.children - r.missing.len() as i32,
                children: r.children,
            })
            .collect())
    }

    /// Overdue measures of the plans of this territory and every territory under it, most
    /// overdue first: the first `first` (default 100, at most 5,000) and how many there are.
    async fn overdue_measures(&self, ctx: &Context<'_>, first: Option<i32>) -> Result<MeasureList> {
        list(ctx, &self.id, ListKind::Overdue, first).await
    }

    /// Measures under this territory neither done nor cancelled that have not changed (see
    /// `Measure.updatedAt`) since the start of the day `days` days ago (UTC), least recently
    /// changed first: the first `first` (default 100, at most 5,000) and how many there are.
    async fn stale_measures(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 30)] days: i32,
        first: Option<i32>,
    ) -> Result<MeasureList> {
        if !(0..=MAX_DAYS).contains(&days) {
            return Err(ServiceError::invalid("days", format!("must be between 0 and {MAX_DAYS}")).into());
        }
        list(ctx, &self.id, ListKind::Stale { days }, first).await
    }
}

/// `Measure.updatedAt`: when the measure last changed (its content by a re-import, its status
/// or progress, a report on one of its occurrences).
pub async fn updated_at(ctx: &Context<'_>, measure: Uuid) -> Result<DateTime<Utc>> {
    loaders(ctx)?
        .updated_at
        .load_one(measure)
        .await?
        .ok_or_else(|| ServiceError::not_found("Measure", measure).into())
}

async fn list(ctx: &Context<'_>, territory: &ID, kind: ListKind, first: Option<i32>) -> Result<MeasureList> {
    let first = roadmap_common::relay::page_size(first, 100, MAX_LISTED)?;
    let key = ListKey {
        audit: AuditKey::of(ctx, territory)?,
        kind,
        first,
    };
    let (mut total, rows) = loaders(ctx)?.lists.load_one(key).await?.unwrap_or_default();
    if kind == ListKind::Overdue {
        // The length of the overdue list is the overdue count, read from the stored counts.
        total = i64::from(
            loaders(ctx)?
                .counts
                .load_one(key.audit)
                .await?
                .unwrap_or_default()
                .overdue,
        );
    }
    Ok(MeasureList {
        total_count: i32::try_from(total).unwrap_or(i32::MAX),
        measures: rows.into_iter().map(Measure).collect(),
    })
}

fn territories(ids: &[Uuid]) -> Vec<Territory> {
    ids.iter().map(|t| Territory { id: ID(t.to_string()) }).collect()
}

fn loaders<'a>(ctx: &Context<'a>) -> ServiceResult<&'a AuditLoaders> {
    ctx.data::<AuditLoaders>()
        .map_err(|_| ServiceError::internal_msg("this service was started without the audit loaders"))
}

/// Whose drafts a batch counts, from the reader's token (a key part: every key of a request has
/// the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum DraftScope {
    All,
    None,
    Under(Uuid),
}

/// A territory asked about by one request: its clock ("today" in each plan's time zone) and
/// whose drafts it may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AuditKey {
    territory: Uuid,
    clock: Clock,
    drafts: DraftScope,
}

impl AuditKey {
    fn of(ctx: &Context<'_>, territory: &ID) -> ServiceResult<AuditKey> {
        Ok(AuditKey {
            territory: parse_id("id", territory)?,
            clock: clock(ctx),
            drafts: match auth::actor(ctx).drafts() {
                Drafts::All => DraftScope::All,
                Drafts::None => DraftScope::None,
                Drafts::Under(t) => DraftScope::Under(t),
            },
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ListKind {
    Overdue,
    Stale { days: i32 },
}

/// A list under a territory: which, and how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListKey {
    audit: AuditKey,
    kind: ListKind,
    first: i64,
}

/// Keys of one batch that share a "today" and a draft scope (keys of one request do), with the
/// trees under their territories and the territories whose drafts count.
struct Batch<K> {
    keys: Vec<K>,
    /// Today in the hub's default zone (plans in force, stale measures).
    today: NaiveDate,
    /// Today in each plan's zone (overdue measures).
    zoned: Today,
    /// `None`: every draft; `Some(territories)`: drafts of these only.
    drafts: Option<Vec<Uuid>>,
    trees: HashMap<Uuid, TerritoryTree>,
}

impl<K> Batch<K> {
    /// The tree under `territory`: as the people subgraph has it, or the territory alone.
    fn tree(&self, territory: Uuid) -> TerritoryTree {
        self.trees.get(&territory).cloned().unwrap_or(TerritoryTree {
            id: territory,
            children: Vec::new(),
        })
    }

    /// Whether a plan of `territory` in `state` counts for the batch's reader.
    fn visible(&self, state: &str, territory: Uuid) -> bool {
        state == "APPROVED" || self.drafts.as_ref().is_none_or(|d| d.contains(&territory))
    }

    /// The territories of visible plans per root (a measure or a plan).
    fn reached(&self, rows: Vec<ReachRow>) -> HashMap<Uuid, HashSet<Uuid>> {
        let mut out: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
        for r in rows.into_iter().filter(|r| self.visible(&r.state, r.territory_id)) {
            out.entry(r.root).or_default().insert(r.territory_id);
        }
        out
    }

    /// Which children of `parent` hold (are or are above) one of `reached` (territories of
    /// visible plans): ids of the others, and the number of children.
    fn children_missing(&self, parent: &TerritoryTree, reached: &HashSet<Uuid>) -> (Vec<Uuid>, i32) {
        let missing = parent
            .children
            .iter()
            .filter(|c| !c.ids().iter().any(|t| reached.contains(t)))
            .map(|c| c.id)
            .collect();
        (missing, parent.children.len() as i32)
    }
}

impl Batch<AuditKey> {
    /// For each key: a row per item of `items` of the key's territory (`place` gives an item's id
    /// and territory), made by `row` from the item and the children of the territory that
    /// `reached` (by item id) misses, with the number of children; `row` may leave it out.
    fn missing_per_key<T, R>(
        &self,
        items: &[T],
        place: impl Fn(&T) -> (Uuid, Option<Uuid>),
        reached: &HashMap<Uuid, HashSet<Uuid>>,
        row: impl Fn(&T, Vec<Uuid>, i32) -> Option<R>,
        out: &mut HashMap<AuditKey, Arc<Vec<R>>>,
    ) {
        let none = HashSet::new();
        for key in &self.keys {
            let tree = self.tree(key.territory);
            let rows = items
                .iter()
                .filter_map(|item| {
                    let (id, territory) = place(item);
                    if territory != Some(key.territory) {
                        return None;
                    }
                    let (missing, children) = self.children_missing(&tree, reached.get(&id).unwrap_or(&none));
                    row(item, missing, children)
                })
                .collect();
            out.insert(*key, Arc::new(rows));
        }
    }
}

/// What every loader here holds: the database and the people subgraph.
struct Audit {
    pool: PgPool,
    people: PeopleClient,
}

impl Audit {
    /// Splits `keys` into batches of one "today" and draft scope and reads, per batch, the trees
    /// under the territories (and under the draft scope) in one people call.
    async fn batches<K: Clone>(&self, keys: &[K], audit: impl Fn(&K) -> AuditKey) -> ServiceResult<Vec<Batch<K>>> {
        let mut groups: HashMap<(Clock, DraftScope), Vec<K>> = HashMap::new();
        for k in keys {
            let a = audit(k);
            groups.entry((a.clock, a.drafts)).or_default().push(k.clone());
        }
        let mut out = Vec::new();
        for ((clock, scope), keys) in groups {
            let mut wanted: Vec<Uuid> = keys.iter().map(|k| audit(k).territory).collect();
            if let DraftScope::Under(s) = scope {
                wanted.push(s);
            }
            wanted.sort_unstable();
            wanted.dedup();
            let trees: HashMap<Uuid, TerritoryTree> = self
                .people
                .subtrees(&wanted)
                .await?
                .into_iter()
                .map(|t| (t.id, t))
                .collect();
            let drafts = match scope {
                DraftScope::All => None,
                DraftScope::None => Some(Vec::new()),
                DraftScope::Under(s) => Some(trees.get(&s).map(TerritoryTree::ids).unwrap_or_else(|| vec![s])),
            };
            out.push(Batch {
                keys,
                today: clock.today(),
                zoned: Today::of(&self.pool, &clock).await?,
                drafts,
                trees,
            });
        }
        Ok(out)
    }
}

impl Audit {
    /// [`Audit::batches`] of `keys`, each with the plans of its territories themselves that the
    /// reader may see (by title) and their ids.
    async fn batches_with_plans(
        &self,
        keys: &[AuditKey],
    ) -> ServiceResult<Vec<(Batch<AuditKey>, Vec<PlanRow>, Vec<Uuid>)>> {
        let mut out = Vec::new();
        for batch in self.batches(keys, |k| *k).await? {
            let territories: Vec<Uuid> = batch.keys.iter().map(|k| k.territory).collect();
            let plans = store::plans_of_territories(&self.pool, &territories, batch.drafts.as_deref()).await?;
            let ids = plans.iter().map(|p| p.id).collect();
            out.push((batch, plans, ids));
        }
        Ok(out)
    }
}

/// Territory and its descendants → counts, summed.
pub struct CountsLoader(Arc<Audit>);

impl Loader<AuditKey> for CountsLoader {
    type Value = MeasureCounts;
    type Error = LoadError;

    async fn load(&self, keys: &[AuditKey]) -> Result<HashMap<AuditKey, MeasureCounts>, LoadError> {
        let mut out = HashMap::new();
        for batch in self.0.batches(keys, |k| *k).await? {
            let trees: Vec<(AuditKey, Vec<Uuid>)> =
                batch.keys.iter().map(|k| (*k, batch.tree(k.territory).ids())).collect();
            let mut all: Vec<Uuid> = trees.iter().flat_map(|(_, ids)| ids.iter().copied()).collect();
            all.sort_unstable();
            all.dedup();
            let rows =
                store::territory_counts(&self.0.pool, &all, batch.today, &batch.zoned, batch.drafts.as_deref()).await?;
            let by_territory: HashMap<Uuid, TerritoryCountRow> =
                rows.into_iter().map(|r| (r.territory_id, r)).collect();
            for (key, ids) in trees {
                let mut counts = MeasureCounts::default();
                for r in ids.iter().filter_map(|t| by_territory.get(t)) {
                    counts.add(&r.counts);
                }
                out.insert(key, counts);
            }
        }
        Ok(out)
    }
}

/// A measure and the children of its plan's territory that do not implement it.
#[derive(Clone, Debug)]
pub struct GapRow {
    measure: MeasureRow,
    missing: Vec<Uuid>,
    covered: i32,
    children: i32,
}

/// Territory → its plans' measures with coverage gaps.
pub struct GapsLoader(Arc<Audit>);

impl Loader<AuditKey> for GapsLoader {
    type Value = Arc<Vec<GapRow>>;
    type Error = LoadError;

    async fn load(&self, keys: &[AuditKey]) -> Result<HashMap<AuditKey, Self::Value>, LoadError> {
        let pool = &self.0.pool;
        let mut out = HashMap::new();
        for (batch, plans, plan_ids) in self.0.batches_with_plans(keys).await? {
            let mut measures = store::measures_to_implement(pool, &plan_ids).await?;
            // Plans by title, measures in document order.
            let order: HashMap<Uuid, usize> = plan_ids.iter().enumerate().map(|(i, p)| (*p, i)).collect();
            measures.sort_by_key(|m| (order.get(&m.plan_id).copied(), m.position));
            let roots: Vec<Uuid> = measures.iter().map(|m| m.id).collect();
            let reached_by = batch.reached(store::reached_territories(pool, &roots).await?);
            let territory_of: HashMap<Uuid, Option<Uuid>> = plans.iter().map(|p| (p.id, p.territory_id)).collect();
            let place = |m: &MeasureRow| (m.id, territory_of.get(&m.plan_id).copied().flatten());
            batch.missing_per_key(
                &measures,
                place,
                &reached_by,
                |m, missing, children| {
                    (!missing.is_empty()).then(|| GapRow {
                        measure: m.clone(),
                        covered: children - missing.len() as i32,
                        missing,
                        children,
                    })
                },
                &mut out,
            );
        }
        Ok(out)
    }
}

/// A plan and the children of its territory with no plan implementing it.
#[derive(Clone, Debug)]
pub struct WithoutPlanRow {
    plan: PlanRow,
    missing: Vec<Uuid>,
    children: i32,
}

/// Territory → its plans and the child territories without a plan implementing each.
pub struct WithoutPlanLoader(Arc<Audit>);

impl Loader<AuditKey> for WithoutPlanLoader {
    type Value = Arc<Vec<WithoutPlanRow>>;
    type Error = LoadError;

    async fn load(&self, keys: &[AuditKey]) -> Result<HashMap<AuditKey, Self::Value>, LoadError> {
        let mut out = HashMap::new();
        for (batch, plans, plan_ids) in self.0.batches_with_plans(keys).await? {
            let implemented = batch.reached(store::implementing_territories(&self.0.pool, &plan_ids).await?);
            let place = |p: &PlanRow| (p.id, p.territory_id);
            batch.missing_per_key(
                &plans,
                place,
                &implemented,
                |p, missing, children| {
                    Some(WithoutPlanRow {
                        plan: p.clone(),
                        missing,
                        children,
                    })
                },
                &mut out,
            );
        }
        Ok(out)
    }
}

/// A list under a territory → its length and first measures.
pub struct ListsLoader(Arc<Audit>);

impl Loader<ListKey> for ListsLoader {
    type Value = (i64, Vec<MeasureRow>);
    type Error = LoadError;

    async fn load(&self, keys: &[ListKey]) -> Result<HashMap<ListKey, Self::Value>, LoadError> {
        let mut out = HashMap::new();
        for batch in self.0.batches(keys, |k| k.audit).await? {
            // One statement per kind of list and length (a request asks one or two).
            let mut lists: HashMap<(ListKind, i64), Vec<ListKey>> = HashMap::new();
            for k in &batch.keys {
                lists.entry((k.kind, k.first)).or_default().push(*k);
            }
            for ((kind, first), keys) in lists {
                let scope: Vec<(Uuid, Uuid)> = keys
                    .iter()
                    .flat_map(|k| {
                        let root = k.audit.territory;
                        batch.tree(root).ids().into_iter().map(move |t| (root, t))
                    })
                    .collect();
                let (listed, count) = match kind {
                    ListKind::Overdue => (Listed::Overdue, false),
                    ListKind::Stale { days } => (Listed::Stale(stale_since(batch.today, days)), true),
                };
                let rows = store::listed_measures(
                    &self.0.pool,
                    &scope,
                    listed,
                    count,
                    &batch.zoned,
                    batch.drafts.as_deref(),
                    first,
                )
                .await?;
                let mut by_root: HashMap<Uuid, (i64, Vec<MeasureRow>)> = HashMap::new();
                for r in rows {
                    let entry = by_root.entry(r.root).or_default();
                    entry.0 = r.total.unwrap_or_default();
                    entry.1.push(r.measure);
                }
                for k in keys {
                    out.insert(k, by_root.get(&k.audit.territory).cloned().unwrap_or_default());
                }
            }
        }
        Ok(out)
    }
}

/// The moment before which a measure is stale: the start (UTC) of the day `days` before `today`.
pub fn stale_since(today: NaiveDate, days: i32) -> DateTime<Utc> {
    (today - Duration::days(i64::from(days)))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
}

/// Measure → when it last changed.
pub struct UpdatedAtLoader(Arc<Audit>);

impl Loader<Uuid> for UpdatedAtLoader {
    type Value = DateTime<Utc>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, DateTime<Utc>>, LoadError> {
        Ok(store::updated_at(&self.0.pool, keys).await?.into_iter().collect())
    }
}

/// The loaders of this module, schema data shared by all requests (batching, no cache).
pub struct AuditLoaders {
    counts: DataLoader<Measured<CountsLoader>>,
    gaps: DataLoader<Measured<GapsLoader>>,
    without_plan: DataLoader<Measured<WithoutPlanLoader>>,
    lists: DataLoader<Measured<ListsLoader>>,
    updated_at: DataLoader<Measured<UpdatedAtLoader>>,
}

impl AuditLoaders {
    pub fn new(pool: PgPool, people: PeopleClient) -> Self {
        use roadmap_common::loaders::loader;
        let audit = Arc::new(Audit { pool, people });
        Self {
            counts: loader(CountsLoader(audit.clone())),
            gaps: loader(GapsLoader(audit.clone())),
            without_plan: loader(WithoutPlanLoader(audit.clone())),
            lists: loader(ListsLoader(audit.clone())),
            updated_at: loader(UpdatedAtLoader(audit)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(id: u128, children: Vec<TerritoryTree>) -> TerritoryTree {
        TerritoryTree {
            id: Uuid::from_u128(id),
            children,
        }
    }

    #[test]
    fn a_child_covers_through_any_territory_under_it_and_drafts_count_by_scope() {
        let region = tree(1, vec![tree(2, vec![tree(4, vec![])]), tree(3, vec![])]);
        let batch: Batch<AuditKey> = Batch {
            keys: Vec::new(),
            today: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            zoned: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap().into(),
            drafts: Some(vec![Uuid::from_u128(3)]),
            trees: HashMap::new(),
        };
        let reached: HashSet<Uuid> = [Uuid::from_u128(4)].into();
        assert_eq!(batch.children_missing(&region, &reached), (vec![Uuid::from_u128(3)], 2));
        assert!(batch.visible("APPROVED", Uuid::from_u128(2)));
        assert!(batch.visible("DRAFT", Uuid::from_u128(3)));
        assert!(!batch.visible("DRAFT", Uuid::from_u128(2)));
        assert_eq!(batch.tree(Uuid::from_u128(9)).ids(), vec![Uuid::from_u128(9)]);
    }

    #[test]
    fn stale_counts_from_the_start_of_the_day() {
        let since = stale_since(NaiveDate::from_ymd_opt(2025, 3, 31).unwrap(), 30);
        assert_eq!(since.to_rfc3339(), "2025-03-01T00:00:00+00:00");
    }
}
