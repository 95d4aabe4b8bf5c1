//! How values and keys written by people become what is stored, pure (no SQL, no GraphQL): decimal
//! text as documents write it, subject keys, comparators, and the checks of a value and a period
//! against an indicator's range. Every mutation that takes a value goes through here, so a plan's
//! "32,79" and an API client's `32.79` are stored alike.

use roadmap_common::{ServiceError, ServiceResult};

use crate::store::IndicatorRow;

/// Normalises a decimal as documents write it ("32,79", "3", "-0,5") to "32.79"; `None` when it
/// is not one.
pub fn decimal_text(raw: &str) -> Option<String> {
    let t = raw.trim().replace(',', ".");
    let digits = t.strip_prefix('-').unwrap_or(&t);
    let mut parts = digits.split('.');
    let whole = parts.next()?;
    let frac = parts.next();
    if parts.next().is_some()
        || whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some(t)
}

/// The number `raw` writes, as (decimal text, value); `field` is named when it is not one.
pub fn parse_decimal(field: &str, raw: &str) -> ServiceResult<(String, f64)> {
    let not_a_number = || ServiceError::invalid(field, format!("`{raw}` is not a number"));
    let text = decimal_text(raw).ok_or_else(not_a_number)?;
    let value = text.parse().map_err(|_| not_a_number())?;
    Ok((text, value))
}

/// The decimal text of `value`, checked against `raw` when given; (value text, raw text).
pub fn value_texts(field_raw: &str, value: f64, raw: Option<&str>) -> ServiceResult<(String, String)> {
    let text = format!("{value}");
    match raw {
        None => Ok((text.clone(), text)),
        Some(raw) => {
            let (normal, parsed) = parse_decimal(field_raw, raw)?;
            if (parsed - value).abs() > 1e-9 * value.abs().max(1.0) {
                return Err(ServiceError::invalid(field_raw, format!("`{raw}` is not {value}")));
            }
            Ok((normal, raw.trim().to_string()))
        }
    }
}

/// The stable key of a subject: `chemistry`, `math_basic` ... for the subjects the parser knows
/// (in any Russian case form or as a key), else the text in lower case. Empty for none.
pub fn subject_key(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        return String::new();
    }
    const KEYS: [&str; 7] = [
        "russian",
        "math",
        "math_basic",
        "math_profile",
        "physics",
        "chemistry",
        "biology",
    ];
    let lower = t.to_lowercase();
    if KEYS.contains(&lower.as_str()) {
        return lower;
    }
    // serde names of roadmap_import::Subject ("MathBasic").
    let snake: String = t
        .chars()
        .enumerate()
        .flat_map(|(i, c)| {
            let sep = (i > 0 && c.is_ascii_uppercase()).then_some('_');
            sep.into_iter().chain(c.to_lowercase())
        })
        .collect();
    if KEYS.contains(&snake.as_str()) {
        return snake;
    }
    use roadmap_import::Subject;
    match roadmap_import::indicators::subject_key(t) {
        Subject::Russian => "russian",
        Subject::Math => "math",
        Subject::MathBasic => "math_basic",
        Subject::MathProfile => "math_profile",
        Subject::Physics => "physics",
        Subject::Chemistry => "chemistry",
        Subject::Biology => "biology",
        Subject::Other => return lower.split_whitespace().collect::<Vec<_>>().join(" "),
    }
    .to_string()
}

/// A stored subject as the API shows it: none rather than the empty key.
pub fn opt_subject(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// The stored comparator of a plan target ("≤", "le", "<=" ... → "LE"); none means EQ.
pub fn comparator(field: &str, text: Option<&str>) -> ServiceResult<&'static str> {
    Ok(match text.map(|t| t.trim().to_uppercase()).as_deref() {
        None | Some("EQ") | Some("=") => "EQ",
        Some("LE") | Some("<=") | Some("≤") => "LE",
        Some("GE") | Some(">=") | Some("≥") => "GE",
        Some("LT") | Some("<") => "LT",
        Some("GT") | Some(">") => "GT",
        Some(other) => {
            return Err(ServiceError::invalid(
                field,
                format!("`{other}` is not one of EQ, LE, GE, LT, GT"),
            ));
        }
    })
}

/// Refuses a period outside the indicator's range.
pub fn check_period(field: &str, indicator: &IndicatorRow, period: i32) -> ServiceResult<()> {
    let from = indicator.bounds.period_from.unwrap_or(1900);
    let to = indicator.bounds.period_to.unwrap_or(2200);
    if period < from || period > to {
        return Err(ServiceError::invalid(
            field,
            format!("{period} is outside the periods of `{}` ({from}–{to})", indicator.code),
        ));
    }
    Ok(())
}

/// Refuses a value that is not finite or outside the indicator's range (e.g. a negative share).
pub fn check_value(field: &str, indicator: &IndicatorRow, value: f64) -> ServiceResult<()> {
    if !value.is_finite() {
        return Err(ServiceError::invalid(field, "must be a finite number"));
    }
    let (bound, limit) = match (indicator.bounds.min_value, indicator.bounds.max_value) {
        (Some(min), _) if value < min => ("below the minimum", min),
        (_, Some(max)) if value > max => ("above the maximum", max),
        _ => return Ok(()),
    };
    Err(ServiceError::invalid(
        field,
        format!(
            "{value} is {bound} {limit} of `{}` ({})",
            indicator.code, indicator.unit
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_read_as_written() {
        assert_eq!(decimal_text("32,79").as_deref(), Some("32.79"));
        assert_eq!(decimal_text(" 3 ").as_deref(), Some("3"));
        assert_eq!(decimal_text("-0,5").as_deref(), Some("-0.5"));
        for bad in ["", ",5", "1,2,3", "12%", "1e5", "5,"] {
            assert_eq!(decimal_text(bad), None, "{bad}");
        }
    }

    #[test]
    fn raw_values_must_be_the_number_given() {
        assert_eq!(
            value_texts("v", 32.79, Some(" 32,79 ")).unwrap(),
            ("32.79".to_string(), "32,79".to_string())
        );
        assert_eq!(value_texts("v", 3.0, None).unwrap(), ("3".to_string(), "3".to_string()));
        assert!(value_texts("v", 3.0, Some("3,1")).is_err());
        assert!(value_texts("v", 3.0, Some("three")).is_err());
    }

    #[test]
    fn subjects_have_stable_keys() {
        assert_eq!(subject_key("Химия"), "chemistry");
        assert_eq!(subject_key("химии"), "chemistry");
        assert_eq!(subject_key("Chemistry"), "chemistry");
        assert_eq!(subject_key("MathBasic"), "math_basic");
        assert_eq!(subject_key("Математика (база)"), "math_basic");
        assert_eq!(subject_key("math_profile"), "math_profile");
        assert_eq!(subject_key("  "), "");
        assert_eq!(subject_key("Информатика  и ИКТ"), "информатика и икт");
    }

    #[test]
    fn comparators_as_plans_write_them() {
        assert_eq!(comparator("c", None).unwrap(), "EQ");
        assert_eq!(comparator("c", Some(" ≤ ")).unwrap(), "LE");
        assert_eq!(comparator("c", Some("gt")).unwrap(), "GT");
        assert!(comparator("c", Some("about")).is_err());
    }
}
