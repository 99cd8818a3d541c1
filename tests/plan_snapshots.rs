//! Snapshots of the plan (v1 YAML, v3 YAML, runbook) for each cluster fixture.

mod common;

use calico_bgp_wizard::assert_snap;
use calico_bgp_wizard::demo::walkthrough_answers;
use calico_bgp_wizard::domain::answers::{Password, TargetPool, ValidAnswers};
use calico_bgp_wizard::domain::asn::Asn;
use calico_bgp_wizard::domain::facts::{Backend, InstallKind};
use calico_bgp_wizard::plan::render::{plan_json, plan_text, plan_yaml_v1, plan_yaml_v3};
use calico_bgp_wizard::plan::{Plan, StepKind, build_plan};
use common::load_fixture;

fn plan(fixture: &str, answers: &ValidAnswers) -> Plan {
    let (set, facts) = load_fixture(fixture);
    build_plan(answers, &facts, &set)
}

fn snap_all(name: &str, p: &Plan) {
    assert_snap!(format!("plan_{name}_v1"), plan_yaml_v1(p));
    assert_snap!(format!("plan_{name}_v3"), plan_yaml_v3(p));
    assert_snap!(format!("plan_{name}_text"), plan_text(p, ""));
}

fn kinds(p: &Plan) -> Vec<StepKind> {
    p.steps.iter().map(|s| s.kind.clone()).collect()
}

fn rr(node: &str) -> StepKind {
    StepKind::PromoteReflector { node: node.into() }
}

#[test]
fn demo() {
    let p = plan("manifest-demo", &walkthrough_answers());
    assert_eq!(
        kinds(&p),
        [
            StepKind::CreatePeers,
            rr("k8s-1"),
            rr("k8s-2"),
            StepKind::DisableMesh,
            StepKind::PoolEncapsulation,
            StepKind::PoolNatOutgoing
        ]
    );
    snap_all("demo", &p);
}

#[test]
fn operator() {
    let (_, facts) = load_fixture("operator");
    assert_eq!(facts.install, InstallKind::Operator);
    assert_eq!(facts.calico_namespace, "calico-system");
    let p = plan("operator", &walkthrough_answers());
    let enc = p.steps.iter().find(|s| s.kind == StepKind::PoolEncapsulation).unwrap();
    assert_eq!(enc.changes.len(), 2, "Installation entry and IPPool");
    assert!(p.notes.iter().any(|n| n.contains("v1.34")));
    snap_all("operator", &p);
}

#[test]
fn one_reflector() {
    let mut a = walkthrough_answers();
    a.reflectors = vec!["k8s-2".into()];
    let p = plan("manifest-demo", &a);
    assert_eq!(kinds(&p).iter().filter(|k| matches!(k, StepKind::PromoteReflector { .. })).count(), 1);
    snap_all("one_rr", &p);
}

#[test]
fn existing_peers() {
    let mut a = walkthrough_answers();
    a.cluster_as = Asn(65010);
    let p = plan("existing-peers", &a);
    assert!(p.notes.iter().any(|n| n.contains("65010")));
    assert!(p.notes.iter().any(|n| n.contains("k8s-3-to-lab-router")));
    snap_all("existing_peers", &p);
}

#[test]
fn ipv6_pool() {
    let mut a = walkthrough_answers();
    a.switch_ip = "fd00:31:13::116".parse().unwrap();
    a.pool = TargetPool {
        name: "default-ipv6-ippool".into(),
        cidr: "fd00:27:208::/48".parse().unwrap(),
        block_size: 122,
        exists: true,
    };
    let p = plan("ipv6", &a);
    assert_eq!(p.client_route, "ip -6 route add fd00:27:208::/48 via fd00:31:13::116");
    snap_all("ipv6", &p);
}

#[test]
fn already_configured() {
    let p = plan("configured", &walkthrough_answers());
    assert!(p.is_empty(), "{:#?}", p.steps);
    assert!(p.notes[0].starts_with("Nothing to do: this cluster is already configured"));
    assert_snap!("plan_configured_notes", p.notes.join("\n"));
    snap_all("configured", &p);
}

#[test]
fn vxlan_backend() {
    let (_, facts) = load_fixture("vxlan-backend");
    assert_eq!(facts.backend, Backend::Vxlan);
    let p = plan("vxlan-backend", &walkthrough_answers());
    assert_eq!(p.steps[0].kind, StepKind::SetBackend);
    assert_eq!(p.steps[1].kind, StepKind::RestartCalicoNode);
    snap_all("vxlan_backend", &p);
}

#[test]
fn demo_with_password() {
    let pw = "Not-in-any-snapshot-7675";
    let mut a = walkthrough_answers();
    a.password = Some(Password(pw.into()));
    let p = plan("manifest-demo", &a);
    let secret = &p.steps[0];
    assert_eq!(secret.kind, StepKind::CreatePasswordSecret);
    assert_eq!(secret.changes[0].after["stringData"]["password"], pw);
    let texts = [plan_yaml_v1(&p), plan_yaml_v3(&p), plan_text(&p, ""), serde_json::to_string(&plan_json(&p)).unwrap()];
    for t in &texts {
        assert!(!t.contains(pw), "password leaked:\n{t}");
    }
    snap_all("demo_password", &p);
}
