//! `cargo xtask bench netpol`: time NetworkPolicy rendering (topology, template, self-check) for
//! the example spec with 10, 100, 1 000 and 10 000 connector egress rules, and print how the cost
//! grows. Measures only; it never fails on a threshold (CI does not time things).

use anyhow::{Context, Result};
use std::time::{Duration, Instant};

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

/// Run the benchmark. `args` may hold a repetition count (default 5; the best run is reported).
pub fn run(args: &[String]) -> Result<()> {
    let reps: usize = match args.first() {
        Some(n) => n.parse().context("repetitions must be a number")?,
        None => 5,
    };
    let text = include_str!("../../templates/airguard.yaml");
    let mut files = airguard::diag::Files::new();
    let (model, _) = airguard::spec::from_str(&mut files, "airguard.yaml", text);
    let model = model.context("the example spec is valid")?;
    println!(
        "{:>8} {:>12} {:>12} {:>10}",
        "rules", "best", "bytes", "growth"
    );
    let mut previous: Option<Duration> = None;
    for n in SIZES {
        let mut m = model.clone();
        let template = m.airbyte.egress[0].clone();
        m.airbyte.egress = (0..n)
            .map(|i| {
                let mut r = template.clone();
                r.name = format!("rule-{i}");
                r.origin = format!("/airbyte/egress/{i}");
                r.cidrs = vec![format!("10.{}.{}.0/24", i / 256, i % 256)
                    .parse()
                    .expect("valid CIDR")];
                r
            })
            .collect();
        let mut best = Duration::MAX;
        let mut bytes = 0;
        for _ in 0..reps.max(1) {
            let t = Instant::now();
            let out = airguard::render::network_policy::render(&m).context("render")?;
            best = best.min(t.elapsed());
            bytes = out.iter().map(|a| a.content.len()).sum();
        }
        let growth = previous
            .map(|p| format!("{:.1}x", best.as_secs_f64() / p.as_secs_f64()))
            .unwrap_or_default();
        println!("{n:>8} {:>12?} {bytes:>12} {growth:>10}", best);
        previous = Some(best);
    }
    Ok(())
}
