//! Importing a roadmap document as a plan: parse (crate `roadmap-import`), resolve territories
//! and organisations in the people subgraph, then write the plan in one transaction.
//!
//! Identity: a document is the same plan when its source key matches. The key is `--key` when
//! given, else the approving act (kind, number, date) when the document states one, else its
//! title and period. Re-importing identical text changes nothing; changed text becomes a new
//! version of the same plan, keeping the ids of measures whose parser key is unchanged, and the
//! report lists what was added, removed and changed.
//!
//! Formats: the bytes go through `roadmap_import::read_document` (DOCX, ODT, ODS, XLSX, CSV/TSV,
//! PDF with a text layer, plain text, detected from the content); the text it renders is what
//! the parser reads and what the version stores, and "identical" means identical rendered text.
//! A file the readers refuse is refused with their message, which names the file. The derived
//! columns of a plan export (`crate::export`, headers ending in "[вычислено]") are dropped
//! before parsing, so an export imported into its plan reads as the document it came from; as
//! an export carries no indicator tables, its import leaves the plan's indicator targets alone.
//!
//! All or nothing: everything is parsed and validated before anything is written; the plan, its
//! sections, measures, responsible links, lint findings and source text are written in one
//! transaction. Territories and organisations are resolved first, idempotently, in the people
//! subgraph: reference data, which a failed import may leave behind but never duplicates.
//!
//! A `PLAN_IMPORTED` event (new plan or new version, with the approving act) is written to the
//! outbox in the same transaction; an unchanged re-import writes nothing and emits nothing.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use roadmap_common::{ServiceError, ServiceResult};
use roadmap_import::{Level, MeasureKind, ParsedDocument, PartyKind, Schedule};

use roadmap_common::auth::Actor;

use roadmap_common::people::{OrganisationRef, PeopleClient};

use crate::graphql::{PlanLevel, PlanState};
use crate::indicators_client::IndicatorsClient;
use crate::store::{self, LintRow, MeasureRow, PlanRow, SectionRow, VersionRow};
use crate::{access, outbox};

mod preview;
pub use preview::{Preview, PreviewRow, preview_document};

/// What the caller knows better than the document.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    pub level: Option<PlanLevel>,
    /// "Region/Municipality[/Settlement]".
    pub territory: Option<String>,
    /// Name of the owning organisation (created in the plan's territory when missing).
    pub owner: Option<String>,
    /// Overrides the derived source key.
    pub key: Option<String>,
    pub file_name: Option<String>,
    /// State of a new plan (default: `APPROVED` when the document states its approving act).
    pub state: Option<PlanState>,
    /// Who imports: must be an editor or coordinator whose scope covers the plan's territory
    /// (the default, anonymous, may not import; the command line acts as `service:cli`).
    pub actor: Actor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ImportStatus {
    /// A new plan.
    Created,
    /// The same text was imported before: nothing changed.
    Unchanged,
    /// A new version of an existing plan.
    Updated,
}

/// Measure keys; what counts as changed is `crate::versions::text_changed`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResolvedName {
    pub name: String,
    pub abbreviation: Option<String>,
    pub organisation_id: Uuid,
}

/// The import summary, printed by the CLI, returned by the mutation, stored with the version.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportSummary {
    pub status: ImportStatus,
    pub plan_id: Uuid,
    pub version: i32,
    pub source_key: String,
    pub title: String,
    pub level: String,
    pub sections: usize,
    pub measures: usize,
    pub child_measures: usize,
    pub milestones: usize,
    /// Schedule kind → number of measures (children and milestones included).
    pub deadlines_by_kind: BTreeMap<String, usize>,
    pub organisations: Vec<ResolvedName>,
    /// Abbreviations and names the document uses without defining them.
    pub unresolved_names: Vec<String>,
    pub lint: Vec<roadmap_import::LintFinding>,
    pub indicator_targets: Vec<roadmap_import::IndicatorTarget>,
    pub changes: Changes,
    /// The format the file was read as ("DOCX", "plain text", ...); empty in summaries stored
    /// before formats other than text were read.
    #[serde(default)]
    pub format: String,
    /// Headers of the columns kept per measure as extra columns (`Measure.extraColumns`).
    #[serde(default)]
    pub extra_columns: Vec<String>,
    /// Derived columns of a plan export, ignored (see the module docs).
    #[serde(default)]
    pub ignored_columns: Vec<String>,
}

