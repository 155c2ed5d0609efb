//! Object scope for the commune's registry (DESIGN §1): who reads which households, who writes them,
//! and who sees personal data. A caller asking for an object outside its scope gets 404, never the data.

use crate::db::registry::HouseholdScope;
use crate::domain::{Department, Role};
use crate::error::ApiError;

use super::Caller;

/// Departments whose work needs residents' names and phones (follow-up of person-level services).
pub const PERSONAL_DATA_DEPARTMENTS: [Department; 4] = [
    Department::Police,
    Department::Health,
    Department::CultureSocial,
    Department::ServiceCenter,
];

impl Caller {
    /// Which households the caller may read; the city sees aggregates only.
    pub fn household_scope(&self) -> Result<HouseholdScope, ApiError> {
        match self.role {
            Role::Admin => Ok(HouseholdScope::All),
            Role::Chairman | Role::Department => self
                .commune_id
                .clone()
                .map(HouseholdScope::Commune)
                .ok_or_else(no_scope),
            Role::VillageLeader | Role::Volunteer => {
                Ok(HouseholdScope::Villages(self.village_ids.clone()))
            }
            Role::City => Err(ApiError::Forbidden {
                code: "personal_data_not_allowed",
                detail: "City oversight sees indicators and reports, not households.".into(),
            }),
        }
    }

    /// True when an object of this commune and village is inside the caller's read scope.
    pub fn can_read_in(&self, commune_id: &str, village_id: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Chairman | Role::Department => self.commune_id.as_deref() == Some(commune_id),
            Role::VillageLeader | Role::Volunteer => {
                self.village_ids.iter().any(|v| v == village_id)
            }
            Role::City => false,
        }
    }

    /// Refuses with 404 when the object is outside the caller's read scope.
    pub fn ensure_readable(
        &self,
        commune_id: &str,
        village_id: &str,
        what: &str,
    ) -> Result<(), ApiError> {
        if self.can_read_in(commune_id, village_id) {
            Ok(())
        } else {
            Err(ApiError::NotFound {
                code: "not_found",
                detail: format!("No such {what}."),
            })
        }
    }

    /// Refuses with 403 unless the caller registers households in this village: volunteers and
    /// leaders of the village, the culture-social office of the commune, or an administrator.
    pub fn ensure_registry_writer(
        &self,
        commune_id: &str,
        village_id: &str,
    ) -> Result<(), ApiError> {
        let allowed = match self.role {
            Role::Admin => true,
            Role::Department => {
                self.is_culture_social() && self.commune_id.as_deref() == Some(commune_id)
            }
            Role::VillageLeader | Role::Volunteer => {
                self.village_ids.iter().any(|v| v == village_id)
            }
            Role::Chairman | Role::City => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(crate::access::role_not_allowed(
                "This role does not change the household registry.",
            ))
        }
    }

    /// Leaders who may delete households and correct adoption statuses: village leaders of the
    /// village, the culture-social office, an administrator.
    pub fn ensure_registry_leader(
        &self,
        commune_id: &str,
        village_id: &str,
    ) -> Result<(), ApiError> {
        let allowed = match self.role {
            Role::Admin => true,
            Role::Department => {
                self.is_culture_social() && self.commune_id.as_deref() == Some(commune_id)
            }
            Role::VillageLeader => self.village_ids.iter().any(|v| v == village_id),
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(crate::access::role_not_allowed(
                "Only a village leader or the culture-social office may do this.",
            ))
        }
    }

    /// A short fingerprint of what the caller's scope is (role, department, commune, villages).
    /// Sync cursors carry it, so a cursor read in another scope is never continued: the phone
    /// starts again from the new scope (`reset`), holding exactly what its user may see.
    pub fn scope_stamp(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut villages = self.village_ids.clone();
        villages.sort();
        let mut h = Sha256::new();
        h.update(self.role.as_str());
        h.update([0]);
        h.update(self.department.map(|d| d.as_str()).unwrap_or(""));
        h.update([0]);
        h.update(self.commune_id.as_deref().unwrap_or(""));
        for v in villages {
            h.update([0]);
            h.update(v);
        }
        let digest = h.finalize();
        digest[..6].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether names and phone numbers are shown to this caller.
    pub fn sees_personal_data(&self) -> bool {
        match self.role {
            Role::Admin | Role::Chairman | Role::VillageLeader | Role::Volunteer => true,
            Role::Department => self
                .department
                .is_some_and(|d| PERSONAL_DATA_DEPARTMENTS.contains(&d)),
            Role::City => false,
        }
    }

    /// Reads of personal data by office roles are written to the audit log (field roles read their
    /// own villages all day; their access is audited per sync instead).
    pub fn personal_reads_are_audited(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Chairman | Role::Department)
            && self.sees_personal_data()
    }
}

fn no_scope() -> ApiError {
    ApiError::Forbidden {
        code: "no_scope",
        detail: "This account is not attached to a commune.".into(),
    }
}
