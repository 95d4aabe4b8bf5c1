//! Importing a roadmap document as a plan: parse (crate `roadmap-import`), resolve territories
//! and organisations in the people subgraph, then write the plan in one transaction.
//!
//! Identity: a document is the same plan when its source key matches. The key is `--key` when
//! given, else the approving act (kind, number, date) when the document states one, else its
//! title and period. Re-importing identical text changes nothing; changed text becomes a new
//! version of the same plan, keeping the ids of measures whose parser key is unchanged, and the
//! report lists what was added, removed and changed.
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
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::{ServiceError, ServiceResult};
use roadmap_import::{Level, MeasureKind, ParsedDocument, PartyKind, Schedule};

use roadmap_common::auth::Actor;

use crate::access;
use crate::graphql::{PlanLevel, PlanState};
use crate::indicators_client::IndicatorsClient;
use crate::people_client::{OrganisationRef, PeopleClient};
use crate::store::{self, LintRow, MeasureRow, PlanRow, SectionRow, VersionRow};

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

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
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
fn schedule_bounds(schedule: &Schedule) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let spans: Vec<_> = schedule.items.iter().filter_map(|i| i.span()).collect();
    (spans.iter().map(|s| s.start).min(), spans.iter().map(|s| s.end).max())
}

fn enum_text<T: Serialize>(value: &T) -> String {
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
    let doc = roadmap_import::parse_document_bytes(bytes).map_err(|e| {
        ServiceError::invalid(
            options.file_name.clone().unwrap_or_else(|| "document".to_string()),
            e.to_string(),
        )
    })?;
    // parse_document_bytes accepted it, so it is UTF-8.
    let text = String::from_utf8_lossy(bytes);
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
    let source_key = source_key(&doc, options.key.as_deref())?;
    let sha = hex::encode(Sha256::digest(bytes));

    // Short-cut for identical re-imports, before touching the people subgraph.
    {
        let mut tx = pool.begin().await?;
        if let Some(existing) = store::plan_by_source_key(&mut tx, &source_key).await?
            && store::version_sha(&mut tx, existing.id, existing.version)
                .await?
                .as_deref()
                == Some(sha.as_str())
            && let Some(summary) = store::version_summary(pool, existing.id, existing.version).await?
        {
            tx.rollback().await?;
            let mut summary: ImportSummary = summary_from_json(summary)?;
            summary.status = ImportStatus::Unchanged;
            summary.changes = Changes::default();
            return Ok(summary);
        }
        tx.rollback().await?;
    }

    let territory = match options.territory.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(path) => Some(people.ensure_territory_path(path).await?),
        None => None,
    };
    let in_scope = |ancestry: Vec<Uuid>| {
        options
            .actor
            .require_in_scope(&access::EDIT, "importing a plan", &ancestry)
    };
    if options.actor.territory.is_some() {
        let ancestry = match territory {
            Some(t) => people.territory_ancestry(t).await?,
            None => Vec::new(),
        };
        in_scope(ancestry)?;
    }
    let flat = flatten(&doc);

    // One organisation per abbreviation (or name), in order of first mention.
    let mut wanted: Vec<OrganisationRef> = Vec::new();
    let mut wanted_index: HashMap<String, usize> = HashMap::new();
    for (_, _, m) in &flat.measures {
        for p in m.responsible.iter().filter(|p| p.kind == PartyKind::Organisation) {
            let key = org_key(&p.full_name, p.abbreviation.as_deref());
            if let std::collections::hash_map::Entry::Vacant(slot) = wanted_index.entry(key) {
                slot.insert(wanted.len());
                wanted.push(OrganisationRef {
                    name: p.full_name.clone(),
                    kind: organisation_kind(&p.full_name),
                    territory,
                    abbreviations: p.abbreviation.iter().cloned().collect(),
                });
            }
        }
    }
    let owner_index = options
        .owner
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|owner| {
            let key = org_key(owner, None);
            *wanted_index.entry(key).or_insert_with(|| {
                wanted.push(OrganisationRef {
                    name: owner.to_string(),
                    kind: organisation_kind(owner),
                    territory,
                    abbreviations: Vec::new(),
                });
                wanted.len() - 1
            })
        });
    let org_ids = people.ensure_organisations(&wanted).await?;
    let organisations: Vec<ResolvedName> = wanted
        .iter()
        .zip(&org_ids)
        .map(|(w, id)| ResolvedName {
            name: w.name.clone(),
            abbreviation: w.abbreviations.first().cloned(),
            organisation_id: *id,
        })
        .collect();

    let mut tx = pool.begin().await?;
    let existing = store::plan_by_source_key(&mut tx, &source_key).await?;
    let plan_id = existing.as_ref().map(|p| p.id).unwrap_or_else(Uuid::new_v4);
    let version = existing.as_ref().map(|p| p.version + 1).unwrap_or(1);
    if let Some(existing) = &existing
        && existing.territory_id != territory
        && options.actor.territory.is_some()
    {
        // Re-importing somebody else's plan under one's own territory is still changing theirs.
        let ancestry = match existing.territory_id {
            Some(t) => people.territory_ancestry(t).await?,
            None => Vec::new(),
        };
        in_scope(ancestry)?;
    }
    let previous = match &existing {
        Some(p) => store::plan_measures_for_update(&mut tx, p.id).await?,
        None => Vec::new(),
    };
    let previous_by_key: HashMap<&str, &MeasureRow> = previous
        .iter()
        .filter_map(|m| m.key.as_deref().map(|k| (k, m)))
        .collect();

    let approval = doc.meta.approval.as_ref();
    let plan = PlanRow {
        id: plan_id,
        title: title.clone(),
        level: level.as_db().to_string(),
        period_start: doc.meta.period.as_ref().map(|p| p.start),
        period_end: doc.meta.period.as_ref().map(|p| p.end),
        period_text: doc.meta.period.as_ref().map(|p| p.raw.clone()),
        owner_organisation_id: owner_index.and_then(|i| org_ids.get(i).copied()),
        territory_id: territory,
        source_key: Some(source_key.clone()),
        version,
        approval_kind: approval.and_then(|a| a.kind.clone()),
        approval_number: approval.and_then(|a| a.number.clone()),
        approval_date: approval.and_then(|a| a.date),
        approval_signatory: approval.and_then(|a| a.signatory.clone()),
        goals: doc.meta.goals.clone(),
        state: match (&existing, options.state) {
            (Some(p), _) => p.state.clone(),
            (None, Some(state)) => state.as_db().to_string(),
            (None, None) if approval.is_some() => PlanState::Approved.as_db().to_string(),
            (None, None) => PlanState::Draft.as_db().to_string(),
        },
    };

    let sections: Vec<SectionRow> = flat
        .sections
        .iter()
        .enumerate()
        .map(|(i, (number, title))| SectionRow {
            id: Uuid::new_v4(),
            plan_id,
            position: i as i32,
            number: number.clone(),
            title: title.clone(),
        })
        .collect();
    let mut rows: Vec<MeasureRow> = Vec::with_capacity(flat.measures.len());
    let mut responsible: Vec<(Uuid, Uuid, i32)> = Vec::new();
    let mut deadlines_by_kind: BTreeMap<String, usize> = BTreeMap::new();
    let mut changes = Changes::default();
    for (position, (section, parent, m)) in flat.measures.iter().enumerate() {
        let id = previous_by_key
            .get(m.key.as_str())
            .map(|p| p.id)
            .unwrap_or_else(Uuid::new_v4);
        let (starts_on, due_on) = schedule_bounds(&m.schedule);
        let schedule_kind = enum_text(&m.schedule.kind);
        *deadlines_by_kind.entry(schedule_kind.clone()).or_default() += 1;
        let row = MeasureRow {
            id,
            plan_id,
            section_id: Some(sections[*section].id),
            parent_measure_id: parent.map(|p| rows[p].id),
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
            schedule_kind: Some(schedule_kind),
            starts_on,
            due_on,
            reporting_forms: opt(&m.reporting_forms),
            notes: opt(&m.notes),
            indicator_text: opt(&m.indicator),
            targets: serde_json::to_value(&m.targets).unwrap_or_default(),
            parties: serde_json::to_value(&m.responsible).unwrap_or_default(),
            source_line: i32::try_from(m.line).ok(),
        };
        match previous_by_key.get(m.key.as_str()) {
            None if existing.is_some() => changes.added.push(m.key.clone()),
            Some(old)
                if (
                    &old.number,
                    &old.title,
                    &old.schedule_text,
                    &old.responsible_text,
                    &old.expected_result,
                ) != (
                    &row.number,
                    &row.title,
                    &row.schedule_text,
                    &row.responsible_text,
                    &row.expected_result,
                ) =>
            {
                changes.changed.push(m.key.clone())
            }
            _ => {}
        }
        let mut seen = HashSet::new();
        for p in m.responsible.iter().filter(|p| p.kind == PartyKind::Organisation) {
            let key = org_key(&p.full_name, p.abbreviation.as_deref());
            if let Some(org) = wanted_index.get(&key).and_then(|i| org_ids.get(*i))
                && seen.insert(*org)
            {
                responsible.push((id, *org, seen.len() as i32 - 1));
            }
        }
        rows.push(row);
    }
    let new_keys: HashSet<&str> = rows.iter().filter_map(|r| r.key.as_deref()).collect();
    changes.removed = previous
        .iter()
        .filter_map(|m| m.key.as_deref())
        .filter(|k| !new_keys.contains(k))
        .map(str::to_string)
        .collect();

    let lint: Vec<LintRow> = doc
        .lint
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
        .collect();
    let unresolved_names: Vec<String> = doc
        .lint
        .iter()
        .filter(|f| f.code == "unresolved-abbreviation")
        .map(|f| f.message.clone())
        .collect();
    let summary = ImportSummary {
        status: if existing.is_some() {
            ImportStatus::Updated
        } else {
            ImportStatus::Created
        },
        plan_id,
        version,
        source_key: source_key.clone(),
        title,
        level: level.as_db().to_string(),
        sections: doc.sections.len(),
        measures: doc.stats.measures,
        child_measures: doc.stats.child_measures,
        milestones: doc.milestones.len(),
        deadlines_by_kind,
        organisations,
        unresolved_names,
        lint: doc.lint.clone(),
        indicator_targets: doc.indicator_targets.clone(),
        changes: changes.clone(),
    };

    if existing.is_some() {
        store::update_plan_meta(&mut tx, &plan).await?;
        store::delete_plan_responsible(&mut tx, plan_id).await?;
        let keep: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        store::delete_measures_except(&mut tx, plan_id, &keep).await?;
        store::park_sections(&mut tx, plan_id).await?;
    } else {
        store::insert_plan(&mut tx, &plan).await?;
    }
    store::insert_sections(&mut tx, &sections).await?;
    store::insert_measures(&mut tx, &rows).await?;
    let keep_sections: Vec<Uuid> = sections.iter().map(|s| s.id).collect();
    store::delete_sections_except(&mut tx, plan_id, &keep_sections).await?;
    store::insert_responsible(&mut tx, &responsible).await?;
    store::replace_lint(&mut tx, plan_id, &lint).await?;
    store::insert_version(
        &mut tx,
        &VersionRow {
            plan_id,
            version,
            sha256: &sha,
            source_text: &text,
            file_name: options.file_name.as_deref(),
            summary: serde_json::to_value(&summary).map_err(ServiceError::internal)?,
            changes: serde_json::to_value(&changes).map_err(ServiceError::internal)?,
        },
    )
    .await?;
    let mut after = access::plan_json(&plan);
    after["changes"] = serde_json::to_value(&changes).map_err(ServiceError::internal)?;
    roadmap_common::audit::record(
        &mut tx,
        crate::NAME,
        &options.actor,
        "importRoadmap",
        ("Plan", plan_id),
        existing.as_ref().map(access::plan_json),
        Some(after),
    )
    .await?;
    crate::events::plan_imported(
        &mut tx,
        &plan,
        &enum_text(&summary.status),
        &serde_json::to_value(&changes).map_err(ServiceError::internal)?,
    )
    .await?;
    tx.commit().await?;
    if let Some(indicators) = indicators
        && (!summary.indicator_targets.is_empty() || summary.status == ImportStatus::Updated)
        && let Err(err) = indicators
            .record_plan_targets(plan_id, territory, plan.period_end, &summary.indicator_targets)
            .await
    {
        tracing::warn!(plan = %plan_id, error = %err.message(), "indicator targets not recorded; re-import to retry");
        if let ServiceError::Internal(cause) = &err {
            tracing::warn!(plan = %plan_id, %cause, "indicator targets: cause");
        }
    }
    Ok(summary)
}

fn summary_from_json(value: serde_json::Value) -> ServiceResult<ImportSummary> {
    serde_json::from_value(value).map_err(ServiceError::internal)
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
