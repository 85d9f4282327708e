//! `cargo xtask bench render`: spec size vs. load + render time and peak memory.
//!
//! Generates specs with 10, 100, 1 000 and 10 000 connections (one connector egress rule per
//! two connections, a pipeline per ten), loads, validates and renders each in a child process
//! (so peak RSS is per size), and compares render time with the bare YAML serialization of the
//! same objects. Build with `--release` for real figures: `cargo xtask bench render` does.

use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];
const ROUNDS: u32 = 5;

/// Entry point: without `--size`, spawn one child per size and print the table.
pub fn run(args: &[String]) -> Result<()> {
    if let Some(pos) = args.iter().position(|a| a == "--size") {
        let n: usize = args.get(pos + 1).context("--size N")?.parse()?;
        return child(n);
    }
    let exe = std::env::current_exe()?;
    println!("render benchmark ({ROUNDS} rounds each, best round reported; release build)");
    println!(
        "{:>12} {:>8} {:>12} {:>12} {:>12} {:>12} {:>10} {:>10}",
        "connections",
        "egress",
        "load+valid",
        "render",
        "self-check",
        "total",
        "yaml-ser",
        "peak RSS"
    );
    let mut totals = Vec::new();
    for n in SIZES {
        let out = std::process::Command::new(&exe)
            .args(["bench", "render", "--size", &n.to_string()])
            .output()?;
        if !out.status.success() {
            bail!("size {n} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let line = String::from_utf8(out.stdout)?;
        let f: Vec<f64> = line
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0.0))
            .collect();
        let (load, render, ser, rss, check) = (f[0], f[1], f[2], f[3], f[4]);
        totals.push((n, load + render));
        let generation = (render - check).max(0.0);
        let ratio = |x: f64| if ser > 0.0 { x / ser } else { 0.0 };
        println!(
            "{:>12} {:>8} {:>10.1}ms {:>10.1}ms {:>10.1}ms {:>10.1}ms {:>8.1}ms {:>8.1}MB   render/yaml-ser = {:.2}x (generation alone {:.2}x)",
            n,
            egress_for(n),
            load * 1e3,
            render * 1e3,
            check * 1e3,
            (load + render) * 1e3,
            ser * 1e3,
            rss / 1024.0,
            ratio(render),
            ratio(generation),
        );
    }
    for w in totals.windows(2) {
        let ((a, ta), (b, tb)) = (w[0], w[1]);
        println!(
            "growth {a} → {b}: input ×{:.0}, time ×{:.2}",
            b as f64 / a as f64,
            tb / ta
        );
    }
    Ok(())
}

fn egress_for(n: usize) -> usize {
    (n / 2).max(1)
}

/// Generate a valid spec with `n` connections.
pub fn spec(n: usize) -> String {
    let mut s = String::from(
        "version: 1\nplatform: {name: bench}\nairbyte:\n  namespace: airbyte\n  release: airbyte\n  chart: v2\n  api: {url: 'http://airbyte-airbyte-server-svc.airbyte:8001'}\n  kubernetes-api: {cidrs: [10.96.0.1/32]}\n  egress:\n",
    );
    for i in 0..egress_for(n) {
        let _ = writeln!(
            s,
            "    - {{name: dest-{i}, cidr: 10.{}.{}.0/24, ports: [{}]}}",
            (i / 256) % 256,
            i % 256,
            1024 + i % 60000
        );
    }
    s.push_str("airflow: {namespace: airflow, release: airflow}\n");
    s.push_str("secrets:\n  store:\n    kind: ClusterSecretStore\n    name: vault\n    conditions: [{namespaces: [airbyte, airflow]}]\n    provider: {vault: {server: 'https://vault:8200', path: secret, auth: {kubernetes: {role: eso}}}}\n");
    s.push_str("  airbyte: {client-id: 'p/a#id', client-secret: 'p/a#secret'}\nconnections:\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "  - {{name: conn-{i}, id: 00000000-0000-4000-8000-{i:012}, min-records: {i}}}"
        );
    }
    s.push_str("pipelines:\n");
    for p in 0..(n / 10).max(1) {
        let a = (p * 10) % n;
        let b = (p * 10 + 1) % n;
        let _ = writeln!(s, "  - {{name: p-{p}, steps: [health, {{sync: conn-{a}}}, {{sync: conn-{b}, after: conn-{a}}}]}}");
    }
    s
}

fn child(n: usize) -> Result<()> {
    let text = spec(n);
    let mut best = [Duration::MAX; 4];
    for _ in 0..ROUNDS {
        let t0 = Instant::now();
        let mut files = airguard::diag::Files::new();
        let (model, diags) = airguard::spec::from_str(&mut files, "bench.yaml", &text);
        let model = model.with_context(|| format!("generated spec invalid: {diags:?}"))?;
        let t1 = Instant::now();
        let artifacts = airguard::render::render(&model)?;
        let t2 = Instant::now();
        // Bare serialization of the same objects: parse the rendered documents once (outside
        // the timer), then time serializing them back to YAML.
        let docs: Vec<serde_json::Value> = artifacts
            .iter()
            .flat_map(|a| {
                serde_saphyr::from_multiple::<serde_json::Value>(&a.content).unwrap_or_default()
            })
            .collect();
        let t3 = Instant::now();
        let mut bytes = 0;
        for d in &docs {
            bytes += serde_saphyr::to_string(d)?.len();
        }
        let t4 = Instant::now();
        std::hint::black_box(bytes);
        // The self-check alone, as render() runs it: every artifact parsed back and checked.
        let t5 = Instant::now();
        for a in &artifacts {
            if a.path.starts_with("networkpolicies/") {
                airguard::render::typed::check_network_policies(&a.path, &a.content)?;
            } else if a.path.starts_with("secrets/") {
                airguard::render::external_secret::check::check_file(&a.content, &model)
                    .map_err(anyhow::Error::msg)?;
            } else if a.path == airguard::render::helm_values::PATH {
                airguard::render::helm_values::typed::check(&a.content)
                    .map_err(anyhow::Error::msg)?;
            }
        }
        let t6 = Instant::now();
        for (slot, d) in best.iter_mut().zip([t1 - t0, t2 - t1, t4 - t3, t6 - t5]) {
            *slot = (*slot).min(d);
        }
    }
    println!(
        "{} {} {} {} {}",
        best[0].as_secs_f64(),
        best[1].as_secs_f64(),
        best[2].as_secs_f64(),
        peak_rss_kb(),
        best[3].as_secs_f64()
    );
    Ok(())
}

/// Peak resident set size of this process, in KiB (VmHWM).
pub fn peak_rss_kb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
}
