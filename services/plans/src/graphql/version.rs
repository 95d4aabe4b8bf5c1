//! A plan's versions and what changed between them: `PlanVersion`, `VersionChanges`,
//! `VersionMeasure`, `MeasureChange`, `MeasureFieldChange` (`MeasureField` is
//! `crate::versions`'). The comparison is `crate::versions::diff` over the rows the importer
//! builds from both stored texts.

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use roadmap_common::{ServiceError, ServiceResult};

use crate::graphql::ImportChanges;
use crate::import::Changes;
use crate::loaders::Loaders;
use crate::store::PlanVersionRow;
use crate::versions::{self, MeasureField};

/// One imported version of a plan: every import of changed text stores one.
pub struct PlanVersion(pub PlanVersionRow);

#[Object]
impl PlanVersion {
    /// 1 for the first import, +1 per import of changed text.
    async fn version(&self) -> i32 {
        self.0.version
    }

    async fn imported_at(&self) -> DateTime<Utc> {
        self.0.imported_at
    }

    /// The file name given with the import.
    async fn file_name(&self) -> Option<&str> {
        self.0.file_name.as_deref()
    }

    /// The format the file was read as (DOCX, XLSX, CSV, PDF, "plain text" ...); `null` for
    /// versions imported before formats were recorded.
    async fn format(&self) -> Option<&str> {
        Some(self.0.format.as_str()).filter(|f| !f.is_empty())
    }

    /// Top-level measures of the version (as the import report counts them).
    async fn measures(&self) -> i32 {
        self.0.measures
    }

    async fn child_measures(&self) -> i32 {
        self.0.child_measures
    }

    async fn milestones(&self) -> i32 {
        self.0.milestones
    }

    /// Measure keys added, removed and changed against the previous version, as the import
    /// reported them (empty for the first version). `Plan.versionChanges` gives the fields.
    async fn changes(&self) -> Result<ImportChanges> {
        let c: Changes = serde_json::from_value(self.0.changes.clone()).map_err(ServiceError::internal)?;
        Ok(ImportChanges {
            added: c.added,
            removed: c.removed,
            changed: c.changed,
        })
    }
}

/// A measure as one version names it.
#[derive(SimpleObject)]
pub struct VersionMeasure {
    /// The parser's key, which matches measures across versions.
    pub key: String,
    /// As written ("1.3.").
    pub number: String,
    pub title: String,
}

impl From<versions::MeasureSeen> for VersionMeasure {
    fn from(m: versions::MeasureSeen) -> Self {
        Self {
            key: m.key,
            number: m.number,
            title: m.title,
        }
    }
}

/// One field of a changed measure, before and after.
#[derive(SimpleObject)]
pub struct MeasureFieldChange {
    pub field: MeasureField,
    /// The column's header as written, for `EXTRA_COLUMN`.
    pub header: Option<String>,
    /// As written in the older version (`DUE_ON`: ISO date); `null` when empty.
    pub before: Option<String>,
    /// As written in the newer version; `null` when empty.
    pub after: Option<String>,
}

/// A measure in both versions whose fields differ, named as in the newer version.
#[derive(SimpleObject)]
pub struct MeasureChange {
    pub key: String,
    pub number: String,
    pub title: String,
    pub fields: Vec<MeasureFieldChange>,
}

/// What changed in a plan from version `from` to version `to`.
#[derive(SimpleObject)]
pub struct VersionChanges {
    /// `null` when `to` is the first version (then nothing is listed).
    pub from: Option<i32>,
    pub to: i32,
    /// In the order of version `to`.
    pub added: Vec<VersionMeasure>,
    /// In the order of version `from`.
    pub removed: Vec<VersionMeasure>,
    /// In the order of version `to`.
    pub changed: Vec<MeasureChange>,
}

