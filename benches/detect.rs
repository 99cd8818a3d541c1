//! Detection of a big cluster, side by side with kubectl and the raw list request, on one real API
//! server (kube-apiserver v1.20.2 + etcd from `tests/common/cluster.rs`, with Calico's CRDs and
//! `assets/demo-cluster.yaml` loaded, plus generated Nodes).
//!
//! `cargo bench --bench detect` measures 5,000 generated Nodes (`DETECT_BENCH_NODES` overrides):
//! - processes: `calico-bgp-wizard detect`, `kubectl get nodes -o json`, and `curl` of
//!   `/api/v1/nodes` (one unpaginated request), each with its output thrown away. The API server
//!   pretty-prints JSON for curl's user agent (10 MB for 5,000 Nodes instead of 7 MB), so curl also
//!   runs with `?pretty=false`: the same compact bytes the wizard and kubectl get;
//! - in process: `KubeBackend::connect` + `detect()`, and one raw `GET /api/v1/nodes` read as text
//!   through a fresh `kube::Client` (the floor for the same transfer).
//!
//! Then each process runs again under `/usr/bin/time -f %M` (Debian's `time` package) for its peak
//! RSS, and a table gives medians, fastest runs, peak RSS and the ratios wizard/raw and
//! kubectl/wizard. Divan's own table comes first.
//!
//! Under `cargo test --all-targets` (divan's test mode: no `--bench` argument) the cluster has 50
//! generated Nodes and every benchmark runs once, as a smoke check.

#[path = "../tests/common/cluster.rs"]
mod cluster;
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use calico_bgp_wizard::domain::objects::Kind;
use calico_bgp_wizard::kube::{KubeBackend, KubeconfigSource};
use cluster::TestCluster;
use support::{bench_mode, has_flag, median, output, run_divan, run_quiet, take_times, timed};

const WIZARD: &str = env!("CARGO_BIN_EXE_calico-bgp-wizard");
const TIME: &str = "/usr/bin/time";
/// Generated Nodes in bench mode, and in test mode.
const BENCH_NODES: usize = 5000;
const TEST_NODES: usize = 50;
/// Timed runs of each benchmark in bench mode, and peak-RSS runs of each process.
const SAMPLES: u32 = 20;
const RSS_RUNS: usize = 3;

// Benchmark names, as divan shows them (module::function) and the summary uses them.
const P_RAW: &str = "process::curl_raw_list";
const P_RAW_COMPACT: &str = "process::curl_raw_list_compact";
const P_KUBECTL: &str = "process::kubectl_get_nodes";
const P_WIZARD: &str = "process::wizard_detect";
const I_RAW: &str = "in_process::raw_list";
const I_WIZARD: &str = "in_process::wizard_detect";

fn main() {
    let bench_mode = bench_mode();
    *MODE.lock().unwrap() = Some(bench_mode);
    run_divan(bench_mode, SAMPLES);
    if has_flag("--list") {
        return;
    }
    let Some(setup) = SETUP.lock().unwrap().take() else { return };
    summary(&setup, bench_mode);
    let setup = Arc::into_inner(setup).expect("no benchmark holds the cluster any more");
    drop(setup); // stops the API server and etcd, deletes their directory
}

static MODE: Mutex<Option<bool>> = Mutex::new(None);
static SETUP: Mutex<Option<Arc<Setup>>> = Mutex::new(None);

/// The cluster every benchmark reads, started by the first benchmark that runs.
struct Setup {
    cluster: TestCluster,
    /// Nodes in the cluster: the generated ones and the demo fixture's.
    nodes: usize,
    generated: usize,
    /// HOME and XDG_STATE_HOME of the wizard processes (its logs go there).
    state: tempfile::TempDir,
    /// Like the binary's: multi-threaded, 2 workers.
    rt: tokio::runtime::Runtime,
    /// How long starting and filling the cluster took.
    ready_in: Duration,
}

