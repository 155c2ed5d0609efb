//! One integration-test binary; every module runs its tests on SQLite and on PostgreSQL.

mod helpers;

mod access_matrix;
mod accounts;
mod api_keys;
mod auth;
mod cli;
mod emulation;
mod errors;
mod exports;
mod feed;
mod health;
mod imports;
mod instances;
mod materials;
mod metrics;
mod migrations;
mod openapi;
mod plans;
mod policy;
mod privacy;
mod proxies;
mod registry;
mod reports;
mod scope;
mod security;
mod sessions;
mod static_files;
mod stats;
mod sync;
mod sync_faults;
mod sync_fuzz;
mod tallies;
mod teamwork;
mod telemetry;
mod webhooks;
