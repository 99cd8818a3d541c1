//! A real Kubernetes API server for integration tests: kube-apiserver v1.20.2 and etcd on loopback,
//! with Calico v3.23.3's CRDs and the operator's Installation CRD, following
//! `../shared/reference/test-cluster.md`. Run `bash tests/cluster/install.sh` once to get the binaries.
//!
//! Each [`TestCluster`] owns a temporary directory (certificates, etcd data, kubeconfigs, logs, the
//! audit log) and its own free ports, so test binaries and tests can run side by side. Both daemons
//! run under a small shell watchdog that kills them as soon as the test process goes away, even
//! when it is killed outright.
//!
//! [`TestCluster::start_in_netns`] runs the same inside a network namespace (whose loopback is
//! up): etcd, the API server, curl and kubectl all run through `ip netns exec <ns>`, and so can the
//! binary under test ([`TestCluster::command`]), like on a real control-plane node of the BGP lab.
//!
//! Only the API server and etcd run: no kubelet, no DaemonSet controller, no calico-node. The
//! **controller stand-in** ([`TestCluster::start_stand_in`]) is a stand-in for kubelet, the DaemonSet
//! controller and calico-node's status reporter, used because none of them can run here. It is a
//! thread that, every 200 ms, marks DaemonSet rollouts in `kube-system`/`calico-system` as complete
//! (one tick after it sees a new generation) and fills every `CalicoNodeStatus` with the BGP
//! sessions the crate's topology derives from the cluster's objects, as calico-node would report
//! them: sessions between nodes are Established; a session to the lab switch
//! ([`calico_bgp_wizard::demo::SWITCH_IP`]) is Established only when the node expects the switch's
//! AS ([`calico_bgp_wizard::demo::SWITCH_AS`]), else Active (BIRD: "Bad peer AS"); any other peer
//! is Active (nobody answers). Live BGP itself is tested against the BIRD lab, not here.

#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::io::Write;
use std::net::{IpAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use calico_bgp_wizard::demo::{SWITCH_AS, SWITCH_IP};
use calico_bgp_wizard::domain::objects::{Kind, ObjectSet, parse_yaml_objects};
use calico_bgp_wizard::status::model::PeerType;
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "admintoken";
const VIEWER_TOKEN: &str = "viewtoken";
/// How long the API server may take to become ready, and the CRDs to be Established. The server
/// needs about 4 s of CPU to start; with several test clusters on 2 cores that took up to 15 s.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const WRITE_VERBS: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];
/// Runs `"$@"` and kills it (SIGKILL) when our end of its stdin closes: on stop, drop, or when the
/// test process dies. Exits with the daemon's status when the daemon exits on its own.
const WATCHDOG: &str = r#"exec 3<&0; "$@" </dev/null 3<&- & pid=$!; { read -r _ <&3; kill -9 $pid; } & wait $pid"#;

/// Poll `f` every 50 ms until it returns true; panic naming `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, f: impl FnMut() -> bool) {
    wait_for(what, timeout, f, |ok| *ok);
}

