//! Explain (stub).
