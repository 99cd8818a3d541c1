use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::domain::facts::{Backend, detect};
use crate::status::model::{BgpState, PeerType};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn node(name: &str) -> ObjectRef {
    ObjectRef::cluster(Kind::Node, name)
}

fn calico_node() -> ObjectRef {
    ObjectRef::namespaced(Kind::DaemonSet, "kube-system", "calico-node")
}

fn create(obj: Value) -> Change {
    let object = ObjectRef::of(&obj).expect("test object has kind and name");
    Change { object, op: Op::Create, before: None, after: obj, v3: None }
}

fn patch(demo: &DemoCluster, object: ObjectRef, p: Value) -> Change {
    let before = demo.objects().get(&object).cloned();
    let mut after = before.clone().unwrap_or(Value::Null);
    json_patch::merge(&mut after, &p);
    Change { object, op: Op::MergePatch(p), before, after, v3: None }
}

fn restart(demo: &DemoCluster) -> Change {
    let ds = demo.objects().get(&calico_node()).cloned();
    Change { object: calico_node(), op: Op::Restart, before: ds.clone(), after: ds.unwrap_or(Value::Null), v3: None }
}

fn bgp_peer(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer", "metadata": {"name": name}, "spec": spec})
}

/// The wizard's two BGPPeers (they select no node until a node is labelled).
fn wizard_peers(switch_as: u32) -> [Change; 2] {
    [
        create(bgp_peer(
            "peer-with-route-reflectors",
            json!({"nodeSelector": "all()", "peerSelector": "route-reflector == 'true'"}),
        )),
        create(bgp_peer(
            "rr-peer",
            json!({"nodeSelector": "route-reflector == 'true'", "peerIP": "172.31.13.116", "asNumber": switch_as}),
        )),
    ]
}

fn promote(demo: &DemoCluster, name: &str) -> Change {
    patch(
        demo,
        node(name),
        json!({"metadata": {
            "labels": {"route-reflector": "true"},
            "annotations": {"projectcalico.org/RouteReflectorClusterID": "244.0.0.1"},
        }}),
    )
}

fn mesh_off() -> Change {
    create(json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPConfiguration",
        "metadata": {"name": "default"}, "spec": {"nodeToNodeMeshEnabled": false}}))
}

fn apply_all(demo: &mut DemoCluster, changes: &[Change], now: Duration) {
    for c in changes {
        demo.apply(c, now).unwrap_or_else(|e| panic!("apply {}: {e}", c.object));
    }
}

/// `node type peer state info` per row, for compact assertions.
fn table(demo: &DemoCluster, now: Duration) -> Vec<String> {
    demo.peer_rows(now)
        .iter()
        .map(|r| {
            let t = match r.peer_type {
                PeerType::NodeToNodeMesh => "mesh",
                PeerType::NodeSpecific => "node",
                PeerType::Global => "global",
            };
            format!("{} {t} {} {} {}", r.node, r.peer_address, r.state, r.info_column()).trim_end().to_string()
        })
        .collect()
}

fn all_established(demo: &DemoCluster, now: Duration) -> bool {
    demo.peer_rows(now).iter().all(|r| r.is_established() && r.state == "up")
}

#[test]
fn embedded_is_three_nodes_in_a_full_mesh() {
    let demo = DemoCluster::embedded();
    let facts = detect(demo.objects());
    assert_eq!(facts.nodes.len(), 3);
    assert_eq!(facts.context, "kubernetes-admin@demo");
    assert_eq!(facts.server, "https://172.31.13.28:6443");
    assert_eq!(facts.kubernetes_version, "v1.24.6");
    assert_eq!(facts.service_cidrs, ["10.96.0.0/12".parse().unwrap()]);
    assert_eq!(facts.backend, Backend::Bird);
    assert_eq!(demo.switch_ip().to_string(), "172.31.13.116");
    assert_eq!(demo.switch_as(), Asn(7675));

    let start = demo.peer_rows(Duration::ZERO);
    assert_eq!(start.len(), 6);
    assert!(start.iter().all(|r| r.bgp_state == BgpState::Idle && r.state == "start"));
    assert_eq!(start[0].since, "09:00:00");

    let rows = demo.peer_rows(secs(3.0));
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r.peer_type == PeerType::NodeToNodeMesh));
    assert!(all_established(&demo, secs(3.0)));
    assert_eq!(rows[0].node, "k8s-1");
    assert_eq!(rows[0].peer_address, "172.31.13.28");
    assert_eq!(rows[0].since, "09:00:01");
}