/// Guesses the kind of an organisation from its name; `OTHER` when nothing matches.
pub fn organisation_kind(name: &str) -> &'static str {
    let n = name.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if has(&["министерств", "минобр", "минпрос"]) {
        "MINISTRY"
    } else if has(&["правительств", "губернатор"]) {
        "GOVERNMENT"
    } else if has(&["оценки качества", "цоко", "рцоко", "кцоко", "мониторинг"]) {
        "ASSESSMENT_CENTRE"
    } else if has(&[
        "институт",
        "иро",
        "ипк",
        "повышения квалификации",
        "университет",
        "цнппм",
    ]) {
        "INSTITUTE"
    } else if has(&["методическ", "имц", "рцо", "ресурсный центр"]) {
        "METHODOLOGICAL_CENTRE"
    } else if has(&[
        "управлени",
        "отдел образования",
        "комитет",
        "моуо",
        "омсу",
        "департамент",
    ]) {
        "MUNICIPAL_AUTHORITY"
    } else if has(&[
        "школ",
        "сош",
        "оош",
        "гимнази",
        "лицей",
        "мбоу",
        "моу",
        "мкоу",
        "общеобразовательн",
    ]) {
        "SCHOOL"
    } else {
        "OTHER"
    }
}

fn level_of(level: Level) -> PlanLevel {
    match level {
        Level::Federal => PlanLevel::Federal,
        Level::Regional => PlanLevel::Regional,
        Level::Municipal => PlanLevel::Municipal,
        Level::School => PlanLevel::School,
    }
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The identity of a document across re-imports (see the module docs).
pub fn source_key(doc: &ParsedDocument, explicit: Option<&str>) -> ServiceResult<String> {
    if let Some(k) = explicit.map(str::trim).filter(|k| !k.is_empty()) {
        return Ok(format!("key:{k}"));
    }
    if let Some(a) = &doc.meta.approval
        && let Some(number) = &a.number
    {
        let date = a.date.map(|d| d.to_string()).unwrap_or_default();
        return Ok(format!(
            "act:{}:{}:{date}",
            a.kind.as_deref().unwrap_or(""),
            normalise(number)
        ));
    }
    match &doc.meta.title {
        Some(title) => {
            let period = doc
                .meta
                .period
                .as_ref()
                .map(|p| format!("{}..{}", p.start, p.end))
                .unwrap_or_default();
            Ok(format!("title:{}:{period}", normalise(title)))
        }
        None => Err(ServiceError::invalid(
            "document",
            "states neither an approving act nor a title, so re-imports cannot be recognised; pass a key",
        )),
    }
}

/// First day work starts and the last day it is due, from the structured schedule.
pub(crate) fn schedule_bounds(schedule: &Schedule) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let spans: Vec<_> = schedule.items.iter().filter_map(|i| i.span()).collect();
    (spans.iter().map(|s| s.start).min(), spans.iter().map(|s| s.end).max())
}

