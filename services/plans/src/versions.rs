//! What changed between two versions of an imported plan, measure by measure (pure: no SQL, no
//! GraphQL resolvers).
//!
//! Rules:
//! - Both versions are the measure rows the importer builds from the version's stored text
//!   (`crate::import::version_rows`: the same parser, the same rows), so a comparison of old
//!   versions reads them as today's parser does, both sides alike.
//! - Measures are matched by the parser's key (section-qualified number, "/n" for sub-rows, "~n"
//!   for duplicates, "cp." for control points), as a re-import keeps measure ids.
//! - Added measures are listed in the order of the newer version, removed ones in the order of
//!   the older, changed ones in the order of the newer.
//! - A changed measure lists every field that differs, in [`MeasureField`] order, with the text
//!   before and after as written (`None`: the cell was empty). Extra columns are compared per
//!   header (one change per header whose cells differ).
//! - What the import report counts as changed ([`text_changed`]) is every field but the due day:
//!   the due day is derived from the schedule (and the plan's period), so it changes with what
//!   people wrote. A comparison lists it too, so a measure whose only difference is its due day
//!   (the period of the plan changed) is a changed measure here but not in the report.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::store::MeasureRow;

/// A field of a measure that a new version may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MeasureField {
    /// The number as written ("1.3.", "III.5").
    Number,
    Title,
    /// The schedule as written ("Ежеквартально", "до 25.12.2023").
    ScheduleText,
    /// The responsible parties as written.
    ResponsibleText,
    ExpectedResult,
    /// The indicator cell as written.
    IndicatorText,
    ReportingForms,
    Notes,
    /// A cell of a column the parser has no role for; the change names its header.
    ExtraColumn,
    /// The last day the measure is due, as parsed from the schedule (ISO `2024-03-10`).
    DueOn,
}

/// One field of one measure, before and after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    pub field: MeasureField,
    /// The column's header, for [`MeasureField::ExtraColumn`].
    pub header: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A measure of one version as a comparison names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeasureSeen {
    pub key: String,
    pub number: String,
    pub title: String,
}

impl From<&MeasureRow> for MeasureSeen {
    fn from(m: &MeasureRow) -> Self {
        Self {
            key: m.key.clone().unwrap_or_default(),
            number: m.number.clone(),
            title: m.title.clone(),
        }
    }
}

/// A measure in both versions whose fields differ; named as in the newer version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedMeasure {
    pub measure: MeasureSeen,
    pub fields: Vec<FieldChange>,
}

/// What changed from one version to another.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    pub added: Vec<MeasureSeen>,
    pub removed: Vec<MeasureSeen>,
    pub changed: Vec<ChangedMeasure>,
}

/// Compares the measures of an older version with those of a newer one (see the module docs).
pub fn diff(older: &[MeasureRow], newer: &[MeasureRow]) -> Diff {
    let by_key = |rows: &'_ [MeasureRow]| -> HashMap<String, usize> {
        rows.iter()
            .enumerate()
            .filter_map(|(i, m)| m.key.clone().map(|k| (k, i)))
            .collect()
    };
    let old_keys = by_key(older);
    let new_keys: HashSet<String> = by_key(newer).into_keys().collect();
    let mut out = Diff::default();
    for m in newer {
        match m.key.as_ref().and_then(|k| old_keys.get(k)) {
            None => out.added.push(MeasureSeen::from(m)),
            Some(&i) => {
                let fields = field_changes(&older[i], m);
                if !fields.is_empty() {
                    out.changed.push(ChangedMeasure {
                        measure: MeasureSeen::from(m),
                        fields,
                    });
                }
            }
        }
    }
    out.removed = older
        .iter()
        .filter(|m| m.key.as_ref().is_none_or(|k| !new_keys.contains(k)))
        .map(MeasureSeen::from)
        .collect();
    out
}

/// Every field of a measure that differs between two versions, in [`MeasureField`] order.
pub fn field_changes(old: &MeasureRow, new: &MeasureRow) -> Vec<FieldChange> {
    let texts = [
        (MeasureField::Number, blank(&old.number), blank(&new.number)),
        (MeasureField::Title, blank(&old.title), blank(&new.title)),
        (
            MeasureField::ScheduleText,
            opt(&old.schedule_text),
            opt(&new.schedule_text),
        ),
        (
            MeasureField::ResponsibleText,
            opt(&old.responsible_text),
            opt(&new.responsible_text),
        ),
        (
            MeasureField::ExpectedResult,
            opt(&old.expected_result),
            opt(&new.expected_result),
        ),
        (
            MeasureField::IndicatorText,
            opt(&old.indicator_text),
            opt(&new.indicator_text),
        ),
        (
            MeasureField::ReportingForms,
            opt(&old.reporting_forms),
            opt(&new.reporting_forms),
        ),
        (MeasureField::Notes, opt(&old.notes), opt(&new.notes)),
    ];
    let mut out: Vec<FieldChange> = texts
        .into_iter()
        .filter(|(_, before, after)| before != after)
        .map(|(field, before, after)| FieldChange {
            field,
            header: None,
            before,
            after,
        })
        .collect();
    let (old_extra, new_extra) = (extra_by_header(&old.extra), extra_by_header(&new.extra));
    let mut headers: Vec<&String> = old_extra.iter().map(|(h, _)| h).collect();
    headers.extend(
        new_extra
            .iter()
            .map(|(h, _)| h)
            .filter(|h| !old_extra.iter().any(|(o, _)| o == *h)),
    );
    for header in headers {
        let cell = |cells: &[(String, String)]| cells.iter().find(|(h, _)| h == header).map(|(_, v)| v.clone());
        let (before, after) = (cell(&old_extra), cell(&new_extra));
        if before != after {
            out.push(FieldChange {
                field: MeasureField::ExtraColumn,
                header: Some(header.clone()),
                before,
                after,
            });
        }
    }
    if old.due_on != new.due_on {
        out.push(FieldChange {
            field: MeasureField::DueOn,
            header: None,
            before: old.due_on.map(|d| d.to_string()),
            after: new.due_on.map(|d| d.to_string()),
        });
    }
    out
}

