//! GraphQL types of the plans subgraph.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::relay::{decode_cursor, encode_cursor, page_size};
use roadmap_common::{ServiceError, ServiceResult};

use std::collections::{HashMap, HashSet};

use roadmap_common::auth;

use crate::access;
use crate::cascade::{self, MeasureStatus};
use crate::import::{ImportOptions, ImportStatus, ImportSummary};
use crate::loaders::Loaders;
use crate::people_client::PeopleClient;
use crate::store::{self, LintRow, MeasureRow, PlanRow, SectionRow, StatusRow};

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum PlanState {
    Draft,
    Approved,
}

impl PlanState {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Approved => "APPROVED",
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum PlanLevel {
    Federal,
    Regional,
    Municipal,
    School,
}

impl PlanLevel {
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Federal => "FEDERAL",
            Self::Regional => "REGIONAL",
            Self::Municipal => "MUNICIPAL",
            Self::School => "SCHOOL",
        }
    }

    pub fn from_db(text: &str) -> Option<Self> {
        match text {
            "FEDERAL" => Some(Self::Federal),
            "REGIONAL" => Some(Self::Regional),
            "MUNICIPAL" => Some(Self::Municipal),
            "SCHOOL" => Some(Self::School),
            _ => None,
        }
    }
}

pub fn parse_id(field: &str, id: &ID) -> ServiceResult<Uuid> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| ServiceError::invalid(field, format!("`{}` is not a valid id", id.as_str())))
}

/// An organisation of the people subgraph, referenced by id.
#[derive(SimpleObject)]
#[graphql(unresolvable)]
pub struct Organisation {
    pub id: ID,
}

/// A territory of the people subgraph, referenced by id.
#[derive(SimpleObject)]
#[graphql(unresolvable)]
pub struct Territory {
    pub id: ID,
}

/// A roadmap as approved: regional, municipal, school (or federal).
pub struct Plan(pub PlanRow);

#[Object]
impl Plan {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn level(&self) -> Option<PlanLevel> {
        PlanLevel::from_db(&self.0.level)
    }

    async fn period_start(&self) -> Option<NaiveDate> {
        self.0.period_start
    }

    async fn period_end(&self) -> Option<NaiveDate> {
        self.0.period_end
    }

    /// The period as the document states it (e.g. "2023/2024 учебный год").
    async fn period_text(&self) -> Option<&str> {
        self.0.period_text.as_deref()
    }

    async fn owner(&self) -> Option<Organisation> {
        self.0
            .owner_organisation_id
            .map(|id| Organisation { id: ID(id.to_string()) })
    }

    async fn territory(&self) -> Option<Territory> {
        self.0.territory_id.map(|id| Territory { id: ID(id.to_string()) })
    }

    /// Version of the source document (1 for plans entered by hand; +1 per changed re-import).
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// `DRAFT` plans are seen only by signed-in users whose scope covers the plan's territory
    /// (and by auditors and admins); `APPROVED` plans are public.
    async fn state(&self) -> PlanState {
        if self.0.state == "APPROVED" {
            PlanState::Approved
        } else {
            PlanState::Draft
        }
    }

    /// The act that approved the plan, as the document states it.
    async fn approval(&self) -> Option<Approval> {
        let p = &self.0;
        (p.approval_kind.is_some() || p.approval_number.is_some() || p.approval_date.is_some()).then(|| Approval {
            kind: p.approval_kind.clone(),
            number: p.approval_number.clone(),
            date: p.approval_date,
            signatory: p.approval_signatory.clone(),
        })
    }

    async fn goals(&self) -> &[String] {
        &self.0.goals
    }

