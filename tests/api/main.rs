//! One integration-test binary; every module runs its tests on SQLite and on PostgreSQL.

mod helpers;

mod accounts;
mod auth;
mod cli;
mod errors;
mod health;
mod migrations;
mod openapi;
mod sessions;
mod static_files;
