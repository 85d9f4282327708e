//! `kustomization.yaml`: the list of every Kubernetes object file render writes, so
//! `kubectl apply -k` or a GitOps tool takes the output directory as is.
//!
//! Like every other artifact it is parsed back before it is returned, into a closed serde type
//! (`apiVersion`, `kind`, `resources` and nothing else): the resources must be sorted, unique,
//! and exactly the rendered files that hold Kubernetes objects (not the Helm values under
//! `airflow/` and `airbyte/`, which are not objects, nor the DAGs, rendered after it).

use super::{header, Artifact, RenderError};
use serde::Deserialize;

/// The file's path in the output.
pub const PATH: &str = "kustomization.yaml";
const API_VERSION: &str = "kustomize.config.k8s.io/v1beta1";

/// The file as Kustomize reads it: the keys airguard writes, no others.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Kustomization {
    api_version: String,
    kind: String,
    resources: Vec<String>,
}

/// The artifacts that hold Kubernetes objects Kustomize should apply, sorted.
fn resources(artifacts: &[Artifact]) -> Vec<&str> {
    let mut paths: Vec<&str> = artifacts
        .iter()
        .map(|a| a.path.as_str())
        .filter(|p| !p.starts_with("airflow/") && !p.starts_with("airbyte/"))
        .collect();
    paths.sort_unstable();
    paths
}

/// Write the kustomization listing the resources among `artifacts`, and check it.
pub fn render(artifacts: &[Artifact]) -> Result<Artifact, RenderError> {
    let mut s = header();
    s.push_str(&format!(
        "apiVersion: {API_VERSION}\nkind: Kustomization\nresources:\n"
    ));
    let paths = resources(artifacts);
    if paths.is_empty() {
        s.truncate(s.len() - 1);
        s.push_str(" []\n");
    }
    for p in paths {
        s.push_str(&format!("- {p}\n"));
    }
    check(&s, artifacts).map_err(|message| RenderError::SelfCheck {
        path: PATH.into(),
        message,
    })?;
    Ok(Artifact {
        path: PATH.into(),
        content: s,
    })
}

/// Parse `content` back and check it lists exactly the resources among `artifacts`, sorted.
pub fn check(content: &str, artifacts: &[Artifact]) -> Result<(), String> {
    let k: Kustomization = serde_saphyr::from_str(content).map_err(|e| e.to_string())?;
    if k.api_version != API_VERSION || k.kind != "Kustomization" {
        return Err(format!(
            "expected apiVersion {API_VERSION} and kind Kustomization, got {} {}",
            k.api_version, k.kind
        ));
    }
    if let Some(w) = k.resources.windows(2).find(|w| w[0] >= w[1]) {
        return Err(format!(
            "resources are not sorted and unique: `{}` before `{}`",
            w[0], w[1]
        ));
    }
    let expected = resources(artifacts);
    if let Some(r) = k.resources.iter().find(|r| !expected.contains(&r.as_str())) {
        return Err(format!("resource `{r}` is not a rendered object file"));
    }
    if let Some(p) = expected
        .iter()
        .find(|p| !k.resources.iter().any(|r| r == *p))
    {
        return Err(format!("rendered `{p}` is not listed in resources"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifacts(paths: &[&str]) -> Vec<Artifact> {
        paths
            .iter()
            .map(|p| Artifact {
                path: (*p).into(),
                content: String::new(),
            })
            .collect()
    }

    #[test]
    fn lists_every_object_file_sorted_and_passes_its_check() {
        let a = artifacts(&[
            "secrets/b.yaml",
            "airflow/values.yaml",
            "networkpolicies/a.yaml",
        ]);
        let k = render(&a).unwrap();
        assert!(k
            .content
            .ends_with("resources:\n- networkpolicies/a.yaml\n- secrets/b.yaml\n"));
        let empty = render(&artifacts(&["airflow/values.yaml"])).unwrap();
        assert!(empty.content.ends_with("resources: []\n"));
    }

    #[test]
    fn a_broken_kustomization_fails_its_check() {
        let a = artifacts(&["airflow/values.yaml", "n/a.yaml", "s/b.yaml"]);
        let head = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";
        let broken = [
            (
                "resources:\n- n/a.yaml\n- s/b.yaml\nextra: 1\n",
                "unknown field",
            ),
            ("resources:\n- s/b.yaml\n- n/a.yaml\n", "not sorted"),
            (
                "resources:\n- n/a.yaml\n- n/a.yaml\n- s/b.yaml\n",
                "not sorted",
            ),
            (
                "resources:\n- n/a.yaml\n- s/b.yaml\n- x.yaml\n",
                "`x.yaml` is not a rendered",
            ),
            ("resources:\n- n/a.yaml\n", "`s/b.yaml` is not listed"),
            (
                "resources:\n- airflow/values.yaml\n- n/a.yaml\n- s/b.yaml\n",
                "not a rendered",
            ),
            ("resources: n/a.yaml\n", ""),
        ];
        for (rest, why) in broken {
            let err = check(&format!("{head}{rest}"), &a).unwrap_err();
            assert!(err.contains(why), "{rest}: {err}");
        }
        let wrong_kind = "apiVersion: v1\nkind: Kustomization\nresources: []\n";
        assert!(check(wrong_kind, &[])
            .unwrap_err()
            .contains("expected apiVersion"));
        assert!(check(&format!("{head}resources:\n- n/a.yaml\n- s/b.yaml\n"), &a).is_ok());
    }
}
