//! Start-up, side by side with `birdc` on the same BIRD socket (`cargo bench --bench startup`, as
//! root: the BGP lab of `tests/common/lab.rs` runs BIRD 1.6 in network namespaces).
//!
//! - `first_frame_demo`: each process runs in a real pseudo-terminal, util-linux `script -qefc
//!   "stty cols 120 rows 40; printf '%s %s\n' 'startup-bench: exec at' \"$EPOCHREALTIME\"; exec <cmd>"
//!   /dev/null` with SHELL=/bin/bash (`script` leaves a 0×0 pty when its stdin is not a terminal,
//!   hence `stty`). The time the shell prints right before `exec` splits each run into the
//!   wrapper's part and the command's:
//!   - `wizard_demo`: `calico-bgp-wizard --demo` with `CALICO_BGP_WIZARD_TEST_EXIT_AFTER_FIRST_FRAME`
//!     set, so it quits right after its first frame of the detected cluster. The frame is done
//!     when the bytes that end it reach us (the leave-alternate-screen sequence the wizard writes
//!     right after that frame);
//!   - `birdc_show_protocols`: `birdc -s <k8s-1's socket> show protocols`, whose table (its last
//!     byte) is its frame;
//!   - `wrapper_true`: `true`, so the wrapper's own cost is visible.
//!
//!   Divan's numbers run to the wrapper's exit, which includes `script`'s own 10 ms wait for late
//!   output after its child exits; the summary also has spawn -> frame and exec -> frame (the
//!   frame's arrival through `script`, so a busy machine adds its relaying delay).
//! - `status_once_socket`: `calico-bgp-wizard status --once --bird-socket k8s-1=<socket>` and
//!   `birdc -s <socket> show protocols`, plain processes, stdout to /dev/null.
//!
//! The lab starts once (when the first benchmark that needs it runs) and is torn down at the end,
//! also after a panic. Every process is checked once before the timed runs (the wizard's frame
//! shows the demo cluster; both `status --once` and `birdc` list k8s-1's sessions, Established).
//! A table of medians and fastest runs against the targets follows divan's. Under
//! `cargo test --all-targets` (divan's test mode: no `--bench` argument) every benchmark runs once.

#[path = "../tests/common/lab.rs"]
#[allow(dead_code, reason = "the bench uses only the lab's start, socket and teardown")]
mod lab;
mod support;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lab::Lab;
use support::{bench_mode, has_flag, median, output, record, run_divan, run_quiet, take_times, timed};

const WIZARD: &str = env!("CARGO_BIN_EXE_calico-bgp-wizard");
/// The node whose socket is read.
const NODE: &str = "k8s-1";
/// Timed runs of each benchmark in bench mode.
const SAMPLES: u32 = 100;
/// The pseudo-terminal's size.
const COLS: u16 = 120;
const ROWS: u16 = 40;
/// What the wizard writes right after its last frame (crossterm's LeaveAlternateScreen).
const LEAVE_ALT_SCREEN: &[u8] = b"\x1b[?1049l";
/// A run in the pty that takes longer than this is killed and fails.
const PTY_DEADLINE: Duration = Duration::from_secs(30);

/// Printed by the wrapper's shell right before `exec <cmd>`, with bash's `$EPOCHREALTIME`: what
/// follows is the command's time. (The clock, not the line's arrival, which `script` may delay.)
const EXEC_MARK: &[u8] = b"startup-bench: exec at";

// What the summary reports, each with the times of every run (spawn = when `script` was spawned;
// exec = the time EXEC_MARK's line carries).
const P_TRUE_EXEC: &str = "pty: true, spawn -> exec";
const P_TRUE_EXIT: &str = "pty: true, spawn -> exit (the wrapper alone)";
const P_BIRDC_OUT: &str = "pty: birdc, spawn -> table written";
const P_BIRDC_OWN: &str = "pty: birdc, exec -> table written";
const P_BIRDC_EXIT: &str = "pty: birdc, spawn -> exit";
const P_WIZARD_FRAME: &str = "pty: wizard --demo, spawn -> first frame";
const P_WIZARD_OWN: &str = "pty: wizard --demo, exec -> first frame";
const P_WIZARD_FIRST: &str = "pty: wizard --demo, exec -> first output";
const P_WIZARD_EXIT: &str = "pty: wizard --demo, spawn -> exit";
const S_BIRDC: &str = "birdc -s <socket> show protocols";
const S_WIZARD: &str = "wizard status --once --bird-socket k8s-1=<socket>";

