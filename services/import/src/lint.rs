//! Defects an auditor wants flagged. Nothing here changes the parsed data.
//!
//! Codes (stable):
//! | code | severity | what |
//! |---|---|---|
//! | `schedule-outside-period` | warning | a dated schedule item lies (partly) outside the plan period |
//! | `schedule-inverted-range` | warning | a range ends before it starts |
//! | `schedule-unparsed` | error | a schedule text could not be read |
//! | `working-days-uncovered` | warning | a recurrence falls on working days in a year the production calendar (`data/production_calendar.csv`) does not cover: its dates were placed Monday–Friday and may miss holidays and transfers |
//! | `schedule-leftover` | warning | words of a schedule the parser did not use (`Schedule::leftover`): the parsed structure may be missing what they say |
//! | `duplicate-number` | error | two measures of a section carry the same number |
//! | `numbering-gap` | warning | a number is skipped in a sequence (measures or sections) |
//! | `missing-responsible` | warning | a measure names nobody responsible |
//! | `missing-schedule` | warning | a measure has no deadline |
//! | `unresolved-abbreviation` | warning (responsible column) / info | an abbreviation neither defined nor built in |
//! | `abbreviation-spelling-variants` | warning | one abbreviation spelled several ways |
//! | `note-to-self` | warning | a question or remark left in the text ("– нужен приказ?") |
//! | `incomplete-party` | warning | a responsible party cut off ("Зам директора по") |
//! | `ambiguous-party` | warning | a short name that may mean a federal or a regional body ("Минобрнауки" in a document naming a regional ministry "образования и науки"); not resolved |
//! | `act-number-mismatch` | warning | the approving act's number is written differently in two places |
//! | `glued-words` | info | words run together by extraction ("руководителиМО") |
//! | `mixed-script` | info | a word mixing Cyrillic and Latin letters |
//! | `period-inferred` | info | the title states no period; it was taken from the body |
//! | `extra-column` | info | a column whose header has no role; its cells are kept as the measures' `extra` |

use std::collections::BTreeMap;

use crate::abbreviations::built_in;
use crate::model::*;
use crate::schedule::{ScheduleItem, ScheduleKind};
use crate::text::{collapse_spaces, is_abbreviation_like, strip_noise};

fn finding(code: &str, severity: Severity, message: String, line: usize, measure: Option<&Measure>) -> LintFinding {
    LintFinding {
        code: code.to_string(),
        severity,
        message,
        line,
        measure_number: measure.map(display_number),
    }
}

fn display_number(m: &Measure) -> String {
    m.key.clone()
}

fn describe(item: &ScheduleItem) -> String {
    match item.span() {
        Some(r) if r.start == r.end => r.start.to_string(),
        Some(r) => format!("{}..{}", r.start, r.end),
        None => format!("{item:?}"),
    }
}

