//! Documents as people have them: the format is detected from the content (magic bytes, the
//! entries of a ZIP container), never from the file name, and every format is rendered into the
//! text the parser reads.
//!
//! | format | how it is read |
//! |---|---|
//! | DOCX | `word/document.xml` (zip + quick-xml): paragraphs and every table of the body |
//! | ODT, ODS | `content.xml` (zip + quick-xml): paragraphs, headings, lists and tables |
//! | XLSX | calamine: the first sheet holding a roadmap table, merged ranges |
//! | CSV, TSV | csv, after the encoding is detected (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1251) |
//! | PDF | pdf-extract: characters with their positions, grouped into lines and table cells |
//! | text | today's plain-text extractions, unchanged |
//!
//! Why render into text rather than hand the parser a table model: the text is what a plan
//! version stores and what every line number and lint finding points into, so keeping one
//! representation keeps "raw text next to parsed" true for every format, and a structured
//! document and its plain-text extraction go through exactly the same rules.
//!
//! The rendering (see [`Block`]): a paragraph is one line (a line break inside it starts a new
//! line); a table row is one line with its cells separated by tabs, a line break inside a cell
//! written as [`crate::CELL_LINE_BREAK`], tabs inside a cell as spaces, trailing empty cells
//! dropped. A horizontally merged cell keeps its text in its first column and leaves the columns
//! it covers empty (a section title spanning the table reads as a one-cell row, as in the
//! extractions); a vertically merged cell repeats its text in every row it spans (one
//! responsible organisation for several measures belongs to each of them), and each merge is
//! recorded in [`ReadDocument::merged_cells`]. Nothing is added between blocks: a document
//! separates its tables by paragraphs (often empty ones), and those are its blank lines.

mod delimited;
mod docx;
mod odf;
mod pdf;
mod sheet;
mod xml;

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::error::ParseError;
use crate::model::ParsedDocument;

/// Larger files are refused before anything is read: a roadmap with its tables is a few hundred
/// kilobytes even as DOCX or PDF, and the router takes 4 MB requests.
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;

/// Limit on the uncompressed size of one part of a ZIP container (a defence against archives
/// that inflate to gigabytes).
pub const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;

/// Limit on the cells of one table row and the rows of one sheet (ODF repeats empty rows and
/// columns up to the sheet's limits; those are not read one by one).
pub(crate) const MAX_COLUMNS: usize = 256;
pub(crate) const MAX_ROWS: usize = 100_000;
/// Cells of one table in all: repeated rows of a hostile file stop here.
pub(crate) const MAX_CELLS: usize = 2_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    Docx,
    Odt,
    Ods,
    Xlsx,
    Csv,
    Tsv,
    Pdf,
    Text,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Docx => "DOCX",
            Format::Odt => "ODT",
            Format::Ods => "ODS",
            Format::Xlsx => "XLSX",
            Format::Csv => "CSV",
            Format::Tsv => "TSV",
            Format::Pdf => "PDF",
            Format::Text => "plain text",
        })
    }
}

/// A merged cell of a source table, as recorded while rendering it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedCell {
    /// 1-based line of the rendered text holding the merged cell's first row.
    pub line: usize,
    /// 0-based table (in document order) and the cell's first row and column in it.
    pub table: usize,
    pub row: usize,
    pub column: usize,
    pub rows: usize,
    pub columns: usize,
}

/// A document read from a file: its format and the text the parser reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadDocument {
    pub file_name: String,
    pub format: Format,
    /// The rendered text: for `Text` the file itself (decoded), otherwise the rendering
    /// described in the module docs. Store this as the plan version's source text.
    pub text: String,
    /// Tables found in the source (0 for plain text, where the parser finds them).
    pub tables: usize,
    /// Cells spanning several rows or columns.
    pub merged_cells: Vec<MergedCell>,
    /// What the reader decided on the way ("encoding: windows-1251", "sheet «Лист1»"...).
    pub notes: Vec<String>,
}

impl ReadDocument {
    /// Parses the rendered text; a parse error names the file.
    pub fn parse(&self) -> Result<ParsedDocument, ReadError> {
        crate::parse_document(&self.text).map_err(|e| ReadError::new(&self.file_name, ReadErrorKind::Parse(e)))
    }
}

/// Why a file cannot be read; the message starts with the file name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}: {kind}")]
pub struct ReadError {
    pub file: String,
    pub kind: ReadErrorKind,
}

