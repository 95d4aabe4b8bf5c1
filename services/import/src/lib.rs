//! Parsers for education-quality roadmaps ("дорожная карта повышения качества образования")
//! extracted as plain text from DOCX/PDF.
//!
//! Layout:
//! * `document` — input checks, tables, sections, measures; [`parse_document`] is the entry point;
//! * `table` — the two extraction layouts, header recognition, noise rows;
//! * `meta` — title, approving act, plan period, goals, level guess;
//! * `schedule` — deadlines in Russian free text ([`parse_schedule`]);
//! * `parties` — responsible organisations, roles and teams ([`split_responsible`]);
//! * `abbreviations` — inline and glossary definitions, the built-in list ([`abbreviations::BUILT_IN`]);
//! * `targets` — quantitative targets in result texts ([`parse_targets`]);
//! * `indicators` — indicator tables and goal sentences;
//! * `occurrence` — a schedule expanded into dated occurrences ([`occurrence::expand`]);
//! * `lint` — defects reported next to the data (codes listed in the module docs);
//! * `model` — the output types; `error` — [`ParseError`]; `text` — shared text helpers.
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
pub mod schedule;
pub mod table;
pub mod targets;
pub mod text;

pub use document::{parse_document, parse_document_bytes};
pub use error::ParseError;
pub use model::*;
pub use parties::split_responsible;
pub use schedule::{DateRange, Frequency, Schedule, ScheduleItem, ScheduleKind, parse_schedule};
pub use targets::parse_targets;
