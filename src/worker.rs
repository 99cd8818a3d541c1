//! The only place that spawns tasks: runs each [`Cmd`] against the [`Backend`] and reports back
//! with owned [`Msg`]s. Step execution (apply → read back → wait) lives here, written once for
//! every backend.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use crate::app::{Cmd, Msg, Progress, StepEvent};
use crate::backend::Backend;
use crate::plan::verify::{Precondition, missing_fields, precondition};
use crate::plan::{Change, Op, Step, UndoOp, Verification};
use crate::runs::{RunRecord, StepProgress};
use crate::status::model::BgpState;

#[derive(Clone)]
pub struct Worker {
    backend: Arc<Backend>,
    tx: UnboundedSender<Msg>,
    started: Instant,
    /// The dashboard's worker: refuses every write, whatever asks for it.
    read_only: bool,
    /// The run record (backups, progress) of the run in progress; real clusters only.
    record: Arc<Mutex<Option<RunRecord>>>,
    /// Why the run record could not be created: every step then fails with it.
    record_error: Arc<Mutex<Option<String>>>,
}

impl Worker {
    pub fn new(backend: Arc<Backend>, tx: UnboundedSender<Msg>, started: Instant, read_only: bool) -> Self {
        Worker { backend, tx, started, read_only, record: Arc::default(), record_error: Arc::default() }
    }

    /// Record this run's steps, backups and progress in `record` from now on.
    pub fn set_record(&self, record: RunRecord) {
        *self.record.lock().unwrap_or_else(|e| e.into_inner()) = Some(record);
    }

    /// Do something with the run record, if there is one; a failure to save it fails the step,
    /// since a run that cannot be resumed or undone must not go on.
    fn with_record<T>(&self, f: impl FnOnce(&mut RunRecord) -> std::io::Result<T>) -> Result<Option<T>, String> {
        let mut guard = self.record.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_mut() {
            None => Ok(None),
            Some(r) => {
                let dir = r.dir.display().to_string();
                f(r).map(Some).map_err(|e| format!("cannot save the run record in {dir}: {e}; nothing more is written"))
            }
        }
    }

    /// Close the run record: every step done, or every applied step undone.
    pub fn finish_record(&self) {
        if let Err(e) = self.with_record(|r| r.finish(crate::kube::write::now())) {
            tracing::error!("{e}");
        }
    }

