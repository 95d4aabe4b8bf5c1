//! Turns extracted text into table rows.
//!
//! Two extraction layouts occur and both are handled:
//! * row per line: cells separated by tabs (or `|` pipes for markdown tables); an empty first
//!   cell shows as a leading tab;
//! * cell per line: every cell starts with a tab on its own line, lines without a leading tab
//!   continue the previous cell, and rows are separated by blank lines (which a page break can
//!   also insert in the middle of a row).
//!
//! Noise rows are dropped here: repeated header rows (including the `1 2 3 4 5` column
//! numbering), markdown rules, page footers. A dropped row or a blank line marks the next row
//! as following a page break, which is what later tells a continuation row apart from a sub-row.

use std::sync::LazyLock;

use regex::Regex;

use crate::text::{collapse_spaces, fold, normalize_multiline, strip_noise};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Number,
    Title,
    Responsible,
    Schedule,
    Result,
    Indicator,
    ReportingForms,
    Notes,
}

/// Header texts the detector recognises, for error messages.
pub const HEADERS_LOOKED_FOR: &str = "\"№ п/п\", \"Наименование мероприятия\", \"Мероприятия\", \"Контрольная точка\", \"Ответственные исполнители\", \"Ответственный\", \"Сроки\", \"Срок\", \"Сроки исполнения\", \"Результаты/показатели реализации\", \"Планируемый результат\", \"Показатель\", \"Формы отчетных документов\", \"Примечания/комментарий\"";

/// Maps a header cell to a column role. Stems rather than whole words so spelling and case
/// variants ("Ответсвенные", "СРОКИ ИСПОЛНЕНИЯ", "Мероприятие") still match.
pub fn classify_header(cell: &str) -> Option<Role> {
    // Headers are short; checking the byte length first keeps long cells cheap.
    if cell.len() > 400 {
        return None;
    }
    let f = fold(&collapse_spaces(cell));
    if f.is_empty() || f.chars().count() > 60 {
        return None;
    }
    let has = |s: &str| f.contains(s);
    if has("ответс") || has("исполнител") || has("участник") || has("ответвен") {
        Some(Role::Responsible)
    } else if has("срок") || f == "дата" || f.starts_with("период") || has("дата проведения")
    {
        Some(Role::Schedule)
    } else if has("примечан") || has("комментар") {
        Some(Role::Notes)
    } else if has("отчетн") || (has("форм") && has("отчет")) {
        Some(Role::ReportingForms)
    } else if has("результат") || has("ожидаем") {
        Some(Role::Result)
    } else if has("показател") || has("индикатор") || has("критери") {
        Some(Role::Indicator)
    } else if has("№") || has("п/п") || f == "n" || f.starts_with("номер") {
        Some(Role::Number)
    } else if has("мероприят") || has("наименован") || has("содержание работ") || (has("контрольн") && has("точк"))
    {
        Some(Role::Title)
    } else {
        None
    }
}

/// The header of a table: the role of every column in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub roles: Vec<Option<Role>>,
    pub line: usize,
    /// The title column says "Контрольная точка".
    pub milestones: bool,
    pub layout: Layout,
    /// Index of the first line after the header.
    pub body_start: usize,
    /// The header text of every column, whitespace-collapsed (both rows of a two-row header
    /// joined by a space). Names the columns kept as extra columns.
    pub names: Vec<String>,
}

impl Header {
    /// The first column of a role (the number and title columns occur once).
    pub fn col(&self, role: Role) -> Option<usize> {
        self.roles.iter().position(|r| *r == Some(role))
    }

