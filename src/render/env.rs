//! The template environment: every template in `templates/`, embedded at build time.
//!
//! Undefined variables are errors (`UndefinedBehavior::Strict`), so a missing value fails the
//! render instead of silently producing an empty string. Templates write YAML; the `yaml` filter
//! turns any scalar into a YAML scalar that reads back as the same value (quoting when plain
//! style would change its meaning), so no spec value can break the document structure.

use super::RenderError;
use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;
use std::sync::LazyLock;

/// Every template, by name. Add new templates here.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "secretstore.yaml.j2",
        include_str!("../../templates/secretstore.yaml.j2"),
    ),
    (
        "externalsecret.yaml.j2",
        include_str!("../../templates/externalsecret.yaml.j2"),
    ),
    (
        "airflow-values.yaml.j2",
        include_str!("../../templates/airflow-values.yaml.j2"),
    ),
    (
        "airbyte-values.yaml.j2",
        include_str!("../../templates/airbyte-values.yaml.j2"),
    ),
    (
        "prometheusrule.yaml.j2",
        include_str!("../../templates/prometheusrule.yaml.j2"),
    ),
    (
        "grafana-dashboard.yaml.j2",
        include_str!("../../templates/grafana-dashboard.yaml.j2"),
    ),
    (
        super::network_policy::TEMPLATE,
        include_str!("../../templates/networkpolicy.yaml.j2"),
    ),
    (
        super::dags::PIPELINE_TEMPLATE,
        include_str!("../../templates/dags/pipeline.py.j2"),
    ),
    (
        super::dags::RUNTIME_TEMPLATE,
        include_str!("../../templates/dags/airguard_airbyte.py.j2"),
    ),
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.add_filter("yaml", yaml_filter);
    env.add_filter("yaml_single", |s: String| yaml_single(&s));
    env.add_filter("py", |v: Value, indent: usize| {
        super::dags::py_literal(&v, indent)
    });
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name} does not parse: {e:#}"));
    }
    env
});

/// Render the named template with `ctx`.
pub fn render(template: &str, ctx: impl Serialize) -> Result<String, RenderError> {
    let t = ENV
        .get_template(template)
        .map_err(|source| RenderError::Template {
            template: template.to_string(),
            source,
        })?;
    t.render(ctx).map_err(|source| RenderError::Template {
        template: template.to_string(),
        source,
    })
}

fn yaml_filter(v: Value) -> Result<String, minijinja::Error> {
    if let Some(s) = v.as_str() {
        return Ok(yaml_scalar(s));
    }
    // Numbers, booleans and none: their JSON form is the YAML form.
    serde_json::to_string(&v)
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string()))
}

/// A string as a YAML scalar: plain when that reads back as the same string, else double-quoted.
pub fn yaml_scalar(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("strings serialize")
    }
}

/// A string as a single-quoted YAML scalar (only `'` is escaped, by doubling), for values full of
/// double quotes such as JSON. Falls back to [`yaml_scalar`] for text with line breaks or
/// control characters, which single quotes would fold.
pub fn yaml_single(s: &str) -> String {
    if s.chars().any(|c| c.is_control()) {
        return yaml_scalar(s);
    }
    format!("'{}'", s.replace('\'', "''"))
}

fn is_plain_safe(s: &str) -> bool {
    const RESERVED: &[&str] = &[
        "", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", "<<", "=",
    ];
    let lower = s.to_ascii_lowercase();
    if RESERVED.contains(&lower.as_str()) {
        return false;
    }
    let first = s.chars().next().expect("non-empty");
    if !(first.is_ascii_alphabetic() || first == '/' || first == '_') {
        // digits could read as numbers, dates or versions; quote them
        return false;
    }
    if s.ends_with(':') || s.ends_with(' ') || s.contains(": ") || s.contains(" #") {
        return false;
    }
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:@+= ".contains(c))
}

#[cfg(test)]
mod tests {
    use super::yaml_scalar;

    #[test]
    fn scalars_read_back_as_strings() {
        for s in [
            "airbyte",
            "true",
            "1h",
            "0",
            "10.0.0.0/8",
            "a: b",
            "x #y",
            "",
            "on",
            "1.8.5",
            "{{ .x }}",
            "http://a:80/b",
        ] {
            let y = yaml_scalar(s);
            let back: String =
                serde_saphyr::from_str(&y).unwrap_or_else(|e| panic!("{s:?} -> {y}: {e}"));
            assert_eq!(back, s, "{y}");
        }
        assert_eq!(yaml_scalar("airbyte"), "airbyte");
        assert_eq!(yaml_scalar("true"), "\"true\"");
    }

    #[test]
    fn single_quoted_scalars_read_back() {
        for s in [
            r#"{"a":"b","c":{{ .x | toJson }}}"#,
            "it's",
            "",
            "a\nb",
            "#x",
            "- y",
        ] {
            let y = super::yaml_single(s);
            let back: String =
                serde_saphyr::from_str(&y).unwrap_or_else(|e| panic!("{s:?} -> {y}: {e}"));
            assert_eq!(back, s, "{y}");
        }
    }
}
