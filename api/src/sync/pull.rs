//! `GET /sync/pull`: everything in the caller's scope changed since a cursor.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::Visibility;
use crate::auth::AuthUser;
use crate::db::registry as reg;
use crate::db::sync::{self as store, PullScope};
use crate::db::{self, DbConnection};
use crate::domain::Role;
use crate::error::{ApiError, FieldError};
use crate::paging;

pub const DEFAULT_LIMIT: i64 = 1000;
pub const MAX_LIMIT: i64 = 5000;

#[derive(Debug, Deserialize, IntoParams)]
pub struct PullQuery {
    /// `cursor` of the previous pull; omit for everything.
    pub cursor: Option<String>,
    /// Most changes to return (1–5000, default 1000).
    pub limit: Option<i64>,
    /// The pulling device, for the sync-health view.
    pub device_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Change {
    /// `household`, `resident`, `adoption`, `service`, `assistance_record`, `communication`, `difficulty`,
    /// `material` (published guides; withdrawn ones come as deletions).
    pub kind: &'static str,
    pub id: String,
    /// `upsert` (store `data`) or `delete` (forget the object).
    pub op: &'static str,
    /// Version for edits (households and residents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// The object's current state; absent for deletions.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PullResponse {
    pub changes: Vec<Change>,
    /// Pass it to the next pull; stable across server restarts.
    pub cursor: String,
    /// True when more changes are waiting: pull again at once.
    pub has_more: bool,
    /// True when the caller's scope changed since the cursor was given (moved to another village,
    /// a village added or taken away, a new role or department): `changes` then start again from
    /// the beginning of the new scope. Drop every object pulled before (households, residents, the
    /// ledger, field records, guides, the catalogue; keep the outbox of records not yet sent), then
    /// apply `changes` and go on pulling from `cursor` as usual.
    pub reset: bool,
}

/// A cursor: a position in the change log and the stamp of the scope it was read in.
fn encode(tx: i64, seq: i64, stamp: &str) -> String {
    paging::encode(&format!("{tx}:{seq}:{stamp}"))
}

/// A position to read after, and whether it must start again from the beginning because the cursor
/// was read in another scope than the caller has now (villages, role, department or commune
/// changed since), or comes from a server that did not stamp its cursors: the caller's old view
/// must never be kept silently.
#[derive(Debug, PartialEq, Eq)]
struct Position {
    after: (i64, i64),
    reset: bool,
}

const START: (i64, i64) = (-1, 0);

fn decode(cursor: Option<&str>, stamp: &str) -> Result<Position, ApiError> {
    let invalid = || {
        ApiError::validation(vec![FieldError::new(
            "cursor",
            "invalid_cursor",
            "the cursor is not one this server gave",
        )])
    };
    let Some(c) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(Position {
            after: START,
            reset: false,
        });
    };
    let q = paging::PageQuery {
        cursor: Some(c.to_owned()),
        limit: None,
    };
    let raw = q.after()?.ok_or_else(invalid)?;
    let mut parts = raw.splitn(3, ':');
    let (Some(tx), Some(seq)) = (parts.next(), parts.next()) else {
        return Err(invalid());
    };
    let after = (
        tx.parse().map_err(|_| invalid())?,
        seq.parse().map_err(|_| invalid())?,
    );
    Ok(match parts.next() {
        Some(s) if s == stamp => Position {
            after,
            reset: false,
        },
        // Read in another scope, or before cursors were stamped: everything again.
        _ => Position {
            after: START,
            reset: after != START,
        },
    })
}

fn scope(auth: &AuthUser) -> Result<PullScope, ApiError> {
    match auth.role {
        Role::Admin => Ok(PullScope::All),
        Role::Chairman | Role::Department => auth
            .commune_id
            .clone()
            .map(PullScope::Commune)
            .ok_or_else(|| ApiError::Forbidden {
                code: "no_scope",
                detail: "No commune.".into(),
            }),
        Role::VillageLeader | Role::Volunteer => Ok(PullScope::Villages {
            commune_id: auth.commune_id.clone(),
            village_ids: auth.village_ids.clone(),
        }),
        Role::City => Err(ApiError::Forbidden {
            code: "personal_data_not_allowed",
            detail: "City oversight does not sync households.".into(),
        }),
    }
}

fn utc(t: chrono::NaiveDateTime) -> String {
    paging::utc(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn check_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::validation(vec![FieldError::new(
            "limit",
            "out_of_range",
            "1 to 5000",
        )])),
    }
}