fn setup() -> Arc<Setup> {
    let mut slot = SETUP.lock().unwrap();
    if let Some(s) = &*slot {
        return s.clone();
    }
    let bench_mode = MODE.lock().unwrap().unwrap_or(false);
    let generated = match std::env::var("DETECT_BENCH_NODES") {
        Ok(n) => n.parse().expect("DETECT_BENCH_NODES is a number"),
        Err(_) if bench_mode => BENCH_NODES,
        Err(_) => TEST_NODES,
    };
    assert!(Path::new(TIME).is_file(), "{TIME} not found: install Debian's `time` package (apt-get install -y time)");
    let t = Instant::now();
    let cluster = TestCluster::start();
    cluster.load_fixture(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-cluster.yaml"));
    cluster.create_nodes(generated);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut s = Setup { cluster, nodes: 0, generated, state, rt, ready_in: Duration::ZERO };
    s.nodes = s.check();
    s.ready_in = t.elapsed();
    let s = Arc::new(s);
    *slot = Some(s.clone());
    s
}

impl Setup {
    /// One untimed run of everything (kubectl fills its discovery cache), checking that each sees
    /// every Node; returns the number of Nodes.
    fn check(&self) -> usize {
        let body = output(self.curl(), "curl");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("curl: a JSON NodeList");
        let nodes = v["items"].as_array().map_or(0, Vec::len);
        assert!(nodes > self.generated, "curl listed {nodes} Nodes");
        let body = output(self.curl_compact(), "curl ?pretty=false");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("curl: a JSON NodeList");
        assert_eq!(v["items"].as_array().map_or(0, Vec::len), nodes, "curl ?pretty=false's Nodes");
        let body = output(self.kubectl(), "kubectl");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("kubectl: a JSON List");
        assert_eq!(v["items"].as_array().map_or(0, Vec::len), nodes, "kubectl's Nodes");
        let summary = String::from_utf8(output(self.wizard(), "calico-bgp-wizard detect")).unwrap();
        assert!(
            summary.lines().any(|l| l.split_whitespace().eq(["nodes:".to_string(), nodes.to_string()])),
            "the wizard's summary shows {nodes} nodes:\n{summary}"
        );
        assert_eq!(self.detect_in_process(), nodes, "Nodes detected in process");
        assert!(self.raw_in_process() > 0);
        nodes
    }

    fn curl(&self) -> Command {
        self.curl_path("/api/v1/nodes")
    }

    fn curl_compact(&self) -> Command {
        self.curl_path("/api/v1/nodes?pretty=false")
    }

    fn curl_path(&self, path: &str) -> Command {
        let mut c = Command::new("curl");
        c.args(["-sSfk", "--noproxy", "*", "-H"])
            .arg(format!("Authorization: Bearer {}", self.cluster.admin_token()))
            .arg(format!("{}{path}", self.cluster.server_url()));
        c
    }

    /// As `TestCluster::kubectl`: the admin's kubeconfig and the cluster's own discovery cache.
    fn kubectl(&self) -> Command {
        let mut c = Command::new(std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into()));
        c.arg("--kubeconfig")
            .arg(self.cluster.kubeconfig_admin())
            .arg("--cache-dir")
            .arg(self.cluster.dir().join("kubectl-cache"))
            .args(["get", "nodes", "-o", "json"]);
        c
    }

    fn wizard(&self) -> Command {
        let mut c = Command::new(WIZARD);
        c.arg("detect")
            .arg("--kubeconfig")
            .arg(self.cluster.kubeconfig_admin())
            .env_remove("KUBECONFIG")
            .env("HOME", self.state.path())
            .env("XDG_STATE_HOME", self.state.path().join("state"))
            .env("NO_COLOR", "1");
        c
    }

    /// `KubeBackend::connect` + `detect()`, as the binary does; the number of Nodes detected.
    fn detect_in_process(&self) -> usize {
        let source = KubeconfigSource::Flag(self.cluster.kubeconfig_admin());
        self.rt.block_on(async {
            let b = KubeBackend::connect(&source, None).await.expect("connect");
            let set = b.detect().await.expect("detect");
            set.list(Kind::Node).count()
        })
    }

    /// One `GET /api/v1/nodes` (unpaginated, not decoded) through a fresh client; the body's length.
    fn raw_in_process(&self) -> usize {
        let source = KubeconfigSource::Flag(self.cluster.kubeconfig_admin());
        self.rt.block_on(async {
            let (client, _) = calico_bgp_wizard::kube::connect::client(&source, None).await.expect("client");
            let req = http::Request::get("/api/v1/nodes").body(Vec::new()).unwrap();
            client.request_text(req).await.expect("GET /api/v1/nodes").len()
        })
    }
}

