//! Who may manage which accounts (DESIGN §1, issue "Accounts, roles and scope"):
//! - `admin` manages every account;
//! - the commune chairman and the culture-social office manage the commune-level and village-level
//!   accounts of their own commune (never `admin` or `city`);
//! - a village leader manages volunteer accounts of their own villages;
//! - nobody else manages accounts.

use crate::db::users::UserScope;
use crate::domain::{Department, Role};
use crate::error::ApiError;

use super::AuthUser;

/// The account the caller wants to create or change, as it would be afterwards.
pub struct AccountShape<'a> {
    pub role: Role,
    pub commune_id: Option<&'a str>,
    pub village_ids: &'a [String],
}

fn is_commune_manager(actor: &AuthUser) -> bool {
    actor.role == Role::Chairman
        || (actor.role == Role::Department && actor.department == Some(Department::CultureSocial))
}

/// Which accounts `actor` may list and read; `None` when it may not manage accounts at all.
pub fn manageable_scope(actor: &AuthUser) -> Option<UserScope> {
    match actor.role {
        Role::Admin => Some(UserScope::All),
        _ if is_commune_manager(actor) => actor.commune_id.clone().map(UserScope::Commune),
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
pub fn ensure_may_assign(actor: &AuthUser, shape: &AccountShape<'_>) -> Result<(), ApiError> {
    match actor.role {
        Role::Admin => Ok(()),
        _ if is_commune_manager(actor) => {
            if matches!(shape.role, Role::Admin | Role::City) {
                return Err(forbidden(
                    "role_not_assignable",
                    "Only an administrator grants this role.",
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

/// True when the account (with its commune and villages) is inside what `actor` manages.
pub fn may_manage(
    actor: &AuthUser,
    role: Role,
    commune_id: Option<&str>,
    village_ids: &[String],
) -> bool {
    match actor.role {
        Role::Admin => true,
        _ if is_commune_manager(actor) => {
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

    fn user(
        role: Role,
        department: Option<Department>,
        commune: Option<&str>,
        villages: &[&str],
    ) -> AuthUser {
        AuthUser {
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
        assert!(ensure_may_assign(&cs, &chairman).is_ok());
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
