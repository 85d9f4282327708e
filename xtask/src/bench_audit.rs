//! `cargo xtask bench audit`: NetworkPolicy audit time and peak memory by cluster size.
//!
//! Generates clusters with `airguard::audit::synth` (seed 42) of 500 / 5 000 / 50 000 pods in
//! 20 / 200 / 2 000 namespaces with one policy per five pods (plus a default deny in 90 % of the
//! namespaces), and audits each in a child process so peak memory (VmHWM) is per size: parse,
//! compile + connectivity, findings, and the size of the endpoint-level map. When `AIRGUARD_NCA`
//! names network-config-analyzer, it also times NCA on the 500-pod cluster and prints the ratio.
//! Targets on a 2-core machine: 5 000 pods < 1 s, 50 000 pods < 15 s and < 2 GB. For each size
//! it also renders the HTML report and prints its size and render time (goal at 5 000 pods:
//! under 1 s and 5 MB).
//!
//! Then the scale cases, each in its own child, with time and peak memory: 50 000 pods with
//! unique labels and no policy (one class: no policy tells them apart), and 10 000 policies each
//! selecting one pod. Each must stay under 5 s and 1 GB, or the benchmark fails. The time covers
//! parsing, the engine and findings; the class-level map (what the formats list) is built too.

use anyhow::{bail, Context, Result};
use std::fmt::Write;
use std::time::Instant;

const SIZES: [(usize, usize); 3] = [(500, 20), (5_000, 200), (50_000, 2_000)];

fn params(pods: usize, namespaces: usize) -> airguard::audit::synth::Params {
    airguard::audit::synth::Params {
        namespaces,
        pods,
        policies: pods / 5,
        default_deny_percent: 90,
        apps: 5,
        wide_peers_percent: 5,
        nca_safe: true,
        seed: 42,
    }
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// The scale cases: (name, cluster text generator). Each must take under 5 s and 1 GB.
type Case = (&'static str, fn() -> String);

const SCALE: [Case; 2] = [
    (
        "50 000 pods, unique labels, no policy",
        unique_pods_no_policy,
    ),
    ("10 000 policies, one pod each", one_pod_per_policy),
];

/// 50 000 pods in 50 namespaces, each with labels no other pod has, and no NetworkPolicy: no
/// policy tells them apart, so they are one class (the endpoint-level map has 2.5e9 pairs).
fn unique_pods_no_policy() -> String {
    let mut s = String::with_capacity(50_000 * 200);
    for i in 0..50_000 {
        let _ = write!(
            s,
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: pod-{i}, namespace: ns-{}, labels: {{app: pod-{i}, uid: u{i}}}}}\nspec: {{containers: [{{name: c, ports: [{{name: http, containerPort: 8080}}]}}]}}\n",
            i % 50
        );
    }
    s
}

/// 10 000 pods in one namespace with unique labels (one in a hundred a client) and 10 000
/// policies, each selecting one pod and admitting the clients on its named port.
fn one_pod_per_policy() -> String {
    let mut s = String::with_capacity(10_000 * 600);
    for i in 0..10_000 {
        let role = if i % 100 == 0 { "client" } else { "server" };
        let _ = write!(
            s,
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: pod-{i}, namespace: apps, labels: {{app: pod-{i}, role: {role}}}}}\nspec: {{containers: [{{name: c, ports: [{{name: http, containerPort: 8080}}]}}]}}\n"
        );
    }
    for i in 0..10_000 {
        let _ = write!(
            s,
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: allow-{i}, namespace: apps}}\nspec:\n  podSelector: {{matchLabels: {{app: pod-{i}}}}}\n  policyTypes: [Ingress]\n  ingress: [{{from: [{{podSelector: {{matchLabels: {{role: client}}}}}}], ports: [{{port: http}}]}}]\n"
        );
    }
    s
}

