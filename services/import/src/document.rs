//! The whole-document parser: input checks, tables, sections, measures, and assembly of the
//! other parsers' results.
//!
//! Row rules (after `table` removed noise rows):
//! * a section is a row holding only a number and a title, either in one cell
//!   ("2. Адресная поддержка …") or in the number and title columns when the number is Roman
//!   or the next numbered row continues it ("1." followed by "1.1.");
//! * a row with an empty number cell right after a page break continues the previous measure
//!   (the cells are appended);
//! * a row with an empty number cell that is not after a page break, under a measure whose
//!   title ends with ":", is a sub-row (child measure);
//! * in a table without a number column, a row after a page break whose title starts in lower
//!   case continues the previous measure.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::ParseError;
use crate::model::*;
use crate::table::{self, Header, NoiseStats, Role, Row};
use crate::text::{collapse_spaces, starts_lowercase};
use crate::{abbreviations, indicators, lint, meta, parties, schedule, targets};

static LEADING_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^((?:[IVXХ]{1,6}|\d{1,3}(?:\.\d{1,3}){0,3})\.?)(?:\s+|$)").expect("static regex"));
static PURE_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[IVXХ]{1,6}|\d{1,3}(?:\.\d{1,3}){0,3})\.?$").expect("static regex"));

/// The item number a cell starts with ("1.", "III.", "3.1.1."), if it is followed by a space
/// or nothing.
pub fn leading_number(cell: &str) -> Option<String> {
    LEADING_NUMBER
        .captures(cell.trim())
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
}

fn is_pure_number(s: &str) -> bool {
    PURE_NUMBER.is_match(s.trim())
}

fn is_roman(n: &str) -> bool {
    let t = n.trim_end_matches('.');
    !t.is_empty() && t.chars().all(|c| matches!(c, 'I' | 'V' | 'X' | 'Х'))
}

/// Checks the input is text and not empty; returns its lines.
fn check_input(text: &str) -> Result<Vec<&str>, ParseError> {
    for (i, line) in text.split('\n').enumerate() {
        for (col, c) in line.chars().enumerate() {
            let bad = c == '\0' || (c.is_control() && !matches!(c, '\t' | '\r' | '\u{c}' | '\u{b}'));
            if bad {
                return Err(ParseError::Binary {
                    line: i + 1,
                    column: col + 1,
                    what: if c == '\0' {
                        "a NUL byte".to_string()
                    } else {
                        format!("control character U+{:04X}", c as u32)
                    },
                });
            }
        }
    }
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    Ok(text.split('\n').map(|l| l.trim_end_matches('\r')).collect())
}

/// Parses raw bytes, rejecting non-UTF-8 input with the position of the first bad byte.
pub fn parse_document_bytes(bytes: &[u8]) -> Result<ParsedDocument, ParseError> {
    match std::str::from_utf8(bytes) {
        Ok(s) => parse_document(s.strip_prefix('\u{feff}').unwrap_or(s)),
        Err(e) => {
            let offset = e.valid_up_to();
            let line = bytes
                .get(..offset)
                .map(|b| b.iter().filter(|&&c| c == b'\n').count() + 1)
                .unwrap_or(1);
            Err(ParseError::InvalidUtf8 { line, offset })
        }
    }
}

#[derive(Debug, Default, Clone)]
struct RawMeasure {
    number: Option<String>,
    line: usize,
    cells: [String; 8],
    /// Cells of columns without a role: (column, header, text).
    extra: Vec<(usize, String, String)>,
    children: Vec<RawMeasure>,
    continuation_lines: Vec<usize>,
}

fn role_index(r: Role) -> usize {
    match r {
        Role::Number => 0,
        Role::Title => 1,
        Role::Responsible => 2,
        Role::Schedule => 3,
        Role::Result => 4,
        Role::Indicator => 5,
        Role::ReportingForms => 6,
        Role::Notes => 7,
    }
}