    /// Doubtful data the importer found, for a person to decide on (nothing was "fixed").
    async fn lint(&self, ctx: &Context<'_>) -> Result<Vec<LintFinding>> {
        let rows = ctx.data::<Loaders>()?.lint_by_plan.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(LintFinding::from).collect())
    }

    /// Plans this plan declares it implements.
    async fn parents(&self, ctx: &Context<'_>) -> Result<Vec<Plan>> {
        let loaders = ctx.data::<Loaders>()?;
        let ids = loaders.parents_by_plan.load_one(self.0.id).await?.unwrap_or_default();
        let rows = loaders.plan_by_id.load_many(ids.iter().copied()).await?;
        Ok(ids.iter().filter_map(|id| rows.get(id).cloned()).map(Plan).collect())
    }

    /// Which measures of my parent plans do I implement, and which not.
    async fn parent_coverage(&self, ctx: &Context<'_>) -> Result<Vec<cascade::ParentMeasureCoverage>> {
        let loaders = ctx.data::<Loaders>()?;
        let parents = loaders.parents_by_plan.load_one(self.0.id).await?.unwrap_or_default();
        let parent_measures = loaders.measures_by_plan.load_many(parents.iter().copied()).await?;
        let parent_measures: Vec<MeasureRow> = parents
            .iter()
            .flat_map(|p| parent_measures.get(p).cloned().unwrap_or_default())
            .collect();
        let traces = loaders
            .trace_down
            .load_many(parent_measures.iter().map(|m| (m.id, 1)))
            .await?;
        let mine: Vec<Uuid> = traces.values().flatten().map(|r| r.measure_id).collect();
        let mine = loaders.measure_by_id.load_many(mine).await?;
        Ok(parent_measures
            .into_iter()
            .map(|m| {
                let implemented_by = traces
                    .get(&(m.id, 1))
                    .into_iter()
                    .flatten()
                    .filter_map(|r| mine.get(&r.measure_id))
                    .filter(|x| x.plan_id == self.0.id)
                    .cloned()
                    .map(Measure)
                    .collect();
                cascade::ParentMeasureCoverage {
                    parent_measure: Measure(m),
                    implemented_by,
                }
            })
            .collect())
    }

    /// For a plan with a territory: per child territory, how many of this plan's measures have an
    /// implementing measure there (at any depth), out of all its measures.
    async fn implementation_by_territory(&self, ctx: &Context<'_>) -> Result<Vec<cascade::TerritoryImplementation>> {
        let Some(territory) = self.0.territory_id else {
            return Ok(Vec::new());
        };
        let loaders = ctx.data::<Loaders>()?;
        let people = ctx
            .data::<PeopleClient>()
            .map_err(|_| ServiceError::internal(std::io::Error::other("the plans service has no people URL")))?;
        let children = people.children(territory).await?;
        let measures: Vec<MeasureRow> = loaders
            .measures_by_plan
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m.kind == "MEASURE")
            .collect();
        let traces = loaders
            .trace_down
            .load_many(measures.iter().map(|m| (m.id, cascade::MAX_DEPTH)))
            .await?;
        let mut implemented: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
        for m in &measures {
            let rows = traces.get(&(m.id, cascade::MAX_DEPTH)).cloned().unwrap_or_default();
            for t in cascade::implementers_by_territory(ctx, &rows).await?.into_keys() {
                implemented.entry(t).or_default().insert(m.id);
            }
        }
        let total = measures.len() as i32;
        Ok(children
            .into_iter()
            .map(|t| {
                let n = implemented.get(&t).map(HashSet::len).unwrap_or(0) as i32;
                cascade::TerritoryImplementation {
                    territory: Territory { id: ID(t.to_string()) },
                    implemented: n,
                    total,
                    share: if total > 0 {
                        f64::from(n) / f64::from(total)
                    } else {
                        0.0
                    },
                }
            })
            .collect())
    }

    async fn sections(&self, ctx: &Context<'_>) -> Result<Vec<Section>> {
        let rows = ctx.data::<Loaders>()?.sections_by_plan.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Section).collect())
    }

    /// Every measure of the plan in document order, children included.
    async fn measures(&self, ctx: &Context<'_>) -> Result<Vec<Measure>> {
        let rows = ctx.data::<Loaders>()?.measures_by_plan.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Measure).collect())
    }
}

