//! Who may see and change plans, measures and links (the rules are in `roadmap_common::auth`),
//! and the audit entries of the plans subgraph's mutations.

use async_graphql::Context;
use serde_json::{Value, json};
use uuid::Uuid;

use roadmap_common::ServiceResult;
use roadmap_common::auth::{self, Drafts, Role};
use roadmap_common::people::from_ctx as people;

use crate::store::PlanRow;

/// Roles that change plans.
pub const EDIT: [Role; 2] = [Role::Editor, Role::Coordinator];
/// Roles that link measures across plans.
pub const LINK: [Role; 2] = [Role::Coordinator, Role::Editor];

/// A territory and its ancestors (empty for none).
pub async fn ancestry(ctx: &Context<'_>, territory: Option<Uuid>) -> ServiceResult<Vec<Uuid>> {
    match territory {
        None => Ok(Vec::new()),
        Some(t) => people(ctx)?.territory_ancestry(t).await,
    }
}

/// Refuses unless the actor holds one of `roles` with a scope covering every territory given.
pub async fn require_territories(
    ctx: &Context<'_>,
    roles: &[Role],
    doing: &str,
    territories: &[Option<Uuid>],
) -> ServiceResult<()> {
    people(ctx)?
        .subgraph()
        .require_scope(auth::actor(ctx), roles, doing, territories)
        .await
}

/// Refuses unless the actor may change `plans` (all of them): its territory covers theirs and
/// its `organisation` claim, if any, covers their owners.
pub async fn require_plans(ctx: &Context<'_>, roles: &[Role], doing: &str, plans: &[&PlanRow]) -> ServiceResult<()> {
    let territories: Vec<Option<Uuid>> = plans.iter().map(|p| p.territory_id).collect();
    require_territories(ctx, roles, doing, &territories).await?;
    require_owners(
        ctx,
        doing,
        &plans.iter().map(|p| p.owner_organisation_id).collect::<Vec<_>>(),
    )
    .await
}

/// Refuses unless the actor's `organisation` claim (if any) covers each owner: the owner is the
/// claimed unit or a unit under it (`None`, a plan nobody owns, is refused to such a token).
/// Asks the people subgraph only for tokens with the claim.
pub async fn require_owners(ctx: &Context<'_>, doing: &str, owners: &[Option<Uuid>]) -> ServiceResult<()> {
    let actor = auth::actor(ctx);
    if actor.organisation.is_none() {
        return Ok(());
    }
    for owner in owners {
        let lineage = match owner {
            Some(o) => people(ctx)?.organisation_info("owner", *o).await?.lineage,
            None => Vec::new(),
        };
        actor.require_in_organisation(doing, &lineage)?;
    }
    Ok(())
}

/// A token narrowed to an organisation does not import (an import resolves territories and
/// organisations of its own), and class plans are created with `createPlan`, owned by their
/// class or staff role, never imported under an organisation found by name.
pub fn refuse_narrowed_import(actor: &auth::Actor, level: Option<crate::graphql::PlanLevel>) -> ServiceResult<()> {
    if level == Some(crate::graphql::PlanLevel::Classroom) {
        return Err(roadmap_common::ServiceError::invalid(
            "level",
            "class plans (CLASSROOM) are created with createPlan, owned by a class or staff role",
        ));
    }
    if actor.organisation.is_some() {
        return Err(roadmap_common::ServiceError::Forbidden(format!(
            "importing a plan: {} is limited to organisation {}; a limited token creates plans of its units \
             with createPlan",
            actor.subject,
            actor.organisation.map(|o| o.to_string()).unwrap_or_default()
        )));
    }
    Ok(())
}

/// Which drafts the actor may list: `None` all, `Some(territories)` only those territories'
/// (empty: none).
pub async fn draft_territories(ctx: &Context<'_>) -> ServiceResult<Option<Vec<Uuid>>> {
    match auth::actor(ctx).drafts() {
        Drafts::All => Ok(None),
        Drafts::None => Ok(Some(Vec::new())),
        Drafts::Under(scope) => Ok(Some(people(ctx)?.territory_and_descendants(scope).await?)),
    }
}

