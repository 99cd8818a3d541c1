//! The dashboard's cluster sources against a real kube-apiserver:
//! - CalicoNodeStatus objects, **watched**: a viewer bound to the read-only ClusterRole sees the
//!   sessions the status reporter (the controller stand-in, see tests/common/cluster.rs) writes,
//!   sees a change arrive through its one watch, and sends no write (the audit log);
//! - `--exec`: what it needs (pods/exec, named in the 403), and that with route reflectors only they
//!   are read. No kubelet runs here, so the exec itself ends at the API server's dial to the
//!   kubelet: the node's only address is moved to 127.0.0.1 with a closed port, so nothing leaves
//!   this machine. The birdcl output path is checked against real BIRD in tests/bird_lab.rs.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use calico_bgp_wizard::backend::Backend;
use calico_bgp_wizard::kube::{KubeBackend, KubeconfigSource};
use calico_bgp_wizard::status::model::BgpState;
use common::cluster::TestCluster;
use common::wizard::text;

fn demo_cluster() -> TestCluster {
    let c = TestCluster::start();
    c.load_fixture(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-cluster.yaml"));
    c
}

fn bind_viewer(c: &TestCluster, state: &Path, roles: &[&str]) {
    let out = common::wizard::command(&c.kubeconfig_admin(), state, &["rbac"]).output().unwrap();
    assert!(out.status.success());
    let file = state.join("roles.yaml");
    std::fs::write(&file, &out.stdout).unwrap();
    c.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    for role in roles {
        c.kubectl_ok(&[
            "create",
            "clusterrolebinding",
            &format!("viewer-{role}"),
            &format!("--clusterrole={role}"),
            "--user=viewer",
        ]);
    }
}

const CNS_K8S_1: &str = "apiVersion: crd.projectcalico.org/v1
kind: CalicoNodeStatus
metadata:
  name: k8s-1-debug
spec:
  node: k8s-1
  classes: [BGP]
  updatePeriodSeconds: 1
";

const WRONG_AS_PEER: &str = "apiVersion: crd.projectcalico.org/v1
kind: BGPPeer
metadata:
  name: tor-wrong-as
spec:
  node: k8s-1
  peerIP: 172.31.13.116
  asNumber: 65000
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_watches_calico_node_status_and_writes_nothing() {
    let mut c = demo_cluster();
    c.start_stand_in();
    let state = tempfile::tempdir().unwrap();
    bind_viewer(&c, state.path(), &["calico-bgp-wizard-read-only"]);
    let viewer = c.kubeconfig_viewer();

    // None exists yet: the viewer is told how to see the sessions, and the dashboard creates none.
    let out = common::wizard::command(&viewer, state.path(), &["status", "--once"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no CalicoNodeStatus object exists"), "{}", text(&out.stderr));

    c.load_yaml(CNS_K8S_1);
    common::cluster::wait_until("the status reporter fills k8s-1-debug", Duration::from_secs(30), || {
        c.kubectl(&[
            "get",
            "caliconodestatuses.crd.projectcalico.org",
            "k8s-1-debug",
            "-o",
            "jsonpath={.status.bgp.peersV4}",
        ])
        .stdout
        .len()
            > 2
    });
    let out = common::wizard::command(&viewer, state.path(), &["status", "--once", "-o", "json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(out.status.code(), Some(0), "{rows:#}\n{}", text(&out.stderr));
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "k8s-1's two mesh sessions: {rows:#?}");
    assert!(
        rows.iter()
            .all(|r| r["node"] == "k8s-1" && r["bgpState"] == "Established" && r["peerType"] == "node-to-node mesh")
    );

    // In process: one backend, refreshed like the dashboard does; a change arrives by the watch.
    let b = Backend::Kube(KubeBackend::connect(&KubeconfigSource::Flag(viewer.clone()), None).await.unwrap());
    let first = b.peers(&[]).await.unwrap();
    assert_eq!(first.queried, vec!["k8s-1".to_string()]);
    assert!(first.source.contains("CalicoNodeStatus (watched)"), "{}", first.source);
    c.load_yaml(WRONG_AS_PEER);
    let deadline = Instant::now() + Duration::from_secs(30);
    let seen = loop {
        let r = b.peers(&[]).await.unwrap();
        if let Some(row) = r.rows.iter().find(|r| r.peer_address == "172.31.13.116") {
            break row.clone();
        }
        assert!(Instant::now() < deadline, "the switch session never appeared: {:?}", r.rows);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(seen.bgp_state, BgpState::Active, "AS 65000 is not the switch's: {seen:?}");
    c.kubectl_ok(&["delete", "caliconodestatuses.crd.projectcalico.org", "k8s-1-debug"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match b.peers(&[]).await {
            Err(e) if e.contains("no CalicoNodeStatus object exists") => break,
            other => assert!(Instant::now() < deadline, "the deletion never arrived: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // One watch, not a list per refresh; and not a single write.
    let events = c.audit_events_by("viewer");
    let watches = events
        .iter()
        .filter(|e| e["verb"] == "watch" && e["requestURI"].as_str().unwrap_or_default().contains("caliconodestatuses"))
        .count();
    assert!(watches >= 1, "the viewer never watched CalicoNodeStatus");
    let lists = events
        .iter()
        .filter(|e| e["verb"] == "list" && e["requestURI"].as_str().unwrap_or_default().contains("caliconodestatuses"))
        .count();
    assert!(lists <= 4, "{lists} lists of CalicoNodeStatus: the in-process refreshes must come from the watch");
    assert_eq!(c.audit_writes_by("viewer"), Vec::<String>::new());
}

const CALICO_NODE_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: calico-node-k8s1
  namespace: kube-system
  labels: {k8s-app: calico-node}
spec:
  nodeName: k8s-1
  containers:
  - name: calico-node
    image: calico/node:v3.23.3
";

#[test]
fn exec_needs_pods_exec_and_reads_only_the_route_reflectors() {
    let c = demo_cluster();
    let state = tempfile::tempdir().unwrap();
    bind_viewer(&c, state.path(), &["calico-bgp-wizard-read-only"]);
    // The API server dials a node's kubelet for exec: k8s-1's only address becomes loopback, its
    // kubelet port one that nothing listens on, so no packet leaves this machine.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let patch = serde_json::json!({"status": {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": closed}},
    }});
    c.kubectl_ok(&["patch", "node", "k8s-1", "--subresource=status", "--type=merge", "-p", &patch.to_string()]);
    c.load_yaml(CALICO_NODE_POD);

    // The viewer lacks the exec role: a 403 that names what is missing and where to get it.
    let out = common::wizard::command(&c.kubeconfig_viewer(), state.path(), &["status", "--once", "--exec"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("permission denied") && err.contains("pods") && err.contains("calico-bgp-wizard rbac"),
        "{err}"
    );

    // The mesh (no route reflector): every node is read; k8s-2 and k8s-3 have no calico-node pod.
    let out =
        common::wizard::command(&c.kubeconfig_admin(), state.path(), &["status", "--once", "--exec"]).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("k8s-2: no calico-node pod runs on k8s-2"), "{err}");
    assert!(err.contains("k8s-1:") && err.contains("127.0.0.1"), "the exec reached the kubelet dial: {err}");
    assert!(!err.contains("panicked"), "{err}");

    // With a route reflector, only it is read.
    c.kubectl_ok(&["annotate", "node", "k8s-1", "projectcalico.org/RouteReflectorClusterID=244.0.0.1"]);
    let out =
        common::wizard::command(&c.kubeconfig_admin(), state.path(), &["status", "--once", "--exec"]).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("k8s-1:") && !err.contains("k8s-2") && !err.contains("k8s-3"), "only the reflector: {err}");
}

/// What a wizard killed on its Status screen leaves behind: its own session probe.
const LEFT_BY_A_KILLED_WIZARD: &str = "apiVersion: crd.projectcalico.org/v1
kind: CalicoNodeStatus
metadata:
  name: calico-bgp-wizard-k8s-1
  labels: {app.kubernetes.io/managed-by: calico-bgp-wizard}
spec:
  node: k8s-1
  classes: [BGP]
  updatePeriodSeconds: 5
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_removes_session_probes_a_killed_run_left_and_nothing_else() {
    use calico_bgp_wizard::app::{App, Cmd, Mode, Msg};
    use calico_bgp_wizard::worker::Worker;
    use std::sync::Arc;

    let c = demo_cluster();
    c.load_yaml(LEFT_BY_A_KILLED_WIZARD);
    c.load_yaml(CNS_K8S_1);
    let names = || c.kubectl_ok(&["get", "caliconodestatuses.crd.projectcalico.org", "-o", "name"]);
    let b = Backend::Kube(KubeBackend::connect(&KubeconfigSource::Flag(c.kubeconfig_admin()), None).await.unwrap());
    let objects = b.detect().await.unwrap();

    // The clean-up is a write: the dashboard never asks for it, and its worker would refuse it.
    let mut dashboard = App::new(Mode::Dashboard, false);
    assert!(!dashboard.update(Msg::Detected(Ok(objects.clone()))).contains(&Cmd::RemoveStaleProbes));
    assert!(Cmd::RemoveStaleProbes.is_write());
    // The wizard asks for it once it has read a real cluster.
    let mut wizard = App::new(Mode::Wizard, false);
    let cmds = wizard.update(Msg::Detected(Ok(objects)));
    assert_eq!(cmds, vec![Cmd::RemoveStaleProbes]);
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let worker = Worker::new(Arc::new(b), tx, Instant::now(), false);
    for cmd in cmds {
        worker.handle(cmd);
    }
    common::cluster::wait_until("the wizard deletes its leftover probe", Duration::from_secs(20), || {
        !names().contains("calico-bgp-wizard-k8s-1")
    });
    assert!(names().contains("k8s-1-debug"), "someone else's CalicoNodeStatus stays: {}", names());
}