impl RawMeasure {
    fn from_row(row: &Row, h: &Header, number: Option<String>) -> Self {
        let mut m = RawMeasure {
            number,
            line: row.line,
            ..Default::default()
        };
        m.append(row, h);
        m
    }

    fn append(&mut self, row: &Row, h: &Header) {
        // The cells of one row first, so that two columns of one role are joined within the
        // row ("start – end") before the row is appended to what earlier rows gave.
        let mut this_row: [String; 8] = Default::default();
        for (col, role) in h.roles.iter().enumerate() {
            let Some(cell) = row.cells.get(col).filter(|c| !c.is_empty()) else {
                continue;
            };
            let Some(role) = role else {
                push_line(self.extra_slot(col, h), cell, "\n");
                continue;
            };
            if *role == Role::Number {
                continue;
            }
            push_line(&mut this_row[role_index(*role)], cell, h.joiner(col));
        }
        for (slot, cell) in self.cells.iter_mut().zip(this_row) {
            push_line(slot, &cell, "\n");
        }
    }

    fn extra_slot(&mut self, col: usize, h: &Header) -> &mut String {
        let i = match self.extra.iter().position(|(c, _, _)| *c == col) {
            Some(i) => i,
            None => {
                self.extra.push((col, h.name(col), String::new()));
                self.extra.sort_by_key(|(c, _, _)| *c);
                self.extra.iter().position(|(c, _, _)| *c == col).unwrap_or(0)
            }
        };
        &mut self.extra[i].2
    }

    fn cell(&self, r: Role) -> &str {
        &self.cells[role_index(r)]
    }
}

fn push_line(slot: &mut String, cell: &str, sep: &str) {
    if cell.is_empty() {
        return;
    }
    if !slot.is_empty() {
        slot.push_str(sep);
    }
    slot.push_str(cell);
}

/// A section row may say "Раздел 2. …" / "Раздел II …": the word is dropped and the number
/// read as usual (with or without its dot, since the word already marks a section).
fn section_prefix(cell: &str) -> Option<(String, String)> {
    let t = cell.trim();
    let rest = ["Раздел ", "РАЗДЕЛ ", "раздел "]
        .iter()
        .find_map(|p| t.strip_prefix(p))?;
    let num = leading_number(rest)?;
    let title = rest.get(num.len()..).unwrap_or("").trim();
    (!title.is_empty()).then(|| (num, collapse_spaces(title)))
}

#[derive(Debug, Clone)]
struct RawSection {
    number: Option<String>,
    title: String,
    line: usize,
    measures: Vec<RawMeasure>,
}

enum Target {
    Section(usize),
    Milestones,
}

/// State while walking the rows of all tables.
struct Walker {
    sections: Vec<RawSection>,
    milestones: Vec<RawMeasure>,
    continuation_rows: usize,
    /// The last row was attached as a child (so continuations go to that child).
    last_was_child: bool,
}

impl Walker {
    fn list(&mut self, target: &Target) -> Option<&mut Vec<RawMeasure>> {
        match target {
            Target::Section(i) => self.sections.get_mut(*i).map(|s| &mut s.measures),
            Target::Milestones => Some(&mut self.milestones),
        }
    }
}

fn cell_of<'a>(row: &'a Row, h: &Header, role: Role) -> &'a str {
    h.col(role)
        .and_then(|c| row.cells.get(c))
        .map(|s| s.as_str())
        .unwrap_or("")
}

/// Only the number and title columns are filled.
fn only_number_and_title(row: &Row, h: &Header) -> bool {
    row.cells.iter().enumerate().all(|(i, c)| {
        c.is_empty()
            || matches!(
                h.roles.get(i).copied().flatten(),
                Some(Role::Number) | Some(Role::Title)
            )
    })
}

