//! Plans out: `GET /export/plans/{id}.csv` and `GET /export/plans/{id}.xlsx`, a plan as a table
//! people open in Excel or LibreOffice, edit, and import again.
//!
//! - **What.** The document's heading as imported (the lines of the current version's text
//!   before its first table: approving act, title, period, goals), then one table of the
//!   measures with a row "Раздел <number> <title>" per section and the child measures under
//!   their parents, then the control points in a table of their own ("Контрольная точка"). Each
//!   measure: number, title, schedule, responsible, expected result, indicator, reporting forms
//!   and notes as written, the extra columns of the document (`Measure.extraColumns`), and the
//!   derived columns: the parsed due day, the responsible parties as the parser resolved them,
//!   the effective status (OVERDUE included, by the hub's clock) and the reported progress.
//! - **Derived columns** carry [`DERIVED_MARK`] at the end of their header. The importer drops
//!   every such column before parsing ([`strip_derived_columns`]), so importing an export into
//!   its plan reads exactly the columns the document had: no measure is added, removed or
//!   changed, and a status typed into the file changes nothing (statuses are set with
//!   `setMeasureStatus`). Their headers name a column role on purpose ("Срок", "Ответственные",
//!   "Результат"): the readers look for a table whose header cells are mostly known, and four
//!   unknown headers next to a document's own extra columns would hide the table from them.
//! - **What is not exported.** Text after or between the measure tables (indicator tables,
//!   signatures): an export's import therefore leaves the plan's indicator targets as they are
//!   (see `crate::import`).
//! - **Formats.** CSV: UTF-8 with BOM, `;` (what Excel in a Russian locale opens directly),
//!   quoted cells with line breaks. XLSX (rust_xlsxwriter): one sheet, text cells as text (so
//!   "1.1." stays a number as written), due days as dates, progress as a number.
//! - **Who.** Approved plans are public, like the calendar feed: the address is enough. A draft
//!   is served only through a link from `Plan.exports`, which the GraphQL API gives only to those
//!   who may see the draft: the link carries an expiry and an HMAC-SHA256 of plan and expiry
//!   keyed by the gateway secret (shared by every replica), valid for [`LINK_LIFETIME`] seconds.
//!   Without a valid signature a draft is a 404, as an unknown plan is (its existence is not
//!   told); an expired signature is a 403 saying so.
//! - **Where.** The plans subgraph serves it beside `/graphql` (port 4001 by default); behind an
//!   ingress, route `/export/` to the plans port, as `/calendar/`. The links `Plan.exports` gives
//!   are paths relative to that address.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Datelike, NaiveDate};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::ServiceError;
use roadmap_common::auth::GatewaySecret;
use roadmap_common::clock::Clock;

use crate::cascade;
use crate::store::{self, MeasureRow, PlanRow, SectionRow, StatusRow};

/// Where the exports are served; `{file}` is `<plan id>.csv` or `<plan id>.xlsx`.
pub const ROUTE: &str = "/export/plans/{file}";

/// Ends the header of every derived column; the importer ignores such columns.
pub const DERIVED_MARK: &str = "[вычислено]";

/// Seconds a signed link to a draft stays valid.
pub const LINK_LIFETIME: i64 = 24 * 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// The path of a plan's export, without a signature.
pub fn path(plan: Uuid, format: ExportFormat) -> String {
    format!("/export/plans/{plan}.{}", format.extension())
}

/// Signs and checks links to drafts with the gateway secret.
#[derive(Clone)]
pub struct LinkSigner {
    secret: GatewaySecret,
}

impl LinkSigner {
    pub fn new(secret: GatewaySecret) -> Self {
        Self { secret }
    }

