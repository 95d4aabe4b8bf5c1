//! `Measure` and `MeasureStatus`: one item of a roadmap, its status and progress, its traces
//! through the cascade, link suggestions, coverage and occurrences.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputType, Json, Object, Result, SelectionField};
use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::{ServiceError, people};

use crate::cascade::Reached;
use crate::graphql::occurrence::{self, Occurrence, UndatedScheduleItem};
use crate::graphql::section::Heading;
use crate::graphql::trace::{Known, Trace};
use crate::graphql::{
    CoverageRow, Organisation, Plan, Suggestion, SuggestionScope, Territory, UnitCoverageRow, clock,
    implementing_territories,
};
use crate::loaders::Loaders;
use crate::store::{self, Direction, MeasureRow, PlanRow, StatusRow, TraceRow};
use crate::{access, cascade};

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum MeasureStatus {
    Planned,
    InProgress,
    Done,
    Cancelled,
    /// Derived: past its last due day and neither done nor cancelled.
    Overdue,
}

// OVERDUE is never stored (`setMeasureStatus` refuses it); it maps to itself only so the
// generated list and lookups stay exhaustive.
roadmap_common::db_enum!(MeasureStatus {
    Planned => "PLANNED",
    InProgress => "IN_PROGRESS",
    Done => "DONE",
    Cancelled => "CANCELLED",
    Overdue => "OVERDUE",
});

/// One item of a roadmap.
pub struct Measure(pub MeasureRow);

/// A cell of a column whose header the importer does not know, kept as written.
#[derive(async_graphql::SimpleObject)]
pub struct ExtraColumn {
    /// The column's header as written (both rows of a two-row header joined by a space;
    /// "столбец N" when the header cell is empty).
    pub header: String,
    /// The cell, line breaks kept.
    pub value: String,
}

