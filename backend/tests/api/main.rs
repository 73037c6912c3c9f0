//! HTTP-level tests: the real application on port 0, a fresh metadata store per test
//! (SQLite by default; PostgreSQL when AUTODB_TEST_STORE=postgres), real target databases.

mod audit;
mod auth;
mod bad_input;
mod health;
mod helpers;
mod jobs;
mod output_caps;
mod queries;
mod queries_attacks;
mod queries_types;
mod routes;
mod sakila;
mod script_secrets;
mod targets;
mod users;
