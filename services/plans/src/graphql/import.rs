//! `importRoadmap`'s input and report: `ImportRoadmapInput`, `ImportReport`, `ImportChanges`,
//! `KindCount` (the import itself is `crate::import`).

use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject};

use roadmap_common::ServiceError;

use crate::graphql::{LintFinding, Plan, PlanLevel, PlanState};
use crate::import::{ImportOptions, ImportStatus, ImportSummary, Preview, PreviewRow};
use crate::loaders::Loaders;

/// Exactly one of `document` and `contentBase64` carries the document.
#[derive(InputObject)]
pub struct ImportRoadmapInput {
    /// The document as plain text (UTF-8), e.g. as extracted from a DOCX or PDF by hand.
    pub document: Option<String>,
    /// The file's bytes, standard base64 (RFC 4648, padding optional): DOCX, ODT, ODS, XLSX,
    /// CSV/TSV, PDF with a text layer or plain text, recognised from the content. Up to 32 MB
    /// of file by the readers; the router takes 4 MB of request body (a 3 MB file).
    pub content_base64: Option<String>,
    /// Shown in errors and kept with the version; required with `contentBase64`.
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
    /// Measures whose text as written changed: number, title, schedule, responsible, result,
    /// indicator, reporting forms, notes or an extra column (`crate::versions::text_changed`).
    pub changed: Vec<String>,
}

impl ImportRoadmapInput {
    /// The import's options from this input, acting as `actor`.
    pub fn options(&self, actor: roadmap_common::auth::Actor) -> ImportOptions {
        ImportOptions {
            level: self.level,
            territory: self.territory.clone(),
            owner: self.owner.clone(),
            key: self.key.clone(),
            file_name: self.file_name.clone(),
            state: self.state,
            actor,
        }
    }

    /// The document's bytes: `document` as UTF-8 or `contentBase64` decoded, exactly one of them.
    pub fn bytes(&self) -> Result<Vec<u8>, ServiceError> {
        use base64::Engine as _;
        match (&self.document, &self.content_base64) {
            (Some(text), None) => Ok(text.as_bytes().to_vec()),
            (None, Some(encoded)) => {
                if self.file_name.as_deref().is_none_or(|f| f.trim().is_empty()) {
                    return Err(ServiceError::invalid(
                        "input.fileName",
                        "is required with contentBase64: errors and the stored version name the file",
                    ));
                }
                // Line breaks are what base64 tools wrap their output with; they carry nothing.
                let compact: String = encoded.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(compact.trim_end_matches('='))
                    .map_err(|e| ServiceError::invalid("input.contentBase64", format!("is not base64: {e}")))
            }
            (Some(_), Some(_)) => Err(ServiceError::invalid(
                "input",
                "give either document (plain text) or contentBase64 (the file's bytes), not both",
            )),
            (None, None) => Err(ServiceError::invalid(
                "input",
                "no document: give document (plain text) or contentBase64 (the file's bytes, base64)",
            )),
        }
    }
}

/// What an import did.
pub struct ImportReport(pub ImportSummary);

#[Object]
impl ImportReport {
    #[graphql(flatten)]
    async fn figures(&self) -> ImportFigures {
        ImportFigures(self.0.clone())
    }

    async fn plan(&self, ctx: &Context<'_>) -> Result<Plan> {
        let row = ctx.data::<Loaders>()?.plan_by_id.load_one(self.0.plan_id).await?;
        row.map(Plan)
            .ok_or_else(|| ServiceError::not_found("Plan", self.0.plan_id).into())
    }
}

/// What an import reports of the document, whether it was made (`ImportReport`) or only
/// previewed (`ImportPreview`): flattened into both, no type of its own in the schema.
pub struct ImportFigures(ImportSummary);

#[Object]
impl ImportFigures {
    async fn status(&self) -> ImportStatus {
        self.0.status
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

    /// The format the file was read as: DOCX, ODT, ODS, XLSX, CSV, TSV, PDF or "plain text".
    async fn format(&self) -> &str {
        &self.0.format
    }

    /// Headers of the columns the parser has no role for, kept per measure
    /// (`Measure.extraColumns`), in document order.
    async fn extra_columns(&self) -> &[String] {
        &self.0.extra_columns
    }

    /// Derived columns of a plan export ("[вычислено]"), ignored.
    async fn ignored_columns(&self) -> &[String] {
        &self.0.ignored_columns
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

/// What an import of a document would do, nothing stored (`Query.importPreview`).
pub struct ImportPreview(pub Preview);

#[Object]
impl ImportPreview {
    #[graphql(flatten)]
    async fn figures(&self) -> ImportFigures {
        ImportFigures(self.0.summary.clone())
    }

    /// The plan the document is a new version of; `null` when an import would create a plan.
    async fn existing_plan(&self, ctx: &Context<'_>) -> Result<Option<Plan>> {
        let Some(id) = self.0.existing_plan else {
            return Ok(None);
        };
        Ok(ctx.data::<Loaders>()?.plan_by_id.load_one(id).await?.map(Plan))
    }

    /// The title the plan would have.
    async fn title(&self) -> &str {
        &self.0.summary.title
    }

    /// The parts of the territory path an import would create (not known yet), from the top.
    async fn new_territories(&self) -> &[String] {
        &self.0.new_territories
    }

    /// The text the file was read as, one entry per line: what `line` numbers (of rows and
    /// lint findings) point into, 1-based.
    async fn source_lines(&self) -> &[String] {
        &self.0.source_lines
    }

    /// Every measure, sub-row and control point as it would be stored, in document order, each
    /// with the line it was read from.
    async fn rows(&self) -> &[PreviewRow] {
        &self.0.rows
    }
}
