//! The command line, end to end: runs the real binary (`plan`, `status --once`, completions, help)
//! with a fresh HOME (so no kubeconfig is found and the log file lands there) and a cleared
//! environment (no KUBECONFIG, RUST_BACKTRACE, XDG_* or NO_COLOR from the caller), checking exit
//! codes, stdout and stderr.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use calico_bgp_wizard::assert_snap;

const BIN: &str = env!("CARGO_BIN_EXE_calico-bgp-wizard");
/// Longer than any command here takes, even in a debug build: a hang (e.g. a TUI started by
/// mistake) fails the test instead of blocking the run.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The demo scenario of the README.
const DEMO_PLAN: [&str; 10] = [
    "plan",
    "--switch-ip",
    "172.31.13.116",
    "--switch-as",
    "7675",
    "--reflectors",
    "k8s-1,k8s-2",
    "--pool",
    "172.27.208.0/22",
    "--demo",
];

/// (exit code, stdout, stderr); the code is -1 when the process died of a signal or timed out.
type Out = (i32, String, String);

/// Run the binary with a fresh, empty HOME.
fn run(args: &[&str]) -> Out {
    let home = tempfile::tempdir().expect("temp HOME");
    run_in(home.path(), args)
}

/// Run the binary with `home` as HOME and nothing else from the caller's environment.
fn run_in(home: &Path, args: &[&str]) -> Out {
    run_env(home, args, &[])
}