fn walk_table(rows: &[Row], h: &Header, heading: Option<&str>, w: &mut Walker) {
    let mut target = if h.milestones {
        Target::Milestones
    } else {
        Target::Section(usize::MAX)
    };
    let numbered = h.col(Role::Number).is_some();
    for (ri, row) in rows.iter().enumerate() {
        let number = cell_of(row, h, Role::Number).trim().to_string();
        let title = cell_of(row, h, Role::Title);

        // Sections.
        if !h.milestones {
            let single: Vec<&String> = row.cells.iter().filter(|c| !c.is_empty()).collect();
            let mut section = None;
            if let [only] = single.as_slice()
                && let Some(found) = section_prefix(only)
            {
                section = Some(found);
            } else if let [only] = single.as_slice()
                && let Some(num) = leading_number(only)
            {
                let rest = only.trim().get(num.len()..).unwrap_or("").trim();
                let starts_text = rest
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || matches!(c, '«' | '"'));
                if starts_text && (num.ends_with('.') || is_roman(&num)) && !is_pure_number(only) {
                    section = Some((num, collapse_spaces(rest)));
                }
            }
            if section.is_none()
                && numbered
                && is_pure_number(&number)
                && !title.is_empty()
                && only_number_and_title(row, h)
            {
                let next_num = rows.get(ri + 1..).unwrap_or(&[]).iter().take(50).find_map(|r| {
                    let n = cell_of(r, h, Role::Number).trim();
                    is_pure_number(n).then(|| n.to_string())
                });
                let stem = format!("{}.", number.trim_end_matches('.'));
                let continues =
                    next_num.is_some_and(|n| n.starts_with(&stem) && n.trim_end_matches('.').len() > stem.len());
                if is_roman(&number) || continues {
                    section = Some((number.clone(), collapse_spaces(title)));
                }
            }
            if let Some((num, title)) = section {
                w.sections.push(RawSection {
                    number: Some(num),
                    title,
                    line: row.line,
                    measures: Vec::new(),
                });
                target = Target::Section(w.sections.len() - 1);
                w.last_was_child = false;
                continue;
            }
        }

        // Measures need a section to live in.
        if let Target::Section(i) = target
            && i >= w.sections.len()
        {
            w.sections.push(RawSection {
                number: None,
                title: heading.unwrap_or("").to_string(),
                line: h.line,
                measures: Vec::new(),
            });
            target = Target::Section(w.sections.len() - 1);
        }

        // A lone text in the number column is a heading between tables, not a measure.
        if numbered && !number.is_empty() && !is_pure_number(&number) && row.non_empty() == 1 {
            continue;
        }
        let has_number = numbered && !number.is_empty();
        let last_was_child = w.last_was_child;
        let Some(list) = w.list(&target) else {
            continue;
        };
        if has_number || list.is_empty() {
            let n = has_number.then(|| number.clone());
            list.push(RawMeasure::from_row(row, h, n));
            w.last_was_child = false;
            continue;
        }
        let Some(last) = list.last_mut() else {
            continue;
        };
        if numbered {
            let parent_lists = last.cell(Role::Title).trim_end().ends_with(':');
            if !row.after_break && parent_lists {
                last.children.push(RawMeasure::from_row(row, h, None));
                w.last_was_child = true;
            } else {
                let dest = if last_was_child { last.children.last_mut() } else { None };
                let dest = match dest {
                    Some(d) => d,
                    None => last,
                };
                dest.append(row, h);
                dest.continuation_lines.push(row.line);
                w.continuation_rows += 1;
            }
        } else {
            let continues = row.after_break
                && (title.is_empty()
                    || starts_lowercase(title)
                    || title.chars().next().is_some_and(|c| c.is_ascii_punctuation()));
            if continues {
                last.append(row, h);
                last.continuation_lines.push(row.line);
                w.continuation_rows += 1;
            } else {
                list.push(RawMeasure::from_row(row, h, None));
                w.last_was_child = false;
            }
        }
    }
}

struct Ctx<'a> {
    period: Option<&'a Period>,
    abbreviations: &'a [Abbreviation],
}

