//! The only place that spawns tasks: runs each [`Cmd`] against the [`Backend`] and reports back
//! with owned [`Msg`]s. Step execution (apply → read back → wait) lives here, written once for
//! every backend.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use crate::app::{Cmd, Msg, Progress, StepEvent};
use crate::backend::Backend;
use crate::plan::verify::missing_fields;
use crate::plan::{Change, Op, Step, UndoOp, Verification};
use crate::status::model::BgpState;

#[derive(Clone)]
pub struct Worker {
    backend: Arc<Backend>,
    tx: UnboundedSender<Msg>,
    started: Instant,
    /// The dashboard's worker: refuses every write, whatever asks for it.
    read_only: bool,
}

impl Worker {
    pub fn new(backend: Arc<Backend>, tx: UnboundedSender<Msg>, started: Instant, read_only: bool) -> Self {
        Worker { backend, tx, started, read_only }
    }

    fn send(&self, msg: Msg) {
        // The UI loop is gone only when the program is exiting; nothing to report to then.
        let _ = self.tx.send(msg);
    }

    /// Run one command in the background.
    pub fn handle(&self, cmd: Cmd) {
        if self.read_only && cmd.is_write() {
            tracing::error!("refused a write command in read-only mode");
            return;
        }
        let w = self.clone();
        tokio::spawn(async move { w.run(cmd).await });
    }

    async fn run(&self, cmd: Cmd) {
        match cmd {
            Cmd::Detect => {
                let r = self.backend.detect().await;
                if let Err(e) = &r {
                    tracing::warn!("detection failed: {e}");
                }
                self.send(Msg::Detected(r));
            }
            Cmd::RefreshPeers => {
                let result = self.backend.peers().await;
                self.send(Msg::Peers { result, at: self.started.elapsed() });
            }
            Cmd::RunStep { idx, step } => {
                tracing::info!("step {}: {}", idx + 1, step.title);
                let ev = match self.run_step(idx, &step).await {
                    Ok(()) => StepEvent::Done { idx },
                    Err(error) => {
                        tracing::warn!("step {} failed: {error}", idx + 1);
                        StepEvent::Failed { idx, error }
                    }
                };
                self.send(Msg::Step(ev));
            }
            Cmd::UndoStep { idx, step } => {
                tracing::info!("undo step {}: {}", idx + 1, step.title);
                let ev = match self.undo_step(idx, &step).await {
                    Ok(()) => StepEvent::Undone { idx },
                    Err(error) => StepEvent::UndoFailed { idx, error },
                };
                self.send(Msg::Step(ev));
            }
            Cmd::WritePlan { dir, files } => {
                let r = write_plan(&dir, &files).await;
                self.send(Msg::PlanWritten(r));
            }
            Cmd::Quit => {}
        }
    }

    fn log(&self, idx: usize, line: String) {
        tracing::info!("step {}: {line}", idx + 1);
        self.send(Msg::Step(StepEvent::Log { idx, line }));
    }

    fn progress(&self, idx: usize, done: usize, total: usize, label: String) {
        self.send(Msg::Step(StepEvent::Progress { idx, progress: Progress { done, total, label } }));
    }

    async fn run_step(&self, idx: usize, step: &Step) -> Result<(), String> {
        for c in &step.changes {
            self.log(idx, format!("{} {}", verb(&c.op), c.object));
            self.backend.apply(c).await.map_err(|e| format!("{} {}: {e}", verb(&c.op), c.object))?;
            tokio::time::sleep(self.backend.write_delay()).await;
        }
        self.send(Msg::Step(StepEvent::Verifying { idx }));
        for v in &step.verify {
            self.verify(idx, v).await?;
        }
        Ok(())
    }