    /// What joins the cell of column `col` to the cell of an earlier column of the same role
    /// in one row: a dash between a start and an end column ("Срок начала" + "Срок окончания"
    /// read as one window), a line break otherwise ("Ответственный" + "Соисполнители").
    pub fn joiner(&self, col: usize) -> &'static str {
        let role = self.roles.get(col).copied().flatten();
        let prev = (0..col).rev().find(|&c| self.roles.get(c).copied().flatten() == role);
        let name = |c: usize| fold(self.names.get(c).map(String::as_str).unwrap_or(""));
        match (role, prev) {
            (Some(Role::Schedule), Some(p)) if is_start_name(&name(p)) && is_end_name(&name(col)) => " – ",
            _ => "\n",
        }
    }

    /// Header text of a column for an extra-column record.
    pub fn name(&self, col: usize) -> String {
        match self.names.get(col).filter(|n| !n.is_empty()) {
            Some(n) => n.clone(),
            None => format!("столбец {}", col + 1),
        }
    }
}

fn is_start_name(f: &str) -> bool {
    f.contains("начал") || f.contains("старт")
}

fn is_end_name(f: &str) -> bool {
    f.contains("оконч") || f.contains("заверш") || f.contains("конец") || f.contains("исполнен")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    RowPerLine,
    CellPerLine,
}

/// Recognises a header from its cells; requires a title column and one of responsible,
/// deadline or result, and most cells recognised (so prose mentioning "сроки" is not taken).
pub fn header_from_cells(cells: &[String]) -> Option<(Vec<Option<Role>>, bool)> {
    let non_empty: Vec<&String> = cells.iter().filter(|c| !c.trim().is_empty()).collect();
    if non_empty.len() < 2 {
        return None;
    }
    let roles: Vec<Option<Role>> = cells.iter().map(|c| classify_header(c)).collect();
    let recognised = roles.iter().filter(|r| r.is_some()).count();
    let has = |r: Role| roles.contains(&Some(r));
    if !has(Role::Title) || !(has(Role::Responsible) || has(Role::Schedule) || has(Role::Result)) {
        return None;
    }
    if recognised * 3 < non_empty.len() * 2 {
        return None;
    }
    // The number and title columns are taken once (a second one is kept as an extra column);
    // other roles may span several columns, whose cells are combined in column order
    // ("Ответственный" + "Соисполнители", "Срок начала" + "Срок окончания").
    let mut seen = Vec::new();
    let roles = roles
        .into_iter()
        .map(|r| match r {
            Some(x @ (Role::Number | Role::Title)) if seen.contains(&x) => None,
            Some(x) => {
                seen.push(x);
                Some(x)
            }
            None => None,
        })
        .collect();
    let milestones = cells.iter().any(|c| {
        let f = fold(c);
        f.contains("контрольн") && f.contains("точк")
    });
    Some((roles, milestones))
}

pub fn split_row(line: &str) -> Vec<String> {
    let t = line.trim();
    if t.starts_with('|') && t.ends_with('|') && t.len() >= 2 {
        let inner = t.get(1..t.len() - 1).unwrap_or("");
        return inner.split('|').map(|c| c.to_string()).collect();
    }
    line.split('\t').map(|c| c.to_string()).collect()
}

/// True for a line that is blank in the cell-per-line layout (a lone tab is an empty cell).
fn is_blank(line: &str) -> bool {
    !line.contains('\t') && line.trim().is_empty()
}

