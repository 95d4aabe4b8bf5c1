//! `Mutation`: creating territories and organisations, and the idempotent `ensure…` calls the
//! plans importer resolves a document's parties with. Every change is audited in its transaction.

use std::collections::HashMap;

use async_graphql::{Context, ID, Object, Result};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use roadmap_common::auth::{self, Role};
use roadmap_common::{ServiceError, ServiceResult, audit, parse_id};

use crate::graphql::{
    CreateOrganisationInput, CreateTerritoryInput, EnsureOrganisationInput, Organisation, Territory, TerritoryKind,
};
use crate::store::{self, OrganisationRow, Table};

/// Who may create territories.
const TERRITORIES: [Role; 1] = [Role::Coordinator];
/// Who may create organisations.
const ORGANISATIONS: [Role; 2] = [Role::Editor, Role::Coordinator];

pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    async fn create_territory(&self, ctx: &Context<'_>, input: CreateTerritoryInput) -> Result<Territory> {
        let name = non_empty("input.name", &input.name)?;
        let parent = input.parent.as_ref().map(|p| parse_id("input.parent", p)).transpose()?;
        let pool = ctx.data::<PgPool>()?;
        require_scope(ctx, pool, &TERRITORIES, "creating a territory", parent).await?;
        let id = Uuid::new_v4();
        let mut tx = pool.begin().await?;
        store::insert(&mut *tx, Table::Territory, id, name, input.kind.as_db(), parent).await?;
        let after = json!({ "name": name, "kind": input.kind.as_db(), "parent": parent });
        record(&mut tx, ctx, "createTerritory", ("Territory", id), after).await?;
        tx.commit().await?;
        let rows = store::territories_by_ids(pool, &[id]).await?;
        Ok(Territory(only(rows, "Territory", id)?))
    }

    /// Finds the territory with this name under `parent` (and kind), or creates it. Idempotent.
    async fn ensure_territory(
        &self,
        ctx: &Context<'_>,
        name: String,
        kind: TerritoryKind,
        parent: Option<ID>,
    ) -> Result<Territory> {
        let name = non_empty("name", &name)?;
        let parent = parent.as_ref().map(|p| parse_id("parent", p)).transpose()?;
        let pool = ctx.data::<PgPool>()?;
        require_scope(ctx, pool, &TERRITORIES, "creating a territory", parent).await?;
        let mut tx = pool.begin().await?;
        let row = store::ensure_territory(&mut tx, name, kind.as_db(), parent).await?;
        let after = json!({ "name": row.name, "kind": row.kind, "parent": row.parent_id });
        record(&mut tx, ctx, "ensureTerritory", ("Territory", row.id), after).await?;
        tx.commit().await?;
        Ok(Territory(row))
    }

    /// Resolves each input to one organisation, creating what is missing, in one transaction;
    /// results are in input order. An existing organisation matches when it is in the same
    /// territory and has the same name (case-insensitive) or shares an abbreviation; new
    /// abbreviations are added to it. Idempotent: importing the same document twice resolves to
    /// the same organisations.
    async fn ensure_organisations(
        &self,
        ctx: &Context<'_>,
        inputs: Vec<EnsureOrganisationInput>,
    ) -> Result<Vec<Organisation>> {
        let wanted = inputs
            .iter()
            .enumerate()
            .map(|(i, input)| wanted_organisation(i, input))
            .collect::<ServiceResult<Vec<_>>>()?;
        let pool = ctx.data::<PgPool>()?;
        let mut territories: Vec<Option<Uuid>> = wanted.iter().map(|w| w.territory).collect();
        territories.sort();
        territories.dedup();
        for territory in territories {
            require_scope(ctx, pool, &ORGANISATIONS, "creating organisations", territory).await?;
        }
        let mut tx = pool.begin().await?;
        let ids = store::ensure_organisations(&mut tx, &wanted).await?;
        for (id, w) in ids.iter().zip(&wanted) {
            let after = json!({
                "name": w.name, "kind": w.kind, "territory": w.territory, "abbreviations": w.abbreviations
            });
            record(&mut tx, ctx, "ensureOrganisations", ("Organisation", *id), after).await?;
        }
        tx.commit().await?;
        let rows = store::organisations_by_ids(pool, &ids).await?;
        let by_id: HashMap<Uuid, OrganisationRow> = rows.into_iter().map(|r| (r.id, r)).collect();
        ids.iter()
            .map(|id| {
                by_id
                    .get(id)
                    .cloned()
                    .map(Organisation)
                    .ok_or_else(|| ServiceError::not_found("Organisation", id).into())
            })
            .collect()
    }

    /// Creates an organisation with its abbreviations in one transaction.
    async fn create_organisation(&self, ctx: &Context<'_>, input: CreateOrganisationInput) -> Result<Organisation> {
        let name = non_empty("input.name", &input.name)?;
        for (i, a) in input.abbreviations.iter().enumerate() {
            non_empty(&format!("input.abbreviations[{i}]"), a)?;
        }
        let territory = input
            .territory
            .as_ref()
            .map(|t| parse_id("input.territory", t))
            .transpose()?;
        let pool = ctx.data::<PgPool>()?;
        require_scope(ctx, pool, &ORGANISATIONS, "creating an organisation", territory).await?;
        let id = Uuid::new_v4();
        let abbreviations: Vec<String> = input.abbreviations.iter().map(|a| a.trim().to_string()).collect();
        let mut tx = pool.begin().await?;
        store::insert(&mut *tx, Table::Organisation, id, name, input.kind.as_db(), territory).await?;
        store::insert_abbreviations(&mut *tx, id, &abbreviations).await?;
        let after = json!({
            "name": name, "kind": input.kind.as_db(), "territory": territory, "abbreviations": abbreviations
        });
        record(&mut tx, ctx, "createOrganisation", ("Organisation", id), after).await?;
        tx.commit().await?;
        let rows = store::organisations_by_ids(pool, &[id]).await?;
        Ok(Organisation(only(rows, "Organisation", id)?))
    }
}

