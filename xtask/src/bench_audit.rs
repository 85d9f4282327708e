//! `cargo xtask bench audit`: NetworkPolicy audit time and peak memory by cluster size.
//!
//! Generates clusters with `airguard::audit::synth` (seed 42) of 500 / 5 000 / 50 000 pods in
//! 20 / 200 / 2 000 namespaces with one policy per five pods (plus a default deny in 90 % of the
//! namespaces), and audits each in a child process so peak memory (VmHWM) is per size: parse,
//! compile + connectivity, findings, and the size of the endpoint-level map. When `AIRGUARD_NCA`
//! names network-config-analyzer, it also times NCA on the 500-pod cluster and prints the ratio.
//! Targets on a 2-core machine: 5 000 pods < 1 s, 50 000 pods < 15 s and < 2 GB.

use anyhow::{bail, Context, Result};
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

/// Entry point: without `--size`, spawn one child per size and print the table.
pub fn run(args: &[String]) -> Result<()> {
    if let Some(pos) = args.iter().position(|a| a == "--size") {
        let i: usize = args.get(pos + 1).context("--size INDEX")?.parse()?;
        return child(i);
    }
    let exe = std::env::current_exe()?;
    println!("audit benchmark (release build; seed 42; one child process per size)");
    println!(
        "{:>7} {:>6} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>12} {:>9}",
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
        "findings"
    );
    let mut first_total = None;
    for (i, (pods, ns)) in SIZES.iter().enumerate() {
        let out = std::process::Command::new(&exe)
            .args(["bench", "audit", "--size", &i.to_string()])
            .output()?;
        if !out.status.success() {
            bail!(
                "size {pods} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let line = String::from_utf8(out.stdout)?;
        let f: Vec<f64> = line
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0.0))
            .collect();
        let [policies, classes, parse, engine, findings, rss_kb, rows, nfind] = f[..] else {
            bail!("unexpected child output: {line}");
        };
        let total = parse + engine + findings;
        if i == 0 {
            first_total = Some(total);
        }
        println!(
            "{:>7} {:>6} {:>8} {:>8} {:>8.3}s {:>8.3}s {:>8.3}s {:>8.3}s {:>7.0}MB {:>12} {:>9}",
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
            nfind
        );
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

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("airguard-bench-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Audit one size in this process and print
/// `policies classes parse_s engine_s findings_s vmhwm_kb rows findings`.
fn child(i: usize) -> Result<()> {
    let (pods, ns) = *SIZES.get(i).context("size index")?;
    let text = airguard::audit::synth::generate(&params(pods, ns));
    let mut files = airguard::diag::Files::new();
    let t0 = Instant::now();
    let (inv, diags) = airguard::audit::load_text(&mut files, "cluster.yaml", &text);
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
    println!(
        "{} {} {parse:.4} {engine:.4} {find:.4} {} {rows} {}",
        analysis.policies.len(),
        analysis.classes.len(),
        vm_hwm_kb(),
        findings.active.len()
    );
    Ok(())
}
