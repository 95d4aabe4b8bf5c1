//! A plan's imported versions: the "Версии" list of the plan page (version, date, file, how many
//! measures were added, removed and changed) and `/plans/<id>/versions/<n>`, what changed in
//! version n against the one before it: added and removed measures, and for each changed measure
//! every field before → after (`Plan.versionChanges`).

use maud::{Markup, html};

use super::layout::{Visitor, column_heads, page, plan_href, territory_crumbs};
use crate::format;
use crate::model::{MeasureFieldChange, Plan, PlanVersion, VersionChanges, VersionMeasure};

pub fn version_href(plan: &str, version: i64) -> String {
    format!("{}/versions/{version}", plan_href(plan))
}

/// The plan page's "Версии" section (nothing for a plan entered by hand).
pub fn list(plan: &Plan) -> Markup {
    html! {
        @if !plan.versions.is_empty() {
            section aria-labelledby="versions" {
                h2 #versions { "Версии" }
                table.versions {
                    (column_heads(&["Версия", "Загружена", "Файл", "Добавлено", "Удалено", "Изменено"]))
                    tbody {
                        @for v in &plan.versions {
                            tr {
                                th scope="row" {
                                    a href=(version_href(&plan.id, v.version)) { "версия " (v.version) }
                                }
                                td { (imported_on(v)) }
                                td { (file(v)) }
                                td.num { (v.changes.added.len()) }
                                td.num { (v.changes.removed.len()) }
                                td.num { (v.changes.changed.len()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn imported_on(v: &PlanVersion) -> Markup {
    html! { time datetime=(v.imported_at) { (format::date_time_text(&v.imported_at)) } }
}

fn file(v: &PlanVersion) -> Markup {
    html! {
        @if let Some(f) = &v.file_name { (f) } @else { span.muted { "—" } }
        @if let Some(f) = &v.format { " " span.note { "(" (f) ")" } }
    }
}

/// `/plans/<id>/versions/<n>`: `plan` as `WebPlanVersion` answers it (with `versionChanges`).
pub fn render(plan: &Plan, changes: &VersionChanges, visitor: Visitor) -> Markup {
    let mut crumbs = match &plan.territory {
        Some(t) => territory_crumbs(&t.ancestors, Some((&t.name, &t.id))),
        None => territory_crumbs(&[], None),
    };
    crumbs.push((plan.title.clone(), plan_href(&plan.id)));
    let this = plan.versions.iter().find(|v| v.version == changes.to);
    let title = format!("Версия {} плана «{}»", changes.to, plan.title);
    let body = html! {
        dl.facts {
            @if let Some(v) = this {
                dt { "Загружена" } dd { (imported_on(v)) }
                dt { "Файл" } dd { (file(v)) }
                dt { "Мероприятий" } dd { (v.measures) }
            }
            dt { "Сравнение" }
            dd {
                @match changes.from {
                    Some(from) => {
                        "с версией "
                        a href=(version_href(&plan.id, from)) { (from) }
                        @if changes.to == plan.version { " · это действующая версия" }
                    }
                    None => "первая версия плана: сравнивать не с чем",
                }
            }
        }
        @if changes.from.is_some() {
            @if changes.added.is_empty() && changes.removed.is_empty() && changes.changed.is_empty() {
                p.muted { "Мероприятия не изменились." }
            }
            (measures("added", "Добавлены", &changes.added))
            (measures("removed", "Удалены", &changes.removed))
            @if !changes.changed.is_empty() {
                section aria-labelledby="changed" {
                    h2 #changed { "Изменены (" (changes.changed.len()) ")" }
                    table.changes {
                        (column_heads(&["№", "Мероприятие", "Поле", "Было", "Стало"]))
                        @for m in &changes.changed {
                            tbody.measure id=(format!("k-{}", m.key)) {
                                @for (i, f) in m.fields.iter().enumerate() {
                                    tr {
                                        @if i == 0 {
                                            td.number rowspan=(m.fields.len()) { (m.number) }
                                            th scope="rowgroup" rowspan=(m.fields.len()) { (m.title) }
                                        }
                                        td.field { (field_label(f)) }
                                        td.before { (value(f, f.before.as_deref())) }
                                        td.after { (value(f, f.after.as_deref())) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        p { a href=(format!("{}#versions", plan_href(&plan.id))) { "← все версии плана" } }
    };
    page(&title, visitor, &crumbs, body)
}

fn measures(id: &str, heading: &str, list: &[VersionMeasure]) -> Markup {
    html! {
        @if !list.is_empty() {
            section aria-labelledby=(id) {
                h2 id=(id) { (heading) " (" (list.len()) ")" }
                table.changes {
                    (column_heads(&["№", "Мероприятие"]))
                    tbody {
                        @for m in list {
                            tr id=(format!("k-{}", m.key)) {
                                td.number { (m.number) }
                                th scope="row" { (m.title) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The Russian name of a field (`MeasureField`); an extra column by its header.
pub fn field_label(f: &MeasureFieldChange) -> String {
    match f.field.as_str() {
        "NUMBER" => "Номер".to_string(),
        "TITLE" => "Наименование".to_string(),
        "SCHEDULE_TEXT" => "Срок (как в документе)".to_string(),
        "RESPONSIBLE_TEXT" => "Ответственные (как в документе)".to_string(),
        "EXPECTED_RESULT" => "Ожидаемый результат".to_string(),
        "INDICATOR_TEXT" => "Показатель".to_string(),
        "REPORTING_FORMS" => "Формы отчётности".to_string(),
        "NOTES" => "Примечание".to_string(),
        "EXTRA_COLUMN" => f.header.clone().unwrap_or_else(|| "Другой столбец".to_string()),
        "DUE_ON" => "Срок до".to_string(),
        other => other.to_string(),
    }
}

fn value(f: &MeasureFieldChange, text: Option<&str>) -> Markup {
    html! {
        @match text {
            None => span.muted { "пусто" },
            Some(t) if f.field == "DUE_ON" => time datetime=(t) { (format::date_text(t)) },
            Some(t) => (t),
        }
    }
}
