pub mod connectors;