fn main() {
    let bench_mode = bench_mode();
    let _teardown = TearDown;
    run_divan(bench_mode, SAMPLES);
    if !has_flag("--list") {
        summary(bench_mode);
    }
}

/// Drops the lab and the state dir when `main` ends, also by a panic (statics are never dropped).
struct TearDown;

impl Drop for TearDown {
    fn drop(&mut self) {
        let lab = LAB.lock().unwrap_or_else(|e| e.into_inner()).take();
        let state = STATE.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(lab); // kills the daemons, deletes the namespaces and the run dir
        drop(state);
    }
}

/// HOME and XDG_STATE_HOME of the wizard processes (its logs go there).
static STATE: Mutex<Option<Arc<tempfile::TempDir>>> = Mutex::new(None);
static LAB: Mutex<Option<Arc<LabSetup>>> = Mutex::new(None);

struct LabSetup {
    lab: Lab,
    /// How long the lab took until every session was Established.
    ready_in: Duration,
}

fn state() -> Arc<tempfile::TempDir> {
    let mut slot = STATE.lock().unwrap();
    slot.get_or_insert_with(|| Arc::new(tempfile::tempdir().unwrap())).clone()
}

/// The lab, started by the first benchmark that needs it; its processes checked once.
fn lab() -> Arc<LabSetup> {
    let mut slot = LAB.lock().unwrap();
    if let Some(l) = &*slot {
        return l.clone();
    }
    let t = Instant::now();
    let lab = Lab::up();
    let setup = Arc::new(LabSetup { lab, ready_in: t.elapsed() });
    *slot = Some(setup.clone());
    drop(slot);
    check_lab(&setup.lab);
    setup
}

/// `'text'` for sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `birdc -s <k8s-1's socket> show protocols`, as a shell command.
fn birdc_line(lab: &Lab) -> String {
    format!("birdc -s {} show protocols", sh_quote(&lab.socket(NODE).display().to_string()))
}

/// `cmd` (a shell command line) in a real pseudo-terminal of COLS×ROWS: util-linux `script`.
/// The environment is the wizard's (own HOME and state dir, no kubeconfig, TERM set, colours on).
fn in_pty(cmd: &str) -> Command {
    let state = state();
    let mut c = Command::new("script");
    let mark = String::from_utf8_lossy(EXEC_MARK);
    let wrapper = format!("stty cols {COLS} rows {ROWS}; printf '%s %s\\n' '{mark}' \"$EPOCHREALTIME\"; exec {cmd}");
    c.args(["-qefc", &wrapper, "/dev/null"])
        .env_remove("KUBECONFIG")
        .env_remove("NO_COLOR")
        .env("SHELL", "/bin/bash")
        .env("TERM", "xterm-256color")
        .env("HOME", state.path())
        .env("XDG_STATE_HOME", state.path().join("state"))
        .env("CALICO_BGP_WIZARD_TEST_EXIT_AFTER_FIRST_FRAME", "1");
    c
}

fn wizard_demo_line() -> String {
    format!("{} --demo", sh_quote(WIZARD))
}

/// `calico-bgp-wizard status --once --bird-socket k8s-1=<socket>`, as bird_lab.rs runs it.
fn status_once(lab: &Lab) -> Command {
    let state = state();
    let mut c = Command::new(WIZARD);
    c.args(["status", "--once", "--bird-socket"])
        .arg(format!("{NODE}={}", lab.socket(NODE).display()))
        .env_remove("KUBECONFIG")
        .env("HOME", state.path())
        .env("XDG_STATE_HOME", state.path().join("state"))
        .env("NO_COLOR", "1");
    c
}

fn birdc(lab: &Lab) -> Command {
    let mut c = Command::new("birdc");
    c.arg("-s").arg(lab.socket(NODE)).args(["show", "protocols"]);
    c
}