/// Like [`run_in`], plus the given environment variables.
fn run_env(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .current_dir(home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn calico-bgp-wizard");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (stdout, mut stderr) = (out.join().expect("stdout thread"), err.join().expect("stderr thread"));
    if status.is_none() {
        stderr.push_str(&format!("\n[test harness: killed after {TIMEOUT:?}]"));
    }
    (status.and_then(|s| s.code()).unwrap_or(-1), stdout, stderr)
}

/// The run, for assertion messages.
fn show(o: &Out) -> String {
    format!("\n--- exit code: {}\n--- stdout:\n{}\n--- stderr:\n{}\n---", o.0, o.1, o.2)
}

/// `text` without ANSI escape sequences (color-eyre colours its reports).
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The demo plan's arguments with some options replaced (or added).
fn plan_args<'a>(overrides: &[(&'a str, &'a str)]) -> Vec<&'a str> {
    let mut args: Vec<&str> = DEMO_PLAN.to_vec();
    for (opt, value) in overrides {
        match args.iter().position(|a| a == opt) {
            Some(i) => args[i + 1] = value,
            None => args.extend([*opt, *value]),
        }
    }
    args
}

/// Every file under `dir`, relative path → contents.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("under root").to_path_buf();
                out.insert(rel, std::fs::read(&p).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Everything the program wrote under HOME's state directory (the log file), as text.
fn logs(home: &Path) -> String {
    let dir = home.join(".local/state/calico-bgp-wizard/logs");
    if !dir.exists() {
        return String::new();
    }
    tree(&dir).values().map(|b| String::from_utf8_lossy(b).into_owned()).collect()
}

fn assert_no_panic(o: &Out) {
    assert!(!o.2.contains("panicked"), "{}", show(o));
}

// ---- plan: the demo scenario --------------------------------------------------------------------

fn assert_demo_plan_yaml(o: &Out) {
    let s = show(o);
    assert_eq!(o.0, 0, "{s}");
    let y = &o.1;
    for want in [
        "kind: BGPPeer",
        "name: peer-with-route-reflectors",
        "peerSelector: route-reflector == 'true'",
        "name: rr-peer",
        "nodeSelector: route-reflector == 'true'",
        "peerIP: \"172.31.13.116\"",
        "asNumber: 7675",
        "nodeToNodeMeshEnabled: false",
        "ipipMode: Never",
        "natOutgoing: false",
        "# Outside client: ip route add 172.27.208.0/22 via 172.31.13.116",
    ] {
        assert!(y.contains(want), "stdout lacks {want:?}{s}");
    }
    // Both peers come first, in one step that selects no node yet.
    let peers = y.find("name: peer-with-route-reflectors").expect("peer");
    let rr_peer = y.find("name: rr-peer").expect("rr-peer");
    let mesh = y.find("nodeToNodeMeshEnabled: false").expect("mesh");
    assert!(peers < mesh && rr_peer < mesh, "the peers must come before the mesh goes off{s}");
    // The rr-peer document has the switch's IP and AS.
    let rr_doc = y.split("---\n").find(|d| d.contains("name: rr-peer")).expect("rr-peer document");
    assert!(rr_doc.contains("peerIP: \"172.31.13.116\"") && rr_doc.contains("asNumber: 7675"), "{rr_doc}{s}");
    // Each reflector gets the cluster ID annotation and the label.
    for node in ["k8s-1", "k8s-2"] {
        let doc = y
            .split("---\n")
            .find(|d| d.contains("kind: Node") && d.contains(&format!("name: {node}\n")))
            .unwrap_or_else(|| panic!("no Node document for {node}{s}"));
        assert!(doc.contains("projectcalico.org/RouteReflectorClusterID: \"244.0.0.1\""), "{node}: {doc}{s}");
        assert!(doc.contains("route-reflector: \"true\""), "{node}: {doc}{s}");
    }
    assert!(!y.contains("name: k8s-3\n"), "k8s-3 is no reflector{s}");
    // The pool steps come last: encapsulation off, then NAT off.
    let encap = y.find("ipipMode: Never").expect("encap");
    let nat = y.find("natOutgoing: false").expect("nat");
    assert!(mesh < encap && encap < nat, "order: mesh, encapsulation, NAT{s}");
    // stderr: the public-AS warning and nothing else (logs go to a file, never to the screen).
    assert!(o.2.contains("warning: '7675' is a public AS number"), "{s}");
    for line in o.2.lines() {
        assert!(line.starts_with("warning: "), "unexpected stderr line {line:?}{s}");
    }
}

#[test]
fn plan_demo_yaml() {
    let home = tempfile::tempdir().unwrap();
    let mut args = vec!["--demo"];
    args.extend(DEMO_PLAN.iter().filter(|a| **a != "--demo"));
    let o = run_in(home.path(), &args);
    assert_demo_plan_yaml(&o);
    // The log file is in HOME's state directory.
    let log = home.path().join(".local/state/calico-bgp-wizard/logs/calico-bgp-wizard.log");
    assert!(log.is_file(), "no log file at {}{}", log.display(), show(&o));
}

#[test]
fn plan_demo_yaml_with_global_options_after_the_subcommand() {
    let o = run(&DEMO_PLAN);
    assert_demo_plan_yaml(&o);
    // Before or after: the same plan.
    let mut before = vec!["--demo"];
    before.extend(DEMO_PLAN.iter().filter(|a| **a != "--demo"));
    assert_eq!(o, run(&before));
}

#[test]
fn plan_pool_by_name_is_the_same_as_by_cidr() {
    let by_cidr = run(&DEMO_PLAN);
    let by_name = run(&plan_args(&[("--pool", "default-ipv4-ippool")]));
    assert_eq!(by_name.0, 0, "{}", show(&by_name));
    assert_eq!(by_cidr, by_name);
}

#[test]
fn plan_json_steps_in_apply_order() {
    let o = run(&plan_args(&[("-o", "json")]));
    let s = show(&o);
    assert_eq!(o.0, 0, "{s}");
    let v: serde_json::Value = serde_json::from_str(&o.1).unwrap_or_else(|e| panic!("not JSON: {e}{s}"));
    assert_eq!(v["format"], "calico-bgp-wizard-plan/v1", "{s}");
    assert_eq!(v["answers"]["switch_ip"], "172.31.13.116", "{s}");
    assert_eq!(v["answers"]["switch_as"], 7675, "{s}");
    assert_eq!(v["answers"]["password"], serde_json::Value::Null, "{s}");
    assert_eq!(v["client_route"], "ip route add 172.27.208.0/22 via 172.31.13.116", "{s}");
    let steps = v["steps"].as_array().unwrap_or_else(|| panic!("no steps array{s}"));
    let kinds: Vec<&str> = steps.iter().map(|st| st["kind"].as_str().unwrap_or("?")).collect();
    for (i, st) in steps.iter().enumerate() {
        assert_eq!(st["number"], i + 1, "step numbers are 1, 2, …{s}");
    }
    let first = |k: &str| kinds.iter().position(|x| *x == k).unwrap_or_else(|| panic!("no {k} step in {kinds:?}"));
    let last = |k: &str| kinds.iter().rposition(|x| *x == k).unwrap_or_else(|| panic!("no {k} step in {kinds:?}"));
    assert!(first("create-peers") < first("promote-reflector"), "{kinds:?}");
    assert!(last("promote-reflector") < first("disable-mesh"), "{kinds:?}");
    assert!(first("disable-mesh") < first("pool-encapsulation"), "{kinds:?}");
    assert!(first("pool-encapsulation") < first("pool-nat-outgoing"), "{kinds:?}");
    let promoted: Vec<&str> = steps
        .iter()
        .filter(|st| st["kind"] == "promote-reflector")
        .map(|st| st["node"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(promoted, ["k8s-1", "k8s-2"], "one reflector per step{s}");
}

#[test]
fn plan_dir_writes_files_and_refuses_a_non_empty_dir() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("p");
    let dir_s = dir.to_str().expect("utf-8 temp path");
    let o = run_in(home.path(), &plan_args(&[("-o", "dir"), ("--dir", dir_s)]));
    let s = show(&o);
    assert_eq!(o.0, 0, "{s}");
    assert!(o.1.starts_with("plan written to "), "{s}");
    let files = tree(&dir);
    assert!(o.1.contains(&format!("({} files)", files.len())), "the count printed is the count written{s}");
    for f in ["README.txt", "plan.json", "all-v1.yaml", "all-v3.yaml", "steps/01-create-peers.yaml"] {
        let c = files.get(Path::new(f)).unwrap_or_else(|| panic!("{f} not written; have {:?}{s}", files.keys()));
        assert!(!c.is_empty(), "{f} is empty{s}");
    }
    for vendor in [
        "cisco-ios",
        "cisco-nxos",
        "arista-eos",
        "juniper-junos",
        "huawei-vrp",
        "h3c-comware",
        "frr",
        "mikrotik",
        "vyos",
    ] {
        let f = format!("switch/{vendor}.txt");
        let c = files.get(Path::new(&f)).unwrap_or_else(|| panic!("{f} not written; have {:?}{s}", files.keys()));
        assert!(!c.is_empty(), "{f} is empty{s}");
    }
    let switch_files = files.keys().filter(|p| p.starts_with("switch")).count();
    assert_eq!(switch_files, 9, "one switch file per vendor{s}");
    let json: serde_json::Value = serde_json::from_slice(&files[Path::new("plan.json")]).expect("plan.json is JSON");
    assert!(json["steps"].as_array().is_some_and(|a| !a.is_empty()), "{json}");
    let readme = String::from_utf8_lossy(&files[Path::new("README.txt")]);
    assert!(readme.contains("ip route add 172.27.208.0/22 via 172.31.13.116"), "{readme}");

    // Again into the same, now non-empty directory: refused, nothing touched.
    let again = run_in(home.path(), &plan_args(&[("-o", "dir"), ("--dir", dir_s), ("--vendor", "frr")]));
    let s = show(&again);
    assert_ne!(again.0, 0, "{s}");
    assert!(plain(&again.2).contains(&format!("'{dir_s}' exists and is not empty")), "{s}");
    assert!(!again.1.contains("plan written"), "{s}");
    assert_no_panic(&again);
    assert_eq!(tree(&dir), files, "the second run changed the directory{s}");
}

#[test]
fn plan_bad_input_writes_no_dir() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("p");
    let o = run_in(
        home.path(),
        &plan_args(&[("--pool", "172.27.0.208/22"), ("-o", "dir"), ("--dir", dir.to_str().unwrap())]),
    );
    assert_eq!(o.0, 2, "{}", show(&o));
    assert!(!dir.exists(), "bad input must write nothing{}", show(&o));
}

#[test]
fn plan_switch_as_in_asdot() {
    let o = run(&plan_args(&[("--switch-as", "1.10")]));
    let s = show(&o);
    assert_eq!(o.0, 0, "{s}");
    assert!(o.1.contains("asNumber: 65546") && o.1.contains("# router bgp 65546"), "{s}");
    assert!(o.2.contains("warning: '1.10' (AS 65546) is reserved for documentation"), "{s}");
}

// ---- plan: bad input ------------------------------------------------------------------------------

/// Exit 2, nothing on stdout, and an `error: '<value>' …; <fix>` line for each expected finding.
fn assert_bad_input(o: &Out, findings: &[(&str, &[&str])]) {
    let s = show(o);
    assert_eq!(o.0, 2, "{s}");
    assert_eq!(o.1, "", "bad input prints nothing on stdout{s}");
    assert!(o.2.contains("no plan: fix the errors above (nothing was changed)"), "{s}");
    for (value, parts) in findings {
        let quoted = format!("'{value}'");
        let line =
            o.2.lines()
                .find(|l| l.starts_with("error: ") && l.contains(&quoted))
                .unwrap_or_else(|| panic!("no error line quoting {quoted}{s}"));
        assert!(line.contains("; "), "the finding for {quoted} has no fix: {line:?}{s}");
        for p in *parts {
            assert!(line.contains(p), "the finding for {quoted} lacks {p:?}: {line:?}{s}");
        }
    }
    assert_no_panic(o);
}

#[test]
fn plan_bad_pool_host_bits() {
    let o = run(&plan_args(&[("--pool", "172.27.0.208/22")]));
    assert_bad_input(&o, &[("172.27.0.208/22", &[])]);
    assert!(
        o.2.lines()
            .any(|l| l == "error: '172.27.0.208/22' has host bits set; did you mean 172.27.0.0/22? [pool-host-bits]"),
        "{}",
        show(&o)
    );
}

#[test]
fn plan_bad_switch_as_syntax() {
    let o = run(&plan_args(&[("--switch-as", "AS7675")]));
    assert_bad_input(&o, &[("AS7675", &["is not an AS number", "router bgp"])]);
}

#[test]
fn plan_bad_switch_as_trans() {
    let o = run(&plan_args(&[("--switch-as", "23456")]));
    assert_bad_input(&o, &[("23456", &["AS_TRANS", "4-byte AS"])]);
}

#[test]
fn plan_bad_switch_ip_is_a_node() {
    let o = run(&plan_args(&[("--switch-ip", "172.31.13.27")]));
    assert_bad_input(&o, &[("172.31.13.27", &["node 'k8s-1'", "not a node's"])]);
}

#[test]
fn plan_bad_unknown_reflector() {
    let o = run(&plan_args(&[("--reflectors", "k8s-9")]));
    assert_bad_input(&o, &[("k8s-9", &["is not a node of this cluster", "choose from 'k8s-1', 'k8s-2', 'k8s-3'"])]);
}

#[test]
fn plan_bad_cluster_id() {
    let o = run(&plan_args(&[("--cluster-id", "244.0.0")]));
    assert_bad_input(&o, &[("244.0.0", &["is not an IPv4 address", "use 244.0.0.1"])]);
}

#[test]
fn plan_bad_input_reports_every_finding_at_once() {
    let o = run(&plan_args(&[
        ("--pool", "172.27.0.208/22"),
        ("--switch-as", "AS7675"),
        ("--switch-ip", "172.31.13.27"),
        ("--reflectors", "k8s-9,k8s-2"),
        ("--cluster-id", "244.0.0"),
    ]));
    assert_bad_input(
        &o,
        &[
            ("172.27.0.208/22", &["did you mean 172.27.0.0/22?"]),
            ("AS7675", &["is not an AS number"]),
            ("172.31.13.27", &["node 'k8s-1'"]),
            ("k8s-9", &["is not a node of this cluster"]),
            ("244.0.0", &["is not an IPv4 address"]),
        ],
    );
}

#[test]
fn plan_password_too_long_is_refused_and_never_shown() {
    let home = tempfile::tempdir().unwrap();
    let secret = "Zq9-".repeat(20) + "X"; // 81 characters
    assert_eq!(secret.chars().count(), 81);
    let file = home.path().join("pw");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let o = run_in(home.path(), &plan_args(&[("--password-file", file.to_str().unwrap())]));
    let s = show(&o);
    assert_eq!(o.0, 2, "{s}");
    assert_eq!(o.1, "", "{s}");
    let line =
        o.2.lines().find(|l| l.starts_with("error: ") && l.contains("password")).unwrap_or_else(|| panic!("{s}"));
    assert!(line.contains("81") && line.contains("80"), "{line:?}{s}");
    assert!(!o.1.contains(&secret[..12]) && !o.2.contains(&secret[..12]), "the password leaked{s}");
    assert!(!logs(home.path()).contains(&secret[..12]), "the password is in the log file");
}

#[test]
fn plan_password_is_never_printed_or_written() {
    let home = tempfile::tempdir().unwrap();
    let secret = "Tr0ub4dor&3-cli-s3cret";
    let file = home.path().join("pw");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let pw = file.to_str().unwrap();
    for format in ["yaml", "json"] {
        let o = run_in(home.path(), &plan_args(&[("--password-file", pw), ("-o", format)]));
        let s = show(&o);
        assert_eq!(o.0, 0, "-o {format}{s}");
        assert!(!o.1.contains(secret) && !o.2.contains(secret), "-o {format}: the password leaked{s}");
        assert!(o.1.contains("<redacted>"), "-o {format}: the Secret is shown redacted{s}");
    }
    let o = run(&plan_args(&[("--password-file", pw), ("-o", "json")]));
    let v: serde_json::Value = serde_json::from_str(&o.1).unwrap_or_else(|e| panic!("{e}{}", show(&o)));
    assert_eq!(v["answers"]["password"], "<redacted>");
    assert_eq!(v["steps"][0]["kind"], "create-password-secret", "the Secret comes before the peers using it");

    let dir = home.path().join("p");
    let o =
        run_in(home.path(), &plan_args(&[("--password-file", pw), ("-o", "dir"), ("--dir", dir.to_str().unwrap())]));
    assert_eq!(o.0, 0, "{}", show(&o));
    for (path, contents) in tree(&dir) {
        assert!(!String::from_utf8_lossy(&contents).contains(secret), "the password is in {}", path.display());
    }
    assert!(!logs(home.path()).contains(secret), "the password is in the log file");
}

// ---- plan: generated demo -------------------------------------------------------------------------

#[test]
fn plan_on_a_generated_demo_of_50_nodes() {
    let o = run(&[
        "--demo",
        "--demo-nodes",
        "50",
        "plan",
        "--switch-ip",
        "172.31.13.116",
        "--switch-as",
        "65000",
        "--reflectors",
        "k8s-001,k8s-002",
        "--pool",
        "172.27.208.0/22",
    ]);
    let s = show(&o);
    assert_eq!(o.0, 0, "{s}");
    for want in ["name: k8s-001\n", "name: k8s-002\n", "asNumber: 65000", "nodeToNodeMeshEnabled: false"] {
        assert!(o.1.contains(want), "stdout lacks {want:?}{s}");
    }
    assert!(!o.1.contains("name: k8s-003\n"), "only the two reflectors are patched{s}");
    assert!(!o.2.contains("public AS"), "65000 is private{s}");
}

#[test]
fn demo_nodes_out_of_range_is_a_usage_error() {
    for n in ["0", "1001", "many"] {
        let o = run(&["--demo", "--demo-nodes", n, "status", "--once"]);
        assert_eq!(o.0, 2, "--demo-nodes {n}{}", show(&o));
        assert_eq!(o.1, "", "{}", show(&o));
        assert!(o.2.contains("--demo-nodes"), "{}", show(&o));
    }
}

// ---- status --once --------------------------------------------------------------------------------

#[test]
fn status_once_table() {
    let o = run(&["--demo", "status", "--once"]);
    let s = show(&o);
    assert_eq!(o.0, 0, "every session is Established{s}");
    assert_eq!(o.2, "", "{s}");
    let header = o.1.lines().nth(1).unwrap_or_else(|| panic!("no header{s}"));
    let cols: Vec<&str> = header.split('|').map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(cols, ["NODE", "PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"], "{s}");
    let rows: Vec<&str> = o.1.lines().filter(|l| l.starts_with("| k8s-")).collect();
    assert_eq!(rows.len(), 6, "3 nodes × 2 mesh sessions{s}");
    for r in &rows {
        assert!(r.contains("| node-to-node mesh |") && r.contains("| Established |"), "{r:?}{s}");
    }
    assert_snap!("cli_status_once_table", o.1);
}

#[test]
fn status_once_json() {
    let o = run(&["status", "--once", "-o", "json", "--demo"]);
    let s = show(&o);
    assert_eq!(o.0, 0, "{s}");
    let v: serde_json::Value = serde_json::from_str(&o.1).unwrap_or_else(|e| panic!("not JSON: {e}{s}"));
    let rows = v.as_array().unwrap_or_else(|| panic!("not an array{s}"));
    assert_eq!(rows.len(), 6, "{s}");
    for r in rows {
        assert_eq!(r["bgpState"], "Established", "{r}");
        assert_eq!(r["peerType"], "node-to-node mesh", "{r}");
    }
    for node in ["k8s-1", "k8s-2", "k8s-3"] {
        assert_eq!(rows.iter().filter(|r| r["node"] == node).count(), 2, "{node}{s}");
    }
}

#[test]
fn status_once_without_any_cluster_runs_on_the_demo() {
    // No --demo, no kubeconfig anywhere: the demo, as the README says.
    let o = run(&["status", "--once"]);
    assert_eq!(o.0, 0, "{}", show(&o));
    assert_eq!(o, run(&["--demo", "status", "--once"]));
}

// ---- a configured cluster is used, not the demo (these kubeconfigs name no context) -----------------

fn assert_refuses_real_cluster(o: &Out) {
    let s = show(o);
    assert_ne!(o.0, 0, "{s}");
    assert_eq!(o.1, "", "{s}");
    let err = plain(&o.2);
    assert!(err.contains("has no current context; choose one with --context (contexts: none)"), "{s}");
    assert!(!err.contains("panicked"), "{s}");
}

fn home_with_kubeconfig() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".kube")).unwrap();
    std::fs::write(home.path().join(".kube/config"), "apiVersion: v1\nkind: Config\n").unwrap();
    home
}

