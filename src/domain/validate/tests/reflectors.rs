//! Route reflectors screen rules and the suggested reflectors.

use super::*;
use crate::domain::facts::ANN_IPV4;
use crate::domain::findings::Field;

fn rrs(names: &[&str], facts: &ClusterFacts) -> Vec<Finding> {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    validate_reflectors(&names, "244.0.0.1", facts)
}

// ---- reflectors -------------------------------------------------------------------------

#[test]
fn reflectors_good() {
    assert_eq!(rrs(&["k8s-2", "k8s-1"], &demo()), vec![]);
}

#[test]
fn rr_required() {
    let f = rrs(&[], &demo());
    let f = find(&f, "rr-required");
    assert!(f.is_error());
    assert_eq!(f.fix.as_deref(), Some("choose two nodes, e.g. 'k8s-2', 'k8s-1'"));
}

#[test]
fn rr_unknown_node() {
    let f = rrs(&["k8s-2", "k8s-9"], &demo());
    let f = find(&f, "rr-unknown-node");
    assert!(f.message.contains("'k8s-9'"));
    assert!(f.fix.as_deref().unwrap().contains("'k8s-1', 'k8s-2', 'k8s-3'"));
}

#[test]
fn rr_duplicate() {
    find(&rrs(&["k8s-2", "k8s-2"], &demo()), "rr-duplicate");
}

#[test]
fn rr_no_bgp_address() {
    let facts = demo_with(&[(K8S1_V4, "projectcalico.org/IPv4Address: 172.31.13.27")]);
    let f = rrs(&["k8s-2", "k8s-1"], &facts);
    assert!(find(&f, "rr-no-bgp-address").message.contains("unusable"));
    let facts = demo_with(&[(K8S1_V4, "")]);
    let f = rrs(&["k8s-2", "k8s-1"], &facts);
    let f = find(&f, "rr-no-bgp-address");
    assert!(f.message.contains(ANN_IPV4) && f.fix.as_deref().unwrap().contains("calico-node"));
}

#[test]
fn rr_single() {
    let f = rrs(&["k8s-2"], &demo());
    let f = find(&f, "rr-single");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("reboots"));
}

#[test]
fn rr_same_zone() {
    let facts = demo_with(&[("zone: zone-a", "zone: zone-b")]);
    assert_eq!(find(&rrs(&["k8s-2", "k8s-1"], &facts), "rr-same-zone").severity, Severity::Warning);
    lacks(&rrs(&["k8s-2", "k8s-1"], &demo()), "rr-same-zone");
}

#[test]
fn rr_as_differs() {
    let facts = demo_with(&[(
        K8S1_V4,
        "projectcalico.org/IPv4Address: 172.31.13.27/24\n    projectcalico.org/ASNumber: \"65010\"",
    )]);
    assert!(find(&rrs(&["k8s-2", "k8s-1"], &facts), "rr-as-differs").is_error());
    // Same AS as the cluster is fine.
    let facts = demo_with(&[(
        K8S1_V4,
        "projectcalico.org/IPv4Address: 172.31.13.27/24\n    projectcalico.org/ASNumber: \"64512\"",
    )]);
    lacks(&rrs(&["k8s-2", "k8s-1"], &facts), "rr-as-differs");
}

#[test]
fn rr_cluster_id_syntax() {
    let names = vec!["k8s-2".to_string(), "k8s-1".to_string()];
    let f = validate_reflectors(&names, "244.0.0", &demo());
    let f = find(&f, "rr-cluster-id-syntax");
    assert_eq!(
        f.message,
        "'244.0.0' is not an IPv4 address: the route reflector cluster ID is written like an IPv4 address, e.g. 244.0.0.1"
    );
    assert_eq!(f.field, Field::ClusterId);
    find(&validate_reflectors(&names, "", &demo()), "rr-cluster-id-syntax");
    assert_eq!(validate_reflectors(&names, "224.0.0.1", &demo()), vec![]);
}

const K8S3_RR: &str = "projectcalico.org/IPv4Address: 172.31.13.29/24\n    projectcalico.org/RouteReflectorClusterID: ";

#[test]
fn rr_cluster_id_differs() {
    let rr = format!("{K8S3_RR}224.0.0.1");
    let facts = demo_with(&[(K8S3_V4, &rr)]);
    let f = rrs(&["k8s-2", "k8s-3"], &facts);
    let f = find(&f, "rr-cluster-id-differs");
    assert!(f.message.contains("'224.0.0.1'") && f.fix.as_deref().unwrap().contains("type 224.0.0.1"));
    let names = vec!["k8s-2".to_string(), "k8s-3".to_string()];
    lacks(&validate_reflectors(&names, "224.0.0.1", &facts), "rr-cluster-id-differs");
}

#[test]
fn rr_existing_not_chosen() {
    let rr = format!("{K8S3_RR}244.0.0.1");
    let facts = demo_with(&[(K8S3_V4, &rr)]);
    assert!(find(&rrs(&["k8s-2", "k8s-1"], &facts), "rr-existing-not-chosen").message.contains("'k8s-3'"));
    lacks(&rrs(&["k8s-2", "k8s-3"], &facts), "rr-existing-not-chosen");
}

// ---- suggestions ------------------------------------------------------------------------

#[test]
fn suggests_control_plane_then_other_zone() {
    assert_eq!(suggest_reflectors(&demo()), vec!["k8s-2", "k8s-1"]);
    // Two control-plane nodes in different zones.
    let cp = "kubernetes.io/os: linux\n    node-role.kubernetes.io/control-plane: \"\"\n    topology.kubernetes.io/zone: zone-c";
    let facts = demo_with(&[("kubernetes.io/os: linux\n    topology.kubernetes.io/zone: zone-c", cp)]);
    assert_eq!(suggest_reflectors(&facts), vec!["k8s-2", "k8s-3"]);
    // A second control-plane node in the same zone still beats a worker elsewhere.
    let cp_b = cp.replace("zone-c", "zone-b");
    let facts = demo_with(&[("kubernetes.io/os: linux\n    topology.kubernetes.io/zone: zone-c", &cp_b)]);
    assert_eq!(suggest_reflectors(&facts), vec!["k8s-2", "k8s-3"]);
}

#[test]
fn suggests_without_control_plane_or_addresses() {
    let facts = demo_with(&[("    node-role.kubernetes.io/control-plane: \"\"\n", "")]);
    assert_eq!(suggest_reflectors(&facts), vec!["k8s-1", "k8s-2"]);
    // Nodes without a Calico address are never suggested.
    let facts = demo_with(&[(K8S1_V4, "")]);
    assert_eq!(suggest_reflectors(&facts), vec!["k8s-2", "k8s-3"]);
    // Same zone everywhere: still two.
    let facts = demo_with(&[("zone: zone-a", "zone: zone-b"), ("zone: zone-c", "zone: zone-b")]);
    assert_eq!(suggest_reflectors(&facts), vec!["k8s-2", "k8s-1"]);
    let mut empty = demo();
    empty.nodes.clear();
    assert_eq!(suggest_reflectors(&empty), Vec::<String>::new());
}
