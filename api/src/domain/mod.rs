//! Validated domain types: a value that exists is valid. Each parses from untrusted input with a
//! [`FieldError`](crate::error::FieldError) naming what is wrong, and keeps its field private.

mod password;
mod role;
mod text;
mod username;

pub use password::Password;
pub use role::{Department, Role};
pub use text::DisplayName;
pub use username::Username;