#[derive(SimpleObject)]
pub struct Approval {
    /// "приказ", "распоряжение" ...
    pub kind: Option<String>,
    /// As written: "114-р", "450/1-осн.р.".
    pub number: Option<String>,
    pub date: Option<NaiveDate>,
    pub signatory: Option<String>,
}

/// A defect found on import (date outside the period, duplicate number, unresolved abbreviation...).
#[derive(SimpleObject, Clone)]
pub struct LintFinding {
    /// Stable code, e.g. `duplicate-number`, `schedule-outside-period`, `note-to-self`.
    pub code: String,
    /// INFO, WARNING or ERROR.
    pub severity: String,
    pub message: String,
    /// 1-based line of the source document.
    pub line: Option<i32>,
    pub measure_number: Option<String>,
}

impl From<LintRow> for LintFinding {
    fn from(r: LintRow) -> Self {
        Self {
            code: r.code,
            severity: r.severity,
            message: r.message,
            line: r.line,
            measure_number: r.measure_number,
        }
    }
}

impl From<&roadmap_import::LintFinding> for LintFinding {
    fn from(f: &roadmap_import::LintFinding) -> Self {
        Self {
            code: f.code.clone(),
            severity: format!("{:?}", f.severity).to_uppercase(),
            message: f.message.clone(),
            line: i32::try_from(f.line).ok(),
            measure_number: f.measure_number.clone(),
        }
    }
}

pub struct Section(pub SectionRow);

#[Object]
impl Section {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// As written ("1", "III"); empty when the document has none.
    async fn number(&self) -> &str {
        &self.0.number
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn position(&self) -> i32 {
        self.0.position
    }

    /// Top-level measures of the section (children hang under their measure).
    async fn measures(&self, ctx: &Context<'_>) -> Result<Vec<Measure>> {
        let rows = ctx.data::<Loaders>()?.measures_by_section.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Measure).collect())
    }
}

/// One item of a roadmap.
pub struct Measure(pub MeasureRow);

#[Object]
impl Measure {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The number exactly as written in the document ("1.3", "III.5", "5.").
    async fn number(&self) -> &str {
        &self.0.number
    }

    async fn title(&self) -> &str {
        &self.0.title
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
        Ok(row.map(|r| cascade::effective_status(&r, cascade::today(ctx))))
    }

