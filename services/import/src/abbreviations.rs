//! Abbreviations: defined inline ("… (далее – МБУ ИМЦ)"), in a glossary list ("В тексте приняты
//! следующие сокращения: ИРОСО – …;"), or well known (`BUILT_IN`).

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::model::{Abbreviation, AbbreviationSource};
use crate::text::{collapse_spaces, fold, is_dash, strip_noise};

/// The one place listing abbreviations every roadmap may use without defining them. They are
/// national terms of the education system and legal forms of organisations; anything
/// region-specific (ХК ИРО, ККИПК, ИРОСО…) must be defined by the document or it is linted.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("ОО", "общеобразовательная организация"),
    ("ОУ", "образовательное учреждение"),
    ("МОУО", "муниципальный орган управления образованием"),
    ("ОМСУ", "орган местного самоуправления"),
    ("ИРО", "институт развития образования"),
    (
        "ЦНППМ",
        "центр непрерывного повышения профессионального мастерства педагогических работников",
    ),
    ("ДПО", "дополнительное профессиональное образование"),
    ("КПК", "курсы повышения квалификации"),
    ("РЦОКО", "региональный центр оценки качества образования"),
    ("КЦОКО", "краевой центр оценки качества образования"),
    ("ИМЦ", "информационно-методический центр"),
    ("РЦО", "районный центр образования"),
    ("РМО", "районное методическое объединение"),
    ("ШМО", "школьное методическое объединение"),
    ("РУМО", "региональное учебно-методическое объединение"),
    ("МО", "методическое объединение"),
    ("ФИОКО", "Федеральный институт оценки качества образования"),
    ("ИСРО", "Институт стратегии развития образования"),
    ("ЕГЭ", "единый государственный экзамен"),
    ("ОГЭ", "основной государственный экзамен"),
    ("ГИА", "государственная итоговая аттестация"),
    ("ВПР", "всероссийские проверочные работы"),
    ("КДР", "краевые диагностические работы"),
    ("ШНОР", "школы с низкими образовательными результатами"),
    ("ШНСУ", "школы, функционирующие в неблагоприятных социальных условиях"),
    ("ИОМ", "индивидуальный образовательный маршрут"),
    ("ИОТ", "индивидуальная образовательная траектория"),
    ("ИППР", "индивидуальный план профессионального развития"),
    ("ФГОС", "федеральный государственный образовательный стандарт"),
    ("ФООП", "федеральная основная образовательная программа"),
    ("ООП", "основная образовательная программа"),
    ("РП", "рабочая программа"),
    ("ВСОКО", "внутренняя система оценки качества образования"),
    ("ШСОКО", "школьная система оценки качества образования"),
    ("УВР", "учебно-воспитательная работа"),
    ("ВР", "воспитательная работа"),
    ("АХЧ", "административно-хозяйственная часть"),
    // Legal forms that prefix organisation names.
    ("МБУ", "муниципальное бюджетное учреждение"),
    ("МКУ", "муниципальное казённое учреждение"),
    ("МАУ", "муниципальное автономное учреждение"),
    ("МБОУ", "муниципальное бюджетное общеобразовательное учреждение"),
    ("МАОУ", "муниципальное автономное общеобразовательное учреждение"),
    ("МОУ", "муниципальное общеобразовательное учреждение"),
    ("СОШ", "средняя общеобразовательная школа"),
    ("ГУ", "государственное учреждение"),
    ("ГБУ", "государственное бюджетное учреждение"),
    ("ГАУ", "государственное автономное учреждение"),
    ("ГАОУ", "государственное автономное образовательное учреждение"),
    ("ФГБУ", "федеральное государственное бюджетное учреждение"),
    (
        "ФГБОУ",
        "федеральное государственное бюджетное образовательное учреждение",
    ),
    ("ВО", "высшего образования"),
];

/// What a federal body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BodyKind {
    /// A federal ministry (Минпросвещения России, Минобрнауки России).
    FederalMinistry,
    /// A federal service (Рособрнадзор).
    FederalService,
    /// A federal state institution (ФИОКО, ФЦТ, ФИПИ, ИСРО, Академия Минпросвещения).
    FederalInstitution,
}