#[test]
fn status_once_with_a_kubeconfig_uses_it_not_the_demo() {
    let home = home_with_kubeconfig();
    assert_refuses_real_cluster(&run_in(home.path(), &["status", "--once"]));
    // --demo still works there.
    let o = run_in(home.path(), &["status", "--once", "--demo"]);
    assert_eq!(o.0, 0, "{}", show(&o));
}

#[test]
fn plan_and_wizard_with_a_kubeconfig_use_it_not_the_demo() {
    let home = home_with_kubeconfig();
    let args: Vec<&str> = DEMO_PLAN.iter().copied().filter(|a| *a != "--demo").collect();
    assert_refuses_real_cluster(&run_in(home.path(), &args));
    // The wizard refuses before it takes over the terminal.
    assert_refuses_real_cluster(&run_in(home.path(), &[]));
}

#[test]
fn kubeconfig_env_or_option_counts_as_a_configured_cluster() {
    let home = tempfile::tempdir().unwrap();
    let kc = home.path().join("kc");
    std::fs::write(&kc, "apiVersion: v1\nkind: Config\n").unwrap();
    let kc = kc.to_str().unwrap();
    assert_refuses_real_cluster(&run_env(home.path(), &["status", "--once"], &[("KUBECONFIG", kc)]));
    assert_refuses_real_cluster(&run_in(home.path(), &["status", "--once", "--kubeconfig", kc]));
    let o = run_in(home.path(), &["status", "--once", "--context", "prod"]);
    assert_ne!(o.0, 0, "{}", show(&o));
    assert!(plain(&o.2).contains("--context was given, but no kubeconfig was found"), "{}", show(&o));
    // An empty KUBECONFIG is no configuration.
    let o = run_env(home.path(), &["status", "--once"], &[("KUBECONFIG", "")]);
    assert_eq!(o.0, 0, "{}", show(&o));
}