pub fn pull(
    conn: &mut DbConnection,
    auth: &AuthUser,
    q: &PullQuery,
) -> Result<PullResponse, ApiError> {
    let scope = scope(auth)?;
    let limit = check_limit(q.limit)?;
    let stamp = auth.scope_stamp();
    let at = decode(q.cursor.as_deref(), &stamp)?;
    let vis = auth.visibility();
    let personal = vis.personal;
    let res = changes_since(conn, &scope, Some(&auth.id), None, vis, at, &stamp, limit)?;
    if let Some(device) = q
        .device_id
        .as_deref()
        .filter(|d| !d.is_empty() && d.len() <= 64)
    {
        store::touch_device(conn, device, &auth.id, auth.commune_id.as_deref(), None)?;
    }
    let personal_rows = personal_rows(&res.changes);
    if personal && personal_rows > 0 {
        db::audit::by_user(
            conn,
            auth,
            "personal_data_synced",
            "sync",
            q.device_id.as_deref().unwrap_or("unknown"),
            auth.commune_id.as_deref(),
            serde_json::json!({"households_and_residents": personal_rows}),
        )?;
    }
    Ok(res)
}

/// Households and residents among `changes`: the personal data a page carries.
fn personal_rows(changes: &[Change]) -> usize {
    changes
        .iter()
        .filter(|c| c.kind == "household" || c.kind == "resident")
        .count()
}

/// Kinds of object the change feed carries.
pub const KINDS: [&str; 8] = [
    "household",
    "resident",
    "adoption",
    "service",
    "assistance_record",
    "communication",
    "difficulty",
    "material",
];

#[derive(Debug, Deserialize, IntoParams)]
pub struct FeedQuery {
    /// First page: changes made at or after this time (RFC 3339); omit for everything. Later pages
    /// pass `cursor` instead.
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// `cursor` of the previous page; takes precedence over `updated_since`.
    pub cursor: Option<String>,
    /// Most changes to return (1–5000, default 1000).
    pub limit: Option<i64>,
    /// Comma-separated kinds (default all): household, resident, adoption, service,
    /// assistance_record, communication, difficulty, material.
    pub kinds: Option<String>,
    /// Administrators and city-wide keys: one commune (default every commune).
    pub commune_id: Option<String>,
}

/// The analysts' change feed (`GET /exports/changes`): like a pull, over the commune (or every
/// commune for an administrator and a city account without one) and every author's field records;
/// roles that see no personal data get no households or residents and no notes.
pub fn feed(
    conn: &mut DbConnection,
    auth: &AuthUser,
    q: &FeedQuery,
) -> Result<PullResponse, ApiError> {
    let scope = match (auth.role, auth.commune_id.clone(), q.commune_id.clone()) {
        (Role::VillageLeader | Role::Volunteer, _, _) => {
            return Err(ApiError::Forbidden {
                code: "office_roles_only",
                detail: "The change feed is for the commune's offices and integrations; phones use /sync/pull.".into(),
            })
        }
        (Role::Admin, _, named) | (Role::City, None, named) => {
            named.map_or(PullScope::All, PullScope::Commune)
        }
        (_, None, _) => {
            return Err(ApiError::Forbidden {
                code: "no_scope",
                detail: "No commune.".into(),
            })
        }
        (_, Some(own), Some(named)) if named != own => {
            return Err(ApiError::NotFound {
                code: "commune_not_found",
                detail: "No such commune.".into(),
            })
        }
        (_, Some(own), _) => PullScope::Commune(own),
    };
    let limit = check_limit(q.limit)?;
    let vis = auth.visibility();
    let personal = vis.personal;
    let mut kinds: Vec<String> = match q.kinds.as_deref().filter(|k| !k.trim().is_empty()) {
        None => KINDS.iter().map(|k| (*k).to_owned()).collect(),
        Some(list) => {
            let kinds: Vec<String> = list.split(',').map(|k| k.trim().to_owned()).collect();
            if let Some(bad) = kinds.iter().find(|k| !KINDS.contains(&k.as_str())) {
                return Err(ApiError::validation(vec![FieldError::new(
                    "kinds",
                    "unknown_kind",
                    format!("no kind {bad:?}; one of {}", KINDS.join(", ")),
                )]));
            }
            kinds
        }
    };
    if !personal {
        kinds.retain(|k| k != "household" && k != "resident");
    }
    let stamp = auth.scope_stamp();
    let at = match (
        q.cursor.as_deref().filter(|c| !c.is_empty()),
        q.updated_since,
    ) {
        (Some(c), _) => decode(Some(c), &stamp)?,
        (None, Some(since)) => Position {
            after: store::position_before(conn, since.naive_utc())?,
            reset: false,
        },
        (None, None) => Position {
            after: START,
            reset: false,
        },
    };
    let res = changes_since(conn, &scope, None, Some(&kinds), vis, at, &stamp, limit)?;
    let personal_rows = personal_rows(&res.changes);
    db::audit::by_user(
        conn,
        auth,
        "export",
        "changes",
        auth.commune_id.as_deref().unwrap_or("all"),
        auth.commune_id.as_deref(),
        serde_json::json!({"changes": res.changes.len(), "personal_rows": personal_rows, "personal": personal}),
    )?;
    Ok(res)
}