/// A run of a process in the pty: everything the terminal got, and when (since the spawn).
struct PtyRun {
    out: Vec<u8>,
    /// When the wrapper's shell printed EXEC_MARK: the command was about to be exec'd.
    exec_at: Duration,
    /// When the first byte after the mark's line reached us: the command's first output.
    first_at: Option<Duration>,
    /// When `marker` (the wizard's end of frame) reached us.
    marker_at: Option<Duration>,
    /// When the last byte reached us.
    last_at: Duration,
    exit_at: Duration,
}

/// The time on the wrapper's complete EXEC_MARK line in `out`, and where the line ends.
fn exec_line(out: &[u8]) -> Option<(SystemTime, usize)> {
    let at = out.windows(EXEC_MARK.len()).position(|w| w == EXEC_MARK)? + EXEC_MARK.len();
    let len = out[at..].windows(2).position(|w| w == b"\r\n")?;
    let stamp = std::str::from_utf8(&out[at..at + len]).ok()?.trim();
    // `$EPOCHREALTIME`: seconds, the locale's decimal point, microseconds.
    let (secs, frac) = stamp.split_once(['.', ',']).unwrap_or_else(|| panic!("no $EPOCHREALTIME in {stamp:?}"));
    let nanos = format!("{frac:0<9}")[..9].parse::<u32>().unwrap_or_else(|_| panic!("$EPOCHREALTIME {stamp:?}"));
    let secs = secs.parse::<u64>().unwrap_or_else(|_| panic!("$EPOCHREALTIME {stamp:?}"));
    Some((UNIX_EPOCH + Duration::new(secs, nanos), at + len + 2))
}

/// Whether `m` occurs in `out` at or after `from`.
fn has_from(out: &[u8], from: usize, m: &[u8]) -> bool {
    out[from..].windows(m.len()).any(|w| w == m)
}

/// Spawn `c` (an `in_pty` command) and read its terminal output to the end; panics unless it
/// succeeds. Its stdin stays open (a pipe) until it exits: at EOF `script` would type ^D into it.
/// After PTY_DEADLINE (say, the exit hook stopped working) `script` is killed, which hangs up the
/// pty, and the run fails.
fn run_pty(mut c: Command, marker: Option<&[u8]>, what: &str) -> PtyRun {
    let (start, start_wall) = (Instant::now(), SystemTime::now());
    let mut child: Child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {what}: {e}"));
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let pid = child.id().to_string();
    let watchdog = std::thread::spawn(move || {
        let late = finished.recv_timeout(PTY_DEADLINE) == Err(std::sync::mpsc::RecvTimeoutError::Timeout);
        if late {
            let _ = Command::new("kill").args(["-s", "KILL", &pid]).status();
        }
        late
    });
    let stdin = child.stdin.take();
    let mut stdout = child.stdout.take().unwrap();
    let mut out = Vec::new();
    let (mut exec_at, mut first_at, mut marker_at, mut last_at) = (None, None, None, Duration::ZERO);
    // Where the command's output starts: after the mark's line.
    let mut cmd_from = None;
    let to_spawn = |wall: SystemTime| wall.duration_since(start_wall).unwrap_or(Duration::ZERO);
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = stdout.read(&mut buf).unwrap_or_else(|e| panic!("read {what}'s terminal: {e}"));
        if n == 0 {
            break;
        }
        let now = start.elapsed();
        // A marker may straddle two reads.
        let from_marker = marker.map_or(0, |m| out.len().saturating_sub(m.len()));
        out.extend_from_slice(&buf[..n]);
        last_at = now;
        if exec_at.is_none()
            && let Some((wall, end)) = exec_line(&out)
        {
            exec_at = Some(to_spawn(wall));
            cmd_from = Some(end);
        }
        if first_at.is_none() && cmd_from.is_some_and(|i| out.len() > i) {
            first_at = Some(now);
        }
        if let Some(m) = marker
            && marker_at.is_none()
            && has_from(&out, from_marker, m)
        {
            marker_at = Some(now);
        }
    }
    drop(stdin);
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    let exit_at = start.elapsed();
    drop(done);
    let late = watchdog.join().unwrap();
    let text = || String::from_utf8_lossy(&out).into_owned();
    assert!(!late, "{what} still ran after {PTY_DEADLINE:?}; killed. Its terminal:\n{}", text());
    assert!(status.success(), "{what} failed ({status}): {err}\n{}", text());
    let exec_at = exec_at.unwrap_or_else(|| panic!("{what}: the wrapper printed no exec mark:\n{}", text()));
    PtyRun { out, exec_at, first_at, marker_at, last_at, exit_at }
}

