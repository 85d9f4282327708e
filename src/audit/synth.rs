//! Synthetic clusters for benchmarks and cross-checks: namespaces, pods and NetworkPolicies
//! generated from a seed, as one multi-document YAML stream.
//!
//! The same seed and sizes always give the same bytes (a seeded `StdRng`, no clock, no hash
//! order). With `nca_safe`, the generator avoids the forms where network-config-analyzer 2.1.0
//! differs from Kubernetes (research/nca-known-divergences.md): no `Exists`/`DoesNotExist` next
//! to a `namespaceSelector`, no empty label values, explicit `policyTypes` in the order
//! `[Ingress, Egress]`, and no rule list for a direction the policy does not isolate. This module
//! only builds text; it never writes files.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fmt::Write;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Number of namespaces.
    pub namespaces: usize,
    /// Number of pods (spread round-robin over the namespaces).
    pub pods: usize,
    /// Number of policies besides the per-namespace default deny.
    pub policies: usize,
    /// Share of namespaces (in percent) that get a default-deny policy for both directions.
    pub default_deny_percent: u32,
    /// Number of distinct `app` label values per namespace.
    pub apps: usize,
    /// Share of namespace selectors (in percent) that span many namespaces (`{}`, a tier, an
    /// `env NotIn`); the others name one namespace. Real clusters mostly name namespaces.
    pub wide_peers_percent: u32,
    /// Avoid the forms where NCA 2.1.0 is known to be wrong.
    pub nca_safe: bool,
    /// The seed.
    pub seed: u64,
}

const TIERS: [&str; 3] = ["front", "back", "data"];
const ROLES: [&str; 3] = ["api", "worker", "db"];

fn ports_of(role: &str) -> &'static str {
    match role {
        "api" => "[{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]",
        "worker" => {
            "[{name: metrics, containerPort: 9090}, {name: dns, containerPort: 53, protocol: UDP}]"
        }
        _ => "[{name: pg, containerPort: 5432}, {name: sctp, containerPort: 9, protocol: SCTP}]",
    }
}

/// Generate a cluster as YAML.
pub fn generate(p: &Params) -> String {
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut s = String::with_capacity(p.pods * 330 + p.policies * 700);
    let ns_name = |i: usize| format!("ns-{i}");
    for i in 0..p.namespaces {
        let tier = TIERS[i % TIERS.len()];
        let env = if i.is_multiple_of(2) { "prod" } else { "dev" };
        let _ = write!(
            s,
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}\n  labels: {{tier: {tier}, env: {env}}}\n",
            ns_name(i)
        );
    }
    for i in 0..p.pods {
        let ns = ns_name(i % p.namespaces);
        let app = format!("app-{}", rng.random_range(0..p.apps.max(1)));
        let role = ROLES[rng.random_range(0..ROLES.len())];
        let _ = write!(
            s,
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{i}\n  namespace: {ns}\n  labels: {{app: {app}, role: {role}}}\nspec:\n  containers:\n  - name: c\n    ports: {}\n",
            ports_of(role)
        );
    }
    for i in 0..p.namespaces {
        if rng.random_range(0..100) < p.default_deny_percent {
            let _ = write!(
                s,
                "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny\n  namespace: {}\nspec:\n  podSelector: {{}}\n  policyTypes: [Ingress, Egress]\n",
                ns_name(i)
            );
        }
    }
    for i in 0..p.policies {
        let ns_i = rng.random_range(0..p.namespaces);
        let ns = ns_name(ns_i);
        let _ = write!(
            s,
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np-{i}\n  namespace: {ns}\nspec:\n  podSelector: {}\n",
            pod_selector(&mut rng, p)
        );
        let (ing, eg) = match rng.random_range(0..4) {
            0 => (true, false),
            1 => (false, true),
            _ => (true, true),
        };
        let types: Vec<&str> = [("Ingress", ing), ("Egress", eg)]
            .iter()
            .filter(|x| x.1)
            .map(|x| x.0)
            .collect();
        let _ = writeln!(s, "  policyTypes: [{}]", types.join(", "));
        for (dir, on, key) in [("ingress", ing, "from"), ("egress", eg, "to")] {
            if !on {
                continue;
            }
            let n = rng.random_range(0..3);
            if n == 0 && rng.random_bool(0.5) {
                let _ = writeln!(s, "  {dir}: []");
                continue;
            }
            if n == 0 {
                continue;
            }
            let _ = writeln!(s, "  {dir}:");
            for _ in 0..n {
                let _ = writeln!(s, "  - {key}:");
                for _ in 0..rng.random_range(1..3) {
                    peer(&mut s, &mut rng, p, ns_i);
                }
                if rng.random_bool(0.8) {
                    let _ = writeln!(s, "    ports:");
                    for _ in 0..rng.random_range(1..3) {
                        let _ = writeln!(s, "    - {}", port(&mut rng));
                    }
                }
            }
            if dir == "egress" && rng.random_bool(0.5) {
                let _ = writeln!(
                    s,
                    "  - to:\n    - namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: ns-0}}}}\n      podSelector: {{matchLabels: {{role: worker}}}}\n    ports: [{{port: 53, protocol: UDP}}, {{port: dns, protocol: UDP}}]"
                );
            }
        }
    }
    s
}

