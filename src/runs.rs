//! Run records: one folder per apply run under the state directory, holding a manifest (the steps
//! as approved, each step's progress, the cluster it ran against) and a backup of every object
//! before the run first changed it (or a note that it did not exist). Undo, `rollback` and
//! `resume` work from these files, so an interrupted run (SSH dropped, process killed, API server
//! gone) can always be finished or taken back.
//!
//! Layout: `<state>/runs/<id>/run.json` and `<state>/runs/<id>/backups/NNN-<kind>-<ns>-<name>.json`.
//! Every write replaces the file atomically (temporary file + rename). Secret values are never
//! written: Secret changes are stored redacted, and a resume that still has to create the Secret
//! asks for the password again.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::objects::{Kind, ObjectRef};
use crate::plan::Step;

pub const FORMAT: &str = "calico-bgp-wizard-run/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepProgress {
    Pending,
    /// Started, not known to have finished: some of its changes may be written.
    Running,
    Done,
    Failed,
    Undone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    /// The first step that changed the object.
    pub step: usize,
    pub object: ObjectRef,
    /// File under `backups/`; None when the object did not exist before the run.
    pub file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    pub format: String,
    pub id: String,
    pub started: String,
    pub server: String,
    pub context: String,
    /// The answers the plan was built from (password redacted).
    pub answers: Value,
    pub steps: Vec<Step>,
    pub progress: Vec<StepProgress>,
    pub backups: Vec<Backup>,
    /// Set when every step is done, or every applied step was undone.
    pub finished: Option<String>,
}

impl RunManifest {
    /// Steps not yet done (pending, running or failed), in order.
    pub fn remaining(&self) -> Vec<usize> {
        (0..self.steps.len()).filter(|&i| !matches!(self.progress[i], StepProgress::Done)).collect()
    }

    /// Steps whose changes may be in the cluster (done, running or failed), last first.
    pub fn to_undo(&self) -> Vec<usize> {
        (0..self.steps.len())
            .rev()
            .filter(|&i| matches!(self.progress[i], StepProgress::Done | StepProgress::Running | StepProgress::Failed))
            .collect()
    }

    pub fn is_open(&self) -> bool {
        self.finished.is_none() && self.progress.iter().any(|p| *p != StepProgress::Pending)
    }

    /// One line for lists and prompts.
    pub fn summary(&self) -> String {
        let done = self.progress.iter().filter(|p| **p == StepProgress::Done).count();
        let state = match (&self.finished, self.to_undo().is_empty()) {
            (Some(_), true) => "undone".to_string(),
            (Some(_), false) => "complete".to_string(),
            (None, _) => format!("interrupted after {done} of {} steps", self.steps.len()),
        };
        format!("run {} on {} ({}), started {}: {state}", self.id, self.server, self.context, self.started)
    }
}

/// An open run folder.
#[derive(Debug)]
pub struct RunRecord {
    pub dir: PathBuf,
    pub manifest: RunManifest,
}