pub fn lint(doc: &ParsedDocument, lines: &[&str], preamble: &[&str]) -> Vec<LintFinding> {
    let mut out = Vec::new();
    let top: Vec<&Measure> = doc.measures().chain(doc.milestones.iter()).collect();
    let mut all: Vec<&Measure> = Vec::new();
    for m in &top {
        all.push(m);
        all.extend(m.children.iter());
    }

    if let Some(p) = &doc.meta.period
        && p.inferred
    {
        out.push(finding(
            "period-inferred",
            Severity::Info,
            format!(
                "the title states no plan period; using \"{}\" found at line {}",
                p.raw, p.line
            ),
            p.line,
            None,
        ));
    }
    act_numbers(preamble, &mut out);

    for m in &all {
        schedule_checks(doc, m, &mut out);
    }
    for m in &top {
        let children_have = |f: &dyn Fn(&Measure) -> bool| !m.children.is_empty() && m.children.iter().all(f);
        if m.responsible_raw.trim().is_empty() && !children_have(&|c: &Measure| !c.responsible_raw.trim().is_empty()) {
            out.push(finding(
                "missing-responsible",
                Severity::Warning,
                format!(
                    "measure {} \"{}\" names nobody responsible",
                    display_number(m),
                    short(&m.title)
                ),
                m.line,
                Some(m),
            ));
        }
        if m.schedule.kind == ScheduleKind::Missing
            && !children_have(&|c: &Measure| c.schedule.kind != ScheduleKind::Missing)
        {
            out.push(finding(
                "missing-schedule",
                Severity::Warning,
                format!("measure {} \"{}\" has no deadline", display_number(m), short(&m.title)),
                m.line,
                Some(m),
            ));
        }
    }
    numbering(doc, &mut out);
    for m in &all {
        notes_to_self(m, &mut out);
        for p in &m.responsible {
            let last = p.name.split_whitespace().last().unwrap_or("");
            if matches!(last, "по" | "в" | "на" | "для" | "с" | "и" | "при") {
                out.push(finding(
                    "incomplete-party",
                    Severity::Warning,
                    format!(
                        "responsible party \"{}\" of measure {} is cut off (ends with \"{last}\")",
                        p.name,
                        display_number(m)
                    ),
                    m.line,
                    Some(m),
                ));
            }
        }
        word_checks(m, &mut out);
        for p in &m.responsible {
            if crate::parties::party_flags(p, &doc.abbreviations).contains(&crate::parties::PartyFlag::Ambiguous) {
                out.push(finding(
                    "ambiguous-party",
                    Severity::Warning,
                    format!(
                        "\"{}\" of measure {} may mean the federal {} or a regional ministry of education and science; not resolved",
                        p.name,
                        display_number(m),
                        crate::abbreviations::federal_body_ambiguous(&p.name).map_or("body", |b| b.short)
                    ),
                    m.line,
                    Some(m),
                ));
            }
        }
    }
    abbreviation_checks(doc, &all, lines, &mut out);
    extra_columns(&all, &mut out);
    out.sort_by_key(|f| f.line);
    out
}

/// One finding per column kept as extra, at the first measure that has a value in it, so the
/// import report says which columns were not understood (and that they were kept).
fn extra_columns(all: &[&Measure], out: &mut Vec<LintFinding>) {
    for header in crate::document::extra_column_names(all) {
        let with: Vec<&&Measure> = all
            .iter()
            .filter(|m| m.extra.iter().any(|e| e.header == header))
            .collect();
        if let Some(first) = with.first() {
            out.push(finding(
                "extra-column",
                Severity::Info,
                format!(
                    "column \"{header}\" has no known role; its cells are kept as an extra column of {} measure(s)",
                    with.len()
                ),
                first.line,
                None,
            ));
        }
    }
}

fn short(s: &str) -> String {
    let t: String = s.chars().take(60).collect();
    if t.len() < s.len() { format!("{t}…") } else { t }
}

fn act_numbers(preamble: &[&str], out: &mut Vec<LintFinding>) {
    let acts = crate::meta::act_mentions(preamble);
    if let Some(first) = acts.first() {
        for other in acts.iter().skip(1) {
            if other.2 != first.2 && other.1 == first.1 {
                out.push(finding(
                    "act-number-mismatch",
                    Severity::Warning,
                    format!(
                        "the approving act's number is written \"{}\" at line {} but \"{}\" at line {}",
                        first.2, first.0, other.2, other.0
                    ),
                    other.0,
                    None,
                ));
            }
        }
    }
}