/// Finds every table header in the document, in order.
pub fn find_headers(lines: &[&str]) -> Vec<Header> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let cells = split_row(line);
        if cells.len() >= 2
            && let Some((mut roles, milestones)) = header_from_cells(&cells)
        {
            let mut names: Vec<String> = cells.iter().map(|c| collapse_spaces(&strip_noise(c).0)).collect();
            let mut body_start = i + 1;
            // A second header row under merged cells ("Сроки" over "начало | окончание") is
            // part of the header: its names are joined to the ones above.
            if let Some(next) = lines.get(i + 1)
                && let Some(joined) = join_sub_header(&names, &split_row(next))
                && let Some((r, _)) = header_from_cells(&joined)
            {
                roles = r;
                names = joined;
                body_start = i + 2;
            }
            // The same header again is a repeated header after a page break, not a new table.
            let repeated = out
                .last()
                .is_some_and(|h: &Header| h.roles == roles && h.layout == Layout::RowPerLine);
            if !repeated {
                out.push(Header {
                    roles,
                    line: i + 1,
                    milestones,
                    layout: Layout::RowPerLine,
                    body_start,
                    names,
                });
            }
            i = body_start;
            continue;
        }
        // Cell-per-line header: consecutive "\t<text>" lines.
        if line.starts_with('\t') && cells.len() == 2 {
            let mut j = i;
            let mut block = Vec::new();
            while j < lines.len() && lines[j].starts_with('\t') && split_row(lines[j]).len() == 2 {
                block.push(lines[j].trim().to_string());
                j += 1;
            }
            if block.len() >= 2
                && let Some((roles, milestones)) = header_from_cells(&block)
            {
                out.push(Header {
                    roles,
                    line: i + 1,
                    milestones,
                    layout: Layout::CellPerLine,
                    body_start: j,
                    names: block.iter().map(|c| collapse_spaces(&strip_noise(c).0)).collect(),
                });
            }
            // A header block starts at a block boundary; re-scanning from every line of a long
            // block would be quadratic.
            i = j.max(i + 1);
            continue;
        }
        i += 1;
    }
    out
}

/// The header names joined with a second header row, when `sub` is one: short texts that are
/// not numbers, at least one of them under an empty header cell (the covered part of a
/// horizontally merged "Сроки"). A name equal to the one above (a vertically merged cell whose
/// value a reader repeated) is taken once.
fn join_sub_header(top: &[String], sub: &[String]) -> Option<Vec<String>> {
    let sub: Vec<String> = sub.iter().map(|c| collapse_spaces(&strip_noise(c).0)).collect();
    let filled = || sub.iter().enumerate().filter(|(_, c)| !c.is_empty());
    if filled().count() == 0 || sub.len() > top.len() + 1 {
        return None;
    }
    // Cells repeating the one above are a vertically merged header cell ("№" over both rows).
    let wordy = filled().filter(|(i, c)| top.get(*i) != Some(*c)).all(|(_, c)| {
        c.chars().count() <= 40
            && !c.chars().next().is_some_and(|ch| ch.is_ascii_digit())
            && c.chars().any(char::is_alphabetic)
    });
    let under_span = filled().any(|(i, _)| top.get(i).is_none_or(|t| t.is_empty()));
    let under_named_span = filled()
        .any(|(i, _)| top.get(i).is_some_and(|t| !t.is_empty()) && top.get(i + 1).is_some_and(|t| t.is_empty()));
    if !wordy || !under_span || !under_named_span {
        return None;
    }
    let mut parent = String::new();
    let width = top.len().max(sub.len());
    let mut out = Vec::with_capacity(width);
    for i in 0..width {
        let t = top.get(i).map(String::as_str).unwrap_or("");
        if !t.is_empty() {
            parent = t.to_string();
        }
        let s = sub.get(i).map(String::as_str).unwrap_or("");
        let base = if t.is_empty() { parent.as_str() } else { t };
        out.push(match (base.is_empty(), s.is_empty() || s == base) {
            (_, true) => t.to_string(),
            (true, false) => s.to_string(),
            (false, false) => format!("{base} {s}"),
        });
    }
    Some(out)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: usize,
    /// Cleaned cells (noise removed, lines trimmed, line breaks kept).
    pub cells: Vec<String>,
    pub after_break: bool,
}

