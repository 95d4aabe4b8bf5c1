//! `Plan` with `PlanLevel`, `PlanState`, `Approval`, `LintFinding`, and `CreatePlanInput` (with
//! `SectionInput`, `MeasureInput`) turned into rows before `createPlan` writes them.

use std::collections::HashMap;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::NaiveDate;
use uuid::Uuid;

use roadmap_common::{ServiceError, ServiceResult, parse_id, people};

use crate::graphql::version::{PlanVersion, VersionChanges, version_changes};
use crate::graphql::{
    Measure, Organisation, ParentMeasureCoverage, Section, Territory, TerritoryImplementation,
    implementing_territory_ids,
};
use crate::loaders::Loaders;
use crate::store::{LintRow, MeasureRow, PlanRow, SectionRow};

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum PlanState {
    Draft,
    Approved,
}

roadmap_common::db_enum!(PlanState {
    Draft => "DRAFT",
    Approved => "APPROVED",
});

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum PlanLevel {
    Federal,
    Regional,
    Municipal,
    School,
    /// A class's or teacher's plan, owned by a class or staff role of a school (people's
    /// `CLASS` / `STAFF_ROLE` units); its measures implement the school's.
    Classroom,
}

roadmap_common::db_enum!(PlanLevel {
    Federal => "FEDERAL",
    Regional => "REGIONAL",
    Municipal => "MUNICIPAL",
    School => "SCHOOL",
    Classroom => "CLASSROOM",
});

/// A roadmap as approved: regional, municipal, school, a class's (or federal).
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
        PlanState::from_db(&self.0.state).unwrap_or(PlanState::Draft)
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
    async fn parent_coverage(&self, ctx: &Context<'_>) -> Result<Vec<ParentMeasureCoverage>> {
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
                ParentMeasureCoverage {
                    parent_measure: Measure(m),
                    implemented_by,
                }
            })
            .collect())
    }

    /// For a plan with a territory: per child territory, how many of this plan's measures have an
    /// implementing measure there (at any depth; a draft's only for readers who may see it), out
    /// of all its measures.
    async fn implementation_by_territory(&self, ctx: &Context<'_>) -> Result<Vec<TerritoryImplementation>> {
        let Some(territory) = self.0.territory_id else {
            return Ok(Vec::new());
        };
        let loaders = ctx.data::<Loaders>()?;
        let people = people::from_ctx(ctx)?;
        let children = people.children(territory).await?;
        let measures: Vec<MeasureRow> = loaders
            .measures_by_plan
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m.kind == "MEASURE")
            .collect();
        // Where each measure is carried out, from the stored reach: no walk down the cascade, and
        // territories only (not the implementing measures' ids).
        let reach = implementing_territory_ids(ctx, measures.iter().map(|m| m.id)).await?;
        let mut implemented: HashMap<Uuid, usize> = HashMap::new();
        for territories in reach.values() {
            for t in territories {
                *implemented.entry(*t).or_default() += 1;
            }
        }
        let total = measures.len() as i32;
        Ok(children
            .into_iter()
            .map(|t| {
                let n = implemented.get(&t).copied().unwrap_or(0) as i32;
                TerritoryImplementation {
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

    /// Every imported version of the plan, newest first (empty for a plan entered by hand),
    /// with what its import reported; for a draft, only to those who may see the draft.
    async fn versions(&self, ctx: &Context<'_>) -> Result<Vec<PlanVersion>> {
        self.require_visible(ctx).await?;
        let rows = ctx.data::<Loaders>()?.versions_by_plan.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(PlanVersion).collect())
    }

    /// What changed from version `from` to version `to`, measure by measure: added and removed
    /// measures, and per changed measure each field before and after as written. Both stored
    /// texts are read by today's parser, as an import reads them, and measures are matched by
    /// their key. `to` defaults to the newest version, `from` to the one before `to`; for the
    /// first version (`from` not given) nothing is listed. An unknown version, or `from` not
    /// before `to`, is an error naming the argument (and the field is `null`).
    async fn version_changes(
        &self,
        ctx: &Context<'_>,
        from: Option<i32>,
        to: Option<i32>,
    ) -> Result<Option<VersionChanges>> {
        self.require_visible(ctx).await?;
        version_changes(ctx, self.0.id, from, to).await.map(Some)
    }

    /// Links to the plan as CSV and XLSX: paths on the plans subgraph's address (behind an
    /// ingress, `/export/` routed to the plans port). Derived columns (due day, resolved
    /// parties, status, progress) are marked "[вычислено]" and ignored when the file is
    /// imported again. A draft's links are signed and valid for 24 hours, and given only to
    /// those who may see the draft.
    async fn exports(&self, ctx: &Context<'_>) -> Result<PlanExports> {
        self.require_visible(ctx).await?;
        let signer = ctx.data_opt::<crate::export::LinkSigner>();
        let now = chrono::Utc::now().timestamp();
        let link = |format| crate::export::link(&self.0, format, signer, now);
        Ok(PlanExports {
            csv: link(crate::export::ExportFormat::Csv),
            xlsx: link(crate::export::ExportFormat::Xlsx),
        })
    }
}

impl Plan {
    /// Refuses, as if the plan did not exist, a draft the actor may not see: for the fields that
    /// read the plan's documents (exports, versions), whichever edge the plan was reached by.
    async fn require_visible(&self, ctx: &Context<'_>) -> Result<()> {
        if crate::access::may_see(ctx, &self.0).await? {
            Ok(())
        } else {
            Err(ServiceError::not_found("Plan", self.0.id).into())
        }
    }
}

/// Where a plan's exports are fetched.
#[derive(SimpleObject)]
pub struct PlanExports {
    /// `/export/plans/<id>.csv` (UTF-8 with BOM, `;`).
    pub csv: String,
    /// `/export/plans/<id>.xlsx`.
    pub xlsx: String,
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
        // The time zone is filled from the people subgraph by `createPlan` once the territory is
        // known to exist.
        plan: Some(PlanRow {
            period_start: input.period_start,
            period_end: input.period_end,
            period_text: input.period_text.clone(),
            owner_organisation_id: input.owner.as_ref().map(|o| parse_id("input.owner", o)).transpose()?,
            territory_id: input
                .territory
                .as_ref()
                .map(|t| parse_id("input.territory", t))
                .transpose()?,
            ..PlanRow::new(plan_id, title, input.level.as_db(), input.state.as_db())
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
