//! Who may do what against a real kube-apiserver: a user bound to the printed read-only ClusterRole
//! runs `status`, `detect`, `plan` and walks the wizard up to Preview, and the API server's audit
//! log proves no write request was sent; a 403 names the verb and resource; an unreachable server,
//! refused credentials and a cluster without Calico each get a clear message. Also the operator
//! install (Installation changed, not only the pool) and an already configured cluster (empty plan).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use calico_bgp_wizard::app::{App, Mode, Msg, Screen};
use calico_bgp_wizard::backend::Backend;
use calico_bgp_wizard::kube::{KubeBackend, KubeconfigSource};
use calico_bgp_wizard::worker::Worker;
use common::cluster::TestCluster;
use common::wizard::{DEMO_PLAN, text};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;

fn wizard(kubeconfig: &Path, state: &Path, args: &[&str]) -> Output {
    common::wizard::command(kubeconfig, state, args).output().unwrap()
}

fn demo_cluster() -> TestCluster {
    let c = TestCluster::start();
    c.load_fixture(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-cluster.yaml"));
    c
}

fn key(app: &mut App, code: KeyCode) -> Vec<calico_bgp_wizard::app::Cmd> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// Feed worker messages (and ticks) into the app for `d`, or until `done`.
async fn pump(
    app: &mut App,
    worker: &Worker,
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    started: Instant,
    d: Duration,
    done: impl Fn(&App) -> bool,
) {
    let deadline = Instant::now() + d;
    while !done(app) && Instant::now() < deadline {
        let msg = tokio::select! {
            m = rx.recv() => m.expect("worker channel open"),
            _ = tokio::time::sleep(Duration::from_millis(100)) => Msg::Tick(started.elapsed()),
        };
        for cmd in app.update(msg) {
            worker.handle(cmd);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_user_walks_to_preview_and_sends_no_write() {
    let c = demo_cluster();
    let state = tempfile::tempdir().unwrap();
    // The printed read-only ClusterRole, bound to the viewer.
    let roles = wizard(&c.kubeconfig_admin(), state.path(), &["rbac"]);
    assert!(roles.status.success());
    let roles_file = state.path().join("roles.yaml");
    std::fs::write(&roles_file, &roles.stdout).unwrap();
    c.kubectl_ok(&["apply", "-f", roles_file.to_str().unwrap()]);
    c.kubectl_ok(&[
        "create",
        "clusterrolebinding",
        "viewer-ro",
        "--clusterrole=calico-bgp-wizard-read-only",
        "--user=viewer",
    ]);
    let viewer = c.kubeconfig_viewer();

    let out = wizard(&viewer, state.path(), &["detect"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("nodes:       3"), "{}", text(&out.stdout));
    let out = wizard(&viewer, state.path(), &DEMO_PLAN);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = wizard(&viewer, state.path(), &["status", "--once"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "no session can be read here: {err}");
    assert!(err.contains("no CalicoNodeStatus object exists") && err.contains("status --exec"), "{err}");

    // The wizard itself, up to Preview, with the real App and Worker.
    let backend = KubeBackend::connect(&KubeconfigSource::Flag(viewer.clone()), None).await.unwrap();
    let backend = Arc::new(Backend::Kube(backend));
    let started = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let worker = Worker::new(backend, tx, started, false);
    let mut app = App::new(Mode::Wizard, false);
    for cmd in app.init() {
        worker.handle(cmd);
    }
    pump(&mut app, &worker, &mut rx, started, Duration::from_secs(30), |a| a.facts.is_some()).await;
    assert!(app.facts.is_some(), "detection failed: {:?}", app.detect_error);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    for ch in "172.31.13.116".chars() {
        key(&mut app, KeyCode::Char(ch));
    }
    key(&mut app, KeyCode::Tab);
    for ch in "7675".chars() {
        key(&mut app, KeyCode::Char(ch));
    }
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('y'));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Preview);
    assert!(
        app.preview.plan.as_ref().is_some_and(|p| p.steps.len() == 6),
        "{:?}",
        app.preview.plan.as_ref().map(|p| p.steps.len())
    );
    // Stay on Preview a while: nothing in the background may write.
    pump(&mut app, &worker, &mut rx, started, Duration::from_secs(2), |_| false).await;

    // The dashboard as the viewer, a few refreshes.
    let mut dash = App::new(Mode::Dashboard, false);
    for cmd in dash.init() {
        worker.handle(cmd);
    }
    pump(&mut dash, &worker, &mut rx, started, Duration::from_secs(3), |_| false).await;

    assert!(c.audit_requests_by("viewer") > 10, "the viewer's requests are in the audit log");
    assert_eq!(c.audit_writes_by("viewer"), Vec::<String>::new(), "no write request by the read-only user");

    // A write attempt by that user is refused with the verb and the resource named.
    let dir = state.path().join("plan-dir");
    let mut args = DEMO_PLAN.to_vec();
    args.extend(["-o", "dir", "--dir", dir.to_str().unwrap()]);
    assert!(wizard(&viewer, state.path(), &args).status.success());
    let out = wizard(&viewer, state.path(), &["apply", dir.to_str().unwrap(), "--yes"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}\n{stderr}", text(&out.stdout));
    assert!(stderr.contains("permission denied: cannot apply bgppeers.crd.projectcalico.org"), "{stderr}");
    assert!(stderr.contains("calico-bgp-wizard rbac"), "{stderr}");
}

#[test]
fn operator_install_changes_the_installation_and_rolls_back() {
    let mut c = TestCluster::start();
    c.load_fixture(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/operator.yaml"));
    c.start_stand_in();
    let state = tempfile::tempdir().unwrap();
    let admin = c.kubeconfig_admin();
    let before = c.kubectl_ok(&["get", "installations.operator.tigera.io", "default", "-o", "jsonpath={.spec}"]);
    let dir = state.path().join("plan");
    let mut args = DEMO_PLAN.to_vec();
    args.extend(["-o", "dir", "--dir", dir.to_str().unwrap()]);
    let out = wizard(&admin, state.path(), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let readme = std::fs::read_to_string(dir.join("README.txt")).unwrap();
    assert!(readme.contains("v1.34"), "the operator caveat is in the plan");
    let out = wizard(&admin, state.path(), &["apply", dir.to_str().unwrap(), "--yes"]);
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
    let pools = c.kubectl_ok(&["get", "installations.operator.tigera.io", "default", "-o", "jsonpath={.spec.calicoNetwork.ipPools[0].encapsulation} {.spec.calicoNetwork.ipPools[0].natOutgoing} {.spec.calicoNetwork.bgp}"]);
    assert_eq!(pools, "None Disabled Enabled");
    let pool = c.kubectl_ok(&[
        "get",
        "ippools.crd.projectcalico.org",
        "default-ipv4-ippool",
        "-o",
        "jsonpath={.spec.ipipMode} {.spec.natOutgoing}",
    ]);
    assert_eq!(pool, "Never false");
    let out = wizard(&admin, state.path(), &["rollback", "--yes"]);
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
    let after = c.kubectl_ok(&["get", "installations.operator.tigera.io", "default", "-o", "jsonpath={.spec}"]);
    assert_eq!(before, after);
}

#[test]
fn an_already_configured_cluster_gets_an_empty_plan() {
    let c = TestCluster::start();
    c.load_fixture(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/configured.yaml"));
    let state = tempfile::tempdir().unwrap();
    let mut args = DEMO_PLAN.to_vec();
    args.extend(["-o", "json"]);
    let out = wizard(&c.kubeconfig_admin(), state.path(), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["steps"].as_array().map(Vec::len), Some(0), "{}", text(&out.stdout));
}

/// A kubeconfig for `server` with `token`.
fn kubeconfig(dir: &Path, server: &str, token: &str) -> PathBuf {
    let p = dir.join(format!("kc-{}", token.len()));
    std::fs::write(
        &p,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: {server}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: {token}\ncontexts:\n- name: ctx\n  context: {{cluster: t, user: u}}\ncurrent-context: ctx\n"
        ),
    )
    .unwrap();
    p
}

#[test]
fn connection_problems_get_clear_messages() {
    let state = tempfile::tempdir().unwrap();
    // Nothing listens on this port (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let kc = kubeconfig(state.path(), &format!("https://127.0.0.1:{port}"), "x");
    let out = wizard(&kc, state.path(), &["detect"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains(&format!("cannot reach the API server at https://127.0.0.1:{port}")), "{stderr}");
    assert!(stderr.contains("'ctx'"), "{stderr}");

    let c = TestCluster::start();
    let kc = kubeconfig(state.path(), &c.server_url(), "expired-or-wrong-token");
    let out = wizard(&kc, state.path(), &["detect"]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("refused the credentials") && stderr.contains("401"), "{stderr}");

    let out = wizard(&c.kubeconfig_admin(), state.path(), &["detect", "--context", "nope"]);
    assert!(text(&out.stderr).contains("context 'nope' is not in the kubeconfig"), "{}", text(&out.stderr));
}

#[test]
fn a_cluster_without_calico_is_named_as_such() {
    let c = TestCluster::start();
    // The harness installs Calico's CRDs; remove them to get a cluster without Calico.
    c.kubectl_ok(&["delete", "crd", "-l", "!nonexistent-label", "--wait=true"]);
    let state = tempfile::tempdir().unwrap();
    let out = wizard(&c.kubeconfig_admin(), state.path(), &["detect"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("Calico is not installed on this cluster"), "{stderr}");
}
