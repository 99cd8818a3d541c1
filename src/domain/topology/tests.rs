//! Tests of the sessions confd would render, from the demo cluster through the wizard's steps.

use super::*;
use crate::domain::facts::detect;
use crate::domain::objects::{Kind, ObjectRef, ObjectSet, parse_yaml_objects};
use serde_json::{Value, json};

const SWITCH: &str = "172.31.13.116";

fn demo_set() -> ObjectSet {
    let mut set = ObjectSet::default();
    for o in parse_yaml_objects(include_str!("../../../assets/demo-cluster.yaml")).unwrap() {
        set.insert(o);
    }
    set
}

fn peer(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer", "metadata": {"name": name}, "spec": spec})
}

fn wizard_peers(set: &mut ObjectSet) {
    set.insert(peer(
        "peer-with-route-reflectors",
        json!({"nodeSelector": "all()", "peerSelector": "route-reflector == 'true'"}),
    ));
    set.insert(peer(
        "rr-peer",
        json!({"nodeSelector": "route-reflector == 'true'", "peerIP": SWITCH, "asNumber": 7675}),
    ));
}

fn promote(set: &mut ObjectSet, node: &str) {
    let patch = json!({"metadata": {
        "labels": {"route-reflector": "true"},
        "annotations": {"projectcalico.org/RouteReflectorClusterID": "244.0.0.1"}}});
    set.merge_patch(&ObjectRef::cluster(Kind::Node, node), &patch).unwrap();
}

fn mesh_off(set: &mut ObjectSet) {
    set.insert(json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPConfiguration",
        "metadata": {"name": "default"}, "spec": {"nodeToNodeMeshEnabled": false}}));
}

/// `node type peer` lines, sorted, for compact assertions.
fn lines(set: &ObjectSet) -> Vec<String> {
    expected_sessions(&detect(set))
        .iter()
        .map(|s| {
            let t = match s.peer_type {
                PeerType::NodeToNodeMesh => "mesh",
                PeerType::NodeSpecific => "node",
                PeerType::Global => "global",
            };
            let peer = s.peer_node.clone().unwrap_or_else(|| s.peer_ip.to_string());
            format!("{} {t} {peer}", s.node)
        })
        .collect()
}

#[test]
fn demo_is_a_full_mesh() {
    let set = demo_set();
    let sessions = expected_sessions(&detect(&set));
    assert_eq!(sessions.len(), 6);
    assert!(sessions.iter().all(|s| s.peer_type == PeerType::NodeToNodeMesh));
    assert_eq!(sessions[0].node, "k8s-1");
    assert_eq!(sessions[0].peer_ip, "172.31.13.28".parse::<IpAddr>().unwrap());
    assert_eq!(sessions[0].peer_node.as_deref(), Some("k8s-2"));
}

#[test]
fn peers_that_select_nothing_change_nothing() {
    let mut set = demo_set();
    wizard_peers(&mut set);
    assert_eq!(lines(&set).len(), 6);
    assert!(lines(&set).iter().all(|l| l.contains(" mesh ")));
}

#[test]
fn two_reflectors_with_mesh_on_and_off() {
    let mut set = demo_set();
    wizard_peers(&mut set);
    promote(&mut set, "k8s-1");
    promote(&mut set, "k8s-2");
    let want = [
        "k8s-1 node k8s-2",
        "k8s-1 node k8s-3",
        "k8s-1 node 172.31.13.116",
        "k8s-2 node k8s-1",
        "k8s-2 node k8s-3",
        "k8s-2 node 172.31.13.116",
        "k8s-3 node k8s-1",
        "k8s-3 node k8s-2",
    ];
    assert_eq!(lines(&set), want);
    mesh_off(&mut set);
    assert_eq!(lines(&set), want);

    let top = topology(&detect(&set));
    let sw = top.sessions.iter().find(|d| d.session.peer_ip.to_string() == SWITCH).unwrap();
    assert_eq!((sw.local_as, sw.remote_as), (Asn(64512), Asn(7675)));
    assert_eq!(sw.bgp_peer.as_deref(), Some("rr-peer"));
    assert_eq!(sw.session.peer_node, None);
    // The reverse peering from the reflector to a client is attributed to the selector peer.
    let rev =
        top.sessions.iter().find(|d| d.session.node == "k8s-1" && d.session.peer_node.as_deref() == Some("k8s-3"));
    assert_eq!(rev.unwrap().bgp_peer.as_deref(), Some("peer-with-route-reflectors"));
    assert!(top.warnings.is_empty());
}

#[test]
fn one_reflector_promoted_half_way() {
    let mut set = demo_set();
    wizard_peers(&mut set);
    promote(&mut set, "k8s-1");
    assert_eq!(
        lines(&set),
        [
            "k8s-1 node k8s-2",
            "k8s-1 node k8s-3",
            "k8s-1 node 172.31.13.116",
            "k8s-2 node k8s-1",
            "k8s-2 mesh k8s-3",
            "k8s-3 node k8s-1",
            "k8s-3 mesh k8s-2",
        ]
    );
    mesh_off(&mut set);
    assert_eq!(
        lines(&set),
        ["k8s-1 node k8s-2", "k8s-1 node k8s-3", "k8s-1 node 172.31.13.116", "k8s-2 node k8s-1", "k8s-3 node k8s-1"]
    );
}