fn schedule_checks(doc: &ParsedDocument, m: &Measure, out: &mut Vec<LintFinding>) {
    if m.schedule.kind == ScheduleKind::Unparsed {
        out.push(finding(
            "schedule-unparsed",
            Severity::Error,
            format!(
                "the deadline \"{}\" of measure {} could not be read",
                collapse_spaces(&m.schedule_raw),
                display_number(m)
            ),
            m.line,
            Some(m),
        ));
    }
    if m.schedule.kind != ScheduleKind::Unparsed
        && let Some(words) = &m.schedule.leftover
    {
        out.push(finding(
            "schedule-leftover",
            Severity::Warning,
            format!(
                "words \"{words}\" of the deadline \"{}\" of measure {} were not used; check the parsed schedule",
                collapse_spaces(&m.schedule_raw),
                display_number(m)
            ),
            m.line,
            Some(m),
        ));
    }
    for item in &m.schedule.items {
        if let ScheduleItem::Window { start, end, .. } = item
            && start > end
        {
            out.push(finding(
                "schedule-inverted-range",
                Severity::Warning,
                format!(
                    "the range {start}..{end} in \"{}\" of measure {} ends before it starts",
                    collapse_spaces(&m.schedule_raw),
                    display_number(m)
                ),
                m.line,
                Some(m),
            ));
        }
    }
    let period = doc.meta.period.as_ref().map(|p| crate::schedule::DateRange {
        start: p.start,
        end: p.end,
    });
    let uncovered = crate::occurrence::expand(&m.schedule, period).uncovered_years;
    if !uncovered.is_empty() {
        let years: Vec<String> = uncovered.iter().map(i32::to_string).collect();
        out.push(finding(
            "working-days-uncovered",
            Severity::Warning,
            format!(
                "measure {} recurs on working days (\"{}\") in {}, which the production calendar does not cover \
                 (it covers {}); its dates there were placed Monday–Friday",
                display_number(m),
                collapse_spaces(&m.schedule_raw),
                years.join(", "),
                crate::workdays::covered_years()
                    .map(|(a, b)| format!("{a}–{b}"))
                    .unwrap_or_else(|| "no year".into())
            ),
            m.line,
            Some(m),
        ));
    }
    let Some(p) = &doc.meta.period else { return };
    let outside: Vec<String> = m
        .schedule
        .items
        .iter()
        .filter(|i| i.span().is_some_and(|r| r.start < p.start || r.end > p.end))
        .map(describe)
        .collect();
    if !outside.is_empty() {
        out.push(finding(
            "schedule-outside-period",
            Severity::Warning,
            format!(
                "measure {} is scheduled \"{}\": {} outside the plan period {}..{}",
                display_number(m),
                collapse_spaces(&m.schedule_raw),
                outside.join(", "),
                p.start,
                p.end
            ),
            m.line,
            Some(m),
        ));
    }
}

/// Number components: "III.5." → (["III"], 5); "2.6." → (["2"], 6).
fn components(n: &str) -> Option<(Vec<String>, u32)> {
    let t = n.trim().trim_end_matches('.');
    let parts: Vec<&str> = t.split('.').collect();
    let (last, head) = parts.split_last()?;
    let v = last.parse::<u32>().ok().or_else(|| crate::text::roman_value(last))?;
    Some((head.iter().map(|s| s.to_string()).collect(), v))
}

/// (number as written, line, key) in document order.
type Numbered = (String, usize, String);
/// (last component value, number as written, line, key).
type Entry<'a> = (u32, &'a str, usize, &'a str);

fn check_sequence(numbers: &[Numbered], what: &str, out: &mut Vec<LintFinding>, dup_code: bool) {
    let mut groups: BTreeMap<Vec<String>, Vec<Entry>> = BTreeMap::new();
    for (n, line, key) in numbers {
        if let Some((head, v)) = components(n) {
            groups
                .entry(head)
                .or_default()
                .push((v, n.as_str(), *line, key.as_str()));
        }
    }
    for (head, seq) in groups {
        let mut prev: Option<Entry> = None;
        for &(v, raw, line, key) in &seq {
            let expected = prev.map(|p| p.0 + 1).unwrap_or(1);
            if let Some(p) = prev
                && v == p.0
                && dup_code
            {
                out.push(LintFinding {
                    code: "duplicate-number".into(),
                    severity: Severity::Error,
                    message: format!("{what} number \"{raw}\" is used twice (lines {} and {line})", p.2),
                    line,
                    measure_number: Some(key.to_string()),
                });
            } else if v > expected {
                let missing: Vec<String> = (expected..v)
                    .take(5)
                    .map(|k| {
                        if head.is_empty() {
                            k.to_string()
                        } else {
                            format!("{}.{k}", head.join("."))
                        }
                    })
                    .collect();
                out.push(LintFinding {
                    code: "numbering-gap".into(),
                    severity: Severity::Warning,
                    message: format!("{what} {} is missing: numbering jumps to \"{raw}\"", missing.join(", ")),
                    line,
                    measure_number: Some(key.to_string()),
                });
            }
            prev = Some((v, raw, line, key));
        }
    }
}