mod process {
    use super::*;

    /// `curl -sk -H "Authorization: Bearer …" <server>/api/v1/nodes -o /dev/null`: one request.
    #[divan::bench]
    fn curl_raw_list(b: divan::Bencher) {
        let s = setup();
        b.bench_local(|| timed(P_RAW, || run_quiet(s.curl(), "curl")));
    }

    /// The same with `?pretty=false`: compact JSON, as the wizard and kubectl get it.
    #[divan::bench]
    fn curl_raw_list_compact(b: divan::Bencher) {
        let s = setup();
        b.bench_local(|| timed(P_RAW_COMPACT, || run_quiet(s.curl_compact(), "curl ?pretty=false")));
    }

    /// `kubectl get nodes -o json > /dev/null` (kubectl pages by 500 and prints every Node).
    #[divan::bench]
    fn kubectl_get_nodes(b: divan::Bencher) {
        let s = setup();
        b.bench_local(|| timed(P_KUBECTL, || run_quiet(s.kubectl(), "kubectl")));
    }

    /// `calico-bgp-wizard detect --kubeconfig …` (prints a summary).
    #[divan::bench]
    fn wizard_detect(b: divan::Bencher) {
        let s = setup();
        b.bench_local(|| timed(P_WIZARD, || run_quiet(s.wizard(), "calico-bgp-wizard detect")));
    }
}

mod in_process {
    use super::*;

    /// One unpaginated `GET /api/v1/nodes` through a fresh `kube::Client`, body read as text.
    #[divan::bench]
    fn raw_list(b: divan::Bencher) {
        let s = setup();
        b.bench_local(|| timed(I_RAW, || s.raw_in_process()));
    }

    /// `KubeBackend::connect` + `detect()`: every page of Nodes plus the Calico objects.
    #[divan::bench]
    fn wizard_detect(b: divan::Bencher) {
        let s = setup();
        b.bench_local(|| timed(I_WIZARD, || s.detect_in_process()));
    }
}

/// The largest max RSS, in KiB, of `runs` runs of `c` under `/usr/bin/time -f %M`.
fn peak_rss_kib(s: &Setup, make: impl Fn(&Setup) -> Command, what: &str, runs: usize) -> u64 {
    let report = s.state.path().join("time.out");
    (0..runs)
        .map(|_| {
            let c = make(s);
            let mut t = Command::new(TIME);
            t.args(["-f", "%M", "-o"]).arg(&report).arg(c.get_program()).args(c.get_args());
            for (k, v) in c.get_envs() {
                match v {
                    Some(v) => t.env(k, v),
                    None => t.env_remove(k),
                };
            }
            run_quiet(t, what);
            let text = std::fs::read_to_string(&report).unwrap();
            text.trim().parse::<u64>().unwrap_or_else(|_| panic!("{TIME} reported {text:?}"))
        })
        .max()
        .unwrap_or(0)
}

