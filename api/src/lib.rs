//! Từng Nhà: the work platform of Vietnam's Community Digital Technology Teams.

pub mod access;
pub mod app;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod client;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod paging;
pub mod registry_io;
pub mod routes;
pub mod security;
pub mod seed;
pub mod startup;
pub mod state;
pub mod static_files;
pub mod stats;
pub mod sync;
pub mod telemetry;
pub mod webhooks;
