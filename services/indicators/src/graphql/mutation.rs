//! `Mutation`. Every mutation checks its input and the actor first, then writes its rows in one
//! transaction that [`outbox::commit`] ends (outbox events, audit entry, commit), then reads back
//! what it returns from the pool (not through the loaders, which may have batched before the
//! write). `setTarget` and `recordObservation` share that whole sequence ([`write_status_row`]).

use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::auth::{self, Role};
use roadmap_common::{ServiceError, ServiceResult, parse_id, people};

use super::observation::Placement;
use super::target::{PlanPlace, plan_targets};
use super::{
    CreateIndicatorInput, Indicator, Measure, Observation, PlanTargetInput, RecordObservationInput, SetTargetInput,
    Target, opt_id,
};
use crate::outbox::{self, StatusChange, Written};
use crate::plans_client::PlansClient;
use crate::store::{self, IndicatorRow, NewIndicator, NewObservation, NewTarget};

pub struct MutationRoot;

/// Editors and coordinators whose scope covers the territories.
async fn require_scope(ctx: &Context<'_>, doing: &str, territories: &[Option<Uuid>]) -> ServiceResult<()> {
    people::from_ctx(ctx)?
        .subgraph()
        .require_scope(auth::actor(ctx), &[Role::Editor, Role::Coordinator], doing, territories)
        .await
}

/// Refuses a token whose `organisation` claim does not cover `organisation` (or its parents);
/// asks the people subgraph for the lineage only for such a token. A value of a territory is no
/// unit's: refused to such a token.
async fn require_in_organisation(ctx: &Context<'_>, doing: &str, organisation: Option<Uuid>) -> ServiceResult<()> {
    let actor = auth::actor(ctx);
    if actor.organisation.is_none() {
        return Ok(());
    }
    let lineage = match organisation {
        Some(org) => {
            people::from_ctx(ctx)?
                .organisation_info("input.organisation", org)
                .await?
                .lineage
        }
        None => Vec::new(),
    };
    actor.require_in_organisation(doing, &lineage)
}

/// A row `setTarget` or `recordObservation` writes: what differs between the two, which end alike
/// ([`write_status_row`]).
trait StatusRow: Sync {
    /// What the mutation returns.
    type Output;
    /// The mutation's name in the audit trail, and the type of what it writes.
    const ACTION: &'static str;
    const TYPE: &'static str;

    fn upsert(&self, tx: &mut Transaction<'static, Postgres>) -> impl Future<Output = ServiceResult<Uuid>> + Send;
    /// The audit entry's `after`.
    fn after(&self, indicator: &IndicatorRow) -> Value;
    fn change(id: Uuid) -> StatusChange;
    fn reload(pool: &PgPool, id: Uuid) -> impl Future<Output = ServiceResult<Self::Output>> + Send;
}

/// Transaction → row → outbox event → audit entry → commit → the row read back (from the pool,
/// after the commit).
async fn write_status_row<R: StatusRow>(ctx: &Context<'_>, indicator: &IndicatorRow, row: &R) -> Result<R::Output> {
    let pool = ctx.data::<PgPool>()?;
    let mut tx = pool.begin().await?;
    let id = row.upsert(&mut tx).await?;
    let change = (indicator.id, R::change(id));
    let written = Written::new(R::ACTION, (R::TYPE, id), row.after(indicator), vec![change]);
    outbox::commit(tx, auth::actor(ctx), written).await?;
    Ok(R::reload(pool, id).await?)
}

impl StatusRow for NewTarget {
    type Output = Target;
    const ACTION: &'static str = "setTarget";
    const TYPE: &'static str = "IndicatorTarget";

    async fn upsert(&self, tx: &mut Transaction<'static, Postgres>) -> ServiceResult<Uuid> {
        let ids = store::upsert_targets(tx, std::slice::from_ref(self)).await?;
        ids.first()
            .copied()
            .ok_or_else(|| ServiceError::internal_msg("upserted target not found"))
    }

    fn after(&self, indicator: &IndicatorRow) -> Value {
        json!({
            "indicator": indicator.code, "territory": self.territory_id, "organisation": self.organisation_id,
            "period": self.period, "subject": self.subject, "kind": self.kind, "value": self.value_raw,
        })
    }

    fn change(id: Uuid) -> StatusChange {
        StatusChange::TargetChanged { target: id }
    }

    async fn reload(pool: &PgPool, id: Uuid) -> ServiceResult<Target> {
        Target::by_id(pool, id).await
    }
}

impl StatusRow for NewObservation {
    type Output = Observation;
    const ACTION: &'static str = "recordObservation";
    const TYPE: &'static str = "Observation";

    async fn upsert(&self, tx: &mut Transaction<'static, Postgres>) -> ServiceResult<Uuid> {
        store::upsert_observation(tx, self).await
    }

    fn after(&self, indicator: &IndicatorRow) -> Value {
        json!({
            "indicator": indicator.code, "territory": self.territory_id, "organisation": self.organisation_id,
            "period": self.period, "subject": self.subject, "value": self.value_raw, "denominator": self.denominator,
        })
    }

    fn change(id: Uuid) -> StatusChange {
        StatusChange::ObservationRecorded { observation: id }
    }

