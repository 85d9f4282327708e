//! `airguard audit --format html`: the golden page of the demo cluster, escaping of every
//! free-text input value, the spec's intent in the matrix and findings, and (with
//! `AIRGUARD_CHROMIUM`, set by `.ci/setup-chromium.sh`) the page in headless Chromium: no
//! console message, the matrix cells and findings one to one with the JSON report, the
//! namespace filter, a screenshot.

use crate::util;
use regex::Regex;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Run `airguard audit ARGS` in `dir`; returns (exit code, stdout).
fn audit(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = util::airguard()
        .current_dir(dir)
        .arg("audit")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn demo(fmt: &str) -> String {
    audit(
        &util::root(),
        &["fixtures/audit/demo", "--format", fmt, "--fail-on", "never"],
    )
    .1
}

/// The elements the page is made of: a tag outside this list came from the input.
const TAGS: &[&str] = &[
    "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "footer", "h1", "h2",
    "p", "section", "div", "b", "span", "code", "label", "select", "option", "svg", "defs",
    "marker", "path", "g", "rect", "text", "table", "thead", "tbody", "tr", "th", "td", "br", "ol",
    "li", "details", "summary", "pre", "script",
];

/// Every tag name in the markup, in order.
fn tag_names(html: &str) -> Vec<String> {
    let re = Regex::new(r"<(/?)([A-Za-z!][A-Za-z0-9]*)").unwrap();
    re.captures_iter(html).map(|c| c[2].to_string()).collect()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The allowed connections the JSON report lists, as (src, dst, conns).
fn json_connections(json: &str) -> BTreeSet<(String, String, String)> {
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    doc["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_string();
            (s("src"), s("dst"), s("conns"))
        })
        .collect()
}

/// (code, severity, message, file, line) of the JSON report's active findings, in order.
type FindingKey = (String, String, String, String, String);

fn json_findings(json: &str) -> Vec<FindingKey> {
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| match &f[k] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            (s("code"), s("severity"), s("message"), s("file"), s("line"))
        })
        .collect()
}

/// The same of the page's findings list (a page or a DOM Chromium serialized).
fn html_findings(html: &str) -> Vec<FindingKey> {
    let list = html
        .split("id=\"finding-list\"")
        .nth(1)
        .and_then(|s| s.split("</ol>").next())
        .unwrap_or("");
    let re = Regex::new(
        r#"(?s)<li class="finding [^"]*" data-ns="[^"]*" data-code="([^"]*)" data-severity="([^"]*)"(?: data-file="([^"]*)" data-line="(\d+)")?>.*?<p class="msg">(.*?)</p>"#,
    )
    .unwrap();
    re.captures_iter(list)
        .map(|c| {
            let g = |i: usize| c.get(i).map_or(String::new(), |m| unescape(m.as_str()));
            (g(1), g(2), g(5), g(3), g(4))
        })
        .collect()
}

/// The matrix's non-empty cells as (src, dst, text, class).
fn html_cells(html: &str) -> Vec<(String, String, String, String)> {
    let re = Regex::new(
        r#"<td class="(c[^"]*)" data-src="([^"]*)" data-dst="([^"]*)" title="[^"]*">(.*?)</td>"#,
    )
    .unwrap();
    re.captures_iter(html)
        .map(|c| {
            (
                unescape(&c[2]),
                unescape(&c[3]),
                unescape(&c[4]),
                c[1].to_string(),
            )
        })
        .collect()
}

#[test]
fn html_is_golden_and_deterministic_on_the_demo_cluster() {
    let page = demo("html");
    assert_eq!(page, demo("html"), "same input, same bytes");
    insta::assert_snapshot!("demo_html", page);
}

#[test]
fn html_matrix_and_findings_match_the_json_report() {
    let (page, json) = (demo("html"), demo("json"));
    let cells: BTreeSet<(String, String, String)> = html_cells(&page)
        .into_iter()
        .map(|(s, d, t, _)| (s, d, t))
        .collect();
    assert_eq!(cells, json_connections(&json));
    assert_eq!(html_findings(&page), json_findings(&json));
    assert!(!json_findings(&json).is_empty());
    // Suppressed findings are on the page with their reasons.
    assert!(
        page.contains("legacy apps are being migrated (TICKET-42)"),
        "{page}"
    );
    assert!(page.contains("id=\"intent\" class=\"intent none\""));
}

