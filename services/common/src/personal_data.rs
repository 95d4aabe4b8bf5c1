//! Personal names in free text: the one detector the hub lints text with where a pupil could be
//! named (class-level units and reports). The hub stores no personal data of pupils, only counts;
//! a person is named by role ("классный руководитель 9А", "учитель химии"), never by name.
//!
//! # What counts as a personal name
//! Cyrillic words only (Russian documents):
//! - a surname with initials, either order: "Иванов И.И.", "Иванова И. И.", "И.И. Иванов",
//!   "И. И. Иванова" (a capitalised word of at least three letters next to two initials);
//! - a name with a patronymic: a capitalised word followed by a capitalised patronymic in any
//!   case ("Мария Петровна", "Иванова Мария Петровна", "Петра Ильича", "Никитичной"), which also
//!   catches the full three-word form.
//!
//! # What does not (decided)
//! - A name dedicated to an organisation: after "им." or "имени" ("МБОУ СОШ им. А.С. Пушкина",
//!   "гимназия имени Петра Ильича Чайковского"). Organisation names are public and are what
//!   schools are called; the words right after the dedication are not a person being recorded.
//! - A bare surname ("произведения Пушкина", "по методике Давыдова") or a single initial
//!   ("И. Иванов"): too common in titles of works and methods to refuse, and a surname alone
//!   rarely identifies a pupil. Class-level text names works by their authors in full or by
//!   surname.
//! - Abbreviations in capitals ("МБОУ СОШ", "ОГЭ", "МО") and class names ("9А", "11Б").
//!
//! The detector errs on the side of refusing (a false refusal costs a rewording; a stored name
//! cannot be taken back from every backup).

use std::sync::LazyLock;

use regex::Regex;

/// Where a personal name was found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameFound {
    /// The words as written, e.g. "Иванов И.И.".
    pub text: String,
    /// Byte offset in the text.
    pub at: usize,
}

// A word as a surname: capitalised, at least three letters, optionally double ("Петрова-Водкина").
const SURNAME: &str = r"[А-ЯЁ][а-яё]{2,}(?:-[А-ЯЁ][а-яё]{2,})?";
// An initial: one capital letter and a dot, possibly followed by a space.
const INITIAL: &str = r"[А-ЯЁ]\.\s?";

static SURNAME_INITIALS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?:^|[^\p{{L}}\d])({SURNAME}\s+{INITIAL}{INITIAL})")).expect("surname with initials")
});
static INITIALS_SURNAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?:^|[^\p{{L}}\d])({INITIAL}{INITIAL}{SURNAME})")).expect("initials with surname")
});
// A given name followed by a patronymic in any case: -ович/-евич/-ич (м.), -овна/-евна/-ична/-инична (ж.).
static NAME_PATRONYMIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[^\p{L}\d])([А-ЯЁ][а-яё]+\s+[А-ЯЁ][а-яё]+(?:ович|евич|ьич|ич)(?:а|у|ем|е)?|[А-ЯЁ][а-яё]+\s+[А-ЯЁ][а-яё]+(?:овн|евн|ичн)(?:а|ы|е|у|ой))(?:$|[^\p{L}])",
    )
    .expect("name with patronymic")
});
static DEDICATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(?:^|[^\p{L}])(?:им\.|имени(?:$|[^\p{L}]))").expect("dedication"));

/// Every personal name in `text` (see the module docs), in order of position.
pub fn personal_names(text: &str) -> Vec<NameFound> {
    let mut found: Vec<NameFound> = Vec::new();
    for re in [&*SURNAME_INITIALS, &*INITIALS_SURNAME, &*NAME_PATRONYMIC] {
        for caps in re.captures_iter(text) {
            let Some(m) = caps.get(1) else { continue };
            if dedicated(text, m.start()) {
                continue;
            }
            if found
                .iter()
                .any(|f| f.at <= m.start() && m.start() < f.at + f.text.len())
            {
                continue;
            }
            found.push(NameFound {
                text: m.as_str().trim_end().to_string(),
                at: m.start(),
            });
        }
    }
    found.sort_by_key(|f| f.at);
    found
}