/// The versions compared: `to` (default the newest) against `from` (default the one before it).
/// Errors name the argument that is wrong.
fn chosen(stored: &[i32], from: Option<i32>, to: Option<i32>) -> ServiceResult<(Option<i32>, i32)> {
    let known = |v: i32| stored.contains(&v);
    let have = || match (stored.iter().min(), stored.iter().max()) {
        (Some(lo), Some(hi)) if lo == hi => format!("the plan has version {lo} only"),
        (Some(lo), Some(hi)) => format!("the plan has versions {lo} to {hi}"),
        _ => "the plan has no imported version".to_string(),
    };
    let to = match to {
        Some(v) if !known(v) => return Err(ServiceError::invalid("to", format!("no version {v}: {}", have()))),
        Some(v) => v,
        None => *stored.iter().max().ok_or_else(|| ServiceError::invalid("to", have()))?,
    };
    match from {
        Some(f) if f >= to => Err(ServiceError::invalid(
            "from",
            format!("must be an earlier version than to ({to}), got {f}"),
        )),
        Some(f) if !known(f) => Err(ServiceError::invalid("from", format!("no version {f}: {}", have()))),
        Some(f) => Ok((Some(f), to)),
        None => Ok((stored.iter().copied().filter(|v| *v < to).max(), to)),
    }
}

/// `Plan.versionChanges`: reads the two texts (one batched statement for every plan asked),
/// builds their rows as the importer does and compares them.
pub async fn version_changes(
    ctx: &Context<'_>,
    plan_id: Uuid,
    from: Option<i32>,
    to: Option<i32>,
) -> Result<VersionChanges> {
    let loaders = ctx.data::<Loaders>()?;
    let stored: Vec<i32> = loaders
        .versions_by_plan
        .load_one(plan_id)
        .await?
        .unwrap_or_default()
        .iter()
        .map(|v| v.version)
        .collect();
    let (from, to) = chosen(&stored, from, to)?;
    let Some(from) = from else {
        return Ok(VersionChanges {
            from: None,
            to,
            added: Vec::new(),
            removed: Vec::new(),
            changed: Vec::new(),
        });
    };
    let texts = loaders
        .text_by_version
        .load_many([(plan_id, from), (plan_id, to)])
        .await?;
    let rows = |v: i32| -> ServiceResult<Vec<crate::store::MeasureRow>> {
        let text = texts
            .get(&(plan_id, v))
            .ok_or_else(|| ServiceError::invalid(if v == to { "to" } else { "from" }, format!("no version {v}")))?;
        crate::import::version_rows(&format!("version {v}"), &text.source_text, plan_id)
    };
    let diff = versions::diff(&rows(from)?, &rows(to)?);
    Ok(VersionChanges {
        from: Some(from),
        to,
        added: diff.added.into_iter().map(VersionMeasure::from).collect(),
        removed: diff.removed.into_iter().map(VersionMeasure::from).collect(),
        changed: diff
            .changed
            .into_iter()
            .map(|c| MeasureChange {
                key: c.measure.key,
                number: c.measure.number,
                title: c.measure.title,
                fields: c
                    .fields
                    .into_iter()
                    .map(|f| MeasureFieldChange {
                        field: f.field,
                        header: f.header,
                        before: f.before,
                        after: f.after,
                    })
                    .collect(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: ServiceResult<(Option<i32>, i32)>) -> String {
        match r {
            Err(e) => e.message(),
            Ok(v) => panic!("accepted: {v:?}"),
        }
    }

    #[test]
    fn versions_default_to_the_newest_against_the_one_before() {
        assert_eq!(chosen(&[3, 2, 1], None, None).ok(), Some((Some(2), 3)));
        assert_eq!(chosen(&[3, 2, 1], None, Some(2)).ok(), Some((Some(1), 2)));
        assert_eq!(chosen(&[3, 2, 1], Some(1), None).ok(), Some((Some(1), 3)));
        assert_eq!(chosen(&[1], None, None).ok(), Some((None, 1)));
    }

    #[test]
    fn bad_arguments_name_themselves() {
        let m = message(chosen(&[2, 1], None, Some(5)));
        assert!(
            m.starts_with("to:") && m.contains("no version 5") && m.contains("1 to 2"),
            "{m}"
        );
        let m = message(chosen(&[2, 1], Some(2), Some(2)));
        assert!(m.starts_with("from:") && m.contains("earlier"), "{m}");
        let m = message(chosen(&[3, 2], Some(1), Some(3)));
        assert!(m.starts_with("from:") && m.contains("no version 1"), "{m}");
        assert!(message(chosen(&[], None, None)).starts_with("to:"));
    }
}