/// The latest state of each object changed after `at` in `scope`, one page of the change log.
#[allow(clippy::too_many_arguments)]
fn changes_since(
    conn: &mut DbConnection,
    scope: &PullScope,
    own_records_of: Option<&str>,
    kinds: Option<&[String]>,
    vis: Visibility,
    at: Position,
    stamp: &str,
    limit: i64,
) -> Result<PullResponse, ApiError> {
    let after = at.after;
    let mut rows = store::changes_after(conn, scope, own_records_of, kinds, after, limit + 1)?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let cursor = rows
        .last()
        .map(|r| encode(r.tx, r.seq, stamp))
        .unwrap_or_else(|| encode(after.0, after.1, stamp));

    // The latest state of each object once, in the order objects first changed.
    let mut order: Vec<(String, String)> = vec![];
    let mut seen = HashSet::new();
    let mut ids: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows {
        if seen.insert((r.kind.clone(), r.object_id.clone())) {
            ids.entry(r.kind.clone())
                .or_default()
                .push(r.object_id.clone());
            order.push((r.kind, r.object_id));
        }
    }
    let get = |k: &str| ids.get(k).cloned().unwrap_or_default();
    let mut objects: HashMap<(String, String), Change> = HashMap::new();
    let mut put =
        |kind: &'static str, id: String, version: Option<i64>, data: Option<serde_json::Value>| {
            let op = if data.is_some() { "upsert" } else { "delete" };
            objects.insert(
                (kind.to_owned(), id.clone()),
                Change {
                    kind,
                    id,
                    op,
                    version,
                    data,
                },
            );
        };
    for h in reg::households_by_ids(conn, &get("household"))? {
        let data = h.deleted_at.is_none().then(|| serde_json::json!({
            "village_id": h.village_id, "hamlet": h.hamlet, "lane": h.lane, "house_number": h.house_number,
            "head_name": vis.personal(Some(&h.head_name)), "phone": vis.personal(h.phone.as_ref()),
            "last_visited_at": h.last_visited_at.map(utc), "consent_at": h.consent_at.map(utc),
        }));
        put("household", h.id, Some(h.version), data);
    }
    for r in reg::residents_by_ids(conn, &get("resident"))? {
        let data = r.deleted_at.is_none().then(|| serde_json::json!({
            "household_id": r.household_id, "full_name": vis.personal(Some(&r.full_name)), "birth_year": r.birth_year,
            "sex": r.sex, "phone": vis.personal(r.phone.as_ref()), "relation_to_head": r.relation_to_head,
        }));
        put("resident", r.id, Some(r.version), data);
    }
    for a in reg::adoptions_by_ids(conn, &get("adoption"))? {
        let data = serde_json::json!({
            "household_id": a.household_id, "resident_id": a.resident_id, "service_code": a.service_code,
            "status": a.status, "status_on": a.status_on, "source": a.source,
        });
        put("adoption", a.id, None, Some(data));
    }
    for s in reg::services_by_ids(conn, &get("service"))? {
        let data = serde_json::json!({
            "code": s.code, "name_vi": s.name_vi, "name_en": s.name_en, "department": s.department, "level": s.level,
            "min_age": s.min_age, "sort_order": s.sort_order, "retired": s.retired_at.is_some(),
        });
        put("service", s.id, None, Some(data));
    }
    let record_ids = get("assistance_record");
    if !record_ids.is_empty() {
        let mut items: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
        for i in store::items_of(conn, &record_ids)? {
            let note = vis.note(i.note);
            items.entry(i.record_id.clone()).or_default().push(serde_json::json!({"service_code": i.service_code, "outcome": i.outcome, "note": note}));
        }
        let mut helped: HashMap<String, Vec<String>> = HashMap::new();
        for (record, resident) in store::residents_of_records(conn, &record_ids)? {
            helped.entry(record).or_default().push(resident);
        }
        let records = store::records_by_ids(conn, &record_ids)?;
        let mut authors: Vec<String> = records.iter().map(|r| r.author_id.clone()).collect();
        authors.sort();
        authors.dedup();
        // Team members' names are the team's work contacts (see `Visibility`): who made a visit.
        let names: HashMap<String, String> = crate::db::users::display_names(conn, &authors)?
            .into_iter()
            .collect();
        for r in records {
            let data = serde_json::json!({
                "author_id": r.author_id, "author_name": names.get(&r.author_id),
                "household_id": r.household_id, "resident_ids": helped.remove(&r.id).unwrap_or_default(),
                "occurred_at": utc(r.occurred_at), "channel": r.channel, "items": items.remove(&r.id).unwrap_or_default(),
                "notes": vis.note(r.notes), "follow_up_on": r.follow_up_on, "supersedes": r.supersedes, "superseded_by": r.superseded_by,
            });
            put("assistance_record", r.id, None, Some(data));
        }
    }
    for c in store::communications_by_ids(conn, &get("communication"))? {
        let topics: serde_json::Value = serde_json::from_str(&c.topics).unwrap_or_default();
        let data = serde_json::json!({
            "village_id": c.village_id, "occurred_at": utc(c.occurred_at), "channel": c.channel, "topics": topics,
            "reach": c.reach, "title": c.title, "link": c.link, "notes": vis.note(c.notes),
        });
        put("communication", c.id, None, Some(data));
    }
    let difficulty_ids = get("difficulty");
    if !difficulty_ids.is_empty() {
        let mut threads = crate::app::teamwork::threads(conn, &difficulty_ids)?;
        for d in store::difficulties_by_ids(conn, &difficulty_ids)? {
            let services: serde_json::Value =
                serde_json::from_str(&d.service_codes).unwrap_or_default();
            let replies = vis.text(threads.remove(&d.id)).unwrap_or_default();
            let data = serde_json::json!({
                "village_id": d.village_id, "author_id": d.author_id, "raised_at": utc(d.raised_at), "title": vis.text(Some(d.title)), "description": vis.text(Some(d.description)),
                "service_codes": services, "status": d.status, "assigned_department": d.assigned_department,
                "first_answered_at": d.first_answered_at.map(utc), "closed_at": d.closed_at.map(utc),
                "replies": replies,
            });
            put("difficulty", d.id, None, Some(data));
        }
    }
    let material_ids = get("material");
    if !material_ids.is_empty() {
        let materials = crate::db::materials::by_ids(conn, &material_ids)?;
        let wanted: Vec<(String, i32)> = materials
            .iter()
            .filter(|m| m.status == "published")
            .filter_map(|m| m.published_version.map(|v| (m.id.clone(), v)))
            .collect();
        let versions: HashMap<String, crate::db::materials::Version> =
            crate::db::materials::versions_of(conn, &wanted)?
                .into_iter()
                .map(|v| (v.material_id.clone(), v))
                .collect();
        let files =
            crate::app::materials::shown_attachments(conn, &versions.values().collect::<Vec<_>>())?;
        for m in materials {
            let data = versions.get(&m.id).map(|v| {
                let attachments: Vec<_> = v
                    .attachments()
                    .iter()
                    .filter_map(|id| files.get(id).cloned())
                    .collect();
                serde_json::json!({
                    "department": m.department, "version": v.version, "title": v.title, "summary": v.summary,
                    "body": v.body, "service_codes": v.services(), "attachments": attachments,
                    "published_at": m.published_at.map(utc),
                })
            });
            put("material", m.id, None, data);
        }
    }
    let changes: Vec<Change> = order
        .into_iter()
        .filter_map(|k| objects.remove(&k))
        .collect();
    Ok(PullResponse {
        changes,
        cursor,
        has_more,
        reset: at.reset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_of_another_scope_starts_again_and_says_so() {
        let c = encode(7, 3, "aaaa");
        assert_eq!(
            decode(Some(&c), "aaaa").expect("own"),
            Position {
                after: (7, 3),
                reset: false
            }
        );
        assert_eq!(
            decode(Some(&c), "bbbb").expect("moved"),
            Position {
                after: START,
                reset: true
            }
        );
        // A cursor from before stamps was read in a scope nobody knows.
        let old = paging::encode("7:3");
        assert!(decode(Some(&old), "aaaa").expect("old").reset);
        // The start of the log has nothing to forget.
        let start = encode(START.0, START.1, "aaaa");
        assert!(!decode(Some(&start), "bbbb").expect("start").reset);
        assert!(!decode(None, "aaaa").expect("none").reset);
        assert!(decode(Some("bogus"), "aaaa").is_err());
    }
}