// ---- completions, version, help, usage errors ---------------------------------------------------------

#[test]
fn completions() {
    let o = run(&["completions", "bash"]);
    assert_eq!(o.0, 0, "{}", show(&o));
    assert!(o.1.contains("calico-bgp-wizard"), "{}", show(&o));
    assert!(o.1.contains("--switch-ip") && o.1.contains("--demo"), "{}", show(&o));
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let o = run(&["completions", shell]);
        assert_eq!(o.0, 0, "{shell}{}", show(&o));
        assert!(o.1.contains("calico-bgp-wizard"), "{shell}{}", show(&o));
    }
    let o = run(&["completions", "tcsh"]);
    assert_eq!(o.0, 2, "{}", show(&o));
}

#[test]
fn version_and_help() {
    let o = run(&["--version"]);
    assert_eq!(o.0, 0, "{}", show(&o));
    // `calico-bgp-wizard 0.1.0 (git 056f6d2a1b2c)`, `-dirty` after the id when tracked files had
    // changes, `(git unknown)` when built without git (build.rs).
    let line = o.1.trim();
    let revision = line
        .strip_prefix(&format!("calico-bgp-wizard {} (git ", env!("CARGO_PKG_VERSION")))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("--version is not `calico-bgp-wizard VERSION (git REVISION)`{}", show(&o)));
    let commit = revision.strip_suffix("-dirty").unwrap_or(revision);
    assert!(
        revision == "unknown" || (commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "the revision is neither a 12-digit commit id (optionally -dirty) nor `unknown`{}",
        show(&o)
    );
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let o = run(args);
        assert_eq!(o.0, 0, "{args:?}{}", show(&o));
        for want in ["Usage: calico-bgp-wizard", "status", "plan", "completions", "--demo", "--kubeconfig"] {
            assert!(o.1.contains(want), "{args:?}: help lacks {want:?}{}", show(&o));
        }
    }
    let o = run(&["plan", "--help"]);
    assert_eq!(o.0, 0, "{}", show(&o));
    for want in ["--switch-ip", "--switch-as", "--reflectors", "--pool", "--cluster-id", "--password-file", "--vendor"]
    {
        assert!(o.1.contains(want), "plan --help lacks {want:?}{}", show(&o));
    }
}