pub(crate) fn enum_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn opt(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

struct Flattened<'a> {
    /// (section index, parent index in `measures`, measure)
    measures: Vec<(usize, Option<usize>, &'a roadmap_import::Measure)>,
    sections: Vec<(String, String)>,
}

/// Document order: sections with their measures and children, then control points in a section
/// of their own.
fn flatten(doc: &ParsedDocument) -> Flattened<'_> {
    fn walk<'a>(
        out: &mut Vec<(usize, Option<usize>, &'a roadmap_import::Measure)>,
        section: usize,
        parent: Option<usize>,
        m: &'a roadmap_import::Measure,
    ) {
        let index = out.len();
        out.push((section, parent, m));
        for child in &m.children {
            walk(out, section, Some(index), child);
        }
    }
    let mut measures = Vec::new();
    let mut sections = Vec::new();
    for s in &doc.sections {
        let si = sections.len();
        sections.push((s.number.clone().unwrap_or_default(), s.title.clone()));
        for m in &s.measures {
            walk(&mut measures, si, None, m);
        }
    }
    if !doc.milestones.is_empty() {
        let si = sections.len();
        sections.push((String::new(), "Контрольные точки".to_string()));
        for m in &doc.milestones {
            walk(&mut measures, si, None, m);
        }
    }
    Flattened { measures, sections }
}

fn org_key(name: &str, abbreviation: Option<&str>) -> String {
    abbreviation.map(str::to_string).unwrap_or_else(|| normalise(name))
}

/// Imports one document (bytes as read from the file), without handing its indicator targets to
/// the indicators subgraph (see [`import_document_with`]).
pub async fn import_document(
    pool: &PgPool,
    people: &PeopleClient,
    bytes: &[u8],
    options: &ImportOptions,
) -> ServiceResult<ImportSummary> {
    import_document_with(pool, people, None, bytes, options).await
}

/// Imports one document; when `indicators` is given and the import changed something, the
/// document's baselines and targets then replace the plan's in the indicators subgraph. That step
/// runs after the plan's transaction committed: best-effort (a failure is logged, the import
/// stands) and idempotent, so re-importing the document retries it.
pub async fn import_document_with(
    pool: &PgPool,
    people: &PeopleClient,
    indicators: Option<&IndicatorsClient>,
    bytes: &[u8],
    options: &ImportOptions,
) -> ServiceResult<ImportSummary> {
    options.actor.require(&access::EDIT, "importing a plan")?;
    access::refuse_narrowed_import(&options.actor, options.level)?;
    let source = parse(bytes, options)?;
    // Identical re-imports stop here, before touching the people subgraph.
    if let Some(summary) = unchanged(pool, &source).await? {
        return Ok(summary);
    }
    let territory = resolve_territory(people, options).await?;
    let time_zone = match territory {
        Some(t) => Some(people.territory_time_zone("territory", t).await?),
        None => None,
    };
    let flat = flatten(&source.doc);
    let parties = resolve_parties(people, &flat, options.owner.as_deref(), territory).await?;

    let mut tx = pool.begin().await?;
    let existing = store::plan_by_source_key(&mut tx, &source.key).await?;
    if let Some(existing) = &existing
        && existing.territory_id != territory
    {
        // Re-importing somebody else's plan under one's own territory is still changing theirs.
        require_scope(people, options, existing.territory_id).await?;
    }
    let previous = match &existing {
        Some(p) => store::plan_measures_for_update(&mut tx, p.id).await?,
        None => Vec::new(),
    };
    let plan = plan_row(&source, options, existing.as_ref(), (territory, time_zone), &parties);
    let sections = section_rows(&flat, plan.id);
    let measures = measure_rows(&flat, plan.id, &sections, &previous, existing.is_some(), &parties);
    let lint = lint_rows(&source.doc, plan.id);
    let summary = summary(&source, &plan, existing.is_some(), &parties, &measures);
    let version = Version {
        plan: &plan,
        sections: &sections,
        measures: &measures,
        lint: &lint,
        summary: &summary,
    };
    write_version(&mut tx, &source, options, existing.as_ref(), &version).await?;
    tx.commit().await?;
    if let Some(indicators) = indicators
        && source.ignored_columns.is_empty()
    {
        hand_targets_to_indicators(indicators, &plan, &summary).await;
    }
    Ok(summary)
}

