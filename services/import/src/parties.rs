//! Responsible parties: organisations, roles and teams listed in the "Ответственные" column.
//!
//! Lists are split on commas and semicolons outside parentheses and quotes, and also where a
//! new role starts without punctuation ("Директор МКУ РЦО Муниципальный координатор"), which
//! is common after PDF extraction. A line break is a separator only when the next line starts
//! a new capitalised phrase; otherwise it is a wrapped line ("учителя-предметники\nОО").

use crate::abbreviations::built_in;
use crate::model::{Abbreviation, Party, PartyKind};
use crate::text::{collapse_spaces, fold, is_abbreviation_like, normalize_multiline, strip_noise};

/// Folded word stems that start a new role or team when written capitalised in the middle of
/// a list, or right after an abbreviation.
const HEADS: &[&str] = &[
    "директор",
    "зам",
    "заместител",
    "начальник",
    "муниципальный координатор",
    "координатор",
    "проектная команда",
    "рабочая группа",
    "руководител",
    "старший методист",
    "методист",
    "классные руководители",
    "учител",
    "инспектор",
    "психолог",
    "педагог",
];

const ROLE_STEMS: &[&str] = &[
    "директор",
    "зам",
    "начальник",
    "координатор",
    "руководител",
    "учител",
    "педагог",
    "методист",
    "инспектор",
    "психолог",
    "глав",
    "специалист",
    "эксперт",
    "наставник",
    "классн",
    "старш",
];

const TEAM_STEMS: &[&str] = &["команд", "групп", "совет", "комисси"];

pub fn split_responsible(raw: &str, abbreviations: &[Abbreviation]) -> Vec<Party> {
    let (clean, _) = strip_noise(raw);
    let clean = normalize_multiline(&clean);
    let joined = join_lines(&clean);
    let mut parties = Vec::new();
    for segment in split_top_level(&joined) {
        let (name_part, defined) = take_definition(&segment);
        let pieces = split_heads(&name_part, abbreviations);
        let count = pieces.len();
        for (i, piece) in pieces.into_iter().enumerate() {
            let name = piece.trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '-' | '–'));
            let name = collapse_spaces(name);
            if name.is_empty() {
                continue;
            }
            // "(далее – X)" names the last piece of its segment.
            let own_def = if i + 1 == count { defined.clone() } else { None };
            let raw_piece = if i + 1 == count {
                segment.trim().to_string()
            } else {
                name.clone()
            };
            parties.push(make_party(&name, own_def, raw_piece, abbreviations));
        }
    }
    parties
}

fn join_lines(s: &str) -> String {
    let mut out = String::new();
    for (i, line) in s.lines().enumerate() {
        if i > 0 {
            let first = line.split_whitespace().next().unwrap_or("");
            let new_phrase = first.chars().next().is_some_and(|c| c.is_uppercase()) && !is_abbreviation_like(first);
            let prev_open = out.ends_with(',') || out.ends_with(';');
            out.push_str(if new_phrase && !prev_open { "; " } else { " " });
        }
        out.push_str(line.trim());
    }
    out
}

