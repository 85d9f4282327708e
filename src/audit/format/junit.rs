//! JUnit XML: one test case per finding code. A case fails when it has a finding at or above
//! `--fail-on`; findings below it are listed in `system-out`. No timestamps, so output is stable.
//! Text from the inputs goes through [`crate::text::xml_escape`], so the document is always valid XML.

use super::{position, Report, FINDING_CODES};
use crate::text::xml_escape as esc;
use std::fmt::Write;

/// Render the findings as a JUnit XML report.
pub fn render(r: &Report<'_>) -> String {
    let mut cases = String::new();
    let mut failures = 0;
    for code in FINDING_CODES {
        let found: Vec<_> = r
            .findings
            .active
            .iter()
            .filter(|d| d.code == *code)
            .collect();
        let failing = found.iter().filter(|d| r.fails(d)).count();
        let lines: Vec<String> = found
            .iter()
            .map(|d| {
                let at =
                    position(r.files, d).map_or(String::new(), |(f, l, _)| format!("{f}:{l}: "));
                format!("{at}{}: {}", d.severity, d.message)
            })
            .collect();
        let _ = write!(
            cases,
            "    <testcase classname=\"airguard.audit\" name=\"{}\"",
            code.as_str()
        );
        if found.is_empty() {
            cases.push_str("/>\n");
            continue;
        }
        cases.push_str(">\n");
        if failing > 0 {
            failures += 1;
            let _ = writeln!(
                cases,
                "      <failure type=\"{}\" message=\"{} finding(s)\">{}</failure>",
                code.as_str(),
                failing,
                esc(&lines.join("\n"))
            );
        } else {
            let _ = writeln!(
                cases,
                "      <system-out>{}</system-out>",
                esc(&lines.join("\n"))
            );
        }
        cases.push_str("    </testcase>\n");
    }
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"airguard audit\" tests=\"{}\" failures=\"{failures}\">",
        FINDING_CODES.len()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"airguard audit\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        FINDING_CODES.len()
    );
    s.push_str(&cases);
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}
