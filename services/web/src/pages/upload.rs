//! Page 8: an editor uploads a roadmap file (any format the importer reads), sees what the
//! import would do — the parsed measures next to the source rows they came from, lint findings,
//! unresolved names, the territories it would create, the changes against the stored plan — and
//! confirms or cancels. The preview stores nothing (`Query.importPreview`); the confirmation
//! sends the same file to `importRoadmap`. The file travels in the confirmation form itself (a
//! hidden field), so no server keeps uploads between the two steps.

use maud::{Markup, html};

use super::layout::{Visitor, page};
use crate::format;
use crate::model::{ImportPreview, PreviewRow};

/// The largest file the page takes: what fits the gateway's 4 MB request body as base64.
pub const MAX_FILE_BYTES: usize = 3 * 1024 * 1024;

/// What the visitor asked to import: the file and what they know better than the document.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Upload {
    pub file_name: String,
    /// The file's bytes, standard base64.
    pub content_base64: String,
    pub territory: String,
    pub level: String,
    pub owner: String,
    pub key: String,
}

impl Upload {
    /// `ImportRoadmapInput` of this upload (empty fields left out).
    pub fn input(&self) -> serde_json::Value {
        let mut input = serde_json::json!({
            "fileName": self.file_name,
            "contentBase64": self.content_base64,
        });
        for (field, value) in [
            ("territory", &self.territory),
            ("level", &self.level),
            ("owner", &self.owner),
            ("key", &self.key),
        ] {
            let value = value.trim();
            if !value.is_empty() {
                input[field] = serde_json::Value::String(value.to_string());
            }
        }
        input
    }
}

const LEVELS: [&str; 4] = ["FEDERAL", "REGIONAL", "MUNICIPAL", "SCHOOL"];

/// The upload form; `message` (an error of the last attempt) above it, `upload` its values.
pub fn render_form(visitor: Visitor, upload: &Upload, message: Option<&str>) -> Markup {
    form_page(
        visitor,
        upload,
        html! { @if let Some(m) = message { p.problem role="alert" { (m) } } },
    )
}

/// The form after a preview was cancelled.
pub fn render_cancelled(visitor: Visitor) -> Markup {
    let notice = html! { p.notice role="status" { "Импорт отменён: ничего не сохранено." } };
    form_page(visitor, &Upload::default(), notice)
}

fn form_page(visitor: Visitor, upload: &Upload, above: Markup) -> Markup {
    let body = html! {
        (above)
        @if !visitor.signed_in {
            p.problem {
                "Загружать планы могут редакторы и координаторы: сначала "
                a href="/signin" { "войдите" } "."
            }
        }
        p {
            "Файл дорожной карты (DOCX, ODT, ODS, XLSX, CSV, PDF с текстовым слоем или текст) до 3 МБ. "
            "Сначала показывается, как он прочитан; в хранилище ничего не попадает до подтверждения."
        }
        form.upload method="post" action="/upload" enctype="multipart/form-data" {
            p {
                label for="file" { "Файл" }
                input #file type="file" name="file" required;
            }
            p {
                label for="territory" { "Территория (регион/муниципалитет)" }
                input #territory type="text" name="territory" size="60" value=(upload.territory)
                    placeholder="Забайкальский край/Город Чита";
            }
            p {
                label for="level" { "Уровень" }
                select #level name="level" {
                    option value="" selected[upload.level.is_empty()] { "как указано в документе" }
                    @for l in LEVELS {
                        option value=(l) selected[upload.level == l] { (format::level(l)) }
                    }
                }
            }
            p {
                label for="owner" { "Организация-владелец (необязательно)" }
                input #owner type="text" name="owner" size="60" value=(upload.owner);
            }
            p {
                label for="key" { "Ключ плана (необязательно: иначе по реквизитам документа)" }
                input #key type="text" name="key" size="40" value=(upload.key);
            }
            button type="submit" { "Проверить" }
        }
    };
    page("Загрузка плана", visitor, &[], body)
}

fn status_text(p: &ImportPreview) -> Markup {
    html! {
        @match (p.status.as_str(), &p.existing_plan) {
            ("UNCHANGED", Some(plan)) => {
                "Без изменений: этот текст уже импортирован как версия " (p.version) " плана "
                a href=(format!("/plans/{}", plan.id)) { "«" (plan.title) "»" } "."
            }
            (_, Some(plan)) => {
                "Новая версия " (p.version) " плана "
                a href=(format!("/plans/{}", plan.id)) { "«" (plan.title) "»" }
                " (сейчас версия " (plan.version) ")."
            }
            _ => { "Новый план." }
        }
    }
}

/// The source line `line` (1-based) of the preview, cells separated by tabs.
fn source_line(p: &ImportPreview, line: Option<i64>) -> Option<&str> {
    let index = usize::try_from(line?).ok()?.checked_sub(1)?;
    p.source_lines.get(index).map(String::as_str)
}

fn source_cells(text: &str) -> Markup {
    html! {
        @for (i, cell) in text.split('\t').enumerate() {
            @if i > 0 { span.cell-sep aria-hidden="true" { " | " } }
            (cell)
        }
    }
}