fn split_top_level(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut paren = 0i32;
    let mut guillemet = 0i32;
    let mut dquote = false;
    for c in s.chars() {
        match c {
            '(' => paren += 1,
            ')' => paren = (paren - 1).max(0),
            '«' => guillemet += 1,
            '»' => guillemet = (guillemet - 1).max(0),
            '"' => dquote = !dquote,
            ',' | ';' if paren == 0 && guillemet == 0 && !dquote => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    // "классные руководители 9, 11 классов" and "главы муниципальных районов (округов), городских
    // округов": a piece starting with a number or a genitive adjective continues the previous one.
    let mut merged: Vec<String> = Vec::new();
    for piece in out.into_iter().filter(|s| !s.trim().is_empty()) {
        let first = piece.split_whitespace().next().unwrap_or("");
        let genitive =
            first.chars().next().is_some_and(|c| c.is_lowercase()) && (first.ends_with("ых") || first.ends_with("их"));
        let numeric = first.chars().next().is_some_and(|c| c.is_ascii_digit());
        match merged.last_mut() {
            Some(prev) if genitive || numeric => {
                prev.push(',');
                prev.push_str(&piece);
            }
            _ => merged.push(piece),
        }
    }
    merged
}

/// Removes "(далее – X)" and returns X.
fn take_definition(segment: &str) -> (String, Option<String>) {
    let f = segment.to_lowercase();
    if let Some(pos) = f.find("(далее") {
        let start = pos;
        let after = segment.get(start..).unwrap_or("");
        let close = after.find(')').map(|c| start + c + 1).unwrap_or(segment.len());
        let inner = segment
            .get(start + "(далее".len()..close.saturating_sub(1))
            .unwrap_or("");
        let short = inner
            .trim_start_matches(|c: char| c.is_whitespace() || crate::text::is_dash(c))
            .trim();
        let short = short.trim_matches(|c| matches!(c, '«' | '»' | '"')).trim();
        let mut name = segment.get(..start).unwrap_or("").to_string();
        name.push_str(segment.get(close..).unwrap_or(""));
        let short = (!short.is_empty()).then(|| collapse_spaces(short));
        return (name, short);
    }
    (segment.to_string(), None)
}

fn is_known_abbreviation(token: &str, abbreviations: &[Abbreviation]) -> bool {
    let t = token.trim_matches(|c: char| !c.is_alphanumeric());
    is_abbreviation_like(t) || abbreviations.iter().any(|a| a.short == t) || built_in(t).is_some()
}

fn split_heads(s: &str, abbreviations: &[Abbreviation]) -> Vec<String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.is_empty() {
        return Vec::new();
    }
    // "Сахминобр РЦОКОСО ОО": a list of abbreviations without commas.
    if words.len() > 1
        && words
            .iter()
            .all(|w| is_known_abbreviation(w, abbreviations) && !w.contains('«'))
    {
        let multiword_defined = abbreviations
            .iter()
            .any(|a| a.short.contains(' ') && s.contains(&a.short));
        if !multiword_defined {
            return words.iter().map(|w| w.to_string()).collect();
        }
    }
    let folded: Vec<String> = words.iter().map(|w| fold(w)).collect();
    let mut out = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    let mut quote_depth = 0i32;
    // Words inside a multi-word head ("Муниципальный Координатор") never start another one.
    let mut head_until = 0usize;
    for (k, w) in words.iter().enumerate() {
        let capital = w.chars().next().is_some_and(|c| c.is_uppercase());
        let prev_abbr = k > 0 && is_abbreviation_like(words[k - 1].trim_matches(|c: char| !c.is_alphanumeric()));
        let head_len = HEADS
            .iter()
            .filter_map(|h| {
                let parts: Vec<&str> = h.split(' ').collect();
                parts
                    .iter()
                    .enumerate()
                    .all(|(j, p)| folded.get(k + j).is_some_and(|fw| fw.starts_with(p)))
                    .then_some(parts.len())
            })
            .max();
        if let Some(len) = head_len
            && k >= head_until
        {
            if k > 0 && quote_depth == 0 && (capital || prev_abbr) && !cur.is_empty() {
                out.push(cur.join(" "));
                cur.clear();
            }
            head_until = k + len;
        }
        quote_depth += w.matches('«').count() as i32 - w.matches('»').count() as i32;
        cur.push(w);
    }
    if !cur.is_empty() {
        out.push(cur.join(" "));
    }
    out
}

fn classify(name: &str) -> PartyKind {
    let words: Vec<String> = name.split_whitespace().take(2).map(fold).collect();
    if words.iter().any(|w| TEAM_STEMS.iter().any(|s| w.starts_with(s))) {
        return PartyKind::Team;
    }
    if words.iter().any(|w| ROLE_STEMS.iter().any(|s| w.starts_with(s))) {
        return PartyKind::Role;
    }
    PartyKind::Organisation
}

fn make_party(name: &str, defined: Option<String>, raw: String, abbreviations: &[Abbreviation]) -> Party {
    let kind = classify(name);
    let doc = abbreviations
        .iter()
        .find(|a| a.short == name)
        .or_else(|| abbreviations.iter().find(|a| fold(&a.short) == fold(name)));
    let (full_name, abbreviation) = if let Some(a) = doc {
        (a.full.clone(), Some(a.short.clone()))
    } else if let Some(full) = built_in(name) {
        (full.to_string(), Some(name.to_string()))
    } else if let Some(short) = defined {
        (name.to_string(), Some(short))
    } else {
        (name.to_string(), None)
    };
    Party {
        kind,
        name: name.to_string(),
        full_name,
        abbreviation,
        raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AbbreviationSource;

    fn abbr(short: &str, full: &str) -> Abbreviation {
        Abbreviation {
            short: short.into(),
            full: full.into(),
            line: 1,
            source: AbbreviationSource::Inline,
        }
    }

    fn names(p: &[Party]) -> Vec<&str> {
        p.iter().map(|x| x.name.as_str()).collect()
    }

    #[test]
    fn inline_definitions() {
        let p = split_responsible(
            "управление образования администрации Николаевского муниципального района (далее – управление образования), Муниципальное бюджетное учреждение информационно-методический центр г. Николаевска-на-Амуре (далее – МБУ ИМЦ) ",
            &[],
        );
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0].name,
            "управление образования администрации Николаевского муниципального района"
        );
        assert_eq!(p[0].abbreviation.as_deref(), Some("управление образования"));
        assert_eq!(p[1].abbreviation.as_deref(), Some("МБУ ИМЦ"));
        assert_eq!(p[1].kind, PartyKind::Organisation);
    }

    #[test]
    fn resolves_document_abbreviations() {
        let a = vec![abbr(
            "МБУ ИМЦ",
            "Муниципальное бюджетное учреждение информационно-методический центр",
        )];
        let p = split_responsible("управление образования, МБУ ИМЦ, ОО", &a);
        assert_eq!(names(&p), vec!["управление образования", "МБУ ИМЦ", "ОО"]);
        assert_eq!(
            p[1].full_name,
            "Муниципальное бюджетное учреждение информационно-методический центр"
        );
        assert_eq!(p[2].full_name, "общеобразовательная организация");
    }

    #[test]
    fn splits_without_commas() {
        let a = vec![abbr("Сахминобр", "Министерство образования Сахалинской области")];
        let p = split_responsible("Сахминобр РЦОКОСО ОО", &a);
        assert_eq!(names(&p), vec!["Сахминобр", "РЦОКОСО", "ОО"]);
        let p = split_responsible(
            "Проектная команда по поддержке ШНРО и ШНСУ Директор МКУ РЦО Муниципальный координатор",
            &[],
        );
        assert_eq!(
            names(&p),
            vec![
                "Проектная команда по поддержке ШНРО и ШНСУ",
                "Директор МКУ РЦО",
                "Муниципальный координатор"
            ]
        );
        assert_eq!(p[0].kind, PartyKind::Team);
        assert_eq!(p[1].kind, PartyKind::Role);
        assert_eq!(p[2].kind, PartyKind::Role);
        let p = split_responsible("Зам директора по УВР Зам директора по ВР руководители МО", &[]);
        assert_eq!(
            names(&p),
            vec!["Зам директора по УВР", "Зам директора по ВР", "руководители МО"]
        );
        let p = split_responsible(
            "Проектная команда по поддержке ШНРО и ШНСУ Муниципальный Координатор, старший методист МКУ РЦО",
            &[],
        );
        assert_eq!(
            names(&p),
            vec![
                "Проектная команда по поддержке ШНРО и ШНСУ",
                "Муниципальный Координатор",
                "старший методист МКУ РЦО"
            ]
        );
        let p = split_responsible("Директор МКУ РЦО, Начальник Отдела образования", &[]);
        assert_eq!(names(&p), vec!["Директор МКУ РЦО", "Начальник Отдела образования"]);
        let p = split_responsible(
            "Заместители по УВР, учителя-предметники, классные руководители 9, 11 классов",
            &[],
        );
        assert_eq!(
            names(&p),
            vec![
                "Заместители по УВР",
                "учителя-предметники",
                "классные руководители 9, 11 классов"
            ]
        );
        let p = split_responsible(
            "Минобразования, главы муниципальных районов (округов), городских округов Забайкальского края",
            &[],
        );
        assert_eq!(
            names(&p),
            vec![
                "Минобразования",
                "главы муниципальных районов (округов), городских округов Забайкальского края"
            ]
        );
    }

    #[test]
    fn wrapped_lines_and_quotes() {
        let p = split_responsible("администрации ОО,\nучителя-предметники\nОО", &[]);
        assert_eq!(names(&p), vec!["администрации ОО", "учителя-предметники ОО"]);
        let p = split_responsible(
            "Методисты ИРО Забайкальского края, региональные методисты, ФГБОУ ВО «ЗабГУ»",
            &[],
        );
        assert_eq!(
            names(&p),
            vec![
                "Методисты ИРО Забайкальского края",
                "региональные методисты",
                "ФГБОУ ВО «ЗабГУ»"
            ]
        );
        assert_eq!(p[1].kind, PartyKind::Role);
        let p = split_responsible(
            "ГУ «Краевой центр оценки качества образования, Забайкальского края» (далее – КЦОКО)",
            &[],
        );
        assert_eq!(p.len(), 1);
    }
}
