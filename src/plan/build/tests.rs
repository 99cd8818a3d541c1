//! Tests of the plan builder: the order of the steps, what is skipped when already configured,
//! and that every change can be undone on its own.

use std::net::IpAddr;

use super::password::base64;
use super::*;
use crate::demo::walkthrough_answers;
use crate::domain::answers::Password;
use crate::domain::asn::Asn;
use crate::domain::facts::detect;
use crate::domain::facts::{ANN_RR_CLUSTER_ID, LABEL_RR};
use crate::domain::objects::Kind;
use crate::domain::objects::parse_yaml_objects;
use crate::plan::UndoOp;
use crate::plan::{PASSWORD_SECRET, PEER_TO_RRS, PEER_TO_SWITCH};

fn demo() -> ObjectSet {
    let mut set = ObjectSet::default();
    for o in parse_yaml_objects(include_str!("../../../assets/demo-cluster.yaml")).unwrap() {
        set.insert(o);
    }
    set
}

fn plan_for(set: &ObjectSet, a: &ValidAnswers) -> Plan {
    build_plan(a, &detect(set), set)
}

fn kinds(p: &Plan) -> Vec<StepKind> {
    p.steps.iter().map(|s| s.kind.clone()).collect()
}

fn pos(p: &Plan, f: impl Fn(&StepKind) -> bool) -> Vec<usize> {
    p.steps.iter().enumerate().filter(|(_, s)| f(&s.kind)).map(|(i, _)| i).collect()
}

/// Apply every change of `plan` to `set` in order.
fn apply(set: &mut ObjectSet, plan: &Plan) {
    for c in plan.steps.iter().flat_map(|s| &s.changes) {
        match &c.op {
            Op::Create | Op::Restart => {
                set.insert(c.after.clone());
            }
            Op::MergePatch(p) => set.merge_patch(&c.object, p).unwrap(),
        }
    }
}

fn assert_order(p: &Plan) {
    let promote = pos(p, |k| matches!(k, StepKind::PromoteReflector { .. }));
    let mesh = pos(p, |k| *k == StepKind::DisableMesh);
    let peers = pos(p, |k| *k == StepKind::CreatePeers);
    let pool = pos(p, |k| matches!(k, StepKind::PoolEncapsulation | StepKind::PoolNatOutgoing));
    let backend = pos(p, |k| matches!(k, StepKind::SetBackend | StepKind::RestartCalicoNode));
    for &m in &mesh {
        assert!(promote.iter().all(|&r| r < m), "mesh off before a reflector");
    }
    for &pl in &pool {
        assert!(mesh.iter().all(|&m| m < pl), "pool change before mesh off");
    }
    for &pe in &peers {
        assert!(promote.iter().all(|&r| pe < r), "reflector before peers");
    }
    for &b in &backend {
        assert!(peers.iter().chain(&promote).all(|&x| b < x), "backend late");
    }
}

#[test]
fn demo_order() {
    let p = plan_for(&demo(), &walkthrough_answers());
    assert_eq!(
        kinds(&p),
        vec![
            StepKind::CreatePeers,
            StepKind::PromoteReflector { node: "k8s-1".into() },
            StepKind::PromoteReflector { node: "k8s-2".into() },
            StepKind::DisableMesh,
            StepKind::PoolEncapsulation,
            StepKind::PoolNatOutgoing,
        ]
    );
    assert_order(&p);
    assert_eq!(p.client_route, "ip route add 172.27.208.0/22 via 172.31.13.116");
    let rr1 = &p.steps[1];
    assert_eq!(rr1.changes.len(), 1);
    let Verification::SessionsEstablished { peers, .. } = &rr1.verify[1] else { panic!("sessions") };
    let want: Vec<IpAddr> =
        ["172.31.13.28", "172.31.13.29", "172.31.13.116"].iter().map(|s| s.parse().unwrap()).collect();
    assert_eq!(peers, &want);
}

