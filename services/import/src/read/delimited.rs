//! Text files: today's plain-text extractions, and CSV/TSV tables (what Excel writes: ";" in a
//! Russian locale, "," elsewhere, tab for "Unicode text"), quoted cells with line breaks.
//!
//! Encoding, in this order: a UTF-8 BOM; a UTF-16 BOM (Excel's "Unicode text"); valid UTF-8;
//! otherwise Windows-1251, which is what Excel and Notepad write in a Russian locale (every
//! byte sequence decodes in it, so a file in another single-byte encoding ends as "no roadmap
//! table" rather than as a silent misreading of a table).
//!
//! Plain text or CSV: a file whose lines already carry a roadmap header (tab- or pipe-separated,
//! or one cell per line) is today's plain text and goes to the parser unchanged, unless it is
//! a TSV with quoted cells; otherwise the delimiters ";", "," and tab are tried in that order
//! and the first one whose records hold a roadmap header wins.

use super::{Block, Format, MAX_ROWS, ReadDocument, ReadErrorKind, Table, render};

pub(super) fn read(bytes: &[u8]) -> Result<ReadDocument, ReadErrorKind> {
    let (text, encoding) = decode(bytes);
    let mut notes = vec![format!("encoding: {encoding}")];
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let plain_header = crate::table::find_headers(&lines).into_iter().next();
    let quoted_tsv = plain_header.as_ref().is_some_and(|h| {
        h.layout == crate::table::Layout::RowPerLine
            && lines.iter().skip(h.line).any(|l| {
                l.split('\t')
                    .any(|c| c.starts_with('"') && c.matches('"').count() % 2 == 1)
            })
    });
    if plain_header.is_some() && !quoted_tsv {
        return Ok(plain(text, notes));
    }
    for (delim, format) in [(b';', Format::Csv), (b',', Format::Csv), (b'\t', Format::Tsv)] {
        let rows = records(&text, delim);
        if super::has_roadmap_header(&rows) {
            notes.push(format!("delimiter: {:?}", delim as char));
            let mut doc = render(
                &[Block::Table(Table {
                    rows,
                    merges: Vec::new(),
                })],
                format,
            );
            doc.notes = notes;
            // A CSV is one table, but the parser sees it as lines; the table count is the
            // parser's to make.
            doc.tables = 1;
            return Ok(doc);
        }
    }
    notes.push("no delimiter gives a roadmap header; read as plain text".to_string());
    Ok(plain(text, notes))
}

fn plain(text: String, notes: Vec<String>) -> ReadDocument {
    ReadDocument {
        file_name: String::new(),
        format: Format::Text,
        text,
        tables: 0,
        merged_cells: Vec::new(),
        notes,
    }
}

/// Decodes the bytes and names the encoding used.
pub(crate) fn decode(bytes: &[u8]) -> (String, &'static str) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return (String::from_utf8_lossy(rest).into_owned(), "UTF-8 with BOM");
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let (cow, enc, _) = encoding_rs::UTF_16LE.decode(bytes);
        // `decode` sniffs the BOM, so a big-endian file is read as such.
        let name = if enc == encoding_rs::UTF_16BE {
            "UTF-16BE"
        } else {
            "UTF-16LE"
        };
        return (cow.into_owned(), name);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), "UTF-8"),
        Err(_) => {
            let (cow, _) = encoding_rs::WINDOWS_1251.decode_without_bom_handling(bytes);
            (cow.into_owned(), "windows-1251")
        }
    }
}

fn records(text: &str, delim: u8) -> Vec<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for rec in rdr.records().take(MAX_ROWS) {
        // A malformed record (impossible with `flexible`, but cheap to allow for) ends the file.
        let Ok(rec) = rec else { break };
        out.push(rec.iter().map(|c| c.replace("\r\n", "\n")).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let (s, e) = decode("№;Мероприятие".as_bytes());
        assert_eq!((s.as_str(), e), ("№;Мероприятие", "UTF-8"));
        let (b, _, _) = encoding_rs::WINDOWS_1251.encode("№;Мероприятие");
        let (s, e) = decode(&b);
        assert_eq!((s.as_str(), e), ("№;Мероприятие", "windows-1251"));
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice("№".as_bytes());
        assert_eq!(decode(&bom).0, "№");
    }

    #[test]
    fn csv_with_quoted_line_breaks() {
        let csv = "Дорожная карта на 2024 год;;;\n№;Мероприятие;Срок;Ответственный\n1.;\"Семинар\nдля учителей\";март 2024;ИМЦ\n";
        let doc = read(csv.as_bytes()).unwrap();
        assert_eq!(doc.format, Format::Csv);
        assert_eq!(
            doc.text,
            "Дорожная карта на 2024 год\n№\tМероприятие\tСрок\tОтветственный\n1.\tСеминар\u{2028}для учителей\tмарт 2024\tИМЦ\n"
        );
    }
}
