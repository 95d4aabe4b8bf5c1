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
    CreateOrganisationInput, CreateTerritoryInput, CreateUnitInput, EnsureOrganisationInput, Organisation, Territory,
    TerritoryKind, UpdateUnitInput,
};
use crate::store::{self, OrganisationRow, Table, UnitRow};
use crate::units;

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
        let time_zone = input
            .time_zone
            .as_deref()
            .map(|z| roadmap_common::clock::parse_time_zone("input.timeZone", z).map(|tz| tz.name()))
            .transpose()?;
        let pool = ctx.data::<PgPool>()?;
        require_scope(ctx, pool, &TERRITORIES, "creating a territory", parent).await?;
        let id = Uuid::new_v4();
        let mut tx = pool.begin().await?;
        store::insert(&mut *tx, Table::Territory, id, name, input.kind.as_db(), parent).await?;
        if time_zone.is_some() {
            store::set_territory_time_zone(&mut *tx, id, time_zone).await?;
        }
        let after = json!({ "name": name, "kind": input.kind.as_db(), "parent": parent, "timeZone": time_zone });
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
        Ok(read_back(pool, &ids).await?)
    }

    /// Creates an organisation with its abbreviations in one transaction.
    async fn create_organisation(&self, ctx: &Context<'_>, input: CreateOrganisationInput) -> Result<Organisation> {
        let name = non_empty("input.name", &input.name)?;
        top_level("input.kind", input.kind)?;
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

    /// Creates a school's classes, subject teams and staff roles, all or nothing (errors name
    /// `inputs[i].<field>`). Needs an editor or coordinator whose territory covers the school
    /// and, for a token with an `organisation`, a parent at or under that unit.
    async fn create_units(&self, ctx: &Context<'_>, inputs: Vec<CreateUnitInput>) -> Result<Vec<Organisation>> {
        let pool = ctx.data::<PgPool>()?;
        let mut parent_ids = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            parent_ids.push(parse_id(&format!("inputs[{i}].parent"), &input.parent)?);
        }
        let parents: HashMap<Uuid, OrganisationRow> = store::organisations_by_ids(pool, &parent_ids)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let mut siblings: HashMap<Uuid, Vec<UnitRow>> = store::organisations_by_parents(pool, &parent_ids)
            .await?
            .iter()
            .map(|r| (r.parent_id.unwrap_or_default(), units::unit_of(r)))
            .fold(HashMap::new(), |mut map, (p, r)| {
                map.entry(p).or_default().push(r);
                map
            });
        let mut rows = Vec::with_capacity(inputs.len());
        for (i, (input, parent)) in inputs.iter().zip(&parent_ids).enumerate() {
            let path = format!("inputs[{i}]");
            let parent = parents.get(parent).ok_or_else(|| {
                ServiceError::invalid(
                    format!("{path}.parent"),
                    format!("organisation {parent} does not exist"),
                )
            })?;
            let row = units::check(&path, Uuid::new_v4(), input.kind, &input.fields, parent)?;
            let known = siblings.entry(parent.id).or_default();
            units::check_unique(&path, &row, known)?;
            known.push(row.clone());
            rows.push(row);
        }
        let mut checked: Vec<Uuid> = Vec::new();
        for parent in &parent_ids {
            if checked.contains(parent) {
                continue;
            }
            checked.push(*parent);
            let territory = parents.get(parent).and_then(|p| p.territory_id);
            require_unit_access(ctx, pool, "creating units of a school", territory, *parent).await?;
        }
        let mut tx = pool.begin().await?;
        for row in &rows {
            store::write_unit(&mut tx, row, false).await?;
            record(&mut tx, ctx, "createUnits", ("Organisation", row.id), unit_json(row)).await?;
        }
        tx.commit().await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        Ok(read_back(pool, &ids).await?)
    }

    /// Changes a class, subject team or staff role (e.g. a class's number of pupils); absent
    /// fields stay. Checked like `createUnits`, errors name `input.<field>`.
    async fn update_unit(&self, ctx: &Context<'_>, id: ID, input: UpdateUnitInput) -> Result<Organisation> {
        let id = parse_id("id", &id)?;
        let pool = ctx.data::<PgPool>()?;
        let current = store::organisations_by_ids(pool, &[id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::invalid("id", format!("organisation {id} does not exist")))?;
        let kind = crate::graphql::OrganisationKind::from_db(&current.kind)
            .filter(|k| k.is_unit())
            .ok_or_else(|| {
                ServiceError::invalid(
                    "id",
                    format!("«{}» is not a class, subject team or staff role", current.name),
                )
            })?;
        let parent_id = current.parent_id.unwrap_or_default();
        let parent = store::organisations_by_ids(pool, &[parent_id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::not_found("Organisation", parent_id))?;
        let mut fields = units::fields_of(&current);
        let UpdateUnitInput {
            name,
            grade,
            letter,
            school_year,
            pupils,
            subject,
        } = input;
        fields.name = name.or(fields.name);
        fields.grade = grade.or(fields.grade);
        fields.letter = letter.or(fields.letter);
        fields.school_year = school_year.or(fields.school_year);
        fields.pupils = pupils.or(fields.pupils);
        fields.subject = subject.or(fields.subject);
        let row = units::check("input", id, kind, &fields, &parent)?;
        let siblings: Vec<UnitRow> = store::organisations_by_parents(pool, &[parent_id])
            .await?
            .iter()
            .map(units::unit_of)
            .collect();
        units::check_unique("input", &row, &siblings)?;
        require_unit_access(ctx, pool, "changing a unit of a school", current.territory_id, id).await?;
        let mut tx = pool.begin().await?;
        store::write_unit(&mut tx, &row, true).await?;
        let before = unit_json(&units::unit_of(&current));
        audit::record(
            &mut tx,
            crate::NAME,
            auth::actor(ctx),
            "updateUnit",
            ("Organisation", id),
            Some(before),
            Some(unit_json(&row)),
        )
        .await?;
        tx.commit().await?;
        let rows = store::organisations_by_ids(pool, &[id]).await?;
        Ok(Organisation(only(rows, "Organisation", id)?))
    }
}

/// Refuses unless the actor is an editor or coordinator whose territory covers `territory` and
/// whose `organisation` claim (if any) covers `unit` (the unit itself or one above it).
async fn require_unit_access(
    ctx: &Context<'_>,
    pool: &PgPool,
    doing: &str,
    territory: Option<Uuid>,
    unit: Uuid,
) -> ServiceResult<()> {
    require_scope(ctx, pool, &ORGANISATIONS, doing, territory).await?;
    let actor = auth::actor(ctx);
    if actor.organisation.is_none() {
        return Ok(());
    }
    let mut lineage = vec![unit];
    lineage.extend(
        store::organisation_ancestors(pool, &[unit])
            .await?
            .into_iter()
            .map(|(_, o)| o.id),
    );
    actor.require_in_organisation(doing, &lineage)
}

/// The audit form of a unit.
fn unit_json(row: &UnitRow) -> Value {
    json!({
        "name": row.name, "kind": row.kind, "parent": row.parent, "territory": row.territory,
        "grade": row.grade, "letter": row.letter, "schoolYear": row.school_year, "pupils": row.pupils,
        "subject": row.subject,
    })
}

/// `value` trimmed; refused when nothing is left.
fn non_empty<'a>(field: &str, value: &'a str) -> ServiceResult<&'a str> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ServiceError::invalid(field, "must not be empty"));
    }
    Ok(value)
}