impl Row {
    pub fn non_empty(&self) -> usize {
        self.cells.iter().filter(|c| !c.is_empty()).count()
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct NoiseStats {
    pub repeated_headers: usize,
    pub footers: usize,
    pub markdown_rules: usize,
    pub markup: usize,
    /// Lines of dropped rows, so a caller can show what was removed as noise.
    pub dropped_lines: Vec<usize>,
}

static FOOTER: LazyLock<Regex> = LazyLock::new(|| {
    // Document-management stamps such as "3.12-1471-р (п)(4.0)", and bare page numbers.
    Regex::new(r"^(?:[0-9A-Za-zА-Яа-яЁё]{1,4}[.\d]*-\d+-[а-яa-z.]+\s*\([^)]{0,8}\)\s*\(\d+(?:\.\d+)?\)|-?\s*\d{1,3}\s*-?|стр(?:аница)?\.?\s*\d+(?:\s+из\s+\d+)?)$")
        .expect("static regex")
});

fn is_markdown_rule(cells: &[String]) -> bool {
    let non_empty: Vec<&String> = cells.iter().filter(|c| !c.trim().is_empty()).collect();
    !non_empty.is_empty()
        && non_empty.iter().all(|c| {
            c.trim()
                .chars()
                .all(|ch| matches!(ch, '-' | ':' | '=' | '|' | '+' | ' '))
        })
}

fn is_column_numbering(cells: &[String]) -> bool {
    let non_empty: Vec<&str> = cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    non_empty.len() >= 3
        && non_empty
            .iter()
            .enumerate()
            .all(|(i, c)| c.parse::<usize>().ok() == Some(i + 1))
}

fn clean_cells(raw: Vec<String>, stats: &mut NoiseStats) -> Vec<String> {
    raw.into_iter()
        .map(|c| {
            // Readers of structured formats (DOCX, XLSX ...) render a line break inside a cell
            // as U+2028 so that one table row stays one line of text.
            let (s, n) = strip_noise(&c.replace(crate::CELL_LINE_BREAK, "\n"));
            stats.markup += n;
            normalize_multiline(&s)
        })
        .collect()
}

/// Classifies a raw row as noise; returns true when it must be dropped.
fn drop_noise(cells: &[String], line: usize, stats: &mut NoiseStats) -> bool {
    let dropped = is_noise(cells, stats);
    if dropped {
        stats.dropped_lines.push(line);
    }
    dropped
}

fn is_noise(cells: &[String], stats: &mut NoiseStats) -> bool {
    if is_markdown_rule(cells) {
        stats.markdown_rules += 1;
        return true;
    }
    if is_column_numbering(cells) || (cells.len() >= 2 && header_from_cells(cells).is_some()) {
        stats.repeated_headers += 1;
        return true;
    }
    let non_empty: Vec<&String> = cells.iter().filter(|c| !c.is_empty()).collect();
    if let [only] = non_empty.as_slice()
        && !only.contains('\n')
        && FOOTER.is_match(only.trim())
    {
        stats.footers += 1;
        return true;
    }
    false
}

/// Rows of the table whose header is `h`, up to line index `end` (exclusive).
pub fn rows(lines: &[&str], h: &Header, end: usize, stats: &mut NoiseStats) -> Vec<Row> {
    match h.layout {
        Layout::RowPerLine => rows_per_line(lines, h, end, stats),
        Layout::CellPerLine => rows_cell_per_line(lines, h, end, stats),
    }
}

fn rows_per_line(lines: &[&str], h: &Header, end: usize, stats: &mut NoiseStats) -> Vec<Row> {
    let mut out = Vec::new();
    let mut after_break = false;
    for (idx, line) in lines.iter().enumerate().take(end).skip(h.body_start) {
        if line.trim().is_empty() {
            after_break = true;
            continue;
        }
        let cells = clean_cells(split_row(line), stats);
        if cells.iter().all(|c| c.is_empty()) {
            after_break = true;
            continue;
        }
        if drop_noise(&cells, idx + 1, stats) {
            after_break = true;
            continue;
        }
        out.push(Row {
            line: idx + 1,
            cells,
            after_break,
        });
        after_break = false;
    }
    out
}

fn rows_cell_per_line(lines: &[&str], h: &Header, end: usize, stats: &mut NoiseStats) -> Vec<Row> {
    // First group lines into blocks of cells.
    let mut blocks: Vec<(usize, Vec<String>)> = Vec::new();
    let mut current: Option<(usize, Vec<String>)> = None;
    for (idx, line) in lines.iter().enumerate().take(end).skip(h.body_start) {
        if is_blank(line) {
            if let Some(b) = current.take() {
                blocks.push(b);
            }
            continue;
        }
        let block = current.get_or_insert_with(|| (idx + 1, Vec::new()));
        if let Some(rest) = line.strip_prefix('\t') {
            block.1.extend(rest.split('\t').map(|c| c.to_string()));
        } else if let Some(last) = block.1.last_mut() {
            last.push('\n');
            last.push_str(line);
        } else {
            block.1.push(line.to_string());
        }
    }
    if let Some(b) = current.take() {
        blocks.push(b);
    }
    let width = h.roles.len();
    let mut out: Vec<Row> = Vec::new();
    let mut pending: Option<Row> = None;
    for (line, raw) in blocks {
        let cells = clean_cells(raw, stats);
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        if drop_noise(&cells, line, stats) {
            if let Some(p) = pending.take() {
                out.push(p);
            }
            continue;
        }
        // A blank line inside a row (page break) splits it into two blocks; the second one
        // does not start with a measure number.
        if let Some(p) = pending.as_mut() {
            let starts_with_number = cells
                .first()
                .is_some_and(|c| crate::document::leading_number(c).is_some());
            if p.cells.len() < width && !starts_with_number && p.cells.len() + cells.len() <= width {
                p.cells.extend(cells);
                continue;
            }
        }
        if let Some(p) = pending.take() {
            out.push(p);
        }
        pending = Some(Row {
            line,
            cells,
            after_break: false,
        });
    }
    if let Some(p) = pending.take() {
        out.push(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_any_order_and_spelling() {
        let cells: Vec<String> = [
            "№",
            "Мероприятия/содержание работы",
            "Сроки исполнения",
            "Планируемые результаты",
            "Ответственные, участники",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (roles, ms) = header_from_cells(&cells).unwrap();
        assert_eq!(
            roles,
            vec![
                Some(Role::Number),
                Some(Role::Title),
                Some(Role::Schedule),
                Some(Role::Result),
                Some(Role::Responsible)
            ]
        );
        assert!(!ms);
        let cells: Vec<String> = [
            "Мероприятие",
            "Сроки",
            "Ответственные",
            "Показатель реализации",
            "Формы отчетных документов",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (roles, _) = header_from_cells(&cells).unwrap();
        assert_eq!(
            roles,
            vec![
                Some(Role::Title),
                Some(Role::Schedule),
                Some(Role::Responsible),
                Some(Role::Indicator),
                Some(Role::ReportingForms)
            ]
        );
        let cells: Vec<String> = ["№", "Контрольная точка", "ОТВЕТСВЕННЫЙ", "Срок"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (roles, ms) = header_from_cells(&cells).unwrap();
        assert_eq!(roles[2], Some(Role::Responsible));
        assert!(ms);
        let prose: Vec<String> = ["Группы рисков", "Целевые ориентиры"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(header_from_cells(&prose).is_none());
    }

    #[test]
    fn noise_rows() {
        let mut st = NoiseStats::default();
        let c = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(drop_noise(&c(&["1", "2", "3", "4", "5"]), 1, &mut st));
        assert!(drop_noise(&c(&["----", "--", "---"]), 1, &mut st));
        assert!(drop_noise(&c(&["3.12-1471-р (п)(4.0)"]), 1, &mut st));
        assert!(!drop_noise(
            &c(&["1", "Разработана дорожная карта", "Директор школы"]),
            1,
            &mut st
        ));
        assert!(!drop_noise(&c(&["2. Адресная поддержка школ"]), 1, &mut st));
        assert_eq!((st.repeated_headers, st.markdown_rules, st.footers), (1, 1, 1));
    }
}