#[test]
fn usage_errors_exit_2() {
    let o = run(&["bogus"]);
    assert_eq!(o.0, 2, "{}", show(&o));
    assert_eq!(o.1, "", "{}", show(&o));
    assert!(o.2.contains("unrecognized subcommand 'bogus'"), "{}", show(&o));
    // plan without its required options.
    let o = run(&["--demo", "plan"]);
    assert_eq!(o.0, 2, "{}", show(&o));
    assert!(o.2.contains("--switch-ip") && o.2.contains("--pool"), "{}", show(&o));
    let o = run(&plan_args(&[("--vendor", "netgear")]));
    assert_eq!(o.0, 2, "{}", show(&o));
    assert!(o.2.contains("netgear"), "{}", show(&o));
}

// ---- problems found once, fixed, kept as regression tests ---------------------------------------------

/// Expected failures (a non-empty --dir, a configured cluster) are reported by color-eyre with
/// ANSI colours even when stderr is not a terminal and NO_COLOR is set, plus a `Location:
/// src/run.rs:NN` line and a RUST_BACKTRACE hint: noise for a message the operator must read.
#[test]
fn expected_errors_are_plain_text() {
    let home = home_with_kubeconfig();
    let o = run_env(home.path(), &["status", "--once"], &[("NO_COLOR", "1")]);
    assert_ne!(o.0, 0, "{}", show(&o));
    assert!(!o.2.contains('\u{1b}'), "ANSI escapes with NO_COLOR set{}", show(&o));
    assert!(!o.2.contains("src/run.rs"), "a source location in a user-facing error{}", show(&o));
    assert!(!o.2.contains("RUST_BACKTRACE"), "a backtrace hint in a user-facing error{}", show(&o));
}

