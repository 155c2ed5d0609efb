//! The offline sync protocol (DESIGN §4 Sync, §5).
//!
//! Conventions:
//! - Every record a phone creates carries its own UUID. A push applies each record in its own savepoint
//!   inside one transaction per batch, committed durably before the answer, so valid records are kept
//!   even when others in the batch fail.
//! - An applied record leaves a receipt (id, body hash) forever: the same id with the same body is a
//!   `duplicate` and gets its original version back; the same id with another body is a `conflict`.
//!   Rejections leave no receipt, so a record rejected for a reason that later goes away (say, its
//!   household arriving in a later batch) can still be applied.
//! - A household or resident edit carries the version it was based on; a stale edit never overwrites:
//!   it becomes a `conflict` with both versions, kept for the village leader to resolve.
//! - A batch of new visits only (the phones' usual push) is checked against one read of its receipts,
//!   households, residents and the catalogue and written with multi-row inserts in one savepoint;
//!   every other batch, or one whose set-wise write fails, goes record by record. Both give the
//!   same answers (`push_visits`, `push_each`).
//! - The pull reads the change log in commit-safe order (see the `sync` migration) and sends the latest
//!   state of each changed object, or a tombstone.

pub mod adoption;
pub mod kinds;
pub mod pull;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::db::{self, DbConnection};
use crate::error::{ApiError, FieldError};

/// What a pushed record is. The wire keeps `kind` a string so that one unknown kind is one
/// rejected record, never a refused batch; it is parsed once, here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    AssistanceRecord,
    Communication,
    Difficulty,
    Household,
    Resident,
}

impl RecordKind {
    pub const ALL: [RecordKind; 5] = [
        RecordKind::AssistanceRecord,
        RecordKind::Communication,
        RecordKind::Difficulty,
        RecordKind::Household,
        RecordKind::Resident,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::AssistanceRecord => "assistance_record",
            RecordKind::Communication => "communication",
            RecordKind::Difficulty => "difficulty",
            RecordKind::Household => "household",
            RecordKind::Resident => "resident",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// What a pushed record asks for, parsed once like [`RecordKind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordOp {
    Create,
    Update,
    Delete,
}

impl RecordOp {
    pub const ALL: [RecordOp; 3] = [RecordOp::Create, RecordOp::Update, RecordOp::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordOp::Create => "create",
            RecordOp::Update => "update",
            RecordOp::Delete => "delete",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == raw)
    }
}

impl PushRecord {
    pub fn kind(&self) -> Option<RecordKind> {
        RecordKind::parse(&self.kind)
    }

    pub fn op(&self) -> Option<RecordOp> {
        RecordOp::parse(&self.op)
    }
}

