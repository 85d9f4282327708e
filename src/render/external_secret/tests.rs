//! Unit tests of the ESO artifacts: policies, durations, self-check, per-chart keys.

use super::*;
use crate::render::airflow_conn::connection_json;
use std::time::Duration;

#[test]
fn go_durations_are_canonical() {
    let cases = [
        (Duration::from_secs(3600), "1h0m0s"),
        (Duration::from_secs(600), "10m0s"),
        (Duration::from_secs(90), "1m30s"),
        (Duration::from_secs(30), "30s"),
        (Duration::from_secs(0), "0s"),
        (Duration::from_millis(1500), "1.5s"),
        (Duration::from_millis(500), "500ms"),
        (Duration::from_micros(3), "3µs"),
        (Duration::from_nanos(7), "7ns"),
        (Duration::from_secs(9000), "2h30m0s"),
        (Duration::from_secs(86400 + 1), "24h0m1s"),
    ];
    for (d, want) in cases {
        assert_eq!(format_go_duration(d), want, "{d:?}");
    }
}

#[test]
fn forbidden_policy_pairs_are_rejected() {
    use CreationPolicy as C;
    use DeletionPolicy as D;
    let all_c = [C::Owner, C::Orphan, C::Merge, C::None, C::CreateOrMerge];
    let all_d = [D::Retain, D::Delete, D::Merge];
    let mut bad = Vec::new();
    for c in all_c {
        for d in all_d {
            if check_policies(c, d).is_err() {
                bad.push((creation_str(c), deletion_str(d)));
            }
        }
    }
    assert_eq!(
        bad,
        [
            ("Merge", "Delete"),
            ("None", "Delete"),
            ("None", "Merge"),
            ("CreateOrMerge", "Delete")
        ]
    );
}

fn starter() -> Model {
    let mut files = crate::diag::Files::new();
    let text = include_str!("../../../templates/airguard.yaml");
    let (m, diags) = crate::spec::from_str(&mut files, "airguard.yaml", text);
    m.unwrap_or_else(|| panic!("{diags:?}"))
}

fn rendered(path: &str) -> String {
    render(&starter())
        .unwrap()
        .into_iter()
        .find(|a| a.path == path)
        .unwrap()
        .content
}

#[test]
fn self_check_accepts_what_render_writes() {
    let m = starter();
    for a in render(&m).unwrap() {
        check::check_file(&a.content, &m).unwrap_or_else(|e| panic!("{}: {e}", a.path));
    }
}

#[test]
fn self_check_rejects_broken_objects() {
    let m = starter();
    let es = rendered("secrets/airflow.yaml");
    let cases = [
        es.replace("deletionPolicy: Retain", "deletionPolicy: Delete")
            .replace("creationPolicy: Owner", "creationPolicy: Merge"),
        es.replace("refreshInterval: \"1h0m0s\"", "refreshInterval: \"1h\""),
        es.replace("{{ .client_id }}", "{{ .clientid }}"),
        es.replace(
            "  refreshPolicy: Periodic",
            "  refreshPolicy: Periodic\n  unknownField: 1",
        ),
    ];
    for (i, c) in cases.iter().enumerate() {
        assert_ne!(c, &es, "case {i} changed nothing");
        assert!(check::check_file(c, &m).is_err(), "case {i} accepted");
    }
    let store = rendered("secrets/cluster-secret-store.yaml");
    let no_ns = store.replace(
        "          role: external-secrets\n",
        "          role: external-secrets\n          serviceAccountRef:\n            name: eso\n",
    );
    assert_ne!(no_ns, store);
    assert!(check::check_file(&no_ns, &m)
        .unwrap_err()
        .contains("no namespace"));
}

/// The ExternalSecret document for `name` in `secrets/<ns>.yaml`.
fn es_doc(m: &Model, ns: &str, name: &str) -> String {
    let a = render(m).unwrap();
    let file = a
        .iter()
        .find(|a| a.path == format!("secrets/{ns}.yaml"))
        .unwrap();
    check::documents(&file.content)
        .into_iter()
        .find(|d| d.contains(&format!("  name: {name}\n")) && d.contains("kind: ExternalSecret"))
        .unwrap_or_else(|| panic!("no ExternalSecret {name}"))
}