#[test]
fn vxlan_backend_and_password_order() {
    let mut set = demo();
    let cm = ObjectRef::namespaced(Kind::ConfigMap, "kube-system", "calico-config");
    set.merge_patch(&cm, &json!({"data": {"calico_backend": "vxlan"}})).unwrap();
    let mut a = walkthrough_answers();
    a.password = Some(Password("s3cret".into()));
    a.pool.exists = false;
    a.pool.name = "bgp-pool".into();
    a.pool.cidr = "10.244.0.0/16".parse().unwrap();
    let p = plan_for(&set, &a);
    assert_order(&p);
    assert_eq!(p.steps[0].kind, StepKind::SetBackend);
    assert_eq!(p.steps[1].kind, StepKind::RestartCalicoNode);
    assert_eq!(p.steps[1].changes[0].op, Op::Restart);
    assert_eq!(p.steps[2].kind, StepKind::CreatePasswordSecret);
    assert_eq!(p.steps[3].kind, StepKind::CreatePool);
    assert_eq!(p.steps[4].kind, StepKind::CreatePeers);
    // The new pool is created clean, so no pool step follows.
    assert!(pos(&p, |k| *k == StepKind::PoolEncapsulation).is_empty());
    let rr_peer = &p.steps[4].changes[1].after;
    assert_eq!(rr_peer["spec"]["password"]["secretKeyRef"]["name"], PASSWORD_SECRET);
    assert_eq!(base64(b"s3cret"), "czNjcmV0");
}

#[test]
fn base64_matches_rfc4648() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
}

#[test]
fn applied_plan_leaves_nothing_to_do() {
    let mut set = demo();
    let a = walkthrough_answers();
    let p = plan_for(&set, &a);
    apply(&mut set, &p);
    let again = plan_for(&set, &a);
    assert!(again.is_empty(), "{:#?}", again.steps);
    assert!(again.notes[0].starts_with("Nothing to do"));
}

#[test]
fn configured_reflector_is_skipped() {
    let mut set = demo();
    let node = ObjectRef::cluster(Kind::Node, "k8s-1");
    set.merge_patch(
        &node,
        &json!({"metadata": {"annotations": {ANN_RR_CLUSTER_ID: "244.0.0.1"},
                "labels": {LABEL_RR: "true"}}}),
    )
    .unwrap();
    let p = plan_for(&set, &walkthrough_answers());
    let promoted = pos(&p, |k| matches!(k, StepKind::PromoteReflector { .. }));
    assert_eq!(promoted.len(), 1);
    assert_eq!(p.steps[promoted[0]].kind, StepKind::PromoteReflector { node: "k8s-2".into() });
    assert!(p.notes.iter().any(|n| n.contains("k8s-1 is already")));
}

#[test]
fn peer_with_different_spec_is_patched_and_same_is_skipped() {
    let mut set = demo();
    set.insert(json!({
        "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
        "metadata": {"name": PEER_TO_RRS},
        "spec": {"nodeSelector": "all()", "peerSelector": RR_SELECTOR},
    }));
    set.insert(json!({
        "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
        "metadata": {"name": PEER_TO_SWITCH},
        "spec": {"nodeSelector": RR_SELECTOR, "peerIP": "172.31.13.1", "asNumber": "7675",
                 "node": "k8s-9", "sourceAddress": "UseNodeIP"},
    }));
    let p = plan_for(&set, &walkthrough_answers());
    let peers = &p.steps[0];
    assert_eq!(peers.kind, StepKind::CreatePeers);
    assert_eq!(peers.changes.len(), 1);
    assert_eq!(
        peers.changes[0].op,
        Op::MergePatch(json!({"spec": {
            "peerIP": "172.31.13.116", "keepOriginalNextHop": true, "node": null,
        }}))
    );
    assert_eq!(peers.changes[0].after["spec"]["sourceAddress"], "UseNodeIP");
    assert!(p.notes.iter().any(|n| n.contains("BGPPeer peer-with-route-reflectors already")));
}

