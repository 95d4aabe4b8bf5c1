//! The shapes of the answers to [`crate::operations`], as the pages read them. Every field is one
//! the operation selects; a field the operation of another page does not select is `default`.

use serde::Deserialize;

/// Declares answer shapes: every one is read with the API's camelCase names, and a field the
/// page's operation does not select is its `Default` (one set of derives, so no shape can miss
/// them).
macro_rules! answers {
    ($($(#[$meta:meta])* pub struct $name:ident $(<$t:ident>)? { $($fields:tt)* })*) => {
        $(
            $(#[$meta])*
            #[derive(Clone, Debug, Default, Deserialize)]
            #[serde(rename_all = "camelCase", default)]
            pub struct $name $(<$t>)? { $($fields)* }
        )*
    };
}

/// A plan as lists show it: the `PlanSummary` fragment selects fewer of its fields.
pub type PlanSummary = Plan;

answers! {
    pub struct Ref {
        pub id: String,
    }

    pub struct Territory {
        pub id: String,
        pub name: String,
        pub kind: Option<String>,
        pub parent: Option<Ref>,
        pub ancestors: Vec<Territory>,
        pub children: Vec<Territory>,
        /// Plans and measures of it and under it (`WebTerritory`'s children).
        pub measure_counts: Option<Counts>,
        /// The indicators (and subjects) it has values of (`WebTerritory`).
        pub indicators: Vec<TerritoryIndicator>,
    }

    pub struct Named {
        pub id: String,
        pub name: String,
    }

    pub struct StatusOnly {
        pub status: Option<String>,
    }

    pub struct Implementation {
        pub territory: Ref,
        pub implemented: i64,
        pub total: i64,
        pub share: f64,
    }

    pub struct Nodes<T> {
        pub nodes: Vec<T>,
    }

    pub struct RootsData {
        pub countries: Vec<Territory>,
        pub regions: Vec<Territory>,
        pub plans: Nodes<PlanSummary>,
    }

    pub struct TerritoryData {
        pub territory: Option<Territory>,
        pub plans: Nodes<PlanSummary>,
    }

    pub struct Approval {
        pub kind: Option<String>,
        pub number: Option<String>,
        pub date: Option<String>,
        pub signatory: Option<String>,
    }

    pub struct PlanRef {
        pub id: String,
        pub title: String,
        pub level: Option<String>,
        pub territory: Option<Named>,
    }

    pub struct ParentMeasureRef {
        pub id: String,
        pub plan: Ref,
    }

    pub struct ParentCoverage {
        pub parent_measure: ParentMeasureRef,
        pub implemented_by: Vec<Ref>,
    }

    /// A measure of a plan (`PlanMeasure`, and the measure page's head).
    pub struct Measure {
        pub id: String,
        pub number: String,
        pub title: String,
        pub kind: String,
        pub schedule_text: Option<String>,
        pub starts_on: Option<String>,
        pub due_on: Option<String>,
        pub responsible_text: Option<String>,
        pub responsible: Vec<Named>,
        pub status: Option<String>,
        pub progress: Option<f64>,
        pub rolled_progress: Option<f64>,
        pub children: Vec<Measure>,
    }

    pub struct Section {
        pub id: String,
        pub number: String,
        pub title: String,
        pub measures: Vec<Measure>,
    }

    /// A plan: the plan page's whole answer, or a list's `PlanSummary` (head, territory,
    /// `measures { status }`, and on a territory's page `implementationByTerritory`).
    pub struct Plan {
        pub id: String,
        pub title: String,
        pub level: Option<String>,
        pub state: String,
        pub version: i64,
        pub period_text: Option<String>,
        pub period_start: Option<String>,
        pub period_end: Option<String>,
        pub goals: Vec<String>,
        pub territory: Option<Territory>,
        pub owner: Option<Named>,
        pub approval: Option<Approval>,
        pub parents: Vec<PlanRef>,
        pub parent_coverage: Vec<ParentCoverage>,
        pub sections: Vec<Section>,
        pub measures: Vec<StatusOnly>,
        pub implementation_by_territory: Vec<Implementation>,
        pub exports: Option<Exports>,
        /// Its imported versions, newest first (`WebPlan`, `WebPlanVersion`).
        pub versions: Vec<PlanVersion>,
        /// One version against the one before it (`WebPlanVersion`).
        pub version_changes: Option<VersionChanges>,
    }

    /// One imported version of a plan and the measure keys its import reported.
    pub struct PlanVersion {
        pub version: i64,
        pub imported_at: String,
        pub file_name: Option<String>,
        pub format: Option<String>,
        pub measures: i64,
        pub changes: ImportChanges,
    }

    /// What changed from version `from` to `to` (`Plan.versionChanges`).
    pub struct VersionChanges {
        pub from: Option<i64>,
        pub to: i64,
        pub added: Vec<VersionMeasure>,
        pub removed: Vec<VersionMeasure>,
        pub changed: Vec<MeasureChange>,
    }

    pub struct VersionMeasure {
        pub key: String,
        pub number: String,
        pub title: String,
    }

    pub struct MeasureChange {
        pub key: String,
        pub number: String,
        pub title: String,
        pub fields: Vec<MeasureFieldChange>,
    }

    /// One field before and after (`field`: the API's `MeasureField`).
    pub struct MeasureFieldChange {
        pub field: String,
        pub header: Option<String>,
        pub before: Option<String>,
        pub after: Option<String>,
    }

    /// Where a plan's CSV and XLSX are (`Plan.exports`: paths, signed for drafts).
    pub struct Exports {
        pub csv: String,
        pub xlsx: String,
    }

    /// `WebImportPreview`: what an import of the uploaded file would do.
    pub struct PreviewData {
        pub import_preview: Option<ImportPreview>,
    }

    pub struct ImportPreview {
        pub status: String,
        pub version: i64,
        pub source_key: String,
        pub title: String,
        pub format: String,
        pub sections: i64,
        pub measures: i64,
        pub child_measures: i64,
        pub milestones: i64,
        pub unresolved_names: Vec<String>,
        pub new_territories: Vec<String>,
        pub extra_columns: Vec<String>,
        pub ignored_columns: Vec<String>,
        pub existing_plan: Option<Plan>,
        pub changes: ImportChanges,
        pub lint: Vec<LintFinding>,
        pub source_lines: Vec<String>,
        pub rows: Vec<PreviewRow>,
    }

    pub struct ImportChanges {
        pub added: Vec<String>,
        pub removed: Vec<String>,
        pub changed: Vec<String>,
    }

    pub struct PreviewRow {
        pub key: String,
        pub section: String,
        pub depth: i64,
        pub milestone: bool,
        pub number: String,
        pub title: String,
        pub schedule_text: Option<String>,
        pub due_on: Option<String>,
        pub responsible_text: Option<String>,
        pub responsible: Vec<String>,
        pub line: Option<i64>,
    }

    /// A defect the importer found, for a person to decide on.
    pub struct LintFinding {
        pub code: String,
        pub severity: String,
        pub message: String,
        pub line: Option<i64>,
        pub measure_number: Option<String>,
    }

    /// `WebImportRoadmap`: the import made.
    pub struct ImportData {
        pub import_roadmap: Option<ImportResult>,
    }

    pub struct ImportResult {
        pub status: String,
        pub version: i64,
        pub plan: Option<Ref>,
    }

    pub struct PlanData {
        pub plan: Option<Plan>,
    }

    pub struct Report {
        pub held: bool,
        pub participants: Option<i64>,
        pub reported_at: Option<String>,
    }

    pub struct Occurrence {
        pub date: String,
        pub end_date: Option<String>,
        pub kind: String,
        pub report: Option<Report>,
    }

    /// A measure met in a trace (`TraceMeasure`).
    pub struct TraceMeasure {
        pub id: String,
        pub number: String,
        pub title: String,
        pub status: Option<String>,
        pub progress: Option<f64>,
        pub due_on: Option<String>,
        pub plan: Option<PlanRef>,
        pub occurrences: Vec<Occurrence>,
    }

    pub struct LinkRef {
        pub state: String,
    }

    pub struct TraceNode {
        pub depth: i64,
        pub link: Option<LinkRef>,
        pub measure: Option<TraceMeasure>,
        pub next: Vec<TraceNode>,
    }

    pub struct ImplementingMeasure {
        pub id: String,
        pub number: String,
        pub title: String,
        pub status: Option<String>,
        pub plan: Option<PlanRef>,
    }

    pub struct CoverageRow {
        pub territory: Territory,
        pub covered: bool,
        pub implementing_measures: Vec<ImplementingMeasure>,
    }

    pub struct Undated {
        pub reason: String,
        pub detail: Option<String>,
    }

    pub struct MeasureDetail {
        #[serde(flatten)]
        pub head: Measure,
        pub expected_result: Option<String>,
        pub reporting_forms: Option<String>,
        pub notes: Option<String>,
        pub plan: Option<PlanRef>,
        pub implements: Vec<TraceNode>,
        pub implemented_by: Vec<TraceNode>,
        pub coverage: Vec<CoverageRow>,
        pub occurrences: Vec<Occurrence>,
        pub undated_schedule: Vec<Undated>,
    }

    pub struct MeasureData {
        pub measure: Option<MeasureDetail>,
    }

    pub struct TargetTerritory {
        pub territory: Option<Territory>,
        pub subject: Option<String>,
        pub period: i64,
        pub kind: String,
    }

    pub struct Indicator {
        pub id: String,
        pub code: String,
        pub name: String,
        pub unit: String,
        pub direction: Option<String>,
        pub aggregation: Option<String>,
        pub dimensions: Vec<String>,
        pub exam: Option<String>,
        pub grade: Option<i64>,
        pub targets: Vec<TargetTerritory>,
    }

    pub struct IndicatorsData {
        pub indicators: Vec<Indicator>,
    }

    pub struct IndicatorData {
        pub indicator: Option<Indicator>,
    }

    pub struct MeasureRef {
        pub id: String,
        pub number: String,
        pub title: String,
    }

    /// A baseline or target (`TargetRow`).
    pub struct TargetRow {
        pub period: i64,
        pub kind: String,
        pub comparator: String,
        pub value: f64,
        pub value_raw: String,
        pub plan: Option<PlanRef>,
        pub measure: Option<MeasureRef>,
    }

    pub struct ObservationRow {
        pub period: i64,
        pub value: f64,
        pub value_raw: String,
        pub denominator: Option<f64>,
    }

    pub struct TerritoryIndicator {
        pub indicator: Option<Indicator>,
        pub subject: Option<String>,
        pub baselines: Vec<TargetRow>,
        pub targets: Vec<TargetRow>,
        pub observations: Vec<ObservationRow>,
    }

    pub struct RollupChild {
        pub territory: Option<Named>,
        pub organisation: Option<Named>,
        pub value: Option<f64>,
        pub denominator: Option<f64>,
        pub rank: Option<i64>,
        pub target: Option<f64>,
        pub gap: Option<f64>,
        pub status: Option<String>,
    }

    pub struct Rollup {
        pub period: i64,
        pub subject: Option<String>,
        pub value: Option<f64>,
        pub source: Option<String>,
        pub target: Option<f64>,
        pub target_raw: Option<String>,
        pub baseline: Option<f64>,
        pub baseline_period: Option<i64>,
        pub gap: Option<f64>,
        pub status: Option<String>,
        pub children_with_data: i64,
        pub missing_children: i64,
        pub children: Vec<RollupChild>,
    }

    pub struct IndicatorTerritory {
        pub id: String,
        pub name: String,
        pub kind: Option<String>,
        pub ancestors: Vec<Territory>,
        pub indicators: Vec<TerritoryIndicator>,
        pub series: Vec<Rollup>,
    }

    /// Plans and measures by effective status (`MeasureCounts`).
    pub struct Counts {
        pub plans: i64,
        pub plans_in_force: i64,
        pub total: i64,
        pub done: i64,
        pub in_progress: i64,
        pub overdue: i64,
        pub not_started: i64,
        pub cancelled: i64,
    }

    pub struct CountedTerritory {
        pub id: String,
        pub name: String,
        pub kind: Option<String>,
        pub measure_counts: Counts,
    }

    /// A measure in the auditor's lists (`Listed`).
    pub struct ListedMeasure {
        pub id: String,
        pub number: String,
        pub title: String,
        pub status: Option<String>,
        pub due_on: Option<String>,
        pub updated_at: Option<String>,
        pub plan: Option<PlanRef>,
    }

    pub struct CoverageGap {
        pub measure: ListedMeasure,
        pub uncovered: Vec<Named>,
        pub covered: i64,
        pub territories: i64,
    }

    pub struct ChildrenWithoutPlan {
        pub plan: PlanRef,
        pub territories: Vec<Named>,
        pub with_plan: i64,
        pub children: i64,
    }

    pub struct MeasureList {
        pub total_count: i64,
        pub measures: Vec<ListedMeasure>,
    }

    pub struct MissingTerritory {
        pub id: String,
        pub name: String,
        pub kind: Option<String>,
        pub ancestors: Vec<Territory>,
        pub measure_counts: Counts,
        pub children: Vec<CountedTerritory>,
        pub coverage_gaps: Vec<CoverageGap>,
        pub children_without_plan: Vec<ChildrenWithoutPlan>,
        pub overdue_measures: MeasureList,
        pub stale_measures: MeasureList,
    }

    pub struct MissingData {
        pub territory: Option<MissingTerritory>,
    }

    pub struct LightsTerritory {
        pub id: String,
        pub series: Vec<Rollup>,
    }

    pub struct LightsData {
        pub territory: Option<LightsTerritory>,
    }

    pub struct IndicatorTerritoryData {
        pub indicator: Option<Indicator>,
        pub territory: Option<IndicatorTerritory>,
    }
}
