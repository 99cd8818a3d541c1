//! `status --once --bird-socket` against real BIRD 1.6 daemons peering a real FRR switch, in network
//! namespaces (`tests/common/lab.rs`). Needs root and bird/frr/iputils-ping: run
//! `sudo bash tests/run-all.sh`, which installs them. Every row the binary prints is compared with
//! `birdc show protocols` of the same node, taken right before and right after.
//!
//! Situations: every session Established (exit 0); the switch stopped (the reflectors' switch
//! sessions `Active … Socket: Connection refused`, exit 1) and started again (exit 0); a protocol
//! disabled (`down`); the client pinging every pod through the switch only while it runs; a
//! missing socket, an unreadable one (run as `nobody`) and BIRD killed in the middle of a reply
//! (exit 3 with the reason); and the lab leaving nothing behind, even after a panic.
//!
//! `CALICO_BGP_WIZARD_RECAPTURE=1` makes the first test also write this lab's raw socket replies and
//! `birdc` texts into `tests/fixtures/bird-lab/` (for the parser's tests), before it checks the binary.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::lab::{self, BirdcRow, Lab, POD_IPS, SWITCH_IP};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_calico-bgp-wizard");
/// Filler protocols on k8s-1 for the killed-mid-reply test: with 64-character names, even plain
/// `show protocols` is over 1 MB (each row ~100 bytes), far more than a UNIX socket buffers.
const FILLER: usize = 12_000;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The binary with its own HOME and state dir, no kubeconfig, no colour.
fn wizard(state: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", state)
        .env("XDG_STATE_HOME", state.join("state"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    c
}

fn status(args: &[&str]) -> Output {
    let state = tempfile::tempdir().unwrap();
    let mut full = vec!["status", "--once"];
    full.extend_from_slice(args);
    wizard(state.path(), &full).output().unwrap()
}

fn socket_arg(lab: &Lab, node: &str) -> String {
    format!("{node}={}", lab.socket(node).display())
}

/// `Node_172_31_13_116` -> `172.31.13.116`; IPv6 names use `_` for `:`.
fn address_of(name: &str) -> String {
    let rest = name.split_once('_').map(|x| x.1).unwrap_or(name);
    let rest = rest.split("_port_").next().unwrap();
    let parts: Vec<&str> = rest.split('_').collect();
    if parts.len() == 4 && parts.iter().all(|p| p.parse::<u8>().is_ok()) {
        parts.join(".")
    } else {
        rest.replace('_', ":")
    }
}

fn peer_type(name: &str) -> Option<&'static str> {
    if name.starts_with("Node_") {
        Some("node specific")
    } else if name.starts_with("Global_") {
        Some("global")
    } else if name.starts_with("Mesh_") {
        Some("node-to-node mesh")
    } else {
        None
    }
}

/// The rows calicoctl would show: BGP protocols named `Node_`, `Global_` or `Mesh_`.
fn peer_rows(rows: Vec<BirdcRow>) -> Vec<BirdcRow> {
    rows.into_iter().filter(|r| peer_type(&r.name).is_some()).collect()
}

/// BIRD's info column split into (BGP state, the text after it); a protocol that is `down` shows
/// no BGP state.
fn split_info(r: &BirdcRow) -> (String, String) {
    if r.state == "down" {
        return ("Down".into(), r.info.clone());
    }
    match r.info.split_once(' ') {
        Some((s, rest)) => (s.to_string(), rest.trim().to_string()),
        None => (r.info.clone(), String::new()),
    }
}

/// calicoctl's INFO column: the BGP state, then the rest after one space.
fn info_column(r: &BirdcRow) -> String {
    let (state, rest) = split_info(r);
    if r.state == "down" {
        rest
    } else if rest.is_empty() {
        state
    } else {
        format!("{state} {rest}")
    }
}

fn seconds(since: &str) -> Option<i64> {
    let p: Vec<i64> = since.split(':').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    (p.len() == 3).then(|| p[0] * 3600 + p[1] * 60 + p[2])
}

/// Two readings of a node agree: same rows, `since` equal or one second apart (BIRD 1.6 clock
/// rounding).
fn agree(a: &[BirdcRow], b: &[BirdcRow]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            let since_ok = x.since == y.since
                || matches!((seconds(&x.since), seconds(&y.since)), (Some(p), Some(q)) if (p - q).abs() <= 1);
            since_ok
                && (&x.name, &x.proto, &x.table, &x.state, &x.info) == (&y.name, &y.proto, &y.table, &y.state, &y.info)
        })
}

