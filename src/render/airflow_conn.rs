//! The Airflow connection contract, in one home: the Secret in the Airflow namespace that carries
//! it, the Go-template keys of that Secret's ExternalSecret and the spec credentials behind them,
//! the connection JSON (`AIRFLOW_CONN_<ID>`) and its base and token URLs. `external_secret`
//! writes the Secret from it and `helm_values` points Airflow's components at it.

use crate::spec::model::{self, AuthKind, Model, RemoteRef};

/// The Secret in the Airflow namespace that carries `AIRBYTE_API_*` and `AIRFLOW_CONN_<ID>`.
/// `render::helm_values` points the Airflow components at it.
pub const AIRFLOW_SECRET_NAME: &str = "airguard-airbyte-api";

/// Keys of the Airflow-side ExternalSecret's `data`, visible to its Go template as `.<key>`.
pub mod tpl_key {
    pub const CLIENT_ID: &str = "client_id";
    pub const CLIENT_SECRET: &str = "client_secret";
    pub const USERNAME: &str = "username";
    pub const PASSWORD: &str = "password";
    pub const TOKEN: &str = "token";
}

/// The absolute token URL for the Airflow connection's `schema` field. The Airbyte provider joins
/// it onto the host with `urljoin`, which mangles relative paths; an absolute URL is unambiguous.
pub fn absolute_token_url(api: &model::Api) -> String {
    let t = api.token_url.as_str();
    if t.starts_with("http://") || t.starts_with("https://") {
        t.to_string()
    } else if t.starts_with('/') {
        format!("{}{t}", api.url)
    } else {
        format!("{}/{t}", api.base_url())
    }
}

/// The API base URL of the Airflow connection. The Airbyte provider for Airflow speaks only the
/// public API (its hook hands `host` to the airbyte-api SDK as `server_url`), so with
/// `flavour: config`, which is for `airguard conform`, the connection still targets the public
/// API on the same server.
pub fn airflow_base_url(api: &model::Api) -> String {
    match api.flavour {
        model::ApiFlavour::Public => api.base_url(),
        model::ApiFlavour::Config => format!("{}{}", api.url, model::PUBLIC_BASE_PATH),
    }
}

/// The token URL of the Airflow connection: the public API's token endpoint (see
/// [`airflow_base_url`]); a `token-url` set for the Config API is conform's, not Airflow's.
pub fn airflow_token_url(api: &model::Api) -> String {
    match api.flavour {
        model::ApiFlavour::Public => absolute_token_url(api),
        model::ApiFlavour::Config => format!("{}/applications/token", airflow_base_url(api)),
    }
}

/// The Airflow connection JSON (`AIRFLOW_CONN_<ID>`), in the JSON form the Airbyte provider's
/// hook reads: `host` is the public API base URL with a trailing `/`, `schema` its token URL,
/// `extra` the provider's `timeout` when the spec sets `airflow.connection-timeout`.
/// With client credentials, `login`/`password` are ESO Go-template actions, not values.
pub fn connection_json(model: &Model, with_credentials: bool) -> String {
    let api = &model.airbyte.api;
    let host =
        serde_json::to_string(&format!("{}/", airflow_base_url(api))).expect("strings serialize");
    let schema = serde_json::to_string(&airflow_token_url(api)).expect("strings serialize");
    let mut s = format!("{{\"conn_type\":\"airbyte\",\"host\":{host},");
    if with_credentials {
        s.push_str(&format!(
            "\"login\":{{{{ .{} | toJson }}}},\"password\":{{{{ .{} | toJson }}}},",
            tpl_key::CLIENT_ID,
            tpl_key::CLIENT_SECRET
        ));
    }
    s.push_str(&format!("\"schema\":{schema}"));
    if let Some(extra) = connection_extra(&model.airflow) {
        s.push_str(&format!(",\"extra\":{extra}"));
    }
    s.push('}');
    s
}

/// The connection's `extra` object, if any: the Airbyte provider 6.2.0 hook reads `timeout`
/// (seconds, a positive number, applied to every request including the token request) and
/// `proxies` from it. airguard writes `timeout` only: a proxy would route the calls around the
/// in-cluster path the NetworkPolicies open.
pub fn connection_extra(af: &model::Airflow) -> Option<String> {
    let t = af.connection_timeout?;
    let secs = if t.subsec_nanos() == 0 {
        t.as_secs().to_string()
    } else {
        format!("{}", t.as_secs_f64())
    };
    Some(format!("{{\"timeout\":{secs}}}"))
}

/// Whether the Airflow side gets an ExternalSecret (any credential to carry).
pub fn airflow_has_secret(model: &Model) -> bool {
    !airflow_data(model).is_empty()
}
/// `(template key, env var)` pairs of the Airflow-side Secret, by auth kind.
pub fn airflow_data(model: &Model) -> Vec<(&'static str, &'static str, &RemoteRef)> {
    let s = &model.secrets;
    let wanted: Vec<(&'static str, &'static str, &Option<RemoteRef>)> = match model.airbyte.api.auth
    {
        AuthKind::ClientCredentials => vec![
            (
                tpl_key::CLIENT_ID,
                model::env::CLIENT_ID,
                &s.airbyte_client_id,
            ),
            (
                tpl_key::CLIENT_SECRET,
                model::env::CLIENT_SECRET,
                &s.airbyte_client_secret,
            ),
        ],
        AuthKind::Basic => vec![
            (
                tpl_key::USERNAME,
                model::env::USERNAME,
                &s.airbyte_client_id,
            ),
            (
                tpl_key::PASSWORD,
                model::env::PASSWORD,
                &s.airbyte_client_secret,
            ),
        ],
        AuthKind::Bearer => vec![(tpl_key::TOKEN, model::env::TOKEN, &s.airbyte_token)],
        AuthKind::None => vec![],
    };
    wanted
        .into_iter()
        .filter_map(|(k, e, r)| r.as_ref().map(|r| (k, e, r)))
        .collect()
}
