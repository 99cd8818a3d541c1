//! The real-cluster harness itself (`tests/common/cluster.rs`) against kube-apiserver v1.20.2:
//! fixtures load with their statuses, the controller stand-in rolls out DaemonSets and reports
//! BGP sessions, data survives an API server restart, and the audit log tells writes apart.
//! Needs `bash tests/cluster/install.sh` once.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use calico_bgp_wizard::domain::objects::{Kind, ObjectSet};
use common::cluster::{TestCluster, wait_for, wait_until};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(30);

fn project_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn get_json(c: &TestCluster, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    serde_json::from_str(&c.kubectl_ok(&all)).expect("kubectl printed JSON")
}

fn start_with(fixture: &str) -> TestCluster {
    let c = TestCluster::start();
    c.load_fixture(&project_file(fixture));
    c
}

/// True when every key of `want` is in `got` with a value that contains it in turn (arrays:
/// same length, element by element); the server may add defaults, but must drop nothing.
fn contains(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => w.iter().all(|(k, wv)| g.get(k).is_some_and(|gv| contains(gv, wv))),
        (Value::Array(g), Value::Array(w)) => g.len() == w.len() && g.iter().zip(w).all(|(gv, wv)| contains(gv, wv)),
        _ => got == want,
    }
}

/// Load a fixture and check that every object is stored with its spec, data, labels, annotations
/// and status (DaemonSet status included, which create alone would drop); returns its objects.
fn check_fixture_loads(c: &TestCluster, fixture: &str) -> ObjectSet {
    let t = Instant::now();
    c.load_fixture(&project_file(fixture));
    eprintln!("load {fixture}: {:?}", t.elapsed());
    let want = ObjectSet::from_yaml(&std::fs::read_to_string(project_file(fixture)).unwrap()).unwrap();
    assert!(!want.objects.is_empty());
    let stored = get_json(
        c,
        &[
            "get",
            "nodes,configmaps,secrets,daemonsets,ippools.crd.projectcalico.org,bgppeers.crd.projectcalico.org,\
             bgpconfigurations.crd.projectcalico.org,installations.operator.tigera.io",
            "-A",
        ],
    );
    let mut got = ObjectSet::default();
    for item in stored["items"].as_array().unwrap() {
        got.insert(item.clone());
    }
    for (r, obj) in &want.objects {
        let stored = got.get(r).unwrap_or_else(|| panic!("{fixture}: {r} was not stored"));
        for field in ["/spec", "/data", "/status", "/metadata/labels", "/metadata/annotations"] {
            if let Some(w) = obj.pointer(field) {
                let g = stored.pointer(field).unwrap_or(&Value::Null);
                assert!(contains(g, w), "{fixture}: {r} {field} stored as {g}, expected to contain {w}");
            }
        }
        if r.kind == Kind::DaemonSet {
            assert_eq!(stored["status"]["observedGeneration"], stored["metadata"]["generation"], "{fixture}: {r}");
        }
    }
    want
}

/// Delete a fixture's objects (its namespaces stay: no namespace controller runs to empty them).
fn delete_objects(c: &TestCluster, set: &ObjectSet) {
    let mut by_namespace: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in set.objects.keys() {
        let group = r.kind.api_version().rsplit_once('/').map(|(g, _)| format!(".{g}")).unwrap_or_default();
        let ns = r.namespace.clone().unwrap_or_else(|| "default".into());
        by_namespace.entry(ns).or_default().push(format!("{}{group}/{}", r.kind.kind_name().to_lowercase(), r.name));
    }
    for (ns, objects) in by_namespace {
        let mut args = vec!["delete", "-n", &ns];
        args.extend(objects.iter().map(String::as_str));
        c.kubectl_ok(&args);
    }
}

#[test]
fn every_fixture_loads_with_its_statuses() {
    let c = TestCluster::start();
    for fixture in ["manifest-demo", "operator", "existing-peers", "ipv6", "configured", "vxlan-backend"] {
        let set = check_fixture_loads(&c, &format!("tests/fixtures/{fixture}.yaml"));
        delete_objects(&c, &set);
        let left = c.kubectl_ok(&["get", "nodes,daemonsets,ippools.crd.projectcalico.org", "-A", "-o", "name"]);
        assert_eq!(left, "", "{fixture}'s objects are deleted");
    }
}