/// Most records in one push.
pub const MAX_BATCH: usize = 500;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// Stable id of the phone's installation (1–64 characters).
    #[schema(example = "a3f0c2e4-pwa")]
    pub device_id: String,
    /// Records from the outbox, oldest first (households before the visits that mention them).
    pub records: Vec<PushRecord>,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct PushRecord {
    /// `assistance_record`, `communication`, `difficulty`, `household` or `resident`.
    #[schema(example = "assistance_record")]
    pub kind: String,
    /// The record's UUID, made on the phone.
    pub id: String,
    /// `create`, `update` or `delete` (field records are only created).
    #[schema(example = "create")]
    pub op: String,
    /// For updates and deletes of households and residents: the version the edit was made on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_version: Option<i64>,
    /// The record itself; its shape depends on `kind` (see the API description).
    #[schema(value_type = Object)]
    #[serde(default)]
    pub data: serde_json::Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PushStatus {
    /// Stored now.
    Applied,
    /// Stored before (a replay); clear it from the outbox.
    Duplicate,
    /// Not stored: the id was used with another body, or an edit was based on an old version.
    Conflict,
    /// Not stored: invalid; see `error`. Keep it aside and show the reason.
    Rejected,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordError {
    /// Stable code, e.g. `validation_failed`, `household_not_found`, `id_reused`, `stale_version`.
    pub code: String,
    /// Explanation (English); the app shows its own Vietnamese text for the code.
    pub message: String,
    /// Invalid fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushResult {
    /// The record's id.
    pub id: String,
    pub status: PushStatus,
    /// Server version of the object (1 for field records).
    pub version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RecordError>,
    /// For a stale edit: the object as the server has it now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub server: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushResponse {
    /// One result per record, in the order sent.
    pub results: Vec<PushResult>,
}

/// Why one record was not applied.
#[derive(Debug)]
pub enum Refusal {
    Rejected {
        code: &'static str,
        message: String,
        fields: Vec<FieldError>,
    },
    /// A stale edit: recorded for review; the object as the server has it.
    Stale {
        server_version: i64,
        server: serde_json::Value,
    },
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for Refusal {
    fn from(e: diesel::result::Error) -> Self {
        Refusal::Db(e)
    }
}

impl Refusal {
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid", fields.len()),
        };
        Refusal::Rejected {
            code: "validation_failed",
            message,
            fields,
        }
    }

    pub fn reject(code: &'static str, message: impl Into<String>) -> Self {
        Refusal::Rejected {
            code,
            message: message.into(),
            fields: vec![],
        }
    }
}

/// The hash that decides whether a replay is the same record: of kind, op, base version and data,
/// with object keys sorted (serde_json's map is ordered), so key order on the phone does not matter.
pub fn body_hash(r: &PushRecord) -> String {
    let canonical = serde_json::json!({ "kind": r.kind, "op": r.op, "base_version": r.base_version, "data": r.data });
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The answer to a record whose id is not a UUID.
fn invalid_id(r: &PushRecord) -> PushResult {
    rejected(
        &r.id,
        "invalid_id",
        "The id must be a UUID made on the device.".into(),
        vec![],
    )
}

fn rejected(id: &str, code: &str, message: String, fields: Vec<FieldError>) -> PushResult {
    PushResult {
        id: id.to_owned(),
        status: PushStatus::Rejected,
        version: None,
        error: Some(RecordError {
            code: code.into(),
            message,
            fields,
        }),
        server: None,
    }
}

/// The key a record's receipt is kept under. A create (and every field record) is keyed by its id, so
/// the same id with another body is caught. An edit or a deletion names an existing object, which
/// many edits share: its receipt is keyed by the object, the operation, the version it was based on
/// and the body, so only an exact replay finds it.
fn receipt_key(r: &PushRecord, id: &str, hash: &str) -> String {
    match r.op() {
        Some(RecordOp::Update | RecordOp::Delete) => format!(
            "{id}/{}@{}#{hash}",
            r.op,
            r.base_version.map(|v| v.to_string()).unwrap_or_default()
        ),
        _ => id.to_owned(),
    }
}

/// The answer for an id that another user's device already used: the same whatever that record is,
/// its kind, body, version or state, so a push cannot probe what another scope holds.
fn id_taken(id: &str) -> PushResult {
    PushResult {
        id: id.to_owned(),
        status: PushStatus::Conflict,
        version: None,
        error: Some(RecordError {
            code: "id_reused".into(),
            message: "A different record was already stored with this id.".into(),
            fields: vec![],
        }),
        server: None,
    }
}

/// The result a receipt stands for, when the same id comes again: a replay from the user who
/// stored it; another user's create meets [`id_taken`].
fn replay_result(id: &str, receipt: &db::sync::Receipt, hash: &str, auth: &AuthUser) -> PushResult {
    // A create's id stored by another user is theirs, whatever device the push names (a device id
    // is the client's word). An edit's receipt is keyed by the object, base version and body, so
    // the same edit by two users is one edit.
    if receipt.user_id != auth.id && !receipt.id.contains('/') {
        return id_taken(id);
    }
    if receipt.body_hash != hash {
        return PushResult {
            id: id.to_owned(),
            status: PushStatus::Conflict,
            version: Some(receipt.version),
            error: Some(RecordError {
                code: "id_reused".into(),
                message: "A different record was already stored with this id.".into(),
                fields: vec![],
            }),
            server: None,
        };
    }
    match receipt.status.as_str() {
        "conflict" => PushResult {
            id: id.to_owned(),
            status: PushStatus::Conflict,
            version: Some(receipt.version),
            error: Some(RecordError {
                code: "stale_version".into(),
                message: "This edit was made on an old version; it awaits review.".into(),
                fields: vec![],
            }),
            server: None,
        },
        _ => PushResult {
            id: id.to_owned(),
            status: PushStatus::Duplicate,
            version: Some(receipt.version),
            error: None,
            server: None,
        },
    }
}

/// Applies one batch inside the caller's transaction; one result per record, in order.
pub fn push(
    conn: &mut DbConnection,
    auth: &AuthUser,
    device_id: &str,
    records: &[PushRecord],
) -> Result<Vec<PushResult>, ApiError> {
    // Phones of one village touch the same households and ledger rows in any order; on PostgreSQL
    // the commune lock keeps concurrent pushes from deadlocking (nothing on SQLite).
    db::lock_commune(conn, auth.commune_id.as_deref())?;
    let results = match push_visits(conn, auth, device_id, records)? {
        Some(results) => results,
        None => push_each(conn, auth, device_id, records)?,
    };
    // One event per batch that stored something new, in the batch's transaction.
    let applied = results
        .iter()
        .filter(|r| matches!(r.status, PushStatus::Applied))
        .count();
    if applied > 0 {
        db::webhooks::enqueue(
            conn,
            "records.synced",
            auth.commune_id.as_deref(),
            serde_json::json!({
                "device_id": device_id,
                "user_id": auth.id,
                "applied": applied,
                "received": records.len(),
            }),
        )?;
    }
    Ok(results)
}

fn applied(id: String, version: i64) -> PushResult {
    PushResult {
        id,
        status: PushStatus::Applied,
        version: Some(version),
        error: None,
        server: None,
    }
}

/// The batch a phone sends most: new visits only, none correcting another. It gets the same
/// results as [`push_each`] with far fewer statements: one read each of its receipts, households,
/// living residents and the catalogue, then the checks in memory, then multi-row inserts of the
/// valid records, their items, residents, change-log entries and receipts; the ledger is updated
/// record by record in batch order, as [`push_each`] does. The writes run in one savepoint. `None`
/// (nothing written) sends the batch to [`push_each`]: a batch of another shape, or a write that
/// failed because another connection stored one of its records meanwhile.
fn push_visits(
    conn: &mut DbConnection,
    auth: &AuthUser,
    device_id: &str,
    records: &[PushRecord],
) -> Result<Option<Vec<PushResult>>, ApiError> {
    let plain_visit = |r: &PushRecord| {
        r.kind() == Some(RecordKind::AssistanceRecord)
            && r.op() == Some(RecordOp::Create)
            && r.data
                .get("supersedes")
                .is_none_or(serde_json::Value::is_null)
    };
    if records.len() < 2 || !records.iter().all(plain_visit) {
        return Ok(None);
    }
    let named: Vec<Option<(String, String)>> = records
        .iter()
        .map(|r| {
            let id = uuid::Uuid::parse_str(&r.id).ok()?.hyphenated().to_string();
            let hash = body_hash(r);
            Some((id, hash))
        })
        .collect();
    // A create's receipt is keyed by its id.
    let keys: Vec<String> = named.iter().flatten().map(|(id, _)| id.clone()).collect();
    let mut receipts: std::collections::HashMap<String, db::sync::Receipt> =
        db::sync::receipts_by_ids(conn, &keys)?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
    let parsed: Vec<Result<kinds::AssistanceData, Refusal>> =
        records.iter().map(kinds::data).collect();
    let households: Vec<String> = parsed
        .iter()
        .filter_map(|d| d.as_ref().ok().map(|d| d.household_id.clone()))
        .collect();
    let mut lookups = kinds::VisitLookups::prefetch(conn, &households)?;
    let mut results = Vec::with_capacity(records.len());
    let mut visits = vec![];
    let mut stored: Vec<(String, String)> = vec![];
    let mut seen_in_batch = std::collections::HashSet::new();
    for ((r, name), data) in records.iter().zip(named).zip(parsed) {
        let Some((id, hash)) = name else {
            results.push(invalid_id(r));
            continue;
        };
        let first = seen_in_batch.insert(id.clone());
        if let Some(receipt) = receipts.get(&id) {
            results.push(replay_result(&id, receipt, &hash, auth));
            continue;
        }
        if !first {
            results.push(rejected(
                &id,
                "duplicate_in_batch",
                "The id appears twice in this batch.".into(),
                vec![],
            ));
            continue;
        }
        match data.and_then(|d| kinds::check_visit(conn, &mut lookups, auth, device_id, &id, &d)) {
            Ok(visit) => {
                receipts.insert(
                    id.clone(),
                    db::sync::Receipt {
                        id: id.clone(),
                        kind: r.kind.clone(),
                        body_hash: hash.clone(),
                        version: 1,
                        status: "applied".into(),
                        user_id: auth.id.clone(),
                        device_id: device_id.to_owned(),
                    },
                );
                visits.push(visit);
                stored.push((id.clone(), hash));
                results.push(applied(id, 1));
            }
            Err(Refusal::Rejected {
                code,
                message,
                fields,
            }) => results.push(rejected(&id, code, message, fields)),
            Err(Refusal::Stale { .. }) => return Ok(None),
            Err(Refusal::Db(e)) => return Err(e.into()),
        }
    }
    if visits.is_empty() {
        return Ok(Some(results));
    }
    let written = diesel::Connection::transaction::<_, Refusal, _>(conn, |conn| {
        kinds::insert_visits(conn, &visits)?;
        if !adoption::apply_visits(conn, &visits)? {
            for visit in &visits {
                kinds::apply_visit(conn, visit)?;
            }
        }
        // The latest house visit of each household in the batch, if later than the one known.
        let mut latest: std::collections::BTreeMap<&str, &kinds::CheckedVisit> = Default::default();
        for v in visits
            .iter()
            .filter(|v| v.record.channel == crate::domain::codes::Channel::HouseVisit.as_str())
        {
            let e = latest.entry(v.household.id.as_str()).or_insert(v);
            if v.record.occurred_at > e.record.occurred_at {
                *e = v;
            }
        }
        let visited: Vec<(&db::registry::Household, chrono::NaiveDateTime)> = latest
            .into_values()
            .filter(|v| {
                v.household
                    .last_visited_at
                    .is_none_or(|at| at < v.record.occurred_at)
            })
            .map(|v| (&v.household, v.record.occurred_at))
            .collect();
        db::registry::set_last_visited_many(conn, &visited)?;
        let changed: Vec<(&str, &str, &str, Option<&str>)> = visits
            .iter()
            .map(|v| {
                let r = &v.record;
                (
                    r.id.as_str(),
                    r.commune_id.as_str(),
                    r.village_id.as_str(),
                    Some(auth.id.as_str()),
                )
            })
            .collect();
        db::registry::record_changes_by(conn, "assistance_record", &changed)?;
        db::sync::insert_receipts(conn, "assistance_record", &stored, &auth.id, device_id)?;
        Ok(())
    });
    match written {
        Ok(()) => Ok(Some(results)),
        Err(Refusal::Db(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )))
        | Err(Refusal::Rejected { .. } | Refusal::Stale { .. }) => Ok(None),
        Err(Refusal::Db(e)) => Err(e.into()),
    }
}

/// Applies a batch record by record, each in its own savepoint.
fn push_each(
    conn: &mut DbConnection,
    auth: &AuthUser,
    device_id: &str,
    records: &[PushRecord],
) -> Result<Vec<PushResult>, ApiError> {
    let mut results = Vec::with_capacity(records.len());
    let mut seen_in_batch = std::collections::HashSet::new();
    for r in records {
        let Ok(uuid) = uuid::Uuid::parse_str(&r.id) else {
            results.push(invalid_id(r));
            continue;
        };
        let id = uuid.hyphenated().to_string();
        let hash = body_hash(r);
        let key = receipt_key(r, &id, &hash);
        if !seen_in_batch.insert(key.clone()) {
            // The same record twice in one batch: the second is a replay of the first.
            match db::sync::find_receipt(conn, &key)? {
                Some(receipt) => results.push(replay_result(&id, &receipt, &hash, auth)),
                None => results.push(rejected(
                    &id,
                    "duplicate_in_batch",
                    "The id appears twice in this batch.".into(),
                    vec![],
                )),
            }
            continue;
        }
        if let Some(receipt) = db::sync::find_receipt(conn, &key)? {
            results.push(replay_result(&id, &receipt, &hash, auth));
            continue;
        }
        // Each record in its own savepoint: a failure undoes only this record.
        let outcome = diesel::Connection::transaction::<_, Refusal, _>(conn, |conn| {
            let version = kinds::apply(conn, auth, device_id, &id, r)?;
            db::sync::insert_receipt(
                conn, &key, &r.kind, &hash, version, "applied", &auth.id, device_id,
            )?;
            Ok(version)
        });
        let result = match outcome {
            Ok(version) => applied(id, version),
            Err(Refusal::Rejected {
                code,
                message,
                fields,
            }) => rejected(&id, code, message, fields),
            Err(Refusal::Stale {
                server_version,
                server,
            }) => {
                kinds::record_conflict(conn, auth, device_id, &id, r, server_version, &server)?;
                db::sync::insert_receipt(
                    conn,
                    &key,
                    &r.kind,
                    &hash,
                    server_version,
                    "conflict",
                    &auth.id,
                    device_id,
                )?;
                PushResult {
                    id,
                    status: PushStatus::Conflict,
                    version: Some(server_version),
                    error: Some(RecordError {
                        code: "stale_version".into(),
                        message: "This edit was made on an old version; it awaits review.".into(),
                        fields: vec![],
                    }),
                    server: Some(server),
                }
            }
            Err(Refusal::Db(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))) => {
                // Another connection stored the same record meanwhile (its transaction has committed,
                // or this insert would still be waiting): answer as for a replay.
                // An object that holds the id without a receipt was made online (or by another
                // path): named only when the caller may read it.
                match db::sync::find_receipt(conn, &key)? {
                    Some(receipt) => replay_result(&id, &receipt, &hash, auth),
                    None if kinds::holder_is_visible(conn, auth, r.kind(), &id)? => rejected(
                        &id,
                        "already_exists",
                        "An object with this id exists already.".into(),
                        vec![],
                    ),
                    None => id_taken(&id),
                }
            }
            Err(Refusal::Db(e)) => return Err(e.into()),
        };
        results.push(result);
    }
    Ok(results)
}