/// Peak RSS of each benched process, then the table of medians, peaks and ratios.
fn summary(s: &Setup, bench_mode: bool) {
    let times = take_times();
    let runs = if bench_mode { RSS_RUNS } else { 1 };
    type Make = fn(&Setup) -> Command;
    let processes: [(&str, Make, &str); 4] = [
        (P_RAW, Setup::curl, "curl"),
        (P_RAW_COMPACT, Setup::curl_compact, "curl ?pretty=false"),
        (P_KUBECTL, Setup::kubectl, "kubectl"),
        (P_WIZARD, Setup::wizard, "calico-bgp-wizard detect"),
    ];
    let mut rss: BTreeMap<&str, u64> = BTreeMap::new();
    for (name, make, what) in processes {
        if times.contains_key(name) {
            rss.insert(name, peak_rss_kib(s, make, what, runs));
        }
    }
    let med = |name: &str| times.get(name).map(|t| median(t));
    let min = |name: &str| times.get(name).and_then(|t| t.iter().min().copied());
    let secs = |d: Option<Duration>| d.map_or("-".to_string(), |d| format!("{:.3} s", d.as_secs_f64()));
    let mib = |name: &str| rss.get(name).map_or("-".to_string(), |k| format!("{:.1} MiB", *k as f64 / 1024.0));
    let runs_of = |name: &str| times.get(name).map_or(0, Vec::len);
    println!();
    println!(
        "detect: {} Nodes ({} generated + assets/demo-cluster.yaml) on kube-apiserver v1.20.2, {} cores{}",
        s.nodes,
        s.generated,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if bench_mode { "" } else { " (test mode: one run each, not a measurement)" }
    );
    // Other work on the machine skews every number: say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "cluster ready in {:.1} s; load average now (1, 5, 15 min): {}",
        s.ready_in.as_secs_f64(),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!("{:<40} {:>5} {:>10} {:>10} {:>11}", "", "runs", "median", "fastest", "peak RSS");
    let rows = [
        (P_RAW, "process: curl GET /api/v1/nodes"),
        (P_RAW_COMPACT, "process: curl GET ...?pretty=false"),
        (P_KUBECTL, "process: kubectl get nodes -o json"),
        (P_WIZARD, "process: calico-bgp-wizard detect"),
        (I_RAW, "in process: GET /api/v1/nodes (text)"),
        (I_WIZARD, "in process: KubeBackend::detect"),
    ];
    for (name, label) in rows {
        if times.contains_key(name) {
            let (n, m, f, r) = (runs_of(name), secs(med(name)), secs(min(name)), mib(name));
            println!("{label:<40} {n:>5} {m:>10} {f:>10} {r:>11}");
        }
    }
    // a / b of the medians and of the fastest runs.
    let ratio = |a: &str, b: &str| match (med(a), med(b), min(a), min(b)) {
        (Some(ma), Some(mb), Some(fa), Some(fb)) if !mb.is_zero() && !fb.is_zero() => {
            Some((ma.as_secs_f64() / mb.as_secs_f64(), fa.as_secs_f64() / fb.as_secs_f64()))
        }
        _ => None,
    };
    // Targets from the issue; a test-mode run (debug build, one run) says nothing about them.
    let verdict = |ok: bool| match (bench_mode, ok) {
        (false, _) => "not judged in test mode",
        (true, true) => "met",
        (true, false) => "NOT met",
    };
    println!("{:<46} {:>7} {:>8}", "ratios", "median", "fastest");
    let pairs = [
        (P_WIZARD, P_RAW, "wizard / curl (processes)", true),
        (P_WIZARD, P_RAW_COMPACT, "wizard / curl ?pretty=false (processes)", false),
        (I_WIZARD, I_RAW, "wizard / raw GET (in process)", false),
        (P_KUBECTL, P_WIZARD, "kubectl / wizard (processes)", false),
    ];
    for (a, b, label, target) in pairs {
        if let Some((m, f)) = ratio(a, b) {
            let judged = if target { format!("  (target <= 2x: {})", verdict(m <= 2.0)) } else { String::new() };
            println!("{label:<46} {m:>6.2}x {f:>7.2}x{judged}");
        }
    }
    if let Some(k) = rss.get(P_WIZARD) {
        let m = *k as f64 / 1024.0;
        println!("wizard peak RSS: {m:.1} MiB  (target < 100 MiB: {})", verdict(m < 100.0));
    }
}
