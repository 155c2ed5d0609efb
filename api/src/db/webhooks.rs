//! Webhook subscriptions and their delivery outbox (migration `000013_webhooks`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{webhook_deliveries as d, webhooks as w};
use super::DbConnection;

/// The events an integration may subscribe to.
pub const EVENTS: [&str; 4] = [
    "report.approved",
    "difficulty.opened",
    "records.synced",
    "indicator.threshold_crossed",
];

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = w)]
#[diesel(treat_none_as_default_value = false)]
pub struct Webhook {
    pub id: String,
    pub name: String,
    pub url: String,
    pub secret: String,
    pub events: String,
    pub commune_id: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

impl Webhook {
    pub fn event_list(&self) -> Vec<String> {
        self.events.split_whitespace().map(str::to_owned).collect()
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = d)]
#[diesel(treat_none_as_default_value = false)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub event: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, hook: &Webhook) -> QueryResult<()> {
    diesel::insert_into(w::table)
        .values(hook)
        .execute(conn)
        .map(|_| ())
}

pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<Webhook>> {
    w::table
        .filter(w::deleted_at.is_null())
        .order(w::created_at.desc())
        .select(Webhook::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Webhook>> {
    w::table
        .find(id)
        .filter(w::deleted_at.is_null())
        .select(Webhook::as_select())
        .get_result(conn)
        .optional()
}

/// Unsubscribes: no new deliveries; pending ones are given up (`dead`).
pub fn delete(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    let n = diesel::update(w::table.find(id).filter(w::deleted_at.is_null()))
        .set(w::deleted_at.eq(at))
        .execute(conn)?;
    diesel::update(
        d::table
            .filter(d::webhook_id.eq(id))
            .filter(d::status.eq("pending")),
    )
    .set((
        d::status.eq("dead"),
        d::last_error.eq("the webhook was deleted"),
    ))
    .execute(conn)?;
    Ok(n)
}

/// Live webhooks subscribed to `event`.
pub fn subscribed(conn: &mut DbConnection, event: &str) -> QueryResult<Vec<Webhook>> {
    Ok(list(conn)?
        .into_iter()
        .filter(|h| h.event_list().iter().any(|e| e == event))
        .collect())
}

/// Queues `event` for every live webhook that wants it (and the commune, when it names one), inside
/// the caller's transaction: the deliveries exist exactly when the change they announce does.
pub fn enqueue(
    conn: &mut DbConnection,
    event: &str,
    commune_id: Option<&str>,
    data: serde_json::Value,
) -> QueryResult<usize> {
    let hooks: Vec<Webhook> = w::table
        .filter(w::deleted_at.is_null())
        .select(Webhook::as_select())
        .load(conn)?;
    let now = super::now();
    let mut queued = 0;
    for hook in hooks.iter().filter(|h| {
        h.event_list().iter().any(|e| e == event)
            && h.commune_id
                .as_deref()
                .is_none_or(|c| Some(c) == commune_id)
    }) {
        let id = super::new_id();
        let payload = serde_json::json!({
            "id": id,
            "event": event,
            "created_at": chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(now, chrono::Utc),
            "commune_id": commune_id,
            "data": data,
        });
        diesel::insert_into(d::table)
            .values(&Delivery {
                id,
                webhook_id: hook.id.clone(),
                event: event.to_owned(),
                payload: payload.to_string(),
                status: "pending".into(),
                attempts: 0,
                next_attempt_at: now,
                locked_until: None,
                last_status: None,
                last_error: None,
                created_at: now,
                delivered_at: None,
            })
            .execute(conn)?;
        queued += 1;
    }
    Ok(queued)
}

/// Pending deliveries due at `now` that no worker holds, oldest first.
pub fn due(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<Delivery>> {
    d::table
        .filter(d::status.eq("pending"))
        .filter(d::next_attempt_at.le(now))
        .filter(d::locked_until.is_null().or(d::locked_until.lt(now)))
        .order(d::next_attempt_at)
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)
}

/// How many deliveries are waiting to be sent (`pending`, whether due yet or not) and how many
/// were given up (`dead`), for `/metrics`. Both counts are range scans of the due index.
pub fn backlog(conn: &mut DbConnection) -> QueryResult<(i64, i64)> {
    let count = |conn: &mut DbConnection, status: &str| {
        d::table
            .filter(d::status.eq(status.to_owned()))
            .count()
            .get_result::<i64>(conn)
    };
    Ok((count(conn, "pending")?, count(conn, "dead")?))
}

/// Takes a delivery for one attempt until `until`; false when another worker took it first.
pub fn claim(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        d::table
            .find(id)
            .filter(d::status.eq("pending"))
            .filter(d::locked_until.is_null().or(d::locked_until.lt(now))),
    )
    .set(d::locked_until.eq(until))
    .execute(conn)?;
    Ok(n == 1)
}

/// The outcome of one attempt.
pub struct Attempt<'a> {
    pub id: &'a str,
    pub delivered: bool,
    pub status: Option<i32>,
    pub error: Option<&'a str>,
    /// When to try again; `None` after the last try (the delivery becomes `dead`).
    pub retry_at: Option<NaiveDateTime>,
    pub at: NaiveDateTime,
}

pub fn finish_attempt(conn: &mut DbConnection, a: &Attempt<'_>) -> QueryResult<()> {
    let status = match (a.delivered, a.retry_at) {
        (true, _) => "delivered",
        (false, Some(_)) => "pending",
        (false, None) => "dead",
    };
    diesel::update(d::table.find(a.id))
        .set((
            d::status.eq(status),
            d::attempts.eq(d::attempts + 1),
            d::next_attempt_at.eq(a.retry_at.unwrap_or(a.at)),
            d::locked_until.eq(None::<NaiveDateTime>),
            d::last_status.eq(a.status),
            d::last_error.eq(a.error),
            d::delivered_at.eq(a.delivered.then_some(a.at)),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn find_delivery(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Delivery>> {
    d::table
        .find(id)
        .select(Delivery::as_select())
        .get_result(conn)
        .optional()
}

pub fn deliveries(
    conn: &mut DbConnection,
    webhook_id: &str,
    status: Option<&str>,
) -> QueryResult<Vec<Delivery>> {
    let mut q = d::table
        .filter(d::webhook_id.eq(webhook_id))
        .order(d::created_at.desc())
        .limit(500)
        .select(Delivery::as_select())
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(d::status.eq(s.to_owned()));
    }
    q.load(conn)
}

/// Sends a dead or delivered delivery again: pending, due now, with a fresh count of attempts.
pub fn replay(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(d::table.find(id).filter(d::status.ne("pending")))
        .set((
            d::status.eq("pending"),
            d::attempts.eq(0),
            d::next_attempt_at.eq(now),
            d::locked_until.eq(None::<NaiveDateTime>),
            d::delivered_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}
