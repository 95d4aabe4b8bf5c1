//! DataLoaders of the plans subgraph. Shared by all requests, without a cache: they batch but
//! never serve stale rows.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use roadmap_common::loaders::loader;
use roadmap_common::metrics::Measured;
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::LoadError;

use crate::store::{self, LinkRow, LintRow, MeasureRow, PlanRow, ReportRow, SectionRow, StatusRow, TraceRow};

pub struct Loaders {
    pub plan_by_id: DataLoader<Measured<PlanByIdLoader>>,
    pub sections_by_plan: DataLoader<Measured<SectionsByPlanLoader>>,
    pub measure_by_id: DataLoader<Measured<MeasureByIdLoader>>,
    pub measures_by_section: DataLoader<Measured<MeasuresBySectionLoader>>,
    pub measures_by_plan: DataLoader<Measured<MeasuresByPlanLoader>>,
    pub measures_by_parent: DataLoader<Measured<MeasuresByParentLoader>>,
    pub responsible_by_measure: DataLoader<Measured<ResponsibleByMeasureLoader>>,
    pub lint_by_plan: DataLoader<Measured<LintByPlanLoader>>,
    pub trace_down: DataLoader<Measured<TraceByMeasureLoader>>,
    pub trace_up: DataLoader<Measured<TraceByMeasureLoader>>,
    pub link_by_id: DataLoader<Measured<LinkByIdLoader>>,
    pub status_by_measure: DataLoader<Measured<StatusByMeasureLoader>>,
    pub parents_by_plan: DataLoader<Measured<ParentsByPlanLoader>>,
    pub reports_by_measure: DataLoader<Measured<ReportsByMeasureLoader>>,
}

impl Loaders {
    pub fn new(pool: PgPool) -> Self {
        Self {
            plan_by_id: loader(PlanByIdLoader(pool.clone())),
            sections_by_plan: loader(SectionsByPlanLoader(pool.clone())),
            measure_by_id: loader(MeasureByIdLoader(pool.clone())),
            measures_by_section: loader(MeasuresBySectionLoader(pool.clone())),
            measures_by_plan: loader(MeasuresByPlanLoader(pool.clone())),
            measures_by_parent: loader(MeasuresByParentLoader(pool.clone())),
            responsible_by_measure: loader(ResponsibleByMeasureLoader(pool.clone())),
            lint_by_plan: loader(LintByPlanLoader(pool.clone())),
            trace_down: loader(TraceByMeasureLoader(pool.clone(), store::Direction::Down)),
            trace_up: loader(TraceByMeasureLoader(pool.clone(), store::Direction::Up)),
            link_by_id: loader(LinkByIdLoader(pool.clone())),
            status_by_measure: loader(StatusByMeasureLoader(pool.clone())),
            parents_by_plan: loader(ParentsByPlanLoader(pool.clone())),
            reports_by_measure: loader(ReportsByMeasureLoader(pool)),
        }
    }
}

roadmap_common::pg_loader!(PlanByIdLoader: Uuid => one PlanRow = store::plans_by_ids, |r| r.id);

roadmap_common::pg_loader!(SectionsByPlanLoader: Uuid => many SectionRow = store::sections_by_plans, |r| Some(r.plan_id));

roadmap_common::pg_loader!(MeasureByIdLoader: Uuid => one MeasureRow = store::measures_by_ids, |r| r.id);

roadmap_common::pg_loader!(MeasuresBySectionLoader: Uuid => many MeasureRow = store::measures_by_sections, |r| r.section_id);

roadmap_common::pg_loader!(MeasuresByPlanLoader: Uuid => many MeasureRow = store::measures_by_plans, |r| Some(r.plan_id));

roadmap_common::pg_loader!(MeasuresByParentLoader: Uuid => many MeasureRow = store::measures_by_parents, |r| r.parent_measure_id);

roadmap_common::pg_loader!(
    /// Organisation ids responsible for each measure, in document order.
    ResponsibleByMeasureLoader: Uuid => pairs Uuid = store::responsible_by_measures);

roadmap_common::pg_loader!(LintByPlanLoader: Uuid => many LintRow = store::lint_by_plans, |r| Some(r.plan_id));

/// A trace request: from this measure, this many levels.
pub type TraceKey = (Uuid, i32);

fn split_traces(rows: Vec<TraceRow>, keys: &[TraceKey]) -> HashMap<TraceKey, Vec<TraceRow>> {
    let mut by_root: HashMap<Uuid, Vec<TraceRow>> = HashMap::new();
    for row in rows {
        by_root.entry(row.root).or_default().push(row);
    }
    keys.iter()
        .map(|key| {
            let rows = by_root
                .get(&key.0)
                .map(|r| r.iter().filter(|t| t.depth <= key.1).cloned().collect());
            (*key, rows.unwrap_or_default())
        })
        .collect()
}

/// Links from measures, one way (see [`store::Direction`]): one recursive statement for all the
/// traces of that direction a request asks for.
pub struct TraceByMeasureLoader(PgPool, store::Direction);

impl Loader<TraceKey> for TraceByMeasureLoader {
    type Value = Vec<TraceRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[TraceKey]) -> Result<HashMap<TraceKey, Vec<TraceRow>>, LoadError> {
        let roots: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let depth = keys.iter().map(|k| k.1).max().unwrap_or(1);
        Ok(split_traces(store::trace(&self.0, self.1, &roots, depth).await?, keys))
    }
}

roadmap_common::pg_loader!(LinkByIdLoader: Uuid => one LinkRow = store::links_by_ids, |r| r.id);

roadmap_common::pg_loader!(
    /// Status, progress, weight and due date; read fresh (statuses change often, rows rarely).
    StatusByMeasureLoader: Uuid => one StatusRow = store::statuses, |r| r.id);

roadmap_common::pg_loader!(
    /// Plans a plan declares it implements.
    ParentsByPlanLoader: Uuid => pairs Uuid = store::plan_parents);

roadmap_common::pg_loader!(
    /// Every occurrence report revision of a measure, by date then revision.
    ReportsByMeasureLoader: Uuid => many ReportRow = store::reports_by_measures, |r| Some(r.measure_id));
