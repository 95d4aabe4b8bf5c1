//! How values are written on the pages, Russian style: dates `15.09.2023`, decimals with a comma
//! (`32,79`), thousands grouped by a no-break space (`1 816 843`), shares as `45 %`, and the
//! Russian words for the API's enums. Pure: no I/O.

use chrono::NaiveDate;

/// No-break space: between thousands groups, and between a number and `%`.
pub const NBSP: char = '\u{a0}';

/// `15.09.2023`.
pub fn date(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// `2023-09-15` (the API's `NaiveDate`) as `15.09.2023`; text that is not such a date as is.
pub fn date_text(iso: &str) -> String {
    match NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(d) => date(d),
        Err(_) => iso.to_string(),
    }
}

/// RFC 3339 (the API's `DateTime`) as its day, `15.09.2023`.
pub fn date_time_text(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => date(t.date_naive()),
        Err(_) => rfc3339.to_string(),
    }
}

/// A number with at most two decimals, the comma as the decimal sign, trailing zeros dropped and
/// thousands grouped: `32,79`, `23`, `-6`, `0,5`, `1 816 843`. Not finite: `—`.
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    let rounded = (x * 100.0).round() / 100.0;
    let text = format!("{:.2}", rounded.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = frac.trim_end_matches('0');
    let mut out = String::new();
    if rounded < 0.0 {
        out.push('-');
    }
    out.push_str(&group_thousands(int));
    if !frac.is_empty() {
        out.push(',');
        out.push_str(frac);
    }
    out
}

/// A number with an explicit sign for gaps: `+2`, `-9,79`, `0`.
pub fn signed(x: f64) -> String {
    let n = number(x);
    if x.is_finite() && (x * 100.0).round() > 0.0 {
        format!("+{n}")
    } else {
        n
    }
}

/// An optional number; none: `—`.
pub fn opt_number(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_string(), number)
}

/// A share 0–1 as whole percent: `0.456` → `46 %`.
pub fn share(x: f64) -> String {
    percent(x * 100.0)
}

/// A percentage 0–100 as whole percent: `45.4` → `45 %`.
pub fn percent(x: f64) -> String {
    format!("{}{NBSP}%", number(x.round()))
}

/// A value with its unit: `32,79 %`, `3 учителей`.
pub fn with_unit(x: f64, unit: &str) -> String {
    if unit.is_empty() {
        number(x)
    } else {
        format!("{}{NBSP}{unit}", number(x))
    }
}

fn group_thousands(digits: &str) -> String {
    if digits.len() <= 4 {
        // "1000" stays whole, as Russian typography writes four-digit numbers.
        return digits.to_string();
    }
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(NBSP);
        }
        out.push(c);
    }
    out
}

/// A measure's effective status.
pub fn status(s: &str) -> &'static str {
    match s {
        "PLANNED" => "запланировано",
        "IN_PROGRESS" => "выполняется",
        "DONE" => "выполнено",
        "CANCELLED" => "отменено",
        "OVERDUE" => "просрочено",
        _ => "статус не указан",
    }
}

/// A plan's level, as an adjective for "план".
pub fn level(l: &str) -> &'static str {
    match l {
        "FEDERAL" => "федеральный",
        "REGIONAL" => "региональный",
        "MUNICIPAL" => "муниципальный",
        "SCHOOL" => "школьный",
        "CLASSROOM" => "классный",
        _ => "уровень не указан",
    }
}

pub fn plan_state(s: &str) -> &'static str {
    match s {
        "DRAFT" => "черновик",
        "APPROVED" => "утверждён",
        _ => "",
    }
}

pub fn territory_kind(k: &str) -> &'static str {
    match k {
        "COUNTRY" => "страна",
        "REGION" => "регион",
        "MUNICIPALITY" => "муниципалитет",
        "SETTLEMENT" => "поселение",
        _ => "территория",
    }
}

/// The kind of the children of a territory of kind `k`, plural.
pub fn children_of(k: &str) -> &'static str {
    match k {
        "COUNTRY" => "Регионы",
        "REGION" => "Муниципалитеты",
        "MUNICIPALITY" => "Поселения",
        _ => "Входящие территории",
    }
}

/// An indicator value's status against its target (the traffic light).
pub fn track_status(s: &str) -> &'static str {
    match s {
        "ON_TRACK" => "в норме",
        "AT_RISK" => "под угрозой",
        "OFF_TRACK" => "отстаёт",
        _ => "нет данных",
    }
}

/// The traffic-light colour class of a track status.
pub fn track_class(s: &str) -> &'static str {
    match s {
        "ON_TRACK" => "green",
        "AT_RISK" => "yellow",
        "OFF_TRACK" => "red",
        _ => "grey",
    }
}

pub fn link_state(s: &str) -> &'static str {
    match s {
        "SUGGESTED" => "предложена",
        "CONFIRMED" => "подтверждена",
        "REJECTED" => "отклонена",
        _ => "",
    }
}

