//! airguard: one declarative spec for Airbyte beside Airflow on Kubernetes.
//!
//! The crate is a library with a thin binary (`src/main.rs`). The module list below is the
//! architecture; `ARCHITECTURE.md` explains it. Data flows one way:
//! `spec` (load → validate → [`spec::Model`]) → `render` (pure: Model → artifacts) → `output`
//! (the only writer). `diag` is the leaf every module reports through; `input` is the one bounded file reader.

// Printing goes through `output::print`/`output::eprint` only (they write to locked handles, so
// no print macro is needed anywhere in the library).
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod audit;
pub mod calendar;
pub mod cli;
pub mod conform;
pub mod diag;
pub mod export;
pub mod generated;
pub mod input;
pub mod metrics;
pub mod mock;
pub mod output;
pub mod render;
pub mod spec;
pub mod text;
pub mod topology;