/// `--dir ""` skips the "must not exist or be empty" check (`read_dir("")` fails, so the directory
/// counts as absent) and writes the plan into the current directory, overwriting its README.txt.
#[test]
fn plan_dir_empty_path_is_refused() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("README.txt"), "mine\n").unwrap();
    let o = run_in(home.path(), &plan_args(&[("-o", "dir"), ("--dir", "")]));
    let readme = std::fs::read_to_string(home.path().join("README.txt")).unwrap();
    assert_eq!(readme, "mine\n", "the operator's README.txt was overwritten{}", show(&o));
    assert_ne!(o.0, 0, "{}", show(&o));
    assert!(!home.path().join("plan.json").exists(), "plan files written into the current directory{}", show(&o));
}

// ---- man, log level, doctor on the demo ---------------------------------------------------------------

#[test]
fn man_page() {
    let o = run(&["man"]);
    assert_eq!(o.0, 0, "{}", show(&o));
    assert!(o.1.starts_with(".ie \\n(.g .ds Aq") || o.1.contains(".TH calico-bgp-wizard 1"), "roff{}", show(&o));
    assert!(o.1.contains(".TH calico-bgp-wizard 1"), "{}", show(&o));
    for want in ["doctor", "status", "\\-\\-demo", "\\-\\-log\\-level"] {
        assert!(o.1.contains(want), "the manual lacks {want:?}{}", show(&o));
    }
}