#[test]
fn states_progress_with_jitter() {
    let demo = DemoCluster::embedded();
    let seen: BTreeSet<BgpState> =
        (0..40).flat_map(|t| demo.peer_rows(secs(t as f64 * 0.05))).map(|r| r.bgp_state).collect();
    assert_eq!(seen, BTreeSet::from([BgpState::Idle, BgpState::Connect, BgpState::OpenSent, BgpState::Established]));
    // Not every row flips at the same instant.
    let mixed = (0..40).any(|t| {
        let states: BTreeSet<BgpState> = demo.peer_rows(secs(t as f64 * 0.05)).iter().map(|r| r.bgp_state).collect();
        states.len() > 1
    });
    assert!(mixed);
    // Deterministic.
    assert_eq!(DemoCluster::embedded().peer_rows(secs(1.3)), demo.peer_rows(secs(1.3)));
}

#[test]
fn promoting_a_reflector_moves_it_from_the_mesh_to_rr_sessions() {
    let mut demo = DemoCluster::embedded();
    apply_all(&mut demo, &wizard_peers(7675), secs(10.0));
    // Peers that select nothing leave the mesh alone.
    assert_eq!(table(&demo, secs(10.0)).len(), 6);
    assert!(all_established(&demo, secs(10.0)));

    let p = promote(&demo, "k8s-1");
    demo.apply(&p, secs(20.0)).unwrap();
    let now = table(&demo, secs(20.0));
    assert_eq!(
        now,
        [
            "k8s-1 node 172.31.13.28 start Idle",
            "k8s-1 node 172.31.13.29 start Idle",
            "k8s-1 node 172.31.13.116 start Idle",
            "k8s-2 node 172.31.13.27 start Idle",
            "k8s-2 mesh 172.31.13.29 up Established",
            "k8s-3 node 172.31.13.27 start Idle",
            "k8s-3 mesh 172.31.13.28 up Established",
        ]
    );
    assert!(all_established(&demo, secs(22.0)), "{:#?}", table(&demo, secs(22.0)));
    let sw = demo.peer_rows(secs(22.0)).into_iter().find(|r| r.peer_address == "172.31.13.116").unwrap();
    assert_eq!((sw.node.as_str(), sw.peer_type), ("k8s-1", PeerType::NodeSpecific));
    // The untouched mesh session keeps its original since.
    let mesh = demo.peer_rows(secs(22.0)).into_iter().find(|r| r.peer_type == PeerType::NodeToNodeMesh).unwrap();
    assert_eq!(mesh.since, "09:00:01");
    assert_eq!(sw.since, "09:00:21");
}

