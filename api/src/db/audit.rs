use diesel::prelude::*;

use super::schema::audit_events;
use super::DbConnection;

/// One entry of the append-only audit log.
#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewAuditEvent<'a> {
    pub occurred_at: chrono::NaiveDateTime,
    pub actor_user_id: Option<&'a str>,
    /// Who acted, readable without a join: a username, `cli`, or `anonymous`.
    pub actor_label: &'a str,
    /// What happened, e.g. `login`, `login_failed`, `user_created`.
    pub action: &'a str,
    pub object_type: Option<&'a str>,
    pub object_id: Option<&'a str>,
    pub commune_id: Option<&'a str>,
    pub client_addr: Option<&'a str>,
    /// JSON object with the specifics.
    pub details: String,
}

impl<'a> NewAuditEvent<'a> {
    /// An event happening now, with no object; fill the rest with struct-update syntax.
    pub fn new(action: &'a str, actor_user_id: Option<&'a str>, actor_label: &'a str) -> Self {
        NewAuditEvent {
            occurred_at: super::now(),
            actor_user_id,
            actor_label,
            action,
            object_type: None,
            object_id: None,
            commune_id: None,
            client_addr: None,
            details: "{}".to_owned(),
        }
    }
}

pub fn record(conn: &mut DbConnection, event: &NewAuditEvent<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values(event)
        .execute(conn)
        .map(|_| ())
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i64,
    pub occurred_at: chrono::NaiveDateTime,
    pub actor_user_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub commune_id: Option<String>,
    pub client_addr: Option<String>,
    pub details: String,
}

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor_user_id: Option<String>,
    pub object_id: Option<String>,
    pub commune_id: Option<String>,
    pub since: Option<chrono::NaiveDateTime>,
    pub until: Option<chrono::NaiveDateTime>,
}

/// Newest first; `before` is the id of the last event of the previous page.
pub fn list(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AuditEvent>> {
    let mut q = audit_events::table
        .select(AuditEvent::as_select())
        .into_boxed();
    if let Some(a) = &filter.action {
        q = q.filter(audit_events::action.eq(a.clone()));
    }
    if let Some(a) = &filter.actor_user_id {
        q = q.filter(audit_events::actor_user_id.eq(a.clone()));
    }
    if let Some(o) = &filter.object_id {
        q = q.filter(audit_events::object_id.eq(o.clone()));
    }
    if let Some(c) = &filter.commune_id {
        q = q.filter(audit_events::commune_id.eq(c.clone()));
    }
    if let Some(s) = filter.since {
        q = q.filter(audit_events::occurred_at.ge(s));
    }
    if let Some(u) = filter.until {
        q = q.filter(audit_events::occurred_at.lt(u));
    }
    if let Some(b) = before {
        q = q.filter(audit_events::id.lt(b));
    }
    q.order(audit_events::id.desc()).limit(limit).load(conn)
}

/// Who did something, as the audit log names them: storage needs no more of the caller.
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    /// The user's (or API key's) id.
    pub id: &'a str,
    /// A username, `cli`, or `anonymous`.
    pub label: &'a str,
}

/// Records what an authenticated caller did to an object.
pub fn by_user<'a>(
    conn: &mut DbConnection,
    actor: impl Into<Actor<'a>>,
    action: &str,
    object_type: &str,
    object_id: &str,
    commune_id: Option<&str>,
    details: serde_json::Value,
) -> QueryResult<()> {
    let actor = actor.into();
    record(
        conn,
        &NewAuditEvent {
            object_type: Some(object_type),
            object_id: Some(object_id),
            commune_id,
            details: details.to_string(),
            ..NewAuditEvent::new(action, Some(actor.id), actor.label)
        },
    )
}