#[test]
fn auth_secret_always_merges_and_retains() {
    let mut m = starter();
    for (c, d) in [
        (CreationPolicy::Owner, DeletionPolicy::Delete),
        (CreationPolicy::Orphan, DeletionPolicy::Retain),
        (CreationPolicy::Owner, DeletionPolicy::Merge),
    ] {
        m.secrets.creation_policy = c;
        m.secrets.deletion_policy = d;
        let ns = m.airbyte.namespace.clone();
        let auth = es_doc(&m, &ns, AIRBYTE_AUTH_SECRET_NAME);
        assert!(auth.contains("creationPolicy: Merge\n"), "{auth}");
        assert!(auth.contains("deletionPolicy: Retain\n"), "{auth}");
        let config = es_doc(&m, &ns, AIRBYTE_CONFIG_SECRET_NAME);
        assert!(config.contains(&format!("creationPolicy: {}\n", creation_str(c))));
        assert!(config.contains(&format!("deletionPolicy: {}\n", deletion_str(d))));
    }
}

#[test]
fn auth_comment_names_the_values_key_of_the_chart_line() {
    let mut m = starter();
    let ns = m.airbyte.namespace.clone();
    m.airbyte.chart = ChartProfile::V1;
    let v1 = es_doc(&m, &ns, AIRBYTE_AUTH_SECRET_NAME);
    assert!(v1.contains("global.auth.secretName"));
    assert!(v1.contains("global.auth.instanceAdmin.secretName"));
    assert!(!v1.contains("managedSecretName"));
    m.airbyte.chart = ChartProfile::V2;
    let v2 = es_doc(&m, &ns, AIRBYTE_AUTH_SECRET_NAME);
    assert!(v2.contains("global.auth.managedSecretName"));
    assert!(!v2.contains("global.auth.secretName"));
}

#[test]
fn database_keys_follow_the_chart_line() {
    let mut m = starter();
    let ns = m.airbyte.namespace.clone();
    assert!(
        m.secrets.postgres_user.is_some(),
        "the starter sets secrets.postgres.user"
    );
    m.airbyte.chart = ChartProfile::V2;
    let v2 = es_doc(&m, &ns, AIRBYTE_CONFIG_SECRET_NAME);
    for k in [
        "DATABASE_USER",
        "DATABASE_PASSWORD",
        "CONFIG_DATABASE_REPLICA_USER",
        "CONFIG_DATABASE_REPLICA_PASSWORD",
    ] {
        assert!(v2.contains(&format!("- secretKey: {k}\n")), "{k}: {v2}");
    }
    assert!(!v2.contains("secrets.postgres.user is not set"));
    m.airbyte.chart = ChartProfile::V1;
    let v1 = es_doc(&m, &ns, AIRBYTE_CONFIG_SECRET_NAME);
    assert!(v1.contains("- secretKey: DATABASE_USER\n"));
    assert!(v1.contains("global.database.userSecretKey"));
    assert!(!v1.contains("CONFIG_DATABASE_REPLICA"));
    m.airbyte.chart = ChartProfile::V2;
    m.secrets.postgres_user = None;
    let no_user = es_doc(&m, &ns, AIRBYTE_CONFIG_SECRET_NAME);
    assert!(!no_user.contains("- secretKey: DATABASE_USER\n"));
    assert!(no_user.contains("secrets.postgres.user is not set"));
}

#[test]
fn documents_split_on_separator_lines() {
    let docs = check::documents("# h\n---\na: 1\n---\n# c\nb: 2\n");
    assert_eq!(docs, ["a: 1\n", "# c\nb: 2\n"]);
}

#[test]
fn regression_config_flavour_gives_airflow_the_public_api() {
    // The Airbyte provider speaks only the public API: a Config-API host or token URL in the
    // connection makes every call of every DAG a 404.
    let mut m = starter();
    m.airbyte.api.flavour = model::ApiFlavour::Config;
    m.airbyte.api.base_path = "/api/v1".into();
    m.airbyte.api.token_url = "/api/v1/applications/token".into();
    let url = m.airbyte.api.url.clone();
    let json = connection_json(&m, true);
    assert!(
        json.contains(&format!("\"host\":\"{url}/api/public/v1/\"")),
        "{json}"
    );
    assert!(
        json.contains(&format!(
            "\"schema\":\"{url}/api/public/v1/applications/token\""
        )),
        "{json}"
    );
    assert!(!json.contains("/api/v1"), "{json}");
    let ns = m.airflow.namespace.clone();
    let es = es_doc(&m, &ns, AIRFLOW_SECRET_NAME);
    assert!(es.contains("/api/public/v1/applications/token"), "{es}");
    assert!(!es.contains("/api/v1/"), "{es}");
    // The public flavour keeps the spec's own base path and token URL.
    m.airbyte.api.flavour = model::ApiFlavour::Public;
    m.airbyte.api.base_path = "/api/public/v1".into();
    m.airbyte.api.token_url = "/api/public/v1/applications/token".into();
    assert!(connection_json(&m, true).contains("/api/public/v1/applications/token"));
}
