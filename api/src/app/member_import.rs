//! Team accounts in bulk: a village leader or the culture-social office uploads the list of a
//! team's members; each row becomes a team member with a volunteer account and a one-time sign-in
//! code that must be replaced by the member's own password at the first sign-in.
//!
//! The same plan is made for the dry run and, again inside the writing transaction, for the commit,
//! so what the commit writes is what the database holds at that moment. A member already in the
//! team (same name and phone) with an account is left alone: sending the same file twice creates
//! nobody twice. One already in the team without an account gets one and is linked to it.

use std::collections::HashSet;

use serde::Serialize;
use utoipa::ToSchema;

use crate::access::Caller;
use crate::db::registry::{self as reg, NewTeamMember, Team, Village};
use crate::db::{self, audit::NewAuditEvent, DbConnection};
use crate::domain::{search, Origin, Position, Role};
use crate::error::ApiError;
use crate::registry_io::{ImportedMember, RowError};

/// Letters and digits a person cannot confuse when copying from paper (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A fresh one-time sign-in code, `XXXXX-XXXXX` (about 50 bits).
pub fn new_sign_in_code() -> String {
    let mut out = String::with_capacity(11);
    let limit = (256 / CODE_ALPHABET.len() * CODE_ALPHABET.len()) as u8;
    while out.len() < 11 {
        let mut buf = [0u8; 16];
        getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
        for b in buf {
            if out.len() == 5 {
                out.push('-');
            }
            if b < limit && out.len() < 11 {
                out.push(CODE_ALPHABET[usize::from(b) % CODE_ALPHABET.len()] as char);
            }
        }
    }
    out
}

/// What one row of the file becomes.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct PlannedMember {
    /// Line of the row, as Excel numbers it.
    pub line: usize,
    pub full_name: String,
    pub phone: Option<String>,
    pub position: Position,
    pub village_id: String,
    /// The village's name.
    #[schema(example = "Thôn Phú Lộc")]
    pub village_name: String,
    /// The team the member joins (or is in).
    pub team_id: String,
    /// The account's login name.
    #[schema(example = "lan.nt")]
    pub username: String,
    /// `new` (member and account created) or `account_added` (a member already in the team gets
    /// an account).
    #[schema(example = "new")]
    pub action: String,
    /// The account created (commit only).
    pub user_id: Option<String>,
    /// The member already in the team that gets the account.
    #[serde(skip)]
    pub(crate) existing_member_id: Option<String>,
    /// The village's commune, for the account and the member.
    #[serde(skip)]
    pub(crate) commune_id: String,
    /// The one-time sign-in code (commit only, shown once): it signs in once and must then be
    /// replaced by the member's own password.
    #[schema(example = "K7QMA-4XPBZ")]
    pub sign_in_code: Option<String>,
}

/// A row whose member is in the team with an account already.
#[derive(Serialize, ToSchema, Clone, Debug)]
pub struct SkippedMember {
    pub line: usize,
    pub member_id: String,
    pub user_id: String,
}

pub struct Plan {
    pub members: Vec<PlannedMember>,
    pub skipped: Vec<SkippedMember>,
    pub errors: Vec<RowError>,
}

/// Which villages the caller brings lists into: a village leader its own, the culture-social
/// office and administrators the commune's. The household import asks the same.
pub fn import_villages(
    conn: &mut DbConnection,
    caller: &Caller,
    commune: Option<String>,
) -> Result<Vec<Village>, ApiError> {
    let commune_id = match caller.role {
        Role::Admin => commune.ok_or_else(|| {
            ApiError::validation(vec![crate::error::FieldError::new(
                "commune_id",
                "required",
                "say which commune to import into",
            )])
        })?,
        _ => caller
            .commune_id
            .clone()
            .ok_or_else(|| ApiError::Forbidden {
                code: "no_scope",
                detail: "No commune.".into(),
            })?,
    };
    let villages = reg::villages_of_commune(conn, &commune_id)?;
    match caller.role {
        Role::Admin => Ok(villages),
        Role::Department if caller.is_culture_social() => Ok(villages),
        Role::VillageLeader => Ok(villages
            .into_iter()
            .filter(|v| caller.village_ids.contains(&v.id))
            .collect()),
        _ => Err(crate::access::role_not_allowed(
            "Village leaders and the culture-social office import lists.",
        )),
    }
}