    async fn reload(pool: &PgPool, id: Uuid) -> ServiceResult<Observation> {
        Observation::by_id(pool, id).await
    }
}

#[Object(name = "Mutation")]
impl MutationRoot {
    async fn create_indicator(&self, ctx: &Context<'_>, input: CreateIndicatorInput) -> Result<Indicator> {
        let new = input.into_new()?;
        let actor = auth::actor(ctx);
        actor.require(&[Role::Coordinator], "defining an indicator")?;
        let pool = ctx.data::<PgPool>()?;
        let mut tx = pool.begin().await?;
        let id = store::insert_indicator(&mut tx, &new).await.map_err(|e| match e {
            ServiceError::Conflict(_) => {
                ServiceError::invalid("input.code", format!("an indicator `{}` exists", new.code))
            }
            other => other,
        })?;
        let after = json!({ "code": new.code, "name": new.name, "unit": new.unit });
        outbox::commit(
            tx,
            actor,
            Written::new("createIndicator", ("Indicator", id), after, Vec::new()),
        )
        .await?;
        Ok(Indicator::by_id(pool, id).await?)
    }

    /// Replaces the baselines and targets `plan` sets with `targets`, in one transaction
    /// (idempotent: the plans importer calls it after every changed import). Indicators are picked
    /// by exam and created when missing. `territory` is the plan's; a target without a year is for
    /// the year `periodEnd` falls in. Returns the stored targets in input order.
    async fn record_plan_targets(
        &self,
        ctx: &Context<'_>,
        plan: ID,
        territory: Option<ID>,
        period_end: Option<NaiveDate>,
        targets: Vec<PlanTargetInput>,
    ) -> Result<Vec<Target>> {
        let place = PlanPlace {
            plan: parse_id("plan", &plan)?,
            territory: opt_id("territory", territory.as_ref())?,
            period_end,
        };
        require_scope(ctx, "recording a plan's targets", &[place.territory]).await?;
        let (definitions, rows): (Vec<NewIndicator>, Vec<NewTarget>) =
            plan_targets(&place, &targets)?.into_iter().unzip();
        let pool = ctx.data::<PgPool>()?;
        let mut tx = pool.begin().await?;
        let indicators = store::ensure_indicators(&mut tx, &definitions).await?;
        let rows: Vec<NewTarget> = definitions
            .iter()
            .zip(rows)
            .map(|(definition, target)| NewTarget {
                indicator_id: indicators[&definition.code],
                ..target
            })
            .collect();
        store::delete_plan_targets(&mut tx, place.plan).await?;
        let ids = store::upsert_targets(&mut tx, &rows).await?;
        let mut changed: Vec<Uuid> = indicators.into_values().collect();
        changed.sort();
        let change = StatusChange::PlanTargetsReplaced { plan: place.plan };
        let changes = changed.into_iter().map(|i| (i, change)).collect();
        let after = json!({ "targets": ids, "territory": place.territory });
        let written = Written::new("recordPlanTargets", ("Plan", place.plan), after, changes);
        outbox::commit(tx, auth::actor(ctx), written).await?;
        Ok(Target::by_ids(pool, &ids).await?)
    }

    /// Sets (or changes) one baseline or target.
    async fn set_target(&self, ctx: &Context<'_>, input: SetTargetInput) -> Result<Target> {
        let of = input.of.read(ctx.data::<PgPool>()?).await?;
        let scope = match (of.territory, of.organisation) {
            (Some(t), _) => Some(t),
            (None, Some(org)) => {
                people::from_ctx(ctx)?
                    .organisation_territory("input.organisation", org)
                    .await?
            }
            (None, None) => {
                return Err(ServiceError::invalid("input.territory", "give a territory or an organisation").into());
            }
        };
        require_scope(ctx, "setting a target", &[scope]).await?;
        require_in_organisation(ctx, "setting a target", of.organisation).await?;
        let row = input.to_new(&of)?;
        write_status_row(ctx, &of.indicator, &row).await
    }

    /// Records (or replaces) the actual value of an indicator for a territory or organisation
    /// (a class too), period, subject and result source. Where it rolls up to (the units above
    /// it) is asked from the people subgraph now.
    async fn record_observation(&self, ctx: &Context<'_>, input: RecordObservationInput) -> Result<Observation> {
        let of = input.of.read(ctx.data::<PgPool>()?).await?;
        let row = input.to_new(&of)?;
        let place = Placement::ask(people::from_ctx(ctx)?, of.territory, of.organisation).await?;
        require_scope(ctx, "recording an observation", &[place.territory]).await?;
        let lineage: Vec<Uuid> = place
            .organisation
            .into_iter()
            .chain(place.organisations.iter().copied())
            .collect();
        auth::actor(ctx).require_in_organisation("recording an observation", &lineage)?;
        let row = place.place(row);
        write_status_row(ctx, &of.indicator, &row).await
    }

    /// Records that `measure` (plans subgraph) serves `indicator`. Idempotent.
    async fn link_measure_to_indicator(&self, ctx: &Context<'_>, measure: ID, indicator: ID) -> Result<Measure> {
        let measure = parse_id("measure", &measure)?;
        let pool = ctx.data::<PgPool>()?;
        let indicator = Indicator::for_input(pool, "indicator", &indicator).await?;
        let doing = "linking a measure to an indicator";
        let actor = auth::actor(ctx);
        // The role first: an anonymous caller learns nothing about the measure.
        actor.require(&[Role::Editor, Role::Coordinator], doing)?;
        // The measure's plan is in the plans subgraph, which tells its territory.
        let territory = ctx.data::<PlansClient>()?.measure_territory("measure", measure).await?;
        require_scope(ctx, doing, &[territory]).await?;
        let mut tx = pool.begin().await?;
        store::link_measure(&mut tx, measure, indicator.id).await?;
        let after = json!({ "measure": measure, "indicator": indicator.code });
        let written = Written::new("linkMeasureToIndicator", ("Indicator", indicator.id), after, Vec::new());
        outbox::commit(tx, actor, written).await?;
        Ok(Measure { id: measure })
    }
}