    /// The status as people set it (never OVERDUE).
    async fn reported_status(&self, ctx: &Context<'_>) -> Result<Option<MeasureStatus>> {
        let row = ctx.data::<Loaders>()?.status_by_measure.load_one(self.0.id).await?;
        Ok(row.map(|r| cascade::effective_status(&StatusRow { due_on: None, ..r }, cascade::today(ctx))))
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
    /// null for a cancelled measure.
    async fn rolled_progress(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        let loaders = ctx.data::<Loaders>()?;
        let rows = loaders
            .trace_down
            .load_one((self.0.id, cascade::MAX_DEPTH))
            .await?
            .unwrap_or_default();
        let links = loaders.link_by_id.load_many(rows.iter().map(|r| r.link_id)).await?;
        let mut edges: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for r in rows
            .iter()
            .filter(|r| links.get(&r.link_id).is_some_and(|l| l.state == "CONFIRMED"))
        {
            edges.entry(r.implements_id).or_default().push(r.measure_id);
        }
        let ids: Vec<Uuid> = std::iter::once(self.0.id)
            .chain(rows.iter().map(|r| r.measure_id))
            .collect();
        let statuses = loaders.status_by_measure.load_many(ids).await?;
        Ok(cascade::rolled_progress(
            self.0.id,
            &edges,
            &statuses,
            &mut Default::default(),
        ))
    }

    /// Measures of lower-level plans that carry this one out, level by level, down to `depth`.
    async fn implemented_by(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5)] depth: i32,
    ) -> Result<Vec<cascade::TraceNode>> {
        let depth = cascade::check_depth(depth)?;
        let rows = ctx
            .data::<Loaders>()?
            .trace_down
            .load_one((self.0.id, depth))
            .await?
            .unwrap_or_default();
        Ok(cascade::build_tree(self.0.id, &rows, true))
    }

    /// Measures of higher-level plans this one carries out, up to the top.
    async fn implements(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5)] depth: i32,
    ) -> Result<Vec<cascade::TraceNode>> {
        let depth = cascade::check_depth(depth)?;
        let rows = ctx
            .data::<Loaders>()?
            .trace_up
            .load_one((self.0.id, depth))
            .await?
            .unwrap_or_default();
        Ok(cascade::build_tree(self.0.id, &rows, false))
    }

    /// Measures this one most likely implements (or duplicates), ranked by text similarity
    /// (Russian stemming + BM25). Default scope: the declared parent plans when there are any,
    /// else every plan of a higher level.
    async fn similar_measures(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5)] first: i32,
        scope: Option<cascade::SuggestionScope>,
    ) -> Result<Vec<cascade::Suggestion>> {
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
                cascade::SuggestionScope::Parents
            }
            None => cascade::SuggestionScope::Higher,
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
                    .map(|m| cascade::Suggestion {
                        measure: Measure(m),
                        score,
                    })
            })
            .collect())
    }

    /// For a measure of a plan with a territory: each child territory (municipalities of a
    /// region), whether some measure of a plan there implements this one (at any depth), and which.
    async fn coverage(&self, ctx: &Context<'_>) -> Result<Vec<cascade::CoverageRow>> {
        let loaders = ctx.data::<Loaders>()?;
        let plan = loaders.plan_by_id.load_one(self.0.plan_id).await?;
        let Some(territory) = plan.and_then(|p| p.territory_id) else {
            return Ok(Vec::new());
        };
        let people = ctx
            .data::<PeopleClient>()
            .map_err(|_| ServiceError::internal(std::io::Error::other("the plans service has no people URL")))?;
        let children = people.children(territory).await?;
        let rows = loaders
            .trace_down
            .load_one((self.0.id, cascade::MAX_DEPTH))
            .await?
            .unwrap_or_default();
        let mut by_territory = cascade::implementers_by_territory(ctx, &rows).await?;
        // Drafts count only for those who may see them.
        let visible = access::visible_plans(ctx, by_territory.values().flatten().map(|m| m.plan_id)).await?;
        Ok(children
            .into_iter()
            .map(|t| {
                let mut measures = by_territory.remove(&t).unwrap_or_default();
                measures.retain(|m| visible.contains(&m.plan_id));
                cascade::CoverageRow {
                    territory: Territory { id: ID(t.to_string()) },
                    covered: !measures.is_empty(),
                    implementing_measures: measures.into_iter().map(Measure).collect(),
                }
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
    ) -> Result<Vec<crate::occurrences::Occurrence>> {
        crate::occurrences::of_measure(ctx, &self.0, from, to).await
    }

    /// The parts of the schedule that yield no dated occurrence, and why (continuous work, dates
    /// set by another document, ...). Empty when every part is dated.
    async fn undated_schedule(&self, ctx: &Context<'_>) -> Result<Vec<crate::occurrences::UndatedScheduleItem>> {
        crate::occurrences::undated(ctx, &self.0).await
    }
}

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
        let row = ctx.data::<Loaders>()?.measure_by_id.load_one(id).await?;
        access::visible_measure(ctx, row).await
    }

    #[graphql(entity)]
    async fn find_plan_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Plan>> {
        self.plan(ctx, id).await
    }

    #[graphql(entity)]
    async fn find_measure_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Measure>> {
        self.measure(ctx, id).await
    }
}

#[derive(InputObject)]
pub struct MeasureInput {
    /// As written in the document.
    pub number: String,
    pub title: String,
    pub schedule_text: Option<String>,
    pub expected_result: Option<String>,
    pub responsible_text: Option<String>,
    /// Organisations of the people subgraph, in the order the document names them.
    #[graphql(default)]
    pub responsible: Vec<ID>,
    #[graphql(default)]
    pub children: Vec<MeasureInput>,
}