#[Object]
impl Measure {
    #[graphql(flatten)]
    async fn heading(&self) -> Heading<'_> {
        Heading::new(self.0.id, &self.0.number, &self.0.title)
    }

    /// The schedule as written ("октябрь 2023 г. – март 2024 г. еженедельно").
    async fn schedule_text(&self) -> Option<&str> {
        self.0.schedule_text.as_deref()
    }

    async fn expected_result(&self) -> Option<&str> {
        self.0.expected_result.as_deref()
    }

    /// The responsible parties as written, next to the resolved `responsible`.
    async fn responsible_text(&self) -> Option<&str> {
        self.0.responsible_text.as_deref()
    }

    /// Stable identity within the plan across re-imports (e.g. `III.5`, `III.5~2` for a repeated number).
    async fn key(&self) -> Option<&str> {
        self.0.key.as_deref()
    }

    /// MEASURE, or MILESTONE for a control point.
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    /// The schedule as parsed: `{raw, items: [{type: Window|On|Deadline|Starting|Months|Recurrence|
    /// Continuous|External, ...}], kind}`; `scheduleText` keeps what the document said.
    async fn schedule(&self) -> Option<Json<serde_json::Value>> {
        self.0.schedule.clone().map(Json)
    }

    /// One-word summary of the schedule (Window, Deadline, Recurrence, Continuous, External ...).
    async fn schedule_kind(&self) -> Option<&str> {
        self.0.schedule_kind.as_deref()
    }

    /// First day of work, when the schedule dates it.
    async fn starts_on(&self) -> Option<NaiveDate> {
        self.0.starts_on
    }

    /// Last day it is due, when the schedule dates it.
    async fn due_on(&self) -> Option<NaiveDate> {
        self.0.due_on
    }

    /// "Формы отчетных документов".
    async fn reporting_forms(&self) -> Option<&str> {
        self.0.reporting_forms.as_deref()
    }

    /// "Примечания/комментарий".
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }

    async fn indicator_text(&self) -> Option<&str> {
        self.0.indicator_text.as_deref()
    }

    /// Quantitative targets found in the result text: `[{comparator, value, value_raw, unit, subject, raw}]`.
    async fn targets(&self) -> Json<serde_json::Value> {
        Json(self.0.targets.clone())
    }

    /// Every responsible party as parsed (organisations, roles, teams), with raw text:
    /// `[{kind, name, full_name, abbreviation, raw}]`.
    async fn parties(&self) -> Json<serde_json::Value> {
        Json(self.0.parties.clone())
    }

    /// Cells of the document's columns the parser has no role for ("Источник финансирования",
    /// "Отметка о выполнении" ...), in column order, non-empty ones only.
    async fn extra_columns(&self) -> Vec<ExtraColumn> {
        self.0
            .extra
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                Some(ExtraColumn {
                    header: e["header"].as_str()?.to_string(),
                    value: e["value"].as_str()?.to_string(),
                })
            })
            .collect()
    }

    /// Line of the source document the row starts on.
    async fn source_line(&self) -> Option<i32> {
        self.0.source_line
    }

    async fn responsible(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        let ids = ctx
            .data::<Loaders>()?
            .responsible_by_measure
            .load_one(self.0.id)
            .await?;
        Ok(ids
            .unwrap_or_default()
            .into_iter()
            .map(|id| Organisation { id: ID(id.to_string()) })
            .collect())
    }

    /// Effective status: what people set, or OVERDUE once the last due day has passed unfinished.
    async fn status(&self, ctx: &Context<'_>) -> Result<Option<MeasureStatus>> {
        let row = ctx.data::<Loaders>()?.status_by_measure.load_one(self.0.id).await?;
        Ok(row.map(|r| cascade::effective_status_now(&r, &clock(ctx))))
    }

    /// The status as people set it (never OVERDUE).
    async fn reported_status(&self, ctx: &Context<'_>) -> Result<Option<MeasureStatus>> {
        let row = ctx.data::<Loaders>()?.status_by_measure.load_one(self.0.id).await?;
        Ok(row.map(|r| cascade::effective_status(&StatusRow { due_on: None, ..r }, clock(ctx).today())))
    }

    /// When the measure last changed: its content (a re-import), its status or progress, or a
    /// report on one of its occurrences.
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<chrono::DateTime<chrono::Utc>> {
        crate::graphql::audit::updated_at(ctx, self.0.id).await
    }

    /// Reported progress in percent.
    async fn progress(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        Ok(ctx
            .data::<Loaders>()?
            .status_by_measure
            .load_one(self.0.id)
            .await?
            .and_then(|r| r.progress))
    }

    /// Progress rolled up over confirmed implementers (rule in the cascade module docs);
    /// null for a cancelled measure. Read with the measure's status (kept by the database), so
    /// the measures of a page cost one batched read between them, whatever the cascade under them.
    async fn rolled_progress(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        let loaders = ctx.data::<Loaders>()?;
        match loaders.status_by_measure.load_one(self.0.id).await? {
            Some(row) if !row.rolled_read => Ok(loaders
                .rolled_by_measure
                .load_one(self.0.id)
                .await?
                .and_then(|r| r.rolled_progress)),
            row => Ok(row.and_then(|r| r.rolled_progress)),
        }
    }

    /// Measures of lower-level plans that carry this one out, level by level, down to `depth`.
    async fn implemented_by(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "DEFAULT_TRACE_DEPTH")] depth: i32,
    ) -> Result<Trace> {
        self.trace(ctx, depth, Direction::Down).await
    }

    /// Measures of higher-level plans this one carries out, up to the top.
    async fn implements(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "DEFAULT_TRACE_DEPTH")] depth: i32,
    ) -> Result<Trace> {
        self.trace(ctx, depth, Direction::Up).await
    }

    /// Measures this one most likely implements (or duplicates), ranked by text similarity
    /// (Russian stemming + BM25). Default scope: the declared parent plans when there are any,
    /// else every plan of a higher level.
    async fn similar_measures(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5)] first: i32,
        scope: Option<SuggestionScope>,
    ) -> Result<Vec<Suggestion>> {
        if !(1..=50).contains(&first) {
            return Err(ServiceError::invalid("first", "must be between 1 and 50").into());
        }
        let loaders = ctx.data::<Loaders>()?;
        let scope = match scope {
            Some(s) => s,
            None if loaders
                .parents_by_plan
                .load_one(self.0.plan_id)
                .await?
                .is_some_and(|p| !p.is_empty()) =>
            {
                SuggestionScope::Parents
            }
            None => SuggestionScope::Higher,
        };
        let candidates = store::link_candidates(ctx.data::<PgPool>()?, self.0.plan_id, scope.as_db()).await?;
        let ranked = crate::similarity::Index::new(candidates).rank(&self.0.title, first as usize);
        let rows = loaders.measure_by_id.load_many(ranked.iter().map(|r| r.0)).await?;
        let visible = access::visible_plans(ctx, rows.values().map(|m| m.plan_id)).await?;
        Ok(ranked
            .into_iter()
            .filter_map(|(id, score)| {
                rows.get(&id)
                    .filter(|m| visible.contains(&m.plan_id))
                    .cloned()
                    .map(|m| Suggestion {
                        measure: Measure(m),
                        score,
                    })
            })
            .collect())
    }

    /// For a measure of a plan with a territory: each child territory (municipalities of a
    /// region), whether some measure of a plan there implements this one (at any depth), and which.
    async fn coverage(&self, ctx: &Context<'_>) -> Result<Vec<CoverageRow>> {
        let loaders = ctx.data::<Loaders>()?;
        let plan = loaders.plan_by_id.load_one(self.0.plan_id).await?;
        let Some(territory) = plan.and_then(|p| p.territory_id) else {
            return Ok(Vec::new());
        };
        let people = people::from_ctx(ctx)?;
        let children = people.children(territory).await?;
        let mut reach = implementing_territories(ctx, [self.0.id])
            .await?
            .remove(&self.0.id)
            .unwrap_or_default();
        let wanted: Vec<Uuid> = children
            .iter()
            .filter_map(|t| reach.get(t))
            .flatten()
            .copied()
            .collect();
        let measures = loaders.measure_by_id.load_many(wanted).await?;
        Ok(children
            .into_iter()
            .map(|t| {
                let mut implementing: Vec<&MeasureRow> = reach
                    .remove(&t)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|id| measures.get(id))
                    .collect();
                implementing.sort_by_key(|m| (m.plan_id, m.position));
                CoverageRow {
                    territory: Territory { id: ID(t.to_string()) },
                    covered: !implementing.is_empty(),
                    implementing_measures: implementing.into_iter().cloned().map(Measure).collect(),
                }
            })
            .collect())
    }

    /// One level lower than `coverage`: for a measure of a plan with an owner (a school), each
    /// unit directly under the owner (its classes, subject teams and staff roles, classes first),
    /// whether a plan owned by that unit or a unit under it (a class's staff roles) implements
    /// this measure (at any depth), and which measures. "Which classes of this school have a
    /// plan implementing this measure": `coverageByUnit { unit { name kind } covered }`.
    async fn coverage_by_unit(&self, ctx: &Context<'_>) -> Result<Vec<UnitCoverageRow>> {
        let loaders = ctx.data::<Loaders>()?;
        let plan = loaders.plan_by_id.load_one(self.0.plan_id).await?;
        let Some(owner) = plan.and_then(|p| p.owner_organisation_id) else {
            return Ok(Vec::new());
        };
        let units = people::from_ctx(ctx)?.unit_subtrees(owner).await?;
        if units.is_empty() {
            return Ok(Vec::new());
        }
        let rows = loaders
            .trace_down
            .load_one((self.0.id, cascade::MAX_DEPTH))
            .await?
            .unwrap_or_default();
        let ids: HashSet<Uuid> = rows.iter().map(|r| r.measure_id).collect();
        let measures = loaders.measure_by_id.load_many(ids).await?;
        let plans = loaders
            .plan_by_id
            .load_many(measures.values().map(|m| m.plan_id).collect::<HashSet<_>>())
            .await?;
        // Drafts count only for those who may see them.
        let visible = access::visible_plans(ctx, plans.keys().copied()).await?;
        let owner_of = |m: &MeasureRow| {
            plans
                .get(&m.plan_id)
                .filter(|_| visible.contains(&m.plan_id))
                .and_then(|p| p.owner_organisation_id)
        };
        let mut ordered: Vec<&MeasureRow> = measures.values().collect();
        ordered.sort_by_key(|m| (m.plan_id, m.position));
        Ok(units
            .into_iter()
            .filter_map(|subtree| {
                let unit = *subtree.first()?;
                let implementing: Vec<Measure> = ordered
                    .iter()
                    .filter(|m| owner_of(m).is_some_and(|o| subtree.contains(&o)))
                    .map(|m| Measure((*m).clone()))
                    .collect();
                Some(UnitCoverageRow {
                    unit: Organisation {
                        id: ID(unit.to_string()),
                    },
                    covered: !implementing.is_empty(),
                    implementing_measures: implementing,
                })
            })
            .collect())
    }

    async fn plan(&self, ctx: &Context<'_>) -> Result<Plan> {
        let row = ctx.data::<Loaders>()?.plan_by_id.load_one(self.0.plan_id).await?;
        row.map(Plan)
            .ok_or_else(|| ServiceError::not_found("Plan", self.0.plan_id).into())
    }

    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Measure>> {
        let rows = ctx.data::<Loaders>()?.measures_by_parent.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Measure).collect())
    }

    /// Dated occurrences of the structured schedule overlapping `from`–`to` (inclusive, either
    /// open), in date order: each week of "еженедельно", each month of "ежемесячно", deadlines,
    /// dates and windows (rules in `roadmap_import::occurrence`). Continuous work and dates set by
    /// another document yield none: `undatedSchedule` says so.
    async fn occurrences(
        &self,
        ctx: &Context<'_>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<Occurrence>> {
        occurrence::of_measure(ctx, &self.0, from, to).await
    }

    /// The parts of the schedule that yield no dated occurrence, and why (continuous work, dates
    /// set by another document, ...). Empty when every part is dated.
    async fn undated_schedule(&self, ctx: &Context<'_>) -> Result<Vec<UndatedScheduleItem>> {
        occurrence::undated(ctx, &self.0).await
    }
}

