//! Reporting periods in Asia/Ho_Chi_Minh time (UTC+7 all year, no daylight saving): a week starts on
//! Monday, a quarter in January, April, July or October; each runs from local midnight to local
//! midnight, end excluded.

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Vietnam's offset from UTC.
const OFFSET_HOURS: i64 = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Week,
    Month,
    Quarter,
    Year,
}

impl PeriodKind {
    /// The grain of the tallies that count this kind of period (db/tallies.rs).
    pub fn grain(self) -> &'static str {
        match self {
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub kind: PeriodKind,
    /// First local day.
    pub start: NaiveDate,
    /// The local day after the last one.
    pub end: NaiveDate,
}

impl Period {
    /// The period of `kind` that contains the local day `day`.
    pub fn containing(kind: PeriodKind, day: NaiveDate) -> Period {
        let start = match kind {
            PeriodKind::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            PeriodKind::Month => day.with_day(1).unwrap_or(day),
            PeriodKind::Quarter => {
                let month = (day.month0() / 3) * 3 + 1;
                NaiveDate::from_ymd_opt(day.year(), month, 1).unwrap_or(day)
            }
            PeriodKind::Year => NaiveDate::from_ymd_opt(day.year(), 1, 1).unwrap_or(day),
        };
        let end = match kind {
            PeriodKind::Week => start + Days::new(7),
            PeriodKind::Month => start + Months::new(1),
            PeriodKind::Quarter => start + Months::new(3),
            PeriodKind::Year => start + Months::new(12),
        };
        Period { kind, start, end }
    }

    /// The period just before this one.
    pub fn previous(&self) -> Period {
        Period::containing(self.kind, self.start - Days::new(1))
    }

    /// The last local day of the period.
    pub fn last_day(&self) -> NaiveDate {
        self.end - Days::new(1)
    }

    /// The start as a UTC timestamp (local midnight).
    pub fn start_utc(&self) -> NaiveDateTime {
        local_midnight_utc(self.start)
    }

    /// The end (excluded) as a UTC timestamp.
    pub fn end_utc(&self) -> NaiveDateTime {
        local_midnight_utc(self.end)
    }

    /// `2026-W48`, `2026-11`, `2026-Q4` or `2026`.
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Week => {
                let w = self.start.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            PeriodKind::Month => format!("{}-{:02}", self.start.year(), self.start.month()),
            PeriodKind::Quarter => {
                format!("{}-Q{}", self.start.year(), self.start.month0() / 3 + 1)
            }
            PeriodKind::Year => self.start.year().to_string(),
        }
    }

    /// A resident born in `birth_year` counts as this old during the period: the age reached in
    /// the year of its last day (the registry keeps birth years only).
    pub fn age_of(&self, birth_year: i32) -> i32 {
        self.last_day().year() - birth_year
    }
}

pub fn local_midnight_utc(day: NaiveDate) -> NaiveDateTime {
    day.and_time(NaiveTime::MIN) - TimeDelta::hours(OFFSET_HOURS)
}

/// Today's local date.
pub fn local_today() -> NaiveDate {
    (chrono::Utc::now().naive_utc() + TimeDelta::hours(OFFSET_HOURS)).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn periods_contain_the_day_and_chain_backwards() {
        let q = Period::containing(PeriodKind::Quarter, d(2026, 11, 24));
        assert_eq!(
            (q.start, q.end, q.label()),
            (d(2026, 10, 1), d(2027, 1, 1), "2026-Q4".into())
        );
        let p = q.previous();
        assert_eq!(
            (p.start, p.end, p.label()),
            (d(2026, 7, 1), d(2026, 10, 1), "2026-Q3".into())
        );
        let w = Period::containing(PeriodKind::Week, d(2026, 11, 24));
        assert_eq!(
            (w.start, w.end, w.label()),
            (d(2026, 11, 23), d(2026, 11, 30), "2026-W48".into())
        );
        let m = Period::containing(PeriodKind::Month, d(2026, 1, 31)).previous();
        assert_eq!(
            (m.start, m.end, m.label()),
            (d(2025, 12, 1), d(2026, 1, 1), "2025-12".into())
        );
        let y = Period::containing(PeriodKind::Year, d(2026, 6, 1));
        assert_eq!(
            (y.start, y.end, y.label()),
            (d(2026, 1, 1), d(2027, 1, 1), "2026".into())
        );
    }

    #[test]
    fn local_midnight_is_five_pm_utc_the_day_before() {
        let q = Period::containing(PeriodKind::Quarter, d(2026, 10, 1));
        assert_eq!(q.start_utc().to_string(), "2026-09-30 17:00:00");
        assert_eq!(q.end_utc().to_string(), "2026-12-31 17:00:00");
    }

    #[test]
    fn age_is_reached_in_the_year_of_the_last_day() {
        let q4 = Period::containing(PeriodKind::Quarter, d(2026, 11, 1));
        assert_eq!(q4.age_of(2008), 18);
        let y2025 = Period::containing(PeriodKind::Year, d(2025, 3, 1));
        assert_eq!(y2025.age_of(2008), 17);
    }
}