/// Check the JSON rows of `node` against the birdc readings before and after.
fn compare(node: &str, json: &[&Value], before: &[BirdcRow], after: &[BirdcRow]) -> Result<(), String> {
    if json.len() != before.len() {
        return Err(format!("{node}: {} rows in JSON, birdc has {}", json.len(), before.len()));
    }
    for ((j, b), a) in json.iter().zip(before).zip(after) {
        let (bgp_state, info) = split_info(b);
        let field = |k: &str| j.get(k).and_then(Value::as_str).unwrap_or("<missing>").to_string();
        let checks = [
            ("node", field("node") == node, node.to_string()),
            ("peerAddress", field("peerAddress") == address_of(&b.name), address_of(&b.name)),
            ("peerType", Some(field("peerType").as_str()) == peer_type(&b.name), peer_type(&b.name).unwrap().into()),
            ("state", field("state") == b.state, b.state.clone()),
            ("since", field("since") == b.since || field("since") == a.since, format!("{} or {}", b.since, a.since)),
            ("bgpState", field("bgpState") == bgp_state, bgp_state.clone()),
            ("info", field("info") == info, info.clone()),
        ];
        for (k, ok, want) in checks {
            if !ok {
                return Err(format!("{node} {}: {k} is {:?}, birdc says {want:?}\nrow: {j}", b.name, field(k)));
            }
        }
    }
    Ok(())
}

