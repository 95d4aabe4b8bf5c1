//! Responsible parties: organisations, roles and teams listed in the "Ответственные" column.
//!
//! Lists are split on commas and semicolons outside parentheses and quotes, and also where a
//! new role starts without punctuation ("Директор МКУ РЦО Муниципальный координатор"), which
//! is common after PDF extraction. A line break is a separator only when the next line starts
//! a new capitalised phrase; otherwise it is a wrapped line ("учителя-предметники\nОО").

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::abbreviations::{BodyKind, built_in, federal_body, federal_body_ambiguous};
use crate::model::{Abbreviation, KnownCategory, KnownParty, Party, PartyKind};
use crate::text::{collapse_spaces, fold, is_abbreviation_like, normalize_multiline, strip_noise};

/// A post in a school, as roadmaps name it in the responsible column.
pub struct SchoolPost {
    /// Stable key ("deputy-head-academic").
    pub key: &'static str,
    /// The post's title.
    pub title: &'static str,
    /// Matches the start of a folded party name (lower case, "ё" as "е"); what follows must
    /// be a qualifier ("9, 11 классов", "ОО", "школ муниципалитета"), not another post.
    pub pattern: &'static str,
}

const DEPUTY: &str = r"(?:заместител[ьиея]\w*|зам\.?|замдиректора|замдир\.?)(?:\s*(?:директора|дир\.?))?\s+по\s+";

/// The reference list of school posts (titles as in the qualification handbook of education
/// workers, приказ Минздравсоцразвития России от 26.08.2010 № 761н, and school staff lists).
pub const SCHOOL_POSTS: &[SchoolPost] = &[
    SchoolPost {
        key: "deputy-head-academic",
        title: "заместитель директора по учебно-воспитательной работе",
        pattern: r"DEPUTY(?:увр|учебно\s*-\s*воспитательной\s+работе)\b",
    },
    SchoolPost {
        key: "deputy-head-teaching",
        title: "заместитель директора по учебной работе",
        pattern: r"DEPUTY(?:ур|учебной\s+работе)\b",
    },
    SchoolPost {
        key: "deputy-head-upbringing",
        title: "заместитель директора по воспитательной работе",
        pattern: r"DEPUTY(?:вр|воспитательной\s+работе)\b",
    },
    SchoolPost {
        key: "deputy-head-methodology",
        title: "заместитель директора по методической работе",
        pattern: r"DEPUTY(?:мр|нмр|(?:научно\s*-\s*)?методической\s+работе)\b",
    },
    SchoolPost {
        key: "deputy-head-facilities",
        title: "заместитель директора по административно-хозяйственной работе",
        pattern: r"DEPUTY(?:ахч|ахр|административно\s*-\s*хозяйственной\s+(?:части|работе))\b",
    },
    SchoolPost {
        key: "advisor-upbringing",
        title: "советник директора по воспитанию и взаимодействию с детскими общественными объединениями",
        pattern: r"советник\w*\s+директора\s+по\s+воспитанию(?:\s+и\s+взаимодействию\s+с\s+детскими\s+общественными\s+объединениями)?",
    },
    SchoolPost {
        key: "head-teacher",
        title: "директор школы",
        pattern: r"директор\w*$|(?:директор\w*|руководител\w*)\s+(?:школы|школ|оо|оу|мбоу|маоу|моу|гимназии|лицея|общеобразовательн\w*\s+(?:организаци\w*|учреждени\w*))\b",
    },
    SchoolPost {
        key: "class-teacher",
        title: "классный руководитель",
        pattern: r"(?:классн\w*\s+руководител\w*|кл\.\s*руководител\w*|кл\.\s*рук\.?|кл\s+руководител\w*)",
    },
    SchoolPost {
        key: "subject-teacher",
        title: "учитель-предметник",
        pattern: r"(?:учител\w*|педагог\w*)\s*[-–—]?\s*предметник\w*",
    },
    SchoolPost {
        key: "school-method-association-head",
        title: "руководитель школьного методического объединения",
        pattern: r"(?:руководител\w*|рук\.)\s*(?:шмо|школьн\w*\s+(?:предметн\w*\s+)?методическ\w*\s+объединени\w*)",
    },
    SchoolPost {
        key: "method-association-head",
        title: "руководитель методического объединения",
        pattern: r"(?:руководител\w*|рук\.)\s*(?:предметн\w*\s+)?(?:мо\b|методическ\w*\s+объединени\w*|предметн\w*\s+объединени\w*)",
    },
    SchoolPost {
        key: "educational-psychologist",
        title: "педагог-психолог",
        pattern: r"(?:педагог\w*\s*[-–—]\s*)?психолог\w*",
    },
    SchoolPost {
        key: "social-pedagogue",
        title: "социальный педагог",
        pattern: r"(?:социальн\w*\s+|соц\.\s*)педагог\w*|соцпедагог\w*",
    },
    SchoolPost {
        key: "speech-therapist",
        title: "учитель-логопед",
        pattern: r"(?:учител\w*\s*[-–—]\s*)?логопед\w*",
    },
    SchoolPost {
        key: "pedagogue-organiser",
        title: "педагог-организатор",
        pattern: r"педагог\w*\s*[-–—]\s*организатор\w*",
    },
    SchoolPost {
        key: "tutor",
        title: "тьютор",
        pattern: r"тьютор\w*",
    },
];

