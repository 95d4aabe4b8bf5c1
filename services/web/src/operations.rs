//! Every GraphQL operation the web target sends, as named constants, and their persisted-document
//! ids.
//!
//! `persisted-documents.json` next to `Cargo.toml` lists them as the production router reads a
//! manifest (`{ "<sha256 hex of the document>": "<document>" }`, see README "Persisted
//! documents"); a test rewrites it when a constant changes and fails until the change is
//! committed. Each request sends both the document and its id: the development router runs the
//! document, a router with `ROADMAP_PERSISTED_ONLY=true` runs the manifest's copy.
//!
//! A document is self-contained (its fragments are repeated in it), since the router looks up
//! whole documents. Every field here exists in `schema/supergraph.graphql` (checked by a test).

use sha2::{Digest, Sha256};

/// One operation: its name (the `query Name` in the document) and the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    pub name: &'static str,
    pub document: &'static str,
}

impl Operation {
    /// The persisted-document id: SHA-256 of the document text, lower-case hex.
    pub fn id(&self) -> String {
        document_id(self.document)
    }
}

pub fn document_id(document: &str) -> String {
    Sha256::digest(document.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

macro_rules! plan_summary {
    () => {
        "fragment PlanSummary on Plan { id title level state version periodText periodStart \
         periodEnd territory { id name } measures { status } }"
    };
}

macro_rules! plan_measure {
    () => {
        "fragment PlanMeasure on Measure { id number title kind scheduleText startsOn dueOn \
         responsibleText responsible { id name } status progress rolledProgress }"
    };
}

macro_rules! trace_measure {
    () => {
        "fragment TraceMeasure on Measure { id number title status progress dueOn \
         plan { id title level territory { id name } } }"
    };
}

/// The roots of the territory tree (countries, and regions no country holds) and the federal
/// plans.
pub const ROOTS: Operation = Operation {
    name: "WebRoots",
    document: concat!(
        "query WebRoots { \
         countries: territories(kind: COUNTRY) { id name kind } \
         regions: territories(kind: REGION) { id name kind parent { id } } \
         plans(level: FEDERAL, first: 50) { nodes { ...PlanSummary } } } ",
        plan_summary!()
    ),
};

/// One territory: where it sits, its children (with the measures of their plans and those
/// under them by status), its own plans with their measures' statuses and how much of each
/// plan is implemented in each child territory.
pub const TERRITORY: Operation = Operation {
    name: "WebTerritory",
    document: concat!(
        "query WebTerritory($id: ID!) { \
         territory(id: $id) { id name kind ancestors { id name kind } \
         indicators { subject indicator { code name } } children { id name kind \
         measureCounts { plans plansInForce total done inProgress overdue notStarted cancelled } } } \
         plans(territory: $id, first: 100) { nodes { ...PlanSummary \
         implementationByTerritory { territory { id } implemented total share } } } } ",
        plan_summary!()
    ),
};

/// The traffic lights of one indicator (and subject) on a territory's page: the territory's
/// series of rollups, each with its children's values and statuses.
pub const TERRITORY_LIGHTS: Operation = Operation {
    name: "WebTerritoryLights",
    document: "query WebTerritoryLights($id: ID!, $indicator: String!, $subject: String) { \
               territory(id: $id) { id series(indicator: $indicator, subject: $subject) { \
               period subject value status children { territory { id name } value status } } } }",
};

/// A plan as the document lays it out: sections, measures and two levels of sub-measures, its
/// parent plans and which of their measures it implements, and its imported versions.
pub const PLAN: Operation = Operation {
    name: "WebPlan",
    document: concat!(
        "query WebPlan($id: ID!) { plan(id: $id) { \
         id title level state version periodText periodStart periodEnd goals exports { csv xlsx } \
         versions { version importedAt fileName format measures changes { added removed changed } } \
         territory { id name kind ancestors { id name } } owner { id name } approval { kind number date signatory } \
         parents { id title level territory { id name } } \
         parentCoverage { parentMeasure { id plan { id } } implementedBy { id } } \
         sections { id number title measures { ...PlanMeasure \
         children { ...PlanMeasure children { ...PlanMeasure } } } } } } ",
        plan_measure!()
    ),
};

/// The level of a measure's plan: how deep its page shows the cascade down (see
/// `pages::measure::down_depth`).
pub const MEASURE_LEVEL: Operation = Operation {
    name: "WebMeasureLevel",
    document: "query WebMeasureLevel($id: ID!) { measure(id: $id) { id plan { id level } } }",
};

/// A measure with the cascade down `$down` levels (to school measures, with their dated
/// occurrences and the latest report), up to the top, and its coverage of the child territories.
pub const MEASURE: Operation = Operation {
    name: "WebMeasure",
    document: concat!(
        "query WebMeasure($id: ID!, $down: Int!) { measure(id: $id) { \
         id number title kind scheduleText startsOn dueOn responsibleText responsible { id name } \
         status progress rolledProgress expectedResult reportingForms notes \
         plan { id title level territory { id name kind } } \
         implements(depth: 5) { ...UpNode next { ...UpNode next { ...UpNode next { ...UpNode } } } } \
         implementedBy(depth: $down) { ...DownNode next { ...DownNode next { ...DownNode } } } \
         coverage { territory { id name kind } covered \
         implementingMeasures { id number title status plan { id title } } } \
         occurrences { ...Occurrence } \
         undatedSchedule { reason detail } } } ",
        "fragment UpNode on TraceNode { depth link { state } measure { ...TraceMeasure } } ",
        "fragment DownNode on TraceNode { depth link { state } \
         measure { ...TraceMeasure occurrences { ...Occurrence } } } ",
        "fragment Occurrence on Occurrence { date endDate kind \
         report { held participants reportedAt } } ",
        trace_measure!()
    ),
};

/// Every indicator, for the list of indicators.
pub const INDICATORS: Operation = Operation {
    name: "WebIndicators",
    document: "query WebIndicators { indicators { id code name unit exam grade dimensions } }",
};

/// One indicator and every territory that has a baseline or a target of it.
pub const INDICATOR: Operation = Operation {
    name: "WebIndicator",
    document: "query WebIndicator($code: String!) { indicator(code: $code) { \
               id code name unit direction aggregation dimensions exam grade \
               targets { territory { id name kind } subject period kind } } }",
};

/// One indicator in one territory: baselines, targets and observations per subject, and the
/// series of rollups (the actual values, with the children ranked) for one subject.
pub const INDICATOR_TERRITORY: Operation = Operation {
    name: "WebIndicatorTerritory",
    document: "query WebIndicatorTerritory($code: String!, $territory: ID!, $subject: String) { \
               indicator(code: $code) { id code name unit direction aggregation dimensions exam grade } \
               territory(id: $territory) { id name kind ancestors { id name kind } \
               indicators(code: $code) { subject \
               baselines { ...TargetRow } targets { ...TargetRow } \
               observations { period value valueRaw denominator } } \
               series(indicator: $code, subject: $subject) { period subject value source \
               target targetRaw baseline baselinePeriod gap status childrenWithData missingChildren \
               children { territory { id name } organisation { id name } value denominator rank \
               target gap status } } } } \
               fragment TargetRow on IndicatorTarget { period kind comparator value valueRaw \
               plan { id title } measure { id number title } }",
};

/// The auditor's "what is missing" under one territory: measure counts by status for it and its
/// children, measures of its plans without an implementer in some child territory, child
/// territories without a plan implementing one of its plans, overdue and stale measures (the
/// first `$first` of each, and how many there are).
pub const MISSING: Operation = Operation {
    name: "WebMissing",
    document: "query WebMissing($id: ID!, $days: Int!, $first: Int!) { territory(id: $id) { \
               id name kind ancestors { id name kind } \
               measureCounts { ...Counts } children { id name kind measureCounts { ...Counts } } \
               coverageGaps { measure { ...Listed } uncovered { id name } covered territories } \
               childrenWithoutPlan { plan { id title level } territories { id name } withPlan children } \
               overdueMeasures(first: $first) { totalCount measures { ...Listed } } \
               staleMeasures(days: $days, first: $first) { totalCount measures { ...Listed } } } } \
               fragment Counts on MeasureCounts { plans plansInForce total done inProgress overdue notStarted cancelled } \
               fragment Listed on Measure { id number title status dueOn updatedAt \
               plan { id title level territory { id name } } }",
};

/// The status changes an open page follows (`/measures/{id}/live`, `/plans/{id}/live`): the
/// measure as it is when the event is delivered, so a replayed or late event still shows the
/// current status.
pub const STATUS_CHANGED: Operation = Operation {
    name: "WebStatusChanged",
    document: "subscription WebStatusChanged($filter: EventFilter, $after: String) { \
               statusChanged(filter: $filter, after: $after) { cursor kind \
               measure { id status progress rolledProgress } } }",
};

/// One imported version of a plan against the one before it: the plan's head, its versions and,
/// per measure, what was added, removed and changed (each field before and after).
pub const PLAN_VERSION: Operation = Operation {
    name: "WebPlanVersion",
    document: "query WebPlanVersion($id: ID!, $version: Int!) { plan(id: $id) { \
               id title level state version territory { id name kind ancestors { id name } } \
               versions { version importedAt fileName format measures changes { added removed changed } } \
               versionChanges(to: $version) { from to added { key number title } \
               removed { key number title } \
               changed { key number title fields { field header before after } } } } }",
};

/// What importing an uploaded file would do (the upload page's preview): nothing is stored.
pub const IMPORT_PREVIEW: Operation = Operation {
    name: "WebImportPreview",
    document: "query WebImportPreview($input: ImportRoadmapInput!) { importPreview(input: $input) { \
               status version sourceKey title format sections measures childMeasures milestones \
               unresolvedNames newTerritories extraColumns ignoredColumns \
               existingPlan { id title version state } changes { added removed changed } \
               lint { code severity message line measureNumber } sourceLines \
               rows { key section depth milestone number title scheduleText dueOn responsibleText \
               responsible line } } }",
};

/// The import an editor confirmed on the upload page.
pub const IMPORT: Operation = Operation {
    name: "WebImportRoadmap",
    document: "mutation WebImportRoadmap($input: ImportRoadmapInput!) { importRoadmap(input: $input) { \
               status version plan { id } } }",
};

/// Every operation, in the manifest.
pub const ALL: &[Operation] = &[
    ROOTS,
    TERRITORY,
    TERRITORY_LIGHTS,
    PLAN,
    PLAN_VERSION,
    MEASURE_LEVEL,
    MEASURE,
    INDICATORS,
    INDICATOR,
    INDICATOR_TERRITORY,
    STATUS_CHANGED,
    MISSING,
    IMPORT_PREVIEW,
    IMPORT,
];

/// The manifest's text for [`ALL`]: a JSON object, ids sorted, two-space indented.
pub fn manifest() -> String {
    let map: serde_json::Map<String, serde_json::Value> = ALL
        .iter()
        .map(|op| (op.id(), serde_json::Value::String(op.document.to_string())))
        .collect();
    let mut text = serde_json::to_string_pretty(&serde_json::Value::Object(map)).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_documents_operation_names_and_unique() {
        let mut names: Vec<&str> = ALL.iter().map(|op| op.name).collect();
        for op in ALL {
            let starts = ["query", "subscription", "mutation"].map(|kind| format!("{kind} {}", op.name));
            assert!(
                starts.iter().any(|start| op.document.starts_with(start.as_str())),
                "{}",
                op.name
            );
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }

    #[test]
    fn id_is_sha256_hex() {
        assert_eq!(
            document_id("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