fn finish_measure(raw: RawMeasure, key: String, kind: MeasureKind, ctx: &Ctx) -> Measure {
    let responsible_raw = raw.cell(Role::Responsible).to_string();
    let schedule_raw = raw.cell(Role::Schedule).to_string();
    let expected_result = raw.cell(Role::Result).to_string();
    let indicator = raw.cell(Role::Indicator).to_string();
    let mut targets = targets::parse_targets(&expected_result);
    targets.extend(targets::parse_targets(&indicator));
    let children = raw
        .children
        .iter()
        .enumerate()
        .map(|(i, c)| finish_measure(c.clone(), format!("{key}/{}", i + 1), kind, ctx))
        .collect();
    Measure {
        number: raw.number.clone(),
        key,
        kind,
        title: collapse_spaces(raw.cell(Role::Title)),
        responsible: parties::split_responsible(&responsible_raw, ctx.abbreviations),
        responsible_raw,
        schedule: schedule::parse_schedule(&schedule_raw, ctx.period),
        schedule_raw,
        expected_result,
        reporting_forms: raw.cell(Role::ReportingForms).to_string(),
        notes: raw.cell(Role::Notes).to_string(),
        indicator,
        targets,
        children,
        line: raw.line,
        continuation_lines: raw.continuation_lines,
        extra: raw
            .extra
            .into_iter()
            .filter(|(_, _, v)| !v.is_empty())
            .map(|(_, header, value)| ExtraColumn { header, value })
            .collect(),
    }
}

fn base_key(section: Option<&str>, number: Option<&str>, ordinal: usize) -> String {
    let s = section.map(|s| s.trim_end_matches('.'));
    let n = number.map(|n| n.trim_end_matches('.'));
    match (s, n) {
        (Some(s), Some(n)) if n.starts_with(&format!("{s}.")) => n.to_string(),
        (Some(s), Some(n)) => format!("{s}.{n}"),
        (None, Some(n)) => n.to_string(),
        (Some(s), None) => format!("{s}.#{ordinal}"),
        (None, None) => format!("#{ordinal}"),
    }
}

fn unique(key: String, used: &mut std::collections::HashSet<String>) -> String {
    let mut k = key.clone();
    let mut n = 2;
    while used.contains(&k) {
        k = format!("{key}~{n}");
        n += 1;
    }
    used.insert(k.clone());
    k
}

