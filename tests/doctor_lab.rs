//! `doctor` end to end, on a control-plane node of the real BGP lab (`tests/common/lab.rs`): the API
//! server and etcd run inside k8s-1's network namespace (`TestCluster::start_in_netns`) with the
//! lab's cluster as objects (`tests/fixtures/lab-cluster.yaml`), and the binary runs there too,
//! so its connection attempts reach the lab and nothing else. Needs root, bird, frr, nftables,
//! python3 and the kube-apiserver of `tests/cluster/install.sh` (`sudo bash tests/run-all.sh`).
//!
//! The lab is set up so every answer a BGP port can give shows at once: k8s-1's BIRD listens
//! (open), k8s-2's BIRD is stopped (refused), k8s-3 drops TCP 179 with nftables (filtered), the
//! FRR switch listens (open). Then: the switch originates the pool (a warning), and BIRD on k8s-1
//! gives way to another program on TCP 179 (an error). An nftables recorder in k8s-1's namespace
//! shows that every connection attempt went to a lab address.

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::cluster::TestCluster;
use common::lab::{self, Lab, POOL, SWITCH_IP};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_calico-bgp-wizard");
/// What the doctor's connection attempts wait for an answer (the contract's `timeout_ms`).
const PROBE_TIMEOUT_MS: f64 = 1000.0;

/// A finished run of the binary.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn show(&self) -> String {
        format!(
            "\nexit {:?} after {:.1?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.took, self.stdout, self.stderr
        )
    }
    /// The JSON object `-o json` printed.
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("doctor did not print one JSON object: {e}{}", self.show()))
    }
}

/// `doctor` as an operator on k8s-1 runs it: inside k8s-1's namespace (where the API server
/// listens on loopback), as node k8s-1, with the admin kubeconfig, reading k8s-1's BIRD socket.
fn doctor(lab: &Lab, cluster: &TestCluster, state: &Path, args: &[&str]) -> Run {
    let mut cmd = cluster.command(Path::new(BIN));
    cmd.arg("doctor")
        .arg("--kubeconfig")
        .arg(cluster.kubeconfig_admin())
        .arg("--bird-socket")
        .arg(format!("k8s-1={}", lab.socket("k8s-1").display()))
        .args(args)
        .env_remove("KUBECONFIG")
        .env("NODENAME", "k8s-1")
        .env("HOME", state)
        .env("XDG_STATE_HOME", state.join("state"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    let started = Instant::now();
    let out = cmd.output().expect("run calico-bgp-wizard doctor");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// The findings with `rule`.
fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"].as_array().into_iter().flatten().filter(|f| f["rule"] == rule).collect()
}

/// The one finding with `rule`, with its severity checked.
fn finding<'a>(report: &'a Value, rule: &str, severity: &str) -> &'a Value {
    let found = findings(report, rule);
    assert_eq!(found.len(), 1, "one finding {rule}, in {:#}", report["findings"]);
    assert_eq!(found[0]["severity"], severity, "{rule}: {}", found[0]);
    found[0]
}

/// The rules of the error-level findings, sorted.
fn error_rules(report: &Value) -> Vec<String> {
    let mut rules: Vec<String> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] == "error")
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect();
    rules.sort();
    rules
}

/// The port results as (name, role, address, port, state), in the order printed.
fn port_rows(report: &Value) -> Vec<(String, String, String, u64, String)> {
    let rows = report["ports"]["results"].as_array().unwrap_or_else(|| panic!("no ports.results in {report:#}"));
    rows.iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_else(|| panic!("{k} is not a string in {r}")).to_string();
            (s("name"), s("role"), s("address"), r["port"].as_u64().unwrap_or(0), s("state"))
        })
        .collect()
}

fn result_for<'a>(report: &'a Value, address: &str) -> &'a Value {
    let rows = report["ports"]["results"].as_array().into_iter().flatten();
    rows.into_iter().find(|r| r["address"] == address).unwrap_or_else(|| panic!("no result for {address}: {report:#}"))
}