/// One entry of the reference list of federal bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FederalBody {
    /// Stable key ("minprosveshcheniya").
    pub key: &'static str,
    /// The usual short name.
    pub short: &'static str,
    /// The official full name.
    pub full: &'static str,
    pub kind: BodyKind,
    /// Forms as written in roadmaps (nominative; the genitive of declinable names is matched
    /// by [`federal_body`]).
    pub forms: &'static [&'static str],
    /// A bare form that regional bodies also go by: "Минобрнауки" is the short name of the
    /// federal Ministry of Science and Higher Education *and* of many regional ministries "of
    /// education and science". Resolved only when written with "России"/"РФ" or when the
    /// document names no regional ministry of education and science; otherwise flagged.
    pub ambiguous_forms: &'static [&'static str],
}

/// The reference list of federal bodies a roadmap names as responsible or as the owner of a
/// schedule ("по графику ФЦТ"). Names as in the bodies' statutes (Постановление Правительства
/// РФ от 28.07.2018 № 884 on Минпросвещения, № 682 of 15.06.2018 on Минобрнауки, № 885 of
/// 28.07.2018 on Рособрнадзор; the institutions' charters).
pub const FEDERAL_BODIES: &[FederalBody] = &[
    FederalBody {
        key: "minprosveshcheniya",
        short: "Минпросвещения России",
        full: "Министерство просвещения Российской Федерации",
        kind: BodyKind::FederalMinistry,
        forms: &[
            "Минпросвещения России",
            "Минпросвещения РФ",
            "Минпросвещения",
            "Министерство просвещения Российской Федерации",
            "Министерство просвещения РФ",
            "Министерство просвещения России",
        ],
        ambiguous_forms: &[],
    },
    FederalBody {
        key: "minobrnauki",
        short: "Минобрнауки России",
        full: "Министерство науки и высшего образования Российской Федерации",
        kind: BodyKind::FederalMinistry,
        forms: &[
            "Минобрнауки России",
            "Минобрнауки РФ",
            "Министерство науки и высшего образования Российской Федерации",
            "Министерство науки и высшего образования РФ",
        ],
        ambiguous_forms: &["Минобрнауки"],
    },
    FederalBody {
        key: "rosobrnadzor",
        short: "Рособрнадзор",
        full: "Федеральная служба по надзору в сфере образования и науки",
        kind: BodyKind::FederalService,
        forms: &[
            "Рособрнадзор",
            "Федеральная служба по надзору в сфере образования и науки",
        ],
        ambiguous_forms: &[],
    },
    FederalBody {
        key: "fioko",
        short: "ФИОКО",
        full: "Федеральное государственное бюджетное учреждение «Федеральный институт оценки качества образования»",
        kind: BodyKind::FederalInstitution,
        forms: &["ФИОКО", "ФГБУ «ФИОКО»", "ФГБУ ФИОКО"],
        ambiguous_forms: &[],
    },
    FederalBody {
        key: "fct",
        short: "ФЦТ",
        full: "Федеральное государственное бюджетное учреждение «Федеральный центр тестирования»",
        kind: BodyKind::FederalInstitution,
        forms: &["ФЦТ", "ФГБУ «ФЦТ»", "ФГБУ ФЦТ"],
        ambiguous_forms: &[],
    },
    FederalBody {
        key: "fipi",
        short: "ФИПИ",
        full: "Федеральное государственное бюджетное научное учреждение «Федеральный институт педагогических измерений»",
        kind: BodyKind::FederalInstitution,
        forms: &["ФИПИ", "ФГБНУ «ФИПИ»", "ФГБНУ ФИПИ"],
        ambiguous_forms: &[],
    },
    FederalBody {
        key: "isro",
        short: "ИСРО",
        full: "Федеральное государственное бюджетное научное учреждение «Институт стратегии развития образования»",
        kind: BodyKind::FederalInstitution,
        forms: &[
            "ИСРО",
            "ФГБНУ «ИСРО»",
            "ФГБНУ «Институт стратегии развития образования»",
        ],
        ambiguous_forms: &[],
    },
    FederalBody {
        key: "academy-minprosveshcheniya",
        short: "Академия Минпросвещения России",
        full: "Федеральное государственное автономное образовательное учреждение дополнительного профессионального образования «Академия реализации государственной политики и профессионального развития работников образования Министерства просвещения Российской Федерации»",
        kind: BodyKind::FederalInstitution,
        forms: &[
            "Академия Минпросвещения России",
            "Академия Минпросвещения",
            "ФГАОУ ДПО «Академия Минпросвещения России»",
        ],
        ambiguous_forms: &[],
    },
];