/// Run the binary on `nodes` (one `--bird-socket` each, in order) between two birdc readings of
/// each node, and check its output with `verify(output, before, after)`. Readings that disagree
/// (a session changed meanwhile) are retried. A failed check is retried too, but only while a
/// session is not Established (a session in trouble can pass through Idle for ~50 ms, maybe
/// while the binary reads it) and at most 3 times; Established sessions must match at once.
/// Returns the agreeing readings.
fn check_between_readings(
    lab: &Lab,
    nodes: &[&str],
    extra: &[&str],
    verify: impl Fn(&Output, &[Vec<BirdcRow>], &[Vec<BirdcRow>]) -> Result<(), String>,
) -> Vec<Vec<BirdcRow>> {
    let mut failures = Vec::new();
    let mut unsteady = String::new();
    for _ in 0..20 {
        let before: Vec<Vec<BirdcRow>> = nodes.iter().map(|n| peer_rows(lab.bgp_rows(n))).collect();
        let mut args: Vec<String> =
            nodes.iter().flat_map(|n| ["--bird-socket".to_string(), socket_arg(lab, n)]).collect();
        args.extend(extra.iter().map(|a| a.to_string()));
        let out = status(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let after: Vec<Vec<BirdcRow>> = nodes.iter().map(|n| peer_rows(lab.bgp_rows(n))).collect();
        if !before.iter().zip(&after).all(|(b, a)| agree(b, a)) {
            unsteady = format!("BIRD changed between readings: {before:#?} -> {after:#?}");
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        match verify(&out, &before, &after) {
            Ok(()) => return before,
            Err(e) => {
                let report = format!(
                    "status {args:?}: {e}\nexit: {:?}\nstdout:\n{}\nstderr:\n{}\nbirdc before: {before:#?}\n\
                     birdc after: {after:#?}",
                    out.status.code(),
                    text(&out.stdout),
                    text(&out.stderr)
                );
                failures.push(report);
                let settled = before.iter().flatten().all(|r| r.info.starts_with("Established"));
                if settled || failures.len() == 3 {
                    panic!("{}", failures.join("\n\n--- and before that:\n"));
                }
            }
        }
    }
    panic!("BIRD never held still for a reading of {nodes:?}: {unsteady}");
}

/// The exit code: 0 when every session is Established, else 1; and no panic.
fn verify_exit(out: &Output, before: &[Vec<BirdcRow>]) -> Result<(), String> {
    let established = before.iter().flatten().all(|r| r.info.starts_with("Established"));
    let want = if established { 0 } else { 1 };
    if out.status.code() != Some(want) {
        return Err(format!(
            "exit {:?}, expected {want} (every session Established: {established})",
            out.status.code()
        ));
    }
    if text(&out.stderr).contains("panicked") {
        return Err("panicked".into());
    }
    Ok(())
}

/// `status --once -o json` on `nodes`: exit code, and every row against birdc's, node by node
/// in the order of the sockets.
fn check_json(lab: &Lab, nodes: &[&str]) -> Vec<Vec<BirdcRow>> {
    check_between_readings(lab, nodes, &["-o", "json"], |out, before, after| {
        verify_exit(out, before)?;
        let stdout = text(&out.stdout);
        let v: Value = serde_json::from_str(&stdout).map_err(|e| format!("not JSON: {e}"))?;
        let all = v.as_array().ok_or("not a JSON array")?;
        let mut offset = 0;
        for (i, node) in nodes.iter().enumerate() {
            let mine: Vec<&Value> =
                all.iter().filter(|r| r.get("node").and_then(Value::as_str) == Some(node)).collect();
            let in_order: Vec<&Value> = all.iter().skip(offset).take(before[i].len()).collect();
            if mine != in_order {
                return Err(format!("the rows of {node} are not together in the order of the sockets"));
            }
            offset += before[i].len();
            compare(node, &mine, &before[i], &after[i])?;
        }
        if offset != all.len() {
            return Err(format!("{} rows, birdc has {offset}", all.len()));
        }
        Ok(())
    })
}

/// The table form on `node`: one row per peer with node, address, type words, state, since and
/// calicoctl's INFO column (BGP state, then the rest after one space).
fn check_table(lab: &Lab, node: &str) {
    check_between_readings(lab, &[node], &[], |out, before, after| {
        verify_exit(out, before)?;
        let table = text(&out.stdout);
        let cells: Vec<Vec<String>> = table
            .lines()
            .filter(|l| l.starts_with('|'))
            .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect())
            .collect();
        if cells.first().map(|h| h.join(",")).as_deref() != Some("NODE,PEER ADDRESS,PEER TYPE,STATE,SINCE,INFO") {
            return Err("no NODE | PEER ADDRESS | PEER TYPE | STATE | SINCE | INFO header".into());
        }
        if cells.len() != before[0].len() + 1 {
            return Err(format!("{} rows, birdc has {}", cells.len() - 1, before[0].len()));
        }
        for ((row, b), a) in cells[1..].iter().zip(&before[0]).zip(&after[0]) {
            let want = [
                node.to_string(),
                address_of(&b.name),
                peer_type(&b.name).unwrap().to_string(),
                b.state.clone(),
                if row.get(4) == Some(&a.since) { a.since.clone() } else { b.since.clone() },
                info_column(b),
            ];
            if row[..] != want[..] {
                return Err(format!("{}: row {row:?}, expected {want:?}", b.name));
            }
        }
        Ok(())
    });
}

fn all_pods(lab: &Lab, reachable: bool) -> bool {
    POD_IPS.iter().all(|ip| lab.ping_from_client(ip) == reachable)
}

/// Drop the lab and check it left nothing: no namespace, no run dir, no daemon.
fn finish(lab: Lab) {
    let prefix = lab.prefix().to_string();
    let dir = lab.run_dir().to_path_buf();
    let pids = lab.daemon_pids();
    drop(lab);
    assert_eq!(lab::namespaces_with_prefix(&prefix), Vec::<String>::new(), "namespaces left behind");
    assert!(!dir.exists(), "{} left behind", dir.display());
    for (name, pid) in pids {
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "{name} (pid {pid}) still runs");
    }
}

/// With `CALICO_BGP_WIZARD_RECAPTURE` set: write `tests/fixtures/bird-lab/<phase>.<node>.…` for
/// the phases `established` and `switch-stopped` (stops the switch, waits until both reflectors
/// show the refusal, captures, starts it again and waits for Established).
fn recapture_if_asked(lab: &Lab) {
    if std::env::var_os("CALICO_BGP_WIZARD_RECAPTURE").is_none() {
        return;
    }
    capture(lab, "established");
    lab.stop_switch();
    lab.wait_until("k8s-1 and k8s-2 show the switch refusing", Duration::from_secs(60), || switch_refused(lab));
    capture(lab, "switch-stopped");
    lab.start_switch();
    lab.wait_established(lab::UP_DEADLINE);
}

