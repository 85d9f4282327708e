//! Output formats of the audit: the connectivity map (csv, text, json, dot) and findings (text,
//! json, sarif, junit). Every renderer returns a `String`, sorted and deterministic; none prints.

pub mod csv;