    fn mac(&self, plan: Uuid, expires: i64) -> Hmac<Sha256> {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.secret.expose().as_bytes()).expect("HMAC takes any key length");
        mac.update(format!("export:{plan}:{expires}").as_bytes());
        mac
    }

    /// `?expires=<unix seconds>&signature=<hex>` for `plan`, valid until `expires`.
    pub fn query(&self, plan: Uuid, expires: i64) -> String {
        let signature = hex::encode(self.mac(plan, expires).finalize().into_bytes());
        format!("expires={expires}&signature={signature}")
    }

    /// Whether `signature` was made by [`LinkSigner::query`] for `plan` and `expires`
    /// (compared in constant time).
    fn valid(&self, plan: Uuid, expires: i64, signature: &str) -> bool {
        hex::decode(signature).is_ok_and(|bytes| self.mac(plan, expires).verify_slice(&bytes).is_ok())
    }
}

/// The link to a plan's export: the bare path for an approved plan, a signed one for a draft.
/// Only call it for someone who may see the plan.
pub fn link(plan: &PlanRow, format: ExportFormat, signer: Option<&LinkSigner>, now: i64) -> String {
    let path = path(plan.id, format);
    match signer {
        Some(signer) if plan.state != "APPROVED" => format!("{path}?{}", signer.query(plan.id, now + LINK_LIFETIME)),
        _ => path,
    }
}

/// A cell of the exported table, typed for XLSX.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Date(NaiveDate),
    Number(f64),
}

impl Cell {
    fn text(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }

    /// The cell as CSV writes it (dates as a Russian-locale sheet shows them).
    pub fn as_text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Date(d) => d.format("%d.%m.%Y").to_string(),
            Cell::Number(n) => {
                let s = if n.fract() == 0.0 {
                    format!("{n:.0}")
                } else {
                    n.to_string()
                };
                s.replace('.', ",")
            }
        }
    }
}

/// What one plan's export is made of (read by [`routes`], or built in tests).
pub struct ExportInput<'a> {
    pub plan: &'a PlanRow,
    /// The current version's text (absent for plans created by hand).
    pub source_text: Option<&'a str>,
    pub sections: &'a [SectionRow],
    /// In document order.
    pub measures: &'a [MeasureRow],
    pub statuses: &'a HashMap<Uuid, StatusRow>,
    pub today: NaiveDate,
}

/// The known columns, in the order of the measure table; the headers are ones the parser
/// recognises, so an export reads back into the same fields.
/// A known column: its header and the measure's text in it.
type Known = (&'static str, fn(&MeasureRow) -> String);

const KNOWN: [Known; 7] = [
    ("Наименование мероприятия", |m| m.title.clone()),
    ("Срок исполнения", |m| {
        m.schedule_text.clone().unwrap_or_default()
    }),
    ("Ответственные исполнители", |m| {
        m.responsible_text.clone().unwrap_or_default()
    }),
    ("Ожидаемый результат", |m| {
        m.expected_result.clone().unwrap_or_default()
    }),
    ("Показатель", |m| m.indicator_text.clone().unwrap_or_default()),
    ("Форма отчетного документа", |m| {
        m.reporting_forms.clone().unwrap_or_default()
    }),
    ("Примечание", |m| m.notes.clone().unwrap_or_default()),
];

/// Headers of the derived columns (each names a role the readers know: see the module docs).
pub const DERIVED_HEADERS: [&str; 4] = [
    "Срок, дата [вычислено]",
    "Ответственные, по справочнику [вычислено]",
    "Результат: статус [вычислено]",
    "Результат: выполнено, % [вычислено]",
];

/// The `extra` cells of a measure as (header, value).
fn extra_of(m: &MeasureRow) -> Vec<(String, String)> {
    m.extra
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e["header"].as_str()?.to_string(), e["value"].as_str()?.to_string())))
        .collect()
}

