//! The wizard against a real kube-apiserver + etcd with Calico's real CRDs (tests/common/cluster.rs):
//! the demo scenario applied headlessly and checked field by field with kubectl, rollback to the
//! exact objects from before, an empty re-plan, a concurrent edit that is detected instead of
//! overwritten, and clear errors for unreachable servers, refused credentials and missing Calico.

mod common;

use std::path::Path;

use common::cluster::TestCluster;
use common::wizard::{DEMO_PLAN, Held, PASSWORD, Wizard, text};
use serde_json::Value;

fn demo_cluster() -> TestCluster {
    let mut c = TestCluster::start();
    c.load_fixture(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-cluster.yaml"));
    c.start_stand_in();
    c
}

fn get_json(c: &TestCluster, args: &[&str]) -> Value {
    let mut a = vec!["get"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-o", "json"]);
    serde_json::from_str(&c.kubectl_ok(&a)).unwrap()
}

fn jsonpath(c: &TestCluster, args: &[&str], path: &str) -> String {
    let mut a = vec!["get"];
    a.extend_from_slice(args);
    let expr = format!("jsonpath={path}");
    a.extend_from_slice(&["-o", &expr]);
    c.kubectl_ok(&a)
}

/// What an operator would compare: each object's spec/data/labels/annotations (not resourceVersion,
/// managedFields, status…), for every object the wizard may touch. Absent objects are absent.
fn snapshot(c: &TestCluster) -> Value {
    let mut out = serde_json::Map::new();
    let kinds = [
        "nodes",
        "ippools.crd.projectcalico.org",
        "bgppeers.crd.projectcalico.org",
        "bgpconfigurations.crd.projectcalico.org",
        "caliconodestatuses.crd.projectcalico.org",
    ];
    for k in kinds {
        for item in get_json(c, &[k]).get("items").and_then(Value::as_array).cloned().unwrap_or_default() {
            out.insert(format!("{k}/{}", item["metadata"]["name"].as_str().unwrap()), essence(&item));
        }
    }
    for (k, ns) in [
        ("configmap", "kube-system"),
        ("secrets", "kube-system"),
        ("roles", "kube-system"),
        ("rolebindings", "kube-system"),
        ("daemonsets", "kube-system"),
    ] {
        for item in get_json(c, &["-n", ns, k]).get("items").and_then(Value::as_array).cloned().unwrap_or_default() {
            let name = item["metadata"]["name"].as_str().unwrap().to_string();
            if name.starts_with("calico") || name.contains("bgp") {
                let mut e = essence(&item);
                // A rollback restarts calico-node: the template's restartedAt is the one field
                // that cannot go back (undoing a restart is another restart).
                if let Some(a) = e.pointer_mut("/spec/template/metadata/annotations").and_then(Value::as_object_mut) {
                    a.remove("kubectl.kubernetes.io/restartedAt");
                }
                out.insert(format!("{k}/{ns}/{name}"), e);
            }
        }
    }
    Value::Object(out)
}

fn essence(o: &Value) -> Value {
    let mut e = serde_json::Map::new();
    for k in ["spec", "data", "rules", "roleRef", "subjects", "type"] {
        if let Some(v) = o.get(k) {
            e.insert(k.into(), v.clone());
        }
    }
    for k in ["labels", "annotations"] {
        if let Some(v) = o["metadata"].get(k) {
            e.insert(k.into(), v.clone());
        }
    }
    Value::Object(e)
}

/// The demo scenario's end state, read back with kubectl field by field.
fn assert_configured(c: &TestCluster) {
    for n in ["k8s-1", "k8s-2"] {
        let node = get_json(c, &["node", n]);
        assert_eq!(node["metadata"]["annotations"]["projectcalico.org/RouteReflectorClusterID"], "244.0.0.1", "{n}");
        assert_eq!(node["metadata"]["labels"]["route-reflector"], "true", "{n}");
    }
    let k3 = get_json(c, &["node", "k8s-3"]);
    assert!(k3["metadata"]["annotations"].get("projectcalico.org/RouteReflectorClusterID").is_none());
    assert!(k3["metadata"]["labels"].get("route-reflector").is_none());

    let p = get_json(c, &["bgppeers.crd.projectcalico.org", "peer-with-route-reflectors"]);
    assert_eq!(p["spec"]["nodeSelector"], "all()");
    assert_eq!(p["spec"]["peerSelector"], "route-reflector == 'true'");
    let p = get_json(c, &["bgppeers.crd.projectcalico.org", "rr-peer"]);
    assert_eq!(p["spec"]["peerIP"], "172.31.13.116");
    assert_eq!(p["spec"]["asNumber"], 7675);
    assert_eq!(p["spec"]["nodeSelector"], "route-reflector == 'true'");
    assert_eq!(p["spec"]["keepOriginalNextHop"], true);
    assert_eq!(p["spec"]["password"]["secretKeyRef"]["name"], "calico-bgp-wizard-password");
    assert_eq!(p["spec"]["password"]["secretKeyRef"]["key"], "password");

    assert_eq!(
        jsonpath(c, &["bgpconfigurations.crd.projectcalico.org", "default"], "{.spec.nodeToNodeMeshEnabled}"),
        "false"
    );

    let pool = get_json(c, &["ippools.crd.projectcalico.org", "default-ipv4-ippool"]);
    assert_eq!(pool["spec"]["cidr"], "172.27.208.0/22");
    assert_eq!(pool["spec"]["ipipMode"], "Never");
    assert_eq!(pool["spec"]["vxlanMode"], "Never");
    assert_eq!(pool["spec"]["natOutgoing"], false);

    let secret = get_json(c, &["-n", "kube-system", "secret", "calico-bgp-wizard-password"]);
    let stored = secret["data"]["password"].as_str().unwrap();
    let decoded = c.kubectl_ok(&[
        "-n",
        "kube-system",
        "get",
        "secret",
        "calico-bgp-wizard-password",
        "-o",
        "go-template={{.data.password | base64decode}}",
    ]);
    assert!(!stored.is_empty());
    assert_eq!(decoded, PASSWORD);
    // calico-node may read exactly that Secret.
    let can = c.kubectl(&[
        "auth",
        "can-i",
        "get",
        "secret/calico-bgp-wizard-password",
        "-n",
        "kube-system",
        "--as",
        "system:serviceaccount:kube-system:calico-node",
    ]);
    assert_eq!(text(&can.stdout).trim(), "yes", "{}", text(&can.stderr));

    // The session probes were deleted after the waits.
    let cns = get_json(c, &["caliconodestatuses.crd.projectcalico.org"]);
    assert_eq!(cns["items"].as_array().map(Vec::len), Some(0), "{cns}");
}

#[test]
fn demo_scenario_applies_verifies_replans_empty_and_rolls_back_exactly() {
    let c = demo_cluster();
    let w = Wizard::new(c.kubeconfig_admin());
    let before = snapshot(&c);
    assert_eq!(jsonpath(&c, &["ippools.crd.projectcalico.org", "default-ipv4-ippool"], "{.spec.vxlanMode}"), "Never");
    let dir = w.plan_dir_with_password("plan");
    let out = w.apply(&dir);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "apply failed:\n{stdout}\n{stderr}");
    // One progress line per step, and the run's closing line.
    let steps: Vec<&str> = stdout.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(steps.len(), 7, "{stdout}");
    assert!(steps.iter().all(|l| l.contains(": done (")), "{stdout}");
    assert!(stdout.contains("complete: every step applied and verified"), "{stdout}");
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
    assert_configured(&c);

    // Idempotence: planned again, nothing is left to do.
    let pw = w.password_file();
    let mut args = DEMO_PLAN.to_vec();
    args.extend(["--password-file", pw.to_str().unwrap(), "-o", "json"]);
    let again = w.ok(&args);
    let v: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(v["steps"].as_array().map(Vec::len), Some(0), "{again}");

    // The run record holds no password, and backups exist.
    let runs = w.state.path().join("state/calico-bgp-wizard/runs");
    let run = std::fs::read_dir(&runs).unwrap().next().unwrap().unwrap().path();
    let manifest = std::fs::read_to_string(run.join("run.json")).unwrap();
    assert!(!manifest.contains(PASSWORD));
    assert!(std::fs::read_dir(run.join("backups")).unwrap().count() >= 3);

    let out = w.run(&["rollback", "--yes"]);
    assert!(out.status.success(), "rollback failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    let after = snapshot(&c);
    assert_eq!(before, after, "rollback must restore every object exactly");
}

#[test]
fn a_concurrent_edit_is_detected_not_overwritten() {
    let c = demo_cluster();
    let w = Wizard::new(c.kubeconfig_admin());
    let dir = w.plan_dir_with_password("plan");
    // Hold before step 6 (pool encapsulation), edit the pool meanwhile, then let the wizard go on.
    let pw = w.password_file();
    let apply = w.command(&["apply", dir.to_str().unwrap(), "--yes", "--password-file", pw.to_str().unwrap()]);
    let held = Held::start(apply, "before:6", w.state.path());
    c.kubectl_ok(&[
        "patch",
        "ippools.crd.projectcalico.org",
        "default-ipv4-ippool",
        "--type=merge",
        "-p",
        r#"{"spec":{"ipipMode":"CrossSubnet"}}"#,
    ]);
    let out = held.release();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}\n{stderr}", text(&out.stdout));
    assert!(stderr.contains("changed since the plan was made"), "{stderr}");
    assert!(stderr.contains("ipipMode") && stderr.contains("CrossSubnet"), "{stderr}");
    assert!(stderr.contains("resume") && stderr.contains("rollback"), "{stderr}");
    // The operator's edit stands.
    assert_eq!(
        jsonpath(&c, &["ippools.crd.projectcalico.org", "default-ipv4-ippool"], "{.spec.ipipMode}"),
        "CrossSubnet"
    );
}

#[test]
fn a_plan_made_before_the_cluster_changed_is_refused() {
    let c = demo_cluster();
    let w = Wizard::new(c.kubeconfig_admin());
    let dir = w.plan_dir_with_password("plan");
    c.kubectl_ok(&[
        "patch",
        "ippools.crd.projectcalico.org",
        "default-ipv4-ippool",
        "--type=merge",
        "-p",
        r#"{"spec":{"natOutgoing":false}}"#,
    ]);
    let out = w.apply(&dir);
    assert_eq!(out.status.code(), Some(3), "{}\n{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stderr).contains("The cluster changed since this plan was made"), "{}", text(&out.stderr));
    // Nothing was written.
    assert_eq!(jsonpath(&c, &["ippools.crd.projectcalico.org", "default-ipv4-ippool"], "{.spec.ipipMode}"), "Always");
    assert!(c.kubectl(&["get", "bgppeers.crd.projectcalico.org", "rr-peer"]).status.code() != Some(0));
}

/// The API server is stopped at `point` ("before", "during" or "after") of every step in turn:
/// the wizard must say what happened and how to go on, lose nothing, and `resume` must finish the
/// run with the same end state as an uninterrupted one. A rollback then restores the start.
fn interrupted_at_every_step(point: &str) {
    let mut c = demo_cluster();
    let w = Wizard::new(c.kubeconfig_admin());
    let initial = snapshot(&c);
    let dir = w.plan_dir_with_password("plan");
    let pw = w.password_file();
    for step in 1..=7 {
        let at = format!("{point}:{step}");
        let apply = w.command(&["apply", dir.to_str().unwrap(), "--yes", "--password-file", pw.to_str().unwrap()]);
        let held = Held::start(apply, &at, w.state.path());
        c.stop_apiserver();
        let out = held.release();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        if point == "after" && step == 7 {
            // Nothing was left to write when the server went away.
            assert!(out.status.success(), "{at}: {stdout}\n{stderr}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{at}: {stdout}\n{stderr}");
            assert!(stdout.contains(&format!("[{step}/7]")) && stdout.contains("FAILED"), "{at}: {stdout}");
            assert!(stderr.contains("cannot reach the API server"), "{at}: {stderr}");
            assert!(
                stderr.contains("calico-bgp-wizard resume") && stderr.contains("calico-bgp-wizard rollback"),
                "{at}: {stderr}"
            );
        }
        c.start_apiserver();
        let out = w.command(&["resume", "--yes", "--password-file", pw.to_str().unwrap()]).output().unwrap();
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        if point == "after" && step == 7 {
            assert!(stderr.contains("no unfinished run"), "{at}: {stdout}\n{stderr}");
        } else {
            assert!(out.status.success(), "{at}: resume failed:\n{stdout}\n{stderr}");
            assert!(stdout.contains("complete: every step applied and verified"), "{at}: {stdout}");
        }
        assert_configured(&c);
        let out = w.run(&["rollback", "--yes"]);
        assert!(out.status.success(), "{at}: rollback failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(initial, snapshot(&c), "{at}: rollback must restore every object exactly");
    }
}

#[test]
fn api_server_stopped_before_each_step() {
    interrupted_at_every_step("before");
}

#[test]
fn api_server_stopped_during_each_step() {
    interrupted_at_every_step("during");
}

#[test]
fn api_server_stopped_after_each_step() {
    interrupted_at_every_step("after");
}