impl Measure {
    /// The trace from this measure in `direction`, as a tree, `depth` levels deep. When the
    /// selection asks for the reached measures (at any level), the one statement that walks the
    /// links also reads their rows (only the columns the asked fields need), statuses, plan
    /// states and, at the levels that ask for `plan`, plans: the whole trace is that statement,
    /// and who may see each node is decided once per plan.
    async fn trace(&self, ctx: &Context<'_>, depth: i32, direction: Direction) -> Result<Trace> {
        let depth = cascade::check_depth(depth)?;
        let loaders = ctx.data::<Loaders>()?;
        let asks = TraceAsks::of(ctx.look_ahead().selection_fields());
        let nodes = match read_trace(loaders, self.0.id, direction, depth, &asks).await? {
            TraceRead::Edges(rows) => {
                return Ok(Trace {
                    nodes: cascade::build_tree(self.0.id, &rows, direction, &|_| Reached::Unknown),
                    known: None,
                });
            }
            TraceRead::Nodes(nodes) => nodes,
        };
        let row_of: HashMap<Uuid, usize> = nodes.iter().enumerate().map(|(i, n)| (n.measure.id, i)).collect();
        let plans: HashMap<Uuid, Arc<PlanRow>> = nodes
            .iter()
            .filter_map(|n| n.plan.as_ref().map(|p| (p.id, p.clone())))
            .collect();
        let visible_plans: Vec<_> = nodes
            .iter()
            .map(|n| (n.measure.plan_id, n.plan_state.as_str(), n.plan_territory_id))
            .collect();
        let visible = access::visible_of(ctx, &visible_plans).await?;
        let edges: Vec<TraceRow> = nodes.iter().map(|n| n.edge.clone()).collect();
        let tree = cascade::build_tree(self.0.id, &edges, direction, &|m| match row_of.get(&m) {
            Some(&i) if visible.contains(&nodes[i].measure.plan_id) => Reached::Row(nodes[i].measure.clone()),
            Some(_) => Reached::Hidden,
            None => Reached::Unknown,
        });
        Ok(Trace {
            nodes: tree,
            known: Some(Known {
                rows: nodes,
                row_of,
                plans,
                whole_rows: asks.reads.whole_rows(),
                clock: clock(ctx),
            }),
        })
    }
}

