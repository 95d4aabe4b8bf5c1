//! Parsers for education-quality roadmaps ("дорожная карта повышения качества образования")
//! extracted as plain text from DOCX/PDF.
//!
//! Layout:
//! * `document` — input checks, tables, sections, measures; [`parse_document`] is the entry point;
//! * `table` — the two extraction layouts, header recognition, noise rows;
//! * `meta` — title, approving act, plan period, goals, level guess;
//! * `schedule` — deadlines in Russian free text ([`parse_schedule`]);
//! * `parties` — responsible organisations, roles and teams ([`split_responsible`]);
//! * `abbreviations` — inline and glossary definitions, the built-in list ([`abbreviations::BUILT_IN`]),
//!   the reference list of federal bodies ([`abbreviations::FEDERAL_BODIES`]);
//! * `targets` — quantitative targets in result texts ([`parse_targets`]);
//! * `indicators` — indicator tables and goal sentences;
//! * `occurrence` — a schedule expanded into dated occurrences ([`occurrence::expand`]);
//! * `workdays` — the official working-day calendar (holidays and transfers, 2023–2027, from
//!   `data/production_calendar.csv`) and [`workdays::add_working_days`];
//! * `lint` — defects reported next to the data (codes listed in the module docs);
//! * `model` — the output types; `error` — [`ParseError`]; `text` — shared text helpers;
//! * `read` — documents as people have them (DOCX, ODT, XLSX/ODS, CSV/TSV, PDF with a text
//!   layer, plain text), detected from their content and rendered into the text the parser
//!   reads ([`read_document`], [`import_document`]).
//!
//! Structured formats become the same text as today's extractions: one table row per line,
//! cells separated by tabs, a line break inside a cell written as [`CELL_LINE_BREAK`], merged
//! cells resolved (a horizontally merged cell keeps its text in the first column, a vertically
//! merged one repeats it in every row it spans). That text is what a plan version stores and
//! what line numbers point into, so "raw text next to parsed" holds for every format.
//!
//! The parser never fixes data: raw cell texts are kept next to every interpretation, and
//! anything suspicious becomes a [`LintFinding`].

pub mod abbreviations;
pub mod document;
pub mod error;
pub mod indicators;
pub mod lint;
pub mod meta;
pub mod model;
pub mod occurrence;
pub mod parties;
pub mod read;
pub mod schedule;
pub mod table;
pub mod targets;
pub mod text;
pub mod workdays;

pub use document::{parse_document, parse_document_bytes};
pub use error::ParseError;
pub use model::*;
pub use parties::split_responsible;
pub use read::{Format, ReadDocument, ReadError, import_document, read_document};

/// How a line break inside a table cell is written in the text the readers render (U+2028
/// LINE SEPARATOR): not a line end for the parser, turned back into `\n` when the cell is read.
pub const CELL_LINE_BREAK: char = '\u{2028}';
pub use schedule::{
    DateRange, Frequency, Offset, OffsetUnit, RecurrenceDay, Schedule, ScheduleItem, ScheduleKind, Term, Weekday,
    parse_schedule,
};
pub use targets::parse_targets;