#[test]
fn mesh_off_leaves_only_rr_sessions_and_undo_restores_the_mesh() {
    let mut demo = DemoCluster::embedded();
    let peers = wizard_peers(7675);
    apply_all(&mut demo, &peers, secs(5.0));
    let p1 = promote(&demo, "k8s-1");
    demo.apply(&p1, secs(6.0)).unwrap();
    let p2 = promote(&demo, "k8s-2");
    demo.apply(&p2, secs(9.0)).unwrap();
    let off = mesh_off();
    demo.apply(&off, secs(12.0)).unwrap();

    let rows = demo.peer_rows(secs(14.0));
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().all(|r| r.peer_type == PeerType::NodeSpecific));
    assert!(all_established(&demo, secs(14.0)), "{:#?}", table(&demo, secs(14.0)));
    let to_switch: Vec<&str> =
        rows.iter().filter(|r| r.peer_address == "172.31.13.116").map(|r| r.node.as_str()).collect();
    assert_eq!(to_switch, ["k8s-1", "k8s-2"]);

    // Undo everything, last change first.
    for (i, c) in [off, p2, p1].iter().chain(peers.iter().rev()).enumerate() {
        demo.undo(c, secs(20.0 + i as f64)).unwrap();
    }
    assert_eq!(demo.objects(), DemoCluster::embedded().objects());
    let rows = demo.peer_rows(secs(27.0));
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r.peer_type == PeerType::NodeToNodeMesh && r.is_established()));
}

#[test]
fn the_switch_refuses_wrong_as_and_non_reflectors() {
    let mut demo = DemoCluster::embedded();
    apply_all(&mut demo, &wizard_peers(65001), secs(1.0));
    let p = promote(&demo, "k8s-1");
    demo.apply(&p, secs(1.0)).unwrap();
    // A global peering to the switch: only the route reflector is the switch's neighbor.
    demo.apply(&create(bgp_peer("tor", json!({"peerIP": "172.31.13.116", "asNumber": 7675}))), secs(1.0)).unwrap();
    let t = table(&demo, secs(5.0));
    assert!(t.contains(&"k8s-2 global 172.31.13.116 start Active Socket: Connection refused".to_string()), "{t:#?}");
    // On k8s-1 the global peering wins over rr-peer's node-specific one (confd's rule), and the
    // switch accepts it.
    assert!(t.contains(&"k8s-1 global 172.31.13.116 up Established".to_string()), "{t:#?}");

    demo.undo(&create(bgp_peer("tor", json!({}))), secs(6.0)).unwrap();
    let t = table(&demo, secs(9.0));
    assert!(t.contains(&"k8s-1 node 172.31.13.116 start Active BGP Error: Bad peer AS".to_string()), "{t:#?}");
    let row = demo.peer_rows(secs(9.0)).into_iter().find(|r| r.peer_address == "172.31.13.116").unwrap();
    assert_eq!(row.bgp_state, BgpState::Active);
    assert_eq!(row.info, "BGP Error: Bad peer AS");

    // Fix the AS: the session starts over and comes up.
    let fix = patch(&demo, ObjectRef::cluster(Kind::BgpPeer, "rr-peer"), json!({"spec": {"asNumber": 7675}}));
    demo.apply(&fix, secs(10.0)).unwrap();
    assert!(table(&demo, secs(12.0)).contains(&"k8s-1 node 172.31.13.116 up Established".to_string()));
}

#[test]
fn a_typo_in_the_switch_ip_never_connects() {
    let mut demo = DemoCluster::embedded();
    demo.apply(
        &create(bgp_peer("bad", json!({"node": "k8s-3", "peerIP": "172.31.13.117", "asNumber": 7675}))),
        secs(1.0),
    )
    .unwrap();
    let t = table(&demo, secs(9.0));
    assert!(t.contains(&"k8s-3 node 172.31.13.117 start Active Socket: No route to host".to_string()), "{t:#?}");
}

