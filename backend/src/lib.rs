//! AutoDB: run SQL on fleets of databases, safely and on the record.
//!
//! Layers, each calling only downward: `api` (HTTP) → `services` (domain rules) →
//! `store` (AutoDB's own metadata, diesel) and `connectors` (target databases).

pub mod api;
pub mod backup;
pub mod cli;
pub mod config;
pub mod connectors;
pub mod crypto;
pub mod domain;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod release;
pub mod services;
pub mod startup;
pub mod store;
pub mod work;
