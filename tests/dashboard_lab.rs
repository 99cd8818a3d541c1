//! The dashboard in a real terminal (tmux) against the real BGP lab (tests/common/lab.rs: BIRD 1.6
//! on three nodes, FRR as the switch, in network namespaces): it follows the switch sessions going
//! down and coming back within two refresh periods of BIRD itself showing the change, and a refresh
//! that finds nothing new writes (almost) nothing to the terminal, measured on the pane's output
//! stream with `tmux pipe-pane`. Also `--exec`'s command (`birdcl -v`) against the lab's BIRD.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use calico_bgp_wizard::app::REFRESH_EVERY;
use common::lab::{Lab, SWITCH_IP, protocol_name};
use common::tmux;

struct Pane {
    server: String,
    dir: tempfile::TempDir,
}

impl Pane {
    fn capture(&self) -> String {
        let out = tmux(&self.server).args(["capture-pane", "-p", "-t", &self.server]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    fn bytes_out(&self) -> u64 {
        std::fs::metadata(self.dir.path().join("pane.out")).map(|m| m.len()).unwrap_or(0)
    }
    /// The dashboard row of `node`'s session with `peer`.
    fn row(&self, node: &str, peer: &str) -> Option<String> {
        self.capture().lines().find(|l| l.starts_with(node) && l.contains(&format!(" {peer} "))).map(str::to_string)
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = tmux(&self.server).arg("kill-server").status();
    }
}

/// Wait until BIRD on `node` shows the switch session Established (or not), then measure how long
/// the dashboard takes to show the same.
fn follow(lab: &Lab, pane: &Pane, node: &str, established: bool) -> Duration {
    let name = protocol_name(SWITCH_IP);
    lab.wait_until(
        &format!("BIRD on {node} shows the switch session established={established}"),
        Duration::from_secs(60),
        || lab.bgp_rows(node).iter().any(|r| r.name == name && r.info.starts_with("Established") == established),
    );
    let seen_by_bird = Instant::now();
    let limit = REFRESH_EVERY * 2 + Duration::from_millis(500);
    loop {
        let row = pane.row(node, SWITCH_IP);
        if row.as_deref().is_some_and(|r| r.contains("Established") == established) {
            return seen_by_bird.elapsed();
        }
        assert!(
            seen_by_bird.elapsed() < limit,
            "the dashboard did not show {node}'s switch session established={established} within two refresh periods; row: {row:?}\n{}",
            pane.capture()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_dashboard_follows_a_switch_session_down_and_up_without_redrawing() {
    let lab = Lab::up();
    let dir = tempfile::tempdir().unwrap();
    let server = format!("cbw-lab-{}", std::process::id());
    let sockets: Vec<String> =
        Lab::nodes().iter().map(|n| format!("--bird-socket {n}={}", lab.socket(n).display())).collect();
    let cmd = format!(
        "env -u KUBECONFIG NO_COLOR=1 HOME={} TERM=xterm-256color {} status {}; sleep 30",
        dir.path().display(),
        env!("CARGO_BIN_EXE_calico-bgp-wizard"),
        sockets.join(" ")
    );
    let ok = tmux(&server)
        .args(["new-session", "-d", "-s", &server, "-x", "160", "-y", "30", &cmd])
        .status()
        .expect("tmux must be installed: run the README's test command, which installs it");
    assert!(ok.success());
    let pane = Pane { server, dir };
    let out = pane.dir.path().join("pane.out");
    let pipe = format!("cat >> {}", out.display());
    assert!(tmux(&pane.server).args(["pipe-pane", "-o", "-t", &pane.server, &pipe]).status().unwrap().success());

    // k8s-1 and k8s-2: the other RR, k8s-3 and the switch; k8s-3: both RRs.
    lab.wait_until("the dashboard shows 8 Established sessions", Duration::from_secs(20), || {
        pane.capture().contains("8 sessions: 8 Established")
    });
    let screen = pane.capture();
    assert!(screen.contains("READ-ONLY"), "{screen}");
    assert!(screen.contains("read k8s-1, k8s-2, k8s-3"), "{screen}");

    // A quiet stretch of five refresh periods: only the age moves, a few bytes a second.
    let before = pane.bytes_out();
    let window = REFRESH_EVERY * 5;
    std::thread::sleep(window);
    let quiet = pane.bytes_out() - before;
    assert!(quiet < 200 * 5, "{quiet} bytes written in 5 refresh periods with nothing new");
    assert!(lab.all_established(), "the lab changed during the quiet window, so the measure means nothing");

    let cycle_start = pane.bytes_out();
    lab.stop_switch();
    let down = ["k8s-1", "k8s-2"].map(|n| follow(&lab, &pane, n, false));
    let row = pane.row("k8s-1", SWITCH_IP).unwrap();
    assert!(row.contains("start") && (row.contains("Active") || row.contains("Connect")), "{row}");
    lab.start_switch();
    let up = ["k8s-1", "k8s-2"].map(|n| follow(&lab, &pane, n, true));
    let screen = pane.capture();
    assert!(screen.contains("8 sessions: 8 Established"), "{screen}");
    let cycle = pane.bytes_out() - cycle_start;
    eprintln!(
        "dashboard lag behind BIRD: down {down:?}, up {up:?}; bytes: {quiet} in 5 quiet periods, {cycle} for the down-and-up"
    );
    // Only the changed rows were redrawn: one full 160x30 screen alone is 4,800 characters.
    assert!(cycle < 4_800, "{cycle} bytes for two sessions going down and up: the screen was redrawn");
}

/// `--exec` runs `birdcl -v … show protocols all` in calico-node pods; no kubelet runs here, so the
/// same command runs against the lab's real BIRD (Debian's `birdc` is the same client as Calico's
/// `birdcl`), and its output must give exactly the rows the socket client reads.
#[test]
fn birdcl_verbose_output_gives_the_socket_clients_rows() {
    let lab = Lab::up();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for node in Lab::nodes() {
        let sock = lab.socket(node);
        let args = &calico_bgp_wizard::status::exec::BIRDCL;
        // The pod's command, with the lab's socket in place of /var/run/calico/bird.ctl.
        let out = Command::new("birdc").args(["-v", "-s"]).arg(&sock).args(&args[4..]).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let via_exec = calico_bgp_wizard::status::exec::peer_rows(node, &String::from_utf8_lossy(&out.stdout)).unwrap();
        let via_socket = rt
            .block_on(calico_bgp_wizard::status::bird::client::node_peers(node, &[sock], Duration::from_secs(2)))
            .unwrap();
        assert_eq!(via_exec.len(), Lab::peer_count(node), "{via_exec:#?}");
        // BIRD 1.6's `since` may move by a second between two queries with no state change.
        let strip = |rows: &[calico_bgp_wizard::status::model::PeerRow]| {
            rows.iter()
                .map(|r| (r.peer_address.clone(), r.peer_type, r.state.clone(), r.info_column()))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&via_exec), strip(&via_socket), "{node}");
    }
}