/// Whether the actor may see `plan` (approved plans are public).
pub async fn may_see(ctx: &Context<'_>, plan: &PlanRow) -> ServiceResult<bool> {
    may_see_plan(ctx, &plan.state, plan.territory_id).await
}

/// Whether the actor may see a plan in `state` (`DRAFT`, `APPROVED`) of `territory`.
pub async fn may_see_plan(ctx: &Context<'_>, state: &str, territory: Option<Uuid>) -> ServiceResult<bool> {
    if state == "APPROVED" {
        return Ok(true);
    }
    match auth::actor(ctx).drafts() {
        Drafts::All => Ok(true),
        Drafts::None => Ok(false),
        Drafts::Under(scope) => Ok(ancestry(ctx, territory).await?.contains(&scope)),
    }
}

/// A measure reached through an edge (a link, a trace, a lookup): `None` when it belongs to a
/// draft the actor may not see. The plan comes from the batched loader, so a list of measures
/// costs one plan query, not one per measure.
pub async fn visible_measure(
    ctx: &Context<'_>,
    row: Option<crate::store::MeasureRow>,
) -> async_graphql::Result<Option<crate::graphql::Measure>> {
    let Some(row) = row else { return Ok(None) };
    let loaders = ctx.data::<crate::loaders::Loaders>()?;
    match loaders.plan_by_id.load_one(row.plan_id).await? {
        Some(plan) if may_see(ctx, &plan).await? => Ok(Some(crate::graphql::Measure(row))),
        _ => Ok(None),
    }
}

/// Which of `plans` the actor may see, with one batched plan query.
pub async fn visible_plans(
    ctx: &Context<'_>,
    plans: impl IntoIterator<Item = Uuid>,
) -> async_graphql::Result<std::collections::HashSet<Uuid>> {
    let loaders = ctx.data::<crate::loaders::Loaders>()?;
    let rows = loaders.plan_by_id.load_many(plans).await?;
    let plans: Vec<_> = rows
        .values()
        .map(|p| (p.id, p.state.as_str(), p.territory_id))
        .collect();
    Ok(visible_of(ctx, &plans).await?)
}

/// Which of the plans given as (id, state, territory) the actor may see, each decided once
/// however often it is given (a trace gives a plan per node it reaches), and once per
/// (state, territory) however many plans share it ([`VisibleByStateTerritory`]).
pub async fn visible_of(
    ctx: &Context<'_>,
    plans: &[(Uuid, &str, Option<Uuid>)],
) -> ServiceResult<std::collections::HashSet<Uuid>> {
    let mut visible = VisibleByStateTerritory::default();
    let mut decided = std::collections::HashSet::new();
    let mut out = std::collections::HashSet::new();
    for &(id, state, territory) in plans {
        if decided.insert(id) && visible.may_see(ctx, state, territory).await? {
            out.insert(id);
        }
    }
    Ok(out)
}

/// [`may_see_plan`] decided once per (state, territory) for the life of the value: what a
/// reader of many rows of a few territories keeps (plans of a trace, territories of a stored
/// reach). Every state but `APPROVED` is decided alike, so they share one answer per territory.
#[derive(Default)]
pub struct VisibleByStateTerritory(std::collections::HashMap<(bool, Option<Uuid>), bool>);

impl VisibleByStateTerritory {
    /// Whether the actor may see a plan in `state` of `territory` ([`may_see_plan`]).
    pub async fn may_see(&mut self, ctx: &Context<'_>, state: &str, territory: Option<Uuid>) -> ServiceResult<bool> {
        let key = (state == "APPROVED", territory);
        if let Some(seen) = self.0.get(&key) {
            return Ok(*seen);
        }
        let seen = may_see_plan(ctx, state, territory).await?;
        self.0.insert(key, seen);
        Ok(seen)
    }
}

/// The audit form of a plan's identity.
pub fn plan_json(plan: &PlanRow) -> Value {
    json!({
        "title": plan.title, "level": plan.level, "territory": plan.territory_id,
        "version": plan.version, "state": plan.state,
    })
}