static POST_REGEXES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    SCHOOL_POSTS
        .iter()
        .map(|p| Regex::new(&format!("^(?:{})", p.pattern.replace("DEPUTY", DEPUTY))).expect("static regex"))
        .collect()
});

/// Words that start a post; a qualifier after a post must not contain one.
static POST_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|\s)(?:заместител|зам\.|зам\s|замдир|классн|кл\.|учител|педагог|социальн|соц\.|соцпедагог|руководител|рук\.|психолог|советник|тьютор|директор|логопед)")
        .expect("static regex")
});

/// The school post a party name names, and where in the folded name the match ends.
fn match_post(name: &str) -> Option<(&'static SchoolPost, usize)> {
    let f = fold(name);
    // Longest match first: "руководители ШМО" before "руководители".
    let mut best: Option<(&'static SchoolPost, usize)> = None;
    for (post, re) in SCHOOL_POSTS.iter().zip(POST_REGEXES.iter()) {
        if let Some(m) = re.find(&f)
            && best.is_none_or(|(_, len)| m.end() > len)
        {
            best = Some((post, m.end()));
        }
    }
    best
}

/// The school post `name` names as a whole (a qualifier such as "9, 11 классов" or "ОО" may
/// follow, another post may not).
pub fn school_post(name: &str) -> Option<&'static SchoolPost> {
    let (post, end) = match_post(name)?;
    let f = fold(name);
    let tail = f.get(end..).unwrap_or("");
    let another = tail.split_whitespace().any(|w| {
        !matches!(w, "учителей" | "педагогов" | "руководителей" | "директоров")
            && POST_START.is_match(&format!(" {w} "))
    });
    (!another).then_some(post)
}

/// "педагог-психолог социальный педагог" (no comma, no capital): two posts run on.
fn split_posts(piece: &str) -> Vec<String> {
    let words: Vec<&str> = piece.split_whitespace().collect();
    if school_post(piece).is_some() || words.len() < 2 {
        return vec![piece.to_string()];
    }
    for k in 1..words.len() {
        let head = words[..k].join(" ");
        let rest = words[k..].join(" ");
        if school_post(&head).is_some() {
            let tail = split_posts(&rest);
            if tail.iter().all(|t| school_post(t).is_some()) {
                let mut out = vec![head];
                out.extend(tail);
                return out;
            }
        }
    }
    vec![piece.to_string()]
}

/// Why a person should look at a party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartyFlag {
    /// Cut off: ends with a preposition ("Зам директора по").
    Incomplete,
    /// Words run together by extraction ("руководителиМО").
    Glued,
    /// A short name that may mean a federal or a regional body ("Минобрнауки").
    Ambiguous,
    /// A deputy head whose portfolio is not written ("Зам директора А.В.").
    DeputyWithoutPortfolio,
    /// An abbreviation neither the document nor the reference lists define ("ШПРО").
    UnknownAbbreviation,
}

static DEPUTY_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:заместител\w*|зам\.?|замдиректора|замдир\.?)(?:\s|$)").expect("static regex"));