/// Refuses a unit kind where an organisation at the top is made.
fn top_level(field: &str, kind: crate::graphql::OrganisationKind) -> ServiceResult<()> {
    if kind.is_unit() {
        return Err(ServiceError::invalid(
            field,
            format!("{} is a unit under a school: create it with createUnits", kind.as_db()),
        ));
    }
    Ok(())
}

/// The `i`-th input of `ensureOrganisations`, checked; errors name `inputs[i]`.
fn wanted_organisation(i: usize, input: &EnsureOrganisationInput) -> ServiceResult<store::WantedOrganisation> {
    let name = non_empty(&format!("inputs[{i}].name"), &input.name)?;
    top_level(&format!("inputs[{i}].kind"), input.kind)?;
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

/// The organisations just written, read back in the order of `ids`.
async fn read_back(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<Organisation>> {
    let by_id: HashMap<Uuid, OrganisationRow> = store::organisations_by_ids(pool, ids)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    ids.iter()
        .map(|id| {
            by_id
                .get(id)
                .cloned()
                .map(Organisation)
                .ok_or_else(|| ServiceError::not_found("Organisation", id))
        })
        .collect()
}

/// The row just written, read back.
fn only<T>(rows: Vec<T>, entity: &'static str, id: Uuid) -> ServiceResult<T> {
    rows.into_iter()
        .next()
        .ok_or_else(|| ServiceError::not_found(entity, id))
}