#[test]
fn log_level_is_checked() {
    let o = run(&["--log-level", "verbose", "detect", "--demo"]);
    assert_eq!(o.0, 2, "{}", show(&o));
    assert!(o.2.contains("'verbose'") && o.2.contains("error, warn, info, debug, trace"), "{}", show(&o));
    let home = tempfile::tempdir().unwrap();
    // No kubeconfig anywhere: the demo, which the log says.
    let o = run_in(home.path(), &["--log-level", "debug", "detect"]);
    assert_eq!(o.0, 0, "{}", show(&o));
    let log = std::fs::read_to_string(home.path().join(".local/state/calico-bgp-wizard/logs/calico-bgp-wizard.log"))
        .expect("the log file is where --help says");
    assert!(log.contains("INFO") && log.contains("no kubeconfig found: running the embedded demo"), "{log}");
    // At `error`, that line is not written.
    let home = tempfile::tempdir().unwrap();
    let o = run_in(home.path(), &["--log-level", "error", "detect"]);
    assert_eq!(o.0, 0, "{}", show(&o));
    let log = std::fs::read_to_string(home.path().join(".local/state/calico-bgp-wizard/logs/calico-bgp-wizard.log"))
        .unwrap_or_default();
    assert!(!log.contains("no kubeconfig found"), "{log}");
}

