//! `airguard conform`: run the Airbyte lifecycle (health, connection, sync, wait, stats,
//! validate, reset, clear) against a real Airbyte API or the built-in mock, and report it.
//!
//! Three layers, each usable on its own: [`client`] speaks HTTP to either Airbyte API flavour and
//! turns responses into validated types; [`runner`] executes the spec's pipelines with that
//! client and produces a [`report::Report`]; [`report`] renders it as a human table, JSON, JUnit
//! XML or Prometheus text. [`target`] is the use case the commands call: a live API or the
//! built-in mock in, a report out. Nothing here prints secrets: credentials live in
//! `secrecy::SecretString` and only their environment-variable names ever appear in messages.
//! Nothing here writes files; the CLI does.

pub mod client;
pub mod report;
pub mod runner;
pub mod target;

pub use target::{Target, TargetError};