/// What a trace reads: its edges alone (no level asks for `measure`), or its nodes with what
/// their fields need.
enum TraceRead {
    Edges(Vec<TraceRow>),
    Nodes(Arc<Vec<store::TraceNodeRow>>),
}

/// Reads the trace from `id` through the request's loaders (kept for the rest of the request).
async fn read_trace(
    loaders: &Loaders,
    id: Uuid,
    direction: Direction,
    depth: i32,
    asks: &TraceAsks,
) -> Result<TraceRead> {
    if !asks.measures {
        let loader = match direction {
            Direction::Down => &loaders.trace_down,
            Direction::Up => &loaders.trace_up,
        };
        return Ok(TraceRead::Edges(
            loader.load_one((id, depth)).await?.unwrap_or_default(),
        ));
    }
    let loader = match direction {
        Direction::Down => &loaders.trace_nodes_down,
        Direction::Up => &loaders.trace_nodes_up,
    };
    Ok(TraceRead::Nodes(
        loader.load_one((id, depth, asks.reads)).await?.unwrap_or_default(),
    ))
}

/// The depth of a trace when its field gives none.
pub const DEFAULT_TRACE_DEPTH: i32 = 5;

/// Reads the traces that `measures` (the look-ahead of a field returning the measure `id`, e.g.
/// `Query.measure`) ask of it, into the request's loaders, where `implementedBy` and
/// `implements` then find them. Started beside the read of the measure itself, both statements
/// are in flight at once instead of one after the other. What is read is exactly what those
/// fields would read (the same [`TraceAsks`] and depth): a trace asked in some other way is
/// read by its field as before, and an error here is left for the field to meet (a measure the
/// caller may not see answers `null` and its traces are never returned).
pub async fn read_traces_ahead(measures: Vec<SelectionField<'_>>, loaders: &Loaders, id: Uuid) {
    let mut reads = Vec::new();
    for field in measures.iter().flat_map(|m| m.selection_set()) {
        let direction = match field.name() {
            "implementedBy" => Direction::Down,
            "implements" => Direction::Up,
            _ => continue,
        };
        let Ok(arguments) = field.arguments() else { continue };
        // Parsed as the field's own argument is: a value the field would refuse reads nothing.
        let depth = match arguments.into_iter().find(|(name, _)| name.as_str() == "depth") {
            None => DEFAULT_TRACE_DEPTH,
            Some((_, value)) => match <i32 as InputType>::parse(Some(value)) {
                Ok(depth) => depth,
                Err(_) => continue,
            },
        };
        let Ok(depth) = cascade::check_depth(depth) else {
            continue;
        };
        let asks = TraceAsks::of(std::iter::once(field));
        reads.push(async move { read_trace(loaders, id, direction, depth, &asks).await });
    }
    futures::future::join_all(reads).await;
}

