//! Indicator figures (DESIGN §3): numerator, honest denominator and percentage per village of a
//! commune, for a period in Asia/Ho_Chi_Minh time, and the same counted per volunteer.

pub mod activity;
pub mod period;
pub mod report;
pub mod report_pdf;
pub mod watch;

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

/// People (or households) still to reach for `figure` to meet `target` percent: 0 without a
/// denominator (count-only indicators) or once the target is met.
pub fn gap(figure: &Figure, target: f64) -> i64 {
    let Some(denominator) = figure.denominator else {
        return 0;
    };
    // Whole tenths of a percent, so the ceiling is exact: ceil(denominator × tenths / 1000).
    let tenths = (target * 10.0).round() as i64;
    let needed = (denominator * tenths + 999) / 1000;
    (needed - figure.numerator).max(0)
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

/// Whether a subject of birth year `born` (0: unknown) is in an indicator's denominator.
enum Eligibility {
    In,
    Out,
    UnknownAge,
}

fn eligibility(indicator: &Indicator, period: &Period, born: i32) -> Eligibility {
    if indicator.level != "person" {
        return Eligibility::In;
    }
    match (indicator.min_age, born) {
        (Some(_), 0) => Eligibility::UnknownAge,
        (Some(min), b) if period.age_of(b) < min => Eligibility::Out,
        // Not born yet in that period.
        (None, b) if b != 0 && period.age_of(b) < 0 => Eligibility::Out,
        _ => Eligibility::In,
    }
}

/// What several indicators of one request share: the subjects living at a period's end (the same
/// for every person-level or household-level indicator of that period).
#[derive(Default)]
pub struct Shared {
    living: HashMap<(bool, chrono::NaiveDateTime), Living>,
}

/// `(village, birth year or 0, subjects)` rows of [`q::living_subjects`].
type Living = Vec<(String, i32, i64)>;

impl Shared {
    fn living(
        &mut self,
        conn: &mut DbConnection,
        commune_id: &str,
        person: bool,
        end: chrono::NaiveDateTime,
    ) -> QueryResult<Living> {
        if let Some(rows) = self.living.get(&(person, end)) {
            return Ok(rows.clone());
        }
        let rows = q::living_subjects(conn, commune_id, person, end)?;
        self.living.insert((person, end), rows.clone());
        Ok(rows)
    }
}

/// The indicator for every village of `commune_id` over `period`, keyed by village id. Read from the
/// tallies (db/tallies.rs), so the cost does not grow with the number of records. `shared` carries
/// what the indicators of one request have in common (one per commune).
pub fn per_village(
    conn: &mut DbConnection,
    shared: &mut Shared,
    indicator: &Indicator,
    commune_id: &str,
    period: &Period,
) -> QueryResult<BTreeMap<String, Figure>> {
    let mut out = BTreeMap::new();
    let service = indicator.service_code.as_deref().unwrap_or_default();
    let with_denominator = counted(indicator);
    let grain = period.kind.grain();
    match indicator.kind.as_str() {
        "adoption" => {
            let person = indicator.level == "person";
            for (village, born, n) in shared.living(conn, commune_id, person, period.end_utc())? {
                let f = slot(&mut out, &village, true);
                match eligibility(indicator, period, born) {
                    Eligibility::In => f.denominator = Some(f.denominator.unwrap_or(0) + n),
                    Eligibility::UnknownAge => f.unknown_age += n,
                    Eligibility::Out => {}
                }
            }
            let ledger = q::ledger_at(
                conn,
                commune_id,
                service,
                person,
                period.end,
                period.end_utc(),
            )?;
            for (village, born, status, n) in ledger {
                let f = slot(&mut out, &village, true);
                match (eligibility(indicator, period, born), status.as_str()) {
                    (Eligibility::In, "not_applicable") => {
                        f.denominator = Some(f.denominator.unwrap_or(0) - n)
                    }
                    (Eligibility::UnknownAge, "not_applicable") => f.unknown_age -= n,
                    (Eligibility::In, "done") => f.numerator += n,
                    _ => {}
                }
            }
        }
        "visited" => {
            for (village, _, n) in shared.living(conn, commune_id, false, period.end_utc())? {
                let f = slot(&mut out, &village, true);
                f.denominator = Some(f.denominator.unwrap_or(0) + n);
            }
            let visited =
                q::visited_per_village(conn, commune_id, (grain, period.start), period.end_utc())?;
            for (village, n) in visited {
                slot(&mut out, &village, true).numerator += n;
            }
        }
        _ => {
            for (village, _, n) in
                q::assisted_items(conn, commune_id, service, grain, period.start)?
            {
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
        "visited" => q::visited_by_author(conn, commune_id, period.start_utc(), period.end_utc())?,
        _ => q::assisted_items(conn, commune_id, service, period.kind.grain(), period.start)?
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