impl ReadError {
    pub(crate) fn new(file: &str, kind: ReadErrorKind) -> Self {
        ReadError {
            file: file.to_string(),
            kind,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReadErrorKind {
    #[error("the file is {size} bytes, more than the {limit} bytes a roadmap document may have; nothing was read")]
    TooLarge { size: usize, limit: usize },

    #[error("the file is {size} byte(s) long, too short to be a roadmap document")]
    TooSmall { size: usize },

    #[error(
        "the file is encrypted (password-protected Office document); save it without a password and import it again"
    )]
    Encrypted,

    #[error("{what}; expected DOCX, ODT, ODS, XLSX, CSV/TSV, PDF or plain text")]
    Unsupported { what: String },

    #[error("the {format} file is damaged: {what}")]
    Corrupt { format: Format, what: String },

    #[error("the {format} file holds no roadmap table: {what}")]
    NoTable { format: Format, what: String },

    #[error(
        "the PDF has no text layer ({pages} page(s) of images only: a scanned document); import the DOCX it was made from, or a PDF with text"
    )]
    ScannedPdf { pages: usize },

    #[error("the table on page {page} of the PDF cannot be recovered: {what}")]
    PdfTable { page: usize, what: String },

    #[error("{0}")]
    Parse(ParseError),
}

/// Detects the format from the content, reads the document and renders it into the parser's
/// text. Never panics; every refusal names the file and what is wrong.
pub fn read_document(file_name: &str, bytes: &[u8]) -> Result<ReadDocument, ReadError> {
    let fail = |kind| ReadError::new(file_name, kind);
    // Refused by size before anything is looked at.
    if bytes.len() > MAX_FILE_BYTES {
        return Err(fail(ReadErrorKind::TooLarge {
            size: bytes.len(),
            limit: MAX_FILE_BYTES,
        }));
    }
    if bytes.len() < 8 {
        return Err(fail(ReadErrorKind::TooSmall { size: bytes.len() }));
    }
    let out = match sniff(bytes) {
        Sniffed::Pdf => pdf::read(bytes),
        Sniffed::Zip => read_zip(bytes),
        Sniffed::Cfb => Err(cfb_kind(bytes)),
        Sniffed::Other(what) => Err(ReadErrorKind::Unsupported { what }),
        Sniffed::Text => delimited::read(bytes),
    };
    let mut doc = out.map_err(fail)?;
    doc.file_name = file_name.to_string();
    Ok(doc)
}

/// Reads and parses a file: what the CLI and the `importRoadmap` mutation call.
pub fn import_document(file_name: &str, bytes: &[u8]) -> Result<(ReadDocument, ParsedDocument), ReadError> {
    let doc = read_document(file_name, bytes)?;
    let parsed = doc.parse()?;
    Ok((doc, parsed))
}

enum Sniffed {
    Pdf,
    Zip,
    Cfb,
    Text,
    Other(String),
}

fn sniff(bytes: &[u8]) -> Sniffed {
    let head = bytes.get(..1024).unwrap_or(bytes);
    // The PDF header may follow some bytes of garbage (the specification allows it within the
    // first 1024 bytes).
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Sniffed::Pdf;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Sniffed::Zip;
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Sniffed::Cfb;
    }
    let magic: [(&[u8], &str); 7] = [
        (b"{\\rtf", "an RTF document (save it as DOCX)"),
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image (a scan? import the document itself)"),
        (b"II*\0", "a TIFF image"),
        (b"MM\0*", "a TIFF image"),
        (b"Rar!", "a RAR archive"),
        (b"\x1F\x8B", "a gzip archive"),
    ];
    for (m, what) in magic {
        if bytes.starts_with(m) {
            return Sniffed::Other(format!("the file is {what}"));
        }
    }
    Sniffed::Text
}

/// A Compound File (OLE2) container is either a password-protected DOCX/XLSX (the encrypted
/// package lives in an "EncryptedPackage" stream) or a legacy binary .doc/.xls.
fn cfb_kind(bytes: &[u8]) -> ReadErrorKind {
    let utf16 = |s: &str| s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect::<Vec<u8>>();
    let has = |s: &str| {
        let needle = utf16(s);
        bytes.windows(needle.len()).any(|w| w == needle.as_slice())
    };
    if has("EncryptedPackage") || has("EncryptionInfo") {
        ReadErrorKind::Encrypted
    } else if has("WordDocument") {
        ReadErrorKind::Unsupported {
            what: "the file is a Word 97-2003 document (.doc); save it as DOCX".to_string(),
        }
    } else if has("Workbook") || has("Book") {
        ReadErrorKind::Unsupported {
            what: "the file is an Excel 97-2003 workbook (.xls); save it as XLSX".to_string(),
        }
    } else {
        ReadErrorKind::Unsupported {
            what: "the file is an OLE2 compound document of unknown kind".to_string(),
        }
    }
}