#[test]
fn rollout_restarts_pods_one_after_another() {
    let mut demo = DemoCluster::embedded();
    let ds = calico_node();
    assert_eq!(demo.rollout(&ds, secs(1.0)), (3, 3));
    let r = restart(&demo);
    demo.apply(&r, secs(10.0)).unwrap();
    let progress: Vec<(usize, usize)> =
        [10.0, 10.3, 10.5, 10.9, 11.3, 30.0].iter().map(|t| demo.rollout(&ds, secs(*t))).collect();
    assert_eq!(progress, [(0, 3), (0, 3), (1, 3), (2, 3), (3, 3), (3, 3)]);
    let annotated = demo.objects().get(&ds).unwrap().pointer("/spec/template/metadata/annotations");
    assert_eq!(annotated, Some(&json!({"kubectl.kubernetes.io/restartedAt": "2025-06-02T09:00:10Z"})));

    // k8s-1's pod restarts first: its sessions, and its peers' sessions to it, go back to Idle.
    let t = table(&demo, secs(10.1));
    assert_eq!(t.iter().filter(|l| l.ends_with("Idle")).count(), 4, "{t:#?}");
    assert!(t.contains(&"k8s-2 mesh 172.31.13.29 up Established".to_string()));
    // Then all are restarted, and after that everything is Established again.
    assert!(demo.peer_rows(secs(10.9)).iter().all(|r| !r.is_established()));
    assert!(all_established(&demo, secs(13.0)));
    // Undo of a restart is another restart.
    demo.undo(&r, secs(20.0)).unwrap();
    assert_eq!(demo.rollout(&ds, secs(20.5)), (1, 3));
    assert_eq!(demo.rollout(&ObjectRef::namespaced(Kind::DaemonSet, "kube-system", "nope"), secs(1.0)), (0, 0));
}

#[test]
fn no_sessions_without_the_bird_backend() {
    let mut demo = DemoCluster::embedded();
    let cm = ObjectRef::namespaced(Kind::ConfigMap, "kube-system", "calico-config");
    let vx = patch(&demo, cm.clone(), json!({"data": {"calico_backend": "vxlan"}}));
    demo.apply(&vx, secs(5.0)).unwrap();
    assert!(demo.peer_rows(secs(6.0)).is_empty());
    demo.undo(&vx, secs(8.0)).unwrap();
    assert_eq!(demo.peer_rows(secs(8.0)).len(), 6);
    assert!(all_established(&demo, secs(10.0)));
}

#[test]
fn apply_and_undo_errors() {
    let mut demo = DemoCluster::embedded();
    let pool = demo.objects().get(&ObjectRef::cluster(Kind::IpPool, "default-ipv4-ippool")).cloned().unwrap();
    let err = demo.apply(&create(pool), secs(1.0)).unwrap_err();
    assert!(err.contains("already exists"), "{err}");

    let missing = patch(&demo, node("k8s-9"), json!({"metadata": {"labels": {"a": "b"}}}));
    assert!(demo.apply(&missing, secs(1.0)).unwrap_err().contains("does not exist"));

    let peer = create(bgp_peer("x", json!({"peerIP": "10.0.0.1", "asNumber": 65000})));
    assert!(demo.undo(&peer, secs(1.0)).unwrap_err().contains("does not exist"));

    let mut wrong = create(bgp_peer("y", json!({})));
    wrong.object = ObjectRef::cluster(Kind::BgpPeer, "z");
    assert!(demo.apply(&wrong, secs(1.0)).is_err());

    let mut not_ds = restart(&demo);
    not_ds.object = node("k8s-1");
    assert!(demo.apply(&not_ds, secs(1.0)).is_err());
    // Nothing changed.
    assert_eq!(demo.objects(), DemoCluster::embedded().objects());
}

