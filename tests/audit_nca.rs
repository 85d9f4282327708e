//! Cross-check of the audit engine against network-config-analyzer 2.1.0 (NCA).
//!
//! Runs when `AIRGUARD_NCA` names the `nca` executable (`.ci/setup-nca.sh` installs it); fails
//! when `CI` is set without it, so CI cannot skip it silently. The clusters are every semantic case
//! without a documented NCA divergence (`nca_skip`), the demo cluster, and random clusters from
//! `audit::synth` with fixed seeds. For each, airguard's map must equal NCA's
//! `--connectivity -o txt_no_fw_rules` pair by pair and port by port. IPv6 is left out (NCA hides it
//! unless asked), and external ranges are compared as per-endpoint maximal ranges on both sides.
//!
//! The production layouts (shared namespace, ingress controller inside Airflow's namespace,
//! NodeLocal DNS, external database with S3 on chart v2 and with GCS on chart v1) are checked on pod inventories written by hand from the charts' facts
//! (`fixtures/audit/layouts/`), not from airguard's topology, plus the policies rendered from
//! their specs: NCA must agree with the audit there too, and (without NCA) the audit must allow
//! between those pods exactly the flows the spec declares.

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

/// The `nca` executable from `AIRGUARD_NCA`; without it, fail under `CI` and skip with `note`
/// otherwise.
fn nca(note: &str) -> Option<String> {
    let Some(nca) = std::env::var_os("AIRGUARD_NCA") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but AIRGUARD_NCA is not: run .ci/setup-nca.sh so the NCA cross-check runs"
        );
        eprintln!("AIRGUARD_NCA not set: {note}");
        return None;
    };
    Some(nca.to_string_lossy().into_owned())
}

#[test]
fn airguard_map_equals_nca_on_fixture_clusters() {
    let Some(nca) = nca("NCA cross-check not run") else {
        return;
    };
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

/// The production layouts with a pod inventory written from chart facts
/// (`fixtures/audit/layouts/<name>.yaml`), each beside the spec it was written for.
const LAYOUTS: [&str; 5] = [
    "shared-namespace",
    "ingress-in-airflow-namespace",
    "nodelocal-dns",
    "external-db-s3-v2",
    "external-db-gcs-v1",
];

/// The chart-fact pods of a layout followed by the policies airguard renders for its spec, and
/// the spec's model.
fn layout_cluster(name: &str) -> (String, airguard::spec::Model) {
    let spec_path = crate::util::fixture(&format!("specs/valid/{name}.yaml"));
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    let mut files = Files::new();
    let (model, diags) = airguard::spec::from_str(&mut files, "spec.yaml", &spec);
    let model = model.unwrap_or_else(|| panic!("{name}: {diags:?}"));
    let mut text =
        std::fs::read_to_string(crate::util::fixture(&format!("audit/layouts/{name}.yaml")))
            .unwrap();
    for a in airguard::render::render(&model).unwrap() {
        if a.path.starts_with("networkpolicies/") {
            text.push_str("\n---\n");
            text.push_str(&a.content);
        }
    }
    (text, model)
}

/// `namespace/name` → the endpoint its `airguard.test/endpoint` annotation names, and the
/// namespace of every workload.
fn chart_pods(text: &str) -> BTreeMap<String, (String, Option<String>)> {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(text).unwrap();
    let mut out = BTreeMap::new();
    for d in docs {
        if d["kind"] == "Namespace" || d["kind"] == "NetworkPolicy" {
            continue;
        }
        let ns = d["metadata"]["namespace"].as_str().unwrap().to_string();
        let name = d["metadata"]["name"].as_str().unwrap();
        let ep = d["metadata"]["annotations"]["airguard.test/endpoint"]
            .as_str()
            .map(str::to_string);
        out.insert(format!("{ns}/{name}"), (ns, ep));
    }
    out
}

/// On pods written from chart facts (not from airguard's topology), the rendered policies allow
/// between two pods exactly what the spec declares between their endpoints, and nothing to or
/// from a pod airguard does not model in a namespace it owns. Runs without NCA.
#[test]
fn rendered_policies_allow_exactly_the_declared_flows_on_chart_fact_pods() {
    use airguard::topology::{Target, Topology};
    let mut failures = Vec::new();
    for name in LAYOUTS {
        let (text, model) = layout_cluster(name);
        let topo = Topology::from_model(&model);
        let owned_ns = topo.owned_namespaces();
        let pods = chart_pods(&text);
        let mut files = Files::new();
        let (inv, diags) = audit::load_text(&mut files, "cluster.yaml", &text);
        assert!(diags.is_empty(), "{name}: {diags:?}");
        let (analysis, diags) = audit::analyze(&inv);
        assert!(diags.is_empty(), "{name}: {diags:?}");
        let allowed: BTreeMap<(String, String), Conns> = analysis
            .rows()
            .into_iter()
            .map(|r| ((r.src.to_string(), r.dst.to_string()), r.conns))
            .collect();
        let mut declared: BTreeMap<(&str, &str), Conns> = BTreeMap::new();
        for f in &topo.flows {
            if let Target::Endpoint(to) = &f.to {
                let c = declared
                    .entry((f.from.as_str(), to.as_str()))
                    .or_insert_with(Conns::none);
                for p in &f.ports {
                    let r = p.range.expect("chart flows name their ports");
                    c.add(&Conns::ports(p.protocol, r.start.into(), r.end.into()));
                }
            }
        }
        // A pod is managed when its endpoint is owned, or when airguard does not model it but it
        // runs in a namespace airguard default-denies.
        let managed = |ns: &str, ep: &Option<String>| match ep {
            Some(id) => {
                topo.endpoint(id)
                    .expect("annotation names an endpoint")
                    .owned
            }
            None => owned_ns.iter().any(|o| o == ns),
        };
        let mut checked = 0;
        for (p, (pns, pep)) in &pods {
            for (q, (qns, qep)) in &pods {
                if p == q || !(managed(pns, pep) || managed(qns, qep)) {
                    continue;
                }
                checked += 1;
                let want = match (pep, qep) {
                    (Some(a), Some(b)) => declared
                        .get(&(a.as_str(), b.as_str()))
                        .cloned()
                        .unwrap_or_else(Conns::none),
                    _ => Conns::none(),
                };
                let got = allowed
                    .get(&(p.clone(), q.clone()))
                    .cloned()
                    .unwrap_or_else(Conns::none);
                if got != want {
                    failures.push(format!(
                        "{name}: {p} -> {q}: allowed {got}, declared {want}"
                    ));
                }
            }
        }
        assert!(checked > 300, "{name}: only {checked} pod pairs checked");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// NCA agrees with the audit engine on the chart-fact pods of each production layout plus the
/// policies airguard renders for it.
#[test]
fn airguard_map_equals_nca_on_production_layouts() {
    let Some(nca) = nca("NCA cross-check of the production layouts not run") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for name in LAYOUTS {
        let (text, _) = layout_cluster(name);
        let file = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&file, &text).unwrap();
        let ours = airguard_map(&text);
        assert!(ours.len() > 20, "{name}: {} pairs", ours.len());
        match nca_map(&nca, &file) {
            Ok(theirs) => {
                let d = diff(&ours, &theirs);
                if !d.is_empty() {
                    failures.push(format!("{name}:\n  {}", d.join("\n  ")));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
