use diesel::prelude::*;

use super::schema::audit_events;
use super::DbConnection;

/// One entry of the append-only audit log.
#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
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

pub fn record(conn: &mut DbConnection, event: &NewAuditEvent<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values(event)
        .execute(conn)
        .map(|_| ())
}