/// The parties of a measure as the parser resolved them: a reference list's name when one
/// matched, else the full name (an abbreviation expanded), one per line.
fn resolved_parties(m: &MeasureRow) -> String {
    m.parties
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            p["known"]["canonical"]
                .as_str()
                .or_else(|| p["full_name"].as_str())
                .or_else(|| p["name"].as_str())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The heading of the document: the lines of `text` before its first table header, as rows of
/// cells (a tab separates cells, U+2028 is a line break inside one).
fn preamble(text: &str) -> Vec<Vec<Cell>> {
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let end = roadmap_import::table::find_headers(&lines)
        .first()
        .map(|h| h.line.saturating_sub(1))
        .unwrap_or(0);
    let mut rows: Vec<Vec<Cell>> = lines[..end]
        .iter()
        .map(|l| {
            l.split('\t')
                .map(|c| Cell::Text(c.replace(roadmap_import::CELL_LINE_BREAK, "\n")))
                .collect()
        })
        .collect();
    // Leading blank lines carry nothing (a sheet reader starts at the first filled cell anyway).
    let first = rows
        .iter()
        .position(|r| r.iter().any(|c| !c.as_text().trim().is_empty()))
        .unwrap_or(rows.len());
    rows.drain(..first);
    rows
}

/// The export as rows of cells (see the module docs).
pub fn table(input: &ExportInput<'_>) -> Vec<Vec<Cell>> {
    let mut rows = match input.source_text {
        Some(text) => preamble(text),
        None => Vec::new(),
    };
    if rows.is_empty() {
        rows.push(vec![Cell::text(&input.plan.title)]);
        if let Some(period) = &input.plan.period_text {
            rows.push(vec![Cell::text(period)]);
        }
    }
    let mut extra_headers: Vec<String> = Vec::new();
    for m in input.measures {
        for (h, _) in extra_of(m) {
            if !extra_headers.contains(&h) {
                extra_headers.push(h);
            }
        }
    }
    let (milestones, measures): (Vec<&MeasureRow>, Vec<&MeasureRow>) =
        input.measures.iter().partition(|m| m.kind == "MILESTONE");
    let columns = Columns {
        extra: &extra_headers,
        statuses: input.statuses,
        today: input.today,
    };

    if !measures.is_empty() {
        let numbered = measures.iter().any(|m| !m.number.trim().is_empty());
        rows.push(columns.header(numbered, false));
        let mut sections: Vec<&SectionRow> = input.sections.iter().collect();
        sections.sort_by_key(|s| s.position);
        for s in &sections {
            let of_section: Vec<&&MeasureRow> = measures.iter().filter(|m| m.section_id == Some(s.id)).collect();
            if of_section.is_empty() && milestones.iter().any(|m| m.section_id == Some(s.id)) {
                continue;
            }
            // Sections without a number are the implicit section of a table without section
            // rows: the heading before the table names it.
            if !s.number.trim().is_empty() {
                let mut row = vec![Cell::Text(format!("Раздел {} {}", s.number.trim(), s.title.trim()))];
                row.resize(columns.width(numbered), Cell::Text(String::new()));
                rows.push(row);
            }
            for m in of_section {
                rows.push(columns.row(m, numbered, false));
            }
        }
        let known: Vec<Uuid> = sections.iter().map(|s| s.id).collect();
        for m in measures
            .iter()
            .filter(|m| m.section_id.is_none_or(|s| !known.contains(&s)))
        {
            rows.push(columns.row(m, numbered, false));
        }
    }
    if !milestones.is_empty() {
        let numbered = milestones.iter().any(|m| !m.number.trim().is_empty());
        rows.push(vec![Cell::Text(String::new())]);
        rows.push(columns.header(numbered, true));
        for m in &milestones {
            rows.push(columns.row(m, numbered, true));
        }
    }
    rows
}

/// The column layout of both tables.
struct Columns<'a> {
    extra: &'a [String],
    statuses: &'a HashMap<Uuid, StatusRow>,
    today: NaiveDate,
}