/// The federal body `name` names, in any form of the reference list; declinable names also in
/// the genitive, dative and instrumental ("Рособрнадзора", "Рособрнадзором"). A bare ambiguous
/// form ("Минобрнауки") is not resolved here: see [`federal_body_ambiguous`].
pub fn federal_body(name: &str) -> Option<&'static FederalBody> {
    let n = collapse_spaces(name.trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '.')));
    let f = fold(&n);
    FEDERAL_BODIES.iter().find(|b| {
        b.forms.iter().any(|form| {
            let ff = fold(form);
            f == ff || (form.ends_with('р') && ["а", "у", "ом", "е"].iter().any(|e| f == format!("{ff}{e}")))
        })
    })
}

/// The federal body a bare ambiguous form would name ("Минобрнауки" → Минобрнауки России).
pub fn federal_body_ambiguous(name: &str) -> Option<&'static FederalBody> {
    let f = fold(name.trim());
    FEDERAL_BODIES
        .iter()
        .find(|b| b.ambiguous_forms.iter().any(|form| fold(form) == f))
}

pub fn built_in(short: &str) -> Option<&'static str> {
    BUILT_IN.iter().find(|(s, _)| *s == short).map(|(_, f)| *f)
}

static INLINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\(\s*[Дд]алее\s*[-–—‒]?\s*([^()]{1,80}?)\s*\)").expect("static regex"));

const ACRONYM_SKIP: [&str; 10] = ["и", "в", "на", "по", "с", "для", "при", "о", "об", "г"];

/// Collects inline and glossary definitions from the whole text, first definition wins.
pub fn find_abbreviations(lines: &[&str]) -> Vec<Abbreviation> {
    let mut out: Vec<Abbreviation> = Vec::new();
    let push = |a: Abbreviation, out: &mut Vec<Abbreviation>| {
        if !a.short.is_empty() && !a.full.is_empty() && !out.iter().any(|x| x.short == a.short) {
            out.push(a);
        }
    };
    let mut in_glossary = false;
    for (idx, raw) in lines.iter().enumerate() {
        let (line, _) = strip_noise(raw);
        let trimmed = collapse_spaces(&line);
        if in_glossary {
            if trimmed.is_empty() {
                continue;
            }
            match glossary_entry(&trimmed) {
                Some((short, full)) => {
                    push(
                        Abbreviation {
                            short,
                            full,
                            line: idx + 1,
                            source: AbbreviationSource::Glossary,
                        },
                        &mut out,
                    );
                    continue;
                }
                None => in_glossary = false,
            }
        }
        let f = fold(&trimmed);
        if f.contains("сокращени") && (f.ends_with(':') || f.starts_with("список сокращений"))
        {
            in_glossary = true;
            continue;
        }
        // Cells of one row are separated by tabs; a definition never spans cells.
        for cell in line.split('\t') {
            for c in INLINE.captures_iter(cell) {
                let (Some(m), Some(short)) = (c.get(0), c.get(1)) else {
                    continue;
                };
                let short = short
                    .as_str()
                    .trim()
                    .trim_matches(|ch| matches!(ch, '«' | '»' | '"'))
                    .trim();
                let short = collapse_spaces(short);
                let before = cell.get(..m.start()).unwrap_or("");
                let full = full_name_before(before, &short);
                push(
                    Abbreviation {
                        short,
                        full,
                        line: idx + 1,
                        source: AbbreviationSource::Inline,
                    },
                    &mut out,
                );
            }
        }
    }
    out
}

fn glossary_entry(line: &str) -> Option<(String, String)> {
    // "ИРОСО – ГАОУ ДПО «…»;"
    let mut chars = line.char_indices();
    let dash = chars.find(|(i, c)| *i > 0 && is_dash(*c) && line.get(..*i).is_some_and(|b| b.ends_with(' ')))?;
    let short = line.get(..dash.0)?.trim();
    let full = line.get(dash.0 + dash.1.len_utf8()..)?.trim();
    if short.is_empty() || short.chars().count() > 30 || short.split_whitespace().count() > 3 || full.is_empty() {
        return None;
    }
    let full = full.trim_end_matches([';', '.', ',']).trim();
    Some((short.to_string(), full.to_string()))
}