impl RunRecord {
    /// Start a new run folder under `root` (the `runs` directory).
    pub fn create(
        root: &Path,
        id: String,
        started: String,
        server: &str,
        context: &str,
        answers: Value,
        steps: &[Step],
    ) -> std::io::Result<RunRecord> {
        // Two runs in the same second get `-2`, `-3`…: a run folder is never reused.
        std::fs::create_dir_all(root)?;
        let (mut id, mut n) = (id.clone(), 1);
        let base = id.clone();
        let dir = loop {
            let d = root.join(&id);
            match std::fs::create_dir(&d) {
                Ok(()) => break d,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    n += 1;
                    id = format!("{base}-{n}");
                }
                Err(e) => return Err(e),
            }
        };
        std::fs::create_dir_all(dir.join("backups"))?;
        restrict(root);
        let steps: Vec<Step> = steps.iter().map(redact_step).collect();
        let manifest = RunManifest {
            format: FORMAT.into(),
            id,
            started,
            server: server.into(),
            context: context.into(),
            answers,
            progress: vec![StepProgress::Pending; steps.len()],
            steps,
            backups: Vec::new(),
            finished: None,
        };
        let r = RunRecord { dir, manifest };
        r.save()?;
        Ok(r)
    }

    pub fn open(dir: &Path) -> Result<RunRecord, String> {
        let path = dir.join("run.json");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
        let manifest: RunManifest =
            serde_json::from_str(&text).map_err(|e| format!("'{}' is not a run record: {e}", path.display()))?;
        if manifest.format != FORMAT {
            return Err(format!("'{}' has format '{}', expected '{FORMAT}'", path.display(), manifest.format));
        }
        Ok(RunRecord { dir: dir.to_path_buf(), manifest })
    }

    /// Every run under `root`, oldest first (ids sort by time).
    pub fn list(root: &Path) -> Vec<RunRecord> {
        let Ok(rd) = std::fs::read_dir(root) else { return Vec::new() };
        let mut runs: Vec<RunRecord> = rd.flatten().filter_map(|e| RunRecord::open(&e.path()).ok()).collect();
        runs.sort_by(|a, b| a.manifest.id.cmp(&b.manifest.id));
        runs
    }

    /// The newest unfinished run against `server`, if any.
    pub fn latest_open(root: &Path, server: &str) -> Option<RunRecord> {
        RunRecord::list(root).into_iter().rev().find(|r| r.manifest.server == server && r.manifest.is_open())
    }

    pub fn save(&self) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(&self.manifest).map_err(std::io::Error::other)?;
        write_atomic(&self.dir.join("run.json"), text.as_bytes())
    }

    pub fn set(&mut self, idx: usize, p: StepProgress) -> std::io::Result<()> {
        if let Some(slot) = self.manifest.progress.get_mut(idx) {
            *slot = p;
        }
        self.save()
    }

    pub fn finish(&mut self, at: String) -> std::io::Result<()> {
        self.manifest.finished = Some(at);
        self.save()
    }

    /// Save `current` as the object's state before this run, unless it was saved already (a
    /// resumed or repeated step must not overwrite the original with its own result).
    pub fn backup(&mut self, step: usize, object: &ObjectRef, current: Option<&Value>) -> std::io::Result<()> {
        if self.manifest.backups.iter().any(|b| &b.object == object) {
            return Ok(());
        }
        let file = match current {
            None => None,
            Some(v) => {
                let n = self.manifest.backups.len() + 1;
                let ns = object.namespace.as_deref().unwrap_or("_");
                let name = format!("{n:03}-{}-{ns}-{}.json", object.kind.plural(), object.name);
                let text = serde_json::to_string_pretty(v).map_err(std::io::Error::other)?;
                write_atomic(&self.dir.join("backups").join(&name), text.as_bytes())?;
                Some(name)
            }
        };
        self.manifest.backups.push(Backup { step, object: object.clone(), file });
        self.save()
    }

    /// The object as it was before the run: Some(None) when it did not exist, None when the run
    /// never touched it.
    pub fn before(&self, object: &ObjectRef) -> Option<Option<Value>> {
        let b = self.manifest.backups.iter().find(|b| &b.object == object)?;
        match &b.file {
            None => Some(None),
            Some(f) => {
                let text = std::fs::read_to_string(self.dir.join("backups").join(f)).ok()?;
                Some(Some(serde_json::from_str(&text).ok()?))
            }
        }
    }
}

/// Steps as stored: Secret values replaced, so no password reaches the disk.
fn redact_step(s: &Step) -> Step {
    let mut s = s.clone();
    for c in s.changes.iter_mut().filter(|c| c.object.kind == Kind::Secret) {
        crate::plan::render::redact_secret_values(&mut c.after);
        if let crate::plan::Op::MergePatch(p) = &mut c.op {
            crate::plan::render::redact_secret_values(p);
        }
    }
    s
}