fn pod_selector(rng: &mut StdRng, p: &Params) -> String {
    match rng.random_range(0..5) {
        0 => "{}".into(),
        1 => format!(
            "{{matchLabels: {{role: {}}}}}",
            ROLES[rng.random_range(0..3)]
        ),
        2 => format!(
            "{{matchExpressions: [{{key: app, operator: In, values: [app-{}, app-{}]}}]}}",
            rng.random_range(0..p.apps.max(1)),
            rng.random_range(0..p.apps.max(1))
        ),
        _ => format!(
            "{{matchLabels: {{app: app-{}}}}}",
            rng.random_range(0..p.apps.max(1))
        ),
    }
}

fn ns_selector(rng: &mut StdRng, p: &Params, own: usize) -> String {
    let wide = rng.random_range(0..100) < p.wide_peers_percent;
    match if wide {
        rng.random_range(0..3)
    } else {
        rng.random_range(3..5)
    } {
        0 => "{}".into(),
        1 => format!(
            "{{matchLabels: {{tier: {}}}}}",
            TIERS[rng.random_range(0..3)]
        ),
        2 => "{matchExpressions: [{key: env, operator: NotIn, values: [dev]}]}".into(),
        3 => format!(
            "{{matchLabels: {{kubernetes.io/metadata.name: ns-{}}}}}",
            (own + rng.random_range(0..3)) % p.namespaces
        ),
        _ => format!(
            "{{matchLabels: {{kubernetes.io/metadata.name: ns-{}, env: {}}}}}",
            own,
            if own.is_multiple_of(2) { "prod" } else { "dev" }
        ),
    }
}

fn peer(s: &mut String, rng: &mut StdRng, p: &Params, own: usize) {
    match rng.random_range(0..7) {
        0 => {
            let _ = writeln!(s, "    - namespaceSelector: {}", ns_selector(rng, p, own));
        }
        1 => {
            let _ = writeln!(
                s,
                "    - namespaceSelector: {}\n      podSelector: {}",
                ns_selector(rng, p, own),
                pod_selector(rng, p)
            );
        }
        2 => {
            let b = rng.random_range(0..4);
            let _ = writeln!(
                s,
                "    - ipBlock: {{cidr: 10.{b}.0.0/16, except: [10.{b}.{}.0/24]}}",
                rng.random_range(0..4)
            );
        }
        3 if !p.nca_safe => {
            let _ = writeln!(
                s,
                "    - namespaceSelector: {}\n      podSelector: {{matchExpressions: [{{key: role, operator: Exists}}]}}",
                ns_selector(rng, p, own)
            );
        }
        3 => {
            let _ = writeln!(
                s,
                "    - podSelector: {{matchExpressions: [{{key: role, operator: DoesNotExist}}]}}"
            );
        }
        4 => {
            let _ = writeln!(
                s,
                "    - ipBlock: {{cidr: 192.168.{}.0/24}}",
                rng.random_range(0..3)
            );
        }
        _ => {
            let _ = writeln!(s, "    - podSelector: {}", pod_selector(rng, p));
        }
    }
}

fn port(rng: &mut StdRng) -> String {
    match rng.random_range(0..8) {
        0 => "{port: 8080}".into(),
        1 => "{port: http}".into(),
        2 => "{port: 5432}".into(),
        3 => "{port: 8000, endPort: 8100}".into(),
        4 => "{port: 53, protocol: UDP}".into(),
        5 => "{port: 9, protocol: SCTP}".into(),
        6 => "{port: pg}".into(),
        _ => "{protocol: UDP}".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_and_everything_loads() {
        let p = Params {
            namespaces: 4,
            pods: 30,
            policies: 8,
            default_deny_percent: 50,
            apps: 3,
            wide_peers_percent: 50,
            nca_safe: true,
            seed: 7,
        };
        let a = generate(&p);
        assert_eq!(a, generate(&p));
        let mut files = crate::diag::Files::new();
        let (inv, diags) = crate::audit::load_text(&mut files, "synth.yaml", &a);
        assert!(diags.is_empty(), "{diags:?}");
        let (_, diags) = crate::audit::analyze(&inv);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(inv.endpoints.len(), 30);
    }
}