#[derive(InputObject)]
pub struct SectionInput {
    #[graphql(default)]
    pub number: String,
    pub title: String,
    #[graphql(default)]
    pub measures: Vec<MeasureInput>,
}

#[derive(InputObject)]
pub struct CreatePlanInput {
    pub title: String,
    pub level: PlanLevel,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub period_text: Option<String>,
    pub owner: Option<ID>,
    pub territory: Option<ID>,
    /// A plan entered by hand starts as a draft unless this is `APPROVED`.
    #[graphql(default_with = "PlanState::Draft")]
    pub state: PlanState,
    #[graphql(default)]
    pub sections: Vec<SectionInput>,
}

/// Rows of a plan ready to insert, built and validated before the transaction starts.
#[derive(Default)]
pub struct PlanRows {
    pub plan: Option<PlanRow>,
    pub sections: Vec<SectionRow>,
    pub measures: Vec<MeasureRow>,
    pub responsible: Vec<(Uuid, Uuid, i32)>,
}

fn non_empty(field: &str, value: &str) -> ServiceResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ServiceError::invalid(field, "must not be empty"));
    }
    Ok(v.to_string())
}

/// Turns the input into rows; every error names the input path of the offending field.
pub fn plan_rows(input: &CreatePlanInput) -> ServiceResult<PlanRows> {
    let plan_id = Uuid::new_v4();
    let title = non_empty("input.title", &input.title)?;
    if let (Some(s), Some(e)) = (input.period_start, input.period_end)
        && s > e
    {
        return Err(ServiceError::invalid(
            "input.periodEnd",
            format!("{e} is before periodStart {s}"),
        ));
    }
    let mut rows = PlanRows {
        plan: Some(PlanRow {
            id: plan_id,
            title,
            level: input.level.as_db().to_string(),
            period_start: input.period_start,
            period_end: input.period_end,
            period_text: input.period_text.clone(),
            owner_organisation_id: input.owner.as_ref().map(|o| parse_id("input.owner", o)).transpose()?,
            territory_id: input
                .territory
                .as_ref()
                .map(|t| parse_id("input.territory", t))
                .transpose()?,
            source_key: None,
            version: 1,
            approval_kind: None,
            approval_number: None,
            approval_date: None,
            approval_signatory: None,
            goals: Vec::new(),
            state: input.state.as_db().to_string(),
        }),
        ..Default::default()
    };
    let mut position = 0;
    for (si, section) in input.sections.iter().enumerate() {
        let section_id = Uuid::new_v4();
        rows.sections.push(SectionRow {
            id: section_id,
            plan_id,
            position: si as i32,
            number: section.number.trim().to_string(),
            title: non_empty(&format!("input.sections[{si}].title"), &section.title)?,
        });
        for (mi, measure) in section.measures.iter().enumerate() {
            let path = format!("input.sections[{si}].measures[{mi}]");
            add_measure(&mut rows, &path, plan_id, section_id, None, measure, &mut position)?;
        }
    }
    Ok(rows)
}

fn add_measure(
    rows: &mut PlanRows,
    path: &str,
    plan_id: Uuid,
    section_id: Uuid,
    parent: Option<Uuid>,
    input: &MeasureInput,
    position: &mut i32,
) -> ServiceResult<()> {
    let id = Uuid::new_v4();
    let number = input.number.trim().to_string();
    let title = non_empty(&format!("{path}.title"), &input.title)?;
    rows.measures.push(MeasureRow {
        section_id: Some(section_id),
        parent_measure_id: parent,
        schedule_text: input.schedule_text.clone(),
        expected_result: input.expected_result.clone(),
        responsible_text: input.responsible_text.clone(),
        ..MeasureRow::manual(id, plan_id, *position, number, title)
    });
    *position += 1;
    let mut seen = std::collections::HashSet::new();
    for (ri, org) in input.responsible.iter().enumerate() {
        let org = parse_id(&format!("{path}.responsible[{ri}]"), org)?;
        if !seen.insert(org) {
            return Err(ServiceError::invalid(
                format!("{path}.responsible[{ri}]"),
                "names the same organisation twice",
            ));
        }
        rows.responsible.push((id, org, ri as i32));
    }
    for (ci, child) in input.children.iter().enumerate() {
        add_measure(
            rows,
            &format!("{path}.children[{ci}]"),
            plan_id,
            section_id,
            Some(id),
            child,
            position,
        )?;
    }
    Ok(())
}