/// Free-text input values (file names, kinds, suppression reasons) carry markup, quotes and
/// control characters; names and labels cannot (the audit rejects them as the API server does).
fn hostile_cluster() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("evil<img src=x onerror=alert(1)>'\".yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  annotations:\n    airguard.io/suppress: \"namespace-without-default-deny: <script>alert(\\\"ns\\\")</script> 'q' & \\e[31m\\a\\0 \\u202e\"\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: x\n  annotations:\n    airguard.io/suppress: \"pod-not-isolated-egress: </li><script>alert(1)</script>\"\nspec: {containers: [{name: c}]}\n---\nkind: \"<script>k</script>\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes<i>.yaml"), "just: \"<b>\"\n").unwrap();
    dir
}

#[test]
fn html_escapes_every_input_value() {
    let dir = hostile_cluster();
    let (_, page) = audit(dir.path(), &[".", "--format", "html", "--fail-on", "never"]);
    let tags = tag_names(&page);
    let unknown: Vec<&String> = tags
        .iter()
        .filter(|t| !TAGS.contains(&t.as_str()))
        .collect();
    assert!(unknown.is_empty(), "markup from the input: {unknown:?}");
    assert_eq!(
        page.matches("<script").count(),
        1,
        "only the page's own script"
    );
    for text in [
        "&lt;script&gt;alert(&quot;ns&quot;)&lt;/script&gt; &#39;q&#39; &amp; [31m",
        "&lt;/li&gt;&lt;script&gt;alert(1)&lt;/script&gt;",
        "Skipped kinds: &lt;script&gt;k&lt;/script&gt; 1.",
        "./notes&lt;i&gt;.yaml",
        "./evil&lt;img src=x onerror=alert(1)&gt;&#39;&quot;.yaml:8:1",
    ] {
        assert!(page.contains(text), "{text} not in the page:\n{page}");
    }
    let raw = |c: char| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c);
    assert!(
        !page.chars().any(raw),
        "a control character reached the page"
    );
}

/// Render the example spec, then break it: Airflow's triggerer loses its policy (its declared
/// flows become blocked) and Airbyte's server accepts anything (flows nobody declared).
fn broken_render() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("airguard.yaml");
    std::fs::copy(util::fixture("specs/valid/example.yaml"), &spec).unwrap();
    let out = util::airguard()
        .current_dir(dir.path())
        .args(["render", "--spec", "airguard.yaml", "--out", "out"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let np = dir.path().join("out/networkpolicies");
    let airflow = std::fs::read_to_string(np.join("airflow.yaml")).unwrap();
    let kept: Vec<&str> = airflow
        .split("\n---\n")
        .filter(|d| !d.contains("name: airguard-airflow-triggerer\n"))
        .collect();
    assert!(kept.len() < airflow.split("\n---\n").count());
    std::fs::write(np.join("airflow.yaml"), kept.join("\n---\n")).unwrap();
    std::fs::write(
        np.join("extra.yaml"),
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: open, namespace: airbyte}\nspec: {podSelector: {}, ingress: [{}]}\n",
    )
    .unwrap();
    (dir, spec, np)
}

#[test]
fn html_marks_undeclared_and_blocked_flows_and_explains_them() {
    let (dir, _, _) = broken_render();
    let args = [
        "out/networkpolicies",
        "--spec",
        "airguard.yaml",
        "--fail-on",
        "never",
    ];
    let json = audit(dir.path(), &[&args[..], &["--format", "json"]].concat()).1;
    let page = audit(dir.path(), &[&args[..], &["--format", "html"]].concat()).1;
    let cells = html_cells(&page);
    let ends = Regex::new(r"`([^`]+)` -> `?([^` ]+)`?").unwrap();
    let (mut undeclared, mut blocked) = (0, 0);
    for (code, _, message, _, _) in json_findings(&json) {
        let want = match code.as_str() {
            "undeclared-flow" => "u",
            "blocked-declared-flow" => "b",
            _ => continue,
        };
        *(if want == "u" {
            &mut undeclared
        } else {
            &mut blocked
        }) += 1;
        let c = ends.captures(&message).unwrap();
        let cell = cells
            .iter()
            .find(|x| x.0 == c[1] && x.1 == c[2])
            .unwrap_or_else(|| panic!("no cell for {message}"));
        assert!(
            cell.3.split(' ').any(|k| k == want || k == "b"),
            "{message}: cell is {cell:?}"
        );
        if want == "b" {
            assert!(cell.2.contains('✕'), "{cell:?}");
        }
    }
    assert!(undeclared > 0 && blocked > 0, "{json}");
    assert_eq!(html_findings(&page), json_findings(&json));
    assert!(page.contains(&format!(
        "{undeclared} allowed flow(s) the spec does not declare, {blocked} declared flow(s) the policies block."
    )));
    // Each flow finding carries the reasoning of `--explain` for its flow.
    assert_eq!(
        page.matches("<details class=\"why\">").count(),
        undeclared + blocked
    );
    assert!(
        page.contains("verdict: DENIED by the source&#39;s egress"),
        "{page}"
    );
}

