//! Rules of the secret provider's options beyond the store basics: AWS role chaining
//! (`external-id`, `additional-roles`, `prefix`), Vault's CA (`ca-bundle` / `ca-provider`) and its
//! `jwt`, `cert` and `user-pass` auth, and GCP workload identity federation. Each option renders
//! as ESO v1 spells it, so these rules reject what ESO would refuse or silently ignore.
//!
//! A child of `validate` so it shares the located-diagnostic helpers; it only adds rules.

use super::Cx;
use crate::diag::Code;
use crate::spec::raw;

/// Secret or ServiceAccount references a provider names: `(JSON pointer, namespace)`. In a
/// ClusterSecretStore every one needs its namespace.
pub(super) type Refs<'r> = Vec<(String, Option<&'r String>)>;

/// An IAM role ARN: `arn:<partition>:iam::<account>:role/<name>`.
fn is_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if partition.starts_with("aws")
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && resource.strip_prefix("role/").is_some_and(|n| !n.is_empty()))
}

/// Base64 of a PEM document: the alphabet, padded to a multiple of 4, and starting with the
/// encoding of `-----BEGIN`.
fn is_base64_pem(s: &str) -> bool {
    s.len().is_multiple_of(4)
        && s.starts_with("LS0tLS1CRUdJT")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
}

