//! One integration-test binary; every module runs its tests on SQLite and on PostgreSQL.

mod helpers;

mod auth;
mod cli;
mod errors;
mod health;
mod migrations;
mod openapi;
mod static_files;
