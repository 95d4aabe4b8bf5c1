//! `Mutation`: importing and creating plans, approving them, linking measures across levels,
//! declaring parent plans, statuses and occurrence reports. Each change writes its outbox event
//! (`crate::outbox`) and its audit entry in its own transaction.

use async_graphql::{Context, ID, Object, Result};
use chrono::{NaiveDate, Utc};
use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::auth;
use roadmap_common::{ServiceError, ServiceResult, parse_id, people};

use crate::graphql::{
    CreatePlanInput, ImportReport, ImportRoadmapInput, LinkState, Measure, MeasureLink, MeasureStatus, Occurrence,
    Plan, PlanRows, plan_rows, subject,
};
use crate::indicators_client::IndicatorsClient;
use crate::occurrences::{check_report, expansion, not_an_occurrence};
use crate::store::{self, LinkRow, PlanRow, ReportRow};
use crate::{access, cascade, classroom, outbox};

#[derive(Default)]
pub struct MutationRoot;

/// Every mutation of the subgraph.
#[Object(name = "Mutation")]
impl MutationRoot {
    /// Imports one roadmap document (plain text, or a DOCX, ODT, XLSX, CSV or PDF file as base64)
    /// as a plan, all or nothing. Re-importing the same text changes nothing; changed text
    /// becomes a new version of the same plan.
    async fn import_roadmap(&self, ctx: &Context<'_>, input: ImportRoadmapInput) -> Result<ImportReport> {
        let people = people::from_ctx(ctx)?;
        let bytes = input.bytes()?;
        let options = input.options(auth::actor(ctx).clone());
        let indicators = ctx.data_opt::<IndicatorsClient>();
        let summary =
            crate::import::import_document_with(ctx.data::<PgPool>()?, people, indicators, &bytes, &options).await?;
        Ok(ImportReport(summary))
    }

    /// Creates a plan with its sections and measures in one all-or-nothing call.
    ///
    /// A class plan (`CLASSROOM`) is owned by a class or staff role (`owner`), lies in its
    /// territory, must not name people in its text, and has its schedules parsed (rules in
    /// `crate::classroom`). A token with an `organisation` creates plans owned by that unit or a
    /// unit under it only.
    async fn create_plan(&self, ctx: &Context<'_>, input: CreatePlanInput) -> Result<Plan> {
        let mut rows = plan_rows(&input)?;
        if input.level == crate::graphql::PlanLevel::Classroom {
            classroom::check_texts(&input)?;
            classroom_owner(ctx, &mut rows).await?;
            if let Some(plan) = &rows.plan {
                classroom::parse_schedules(plan, &mut rows.measures);
            }
        }
        let territory = rows.plan.as_ref().and_then(|p| p.territory_id);
        access::require_territories(ctx, &access::EDIT, "creating a plan", &[territory]).await?;
        let owner = rows.plan.as_ref().and_then(|p| p.owner_organisation_id);
        access::require_owners(ctx, "creating a plan", &[owner]).await?;
        if let (Some(plan), Some(t)) = (rows.plan.as_mut(), territory) {
            let people = roadmap_common::people::from_ctx(ctx)?;
            plan.time_zone = Some(people.territory_time_zone("input.territory", t).await?);
        }
        let pool = ctx.data::<PgPool>()?;
        let id = insert_plan_rows(ctx, pool, &rows).await?;
        Ok(Plan(store::plan_by_id(pool, id).await?))
    }

    /// Approves a draft plan (editors and coordinators of its territory): it becomes public and a
    /// `PLAN_APPROVED` event is published. Approving an approved plan changes nothing.
    async fn approve_plan(&self, ctx: &Context<'_>, plan: ID) -> Result<Plan> {
        let id = parse_id("plan", &plan)?;
        let pool = ctx.data::<PgPool>()?;
        let row = store::plan_by_id(pool, id).await?;
        access::require_plans(ctx, &access::EDIT, "approving a plan", &[&row]).await?;
        let mut tx = begin(pool).await?;
        let before = store::approve_plan(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("Plan", id))?;
        if before != "APPROVED" {
            outbox::plan_approved(&mut tx, &row).await?;
            let (before, after) = (json!({ "state": before }), json!({ "state": "APPROVED" }));
            audit(&mut tx, ctx, "approvePlan", ("Plan", id), Some(before), after).await?;
        }
        commit(tx).await?;
        Ok(Plan(store::plan_by_id(pool, id).await?))
    }