fn row(p: &ImportPreview, r: &PreviewRow, flagged: bool) -> Markup {
    let line_id = r.line.map(|l| format!("line-{l}"));
    html! {
        tr id=[line_id] class=[flagged.then_some("flagged")] {
            td.num { @if let Some(l) = r.line { (l) } }
            td.source { @if let Some(text) = source_line(p, r.line) { (source_cells(text)) } }
            td {
                @if r.depth > 0 { span.muted { "↳ " } }
                @if r.milestone { span.badge { "контрольная точка" } " " }
                (r.number)
            }
            td { (r.title) }
            td {
                @if let Some(s) = &r.schedule_text { (s) }
                @if let Some(d) = &r.due_on { br; span.muted { "срок: " (format::date_text(d)) } }
            }
            td {
                @if let Some(t) = &r.responsible_text { (t) }
                @if !r.responsible.is_empty() {
                    ul.parsed { @for name in &r.responsible { li { (name) } } }
                }
            }
        }
    }
}

/// The preview of `upload` and the form that confirms it.
pub fn render_preview(p: &ImportPreview, upload: &Upload, visitor: Visitor) -> Markup {
    let flagged: std::collections::HashSet<i64> = p.lint.iter().filter_map(|f| f.line).collect();
    let changes = &p.changes;
    let body = html! {
        p.notice role="status" { "Это предварительный просмотр: ничего не сохранено." }
        dl {
            dt { "Файл" } dd { (upload.file_name) " (" (p.format) ")" }
            dt { "Документ" } dd { (p.title) }
            dt { "Что будет" } dd { (status_text(p)) }
            @if !upload.territory.trim().is_empty() {
                dt { "Территория" }
                dd {
                    (upload.territory.trim())
                    @if !p.new_territories.is_empty() {
                        " — " strong { "будут созданы: " (p.new_territories.join(", ")) }
                    }
                }
            }
            dt { "Прочитано" }
            dd.counts {
                "разделов " strong { (p.sections) } ", мероприятий " strong { (p.measures) }
                ", подпунктов " strong { (p.child_measures) } ", контрольных точек " strong { (p.milestones) }
            }
            @if p.existing_plan.is_some() && p.status != "UNCHANGED" {
                dt { "Изменения" }
                dd.changes {
                    "добавлено " strong { (changes.added.len()) }
                    ", удалено " strong { (changes.removed.len()) }
                    ", изменено " strong { (changes.changed.len()) }
                    @for (label, keys) in [("добавлены", &changes.added), ("удалены", &changes.removed), ("изменены", &changes.changed)] {
                        @if !keys.is_empty() { br; (label) ": " (keys.join(", ")) }
                    }
                }
            }
            @if !p.extra_columns.is_empty() {
                dt { "Дополнительные столбцы" } dd { (p.extra_columns.join("; ")) }
            }
            @if !p.ignored_columns.is_empty() {
                dt { "Пропущенные столбцы" } dd { (p.ignored_columns.join("; ")) }
            }
        }
        (confirm_form(upload, p.status == "UNCHANGED"))
        h2 #lint { "Замечания (" (p.lint.len()) ")" }
        @if p.lint.is_empty() {
            p.muted { "Замечаний нет." }
        } @else {
            table.lint {
                thead { tr { th { "Строка" } th { "Важность" } th { "Код" } th { "Замечание" } th { "Мероприятие" } } }
                tbody {
                    @for f in &p.lint {
                        tr class=(format!("severity-{}", f.severity.to_lowercase())) {
                            td.num { @if let Some(l) = f.line { a href=(format!("#line-{l}")) { (l) } } }
                            td { (f.severity) }
                            td { code { (f.code) } }
                            td { (f.message) }
                            td { @if let Some(n) = &f.measure_number { (n) } }
                        }
                    }
                }
            }
        }
        h2 #unresolved { "Нераспознанные сокращения и названия (" (p.unresolved_names.len()) ")" }
        @if p.unresolved_names.is_empty() {
            p.muted { "Нет." }
        } @else {
            ul.unresolved { @for n in &p.unresolved_names { li { (n) } } }
        }
        h2 #rows { "Мероприятия: строка документа и как она прочитана" }
        table.preview {
            thead {
                tr {
                    th { "Строка" } th { "Текст строки в документе" } th { "№" } th { "Мероприятие" }
                    th { "Срок как написано и прочитанный срок" } th { "Ответственные как написано и прочитанные" }
                }
            }
            tbody {
                @for r in &p.rows { (row(p, r, r.line.is_some_and(|l| flagged.contains(&l)))) }
            }
        }
        (confirm_form(upload, p.status == "UNCHANGED"))
    };
    page(
        "Проверка перед импортом",
        visitor,
        &[("Загрузка плана".to_string(), "/upload".to_string())],
        body,
    )
}

/// Confirm (the same file and options, as hidden fields) or cancel (back to the form; nothing
/// was stored).
fn confirm_form(upload: &Upload, unchanged: bool) -> Markup {
    html! {
        form.confirm method="post" action="/upload/confirm" {
            input type="hidden" name="fileName" value=(upload.file_name);
            input type="hidden" name="contentBase64" value=(upload.content_base64);
            input type="hidden" name="territory" value=(upload.territory);
            input type="hidden" name="level" value=(upload.level);
            input type="hidden" name="owner" value=(upload.owner);
            input type="hidden" name="key" value=(upload.key);
            @if unchanged {
                p.muted { "Импорт ничего не изменит." }
            } @else {
                button type="submit" name="confirm" value="yes" { "Импортировать" }
            }
            " "
            a.cancel href="/upload?cancelled=1" { "Отменить" }
        }
    }
}