/// The name an inline "(далее – X)" abbreviates: the clause before it, narrowed to the words
/// whose initials spell X when X is an acronym.
pub fn full_name_before(before: &str, short: &str) -> String {
    let before = before.trim_end_matches(|c: char| c.is_whitespace() || c == ',');
    let mut start = before.len() - last_segment(before).len();
    // A clause opening with a participle ("…, осуществляющими управление …") qualifies the
    // noun of the clause before it, which belongs to the name.
    for _ in 0..2 {
        let seg = before.get(start..).unwrap_or("");
        let first = seg.split_whitespace().next().unwrap_or("");
        if start == 0 || !(seg.trim().is_empty() || is_participle(first)) {
            break;
        }
        let head = before.get(..start.saturating_sub(1)).unwrap_or("");
        let head_start = head.len() - last_segment(head).len();
        // The name starts at a case form of the abbreviation's first word ("Дорожную карту …"
        // for "Дорожная карта проекта"); failing that, after the clause's last preposition.
        let stem: String = fold(short.split_whitespace().next().unwrap_or(""))
            .chars()
            .take(5)
            .collect();
        let mut offset = head_start;
        let mut cut = head_start;
        let mut by_stem = None;
        for word in head.get(head_start..).unwrap_or("").split(' ') {
            let f = fold(word);
            if by_stem.is_none() && stem.chars().count() == 5 && f.starts_with(&stem) {
                by_stem = Some(offset.min(head.len()));
            }
            offset += word.len() + 1;
            if ["с", "со", "в", "для", "при", "по", "на", "о", "об"].contains(&f.as_str()) {
                cut = offset.min(head.len());
            }
        }
        start = by_stem.unwrap_or(cut);
    }
    let segment = collapse_spaces(before.get(start..).unwrap_or(before).trim());
    let segment = trim_clause_opening(&segment);
    if let Some(acr) = acronym_suffix(&segment, short) {
        return strip_outer_quotes(&acr);
    }
    if let Some(org) = quoted_organisation(&segment) {
        return org;
    }
    strip_outer_quotes(&segment)
}

fn is_participle(word: &str) -> bool {
    let f = fold(word);
    word.chars().next().is_some_and(|c| c.is_lowercase())
        && (["ющ", "ящ", "ащ", "ущ", "вш"].iter().any(|s| f.contains(s))
            || ["нного", "нной", "нных", "нные", "нная", "нный"]
                .iter()
                .any(|s| f.ends_with(s)))
}

/// Drops a clause number ("1.") and an opening infinitive ("Утвердить") or preposition
/// ("с органами …").
fn trim_clause_opening(s: &str) -> String {
    let mut words: Vec<&str> = s.split_whitespace().collect();
    if words
        .first()
        .is_some_and(|w| w.chars().all(|c| c.is_ascii_digit() || c == '.'))
    {
        words.remove(0);
    }
    if words.len() > 2 {
        let f = fold(words[0]);
        if f.ends_with("ть") || ["с", "со", "в", "для", "при", "по", "на"].contains(&f.as_str()) {
            words.remove(0);
        }
    }
    words.join(" ")
}

/// "… при ФГБОУ ВО «Забайкальский институт …»" → "ФГБОУ ВО «Забайкальский институт …»": the
/// quoted name at the end with the legal-form abbreviations before it.
fn quoted_organisation(segment: &str) -> Option<String> {
    if !segment.ends_with('»') {
        return None;
    }
    let words: Vec<&str> = segment.split_whitespace().collect();
    let open = words.iter().rposition(|w| w.starts_with('«'))?;
    if open == 0 {
        return None;
    }
    let mut start = open;
    while start > 0 && built_in(words[start - 1]).is_some() {
        start -= 1;
    }
    (start < open).then(|| words[start..].join(" "))
}

/// Text after the last clause delimiter that is not inside quotes or parentheses.
fn last_segment(s: &str) -> &str {
    let mut depth_quote = 0i32;
    let mut depth_paren = 0i32;
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    for k in (0..chars.len()).rev() {
        let (i, c) = chars[k];
        match c {
            '»' => depth_quote += 1,
            '«' => depth_quote -= 1,
            ')' => depth_paren += 1,
            '(' if depth_paren > 0 => depth_paren -= 1,
            '(' if depth_quote <= 0 => return s.get(i + 1..).unwrap_or(""),
            ',' | ';' | ':' if depth_quote <= 0 && depth_paren == 0 => {
                return s.get(i + 1..).unwrap_or("");
            }
            '.' if depth_quote <= 0 && depth_paren == 0 => {
                // A sentence end, not "г." or initials.
                let word_len = chars[..k].iter().rev().take_while(|(_, ch)| ch.is_alphabetic()).count();
                let next_upper = chars.get(k + 2).is_some_and(|(_, ch)| ch.is_uppercase());
                if word_len >= 3 && next_upper {
                    return s.get(i + 1..).unwrap_or("");
                }
            }
            _ => {}
        }
    }
    s
}