#[test]
fn doctor_on_a_lab_control_plane_node_sees_open_refused_filtered_and_who_holds_the_port() {
    // The lab's daemons start while the API server starts in k8s-1's namespace (both take seconds).
    let lab = Lab::start(0);
    let k8s1 = lab.netns("k8s-1");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lab-cluster.yaml");
    let cluster = std::thread::scope(|s| {
        let cluster = s.spawn(|| {
            let c = TestCluster::start_in_netns(&k8s1);
            c.load_fixture(&fixture);
            c
        });
        lab.wait_established(lab::UP_DEADLINE);
        cluster.join().expect("the API server starts in k8s-1's namespace")
    });
    let state = tempfile::tempdir().unwrap();

    // k8s-2 refuses (nothing listens), k8s-3 drops BGP (filtered); k8s-1 and the switch listen.
    lab.stop_bird("k8s-2");
    lab.block_bgp("k8s-3");
    let bird_k8s1 = lab.bird_pid("k8s-1");
    assert_eq!(lab.tcp_listeners("k8s-1", 179), [("bird".to_string(), bird_k8s1)], "BIRD holds TCP 179 on k8s-1");
    lab.record_outgoing("k8s-1");

    // JSON and text at once: each waits about the probe timeout for k8s-3.
    let (run, text) = std::thread::scope(|s| {
        let text = s.spawn(|| doctor(&lab, &cluster, &state.path().join("text"), &[]));
        let run = doctor(&lab, &cluster, state.path(), &["-o", "json"]);
        (run, text.join().unwrap())
    });
    let report = run.json();
    assert_eq!(run.code, Some(1), "an error (k8s-3 filtered) exits 1{}", run.show());
    assert_eq!(report["from"], "k8s-1", "{}", run.show());
    let ports = &report["ports"];
    assert_eq!(
        [&ports["timeout_ms"], &ports["probed"], &ports["total"], &ports["sampled"]],
        [&json!(1000), &json!(4), &json!(4), &json!(false)],
        "{ports:#}"
    );
    let row = |name: &str, role: &str, address: &str, state: &str| {
        (name.to_string(), role.to_string(), address.to_string(), 179, state.to_string())
    };
    let mut rows = port_rows(&report);
    rows.sort_by(|a, b| a.2.cmp(&b.2));
    assert_eq!(
        rows.iter().map(|r| (r.2.as_str(), r.4.as_str())).collect::<Vec<_>>(),
        [
            ("172.31.13.116", "open"),
            ("172.31.13.27", "open"),
            ("172.31.13.28", "refused"),
            ("172.31.13.29", "filtered")
        ],
        "{}",
        run.show()
    );
    for (name, address, state) in
        [("k8s-1", "172.31.13.27", "open"), ("k8s-2", "172.31.13.28", "refused"), ("k8s-3", "172.31.13.29", "filtered")]
    {
        assert!(rows.contains(&row(name, "node", address, state)), "{name}: {rows:#?}");
    }
    assert!(rows.iter().any(|r| r.1 == "switch" && r.2 == SWITCH_IP && r.3 == 179), "the switch: {rows:#?}");
    for r in ports["results"].as_array().unwrap() {
        assert!(r["explanation"].as_str().is_some_and(|e| !e.trim().is_empty()), "an explanation for {r}");
        let millis = r["millis"].as_f64().unwrap_or_else(|| panic!("millis in {r}"));
        if r["state"] == "filtered" {
            assert!(millis >= 0.9 * PROBE_TIMEOUT_MS, "filtered means no answer within the timeout: {r}");
        } else {
            assert!(millis < 0.5 * PROBE_TIMEOUT_MS, "an answer, not a timeout: {r}");
        }
    }

    let filtered = finding(&report, "bgp-port-filtered", "error");
    let message = filtered["message"].as_str().unwrap_or_default();
    assert!(message.contains("k8s-3") && message.contains("172.31.13.29"), "names k8s-3 and its address: {filtered}");
    assert!(
        !message.contains("k8s-2") && !message.contains("172.31.13.27"),
        "names only the filtered host: {filtered}"
    );
    let fix = filtered["fix"].as_str().unwrap_or_default().to_lowercase();
    assert!(fix.contains("open") && fix.contains("tcp 179"), "the fix opens TCP 179: {filtered}");
    assert_eq!(error_rules(&report), ["bgp-port-filtered"], "the only error: {:#}", report["findings"]);
    let refused = findings(&report, "bgp-port-refused");
    assert!(refused.iter().any(|f| f["message"].as_str().is_some_and(|m| m.contains("k8s-2"))), "{refused:#?}");
    finding(&report, "bgp-port-open", "info");

    let listen = &report["listen"];
    assert_eq!(
        [&listen["port"], &listen["state"], &listen["program"], &listen["pid"]],
        [&json!(179), &json!("bird"), &json!("bird"), &json!(bird_k8s1)],
        "{listen:#}"
    );
    finding(&report, "bgp-listen-port-bird", "info");

    let routes = &report["switch_routes"];
    assert_eq!(
        [&routes["checked"], &routes["node"], &routes["switch"], &routes["pool"], &routes["pool_routes"]],
        [&json!(true), &json!("k8s-1"), &json!(SWITCH_IP), &json!(POOL), &json!([])],
        "{routes:#}"
    );
    finding(&report, "switch-pool-routes-none", "info");
    assert!(findings(&report, "switch-advertises-pool").is_empty());

    // Every connection attempt left k8s-1's namespace for a lab address, and each host was tried.
    let sent = lab.outgoing("k8s-1");
    let outside: Vec<&IpAddr> = sent.destinations.iter().filter(|ip| !lab::is_lab_address(**ip)).collect();
    assert!(outside.is_empty(), "k8s-1 sent packets outside the lab: {outside:?} ({sent:#?})");
    let bgp_connects: BTreeSet<String> =
        sent.connects.iter().filter(|(_, port)| *port == 179).map(|(ip, _)| ip.to_string()).collect();
    for address in ["172.31.13.27", "172.31.13.28", "172.31.13.29", SWITCH_IP] {
        assert!(bgp_connects.contains(address), "a SYN to {address}:179 left k8s-1's namespace: {sent:#?}");
    }

    // The text form (the default): each host's line shows its state word and explanation.
    assert_eq!(text.code, Some(1), "{}", text.show());
    for (name, address, state) in [
        ("k8s-1", "172.31.13.27", "open"),
        ("k8s-2", "172.31.13.28", "refused"),
        ("k8s-3", "172.31.13.29", "filtered"),
        ("switch", SWITCH_IP, "open"),
    ] {
        let explanation = result_for(&report, address)["explanation"].as_str().unwrap();
        let line = text.stdout.lines().find(|l| l.contains(address) && l.contains(explanation));
        let line = line.unwrap_or_else(|| panic!("no line with {address} and {explanation:?}{}", text.show()));
        assert!(line.contains(name) && line.contains(state), "{name} and {state} in {line:?}");
    }
    assert!(text.stdout.contains(message), "the filtered finding is shown{}", text.show());

    // The wizard's Detect screen, in a real terminal on k8s-1: nothing is tried until `n`; then
    // the same results, and the filtered port is an error that keeps the wizard on Detect.
    detect_screen_in_tmux(&lab, &cluster, &state.path().join("tui"));

    // The switch sends the pool back: a warning.
    lab.switch_advertise(POOL);
    let run = doctor(&lab, &cluster, state.path(), &["-o", "json"]);
    let report = run.json();
    assert_eq!(report["switch_routes"]["checked"], true, "{}", run.show());
    assert_eq!(report["switch_routes"]["pool_routes"], json!([POOL]), "{}", run.show());
    let advertised = finding(&report, "switch-advertises-pool", "warning");
    assert!(advertised["message"].as_str().is_some_and(|m| m.contains(POOL)), "{advertised}");
    assert!(findings(&report, "switch-pool-routes-none").is_empty(), "{:#}", report["findings"]);
    assert_eq!(run.code, Some(1), "{}", run.show());

    // BIRD stops on k8s-1 and another program takes TCP 179: an error that names it.
    lab.stop_bird("k8s-1");
    let other = lab.listen_other("k8s-1", 179);
    assert_eq!(lab.tcp_listeners("k8s-1", 179), [(other.program.clone(), other.pid)]);
    let run = doctor(&lab, &cluster, state.path(), &["-o", "json"]);
    let report = run.json();
    let listen = &report["listen"];
    assert_eq!(
        [&listen["port"], &listen["state"], &listen["program"], &listen["pid"]],
        [&json!(179), &json!("other"), &json!(other.program), &json!(other.pid)],
        "{}",
        run.show()
    );
    let taken = finding(&report, "bgp-listen-port-taken", "error");
    assert!(taken["message"].as_str().is_some_and(|m| m.contains(&other.program)), "names the program: {taken}");
    assert!(taken["fix"].as_str().is_some_and(|f| f.contains("listenPort")), "the fix mentions listenPort: {taken}");
    assert!(findings(&report, "bgp-listen-port-bird").is_empty(), "{:#}", report["findings"]);
    assert_eq!(error_rules(&report), ["bgp-listen-port-taken", "bgp-port-filtered"], "{:#}", report["findings"]);
    assert_eq!(run.code, Some(1), "{}", run.show());
}

