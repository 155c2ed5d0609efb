//! The webhook event `indicator.threshold_crossed`: each commune's standing against every indicator
//! with a `target_percent`, as of today in the current quarter, checked every
//! `indicator_watch_ms` by the webhook worker. The first check of a commune and indicator only
//! records where it stands; afterwards the event fires when the figure reaches the target or falls
//! back below it. Only communes some webhook subscribes for are computed.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::{per_village, Figure, Period, PeriodKind, Shared};
use crate::db::schema::indicator_watch as iw;
use crate::db::{self, stats as q, webhooks, DbConnection};

pub const EVENT: &str = "indicator.threshold_crossed";

/// Checks every watched commune on `today`; returns how many crossings were announced.
pub fn check(conn: &mut DbConnection, today: NaiveDate) -> QueryResult<usize> {
    let hooks = webhooks::subscribed(conn, EVENT)?;
    if hooks.is_empty() {
        return Ok(0);
    }
    let communes: Vec<String> = if hooks.iter().any(|h| h.commune_id.is_none()) {
        db::geo::list_communes(conn, None, None, i64::MAX)?
            .into_iter()
            .map(|c| c.id)
            .collect()
    } else {
        let mut ids: Vec<String> = hooks.into_iter().filter_map(|h| h.commune_id).collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let indicators: Vec<q::Indicator> = q::list_indicators(conn, false)?
        .into_iter()
        .filter(|i| i.target_percent.is_some() && i.kind != "assisted")
        .collect();
    let period = Period::containing(PeriodKind::Quarter, today);
    let mut fired = 0;
    for commune in &communes {
        let mut shared = Shared::default();
        for indicator in &indicators {
            let mut total = Figure {
                denominator: Some(0),
                ..Figure::default()
            };
            for f in per_village(conn, &mut shared, indicator, commune, &period)?.values() {
                total.add(f);
            }
            let (Some(percent), Some(target)) = (total.percent(), indicator.target_percent) else {
                continue;
            };
            if record(
                conn, commune, indicator, &period, today, total, percent, target,
            )? {
                fired += 1;
            }
        }
    }
    Ok(fired)
}

/// Stores where the commune stands; on a change, announces it (once, even with several server
/// instances checking: only the update that flips the stored state enqueues).
#[allow(clippy::too_many_arguments)]
fn record(
    conn: &mut DbConnection,
    commune: &str,
    indicator: &q::Indicator,
    period: &Period,
    today: NaiveDate,
    figure: Figure,
    percent: f64,
    target: f64,
) -> QueryResult<bool> {
    let reached = percent >= target;
    let now = db::now();
    let result = conn.transaction(|conn| {
        let before: Option<bool> = iw::table
            .find((commune, &indicator.id))
            .select(iw::reached)
            .get_result(conn)
            .optional()?;
        match before {
            None => {
                diesel::insert_into(iw::table)
                    .values((
                        iw::commune_id.eq(commune),
                        iw::indicator_id.eq(&indicator.id),
                        iw::reached.eq(reached),
                        iw::percent.eq(percent),
                        iw::checked_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(false)
            }
            Some(was) => {
                let flipped = diesel::update(
                    iw::table
                        .find((commune, &indicator.id))
                        .filter(iw::reached.eq(was)),
                )
                .set((
                    iw::reached.eq(reached),
                    iw::percent.eq(percent),
                    iw::checked_at.eq(now),
                ))
                .execute(conn)?
                    == 1
                    && was != reached;
                if flipped {
                    webhooks::enqueue(
                        conn,
                        EVENT,
                        Some(commune),
                        serde_json::json!({
                            "indicator": indicator.code,
                            "name_vi": indicator.name_vi,
                            "name_en": indicator.name_en,
                            "direction": if reached { "reached" } else { "fell_below" },
                            "target_percent": target,
                            "percent": percent,
                            "numerator": figure.numerator,
                            "denominator": figure.denominator,
                            "period": period.label(),
                            "as_of": today,
                        }),
                    )?;
                }
                Ok(flipped)
            }
        }
    });
    match result {
        // Another instance recorded the first standing at the same moment.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        other => other,
    }
}
