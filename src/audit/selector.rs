//! Label selectors compiled for fast matching, with Kubernetes' exact rules.
//!
//! `matchLabels` and `matchExpressions` are ANDed; an empty selector matches everything.
//! `In` needs the key with one of the values; `NotIn` matches when the key is absent or its value
//! is not listed; `Exists` / `DoesNotExist` test the key only. This module never guesses: an
//! unknown operator or a missing/extra `values` list is an error for the caller to report.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;
use std::fmt;

/// Labels of an object.
pub type Labels = BTreeMap<String, String>;

/// One requirement of a selector.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Requirement {
    /// The key has one of the values (`matchLabels` entries are `In` with one value).
    In(String, Vec<String>),
    /// The key is absent or has none of the values.
    NotIn(String, Vec<String>),
    /// The key is present.
    Exists(String),
    /// The key is absent.
    DoesNotExist(String),
}

impl Requirement {
    fn matches(&self, labels: &Labels) -> bool {
        match self {
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.iter().any(|x| x == v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.iter().any(|x| x == v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        }
    }
}

/// A compiled label selector.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Selector {
    reqs: Vec<Requirement>,
}

/// A selector that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The operator is not In, NotIn, Exists or DoesNotExist.
    #[error("unknown operator `{0}` (expected In, NotIn, Exists or DoesNotExist)")]
    UnknownOperator(String),
    /// In/NotIn without values, or Exists/DoesNotExist with values.
    #[error("operator `{op}` on key `{key}` {problem}")]
    BadValues {
        /// The operator.
        op: String,
        /// The key.
        key: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// A key or value the API server rejects.
    #[error("{0}")]
    BadLabel(String),
}

impl Selector {
    /// The selector that matches everything.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Compile a Kubernetes label selector.
    pub fn compile(sel: &LabelSelector) -> Result<Self, SelectorError> {
        let mut reqs = Vec::new();
        if let Some((_, msg)) = super::names::labels(sel.match_labels.iter().flatten())
            .into_iter()
            .next()
        {
            return Err(SelectorError::BadLabel(format!("matchLabels: {msg}")));
        }
        for (k, v) in sel.match_labels.iter().flatten() {
            reqs.push(Requirement::In(k.clone(), vec![v.clone()]));
        }
        for e in sel.match_expressions.iter().flatten() {
            let values = e.values.clone().unwrap_or_default();
            if let Err(msg) = super::names::label_key(&e.key) {
                return Err(SelectorError::BadLabel(format!(
                    "matchExpressions key `{}` {msg}",
                    e.key
                )));
            }
            if let Some(msg) = values.iter().find_map(|v| {
                super::names::label_value(v)
                    .err()
                    .map(|m| format!("`{v}` {m}"))
            }) {
                return Err(SelectorError::BadLabel(format!(
                    "matchExpressions value {msg}"
                )));
            }
            let bad = |problem| SelectorError::BadValues {
                op: e.operator.clone(),
                key: e.key.clone(),
                problem,
            };
            let r = match e.operator.as_str() {
                "In" | "NotIn" if values.is_empty() => {
                    return Err(bad("needs a non-empty `values` list"))
                }
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    return Err(bad("must not have `values`"))
                }
                "In" => Requirement::In(e.key.clone(), values),
                "NotIn" => Requirement::NotIn(e.key.clone(), values),
                "Exists" => Requirement::Exists(e.key.clone()),
                "DoesNotExist" => Requirement::DoesNotExist(e.key.clone()),
                other => return Err(SelectorError::UnknownOperator(other.to_string())),
            };
            reqs.push(r);
        }
        reqs.sort();
        reqs.dedup();
        Ok(Self { reqs })
    }

    /// The requirements, all of which must hold.
    pub fn requirements(&self) -> &[Requirement] {
        &self.reqs
    }

    /// Whether the selector matches everything.
    pub fn is_everything(&self) -> bool {
        self.reqs.is_empty()
    }

    /// Whether the labels satisfy every requirement.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.reqs.iter().all(|r| r.matches(labels))
    }
}

impl fmt::Display for Selector {
    /// `{}` for everything, else `app=web,tier in (a,b),!legacy`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reqs.is_empty() {
            return f.write_str("{}");
        }
        for (i, r) in self.reqs.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match r {
                Requirement::In(k, v) if v.len() == 1 => write!(f, "{k}={}", v[0])?,
                Requirement::In(k, v) => write!(f, "{k} in ({})", v.join(","))?,
                Requirement::NotIn(k, v) => write!(f, "{k} notin ({})", v.join(","))?,
                Requirement::Exists(k) => write!(f, "{k}")?,
                Requirement::DoesNotExist(k) => write!(f, "!{k}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(kv: &[(&str, &str)]) -> Labels {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: if values.is_empty() {
                None
            } else {
                Some(values.iter().map(|s| s.to_string()).collect())
            },
        }
    }

    #[test]
    fn operators_follow_kubernetes() {
        let sel = |e| {
            Selector::compile(&LabelSelector {
                match_expressions: Some(vec![e]),
                ..Default::default()
            })
            .unwrap()
        };
        let web = labels(&[("app", "web")]);
        let none = labels(&[]);
        assert!(sel(expr("app", "In", &["web", "db"])).matches(&web));
        assert!(!sel(expr("app", "In", &["db"])).matches(&web));
        assert!(sel(expr("app", "NotIn", &["db"])).matches(&web));
        assert!(
            sel(expr("app", "NotIn", &["db"])).matches(&none),
            "NotIn matches an absent key"
        );
        assert!(sel(expr("app", "Exists", &[])).matches(&web));
        assert!(!sel(expr("app", "Exists", &[])).matches(&none));
        assert!(sel(expr("app", "DoesNotExist", &[])).matches(&none));
    }

    #[test]
    fn empty_selector_matches_everything_and_bad_operators_fail() {
        assert!(Selector::compile(&LabelSelector::default())
            .unwrap()
            .matches(&labels(&[("a", "b")])));
        let bad = LabelSelector {
            match_expressions: Some(vec![expr("a", "Like", &["x"])]),
            ..Default::default()
        };
        assert!(Selector::compile(&bad).is_err());
        let bad = LabelSelector {
            match_expressions: Some(vec![expr("a", "In", &[])]),
            ..Default::default()
        };
        assert!(Selector::compile(&bad).is_err());
    }
}