/// Parses a roadmap document. See the crate docs for what is extracted.
pub fn parse_document(text: &str) -> Result<ParsedDocument, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = check_input(text)?;
    let headers = table::find_headers(&lines);
    let Some(first) = headers.first() else {
        return Err(ParseError::NotARoadmap {
            looked_for: table::HEADERS_LOOKED_FOR.to_string(),
        });
    };
    let preamble: Vec<&str> = lines.get(..first.line.saturating_sub(1)).unwrap_or(&[]).to_vec();

    // Metadata first: the period is needed to read month names without a year.
    let title = meta::find_title(&preamble);
    let period = meta::find_period(title.as_ref(), &lines);
    let approval = meta::find_approval(&preamble);
    let goal_paras = meta::find_goals(&preamble);
    let level = meta::guess_level(title.as_ref().map(|t| t.0.as_str()), &preamble);
    let abbreviations = abbreviations::find_abbreviations(&lines);

    let mut noise = NoiseStats::default();
    let mut walker = Walker {
        sections: Vec::new(),
        milestones: Vec::new(),
        continuation_rows: 0,
        last_was_child: false,
    };
    let mut table_rows_total = 0;
    let mut last_row_check: Option<(usize, usize, usize)> = None; // (line, cells, header width)
    for (ti, h) in headers.iter().enumerate() {
        let end = headers.get(ti + 1).map(|n| n.line - 1).unwrap_or(lines.len());
        let rows = table::rows(&lines, h, end, &mut noise);
        // The heading of a table is the last single-cell line before its header.
        let heading = (0..h.line.saturating_sub(1))
            .rev()
            .map(|k| lines.get(k).copied().unwrap_or(""))
            .map(|l| collapse_spaces(&crate::text::strip_noise(l).0))
            .find(|l| !l.is_empty());
        let heading = heading.filter(|l| !l.contains('\t') && leading_number(l).is_none());
        table_rows_total += rows.len();
        if let Some(last) = rows.last() {
            last_row_check = Some((last.line, last.cells.len(), h.roles.len()));
        }
        walk_table(&rows, h, heading.as_deref(), &mut walker);
    }

    let measure_count: usize =
        walker.sections.iter().map(|s| s.measures.len()).sum::<usize>() + walker.milestones.len();
    if measure_count == 0 {
        return Err(ParseError::Truncated {
            line: headers.last().map(|h| h.line).unwrap_or(1),
            detail: format!(
                "a table header was found but no measure rows follow it ({table_rows_total} rows, none with a measure); expected numbered rows with a title and at least one of responsible, deadline or result"
            ),
        });
    }
    // A last row with fewer cells than the header in a row-per-line table was cut off.
    if let (Some((line, cells, width)), Some(last_header)) = (last_row_check, headers.last())
        && last_header.layout == table::Layout::RowPerLine
        && cells > 1
        && cells < width
        && !text.ends_with('\n')
    {
        return Err(ParseError::Truncated {
            line,
            detail: format!(
                "the last row has {cells} of {width} columns and the text ends without a line break; expected a complete row"
            ),
        });
    }

    let ctx = Ctx {
        period: period.as_ref(),
        abbreviations: &abbreviations,
    };
    let mut used = std::collections::HashSet::new();
    let mut sections = Vec::new();
    for s in walker.sections {
        let mut measures = Vec::new();
        for (i, m) in s.measures.into_iter().enumerate() {
            let key = unique(base_key(s.number.as_deref(), m.number.as_deref(), i + 1), &mut used);
            measures.push(finish_measure(m, key, MeasureKind::Measure, &ctx));
        }
        sections.push(Section {
            number: s.number,
            title: s.title,
            line: s.line,
            measures,
        });
    }
    let milestones: Vec<Measure> = walker
        .milestones
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let key = unique(format!("cp.{}", base_key(None, m.number.as_deref(), i + 1)), &mut used);
            finish_measure(m, key, MeasureKind::Milestone, &ctx)
        })
        .collect();

    let mut indicator_targets = indicators::parse_indicator_tables(&preamble, period.as_ref());
    indicator_targets.extend(indicators::parse_goal_targets(&goal_paras));
    let risk_groups = find_risk_groups(&preamble);

    let meta = Meta {
        title: title.as_ref().map(|t| t.0.clone()),
        title_line: title.as_ref().map(|t| t.1),
        approval,
        period,
        goals: goal_paras.iter().map(|g| g.0.clone()).collect(),
        level,
    };
    let mut doc = ParsedDocument {
        meta,
        sections,
        milestones,
        abbreviations,
        indicator_targets,
        risk_groups,
        lint: Vec::new(),
        stats: Stats::default(),
    };
    doc.lint = lint::lint(&doc, &lines, &preamble);
    doc.stats = stats(&doc, &noise, walker.continuation_rows, headers.len());
    Ok(doc)
}

fn stats(doc: &ParsedDocument, noise: &NoiseStats, continuation_rows: usize, tables: usize) -> Stats {
    let all: Vec<&Measure> = doc.measures().chain(doc.milestones.iter()).collect();
    Stats {
        tables,
        sections: doc.sections.iter().filter(|s| s.number.is_some()).count(),
        measures: doc.measures().count(),
        child_measures: all.iter().map(|m| m.children.len()).sum(),
        milestones: doc.milestones.len(),
        continuation_rows_merged: continuation_rows,
        repeated_headers_dropped: noise.repeated_headers,
        footers_dropped: noise.footers,
        markdown_rules_dropped: noise.markdown_rules,
        markup_fragments_removed: noise.markup,
        abbreviations: doc.abbreviations.len(),
        parties: all.iter().map(|m| m.responsible.len()).sum(),
        indicator_targets: doc.indicator_targets.len(),
        quant_targets: all.iter().map(|m| m.targets.len()).sum(),
        lint_findings: doc.lint.len(),
        extra_columns: extra_column_names(&all),
    }
}

