//! Running the real binary against a test cluster: its own HOME and state directory (run records,
//! logs), no kubeconfig but the one given, and the demo walkthrough's answers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `plan` with the README's demo walkthrough answers: reflectors k8s-1 and k8s-2, the switch
/// 172.31.13.116 in AS 7675, the existing pool.
pub const DEMO_PLAN: [&str; 9] = [
    "plan",
    "--switch-ip",
    "172.31.13.116",
    "--switch-as",
    "7675",
    "--reflectors",
    "k8s-1,k8s-2",
    "--pool",
    "default-ipv4-ippool",
];

pub const PASSWORD: &str = "s3cret-bgp-Pa55";

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The binary with `args`, talking to the cluster of `kubeconfig`, keeping its state under `state`.
pub fn command(kubeconfig: &Path, state: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_calico-bgp-wizard"));
    c.args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env_remove("KUBECONFIG")
        .env("HOME", state)
        .env("XDG_STATE_HOME", state.join("state"))
        .env("NO_COLOR", "1");
    c
}

/// One operator's view of one cluster: a kubeconfig and a private state directory.
pub struct Wizard {
    pub state: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

impl Wizard {
    pub fn new(kubeconfig: PathBuf) -> Wizard {
        Wizard { state: tempfile::tempdir().unwrap(), kubeconfig }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        command(&self.kubeconfig, self.state.path(), args)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Run and require success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(o.status.success(), "{args:?} failed: {}\n{}", text(&o.stdout), text(&o.stderr));
        text(&o.stdout)
    }

    /// A file holding [`PASSWORD`].
    pub fn password_file(&self) -> PathBuf {
        let p = self.state.path().join("pw");
        std::fs::write(&p, format!("{PASSWORD}\n")).unwrap();
        p
    }

    /// `plan -o dir` of [`DEMO_PLAN`] into `<state>/<name>`, with `extra` arguments.
    pub fn plan_dir(&self, name: &str, extra: &[&str]) -> PathBuf {
        let dir = self.state.path().join(name);
        let mut args = DEMO_PLAN.to_vec();
        args.extend_from_slice(extra);
        args.extend(["-o", "dir", "--dir", dir.to_str().unwrap()]);
        self.ok(&args);
        dir
    }

    /// `plan -o dir` with the password.
    pub fn plan_dir_with_password(&self, name: &str) -> PathBuf {
        let pw = self.password_file();
        self.plan_dir(name, &["--password-file", pw.to_str().unwrap()])
    }

    /// `apply DIR --yes` with the password.
    pub fn apply(&self, dir: &Path) -> Output {
        let pw = self.password_file();
        self.run(&["apply", dir.to_str().unwrap(), "--yes", "--password-file", pw.to_str().unwrap()])
    }
}

/// A run of the binary stopped at a test hold point: `CALICO_BGP_WIZARD_TEST_HOLD=<point>:<step>`
/// (`before`, `during` or `after` a step; see `worker.rs`). The test changes the world (stops the
/// API server, edits an object, kills the process), then releases it.
pub struct Held {
    pub child: std::process::Child,
    file: PathBuf,
}

impl Held {
    /// Start `cmd` with the hold at `at` (e.g. `during:3`), and wait until it holds there.
    pub fn start(mut cmd: Command, at: &str, state: &Path) -> Held {
        let file = state.join("hold");
        let child = cmd
            .env("CALICO_BGP_WIZARD_TEST_HOLD", at)
            .env("CALICO_BGP_WIZARD_TEST_HOLD_FILE", &file)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        super::cluster::wait_until(&format!("the wizard holds at {at}"), std::time::Duration::from_secs(90), || {
            file.exists()
        });
        Held { child, file }
    }

    /// Let it go on, and wait for it to end.
    pub fn release(self) -> Output {
        std::fs::remove_file(&self.file).unwrap();
        self.child.wait_with_output().unwrap()
    }

    /// End it with SIGKILL where it holds, as a dropped SSH session's process would end.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}