/// Entry point: without `--size`, spawn one child per size and print the table.
pub fn run(args: &[String]) -> Result<()> {
    if let Some(pos) = args.iter().position(|a| a == "--size") {
        let i: usize = args.get(pos + 1).context("--size INDEX")?.parse()?;
        return child(i);
    }
    if let Some(pos) = args.iter().position(|a| a == "--scale") {
        let i: usize = args.get(pos + 1).context("--scale INDEX")?.parse()?;
        let (_, gen) = *SCALE.get(i).context("scale index")?;
        return measure(&gen());
    }
    let exe = std::env::current_exe()?;
    println!("audit benchmark (release build; seed 42; one child process per size)");
    println!(
        "{:>7} {:>6} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>12} {:>9} {:>9} {:>9}",
        "pods",
        "ns",
        "policies",
        "classes",
        "parse",
        "engine",
        "findings",
        "total",
        "peak",
        "map rows",
        "findings",
        "html",
        "html size"
    );
    let mut first_total = None;
    for (i, (pods, ns)) in SIZES.iter().enumerate() {
        let [policies, classes, parse, engine, findings, rss_kb, rows, nfind, _, html_s, html_b] =
            run_child(&exe, "--size", i).with_context(|| format!("size {pods}"))?;
        let total = parse + engine + findings;
        if i == 0 {
            first_total = Some(total);
        }
        println!(
            "{:>7} {:>6} {:>8} {:>8} {:>8.3}s {:>8.3}s {:>8.3}s {:>8.3}s {:>7.0}MB {:>12} {:>9} {:>8.3}s {:>7.2}MB",
            pods,
            ns,
            policies,
            classes,
            parse,
            engine,
            findings,
            total,
            rss_kb / 1024.0,
            rows,
            nfind,
            html_s,
            html_b / 1e6
        );
    }
    println!();
    println!(
        "{:<40} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>14}",
        "scale case (limit 5 s, 1 GB)",
        "policies",
        "classes",
        "parse",
        "engine",
        "findings",
        "total",
        "peak",
        "class rows",
        "endpoint rows"
    );
    let mut over = Vec::new();
    for (i, (name, _)) in SCALE.iter().enumerate() {
        let [policies, classes, parse, engine, findings, rss_kb, rows, _nfind, class_rows, _, _] =
            run_child(&exe, "--scale", i).with_context(|| name.to_string())?;
        let total = parse + engine + findings;
        let peak_mb = rss_kb / 1024.0;
        println!(
            "{name:<40} {policies:>8} {classes:>8} {parse:>8.3}s {engine:>8.3}s {findings:>8.3}s {total:>8.3}s {peak_mb:>7.0}MB {class_rows:>10} {rows:>14}"
        );
        if total >= 5.0 || peak_mb >= 1024.0 {
            over.push(*name);
        }
    }
    if !over.is_empty() {
        bail!("over the 5 s / 1 GB limit: {}", over.join(", "));
    }
    if let Some(nca) = std::env::var_os("AIRGUARD_NCA") {
        let (pods, ns) = SIZES[0];
        let dir = tempfile_dir()?;
        let file = dir.join("cluster-500.yaml");
        std::fs::write(&file, airguard::audit::synth::generate(&params(pods, ns)))?;
        let start = Instant::now();
        let out = std::process::Command::new(&nca)
            .arg("--connectivity")
            .arg(&file)
            .arg("--pod_list")
            .arg(&file)
            .arg("--ns_list")
            .arg(&file)
            .args(["-o", "txt_no_fw_rules"])
            .output()?;
        let nca_time = start.elapsed().as_secs_f64();
        let _ = std::fs::remove_dir_all(&dir);
        if !out.status.success()
            && !String::from_utf8_lossy(&out.stdout).contains("unique endpoints")
        {
            bail!("nca failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let ours = first_total.unwrap_or(f64::NAN);
        println!("NCA 2.1.0 on the {pods}-pod cluster: {nca_time:.1}s; airguard {ours:.3}s; ratio {:.0}x", nca_time / ours);
    } else {
        println!("AIRGUARD_NCA not set: NCA comparison skipped (run .ci/setup-nca.sh)");
    }
    Ok(())
}

/// Run `bench audit FLAG INDEX` in a child process and parse the numbers it prints.
fn run_child(exe: &std::path::Path, flag: &str, i: usize) -> Result<[f64; 11]> {
    let out = std::process::Command::new(exe)
        .args(["bench", "audit", flag, &i.to_string()])
        .output()?;
    if !out.status.success() {
        bail!("failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let line = String::from_utf8(out.stdout)?;
    let f: Vec<f64> = line
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    f.try_into()
        .map_err(|_| anyhow::anyhow!("unexpected child output: {line}"))
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("airguard-bench-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Audit one size in this process and print
/// `policies classes parse_s engine_s findings_s vmhwm_kb rows findings class_rows html_s
/// html_bytes`.
fn child(i: usize) -> Result<()> {
    let (pods, ns) = *SIZES.get(i).context("size index")?;
    measure(&airguard::audit::synth::generate(&params(pods, ns)))
}

fn measure(text: &str) -> Result<()> {
    let mut files = airguard::diag::Files::new();
    let t0 = Instant::now();
    let (inv, diags) = airguard::audit::load_text(&mut files, "cluster.yaml", text);
    let parse = t0.elapsed().as_secs_f64();
    if !diags.is_empty() {
        bail!("generated cluster has input errors: {:?}", diags.first());
    }
    let t1 = Instant::now();
    let (analysis, diags) = airguard::audit::analyze(&inv);
    let engine = t1.elapsed().as_secs_f64();
    if !diags.is_empty() {
        bail!("generated policies are invalid: {:?}", diags.first());
    }
    let t2 = Instant::now();
    let findings = airguard::audit::findings::findings(&analysis);
    let find = t2.elapsed().as_secs_f64();
    let rows = analysis.row_count();
    let map = analysis.class_rows();
    let class_rows = map.len();
    let t3 = Instant::now();
    let report = airguard::audit::format::Report {
        analysis: &analysis,
        files: &files,
        findings: &findings,
        rows: &map,
        fail_on: Some(airguard::diag::Severity::Error),
    };
    let html = airguard::audit::format::html::render(&report, None);
    let html_s = t3.elapsed().as_secs_f64();
    println!(
        "{} {} {parse:.4} {engine:.4} {find:.4} {} {rows} {} {class_rows} {html_s:.4} {}",
        analysis.policies.len(),
        analysis.classes.len(),
        vm_hwm_kb(),
        findings.active.len(),
        html.len()
    );
    Ok(())
}