#[test]
fn cluster_id_alone_leaves_the_mesh_without_selector_peers() {
    // Annotation set but no label and no BGPPeers: the node is cut off (calico-bgp.md §8.1).
    let mut set = demo_set();
    let patch = json!({"metadata": {"annotations": {"projectcalico.org/RouteReflectorClusterID": "244.0.0.1"}}});
    set.merge_patch(&ObjectRef::cluster(Kind::Node, "k8s-3"), &patch).unwrap();
    assert_eq!(lines(&set), ["k8s-1 mesh k8s-2", "k8s-2 mesh k8s-1"]);
}

#[test]
fn global_peers_are_on_every_node_but_the_peer_itself() {
    let mut set = demo_set();
    set.insert(peer("tor", json!({"peerIP": SWITCH, "asNumber": 7675})));
    set.insert(peer("to-k8s-2", json!({"peerIP": "172.31.13.28:179", "asNumber": 64512})));
    let l = lines(&set);
    for n in ["k8s-1", "k8s-2", "k8s-3"] {
        assert!(l.contains(&format!("{n} global 172.31.13.116")), "{l:?}");
    }
    // The global peering to k8s-2's IP is skipped on k8s-2 itself, and the automatic reverse
    // peerings from k8s-2 are suppressed where a global peering to the same IP exists only.
    assert!(l.contains(&"k8s-1 global k8s-2".to_string()));
    assert!(l.contains(&"k8s-3 global k8s-2".to_string()));
    assert!(l.contains(&"k8s-2 node k8s-1".to_string()));
    assert!(!l.iter().any(|x| x.starts_with("k8s-2 global k8s-2")));
    // Mesh sessions are still there, next to the global ones.
    assert!(l.contains(&"k8s-1 mesh k8s-2".to_string()));
}

#[test]
fn node_scoped_peer_ip_and_global_precedence() {
    let mut set = demo_set();
    set.insert(peer("a-node", json!({"node": "k8s-3", "peerIP": "10.0.0.1", "asNumber": 65001})));
    set.insert(peer("b-global", json!({"peerIP": "10.0.0.1", "asNumber": 65001})));
    let l = lines(&set);
    // A global peering to the same IP suppresses the node-specific one.
    assert!(l.contains(&"k8s-3 global 10.0.0.1".to_string()));
    assert!(!l.contains(&"k8s-3 node 10.0.0.1".to_string()));
    set.remove(&ObjectRef::cluster(Kind::BgpPeer, "b-global"));
    let l = lines(&set);
    assert!(l.contains(&"k8s-3 node 10.0.0.1".to_string()));
    assert_eq!(l.iter().filter(|x| x.ends_with("10.0.0.1")).count(), 1);
}

#[test]
fn vxlan_backend_has_no_sessions() {
    let mut set = demo_set();
    let cm = ObjectRef::namespaced(Kind::ConfigMap, "kube-system", "calico-config");
    set.merge_patch(&cm, &json!({"data": {"calico_backend": "vxlan"}})).unwrap();
    assert!(expected_sessions(&detect(&set)).is_empty());
}

#[test]
fn ipv6_mesh_between_dual_stack_nodes() {
    let mut set = demo_set();
    for (n, ip) in [("k8s-1", "fd00::1/64"), ("k8s-2", "fd00::2/64")] {
        let patch = json!({"metadata": {"annotations": {"projectcalico.org/IPv6Address": ip}}});
        set.merge_patch(&ObjectRef::cluster(Kind::Node, n), &patch).unwrap();
    }
    let s = expected_sessions(&detect(&set));
    assert_eq!(s.len(), 8);
    let v6: Vec<_> =
        s.iter().filter(|s| s.peer_ip.is_ipv6()).map(|s| (s.node.as_str(), s.peer_ip.to_string())).collect();
    assert_eq!(v6, [("k8s-1", "fd00::2".to_string()), ("k8s-2", "fd00::1".to_string())]);
}

#[test]
fn bad_selector_selects_nothing_and_is_reported() {
    let mut set = demo_set();
    set.insert(peer("odd", json!({"nodeSelector": "all()", "peerSelector": "rack starts with 'a'"})));
    let top = topology(&detect(&set));
    assert_eq!(top.sessions.len(), 6);
    assert_eq!(top.warnings.len(), 1);
    assert_eq!(top.warnings[0].bgp_peer, "odd");
    assert_eq!(top.warnings[0].field, "peerSelector");
    assert!(top.warnings[0].to_string().contains("'rack starts with 'a''"), "{}", top.warnings[0]);
}
