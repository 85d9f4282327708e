//! `airguard audit`: read manifests, compute NetworkPolicy connectivity, report findings.
//!
//! Exit codes: 0 when no finding is at or above `--fail-on`, 1 when one is, 2 on bad input
//! (unreadable files, YAML errors, objects or policies the API server would reject). With
//! `--explain`, prints why one flow is allowed or denied and exits 0 when it is allowed, 1 when not.

use super::{Color, Status};
use crate::audit::{self, format};
use crate::diag::{self, Files, Severity};
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
    let mut files = Files::new();
    let (mut inv, mut diags) = audit::load(&mut files, &args.paths);
    let mut intent = None;
    if let Some(path) = &args.spec {
        let loaded = crate::spec::load_file(&mut files, path);
        diags.extend(loaded.diagnostics);
        if let (Some(raw), Some(doc)) = (loaded.raw, loaded.document) {
            let mut spec_diags = Vec::new();
            let model = crate::spec::validate::validate(&raw, &doc, &mut spec_diags);
            let bad = diag::has_errors(&spec_diags);
            diags.extend(spec_diags);
            if let (Some(model), false) = (model, bad) {
                let topo = crate::topology::Topology::from_model(&model);
                let loc = audit::inventory::Loc {
                    file: doc.file,
                    offset: 0,
                };
                audit::intent::add_endpoints(&mut inv, &topo, loc);
                intent = Some((topo, doc));
            }
        }
    }
    let inv = inv;
    let (analysis, more) = audit::analyze(&inv);
    diags.extend(more);
    if diag::has_errors(&diags) {
        diag::sort(&mut diags);
        let (files, diags) = format::terminal_safe(&files, &diags);
        let mut s = diag::render::human(&files, &diags, color.enabled());
        s.push_str(&format!("{}\n", diag::render::summary(&diags)));
        crate::output::eprint(&s);
        return Ok(Status::InputError);
    }
    if let Some(q) = &args.explain {
        let (allowed, text) = audit::explain::explain(&analysis, &files, q)?;
        crate::output::print(&crate::text::visible(&text));
        return Ok(if allowed { Status::Ok } else { Status::Failed });
    }
    let mut findings = audit::findings::findings(&analysis);
    if let Some((topo, doc)) = &intent {
        findings
            .active
            .extend(audit::intent::check(&analysis, topo, doc.file, Some(doc)));
        diag::sort(&mut findings.active);
    }
    let rows = analysis.class_rows();
    let report = format::Report {
        analysis: &analysis,
        files: &files,
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
    };
    crate::output::print(&out);
    let failed = findings.active.iter().any(|d| report.fails(d));
    Ok(if failed { Status::Failed } else { Status::Ok })
}
