//! The real binary in a real terminal: tmux runs `calico-bgp-wizard --demo`, or the wizard against
//! a real kube-apiserver (tests/common/cluster.rs), send-keys types like an operator, capture-pane
//! reads the screen. Needs tmux (the README's test command installs it), and for the real-cluster
//! walkthroughs `bash tests/cluster/install.sh` once; without them these tests fail rather than skip.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::cluster::TestCluster;
use common::tmux;

struct Tmux {
    name: String,
    dir: tempfile::TempDir,
}

impl Tmux {
    /// Start the binary with `args` in a detached session of `w`×`h`, in a fresh HOME and cwd.
    fn start(tag: &str, args: &str, w: u16, h: u16) -> Tmux {
        Tmux::start_env(tag, "", args, w, h)
    }

    /// As `start`, with extra `NAME=value` words for `env`.
    fn start_env(tag: &str, env: &str, args: &str, w: u16, h: u16) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let name = format!("cbw-{tag}-{}", std::process::id());
        let bin = env!("CARGO_BIN_EXE_calico-bgp-wizard");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let cmd = format!(
            "env -u XDG_STATE_HOME -u NO_COLOR -u KUBECONFIG -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE HOME={} TERM=xterm-256color {env} {bin} {args}; echo EXITED $?; stty -a | tr ' ;' '\\n\\n' | grep -x -e -icanon -e icanon | sed 's/^/TTY-MODE /'; sleep 30",
            home.display()
        );
        let ok = tmux(&name)
            .args(["new-session", "-d", "-s", &name, "-x", &w.to_string(), "-y", &h.to_string(), "-c"])
            .arg(dir.path())
            .arg(cmd)
            .status()
            .expect("tmux must be installed: run the README's test command, which installs it");
        assert!(ok.success(), "tmux new-session failed");
        Tmux { name, dir }
    }

    fn cwd(&self) -> &Path {
        self.dir.path()
    }

    /// The wizard's process id: the child of the pane's shell (which `env` replaced with it).
    fn wizard_pid(&self) -> u32 {
        let out = tmux(&self.name).args(["display-message", "-p", "-t", &self.name, "#{pane_pid}"]).output().unwrap();
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap();
        let pids: Vec<u32> = children.split_whitespace().map(|p| p.parse().unwrap()).collect();
        assert_eq!(pids.len(), 1, "the pane's shell runs the wizard alone: {pids:?}");
        pids[0]
    }

    fn screen(&self) -> String {
        let out = tmux(&self.name).args(["capture-pane", "-p", "-t", &self.name]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with its escape sequences (colours, bold, reverse).
    fn screen_escapes(&self) -> String {
        let out = tmux(&self.name).args(["capture-pane", "-p", "-e", "-t", &self.name]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Keys by tmux name (`Enter`, `Tab`, `Escape`, `Space`, `C-u`).
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let ok = tmux(&self.name).args(["send-keys", "-t", &self.name, k]).status().unwrap();
            assert!(ok.success());
        }
    }

    fn type_text(&self, text: &str) {
        let ok = tmux(&self.name).args(["send-keys", "-t", &self.name, "-l", text]).status().unwrap();
        assert!(ok.success());
    }

    /// Poll the screen until `pred` holds; panic with the screen after `secs`.
    fn wait(&self, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for(&self, text: &str, secs: u64) -> String {
        self.wait(&format!("'{text}'"), secs, |s| s.contains(text))
    }

    fn resize(&self, w: u16, h: u16) {
        let ok = tmux(&self.name)
            .args(["resize-window", "-t", &self.name, "-x", &w.to_string(), "-y", &h.to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = tmux(&self.name).arg("kill-server").status();
    }
}

fn files_under(p: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap().path();
        if e.is_dir() {
            out.extend(files_under(&e));
        } else {
            out.push(e);
        }
    }
    out
}

/// From the Detect screen (cluster read) to Preview with the demo walkthrough's answers: the two
/// suggested reflectors, the demo switch 172.31.13.116 in AS 7675 (a public AS: confirmed), the
/// existing pool.
fn answer_the_demo_questions(t: &Tmux) {
    t.keys(&["Enter"]);
    let s = t.wait_for("Cluster ID", 5);
    assert_eq!(s.matches("[x]").count(), 2, "two suggested reflectors:\n{s}");

    t.keys(&["Enter"]);
    t.wait_for("Switch IP", 5);
    t.type_text("172.31.13.116");
    t.keys(&["Tab"]);
    t.type_text("7675");
    t.keys(&["Enter"]);
    // 7675 is a public AS number: the wizard asks to confirm that warning.
    t.wait_for("Continue despite these warnings?", 5);
    t.type_text("y");

    t.wait_for("or type a CIDR", 5);
    t.keys(&["Enter"]);
    t.wait_for("steps", 5);
}

#[test]
fn walkthrough_to_all_established() {
    let t = Tmux::start("walk", "--demo", 80, 24);
    let s = t.wait_for("172.27.208.0/22", 20);
    assert!(s.contains("v1.24.6") && s.contains("v3.23.3"), "{s}");
    assert!(s.contains("manifest"), "{s}");

    answer_the_demo_questions(&t);
    // d: the server dry run, which the demo passes.
    let s = t.wait_for("Server dry run: not run yet", 5);
    assert!(s.contains("d check"), "{s}");
    t.type_text("d");
    t.wait_for("changes accepted (the demo accepts every change)", 10);
    t.keys(&["Tab"]);
    t.wait_for("router bgp 7675", 5);
    t.keys(&["Tab"]);
    t.wait_for("ip route add 172.27.208.0/22 via 172.31.13.116", 5);
    t.keys(&["Tab"]);

    // w writes the whole plan to a directory (the default name, in the session's cwd).
    t.type_text("w");
    t.wait_for("Write plan to dir", 5);
    t.keys(&["Enter"]);
    t.wait_for("plan written to", 10);
    let files = files_under(&t.cwd().join("calico-bgp-plan"));
    assert!(files.iter().any(|f| f.extension().is_some_and(|e| e == "yaml")), "{files:?}");
    assert!(files.len() >= 5, "{files:?}");

    // Resize down and back: still drawn, no panic.
    t.resize(60, 20);
    t.wait_for("steps", 5);
    t.resize(80, 24);

    t.keys(&["Enter"]);
    t.wait_for("Apply the plan?", 5);
    t.type_text("y");
    t.wait_for("applied and verified", 90);

    t.keys(&["Enter"]);
    let s = t.wait("every session Established", 30, |s| {
        s.contains("Established")
            && !["Idle", "Connect", "Active", "OpenSent"].iter().any(|b| s.contains(b))
            && s.contains("172.31.13.116")
    });
    assert!(!s.contains("node-to-node mesh"), "mesh sessions remain:\n{s}");
    t.type_text("q");
    let s = t.wait_for("TTY-MODE", 5);
    assert!(s.contains("EXITED 0") && s.lines().any(|l| l.trim() == "TTY-MODE icanon"), "{s}");

    // Logs went to a file in the state directory, never to the screen.
    let log = t.cwd().join("home/.local/state/calico-bgp-wizard/logs/calico-bgp-wizard.log");
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    assert!(text.contains("step 1: Create the BGP peers"), "{text}");
    assert!(text.contains("step 6:"), "{text}");
}

/// Foreground colour codes (SGR 30–37, 90–97, 38;…) in a captured screen.
fn has_colour(escaped: &str) -> bool {
    escaped.split('\x1b').any(|seq| {
        let Some(params) = seq.strip_prefix('[').and_then(|r| r.split_once('m')).map(|(p, _)| p) else { return false };
        params.split(';').any(|p| matches!(p.parse::<u32>(), Ok(30..=38 | 90..=97)))
    })
}

#[test]
fn no_color_is_honoured() {
    let coloured = Tmux::start("color", "--demo", 80, 24);
    coloured.wait_for("172.27.208.0/22", 20);
    assert!(has_colour(&coloured.screen_escapes()), "colours expected without NO_COLOR");
    let plain = Tmux::start_env("nocolor", "NO_COLOR=1", "--demo", 80, 24);
    plain.wait_for("172.27.208.0/22", 20);
    let esc = plain.screen_escapes();
    assert!(!has_colour(&esc), "NO_COLOR set, yet colours were drawn:\n{esc:?}");
    assert!(esc.contains("\x1b["), "bold/reverse still mark the current screen");
}

#[test]
fn bad_input_shows_the_error_and_blocks() {
    let t = Tmux::start("bad", "--demo", 120, 40);
    t.wait_for("172.27.208.0/22", 20);
    t.keys(&["Enter"]);
    t.wait_for("Cluster ID", 5);

    // Route reflectors: the cluster ID must be an IPv4 address.
    t.keys(&["Tab", "C-u"]);
    t.type_text("244.0.0");
    t.wait_for("'244.0.0' is not an IPv4 address", 5);
    t.keys(&["Enter"]);
    // Still on this screen: the corrected ID lands in the same field and clears the error.
    t.keys(&["C-u"]);
    t.type_text("244.0.0.1");
    let s = t.wait_for("Checks: 0 errors", 5);
    assert!(s.contains("Cluster ID") && !s.contains("Switch IP"), "{s}");
    t.keys(&["Enter"]);

    // Peering: each field's error, quoted.
    t.wait_for("Switch IP", 5);
    t.type_text("172.31.13.300");
    t.wait_for("'172.31.13.300'", 5);
    t.keys(&["C-u"]);
    t.type_text("172.31.13.27");
    t.wait_for("'172.31.13.27'", 5);
    t.keys(&["C-u"]);
    t.type_text("172.31.13.116");
    t.keys(&["Tab"]);
    t.type_text("AS7675");
    t.wait_for("'AS7675' is not an AS number", 5);
    t.keys(&["C-u"]);
    t.type_text("23456");
    t.wait_for("'23456'", 5);
    t.keys(&["C-u"]);
    t.type_text("7675");
    t.keys(&["Tab", "C-u"]);
    t.type_text("0");
    t.wait_for("'0'", 5);
    t.keys(&["Enter"]);
    t.keys(&["C-u"]);
    t.type_text("64512");
    let s = t.wait_for("[64512", 5);
    assert!(s.contains("Switch IP") && !s.contains("or type a CIDR"), "errors must keep the Peering screen:\n{s}");
    t.keys(&["Tab"]);
    t.type_text(&"p".repeat(81));
    let s = t.wait_for("80", 5);
    assert!(!s.contains(&"p".repeat(10)), "the password must never be shown:\n{s}");
    t.keys(&["C-u", "Enter"]);
    t.wait_for("Continue despite these warnings?", 5);
    t.type_text("y");

    // Pool: host bits.
    t.wait_for("or type a CIDR", 5);
    t.keys(&["Tab"]);
    t.type_text("172.27.0.208/22");
    t.wait_for("'172.27.0.208/22' has host bits set; did you mean 172.27.0.0/22?", 5);
    t.keys(&["Enter"]);
    t.keys(&["C-u"]);
    t.type_text("172.27.0.0/22");
    let s = t.wait("the corrected CIDR on the Pool screen", 5, |s| s.contains("172.27.0.0/22▏"));
    assert!(s.contains("or type a CIDR"), "{s}");
    t.keys(&["C-c"]);
    t.wait_for("EXITED 0", 5);
}

#[test]
fn a_panic_restores_the_terminal() {
    let t = Tmux::start_env("panic", "CALICO_BGP_WIZARD_TEST_PANIC=1", "--demo", 100, 30);
    let s = t.wait_for("EXITED", 20);
    assert!(s.contains("panicking on purpose"), "the panic message is shown:\n{s}");
    assert!(!s.contains("EXITED 0"), "a panic exits non-zero:\n{s}");
    let out = tmux(&t.name).args(["display-message", "-p", "-t", &t.name, "#{alternate_on}"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0", "still on the alternate screen after the panic");
    // Raw mode is off again: the shell's terminal is in canonical (line) mode.
    let s = t.wait_for("TTY-MODE", 5);
    assert!(s.lines().any(|l| l.trim() == "TTY-MODE icanon"), "raw mode left on after the panic:\n{s}");
}

// ── Against a real API server ───────────────────────────────────────────────────────────────────

/// kube-apiserver with the demo cluster's objects, and the controller stand-in (rollouts complete,
/// CalicoNodeStatus objects get the sessions calico-node would report; the switch answers AS 7675).
fn real_demo_cluster() -> TestCluster {
    let mut c = TestCluster::start();
    c.load_fixture(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-cluster.yaml"));
    c.start_stand_in();
    c
}

/// `env` words that point the wizard at `c` (no `--demo`) with its state (run records, logs)
/// under `state`, shared by the sessions of one test.
fn real_env(c: &TestCluster, state: &Path, extra: &str) -> String {
    format!(
        "KUBECONFIG={} HOME={} XDG_STATE_HOME={} {extra}",
        c.kubeconfig_admin().display(),
        state.display(),
        state.join("state").display()
    )
}

/// The run records under the state directory.
fn run_manifests(state: &Path) -> Vec<serde_json::Value> {
    let runs = state.join("state/calico-bgp-wizard/runs");
    let mut out: Vec<serde_json::Value> = std::fs::read_dir(&runs)
        .unwrap_or_else(|e| panic!("{}: {e}", runs.display()))
        .map(|e| serde_json::from_str(&std::fs::read_to_string(e.unwrap().path().join("run.json")).unwrap()).unwrap())
        .collect();
    out.sort_by_key(|m| m["id"].as_str().unwrap_or_default().to_string());
    out
}

/// What the demo answers leave in the cluster: the switch peer, the reflectors, the mesh off.
fn assert_switched_to_reflectors(c: &TestCluster) {
    let peer = c.kubectl_ok(&[
        "get",
        "bgppeers.crd.projectcalico.org",
        "rr-peer",
        "-o",
        "jsonpath={.spec.peerIP} {.spec.asNumber}",
    ]);
    assert_eq!(peer, "172.31.13.116 7675");
    let mesh = c.kubectl_ok(&[
        "get",
        "bgpconfigurations.crd.projectcalico.org",
        "default",
        "-o",
        "jsonpath={.spec.nodeToNodeMeshEnabled}",
    ]);
    assert_eq!(mesh, "false", "the node-to-node mesh is off");
    let rrs = c.kubectl_ok(&["get", "nodes", "-l", "route-reflector=true", "-o", "name"]);
    assert_eq!(rrs.lines().collect::<Vec<_>>(), ["node/k8s-1", "node/k8s-2"]);
    let probes = c.kubectl_ok(&["get", "caliconodestatuses.crd.projectcalico.org", "-o", "name"]);
    assert_eq!(probes.trim(), "", "the wizard deletes its session probes after each wait");
}

#[test]
fn walkthrough_against_a_real_api_server() {
    let c = real_demo_cluster();
    let state = tempfile::tempdir().unwrap();
    let t = Tmux::start_env("real", &real_env(&c, state.path(), ""), "", 80, 24);
    let s = t.wait_for("172.27.208.0/22", 30);
    // The real server and context, not the demo's.
    assert!(s.contains(&format!("admin@test · {}", c.server_url())), "{s}");
    assert!(!s.contains("DEMO") && s.contains("v3.23.3"), "{s}");
    assert!(s.contains("Calico API  crd.projectcalico.org/v1 (CRDs only)"), "{s}");
    assert!(!s.contains("An earlier run was interrupted"), "no run was recorded yet:\n{s}");

    answer_the_demo_questions(&t);
    // d sends every change as a server-side dry run: the real API server accepts them all.
    t.wait_for("d asks the API server to check every change", 5);
    t.type_text("d");
    let s = t.wait_for("changes accepted by the API server", 30);
    assert!(s.contains("✓ Server dry run: all 7 changes accepted"), "{s}");
    assert_eq!(
        c.kubectl_ok(&["get", "bgppeers.crd.projectcalico.org", "-o", "name"]).trim(),
        "",
        "a dry run stores nothing"
    );

    t.keys(&["Enter"]);
    let s = t.wait_for("Apply the plan?", 5);
    assert!(s.contains("admin@test") && !s.contains("embedded demo"), "{s}");
    t.type_text("y");
    let s = t.wait_for("applied and verified", 240);
    assert_eq!(s.matches("✓ done").count(), 6, "every step line shows done:\n{s}");

    // The Status screen: the wizard gives its two route reflectors CalicoNodeStatus objects (the
    // controller stand-in reports as calico-node would), watches them, and deletes them on quit.
    // The reflectors hold every session, so reading them alone is the whole cluster.
    t.keys(&["Enter"]);
    let s = t.wait_for("6 sessions: 6 Established", 30);
    assert!(s.contains("from CalicoNodeStatus (watched) · read k8s-1, k8s-2"), "{s}");
    let probes = c.kubectl_ok(&["get", "caliconodestatuses.crd.projectcalico.org", "-o", "name"]);
    assert!(probes.contains("calico-bgp-wizard-k8s-1") && probes.contains("calico-bgp-wizard-k8s-2"), "{probes}");
    t.type_text("q");
    let s = t.wait_for("TTY-MODE", 10);
    assert!(s.contains("EXITED 0") && s.lines().any(|l| l.trim() == "TTY-MODE icanon"), "{s}");
    let left = c.kubectl_ok(&["get", "caliconodestatuses.crd.projectcalico.org", "-o", "name"]);
    assert!(!left.contains("calico-bgp-wizard-"), "the wizard's CalicoNodeStatus objects go with it: {left}");

    assert_switched_to_reflectors(&c);
    let runs = run_manifests(state.path());
    assert_eq!(runs.len(), 1);
    assert!(runs[0]["finished"].is_string(), "the finished run's record is closed: {}", runs[0]);
    assert!(runs[0]["progress"].as_array().unwrap().iter().all(|p| p == "done"), "{}", runs[0]);

    // Started again: the closed run is not offered.
    let again = Tmux::start_env("real-again", &real_env(&c, state.path(), ""), "", 80, 24);
    let s = again.wait_for("Checks:", 30);
    assert!(!s.contains("An earlier run was interrupted"), "{s}");
    assert!(s.contains("node-to-node mesh off"), "{s}");
}

/// Walk the real cluster to the apply and kill the wizard (SIGKILL, as a dropped SSH session or an
/// OOM kill would) while step 3 runs: steps 1 and 2 are done, step 3 is recorded as running.
fn interrupted_run(tag: &str, c: &TestCluster, state: &Path) {
    let hold = state.join("hold");
    let env = real_env(
        c,
        state,
        &format!("CALICO_BGP_WIZARD_TEST_HOLD=before:3 CALICO_BGP_WIZARD_TEST_HOLD_FILE={}", hold.display()),
    );
    let t = Tmux::start_env(tag, &env, "", 100, 30);
    t.wait_for("172.27.208.0/22", 30);
    answer_the_demo_questions(&t);
    t.keys(&["Enter"]);
    t.wait_for("Apply the plan?", 5);
    t.type_text("y");
    common::cluster::wait_until("the wizard holds before step 3", Duration::from_secs(180), || hold.exists());
    let pid = t.wizard_pid();
    assert!(Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
    t.wait_for("EXITED", 10);
    let runs = run_manifests(state);
    assert_eq!(runs.len(), 1);
    let progress: Vec<&str> = runs[0]["progress"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(progress, ["done", "done", "running", "pending", "pending", "pending"]);
}

#[test]
fn an_interrupted_run_is_resumed_from_the_dialog() {
    let c = real_demo_cluster();
    let state = tempfile::tempdir().unwrap();
    interrupted_run("resume-1", &c, state.path());

    let t = Tmux::start_env("resume", &real_env(&c, state.path(), ""), "", 100, 30);
    let s = t.wait_for("An earlier run was interrupted", 30);
    assert!(s.contains("interrupted after 2 of 6 steps") && s.contains("r resume"), "{s}");
    assert!(s.contains("⟳ stopped") && s.contains("3. Make k8s-2 a route reflector"), "{s}");
    t.type_text("r");
    let s = t.wait_for("applied and verified", 240);
    assert!(s.contains("Taken over from the interrupted run"), "{s}");
    assert_eq!(s.matches("✓ done").count(), 6, "{s}");
    t.type_text("q");
    t.wait_for("EXITED 0", 10);

    assert_switched_to_reflectors(&c);
    let runs = run_manifests(state.path());
    assert_eq!(runs.len(), 1, "resumed in the same run record");
    assert!(runs[0]["finished"].is_string(), "{}", runs[0]);
}

#[test]
fn an_interrupted_run_is_undone_from_the_dialog() {
    let c = real_demo_cluster();
    let state = tempfile::tempdir().unwrap();
    let before = c.kubectl_ok(&["get", "nodes", "-o", "jsonpath={.items[*].metadata.labels}"]);
    interrupted_run("undo-1", &c, state.path());

    let t = Tmux::start_env("undo", &real_env(&c, state.path(), ""), "", 100, 30);
    t.wait_for("An earlier run was interrupted", 30);
    t.type_text("u");
    let s = t.wait_for("Every applied step was undone", 240);
    assert!(s.contains("undone"), "{s}");
    // Back: the cluster is read again, and nothing is left to offer.
    t.keys(&["Escape"]);
    let s = t.wait_for("Checks:", 30);
    assert!(!s.contains("An earlier run was interrupted") && s.contains("Reflectors  none"), "{s}");
    t.type_text("q");
    t.wait_for("EXITED 0", 10);

    assert_eq!(c.kubectl_ok(&["get", "bgppeers.crd.projectcalico.org", "-o", "name"]).trim(), "");
    assert_eq!(c.kubectl_ok(&["get", "nodes", "-o", "jsonpath={.items[*].metadata.labels}"]), before);
    let runs = run_manifests(state.path());
    assert!(runs[0]["finished"].is_string(), "{}", runs[0]);
}
