//! Queries of the sync protocol: receipts, field records, devices, conflicts and the change log.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::schema::{
    assistance_items, assistance_records, assistance_residents, changes, communications, devices,
    difficulties, sync_conflicts, sync_receipts,
};
use super::DbConnection;

// ---------------------------------------------------------------- receipts

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = sync_receipts)]
pub struct Receipt {
    pub id: String,
    pub kind: String,
    pub body_hash: String,
    pub version: i64,
    pub status: String,
    /// Who stored it, from which device.
    pub user_id: String,
    pub device_id: String,
}

pub fn find_receipt(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Receipt>> {
    sync_receipts::table
        .find(id)
        .select(Receipt::as_select())
        .get_result(conn)
        .optional()
}

/// The receipts stored under any of these keys.
pub fn receipts_by_ids(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<Receipt>> {
    sync_receipts::table
        .filter(sync_receipts::id.eq_any(ids))
        .select(Receipt::as_select())
        .load(conn)
}

/// Receipts of records applied together: (key, body hash) each, one multi-row statement.
pub fn insert_receipts(
    conn: &mut DbConnection,
    kind: &str,
    keys_and_hashes: &[(String, String)],
    user_id: &str,
    device_id: &str,
) -> QueryResult<()> {
    let now = super::now();
    let rows: Vec<_> = keys_and_hashes
        .iter()
        .map(|(key, hash)| {
            (
                sync_receipts::id.eq(key.as_str()),
                sync_receipts::kind.eq(kind),
                sync_receipts::body_hash.eq(hash.as_str()),
                sync_receipts::version.eq(1i64),
                sync_receipts::status.eq("applied"),
                sync_receipts::user_id.eq(user_id),
                sync_receipts::device_id.eq(device_id),
                sync_receipts::received_at.eq(now),
            )
        })
        .collect();
    for chunk in rows.chunks(BATCH_ROWS) {
        crate::per_backend!(conn, |c| diesel::insert_into(sync_receipts::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Rows a multi-row insert takes at once: well under SQLite's 32,766 and PostgreSQL's 65,535 binds.
pub const BATCH_ROWS: usize = 500;

#[allow(clippy::too_many_arguments)]
pub fn insert_receipt(
    conn: &mut DbConnection,
    id: &str,
    kind: &str,
    body_hash: &str,
    version: i64,
    status: &str,
    user_id: &str,
    device_id: &str,
) -> QueryResult<()> {
    diesel::insert_into(sync_receipts::table)
        .values((
            sync_receipts::id.eq(id),
            sync_receipts::kind.eq(kind),
            sync_receipts::body_hash.eq(body_hash),
            sync_receipts::version.eq(version),
            sync_receipts::status.eq(status),
            sync_receipts::user_id.eq(user_id),
            sync_receipts::device_id.eq(device_id),
            sync_receipts::received_at.eq(super::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

// ---------------------------------------------------------------- field records

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = assistance_records)]
#[diesel(treat_none_as_default_value = false)]
pub struct AssistanceRecord {
    pub id: String,
    pub commune_id: String,
    pub village_id: String,
    pub household_id: String,
    pub author_id: String,
    pub device_id: String,
    pub occurred_at: NaiveDateTime,
    pub channel: String,
    pub notes: Option<String>,
    pub follow_up_on: Option<NaiveDate>,
    pub supersedes: Option<String>,
    pub superseded_by: Option<String>,
    pub received_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = assistance_items)]
#[diesel(treat_none_as_default_value = false)]
pub struct AssistanceItem {
    pub record_id: String,
    pub position: i32,
    pub service_code: String,
    pub outcome: String,
    pub note: Option<String>,
}

pub fn insert_record(
    conn: &mut DbConnection,
    r: &AssistanceRecord,
    items: &[AssistanceItem],
    residents: &[String],
) -> QueryResult<()> {
    diesel::insert_into(assistance_records::table)
        .values(r)
        .execute(conn)?;
    for item in items {
        diesel::insert_into(assistance_items::table)
            .values(item)
            .execute(conn)?;
    }
    for resident in residents {
        diesel::insert_into(assistance_residents::table)
            .values((
                assistance_residents::record_id.eq(&r.id),
                assistance_residents::resident_id.eq(resident),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Inserts records with their items and the residents they helped. One record goes row by row
/// (statements diesel keeps prepared); several go in a multi-row statement per table.
pub fn insert_records(
    conn: &mut DbConnection,
    records: &[&AssistanceRecord],
    items: &[&AssistanceItem],
    helped: &[(&str, &str)],
) -> QueryResult<()> {
    if let [one] = records {
        let items: Vec<AssistanceItem> = items.iter().map(|i| (*i).clone()).collect();
        let residents: Vec<String> = helped.iter().map(|(_, r)| (*r).to_owned()).collect();
        return insert_record(conn, one, &items, &residents);
    }
    for chunk in records.chunks(BATCH_ROWS) {
        crate::per_backend!(conn, |c| diesel::insert_into(assistance_records::table)
            .values(chunk.to_vec())
            .execute(c))?;
    }
    for chunk in items.chunks(BATCH_ROWS) {
        crate::per_backend!(conn, |c| diesel::insert_into(assistance_items::table)
            .values(chunk.to_vec())
            .execute(c))?;
    }
    let helped: Vec<_> = helped
        .iter()
        .map(|(record, resident)| {
            (
                assistance_residents::record_id.eq(*record),
                assistance_residents::resident_id.eq(*resident),
            )
        })
        .collect();
    for chunk in helped.chunks(BATCH_ROWS) {
        crate::per_backend!(conn, |c| diesel::insert_into(assistance_residents::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

pub fn find_record(conn: &mut DbConnection, id: &str) -> QueryResult<Option<AssistanceRecord>> {
    assistance_records::table
        .find(id)
        .select(AssistanceRecord::as_select())
        .get_result(conn)
        .optional()
}

pub fn mark_superseded(conn: &mut DbConnection, id: &str, by: &str) -> QueryResult<usize> {
    diesel::update(
        assistance_records::table
            .find(id)
            .filter(assistance_records::superseded_by.is_null()),
    )
    .set(assistance_records::superseded_by.eq(by))
    .execute(conn)
}

pub fn items_of(
    conn: &mut DbConnection,
    record_ids: &[String],
) -> QueryResult<Vec<AssistanceItem>> {
    assistance_items::table
        .filter(assistance_items::record_id.eq_any(record_ids))
        .order((assistance_items::record_id, assistance_items::position))
        .select(AssistanceItem::as_select())
        .load(conn)
}

pub fn residents_of_records(
    conn: &mut DbConnection,
    record_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    assistance_residents::table
        .filter(assistance_residents::record_id.eq_any(record_ids))
        .select((
            assistance_residents::record_id,
            assistance_residents::resident_id,
        ))
        .order((
            assistance_residents::record_id,
            assistance_residents::resident_id,
        ))
        .load(conn)
}

/// Live (not superseded) records of a household that mention a service, with the residents helped:
/// (record, outcome, resident ids).
pub fn live_outcomes(
    conn: &mut DbConnection,
    household_id: &str,
    service_code: &str,
) -> QueryResult<Vec<(AssistanceRecord, String)>> {
    // Two steps on purpose: joined, SQLite's planner starts from the service index and walks every
    // item of the service in the commune for each record pushed.
    let records: Vec<AssistanceRecord> = assistance_records::table
        .filter(assistance_records::household_id.eq(household_id))
        .filter(assistance_records::superseded_by.is_null())
        .select(AssistanceRecord::as_select())
        .order((assistance_records::occurred_at, assistance_records::id))
        .load(conn)?;
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    // The service is filtered here, not in SQL, for the same reason: given `service_code = ?`,
    // SQLite prefers the service index to the primary key.
    let mut outcomes: std::collections::HashMap<String, String> = assistance_items::table
        .filter(assistance_items::record_id.eq_any(&ids))
        .select((
            assistance_items::record_id,
            assistance_items::service_code,
            assistance_items::outcome,
        ))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .filter(|(_, code, _)| code == service_code)
        .map(|(id, _, outcome)| (id, outcome))
        .collect();
    Ok(records
        .into_iter()
        .filter_map(|r| outcomes.remove(&r.id).map(|o| (r, o)))
        .collect())
}

#[derive(Clone, Debug, Default)]
pub struct RecordFilter {
    pub household_id: Option<String>,
    pub village_ids: Option<Vec<String>>,
    pub commune_id: Option<String>,
    pub author_id: Option<String>,
    pub include_superseded: bool,
}

pub fn list_records(
    conn: &mut DbConnection,
    f: &RecordFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AssistanceRecord>> {
    let mut q = assistance_records::table
        .select(AssistanceRecord::as_select())
        .into_boxed();
    if let Some(h) = &f.household_id {
        q = q.filter(assistance_records::household_id.eq(h.clone()));
    }
    if let Some(v) = &f.village_ids {
        q = q.filter(assistance_records::village_id.eq_any(v.clone()));
    }
    if let Some(c) = &f.commune_id {
        q = q.filter(assistance_records::commune_id.eq(c.clone()));
    }
    if let Some(a) = &f.author_id {
        q = q.filter(assistance_records::author_id.eq(a.clone()));
    }
    if !f.include_superseded {
        q = q.filter(assistance_records::superseded_by.is_null());
    }
    if let Some(a) = after {
        q = q.filter(assistance_records::id.gt(a.to_owned()));
    }
    q.order(assistance_records::id).limit(limit).load(conn)
}

pub fn records_by_ids(
    conn: &mut DbConnection,
    ids: &[String],
) -> QueryResult<Vec<AssistanceRecord>> {
    assistance_records::table
        .filter(assistance_records::id.eq_any(ids))
        .select(AssistanceRecord::as_select())
        .load(conn)
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = communications)]
#[diesel(treat_none_as_default_value = false)]
pub struct Communication {
    pub id: String,
    pub commune_id: String,
    pub village_id: Option<String>,
    pub author_id: String,
    pub device_id: String,
    pub occurred_at: NaiveDateTime,
    pub channel: String,
    /// JSON array of service codes.
    pub topics: String,
    pub reach: i32,
    pub title: Option<String>,
    pub link: Option<String>,
    pub notes: Option<String>,
    pub received_at: NaiveDateTime,
}

pub fn insert_communication(conn: &mut DbConnection, c: &Communication) -> QueryResult<()> {
    diesel::insert_into(communications::table)
        .values(c)
        .execute(conn)
        .map(|_| ())
}

pub fn find_communication(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Communication>> {
    communications::table
        .find(id)
        .select(Communication::as_select())
        .get_result(conn)
        .optional()
}

pub fn list_communications(
    conn: &mut DbConnection,
    commune_id: Option<&str>,
    villages: Option<&[String]>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Communication>> {
    let mut q = communications::table
        .select(Communication::as_select())
        .into_boxed();
    if let Some(c) = commune_id {
        q = q.filter(communications::commune_id.eq(c.to_owned()));
    }
    if let Some(v) = villages {
        q = q.filter(
            communications::village_id
                .eq_any(v.to_vec())
                .or(communications::village_id.is_null()),
        );
    }
    if let Some(a) = after {
        q = q.filter(communications::id.gt(a.to_owned()));
    }
    q.order(communications::id).limit(limit).load(conn)
}

pub fn communications_by_ids(
    conn: &mut DbConnection,
    ids: &[String],
) -> QueryResult<Vec<Communication>> {
    communications::table
        .filter(communications::id.eq_any(ids))
        .select(Communication::as_select())
        .load(conn)
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = difficulties)]
#[diesel(treat_none_as_default_value = false)]
pub struct Difficulty {
    pub id: String,
    pub commune_id: String,
    pub village_id: Option<String>,
    pub author_id: String,
    pub device_id: String,
    pub raised_at: NaiveDateTime,
    pub title: String,
    pub description: String,
    /// JSON array of service codes.
    pub service_codes: String,
    pub status: String,
    pub assigned_department: Option<String>,
    pub received_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The first answer from the office side: the response time runs from `received_at` to it.
    pub first_answered_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub closed_by: Option<String>,
}

pub fn insert_difficulty(conn: &mut DbConnection, d: &Difficulty) -> QueryResult<()> {
    diesel::insert_into(difficulties::table)
        .values(d)
        .execute(conn)
        .map(|_| ())
}

pub fn find_difficulty(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Difficulty>> {
    difficulties::table
        .find(id)
        .select(Difficulty::as_select())
        .get_result(conn)
        .optional()
}

pub fn difficulties_by_ids(
    conn: &mut DbConnection,
    ids: &[String],
) -> QueryResult<Vec<Difficulty>> {
    difficulties::table
        .filter(difficulties::id.eq_any(ids))
        .select(Difficulty::as_select())
        .load(conn)
}

// ---------------------------------------------------------------- devices

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = devices)]
pub struct Device {
    pub id: String,
    pub user_id: String,
    pub commune_id: Option<String>,
    pub first_seen_at: NaiveDateTime,
    pub last_push_at: Option<NaiveDateTime>,
    pub last_pull_at: Option<NaiveDateTime>,
    pub records_applied: i64,
    pub records_rejected: i64,
    pub last_error: Option<String>,
}

/// A pull writes the device's `last_pull_at` only when the one stored is older than this: a phone
/// that polls does not turn every read into a write (on SQLite, a commit and an fsync each).
pub const PULL_SEEN_EVERY_SECONDS: i64 = 60;

/// Notes a push or a pull from a device.
pub fn touch_device(
    conn: &mut DbConnection,
    device_id: &str,
    user_id: &str,
    commune_id: Option<&str>,
    push: Option<(i64, i64, Option<&str>)>,
) -> QueryResult<()> {
    let now = super::now();
    let target = devices::table
        .filter(devices::id.eq(device_id))
        .filter(devices::user_id.eq(user_id));
    let last_pull: Option<Option<NaiveDateTime>> = target
        .select(devices::last_pull_at)
        .get_result(conn)
        .optional()?;
    match (&push, last_pull) {
        (None, Some(Some(at))) if now - at < chrono::Duration::seconds(PULL_SEEN_EVERY_SECONDS) => {
            return Ok(());
        }
        (_, None) => {
            diesel::insert_into(devices::table)
                .values((
                    devices::id.eq(device_id),
                    devices::user_id.eq(user_id),
                    devices::commune_id.eq(commune_id),
                    devices::first_seen_at.eq(now),
                    devices::records_applied.eq(0),
                    devices::records_rejected.eq(0),
                ))
                .execute(conn)?;
        }
        _ => {}
    }
    match push {
        Some((applied, rejected, error)) => diesel::update(target)
            .set((
                devices::last_push_at.eq(now),
                devices::records_applied.eq(devices::records_applied + applied),
                devices::records_rejected.eq(devices::records_rejected + rejected),
                devices::last_error.eq(error),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set(devices::last_pull_at.eq(now))
            .execute(conn)?,
    };
    Ok(())
}

pub fn list_devices(
    conn: &mut DbConnection,
    user_ids: Option<&[String]>,
    commune_id: Option<&str>,
) -> QueryResult<Vec<Device>> {
    let mut q = devices::table.select(Device::as_select()).into_boxed();
    if let Some(u) = user_ids {
        q = q.filter(devices::user_id.eq_any(u.to_vec()));
    }
    if let Some(c) = commune_id {
        q = q.filter(devices::commune_id.eq(c.to_owned()));
    }
    q.order((devices::user_id, devices::id)).load(conn)
}

// ---------------------------------------------------------------- conflicts

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = sync_conflicts)]
#[diesel(treat_none_as_default_value = false)]
pub struct Conflict {
    pub id: String,
    pub kind: String,
    pub object_id: String,
    pub commune_id: String,
    pub village_id: String,
    pub user_id: String,
    pub device_id: String,
    pub base_version: i64,
    pub server_version: i64,
    pub client_data: String,
    pub server_data: String,
    pub status: String,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub resolved_at: Option<NaiveDateTime>,
}

pub fn insert_conflict(conn: &mut DbConnection, c: &Conflict) -> QueryResult<()> {
    diesel::insert_into(sync_conflicts::table)
        .values(c)
        .execute(conn)
        .map(|_| ())
}

pub fn find_conflict(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Conflict>> {
    sync_conflicts::table
        .find(id)
        .select(Conflict::as_select())
        .get_result(conn)
        .optional()
}

pub fn list_conflicts(
    conn: &mut DbConnection,
    villages: Option<&[String]>,
    commune_id: Option<&str>,
    status: Option<&str>,
) -> QueryResult<Vec<Conflict>> {
    let mut q = sync_conflicts::table
        .select(Conflict::as_select())
        .into_boxed();
    if let Some(v) = villages {
        q = q.filter(sync_conflicts::village_id.eq_any(v.to_vec()));
    }
    if let Some(c) = commune_id {
        q = q.filter(sync_conflicts::commune_id.eq(c.to_owned()));
    }
    if let Some(s) = status {
        q = q.filter(sync_conflicts::status.eq(s.to_owned()));
    }
    q.order(sync_conflicts::created_at.desc())
        .limit(500)
        .load(conn)
}

pub fn resolve_conflict(
    conn: &mut DbConnection,
    id: &str,
    resolution: &str,
    by: &str,
) -> QueryResult<usize> {
    diesel::update(
        sync_conflicts::table
            .find(id)
            .filter(sync_conflicts::status.eq("open")),
    )
    .set((
        sync_conflicts::status.eq("resolved"),
        sync_conflicts::resolution.eq(resolution),
        sync_conflicts::resolved_by.eq(by),
        sync_conflicts::resolved_at.eq(super::now()),
    ))
    .execute(conn)
}

// ---------------------------------------------------------------- change log

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = changes)]
pub struct ChangeRow {
    pub seq: i64,
    pub tx: i64,
    pub kind: String,
    pub object_id: String,
    pub op: String,
}

/// Whose changes a pull returns.
#[derive(Clone, Debug)]
pub enum PullScope {
    All,
    Commune(String),
    Villages {
        commune_id: Option<String>,
        village_ids: Vec<String>,
    },
}

/// Changes after `(tx, seq)` in the caller's scope, in commit-safe order (see the migration). With
/// `own_records_of`, difficulties only of that author, as a phone pulls them (the team's visits
/// and communications reach every member of the village); `kinds` narrows to some kinds of object.
pub fn changes_after(
    conn: &mut DbConnection,
    scope: &PullScope,
    own_records_of: Option<&str>,
    kinds: Option<&[String]>,
    after: (i64, i64),
    limit: i64,
) -> QueryResult<Vec<ChangeRow>> {
    let (tx, seq) = after;
    let mut q = changes::table
        .select(ChangeRow::as_select())
        .filter(
            changes::tx
                .gt(tx)
                .or(changes::tx.eq(tx).and(changes::seq.gt(seq))),
        )
        .into_boxed();
    if let Some(user_id) = own_records_of {
        q = q.filter(
            changes::kind
                .ne("difficulty")
                .or(changes::user_id.eq(user_id.to_owned())),
        );
    }
    if let Some(kinds) = kinds {
        q = q.filter(changes::kind.eq_any(kinds.to_vec()));
    }
    match scope {
        PullScope::All => {}
        PullScope::Commune(c) => {
            q = q.filter(
                changes::commune_id
                    .eq(c.clone())
                    .or(changes::commune_id.is_null()),
            );
        }
        PullScope::Villages {
            commune_id,
            village_ids,
        } => {
            let commune_level = changes::village_id.is_null().and(
                changes::commune_id
                    .is_null()
                    .or(changes::commune_id.eq(commune_id.clone().unwrap_or_default())),
            );
            q = q.filter(
                changes::village_id
                    .eq_any(village_ids.clone())
                    .or(commune_level),
            );
        }
    }
    if let DbConnection::Postgresql(_) = conn {
        // Only transactions that ended before this snapshot: nothing older can still appear.
        q = q.filter(diesel::dsl::sql::<Bool>(
            "changes.tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
        ));
    }
    q.order((changes::tx, changes::seq)).limit(limit).load(conn)
}

/// The position just before the first change (in read order) made at or after `since`: every
/// later change follows it, and a few older ones of later transactions may come too.
// The first of many rows: `LIMIT` is meant here (once per pull from a date, not per record).
#[allow(clippy::disallowed_methods)]
pub fn position_before(conn: &mut DbConnection, since: NaiveDateTime) -> QueryResult<(i64, i64)> {
    let first: Option<(i64, i64)> = changes::table
        .filter(changes::changed_at.ge(since))
        .select((changes::tx, changes::seq))
        .order((changes::tx, changes::seq))
        .first(conn)
        .optional()?;
    match first {
        Some((tx, seq)) => Ok((tx, seq - 1)),
        // Nothing since: start after the last change.
        None => Ok(changes::table
            .select((changes::tx, changes::seq))
            .order((changes::tx.desc(), changes::seq.desc()))
            .first(conn)
            .optional()?
            .unwrap_or((-1, 0))),
    }
}
