//! Indicator figures (DESIGN §3): numerator, honest denominator and percentage per village of a
//! commune, for a period in Asia/Ho_Chi_Minh time, and the same counted per volunteer.

pub mod activity;
pub mod period;
pub mod report;

use std::collections::{BTreeMap, HashMap};

use diesel::QueryResult;

use crate::db::stats::{self as q, Indicator};
use crate::db::DbConnection;
pub use period::{Period, PeriodKind};

/// One number of an indicator. Count-only indicators (`assisted`) have no denominator.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Figure {
    pub numerator: i64,
    pub denominator: Option<i64>,
    /// People left out of an age-limited denominator because their birth year is unknown.
    pub unknown_age: i64,
}

impl Figure {
    /// Percentage with one decimal; `None` without a denominator or when it is zero.
    pub fn percent(&self) -> Option<f64> {
        match self.denominator {
            Some(d) if d > 0 => Some((self.numerator as f64 * 1000.0 / d as f64).round() / 10.0),
            _ => None,
        }
    }

    pub fn add(&mut self, other: &Figure) {
        self.numerator += other.numerator;
        self.unknown_age += other.unknown_age;
        self.denominator = match (self.denominator, other.denominator) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
    }
}

fn counted(indicator: &Indicator) -> bool {
    indicator.kind != "assisted"
}

fn slot<'a>(
    map: &'a mut BTreeMap<String, Figure>,
    village: &str,
    with_denominator: bool,
) -> &'a mut Figure {
    map.entry(village.to_owned()).or_insert_with(|| Figure {
        denominator: with_denominator.then_some(0),
        ..Figure::default()
    })
}

/// The indicator for every village of `commune_id` over `period`, keyed by village id.
pub fn per_village(
    conn: &mut DbConnection,
    indicator: &Indicator,
    commune_id: &str,
    period: &Period,
) -> QueryResult<BTreeMap<String, Figure>> {
    let mut out = BTreeMap::new();
    let service = indicator.service_code.as_deref().unwrap_or_default();
    let with_denominator = counted(indicator);
    match (indicator.kind.as_str(), indicator.level.as_str()) {
        ("adoption", "person") => {
            let rows = q::person_adoption(conn, commune_id, service, period.end, period.end_utc())?;
            for (village, birth_year, status, n) in rows {
                let f = slot(&mut out, &village, true);
                if status.as_deref() == Some("not_applicable") {
                    continue;
                }
                if let Some(min) = indicator.min_age {
                    match birth_year {
                        None => {
                            f.unknown_age += n;
                            continue;
                        }
                        Some(b) if period.age_of(b) < min => continue,
                        Some(_) => {}
                    }
                } else if birth_year.is_some_and(|b| period.age_of(b) < 0) {
                    // Not born yet in that period.
                    continue;
                }
                f.denominator = Some(f.denominator.unwrap_or(0) + n);
                if status.as_deref() == Some("done") {
                    f.numerator += n;
                }
            }
        }
        ("adoption", _) => {
            let rows =
                q::household_adoption(conn, commune_id, service, period.end, period.end_utc())?;
            for (village, status, n) in rows {
                let f = slot(&mut out, &village, true);
                if status.as_deref() == Some("not_applicable") {
                    continue;
                }
                f.denominator = Some(f.denominator.unwrap_or(0) + n);
                if status.as_deref() == Some("done") {
                    f.numerator += n;
                }
            }
        }
        ("visited", _) => {
            for (village, n) in q::households_per_village(conn, commune_id, period.end_utc())? {
                slot(&mut out, &village, true).denominator = Some(n);
            }
            let visited = q::visited_households(
                conn,
                commune_id,
                period.start_utc(),
                period.end_utc(),
                false,
            )?;
            for (village, _, n) in visited {
                slot(&mut out, &village, true).numerator += n;
            }
        }
        _ => {
            let rows = q::assisted_items(
                conn,
                commune_id,
                service,
                period.start_utc(),
                period.end_utc(),
            )?;
            for (village, _, n) in rows {
                slot(&mut out, &village, with_denominator).numerator += n;
            }
        }
    }
    Ok(out)
}

/// What each volunteer did for the indicator during `period`, in the given villages: subjects their
/// records marked done, households they visited, or items they assisted. Keyed by user id.
pub fn per_volunteer(
    conn: &mut DbConnection,
    indicator: &Indicator,
    commune_id: &str,
    villages: &[String],
    period: &Period,
) -> QueryResult<HashMap<String, i64>> {
    let service = indicator.service_code.as_deref().unwrap_or_default();
    let rows: Vec<(String, Option<String>, i64)> = match indicator.kind.as_str() {
        "adoption" => q::done_by_volunteer(conn, commune_id, service, period.start, period.end)?,
        "visited" => {
            q::visited_households(conn, commune_id, period.start_utc(), period.end_utc(), true)?
        }
        _ => q::assisted_items(
            conn,
            commune_id,
            service,
            period.start_utc(),
            period.end_utc(),
        )?
        .into_iter()
        .map(|(v, a, n)| (v, Some(a), n))
        .collect(),
    };
    let mut out = HashMap::new();
    for (village, author, n) in rows {
        if let Some(author) = author.filter(|_| villages.contains(&village)) {
            *out.entry(author).or_default() += n;
        }
    }
    Ok(out)
}
