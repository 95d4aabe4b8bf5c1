//! `Section`: a numbered part of a plan; `Heading`: the id, number and title that sections and
//! measures share (flattened into both, so it is no type of its own in the schema).

use async_graphql::{Context, ID, Object, Result};
use uuid::Uuid;

use crate::graphql::Measure;
use crate::loaders::Loaders;
use crate::store::SectionRow;

pub struct Section(pub SectionRow);

/// A section's or a measure's id and its heading in the document.
pub struct Heading<'a> {
    pub id: Uuid,
    pub number: &'a str,
    pub title: &'a str,
}

impl<'a> Heading<'a> {
    pub fn new(id: Uuid, number: &'a str, title: &'a str) -> Self {
        Heading { id, number, title }
    }
}

#[Object]
impl Heading<'_> {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The number exactly as written in the document (a measure's "1.3", "III.5", "5.", a
    /// section's "1", "III"); empty when the document has none.
    async fn number(&self) -> &str {
        self.number
    }

    async fn title(&self) -> &str {
        self.title
    }
}

#[Object]
impl Section {
    #[graphql(flatten)]
    async fn heading(&self) -> Heading<'_> {
        Heading::new(self.0.id, &self.0.number, &self.0.title)
    }

    async fn position(&self) -> i32 {
        self.0.position
    }

    /// Top-level measures of the section (children hang under their measure).
    async fn measures(&self, ctx: &Context<'_>) -> Result<Vec<Measure>> {
        let rows = ctx.data::<Loaders>()?.measures_by_section.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Measure).collect())
    }
}
