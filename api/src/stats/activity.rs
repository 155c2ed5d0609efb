//! The activity figures the plan asks for: visits, households reached, communications by channel and
//! reach, trainings and attendance, difficulties raised and answered with response times, and active
//! members per team; for a commune or some of its villages, for one period.

use diesel::QueryResult;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Period;
use crate::db::stats as q;
use crate::db::DbConnection;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ReportChannel {
    /// `loudspeaker`, `zalo`, `facebook`, `meeting`, `community_event`, `leaflet` or `other`.
    pub channel: String,
    pub activities: i64,
    /// People reached (the teams' estimates, summed).
    pub reach: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ReportTeam {
    pub team_id: String,
    pub name: String,
    /// Members serving during the period.
    pub members: i64,
    /// Of those, members who logged at least one record in the period.
    pub active_members: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ReportActivity {
    /// Live (not corrected) records of house visits.
    pub house_visits: i64,
    /// Households reached by any channel.
    pub households_reached: i64,
    /// Services helped with, one per service per record.
    pub assistance_items: i64,
    pub communications: Vec<ReportChannel>,
    /// Trainings held (not cancelled).
    #[serde(default)]
    pub trainings_held: i64,
    /// Attendances of team members at those trainings.
    #[serde(default)]
    pub training_attendances: i64,
    /// Distinct members who attended at least one.
    #[serde(default)]
    pub members_trained: i64,
    /// Difficulties raised in the period.
    pub difficulties_raised: i64,
    /// Of those, answered by the office side (or closed).
    pub difficulties_answered: i64,
    /// Median hours from reaching the server to the first answer, over the answered ones.
    #[serde(default)]
    pub response_median_hours: Option<f64>,
    /// Mean hours to the first answer.
    #[serde(default)]
    pub response_mean_hours: Option<f64>,
    pub teams: Vec<ReportTeam>,
}

fn hours(seconds: f64) -> f64 {
    (seconds / 360.0).round() / 10.0
}

/// Median and mean of response times in seconds, as hours with one decimal.
pub fn response_hours(mut seconds: Vec<i64>) -> (Option<f64>, Option<f64>) {
    if seconds.is_empty() {
        return (None, None);
    }
    seconds.sort_unstable();
    let n = seconds.len();
    let median = if n % 2 == 1 {
        seconds[n / 2] as f64
    } else {
        (seconds[n / 2 - 1] + seconds[n / 2]) as f64 / 2.0
    };
    let mean = seconds.iter().sum::<i64>() as f64 / n as f64;
    (Some(hours(median)), Some(hours(mean)))
}

/// The activity of `commune_id` (or only of `villages`) in `period`.
pub fn compute(
    conn: &mut DbConnection,
    commune_id: &str,
    villages: Option<&[String]>,
    period: &Period,
) -> QueryResult<ReportActivity> {
    let (start, end) = (period.start_utc(), period.end_utc());
    let (house_visits, households_reached, assistance_items) = q::visit_activity(
        conn,
        commune_id,
        villages,
        period.kind.grain(),
        period.start,
    )?;
    let difficulties = q::difficulties_raised(conn, commune_id, villages, start, end)?;
    let answered = difficulties
        .iter()
        .filter(|(status, _, first)| first.is_some() || status != "open")
        .count() as i64;
    let (response_median_hours, response_mean_hours) = response_hours(
        difficulties
            .iter()
            .filter_map(|(_, received, first)| first.map(|f| (f - *received).num_seconds().max(0)))
            .collect(),
    );
    let (trainings_held, training_attendances, members_trained) =
        q::training_activity(conn, commune_id, villages, period.start, period.last_day())?;
    Ok(ReportActivity {
        house_visits,
        households_reached,
        assistance_items,
        communications: q::communications_by_channel(conn, commune_id, villages, start, end)?
            .into_iter()
            .map(|(channel, activities, reach)| ReportChannel {
                channel,
                activities,
                reach,
            })
            .collect(),
        trainings_held,
        training_attendances,
        members_trained,
        difficulties_raised: difficulties.len() as i64,
        difficulties_answered: answered,
        response_median_hours,
        response_mean_hours,
        teams: q::team_activity(
            conn,
            commune_id,
            villages,
            (period.kind.grain(), period.start),
            (period.start, period.end),
        )?
        .into_iter()
        .map(|(team_id, name, members, active_members)| ReportTeam {
            team_id,
            name,
            members,
            active_members,
        })
        .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::response_hours;

    #[test]
    fn response_hours_are_median_and_mean_with_one_decimal() {
        assert_eq!(response_hours(vec![]), (None, None));
        assert_eq!(response_hours(vec![3600]), (Some(1.0), Some(1.0)));
        // 1 h, 2 h, 9 h: median 2 h, mean 4 h.
        assert_eq!(
            response_hours(vec![32400, 3600, 7200]),
            (Some(2.0), Some(4.0))
        );
        // Even count: the middle two averaged (5,100 s = 1.4 h); mean 4,800 s = 1.3 h.
        assert_eq!(
            response_hours(vec![1800, 3600, 7200, 6600]),
            (Some(1.4), Some(1.3))
        );
    }
}