    fn mark(&self, idx: usize, p: StepProgress) -> Result<(), String> {
        if let Some(e) = self.record_error.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Err(e);
        }
        self.with_record(|r| r.set(idx, p)).map(|_| ())
    }

    /// The object as it was before this run changed it, from the backup; None when the run has
    /// no record of it.
    fn backed_up(&self, object: &crate::domain::objects::ObjectRef) -> Option<Option<serde_json::Value>> {
        let guard = self.record.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().and_then(|r| r.before(object))
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
        // Synchronously: the run record must be in place before the first step's task starts.
        match cmd {
            Cmd::BeginRun { steps, answers } => self.begin_run(&steps, answers),
            Cmd::AdoptRun { dir } => self.adopt_run(&dir),
            Cmd::FinishRun => self.finish_record(),
            cmd => {
                let w = self.clone();
                tokio::spawn(async move { w.run(cmd).await });
            }
        }
    }

    /// Take over an interrupted run's record: its steps' progress and backups, so resume skips
    /// what is done and undo restores objects as they were before that run.
    fn adopt_run(&self, dir: &std::path::Path) {
        let mut error = self.record_error.lock().unwrap_or_else(|e| e.into_inner());
        match RunRecord::open(dir) {
            Ok(mut r) => {
                tracing::info!("taking over the run record in {}", r.dir.display());
                r.manifest.finished = None;
                *error = None;
                self.set_record(r);
            }
            Err(e) => *error = Some(format!("cannot take over the interrupted run: {e}; nothing was changed")),
        }
    }

    fn begin_run(&self, steps: &[Step], answers: serde_json::Value) {
        let Some(t) = self.backend.target() else { return };
        let started = crate::kube::write::now();
        let dir = crate::headless::runs_dir();
        match RunRecord::create(&dir, crate::runs::run_id(&started), started, &t.server, &t.context, answers, steps) {
            Ok(r) => {
                tracing::info!("run record in {}", r.dir.display());
                self.set_record(r);
            }
            Err(e) => {
                *self.record_error.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(format!("cannot create the run record under {}: {e}; nothing was changed", dir.display()));
            }
        }
    }

    async fn run(&self, cmd: Cmd) {
        match cmd {
            Cmd::Detect => {
                let r = self.backend.detect().await;
                if let Err(e) = &r {
                    tracing::warn!("detection failed: {e}");
                }
                let detected = r.is_ok();
                self.send(Msg::Detected(r));
                // A real cluster may have an interrupted run of the wizard: offer it (never to
                // the read-only dashboard, which cannot resume or undo).
                if detected
                    && !self.read_only
                    && let Some(t) = self.backend.target()
                {
                    let open = RunRecord::latest_open(&crate::headless::runs_dir(), &t.server);
                    self.send(Msg::OpenRun(open.map(|r| r.manifest)));
                }
            }
            Cmd::DryRun { steps } => {
                let r = self.dry_run(&steps).await;
                if let Err(errors) = &r {
                    tracing::warn!("server dry run: {} errors: {}", errors.len(), errors.join(" | "));
                }
                self.send(Msg::DryRun(r));
            }
            Cmd::RemoveStaleProbes => match self.backend.remove_stale_probes().await {
                Ok(removed) if !removed.is_empty() => {
                    tracing::info!("deleted CalicoNodeStatus left by an earlier run: {}", removed.join(", "))
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("could not delete CalicoNodeStatus left by an earlier run: {e}"),
            },
            // With probes this is a write, which `handle` refuses to the dashboard.
            Cmd::RefreshPeers { probe } => {
                let result = self.backend.peers(&probe).await;
                self.send(Msg::Peers { result, at: self.started.elapsed() });
            }
            Cmd::BeginRun { .. } | Cmd::AdoptRun { .. } | Cmd::FinishRun => {}
            Cmd::RunStep { idx, step } => {
                tracing::info!("step {}: {}", idx + 1, step.title);
                let result = match self.mark(idx, StepProgress::Running) {
                    Ok(()) => self.run_step(idx, &step).await,
                    Err(e) => Err(e),
                };
                let ev = match result.and_then(|()| self.mark(idx, StepProgress::Done)) {
                    Ok(()) => StepEvent::Done { idx },
                    Err(error) => {
                        tracing::warn!("step {} failed: {error}", idx + 1);
                        if let Err(e) = self.mark(idx, StepProgress::Failed) {
                            tracing::error!("{e}");
                        }
                        StepEvent::Failed { idx, error }
                    }
                };
                self.send(Msg::Step(ev));
            }
            Cmd::UndoStep { idx, step } => {
                tracing::info!("undo step {}: {}", idx + 1, step.title);
                let ev = match self.undo_step(idx, &step).await.and_then(|()| self.mark(idx, StepProgress::Undone)) {
                    Ok(()) => StepEvent::Undone { idx },
                    Err(error) => StepEvent::UndoFailed { idx, error },
                };
                self.send(Msg::Step(ev));
            }
            Cmd::CheckNetwork { facts, switch } => {
                // The address typed on the Peering screen, when it is one.
                let switch = switch.as_deref().and_then(crate::doctor::parse_peer).into_iter().collect();
                let opts = crate::doctor::Options::for_backend(&self.backend, switch);
                let report = crate::doctor::check(&facts, &opts).await;
                self.send(Msg::Network(Box::new(report)));
            }
            Cmd::WritePlan { dir, files } => {
                let r = write_plan(&dir, &files).await;
                self.send(Msg::PlanWritten(r));
            }
            Cmd::Quit => {}
        }
    }

    /// Send every change of `steps` to the API server as a dry run, in plan order: Ok(how many
    /// were accepted), or one line per rejected change (all of them, not just the first).
    ///
    /// A dry run of step N cannot see what steps before it would write. So a patch of an object
    /// that an earlier change creates (and that does not exist yet) is checked as the creation of
    /// the object as it will be after the patch, which a 404 would otherwise hide.
    async fn dry_run(&self, steps: &[Step]) -> Result<usize, Vec<String>> {
        let mut accepted = 0;
        let mut errors = Vec::new();
        let mut created: Vec<&crate::domain::objects::ObjectRef> = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            for c in &step.changes {
                let what = format!("step {}: {}", i + 1, c.object);
                let current = match self.backend.get(&c.object).await {
                    Ok(cur) => cur,
                    Err(e) => {
                        errors.push(format!("{what}: {e}"));
                        continue;
                    }
                };
                let result = if check_as_created(c, current.is_some(), created.contains(&&c.object)) {
                    let as_created = Change { op: Op::Create, before: None, ..c.clone() };
                    self.backend.dry_run(&as_created, None).await
                } else {
                    self.backend.dry_run(c, current.as_ref()).await
                };
                match result {
                    Ok(()) => accepted += 1,
                    Err(e) => errors.push(format!("{what}: {e}")),
                }
                if c.op == Op::Create {
                    created.push(&c.object);
                }
            }
        }
        tracing::info!("server dry run: {accepted} changes accepted, {} rejected", errors.len());
        if errors.is_empty() { Ok(accepted) } else { Err(errors) }
    }

    fn log(&self, idx: usize, line: String) {
        tracing::info!("step {}: {line}", idx + 1);
        self.send(Msg::Step(StepEvent::Log { idx, line }));
    }

    fn progress(&self, idx: usize, done: usize, total: usize, label: String) {
        self.send(Msg::Step(StepEvent::Progress { idx, progress: Progress { done, total, label } }));
    }

    /// Each change: read the object, check it is as planned (else stop: no clobbering), back it
    /// up, write it. Then verify the step.
    async fn run_step(&self, idx: usize, step: &Step) -> Result<(), String> {
        test_hold("before", idx).await;
        for (n, c) in step.changes.iter().enumerate() {
            let current = self.backend.get(&c.object).await?;
            match precondition(c, current.as_ref()) {
                Precondition::Changed(lines) => {
                    let written = if n == 0 {
                        "Nothing of this step was written.".to_string()
                    } else {
                        format!("{n} of this step's {} changes were written before it.", step.changes.len())
                    };
                    return Err(format!(
                        "{} {written} The plan no longer matches the cluster: undo this run, then plan again from what \
                         the cluster holds now (in the wizard: u, then esc reads the cluster again).",
                        lines.join(" ")
                    ));
                }
                Precondition::AlreadyApplied => {
                    self.log(idx, format!("{} already holds this change (written by an earlier attempt)", c.object));
                    continue;
                }
                Precondition::Ready => {}
            }
            self.with_record(|r| r.backup(idx, &c.object, current.as_ref()))?;
            self.log(idx, format!("{} {}", verb(&c.op), c.object));
            self.backend.apply(c, current.as_ref()).await.map_err(|e| format!("{} {}: {e}", verb(&c.op), c.object))?;
            tokio::time::sleep(self.backend.write_delay()).await;
            if n == 0 {
                test_hold("during", idx).await;
            }
        }
        self.send(Msg::Step(StepEvent::Verifying { idx }));
        let mut result = Ok(());
        for v in &step.verify {
            result = self.verify(idx, v).await;
            if result.is_err() {
                break;
            }
        }
        if step.verify.iter().any(|v| matches!(v, Verification::SessionsEstablished { .. }))
            && let Err(e) = self.backend.end_waits().await
        {
            tracing::warn!("could not delete the session probes: {e}");
        }
        if result.is_ok() {
            test_hold("after", idx).await;
        }
        result
    }

    async fn verify(&self, idx: usize, v: &Verification) -> Result<(), String> {
        let poll = self.backend.poll_every();
        let timeout = self.backend.wait_timeout();
        let mut t0 = Instant::now();
        let mut best = 0;
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
                // The timeout is for a rollout that stopped moving, not for a large one.
                if done > best {
                    best = done;
                    t0 = Instant::now();
                }
                if done >= total {
                    self.log(idx, format!("rollout of {object} complete: {done}/{total} pods ready"));
                    break;
                }
                if t0.elapsed() > timeout {
                    return Err(format!(
                        "rollout of {object} made no progress for {} s ({done}/{total} pods ready); check `kubectl -n {} get pods -l k8s-app=calico-node`",
                        timeout.as_secs(),
                        object.namespace.as_deref().unwrap_or("kube-system")
                    ));
                }
                tokio::time::sleep(poll).await;
            },
            Verification::SessionsEstablished { node, peers } => loop {
                let rows = self.backend.node_sessions(node).await?;
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

    /// Undo each change, last first, from the backup when the run has one (the object as it
    /// really was), else from the plan's `before`. An object someone changed after the wizard
    /// wrote it is not overwritten: the step's undo fails and says what differs.
    async fn undo_step(&self, idx: usize, step: &Step) -> Result<(), String> {
        for c in step.changes.iter().rev() {
            let mut c = c.clone();
            if let Some(before) = self.backed_up(&c.object) {
                if let (Op::MergePatch(p), Some(b)) = (&c.op, &before) {
                    let mut after = b.clone();
                    json_patch::merge(&mut after, p);
                    c.after = after;
                }
                c.before = before;
            } else if self.record.lock().unwrap_or_else(|e| e.into_inner()).is_some() && c.op != Op::Restart {
                self.log(idx, format!("{} was never changed by this run: nothing to undo", c.object));
                continue;
            }
            let undo = c.undo();
            let current = self.backend.get(&c.object).await?;
            if let (UndoOp::MergePatch(inv), Some(cur)) = (&undo, &current) {
                if missing_fields(inv, cur).is_empty() {
                    self.log(idx, format!("{} is already as it was", c.object));
                    continue;
                }
                let forward = Change { op: Op::MergePatch(inv.clone()), ..c.clone() };
                let as_written =
                    Change { before: Some(c.after.clone()), after: c.before.clone().unwrap_or_default(), ..forward };
                if let Precondition::Changed(lines) = precondition(&as_written, Some(cur)) {
                    return Err(format!(
                        "not undone: {} Someone changed it after the wizard wrote it; restore it by hand if needed (its state before the run is in the run's backups).",
                        lines.join(" ").replace("the plan expected", "the wizard wrote")
                    ));
                }
            }
            self.log(idx, format!("undo: {} {}", undo_verb(&undo), c.object));
            self.backend.undo(&c, current.as_ref()).await.map_err(|e| format!("undo {}: {e}", c.object))?;
            tokio::time::sleep(self.backend.write_delay()).await;
            self.check_undone(idx, &c, &undo).await?;
        }
        if step.kind == crate::plan::StepKind::SetBackend && !self.backend.is_demo() {
            self.restart_after_backend_restored(idx, step).await?;
        }
        Ok(())
    }

    /// calico-node reads its backend only at start: once the backend setting is restored, restart
    /// it again (the later step's undo restarted it while the new setting was still in place).
    async fn restart_after_backend_restored(&self, idx: usize, step: &Step) -> Result<(), String> {
        use crate::domain::objects::{Kind, ObjectRef};
        let ns = match step.changes.first().map(|c| c.object.kind) {
            Some(Kind::Installation) => "calico-system".to_string(),
            _ => step.changes.first().and_then(|c| c.object.namespace.clone()).unwrap_or("kube-system".into()),
        };
        let ds = ObjectRef::namespaced(Kind::DaemonSet, ns, "calico-node");
        let Some(current) = self.backend.get(&ds).await? else { return Ok(()) };
        let restart = Change {
            object: ds.clone(),
            op: Op::Restart,
            before: Some(current.clone()),
            after: current.clone(),
            v3: None,
        };
        self.log(idx, format!("restart {ds} so the restored backend takes effect"));
        self.backend.apply(&restart, Some(&current)).await.map_err(|e| format!("restart {ds}: {e}"))?;
        self.verify(idx, &Verification::Rollout { object: ds }).await
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

/// Test hook for the fault tests: with `CALICO_BGP_WIZARD_TEST_HOLD=<point>:<step number>` (point:
/// `before` a step's first read, `during` it (after its first write), `after` it is verified but
/// before it is recorded as done), create the file `CALICO_BGP_WIZARD_TEST_HOLD_FILE` and wait
/// until the test removes it, so the test can stop the API server at exactly that moment.
async fn test_hold(point: &str, idx: usize) {
    let Ok(want) = std::env::var("CALICO_BGP_WIZARD_TEST_HOLD") else { return };
    let Ok(file) = std::env::var("CALICO_BGP_WIZARD_TEST_HOLD_FILE") else { return };
    if want != format!("{point}:{}", idx + 1) {
        return;
    }
    tracing::warn!("test hold at {want}");
    if std::fs::write(&file, want.as_bytes()).is_err() {
        return;
    }
    while std::path::Path::new(&file).exists() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A dry run checks this change as the creation of its object as planned after it: the object
/// does not exist yet, and an earlier change (not visible to a dry run) creates it.
fn check_as_created(c: &Change, exists: bool, created_earlier: bool) -> bool {
    !exists && created_earlier && c.op != Op::Create
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::objects::{Kind, ObjectRef};

    #[test]
    fn a_patch_of_an_object_an_earlier_step_creates_is_dry_run_as_its_creation() {
        let pool = ObjectRef::cluster(Kind::IpPool, "new-pool");
        let patch = Change {
            object: pool,
            op: Op::MergePatch(serde_json::json!({"spec": {"natOutgoing": false}})),
            before: Some(serde_json::json!({})),
            after: serde_json::json!({}),
            v3: None,
        };
        assert!(check_as_created(&patch, false, true), "404 otherwise: the earlier step has not run");
        assert!(!check_as_created(&patch, true, true), "it exists: dry-run the patch itself");
        assert!(!check_as_created(&patch, false, false), "nobody creates it: the 404 is a real error");
        let create = Change { op: Op::Create, ..patch };
        assert!(!check_as_created(&create, false, true));
    }
}
