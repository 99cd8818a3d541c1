//! Turning API errors into sentences an operator can act on: what failed, on which server, and what
//! to do next. A 403 names the verb and the resource; 401 says the credentials were refused.

use std::fmt;

/// What the wizard was doing when a request failed: `get` `nodes`, `patch` `bgppeers`…
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub verb: &'static str,
    /// Plural resource, with its API group when not core: `bgppeers.crd.projectcalico.org`.
    pub resource: String,
    /// Object name when the request was for one object.
    pub name: Option<String>,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{} {} {n}", self.verb, self.resource),
            None => write!(f, "{} {}", self.verb, self.resource),
        }
    }
}

/// Why a request to the API server failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeError {
    #[error(
        "cannot reach the API server at {server} ({cause}) while trying to {action}. Is it running, and is '{context}' the right context (--context)?"
    )]
    Unreachable { server: String, context: String, action: String, cause: String },
    #[error(
        "the API server at {server} refused the credentials of context '{context}' (401 Unauthorized): they may have expired. Renew them (for kubeadm: `kubeadm kubeconfig user` or copy /etc/kubernetes/admin.conf again) or choose another context with --context."
    )]
    Unauthorized { server: String, context: String },
    #[error(
        "permission denied: cannot {verb} {resource} (403 Forbidden: {message}). `calico-bgp-wizard rbac` prints the ClusterRoles the wizard and the dashboard need; ask a cluster admin to bind the right one to you."
    )]
    Forbidden { verb: String, resource: String, message: String },
    #[error("{action}: changed by someone else since it was read (409 Conflict: {message}); nothing was written")]
    Conflict { action: String, message: String },
    #[error("{action}: rejected by the API server (HTTP {code}{}): {message}{}", if reason.is_empty() { String::new() } else { format!(" {reason}") }, schema_hint(message))]
    Rejected { action: String, code: u16, reason: String, message: String },
    #[error("{action}: {message}")]
    Other { action: String, message: String },
}

impl KubeError {
    /// True when the API server could not be reached at all: nothing was written by this request.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, KubeError::Unreachable { .. })
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, KubeError::Rejected { code: 404, .. })
    }
}

/// A field the installed CRDs do not declare usually means an older Calico than the plan assumed.
fn schema_hint(message: &str) -> &'static str {
    if message.contains("field not declared in schema") || message.contains("unknown field") {
        ". The installed Calico CRDs do not know this field: is Calico older than the wizard expects? Nothing was written"
    } else {
        ""
    }
}

/// Where requests go; carried into error messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Target {
    pub server: String,
    pub context: String,
}

impl Target {
    pub fn error(&self, action: &Action, e: ::kube::Error) -> KubeError {
        match e {
            ::kube::Error::Api(s) => self.status_error(action, s.code, &s.reason, &s.message),
            ::kube::Error::HyperError(_) | ::kube::Error::Service(_) => KubeError::Unreachable {
                server: self.server.clone(),
                context: self.context.clone(),
                action: action.to_string(),
                cause: root_cause(&e),
            },
            other => KubeError::Other { action: action.to_string(), message: root_cause(&other) },
        }
    }

    pub fn status_error(&self, action: &Action, code: u16, reason: &str, message: &str) -> KubeError {
        match code {
            401 => KubeError::Unauthorized { server: self.server.clone(), context: self.context.clone() },
            403 => KubeError::Forbidden {
                verb: action.verb.to_string(),
                resource: action.resource.clone(),
                message: message.to_string(),
            },
            409 => KubeError::Conflict { action: action.to_string(), message: message.to_string() },
            _ => KubeError::Rejected {
                action: action.to_string(),
                code,
                reason: reason.to_string(),
                message: message.to_string(),
            },
        }
    }
}

/// The innermost error message ("Connection refused (os error 111)"), which is what an operator
/// can search for; the outer layers only say "client error (Connect)".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_names_verb_and_resource() {
        let t = Target { server: "https://10.0.0.1:6443".into(), context: "ctx".into() };
        let a =
            Action { verb: "patch", resource: "bgppeers.crd.projectcalico.org".into(), name: Some("rr-peer".into()) };
        let e = t.status_error(&a, 403, "Forbidden", "bgppeers is forbidden: User \"viewer\" cannot patch");
        let s = e.to_string();
        assert!(s.contains("cannot patch bgppeers.crd.projectcalico.org"), "{s}");
        assert!(s.contains("calico-bgp-wizard rbac"), "{s}");
    }

    #[test]
    fn unauthorized_says_credentials_may_have_expired() {
        let t = Target { server: "https://10.0.0.1:6443".into(), context: "ctx".into() };
        let a = Action { verb: "list", resource: "nodes".into(), name: None };
        let s = t.status_error(&a, 401, "Unauthorized", "Unauthorized").to_string();
        assert!(s.contains("expired") && s.contains("'ctx'") && s.contains("https://10.0.0.1:6443"), "{s}");
    }
}