/// The fields of `Measure` whose resolvers are checked, with the columns of its row they read
/// besides `id`, `plan_id` and `due_on` (which a trace always reads; the others are left as
/// `MeasureRow::manual` leaves them, see `store::NodeReads`). A trace reads the columns of the fields its selection asks at any
/// level; a field not listed here reads every column. A new field is not listed until its
/// resolver is checked: unlisted means whole rows, never a wrong value.
const TRACE_FIELD_COLUMNS: &[(&str, &[&str])] = &[
    ("__typename", &[]),
    ("id", &[]),
    ("number", &["number"]),
    ("title", &["title"]),
    ("key", &["key"]),
    ("kind", &["kind"]),
    ("scheduleKind", &["schedule_kind"]),
    ("startsOn", &["starts_on"]),
    ("dueOn", &["due_on"]),
    ("sourceLine", &["source_line"]),
    ("responsible", &[]),
    ("status", &[]),
    ("reportedStatus", &[]),
    ("progress", &[]),
    ("updatedAt", &[]),
    ("rolledProgress", &[]),
    ("implementedBy", &[]),
    ("implements", &[]),
    ("similarMeasures", &["title"]),
    ("coverage", &[]),
    ("coverageByUnit", &[]),
    ("plan", &[]),
    ("children", &[]),
];

/// What a trace's selection asks of the measures it reaches, over all its levels.
#[derive(Default)]
struct TraceAsks {
    /// Some level asks for `measure`.
    measures: bool,
    reads: store::NodeReads,
}

impl TraceAsks {
    /// What the trace fields `fields` (`implementedBy` or `implements`, as the look-ahead finds
    /// them) ask.
    fn of<'a>(fields: impl IntoIterator<Item = SelectionField<'a>>) -> TraceAsks {
        let mut asks = TraceAsks::default();
        for field in fields {
            asks.walk(field.selection_set(), 1);
        }
        asks
    }

    /// Reads the selection of a level (`TraceNode`'s fields) at `depth`.
    fn walk<'a>(&mut self, level: impl Iterator<Item = SelectionField<'a>>, depth: i32) {
        for field in level {
            match field.name() {
                "measure" => {
                    self.measures = true;
                    for asked in field.selection_set() {
                        match asked.name() {
                            "plan" => self.reads.plan_depths |= 1 << depth,
                            "rolledProgress" => self.reads.rolled = true,
                            _ => {}
                        }
                        let columns = TRACE_FIELD_COLUMNS
                            .iter()
                            .find(|(name, _)| *name == asked.name())
                            .and_then(|(_, columns)| self.reads.with_columns(columns));
                        self.reads = columns.unwrap_or(store::NodeReads::WHOLE.union(self.reads));
                    }
                }
                "next" => self.walk(field.selection_set(), depth + 1),
                _ => {}
            }
        }
    }
}
