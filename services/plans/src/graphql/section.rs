//! `Section`: a numbered part of a plan.

use async_graphql::{Context, ID, Object, Result};

use crate::graphql::Measure;
use crate::loaders::Loaders;
use crate::store::SectionRow;

pub struct Section(pub SectionRow);

#[Object]
impl Section {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// As written ("1", "III"); empty when the document has none.
    async fn number(&self) -> &str {
        &self.0.number
    }

    async fn title(&self) -> &str {
        &self.0.title
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