/// One untimed run of each lab process: each must list k8s-1's sessions, Established.
fn check_lab(lab: &Lab) {
    let switch = lab::protocol_name(lab::SWITCH_IP);
    let birdc_text = String::from_utf8_lossy(&output(birdc(lab), "birdc")).into_owned();
    let rows = lab::parse_birdc_protocols(&birdc_text);
    let bgp: Vec<_> = rows.iter().filter(|r| r.proto == "BGP").collect();
    assert!(
        bgp.len() >= 3 && bgp.iter().all(|r| r.info.starts_with("Established")),
        "birdc lists k8s-1's BGP sessions, all Established:\n{birdc_text}"
    );
    let table = String::from_utf8_lossy(&output(status_once(lab), "calico-bgp-wizard status --once")).into_owned();
    for r in &bgp {
        let ip = r.name.strip_prefix("Node_").unwrap_or(&r.name).replace('_', ".");
        assert!(
            table.lines().any(|l| l.contains(&ip) && l.contains("Established")),
            "status --once shows {ip} Established:\n{table}"
        );
    }
    let pty = run_pty(in_pty(&birdc_line(lab)), None, "birdc in the pty");
    assert!(String::from_utf8_lossy(&pty.out).contains(&switch), "birdc in the pty lists {switch}");
}

/// Check once that the wizard's first frame shows the demo cluster, and that it quits after it.
fn check_demo() {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().unwrap();
    if *done {
        return;
    }
    let run = run_pty(in_pty(&wizard_demo_line()), Some(LEAVE_ALT_SCREEN), "calico-bgp-wizard --demo");
    let text = String::from_utf8_lossy(&run.out);
    assert!(run.marker_at.is_some(), "the wizard left the alternate screen:\n{text}");
    // Labels of the Detect screen that only the detected cluster's frame has.
    for shown in ["DEMO", "Kubernetes", "IP pools", "Checks:"] {
        assert!(text.contains(shown), "the first frame shows {shown:?}:\n{text}");
    }
    *done = true;
}

mod first_frame_demo {
    use super::*;

    /// `calico-bgp-wizard --demo` in the pty, quitting after its first frame of the detected
    /// cluster. Divan times it to the exit; the summary also has the time to the frame.
    #[divan::bench]
    fn wizard_demo(b: divan::Bencher) {
        check_demo();
        b.bench_local(|| {
            let run = run_pty(in_pty(&wizard_demo_line()), Some(LEAVE_ALT_SCREEN), "calico-bgp-wizard --demo");
            let frame = run.marker_at.expect("the wizard left the alternate screen");
            record(P_WIZARD_FRAME, frame);
            record(P_WIZARD_OWN, frame.saturating_sub(run.exec_at));
            let first = run.first_at.expect("the wizard wrote to its terminal");
            record(P_WIZARD_FIRST, first.saturating_sub(run.exec_at));
            record(P_WIZARD_EXIT, run.exit_at);
        });
    }

    /// `birdc -s <socket> show protocols` in the same pty wrapper; its table is its frame.
    #[divan::bench]
    fn birdc_show_protocols(b: divan::Bencher) {
        let l = lab();
        let line = birdc_line(&l.lab);
        b.bench_local(|| {
            let run = run_pty(in_pty(&line), None, "birdc in the pty");
            record(P_BIRDC_OUT, run.last_at);
            record(P_BIRDC_OWN, run.last_at.saturating_sub(run.exec_at));
            record(P_BIRDC_EXIT, run.exit_at);
        });
    }

    /// `true` in the same pty wrapper: what the wrapper itself costs.
    #[divan::bench]
    fn wrapper_true(b: divan::Bencher) {
        b.bench_local(|| {
            let run = run_pty(in_pty("true"), None, "true in the pty");
            record(P_TRUE_EXEC, run.exec_at);
            record(P_TRUE_EXIT, run.exit_at);
        });
    }
}