    /// Records that `measure` carries out `implements` (a measure of a higher-level or parent plan).
    async fn link_measures(
        &self,
        ctx: &Context<'_>,
        measure: ID,
        implements: ID,
        #[graphql(default_with = "LinkState::Confirmed")] state: LinkState,
        score: Option<f64>,
    ) -> Result<MeasureLink> {
        let measure_id = parse_id("measure", &measure)?;
        let implements_id = parse_id("implements", &implements)?;
        if measure_id == implements_id {
            return Err(ServiceError::invalid("implements", "a measure cannot implement itself").into());
        }
        let pool = ctx.data::<PgPool>()?;
        let mut tx = begin(pool).await?;
        check_link(ctx, pool, &mut tx, measure_id, implements_id, state).await?;
        let now = Utc::now();
        let decided = state != LinkState::Suggested;
        let row = store::upsert_link(
            &mut tx,
            &LinkRow {
                id: Uuid::new_v4(),
                measure_id,
                implements_id,
                state: state.as_db().to_string(),
                score,
                created_by: subject(ctx),
                created_at: now,
                decided_by: decided.then(|| subject(ctx)),
                decided_at: decided.then_some(now),
            },
        )
        .await?;
        outbox::link_changed(&mut tx, &row).await?;
        let after = json!({ "measure": row.measure_id, "implements": row.implements_id, "state": row.state });
        audit(&mut tx, ctx, "linkMeasures", ("MeasureLink", row.id), None, after).await?;
        commit(tx).await?;
        Ok(MeasureLink(row))
    }