/// `value` trimmed; refused when nothing is left.
fn non_empty<'a>(field: &str, value: &'a str) -> ServiceResult<&'a str> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ServiceError::invalid(field, "must not be empty"));
    }
    Ok(value)
}

/// The `i`-th input of `ensureOrganisations`, checked; errors name `inputs[i]`.
fn wanted_organisation(i: usize, input: &EnsureOrganisationInput) -> ServiceResult<store::WantedOrganisation> {
    let name = non_empty(&format!("inputs[{i}].name"), &input.name)?;
    let territory = input
        .territory
        .as_ref()
        .map(|t| parse_id(&format!("inputs[{i}].territory"), t))
        .transpose()?;
    let abbreviations = input
        .abbreviations
        .iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    Ok(store::WantedOrganisation {
        name: name.to_string(),
        kind: input.kind.as_db(),
        territory,
        abbreviations,
    })
}

/// Refuses unless the actor holds one of `roles` with a scope covering `territory` (none: a
/// federal body, which only a national scope covers).
async fn require_scope(
    ctx: &Context<'_>,
    pool: &PgPool,
    roles: &[Role],
    doing: &str,
    territory: Option<Uuid>,
) -> ServiceResult<()> {
    auth::actor(ctx).require_in_scope(roles, doing, &ancestry(pool, territory).await?)
}

/// A territory and its ancestors, nearest first; empty for none (a federal body).
async fn ancestry(pool: &PgPool, territory: Option<Uuid>) -> ServiceResult<Vec<Uuid>> {
    let Some(territory) = territory else {
        return Ok(Vec::new());
    };
    let mut out = vec![territory];
    out.extend(
        store::territory_ancestors(pool, &[territory])
            .await?
            .into_iter()
            .map(|(_, t)| t.id),
    );
    Ok(out)
}

/// The audit entry of a creation (nothing before it), in the change's transaction.
async fn record(
    conn: &mut PgConnection,
    ctx: &Context<'_>,
    action: &str,
    subject: (&str, Uuid),
    after: Value,
) -> ServiceResult<()> {
    audit::record(conn, crate::NAME, auth::actor(ctx), action, subject, None, Some(after)).await
}

/// The row just written, read back.
fn only<T>(rows: Vec<T>, entity: &'static str, id: Uuid) -> ServiceResult<T> {
    rows.into_iter()
        .next()
        .ok_or_else(|| ServiceError::not_found(entity, id))
}
