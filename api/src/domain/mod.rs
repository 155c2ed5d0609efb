//! Validated domain types: a value that exists is valid. Each parses from untrusted input with a
//! [`FieldError`](crate::error::FieldError) naming what is wrong, and keeps its field private.

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
