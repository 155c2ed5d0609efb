//! The one access policy (DESIGN §1): who may see and do what, decided here and nowhere else.
//!
//! Every path that reads or writes — handlers, the sync push and pull, exports and the change feed —
//! asks this module: named capabilities (`may_manage_commune`, `may_reset_password_of`, …), the
//! object scope a caller reads and writes in ([`scope`]), which accounts it manages ([`accounts`]),
//! and which personal fields of each kind of object come back to it ([`Visibility`]). A check
//! written out in a handler drifts from its siblings; a named capability here is changed once.
//!
//! Nothing in here knows HTTP: the [`Caller`] is built by `auth` from a token or an API key.

pub mod accounts;
mod scope;

pub use scope::PERSONAL_DATA_DEPARTMENTS;

use crate::db::audit::Actor;
use crate::domain::{Department, Role};
use crate::error::ApiError;

/// The authenticated caller, with the scope every check needs.
#[derive(Clone, Debug)]
pub struct Caller {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub department: Option<Department>,
    pub commune_id: Option<String>,
    pub village_ids: Vec<String>,
    pub must_change_password: bool,
    /// The login session (refresh-token family) the access token belongs to.
    pub session_id: Option<String>,
    /// Set when the caller is a third-party system using an API key (then `id` is the key's id).
    pub api_key: Option<String>,
}

impl<'a> From<&'a Caller> for Actor<'a> {
    fn from(c: &'a Caller) -> Self {
        Actor {
            id: &c.id,
            label: &c.username,
        }
    }
}

/// The one shape of "this role may not do this" (403 `role_not_allowed`).
pub fn role_not_allowed(detail: impl Into<String>) -> ApiError {
    ApiError::Forbidden {
        code: "role_not_allowed",
        detail: detail.into(),
    }
}

/// `Ok` when `allowed`, else [`role_not_allowed`] with `detail`.
pub fn require(allowed: bool, detail: &str) -> Result<(), ApiError> {
    if allowed {
        Ok(())
    } else {
        Err(role_not_allowed(detail))
    }
}

impl Caller {
    /// Refuses with 403 unless the caller has one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(role_not_allowed(format!(
                "The role `{}` may not do this.",
                self.role.as_str()
            )))
        }
    }

    /// Who to write in the audit log for what this caller does.
    pub fn actor(&self) -> Actor<'_> {
        Actor::from(self)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The culture-social office: the plan's coordinator (teams, reports, awards, the inbox).
    pub fn is_culture_social(&self) -> bool {
        self.role == Role::Department && self.department == Some(Department::CultureSocial)
    }

    /// The commune's managers: its chairman and its culture-social office. They manage the
    /// commune's accounts below the chairman, keep its plan and coordinate its teams.
    pub fn is_commune_manager(&self) -> bool {
        self.role == Role::Chairman || self.is_culture_social()
    }

    /// May the caller keep the commune's plan, targets and funds (chairman, culture-social office,
    /// an administrator for any commune)?
    pub fn may_keep_plan(&self) -> bool {
        self.is_admin() || self.is_commune_manager()
    }

    /// May the caller prepare the commune's reports and propose awards (the culture-social office,
    /// an administrator)? The chairman approves what they prepare, so never prepares it.
    pub fn may_prepare_for_chairman(&self) -> bool {
        self.is_admin() || self.is_culture_social()
    }

    /// May the caller watch sync health and review conflicts (leaders and the commune's managers)?
    pub fn may_review_sync(&self) -> bool {
        matches!(self.role, Role::Admin | Role::VillageLeader) || self.is_commune_manager()
    }

    /// May the caller read free-text notes of field records (assistance records, communication
    /// activities)? Notes may name people and their circumstances: the same roles as names.
    pub fn may_read_notes(&self) -> bool {
        self.sees_personal_data()
    }

    /// What of each kind of object this caller reads.
    pub fn visibility(&self) -> Visibility {
        Visibility {
            personal: self.sees_personal_data(),
            notes: self.may_read_notes(),
            free_text: self.role != Role::City,
        }
    }
}

/// Which personal fields come back to a caller: decided once per caller by the policy and applied
/// by every path that answers with objects (handlers, pull, exports, the change feed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Visibility {
    /// Names and phone numbers of households and residents. (Team members' names and phones are
    /// the teams' work contacts: every office of the commune reads them, to train and reach them.)
    pub personal: bool,
    /// Free-text notes of assistance records and communication activities.
    pub notes: bool,
    /// What a team wrote to the offices: a difficulty's title, description and thread. Every role
    /// of the commune reads it (it is addressed to the offices); city oversight and API keys, which
    /// read figures, do not.
    pub free_text: bool,
}

impl Visibility {
    /// Everything: for the caller's own view of what it just wrote.
    pub const ALL: Visibility = Visibility {
        personal: true,
        notes: true,
        free_text: true,
    };

    /// A name or phone number, or nothing.
    pub fn personal<T>(self, value: Option<T>) -> Option<T> {
        value.filter(|_| self.personal)
    }

    /// A free-text note, or nothing.
    pub fn note<T>(self, value: Option<T>) -> Option<T> {
        value.filter(|_| self.notes)
    }

    /// A team's words to the offices, or nothing.
    pub fn text<T>(self, value: Option<T>) -> Option<T> {
        value.filter(|_| self.free_text)
    }
}

/// What an answer holds, which decides whether a browser or proxy may keep a copy. Every answer of
/// the API is `Personal` unless its handler declares otherwise (`security::cache_by_data_class`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataClass {
    /// Names, phones, notes, addresses, who did what: never stored by a cache (`no-store`).
    Personal,
}

impl DataClass {
    /// The `Cache-Control` value answers of this class carry.
    pub fn cache_control(self) -> &'static str {
        match self {
            DataClass::Personal => "no-store",
        }
    }
}
