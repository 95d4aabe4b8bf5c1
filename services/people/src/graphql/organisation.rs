//! `Organisation`, `OrganisationKind` and the inputs that create or resolve organisations.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};

use crate::graphql::Territory;
use crate::loaders::Loaders;
use crate::store::OrganisationRow;

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

roadmap_common::db_enum!(OrganisationKind {
    Ministry => "MINISTRY",
    Government => "GOVERNMENT",
    Institute => "INSTITUTE",
    AssessmentCentre => "ASSESSMENT_CENTRE",
    MunicipalAuthority => "MUNICIPAL_AUTHORITY",
    MethodologicalCentre => "METHODOLOGICAL_CENTRE",
    School => "SCHOOL",
    Other => "OTHER",
});

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
