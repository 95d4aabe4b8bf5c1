//! CSV downloads of the pages' tables, as Excel in a Russian locale opens them directly: UTF-8
//! with a byte-order mark, `;` between cells, CRLF line ends, a cell quoted (`"`, inner quotes
//! doubled) when it holds `;`, a quote or a line break. A cell that a spreadsheet would take for
//! a formula (starting with `=`, `+`, `@`, or `-` not followed by a digit) gets a leading `'`,
//! which spreadsheets show as text; every other cell is the page's text as is (dates
//! `15.09.2023`, numbers `32,79`).

/// The byte-order mark Excel needs to read UTF-8.
pub const BOM: &str = "\u{feff}";

/// A table (a header row, then rows) as a CSV file.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = BOM.as_bytes().to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .flexible(true)
            .from_writer(&mut out);
        let mut write = |cells: Vec<String>| {
            // Writing into memory fails only when out of memory.
            writer.write_record(cells.iter().map(|c| inert(c))).ok();
        };
        write(header.iter().map(|h| h.to_string()).collect());
        for row in rows {
            write(row.clone());
        }
        writer.flush().ok();
    }
    out
}

/// `cell`, with a leading `'` when a spreadsheet would run it as a formula.
fn inert(cell: &str) -> String {
    let mut chars = cell.chars();
    let formula = match chars.next() {
        Some('=' | '+' | '@' | '\t' | '\r') => true,
        Some('-') => !chars.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    };
    if formula { format!("'{cell}") } else { cell.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_bom_and_formulas() {
        let rows = vec![vec![
            "1.1".to_string(),
            "Семинар; \"итоги\"\nи планы".to_string(),
            "=HYPERLINK(\"x\")".to_string(),
            "-5".to_string(),
            "- пункт".to_string(),
        ]];
        let bytes = table(&["№", "Мероприятие", "a", "b", "c"], &rows);
        let text = String::from_utf8(bytes).expect("UTF-8");
        assert!(text.starts_with("\u{feff}№;Мероприятие;a;b;c\r\n"), "{text}");
        assert!(
            text.ends_with("1.1;\"Семинар; \"\"итоги\"\"\nи планы\";\"'=HYPERLINK(\"\"x\"\")\";-5;'- пункт\r\n"),
            "{text}"
        );
    }
}
