//! The date "today" for everything derived from deadlines (overdue, deadline missed), settable
//! so tests and demos are reproducible.

use chrono::NaiveDate;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    fixed: Option<NaiveDate>,
}

impl Clock {
    /// The machine's date (UTC).
    pub fn system() -> Self {
        Self { fixed: None }
    }

    /// Always this date.
    pub fn fixed(date: NaiveDate) -> Self {
        Self { fixed: Some(date) }
    }

    pub fn today(&self) -> NaiveDate {
        self.fixed.unwrap_or_else(|| chrono::Utc::now().date_naive())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_is_fixed() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 31).unwrap();
        assert_eq!(Clock::fixed(d).today(), d);
        assert!(Clock::system().today() > d);
    }
}