/// A parsed document and what identifies it.
struct Source {
    doc: ParsedDocument,
    /// The text the reader rendered (the file itself for plain text): what the version stores.
    text: String,
    /// The format the file was read as.
    format: roadmap_import::Format,
    /// Derived columns of a plan export, dropped before parsing.
    ignored_columns: Vec<String>,
    level: PlanLevel,
    title: String,
    key: String,
    sha: String,
}

/// Reads and parses the document and derives its level, title, source key and digest; nothing
/// is read from or written to the database yet.
fn parse(bytes: &[u8], options: &ImportOptions) -> ServiceResult<Source> {
    let file = options
        .file_name
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .unwrap_or("document");
    // The readers' messages start with the file name; the field says it once.
    let read =
        roadmap_import::read_document(file, bytes).map_err(|e| ServiceError::invalid(file, e.kind.to_string()))?;
    let (doc, ignored_columns) = parse_text(file, &read.text)?;
    let level = match (options.level, &doc.meta.level) {
        (Some(l), _) => l,
        (None, Some(guess)) => level_of(guess.level),
        (None, None) => {
            return Err(ServiceError::invalid(
                "level",
                "the document does not say its level; pass one",
            ));
        }
    };
    let title = doc
        .meta
        .title
        .clone()
        .ok_or_else(|| ServiceError::invalid("document", "no title found before the table"))?;
    let key = source_key(&doc, options.key.as_deref())?;
    Ok(Source {
        sha: hex::encode(Sha256::digest(read.text.as_bytes())),
        format: read.format,
        text: read.text,
        ignored_columns,
        doc,
        level,
        title,
        key,
    })
}

/// Parses a document's rendered text as the import does: the derived columns of a plan export
/// dropped (returned), then the parser; its errors name `file`.
fn parse_text(file: &str, text: &str) -> ServiceResult<(ParsedDocument, Vec<String>)> {
    let (text, ignored) = crate::export::strip_derived_columns(text);
    let doc = roadmap_import::parse_document(&text).map_err(|e| ServiceError::invalid(file, e.to_string()))?;
    Ok((doc, ignored))
}

/// The measure rows (document order, ids fresh, no sections) the import builds from a stored
/// version's text, for comparing versions (`crate::versions`); `name` names the version in a
/// parse error.
pub fn version_rows(name: &str, text: &str, plan_id: Uuid) -> ServiceResult<Vec<MeasureRow>> {
    let (doc, _) = parse_text(name, text)?;
    let flat = flatten(&doc);
    Ok(flat
        .measures
        .iter()
        .enumerate()
        .map(|(position, (_, _, m))| measure_row(m, plan_id, position, None))
        .collect())
}

/// The stored summary, marked unchanged, when the plan's current version has the same text.
async fn unchanged(pool: &PgPool, source: &Source) -> ServiceResult<Option<ImportSummary>> {
    let mut tx = pool.begin().await?;
    let stored = match store::plan_by_source_key(&mut tx, &source.key).await? {
        Some(existing)
            if store::version_sha(&mut tx, existing.id, existing.version)
                .await?
                .as_deref()
                == Some(source.sha.as_str()) =>
        {
            store::version_summary(pool, existing.id, existing.version).await?
        }
        _ => None,
    };
    tx.rollback().await?;
    let Some(stored) = stored else {
        return Ok(None);
    };
    let mut summary = summary_from_json(stored)?;
    summary.status = ImportStatus::Unchanged;
    summary.changes = Changes::default();
    // The same text may come from another file (an XLSX renders as the CSV of the same table).
    summary.format = source.format.to_string();
    summary.ignored_columns = source.ignored_columns.clone();
    Ok(Some(summary))
}

/// The territory the options name, created in the people subgraph when missing, after checking
/// that the actor's scope covers it.
async fn resolve_territory(people: &PeopleClient, options: &ImportOptions) -> ServiceResult<Option<Uuid>> {
    let territory = match options.territory.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(path) => Some(people.ensure_territory_path(path).await?),
        None => None,
    };
    require_scope(people, options, territory).await?;
    Ok(territory)
}

