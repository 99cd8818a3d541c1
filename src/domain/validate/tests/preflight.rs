//! Detect screen (preflight) rules.

use super::*;
use crate::domain::validate::preflight::version_of;

// ---- preflight --------------------------------------------------------------------------

#[test]
fn preflight_demo() {
    let f = preflight(&demo());
    assert_eq!(rules(&f), vec!["pool-encapsulation", "pool-nat-outgoing", "mesh-on", "ip-autodetection-first-found"]);
    assert!(f.iter().all(|f| f.severity == Severity::Info), "{f:#?}");
    assert!(find(&f, "mesh-on").message.contains("3 sessions for 3 nodes"));
}

#[test]
fn preflight_calico_not_found() {
    let f = preflight(&demo_with(&[("kind: ConfigMap", "kind: Ignored")]));
    assert!(find(&f, "calico-not-found").is_error());
    lacks(&f, "backend-not-bird");
}

#[test]
fn preflight_backend_not_bird() {
    let f = preflight(&demo_with(&[("calico_backend: bird", "calico_backend: vxlan")]));
    let f = find(&f, "backend-not-bird");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("'vxlan (no BGP)'") && f.fix.as_deref().unwrap().contains("restarts calico-node"));
}

#[test]
fn preflight_no_nodes() {
    let f = preflight(&facts_of(
        "kind: ConfigMap\napiVersion: v1\nmetadata: {name: calico-config, namespace: kube-system}\ndata: {calico_backend: bird}\n",
    ));
    assert!(find(&f, "no-nodes").is_error());
    lacks(&preflight(&demo()), "no-nodes");
}

#[test]
fn preflight_calico_version() {
    let f = preflight(&demo_with(&[("node:v3.23.3", "node:v3.20.1")]));
    assert_eq!(find(&f, "calico-old").severity, Severity::Warning);
    lacks(&preflight(&demo_with(&[("node:v3.23.3", "node:v3.21.0")])), "calico-old");
    let f = preflight(&demo_with(&[("node:v3.23.3", "node")]));
    assert_eq!(find(&f, "calico-version-unknown").severity, Severity::Info);
    assert_eq!(version_of("v3.28.0-0.dev"), Some((3, 28)));
}

const INSTALLATION: &str = "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata: {name: default}\nspec:\n  calicoNetwork:\n    bgp: Enabled\n";

#[test]
fn preflight_operator_install() {
    let f = preflight(&demo_plus(INSTALLATION));
    let f = find(&f, "operator-install");
    assert_eq!(f.severity, Severity::Info);
    assert!(f.fix.as_deref().unwrap().contains("v3.28"));
    lacks(&preflight(&demo()), "operator-install");
}

#[test]
fn preflight_pool_encapsulation_and_nat() {
    let f =
        preflight(&demo_with(&[("ipipMode: Always", "ipipMode: Never"), ("natOutgoing: true", "natOutgoing: false")]));
    lacks(&f, "pool-encapsulation");
    lacks(&f, "pool-nat-outgoing");
    let f = preflight(&demo_with(&[
        ("ipipMode: Always", "ipipMode: Never"),
        ("vxlanMode: Never", "vxlanMode: CrossSubnet"),
    ]));
    assert!(find(&f, "pool-encapsulation").message.contains("vxlanMode 'CrossSubnet'"));
}

#[test]
fn preflight_mesh_and_peers() {
    let peer = "apiVersion: crd.projectcalico.org/v1\nkind: BGPPeer\nmetadata: {name: tor}\nspec: {peerIP: 172.31.13.116, asNumber: 7675}\n";
    let f = preflight(&demo_plus(&format!("{BGP_CONFIG}---\n{peer}")));
    lacks(&f, "mesh-on");
    assert!(find(&f, "existing-peers").message.contains("'tor'"));
    lacks(&preflight(&demo()), "existing-peers");
}

#[test]
fn preflight_node_addresses() {
    let f = preflight(&demo_with(&[(K8S1_V4, "")]));
    assert_eq!(find(&f, "node-no-bgp-address").severity, Severity::Warning);
    let f = preflight(&demo_with(&[(K8S1_V4, "projectcalico.org/IPv4Address: 172.31.13.300/24")]));
    let f = find(&f, "node-bgp-address-invalid");
    assert!(f.is_error() && f.message.contains("'172.31.13.300/24'"));
    lacks(&preflight(&demo()), "node-bgp-address-invalid");
}

#[test]
fn preflight_node_address_mismatch() {
    let f = preflight(&demo_with(&[(K8S1_V4, "projectcalico.org/IPv4Address: 172.31.13.99/24")]));
    let m = find(&f, "node-address-mismatch");
    assert_eq!(m.severity, Severity::Warning);
    assert!(m.message.contains("'172.31.13.99'") && m.message.contains("'172.31.13.27'"));
    assert!(m.fix.as_deref().unwrap().contains("IP_AUTODETECTION_METHOD=kubernetes-internal-ip"));
    // first-found is then the likely cause: a warning too.
    assert_eq!(find(&f, "ip-autodetection-first-found").severity, Severity::Warning);
    // Operator install: the fix names the Installation field.
    let f =
        preflight(&demo_plus(INSTALLATION).tap(|f| f.nodes[0].calico_ipv4 = Some("172.31.13.99/24".parse().unwrap())));
    assert!(find(&f, "node-address-mismatch").fix.as_deref().unwrap().contains("nodeAddressAutodetectionV4"));
}

#[test]
fn preflight_ip_autodetection() {
    let pinned = "- name: IP\n          value: autodetect\n        - name: IP_AUTODETECTION_METHOD\n          value: kubernetes-internal-ip";
    lacks(
        &preflight(&demo_with(&[("- name: IP\n          value: autodetect", pinned)])),
        "ip-autodetection-first-found",
    );
    let operator = format!("{INSTALLATION}    nodeAddressAutodetectionV4: {{kubernetes: NodeInternalIP}}\n");
    lacks(&preflight(&demo_plus(&operator)), "ip-autodetection-first-found");
    find(&preflight(&demo_plus(INSTALLATION)), "ip-autodetection-first-found");
}

#[test]
fn preflight_service_cidr_unknown() {
    let mut facts = demo();
    facts.service_cidrs.clear();
    assert_eq!(find(&preflight(&facts), "service-cidr-unknown").severity, Severity::Info);
}

trait Tap: Sized {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}
impl Tap for ClusterFacts {}