    /// Confirms or rejects a (suggested) link. Confirming a rejected link that would close a
    /// cycle is refused.
    async fn decide_link(&self, ctx: &Context<'_>, id: ID, state: LinkState) -> Result<MeasureLink> {
        let link_id = parse_id("id", &id)?;
        if state == LinkState::Suggested {
            return Err(ServiceError::invalid("state", "a decision is CONFIRMED or REJECTED").into());
        }
        let pool = ctx.data::<PgPool>()?;
        let link = store::links_by_ids(pool, &[link_id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::not_found("MeasureLink", link_id))?;
        let measures = store::measures_by_ids(pool, &[link.measure_id, link.implements_id]).await?;
        let plan_ids: Vec<Uuid> = measures.iter().map(|m| m.plan_id).collect();
        let plans = store::plans_by_ids(pool, &plan_ids).await?;
        let low_plan = measures.iter().find(|m| m.id == link.measure_id).map(|m| m.plan_id);
        require_link(ctx, "deciding on a link", &plans, low_plan).await?;
        let mut tx = begin(pool).await?;
        if link.state == LinkState::Rejected.as_db()
            && state != LinkState::Rejected
            && store::creates_cycle(&mut tx, link.measure_id, link.implements_id).await?
        {
            return Err(ServiceError::invalid("state", "the link would close a cycle").into());
        }
        let row = store::set_link_state(&mut tx, link_id, state.as_db(), &subject(ctx))
            .await?
            .ok_or_else(|| ServiceError::not_found("MeasureLink", link_id))?;
        outbox::link_changed(&mut tx, &row).await?;
        let (before, after) = (json!({ "state": link.state }), json!({ "state": row.state }));
        audit(&mut tx, ctx, "decideLink", ("MeasureLink", row.id), Some(before), after).await?;
        commit(tx).await?;
        Ok(MeasureLink(row))
    }

    /// Declares that `plan` implements `parent` (a plan of a higher level, or any plan the
    /// owner designates).
    async fn set_plan_parent(&self, ctx: &Context<'_>, plan: ID, parent: ID) -> Result<Plan> {
        let plan_id = parse_id("plan", &plan)?;
        let parent_id = parse_id("parent", &parent)?;
        if plan_id == parent_id {
            return Err(ServiceError::invalid("parent", "a plan cannot be its own parent").into());
        }
        let pool = ctx.data::<PgPool>()?;
        let rows = store::plans_by_ids(pool, &[plan_id, parent_id]).await?;
        let row = rows
            .iter()
            .find(|p| p.id == plan_id)
            .cloned()
            .ok_or_else(|| ServiceError::not_found("Plan", plan_id))?;
        if !rows.iter().any(|p| p.id == parent_id) {
            return Err(ServiceError::not_found("Plan", parent_id).into());
        }
        require_link(ctx, "declaring a parent plan", &rows, Some(plan_id)).await?;
        let mut tx = begin(pool).await?;
        store::add_plan_parent(&mut tx, plan_id, parent_id).await?;
        let after = json!({ "parent": parent_id });
        audit(&mut tx, ctx, "setPlanParent", ("Plan", plan_id), None, after).await?;
        commit(tx).await?;
        Ok(Plan(row))
    }

    /// Sets the status (and optionally the reported progress, 0–100) of a measure.
    async fn set_measure_status(
        &self,
        ctx: &Context<'_>,
        measure: ID,
        status: MeasureStatus,
        progress: Option<f64>,
    ) -> Result<Measure> {
        let id = parse_id("measure", &measure)?;
        if status == MeasureStatus::Overdue {
            return Err(ServiceError::invalid("status", "OVERDUE is derived from the deadline, not set").into());
        }
        if let Some(p) = progress
            && !(0.0..=100.0).contains(&p)
        {
            return Err(ServiceError::invalid("progress", "must be between 0 and 100").into());
        }
        let pool = ctx.data::<PgPool>()?;
        let measure = store::measure_by_id(pool, id).await?;
        let plan = store::plan_by_id(pool, measure.plan_id).await?;
        access::require_plans(ctx, &access::EDIT, "setting a measure's status", &[&plan]).await?;
        let mut tx = begin(pool).await?;
        let (before, _) = store::set_status(&mut tx, id, status.as_db(), progress)
            .await?
            .ok_or_else(|| ServiceError::not_found("Measure", id))?;
        outbox::measure_status_changed(&mut tx, id, &before, status.as_db()).await?;
        let (before, after) = (
            json!({ "status": before }),
            json!({ "status": status.as_db(), "progress": progress }),
        );
        audit(&mut tx, ctx, "setMeasureStatus", ("Measure", id), Some(before), after).await?;
        commit(tx).await?;
        Ok(Measure(store::measure_by_id(pool, id).await?))
    }

    /// Reports whether an occurrence of a measure was held, with the participant count, evidence
    /// links and a note. Reporting again on the same date adds a revision; the previous report
    /// stays in `Occurrence.history` and in the `OCCURRENCE_REPORTED` event.
    #[allow(clippy::too_many_arguments)]
    async fn report_occurrence(
        &self,
        ctx: &Context<'_>,
        measure: ID,
        date: NaiveDate,
        held: bool,
        participants: Option<i32>,
        evidence: Option<Vec<String>>,
        note: Option<String>,
    ) -> Result<Occurrence> {
        let measure_id = parse_id("measure", &measure)?;
        let input = check_report(held, participants, evidence, note)?;
        let pool = ctx.data::<PgPool>()?;
        let row = store::measure_by_id(pool, measure_id).await?;
        let plan = store::plans_by_ids(pool, &[row.plan_id]).await?.into_iter().next();
        // A class-level report keeps counts, never names.
        if plan.as_ref().is_some_and(classroom::is_classroom) {
            classroom::refuse_names("note", input.note.as_deref())?;
        }
        let plans: Vec<&PlanRow> = plan.iter().collect();
        access::require_plans(ctx, &access::EDIT, "reporting an occurrence", &plans).await?;
        let expansion = expansion(&row, plan.as_ref());
        let Some(found) = expansion.as_ref().and_then(|e| e.on(date)).copied() else {
            return Err(not_an_occurrence(&row, date, expansion.as_ref()).into());
        };
        let mut tx = begin(pool).await?;
        let previous = store::lock_measure_report(&mut tx, measure_id, date)
            .await?
            .ok_or_else(|| ServiceError::not_found("Measure", measure_id))?;
        let report = store::insert_report(
            &mut tx,
            &ReportRow {
                measure_id,
                occurs_on: date,
                revision: previous.as_ref().map(|p| p.revision + 1).unwrap_or(1),
                held: input.held,
                participants: input.participants,
                evidence: input.evidence,
                note: input.note,
                reported_by: subject(ctx),
                reported_at: Utc::now(),
            },
        )
        .await?;
        outbox::occurrence_reported(&mut tx, previous.as_ref(), &report).await?;
        let before = previous
            .as_ref()
            .map(|p| json!({ "date": p.occurs_on, "revision": p.revision, "held": p.held }));
        let after = json!({
            "date": report.occurs_on, "revision": report.revision, "held": report.held,
            "participants": report.participants, "evidence": report.evidence,
        });
        audit(&mut tx, ctx, "reportOccurrence", ("Measure", measure_id), before, after).await?;
        commit(tx).await?;
        Ok(Occurrence {
            measure_id,
            occurrence: found,
        })
    }
}

/// The rules of `linkMeasures` (see `crate::cascade`): measures of two different plans the actor
/// may link, the implemented one upward (a higher level or a declared parent plan), and no
/// cycle unless the link is recorded as rejected.
async fn check_link(
    ctx: &Context<'_>,
    pool: &PgPool,
    tx: &mut Transaction<'_, Postgres>,
    measure_id: Uuid,
    implements_id: Uuid,
    state: LinkState,
) -> ServiceResult<()> {
    let rows = store::measures_by_ids(pool, &[measure_id, implements_id]).await?;
    let low = rows
        .iter()
        .find(|m| m.id == measure_id)
        .ok_or_else(|| ServiceError::not_found("Measure", measure_id))?;
    let high = rows
        .iter()
        .find(|m| m.id == implements_id)
        .ok_or_else(|| ServiceError::not_found("Measure", implements_id))?;
    if low.plan_id == high.plan_id {
        return Err(ServiceError::invalid(
            "implements",
            "links join measures of different plans",
        ));
    }
    let plans = store::plans_by_ids(pool, &[low.plan_id, high.plan_id]).await?;
    require_link(ctx, "linking measures", &plans, Some(low.plan_id)).await?;
    let level = |id: Uuid| {
        plans
            .iter()
            .find(|p| p.id == id)
            .map(|p| cascade::level_rank(&p.level))
            .unwrap_or(0)
    };
    let upward =
        level(high.plan_id) > level(low.plan_id) || store::is_parent_plan(tx, low.plan_id, high.plan_id).await?;
    if !upward {
        return Err(ServiceError::invalid(
            "implements",
            "must belong to a plan of a higher level than the measure's plan, or to its declared parent plan",
        ));
    }
    if state != LinkState::Rejected && store::creates_cycle(tx, measure_id, implements_id).await? {
        return Err(ServiceError::invalid("implements", "the link would close a cycle"));
    }
    Ok(())
}

/// Refuses a link unless the actor may link across both plans (territory) and, with an
/// `organisation` claim, owns the implementing (lower) plan: a class teacher links its class's
/// measures to the school's, not the school's to anything.
async fn require_link(ctx: &Context<'_>, doing: &str, plans: &[PlanRow], low_plan: Option<Uuid>) -> ServiceResult<()> {
    let territories: Vec<Option<Uuid>> = plans.iter().map(|p| p.territory_id).collect();
    access::require_territories(ctx, &access::LINK, doing, &territories).await?;
    let owner = plans
        .iter()
        .find(|p| Some(p.id) == low_plan)
        .and_then(|p| p.owner_organisation_id);
    access::require_owners(ctx, doing, &[owner]).await
}

/// A class plan's owner: a class or staff role; the plan takes its territory (a different one
/// given is refused).
async fn classroom_owner(ctx: &Context<'_>, rows: &mut PlanRows) -> ServiceResult<()> {
    let Some(plan) = rows.plan.as_mut() else {
        return Ok(());
    };
    let owner = plan.owner_organisation_id.ok_or_else(|| {
        ServiceError::invalid(
            "input.owner",
            "a class plan (CLASSROOM) is owned by a class or staff role: give its id",
        )
    })?;
    let info = people::from_ctx(ctx)?.organisation_info("input.owner", owner).await?;
    if !classroom::OWNER_KINDS.contains(&info.kind.as_str()) {
        return Err(ServiceError::invalid(
            "input.owner",
            format!(
                "a class plan is owned by a CLASS or STAFF_ROLE unit; {owner} is a {}",
                info.kind
            ),
        ));
    }
    match (plan.territory_id, info.territory) {
        (Some(given), Some(owners)) if given != owners => {
            return Err(ServiceError::invalid(
                "input.territory",
                format!("{given} is not the territory of the owner's school ({owners})"),
            ));
        }
        (None, t) => plan.territory_id = t,
        _ => {}
    }
    Ok(())
}

/// Writes validated rows in one transaction: all of the plan or nothing.
async fn insert_plan_rows(ctx: &Context<'_>, pool: &PgPool, rows: &PlanRows) -> ServiceResult<Uuid> {
    let plan = rows
        .plan
        .as_ref()
        .ok_or_else(|| ServiceError::invalid("input", "no plan"))?;
    let mut tx = begin(pool).await?;
    store::insert_plan(&mut tx, plan).await?;
    store::insert_sections(&mut tx, &rows.sections).await?;
    store::insert_measures(&mut tx, &rows.measures).await?;
    store::insert_responsible(&mut tx, &rows.responsible).await?;
    let mut after = access::plan_json(plan);
    after["sections"] = rows.sections.len().into();
    after["measures"] = rows.measures.len().into();
    audit(&mut tx, ctx, "createPlan", ("Plan", plan.id), None, after).await?;
    commit(tx).await?;
    Ok(plan.id)
}

// Through `ServiceError`, so a database failure is logged and masked, never sent as is.
async fn begin(pool: &PgPool) -> ServiceResult<Transaction<'static, Postgres>> {
    Ok(pool.begin().await?)
}

async fn commit(tx: Transaction<'_, Postgres>) -> ServiceResult<()> {
    Ok(tx.commit().await?)
}

/// The mutation's audit entry, in its transaction.
async fn audit(
    tx: &mut Transaction<'_, Postgres>,
    ctx: &Context<'_>,
    action: &str,
    subject: (&'static str, Uuid),
    before: Option<Value>,
    after: Value,
) -> ServiceResult<()> {
    roadmap_common::audit::record(tx, crate::NAME, auth::actor(ctx), action, subject, before, Some(after)).await
}
