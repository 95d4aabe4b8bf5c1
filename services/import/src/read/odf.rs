//! OpenDocument text (ODT) and spreadsheets (ODS): `content.xml`.
//!
//! ODT: paragraphs (`text:p`, `text:h`), lists and sections in order, and tables. ODS: the
//! first sheet that holds a roadmap header (the others are named in the notes). Both use the
//! same table markup: `table:number-columns-spanned` with `table:covered-table-cell` for
//! horizontal merges, `table:number-rows-spanned` for vertical ones (the text is repeated in
//! the rows it spans), `table:number-columns-repeated` / `table:number-rows-repeated` (bounded:
//! a sheet repeats empty cells up to its limits), header rows (`table:table-header-rows`).
//! An ODS cell is read as it shows (its `text:p`), so "4,56" stays "4,56".

use super::xml::{El, Node};
use super::{Block, Format, GridBuilder, MAX_COLUMNS, MAX_ROWS, ReadDocument, ReadErrorKind, VMerge, render};

/// Elements whose text is not part of the document flow.
const SKIP: [&str; 7] = [
    "tracked-changes",
    "note",
    "annotation",
    "sequence-decls",
    "forms",
    "frame",
    "bookmark-ref",
];

pub(super) fn read<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    format: Format,
) -> Result<ReadDocument, ReadErrorKind> {
    let corrupt = |what: String| ReadErrorKind::Corrupt { format, what };
    let root = super::xml::read_xml(zip, "content.xml").map_err(corrupt)?;
    let body = root
        .child("body")
        .ok_or_else(|| corrupt("content.xml has no office:body".to_string()))?;
    if format == Format::Ods {
        let sheet = body
            .child("spreadsheet")
            .ok_or_else(|| corrupt("content.xml has no office:spreadsheet".to_string()))?;
        let tables: Vec<(&str, super::Table)> = sheet
            .elements()
            .filter(|e| e.name == "table")
            .map(|t| (t.attr("name").unwrap_or(""), table(t)))
            .collect();
        let names: Vec<&str> = tables.iter().map(|(n, _)| *n).collect();
        let Some((name, t)) = tables.iter().find(|(_, t)| super::has_roadmap_header(&t.rows)) else {
            return Err(ReadErrorKind::NoTable {
                format,
                what: format!(
                    "no sheet has a row of roadmap column headers (sheets: {})",
                    names.join(", ")
                ),
            });
        };
        let mut doc = render(&[Block::Table(t.clone())], format);
        doc.notes.push(format!("sheet \"{name}\" of {}", names.len()));
        return Ok(doc);
    }
    let text = body
        .child("text")
        .ok_or_else(|| corrupt("content.xml has no office:text".to_string()))?;
    let mut blocks = Vec::new();
    flow(text, &mut blocks);
    Ok(render(&blocks, format))
}

fn flow(el: &El, out: &mut Vec<Block>) {
    for e in el.elements() {
        match e.name.as_str() {
            "p" | "h" => out.push(Block::Paragraph(paragraph(e))),
            "table" => out.push(Block::Table(table(e))),
            "list" | "list-item" | "list-header" | "section" | "index-body" | "table-of-content" => flow(e, out),
            _ => {}
        }
    }
}

fn paragraph(p: &El) -> String {
    let mut s = String::new();
    spans(p, &mut s);
    s
}

fn spans(el: &El, out: &mut String) {
    for n in &el.kids {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::El(e) => match e.name.as_str() {
                "s" => out.extend(std::iter::repeat_n(' ', e.count_attr("c", 1000))),
                "tab" => out.push('\t'),
                "line-break" => out.push('\n'),
                n if SKIP.contains(&n) => {}
                _ => spans(e, out),
            },
        }
    }
}

fn rows(t: &El) -> Vec<&El> {
    let mut out = Vec::new();
    for e in t.elements() {
        match e.name.as_str() {
            "table-row" => out.push(e),
            "table-header-rows" | "table-rows" | "table-row-group" => out.extend(rows(e)),
            _ => {}
        }
    }
    out
}

fn cell_text(c: &El) -> String {
    let mut lines = Vec::new();
    cell_flow(c, &mut lines);
    lines.join("\n")
}

fn cell_flow(el: &El, lines: &mut Vec<String>) {
    for e in el.elements() {
        match e.name.as_str() {
            "p" | "h" => lines.push(paragraph(e)),
            "list" | "list-item" | "list-header" | "section" => cell_flow(e, lines),
            "table" => {
                for row in table(e).rows {
                    let cells: Vec<String> = row.into_iter().filter(|c| !c.is_empty()).collect();
                    lines.push(cells.join(" | ").replace('\n', " "));
                }
            }
            _ => {}
        }
    }
}

fn table(t: &El) -> super::Table {
    let mut g = GridBuilder::new();
    // Per column: rows still covered by a vertical merge above, and its width.
    let mut vspan: Vec<(usize, usize)> = Vec::new();
    let mut emitted = 0usize;
    for tr in rows(t) {
        let repeat = tr.count_attr("number-rows-repeated", MAX_ROWS);
        let row = row_cells(tr, &mut vspan);
        let empty = row.iter().all(|(t, _, _)| t.is_empty());
        // Empty rows repeated to the end of a sheet are read once.
        let times = if empty { repeat.min(1) } else { repeat };
        for _ in 0..times {
            if emitted >= MAX_ROWS {
                break;
            }
            g.row(0, row.clone());
            emitted += 1;
        }
    }
    g.finish()
}

fn row_cells(tr: &El, vspan: &mut Vec<(usize, usize)>) -> Vec<(String, usize, VMerge)> {
    let mut out: Vec<(String, usize, VMerge)> = Vec::new();
    let mut col = 0usize;
    // Covered cells still owed to a horizontal span of this row.
    let mut owed = 0usize;
    for c in tr.elements() {
        let covered = match c.name.as_str() {
            "table-cell" => false,
            "covered-table-cell" => true,
            _ => continue,
        };
        let repeat = c.count_attr("number-columns-repeated", MAX_COLUMNS);
        for _ in 0..repeat {
            if col >= MAX_COLUMNS {
                return out;
            }
            if vspan.len() <= col {
                vspan.resize(col + 1, (0, 1));
            }
            if covered {
                if owed > 0 {
                    owed -= 1;
                    continue;
                }
                let (left, width) = vspan[col];
                if left > 0 {
                    vspan[col].0 -= 1;
                    out.push((String::new(), width, VMerge::Continue));
                    owed = width - 1;
                    col += width;
                } else {
                    out.push((String::new(), 1, VMerge::None));
                    col += 1;
                }
                continue;
            }
            let span = c.count_attr("number-columns-spanned", MAX_COLUMNS);
            let down = c.count_attr("number-rows-spanned", MAX_ROWS);
            let vm = if down > 1 {
                vspan[col] = (down - 1, span);
                VMerge::Restart
            } else {
                vspan[col] = (0, 1);
                VMerge::None
            };
            out.push((cell_text(c), span, vm));
            owed = span - 1;
            col += span;
        }
    }
    out
}