fn initials(word: &str) -> String {
    word.split('-')
        .filter_map(|part| part.chars().find(|c| c.is_alphabetic()))
        .flat_map(|c| c.to_lowercase())
        .collect()
}

fn acronym_suffix(segment: &str, short: &str) -> Option<String> {
    let letters: String = short
        .chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(|c| c.to_lowercase())
        .collect();
    let upper = short.chars().filter(|c| c.is_uppercase()).count();
    if letters.chars().count() < 2 || upper * 2 < letters.chars().count() || short.contains(' ') {
        return None;
    }
    let words: Vec<&str> = segment.split_whitespace().collect();
    let mut acc = String::new();
    for start in (0..words.len()).rev() {
        let w = words[start];
        let bare: String = w.chars().filter(|c| c.is_alphabetic() || *c == '-').collect();
        if ACRONYM_SKIP.contains(&fold(&bare).as_str()) {
            continue;
        }
        acc = initials(&bare) + &acc;
        if acc == letters {
            return Some(words[start..].join(" "));
        }
        if !letters.ends_with(&acc) || acc.len() > letters.len() {
            return None;
        }
    }
    None
}

fn strip_outer_quotes(s: &str) -> String {
    let t = s.trim();
    if let Some(inner) = t.strip_prefix('«').and_then(|x| x.strip_suffix('»'))
        && !inner.contains('«')
    {
        return inner.trim().to_string();
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acronym_full_names() {
        assert_eq!(
            full_name_before(
                "Сбор информации об организациях края, в которых по результатам единого государственного экзамена ",
                "ЕГЭ"
            ),
            "единого государственного экзамена"
        );
        assert_eq!(
            full_name_before(
                "проводимых Федеральным государственным бюджетным научным учреждением «Институт стратегии развития образования», ",
                "ИСРО"
            ),
            "Институт стратегии развития образования"
        );
        assert_eq!(
            full_name_before(
                "Проведение региональных совещаний с органами местного самоуправления, осуществляющими управление в сфере образования ",
                "МОУО"
            ),
            "органами местного самоуправления, осуществляющими управление в сфере образования"
        );
        assert_eq!(
            full_name_before(
                "Организация обучения обучающихся 11 классов в онлайн-школе при ФГБОУ ВО «Забайкальский институт железнодорожного транспорта» ",
                "ЗаБИЖТ"
            ),
            "ФГБОУ ВО «Забайкальский институт железнодорожного транспорта»"
        );
        assert_eq!(
            full_name_before(
                "Министерство образования и науки Забайкальского края ",
                "Минобразования"
            ),
            "Министерство образования и науки Забайкальского края"
        );
        assert_eq!(
            full_name_before(
                "управление образования, Муниципальное бюджетное учреждение информационно-методический центр г. Николаевска-на-Амуре ",
                "МБУ ИМЦ"
            ),
            "Муниципальное бюджетное учреждение информационно-методический центр г. Николаевска-на-Амуре"
        );
    }

    #[test]
    fn glossary_and_inline() {
        let text = "В тексте приняты следующие сокращения:\n\nСахминобр – Министерство образования Сахалинской области;\n\nОО – общеобразовательные организации;\n\n№ п/п\tМероприятия\n1.\tРазработка индивидуальных образовательных маршрутов (далее – ИОМ) для учителей";
        let lines: Vec<&str> = text.lines().collect();
        let a = find_abbreviations(&lines);
        assert_eq!(a.len(), 3);
        assert_eq!(
            (a[0].short.as_str(), a[0].full.as_str(), a[0].line),
            ("Сахминобр", "Министерство образования Сахалинской области", 3)
        );
        assert_eq!(a[1].source, AbbreviationSource::Glossary);
        assert_eq!(
            (a[2].short.as_str(), a[2].full.as_str()),
            ("ИОМ", "индивидуальных образовательных маршрутов")
        );
    }
}
