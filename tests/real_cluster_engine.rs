//! The apply engine's edges against a real kube-apiserver: detection across several pages of nodes,
//! a field the CRD schema prunes is caught by the read-back, a process killed in the middle of a
//! step is resumed, `apply` asks before writing, and the service CIDR comes from kubeadm's config.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use calico_bgp_wizard::app::{Cmd, Msg, StepEvent};
use calico_bgp_wizard::backend::Backend;
use calico_bgp_wizard::domain::facts;
use calico_bgp_wizard::domain::objects::{Kind, ObjectRef};
use calico_bgp_wizard::kube::{KubeBackend, KubeconfigSource};
use calico_bgp_wizard::plan::{Change, Op, Step, StepKind, Verification};
use calico_bgp_wizard::worker::Worker;
use common::cluster::TestCluster;
use common::wizard::{DEMO_PLAN, Held, text};
use serde_json::json;
use tokio::sync::mpsc;

fn wizard(kubeconfig: &Path, state: &Path, args: &[&str]) -> Command {
    common::wizard::command(kubeconfig, state, args)
}

/// `plan -o dir` of the demo walkthrough (with `reflectors`) into `<state>/plan`.
fn plan_dir(kc: &Path, state: &Path, reflectors: &str) -> std::path::PathBuf {
    let dir = state.join("plan");
    let mut args = DEMO_PLAN.to_vec();
    args[6] = reflectors;
    args.extend(["-o", "dir", "--dir", dir.to_str().unwrap()]);
    let plan = wizard(kc, state, &args).output().unwrap();
    assert!(plan.status.success(), "{}", text(&plan.stderr));
    dir
}