impl Columns<'_> {
    fn width(&self, numbered: bool) -> usize {
        usize::from(numbered) + KNOWN.len() + self.extra.len() + DERIVED_HEADERS.len()
    }

    /// The order of the known columns: the control-point table swaps schedule and responsible,
    /// so the parser sees a header with other roles (a header with the same roles in the same
    /// order is taken for the first table's header repeated after a page break).
    fn order(milestones: bool) -> [usize; 7] {
        if milestones {
            [0, 2, 1, 3, 4, 5, 6]
        } else {
            [0, 1, 2, 3, 4, 5, 6]
        }
    }

    fn header(&self, numbered: bool, milestones: bool) -> Vec<Cell> {
        let mut row = Vec::with_capacity(self.width(numbered));
        if numbered {
            row.push(Cell::text("№ п/п"));
        }
        for i in Self::order(milestones) {
            let name = if i == 0 && milestones {
                "Контрольная точка"
            } else {
                KNOWN[i].0
            };
            row.push(Cell::text(name));
        }
        row.extend(self.extra.iter().map(|h| Cell::text(h)));
        row.extend(DERIVED_HEADERS.iter().map(|h| Cell::text(h)));
        row
    }

    fn row(&self, m: &MeasureRow, numbered: bool, milestones: bool) -> Vec<Cell> {
        let mut row = Vec::with_capacity(self.width(numbered));
        if numbered {
            row.push(Cell::Text(m.number.clone()));
        }
        for i in Self::order(milestones) {
            row.push(Cell::Text((KNOWN[i].1)(m)));
        }
        let extra = extra_of(m);
        for h in self.extra {
            let value = extra.iter().find(|(eh, _)| eh == h).map(|(_, v)| v.clone());
            row.push(Cell::Text(value.unwrap_or_default()));
        }
        row.push(m.due_on.map(Cell::Date).unwrap_or_else(|| Cell::text("")));
        row.push(Cell::Text(resolved_parties(m)));
        let status = self.statuses.get(&m.id);
        row.push(Cell::Text(
            status
                .map(|s| cascade::effective_status(s, self.today).as_db().to_string())
                .unwrap_or_default(),
        ));
        row.push(
            status
                .and_then(|s| s.progress)
                .map(Cell::Number)
                .unwrap_or_else(|| Cell::text("")),
        );
        row
    }
}

/// The table as CSV: UTF-8 with BOM, `;`, rows of different lengths allowed.
pub fn to_csv(rows: &[Vec<Cell>]) -> Result<Vec<u8>, csv::Error> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .flexible(true)
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        for row in rows {
            // A blank line is one empty field, which the writer quotes (`""`) so it is not an
            // empty line a reader skips.
            let cells: Vec<String> = if row.is_empty() {
                vec![String::new()]
            } else {
                row.iter().map(Cell::as_text).collect()
            };
            writer.write_record(&cells)?;
        }
        writer.flush()?;
    }
    Ok(out)
}

/// The table as an XLSX workbook of one sheet.
pub fn to_xlsx(rows: &[Vec<Cell>], title: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook};
    let mut workbook = Workbook::new();
    workbook.set_properties(&rust_xlsxwriter::DocProperties::new().set_title(title));
    let sheet = workbook.add_worksheet();
    sheet.set_name("Дорожная карта")?;
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let date = Format::new().set_num_format("dd.mm.yyyy").set_align(FormatAlign::Top);
    let mut widest = 0;
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r).map_err(|_| rust_xlsxwriter::XlsxError::RowColumnLimitError)?;
        widest = widest.max(row.len());
        for (c, cell) in row.iter().enumerate() {
            let c = u16::try_from(c).map_err(|_| rust_xlsxwriter::XlsxError::RowColumnLimitError)?;
            match cell {
                Cell::Text(s) if s.is_empty() => {}
                Cell::Text(s) => {
                    sheet.write_string_with_format(r, c, s, &wrap)?;
                }
                Cell::Date(d) => {
                    let day = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                    sheet.write_datetime_with_format(r, c, &day, &date)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(r, c, *n)?;
                }
            }
        }
    }
    for c in 0..widest.min(200) {
        sheet.set_column_width(c as u16, if c == 0 { 10 } else { 30 })?;
    }
    workbook.save_to_buffer()
}

