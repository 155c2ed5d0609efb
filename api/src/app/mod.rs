//! The application layer: the use cases behind the HTTP handlers, the sync push and pull, the CLI
//! and the background jobs. Nothing here knows actix; every path that does the same thing calls the
//! same function here, and who may do it is asked of [`crate::access`].

pub mod materials;
pub mod member_import;
pub mod registry;
pub mod retention;
pub mod teamwork;