/// Refuses unless the actor may import into `territory`; an actor without a territory (national
/// scope) needs no call to the people subgraph.
async fn require_scope(people: &PeopleClient, options: &ImportOptions, territory: Option<Uuid>) -> ServiceResult<()> {
    if options.actor.territory.is_none() {
        return Ok(());
    }
    let ancestry = match territory {
        Some(t) => people.territory_ancestry(t).await?,
        None => Vec::new(),
    };
    options
        .actor
        .require_in_scope(&access::EDIT, "importing a plan", &ancestry)
}

/// The organisations of a document, resolved to ids of the people subgraph.
struct Parties {
    /// One per abbreviation (or name), in order of first mention; the owner last when new.
    wanted: Vec<OrganisationRef>,
    /// [`org_key`] → index in `wanted` and `ids`.
    index: HashMap<String, usize>,
    ids: Vec<Uuid>,
    owner: Option<Uuid>,
}

impl Parties {
    /// No organisation resolved (an import's preview, which creates none).
    fn unresolved() -> Self {
        Parties {
            owner: None,
            wanted: Vec::new(),
            index: HashMap::new(),
            ids: Vec::new(),
        }
    }

    /// The organisation a responsible party of the document resolved to.
    fn id_of(&self, party: &roadmap_import::Party) -> Option<Uuid> {
        let key = org_key(&party.full_name, party.abbreviation.as_deref());
        self.index.get(&key).and_then(|i| self.ids.get(*i)).copied()
    }
}

/// Resolves every responsible organisation and the owner in one call to the people subgraph
/// (created in `territory` when missing).
async fn resolve_parties(
    people: &PeopleClient,
    flat: &Flattened<'_>,
    owner: Option<&str>,
    territory: Option<Uuid>,
) -> ServiceResult<Parties> {
    let mut wanted: Vec<OrganisationRef> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut want = |name: &str, abbreviation: Option<&str>| {
        *index.entry(org_key(name, abbreviation)).or_insert_with(|| {
            wanted.push(OrganisationRef {
                name: name.to_string(),
                kind: organisation_kind(name),
                territory,
                abbreviations: abbreviation.map(str::to_string).into_iter().collect(),
            });
            wanted.len() - 1
        })
    };
    for (_, _, m) in &flat.measures {
        for p in m.responsible.iter().filter(|p| p.kind == PartyKind::Organisation) {
            want(&p.full_name, p.abbreviation.as_deref());
        }
    }
    let owner_index = owner
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|owner| want(owner, None));
    let ids = people.ensure_organisations(&wanted).await?;
    Ok(Parties {
        owner: owner_index.and_then(|i| ids.get(i).copied()),
        wanted,
        index,
        ids,
    })
}

/// The plan row of this version: identity and state kept from `existing`, the rest from the
/// document.
fn plan_row(
    source: &Source,
    options: &ImportOptions,
    existing: Option<&PlanRow>,
    (territory, time_zone): (Option<Uuid>, Option<String>),
    parties: &Parties,
) -> PlanRow {
    let meta = &source.doc.meta;
    let approval = meta.approval.as_ref();
    PlanRow {
        id: existing.map(|p| p.id).unwrap_or_else(Uuid::new_v4),
        title: source.title.clone(),
        level: source.level.as_db().to_string(),
        period_start: meta.period.as_ref().map(|p| p.start),
        period_end: meta.period.as_ref().map(|p| p.end),
        period_text: meta.period.as_ref().map(|p| p.raw.clone()),
        owner_organisation_id: parties.owner,
        territory_id: territory,
        source_key: Some(source.key.clone()),
        version: existing.map(|p| p.version + 1).unwrap_or(1),
        approval_kind: approval.and_then(|a| a.kind.clone()),
        approval_number: approval.and_then(|a| a.number.clone()),
        approval_date: approval.and_then(|a| a.date),
        approval_signatory: approval.and_then(|a| a.signatory.clone()),
        goals: meta.goals.clone(),
        state: match (existing, options.state) {
            (Some(p), _) => p.state.clone(),
            (None, Some(state)) => state.as_db().to_string(),
            (None, None) if approval.is_some() => PlanState::Approved.as_db().to_string(),
            (None, None) => PlanState::Draft.as_db().to_string(),
        },
        time_zone,
    }
}

