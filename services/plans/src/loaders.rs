//! DataLoaders of the plans subgraph. Shared by all requests, without a cache: they batch but
//! never serve stale rows.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use roadmap_common::loaders::{group_by, loader};
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

pub struct PlanByIdLoader(PgPool);

impl Loader<Uuid> for PlanByIdLoader {
    type Value = PlanRow;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, PlanRow>, LoadError> {
        Ok(store::plans_by_ids(&self.0, keys)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect())
    }
}

pub struct SectionsByPlanLoader(PgPool);

impl Loader<Uuid> for SectionsByPlanLoader {
    type Value = Vec<SectionRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<SectionRow>>, LoadError> {
        Ok(group_by(store::sections_by_plans(&self.0, keys).await?, |r| {
            Some(r.plan_id)
        }))
    }
}

pub struct MeasureByIdLoader(PgPool);

impl Loader<Uuid> for MeasureByIdLoader {
    type Value = MeasureRow;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, MeasureRow>, LoadError> {
        Ok(store::measures_by_ids(&self.0, keys)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect())
    }
}

pub struct MeasuresBySectionLoader(PgPool);

impl Loader<Uuid> for MeasuresBySectionLoader {
    type Value = Vec<MeasureRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<MeasureRow>>, LoadError> {
        Ok(group_by(store::measures_by_sections(&self.0, keys).await?, |r| {
            r.section_id
        }))
    }
}

pub struct MeasuresByPlanLoader(PgPool);

impl Loader<Uuid> for MeasuresByPlanLoader {
    type Value = Vec<MeasureRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<MeasureRow>>, LoadError> {
        Ok(group_by(store::measures_by_plans(&self.0, keys).await?, |r| {
            Some(r.plan_id)
        }))
    }
}

pub struct MeasuresByParentLoader(PgPool);

impl Loader<Uuid> for MeasuresByParentLoader {
    type Value = Vec<MeasureRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<MeasureRow>>, LoadError> {
        Ok(group_by(store::measures_by_parents(&self.0, keys).await?, |r| {
            r.parent_measure_id
        }))
    }
}

/// Organisation ids responsible for each measure, in document order.
pub struct ResponsibleByMeasureLoader(PgPool);

impl Loader<Uuid> for ResponsibleByMeasureLoader {
    type Value = Vec<Uuid>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Uuid>>, LoadError> {
        let mut map: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (measure, organisation) in store::responsible_by_measures(&self.0, keys).await? {
            map.entry(measure).or_default().push(organisation);
        }
        Ok(map)
    }
}

pub struct LintByPlanLoader(PgPool);

impl Loader<Uuid> for LintByPlanLoader {
    type Value = Vec<LintRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<LintRow>>, LoadError> {
        Ok(group_by(store::lint_by_plans(&self.0, keys).await?, |r| {
            Some(r.plan_id)
        }))
    }
}

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

pub struct LinkByIdLoader(PgPool);

impl Loader<Uuid> for LinkByIdLoader {
    type Value = LinkRow;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, LinkRow>, LoadError> {
        Ok(store::links_by_ids(&self.0, keys)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect())
    }
}

/// Status, progress, weight and due date; read fresh (statuses change often, rows rarely).
pub struct StatusByMeasureLoader(PgPool);

impl Loader<Uuid> for StatusByMeasureLoader {
    type Value = StatusRow;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, StatusRow>, LoadError> {
        Ok(store::statuses(&self.0, keys)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect())
    }
}

/// Plans a plan declares it implements.
pub struct ParentsByPlanLoader(PgPool);

impl Loader<Uuid> for ParentsByPlanLoader {
    type Value = Vec<Uuid>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Uuid>>, LoadError> {
        let mut map: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (plan, parent) in store::plan_parents(&self.0, keys).await? {
            map.entry(plan).or_default().push(parent);
        }
        Ok(map)
    }
}

/// Every occurrence report revision of a measure, by date then revision.
pub struct ReportsByMeasureLoader(PgPool);

impl Loader<Uuid> for ReportsByMeasureLoader {
    type Value = Vec<ReportRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<ReportRow>>, LoadError> {
        Ok(group_by(store::reports_by_measures(&self.0, keys).await?, |r| {
            Some(r.measure_id)
        }))
    }
}