/// The wizard in tmux inside k8s-1's namespace: `n` on the Detect screen shows the doctor's
/// results and findings, and enter stays on Detect while a BGP port is filtered.
fn detect_screen_in_tmux(lab: &Lab, cluster: &TestCluster, state: &Path) {
    std::fs::create_dir_all(state).unwrap();
    let server = format!("doctor-lab-{}", std::process::id());
    let tmux = || common::tmux(&server);
    let shell = format!(
        "ip netns exec {ns} env -u KUBECONFIG NODENAME=k8s-1 HOME={home} XDG_STATE_HOME={home}/state NO_COLOR=1 \
         {BIN} --kubeconfig {kc}; sleep 30",
        ns = lab.netns("k8s-1"),
        home = state.display(),
        kc = cluster.kubeconfig_admin().display()
    );
    let ok = tmux().args(["new-session", "-d", "-s", "w", "-x", "140", "-y", "45", &shell]).status().unwrap();
    assert!(ok.success(), "tmux new-session");
    struct Kill<F: Fn() -> std::process::Command>(F);
    impl<F: Fn() -> std::process::Command> Drop for Kill<F> {
        fn drop(&mut self) {
            let _ = (self.0)().arg("kill-server").status();
        }
    }
    let _kill = Kill(tmux);
    let screen = || {
        let out = common::tmux(&server).args(["capture-pane", "-p", "-t", "w"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let wait_for = |what: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = screen();
            if s.contains(what) {
                return s;
            }
            assert!(Instant::now() < deadline, "the screen never showed {what:?}:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let before = lab.outgoing("k8s-1").connects.iter().filter(|(_, p)| *p == 179).count();
    wait_for("Network     not checked");
    assert_eq!(
        lab.outgoing("k8s-1").connects.iter().filter(|(_, p)| *p == 179).count(),
        before,
        "the wizard tries no BGP port before the operator presses n"
    );
    let send = |k: &str| assert!(common::tmux(&server).args(["send-keys", "-t", "w", k]).status().unwrap().success());
    send("n");
    let s = wait_for("TCP 179 from 'k8s-1': 2 open · 1 refused · 1 filtered");
    assert!(s.contains("error: TCP 179 (BGP) to 'k8s-3' (172.31.13.29)"), "the filtered finding:\n{s}");
    assert!(s.contains("Checks: 1 errors"), "{s}");
    send("Enter");
    // Enter is refused while an error stands: the Detect screen's summary is still there after the
    // key was handled (a later key's effect shows it was read).
    // Keys are read in order: once the help that `?` opens has shown and closed again, enter was
    // handled, and the Detect screen is still the one shown.
    send("?");
    wait_for("Show or hide this help");
    send("?");
    wait_for("Network     TCP 179 from 'k8s-1'");
    send("q");
}
