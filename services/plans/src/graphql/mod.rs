//! The GraphQL schema of the plans subgraph, one file per type family:
//! - [`plan`]: `Plan`, `PlanLevel`, `PlanState`, `Approval`, `LintFinding`, `CreatePlanInput`
//!   (with `SectionInput`, `MeasureInput`);
//! - [`section`]: `Section`, a numbered part of a plan, and `Heading` (id, number, title),
//!   flattened into `Section` and `Measure`;
//! - [`measure`]: `Measure`, `MeasureStatus`;
//! - [`link`]: the cascade's types, `MeasureLink`, `LinkState`, `TraceNode`, `Suggestion`,
//!   `SuggestionScope`, `CoverageRow`, `ParentMeasureCoverage`, `TerritoryImplementation`;
//! - [`occurrence`]: `Occurrence`, `OccurrenceKind`, `OccurrenceReport`, `UndatedReason`,
//!   `UndatedScheduleItem`;
//! - [`import`]: `ImportRoadmapInput`, `ImportReport`, `ImportPreview`, `ImportChanges`, `KindCount`
//!   (`ImportStatus` is the importer's, `crate::import`);
//! - [`version`]: `PlanVersion`, `VersionChanges`, `VersionMeasure`, `MeasureChange`,
//!   `MeasureFieldChange`: a plan's imported versions and what changed between two of them
//!   (`MeasureField` is `crate::versions`');
//! - [`people`]: `Organisation`, `Territory`, entities of the people subgraph referenced by id;
//! - [`trace`]: `Trace`, a trace's `[TraceNode!]!` written in one pass when its selection is
//!   plain;
//! - [`audit`]: the auditor's questions on `Territory` (`measureCounts`, `coverageGaps`,
//!   `childrenWithoutPlan`, `overdueMeasures`, `staleMeasures`) and `Measure.updatedAt`;
//! - [`query`]: `Query.*`, with the entity resolvers `find_<type>_by_id`;
//! - [`mutation`]: `Mutation.*`, each change with its outbox event and audit entry.

pub mod audit;
pub mod import;
pub mod link;
pub mod measure;
pub mod mutation;
pub mod occurrence;
pub mod people;
pub mod plan;
pub mod query;
pub mod section;
pub mod trace;
pub mod version;

use async_graphql::Context;
use chrono::NaiveDate;

use roadmap_common::auth;
use roadmap_common::clock::Clock;

pub use import::{ImportChanges, ImportPreview, ImportReport, ImportRoadmapInput, KindCount};
pub use link::{
    CoverageRow, LinkState, MeasureLink, ParentMeasureCoverage, Suggestion, SuggestionScope, TerritoryImplementation,
    UnitCoverageRow, implementing_territories, implementing_territory_ids,
};
pub use measure::{Measure, MeasureStatus};
pub use mutation::MutationRoot;
pub use occurrence::{Occurrence, OccurrenceKind, OccurrenceReport, UndatedReason, UndatedScheduleItem};
pub use people::{Organisation, Territory};
pub use plan::{
    Approval, CreatePlanInput, LintFinding, MeasureInput, Plan, PlanLevel, PlanRows, PlanState, SectionInput, plan_rows,
};
pub use query::QueryRoot;
pub use section::Section;
pub use version::{MeasureChange, MeasureFieldChange, PlanVersion, VersionChanges, VersionMeasure};

pub use crate::cascade::TraceNode;

/// Who made a change (links, statuses, occurrence reports): the token's subject.
pub(crate) fn subject(ctx: &Context<'_>) -> String {
    auth::actor(ctx).subject.clone()
}

/// Today's date by the hub's clock, in UTC; a plan's "today" is [`clock`]`.today_in_named(plan
/// time zone)`.
pub fn today(ctx: &Context<'_>) -> NaiveDate {
    clock(ctx).today()
}

/// The hub's clock.
pub fn clock(ctx: &Context<'_>) -> Clock {
    ctx.data_opt::<Clock>().copied().unwrap_or_default()
}
