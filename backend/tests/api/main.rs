//! HTTP-level tests: the real application on port 0, a fresh metadata store per test
//! (SQLite by default; PostgreSQL when AUTODB_TEST_STORE=postgres), real target databases.

mod api_document;
mod audit;
mod auth;
mod auth_attacks;
mod bad_input;
mod csv_export;
mod fencing;
mod grants;
mod health;
mod helpers;
mod jobs;
mod jobs_fleet;
mod jobs_list;
mod jobs_retry;
mod metrics;
mod output_caps;
mod permissions;
mod queries;
mod queries_attacks;
mod queries_pg_escapes;
mod queries_types;
mod query_account;
mod roles;
mod routes;
mod sakila;
mod schedules;
mod script_secrets;
mod sqlite_confine;
mod static_ui;
mod target_health;
mod target_rebind;
mod target_schema;
mod targets;
mod users;
