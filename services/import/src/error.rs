//! Errors for inputs that cannot be read as a roadmap at all. Defects inside a roadmap are not
//! errors: they are reported as lint findings next to the parsed data.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("the input is empty (or whitespace only); expected the text of a roadmap document")]
    Empty,

    #[error(
        "the input is not valid UTF-8 text: invalid byte sequence at byte offset {offset} (line {line}); expected a plain-text extraction of the document"
    )]
    InvalidUtf8 { line: usize, offset: usize },

    #[error("the input looks binary: {what} at line {line}, column {column}; expected plain text")]
    Binary { line: usize, column: usize, what: String },

    #[error(
        "no roadmap table found: no line has recognisable column headers (looked for a measure column such as {looked_for} together with a responsible, deadline or result column)"
    )]
    NotARoadmap { looked_for: String },

    #[error("the document is truncated at line {line}: {detail}")]
    Truncated { line: usize, detail: String },
}
