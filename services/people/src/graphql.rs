//! GraphQL types of the people subgraph.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::audit;
use roadmap_common::auth::{self, Role};
use roadmap_common::{ServiceError, ServiceResult};

use crate::loaders::Loaders;
use crate::store::{self, OrganisationRow, TerritoryRow};

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum TerritoryKind {
    Country,
    Region,
    Municipality,
    Settlement,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum OrganisationKind {
    Ministry,
    Government,
    Institute,
    AssessmentCentre,
    MunicipalAuthority,
    MethodologicalCentre,
    School,
    Other,
}

macro_rules! db_enum {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_db(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
            pub fn from_db(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

db_enum!(TerritoryKind {
    Country => "COUNTRY",
    Region => "REGION",
    Municipality => "MUNICIPALITY",
    Settlement => "SETTLEMENT",
});

db_enum!(OrganisationKind {
    Ministry => "MINISTRY",
    Government => "GOVERNMENT",
    Institute => "INSTITUTE",
    AssessmentCentre => "ASSESSMENT_CENTRE",
    MunicipalAuthority => "MUNICIPAL_AUTHORITY",
    MethodologicalCentre => "METHODOLOGICAL_CENTRE",
    School => "SCHOOL",
    Other => "OTHER",
});

pub fn parse_id(field: &str, id: &ID) -> ServiceResult<Uuid> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| ServiceError::invalid(field, format!("`{}` is not a valid id", id.as_str())))
}

/// A region, municipality or other territory; a scope covers its descendants.
pub struct Territory(pub TerritoryRow);

#[Object]
impl Territory {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn kind(&self) -> Option<TerritoryKind> {
        TerritoryKind::from_db(&self.0.kind)
    }

    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Territory>> {
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders.territory_by_id.load_one(parent).await?.map(Territory))
    }

    /// The territories above this one, nearest first (parent, grandparent, ..., the root).
    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<Territory>> {
        let loaders = ctx.data::<Loaders>()?;
        let rows = loaders.ancestors_by_territory.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Territory).collect())
    }

    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Territory>> {
        let loaders = ctx.data::<Loaders>()?;
        let rows = loaders.territories_by_parent.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Territory).collect())
    }

    async fn organisations(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        let loaders = ctx.data::<Loaders>()?;
        let rows = loaders.organisations_by_territory.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Organisation).collect())
    }
}

/// A ministry, institute, municipal authority, school ... as named in the documents.
pub struct Organisation(pub OrganisationRow);

#[Object]
impl Organisation {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn kind(&self) -> Option<OrganisationKind> {
        OrganisationKind::from_db(&self.0.kind)
    }

    /// Short forms the documents use for this organisation (e.g. `МБУ ИМЦ`).
    async fn abbreviations(&self) -> &[String] {
        &self.0.abbreviations
    }

    async fn territory(&self, ctx: &Context<'_>) -> Result<Option<Territory>> {
        let Some(t) = self.0.territory_id else {
            return Ok(None);
        };
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders.territory_by_id.load_one(t).await?.map(Territory))
    }
}

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// Territories, optionally of one kind and/or under one parent.
    async fn territories(
        &self,
        ctx: &Context<'_>,
        kind: Option<TerritoryKind>,
        parent: Option<ID>,
    ) -> Result<Vec<Territory>> {
        let parent = parent.as_ref().map(|p| parse_id("parent", p)).transpose()?;
        let rows = store::list_territories(ctx.data::<PgPool>()?, kind.map(TerritoryKind::as_db), parent).await?;
        Ok(rows.into_iter().map(Territory).collect())
    }

    async fn territory(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Territory>> {
        let id = parse_id("id", &id)?;
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders.territory_by_id.load_one(id).await?.map(Territory))
    }

    /// Organisations whose name contains `search` or whose abbreviation equals it.
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        territory: Option<ID>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<Organisation>> {
        let territory = territory.as_ref().map(|t| parse_id("territory", t)).transpose()?;
        let limit = roadmap_common::relay::page_size(Some(first), 50, 500)?;
        let rows = store::search_organisations(ctx.data::<PgPool>()?, search.as_deref(), territory, limit).await?;
        Ok(rows.into_iter().map(Organisation).collect())
    }

    async fn organisation(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organisation>> {
        let id = parse_id("id", &id)?;
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders.organisation_by_id.load_one(id).await?.map(Organisation))
    }

    #[graphql(entity)]
    async fn find_territory_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Territory>> {
        self.territory(ctx, id).await
    }

    #[graphql(entity)]
    async fn find_organisation_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organisation>> {
        self.organisation(ctx, id).await
    }
}

#[derive(InputObject)]
pub struct CreateTerritoryInput {
    pub name: String,
    pub kind: TerritoryKind,
    pub parent: Option<ID>,
}

#[derive(InputObject)]
pub struct CreateOrganisationInput {
    pub name: String,
    pub kind: OrganisationKind,
    pub territory: Option<ID>,
    #[graphql(default)]
    pub abbreviations: Vec<String>,
}

#[derive(InputObject, Clone)]
pub struct EnsureOrganisationInput {
    pub name: String,
    pub kind: OrganisationKind,
    pub territory: Option<ID>,
    #[graphql(default)]
    pub abbreviations: Vec<String>,
}

pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    async fn create_territory(&self, ctx: &Context<'_>, input: CreateTerritoryInput) -> Result<Territory> {
        let name = input.name.trim();
        if name.is_empty() {
            return Err(ServiceError::invalid("input.name", "must not be empty").into());
        }
        let parent = input.parent.as_ref().map(|p| parse_id("input.parent", p)).transpose()?;
        let pool = ctx.data::<PgPool>()?;
        let actor = auth::actor(ctx);
        actor.require_in_scope(
            &[Role::Coordinator],
            "creating a territory",
            &ancestry(pool, parent).await?,
        )?;
        let id = Uuid::new_v4();
        let mut tx = pool.begin().await?;
        store::insert_territory(&mut *tx, id, name, input.kind.as_db(), parent).await?;
        let after = serde_json::json!({ "name": name, "kind": input.kind.as_db(), "parent": parent });
        audit::record(
            &mut tx,
            crate::NAME,
            actor,
            "createTerritory",
            ("Territory", id),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        let row = store::territories_by_ids(pool, &[id]).await?;
        let row = row
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::not_found("Territory", id))?;
        Ok(Territory(row))
    }

    /// Finds the territory with this name under `parent` (and kind), or creates it. Idempotent.
    async fn ensure_territory(
        &self,
        ctx: &Context<'_>,
        name: String,
        kind: TerritoryKind,
        parent: Option<ID>,
    ) -> Result<Territory> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ServiceError::invalid("name", "must not be empty").into());
        }
        let parent = parent.as_ref().map(|p| parse_id("parent", p)).transpose()?;
        let pool = ctx.data::<PgPool>()?;
        let actor = auth::actor(ctx);
        actor.require_in_scope(
            &[Role::Coordinator],
            "creating a territory",
            &ancestry(pool, parent).await?,
        )?;
        let mut tx = pool.begin().await?;
        let row = store::ensure_territory(&mut tx, name, kind.as_db(), parent).await?;
        let after = serde_json::json!({ "name": row.name, "kind": row.kind, "parent": row.parent_id });
        audit::record(
            &mut tx,
            crate::NAME,
            actor,
            "ensureTerritory",
            ("Territory", row.id),
            None,
            Some(after),
        )
        .await?;
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
        let mut wanted = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            let name = input.name.trim();
            if name.is_empty() {
                return Err(ServiceError::invalid(format!("inputs[{i}].name"), "must not be empty").into());
            }
            let territory = input
                .territory
                .as_ref()
                .map(|t| parse_id(&format!("inputs[{i}].territory"), t))
                .transpose()?;
            let abbreviations: Vec<String> = input
                .abbreviations
                .iter()
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect();
            wanted.push(store::WantedOrganisation {
                name: name.to_string(),
                kind: input.kind.as_db(),
                territory,
                abbreviations,
            });
        }
        let pool = ctx.data::<PgPool>()?;
        let actor = auth::actor(ctx);
        let mut territories: Vec<Option<Uuid>> = wanted.iter().map(|w| w.territory).collect();
        territories.sort();
        territories.dedup();
        for territory in territories {
            actor.require_in_scope(
                &[Role::Editor, Role::Coordinator],
                "creating organisations",
                &ancestry(pool, territory).await?,
            )?;
        }
        let mut tx = pool.begin().await?;
        let ids = store::ensure_organisations(&mut tx, &wanted).await?;
        for (id, w) in ids.iter().zip(&wanted) {
            let after = serde_json::json!({
                "name": w.name, "kind": w.kind, "territory": w.territory, "abbreviations": w.abbreviations
            });
            audit::record(
                &mut tx,
                crate::NAME,
                actor,
                "ensureOrganisations",
                ("Organisation", *id),
                None,
                Some(after),
            )
            .await?;
        }
        tx.commit().await?;
        let rows = store::organisations_by_ids(pool, &ids).await?;
        let by_id: std::collections::HashMap<Uuid, OrganisationRow> = rows.into_iter().map(|r| (r.id, r)).collect();
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
        let name = input.name.trim();
        if name.is_empty() {
            return Err(ServiceError::invalid("input.name", "must not be empty").into());
        }
        for (i, a) in input.abbreviations.iter().enumerate() {
            if a.trim().is_empty() {
                return Err(ServiceError::invalid(format!("input.abbreviations[{i}]"), "must not be empty").into());
            }
        }
        let territory = input
            .territory
            .as_ref()
            .map(|t| parse_id("input.territory", t))
            .transpose()?;
        let pool = ctx.data::<PgPool>()?;
        let actor = auth::actor(ctx);
        actor.require_in_scope(
            &[Role::Editor, Role::Coordinator],
            "creating an organisation",
            &ancestry(pool, territory).await?,
        )?;
        let id = Uuid::new_v4();
        let abbreviations: Vec<String> = input.abbreviations.iter().map(|a| a.trim().to_string()).collect();
        let mut tx = pool.begin().await?;
        store::insert_organisation(&mut *tx, id, name, input.kind.as_db(), territory).await?;
        store::insert_abbreviations(&mut *tx, id, &abbreviations).await?;
        let after = serde_json::json!({
            "name": name, "kind": input.kind.as_db(), "territory": territory, "abbreviations": abbreviations
        });
        audit::record(
            &mut tx,
            crate::NAME,
            actor,
            "createOrganisation",
            ("Organisation", id),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        let row = store::organisations_by_ids(pool, &[id]).await?;
        let row = row
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::not_found("Organisation", id))?;
        Ok(Organisation(row))
    }
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
