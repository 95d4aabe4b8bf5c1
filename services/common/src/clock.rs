//! The date "today" for everything derived from deadlines (overdue, deadline missed), settable
//! so tests and demos are reproducible, and the time zones it is taken in.
//!
//! "Today" is a day of a territory's time zone (an IANA name such as `Asia/Chita`): at
//! 2026-03-10T16:00Z it is already the 11th in Chita (UTC+9) and still the 10th in Moscow and
//! Kaliningrad. [`Clock::today_in`] gives it; [`DEFAULT_TIME_ZONE`] stands for a territory none
//! of whose ancestors has a zone (federal plans: Moscow time, as federal deadlines are set).
//! A clock fixed to a *date* (`ROADMAP_CLOCK=2024-03-31`) is that date in every zone; a clock
//! fixed to an *instant* (`ROADMAP_CLOCK=2026-03-10T16:00:00Z`) is read in each zone like the
//! system clock.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::{ServiceError, ServiceResult};

/// The zone of a territory without one of its own or inherited: Moscow time.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Moscow";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Fixed {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Clock {
    fixed: Option<Fixed>,
}

impl Clock {
    /// The machine's clock.
    pub fn system() -> Self {
        Self { fixed: None }
    }

    /// Always this date, in every time zone.
    pub fn fixed(date: NaiveDate) -> Self {
        Self {
            fixed: Some(Fixed::Day(date)),
        }
    }

    /// Always this instant, read in each time zone.
    pub fn at(instant: DateTime<Utc>) -> Self {
        Self {
            fixed: Some(Fixed::Instant(instant)),
        }
    }

    /// Today in UTC (the fixed date, when fixed to one).
    pub fn today(&self) -> NaiveDate {
        self.today_in(Tz::UTC)
    }

    /// Today in `zone`.
    pub fn today_in(&self, zone: Tz) -> NaiveDate {
        let now = match self.fixed {
            Some(Fixed::Day(d)) => return d,
            Some(Fixed::Instant(i)) => i,
            None => Utc::now(),
        };
        now.with_timezone(&zone).date_naive()
    }

    /// Today in the zone named `zone` (an IANA name as stored), [`DEFAULT_TIME_ZONE`] when
    /// `None` or not a known name.
    pub fn today_in_named(&self, zone: Option<&str>) -> NaiveDate {
        self.today_in(zone_or_default(zone))
    }

    /// The date of a clock fixed to a date: the same day in every zone.
    pub fn same_day_everywhere(&self) -> Option<NaiveDate> {
        match self.fixed {
            Some(Fixed::Day(d)) => Some(d),
            _ => None,
        }
    }

    /// Parses `ROADMAP_CLOCK`: a date (`2024-03-31`) or an RFC 3339 instant
    /// (`2026-03-10T16:00:00Z`, `2026-03-11T01:00:00+09:00`).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Some(Self::fixed(d));
        }
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|i| Self::at(i.with_timezone(&Utc)))
    }
}

/// The IANA time zone named `name` (`Asia/Chita`); an invalid-input error naming `field`
/// otherwise. Names are matched exactly, as the IANA database spells them.
pub fn parse_time_zone(field: &str, name: &str) -> ServiceResult<Tz> {
    name.trim().parse::<Tz>().map_err(|_| {
        ServiceError::invalid(
            field,
            format!("`{name}` is not a time zone of the IANA database (e.g. `Asia/Chita`, `Europe/Moscow`)"),
        )
    })
}

/// The zone named `name`, [`DEFAULT_TIME_ZONE`] when `None` or unknown.
pub fn zone_or_default(name: Option<&str>) -> Tz {
    name.and_then(|n| n.parse::<Tz>().ok())
        .unwrap_or(chrono_tz::Europe::Moscow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn fixed_clock_is_fixed() {
        let d = d(2024, 3, 31);
        assert_eq!(Clock::fixed(d).today(), d);
        assert_eq!(Clock::fixed(d).today_in(chrono_tz::Asia::Chita), d);
        assert!(Clock::system().today() > d);
    }

    #[test]
    fn today_is_a_day_of_the_zone() {
        // 16:00 UTC on 10 March 2026 is 01:00 on the 11th in Chita (UTC+9), 19:00 in Moscow
        // (UTC+3) and 18:00 in Kaliningrad (UTC+2).
        let clock = Clock::parse("2026-03-10T16:00:00Z").unwrap();
        assert_eq!(
            clock.today_in(parse_time_zone("z", "Asia/Chita").unwrap()),
            d(2026, 3, 11)
        );
        assert_eq!(clock.today_in_named(Some("Europe/Moscow")), d(2026, 3, 10));
        assert_eq!(clock.today_in_named(Some("Europe/Kaliningrad")), d(2026, 3, 10));
        assert_eq!(clock.today_in_named(None), d(2026, 3, 10));
        assert_eq!(clock.today(), d(2026, 3, 10));
        assert_eq!(clock.same_day_everywhere(), None);
        // One minute before midnight in Chita it is still the 10th there.
        let clock = Clock::parse("2026-03-11T00:59:00+09:00").unwrap();
        assert_eq!(clock.today_in(chrono_tz::Asia::Chita), d(2026, 3, 11));
        let clock = Clock::parse("2026-03-10T14:59:00Z").unwrap();
        assert_eq!(clock.today_in(chrono_tz::Asia::Chita), d(2026, 3, 10));
        assert_eq!(Clock::parse("2024-03-31"), Some(Clock::fixed(d(2024, 3, 31))));
        assert_eq!(Clock::parse("31.03.2024"), None);
    }

    #[test]
    fn unknown_zone_names_are_refused_naming_the_field() {
        let err = parse_time_zone("input.timeZone", "Asia/Chitaa").unwrap_err();
        let msg = err.message();
        assert!(msg.contains("input.timeZone") && msg.contains("Asia/Chitaa"), "{msg}");
        assert!(parse_time_zone("input.timeZone", "UTC+9").is_err());
        assert_eq!(zone_or_default(Some("Asia/Chitaa")), chrono_tz::Europe::Moscow);
    }
}