#[test]
fn generated_cluster_has_the_same_shape_at_scale() {
    let demo = DemoCluster::generated(500);
    let facts = detect(demo.objects());
    assert_eq!(facts.nodes.len(), 500);
    assert_eq!(facts.nodes[0].name, "k8s-001");
    assert_eq!(facts.nodes[499].name, "k8s-500");
    let subnets: BTreeSet<_> = facts.nodes.iter().map(|n| n.calico_ipv4.unwrap().trunc()).collect();
    assert_eq!(subnets.len(), 5);
    assert!(subnets.contains(&"172.31.13.0/24".parse().unwrap()));
    let zones: BTreeSet<_> = facts.nodes.iter().filter_map(|n| n.zone.clone()).collect();
    assert_eq!(zones.len(), 5);
    let cp: Vec<_> = facts.nodes.iter().filter(|n| n.is_control_plane()).collect();
    assert_eq!(cp.len(), 3);
    assert_eq!(cp.iter().map(|n| n.zone.clone()).collect::<BTreeSet<_>>().len(), 3);
    let ips: BTreeSet<_> = facts.nodes.iter().map(|n| n.bgp_ip().unwrap()).collect();
    assert_eq!(ips.len(), 500);
    assert!(!ips.contains(&SWITCH_IP));
    assert_eq!(facts.pools.len(), 1);
    assert_eq!(facts.pools[0].cidr.to_string(), "172.27.128.0/17");
    assert_eq!(facts.backend, Backend::Bird);
    assert_eq!(facts.server, format!("https://{}:6443", facts.nodes[0].bgp_ip().unwrap()));
    let ds = demo.objects().get(&calico_node()).unwrap();
    assert_eq!(ds.pointer("/status/desiredNumberScheduled"), Some(&json!(500)));
    assert_eq!(demo.rollout(&calico_node(), secs(1.0)), (500, 500));
}

#[test]
fn small_generated_clusters() {
    let one = DemoCluster::generated(0);
    let facts = detect(one.objects());
    assert_eq!(facts.nodes.len(), 1);
    assert!(facts.nodes[0].is_control_plane());
    assert!(one.peer_rows(secs(3.0)).is_empty());

    let ten = DemoCluster::generated(10);
    let facts = detect(ten.objects());
    assert_eq!(facts.pools[0].cidr.to_string(), "172.27.208.0/22");
    assert!(facts.nodes.iter().all(|n| n.calico_ipv4.unwrap().trunc().to_string() == "172.31.13.0/24"));
    assert_eq!(ten.peer_rows(secs(3.0)).len(), 90);
    assert!(all_established(&ten, secs(3.0)));
    assert_eq!(DemoCluster::generated(10).objects(), ten.objects());
    // Names widen past 999 nodes; the count is capped (objects only: a 1000-node mesh is slow to
    // simulate in a debug build).
    assert_eq!(detect(&generate::objects(1000)).nodes[999].name, "k8s-1000");
    assert_eq!(detect(&generate::objects(usize::MAX)).nodes.len(), MAX_NODES);
}

#[test]
fn from_yaml_rejects_unknown_objects() {
    let err = DemoCluster::from_yaml("kind: Pod\nmetadata: {name: a}\n").unwrap_err();
    assert!(err.contains("Pod"), "{err}");
}

/// The peer table through a whole switch-over, as an operator would watch it.
#[test]
fn snapshot_of_a_switch_over() {
    let mut demo = DemoCluster::embedded();
    let mut out = String::new();
    let mut show = |demo: &DemoCluster, t: f64, what: &str| {
        out.push_str(&format!("== t={t:.1}s {what}\n"));
        for r in demo.peer_rows(secs(t)) {
            out.push_str(&format!(
                "{:<6} | {:<14} | {:<17} | {:<5} | {} | {}\n",
                r.node,
                r.peer_address,
                r.peer_type.label(),
                r.state,
                r.since,
                r.info_column()
            ));
        }
    };
    show(&demo, 3.0, "embedded cluster");
    apply_all(&mut demo, &wizard_peers(7675), secs(10.0));
    let p1 = promote(&demo, "k8s-1");
    demo.apply(&p1, secs(20.0)).unwrap();
    show(&demo, 20.9, "k8s-1 promoted, handshakes under way");
    show(&demo, 22.0, "k8s-1 promoted");
    let p2 = promote(&demo, "k8s-2");
    demo.apply(&p2, secs(30.0)).unwrap();
    demo.apply(&mesh_off(), secs(40.0)).unwrap();
    show(&demo, 42.0, "k8s-1 and k8s-2 promoted, mesh off");
    crate::assert_snap!("demo_peer_table_switch_over", out);
}
