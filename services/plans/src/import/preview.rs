//! What an import of a document would do, without doing it: the page an editor confirms before
//! anything is stored (`Query.importPreview`, the web target's upload page).
//!
//! The document goes through the same reading, parsing, identity and diff as an import
//! ([`super::import_document_with`]); what differs is that nothing is written anywhere. The
//! territory path is looked up, not created (the parts that do not exist are listed as
//! `newTerritories`), organisations are listed as the document names them (an import finds or
//! creates them), and the transaction that reads the existing plan is rolled back.

use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::ServiceResult;
use roadmap_common::people::PeopleClient;

use super::{
    ImportOptions, ImportStatus, ImportSummary, Parties, flatten, measure_rows, parse, plan_row, require_scope,
    section_rows, summary,
};
use crate::{access, store};

/// An import that was not made.
#[derive(Clone, Debug)]
pub struct Preview {
    /// What the import would report (its `organisations` are empty: nothing was resolved).
    pub summary: ImportSummary,
    /// The plan the document is a version of, when it exists.
    pub existing_plan: Option<Uuid>,
    /// The parts of the territory path an import would create, from the top.
    pub new_territories: Vec<String>,
    /// The text the document was read as, one entry per line (what `line` numbers point into).
    pub source_lines: Vec<String>,
    /// Every measure, milestone and sub-row as the import would store it, in document order.
    pub rows: Vec<PreviewRow>,
}

/// One measure of a previewed import as parsed, next to its source line.
#[derive(Clone, Debug, async_graphql::SimpleObject)]
#[graphql(name = "ImportPreviewRow")]
pub struct PreviewRow {
    /// The parser's key (section-qualified number), what identifies the measure across versions.
    pub key: String,
    /// The title of its section.
    pub section: String,
    /// 0 for a measure, 1 for a sub-row of one.
    pub depth: i32,
    /// A control point rather than a measure.
    pub milestone: bool,
    pub number: String,
    pub title: String,
    /// The schedule as written.
    pub schedule_text: Option<String>,
    /// The last day it is due, as parsed from the schedule.
    pub due_on: Option<chrono::NaiveDate>,
    /// The responsible as written.
    pub responsible_text: Option<String>,
    /// The responsible organisations, roles and teams as parsed (full names).
    pub responsible: Vec<String>,
    /// 1-based line of `sourceLines` the row was read from.
    pub line: Option<i32>,
    /// That line's text (cells separated by tabs).
    pub source: Option<String>,
}

/// What importing `bytes` with `options` would do; writes nothing. The same permission as the
/// import itself is needed (an editor or coordinator whose scope covers the territory), and the
/// same errors come back for a file the import would refuse.
pub async fn preview_document(
    pool: &PgPool,
    people: &PeopleClient,
    bytes: &[u8],
    options: &ImportOptions,
) -> ServiceResult<Preview> {
    options.actor.require(&access::EDIT, "previewing an import")?;
    access::refuse_narrowed_import(&options.actor, options.level)?;
    let source = parse(bytes, options)?;
    let (territory, new_territories) = match options.territory.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(path) => people.find_territory_path(path).await?,
        None => (Vec::new(), Vec::new()),
    };
    // The deepest part that exists: a territory an import would create lies under it, so the
    // scope check is the one the import would make.
    let known = territory.last().copied();
    require_scope(people, options, known).await?;
    let territory = if new_territories.is_empty() { known } else { None };
    let time_zone = match territory {
        Some(t) => Some(people.territory_time_zone("territory", t).await?),
        None => None,
    };
    let flat = flatten(&source.doc);
    let parties = Parties::unresolved();

    let mut tx = pool.begin().await?;
    let existing = store::plan_by_source_key(&mut tx, &source.key).await?;
    if let Some(existing) = &existing
        && existing.territory_id != territory
    {
        require_scope(people, options, existing.territory_id).await?;
    }
    let (previous, unchanged) = match &existing {
        Some(p) => (
            store::plan_measures_for_update(&mut tx, p.id).await?,
            store::version_sha(&mut tx, p.id, p.version).await?.as_deref() == Some(source.sha.as_str()),
        ),
        None => (Vec::new(), false),
    };
    tx.rollback().await?;

    let plan = plan_row(&source, options, existing.as_ref(), (territory, time_zone), &parties);
    let sections = section_rows(&flat, plan.id);
    let measures = measure_rows(&flat, plan.id, &sections, &previous, existing.is_some(), &parties);
    let mut summary = summary(&source, &plan, existing.is_some(), &parties, &measures);
    if unchanged {
        summary.status = ImportStatus::Unchanged;
        summary.version -= 1;
        summary.changes = Default::default();
    }
    let source_lines: Vec<String> = source.text.lines().map(str::to_string).collect();
    let line_text = |line: Option<i32>| {
        line.and_then(|l| usize::try_from(l).ok())
            .and_then(|l| l.checked_sub(1))
            .and_then(|i| source_lines.get(i))
            .cloned()
    };
    let mut depths: Vec<i32> = Vec::with_capacity(flat.measures.len());
    let rows = flat
        .measures
        .iter()
        .zip(&measures.rows)
        .map(|((section, parent, m), row)| {
            let depth = parent.map(|p| depths[p] + 1).unwrap_or(0);
            depths.push(depth);
            PreviewRow {
                key: m.key.clone(),
                section: flat.sections[*section].1.clone(),
                depth,
                milestone: row.kind == "MILESTONE",
                number: row.number.clone(),
                title: row.title.clone(),
                schedule_text: row.schedule_text.clone(),
                due_on: row.due_on,
                responsible_text: row.responsible_text.clone(),
                responsible: m.responsible.iter().map(|p| p.full_name.clone()).collect(),
                line: row.source_line,
                source: line_text(row.source_line),
            }
        })
        .collect();
    Ok(Preview {
        summary,
        existing_plan: existing.map(|p| p.id),
        new_territories,
        rows,
        source_lines,
    })
}
