//! Cross-check of the audit engine against network-config-analyzer 2.1.0 (NCA).
//!
//! Runs when `AIRGUARD_NCA` names the `nca` executable (`.ci/setup-nca.sh` installs it); fails
//! when `CI` is set without it, so CI cannot skip it silently. The clusters are every semantic case
//! without a documented NCA divergence (`nca_skip`), the demo cluster, and random clusters from
//! `audit::synth` with fixed seeds. For each, airguard's map must equal NCA's
//! `--connectivity -o txt_no_fw_rules` pair by pair and port by port. IPv6 is left out (NCA hides it
//! unless asked), and external ranges are compared as per-endpoint maximal ranges on both sides.

use crate::audit::{case_text, cases, is_ext};
use airguard::audit::intervals::{Conns, Protocol, MAX_PORT};
use airguard::audit::{self, synth};
use airguard::diag::Files;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

/// One side of a map: (src, dst) → conns, where an external end is `ext:lo-hi` (numeric).
type Map = BTreeMap<(String, String), Conns>;

/// External ranges of one endpoint and direction: (first, last, conns).
type Ranges = Vec<(u32, u32, Conns)>;

fn parse_v4_range(s: &str) -> Option<(u32, u32)> {
    if let Some((a, b)) = s.split_once('-') {
        return Some((
            a.parse::<Ipv4Addr>().ok()?.into(),
            b.parse::<Ipv4Addr>().ok()?.into(),
        ));
    }
    if let Ok(net) = s.parse::<ipnet::Ipv4Net>() {
        return Some((net.network().into(), net.broadcast().into()));
    }
    let a: u32 = s.parse::<Ipv4Addr>().ok()?.into();
    Some((a, a))
}

/// Merge external ranges per (endpoint, direction) into maximal runs of equal conns, so that
/// maps split at different places compare equal when they mean the same.
fn normalize(raw: Vec<(String, String, Conns)>) -> Map {
    let mut map = Map::new();
    // (endpoint, is_src_external) -> [(lo, hi, conns)]
    let mut ext: BTreeMap<(String, bool), Ranges> = BTreeMap::new();
    for (src, dst, c) in raw {
        match (is_ext(&src), is_ext(&dst)) {
            (false, false) => {
                map.entry((src, dst)).or_insert_with(Conns::none).add(&c);
            }
            (true, false) => {
                if let Some((lo, hi)) = parse_v4_range(&src) {
                    ext.entry((dst, true)).or_default().push((lo, hi, c));
                }
            }
            (false, true) => {
                if let Some((lo, hi)) = parse_v4_range(&dst) {
                    ext.entry((src, false)).or_default().push((lo, hi, c));
                }
            }
            (true, true) => panic!("external to external: {src} -> {dst}"),
        }
    }
    for ((ep, from_ext), list) in ext {
        // Lines may repeat a range (one line per protocol) or split it differently: cut at every
        // boundary, unite what covers each piece, then merge equal neighbours.
        let mut cuts: Vec<u64> = list
            .iter()
            .flat_map(|x| [x.0 as u64, x.1 as u64 + 1])
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut runs: Vec<(u32, u32, Conns)> = Vec::new();
        for w in cuts.windows(2) {
            let (lo, hi) = (w[0] as u32, (w[1] - 1) as u32);
            let mut c = Conns::none();
            for x in list.iter().filter(|x| x.0 <= lo && hi <= x.1) {
                c.add(&x.2);
            }
            if c.is_empty() {
                continue;
            }
            match runs.last_mut() {
                Some(last) if last.1.checked_add(1) == Some(lo) && last.2 == c => last.1 = hi,
                _ => runs.push((lo, hi, c)),
            }
        }
        for (lo, hi, c) in runs {
            let r = format!("ext:{}-{}", Ipv4Addr::from(lo), Ipv4Addr::from(hi));
            let key = if from_ext {
                (r, ep.clone())
            } else {
                (ep.clone(), r)
            };
            map.insert(key, c);
        }
    }
    map
}

fn airguard_map(text: &str) -> Map {
    let mut files = Files::new();
    let (inv, diags) = audit::load_text(&mut files, "cluster.yaml", text);
    assert!(diags.is_empty(), "{diags:?}");
    let (analysis, diags) = audit::analyze(&inv);
    assert!(diags.is_empty(), "{diags:?}");
    let raw = analysis
        .rows()
        .into_iter()
        .filter(|r| !r.src.contains(':') && !r.dst.contains(':'))
        .map(|r| (r.src.to_string(), r.dst.to_string(), r.conns))
        .collect();
    normalize(raw)
}