mod status_once_socket {
    use super::*;

    /// `calico-bgp-wizard status --once --bird-socket k8s-1=<socket> > /dev/null`.
    #[divan::bench]
    fn wizard_status_once(b: divan::Bencher) {
        let l = lab();
        b.bench_local(|| timed(S_WIZARD, || run_quiet(status_once(&l.lab), "calico-bgp-wizard status --once")));
    }

    /// `birdc -s <socket> show protocols > /dev/null`.
    #[divan::bench]
    fn birdc_show_protocols(b: divan::Bencher) {
        let l = lab();
        b.bench_local(|| timed(S_BIRDC, || run_quiet(birdc(&l.lab), "birdc")));
    }
}

fn summary(bench_mode: bool) {
    let times = take_times();
    if times.is_empty() {
        return;
    }
    let med = |name: &str| times.get(name).map(|t| median(t));
    let min = |name: &str| times.get(name).and_then(|t| t.iter().min().copied());
    let ms = |d: Option<Duration>| d.map_or("-".to_string(), |d| format!("{:.1} ms", d.as_secs_f64() * 1e3));
    println!();
    println!(
        "startup: {} build of {WIZARD}, {} cores{}",
        if cfg!(debug_assertions) { "debug" } else { "optimised" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if bench_mode { "" } else { " (test mode: one run each, not a measurement)" }
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let ready = LAB.lock().unwrap().as_ref().map(|l| format!("BGP lab ready in {:.1} s; ", l.ready_in.as_secs_f64()));
    println!(
        "{}load average now (1, 5, 15 min): {}",
        ready.unwrap_or_default(),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!(
        "pty: script -qefc \"stty cols {COLS} rows {ROWS}; printf '%s %s\\n' '{}' \\\"$EPOCHREALTIME\\\"; exec <cmd>\" \
         /dev/null (SHELL=/bin/bash, TERM=xterm-256color)",
        String::from_utf8_lossy(EXEC_MARK)
    );
    println!("{:<52} {:>5} {:>10} {:>10}", "", "runs", "median", "fastest");
    let rows = [
        P_TRUE_EXEC,
        P_TRUE_EXIT,
        P_BIRDC_OUT,
        P_BIRDC_OWN,
        P_BIRDC_EXIT,
        P_WIZARD_FRAME,
        P_WIZARD_FIRST,
        P_WIZARD_OWN,
        P_WIZARD_EXIT,
        S_BIRDC,
        S_WIZARD,
    ];
    for name in rows {
        if let Some(t) = times.get(name) {
            println!("{name:<52} {:>5} {:>10} {:>10}", t.len(), ms(med(name)), ms(min(name)));
        }
    }
    // Targets from the issue; a test-mode run (debug build, one run) says nothing about them.
    let verdict = |d: Option<Duration>, target_ms: f64| match (bench_mode, d) {
        (false, _) | (_, None) => "not judged",
        (true, Some(d)) if d.as_secs_f64() * 1e3 < target_ms => "met",
        (true, Some(_)) => "NOT met",
    };
    let ratio = |a: &str, b: &str| match (med(a), med(b)) {
        (Some(a), Some(b)) if !b.is_zero() => format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64()),
        _ => "-".to_string(),
    };
    if times.contains_key(P_WIZARD_FRAME) {
        println!(
            "first frame with --demo: median {} from the spawn, wrapper included (target < 100 ms: {}); \
             wizard / birdc in the same pty: {} from the spawn, {} from the exec",
            ms(med(P_WIZARD_FRAME)),
            verdict(med(P_WIZARD_FRAME), 100.0),
            ratio(P_WIZARD_FRAME, P_BIRDC_OUT),
            ratio(P_WIZARD_OWN, P_BIRDC_OWN),
        );
    }
    if times.contains_key(S_WIZARD) {
        println!(
            "status --once on the socket: median {} (target < 50 ms: {}); wizard / birdc: {}",
            ms(med(S_WIZARD)),
            verdict(med(S_WIZARD), 50.0),
            ratio(S_WIZARD, S_BIRDC)
        );
    }
}
