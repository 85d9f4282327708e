//! `airguard audit`: read manifests, compute NetworkPolicy connectivity, report findings.
//!
//! Exit codes: 0 when no finding is at or above `--fail-on`, 1 when one is, 2 on bad input
//! (unreadable files, YAML errors, objects or policies the API server would reject), reported
//! as JSON diagnostics on stdout with `--format json` and as text on stderr otherwise. With
//! `--explain`, prints why one flow is allowed or denied and exits 0 when it is allowed, 1 when not.

use super::{Color, DiagFormat, Reporter, Status};
use crate::audit::{self, format};
use crate::diag::Severity;
use camino::Utf8PathBuf;
use clap::ValueEnum;

/// Output format of `airguard audit`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// Summary, findings with source snippets, then the connectivity map.
    #[default]
    Text,
    /// A versioned JSON document.
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// JUnit XML, one test case per finding code.
    Junit,
    /// The connectivity map as `src,dst,conns`.
    Csv,
    /// The connectivity map as a Graphviz digraph.
    Dot,
    /// One self-contained HTML page: summary, graph, matrix, findings.
    Html,
}

/// The lowest severity that makes the run fail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail on errors only.
    #[default]
    Error,
    /// Fail on warnings and errors.
    Warning,
    /// Fail on any finding.
    Note,
    /// Never fail because of findings.
    Never,
}

impl FailOn {
    /// The lowest failing severity (`None`: never).
    pub fn severity(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Note => Some(Severity::Note),
            FailOn::Never => None,
        }
    }
}

/// Arguments of `airguard audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// YAML files or directories of manifests (NetworkPolicies, Namespaces, Pods, workloads).
    #[arg(required_unless_present = "spec")]
    pub paths: Vec<Utf8PathBuf>,
    /// An airguard spec: add one endpoint per component it deploys, and check the allowed flows
    /// against the flows it declares.
    #[arg(long)]
    pub spec: Option<Utf8PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Explain one flow instead: "SRC DST PORT/PROTO" (ends are namespace/name or an IP address).
    #[arg(long, value_name = "SRC DST PORT/PROTO")]
    pub explain: Option<String>,
}

/// Run the audit.
pub fn run(args: Args, color: Color) -> anyhow::Result<Status> {
    let input = audit::Input::read(&args.paths, args.spec.as_deref());
    let audit = match input.analyze() {
        Ok(audit) => audit,
        Err(diags) => {
            // Input errors follow `--format`: JSON diagnostics for `json`, text otherwise (with
            // the inputs' control characters made visible).
            if args.format == AuditFormat::Json {
                Reporter::new(DiagFormat::Json, color).report(&input.files, &diags);
            } else {
                let (files, diags) = format::terminal_safe(&input.files, &diags);
                Reporter::new(DiagFormat::Human, color).report(&files, &diags);
            }
            return Ok(Status::InputError);
        }
    };
    if let Some(q) = &args.explain {
        let (allowed, text) = audit.explain(q)?;
        crate::output::print(&crate::text::visible(&text));
        return Ok(if allowed { Status::Ok } else { Status::Failed });
    }
    let findings = audit.findings();
    let rows = audit.analysis.class_rows();
    let report = format::Report {
        analysis: &audit.analysis,
        files: &input.files,
        findings: &findings,
        rows: &rows,
        fail_on: args.fail_on.severity(),
    };
    let out = match args.format {
        AuditFormat::Text => format::text::render(&report, color == Color::Always),
        AuditFormat::Json => format::json::render(&report),
        AuditFormat::Sarif => format::sarif::render(&report),
        AuditFormat::Junit => format::junit::render(&report),
        AuditFormat::Csv => format::csv::render(&rows),
        AuditFormat::Dot => format::dot::render(&report),
        AuditFormat::Html => {
            format::html::render(&report, input.intent.as_ref().map(|i| i.document.file))
        }
    };
    crate::output::print(&out);
    let failed = findings.active.iter().any(|d| report.fails(d));
    Ok(if failed { Status::Failed } else { Status::Ok })
}