/// Raw socket replies (greeting, then the reply to each command, byte for byte) and `birdc` texts.
fn capture(lab: &Lab, phase: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bird-lab");
    std::fs::create_dir_all(&dir).unwrap();
    for node in Lab::nodes() {
        for cmd in ["show protocols", "show protocols all"] {
            let file = cmd.replace(' ', "_");
            let (greeting, reply) = lab.socket_exchange(node, cmd);
            std::fs::write(dir.join(format!("{phase}.{node}.sock.greeting.txt")), greeting).unwrap();
            std::fs::write(dir.join(format!("{phase}.{node}.sock.{file}.txt")), reply).unwrap();
            std::fs::write(dir.join(format!("{phase}.{node}.birdc.{file}.txt")), lab.birdc(node, cmd)).unwrap();
        }
    }
}

/// The switch's session on both reflectors is down, Active, and BIRD shows why
/// (`Active        Socket: Connection refused`). Right after the stop a reflector can still show
/// `Socket: Connection closed` or pass through `Idle` for ~50 ms; then it stays Active with this
/// error for about 12 s (reference timeline), longer than the checks take.
fn switch_refused(lab: &Lab) -> bool {
    ["k8s-1", "k8s-2"].iter().all(|n| {
        lab.bgp_rows(n).iter().any(|r| {
            r.name == lab::protocol_name(SWITCH_IP)
                && r.state == "start"
                && split_info(r) == ("Active".to_string(), "Socket: Connection refused".to_string())
        })
    })
}

#[test]
fn status_matches_birdc_on_every_node_while_the_switch_stops_and_starts() {
    let lab = Lab::up();
    recapture_if_asked(&lab);

    // 1. Everything Established: exit 0 on each node and on all three at once; pods reachable.
    for node in Lab::nodes() {
        let rows = &check_json(&lab, &[node])[0];
        assert_eq!(rows.len(), Lab::peer_count(node), "{node}: {rows:#?}");
        assert!(rows.iter().all(|r| r.state == "up" && r.info == "Established"), "{node}: {rows:#?}");
    }
    check_json(&lab, &Lab::nodes());
    check_table(&lab, "k8s-1");
    lab.wait_until("the client reaches every pod through the switch", Duration::from_secs(30), || all_pods(&lab, true));

    // 2. Switch stopped: the reflectors' switch sessions fail with the socket error; k8s-3 (no
    //    switch session) stays all Established.
    lab.stop_switch();
    lab.wait_until("k8s-1 and k8s-2 show the switch refusing", Duration::from_secs(60), || switch_refused(&lab));
    for node in Lab::nodes() {
        let rows = &check_json(&lab, &[node])[0];
        for r in rows {
            let to_switch = r.name == lab::protocol_name(SWITCH_IP);
            assert_eq!(!r.info.starts_with("Established"), to_switch, "{node}: {r:?}");
            if to_switch {
                let (state, rest) = split_info(r);
                assert!(["Active", "Idle", "Connect", "OpenSent"].contains(&state.as_str()), "{node}: {r:?}");
                assert_eq!(rest, "Socket: Connection refused", "{node}: {r:?}");
            }
        }
    }
    check_json(&lab, &Lab::nodes());
    check_table(&lab, "k8s-1");
    assert!(
        POD_IPS.iter().all(|ip| !lab.ping_from_client(ip)),
        "a pod still answers the client with the switch stopped"
    );

    // 3. Switch started again: back to Established everywhere, pods reachable again.
    lab.start_switch();
    lab.wait_established(lab::UP_DEADLINE);
    for node in Lab::nodes() {
        let rows = &check_json(&lab, &[node])[0];
        assert!(rows.iter().all(|r| r.state == "up" && r.info == "Established"), "{node}: {rows:#?}");
    }
    check_json(&lab, &Lab::nodes());
    check_table(&lab, "k8s-2");
    lab.wait_until("the client reaches every pod again", Duration::from_secs(30), || all_pods(&lab, true));

    // 4. A protocol that is down (`birdc disable` on k8s-2, the passive side of k8s-2 <-> k8s-3):
    //    k8s-2 shows `down` with no BGP state and no error; k8s-3 keeps trying (Active + error).
    let to_k8s3 = lab::protocol_name(lab::node_ip("k8s-3"));
    let to_k8s2 = lab::protocol_name(lab::node_ip("k8s-2"));
    assert!(lab.birdc("k8s-2", &format!("disable {to_k8s3}")).contains("disabled"));
    lab.wait_until("k8s-2's session to k8s-3 is down and k8s-3 retries", Duration::from_secs(30), || {
        let down = lab.bgp_rows("k8s-2").iter().any(|r| r.name == to_k8s3 && r.state == "down");
        let retrying = lab.bgp_rows("k8s-3").iter().any(|r| {
            r.name == to_k8s2 && r.state == "start" && r.info.starts_with("Active") && r.info.contains("Socket:")
        });
        down && retrying
    });
    for node in Lab::nodes() {
        check_json(&lab, &[node]);
    }
    let rows = check_json(&lab, &Lab::nodes());
    assert!(rows[1].iter().any(|r| r.name == to_k8s3 && r.state == "down" && r.info.is_empty()), "{rows:#?}");
    check_table(&lab, "k8s-2");
    assert!(lab.birdc("k8s-2", &format!("enable {to_k8s3}")).contains("enabled"));
    lab.wait_established(lab::UP_DEADLINE);

    finish(lab);
}

