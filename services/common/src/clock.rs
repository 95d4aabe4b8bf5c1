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

    /// `ROADMAP_CLOCK=YYYY-MM-DD` fixes the date; unset means the system clock.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("ROADMAP_CLOCK") {
            Ok(text) => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map(Self::fixed)
                .map_err(|_| format!("ROADMAP_CLOCK `{text}` is not a date like 2024-03-31")),
            Err(_) => Ok(Self::system()),
        }
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