#[test]
fn demo_cluster_loads_with_node_addresses_and_pool() {
    let t = Instant::now();
    let c = TestCluster::start();
    eprintln!("start + CRDs: {:?}", t.elapsed());
    check_fixture_loads(&c, "assets/demo-cluster.yaml");
    let nodes = get_json(&c, &["get", "nodes"]);
    let nodes = nodes["items"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    for (node, ip) in nodes.iter().zip(["172.31.13.27", "172.31.13.28", "172.31.13.29"]) {
        assert_eq!(node["metadata"]["annotations"]["projectcalico.org/IPv4Address"], format!("{ip}/24"));
        let addresses = node["status"]["addresses"].as_array().unwrap();
        let internal: Vec<&Value> = addresses.iter().filter(|a| a["type"] == "InternalIP").collect();
        assert_eq!(internal, [&json!({"type": "InternalIP", "address": ip})]);
    }
    let pool =
        c.kubectl_ok(&["get", "ippools.crd.projectcalico.org", "default-ipv4-ippool", "-o", "jsonpath={.spec.cidr}"]);
    assert_eq!(pool, "172.27.208.0/22");
    let ds = get_json(&c, &["get", "daemonset", "-n", "kube-system", "calico-node"]);
    assert_eq!(ds["status"]["numberAvailable"], 3);
}

#[test]
fn stand_in_rolls_out_a_changed_daemonset() {
    let mut c = start_with("assets/demo-cluster.yaml");
    c.start_stand_in();
    c.kubectl_ok(&[
        "patch",
        "daemonset",
        "-n",
        "kube-system",
        "calico-node",
        "--type=merge",
        "-p",
        r#"{"spec":{"template":{"metadata":{"annotations":{"restartedAt":"now"}}}}}"#,
    ]);
    let ds = || get_json(&c, &["get", "daemonset", "-n", "kube-system", "calico-node"]);
    assert_eq!(ds()["metadata"]["generation"], 2, "the template change makes a new generation");
    wait_until("calico-node generation 2 is rolled out", TIMEOUT, || {
        let ds = ds();
        ds["status"]["observedGeneration"] == 2
            && ds["status"]["updatedNumberScheduled"] == 3
            && ds["status"]["desiredNumberScheduled"] == 3
            && ds["status"]["numberAvailable"] == 3
    });
}

/// `status.bgp.peersV4` of a CalicoNodeStatus as (peerIP, type, state), sorted.
fn peers_v4(c: &TestCluster, name: &str) -> Vec<(String, String, String)> {
    let cns = get_json(c, &["get", "caliconodestatuses.crd.projectcalico.org", name]);
    let rows = cns.pointer("/status/bgp/peersV4").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut rows: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r["peerIP"].as_str().unwrap().into(),
                r["type"].as_str().unwrap().into(),
                r["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn wait_peers(c: &TestCluster, name: &str, what: &str, mut want: Vec<(String, String, String)>) {
    want.sort();
    wait_for(what, TIMEOUT, || peers_v4(c, name), |rows| *rows == want);
}

fn row(ip: &str, kind: &str, state: &str) -> (String, String, String) {
    (ip.into(), kind.into(), state.into())
}

#[test]
fn stand_in_reports_bgp_sessions_in_calico_node_status() {
    let mut c = start_with("assets/demo-cluster.yaml");
    c.start_stand_in();
    c.load_yaml(
        "apiVersion: crd.projectcalico.org/v1\nkind: CalicoNodeStatus\nmetadata: {name: k8s-1}\n\
         spec: {node: k8s-1, classes: [Agent, BGP], updatePeriodSeconds: 10}\n",
    );
    let mesh = [row("172.31.13.28", "NodeMesh", "Established"), row("172.31.13.29", "NodeMesh", "Established")];
    wait_peers(&c, "k8s-1", "k8s-1 reports its 2 mesh peers Established", mesh.to_vec());
    let cns = get_json(&c, &["get", "caliconodestatuses.crd.projectcalico.org", "k8s-1"]);
    assert_eq!(cns["status"]["bgp"]["numberEstablishedV4"], 2);
    assert_eq!(cns["status"]["bgp"]["numberNotEstablishedV4"], 0);
    assert_eq!(cns["status"]["agent"]["birdV4"]["state"], "Ready");
    assert!(cns["status"]["lastUpdated"].as_str().is_some_and(|t| t.len() == 20 && t.ends_with('Z')), "{cns}");
    for peer in cns["status"]["bgp"]["peersV4"].as_array().unwrap() {
        let since = peer["since"].as_str().unwrap();
        assert!(since.len() == 8 && since.matches(':').count() == 2, "since is HH:MM:SS: {peer}");
    }

    // The switch answers only to its own AS (7675): a wrong AS stays Active, the right one establishes.
    c.load_yaml(
        "apiVersion: crd.projectcalico.org/v1\nkind: BGPPeer\nmetadata: {name: tor}\n\
         spec: {peerIP: 172.31.13.116, asNumber: 65000}\n",
    );
    let with_switch = |state: &str| {
        let mut rows = vec![row("172.31.13.116", "GlobalPeer", state)];
        rows.extend(mesh.iter().cloned());
        rows
    };
    wait_peers(&c, "k8s-1", "the switch peer with a wrong AS is Active", with_switch("Active"));
    c.kubectl_ok(&[
        "patch",
        "bgppeers.crd.projectcalico.org",
        "tor",
        "--type=merge",
        "-p",
        r#"{"spec":{"asNumber":7675}}"#,
    ]);
    wait_peers(&c, "k8s-1", "the switch peer with AS 7675 is Established", with_switch("Established"));

    // VXLAN backend: no BIRD, so no sessions.
    c.kubectl_ok(&[
        "patch",
        "configmap",
        "-n",
        "kube-system",
        "calico-config",
        "--type=merge",
        "-p",
        r#"{"data":{"calico_backend":"vxlan"}}"#,
    ]);
    wait_peers(&c, "k8s-1", "no sessions once the backend is vxlan", vec![]);
    let cns = get_json(&c, &["get", "caliconodestatuses.crd.projectcalico.org", "k8s-1"]);
    assert_eq!(cns["status"]["agent"]["birdV4"]["state"], "NotReady");
}

#[test]
fn data_and_stand_in_survive_an_api_server_restart() {
    let mut c = start_with("assets/demo-cluster.yaml");
    c.start_stand_in();
    c.kubectl_ok(&["label", "node", "k8s-2", "route-reflector=true"]);
    c.stop_apiserver();
    assert!(!c.kubectl(&["get", "nodes", "--request-timeout=2s"]).status.success(), "the API server is down");
    let failed = c.stand_in_failed_ticks();
    wait_until("a stand-in tick fails while the API server is down", TIMEOUT, || c.stand_in_failed_ticks() > failed);
    c.start_apiserver();
    let labels = c.kubectl_ok(&["get", "node", "k8s-2", "-o", "jsonpath={.metadata.labels.route-reflector}"]);
    assert_eq!(labels, "true");
    c.load_yaml(
        "apiVersion: crd.projectcalico.org/v1\nkind: CalicoNodeStatus\nmetadata: {name: k8s-3}\n\
         spec: {node: k8s-3, classes: [BGP], updatePeriodSeconds: 10}\n",
    );
    let mesh = vec![row("172.31.13.27", "NodeMesh", "Established"), row("172.31.13.28", "NodeMesh", "Established")];
    wait_peers(&c, "k8s-3", "the stand-in reports again after the restart", mesh);
}

#[test]
fn audit_log_separates_viewer_reads_from_admin_writes() {
    let c = start_with("assets/demo-cluster.yaml");
    c.load_yaml(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: node-reader}\n\
         rules:\n- {apiGroups: [''], resources: [nodes], verbs: [get, list, watch]}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: viewer-node-reader}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-reader}\n\
         subjects:\n- {apiGroup: rbac.authorization.k8s.io, kind: User, name: viewer}\n",
    );
    let viewer = c.kubeconfig_viewer();
    let out = c.kubectl_with(&viewer, &["get", "nodes", "-o", "name"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    assert!(c.audit_requests_by("viewer") > 0, "the viewer's requests are audited");
    assert_eq!(c.audit_writes_by("viewer"), Vec::<String>::new());

    c.kubectl_ok(&["label", "node", "k8s-1", "audited=yes"]);
    let admin = c.audit_writes_by("admin");
    assert!(admin.iter().any(|w| w.starts_with("PATCH /api/v1/nodes/k8s-1")), "{admin:#?}");

    // A write the viewer may not make is refused, and still shows up as a write attempt.
    let out = c.kubectl_with(&viewer, &["label", "node", "k8s-1", "sneaky=yes"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("forbidden"), "{}", String::from_utf8_lossy(&out.stderr));
    let writes = c.audit_writes_by("viewer");
    assert!(writes.iter().any(|w| w.starts_with("PATCH /api/v1/nodes/k8s-1")), "{writes:#?}");
}

#[test]
fn creates_5000_nodes() {
    let c = TestCluster::start();
    let t = Instant::now();
    c.create_nodes(5000);
    eprintln!("create_nodes(5000): {:?}", t.elapsed());
    let names = c.kubectl_ok(&["get", "nodes", "-o", "name"]);
    assert_eq!(names.lines().count(), 5000);
    let node = get_json(&c, &["get", "node", "node-05000"]);
    assert_eq!(node["metadata"]["annotations"]["projectcalico.org/IPv4Address"], "10.0.19.146/16");
    assert_eq!(node["metadata"]["labels"]["topology.kubernetes.io/zone"], "zone-d");
    assert_eq!(node["status"]["addresses"][0], json!({"type": "InternalIP", "address": "10.0.19.146"}));
    let first = get_json(&c, &["get", "node", "node-00003"]);
    assert_eq!(first["metadata"]["labels"]["node-role.kubernetes.io/control-plane"], "");
    let fourth = get_json(&c, &["get", "node", "node-00004"]);
    assert!(fourth["metadata"]["labels"].get("node-role.kubernetes.io/control-plane").is_none());
}

/// A throw-away network namespace with only its loopback up; deleted on drop.
struct Netns(String);

impl Netns {
    fn new(name: &str) -> Netns {
        let ip = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().expect("run ip");
            assert!(out.status.success(), "ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
        };
        ip(&["netns", "add", name]);
        let ns = Netns(name.to_string());
        ip(&["-n", name, "link", "set", "lo", "up"]);
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

#[test]
fn cluster_in_a_network_namespace_serves_the_lab_fixture_there_only() {
    let ns = Netns::new(&format!("kube-harness-{}", std::process::id()));
    let c = TestCluster::start_in_netns(&ns.0);
    assert_eq!(c.netns(), Some(ns.0.as_str()));
    c.load_fixture(&project_file("tests/fixtures/lab-cluster.yaml"));
    assert_eq!(c.kubectl_ok(&["get", "nodes", "-o", "name"]), "node/k8s-1\nnode/k8s-2\nnode/k8s-3\n");
    let reflectors = c.kubectl_ok(&["get", "nodes", "-l", "route-reflector=true", "-o", "name"]);
    assert_eq!(reflectors, "node/k8s-1\nnode/k8s-2\n");
    let peers = c.kubectl_ok(&["get", "bgppeers.crd.projectcalico.org", "-o", "name"]);
    assert_eq!(peers, "bgppeer.crd.projectcalico.org/peer-to-rrs\nbgppeer.crd.projectcalico.org/peer-to-switch\n");

    // The server listens on the namespace's loopback: the same address from the host finds nothing.
    let readyz = |mut cmd: Command| {
        let out = cmd
            .args(["-sk", "--noproxy", "*", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("{}/readyz", c.server_url()))
            .output()
            .expect("run curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(readyz(c.command(Path::new("curl"))), "200", "inside: the server answers");
    assert_eq!(readyz(Command::new("curl")), "000", "outside: nothing answers on the host's loopback");
}