/// On the demo nothing is sent: every result is simulated, and says so.
#[test]
fn doctor_on_the_demo() {
    let o = run(&["doctor", "--demo"]);
    assert_eq!(o.0, 0, "{}", show(&o));
    assert!(o.1.contains("demo cluster: nothing was sent; the network results below are simulated"), "{}", show(&o));
    for host in ["k8s-1", "k8s-2", "k8s-3", "172.31.13.116:179"] {
        assert!(o.1.lines().any(|l| l.contains(host) && l.contains("open")), "{host}{}", show(&o));
    }
    assert!(o.1.contains("[ip-autodetection-first-found]") && o.1.contains("0 error(s)"), "{}", show(&o));
    let o = run(&["doctor", "--demo", "-o", "json"]);
    assert_eq!(o.0, 0, "{}", show(&o));
    let v: serde_json::Value = serde_json::from_str(&o.1).unwrap();
    assert_eq!(v["simulated"], true);
    assert_eq!(v["ports"]["probed"], 4);
    // A bad --switch changes nothing and says what is expected.
    let o = run(&["doctor", "--demo", "--switch", "172.31.13.300"]);
    assert_eq!(o.0, 1, "{}", show(&o));
    assert!(
        o.2.contains("'172.31.13.300' is not an IP address") && o.2.contains("--switch 172.31.13.116"),
        "{}",
        show(&o)
    );
}
