//! Integration tests: one binary (linking is the slow part of a Rust test build), one module
//! per capability. Each test gets its own database cloned from a migrated template.

mod common;

mod config_cli;
mod foundation;