/// Fresh section rows (sections are replaced as a whole by each version).
fn section_rows(flat: &Flattened<'_>, plan_id: Uuid) -> Vec<SectionRow> {
    flat.sections
        .iter()
        .enumerate()
        .map(|(i, (number, title))| SectionRow {
            id: Uuid::new_v4(),
            plan_id,
            position: i as i32,
            number: number.clone(),
            title: title.clone(),
        })
        .collect()
}

/// The measures of a version, what they are responsible for and how they differ from the
/// previous version.
struct MeasureRows {
    rows: Vec<MeasureRow>,
    /// (measure, organisation, position among the measure's organisations)
    responsible: Vec<(Uuid, Uuid, i32)>,
    deadlines_by_kind: BTreeMap<String, usize>,
    changes: Changes,
}

/// Builds the measure rows in document order, keeping the id of each measure whose key the
/// previous version has, and diffs them against `previous` (nothing is "added" to a new plan).
fn measure_rows(
    flat: &Flattened<'_>,
    plan_id: Uuid,
    sections: &[SectionRow],
    previous: &[MeasureRow],
    reimport: bool,
    parties: &Parties,
) -> MeasureRows {
    let previous_by_key: HashMap<&str, &MeasureRow> = previous
        .iter()
        .filter_map(|m| m.key.as_deref().map(|k| (k, m)))
        .collect();
    let mut out = MeasureRows {
        rows: Vec::with_capacity(flat.measures.len()),
        responsible: Vec::new(),
        deadlines_by_kind: BTreeMap::new(),
        changes: Changes::default(),
    };
    for (position, (section, parent, m)) in flat.measures.iter().enumerate() {
        let old = previous_by_key.get(m.key.as_str()).copied();
        let row = MeasureRow {
            section_id: Some(sections[*section].id),
            parent_measure_id: parent.map(|p| out.rows[p].id),
            ..measure_row(m, plan_id, position, old.map(|p| p.id))
        };
        if let Some(kind) = &row.schedule_kind {
            *out.deadlines_by_kind.entry(kind.clone()).or_default() += 1;
        }
        match old {
            None if reimport => out.changes.added.push(m.key.clone()),
            Some(old) if crate::versions::text_changed(old, &row) => out.changes.changed.push(m.key.clone()),
            _ => {}
        }
        let mut seen = HashSet::new();
        for p in m.responsible.iter().filter(|p| p.kind == PartyKind::Organisation) {
            if let Some(org) = parties.id_of(p)
                && seen.insert(org)
            {
                out.responsible.push((row.id, org, seen.len() as i32 - 1));
            }
        }
        out.rows.push(row);
    }
    let new_keys: HashSet<&str> = out.rows.iter().filter_map(|r| r.key.as_deref()).collect();
    out.changes.removed = previous
        .iter()
        .filter_map(|m| m.key.as_deref())
        .filter(|k| !new_keys.contains(k))
        .map(str::to_string)
        .collect();
    out
}

