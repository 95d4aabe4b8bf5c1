//! DataLoaders of the plans subgraph. Shared by all requests, without a cache: they batch but
//! never serve stale rows.

use std::collections::HashMap;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, Loader};
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::LoadError;

use crate::store::{self, LintRow, MeasureRow, PlanRow, SectionRow};

pub const BATCH_DELAY: Duration = Duration::from_micros(500);

pub struct Loaders {
    pub plan_by_id: DataLoader<PlanByIdLoader>,
    pub sections_by_plan: DataLoader<SectionsByPlanLoader>,
    pub measure_by_id: DataLoader<MeasureByIdLoader>,
    pub measures_by_section: DataLoader<MeasuresBySectionLoader>,
    pub measures_by_plan: DataLoader<MeasuresByPlanLoader>,
    pub measures_by_parent: DataLoader<MeasuresByParentLoader>,
    pub responsible_by_measure: DataLoader<ResponsibleByMeasureLoader>,
    pub lint_by_plan: DataLoader<LintByPlanLoader>,
}

fn loader<L: Loader<Uuid>>(l: L) -> DataLoader<L> {
    DataLoader::new(l, tokio::spawn).delay(BATCH_DELAY)
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
            lint_by_plan: loader(LintByPlanLoader(pool)),
        }
    }
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> Option<Uuid>) -> HashMap<Uuid, Vec<T>> {
    let mut map: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        if let Some(k) = key(&row) {
            map.entry(k).or_default().push(row);
        }
    }
    map
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
        Ok(group(store::sections_by_plans(&self.0, keys).await?, |r| {
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
        Ok(group(store::measures_by_sections(&self.0, keys).await?, |r| {
            r.section_id
        }))
    }
}

pub struct MeasuresByPlanLoader(PgPool);

impl Loader<Uuid> for MeasuresByPlanLoader {
    type Value = Vec<MeasureRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<MeasureRow>>, LoadError> {
        Ok(group(store::measures_by_plans(&self.0, keys).await?, |r| {
            Some(r.plan_id)
        }))
    }
}

pub struct MeasuresByParentLoader(PgPool);

impl Loader<Uuid> for MeasuresByParentLoader {
    type Value = Vec<MeasureRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<MeasureRow>>, LoadError> {
        Ok(group(store::measures_by_parents(&self.0, keys).await?, |r| {
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
        Ok(group(store::lint_by_plans(&self.0, keys).await?, |r| Some(r.plan_id)))
    }
}
