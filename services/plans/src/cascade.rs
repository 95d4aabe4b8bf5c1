//! The cascade: implements-links between measures of plans at different levels, traces down and
//! up, coverage, statuses and rolled-up progress.
//!
//! Rules:
//! - A link goes upward: the implemented measure belongs to a plan of a higher level
//!   (FEDERAL > REGIONAL > MUNICIPAL > SCHOOL) or to a plan the implementing plan declares as its
//!   parent. Links within one plan, and links that would close a cycle, are refused.
//! - Links are SUGGESTED (by the similarity ranker or a person) or CONFIRMED; REJECTED links are
//!   kept for the record and ignored by traces.
//! - Effective status: the status people set (PLANNED, IN_PROGRESS, DONE, CANCELLED), or OVERDUE
//!   when the measure is neither done nor cancelled and its last due day is before today (by the
//!   hub's clock, `ROADMAP_CLOCK` to fix it).
//! - Rolled-up progress of a measure: DONE counts 100; a CANCELLED measure is left out; a measure
//!   with confirmed implementers (not cancelled) takes the weighted mean of their rolled-up
//!   progress, weights being the implementers' `weight` (default 1); otherwise its reported
//!   progress, or 0.
//! - Traces cost one recursive SQL statement per request level, however many nodes they reach.

use std::collections::{HashMap, HashSet};

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::ServiceError;
use roadmap_common::auth;
use roadmap_common::clock::Clock;

use crate::access;

use crate::graphql::{Measure, Plan, PlanLevel, Territory, parse_id};
use crate::loaders::Loaders;
use crate::store::{self, LinkRow, StatusRow, TraceRow};

/// How deep traces go when the caller does not say.
pub const DEFAULT_DEPTH: i32 = 5;
pub const MAX_DEPTH: i32 = 10;

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum LinkState {
    Suggested,
    Confirmed,
    Rejected,
}

impl LinkState {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Suggested => "SUGGESTED",
            Self::Confirmed => "CONFIRMED",
            Self::Rejected => "REJECTED",
        }
    }

    fn from_db(s: &str) -> Self {
        match s {
            "CONFIRMED" => Self::Confirmed,
            "REJECTED" => Self::Rejected,
            _ => Self::Suggested,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum MeasureStatus {
    Planned,
    InProgress,
    Done,
    Cancelled,
    /// Derived: past its last due day and neither done nor cancelled.
    Overdue,
}

impl MeasureStatus {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Planned | Self::Overdue => "PLANNED",
            Self::InProgress => "IN_PROGRESS",
            Self::Done => "DONE",
            Self::Cancelled => "CANCELLED",
        }
    }

    fn from_db(s: &str) -> Self {
        match s {
            "IN_PROGRESS" => Self::InProgress,
            "DONE" => Self::Done,
            "CANCELLED" => Self::Cancelled,
            _ => Self::Planned,
        }
    }
}

/// The effective status of a measure on `today`.
pub fn effective_status(row: &StatusRow, today: chrono::NaiveDate) -> MeasureStatus {
    let status = MeasureStatus::from_db(&row.status);
    match (status, row.due_on) {
        (MeasureStatus::Done | MeasureStatus::Cancelled, _) => status,
        (_, Some(due)) if due < today => MeasureStatus::Overdue,
        _ => status,
    }
}

pub fn level_rank(level: &str) -> u8 {
    match level {
        "FEDERAL" => 4,
        "REGIONAL" => 3,
        "MUNICIPAL" => 2,
        _ => 1,
    }
}

/// Rolled-up progress (see the module docs) of `root` over the confirmed links in `edges`
/// (implemented → implementers). `None` when the root itself is cancelled.
pub fn rolled_progress(
    root: Uuid,
    edges: &HashMap<Uuid, Vec<Uuid>>,
    statuses: &HashMap<Uuid, StatusRow>,
    visiting: &mut HashSet<Uuid>,
) -> Option<f64> {
    let row = statuses.get(&root)?;
    match row.status.as_str() {
        "CANCELLED" => return None,
        "DONE" => return Some(100.0),
        _ => {}
    }
    if !visiting.insert(root) {
        return None;
    }
    let mut sum = 0.0;
    let mut weights = 0.0;
    for child in edges.get(&root).into_iter().flatten() {
        if let Some(p) = rolled_progress(*child, edges, statuses, visiting) {
            let w = statuses.get(child).map(|s| s.weight).unwrap_or(1.0);
            sum += p * w;
            weights += w;
        }
    }
    visiting.remove(&root);
    if weights > 0.0 {
        Some(sum / weights)
    } else {
        Some(row.progress.unwrap_or(0.0))
    }
}