/// Parse NCA's conns: `All connections` or `{protocols:TCP[,UDP],dst_ports:53,80-90}`.
fn parse_nca_conns(s: &str) -> Conns {
    let s = s.trim();
    if s == "All connections" {
        return Conns::all();
    }
    let mut out = Conns::none();
    for part in s.trim_start_matches('{').trim_end_matches('}').split("},{") {
        let (protos, ports) = match part.split_once(",dst_ports:") {
            Some((p, ports)) => (p, Some(ports)),
            None => (part, None),
        };
        let protos = protos.trim_start_matches("protocols:");
        for proto in protos.split(',') {
            let Some(proto) = Protocol::parse(proto.trim()) else {
                panic!("unknown protocol in NCA conns `{s}`")
            };
            match ports {
                None => out.add(&Conns::ports(proto, 1, MAX_PORT)),
                Some(list) => {
                    for item in list.split(',') {
                        let (lo, hi) = item.split_once('-').unwrap_or((item, item));
                        let (lo, hi): (u128, u128) = (lo.parse().unwrap(), hi.parse().unwrap());
                        out.add(&Conns::ports(proto, lo, hi));
                    }
                }
            }
        }
    }
    out
}

fn nca_map(nca: &str, file: &Path) -> Result<Map, String> {
    let out = std::process::Command::new(nca)
        .arg("--connectivity")
        .arg(file)
        .arg("--pod_list")
        .arg(file)
        .arg("--ns_list")
        .arg(file)
        .args(["-o", "txt_no_fw_rules"])
        .output()
        .expect("nca runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut raw = Vec::new();
    for line in stdout.lines() {
        let Some((pair, conns)) = line.split_once(" : ") else {
            continue;
        };
        let Some((src, dst)) = pair.split_once(" => ") else {
            continue;
        };
        let strip = |e: &str| e.split('[').next().unwrap().trim().to_string();
        raw.push((strip(src), strip(dst), parse_nca_conns(conns)));
    }
    if !stdout.contains("unique endpoints") {
        return Err(format!(
            "nca failed on {}:\n{stdout}\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(normalize(raw))
}

fn diff(a: &Map, b: &Map) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in a {
        match b.get(k) {
            None => out.push(format!("only airguard: {} -> {} : {v}", k.0, k.1)),
            Some(w) if w != v => out.push(format!("{} -> {}: airguard {v}, nca {w}", k.0, k.1)),
            _ => {}
        }
    }
    for (k, w) in b {
        if !a.contains_key(k) {
            out.push(format!("only nca: {} -> {} : {w}", k.0, k.1));
        }
    }
    out
}

#[test]
fn nca_conns_parse() {
    assert_eq!(parse_nca_conns("All connections"), Conns::all());
    let c = parse_nca_conns("{protocols:TCP, UDP,dst_ports:53,8000-8010}");
    assert_eq!(c.to_string(), "TCP 53,8000-8010;UDP 53,8000-8010");
    assert_eq!(
        parse_nca_conns("{protocols:SCTP}").to_string(),
        "SCTP 1-65535"
    );
}

#[test]
fn airguard_map_equals_nca_on_fixture_clusters() {
    let Some(nca) = std::env::var_os("AIRGUARD_NCA") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but AIRGUARD_NCA is not: run .ci/setup-nca.sh so the NCA cross-check runs"
        );
        eprintln!("AIRGUARD_NCA not set: NCA cross-check not run");
        return;
    };
    let nca = nca.to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let mut clusters: Vec<(String, String)> = cases()
        .into_iter()
        .filter(|(_, c)| c.for_nca())
        .map(|(n, c)| (n, case_text(&c)))
        .collect();
    let mut demo = String::new();
    for f in ["namespaces.yaml", "workloads.yaml", "policies.yaml"] {
        demo.push_str(
            &std::fs::read_to_string(crate::util::fixture(&format!("audit/demo/{f}"))).unwrap(),
        );
        demo.push_str("\n---\n");
    }
    clusters.push(("demo".into(), demo));
    for seed in 1..=6u64 {
        let p = synth::Params {
            namespaces: 3 + seed as usize % 3,
            pods: 12 + 3 * seed as usize,
            policies: 6 + seed as usize,
            default_deny_percent: 50,
            apps: 3,
            wide_peers_percent: 50,
            nca_safe: true,
            seed,
        };
        clusters.push((format!("synth-seed-{seed}"), synth::generate(&p)));
    }
    // The 500-pod cluster of `cargo xtask bench audit` (same parameters as
    // xtask/src/bench_audit.rs), so the benchmark's speed ratio compares identical results.
    let bench = synth::Params {
        namespaces: 20,
        pods: 500,
        policies: 100,
        default_deny_percent: 90,
        apps: 5,
        wide_peers_percent: 5,
        nca_safe: true,
        seed: 42,
    };
    clusters.push(("bench-500-pods".into(), synth::generate(&bench)));
    assert!(
        clusters.len() >= 10,
        "at least 10 clusters, got {}",
        clusters.len()
    );
    let mut failures = Vec::new();
    for (name, text) in &clusters {
        let file = dir
            .path()
            .join(format!("{}.yaml", name.trim_end_matches(".yaml")));
        std::fs::write(&file, text).unwrap();
        let ours = airguard_map(text);
        let theirs = match nca_map(&nca, &file) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let d = diff(&ours, &theirs);
        if !d.is_empty() {
            failures.push(format!("{name}:\n  {}", d.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} clusters differ from NCA:\n{}",
        failures.len(),
        clusters.len(),
        failures.join("\n")
    );
}
