//! statsd_exporter's mapping semantics and a small PromQL selector scanner, shared by the
//! observability tests (lines generated from the contract) and the Airflow tier (lines the
//! rendered DAGs really send): one implementation, so both chains are judged alike.

use crate::util::upstream;
use serde_json::Value;
use std::collections::BTreeMap;

/// One statsd_exporter mapping, as the exporter reads it.
pub struct Mapping {
    glob: Option<Vec<String>>,
    regex: Option<regex::Regex>,
    metric_type: Option<String>,
    name: String,
    labels: BTreeMap<String, String>,
}

pub fn mappings(list: &Value) -> Vec<Mapping> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let pattern = m["match"].as_str().unwrap().to_string();
            let is_regex = m["match_type"].as_str() == Some("regex");
            Mapping {
                glob: (!is_regex).then(|| pattern.split('.').map(str::to_string).collect()),
                regex: is_regex.then(|| regex::Regex::new(&pattern).unwrap()),
                metric_type: m["match_metric_type"].as_str().map(str::to_string),
                name: m["name"].as_str().unwrap().to_string(),
                labels: m["labels"]
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// statsd_exporter's documented matching: glob mappings first, in file order (the FSM keeps the
/// order unless `glob_disable_ordering`), where `*` matches one dot-free, non-empty name part
/// (or the rest of a part after a literal prefix); then regex mappings in order. `$n` in labels
/// is the n-th capture. The chart lists its own mappings before `extraMappings`.
pub fn apply(
    maps: &[Mapping],
    name: &str,
    kind: &str,
) -> Option<(String, BTreeMap<String, String>)> {
    let typed = |m: &&Mapping| m.metric_type.as_deref().is_none_or(|t| t == kind);
    let parts: Vec<&str> = name.split('.').collect();
    let glob_hit = maps
        .iter()
        .filter(typed)
        .filter_map(|m| Some((m, m.glob.as_ref()?)))
        .find_map(|(m, g)| {
            if g.len() != parts.len() {
                return None;
            }
            let mut caps = Vec::new();
            for (gp, np) in g.iter().zip(&parts) {
                match gp.split_once('*') {
                    None if gp == np => {}
                    None => return None,
                    Some((pre, "")) if np.len() > pre.len() && np.starts_with(pre) => {
                        caps.push(np[pre.len()..].to_string())
                    }
                    Some(_) => return None,
                }
            }
            Some((m, caps))
        });
    let hit = glob_hit.or_else(|| {
        maps.iter().filter(typed).find_map(|m| {
            let c = m.regex.as_ref()?.captures(name)?;
            Some((
                m,
                c.iter()
                    .skip(1)
                    .map(|g| g.map_or(String::new(), |g| g.as_str().to_string()))
                    .collect(),
            ))
        })
    })?;
    let (m, caps) = hit;
    let labels = m
        .labels
        .iter()
        .map(|(k, v)| {
            let mut v = v.clone();
            for (i, c) in caps.iter().enumerate().rev() {
                v = v.replace(&format!("${}", i + 1), c);
            }
            (k.clone(), v)
        })
        .collect();
    Some((m.name.clone(), labels))
}

/// The chart's own mappings (`statsd-mappings.yml` of chart 1.21, vendored) followed by the
/// `statsd.extraMappings` of rendered `airflow/values.yaml`, in the order the chart writes them.
pub fn chart_and_rendered(values: &Value) -> Vec<Mapping> {
    let chart: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(upstream("airflow-chart/statsd-mappings.yml")).unwrap(),
    )
    .unwrap();
    let mut all = mappings(&chart["mappings"]);
    all.extend(mappings(&values["statsd"]["extraMappings"]));
    all
}

/// A PromQL selector: metric name and its label matchers (`=`, `=~`, `!=`, `!~`).
#[derive(Debug)]
pub struct Selector {
    pub name: String,
    pub matchers: Vec<(String, String, String)>,
}

/// The vector selectors of a PromQL expression, found by a small scanner: identifiers outside
/// braces and brackets that are not functions, keywords or grouping label lists.
pub fn selectors(expr: &str) -> Vec<Selector> {
    const KEYWORDS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "offset",
        "bool",
        "and",
        "or",
        "unless",
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
    ];
    let re = regex::Regex::new(r#"([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"([^"]*)""#).unwrap();
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c == '[' {
            while i < b.len() && b[i] != b']' {
                i += 1;
            }
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            // a number or a duration (`1h`, `5m`, `1e3`)
            while i < b.len() && ((b[i] as char).is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
            continue;
        }
        if c == '"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < b.len() && ((b[i] as char).is_ascii_alphanumeric() || b"_:".contains(&b[i])) {
                i += 1;
            }
            let word = &expr[start..i];
            let rest = expr[i..].trim_start();
            if ["by", "without", "on", "ignoring"].contains(&word) {
                // skip the label list
                if let Some(close) = expr[i..].find(')') {
                    i += close + 1;
                }
                continue;
            }
            if KEYWORDS.contains(&word) || rest.starts_with('(') {
                continue;
            }
            let mut matchers = Vec::new();
            if rest.starts_with('{') {
                let open = i + expr[i..].find('{').unwrap();
                let close = open + expr[open..].find('}').unwrap();
                for c in re.captures_iter(&expr[open + 1..close]) {
                    matchers.push((c[1].to_string(), c[2].to_string(), c[3].to_string()));
                }
                i = close + 1;
            }
            out.push(Selector {
                name: word.to_string(),
                matchers,
            });
            continue;
        }
        i += 1;
    }
    out
}

#[test]
fn the_selector_scanner_finds_metrics_only() {
    let s = selectors(
        r#"sum by (pipeline, x) (rate(a_total{p="1",q=~"a|b"}[5m])) or absent(b{n="x"}) unless c offset 1h > 3"#,
    );
    let names: Vec<&str> = s.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a_total", "b", "c"]);
    assert_eq!(s[0].matchers.len(), 2);
}

/// Whether a series with `labels` satisfies every label matcher of `s`.
pub fn selects(s: &Selector, labels: &BTreeMap<String, String>) -> bool {
    let re = |v: &str| regex::Regex::new(&format!("^(?:{v})$")).unwrap();
    s.matchers.iter().all(|(k, op, v)| {
        let got = labels.get(k).map(String::as_str).unwrap_or("");
        match op.as_str() {
            "=" => got == v,
            "!=" => got != v,
            "=~" => re(v).is_match(got),
            _ => !re(v).is_match(got),
        }
    })
}