/// Headers of the extra columns of all measures (and their sub-rows), each once, in order.
pub(crate) fn extra_column_names(measures: &[&Measure]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in measures {
        for e in m.extra.iter().chain(m.children.iter().flat_map(|c| c.extra.iter())) {
            if !out.contains(&e.header) {
                out.push(e.header.clone());
            }
        }
    }
    out
}

/// "Группы рисков | Целевые ориентиры" tables of school plans.
fn find_risk_groups(preamble: &[&str]) -> Vec<RiskGroup> {
    let mut out = Vec::new();
    let mut active = false;
    for (i, l) in preamble.iter().enumerate() {
        let cells: Vec<String> = table::split_row(l)
            .iter()
            .map(|c| collapse_spaces(&crate::text::strip_noise(c).0))
            .collect();
        let f: Vec<String> = cells.iter().map(|c| crate::text::fold(c)).collect();
        if f.len() >= 2
            && f.iter().any(|c| c.contains("риск"))
            && f.iter().any(|c| c.contains("ориентир") || c.contains("целев"))
        {
            active = true;
            continue;
        }
        if !active {
            continue;
        }
        let filled: Vec<&String> = cells.iter().filter(|c| !c.is_empty()).collect();
        match filled.as_slice() {
            [risk, target] => out.push(RiskGroup {
                risk: risk.to_string(),
                target: target.to_string(),
                line: i + 1,
            }),
            _ => active = false,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(leading_number("1. Организационно - правовое"), Some("1.".to_string()));
        assert_eq!(leading_number("III. "), Some("III.".to_string()));
        assert_eq!(leading_number("3.1.1."), Some("3.1.1.".to_string()));
        assert_eq!(leading_number("3.12-1471-р (п)(4.0)"), None);
        assert!(is_pure_number("2.10."));
        assert!(!is_pure_number("План-график"));
    }

    #[test]
    fn keys() {
        assert_eq!(base_key(Some("III."), Some("5."), 5), "III.5");
        assert_eq!(base_key(Some("1."), Some("1.3."), 3), "1.3");
        assert_eq!(base_key(Some("2."), None, 4), "2.#4");
        let mut used = std::collections::HashSet::new();
        assert_eq!(unique("III.5".into(), &mut used), "III.5");
        assert_eq!(unique("III.5".into(), &mut used), "III.5~2");
    }

    #[test]
    fn both_layouts_give_the_same_measures() {
        let rows = "Дорожная карта на 2024 год\n\n№ п/п\tМероприятия\tСроки\tОтветственный\n1. Раздел\t\t\t\n1.1.\tСеминар\tмарт 2024\tИМЦ\n";
        let cells = "Дорожная карта на 2024 год\n\n\t№ п/п\n\tМероприятия\n\tСроки\n\tОтветственный\n\n\t1.\n\tРаздел\n\n\t1.1.\n\tСеминар\n\tмарт 2024\n\tИМЦ\n";
        let a = parse_document(rows).unwrap();
        let b = parse_document(cells).unwrap();
        for d in [&a, &b] {
            assert_eq!(d.sections.len(), 1);
            let m = &d.sections[0].measures[0];
            assert_eq!(
                (m.key.as_str(), m.title.as_str(), m.responsible_raw.as_str()),
                ("1.1", "Семинар", "ИМЦ")
            );
            assert_eq!(m.schedule.kind, crate::schedule::ScheduleKind::Window);
        }
    }

    #[test]
    fn pipes_are_a_table_too() {
        let md =
            "| № | Мероприятие | Срок | Ответственный |\n|---|---|---|---|\n| 1. | Семинар | до 15.09.2023 | ИМЦ |\n";
        let d = parse_document(md).unwrap();
        assert_eq!(d.stats.markdown_rules_dropped, 1);
        let m = d.measures().next().unwrap();
        assert_eq!(
            (m.title.as_str(), m.schedule.kind),
            ("Семинар", crate::schedule::ScheduleKind::Deadline)
        );
    }
}