/// One parsed measure as a row (section and parent are set by the caller).
fn measure_row(m: &roadmap_import::Measure, plan_id: Uuid, position: usize, id: Option<Uuid>) -> MeasureRow {
    let (starts_on, due_on) = schedule_bounds(&m.schedule);
    MeasureRow {
        id: id.unwrap_or_else(Uuid::new_v4),
        plan_id,
        section_id: None,
        parent_measure_id: None,
        position: position as i32,
        number: m.number.clone().unwrap_or_default(),
        title: m.title.clone(),
        schedule_text: opt(&m.schedule_raw),
        expected_result: opt(&m.expected_result),
        responsible_text: opt(&m.responsible_raw),
        key: Some(m.key.clone()),
        kind: if m.kind == MeasureKind::Milestone {
            "MILESTONE"
        } else {
            "MEASURE"
        }
        .to_string(),
        schedule: serde_json::to_value(&m.schedule).ok(),
        schedule_kind: Some(enum_text(&m.schedule.kind)),
        starts_on,
        due_on,
        reporting_forms: opt(&m.reporting_forms),
        notes: opt(&m.notes),
        indicator_text: opt(&m.indicator),
        targets: serde_json::to_value(&m.targets).unwrap_or_default(),
        parties: serde_json::to_value(&m.responsible).unwrap_or_default(),
        source_line: i32::try_from(m.line).ok(),
        extra: serde_json::to_value(&m.extra).unwrap_or_default(),
    }
}

fn lint_rows(doc: &ParsedDocument, plan_id: Uuid) -> Vec<LintRow> {
    doc.lint
        .iter()
        .enumerate()
        .map(|(i, f)| LintRow {
            plan_id,
            position: i as i32,
            code: f.code.clone(),
            severity: enum_text(&f.severity).to_uppercase(),
            message: f.message.clone(),
            line: i32::try_from(f.line).ok(),
            measure_number: f.measure_number.clone(),
        })
        .collect()
}

fn summary(
    source: &Source,
    plan: &PlanRow,
    reimport: bool,
    parties: &Parties,
    measures: &MeasureRows,
) -> ImportSummary {
    let doc = &source.doc;
    ImportSummary {
        status: if reimport {
            ImportStatus::Updated
        } else {
            ImportStatus::Created
        },
        plan_id: plan.id,
        version: plan.version,
        source_key: source.key.clone(),
        title: source.title.clone(),
        level: source.level.as_db().to_string(),
        sections: doc.sections.len(),
        measures: doc.stats.measures,
        child_measures: doc.stats.child_measures,
        milestones: doc.milestones.len(),
        deadlines_by_kind: measures.deadlines_by_kind.clone(),
        organisations: parties
            .wanted
            .iter()
            .zip(&parties.ids)
            .map(|(w, id)| ResolvedName {
                name: w.name.clone(),
                abbreviation: w.abbreviations.first().cloned(),
                organisation_id: *id,
            })
            .collect(),
        unresolved_names: doc
            .lint
            .iter()
            .filter(|f| f.code == "unresolved-abbreviation")
            .map(|f| f.message.clone())
            .collect(),
        lint: doc.lint.clone(),
        indicator_targets: doc.indicator_targets.clone(),
        changes: measures.changes.clone(),
        format: source.format.to_string(),
        extra_columns: doc.stats.extra_columns.clone(),
        ignored_columns: source.ignored_columns.clone(),
    }
}

/// Everything one version writes.
struct Version<'a> {
    plan: &'a PlanRow,
    sections: &'a [SectionRow],
    measures: &'a MeasureRows,
    lint: &'a [LintRow],
    summary: &'a ImportSummary,
}