fn read_zip(bytes: &[u8]) -> Result<ReadDocument, ReadErrorKind> {
    let corrupt = |what: String| ReadErrorKind::Unsupported {
        what: format!("the file is a ZIP archive that cannot be opened ({what})"),
    };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| corrupt(e.to_string()))?;
    let names: Vec<String> = zip.file_names().filter_map(|n| n.ok().map(|n| n.to_string())).collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    if has("word/document.xml") {
        return docx::read(&mut zip);
    }
    if has("xl/workbook.xml") {
        return sheet::read_xlsx(bytes);
    }
    if has("content.xml") || has("mimetype") {
        let mime = xml::read_part(&mut zip, "mimetype").unwrap_or_default();
        let mime = String::from_utf8_lossy(&mime);
        if mime.contains("opendocument.spreadsheet") {
            return odf::read(&mut zip, Format::Ods);
        }
        if mime.contains("opendocument.text") || (mime.trim().is_empty() && has("content.xml")) {
            return odf::read(&mut zip, Format::Odt);
        }
        return Err(ReadErrorKind::Unsupported {
            what: format!("the file is an OpenDocument of type \"{}\"", mime.trim()),
        });
    }
    if has("[Content_Types].xml") {
        return Err(ReadErrorKind::Unsupported {
            what: "the file is an Office Open XML package that is neither a Word document nor a workbook".to_string(),
        });
    }
    Err(ReadErrorKind::Unsupported {
        what: "the file is a ZIP archive that is not an Office document".to_string(),
    })
}

/// A document as a sequence of paragraphs and tables, merges already resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    Paragraph(String),
    Table(Table),
}

/// A table whose cells are already placed on the grid (merged cells resolved).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Table {
    pub rows: Vec<Vec<String>>,
    /// (row, column, rows spanned, columns spanned) of merged cells.
    pub merges: Vec<(usize, usize, usize, usize)>,
}

/// Renders blocks into the parser's text (see the module docs) and records the merges.
pub(crate) fn render(blocks: &[Block], format: Format) -> ReadDocument {
    let mut text = String::new();
    let mut line = 1usize;
    let mut merged_cells = Vec::new();
    let mut tables = 0;
    let push_line = |text: &mut String, s: &str, line: &mut usize| {
        text.push_str(s);
        text.push('\n');
        *line += 1;
    };
    for b in blocks {
        match b {
            Block::Paragraph(p) => {
                for l in p.split('\n') {
                    push_line(&mut text, &l.replace('\t', " "), &mut line);
                }
            }
            Block::Table(t) => {
                let first_line = line;
                for row in &t.rows {
                    let mut cells: Vec<String> = row.iter().map(|c| render_cell(c)).collect();
                    while cells.last().is_some_and(|c| c.is_empty()) {
                        cells.pop();
                    }
                    push_line(&mut text, &cells.join("\t"), &mut line);
                }
                for &(row, column, rows, columns) in &t.merges {
                    merged_cells.push(MergedCell {
                        line: first_line + row,
                        table: tables,
                        row,
                        column,
                        rows,
                        columns,
                    });
                }
                tables += 1;
            }
        }
    }
    ReadDocument {
        file_name: String::new(),
        format,
        text,
        tables,
        merged_cells,
        notes: Vec::new(),
    }
}

fn render_cell(c: &str) -> String {
    let lines: Vec<&str> = c.split('\n').map(str::trim_end).collect();
    let mut s = lines.join(&crate::CELL_LINE_BREAK.to_string());
    // Trailing breaks carry nothing and would make an empty-looking cell non-empty.
    while s.ends_with(crate::CELL_LINE_BREAK) {
        s.pop();
    }
    s.replace(['\t', '\r'], " ")
}

/// Places cells with spans on a grid: `cells` of a row are (text, columns spanned, role in a
/// vertical merge). Shared by DOCX (gridSpan/vMerge) and ODF (spanned/covered cells).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VMerge {
    None,
    /// The first cell of a vertical merge.
    Restart,
    /// Covered by the cell above: its text is repeated here.
    Continue,
}

pub(crate) struct GridBuilder {
    table: Table,
    cells: usize,
    /// Per column: (row where its vertical merge started, text, columns).
    open: Vec<Option<(usize, String, usize)>>,
}

