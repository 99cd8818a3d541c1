//! The real binary in a real terminal: tmux runs `calico-bgp-wizard --demo`, send-keys types like
//! an operator, capture-pane reads the screen. Needs tmux (the README's test command installs it);
//! without it these tests fail rather than skip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// tmux on a server of its own (`-L`): tests in parallel never share a server, and the
/// operator's own tmux sessions are never touched.
fn tmux(server: &str) -> Command {
    let mut c = Command::new("tmux");
    c.args(["-L", server, "-f", "/dev/null"]);
    c
}

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

#[test]
fn walkthrough_to_all_established() {
    let t = Tmux::start("walk", "--demo", 80, 24);
    let s = t.wait_for("172.27.208.0/22", 20);
    assert!(s.contains("v1.24.6") && s.contains("v3.23.3"), "{s}");
    assert!(s.contains("manifest"), "{s}");

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