/// Writes validated rows in one transaction: all of the plan or nothing.
pub async fn insert_plan_rows(pool: &PgPool, rows: &PlanRows, actor: &auth::Actor) -> ServiceResult<Uuid> {
    let plan = rows
        .plan
        .as_ref()
        .ok_or_else(|| ServiceError::invalid("input", "no plan"))?;
    let mut tx = pool.begin().await?;
    store::insert_plan(&mut tx, plan).await?;
    store::insert_sections(&mut tx, &rows.sections).await?;
    store::insert_measures(&mut tx, &rows.measures).await?;
    store::insert_responsible(&mut tx, &rows.responsible).await?;
    let mut after = access::plan_json(plan);
    after["sections"] = rows.sections.len().into();
    after["measures"] = rows.measures.len().into();
    roadmap_common::audit::record(
        &mut tx,
        crate::NAME,
        actor,
        "createPlan",
        ("Plan", plan.id),
        None,
        Some(after),
    )
    .await?;
    tx.commit().await?;
    Ok(plan.id)
}

#[derive(InputObject)]
pub struct ImportRoadmapInput {
    /// The document's text (UTF-8, as extracted from DOCX/PDF).
    pub document: String,
    /// Shown in errors and kept with the version.
    pub file_name: Option<String>,
    /// Overrides the level the document states.
    pub level: Option<PlanLevel>,
    /// "Region/Municipality", e.g. "Хабаровский край/Николаевский муниципальный район".
    pub territory: Option<String>,
    /// Name of the owning organisation.
    pub owner: Option<String>,
    /// Overrides the derived identity of the document (see the importer docs).
    pub key: Option<String>,
    /// The state of a newly imported plan; by default `APPROVED` when the document states the
    /// act that approved it, else `DRAFT`. A re-import keeps the plan's state.
    pub state: Option<PlanState>,
}

#[derive(SimpleObject)]
pub struct KindCount {
    pub kind: String,
    pub count: i32,
}

#[derive(SimpleObject)]
pub struct ImportChanges {
    /// Measure keys new in this version.
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Measures whose number, title, schedule, responsible or result text changed.
    pub changed: Vec<String>,
}

/// What an import did.
pub struct ImportReport(pub ImportSummary);

#[Object]
impl ImportReport {
    async fn status(&self) -> ImportStatus {
        self.0.status
    }

    async fn plan(&self, ctx: &Context<'_>) -> Result<Plan> {
        let row = ctx.data::<Loaders>()?.plan_by_id.load_one(self.0.plan_id).await?;
        row.map(Plan)
            .ok_or_else(|| ServiceError::not_found("Plan", self.0.plan_id).into())
    }

    async fn version(&self) -> i32 {
        self.0.version
    }

    async fn source_key(&self) -> &str {
        &self.0.source_key
    }

    async fn sections(&self) -> usize {
        self.0.sections
    }

    async fn measures(&self) -> usize {
        self.0.measures
    }

    async fn child_measures(&self) -> usize {
        self.0.child_measures
    }

    async fn milestones(&self) -> usize {
        self.0.milestones
    }

    /// Parsed deadlines: measures per schedule kind.
    async fn deadlines_by_kind(&self) -> Vec<KindCount> {
        self.0
            .deadlines_by_kind
            .iter()
            .map(|(kind, count)| KindCount {
                kind: kind.clone(),
                count: *count as i32,
            })
            .collect()
    }

