use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

/// What a user is in the commune's organisation (DESIGN §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// System administrator: every commune.
    Admin,
    /// City oversight (Department of Science and Technology, city People's Committee): read-only.
    City,
    /// Commune chairman, head of the commune CDT team.
    Chairman,
    /// A commune department or office; which one is in `department`.
    Department,
    /// Village head, leader of the village CDT team.
    VillageLeader,
    /// Team member who logs visits in the field.
    Volunteer,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::City,
        Role::Chairman,
        Role::Department,
        Role::VillageLeader,
        Role::Volunteer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::City => "city",
            Role::Chairman => "chairman",
            Role::Department => "department",
            Role::VillageLeader => "village_leader",
            Role::Volunteer => "volunteer",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| {
                FieldError::new("role", "unknown_role", format!("`{raw}` is not a role"))
            })
    }
}

/// The commune departments that own digital services (DESIGN §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Department {
    /// Commune police (VNeID, Đề án 06).
    Police,
    /// Commune health station.
    Health,
    /// Schools.
    Education,
    /// Economy office.
    Economy,
    /// Culture and social affairs office (the plan's coordinator).
    CultureSocial,
    /// Public administrative service centre.
    ServiceCenter,
    /// Commune youth union.
    YouthUnion,
}

impl Department {
    pub const ALL: [Department; 7] = [
        Department::Police,
        Department::Health,
        Department::Education,
        Department::Economy,
        Department::CultureSocial,
        Department::ServiceCenter,
        Department::YouthUnion,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Department::Police => "police",
            Department::Health => "health",
            Department::Education => "education",
            Department::Economy => "economy",
            Department::CultureSocial => "culture_social",
            Department::ServiceCenter => "service_center",
            Department::YouthUnion => "youth_union",
        }
    }

    /// The office's name as the commune writes it (in reports and exported files).
    pub fn name_vi(self) -> &'static str {
        match self {
            Department::Police => "Công an xã",
            Department::Health => "Trạm Y tế xã",
            Department::Education => "Các trường học",
            Department::Economy => "Phòng Kinh tế",
            Department::CultureSocial => "Phòng Văn hóa – Xã hội",
            Department::ServiceCenter => "Trung tâm phục vụ hành chính công",
            Department::YouthUnion => "Đoàn thanh niên xã",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Department::ALL
            .into_iter()
            .find(|d| d.as_str() == raw)
            .ok_or_else(|| {
                FieldError::new(
                    "department",
                    "unknown_department",
                    format!("`{raw}` is not a department"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_departments_round_trip_through_their_keys() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).expect("known"), r);
            assert_eq!(serde_json::to_value(r).expect("json"), r.as_str());
        }
        for d in Department::ALL {
            assert_eq!(Department::parse(d.as_str()).expect("known"), d);
            assert_eq!(serde_json::to_value(d).expect("json"), d.as_str());
        }
        assert_eq!(
            Role::parse("root").expect_err("unknown").code,
            "unknown_role"
        );
    }
}