/// A link between two measures.
pub struct MeasureLink(pub LinkRow);

#[Object]
impl MeasureLink {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn state(&self) -> LinkState {
        LinkState::from_db(&self.0.state)
    }

    /// Similarity score when suggested by the ranker.
    async fn score(&self) -> Option<f64> {
        self.0.score
    }

    async fn created_by(&self) -> &str {
        &self.0.created_by
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn decided_by(&self) -> Option<&str> {
        self.0.decided_by.as_deref()
    }

    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }

    /// The lower-level measure that carries out `implements`.
    async fn measure(&self, ctx: &Context<'_>) -> Result<Option<Measure>> {
        let row = ctx.data::<Loaders>()?.measure_by_id.load_one(self.0.measure_id).await?;
        access::visible_measure(ctx, row).await
    }

    async fn implements(&self, ctx: &Context<'_>) -> Result<Option<Measure>> {
        let row = ctx
            .data::<Loaders>()?
            .measure_by_id
            .load_one(self.0.implements_id)
            .await?;
        access::visible_measure(ctx, row).await
    }
}

/// One node of a trace: the measure reached, the link that reached it, and what lies beyond.
pub struct TraceNode {
    pub depth: i32,
    pub link_id: Uuid,
    pub measure_id: Uuid,
    pub next: Vec<TraceNode>,
}

#[Object]
impl TraceNode {
    /// 1 for a direct link.
    async fn depth(&self) -> i32 {
        self.depth
    }

    async fn link(&self, ctx: &Context<'_>) -> Result<Option<MeasureLink>> {
        Ok(ctx
            .data::<Loaders>()?
            .link_by_id
            .load_one(self.link_id)
            .await?
            .map(MeasureLink))
    }

    async fn measure(&self, ctx: &Context<'_>) -> Result<Option<Measure>> {
        let row = ctx.data::<Loaders>()?.measure_by_id.load_one(self.measure_id).await?;
        access::visible_measure(ctx, row).await
    }

    /// The next level of the trace (further down for `implementedBy`, further up for `implements`).
    async fn next(&self) -> &[TraceNode] {
        &self.next
    }
}

/// Builds the tree under `root` from flat trace rows; `down` picks the direction.
pub fn build_tree(root: Uuid, rows: &[TraceRow], down: bool) -> Vec<TraceNode> {
    fn children(parent: Uuid, depth: i32, rows: &[TraceRow], down: bool) -> Vec<TraceNode> {
        rows.iter()
            .filter(|r| {
                r.depth == depth
                    && if down {
                        r.implements_id == parent
                    } else {
                        r.measure_id == parent
                    }
            })
            .map(|r| {
                let next_id = if down { r.measure_id } else { r.implements_id };
                TraceNode {
                    depth,
                    link_id: r.link_id,
                    measure_id: next_id,
                    next: children(next_id, depth + 1, rows, down),
                }
            })
            .collect()
    }
    children(root, 1, rows, down)
}

pub fn check_depth(depth: i32) -> Result<i32, ServiceError> {
    if !(1..=MAX_DEPTH).contains(&depth) {
        return Err(ServiceError::invalid(
            "depth",
            format!("must be between 1 and {MAX_DEPTH}"),
        ));
    }
    Ok(depth)
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum SuggestionScope {
    /// Measures of the plans this plan declares as parents.
    Parents,
    /// Measures of every plan of a higher level.
    Higher,
    /// Measures of every other plan (for finding the same measure at another level anywhere).
    OtherPlans,
}

impl SuggestionScope {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Parents => "PARENTS",
            Self::Higher => "HIGHER",
            Self::OtherPlans => "OTHER_PLANS",
        }
    }
}

/// A measure similar by text, for a person to confirm (`linkMeasures`) or ignore.
#[derive(SimpleObject)]
pub struct Suggestion {
    pub measure: Measure,
    /// BM25 score; comparable within one list only.
    pub score: f64,
}

/// Coverage of a measure in one child territory.
#[derive(SimpleObject)]
pub struct CoverageRow {
    pub territory: Territory,
    /// True when some measure of a plan of this territory implements the measure (at any depth).
    pub covered: bool,
    pub implementing_measures: Vec<Measure>,
}