/// Finds the village a row names, by code ("T01") or name ("Thôn Phú Lộc", "Phú Lộc").
pub fn resolve_village<'a>(villages: &'a [Village], written: &str) -> Option<&'a Village> {
    let w = search::fold(written);
    villages.iter().find(|v| {
        let name = search::fold(&v.name);
        search::fold(&v.code) == w
            || name == w
            || name.strip_prefix("thon ").is_some_and(|n| n == w)
    })
}

/// `Nguyễn Thị Lan` → `lan.nt`: the given name, then the initials of the others, without marks.
fn username_base(full_name: &str) -> String {
    let folded = search::fold(full_name);
    let words: Vec<String> = folded
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let Some((given, rest)) = words.split_last() else {
        return "thanhvien".into();
    };
    let initials: String = rest.iter().filter_map(|w| w.chars().next()).collect();
    let mut base = if initials.is_empty() {
        given.clone()
    } else {
        format!("{given}.{initials}")
    };
    base.truncate(56);
    if base.len() < 3 {
        base = format!("tv.{base}");
    }
    base
}

fn same_person(a: &str, b: &str) -> bool {
    search::fold(a) == search::fold(b)
}

/// The plan for the file's rows, against what the database holds now. Reads only.
pub fn plan(
    conn: &mut DbConnection,
    villages: &[Village],
    rows: &[ImportedMember],
    mut errors: Vec<RowError>,
) -> Result<Plan, ApiError> {
    let mut members = vec![];
    let mut skipped = vec![];
    let mut taken: HashSet<String> = HashSet::new();
    let mut in_file: HashSet<(String, String, Option<String>)> = HashSet::new();
    let mut teams: Vec<(String, Option<Team>, Vec<reg::TeamMember>)> = vec![];
    for row in rows {
        let village = match &row.village {
            Some(w) => resolve_village(villages, w),
            None if villages.len() == 1 => villages.first(),
            None => {
                errors.push(RowError {
                    line: row.line,
                    column: Some("Thôn".into()),
                    code: "required".into(),
                    message: "say which village the member's team belongs to".into(),
                });
                continue;
            }
        };
        let Some(village) = village else {
            errors.push(RowError {
                line: row.line,
                column: Some("Thôn".into()),
                code: "unknown_village".into(),
                message: format!(
                    "`{}` is not a village you can import into",
                    row.village.as_deref().unwrap_or_default()
                ),
            });
            continue;
        };
        if !teams.iter().any(|(v, _, _)| *v == village.id) {
            let team = reg::list_teams(
                conn,
                Some(&village.commune_id),
                Some(std::slice::from_ref(&village.id)),
            )?
            .into_iter()
            .find(|t| t.active && t.village_id.as_deref() == Some(village.id.as_str()));
            let existing = match &team {
                Some(t) => reg::list_members(conn, &t.id)?,
                None => vec![],
            };
            teams.push((village.id.clone(), team, existing));
        }
        let Some((_, team, existing)) = teams.iter().find(|(v, _, _)| *v == village.id) else {
            continue;
        };
        let Some(team) = team else {
            errors.push(RowError {
                line: row.line,
                column: Some("Thôn".into()),
                code: "no_team".into(),
                message: format!("{} has no team yet; create it first", village.name),
            });
            continue;
        };
        if !in_file.insert((
            village.id.clone(),
            search::fold(&row.full_name),
            row.phone.clone(),
        )) {
            errors.push(RowError {
                line: row.line,
                column: Some("Họ và tên".into()),
                code: "duplicate_row".into(),
                message: "the same member is listed twice".into(),
            });
            continue;
        }
        let current = existing.iter().find(|m| {
            m.active_until.is_none()
                && same_person(&m.full_name, &row.full_name)
                && m.phone == row.phone
        });
        if let Some(m) = current {
            if let Some(user_id) = &m.user_id {
                skipped.push(SkippedMember {
                    line: row.line,
                    member_id: m.id.clone(),
                    user_id: user_id.clone(),
                });
                continue;
            }
        }
        let base = username_base(&row.full_name);
        let mut username = base.clone();
        let mut n = 1;
        while taken.contains(&username) || db::users::find_by_username(conn, &username)?.is_some() {
            n += 1;
            username = format!("{base}{n}");
        }
        taken.insert(username.clone());
        members.push(PlannedMember {
            line: row.line,
            full_name: row.full_name.clone(),
            phone: row.phone.clone(),
            position: row.position,
            village_id: village.id.clone(),
            village_name: village.name.clone(),
            team_id: team.id.clone(),
            username,
            action: if current.is_some() {
                "account_added".into()
            } else {
                "new".into()
            },
            user_id: None,
            existing_member_id: current.map(|m| m.id.clone()),
            commune_id: village.commune_id.clone(),
            sign_in_code: None,
        });
    }
    errors.sort_by_key(|e| e.line);
    Ok(Plan {
        members,
        skipped,
        errors,
    })
}

