//! The minimal ClusterRoles, printed by `calico-bgp-wizard rbac`: one for the wizard (reads
//! everything it detects, writes only what the plan changes) and one for the read-only dashboard
//! (no write verb at all). Pure text, tested against the real API server in `tests/`.

/// Name of the wizard's ClusterRole.
pub const WIZARD_ROLE: &str = "calico-bgp-wizard";
/// Name of the dashboard's read-only ClusterRole.
pub const READ_ONLY_ROLE: &str = "calico-bgp-wizard-read-only";
/// Name of the ClusterRole `status --exec` needs besides the read-only one.
pub const EXEC_ROLE: &str = "calico-bgp-wizard-exec";

const READ: &str = "[get, list, watch]";

/// Both ClusterRoles as one multi-document YAML text, ready for `kubectl apply -f -`.
pub fn cluster_roles() -> String {
    format!(
        "# The wizard: reads the cluster, and changes only what its plan changes.\n\
         # Bind with: kubectl create clusterrolebinding {WIZARD_ROLE} --clusterrole={WIZARD_ROLE} --user=<you>\n\
         apiVersion: rbac.authorization.k8s.io/v1\n\
         kind: ClusterRole\n\
         metadata:\n  name: {WIZARD_ROLE}\n\
         rules:\n\
         # Detection: nodes, Calico's configuration, the calico-node DaemonSet and kubeadm's config.\n\
         - apiGroups: [\"\"]\n  resources: [nodes]\n  verbs: [get, list, watch, patch]\n\
         - apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [get, list, watch, patch]\n\
         - apiGroups: [apps]\n  resources: [daemonsets]\n  verbs: [get, list, watch, patch]\n\
         - apiGroups: [crd.projectcalico.org]\n  resources: [ippools, bgppeers, bgpconfigurations]\n  verbs: [get, list, watch, create, patch, delete]\n\
         # Following the route reflectors' sessions while they come up (created, then deleted).\n\
         - apiGroups: [crd.projectcalico.org]\n  resources: [caliconodestatuses]\n  verbs: [get, list, watch, create, patch, delete]\n\
         - apiGroups: [operator.tigera.io]\n  resources: [installations]\n  verbs: [get, list, watch, patch]\n\
         - apiGroups: [projectcalico.org]\n  resources: [ippools, bgppeers, bgpconfigurations, caliconodestatuses]\n  verbs: {READ}\n\
         # The BGP password Secret and the Role letting calico-node read it.\n\
         - apiGroups: [\"\"]\n  resources: [secrets]\n  verbs: [get, create, patch, delete]\n\
         - apiGroups: [rbac.authorization.k8s.io]\n  resources: [roles, rolebindings]\n  verbs: [get, create, patch, delete, bind, escalate]\n\
         ---\n\
         # The read-only dashboard (`calico-bgp-wizard status`) and walking the wizard up to Preview.\n\
         # Bind with: kubectl create clusterrolebinding {READ_ONLY_ROLE} --clusterrole={READ_ONLY_ROLE} --user=<viewer>\n\
         apiVersion: rbac.authorization.k8s.io/v1\n\
         kind: ClusterRole\n\
         metadata:\n  name: {READ_ONLY_ROLE}\n\
         rules:\n\
         - apiGroups: [\"\"]\n  resources: [nodes]\n  verbs: {READ}\n\
         - apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: {READ}\n\
         - apiGroups: [apps]\n  resources: [daemonsets]\n  verbs: {READ}\n\
         - apiGroups: [crd.projectcalico.org]\n  resources: [ippools, bgppeers, bgpconfigurations, caliconodestatuses]\n  verbs: {READ}\n\
         - apiGroups: [operator.tigera.io]\n  resources: [installations]\n  verbs: {READ}\n\
         - apiGroups: [projectcalico.org]\n  resources: [ippools, bgppeers, bgpconfigurations, caliconodestatuses]\n  verbs: {READ}\n\
         ---\n\
         # Only for `calico-bgp-wizard status --exec` (birdcl in the calico-node pods), on top of the\n\
         # read-only role. pods/exec can run any command in those pods: grant it with care, or read\n\
         # the sessions from CalicoNodeStatus objects or on the node itself instead.\n\
         # Bind with: kubectl create clusterrolebinding {EXEC_ROLE} --clusterrole={EXEC_ROLE} --user=<viewer>\n\
         apiVersion: rbac.authorization.k8s.io/v1\n\
         kind: ClusterRole\n\
         metadata:\n  name: {EXEC_ROLE}\n\
         rules:\n\
         - apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get, list]\n\
         - apiGroups: [\"\"]\n  resources: [pods/exec]\n  verbs: [create, get]\n"
    )
}