    async fn unresolved_names(&self) -> &[String] {
        &self.0.unresolved_names
    }

    async fn lint(&self) -> Vec<LintFinding> {
        self.0.lint.iter().map(LintFinding::from).collect()
    }

    /// Indicator targets and baselines read from the document's tables and goals.
    async fn indicator_targets(&self) -> Json<serde_json::Value> {
        Json(serde_json::to_value(&self.0.indicator_targets).unwrap_or_default())
    }

    async fn changes(&self) -> ImportChanges {
        let c = &self.0.changes;
        ImportChanges {
            added: c.added.clone(),
            removed: c.removed.clone(),
            changed: c.changed.clone(),
        }
    }
}

/// Every mutation of the subgraph.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    PlanMutation,
    crate::cascade::CascadeMutation,
    crate::occurrences::OccurrenceMutation,
);

#[derive(Default)]
pub struct PlanMutation;

#[Object]
impl PlanMutation {
    /// Imports one roadmap document as a plan, all or nothing. Re-importing the same text changes
    /// nothing; changed text becomes a new version of the same plan.
    async fn import_roadmap(&self, ctx: &Context<'_>, input: ImportRoadmapInput) -> Result<ImportReport> {
        let people = ctx
            .data::<PeopleClient>()
            .map_err(|_| ServiceError::internal(std::io::Error::other("the plans service has no people URL")))?;
        let options = ImportOptions {
            level: input.level,
            territory: input.territory,
            owner: input.owner,
            key: input.key,
            file_name: input.file_name,
            state: input.state,
            actor: auth::actor(ctx).clone(),
        };
        let indicators = ctx.data_opt::<crate::indicators_client::IndicatorsClient>();
        let summary = crate::import::import_document_with(
            ctx.data::<PgPool>()?,
            people,
            indicators,
            input.document.as_bytes(),
            &options,
        )
        .await?;
        Ok(ImportReport(summary))
    }

    /// Creates a plan with its sections and measures in one all-or-nothing call.
    async fn create_plan(&self, ctx: &Context<'_>, input: CreatePlanInput) -> Result<Plan> {
        let rows = plan_rows(&input)?;
        let territory = rows.plan.as_ref().and_then(|p| p.territory_id);
        access::require_territories(ctx, &access::EDIT, "creating a plan", &[territory]).await?;
        let pool = ctx.data::<PgPool>()?;
        let id = insert_plan_rows(pool, &rows, auth::actor(ctx)).await?;
        let plan = store::plans_by_ids(pool, &[id]).await?;
        plan.into_iter()
            .next()
            .map(Plan)
            .ok_or_else(|| ServiceError::not_found("Plan", id).into())
    }

    /// Approves a draft plan (editors and coordinators of its territory): it becomes public and a
    /// `PLAN_APPROVED` event is published. Approving an approved plan changes nothing.
    async fn approve_plan(&self, ctx: &Context<'_>, plan: ID) -> Result<Plan> {
        let id = parse_id("plan", &plan)?;
        let pool = ctx.data::<PgPool>()?;
        let row = store::plans_by_ids(pool, &[id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::not_found("Plan", id))?;
        access::require_plans(ctx, &access::EDIT, "approving a plan", &[&row]).await?;
        let mut tx = pool.begin().await?;
        let before = store::approve_plan(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("Plan", id))?;
        if before != "APPROVED" {
            crate::events::plan_approved(&mut tx, &row).await?;
            let (before, after) = (
                serde_json::json!({ "state": before }),
                serde_json::json!({ "state": "APPROVED" }),
            );
            roadmap_common::audit::record(
                &mut tx,
                crate::NAME,
                auth::actor(ctx),
                "approvePlan",
                ("Plan", id),
                Some(before),
                Some(after),
            )
            .await?;
        }
        tx.commit().await?;
        let row = store::plans_by_ids(pool, &[id]).await?;
        row.into_iter()
            .next()
            .map(Plan)
            .ok_or_else(|| ServiceError::not_found("Plan", id).into())
    }
}