impl GridBuilder {
    pub fn new() -> Self {
        GridBuilder {
            table: Table::default(),
            cells: 0,
            open: Vec::new(),
        }
    }

    /// Adds a row of (text, columns spanned, vertical-merge role) cells starting at column
    /// `skip` (DOCX `gridBefore`).
    pub fn row(&mut self, skip: usize, cells: Vec<(String, usize, VMerge)>) {
        if self.table.rows.len() >= MAX_ROWS || self.cells >= MAX_CELLS {
            return;
        }
        let r = self.table.rows.len();
        let mut row: Vec<String> = vec![String::new(); skip.min(MAX_COLUMNS)];
        for (text, span, vm) in cells {
            let col = row.len();
            if col >= MAX_COLUMNS {
                break;
            }
            let span = span.clamp(1, MAX_COLUMNS - col);
            if self.open.len() < col + 1 {
                self.open.resize(col + 1, None);
            }
            let text = match vm {
                VMerge::Continue => match self.open.get(col).cloned().flatten() {
                    Some((_, above, _)) => above,
                    // A continuation without a start is treated as an ordinary cell.
                    None => text,
                },
                VMerge::Restart => {
                    self.close(col);
                    self.open[col] = Some((r, text.clone(), span));
                    text
                }
                VMerge::None => {
                    self.close(col);
                    text
                }
            };
            if span > 1 && vm != VMerge::Continue {
                self.table.merges.push((r, col, 1, span));
            }
            row.push(text);
            row.extend(std::iter::repeat_n(String::new(), span - 1));
        }
        // Columns this row did not reach end their merges.
        for c in row.len()..self.open.len() {
            self.close(c);
        }
        self.cells += row.len();
        self.table.rows.push(row);
    }

    fn close(&mut self, col: usize) {
        if let Some(Some((start, _, span))) = self.open.get(col).cloned() {
            let rows = self.table.rows.len() - start;
            if rows > 1 {
                // A merge that spanned rows is recorded once, replacing its one-row record.
                self.table.merges.retain(|m| !(m.0 == start && m.1 == col));
                self.table.merges.push((start, col, rows, span));
            }
        }
        if let Some(slot) = self.open.get_mut(col) {
            *slot = None;
        }
    }

    pub fn finish(mut self) -> Table {
        for c in 0..self.open.len() {
            self.close(c);
        }
        self.table.merges.sort_unstable();
        self.table
    }
}

/// True when some row of the table carries a recognisable roadmap header.
pub(crate) fn has_roadmap_header(rows: &[Vec<String>]) -> bool {
    rows.iter().any(|r| {
        let cells: Vec<String> = r.iter().map(|c| crate::text::collapse_spaces(c)).collect();
        cells.len() >= 2 && crate::table::header_from_cells(&cells).is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_resolves_spans_and_vertical_merges() {
        let mut g = GridBuilder::new();
        let c = |t: &str, s: usize, v: VMerge| (t.to_string(), s, v);
        g.row(0, vec![c("1. Раздел", 3, VMerge::None)]);
        g.row(
            0,
            vec![
                c("1.1.", 1, VMerge::None),
                c("Семинар", 1, VMerge::None),
                c("ИМЦ", 1, VMerge::Restart),
            ],
        );
        g.row(
            0,
            vec![
                c("1.2.", 1, VMerge::None),
                c("Курсы", 1, VMerge::None),
                c("", 1, VMerge::Continue),
            ],
        );
        let t = g.finish();
        assert_eq!(t.rows[0], vec!["1. Раздел", "", ""]);
        assert_eq!(t.rows[2], vec!["1.2.", "Курсы", "ИМЦ"]);
        assert_eq!(t.merges, vec![(0, 0, 1, 3), (1, 2, 2, 1)]);
        let doc = render(&[Block::Paragraph("План".into()), Block::Table(t)], Format::Docx);
        assert_eq!(doc.text, "План\n1. Раздел\n1.1.\tСеминар\tИМЦ\n1.2.\tКурсы\tИМЦ\n");
        assert_eq!(doc.merged_cells[1].line, 3);
    }

    #[test]
    fn sniffing_refuses_what_is_not_a_document() {
        let e = read_document("a.png", b"\x89PNG\r\n\x1a\n0000").unwrap_err();
        assert!(e.to_string().starts_with("a.png: the file is a PNG image"), "{e}");
        let e = read_document("x", b"1").unwrap_err();
        assert!(e.to_string().contains("too short"), "{e}");
    }
}