// ---- headless Chromium ---------------------------------------------------------------------

fn chromium() -> Option<String> {
    match std::env::var_os("AIRGUARD_CHROMIUM") {
        Some(p) => Some(p.to_string_lossy().into_owned()),
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but AIRGUARD_CHROMIUM is not: run .ci/setup-chromium.sh"
            );
            eprintln!("AIRGUARD_CHROMIUM not set: browser checks not run");
            None
        }
    }
}

/// What Chromium made of a page: the serialized DOM after its script ran, and every console
/// message (Chromium logs them all, whatever their level, as `CONSOLE` lines).
struct Opened {
    dom: String,
    console: Vec<String>,
}

/// Open `page` (with `fragment`) in a fresh profile; with `screenshot`, write a PNG there
/// instead of dumping the DOM. No network: the page's policy forbids fetches and these flags
/// keep Chromium's own services off.
fn open(chromium: &str, page: &Path, fragment: &str, screenshot: Option<&Path>) -> Opened {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,2200",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()));
    match screenshot {
        Some(png) => cmd.arg(format!("--screenshot={}", png.display())),
        None => cmd.arg("--dump-dom"),
    };
    let out = cmd
        .arg(format!("file://{}{fragment}", page.display()))
        .output()
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {stderr}");
    Opened {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console: stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_string)
            .collect(),
    }
}

#[test]
fn html_in_chromium_runs_clean_and_shows_the_json_reports_data() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, demo("html")).unwrap();
    let json = demo("json");

    let all = open(&chromium, &page, "", None);
    assert!(all.console.is_empty(), "console: {:#?}", all.console);
    assert!(
        all.dom.contains("<p id=\"filter\" class=\"filter\">"),
        "the script shows the filter"
    );
    let cells: BTreeSet<(String, String, String)> = html_cells(&all.dom)
        .into_iter()
        .map(|(s, d, t, _)| (s, d, t))
        .collect();
    assert_eq!(cells, json_connections(&json));
    assert_eq!(html_findings(&all.dom), json_findings(&json));
    assert_eq!(all.dom.matches("<script").count(), 1);

    // The namespace filter, preselected by the fragment: what does not concern `legacy` hides.
    let legacy = open(&chromium, &page, "#ns=legacy", None);
    assert!(legacy.console.is_empty(), "console: {:#?}", legacy.console);
    let li = Regex::new(r#"<li class="finding ([^"]*)" data-ns="([^"]*)""#).unwrap();
    let (mut on, mut off) = (0, 0);
    for c in li.captures_iter(&legacy.dom) {
        let hidden = c[1].split(' ').any(|k| k == "off");
        let concerns = c[2].is_empty() || c[2].split(' ').any(|n| n == "legacy");
        assert_eq!(hidden, !concerns, "{}", &c[0]);
        if hidden {
            off += 1
        } else {
            on += 1
        }
    }
    assert!(on > 0 && off > 0, "{on} shown, {off} hidden");
    assert!(legacy
        .dom
        .contains("<tr data-ns=\"shop\" class=\"off\"><th class=\"row\" title=\"shop/db\">"));
    assert!(legacy
        .dom
        .contains("<tr data-ns=\"legacy\"><th class=\"row\" title=\"legacy/cron\">"));

    let png = dir.path().join("report.png");
    let shot = open(&chromium, &page, "", Some(&png));
    assert!(shot.console.is_empty(), "console: {:#?}", shot.console);
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000);
}

#[test]
fn html_in_chromium_shows_hostile_values_as_text() {
    let Some(chromium) = chromium() else { return };
    let cluster = hostile_cluster();
    let (_, html) = audit(
        cluster.path(),
        &[".", "--format", "html", "--fail-on", "never"],
    );
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, html).unwrap();
    let opened = open(&chromium, &page, "", None);
    assert!(opened.console.is_empty(), "console: {:#?}", opened.console);
    assert_eq!(opened.dom.matches("<script").count(), 1, "{}", opened.dom);
    assert!(!opened.dom.contains("<img"), "{}", opened.dom);
    assert!(
        opened
            .dom
            .contains("&lt;/li&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        opened.dom
    );
}
