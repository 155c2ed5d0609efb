//! Who may manage which accounts (DESIGN §1, issue "Accounts, roles and scope"):
//! - `admin` manages every account;
//! - the commune chairman and the culture-social office manage the commune-level and village-level
//!   accounts of their own commune (never `admin`, `city` or `chairman`: only an administrator
//!   creates a chairman, changes one's role or resets one's password, because the office prepares
//!   what the chairman approves);
//! - nobody resets the password of a role above their own;
//! - a village leader manages volunteer accounts of their own villages;
//! - nobody else manages accounts.

use crate::db::users::UserScope;
use crate::domain::Role;
use crate::error::ApiError;

use super::Caller;

/// The account the caller wants to create or change, as it would be afterwards.
pub struct AccountShape<'a> {
    pub role: Role,
    pub commune_id: Option<&'a str>,
    pub village_ids: &'a [String],
}

/// Roles only an administrator grants, changes or resets.
fn admin_only(role: Role) -> bool {
    matches!(role, Role::Admin | Role::City | Role::Chairman)
}

/// The order of authority, for "no one resets the password of a role above their own".
fn rank(role: Role) -> u8 {
    match role {
        Role::Volunteer => 0,
        Role::VillageLeader => 1,
        Role::Department => 2,
        Role::Chairman => 3,
        Role::City => 4,
        Role::Admin => 5,
    }
}

/// Which accounts `actor` may list and read; `None` when it may not manage accounts at all.
pub fn manageable_scope(actor: &Caller) -> Option<UserScope> {
    match actor.role {
        Role::Admin => Some(UserScope::All),
        _ if actor.is_commune_manager() => actor.commune_id.clone().map(UserScope::Commune),
        Role::VillageLeader => Some(UserScope::Villages(actor.village_ids.clone())),
        _ => None,
    }
}

fn forbidden(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::Forbidden {
        code,
        detail: detail.into(),
    }
}

/// Refuses (403) unless `actor` may give an account this shape. Structural validity (departments,
/// villages belonging to the commune) is checked separately.
pub fn ensure_may_assign(actor: &Caller, shape: &AccountShape<'_>) -> Result<(), ApiError> {
    match actor.role {
        Role::Admin => Ok(()),
        _ if actor.is_commune_manager() => {
            if admin_only(shape.role) {
                return Err(forbidden(
                    "role_not_assignable",
                    "Only an administrator grants or changes this role.",
                ));
            }
            if shape.commune_id != actor.commune_id.as_deref() {
                return Err(forbidden(
                    "commune_out_of_scope",
                    "Accounts of another commune are not yours to manage.",
                ));
            }
            Ok(())
        }
        Role::VillageLeader => {
            if shape.role != Role::Volunteer {
                return Err(forbidden(
                    "role_not_assignable",
                    "A village leader creates volunteer accounts only.",
                ));
            }
            if shape.commune_id != actor.commune_id.as_deref()
                || shape.village_ids.is_empty()
                || !shape
                    .village_ids
                    .iter()
                    .all(|v| actor.village_ids.contains(v))
            {
                return Err(forbidden(
                    "village_out_of_scope",
                    "Volunteers can be placed only in your own villages.",
                ));
            }
            Ok(())
        }
        _ => Err(forbidden(
            "role_not_allowed",
            "This role does not manage accounts.",
        )),
    }
}

/// Refuses (403) unless `actor` may act on a managed account that has role `target` now (change
/// it, reset its password, sign it out; `may_manage` already holds): an administrator always;
/// anyone else never on a role only an administrator grants (a chairman), nor above their own.
pub fn ensure_may_act_on(actor: &Caller, target: Role) -> Result<(), ApiError> {
    if actor.role == Role::Admin {
        return Ok(());
    }
    if admin_only(target) || rank(target) > rank(actor.role) {
        return Err(forbidden(
            "role_not_assignable",
            "Only an administrator changes, resets or signs out this account.",
        ));
    }
    Ok(())
}