async fn kube(c: &TestCluster) -> Backend {
    Backend::Kube(KubeBackend::connect(&KubeconfigSource::Flag(c.kubeconfig_admin()), None).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detection_reads_every_page_of_nodes() {
    let c = TestCluster::start();
    c.load_fixture(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-cluster.yaml"));
    // Pages of 1000 nodes: five requests, the last one short.
    c.create_nodes(4321);
    let Backend::Kube(mut k) = kube(&c).await else { unreachable!() };
    k.node_page = 1000;
    let set = k.detect().await.unwrap();
    let audit = std::fs::read_to_string(c.dir().join("audit.log")).unwrap();
    let pages =
        audit.lines().filter(|l| l.contains("\"ResponseComplete\"") && l.contains("/api/v1/nodes?limit=1000")).count();
    assert_eq!(pages, 5, "4,324 nodes in pages of 1,000");
    let f = facts::detect(&set);
    assert_eq!(f.nodes.len(), 4321 + 3);
    let n = f.nodes.iter().find(|n| n.name == "node-04321").unwrap();
    assert!(n.calico_ipv4.is_some() && n.internal_ip.is_some() && n.zone.is_some(), "{n:?}");
    assert_eq!(set.meta.kubernetes_version, "v1.20.2");
    assert_eq!(set.meta.calico_api, "crd.projectcalico.org/v1 (CRDs only)");
}

/// Run one step through the real worker; Ok(()) when it is done, Err(message) when it failed.
async fn run_one(backend: Arc<Backend>, step: Step) -> Result<(), String> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let worker = Worker::new(backend, tx, Instant::now(), false);
    worker.handle(Cmd::RunStep { idx: 0, step });
    loop {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.expect("the step ends") {
            Some(Msg::Step(StepEvent::Failed { error, .. })) => return Err(error),
            Some(Msg::Step(StepEvent::Done { .. })) => return Ok(()),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_the_crd_schema_does_not_know_never_passes_silently() {
    let c = TestCluster::start();
    c.load_fixture(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-cluster.yaml"));
    let backend = Arc::new(kube(&c).await);
    let object = ObjectRef::cluster(Kind::BgpConfiguration, "default");
    let misspelled = json!({"spec": {"nodeToNodeMeshEnable": false}});

    // Server-side apply refuses a field the schema does not declare, and says what it means.
    let after = json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPConfiguration",
        "metadata": {"name": "default"}, "spec": {"nodeToNodeMeshEnable": false}});
    let step = |op: Op, before: Option<serde_json::Value>, after: serde_json::Value| Step {
        kind: StepKind::DisableMesh,
        title: "Turn off the node-to-node mesh (misspelled)".into(),
        why: String::new(),
        changes: vec![Change { object: object.clone(), op, before, after, v3: None }],
        verify: vec![Verification::Fields { object: object.clone(), expect: misspelled.clone() }],
        undo: String::new(),
    };
    let error = run_one(backend.clone(), step(Op::Create, None, after)).await.unwrap_err();
    assert!(error.contains("nodeToNodeMeshEnable") && error.contains("do not know this field"), "{error}");

    // A merge patch (the path for changes that remove a field) is accepted and the field pruned:
    // the read-back catches it.
    let existing = json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPConfiguration",
        "metadata": {"name": "default"}, "spec": {"logSeverityScreen": "Info"}});
    let file = c.dir().join("bgpconfig.json");
    std::fs::write(&file, existing.to_string()).unwrap();
    c.kubectl_ok(&["create", "-f", file.to_str().unwrap()]);
    let patch = json!({"spec": {"nodeToNodeMeshEnable": false, "logSeverityScreen": null}});
    let mut after = existing.clone();
    json_patch::merge(&mut after, &patch);
    let error = run_one(backend, step(Op::MergePatch(patch), Some(existing), after)).await.unwrap_err();
    assert!(error.contains("/spec/nodeToNodeMeshEnable") && error.contains("pruned"), "{error}");
}

#[test]
fn a_killed_process_is_resumed() {
    let mut c = TestCluster::start();
    c.load_fixture(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-cluster.yaml"));
    c.start_stand_in();
    let state = tempfile::tempdir().unwrap();
    let kc = c.kubeconfig_admin();
    let dir = plan_dir(&kc, state.path(), "k8s-1,k8s-2");
    // Killed (SIGKILL, like a dropped SSH session's process) right after step 3's first write.
    let apply = wizard(&kc, state.path(), &["apply", dir.to_str().unwrap(), "--yes"]);
    Held::start(apply, "during:3", state.path()).kill();
    assert_eq!(c.kubectl_ok(&["get", "node", "k8s-2", "-o", "jsonpath={.metadata.labels.route-reflector}"]), "true");
    // Another apply is refused while that run is open.
    let again = wizard(&kc, state.path(), &["apply", dir.to_str().unwrap(), "--yes"]).output().unwrap();
    assert_ne!(again.status.code(), Some(0));
    assert!(text(&again.stderr).contains("interrupted after 2 of 6 steps"), "{}", text(&again.stderr));
    let out = wizard(&kc, state.path(), &["resume", "--yes"]).output().unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("[3/6]") && stdout.contains("complete"), "{stdout}");
    assert_eq!(
        c.kubectl_ok(&[
            "get",
            "bgpconfigurations.crd.projectcalico.org",
            "default",
            "-o",
            "jsonpath={.spec.nodeToNodeMeshEnabled}"
        ]),
        "false"
    );
}

#[test]
fn apply_asks_before_writing() {
    let c = TestCluster::start();
    c.load_fixture(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-cluster.yaml"));
    let state = tempfile::tempdir().unwrap();
    let kc = c.kubeconfig_admin();
    let dir = plan_dir(&kc, state.path(), "k8s-1");
    let mut child = wizard(&kc, state.path(), &["apply", dir.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("Apply these steps now? [y/N]") && stdout.contains("Nothing was changed."), "{stdout}");
    assert!(c.kubectl(&["get", "bgppeers.crd.projectcalico.org", "rr-peer"]).status.code() != Some(0));
}

#[test]
fn the_service_cidr_comes_from_kubeadm_config() {
    let c = TestCluster::start();
    c.load_fixture(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-cluster.yaml"));
    c.kubectl_ok(&["-n", "kube-system", "create", "configmap", "kubeadm-config", "--from-literal=ClusterConfiguration=apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  serviceSubnet: 10.96.0.0/12\n  podSubnet: 172.27.208.0/22\n"]);
    let state = tempfile::tempdir().unwrap();
    let out = wizard(&c.kubeconfig_admin(), state.path(), &["detect", "-o", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["service_cidrs"], json!(["10.96.0.0/12"]), "{v}");
}