impl Cx<'_> {
    /// Point the last diagnostic at the key of `pointer` (a mapping the problem is about)
    /// rather than at the mapping's first entry.
    pub(super) fn at_key(&mut self, pointer: &str) {
        let range = self.doc.locate_key(pointer);
        if let Some(label) = self.diags.last_mut().and_then(|d| d.label.as_mut()) {
            label.range = range;
        }
    }

    pub(super) fn aws_options(&mut self, b: &str, a: &raw::AwsProvider) {
        let roles = a.role.iter().map(|r| (format!("{b}/role"), r)).chain(
            a.additional_roles
                .iter()
                .enumerate()
                .map(|(i, r)| (format!("{b}/additional-roles/{i}"), r)),
        );
        for (pointer, r) in roles.collect::<Vec<_>>() {
            if !is_role_arn(r) {
                self.push(
                    Code::InvalidValue,
                    &pointer,
                    format!("`{r}` is not an IAM role ARN"),
                    "expected `arn:aws:iam::<account>:role/<name>`",
                    "write the role's ARN, e.g. `arn:aws:iam::123456789012:role/eso-reader`".into(),
                );
            }
        }
        if a.role.is_none() {
            for (key, set) in [
                ("external-id", a.external_id.is_some()),
                ("additional-roles", !a.additional_roles.is_empty()),
            ] {
                if set {
                    self.push(
                        Code::IncompleteProvider,
                        &format!("{b}/{key}"),
                        format!("aws `{key}` needs a `role` to assume"),
                        "ESO uses it only when assuming `role`",
                        format!("set `role:` (the ARN whose trust policy expects it), or remove `{key}`"),
                    );
                }
            }
        }
        if a.prefix.as_deref().is_some_and(|p| p.trim().is_empty()) {
            self.push(
                Code::InvalidValue,
                &format!("{b}/prefix"),
                "aws `prefix` is empty".into(),
                "empty",
                "remove `prefix`, or set the path every remote key starts with (`prod/`)".into(),
            );
        }
    }

    pub(super) fn vault_ca<'r>(&mut self, b: &str, v: &'r raw::VaultProvider, refs: &mut Refs<'r>) {
        if let Some(bundle) = &v.ca_bundle {
            if !is_base64_pem(bundle) {
                self.push(
                    Code::InvalidValue,
                    &format!("{b}/ca-bundle"),
                    "`ca-bundle` is not a base64-encoded PEM bundle".into(),
                    "ESO reads it as base64",
                    "write the output of `base64 -w0 ca.pem`".into(),
                );
            }
            if v.ca_provider.is_some() {
                self.push(
                    Code::ConflictingSettings,
                    &format!("{b}/ca-provider"),
                    "vault sets both `ca-bundle` and `ca-provider`".into(),
                    "one CA source only",
                    "keep one of them".into(),
                );
                self.at_key(&format!("{b}/ca-provider"));
            }
        }
        if let Some(c) = &v.ca_provider {
            refs.push((format!("{b}/ca-provider"), c.namespace.as_ref()));
        }
        if (v.ca_bundle.is_some() || v.ca_provider.is_some()) && v.server.starts_with("http://") {
            self.push(
                Code::ConflictingSettings,
                &format!("{b}/server"),
                "a CA for a plain-HTTP Vault server".into(),
                "ESO uses the CA only over HTTPS",
                "use the `https://` address of the server".into(),
            );
        }
    }

    /// The auth methods added to `vault.auth`: `jwt` (exactly one token source), `cert` and
    /// `user-pass`. The older methods are checked in `secrets.rs`.
    pub(super) fn vault_auth<'r>(
        &mut self,
        b: &str,
        auth: &'r raw::VaultAuth,
        refs: &mut Refs<'r>,
    ) {
        match auth {
            raw::VaultAuth::Jwt {
                secret_ref,
                service_account,
                audiences,
                ..
            } => {
                let p = format!("{b}/auth/jwt");
                match (secret_ref, service_account) {
                    (None, None) => {
                        self.push(
                            Code::IncompleteProvider,
                            &p,
                            "vault jwt auth needs a token source".into(),
                            "neither `secret-ref` nor `service-account`",
                            "add `service-account:` (ESO requests its token) or `secret-ref:` (a JWT in a Secret)".into(),
                        );
                        self.at_key(&p);
                    }
                    (Some(_), Some(_)) => self.push(
                        Code::ConflictingSettings,
                        &format!("{p}/secret-ref"),
                        "vault jwt auth sets both `secret-ref` and `service-account`".into(),
                        "one token source only",
                        "keep one of them".into(),
                    ),
                    _ => {}
                }
                if service_account.is_none() && !audiences.is_empty() {
                    self.push(
                        Code::ConflictingSettings,
                        &format!("{p}/audiences"),
                        "`audiences` apply to a requested ServiceAccount token only".into(),
                        "no `service-account`",
                        "remove `audiences`, or use `service-account:`".into(),
                    );
                }
                if let Some(r) = secret_ref {
                    refs.push((format!("{p}/secret-ref"), r.namespace.as_ref()));
                }
                if let Some(sa) = service_account {
                    refs.push((format!("{p}/service-account"), sa.namespace.as_ref()));
                }
            }
            raw::VaultAuth::Cert {
                client_cert,
                secret_ref,
                ..
            } => {
                refs.push((
                    format!("{b}/auth/cert/client-cert"),
                    client_cert.namespace.as_ref(),
                ));
                refs.push((
                    format!("{b}/auth/cert/secret-ref"),
                    secret_ref.namespace.as_ref(),
                ));
            }
            raw::VaultAuth::UserPass {
                username,
                secret_ref,
                ..
            } => {
                if username.trim().is_empty() {
                    self.push(
                        Code::IncompleteProvider,
                        &format!("{b}/auth/user-pass/username"),
                        "vault user-pass auth needs a `username`".into(),
                        "empty",
                        "set the Vault user ESO logs in as".into(),
                    );
                }
                refs.push((
                    format!("{b}/auth/user-pass/secret-ref"),
                    secret_ref.namespace.as_ref(),
                ));
            }
            raw::VaultAuth::Kubernetes { .. }
            | raw::VaultAuth::Token { .. }
            | raw::VaultAuth::AppRole { .. } => {}
        }
    }

    /// GCP workload identity federation: exactly one token source, and the STS audience that
    /// ESO requires with a ServiceAccount or AWS credentials.
    pub(super) fn gcp_wif<'r>(&mut self, b: &str, auth: &'r raw::GcpAuth, refs: &mut Refs<'r>) {
        let raw::GcpAuth::WorkloadIdentityFederation {
            audience,
            service_account,
            cred_config,
            aws_security_credentials,
            ..
        } = auth
        else {
            return;
        };
        let p = format!("{b}/auth/workload-identity-federation");
        let sources = [
            service_account.is_some(),
            cred_config.is_some(),
            aws_security_credentials.is_some(),
        ]
        .into_iter()
        .filter(|s| *s)
        .count();
        if sources != 1 {
            self.push(
                if sources == 0 {
                    Code::IncompleteProvider
                } else {
                    Code::ConflictingSettings
                },
                &p,
                format!("gcpsm workload identity federation needs exactly one token source, not {sources}"),
                "`service-account`, `cred-config` or `aws-security-credentials`",
                "keep exactly one: `service-account` when the cluster is the identity provider".into(),
            );
            self.at_key(&p);
        }
        if audience.is_none() && (service_account.is_some() || aws_security_credentials.is_some()) {
            self.push(
                Code::IncompleteProvider,
                &p,
                "gcpsm workload identity federation needs an `audience` with this token source"
                    .into(),
                "`audience` missing",
                "set `audience: //iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`".into(),
            );
            self.at_key(&p);
        }
        if let Some(sa) = service_account {
            refs.push((format!("{p}/service-account"), sa.namespace.as_ref()));
        }
        if let Some(c) = cred_config {
            refs.push((format!("{p}/cred-config"), c.namespace.as_ref()));
        }
        if let Some(a) = aws_security_credentials {
            refs.push((
                format!("{p}/aws-security-credentials/secret"),
                a.secret.namespace.as_ref(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/eso"));
        assert!(is_role_arn(
            "arn:aws-us-gov:iam::123456789012:role/path/eso"
        ));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/eso"));
        assert!(!is_role_arn("arn:aws:iam::12345:role/eso"));
        assert!(!is_role_arn("eso-role"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:role/"));
    }

    #[test]
    fn base64_pem() {
        // base64 of "-----BEGIN CERTIFICATE-----\n"
        assert!(is_base64_pem("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="));
        assert!(!is_base64_pem("-----BEGIN CERTIFICATE-----"));
        assert!(!is_base64_pem("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg="));
        assert!(!is_base64_pem("aGVsbG8gd29ybGQ="));
    }
}