#[test]
fn a_missing_socket_is_exit_3_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-bird-here.ctl");
    let p = path.display().to_string();
    for args in [vec!["--bird-socket", &p], vec!["--bird-socket", &format!("k8s-9={p}"), "-o", "json"]] {
        let out = status(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: stdout {}\nstderr {err}", text(&out.stdout));
        assert!(err.contains(&p) && err.contains("no such socket"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn an_unreadable_socket_is_exit_3_permission_denied() {
    let lab = Lab::up();
    let sock = lab.socket("k8s-2");
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    if mode & 0o007 != 0 {
        // BIRD 1.6.8 makes it 0660 root:root; should another build leave it open, close it.
        std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    assert_eq!(
        std::fs::metadata(&sock).unwrap().permissions().mode() & 0o007,
        0,
        "{} is open to others",
        sock.display()
    );
    // The binary and a state dir where `nobody` can reach them.
    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = home.path().join("calico-bgp-wizard");
    std::fs::copy(BIN, &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let state = home.path().join("nobody");
    std::fs::create_dir(&state).unwrap();
    std::os::unix::fs::chown(&state, Some(65534), Some(65534)).unwrap();
    let as_nobody = |prog: &Path, args: &[&str]| -> Output {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(prog).args(args);
        c.env_remove("KUBECONFIG")
            .env("HOME", &state)
            .env("XDG_STATE_HOME", state.join("state"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        c.output().unwrap()
    };
    // The path is reachable by nobody: what refuses is the socket's own mode.
    let seen = as_nobody(Path::new("/usr/bin/test"), &["-S", &sock.display().to_string()]);
    assert!(seen.status.success(), "nobody cannot even see {}: the run dir is not traversable", sock.display());

    let arg = format!("k8s-2={}", sock.display());
    let out = as_nobody(&bin, &["status", "--once", "--bird-socket", &arg]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stdout {}\nstderr {err}", text(&out.stdout));
    assert!(err.contains(&sock.display().to_string()) && err.contains("permission denied"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The socket itself is fine: root reads it.
    check_json(&lab, &["k8s-2"]);
    finish(lab);
}

/// A child process that is killed if the test fails while it runs.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn bird_killed_in_the_middle_of_its_reply_is_exit_3() {
    let lab = Lab::up_with_filler(FILLER);
    let sock = lab.socket("k8s-1");
    for cmd in ["show protocols", "show protocols all"] {
        let (_, reply) = lab.socket_exchange("k8s-1", cmd);
        assert!(reply.len() > 1 << 20, "{cmd} on k8s-1 is only {} bytes: no longer than a socket buffer", reply.len());
    }
    let state = tempfile::tempdir().unwrap();
    let hold = state.path().join("hold");
    let held = state.path().join("hold.held");
    std::fs::write(&hold, "").unwrap();
    let (out_file, err_file) = (state.path().join("stdout"), state.path().join("stderr"));
    let mut child = KillOnDrop(
        wizard(state.path(), &["status", "--once", "--bird-socket", &format!("k8s-1={}", sock.display())])
            .env("CALICO_BGP_WIZARD_TEST_BIRD_HOLD_FILE", &hold)
            .stdout(std::fs::File::create(&out_file).unwrap())
            .stderr(std::fs::File::create(&err_file).unwrap())
            .spawn()
            .unwrap(),
    );
    let child = &mut child.0;
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    lab.wait_until("the binary holds after the first chunk of BIRD's reply", Duration::from_secs(60), || {
        if let Ok(Some(code)) = child.try_wait() {
            panic!("the binary ended ({code}) before holding:\n{}\n{}", read(&out_file), read(&err_file));
        }
        held.exists()
    });
    let pid = lab.bird_pid("k8s-1");
    lab.kill_bird("k8s-1");
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "BIRD (pid {pid}) survived SIGKILL");
    std::fs::remove_file(&hold).unwrap();
    let end = Instant::now() + Duration::from_secs(60);
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if Instant::now() > end {
            panic!("the binary did not end within 60 s after BIRD was killed:\n{}", read(&err_file));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let err = read(&err_file);
    assert_eq!(code, Some(3), "stdout {}\nstderr {err}", read(&out_file));
    assert!(
        err.contains("closed the connection in the middle of its reply") && err.contains(&sock.display().to_string()),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    finish(lab);
}

#[test]
fn a_lab_leaves_nothing_behind_even_after_a_panic() {
    if let Err(e) = lab::preflight() {
        panic!("{e}");
    }
    let mut seen = None;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let lab = Lab::up();
        seen = Some((lab.prefix().to_string(), lab.run_dir().to_path_buf(), lab.daemon_pids()));
        assert_eq!(lab::namespaces_with_prefix(lab.prefix()).len(), 6);
        assert_eq!(lab.daemon_pids().len(), 5, "3 BIRDs, zebra and bgpd");
        panic!("deliberate panic with the lab up");
    }));
    assert!(result.is_err());
    let (prefix, dir, pids) = seen.expect("the lab came up");
    assert_eq!(lab::namespaces_with_prefix(&prefix), Vec::<String>::new(), "namespaces left behind");
    assert!(!dir.exists(), "{} left behind", dir.display());
    for (name, pid) in pids {
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "{name} (pid {pid}) still runs");
    }
}

/// The captures in `tests/fixtures/bird-lab/` are complete replies of this lab, in both phases.
#[test]
fn captured_fixtures_are_complete() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bird-lab");
    for phase in ["established", "switch-stopped"] {
        for node in Lab::nodes() {
            let read = |kind: &str, cmd: &str| {
                let p = dir.join(format!("{phase}.{node}.{kind}.{cmd}.txt"));
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            };
            assert_eq!(read("sock", "greeting"), "0001 BIRD 1.6.8 ready.\n");
            for cmd in ["show_protocols", "show_protocols_all"] {
                let raw = read("sock", cmd);
                assert!(
                    raw.starts_with("2002-name     proto    table    state  since       info\n"),
                    "{phase} {node} {cmd}"
                );
                assert!(raw.ends_with("\n0000 \n"), "{phase} {node} {cmd}");
                assert!(read("birdc", cmd).starts_with("BIRD 1.6.8 ready.\n"), "{phase} {node} {cmd}");
            }
            let rows = peer_rows(lab::parse_birdc_protocols(&read("birdc", "show_protocols")));
            let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
            let want: &[&str] = match node {
                "k8s-1" => &["Node_172_31_13_28", "Node_172_31_13_29", "Node_172_31_13_116"],
                "k8s-2" => &["Node_172_31_13_27", "Node_172_31_13_29", "Node_172_31_13_116"],
                _ => &["Node_172_31_13_27", "Node_172_31_13_28"],
            };
            assert_eq!(names, want, "{phase} {node}");
            for r in &rows {
                let down = phase == "switch-stopped" && r.name == "Node_172_31_13_116";
                assert_eq!(r.info.starts_with("Established"), !down, "{phase} {node} {r:?}");
            }
        }
    }
}