fn numbering(doc: &ParsedDocument, out: &mut Vec<LintFinding>) {
    let sections: Vec<Numbered> = doc
        .sections
        .iter()
        .filter_map(|s| s.number.clone().map(|n| (n.clone(), s.line, n)))
        .collect();
    check_sequence(&sections, "section", out, true);
    for s in &doc.sections {
        let nums: Vec<Numbered> = s
            .measures
            .iter()
            .filter_map(|m| m.number.clone().map(|n| (n, m.line, m.key.clone())))
            .collect();
        check_sequence(&nums, "measure", out, true);
    }
    let nums: Vec<Numbered> = doc
        .milestones
        .iter()
        .filter_map(|m| m.number.clone().map(|n| (n, m.line, m.key.clone())))
        .collect();
    check_sequence(&nums, "control point", out, true);
}

fn texts(m: &Measure) -> [(&'static str, &str); 7] {
    [
        ("title", m.title.as_str()),
        ("responsible", m.responsible_raw.as_str()),
        ("schedule", m.schedule_raw.as_str()),
        ("result", m.expected_result.as_str()),
        ("notes", m.notes.as_str()),
        ("indicator", m.indicator.as_str()),
        ("reporting", m.reporting_forms.as_str()),
    ]
}

fn notes_to_self(m: &Measure, out: &mut Vec<LintFinding>) {
    for (_, t) in texts(m) {
        let t = collapse_spaces(t);
        for (qpos, _) in t.match_indices('?') {
            let before = t.get(..qpos).unwrap_or("");
            let start = before
                .char_indices()
                .rev()
                .find(|(_, c)| crate::text::is_dash(*c) || matches!(c, '.' | ';' | '(' | ':'))
                .map(|(i, _)| i)
                .unwrap_or(0);
            let fragment = t.get(start..qpos + 1).unwrap_or("?").trim();
            out.push(finding(
                "note-to-self",
                Severity::Warning,
                format!("measure {} carries a note to self: \"{fragment}\"", display_number(m)),
                m.line,
                Some(m),
            ));
        }
    }
}

fn word_checks(m: &Measure, out: &mut Vec<LintFinding>) {
    for (_, t) in texts(m) {
        for w in t.split(|c: char| !c.is_alphabetic()) {
            let chars: Vec<char> = w.chars().collect();
            let cyr = chars.iter().any(|c| matches!(c, 'а'..='я' | 'А'..='Я' | 'ё' | 'Ё'));
            let lat = chars.iter().any(|c| c.is_ascii_alphabetic());
            if cyr && lat {
                out.push(finding(
                    "mixed-script",
                    Severity::Info,
                    format!(
                        "the word \"{w}\" in measure {} mixes Cyrillic and Latin letters",
                        display_number(m)
                    ),
                    m.line,
                    Some(m),
                ));
                continue;
            }
            let lower_run = chars.iter().take_while(|c| c.is_lowercase()).count();
            let rest = chars.get(lower_run..).unwrap_or(&[]);
            if lower_run >= 3 && rest.len() >= 2 && rest.iter().all(|c| c.is_uppercase()) {
                out.push(finding(
                    "glued-words",
                    Severity::Info,
                    format!(
                        "\"{w}\" in measure {} looks like two words run together",
                        display_number(m)
                    ),
                    m.line,
                    Some(m),
                ));
            }
        }
    }
}

/// Abbreviation-like tokens outside «quotes».
fn abbreviation_tokens(text: &str) -> Vec<String> {
    tokens(text, false)
}

fn tokens(text: &str, in_quotes_too: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<String>, depth: i32| {
        if cur.is_empty() {
            return;
        }
        if (depth <= 0 || in_quotes_too)
            && is_abbreviation_like(cur)
            && cur.chars().any(|c| matches!(c, 'А'..='Я' | 'Ё'))
            && cur.chars().all(|c| !c.is_ascii_alphabetic())
        {
            out.push(cur.clone());
        }
        cur.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            cur.push(c);
            continue;
        }
        flush(&mut cur, &mut out, depth);
        match c {
            '«' => depth += 1,
            '»' => depth = (depth - 1).max(0),
            _ => {}
        }
    }
    flush(&mut cur, &mut out, depth);
    out
}

