//! The cascade's types: `MeasureLink` with `LinkState`, `TraceNode` (the tree is built by
//! `crate::cascade::build_tree`), `Suggestion` with `SuggestionScope`, `CoverageRow`,
//! `UnitCoverageRow`, `ParentMeasureCoverage`, `TerritoryImplementation`.

use std::collections::{HashMap, HashSet};

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::access;
use crate::cascade::{Reached, TraceNode};
use crate::graphql::{Measure, Territory};
use crate::loaders::Loaders;
use crate::store::{LinkRow, MeasureRow, ReachRow};

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum LinkState {
    Suggested,
    Confirmed,
    Rejected,
}

roadmap_common::db_enum!(LinkState {
    Suggested => "SUGGESTED",
    Confirmed => "CONFIRMED",
    Rejected => "REJECTED",
});

/// A link between two measures.
pub struct MeasureLink(pub LinkRow);

#[Object]
impl MeasureLink {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn state(&self) -> LinkState {
        LinkState::from_db(&self.0.state).unwrap_or(LinkState::Suggested)
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
        match &self.reached {
            // Null when the measure belongs to a draft the caller may not see.
            Reached::Hidden => Ok(None),
            Reached::Row(row) => Ok(Some(Measure(MeasureRow::clone(row)))),
            Reached::Unknown => {
                let row = ctx.data::<Loaders>()?.measure_by_id.load_one(self.measure_id).await?;
                access::visible_measure(ctx, row).await
            }
        }
    }

    /// The next level of the trace (further down for `implementedBy`, further up for `implements`).
    async fn next(&self) -> &[TraceNode] {
        &self.next
    }
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

roadmap_common::db_enum!(SuggestionScope {
    Parents => "PARENTS",
    Higher => "HIGHER",
    OtherPlans => "OTHER_PLANS",
});

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

/// Coverage of a measure in one unit under its plan's owner (a class of a school).
#[derive(SimpleObject)]
pub struct UnitCoverageRow {
    /// The class, subject team or staff role (people's `Organisation`).
    pub unit: crate::graphql::Organisation,
    /// True when a plan owned by the unit, or by a unit under it (a class's staff roles),
    /// implements the measure (at any depth).
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

/// Where each of `roots` is carried out, as the reader may see it: by root, the territories of
/// the plans whose measures implement it at any depth (drafts only where the reader may see
/// that territory's drafts), each with those measures' ids. One batched read
/// (`Loaders::reach_by_measure`) for all the roots of a request.
pub async fn implementing_territories(
    ctx: &Context<'_>,
    roots: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, HashMap<Uuid, Vec<Uuid>>>> {
    let reached = ctx.data::<Loaders>()?.reach_by_measure.load_many(roots).await?;
    let mut out: HashMap<Uuid, HashMap<Uuid, Vec<Uuid>>> = HashMap::new();
    for row in visible_reach(ctx, reached.into_values().flatten(), |r| &r.reach).await? {
        out.entry(row.reach.root)
            .or_default()
            .entry(row.reach.territory_id)
            .or_default()
            .extend(row.measures);
    }
    Ok(out)
}

/// [`implementing_territories`] without the measures: by root, the territories only, read
/// without the stored measure ids (`Loaders::reach_territories_by_measure`), for readers that
/// count territories.
pub async fn implementing_territory_ids(
    ctx: &Context<'_>,
    roots: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, HashSet<Uuid>>> {
    let reached = ctx
        .data::<Loaders>()?
        .reach_territories_by_measure
        .load_many(roots)
        .await?;
    let mut out: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
    for r in visible_reach(ctx, reached.into_values().flatten(), |r| r).await? {
        out.entry(r.root).or_default().insert(r.territory_id);
    }
    Ok(out)
}

/// The rows of a stored reach the reader may see: drafts only where the reader may see that
/// territory's drafts, decided once per (state, territory).
async fn visible_reach<R>(
    ctx: &Context<'_>,
    rows: impl IntoIterator<Item = R>,
    reach: impl Fn(&R) -> &ReachRow,
) -> Result<Vec<R>> {
    let mut visible = access::VisibleByStateTerritory::default();
    let mut out = Vec::new();
    for row in rows {
        let r = reach(&row);
        if visible.may_see(ctx, &r.state, Some(r.territory_id)).await? {
            out.push(row);
        }
    }
    Ok(out)
}
