//! XLSX through calamine: the first sheet holding a roadmap header (the others are named in
//! the notes), merged ranges resolved like table merges (text kept in the first column of a
//! horizontal merge, repeated down a vertical one).
//!
//! Cells are rendered as a Russian-locale Excel shows them by default: whole numbers without a
//! fraction, decimals with a comma ("4,56"), dates as DD.MM.YYYY. Number formats beyond that
//! (percent, thousands separators) are not applied: calamine does not expose them.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use super::{Block, Format, MAX_COLUMNS, MAX_ROWS, ReadDocument, ReadErrorKind, Table, render};

pub(super) fn read_xlsx(bytes: &[u8]) -> Result<ReadDocument, ReadErrorKind> {
    let corrupt = |what: String| ReadErrorKind::Corrupt {
        format: Format::Xlsx,
        what,
    };
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| corrupt(e.to_string()))?;
    let names = wb.sheet_names();
    for name in &names {
        let range = wb
            .worksheet_range(name)
            .map_err(|e| corrupt(format!("sheet \"{name}\": {e}")))?;
        let merges = wb.merge_cells_by_sheet_name(name).unwrap_or_default();
        let table = sheet_table(&range, &merges);
        if super::has_roadmap_header(&table.rows) {
            let mut doc = render(&[Block::Table(table)], Format::Xlsx);
            doc.notes.push(format!("sheet \"{name}\" of {}", names.len()));
            return Ok(doc);
        }
    }
    Err(ReadErrorKind::NoTable {
        format: Format::Xlsx,
        what: format!(
            "no sheet has a row of roadmap column headers (sheets: {}; looked for a measure column with a responsible, deadline or result column)",
            names.join(", ")
        ),
    })
}

fn sheet_table(range: &calamine::Range<Data>, merges: &[calamine::Dimensions]) -> Table {
    let Some((r0, c0)) = range.start() else {
        return Table::default();
    };
    let (h, w) = range.get_size();
    let w = w.min(MAX_COLUMNS);
    let h = h.min(MAX_ROWS).min(super::MAX_CELLS / w.max(1));
    let mut rows: Vec<Vec<String>> = (0..h)
        .map(|r| {
            (0..w)
                .map(|c| range.get((r, c)).map(show).unwrap_or_default())
                .collect()
        })
        .collect();
    let mut recorded = Vec::new();
    for m in merges {
        // Merges are in sheet coordinates; the range starts at its first used cell.
        let (Some(top), Some(left)) = (m.start.0.checked_sub(r0), m.start.1.checked_sub(c0)) else {
            continue;
        };
        let (top, left) = (top as usize, left as usize);
        let height = (m.end.0.saturating_sub(m.start.0) as usize + 1).min(h.saturating_sub(top));
        let width = (m.end.1.saturating_sub(m.start.1) as usize + 1).min(w.saturating_sub(left));
        if top >= h || left >= w || (height <= 1 && width <= 1) {
            continue;
        }
        let value = rows[top][left].clone();
        for row in rows.iter_mut().skip(top + 1).take(height - 1) {
            row[left] = value.clone();
        }
        recorded.push((top, left, height, width));
    }
    recorded.sort_unstable();
    Table { rows, merges: recorded }
}

fn show(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.replace("\r\n", "\n"),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number(*f),
        Data::Bool(b) => if *b { "ИСТИНА" } else { "ЛОЖЬ" }.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.format("%d.%m.%Y").to_string(),
            Some(t) => t.format("%d.%m.%Y %H:%M").to_string(),
            None => number(dt.as_f64()),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// A number as a Russian-locale sheet shows it: "3", "4,56".
fn number(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        // Shortest representation that reads back as the same number.
        format!("{f}").replace('.', ",")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_as_shown() {
        assert_eq!(super::number(3.0), "3");
        assert_eq!(super::number(4.56), "4,56");
        assert_eq!(super::number(-0.5), "-0,5");
    }
}