    async fn verify(&self, idx: usize, v: &Verification) -> Result<(), String> {
        let poll = self.backend.poll_every();
        let timeout = self.backend.wait_timeout();
        let t0 = Instant::now();
        match v {
            Verification::Fields { object, expect } => {
                let actual =
                    self.backend.get(object).await?.ok_or_else(|| format!("{object} is missing after the change"))?;
                let miss = missing_fields(expect, &actual);
                if !miss.is_empty() {
                    return Err(format!("{object} as stored differs from what was written: {}", miss.join("; ")));
                }
                self.log(idx, format!("read back {object}: every field is stored as written"));
            }
            Verification::Rollout { object } => loop {
                let (done, total) = self.backend.rollout(object).await?;
                self.progress(idx, done, total, format!("calico-node pods restarted: {done}/{total}"));
                if done >= total {
                    self.log(idx, format!("rollout of {object} complete: {done}/{total} pods ready"));
                    break;
                }
                if t0.elapsed() > timeout {
                    return Err(format!(
                        "rollout of {object} not complete after {} s ({done}/{total} pods ready); check `kubectl -n {} get pods -l k8s-app=calico-node`",
                        timeout.as_secs(),
                        object.namespace.as_deref().unwrap_or("kube-system")
                    ));
                }
                tokio::time::sleep(poll).await;
            },
            Verification::SessionsEstablished { node, peers } => loop {
                let rows = self.backend.peers().await?;
                let total = peers.len();
                let mut waiting = Vec::new();
                for p in peers {
                    let ip = p.to_string();
                    match rows.iter().find(|r| r.node == *node && r.peer_address == ip) {
                        Some(r) if r.bgp_state == BgpState::Established => {}
                        Some(r) => waiting.push(format!("{ip} {}", r.info_column())),
                        None => waiting.push(format!("{ip} (no session yet)")),
                    }
                }
                let done = total - waiting.len();
                self.progress(idx, done, total, format!("BGP sessions Established on {node}: {done}/{total}"));
                if waiting.is_empty() {
                    self.log(idx, format!("{node}: all {total} BGP sessions Established"));
                    break;
                }
                if t0.elapsed() > timeout {
                    return Err(format!(
                        "after {} s, sessions on {node} are not Established: {}",
                        timeout.as_secs(),
                        waiting.join(", ")
                    ));
                }
                tokio::time::sleep(poll).await;
            },
        }
        Ok(())
    }

    async fn undo_step(&self, idx: usize, step: &Step) -> Result<(), String> {
        for c in step.changes.iter().rev() {
            let undo = c.undo();
            self.log(idx, format!("undo: {} {}", undo_verb(&undo), c.object));
            self.backend.undo(c).await.map_err(|e| format!("undo {}: {e}", c.object))?;
            tokio::time::sleep(self.backend.write_delay()).await;
            self.check_undone(idx, c, &undo).await?;
        }
        Ok(())
    }

    async fn check_undone(&self, idx: usize, c: &Change, undo: &UndoOp) -> Result<(), String> {
        let now = self.backend.get(&c.object).await?;
        match (undo, now) {
            (UndoOp::Delete, None) => self.log(idx, format!("{} is gone", c.object)),
            (UndoOp::Delete, Some(_)) => return Err(format!("{} still exists after delete", c.object)),
            (UndoOp::MergePatch(p), Some(obj)) => {
                let miss = missing_fields(p, &obj);
                if !miss.is_empty() {
                    return Err(format!("{} not restored: {}", c.object, miss.join("; ")));
                }
                self.log(idx, format!("{} restored as it was", c.object));
            }
            (UndoOp::MergePatch(_), None) => return Err(format!("{} disappeared", c.object)),
            (UndoOp::Restart, _) => {}
        }
        Ok(())
    }
}

fn verb(op: &Op) -> &'static str {
    match op {
        Op::Create => "create",
        Op::MergePatch(_) => "patch",
        Op::Restart => "restart",
    }
}

fn undo_verb(op: &UndoOp) -> &'static str {
    match op {
        UndoOp::Delete => "delete",
        UndoOp::MergePatch(_) => "restore",
        UndoOp::Restart => "restart",
    }
}

/// Write the plan's files under `dir` (created; refused when it exists and is not empty).
pub async fn write_plan(dir: &str, files: &[crate::plan::render::PlanFile]) -> Result<String, String> {
    if dir.trim().is_empty() {
        return Err("no directory given: name a new directory for the plan, e.g. calico-bgp-plan".into());
    }
    let root = std::path::Path::new(dir);
    match tokio::fs::read_dir(root).await {
        Ok(mut rd) => {
            if rd.next_entry().await.map_err(|e| format!("cannot read '{dir}': {e}"))?.is_some() {
                return Err(format!(
                    "'{dir}' exists and is not empty: choose a new directory, so no earlier plan is mixed in"
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot use '{dir}' for the plan: {e}")),
    }
    for f in files {
        let path = root.join(&f.path);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| format!("cannot create '{}': {e}", parent.display()))?;
        }
        tokio::fs::write(&path, &f.contents).await.map_err(|e| format!("cannot write '{}': {e}", path.display()))?;
    }
    let abs = std::fs::canonicalize(root).map(|p| p.display().to_string()).unwrap_or_else(|_| dir.to_string());
    tracing::info!("plan written to {abs}");
    Ok(abs)
}