/// The inverse of [`redact_step`] for a resumed run: put the password back where a Secret
/// change's value was redacted (`stringData` as is, `data` base64-encoded).
pub fn restore_password(step: &mut Step, pw: &crate::domain::answers::Password) {
    let values = [
        ("stringData", Value::String(pw.0.clone())),
        ("data", Value::String(crate::plan::build::base64(pw.0.as_bytes()))),
    ];
    for c in step.changes.iter_mut().filter(|c| c.object.kind == Kind::Secret) {
        let mut targets = vec![&mut c.after];
        if let crate::plan::Op::MergePatch(p) = &mut c.op {
            targets.push(p);
        }
        for t in targets {
            for (key, value) in &values {
                for v in t.get_mut(*key).and_then(Value::as_object_mut).into_iter().flat_map(|m| m.values_mut()) {
                    if v == crate::plan::render::REDACTED {
                        *v = value.clone();
                    }
                }
            }
        }
    }
}

/// True when a stored step still needs a secret value it no longer has.
pub fn needs_password(s: &Step) -> bool {
    s.changes.iter().any(|c| c.object.kind == Kind::Secret && crate::plan::render::is_redacted(&c.after))
}

/// Owner-only permissions on the runs folder: backups may hold Secrets of the cluster.
fn restrict(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(tmp, path)
}

/// A run id from the wall clock: `20261129-161500`, sortable.
pub fn run_id(rfc3339: &str) -> String {
    rfc3339.chars().filter(|c| c.is_ascii_digit() || *c == 'T').collect::<String>().replace('T', "-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::answers::Password;
    use crate::plan::{Change, Op, StepKind};
    use serde_json::json;

    fn secret_step() -> Step {
        let object = ObjectRef::namespaced(Kind::Secret, "kube-system", "calico-bgp-wizard-password");
        Step {
            kind: StepKind::CreatePasswordSecret,
            title: "Store the BGP password".into(),
            why: String::new(),
            changes: vec![Change {
                object,
                op: Op::Create,
                before: None,
                after: json!({"kind": "Secret", "stringData": {"password": "pw-1"}}),
                v3: None,
            }],
            verify: Vec::new(),
            undo: String::new(),
        }
    }

    #[test]
    fn the_password_is_never_stored_and_can_be_put_back() {
        let root = tempfile::tempdir().unwrap();
        let r = RunRecord::create(root.path(), "20261129-1".into(), "t".into(), "s", "c", json!({}), &[secret_step()])
            .unwrap();
        let text = std::fs::read_to_string(r.dir.join("run.json")).unwrap();
        assert!(!text.contains("pw-1"), "{text}");
        let mut stored = RunRecord::open(&r.dir).unwrap().manifest.steps.remove(0);
        assert!(needs_password(&stored));
        restore_password(&mut stored, &Password("pw-1".into()));
        assert!(!needs_password(&stored));
        assert_eq!(stored, secret_step());
    }

    #[test]
    fn the_first_backup_of_an_object_is_kept_and_run_folders_are_never_reused() {
        let root = tempfile::tempdir().unwrap();
        let mut r = RunRecord::create(root.path(), "20261129-1".into(), "t".into(), "s", "c", json!({}), &[]).unwrap();
        let pool = ObjectRef::cluster(Kind::IpPool, "p");
        r.backup(0, &pool, Some(&json!({"spec": {"ipipMode": "Always"}}))).unwrap();
        // A resumed step reads the object as it already wrote it: that must not become the backup.
        r.backup(0, &pool, Some(&json!({"spec": {"ipipMode": "Never"}}))).unwrap();
        let peer = ObjectRef::cluster(Kind::BgpPeer, "rr-peer");
        r.backup(1, &peer, None).unwrap();
        let r = RunRecord::open(&r.dir).unwrap();
        assert_eq!(r.before(&pool), Some(Some(json!({"spec": {"ipipMode": "Always"}}))));
        assert_eq!(r.manifest.backups.len(), 2, "one backup per object: {:?}", r.manifest.backups);
        assert_eq!(std::fs::read_dir(r.dir.join("backups")).unwrap().count(), 1, "one file: the pool's");
        assert_eq!(r.before(&peer), Some(None), "absent before the run");
        assert_eq!(r.before(&ObjectRef::cluster(Kind::IpPool, "other")), None, "never touched");
        let again = RunRecord::create(root.path(), "20261129-1".into(), "t".into(), "s", "c", json!({}), &[]).unwrap();
        assert_eq!(again.manifest.id, "20261129-1-2");
        assert_eq!(RunRecord::list(root.path()).len(), 2);
    }
}
