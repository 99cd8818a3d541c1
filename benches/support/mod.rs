//! What the process benchmarks (`detect.rs`, `startup.rs`) share: bench or test mode, divan's
//! settings, the time of every run for their summary tables, and running a command to the end.
//! (A folder, so that cargo does not take it for a benchmark of its own.)

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// True when the command line has `flag`.
pub fn has_flag(flag: &str) -> bool {
    std::env::args().any(|a| a == flag)
}

/// As divan decides: `cargo bench` passes --bench; `cargo test` passes nothing.
pub fn bench_mode() -> bool {
    has_flag("--bench") && !has_flag("--test")
}

/// Run divan: `samples` timed runs of each benchmark in bench mode, one in test mode.
pub fn run_divan(bench_mode: bool, samples: u32) {
    divan::Divan::default()
        .sample_count(if bench_mode { samples } else { 1 })
        .sample_size(1)
        .max_time(Duration::from_secs(600))
        .config_with_args()
        .main();
}

/// Benchmark name → the wall time of each timed run.
static TIMES: Mutex<BTreeMap<&'static str, Vec<Duration>>> = Mutex::new(BTreeMap::new());

/// Keep `d` for the summary's `name` row.
pub fn record(name: &'static str, d: Duration) {
    TIMES.lock().unwrap().entry(name).or_default().push(d);
}

/// Time `f` (also recorded for the summary) inside divan's measurement.
pub fn timed<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    record(name, t.elapsed());
    out
}

/// Every recorded time, by name (taken: the next call starts empty).
pub fn take_times() -> BTreeMap<&'static str, Vec<Duration>> {
    std::mem::take(&mut *TIMES.lock().unwrap())
}

pub fn median(times: &[Duration]) -> Duration {
    let mut t = times.to_vec();
    t.sort();
    match t.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => t[n / 2],
        n => (t[n / 2 - 1] + t[n / 2]) / 2,
    }
}

/// Run `c` to the end, no input, its output thrown away; panics unless it succeeds.
pub fn run_quiet(mut c: Command, what: &str) {
    let out = c
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("run {what}: {e}"));
    assert!(out.status.success(), "{what} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
}

/// Run `c` to the end, no input; its stdout; panics unless it succeeds.
pub fn output(mut c: Command, what: &str) -> Vec<u8> {
    let out = c.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("run {what}: {e}"));
    assert!(out.status.success(), "{what} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
    out.stdout
}