/// What about `party` a person should check; empty when it is fully resolved or plainly a
/// name ("управление образования").
pub fn party_flags(party: &Party, abbreviations: &[Abbreviation]) -> Vec<PartyFlag> {
    let mut flags = Vec::new();
    let last = party.name.split_whitespace().last().unwrap_or("");
    if matches!(last, "по" | "в" | "на" | "для" | "с" | "и" | "при") {
        flags.push(PartyFlag::Incomplete);
    }
    // The same test as the `glued-words` lint: a lower-case word with an abbreviation glued on.
    let glued = party.name.split(|c: char| !c.is_alphabetic()).any(|w| {
        let chars: Vec<char> = w.chars().collect();
        let lower_run = chars.iter().take_while(|c| c.is_lowercase()).count();
        let rest = chars.get(lower_run..).unwrap_or(&[]);
        lower_run >= 3 && rest.len() >= 2 && rest.iter().all(|c| c.is_uppercase())
    });
    if glued {
        flags.push(PartyFlag::Glued);
    }
    if party.known.is_none() && federal_body_ambiguous(&party.name).is_some() {
        flags.push(PartyFlag::Ambiguous);
    }
    if party.known.is_none() && DEPUTY_START.is_match(&fold(&party.name)) && !flags.contains(&PartyFlag::Incomplete) {
        flags.push(PartyFlag::DeputyWithoutPortfolio);
    }
    let mut depth = 0i32;
    for w in party.name.split_whitespace() {
        depth += w.matches('«').count() as i32;
        let t = w.trim_matches(|c: char| !c.is_alphanumeric());
        if depth == 0
            && is_abbreviation_like(t)
            && built_in(t).is_none()
            && federal_body(t).is_none()
            && !abbreviations
                .iter()
                .any(|a| a.short == t || a.short.split_whitespace().any(|s| s == t))
            && party.abbreviation.as_deref() != Some(t)
        {
            flags.push(PartyFlag::UnknownAbbreviation);
            break;
        }
        depth -= w.matches('»').count() as i32;
    }
    flags
}

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
        let pieces: Vec<String> = split_heads(&name_part, abbreviations)
            .into_iter()
            .flat_map(|p| split_posts(&p))
            .collect();
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
        // A genitive plural qualifies the words before it ("руководитель ШМО учителей
        // математики"); it never starts a party of a list.
        let genitive = matches!(
            folded[k].as_str(),
            "учителей" | "педагогов" | "руководителей" | "директоров" | "методистов"
        );
        if let Some(len) = head_len
            && k >= head_until
            && !genitive
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
    let body = federal_body(name);
    // A bare "Минобрнауки" names the federal ministry only when the document names no
    // regional ministry "of education and science" that goes by the same short name.
    let body = body.or_else(|| {
        let regional = abbreviations
            .iter()
            .any(|a| fold(&a.full).contains("образования и науки"));
        federal_body_ambiguous(name).filter(|_| !regional && doc.is_none())
    });
    let known = if let Some(b) = body {
        Some(KnownParty {
            key: b.key.to_string(),
            category: match b.kind {
                BodyKind::FederalMinistry => KnownCategory::FederalMinistry,
                BodyKind::FederalService => KnownCategory::FederalService,
                BodyKind::FederalInstitution => KnownCategory::FederalInstitution,
            },
            canonical: b.full.to_string(),
        })
    } else {
        school_post(name).map(|p| KnownParty {
            key: p.key.to_string(),
            category: KnownCategory::SchoolPost,
            canonical: p.title.to_string(),
        })
    };
    let (full_name, abbreviation) = if let Some(a) = doc {
        (a.full.clone(), Some(a.short.clone()))
    } else if let Some(b) = body {
        (b.full.to_string(), Some(b.short.to_string()))
    } else if let Some(full) = built_in(name) {
        (full.to_string(), Some(name.to_string()))
    } else if let Some(short) = defined {
        (name.to_string(), Some(short))
    } else {
        (name.to_string(), None)
    };
    // A school post is a role whatever its first words look like ("советник", "кл. рук.").
    let kind = if known.as_ref().is_some_and(|k| k.category == KnownCategory::SchoolPost) {
        PartyKind::Role
    } else {
        kind
    };
    Party {
        kind,
        name: name.to_string(),
        full_name,
        abbreviation,
        raw,
        known,
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