/// Drops the derived columns of an export from a document's rendered text before it is parsed:
/// from a table header whose cells include headers ending in [`DERIVED_MARK`] (and which is a
/// roadmap header without them), those columns are removed from it and every following line,
/// up to the next such header. Lines keep their numbers. Returns the text and the headers
/// dropped (each once); the text is borrowed unchanged when there are none.
pub fn strip_derived_columns(text: &str) -> (std::borrow::Cow<'_, str>, Vec<String>) {
    if !text.contains(DERIVED_MARK) {
        return (std::borrow::Cow::Borrowed(text), Vec::new());
    }
    let mut dropped: Vec<String> = Vec::new();
    let mut drop: Vec<usize> = Vec::new();
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let cells: Vec<&str> = line.split('\t').collect();
        let derived: Vec<usize> = (0..cells.len())
            .filter(|&c| cells[c].trim().ends_with(DERIVED_MARK))
            .collect();
        if !derived.is_empty() {
            let rest: Vec<String> = (0..cells.len())
                .filter(|c| !derived.contains(c))
                .map(|c| cells[c].to_string())
                .collect();
            if roadmap_import::table::header_from_cells(&rest).is_some() {
                for &c in &derived {
                    let name = cells[c].trim().to_string();
                    if !dropped.contains(&name) {
                        dropped.push(name);
                    }
                }
                drop = derived;
            }
        }
        if drop.is_empty() || !line.contains('\t') {
            out.push_str(line);
            continue;
        }
        let kept: Vec<&str> = (0..cells.len())
            .filter(|c| !drop.contains(c))
            .map(|c| cells[c])
            .collect();
        out.push_str(&kept.join("\t"));
    }
    if dropped.is_empty() {
        return (std::borrow::Cow::Borrowed(text), Vec::new());
    }
    (std::borrow::Cow::Owned(out), dropped)
}

#[derive(Clone)]
struct Exports {
    pool: PgPool,
    signer: LinkSigner,
    clock: Clock,
}

/// The export routes, to merge into the plans subgraph's router.
pub fn routes(pool: PgPool, signer: LinkSigner, clock: Clock) -> Router {
    Router::new()
        .route(ROUTE, get(export))
        .with_state(Exports { pool, signer, clock })
}

#[derive(Deserialize)]
struct LinkParams {
    expires: Option<i64>,
    signature: Option<String>,
}

fn plain(status: StatusCode, message: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message).into_response()
}

fn internal(what: &str, cause: impl std::fmt::Display) -> Response {
    tracing::error!(%cause, "export failed: {what}");
    plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error".to_string())
}

fn service_internal(err: ServiceError) -> Response {
    match err {
        ServiceError::Internal(cause) => internal("database", cause),
        other => internal("database", other.message()),
    }
}

async fn export(State(exports): State<Exports>, Path(file): Path<String>, Query(link): Query<LinkParams>) -> Response {
    let parsed = [ExportFormat::Csv, ExportFormat::Xlsx]
        .into_iter()
        .find_map(|f| file.strip_suffix(&format!(".{}", f.extension())).map(|id| (id, f)));
    let Some((id, format)) = parsed else {
        return plain(
            StatusCode::NOT_FOUND,
            format!("no export `{file}`: exports are at /export/plans/<plan id>.csv or .xlsx"),
        );
    };
    let Ok(plan_id) = Uuid::parse_str(id) else {
        return plain(StatusCode::BAD_REQUEST, format!("`{id}` is not a plan id"));
    };
    let not_found = || plain(StatusCode::NOT_FOUND, format!("plan {plan_id} not found"));
    let plan = match store::plans_by_ids(&exports.pool, &[plan_id]).await {
        Ok(rows) => match rows.into_iter().next() {
            Some(plan) => plan,
            None => return not_found(),
        },
        Err(e) => return service_internal(e),
    };
    if plan.state != "APPROVED" {
        let (Some(expires), Some(signature)) = (link.expires, link.signature.as_deref()) else {
            return not_found();
        };
        if !exports.signer.valid(plan_id, expires, signature) {
            return not_found();
        }
        if expires < chrono::Utc::now().timestamp() {
            return plain(
                StatusCode::FORBIDDEN,
                format!("this link to the draft plan {plan_id} has expired; ask for a new one (Plan.exports)"),
            );
        }
    }
    let body = match render(&exports, &plan, format).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{plan_id}.{}\"", format.extension()),
            ),
            // Drafts are behind a signed link: keep them out of shared caches.
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

