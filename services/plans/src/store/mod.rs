//! Every SQL statement of the plans subgraph, over the `plans` schema, one file per area. The
//! rest of the crate calls these functions (loaders, resolvers, the importer, the watcher); rows
//! are plain structs re-exported here, so callers write `store::PlanRow`, `store::plans_by_ids`.

mod audit;
mod calendar;
mod cascade;
mod counts;
mod deadline;
mod import;
mod measure;
mod occurrence;
mod outbox;
mod plan;

pub use audit::*;
pub use calendar::*;
pub use cascade::*;
pub use counts::*;
pub use deadline::*;
pub use import::*;
pub use measure::*;
pub use occurrence::*;
pub use outbox::*;
pub use plan::*;

const PLAN_COLUMNS: &str = "id, title, level, period_start, period_end, period_text, owner_organisation_id, \
     territory_id, source_key, version, approval_kind, approval_number, approval_date, approval_signatory, goals, state, time_zone";
const MEASURE_COLUMNS: &str = "id, plan_id, section_id, parent_measure_id, position, number, title, \
     schedule_text, expected_result, responsible_text, key, kind, schedule, schedule_kind, starts_on, due_on, \
     reporting_forms, notes, indicator_text, targets, parties, source_line, extra";
