//! Output types of the parser. Every type is plain data so the storage layer and the CLI can
//! serialise it unchanged.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::schedule::Schedule;

/// A whole roadmap document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedDocument {
    pub meta: Meta,
    /// Action-plan sections in document order. Measures of a table without section rows are
    /// put into one section with `number: None`.
    pub sections: Vec<Section>,
    /// Rows of "control points" tables (a table whose title column is "Контрольная точка").
    /// They are kept apart from `sections` because they are checkpoints, not work items;
    /// every one has `kind: MeasureKind::Milestone`.
    pub milestones: Vec<Measure>,
    pub abbreviations: Vec<Abbreviation>,
    pub indicator_targets: Vec<IndicatorTarget>,
    /// "Группы рисков / Целевые ориентиры" tables (school plans).
    pub risk_groups: Vec<RiskGroup>,
    pub lint: Vec<LintFinding>,
    pub stats: Stats,
}

impl ParsedDocument {
    /// All measures of all sections, top level only, in document order.
    pub fn measures(&self) -> impl Iterator<Item = &Measure> {
        self.sections.iter().flat_map(|s| s.measures.iter())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub title: Option<String>,
    pub title_line: Option<usize>,
    pub approval: Option<Approval>,
    pub period: Option<Period>,
    pub goals: Vec<String>,
    pub level: Option<LevelGuess>,
}

/// The act that approved the roadmap ("приказ", "распоряжение", or a signature block).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// Nominative, lower case: "приказ", "распоряжение", "постановление", "решение".
    pub kind: Option<String>,
    /// As written: "114-р", "450/1-осн.р.", "З.12-1408-р".
    pub number: Option<String>,
    pub date: Option<NaiveDate>,
    pub signatory: Option<String>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeriodKind {
    /// 1 September .. 31 August.
    SchoolYears,
    /// 1 January .. 31 December.
    CalendarYears,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub kind: PeriodKind,
    /// The words the period was read from, e.g. "2023/2024 учебном году".
    pub raw: String,
    pub line: usize,
    /// True when the title did not state a period and it was taken from the body text.
    pub inferred: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    Federal,
    Regional,
    Municipal,
    School,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelGuess {
    pub level: Level,
    /// The evidence, quoting the words that decided it.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// As written ("I.", "1."); `None` for the implicit section of a table without section rows.
    pub number: Option<String>,
    pub title: String,
    pub line: usize,
    pub measures: Vec<Measure>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MeasureKind {
    Measure,
    Milestone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// Exactly as written ("1.3.", "5.", "3.1.1."); `None` when the table has no number column
    /// or for a sub-row.
    pub number: Option<String>,
    /// Unique within the document and stable across re-imports of the same text: the section
    /// number is prepended when the measure number does not already carry it ("III.5"),
    /// sub-rows get "/n", duplicates get "~n", milestones are prefixed "cp.".
    pub key: String,
    pub kind: MeasureKind,
    /// Whitespace-normalised, one line.
    pub title: String,
    pub responsible_raw: String,
    pub responsible: Vec<Party>,
    pub schedule_raw: String,
    pub schedule: Schedule,
    pub expected_result: String,
    pub reporting_forms: String,
    pub notes: String,
    pub indicator: String,
    pub targets: Vec<QuantTarget>,
    pub children: Vec<Measure>,
    /// 1-based line of the row in the source text.
    pub line: usize,
    /// Lines of continuation rows merged into this measure (page breaks).
    pub continuation_lines: Vec<usize>,
    /// Cells of columns whose header the parser does not know ("Источник финансирования",
    /// "Отметка о выполнении" ...), in column order, non-empty ones only. Kept so that no
    /// column of a document is dropped; the `extra-column` lint finding names each such column.
    #[serde(default)]
    pub extra: Vec<ExtraColumn>,
}

/// One cell of a column the parser has no role for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraColumn {
    /// The column's header as written (both rows of a two-row header, joined by a space);
    /// "столбец N" when the header cell is empty.
    pub header: String,
    /// The cell, line breaks kept.
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartyKind {
    Organisation,
    Role,
    Team,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub kind: PartyKind,
    /// As written, whitespace-normalised, without a trailing "(далее – X)".
    pub name: String,
    /// The expansion when `name` is a known abbreviation, otherwise `name`.
    pub full_name: String,
    /// The abbreviation this party is known by: either the one it defines inline
    /// ("(далее – МБУ ИМЦ)") or the abbreviation `name` consists of.
    pub abbreviation: Option<String>,
    pub raw: String,
    /// The entry of a reference list this party was resolved to: a federal body
    /// ([`crate::abbreviations::FEDERAL_BODIES`]) or a school post ([`crate::parties::SCHOOL_POSTS`]);
    /// absent when none matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<KnownParty>,
}

/// A party matched against a reference list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownParty {
    /// Stable key of the entry ("minprosveshcheniya", "deputy-head-academic").
    pub key: String,
    pub category: KnownCategory,
    /// The entry's name: the official full name of a body, the post's title
    /// ("заместитель директора по учебно-воспитательной работе").
    pub canonical: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KnownCategory {
    FederalMinistry,
    FederalService,
    FederalInstitution,
    /// A post in a school ("классный руководитель", "педагог-психолог").
    SchoolPost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AbbreviationSource {
    /// "(далее – X)" in the text.
    Inline,
    /// A "В тексте приняты следующие сокращения" list.
    Glossary,
    /// The crate's list of well-known abbreviations (`abbreviations::BUILT_IN`).
    BuiltIn,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Abbreviation {
    pub short: String,
    pub full: String,
    /// Line of the definition; 0 for built-in entries.
    pub line: usize,
    pub source: AbbreviationSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparator {
    Eq,
    Ge,
    Le,
    Gt,
    Lt,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantTarget {
    pub comparator: Comparator,
    pub value: f64,
    /// As written, decimal comma kept: "0,3".
    pub value_raw: String,
    /// "%" or the counted noun as written ("учителей", "интенсивов").
    pub unit: String,
    /// What is counted / measured, the words after the unit (may be empty).
    pub subject: String,
    /// The whole matched phrase.
    pub raw: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Subject {
    Russian,
    Math,
    MathBasic,
    MathProfile,
    Physics,
    Chemistry,
    Biology,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorTarget {
    /// Indicator name as written.
    pub indicator: String,
    /// Subject as written ("Математика (база)", "русскому языку").
    pub subject: String,
    pub subject_key: Subject,
    /// "ЕГЭ" or "ОГЭ".
    pub exam: Option<String>,
    pub grade: Option<u32>,
    /// `None` for goal sentences, which aim at the end of the plan period.
    pub year: Option<i32>,
    pub comparator: Comparator,
    pub value_raw: String,
    pub value: f64,
    pub is_baseline: bool,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskGroup {
    pub risk: String,
    pub target: String,
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintFinding {
    /// Stable kebab-case code, see `lint` module docs.
    pub code: String,
    pub severity: Severity,
    pub message: String,
    pub line: usize,
    pub measure_number: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub tables: usize,
    pub sections: usize,
    pub measures: usize,
    pub child_measures: usize,
    pub milestones: usize,
    pub continuation_rows_merged: usize,
    pub repeated_headers_dropped: usize,
    pub footers_dropped: usize,
    pub markdown_rules_dropped: usize,
    pub markup_fragments_removed: usize,
    pub abbreviations: usize,
    pub parties: usize,
    pub indicator_targets: usize,
    pub quant_targets: usize,
    pub lint_findings: usize,
    /// Headers of columns kept as [`Measure::extra`], in document order, each once.
    #[serde(default)]
    pub extra_columns: Vec<String>,
}