/// A measure of a parent plan and what of this plan implements it.
#[derive(SimpleObject)]
pub struct ParentMeasureCoverage {
    pub parent_measure: Measure,
    pub implemented_by: Vec<Measure>,
}

/// Share of a plan's measures implemented in one child territory.
#[derive(SimpleObject)]
pub struct TerritoryImplementation {
    pub territory: Territory,
    pub implemented: i32,
    pub total: i32,
    pub share: f64,
}

/// Territory of the plan of each measure reached by a downward trace.
pub async fn implementers_by_territory(
    ctx: &Context<'_>,
    rows: &[TraceRow],
) -> Result<HashMap<Uuid, Vec<crate::store::MeasureRow>>> {
    let loaders = ctx.data::<Loaders>()?;
    let ids: Vec<Uuid> = rows
        .iter()
        .map(|r| r.measure_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let measures = loaders.measure_by_id.load_many(ids).await?;
    let plan_ids: Vec<Uuid> = measures
        .values()
        .map(|m| m.plan_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let plans = loaders.plan_by_id.load_many(plan_ids).await?;
    let mut out: HashMap<Uuid, Vec<crate::store::MeasureRow>> = HashMap::new();
    for m in measures.into_values() {
        if let Some(t) = plans.get(&m.plan_id).and_then(|p| p.territory_id) {
            out.entry(t).or_default().push(m);
        }
    }
    Ok(out)
}

#[derive(Default)]
pub struct CascadeMutation;

#[Object]
impl CascadeMutation {
    /// Records that `measure` carries out `implements` (a measure of a higher-level or parent plan).
    async fn link_measures(
        &self,
        ctx: &Context<'_>,
        measure: ID,
        implements: ID,
        #[graphql(default_with = "LinkState::Confirmed")] state: LinkState,
        score: Option<f64>,
    ) -> Result<MeasureLink> {
        let measure_id = parse_id("measure", &measure)?;
        let implements_id = parse_id("implements", &implements)?;
        if measure_id == implements_id {
            return Err(ServiceError::invalid("implements", "a measure cannot implement itself").into());
        }
        let pool = ctx.data::<PgPool>()?;
        let mut tx = pool.begin().await.map_err(ServiceError::from)?;
        let rows = store::measures_by_ids(pool, &[measure_id, implements_id]).await?;
        let low = rows
            .iter()
            .find(|m| m.id == measure_id)
            .ok_or_else(|| ServiceError::not_found("Measure", measure_id))?;
        let high = rows
            .iter()
            .find(|m| m.id == implements_id)
            .ok_or_else(|| ServiceError::not_found("Measure", implements_id))?;
        if low.plan_id == high.plan_id {
            return Err(ServiceError::invalid("implements", "links join measures of different plans").into());
        }
        let plans = store::plans_by_ids(pool, &[low.plan_id, high.plan_id]).await?;
        let linked: Vec<&crate::store::PlanRow> = plans.iter().collect();
        access::require_plans(ctx, &access::LINK, "linking measures", &linked).await?;
        let level = |id: Uuid| {
            plans
                .iter()
                .find(|p| p.id == id)
                .map(|p| level_rank(&p.level))
                .unwrap_or(0)
        };
        let upward = level(high.plan_id) > level(low.plan_id)
            || store::is_parent_plan(&mut tx, low.plan_id, high.plan_id).await?;
        if !upward {
            return Err(ServiceError::invalid(
                "implements",
                "must belong to a plan of a higher level than the measure's plan, or to its declared parent plan",
            )
            .into());
        }
        if state != LinkState::Rejected && store::creates_cycle(&mut tx, measure_id, implements_id).await? {
            return Err(ServiceError::invalid("implements", "the link would close a cycle").into());
        }
        let now = Utc::now();
        let decided = state != LinkState::Suggested;
        let row = store::upsert_link(
            &mut tx,
            &LinkRow {
                id: Uuid::new_v4(),
                measure_id,
                implements_id,
                state: state.as_db().to_string(),
                score,
                created_by: actor(ctx),
                created_at: now,
                decided_by: decided.then(|| actor(ctx)),
                decided_at: decided.then_some(now),
            },
        )
        .await?;
        crate::events::link_changed(&mut tx, &row).await?;
        let after =
            serde_json::json!({ "measure": row.measure_id, "implements": row.implements_id, "state": row.state });
        roadmap_common::audit::record(
            &mut tx,
            crate::NAME,
            auth::actor(ctx),
            "linkMeasures",
            ("MeasureLink", row.id),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(MeasureLink(row))
    }

    /// Confirms or rejects a (suggested) link.
    async fn decide_link(&self, ctx: &Context<'_>, id: ID, state: LinkState) -> Result<MeasureLink> {
        let link_id = parse_id("id", &id)?;
        if state == LinkState::Suggested {
            return Err(ServiceError::invalid("state", "a decision is CONFIRMED or REJECTED").into());
        }
        let pool = ctx.data::<PgPool>()?;
        let link = store::links_by_ids(pool, &[link_id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::not_found("MeasureLink", link_id))?;
        let measures = store::measures_by_ids(pool, &[link.measure_id, link.implements_id]).await?;
        let plan_ids: Vec<Uuid> = measures.iter().map(|m| m.plan_id).collect();
        let plans = store::plans_by_ids(pool, &plan_ids).await?;
        let linked: Vec<&crate::store::PlanRow> = plans.iter().collect();
        access::require_plans(ctx, &access::LINK, "deciding on a link", &linked).await?;
        let mut tx = pool.begin().await.map_err(ServiceError::from)?;
        let row = store::set_link_state(&mut tx, link_id, state.as_db(), &actor(ctx))
            .await?
            .ok_or_else(|| ServiceError::not_found("MeasureLink", link_id))?;
        crate::events::link_changed(&mut tx, &row).await?;
        roadmap_common::audit::record(
            &mut tx,
            crate::NAME,
            auth::actor(ctx),
            "decideLink",
            ("MeasureLink", row.id),
            Some(serde_json::json!({ "state": link.state })),
            Some(serde_json::json!({ "state": row.state })),
        )
        .await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(MeasureLink(row))
    }

    /// Declares that `plan` implements `parent` (a plan of a higher level, or any plan the
    /// owner designates).
    async fn set_plan_parent(&self, ctx: &Context<'_>, plan: ID, parent: ID) -> Result<Plan> {
        let plan_id = parse_id("plan", &plan)?;
        let parent_id = parse_id("parent", &parent)?;
        if plan_id == parent_id {
            return Err(ServiceError::invalid("parent", "a plan cannot be its own parent").into());
        }
        let pool = ctx.data::<PgPool>()?;
        let rows = store::plans_by_ids(pool, &[plan_id, parent_id]).await?;
        let row = rows
            .iter()
            .find(|p| p.id == plan_id)
            .cloned()
            .ok_or_else(|| ServiceError::not_found("Plan", plan_id))?;
        if !rows.iter().any(|p| p.id == parent_id) {
            return Err(ServiceError::not_found("Plan", parent_id).into());
        }
        let linked: Vec<&crate::store::PlanRow> = rows.iter().collect();
        access::require_plans(ctx, &access::LINK, "declaring a parent plan", &linked).await?;
        let mut tx = pool.begin().await.map_err(ServiceError::from)?;
        store::add_plan_parent(&mut tx, plan_id, parent_id).await?;
        let after = serde_json::json!({ "parent": parent_id });
        roadmap_common::audit::record(
            &mut tx,
            crate::NAME,
            auth::actor(ctx),
            "setPlanParent",
            ("Plan", plan_id),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(Plan(row))
    }

    /// Sets the status (and optionally the reported progress, 0–100) of a measure.
    async fn set_measure_status(
        &self,
        ctx: &Context<'_>,
        measure: ID,
        status: MeasureStatus,
        progress: Option<f64>,
    ) -> Result<Measure> {
        let id = parse_id("measure", &measure)?;
        if status == MeasureStatus::Overdue {
            return Err(ServiceError::invalid("status", "OVERDUE is derived from the deadline, not set").into());
        }
        if let Some(p) = progress
            && !(0.0..=100.0).contains(&p)
        {
            return Err(ServiceError::invalid("progress", "must be between 0 and 100").into());
        }
        let pool = ctx.data::<PgPool>()?;
        let measure = store::measures_by_ids(pool, &[id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::not_found("Measure", id))?;
        let plan = store::plans_by_ids(pool, &[measure.plan_id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::not_found("Plan", measure.plan_id))?;
        access::require_plans(ctx, &access::EDIT, "setting a measure's status", &[&plan]).await?;
        let mut tx = pool.begin().await.map_err(ServiceError::from)?;
        let (before, _) = store::set_status(&mut tx, id, status.as_db(), progress)
            .await?
            .ok_or_else(|| ServiceError::not_found("Measure", id))?;
        crate::events::measure_status_changed(&mut tx, id, &before, status.as_db()).await?;
        roadmap_common::audit::record(
            &mut tx,
            crate::NAME,
            auth::actor(ctx),
            "setMeasureStatus",
            ("Measure", id),
            Some(serde_json::json!({ "status": before })),
            Some(serde_json::json!({ "status": status.as_db(), "progress": progress })),
        )
        .await?;
        tx.commit().await.map_err(ServiceError::from)?;
        let row = store::measures_by_ids(pool, &[id]).await?;
        row.into_iter()
            .next()
            .map(Measure)
            .ok_or_else(|| ServiceError::not_found("Measure", id).into())
    }
}

/// Who made a change (links, statuses, occurrence reports): the token's subject.
pub(crate) fn actor(ctx: &Context<'_>) -> String {
    auth::actor(ctx).subject.clone()
}

/// Today's date by the hub's clock.
pub fn today(ctx: &Context<'_>) -> chrono::NaiveDate {
    ctx.data_opt::<Clock>().copied().unwrap_or_default().today()
}

pub fn plan_level(level: &str) -> Option<PlanLevel> {
    PlanLevel::from_db(level)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(id: Uuid, status: &str, progress: Option<f64>, weight: f64) -> (Uuid, StatusRow) {
        (
            id,
            StatusRow {
                id,
                status: status.to_string(),
                progress,
                weight,
                due_on: None,
            },
        )
    }

    #[test]
    fn progress_rolls_up_by_weight_and_skips_cancelled() {
        let (r, a, b, c, d) = (
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
        );
        let edges = HashMap::from([(r, vec![a, b, c]), (a, vec![d])]);
        let statuses = HashMap::from([
            status(r, "IN_PROGRESS", Some(10.0), 1.0),
            status(a, "IN_PROGRESS", Some(99.0), 1.0), // has an implementer: its own figure is ignored
            status(b, "DONE", None, 3.0),
            status(c, "CANCELLED", Some(0.0), 5.0),
            status(d, "IN_PROGRESS", Some(40.0), 1.0),
        ]);
        // r = (a·1 + b·3) / 4 = (40 + 300) / 4 = 85; c is left out.
        let got = rolled_progress(r, &edges, &statuses, &mut HashSet::new()).unwrap();
        assert!((got - 85.0).abs() < 1e-9, "{got}");
        assert_eq!(rolled_progress(c, &edges, &statuses, &mut HashSet::new()), None);
        assert_eq!(rolled_progress(d, &edges, &statuses, &mut HashSet::new()), Some(40.0));
    }

    #[test]
    fn overdue_is_derived_from_the_due_day() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let mut row = StatusRow {
            id: Uuid::nil(),
            status: "PLANNED".into(),
            progress: None,
            weight: 1.0,
            due_on: Some(d("2024-03-31")),
        };
        assert_eq!(effective_status(&row, d("2024-03-31")), MeasureStatus::Planned);
        assert_eq!(effective_status(&row, d("2024-04-01")), MeasureStatus::Overdue);
        row.status = "DONE".into();
        assert_eq!(effective_status(&row, d("2024-04-01")), MeasureStatus::Done);
        row.status = "IN_PROGRESS".into();
        row.due_on = None;
        assert_eq!(effective_status(&row, d("2030-01-01")), MeasureStatus::InProgress);
    }

    #[test]
    fn trees_are_built_from_flat_rows() {
        let (r, a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let row = |depth, measure_id, implements_id| TraceRow {
            root: r,
            depth,
            link_id: Uuid::new_v4(),
            measure_id,
            implements_id,
        };
        let rows = vec![row(1, a, r), row(1, b, r), row(2, c, a)];
        let tree = build_tree(r, &rows, true);
        assert_eq!(tree.len(), 2);
        assert_eq!(tree[0].measure_id, a);
        assert_eq!(tree[0].next.len(), 1);
        assert_eq!(tree[0].next[0].measure_id, c);
        assert!(tree[1].next.is_empty());
    }
}
