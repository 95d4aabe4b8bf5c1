//! DOCX (WordprocessingML): the paragraphs and tables of `word/document.xml`'s body.
//!
//! No DOCX crate fits: the maintained ones either write documents or drop cell merges, so the
//! body is walked by hand. What is read:
//! * `w:p` paragraphs: `w:t` text, `w:tab`, `w:br`/`w:cr` line breaks; deleted text
//!   (`w:delText`), field codes (`w:instrText`) and drawings are skipped;
//! * `w:tbl` tables: `w:gridBefore`, `w:gridSpan` (horizontal merge), `w:vMerge` (vertical
//!   merge: the text of the first cell is repeated in the cells it covers); paragraphs inside a
//!   cell become line breaks; a table nested in a cell is read as lines of that cell;
//! * content controls (`w:sdt`), custom XML and tracked insertions are transparent.
//!
//! Header rows marked to repeat on each page (`w:tblHeader`) are in the XML once and read once.

use super::xml::{El, Node};
use super::{Block, Format, GridBuilder, MAX_COLUMNS, ReadDocument, ReadErrorKind, VMerge, render};

const TRANSPARENT: [&str; 5] = ["sdt", "sdtContent", "customXml", "ins", "smartTag"];

pub(super) fn read<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
) -> Result<ReadDocument, ReadErrorKind> {
    let corrupt = |what: String| ReadErrorKind::Corrupt {
        format: Format::Docx,
        what,
    };
    let root = super::xml::read_xml(zip, "word/document.xml").map_err(corrupt)?;
    let body = root
        .child("body")
        .ok_or_else(|| corrupt("word/document.xml has no w:body".to_string()))?;
    let mut blocks = Vec::new();
    body_blocks(body, &mut blocks);
    let mut doc = render(&blocks, Format::Docx);
    let repeated = count_repeated_headers(body);
    if repeated > 0 {
        doc.notes.push(format!(
            "{repeated} header row(s) marked to repeat on each page (read once)"
        ));
    }
    Ok(doc)
}

fn body_blocks(el: &El, out: &mut Vec<Block>) {
    for e in el.elements() {
        match e.name.as_str() {
            "p" => out.push(Block::Paragraph(paragraph(e))),
            "tbl" => out.push(Block::Table(table(e))),
            n if TRANSPARENT.contains(&n) => body_blocks(e, out),
            _ => {}
        }
    }
}

/// The text of a paragraph (or of any run container), line breaks as `\n`.
pub(super) fn paragraph(p: &El) -> String {
    let mut s = String::new();
    runs(p, &mut s);
    s
}

fn runs(el: &El, out: &mut String) {
    for n in &el.kids {
        let Node::El(e) = n else { continue };
        match e.name.as_str() {
            "t" => {
                for k in &e.kids {
                    if let Node::Text(t) = k {
                        out.push_str(t);
                    }
                }
            }
            "tab" | "ptab" => out.push('\t'),
            "br" | "cr" => out.push('\n'),
            "noBreakHyphen" => out.push('-'),
            // Deleted text, field instructions, drawings (their fallbacks repeat text), notes.
            "delText" | "instrText" | "drawing" | "pict" | "object" | "AlternateContent" | "del" | "pPr" | "rPr"
            | "footnoteReference" | "endnoteReference" | "commentReference" => {}
            _ => runs(e, out),
        }
    }
}

fn table(tbl: &El) -> super::Table {
    let mut g = GridBuilder::new();
    for tr in rows(tbl) {
        let skip = tr
            .child("trPr")
            .and_then(|p| p.child("gridBefore"))
            .map(|g| g.count_attr("val", MAX_COLUMNS))
            .unwrap_or(0);
        let cells = cells(tr)
            .into_iter()
            .map(|tc| {
                let pr = tc.child("tcPr");
                let span = pr
                    .and_then(|p| p.child("gridSpan"))
                    .map(|g| g.count_attr("val", MAX_COLUMNS))
                    .unwrap_or(1);
                let vm = match pr.and_then(|p| p.child("vMerge")) {
                    None => VMerge::None,
                    Some(v) if v.attr("val") == Some("restart") => VMerge::Restart,
                    Some(_) => VMerge::Continue,
                };
                (cell_text(tc), span, vm)
            })
            .collect();
        g.row(skip, cells);
    }
    g.finish()
}

fn rows(tbl: &El) -> Vec<&El> {
    let mut out = Vec::new();
    for e in tbl.elements() {
        match e.name.as_str() {
            "tr" => out.push(e),
            n if TRANSPARENT.contains(&n) => out.extend(rows(e)),
            _ => {}
        }
    }
    out
}

fn cells(tr: &El) -> Vec<&El> {
    let mut out = Vec::new();
    for e in tr.elements() {
        match e.name.as_str() {
            "tc" => out.push(e),
            n if TRANSPARENT.contains(&n) => out.extend(cells(e)),
            _ => {}
        }
    }
    out
}

/// Paragraphs of a cell, one per line; a nested table's rows as lines, cells separated by " | ".
fn cell_text(tc: &El) -> String {
    let mut lines: Vec<String> = Vec::new();
    cell_blocks(tc, &mut lines);
    lines.join("\n")
}

fn cell_blocks(el: &El, lines: &mut Vec<String>) {
    for e in el.elements() {
        match e.name.as_str() {
            "p" => lines.push(paragraph(e)),
            "tbl" => {
                for row in table(e).rows {
                    let cells: Vec<String> = row.into_iter().filter(|c| !c.is_empty()).collect();
                    lines.push(cells.join(" | ").replace('\n', " "));
                }
            }
            n if TRANSPARENT.contains(&n) => cell_blocks(e, lines),
            _ => {}
        }
    }
}

fn count_repeated_headers(el: &El) -> usize {
    el.elements()
        .map(|e| {
            if e.name == "tblHeader" {
                1
            } else {
                count_repeated_headers(e)
            }
        })
        .sum()
}