/// Whether the import report lists a measure as changed: a field people write differs (every
/// field but the derived due day; see the module docs).
pub fn text_changed(old: &MeasureRow, new: &MeasureRow) -> bool {
    field_changes(old, new).iter().any(|c| c.field != MeasureField::DueOn)
}

fn blank(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

fn opt(text: &Option<String>) -> Option<String> {
    text.as_deref().and_then(blank)
}

/// The extra cells of a row (`[{header, value}]`) per header in column order; cells of one
/// header given twice are joined by a line break.
fn extra_by_header(extra: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for cell in extra.as_array().into_iter().flatten() {
        let (Some(header), Some(value)) = (cell["header"].as_str(), cell["value"].as_str()) else {
            continue;
        };
        match out.iter_mut().find(|(h, _)| h == header) {
            Some((_, v)) => {
                v.push('\n');
                v.push_str(value);
            }
            None => out.push((header.to_string(), value.to_string())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn row(key: &str, title: &str) -> MeasureRow {
        MeasureRow {
            key: Some(key.to_string()),
            ..MeasureRow::manual(Uuid::nil(), Uuid::nil(), 0, key.to_string(), title.to_string())
        }
    }

    #[test]
    fn measures_match_by_key_and_list_each_changed_field() {
        let mut a1 = row("1.1", "Семинар");
        a1.schedule_text = Some("Ежеквартально".into());
        a1.due_on = NaiveDate::from_ymd_opt(2024, 12, 31);
        a1.extra = json!([{ "header": "Источник", "value": "бюджет" }]);
        let older = vec![a1.clone(), row("1.2", "Удалённое")];
        let mut a2 = a1.clone();
        a2.title = "Семинар для учителей".into();
        a2.schedule_text = Some("до 01.03.2024".into());
        a2.due_on = NaiveDate::from_ymd_opt(2024, 3, 1);
        a2.notes = Some("перенесено".into());
        a2.extra = json!([{ "header": "Источник", "value": "внебюджет" }, { "header": "Отметка", "value": "да" }]);
        let newer = vec![row("0.9", "Новое"), a2];
        let d = diff(&older, &newer);
        assert_eq!(d.added.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), ["0.9"]);
        assert_eq!(
            d.removed.iter().map(|m| m.title.as_str()).collect::<Vec<_>>(),
            ["Удалённое"]
        );
        assert_eq!(d.changed.len(), 1);
        assert_eq!(d.changed[0].measure.title, "Семинар для учителей");
        type Seen<'a> = (MeasureField, Option<&'a str>, Option<&'a str>, Option<&'a str>);
        let fields: Vec<Seen> = d.changed[0]
            .fields
            .iter()
            .map(|c| (c.field, c.header.as_deref(), c.before.as_deref(), c.after.as_deref()))
            .collect();
        assert_eq!(
            fields,
            [
                (MeasureField::Title, None, Some("Семинар"), Some("Семинар для учителей")),
                (
                    MeasureField::ScheduleText,
                    None,
                    Some("Ежеквартально"),
                    Some("до 01.03.2024")
                ),
                (MeasureField::Notes, None, None, Some("перенесено")),
                (
                    MeasureField::ExtraColumn,
                    Some("Источник"),
                    Some("бюджет"),
                    Some("внебюджет")
                ),
                (MeasureField::ExtraColumn, Some("Отметка"), None, Some("да")),
                (MeasureField::DueOn, None, Some("2024-12-31"), Some("2024-03-01")),
            ]
        );
    }

    #[test]
    fn a_due_day_alone_is_listed_but_not_counted_by_the_report() {
        let a = row("1", "Т");
        let mut b = a.clone();
        b.due_on = NaiveDate::from_ymd_opt(2025, 1, 1);
        assert_eq!(field_changes(&a, &b).len(), 1);
        assert!(!text_changed(&a, &b));
        b.indicator_text = Some("доля".into());
        assert!(text_changed(&a, &b));
        let same = std::slice::from_ref(&a);
        assert!(diff(same, same).changed.is_empty());
    }
}