/// Whether the words at `at` follow "им." or "имени" (possibly after other words of the same
/// name: "имени Героя Советского Союза Ивана Петровича ...").
fn dedicated(text: &str, at: usize) -> bool {
    let before = &text[..at];
    // The dedication governs the words up to the end of the clause it opens.
    let clause_start = before
        .char_indices()
        .rfind(|(_, c)| [',', ';', '(', ')', '«', '»', '"', '\n'].contains(c))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    DEDICATION.is_match(&before[clause_start..])
}

/// `Err(message)` naming the first personal name in `text`, for a field's error: what was found
/// and what to write instead.
pub fn refuse_personal_names(text: &str) -> Result<(), String> {
    match personal_names(text).first() {
        None => Ok(()),
        Some(f) => Err(format!(
            "contains what looks like a personal name («{}»); class-level records keep no names of pupils \
             or staff: name roles and counts instead (\"классный руководитель\", \"учитель химии\", \
             \"обучающиеся группы риска: 4\")",
            f.text
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        personal_names(text).into_iter().map(|f| f.text).collect()
    }

    #[test]
    fn surname_with_initials_either_order() {
        assert_eq!(
            names("Консультация провела Петрова А.В., учитель химии"),
            ["Петрова А.В."]
        );
        assert_eq!(names("ответственный: Сидоренко-Белых О. Н."), ["Сидоренко-Белых О. Н."]);
        assert_eq!(names("Беседа с Н.К. Смирновым о ИОМ"), ["Н.К. Смирновым"]);
        assert_eq!(names("Е. Ю. Колесникова, 11Б"), ["Е. Ю. Колесникова"]);
    }

    #[test]
    fn names_with_patronymics_in_any_case() {
        assert_eq!(names("Отстающий ученик Кузнецов Артём Олегович"), ["Артём Олегович"]);
        assert_eq!(names("встреча с мамой Дарьи Сергеевны"), ["Дарьи Сергеевны"]);
        assert_eq!(names("с Ильёй Никитичем"), ["Ильёй Никитичем"]);
        assert_eq!(names("Ольга Фоминична проверила"), ["Ольга Фоминична"]);
    }

    #[test]
    fn dedications_counts_roles_and_abbreviations_pass() {
        for text in [
            "МБОУ СОШ им. А.С. Пушкина",
            "МАОУ «Гимназия имени Петра Ильича Чайковского»",
            "Лицей им.Н.И. Лобачевского",
            "План работы с обучающимися группы риска 9А по математике на 2024/25",
            "Консультации для обучающихся 11Б по химии: 6 человек",
            "Разработка индивидуальных образовательных маршрутов учащихся",
            "классный руководитель 9А, учитель химии 11Б, МО учителей математики",
            "Чтение произведений Пушкина и Лермонтова",
            "Пробный ЕГЭ по химии. В МБОУ СОШ № 8 написали 24",
            "Итоги ОГЭ. Анализ. Проведено",
            "Москва Ленинградская область",
            "Петровский район, Ивановская область",
            "протокол МО № 3 от 12.10.2024 г.",
        ] {
            assert!(names(text).is_empty(), "{text}: {:?}", names(text));
        }
    }

    #[test]
    fn a_dedication_does_not_cover_the_next_clause() {
        assert_eq!(
            names("МБОУ СОШ им. А.С. Пушкина, ответственный Иванов И.И."),
            ["Иванов И.И."]
        );
    }

    #[test]
    fn the_refusal_names_what_was_found() {
        let err = refuse_personal_names("Провела Семёнова Т.А.").unwrap_err();
        assert!(err.contains("Семёнова Т.А."), "{err}");
        assert!(refuse_personal_names("Проведено 2 консультации").is_ok());
    }
}
