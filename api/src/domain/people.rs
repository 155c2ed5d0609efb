use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

/// A Vietnamese phone number, stored as digits: a leading `+84`/`84` becomes `0`; 10 digits
/// (mobile) or 11 (landline with area code).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let mut digits: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
            .collect();
        if let Some(rest) = digits.strip_prefix("+84") {
            digits = format!("0{rest}");
        } else if digits.starts_with("84") && digits.len() == 11 {
            digits = format!("0{}", &digits[2..]);
        }
        let valid = digits.starts_with('0')
            && (digits.len() == 10 || digits.len() == 11)
            && digits.chars().all(|c| c.is_ascii_digit());
        if !valid {
            return Err(FieldError::new(
                field,
                "invalid_phone",
                "a phone number has 10 or 11 digits and starts with 0 or +84",
            ));
        }
        Ok(PhoneNumber(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A birth year between 1900 and this year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BirthYear(i32);

impl BirthYear {
    pub fn parse(year: i32, field: &str, current_year: i32) -> Result<Self, FieldError> {
        if !(1900..=current_year).contains(&year) {
            return Err(FieldError::new(
                field,
                "out_of_range",
                format!("a birth year is between 1900 and {current_year}"),
            ));
        }
        Ok(BirthYear(year))
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
    Other,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
            Sex::Other => "other",
        }
    }
    pub fn from_db(s: &str) -> Option<Sex> {
        match s {
            "male" => Some(Sex::Male),
            "female" => Some(Sex::Female),
            "other" => Some(Sex::Other),
            _ => None,
        }
    }
}

/// Where a service's adoption stands for one person or household.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdoptionStatus {
    Unknown,
    NotYet,
    Assisted,
    Done,
    Declined,
    NotApplicable,
}

impl AdoptionStatus {
    pub const ALL: [AdoptionStatus; 6] = [
        AdoptionStatus::Unknown,
        AdoptionStatus::NotYet,
        AdoptionStatus::Assisted,
        AdoptionStatus::Done,
        AdoptionStatus::Declined,
        AdoptionStatus::NotApplicable,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            AdoptionStatus::Unknown => "unknown",
            AdoptionStatus::NotYet => "not_yet",
            AdoptionStatus::Assisted => "assisted",
            AdoptionStatus::Done => "done",
            AdoptionStatus::Declined => "declined",
            AdoptionStatus::NotApplicable => "not_applicable",
        }
    }
    pub fn from_db(s: &str) -> AdoptionStatus {
        AdoptionStatus::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .unwrap_or(AdoptionStatus::Unknown)
    }
}

/// Whether a service is adopted by each person or once per household.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceLevel {
    Person,
    Household,
}

impl ServiceLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceLevel::Person => "person",
            ServiceLevel::Household => "household",
        }
    }
    pub fn from_db(s: &str) -> ServiceLevel {
        if s == "household" {
            ServiceLevel::Household
        } else {
            ServiceLevel::Person
        }
    }
}

/// A team member's position in the team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    Leader,
    Deputy,
    Member,
}

impl Position {
    pub fn as_str(self) -> &'static str {
        match self {
            Position::Leader => "leader",
            Position::Deputy => "deputy",
            Position::Member => "member",
        }
    }
    pub fn from_db(s: &str) -> Position {
        match s {
            "leader" => Position::Leader,
            "deputy" => Position::Deputy,
            _ => Position::Member,
        }
    }
}

/// The organisation a team member comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Commune official or civil servant.
    Official,
    PartyMember,
    Teacher,
    YouthUnion,
    WomensUnion,
    Police,
    HealthWorker,
    Veterans,
    FatherlandFront,
    Volunteer,
    Other,
}

impl Origin {
    pub const ALL: [Origin; 11] = [
        Origin::Official,
        Origin::PartyMember,
        Origin::Teacher,
        Origin::YouthUnion,
        Origin::WomensUnion,
        Origin::Police,
        Origin::HealthWorker,
        Origin::Veterans,
        Origin::FatherlandFront,
        Origin::Volunteer,
        Origin::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Official => "official",
            Origin::PartyMember => "party_member",
            Origin::Teacher => "teacher",
            Origin::YouthUnion => "youth_union",
            Origin::WomensUnion => "womens_union",
            Origin::Police => "police",
            Origin::HealthWorker => "health_worker",
            Origin::Veterans => "veterans",
            Origin::FatherlandFront => "fatherland_front",
            Origin::Volunteer => "volunteer",
            Origin::Other => "other",
        }
    }
    pub fn from_db(s: &str) -> Origin {
        Origin::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .unwrap_or(Origin::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_normalised_to_local_digits() {
        assert_eq!(
            PhoneNumber::parse("0912 345 678", "phone")
                .expect("valid")
                .as_str(),
            "0912345678"
        );
        assert_eq!(
            PhoneNumber::parse("+84 912.345.678", "phone")
                .expect("valid")
                .as_str(),
            "0912345678"
        );
        assert_eq!(
            PhoneNumber::parse("84912345678", "phone")
                .expect("valid")
                .as_str(),
            "0912345678"
        );
        assert_eq!(
            PhoneNumber::parse("12345", "phone")
                .expect_err("short")
                .code,
            "invalid_phone"
        );
        assert_eq!(
            PhoneNumber::parse("09123456ab", "phone")
                .expect_err("letters")
                .code,
            "invalid_phone"
        );
    }

    #[test]
    fn birth_years_must_be_plausible() {
        assert_eq!(
            BirthYear::parse(1950, "b", 2026).expect("valid").get(),
            1950
        );
        assert_eq!(
            BirthYear::parse(1899, "b", 2026).expect_err("old").code,
            "out_of_range"
        );
        assert_eq!(
            BirthYear::parse(2027, "b", 2026).expect_err("future").code,
            "out_of_range"
        );
    }

    #[test]
    fn enums_round_trip_through_their_keys() {
        for s in AdoptionStatus::ALL {
            assert_eq!(AdoptionStatus::from_db(s.as_str()), s);
        }
        for o in Origin::ALL {
            assert_eq!(Origin::from_db(o.as_str()), o);
        }
    }
}
