//! Where the cluster's ingress controller and DNS run: by namespace and pod labels, or (DNS) by
//! address.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The ingress controller.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Ingress {
    /// Namespace of the ingress controller.
    pub namespace: String,
    /// Labels of the controller pods.
    pub pod_labels: BTreeMap<String, String>,
    /// Also let the controller reach the Airflow UI (api-server).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub airflow_ui: bool,
}

/// Cluster DNS: the DNS pods by namespace and labels (the default, CoreDNS in `kube-system`),
/// or the addresses DNS is reached at (`cidrs`) — exactly one of the two.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Dns {
    /// Namespace of the DNS pods (default `kube-system`; `openshift-dns` on OpenShift). Not
    /// with `cidrs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels of the DNS pods (default `k8s-app: kube-dns`). Not with `cidrs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_labels: Option<BTreeMap<String, String>>,
    /// Addresses DNS is reached at instead of pods, as CIDRs: NodeLocal DNSCache's link-local
    /// `169.254.20.10/32`, or DNS servers outside the pod network. Not with `namespace` or
    /// `pod-labels`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidrs: Option<Vec<String>>,
    /// DNS port (53; 5353 on OpenShift's DNS pods).
    #[serde(default = "Dns::default_port")]
    pub port: i64,
}

impl Dns {
    /// The namespace of the DNS pods when `namespace` is not given.
    pub fn default_namespace() -> String {
        "kube-system".into()
    }
    /// The labels of the DNS pods when `pod-labels` is not given.
    pub fn default_labels() -> BTreeMap<String, String> {
        BTreeMap::from([("k8s-app".to_string(), "kube-dns".to_string())])
    }
    fn default_port() -> i64 {
        53
    }
    /// The upstream CoreDNS defaults.
    pub fn default_value() -> Self {
        Self {
            namespace: None,
            pod_labels: None,
            cidrs: None,
            port: 53,
        }
    }
}