/// Writes the plan: one account and (for new rows) one team member per row, each with its code.
/// `codes` holds `(code, hash)` pairs, one per planned member, in order.
pub fn commit(
    conn: &mut DbConnection,
    caller: &Caller,
    client_addr: &str,
    plan: &mut Plan,
    codes: Vec<(String, String)>,
) -> Result<(), ApiError> {
    if codes.len() < plan.members.len() {
        return Err(ApiError::Conflict {
            code: "team_changed",
            detail: "The team changed while the file was checked; send it again.".into(),
        });
    }
    let now = db::now();
    let today = crate::stats::period::local_today();
    for (m, (code, hash)) in plan.members.iter_mut().zip(codes) {
        let user_id = db::new_id();
        db::users::insert(
            conn,
            &db::users::NewUser {
                id: &user_id,
                username: &m.username,
                password_hash: &hash,
                display_name: &m.full_name,
                role: Role::Volunteer.as_str(),
                department: None,
                commune_id: Some(&m.commune_id),
                active: true,
                must_change_password: true,
                created_at: now,
                updated_at: now,
            },
        )?;
        db::users::set_villages(conn, &user_id, std::slice::from_ref(&m.village_id))?;
        match m.existing_member_id.clone() {
            Some(member_id) => {
                reg::update_member(
                    conn,
                    &member_id,
                    &reg::TeamMemberChangeset {
                        user_id: Some(Some(user_id.clone())),
                        updated_at: Some(now),
                        ..Default::default()
                    },
                )?;
            }
            None => reg::insert_member(
                conn,
                &NewTeamMember {
                    id: &db::new_id(),
                    team_id: &m.team_id,
                    commune_id: &m.commune_id,
                    full_name: &m.full_name,
                    position: m.position.as_str(),
                    origin: Origin::Volunteer.as_str(),
                    phone: m.phone.as_deref(),
                    user_id: Some(&user_id),
                    active_from: today,
                    active_until: None,
                    created_at: now,
                    updated_at: now,
                },
            )?,
        }
        db::audit::record(
            conn,
            &NewAuditEvent {
                object_type: Some("user"),
                object_id: Some(&user_id),
                commune_id: Some(&m.commune_id),
                client_addr: Some(client_addr),
                details: serde_json::json!({
                    "username": m.username, "role": Role::Volunteer.as_str(),
                    "department": null, "village_ids": [m.village_id], "imported": true,
                })
                .to_string(),
                ..NewAuditEvent::new("user_created", Some(&caller.id), &caller.username)
            },
        )?;
        m.user_id = Some(user_id);
        m.sign_in_code = Some(code);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_the_given_name_and_initials_without_marks() {
        assert_eq!(username_base("Nguyễn Thị Lan"), "lan.nt");
        assert_eq!(username_base("Đặng Văn Đức"), "duc.dv");
        assert_eq!(username_base("Hà"), "tv.ha");
        assert_eq!(username_base("Lê Thị Thu Hương"), "huong.ltt");
    }

    #[test]
    fn sign_in_codes_are_two_groups_of_five_unambiguous_characters() {
        let a = new_sign_in_code();
        assert_eq!(a.len(), 11);
        assert_eq!(a.as_bytes()[5], b'-');
        assert!(a
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 5 || CODE_ALPHABET.contains(&b)));
        assert_ne!(a, new_sign_in_code());
    }
}
