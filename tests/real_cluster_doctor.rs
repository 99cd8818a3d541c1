//! `doctor` against a real kube-apiserver: a node whose Calico address (the
//! `projectcalico.org/IPv4Address` annotation, what BGP uses) differs from its Kubernetes
//! InternalIP is reported, with how to pin the address, for a manifest install
//! (`IP_AUTODETECTION_METHOD`) and for an operator install (`nodeAddressAutodetectionV4`).
//!
//! Network safety: the nodes' addresses are loopback addresses, so the doctor's connection
//! attempts stay on this machine. The network checks themselves are tested in the BGP lab
//! (`tests/doctor_lab.rs`).

mod common;

use std::path::Path;

use common::cluster::TestCluster;
use common::wizard::text;
use serde_json::Value;

const NODES: &str = r#"
apiVersion: v1
kind: Node
metadata:
  name: cp-1
  labels: {node-role.kubernetes.io/control-plane: ""}
  annotations: {projectcalico.org/IPv4Address: 127.0.0.21/8}
status:
  addresses:
  - {type: InternalIP, address: 127.0.0.21}
---
apiVersion: v1
kind: Node
metadata:
  name: worker-1
  annotations: {projectcalico.org/IPv4Address: 127.0.0.99/8}
status:
  addresses:
  - {type: InternalIP, address: 127.0.0.22}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: calico-config, namespace: kube-system}
data: {calico_backend: bird}
"#;

fn doctor(c: &TestCluster, state: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["doctor"];
    args.extend_from_slice(extra);
    let out = common::wizard::command(&c.kubeconfig_admin(), state, &args).output().unwrap();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn findings(json: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("doctor -o json: {e}\n{json}"));
    v["findings"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_node_whose_bgp_address_is_not_its_internal_ip_is_reported() {
    let c = TestCluster::start();
    c.load_yaml(NODES);
    let state = tempfile::tempdir().unwrap();

    let (code, out, err) = doctor(&c, state.path(), &["-o", "json"]);
    let all = findings(&out);
    let mismatch: Vec<&Value> = all.iter().filter(|f| f["rule"] == "node-address-mismatch").collect();
    assert_eq!(mismatch.len(), 1, "exactly worker-1 differs: {all:#?}\n{err}");
    let m = mismatch[0];
    assert_eq!(m["severity"], "warning");
    let msg = m["message"].as_str().unwrap();
    assert!(msg.contains("'worker-1'") && msg.contains("'127.0.0.99'") && msg.contains("'127.0.0.22'"), "{msg}");
    let fix = m["fix"].as_str().unwrap();
    assert!(fix.contains("IP_AUTODETECTION_METHOD=kubernetes-internal-ip"), "{fix}");
    // No IP_AUTODETECTION_METHOD on the (absent) DaemonSet: first-found, a warning with a mismatch.
    let ff = all.iter().find(|f| f["rule"] == "ip-autodetection-first-found").expect("first-found finding");
    assert_eq!(ff["severity"], "warning");
    // BGP uses the annotation's address: that is the one tried.
    let v: Value = serde_json::from_str(&out).unwrap();
    let tried: Vec<&str> =
        v["ports"]["results"].as_array().unwrap().iter().map(|r| r["address"].as_str().unwrap()).collect();
    assert_eq!(tried, ["127.0.0.21", "127.0.0.99"]);
    assert_eq!(code, 0, "a warning is not an error:\n{out}\n{err}");

    // The text form says the same for a person.
    let (code, out, _) = doctor(&c, state.path(), &[]);
    assert_eq!(code, 0);
    assert!(
        out.contains(
            "warning: node 'worker-1' peers BGP from '127.0.0.99' but its Kubernetes InternalIP is '127.0.0.22'"
        ),
        "{out}"
    );

    // An operator install: the fix is the Installation's field.
    c.load_yaml(
        "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata: {name: default}\nspec:\n  calicoNetwork:\n    bgp: Enabled\n",
    );
    let (_, out, err) = doctor(&c, state.path(), &["-o", "json"]);
    let all = findings(&out);
    let m = all.iter().find(|f| f["rule"] == "node-address-mismatch").unwrap_or_else(|| panic!("{all:#?}\n{err}"));
    assert!(m["fix"].as_str().unwrap().contains("nodeAddressAutodetectionV4"), "{m}");
}

#[test]
fn doctor_without_a_readable_cluster_exits_3() {
    let state = tempfile::tempdir().unwrap();
    let kubeconfig = state.path().join("kubeconfig");
    // A closed loopback port: nothing answers.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}\n\
             users:\n- name: u\n  user: {{token: x}}\ncontexts:\n- name: c\n  context: {{cluster: t, user: u}}\ncurrent-context: c\n"
        ),
    )
    .unwrap();
    let out = common::wizard::command(&kubeconfig, state.path(), &["doctor"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cannot read the cluster"), "{}", text(&out.stderr));
}