#[test]
fn existing_bgp_configuration_keeps_its_as() {
    let mut set = demo();
    set.insert(json!({
        "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPConfiguration",
        "metadata": {"name": "default"},
        "spec": {"asNumber": 65010, "logSeverityScreen": "Info"},
    }));
    let mut a = walkthrough_answers();
    a.cluster_as = Asn(65010);
    let p = plan_for(&set, &a);
    let mesh = p.steps.iter().find(|s| s.kind == StepKind::DisableMesh).unwrap();
    assert_eq!(mesh.changes[0].op, Op::MergePatch(json!({"spec": {"nodeToNodeMeshEnabled": false}})));
    assert!(p.notes.iter().any(|n| n.contains("AS 65010")));
    // Without an AS, a non-default cluster AS is written.
    set.insert(json!({
        "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPConfiguration",
        "metadata": {"name": "default"}, "spec": {"nodeToNodeMeshEnabled": true},
    }));
    let p = plan_for(&set, &a);
    let mesh = p.steps.iter().find(|s| s.kind == StepKind::DisableMesh).unwrap();
    assert_eq!(
        mesh.changes[0].op,
        Op::MergePatch(json!({"spec": {"nodeToNodeMeshEnabled": false, "asNumber": 65010}}))
    );
}

#[test]
fn every_undo_restores_before() {
    let mut set = demo();
    let cm = ObjectRef::namespaced(Kind::ConfigMap, "kube-system", "calico-config");
    set.merge_patch(&cm, &json!({"data": {"calico_backend": "vxlan"}})).unwrap();
    set.insert(json!({
        "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
        "metadata": {"name": PEER_TO_SWITCH},
        "spec": {"nodeSelector": RR_SELECTOR, "peerIP": "172.31.13.1", "node": "k8s-9"},
    }));
    let mut a = walkthrough_answers();
    a.password = Some(Password("pw".into()));
    let p = plan_for(&set, &a);
    let mut n = 0;
    for c in p.steps.iter().flat_map(|s| &s.changes) {
        let mut obj = c.before.clone().unwrap_or(Value::Null);
        match &c.op {
            Op::MergePatch(patch) => json_patch::merge(&mut obj, patch),
            Op::Create | Op::Restart => obj = c.after.clone(),
        }
        assert_eq!(obj, c.after, "after of {}", c.object);
        match c.undo() {
            UndoOp::MergePatch(inv) => {
                json_patch::merge(&mut obj, &inv);
                assert_eq!(Some(&obj), c.before.as_ref(), "undo of {}", c.object);
                n += 1;
            }
            UndoOp::Delete => assert!(c.before.is_none(), "delete of {}", c.object),
            UndoOp::Restart => assert_eq!(c.op, Op::Restart),
        }
    }
    assert!(n >= 6, "only {n} patches checked");
}

#[test]
fn operator_pool_patch_writes_whole_array() {
    let mut set = demo();
    set.remove(&ObjectRef::namespaced(Kind::ConfigMap, "kube-system", "calico-config"));
    set.insert(json!({
        "apiVersion": "operator.tigera.io/v1", "kind": "Installation",
        "metadata": {"name": "default"},
        "spec": {"calicoNetwork": {"bgp": "Enabled", "ipPools": [
            {"cidr": "10.9.0.0/16", "encapsulation": "VXLAN"},
            {"cidr": "172.27.208.0/22", "encapsulation": "IPIP", "natOutgoing": "Enabled",
             "blockSize": 26},
        ]}},
    }));
    let p = plan_for(&set, &walkthrough_answers());
    assert_order(&p);
    let enc = p.steps.iter().find(|s| s.kind == StepKind::PoolEncapsulation).unwrap();
    let nat = p.steps.iter().find(|s| s.kind == StepKind::PoolNatOutgoing).unwrap();
    let Op::MergePatch(pe) = &enc.changes[0].op else { panic!() };
    let pools = &pe["spec"]["calicoNetwork"]["ipPools"];
    assert_eq!(pools[0]["encapsulation"], "VXLAN");
    assert_eq!(pools[1]["encapsulation"], "None");
    assert_eq!(pools[1]["natOutgoing"], "Enabled");
    let Op::MergePatch(pn) = &nat.changes[0].op else { panic!() };
    assert_eq!(pn["spec"]["calicoNetwork"]["ipPools"][1]["encapsulation"], "None");
    assert_eq!(pn["spec"]["calicoNetwork"]["ipPools"][1]["natOutgoing"], "Disabled");
    assert_eq!(enc.changes[1].object.kind, Kind::IpPool);
    assert!(p.notes.iter().any(|n| n.contains("v1.34")));
}
