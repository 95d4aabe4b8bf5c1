//! Text helpers shared by the parsers: extraction-noise removal, whitespace normalisation,
//! Russian month names.

use std::sync::LazyLock;

use regex::Regex;

static HTML_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)</?(?:p|ul|ol|li|br|span|div|b|i|u|em|strong|sup|sub|font|table|tr|td|th)\b[^<>]{0,300}?/?>")
        .expect("static regex")
});
static BOOKMARK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[bookmark:[^\]]{0,200}\]").expect("static regex"));

/// Removes extraction noise from one cell or line. Returns the cleaned text and how many
/// markup fragments were removed (for stats).
pub fn strip_noise(s: &str) -> (String, usize) {
    let mut removed = 0;
    let mut out = s.to_string();
    if out.contains('<') {
        removed += HTML_TAG.find_iter(&out).count();
        out = HTML_TAG.replace_all(&out, " ").into_owned();
        out = out
            .replace("&nbsp;", " ")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
    }
    if out.contains("[bookmark:") {
        removed += BOOKMARK.find_iter(&out).count();
        out = BOOKMARK.replace_all(&out, "").into_owned();
    }
    if out.contains("**") {
        removed += out.matches("**").count();
        out = out.replace("**", "");
    }
    // Non-breaking and zero-width spaces come from DOCX and break word matching.
    if out.contains(['\u{a0}', '\u{200b}', '\u{feff}', '\u{202f}']) {
        out = out
            .replace(['\u{a0}', '\u{202f}'], " ")
            .replace(['\u{200b}', '\u{feff}'], "");
    }
    (out, removed)
}

/// Trims every line, collapses runs of spaces, drops empty lines; keeps line breaks.
pub fn normalize_multiline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        let l = collapse_spaces(line);
        if l.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&l);
    }
    out
}

/// Collapses all whitespace (including line breaks) into single spaces and trims.
pub fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lower case with "ё" folded into "е", for header and keyword matching.
pub fn fold(s: &str) -> String {
    s.to_lowercase().replace('ё', "е")
}

/// Month number for a Russian month word in any case form ("октябрь", "октября", "октябре").
pub fn month_from_word(word: &str) -> Option<u32> {
    let w = fold(word);
    let w = w.trim_end_matches('.');
    const STEMS: [(&str, u32); 12] = [
        ("январ", 1),
        ("феврал", 2),
        ("март", 3),
        ("апрел", 4),
        ("ма", 5),
        ("июн", 6),
        ("июл", 7),
        ("август", 8),
        ("сентябр", 9),
        ("октябр", 10),
        ("ноябр", 11),
        ("декабр", 12),
    ];
    for (stem, m) in STEMS {
        if let Some(rest) = w.strip_prefix(stem) {
            let ok = match m {
                // "май", "мая", "мае" only: "ма" alone is a prefix of too many words.
                5 => matches!(rest, "й" | "я" | "е"),
                3 | 8 => matches!(rest, "" | "а" | "е" | "у"),
                _ => matches!(rest, "ь" | "я" | "е" | "ю"),
            };
            if ok {
                return Some(m);
            }
        }
    }
    // Common abbreviations: "янв.", "сент.", "окт." ...
    const SHORT: [(&str, u32); 12] = [
        ("янв", 1),
        ("фев", 2),
        ("мар", 3),
        ("апр", 4),
        ("июн", 6),
        ("июл", 7),
        ("авг", 8),
        ("сен", 9),
        ("сент", 9),
        ("окт", 10),
        ("ноя", 11),
        ("дек", 12),
    ];
    SHORT.iter().find(|(s, _)| *s == w).map(|(_, m)| *m)
}

/// Value of a Roman numeral made of I, V, X (Latin or look-alike Cyrillic "І", "Х"), up to 39.
pub fn roman_value(s: &str) -> Option<u32> {
    if s.is_empty() || s.chars().count() > 6 {
        return None;
    }
    let mut total = 0u32;
    let mut prev = 0u32;
    for c in s.chars().rev() {
        let v = match c {
            'I' | 'І' | 'Ӏ' => 1,
            'V' => 5,
            'X' | 'Х' => 10,
            _ => return None,
        };
        if v < prev {
            total = total.checked_sub(v)?;
        } else {
            total += v;
            prev = v;
        }
    }
    (total > 0).then_some(total)
}

/// True for dash-like characters used as range separators.
pub fn is_dash(c: char) -> bool {
    matches!(c, '-' | '–' | '—' | '−' | '‒' | '―')
}

/// Parses "4,56" / "4.56" / "15" into f64.
pub fn parse_decimal(s: &str) -> Option<f64> {
    let t = s.trim().replace(',', ".").replace(' ', "");
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// First character is a lower-case letter.
pub fn starts_lowercase(s: &str) -> bool {
    s.trim_start().chars().next().is_some_and(|c| c.is_lowercase())
}

/// A token that looks like an abbreviation: at least two upper-case letters and no run of
/// four or more lower-case letters at its start ("ОО", "МБУ", "ЗаБИЖТ", "ИРОСО").
pub fn is_abbreviation_like(token: &str) -> bool {
    if !token.chars().next().is_some_and(|c| c.is_uppercase()) || token.len() > 64 {
        return false;
    }
    let upper = token.chars().filter(|c| c.is_uppercase()).count();
    let letters = token.chars().filter(|c| c.is_alphabetic()).count();
    if upper < 2 || letters == 0 || letters > 12 {
        return false;
    }
    if !token.chars().all(|c| c.is_alphabetic() || c.is_ascii_digit()) {
        return false;
    }
    token.chars().next().is_some_and(|c| c.is_uppercase()) && upper * 2 >= letters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_seed_noise() {
        let (s, n) = strip_noise("<p>Май, 2023 г</p>");
        assert_eq!(s.trim(), "Май, 2023 г");
        assert_eq!(n, 2);
        let (s, _) = strip_noise("[bookmark: _GoBack]управление образования");
        assert_eq!(s, "управление образования");
        let (s, _) = strip_noise("**Дорожная карта");
        assert_eq!(s, "Дорожная карта");
        let (s, _) = strip_noise(r#"семинары: <ul style="list-style-type: none"> • Формирующее"#);
        assert_eq!(collapse_spaces(&s), "семинары: • Формирующее");
    }

    #[test]
    fn month_words() {
        assert_eq!(month_from_word("Октябрь"), Some(10));
        assert_eq!(month_from_word("октября"), Some(10));
        assert_eq!(month_from_word("май"), Some(5));
        assert_eq!(month_from_word("мая"), Some(5));
        assert_eq!(month_from_word("март"), Some(3));
        assert_eq!(month_from_word("марта"), Some(3));
        assert_eq!(month_from_word("маршрут"), None);
        assert_eq!(month_from_word("мастер"), None);
        assert_eq!(month_from_word("августа"), Some(8));
    }

    #[test]
    fn roman() {
        assert_eq!(roman_value("III"), Some(3));
        assert_eq!(roman_value("IV"), Some(4));
        assert_eq!(roman_value("II"), Some(2));
        assert_eq!(roman_value("ИМЦ"), None);
    }

    #[test]
    fn abbreviation_like() {
        assert!(is_abbreviation_like("ОО"));
        assert!(is_abbreviation_like("ЗаБИЖТ"));
        assert!(is_abbreviation_like("ИРОСО"));
        assert!(!is_abbreviation_like("Сахминобр"));
        assert!(!is_abbreviation_like("Директор"));
        assert!(!is_abbreviation_like("руководителиМО"));
    }
}