fn confusable(a: char, b: char) -> bool {
    const PAIRS: [(char, char); 6] = [('Н', 'П'), ('Н', 'И'), ('И', 'Й'), ('Ш', 'Щ'), ('Е', 'Ё'), ('Ь', 'Ъ')];
    PAIRS.iter().any(|&(x, y)| (a == x && b == y) || (a == y && b == x))
}

/// Same length and one adjacent transposition, one confusable letter, or case only.
fn variant_of(a: &str, b: &str) -> bool {
    let x: Vec<char> = a.chars().collect();
    let y: Vec<char> = b.chars().collect();
    if x.len() != y.len() || x.len() < 3 || a == b {
        return false;
    }
    if a.to_lowercase() == b.to_lowercase() {
        return true;
    }
    let diff: Vec<usize> = (0..x.len()).filter(|&i| x[i] != y[i]).collect();
    match diff.as_slice() {
        [i] => confusable(x[*i], y[*i]),
        [i, j] => *j == i + 1 && x[*i] == y[*j] && x[*j] == y[*i],
        _ => false,
    }
}

fn abbreviation_checks(doc: &ParsedDocument, measures: &[&Measure], lines: &[&str], out: &mut Vec<LintFinding>) {
    let defined = |t: &str| {
        doc.abbreviations
            .iter()
            .any(|a| a.short == t || a.short.split_whitespace().any(|w| w == t))
    };
    let known = |t: &str| defined(t) || built_in(t).is_some();

    // Spelling variants over the whole text.
    let mut seen: Vec<(String, Vec<usize>)> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, l) in lines.iter().enumerate() {
        for t in tokens(&strip_noise(l).0, true) {
            match index.get(&t).and_then(|&k| seen.get_mut(k)) {
                Some((_, ls)) => {
                    if ls.last() != Some(&(i + 1)) {
                        ls.push(i + 1);
                    }
                }
                None => {
                    index.insert(t.clone(), seen.len());
                    seen.push((t, vec![i + 1]));
                }
            }
        }
    }
    let n = seen.len();
    let mut cluster: Vec<usize> = (0..n).collect();
    fn root(c: &mut [usize], mut i: usize) -> usize {
        while c[i] != i {
            i = c[i];
        }
        i
    }
    // Variants have the same length, so only tokens of equal length are compared; a text with
    // thousands of distinct abbreviations of one length is not a roadmap worth the quadratic cost.
    let mut by_len: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, (t, _)) in seen.iter().enumerate() {
        by_len.entry(t.chars().count()).or_default().push(i);
    }
    for bucket in by_len.values().filter(|b| b.len() <= 2000) {
        for (k, &a) in bucket.iter().enumerate() {
            for &b in bucket.iter().skip(k + 1) {
                let (sa, sb) = (&seen[a].0, &seen[b].0);
                if known(sa) && known(sb) {
                    continue;
                }
                if variant_of(sa, sb) {
                    let (ra, rb) = (root(&mut cluster, a), root(&mut cluster, b));
                    cluster[rb] = ra;
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let r = root(&mut cluster, i);
        groups.entry(r).or_default().push(i);
    }
    let mut in_variant: std::collections::HashSet<String> = std::collections::HashSet::new();
    for members in groups.values().filter(|m| m.len() > 1) {
        let parts: Vec<String> = members
            .iter()
            .map(|&i| {
                let ls: Vec<String> = seen[i].1.iter().map(|l| l.to_string()).collect();
                format!(
                    "{} (line{} {})",
                    seen[i].0,
                    if ls.len() > 1 { "s" } else { "" },
                    ls.join(", ")
                )
            })
            .collect();
        // The first use of a spelling that is not the known one.
        let line = members
            .iter()
            .filter(|&&i| !known(&seen[i].0))
            .filter_map(|&i| seen[i].1.first())
            .copied()
            .min()
            .unwrap_or(1);
        in_variant.extend(members.iter().map(|&i| seen[i].0.clone()));
        out.push(LintFinding {
            code: "abbreviation-spelling-variants".into(),
            severity: Severity::Warning,
            message: format!(
                "one abbreviation is spelled {} ways: {}",
                members.len(),
                parts.join("; ")
            ),
            line,
            measure_number: None,
        });
    }

    // Unresolved abbreviations in measure texts, first use only.
    let mut reported: std::collections::HashSet<String> = std::collections::HashSet::new();
    for m in measures {
        for (field, t) in texts(m) {
            for tok in abbreviation_tokens(t) {
                if known(&tok) || in_variant.contains(&tok) || reported.contains(&tok) {
                    continue;
                }
                reported.insert(tok.clone());
                let severity = if field == "responsible" {
                    Severity::Warning
                } else {
                    Severity::Info
                };
                out.push(finding(
                    "unresolved-abbreviation",
                    severity,
                    format!(
                        "abbreviation \"{tok}\" (measure {}, {field} column) is neither defined in the document nor a well-known one",
                        display_number(m)
                    ),
                    m.line,
                    Some(m),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants() {
        assert!(variant_of("ШНОР", "ШНРО"));
        assert!(variant_of("ШНРО", "ШПРО"));
        assert!(!variant_of("ШНОР", "ШПРО"));
        assert!(variant_of("ЗаБИЖТ", "ЗабИЖТ"));
        assert!(!variant_of("ИКТ", "ИОТ"));
        assert!(!variant_of("ШНОР", "ШНСУ"));
    }

    #[test]
    fn tokens() {
        assert_eq!(
            abbreviation_tokens("ФГБОУ ВО «ЗабГУ», МБУ ИМЦ"),
            vec!["ФГБОУ", "ВО", "МБУ", "ИМЦ"]
        );
    }

    #[test]
    fn recurrences_beyond_the_production_calendar_are_flagged() {
        let doc = |period: &str| {
            let text = format!(
                "Дорожная карта на {period}\n\n№ п/п\tМероприятия\tСроки\tОтветственный\n1. Раздел\t\t\t\n\
                 1.1.\tСеминар\tежемесячно\tИМЦ\n1.2.\tОтчёт\tдо 25 числа каждого месяца\tИМЦ\n"
            );
            crate::parse_document(&text).unwrap()
        };
        let flagged = |d: &ParsedDocument| -> Vec<(Option<String>, String)> {
            d.lint
                .iter()
                .filter(|l| l.code == "working-days-uncovered")
                .map(|l| (l.measure_number.clone(), l.message.clone()))
                .collect()
        };
        // 2027–2028: 2028 is not in the calendar; 1.2's days are as written and need none.
        let found = flagged(&doc("2027–2028 годы"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0.as_deref(), Some("1.1"));
        assert!(
            found[0].1.contains("in 2028") && found[0].1.contains("2023–2027"),
            "{}",
            found[0].1
        );
        assert!(flagged(&doc("2024–2025 годы")).is_empty());
    }

    #[test]
    fn components_of_numbers() {
        assert_eq!(components("III.5."), Some((vec!["III".to_string()], 5)));
        assert_eq!(components("2.6."), Some((vec!["2".to_string()], 6)));
        assert_eq!(components("5."), Some((vec![], 5)));
    }
}
