//! The indicators seed roadmaps set targets for. Plans' goal sentences name them by exam ("доля
//! ... не преодолевших минимальный порог ... ЕГЭ"); `recordPlanTargets` creates them on demand,
//! so a fresh deployment needs no setup before the first import.

use crate::graphql::{IndicatorAggregation, IndicatorDirection};
use crate::store::{IndicatorBounds, IndicatorRow, NewIndicator};

/// The definition of the indicator a plan's target about `exam` is for ("ЕГЭ", "ОГЭ"); none for
/// other exams.
pub fn seed_indicator(exam: &str) -> Option<NewIndicator> {
    let (code, name, grade) = match exam.trim() {
        "ЕГЭ" => (
            "ege_below_min",
            "Доля обучающихся, не преодолевших минимальный порог баллов на ЕГЭ",
            11,
        ),
        "ОГЭ" => (
            "oge_below_min",
            "Доля обучающихся, не преодолевших минимальный порог баллов на ОГЭ",
            9,
        ),
        _ => return None,
    };
    Some(NewIndicator {
        code: code.to_string(),
        name: name.to_string(),
        unit: "%".to_string(),
        direction: IndicatorDirection::LowerIsBetter.as_db(),
        aggregation: IndicatorAggregation::WeightedMean.as_db(),
        dimensions: vec!["subject".to_string()],
        bounds: IndicatorBounds {
            exam: Some(exam.trim().to_string()),
            grade: Some(grade),
            period_from: Some(2000),
            period_to: Some(2100),
            min_value: Some(0.0),
            max_value: Some(100.0),
        },
    })
}

/// The row `definition` becomes once stored, so values can be checked against its range before
/// it exists.
pub fn as_row(definition: &NewIndicator) -> IndicatorRow {
    IndicatorRow {
        id: uuid::Uuid::nil(),
        code: definition.code.clone(),
        name: definition.name.clone(),
        unit: definition.unit.clone(),
        direction: definition.direction.to_string(),
        aggregation: definition.aggregation.to_string(),
        dimensions: definition.dimensions.clone(),
        bounds: definition.bounds.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_indicators_by_exam() {
        let ege = seed_indicator("ЕГЭ").expect("ЕГЭ");
        assert_eq!(
            (ege.code.as_str(), ege.bounds.grade, ege.direction),
            ("ege_below_min", Some(11), "LOWER_IS_BETTER")
        );
        assert_eq!(seed_indicator("ОГЭ").expect("ОГЭ").code, "oge_below_min");
        assert!(seed_indicator("ВПР").is_none());
        let row = as_row(&ege);
        assert_eq!((row.bounds.min_value, row.bounds.max_value), (Some(0.0), Some(100.0)));
    }
}