/// Reads the plan's rows (five statements, whatever the number of measures) and renders them.
async fn render(exports: &Exports, plan: &PlanRow, format: ExportFormat) -> Result<Vec<u8>, Response> {
    let pool = &exports.pool;
    let sections = store::sections_by_plans(pool, &[plan.id])
        .await
        .map_err(service_internal)?;
    let measures = store::measures_by_plans(pool, &[plan.id])
        .await
        .map_err(service_internal)?;
    let ids: Vec<Uuid> = measures.iter().map(|m| m.id).collect();
    let statuses: HashMap<Uuid, StatusRow> = store::statuses(pool, &ids)
        .await
        .map_err(service_internal)?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let source_text = store::version_source_text(pool, plan.id, plan.version)
        .await
        .map_err(service_internal)?;
    let rows = table(&ExportInput {
        plan,
        source_text: source_text.as_deref(),
        sections: &sections,
        measures: &measures,
        statuses: &statuses,
        today: exports.clock.today_in_named(plan.time_zone.as_deref()),
    });
    match format {
        ExportFormat::Csv => to_csv(&rows).map_err(|e| internal("csv", e)),
        ExportFormat::Xlsx => to_xlsx(&rows, &plan.title).map_err(|e| internal("xlsx", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_columns_are_dropped_from_their_header_on_and_line_numbers_kept() {
        let text = "Заголовок\n№ п/п\tНаименование мероприятия\tСрок\tСрок, дата [вычислено]\tИсточник\n\
                    1.\tСеминар\tмарт 2024\t31.03.2024\tбюджет\nконец";
        let (stripped, dropped) = strip_derived_columns(text);
        assert_eq!(dropped, vec!["Срок, дата [вычислено]".to_string()]);
        assert_eq!(
            stripped,
            "Заголовок\n№ п/п\tНаименование мероприятия\tСрок\tИсточник\n1.\tСеминар\tмарт 2024\tбюджет\nконец"
        );
        // A body cell that happens to end with the mark is not a header.
        let plain = "№ п/п\tНаименование мероприятия\tСрок\n1.\tОтчёт [вычислено]\tмарт";
        assert_eq!(
            strip_derived_columns(plain),
            (std::borrow::Cow::Borrowed(plain), Vec::new())
        );
    }

    #[test]
    fn every_derived_header_is_marked_and_names_a_role() {
        for h in DERIVED_HEADERS {
            assert!(h.ends_with(DERIVED_MARK), "{h}");
            assert!(roadmap_import::table::classify_header(h).is_some(), "{h}");
        }
    }

    #[test]
    fn draft_links_are_signed_and_checked() {
        let signer = LinkSigner::new(GatewaySecret::new("0123456789abcdef-secret").unwrap());
        let plan = Uuid::new_v4();
        let query = signer.query(plan, 1_000);
        let signature = query.split("signature=").nth(1).unwrap();
        assert!(signer.valid(plan, 1_000, signature));
        assert!(!signer.valid(plan, 1_001, signature), "the expiry is signed");
        assert!(!signer.valid(Uuid::new_v4(), 1_000, signature), "the plan is signed");
        assert!(!signer.valid(plan, 1_000, "zz"));
        let other = LinkSigner::new(GatewaySecret::new("another-secret-of-16").unwrap());
        assert!(!other.valid(plan, 1_000, signature));
    }

    fn plan_row(id: Uuid, title: &str) -> PlanRow {
        PlanRow::new(id, title.to_string(), "REGIONAL", "APPROVED")
    }

    /// Every seed exported as CSV and XLSX reads back (through the same readers and parser as an
    /// import) into the same plan: identity, sections, and no measure added, removed or changed.
    #[test]
    fn seeds_exported_and_read_back_report_no_change() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/roadmaps");
        let mut seeds: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        seeds.sort();
        assert_eq!(seeds.len(), 5);
        // Merged cells, two-row headers, extra columns, two responsible columns.
        seeds.push(format!("{dir}/formats/features.docx").into());
        seeds.push(format!("{dir}/formats/features.xlsx").into());
        let today = NaiveDate::from_ymd_opt(2024, 6, 1).unwrap();
        let mut extra_cells = 0;
        for seed in seeds {
            let bytes = std::fs::read(&seed).unwrap();
            let text = roadmap_import::read_document(&seed.display().to_string(), &bytes)
                .unwrap()
                .text;
            let doc = roadmap_import::parse_document(&text).unwrap();
            let plan_id = Uuid::new_v4();
            let (sections, measures, _) = crate::import::rows_of(&doc, plan_id, &[]);
            let statuses: HashMap<Uuid, StatusRow> = measures
                .iter()
                .map(|m| {
                    let s = StatusRow {
                        id: m.id,
                        status: "IN_PROGRESS".to_string(),
                        progress: Some(42.5),
                        weight: 1.0,
                        rolled_progress: None,
                        rolled_read: true,
                        due_on: m.due_on,
                        time_zone: None,
                    };
                    (m.id, s)
                })
                .collect();
            let plan = plan_row(plan_id, doc.meta.title.as_deref().unwrap_or(""));
            let rows = table(&ExportInput {
                plan: &plan,
                source_text: Some(&text),
                sections: &sections,
                measures: &measures,
                statuses: &statuses,
                today,
            });
            let files = [
                ("csv", to_csv(&rows).unwrap()),
                ("xlsx", to_xlsx(&rows, &plan.title).unwrap()),
            ];
            for (ext, bytes) in files {
                let name = format!("{}.{ext}", seed.display());
                let read = roadmap_import::read_document(&name, &bytes).unwrap_or_else(|e| panic!("{e}"));
                let (stripped, ignored) = strip_derived_columns(&read.text);
                assert_eq!(ignored, DERIVED_HEADERS.to_vec(), "{name}");
                let again = roadmap_import::parse_document(&stripped).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(again.meta.title, doc.meta.title, "{name}");
                // Lines differ (a sheet starts at its first filled row); what identifies the plan may not.
                let act = |d: &roadmap_import::ParsedDocument| {
                    d.meta
                        .approval
                        .as_ref()
                        .map(|a| (a.kind.clone(), a.number.clone(), a.date, a.signatory.clone()))
                };
                assert_eq!(act(&again), act(&doc), "{name}");
                assert_eq!(again.meta.goals, doc.meta.goals, "{name}");
                assert_eq!(
                    again.meta.period.as_ref().map(|p| (p.start, p.end)),
                    doc.meta.period.as_ref().map(|p| (p.start, p.end)),
                    "{name}"
                );
                assert_eq!(again.stats.extra_columns, doc.stats.extra_columns, "{name}");
                extra_cells += measures.iter().map(|m| extra_of(m).len()).sum::<usize>();
                let (sections2, measures2, changes) = crate::import::rows_of(&again, plan_id, &measures);
                let titles = |s: &[SectionRow]| {
                    s.iter()
                        .map(|s| (s.number.clone(), s.title.clone()))
                        .collect::<Vec<_>>()
                };
                assert_eq!(titles(&sections2), titles(&sections), "{name}");
                assert_eq!(changes, crate::import::Changes::default(), "{name}");
                assert_eq!(measures2.len(), measures.len(), "{name}");
                for (a, b) in measures.iter().zip(&measures2) {
                    let fields = |m: &MeasureRow| {
                        (
                            m.key.clone(),
                            m.kind.clone(),
                            m.reporting_forms.clone(),
                            m.notes.clone(),
                            m.indicator_text.clone(),
                            m.schedule.clone(),
                            m.due_on,
                            m.parent_measure_id.is_some(),
                        )
                    };
                    assert_eq!(fields(a), fields(b), "{name}");
                }
            }
        }
        assert!(
            extra_cells > 0,
            "the features fixtures have extra columns to carry through"
        );
    }

    #[test]
    fn numbers_and_dates_read_as_a_russian_sheet_shows_them() {
        assert_eq!(Cell::Number(42.5).as_text(), "42,5");
        assert_eq!(Cell::Number(100.0).as_text(), "100");
        assert_eq!(
            Cell::Date(NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()).as_text(),
            "01.03.2024"
        );
    }
}