/// Poll `probe` every 50 ms until `done` accepts its value, and return that value; after
/// `timeout`, panic naming `what` and showing the last value.
pub fn wait_for<T: std::fmt::Debug>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> T,
    mut done: impl FnMut(&T) -> bool,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let value = probe();
        if done(&value) {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting until {what}; last seen: {value:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `<shared>/<rel>`, where `<shared>` is the team's shared folder with Calico's CRDs (never copied
/// into the project): `$CALICO_BGP_WIZARD_SHARED`, else a `shared/` folder beside the project or
/// beside one of its parent folders (a CI checkout may live elsewhere), else `/work/shared`.
pub fn shared_path(rel: &str) -> PathBuf {
    let probe = "calico/v3.23.3/crds.yaml";
    let mut candidates: Vec<PathBuf> =
        std::env::var_os("CALICO_BGP_WIZARD_SHARED").map(PathBuf::from).into_iter().collect();
    candidates.extend(Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().map(|a| a.join("shared")));
    candidates.push(PathBuf::from("/work/shared"));
    match candidates.iter().find(|c| c.join(probe).is_file()) {
        Some(dir) => dir.join(rel),
        None => panic!(
            "Calico's CRDs ({probe}) were not found in the shared folder (tried {}); set CALICO_BGP_WIZARD_SHARED to the folder that holds calico/",
            candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn kube_apiserver_binary() -> PathBuf {
    let path = match std::env::var_os("KUBE_APISERVER") {
        Some(p) => PathBuf::from(p),
        None => {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
                .expect("neither XDG_CACHE_HOME nor HOME is set");
            cache.join("calico-bgp-wizard/kube-apiserver-v1.20.2")
        }
    };
    assert!(
        path.is_file(),
        "kube-apiserver not found at {}: run `bash tests/cluster/install.sh` first (or set KUBE_APISERVER)",
        path.display()
    );
    path
}

/// `program`, run inside network namespace `netns` (`ip netns exec <netns> <program>`) when set.
fn command_in(netns: Option<&str>, program: impl AsRef<OsStr>) -> Command {
    match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// A port that is free on the host's loopback (a fresh namespace's loopback has every port free).
fn free_port() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0")
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A daemon under [`WATCHDOG`], its output in `<dir>/<name>.log`.
struct Daemon {
    child: Child,
    stdin: Option<ChildStdin>,
    log: PathBuf,
}

impl Daemon {
    /// `ip netns exec` replaces itself with `program`, so the watchdog's PID is the daemon's.
    fn spawn(dir: &Path, name: &str, netns: Option<&str>, program: &Path, args: &[String]) -> Daemon {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("open log");
        let mut child = Command::new("bash")
            .args(["-c", WATCHDOG, "watchdog"])
            .args(netns.into_iter().flat_map(|ns| ["ip", "netns", "exec", ns]))
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(out.try_clone().expect("clone log"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()));
        let stdin = child.stdin.take();
        Daemon { child, stdin, log }
    }
    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
    fn stop(&mut self) {
        self.stdin.take();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Raw HTTPS requests to the API server through curl (tests have no TLS client of their own),
/// run in the server's network namespace.
#[derive(Clone)]
struct Api {
    server: String,
    token: String,
    netns: Option<String>,
}

impl Api {
    /// `method path` with an optional JSON body (merge patch for PATCH): the HTTP status (0: no
    /// answer at all) and the body.
    fn raw(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
        let mut cmd = command_in(self.netns.as_deref(), "curl");
        cmd.args(["-sk", "--noproxy", "*", "--max-time", "20", "-w", "\n%{http_code}", "-X", method])
            .arg("-H")
            .arg(format!("Authorization: Bearer {}", self.token))
            .arg(format!("{}{path}", self.server))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if body.is_some() {
            let ctype = if method == "PATCH" { "application/merge-patch+json" } else { "application/json" };
            cmd.arg("-H").arg(format!("Content-Type: {ctype}")).args(["--data-binary", "@-"]);
        }
        let Ok(mut child) = cmd.spawn() else { return (0, "cannot run curl".into()) };
        let mut stdin = child.stdin.take().expect("stdin");
        let payload = body.map(|b| b.to_string()).unwrap_or_default();
        let writer = std::thread::spawn(move || stdin.write_all(payload.as_bytes()));
        let out = child.wait_with_output();
        let _ = writer.join();
        let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
        (code.trim().parse().unwrap_or(0), body.to_string())
    }
    /// Like [`Self::raw`], the parsed JSON answer on 2xx, else `Err((status, body))`.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, (u16, String)> {
        let (code, body) = self.raw(method, path, body);
        if !(200..300).contains(&code) {
            return Err((code, body));
        }
        serde_json::from_str(&body).map_err(|e| (code, format!("bad JSON: {e}")))
    }
    fn get(&self, path: &str) -> Result<Value, (u16, String)> {
        self.call("GET", path, None)
    }
    fn patch(&self, path: &str, patch: &Value) -> Result<Value, (u16, String)> {
        self.call("PATCH", path, Some(patch))
    }
    /// The items of a list, with `kind` and `apiVersion` set (a raw list leaves them out); an
    /// unknown resource (404: CRD not installed) is an empty list.
    fn list(&self, path: &str, kind: &str, api_version: &str) -> Result<Vec<Value>, (u16, String)> {
        let list = match self.get(path) {
            Err((404, _)) => return Ok(Vec::new()),
            other => other?,
        };
        let mut items = match list.get("items") {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        };
        for item in &mut items {
            item["kind"] = json!(kind);
            item["apiVersion"] = json!(api_version);
        }
        Ok(items)
    }
}

/// `/api/v1/...` or `/apis/<group>/<version>/...` of an object known to the crate.
fn object_path(obj: &Value) -> Option<String> {
    let kind = Kind::from_kind_name(obj.get("kind")?.as_str()?)?;
    let api_version = obj.get("apiVersion")?.as_str()?;
    let meta = obj.get("metadata")?;
    let root = if api_version == "v1" { "/api/v1".to_string() } else { format!("/apis/{api_version}") };
    let ns = meta.get("namespace").and_then(Value::as_str).map(|ns| format!("/namespaces/{ns}")).unwrap_or_default();
    Some(format!("{root}{ns}/{}/{}", kind.plural(), meta.get("name")?.as_str()?))
}

struct StandIn {
    stop: Arc<AtomicBool>,
    failed_ticks: Arc<AtomicU64>,
    handle: JoinHandle<()>,
}

/// kube-apiserver v1.20.2 + etcd on loopback, with Calico's CRDs installed. Dropping it stops
/// everything and deletes its directory.
pub struct TestCluster {
    /// The network namespace everything runs in (`None`: the host's).
    netns: Option<String>,
    stand_in: Option<StandIn>,
    apiserver: Option<Daemon>,
    etcd: Daemon,
    api_port: u16,
    apiserver_args: Vec<String>,
    /// etcd's data directory when on /dev/shm (else it is in `dir`).
    etcd_dir: Option<tempfile::TempDir>,
    dir: tempfile::TempDir,
}

impl TestCluster {
    /// Start etcd and the API server, wait until `/readyz` answers 200, write the kubeconfigs and
    /// install the CRDs (waiting until they are Established).
    pub fn start() -> TestCluster {
        TestCluster::start_with(None)
    }

    /// [`Self::start`] inside network namespace `ns` (which must exist, with its loopback up):
    /// every process of the fixture runs through `ip netns exec <ns>`, so the server is reachable
    /// on the namespace's loopback only. Needs root.
    pub fn start_in_netns(ns: &str) -> TestCluster {
        TestCluster::start_with(Some(ns.to_string()))
    }

    fn start_with(netns: Option<String>) -> TestCluster {
        let apiserver_bin = kube_apiserver_binary();
        let dir = tempfile::Builder::new().prefix("kube-test-").tempdir().expect("tempdir");
        let d = dir.path().to_path_buf();
        let ps = |p: &Path| p.display().to_string();
        let (l1, l2, l3) = (free_port(), free_port(), free_port());
        let [etcd_port, peer_port, api_port] = [&l1, &l2, &l3].map(|l| l.local_addr().unwrap().port());
        drop((l1, l2, l3));

        std::fs::write(
            d.join("tokens.csv"),
            format!("{ADMIN_TOKEN},admin,admin,system:masters\n{VIEWER_TOKEN},viewer,viewer,\n"),
        )
        .unwrap();
        std::fs::write(
            d.join("audit-policy.yaml"),
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n",
        )
        .unwrap();
        let out = Command::new("openssl").args(["genrsa", "-out"]).arg(d.join("sa.key")).arg("2048").output();
        assert!(out.as_ref().is_ok_and(|o| o.status.success()), "openssl genrsa failed: {out:?}");

        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        // etcd's data on tmpfs when there is one: no fsync cost, so bulk creates are faster.
        let etcd_dir = Path::new("/dev/shm")
            .is_dir()
            .then(|| tempfile::Builder::new().prefix("kube-test-etcd-").tempdir_in("/dev/shm").ok())
            .flatten();
        let etcd_args = [
            "--data-dir".into(),
            ps(&etcd_dir.as_ref().map_or(d.as_path(), |e| e.path()).join("etcd")),
            "--listen-client-urls".into(),
            etcd_url.clone(),
            "--advertise-client-urls".into(),
            etcd_url.clone(),
            "--listen-peer-urls".into(),
            peer_url.clone(),
            "--initial-advertise-peer-urls".into(),
            peer_url.clone(),
            "--initial-cluster".into(),
            format!("default={peer_url}"),
        ];
        let etcd = Daemon::spawn(&d, "etcd", netns.as_deref(), Path::new("etcd"), &etcd_args);
        let apiserver_args: Vec<String> = vec![
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".into(),
            format!("--secure-port={api_port}"),
            format!("--cert-dir={}", ps(&d.join("certs"))),
            format!("--token-auth-file={}", ps(&d.join("tokens.csv"))),
            "--authorization-mode=RBAC".into(),
            "--service-account-issuer=https://kubernetes.default.svc".into(),
            format!("--service-account-key-file={}", ps(&d.join("sa.key"))),
            format!("--service-account-signing-key-file={}", ps(&d.join("sa.key"))),
            "--service-cluster-ip-range=10.96.0.0/12".into(),
            "--disable-admission-plugins=ServiceAccount".into(),
            "--allow-privileged=true".into(),
            format!("--audit-log-path={}", ps(&d.join("audit.log"))),
            format!("--audit-policy-file={}", ps(&d.join("audit-policy.yaml"))),
        ];
        let mut apiserver_args = apiserver_args;
        if netns.is_some() {
            // A namespace has no default route, from which the server would pick the address it
            // advertises (for the `kubernetes` Service's endpoints), so it refuses to start.
            apiserver_args.push("--advertise-address=127.0.0.1".into());
        }
        let mut c =
            TestCluster { netns, stand_in: None, apiserver: None, etcd, api_port, apiserver_args, etcd_dir, dir };
        let etcd_api = Api { server: etcd_url.clone(), token: String::new(), netns: c.netns.clone() };
        wait_until("etcd answers /health", STARTUP_TIMEOUT, || {
            if let Some(status) = c.etcd.exited() {
                panic!("etcd exited ({status}); its log ends with:\n{}", tail(&c.etcd.log, 20));
            }
            etcd_api.raw("GET", "/health", None).0 == 200
        });
        let started = Instant::now();
        c.apiserver = Some(Daemon::spawn(&d, "kube-apiserver", c.netns(), &apiserver_bin, &c.apiserver_args));
        c.wait_ready();
        let ready = started.elapsed();
        for (user, token) in [("admin", ADMIN_TOKEN), ("viewer", VIEWER_TOKEN)] {
            let kubeconfig = format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    \
                 insecure-skip-tls-verify: true\nusers:\n- name: {user}\n  user:\n    token: {token}\n\
                 contexts:\n- name: {user}@test\n  context:\n    cluster: test\n    user: {user}\n\
                 current-context: {user}@test\n",
                c.server_url()
            );
            std::fs::write(d.join(format!("kubeconfig-{user}")), kubeconfig).unwrap();
        }
        c.install_crds();
        let crds = started.elapsed() - ready;
        eprintln!(
            "test cluster {}{} in {}: API server ready in {ready:.1?}, CRDs in {crds:.1?}",
            c.server_url(),
            c.netns().map(|ns| format!(" (network namespace {ns})")).unwrap_or_default(),
            d.display()
        );
        c
    }

    /// POST every CRD (in parallel: much faster than `kubectl create -f`), then wait until all are
    /// Established, i.e. in the API discovery (where kubectl looks them up).
    fn install_crds(&self) {
        let api = self.api();
        let crds = crd_objects();
        std::thread::scope(|s| {
            for crd in &crds {
                let api = &api;
                s.spawn(move || {
                    if let Err(e) =
                        api.call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", Some(crd))
                    {
                        panic!("creating CRD {}: {e:?}", crd["metadata"]["name"]);
                    }
                });
            }
        });
        let mut served: BTreeSet<(String, String)> = BTreeSet::new(); // ("/apis/<group>/<version>", plural)
        for crd in &crds {
            for v in crd["spec"]["versions"].as_array().into_iter().flatten().filter(|v| v["served"] == true) {
                let gv = format!("/apis/{}/{}", crd["spec"]["group"].as_str().unwrap(), v["name"].as_str().unwrap());
                served.insert((gv, crd["spec"]["names"]["plural"].as_str().unwrap().to_string()));
            }
        }
        // Discovery lists a CRD's resource only once the CRD is Established.
        wait_until("the CRDs are Established (in the API discovery)", STARTUP_TIMEOUT, || {
            served.iter().all(|(gv, plural)| {
                api.get(gv)
                    .is_ok_and(|d| d["resources"].as_array().into_iter().flatten().any(|r| r["name"] == **plural))
            })
        });
    }

    fn api(&self) -> Api {
        Api { server: self.server_url(), token: ADMIN_TOKEN.to_string(), netns: self.netns.clone() }
    }

    fn wait_ready(&mut self) {
        let api = self.api();
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if api.raw("GET", "/readyz", None).0 == 200 {
                return;
            }
            let daemon = self.apiserver.as_mut().expect("API server not started");
            let exited = daemon.exited();
            if exited.is_some() || Instant::now() > deadline {
                panic!(
                    "kube-apiserver did not become ready ({}); its log ends with:\n{}\netcd's log ends with:\n{}",
                    exited.map_or(format!("timed out after {STARTUP_TIMEOUT:?}"), |s| format!("exited: {s}")),
                    tail(&daemon.log, 30),
                    tail(&self.etcd.log, 10)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn server_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.api_port)
    }
    /// The network namespace the cluster runs in, if not the host's.
    pub fn netns(&self) -> Option<&str> {
        self.netns.as_deref()
    }
    /// A command that runs `program` where the cluster runs (through `ip netns exec <ns>` when it
    /// has a namespace), so that the cluster's loopback address reaches the server.
    pub fn command(&self, program: &Path) -> Command {
        command_in(self.netns(), program)
    }
    pub fn admin_token(&self) -> &str {
        ADMIN_TOKEN
    }
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
    pub fn kubeconfig_admin(&self) -> PathBuf {
        self.dir().join("kubeconfig-admin")
    }
    pub fn kubeconfig_viewer(&self) -> PathBuf {
        self.dir().join("kubeconfig-viewer")
    }

    /// Run kubectl (env `KUBECTL`, else `kubectl` on PATH) with the given kubeconfig, in the
    /// cluster's network namespace if it has one.
    pub fn kubectl_with(&self, kubeconfig: &Path, args: &[&str]) -> Output {
        let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into());
        command_in(self.netns(), &kubectl)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir().join("kubectl-cache"))
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {kubectl}: {e}"))
    }
    /// kubectl as the admin (system:masters).
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_with(&self.kubeconfig_admin(), args)
    }
    /// kubectl as the admin; panics with its stderr unless it succeeds; returns stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(out.status.success(), "kubectl {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Kill the API server (SIGKILL) and wait for it; etcd keeps running, so the data survives.
    pub fn stop_apiserver(&mut self) {
        if let Some(mut d) = self.apiserver.take() {
            d.stop();
        }
    }
    /// Start the API server again (same port, etcd and certificates) and wait until it is ready.
    pub fn start_apiserver(&mut self) {
        assert!(self.apiserver.is_none(), "the API server is already running");
        let d =
            Daemon::spawn(self.dir(), "kube-apiserver", self.netns(), &kube_apiserver_binary(), &self.apiserver_args);
        self.apiserver = Some(d);
        self.wait_ready();
    }

    /// Load a fixture (multi-document YAML as in `tests/fixtures/`, `assets/demo-cluster.yaml`):
    /// the `ClusterMeta` document is skipped, missing namespaces are created, all objects are
    /// created with one `kubectl create` of a List, then each status that create drops (DaemonSet,
    /// anything with a status subresource) is written through `/status`. Nodes keep the status
    /// they are created with. A DaemonSet status without `observedGeneration` gets the created
    /// generation: a fixture describes a settled cluster.
    pub fn load_fixture(&self, path: &Path) {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        self.load_yaml(&text);
    }

    /// [`Self::load_fixture`] from text: create the objects of a multi-document YAML, statuses included.
    pub fn load_yaml(&self, text: &str) {
        let mut objects = parse_yaml_objects(text).unwrap_or_else(|e| panic!("{e} in:\n{text}"));
        objects.retain(|o| o.get("kind").and_then(Value::as_str) != Some("ClusterMeta"));
        let existing: BTreeSet<String> =
            self.kubectl_ok(&["get", "namespaces", "-o", "name"]).lines().map(str::to_string).collect();
        let namespaces: BTreeSet<&str> =
            objects.iter().filter_map(|o| o.pointer("/metadata/namespace").and_then(Value::as_str)).collect();
        let mut items: Vec<Value> = namespaces
            .into_iter()
            .filter(|ns| !existing.contains(&format!("namespace/{ns}")))
            .map(|ns| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
            .collect();
        for obj in &mut objects {
            if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                for k in ["resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"] {
                    meta.remove(k);
                }
            }
        }
        items.extend(objects.iter().cloned());
        self.create_list(items);
        let api = self.api();
        for obj in &objects {
            let Some(status) = obj.get("status").filter(|s| s.as_object().is_some_and(|m| !m.is_empty())) else {
                continue;
            };
            if obj["kind"] == "Node" {
                continue;
            }
            let mut status = status.clone();
            if obj["kind"] == "DaemonSet" && status.get("observedGeneration").is_none() {
                status["observedGeneration"] = json!(1);
            }
            let path = object_path(obj).unwrap_or_else(|| panic!("no API path known for {obj}"));
            match api.patch(&format!("{path}/status"), &json!({ "status": status })) {
                Ok(_) | Err((404, _)) => {} // 404: no status subresource, so create kept the status
                Err(e) => panic!("writing the status of {path}: {e:?}"),
            }
        }
    }

    /// Create objects with one `kubectl create -f` of a `kind: List`. Without `--validate=false`,
    /// kubectl 1.32 validates against the 1.20 server's OpenAPI v2 client-side and requires all ten
    /// `status.nodeInfo` fields of a Node.
    fn create_list(&self, items: Vec<Value>) {
        let file = tempfile::Builder::new().suffix(".json").tempfile_in(self.dir()).expect("temp file");
        std::fs::write(file.path(), json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()).unwrap();
        self.kubectl_ok(&["create", "--validate=false", "-o", "name", "-f", &file.path().display().to_string()]);
    }

    /// Create `n` Nodes `node-00001`, … with `kubectl create` of Lists (4 in parallel: about a third
    /// faster than one List on 2 cores). Each has a unique `projectcalico.org/IPv4Address`
    /// 10.0.x.y/16, the same InternalIP in its status (a Node keeps the status it is created with),
    /// `topology.kubernetes.io/zone` cycling over zone-a…zone-d, and the control-plane role on the
    /// first 3.
    pub fn create_nodes(&self, n: usize) {
        let items = (1..=n)
            .map(|i| {
                let name = format!("node-{i:05}");
                let ip = std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(10, 0, 0, 10)) + i as u32);
                let mut labels = json!({
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "topology.kubernetes.io/zone": format!("zone-{}", ["a", "b", "c", "d"][(i - 1) % 4]),
                });
                if i <= 3 {
                    labels["node-role.kubernetes.io/control-plane"] = json!("");
                }
                json!({
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": name,
                        "labels": labels,
                        "annotations": {"projectcalico.org/IPv4Address": format!("{ip}/16")},
                    },
                    "status": {
                        "addresses": [{"type": "InternalIP", "address": ip.to_string()}, {"type": "Hostname", "address": name}],
                        "nodeInfo": {"kubeletVersion": "v1.20.2", "osImage": "Debian GNU/Linux 12 (bookworm)"},
                    },
                })
            })
            .collect::<Vec<_>>();
        let chunk = n.div_ceil(4).max(1);
        std::thread::scope(|s| {
            for part in items.chunks(chunk) {
                s.spawn(|| self.create_list(part.to_vec()));
            }
        });
    }

    /// Audit events by `user` (one per request, any stage).
    pub fn audit_events_by(&self, user: &str) -> Vec<Value> {
        let text = std::fs::read_to_string(self.dir().join("audit.log")).unwrap_or_default();
        let mut seen = BTreeSet::new();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e.pointer("/user/username").and_then(Value::as_str) == Some(user))
            .filter(|e| seen.insert(e.get("auditID").and_then(Value::as_str).unwrap_or_default().to_string()))
            .collect()
    }
    /// `"VERB requestURI"` (verb upper-case, e.g. `PATCH /api/v1/nodes/k8s-1?fieldManager=…`) of every
    /// write request (create, update, patch, delete, deletecollection) `user` sent, allowed or not.
    pub fn audit_writes_by(&self, user: &str) -> Vec<String> {
        self.audit_events_by(user)
            .iter()
            .filter(|e| WRITE_VERBS.contains(&e["verb"].as_str().unwrap_or_default()))
            .map(|e| {
                format!(
                    "{} {}",
                    e["verb"].as_str().unwrap_or_default().to_uppercase(),
                    e["requestURI"].as_str().unwrap_or_default()
                )
            })
            .collect()
    }
    /// How many requests `user` sent (any verb).
    pub fn audit_requests_by(&self, user: &str) -> usize {
        self.audit_events_by(user).len()
    }

    /// Start the controller stand-in (see the module docs); it runs until [`Self::stop_stand_in`]
    /// or drop, and survives the API server being stopped (a failed tick is retried).
    pub fn start_stand_in(&mut self) {
        if self.stand_in.is_some() {
            return;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let failed_ticks = Arc::new(AtomicU64::new(0));
        let (api, s, f) = (self.api(), stop.clone(), failed_ticks.clone());
        let handle = std::thread::Builder::new()
            .name("controller-stand-in".into())
            .spawn(move || {
                let mut state = StandInState::default();
                while !s.load(Ordering::Relaxed) {
                    if state.tick(&api).is_err() {
                        f.fetch_add(1, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
            .expect("spawn stand-in");
        self.stand_in = Some(StandIn { stop, failed_ticks, handle });
    }
    pub fn stop_stand_in(&mut self) {
        if let Some(s) = self.stand_in.take() {
            s.stop.store(true, Ordering::Relaxed);
            let _ = s.handle.join();
        }
    }
    /// Stand-in ticks that failed (e.g. while the API server was down).
    pub fn stand_in_failed_ticks(&self) -> u64 {
        self.stand_in.as_ref().map_or(0, |s| s.failed_ticks.load(Ordering::Relaxed))
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.stop_stand_in();
        self.stop_apiserver();
        self.etcd.stop();
    }
}

/// The CRDs to install: Calico v3.23.3's 17 and `installations.operator.tigera.io` (v3.32.1)
/// without what a 1.20 server rejects (every `x-kubernetes-validations` and `selectableFields` key,
/// every `default` of '' or null). Parsed once and cached as JSON under the target directory.
fn crd_objects() -> Vec<Value> {
    let calico = shared_path("calico/v3.23.3/crds.yaml");
    let installation = shared_path("calico/v3.32.1/operator-installation-crd.yaml");
    let len = |p: &Path| std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).len();
    let name = format!("crds-v1-{}-{}.json", len(&calico), len(&installation));
    let cached = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if let Some(crds) = std::fs::read(&cached).ok().and_then(|b| serde_json::from_slice(&b).ok()) {
        return crds;
    }
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("x-kubernetes-validations");
                m.remove("selectableFields");
                if m.get("default").is_some_and(|d| d.is_null() || d == "") {
                    m.remove("default");
                }
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let parse = |p: &Path| {
        let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        parse_yaml_objects(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let mut crds = parse(&calico);
    let mut stripped = parse(&installation);
    stripped.iter_mut().for_each(strip);
    crds.extend(stripped);
    let tmp = cached.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&tmp, Value::Array(crds.clone()).to_string()).unwrap();
    std::fs::rename(&tmp, &cached).unwrap();
    crds
}

/// What the stand-in remembers between ticks.
#[derive(Default)]
struct StandInState {
    /// DaemonSet (namespace/name) → the generation first seen unobserved (rolled out one tick later).
    pending_rollouts: HashMap<String, i64>,
    /// (node, peer IP) → (state, since) as BIRD's since column would show it.
    sessions: HashMap<(String, IpAddr), (&'static str, String)>,
    /// CalicoNodeStatus name → when its status was last written.
    written: HashMap<String, Instant>,
}

type TickResult = Result<(), (u16, String)>;

impl StandInState {
    fn tick(&mut self, api: &Api) -> TickResult {
        let daemonsets = api.list("/apis/apps/v1/daemonsets", "DaemonSet", "apps/v1")?;
        self.roll_out(api, &daemonsets)?;
        let statuses = api.list(
            "/apis/crd.projectcalico.org/v1/caliconodestatuses",
            "CalicoNodeStatus",
            "crd.projectcalico.org/v1",
        )?;
        if !statuses.is_empty() {
            self.report_status(api, daemonsets, &statuses)?;
        }
        Ok(())
    }

    /// The DaemonSet controller and kubelets: a new generation is fully rolled out one tick later.
    fn roll_out(&mut self, api: &Api, daemonsets: &[Value]) -> TickResult {
        let mut node_count = None;
        for ds in daemonsets {
            let ns = ds.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
            if ns != "kube-system" && ns != "calico-system" {
                continue;
            }
            let key = format!("{ns}/{}", ds["metadata"]["name"].as_str().unwrap_or_default());
            let generation = ds.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
            let observed = ds.pointer("/status/observedGeneration").and_then(Value::as_i64).unwrap_or(0);
            if observed >= generation {
                continue;
            }
            if self.pending_rollouts.insert(key.clone(), generation) != Some(generation) {
                continue; // first seen now: roll out on the next tick
            }
            let nodes = match node_count {
                Some(n) => n,
                None => {
                    let page = api.get("/api/v1/nodes?limit=1")?;
                    let n = page["items"].as_array().map_or(0, Vec::len) as u64
                        + page.pointer("/metadata/remainingItemCount").and_then(Value::as_u64).unwrap_or(0);
                    *node_count.insert(n)
                }
            };
            let path = object_path(ds).expect("DaemonSet path");
            let status = json!({"status": {
                "observedGeneration": generation,
                "desiredNumberScheduled": nodes,
                "currentNumberScheduled": nodes,
                "updatedNumberScheduled": nodes,
                "numberReady": nodes,
                "numberAvailable": nodes,
                "numberMisscheduled": 0,
            }});
            api.patch(&format!("{path}/status"), &status)?;
            self.pending_rollouts.remove(&key);
        }
        Ok(())
    }

    /// calico-node's status reporter: every CalicoNodeStatus gets its node's BGP sessions.
    fn report_status(&mut self, api: &Api, daemonsets: Vec<Value>, statuses: &[Value]) -> TickResult {
        let mut set = ObjectSet::default();
        let calico = "crd.projectcalico.org/v1";
        let lists = [
            ("/api/v1/nodes", "Node", "v1"),
            ("/apis/crd.projectcalico.org/v1/ippools", "IPPool", calico),
            ("/apis/crd.projectcalico.org/v1/bgppeers", "BGPPeer", calico),
            ("/apis/crd.projectcalico.org/v1/bgpconfigurations", "BGPConfiguration", calico),
            ("/apis/operator.tigera.io/v1/installations", "Installation", "operator.tigera.io/v1"),
        ];
        for (path, kind, api_version) in lists {
            for obj in api.list(path, kind, api_version)? {
                set.insert(obj);
            }
        }
        for ds in daemonsets {
            set.insert(ds);
        }
        match api.get("/api/v1/namespaces/kube-system/configmaps/calico-config") {
            Ok(mut cm) => {
                cm["kind"] = json!("ConfigMap");
                set.insert(cm);
            }
            Err((404, _)) => {}
            Err(e) => return Err(e),
        }
        let facts = calico_bgp_wizard::domain::facts::detect(&set);
        let topology = calico_bgp_wizard::domain::topology::topology(&facts);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let mut live = BTreeSet::new();

        for cns in statuses {
            let name = cns["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let node = cns.pointer("/spec/node").and_then(Value::as_str).unwrap_or_default().to_string();
            let classes: Vec<&str> = cns
                .pointer("/spec/classes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let (mut v4, mut v6) = (Vec::new(), Vec::new());
            for d in topology.sessions.iter().filter(|d| d.session.node == node) {
                let peer = d.session.peer_ip;
                let state = if peer == IpAddr::V4(SWITCH_IP) {
                    if d.remote_as == SWITCH_AS { "Established" } else { "Active" }
                } else if d.session.peer_node.is_some() {
                    "Established"
                } else {
                    "Active"
                };
                let key = (node.clone(), peer);
                live.insert(key.clone());
                let entry = self.sessions.entry(key).or_insert_with(|| (state, hms(now)));
                if entry.0 != state {
                    *entry = (state, hms(now));
                }
                let kind = match d.session.peer_type {
                    PeerType::NodeToNodeMesh => "NodeMesh",
                    PeerType::NodeSpecific => "NodePeer",
                    PeerType::Global => "GlobalPeer",
                };
                let row = json!({"peerIP": peer.to_string(), "type": kind, "state": state, "since": entry.1});
                if peer.is_ipv4() { v4.push(row) } else { v6.push(row) }
            }
            let established = |rows: &[Value]| rows.iter().filter(|r| r["state"] == "Established").count();
            let bgp = json!({
                "numberEstablishedV4": established(&v4),
                "numberNotEstablishedV4": v4.len() - established(&v4),
                "numberEstablishedV6": established(&v6),
                "numberNotEstablishedV6": v6.len() - established(&v6),
                "peersV4": v4,
                "peersV6": v6,
            });
            let bird = facts.backend == calico_bgp_wizard::domain::facts::Backend::Bird;
            let router_id = facts.node(&node).and_then(|n| n.bgp_ip()).map(|ip| ip.to_string());
            let bird_v4 = match (&router_id, bird) {
                (Some(id), true) => json!({"state": "Ready", "version": "v0.3.3+birdv1.6.8", "routerID": id}),
                _ => json!({"state": "NotReady"}),
            };
            let mut status = json!({});
            if classes.contains(&"BGP") {
                status["bgp"] = bgp;
            }
            if classes.contains(&"Agent") {
                status["agent"] = json!({"birdV4": bird_v4});
            }
            let period = cns.pointer("/spec/updatePeriodSeconds").and_then(Value::as_u64).unwrap_or(0);
            let changed = ["bgp", "agent"]
                .iter()
                .any(|k| status.get(k).is_some_and(|v| cns.pointer(&format!("/status/{k}")) != Some(v)));
            let due = period > 0 && self.written.get(&name).is_none_or(|t| t.elapsed() >= Duration::from_secs(period));
            if changed || due {
                status["lastUpdated"] = json!(rfc3339(now));
                let path = format!("/apis/crd.projectcalico.org/v1/caliconodestatuses/{name}");
                api.patch(&path, &json!({ "status": status }))?;
                self.written.insert(name, Instant::now());
            }
        }
        self.sessions.retain(|k, _| live.contains(k));
        Ok(())
    }
}

/// UTC (year, month, day, hour, minute, second) of a Unix time (Hinnant's civil_from_days).
fn civil(secs: u64) -> (i64, u64, u64, u64, u64, u64) {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rem / 3600, rem / 60 % 60, rem % 60)
}

fn hms(secs: u64) -> String {
    let (_, _, _, h, m, s) = civil(secs);
    format!("{h:02}:{m:02}:{s:02}")
}

fn rfc3339(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}