/// True when the account (with its commune and villages) is inside what `actor` manages.
pub fn may_manage(
    actor: &Caller,
    role: Role,
    commune_id: Option<&str>,
    village_ids: &[String],
) -> bool {
    match actor.role {
        Role::Admin => true,
        _ if actor.is_commune_manager() => {
            !matches!(role, Role::Admin | Role::City)
                && commune_id.is_some()
                && commune_id == actor.commune_id.as_deref()
        }
        Role::VillageLeader => {
            role == Role::Volunteer
                && commune_id == actor.commune_id.as_deref()
                && !village_ids.is_empty()
                && village_ids.iter().all(|v| actor.village_ids.contains(v))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Department;

    fn user(
        role: Role,
        department: Option<Department>,
        commune: Option<&str>,
        villages: &[&str],
    ) -> Caller {
        Caller {
            id: "u".into(),
            username: "u".into(),
            display_name: "U".into(),
            role,
            department,
            commune_id: commune.map(str::to_owned),
            village_ids: villages.iter().map(|v| v.to_string()).collect(),
            must_change_password: false,
            session_id: None,
            api_key: None,
        }
    }

    fn v(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_village_leader_creates_volunteers_of_own_villages_only() {
        let leader = user(Role::VillageLeader, None, Some("c1"), &["v1"]);
        let own = v(&["v1"]);
        let other = v(&["v2"]);
        let ok = AccountShape {
            role: Role::Volunteer,
            commune_id: Some("c1"),
            village_ids: &own,
        };
        assert!(ensure_may_assign(&leader, &ok).is_ok());
        let elsewhere = AccountShape {
            role: Role::Volunteer,
            commune_id: Some("c1"),
            village_ids: &other,
        };
        assert_eq!(
            ensure_may_assign(&leader, &elsewhere)
                .expect_err("other village")
                .code(),
            "village_out_of_scope"
        );
        let leader_shape = AccountShape {
            role: Role::VillageLeader,
            commune_id: Some("c1"),
            village_ids: &own,
        };
        assert_eq!(
            ensure_may_assign(&leader, &leader_shape)
                .expect_err("role")
                .code(),
            "role_not_assignable"
        );
    }

    #[test]
    fn the_culture_social_office_manages_its_commune_but_never_grants_admin() {
        let cs = user(
            Role::Department,
            Some(Department::CultureSocial),
            Some("c1"),
            &[],
        );
        let none: Vec<String> = vec![];
        let chairman = AccountShape {
            role: Role::Chairman,
            commune_id: Some("c1"),
            village_ids: &none,
        };
        assert_eq!(
            ensure_may_assign(&cs, &chairman)
                .expect_err("chairman")
                .code(),
            "role_not_assignable"
        );
        let leader = AccountShape {
            role: Role::VillageLeader,
            commune_id: Some("c1"),
            village_ids: &none,
        };
        assert!(ensure_may_assign(&cs, &leader).is_ok());
        assert!(ensure_may_act_on(&cs, Role::Chairman).is_err());
        assert!(ensure_may_act_on(&cs, Role::Department).is_ok());
        let chairman_actor = user(Role::Chairman, None, Some("c1"), &[]);
        assert!(ensure_may_act_on(&chairman_actor, Role::Department).is_ok());
        assert!(ensure_may_act_on(&chairman_actor, Role::Chairman).is_err());
        let leader_actor = user(Role::VillageLeader, None, Some("c1"), &["v1"]);
        assert!(ensure_may_act_on(&leader_actor, Role::Volunteer).is_ok());
        assert!(ensure_may_act_on(&leader_actor, Role::Department).is_err());
        let admin = AccountShape {
            role: Role::Admin,
            commune_id: Some("c1"),
            village_ids: &none,
        };
        assert_eq!(
            ensure_may_assign(&cs, &admin).expect_err("admin").code(),
            "role_not_assignable"
        );
        let other = AccountShape {
            role: Role::Volunteer,
            commune_id: Some("c2"),
            village_ids: &none,
        };
        assert_eq!(
            ensure_may_assign(&cs, &other).expect_err("commune").code(),
            "commune_out_of_scope"
        );
        assert!(!may_manage(&cs, Role::Volunteer, Some("c2"), &[]));
        assert!(may_manage(&cs, Role::Volunteer, Some("c1"), &[]));
    }

    #[test]
    fn other_departments_and_volunteers_manage_nothing() {
        for actor in [
            user(Role::Department, Some(Department::Police), Some("c1"), &[]),
            user(Role::Volunteer, None, Some("c1"), &["v1"]),
            user(Role::City, None, None, &[]),
        ] {
            assert!(manageable_scope(&actor).is_none());
            let own = v(&["v1"]);
            let shape = AccountShape {
                role: Role::Volunteer,
                commune_id: Some("c1"),
                village_ids: &own,
            };
            assert_eq!(
                ensure_may_assign(&actor, &shape).expect_err("no").code(),
                "role_not_allowed"
            );
        }
    }
}
