//! Validated domain types: a value that exists is valid. Each parses from untrusted input with a
//! [`FieldError`](crate::error::FieldError) naming what is wrong, and keeps its field private.

pub mod codes;
mod password;
mod people;
mod role;
pub mod search;
mod text;
mod username;

pub use password::Password;
pub use people::{AdoptionStatus, BirthYear, Origin, PhoneNumber, Position, ServiceLevel, Sex};
pub use role::{Department, Role};
pub use text::{optional_text, Code, DisplayName};
pub use username::Username;

/// Parses an optional display name of a PATCH body; an invalid one is added to `errors`.
pub fn optional_name(
    raw: Option<&str>,
    field: &str,
    errors: &mut Vec<crate::error::FieldError>,
) -> Option<crate::domain::DisplayName> {
    raw.map(|n| crate::domain::DisplayName::parse(n, field))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
}

/// The `reason` of an irreversible action (voiding, erasing), kept in the audit log: trimmed, 1 to
/// 500 characters, or a 400 `validation_failed` naming the field.
pub fn required_reason(raw: &str) -> Result<String, crate::error::ApiError> {
    let reason = raw.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(crate::error::ApiError::validation(vec![
            crate::error::FieldError::new("reason", "length", "say why, in 1 to 500 characters"),
        ]));
    }
    Ok(reason.to_owned())
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`) in PATCH bodies.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// A value read back from the database that the server does not know (a role, a department…):
/// the data is damaged or newer than this binary; an error, never a default.
pub fn stored<T>(parsed: Result<T, crate::error::FieldError>) -> Result<T, crate::error::ApiError> {
    parsed.map_err(|e| {
        crate::error::ApiError::internal(anyhow::anyhow!(
            "unknown stored value: {}: {}",
            e.field,
            e.message
        ))
    })
}
