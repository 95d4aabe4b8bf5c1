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
    /// A class of a school (`9А`, 2024/25): grade, letter, school year and a count of pupils.
    Class,
    /// A subject team of a school ("МО учителей математики").
    SubjectTeam,
    /// A staff role ("классный руководитель 9А", "учитель химии 11Б"): a role, never a person.
    StaffRole,
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
    Class => "CLASS",
    SubjectTeam => "SUBJECT_TEAM",
    StaffRole => "STAFF_ROLE",
});

impl OrganisationKind {
    /// Classes, subject teams and staff roles: units under a school, never at the top.
    pub fn is_unit(self) -> bool {
        matches!(self, Self::Class | Self::SubjectTeam | Self::StaffRole)
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

    /// The unit this one belongs to: a class's or subject team's school, a staff role's class
    /// (or school); `null` at the top.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        let loaders = ctx.data::<Loaders>()?;
        Ok(loaders.organisation_by_id.load_one(parent).await?.map(Organisation))
    }

    /// The units above this one, nearest first (a staff role's class, then the school).
    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        let loaders = ctx.data::<Loaders>()?;
        let rows = loaders.ancestors_by_organisation.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Organisation).collect())
    }

    /// The units directly under this one (a school's classes, subject teams and staff roles; a
    /// class's staff roles), classes first by grade and letter; optionally of one kind and one
    /// school year (classes).
    async fn units(
        &self,
        ctx: &Context<'_>,
        kind: Option<OrganisationKind>,
        school_year: Option<String>,
    ) -> Result<Vec<Organisation>> {
        let loaders = ctx.data::<Loaders>()?;
        let rows = loaders.units_by_organisation.load_one(self.0.id).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .filter(|r| kind.is_none_or(|k| k.as_db() == r.kind))
            .filter(|r| {
                school_year
                    .as_deref()
                    .is_none_or(|y| r.school_year.as_deref() == Some(y))
            })
            .map(Organisation)
            .collect())
    }

    /// Classes: the grade (1-11).
    async fn grade(&self) -> Option<i32> {
        self.0.grade.map(i32::from)
    }

    /// Classes: the letter as written ("А", "Б").
    async fn letter(&self) -> Option<&str> {
        self.0.letter.as_deref()
    }

    /// Classes: the school year, "2024/25".
    async fn school_year(&self) -> Option<&str> {
        self.0.school_year.as_deref()
    }

    /// Classes: how many pupils the class has. A count: no pupil is ever a record.
    async fn pupils(&self) -> Option<i32> {
        self.0.pupils
    }

    /// Subject teams and staff roles: the subject ("химия").
    async fn subject(&self) -> Option<&str> {
        self.0.subject.as_deref()
    }
}

/// A class, subject team or staff role to create under `parent`.
#[derive(InputObject, Clone)]
pub struct CreateUnitInput {
    /// The school (for a class or subject team), or the school, class or subject team a staff
    /// role belongs to.
    pub parent: ID,
    /// CLASS, SUBJECT_TEAM or STAFF_ROLE.
    pub kind: OrganisationKind,
    /// The unit's fields: `name` (required for subject teams and staff roles; a class is named
    /// by grade and letter, "9А", unless given; refused when it looks like a personal name),
    /// and for classes `grade`, `letter`, `schoolYear`, `pupils`; `subject` for the others.
    #[graphql(flatten)]
    pub fields: UpdateUnitInput,
}

/// A unit's fields: what to change in a unit (absent fields stay as they are), and what a new
/// one says (`CreateUnitInput`).
#[derive(InputObject, Clone, Debug, Default)]
pub struct UpdateUnitInput {
    /// Required for subject teams and staff roles ("МО учителей математики", "учитель химии
    /// 11Б"); a class is named by its grade and letter ("9А") unless given. Refused when it looks
    /// like a personal name: units are roles, not people.
    pub name: Option<String>,
    /// Classes: 1-11.
    pub grade: Option<i32>,
    /// Classes: one or two Cyrillic capital letters ("А", "Б").
    pub letter: Option<String>,
    /// Classes: "2024/25".
    pub school_year: Option<String>,
    /// Classes: the number of pupils (0-60), a count.
    pub pupils: Option<i32>,
    /// Subject teams and staff roles: the subject as written ("химия").
    pub subject: Option<String>,
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