pub fn undated_reason(r: &str) -> &'static str {
    match r {
        "CONTINUOUS" => "постоянная работа",
        "EXTERNAL" => "сроки по другому документу",
        "NO_YEAR" => "месяцы без года",
        "NO_PERIOD" => "повторение без периода",
        "UNPARSED" => "срок не распознан",
        "NOT_STRUCTURED" => "срок введён текстом",
        _ => "без дат",
    }
}

pub fn occurrence_kind(k: &str) -> &'static str {
    match k {
        "RECURRING" => "повторение",
        "DATE" => "дата",
        "DEADLINE" => "срок",
        "WINDOW" => "период",
        "START" => "начало",
        _ => "",
    }
}

/// A subject key of the indicators subgraph (`chemistry`) in Russian; unknown keys as they are.
pub fn subject(key: &str) -> String {
    match key {
        "russian" => "Русский язык",
        "math" => "Математика",
        "math_basic" => "Математика (база)",
        "math_profile" => "Математика (профиль)",
        "physics" => "Физика",
        "chemistry" => "Химия",
        "biology" => "Биология",
        "" => "Все предметы",
        other => return other.to_string(),
    }
    .to_string()
}

pub fn direction(d: &str) -> &'static str {
    match d {
        "LOWER_IS_BETTER" => "чем меньше, тем лучше",
        "HIGHER_IS_BETTER" => "чем больше, тем лучше",
        _ => "",
    }
}

pub fn comparator(c: &str) -> &'static str {
    match c.to_ascii_uppercase().as_str() {
        "LE" => "не более ",
        "LT" => "менее ",
        "GE" => "не менее ",
        "GT" => "более ",
        _ => "",
    }
}

/// Russian plural form: `plural(5, "мероприятие", "мероприятия", "мероприятий")`.
pub fn plural<'a>(n: i64, one: &'a str, few: &'a str, many: &'a str) -> &'a str {
    let n = n.abs();
    match (n % 10, n % 100) {
        (1, r) if r != 11 => one,
        (2..=4, r) if !(12..=14).contains(&r) => few,
        _ => many,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_day_month_year_with_dots() {
        let d = NaiveDate::from_ymd_opt(2023, 9, 15).unwrap();
        assert_eq!(date(d), "15.09.2023");
        assert_eq!(date_text("2024-03-01"), "01.03.2024");
        assert_eq!(date_text("весной"), "весной");
        assert_eq!(date_time_text("2024-03-21T10:00:00Z"), "21.03.2024");
    }

    #[test]
    fn numbers_have_a_decimal_comma_and_no_trailing_zeros() {
        assert_eq!(number(32.79), "32,79");
        assert_eq!(number(23.0), "23");
        assert_eq!(number(0.5), "0,5");
        assert_eq!(number(-6.0), "-6");
        assert_eq!(number(-9.79), "-9,79");
        assert_eq!(number(24.905), "24,91");
        assert_eq!(number(-0.001), "0");
        assert_eq!(number(f64::NAN), "—");
        assert_eq!(opt_number(None), "—");
    }

    #[test]
    fn thousands_are_grouped_from_five_digits() {
        assert_eq!(number(2026.0), "2026");
        assert_eq!(number(12345.5), "12\u{a0}345,5");
        assert_eq!(number(1_816_843.0), "1\u{a0}816\u{a0}843");
        assert_eq!(number(-100_000.0), "-100\u{a0}000");
    }

    #[test]
    fn gaps_have_a_sign_and_shares_are_percent() {
        assert_eq!(signed(2.0), "+2");
        assert_eq!(signed(-9.79), "-9,79");
        assert_eq!(signed(0.0), "0");
        assert_eq!(share(0.456), "46\u{a0}%");
        assert_eq!(percent(100.0), "100\u{a0}%");
        assert_eq!(with_unit(32.79, "%"), "32,79\u{a0}%");
    }

    #[test]
    fn enums_read_in_russian() {
        assert_eq!(status("OVERDUE"), "просрочено");
        assert_eq!(level("REGIONAL"), "региональный");
        assert_eq!(track_status("AT_RISK"), "под угрозой");
        assert_eq!(track_class("OFF_TRACK"), "red");
        assert_eq!(subject("chemistry"), "Химия");
        assert_eq!(subject("астрономия"), "астрономия");
        assert_eq!(comparator("le"), "не более ");
    }

    #[test]
    fn plurals_follow_russian_rules() {
        let f = |n| plural(n, "мероприятие", "мероприятия", "мероприятий");
        assert_eq!(f(1), "мероприятие");
        assert_eq!(f(21), "мероприятие");
        assert_eq!(f(3), "мероприятия");
        assert_eq!(f(11), "мероприятий");
        assert_eq!(f(14), "мероприятий");
        assert_eq!(f(25), "мероприятий");
    }
}