/// Writes the version in the import's transaction: the plan's rows (replacing the previous
/// version's, keeping measure ids), the source text with its summary, the audit entry and the
/// `PLAN_IMPORTED` event.
async fn write_version(
    tx: &mut Transaction<'_, Postgres>,
    source: &Source,
    options: &ImportOptions,
    existing: Option<&PlanRow>,
    v: &Version<'_>,
) -> ServiceResult<()> {
    let plan_id = v.plan.id;
    if existing.is_some() {
        store::update_plan_meta(tx, v.plan).await?;
        store::delete_plan_responsible(tx, plan_id).await?;
        let keep: Vec<Uuid> = v.measures.rows.iter().map(|r| r.id).collect();
        store::delete_except(tx, store::PlanPart::Measures, plan_id, &keep).await?;
        store::park_sections(tx, plan_id).await?;
    } else {
        store::insert_plan(tx, v.plan).await?;
    }
    store::insert_sections(tx, v.sections).await?;
    store::insert_measures(tx, &v.measures.rows).await?;
    let keep_sections: Vec<Uuid> = v.sections.iter().map(|s| s.id).collect();
    store::delete_except(tx, store::PlanPart::Sections, plan_id, &keep_sections).await?;
    store::insert_responsible(tx, &v.measures.responsible).await?;
    store::replace_lint(tx, plan_id, v.lint).await?;
    let changes = serde_json::to_value(&v.measures.changes).map_err(ServiceError::internal)?;
    store::insert_version(
        tx,
        &VersionRow {
            plan_id,
            version: v.plan.version,
            sha256: &source.sha,
            source_text: &source.text,
            file_name: options.file_name.as_deref(),
            summary: serde_json::to_value(v.summary).map_err(ServiceError::internal)?,
            changes: changes.clone(),
        },
    )
    .await?;
    let mut after = access::plan_json(v.plan);
    after["changes"] = changes.clone();
    roadmap_common::audit::record(
        tx,
        crate::NAME,
        &options.actor,
        "importRoadmap",
        ("Plan", plan_id),
        existing.map(access::plan_json),
        Some(after),
    )
    .await?;
    outbox::plan_imported(tx, v.plan, &enum_text(&v.summary.status), &changes).await
}

/// Hands the document's baselines and targets to the indicators subgraph when there are any, or
/// when a new version may have dropped some; a failure is logged and the import stands.
async fn hand_targets_to_indicators(indicators: &IndicatorsClient, plan: &PlanRow, summary: &ImportSummary) {
    if summary.indicator_targets.is_empty() && summary.status != ImportStatus::Updated {
        return;
    }
    let recorded = indicators
        .record_plan_targets(plan.id, plan.territory_id, plan.period_end, &summary.indicator_targets)
        .await;
    if let Err(err) = recorded {
        tracing::warn!(plan = %plan.id, error = %err.message(), "indicator targets not recorded; re-import to retry");
        if let ServiceError::Internal(cause) = &err {
            tracing::warn!(plan = %plan.id, %cause, "indicator targets: cause");
        }
    }
}

fn summary_from_json(value: serde_json::Value) -> ServiceResult<ImportSummary> {
    serde_json::from_value(value).map_err(ServiceError::internal)
}

/// The rows an import of `doc` writes (sections, measures) and the changes against `previous`,
/// without a database or the people subgraph: for tests of what re-imports report.
#[cfg(test)]
pub(crate) fn rows_of(
    doc: &ParsedDocument,
    plan_id: Uuid,
    previous: &[MeasureRow],
) -> (Vec<SectionRow>, Vec<MeasureRow>, Changes) {
    let parties = Parties::unresolved();
    let flat = flatten(doc);
    let sections = section_rows(&flat, plan_id);
    let measures = measure_rows(&flat, plan_id, &sections, previous, !previous.is_empty(), &parties);
    (sections, measures.rows, measures.changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisation_kinds_from_names() {
        assert_eq!(
            organisation_kind("Министерство образования и науки Забайкальского края"),
            "MINISTRY"
        );
        assert_eq!(
            organisation_kind("ГУ ДПО «Институт развития образования Забайкальского края»"),
            "INSTITUTE"
        );
        assert_eq!(organisation_kind("МБУ ИМЦ"), "METHODOLOGICAL_CENTRE");
        assert_eq!(
            organisation_kind("Управление образования администрации района"),
            "MUNICIPAL_AUTHORITY"
        );
        assert_eq!(organisation_kind("МБОУ СОШ № 8"), "SCHOOL");
        assert_eq!(organisation_kind("Совет ветеранов"), "OTHER");
    }
}
