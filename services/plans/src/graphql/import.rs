//! `importRoadmap`'s input and report: `ImportRoadmapInput`, `ImportReport`, `ImportChanges`,
//! `KindCount` (the import itself is `crate::import`).

use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject};

use roadmap_common::ServiceError;

use crate::graphql::{LintFinding, Plan, PlanLevel, PlanState};
use crate::import::{ImportStatus, ImportSummary};
use crate::loaders::Loaders;

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
