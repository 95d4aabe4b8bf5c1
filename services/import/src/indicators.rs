//! Target indicators: tables of values per subject and year (a subject row spanning several
//! year columns, a year row, a value row) and goal sentences ("Снижение доли выпускников 11-х
//! классов … по русскому языку до 0,3%, …").

use std::sync::LazyLock;

use regex::Regex;

use crate::model::{Comparator, IndicatorTarget, Period, Subject};
use crate::table::split_row;
use crate::text::{collapse_spaces, fold, parse_decimal, strip_noise};

pub fn subject_key(s: &str) -> Subject {
    let f = fold(s);
    if f.contains("русск") {
        Subject::Russian
    } else if f.contains("матем") {
        if f.contains("баз") {
            Subject::MathBasic
        } else if f.contains("проф") {
            Subject::MathProfile
        } else {
            Subject::Math
        }
    } else if f.contains("физик") {
        Subject::Physics
    } else if f.contains("хими") {
        Subject::Chemistry
    } else if f.contains("биолог") {
        Subject::Biology
    } else {
        Subject::Other
    }
}

fn exam_and_grade(text: &str) -> (Option<String>, Option<u32>) {
    if text.contains("ЕГЭ") {
        (Some("ЕГЭ".into()), Some(11))
    } else if text.contains("ОГЭ") {
        (Some("ОГЭ".into()), Some(9))
    } else {
        (None, None)
    }
}

fn as_year(cell: &str) -> Option<i32> {
    let t = cell.trim();
    (t.len() == 4)
        .then(|| t.parse::<i32>().ok())
        .flatten()
        .filter(|y| (2000..=2100).contains(y))
}

/// Indicator tables anywhere in the text (outside the measure tables).
pub fn parse_indicator_tables(lines: &[&str], period: Option<&Period>) -> Vec<IndicatorTarget> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let years_row = split_row(line);
        let years: Vec<Option<i32>> = years_row.iter().map(|c| as_year(c)).collect();
        let non_empty = years_row.iter().filter(|c| !c.trim().is_empty()).count();
        if non_empty < 2 || years.iter().filter(|y| y.is_some()).count() != non_empty {
            continue;
        }
        let (Some(head_line), Some(values_line)) = (i.checked_sub(1).and_then(|k| lines.get(k)), lines.get(i + 1))
        else {
            continue;
        };
        let heads = split_row(head_line);
        let values = split_row(values_line);
        if heads.iter().all(|h| h.trim().is_empty()) {
            continue;
        }
        // The indicator name is the nearest single-cell paragraph above.
        let indicator = (0..i.saturating_sub(1))
            .rev()
            .map(|k| collapse_spaces(&strip_noise(lines.get(k).copied().unwrap_or("")).0))
            .find(|l| !l.is_empty() && !l.contains('\t'))
            .unwrap_or_default();
        let (exam, grade) = exam_and_grade(&indicator);
        let mut subject = String::new();
        let mut group_first_year: Option<i32> = None;
        for (col, year) in years.iter().enumerate() {
            if let Some(h) = heads.get(col).map(|h| collapse_spaces(h)).filter(|h| !h.is_empty()) {
                subject = h;
                group_first_year = None;
            }
            let (Some(year), Some(raw)) = (year, values.get(col).map(|v| v.trim())) else {
                continue;
            };
            let Some(value) = parse_decimal(raw) else {
                continue;
            };
            let first = *group_first_year.get_or_insert(*year);
            let is_baseline = match period {
                Some(p) => *year < chrono::Datelike::year(&p.start),
                None => *year == first,
            };
            out.push(IndicatorTarget {
                indicator: indicator.clone(),
                subject: subject.clone(),
                subject_key: subject_key(&subject),
                exam: exam.clone(),
                grade,
                year: Some(*year),
                comparator: Comparator::Eq,
                value_raw: raw.to_string(),
                value,
                is_baseline,
                line: i + 2,
            });
        }
    }
    out
}

static GRADE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(\d{1,2})(?:-?х)?\s+класс").expect("static regex"));
static SUBJECT_TARGET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bпо\s+([\p{L}\s]{3,60}?)\s+(до|не\s+более|не\s+менее)\s+(\d+(?:[.,]\d+)?)\s*%")
        .expect("static regex")
});

/// Targets stated in goal sentences.
pub fn parse_goal_targets(goals: &[(String, usize)]) -> Vec<IndicatorTarget> {
    let mut out = Vec::new();
    for (sentence, line) in goals {
        let Some(grade) = GRADE
            .captures(sentence)
            .and_then(|c| c.get(1))
            .and_then(|g| g.as_str().parse::<u32>().ok())
        else {
            continue;
        };
        let (exam, _) = exam_and_grade(sentence);
        let exam = exam.or_else(|| match grade {
            11 => Some("ЕГЭ".to_string()),
            9 => Some("ОГЭ".to_string()),
            _ => None,
        });
        let indicator = sentence.split(':').next().unwrap_or(sentence).trim().to_string();
        for c in SUBJECT_TARGET.captures_iter(sentence) {
            let (Some(subj), Some(cmp), Some(num)) = (c.get(1), c.get(2), c.get(3)) else {
                continue;
            };
            let Some(value) = parse_decimal(num.as_str()) else {
                continue;
            };
            let comparator = match collapse_spaces(&fold(cmp.as_str())).as_str() {
                "не менее" => Comparator::Ge,
                _ => Comparator::Le,
            };
            let subject = collapse_spaces(subj.as_str());
            out.push(IndicatorTarget {
                indicator: indicator.clone(),
                subject_key: subject_key(&subject),
                subject,
                exam: exam.clone(),
                grade: Some(grade),
                year: None,
                comparator,
                value_raw: num.as_str().to_string(),
                value,
                is_baseline: false,
                line: *line,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goal_sentence() {
        let goals = vec![(
            "Снижение доли выпускников 9-х классов, не преодолевших минимальный порог по обязательным учебным предметам: по математике до 15%, по русскому языку до 1%.".to_string(),
            55,
        )];
        let t = parse_goal_targets(&goals);
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[0].subject_key, t[0].value, t[0].grade, t[0].exam.as_deref()),
            (Subject::Math, 15.0, Some(9), Some("ОГЭ"))
        );
        assert_eq!(
            (t[1].subject.as_str(), t[1].value_raw.as_str()),
            ("русскому языку", "1")
        );
    }

    #[test]
    fn table() {
        let text = "Доля обучающихся, не преодолевших минимальный порог баллов на ЕГЭ, %\n\nХимия\t\t\t\tБиология\t\t\t\n2023\t2024\t2025\t2026\t2023\t2024\t2025\t2026\n32,79\t30\t27\t23\t24,91\t20\t15\t13";
        let lines: Vec<&str> = text.lines().collect();
        let t = parse_indicator_tables(&lines, None);
        assert_eq!(t.len(), 8);
        assert_eq!(
            (t[0].subject.as_str(), t[0].value_raw.as_str(), t[0].is_baseline),
            ("Химия", "32,79", true)
        );
        assert_eq!((t[3].year, t[3].value, t[3].is_baseline), (Some(2026), 23.0, false));
        assert_eq!(t[4].subject_key, Subject::Biology);
        assert_eq!(t[0].grade, Some(11));
    }
}
