//! Findings (stub).
