//! `apply PLAN_DIR`, `resume [RUN]` and `rollback [RUN]`: the wizard's apply engine without the
//! screens. The same [`Worker`] runs the same steps with the same checks and run records; this
//! module only chooses the steps, asks before writing, and prints one line per step.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use color_eyre::eyre::{Result, eyre};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::app::{Cmd, Msg, StepEvent};
use crate::backend::Backend;
use crate::domain::answers::{Answers, Password, PoolChoice, Vendor};
use crate::domain::{facts, findings::Severity, validate};
use crate::plan::render::{self, REDACTED, strip_noise};
use crate::plan::{self, Step};
use crate::runs::RunRecord;
use crate::worker::Worker;

/// Exit code when the cluster no longer matches the plan (re-plan needed).
pub const EXIT_STALE_PLAN: i32 = 3;

/// Read the plan directory's `plan.json`: its answers and its steps (as JSON, for comparison).
pub fn read_plan_dir(dir: &Path) -> Result<(Value, Value)> {
    let path = dir.join("plan.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        eyre!(
            "cannot read '{}': {e}. PLAN_DIR is a directory written by `plan -o dir` or the Preview screen's w",
            path.display()
        )
    })?;
    let v: Value = serde_json::from_str(&text).map_err(|e| eyre!("'{}' is not a plan: {e}", path.display()))?;
    if v.get("format").and_then(Value::as_str) != Some("calico-bgp-wizard-plan/v1") {
        return Err(eyre!("'{}' is not a calico-bgp-wizard plan (format calico-bgp-wizard-plan/v1)", path.display()));
    }
    Ok((v["answers"].clone(), v["steps"].clone()))
}

/// The operator's answers as saved in a plan (the password comes separately: it is never saved).
pub fn answers_from_json(a: &Value, password: Password) -> Result<Answers> {
    let s = |k: &str| match a.get(k) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let pool = &a["pool"];
    let pool = if pool["exists"].as_bool() == Some(true) {
        PoolChoice::Existing(pool["name"].as_str().unwrap_or_default().to_string())
    } else {
        PoolChoice::Cidr(pool["cidr"].as_str().unwrap_or_default().to_string())
    };
    Ok(Answers {
        reflectors: a["reflectors"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default(),
        cluster_id: s("cluster_id"),
        switch_ip: s("switch_ip"),
        switch_as: s("switch_as"),
        cluster_as: s("cluster_as"),
        password,
        keep_original_next_hop: a["keep_original_next_hop"].as_bool().unwrap_or(false),
        pool,
        vendor: serde_json::from_value::<Vendor>(a["vendor"].clone()).unwrap_or(Vendor::CiscoIos),
    })
}

/// The first line of a password file. `empty_hint` ends the message for an empty file (what to
/// do instead differs between `plan` and `apply`).
pub fn read_password_file(p: &Path, empty_hint: &str) -> Result<Password> {
    let text = std::fs::read_to_string(p).map_err(|e| eyre!("cannot read the password file '{}': {e}", p.display()))?;
    let first = text.lines().next().unwrap_or("").to_string();
    if first.is_empty() {
        return Err(eyre!("the password file '{}' is empty (its first line is the password){empty_hint}", p.display()));
    }
    Ok(Password(first))
}

/// Steps as JSON without what changes between two reads of the same cluster (resourceVersion,
/// status…), so a saved plan and a rebuilt one compare equal when nothing relevant changed.
pub fn comparable_steps(steps: &Value) -> Value {
    let mut steps = steps.clone();
    if let Some(arr) = steps.as_array_mut() {
        for s in arr {
            if let Some(changes) = s.get_mut("changes").and_then(Value::as_array_mut) {
                for c in changes {
                    for k in ["before", "after"] {
                        if let Some(v) = c.get_mut(k) {
                            *v = strip_noise(v);
                        }
                    }
                }
            }
        }
    }
    steps
}

/// Where the run records live.
pub fn runs_dir() -> std::path::PathBuf {
    crate::run::state_dir().join("runs")
}

/// Ask a yes/no question on the terminal; anything but y/yes is no.
fn confirm(question: &str) -> Result<bool> {
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// `apply PLAN_DIR`.
pub async fn apply(b: Backend, dir: &Path, yes: bool, password_file: Option<&Path>) -> Result<i32> {
    let (answers_json, saved_steps) = read_plan_dir(dir)?;
    let password = match (&answers_json["password"], password_file) {
        (Value::Null, _) => Password::default(),
        (_, Some(p)) => read_password_file(p, "")?,
        (_, None) => {
            return Err(eyre!(
                "this plan sets a BGP password, which is never saved with the plan; give it with --password-file FILE"
            ));
        }
    };
    let answers = answers_from_json(&answers_json, password)?;
    let target = b.target().cloned().unwrap_or_default();
    if let Some(open) = RunRecord::latest_open(&runs_dir(), &target.server) {
        return Err(eyre!(
            "{} — finish it with `calico-bgp-wizard resume {}` or take it back with `calico-bgp-wizard rollback {}` before applying another plan",
            open.manifest.summary(),
            open.manifest.id,
            open.manifest.id
        ));
    }
    let objects = b.detect().await.map_err(|e| eyre!("cannot read the cluster: {e}"))?;
    let f = facts::detect(&objects);
    let v = validate::validate(&answers, &f);
    for finding in v.findings.iter().filter(|x| x.severity == Severity::Error) {
        eprintln!("{finding}");
    }
    let Some(valid) = v.valid else {
        eprintln!("the plan's answers are not valid for this cluster any more (see above); nothing was changed");
        return Ok(crate::run::EXIT_BAD_INPUT);
    };
    let p = plan::build_plan(&valid, &f, &objects);
    let rebuilt = render::plan_json(&p)["steps"].clone();
    if comparable_steps(&rebuilt) != comparable_steps(&saved_steps) {
        eprintln!("The cluster changed since this plan was made, so it is not applied (nothing was changed):");
        for line in step_differences(&saved_steps, &rebuilt) {
            eprintln!("  {line}");
        }
        eprintln!("Make a new plan (`calico-bgp-wizard plan ... -o dir`) and review it.");
        return Ok(EXIT_STALE_PLAN);
    }
    if p.is_empty() {
        println!("Nothing to do: the cluster is already configured as this plan asks.");
        return Ok(0);
    }
    println!("Plan: {} steps on {} (context {}):", p.steps.len(), target.server, target.context);
    for (i, s) in p.steps.iter().enumerate() {
        println!("  {}. {}", i + 1, s.title);
    }
    if !yes && !confirm("Apply these steps now?")? {
        println!("Nothing was changed.");
        return Ok(1);
    }
    let started = crate::kube::write::now();
    let mut answers_saved = answers_json.clone();
    if !answers_saved["password"].is_null() {
        answers_saved["password"] = Value::String(REDACTED.into());
    }
    let record = RunRecord::create(
        &runs_dir(),
        crate::runs::run_id(&started),
        started,
        &target.server,
        &target.context,
        answers_saved,
        &p.steps,
    )
    .map_err(|e| eyre!("cannot create the run record under {}: {e}; nothing was changed", runs_dir().display()))?;
    let id = record.manifest.id.clone();
    println!("Run {id}: backups and progress in {}", record.dir.display());
    let steps = p.steps.clone();
    drive(Arc::new(b), record, &steps, (0..steps.len()).collect(), Direction::Forward).await
}

/// `resume [RUN]`.
pub async fn resume(b: Backend, run: Option<&str>, yes: bool, password_file: Option<&Path>) -> Result<i32> {
    let mut record = pick_run(&b, run, true)?;
    let remaining = record.manifest.remaining();
    if remaining.is_empty() {
        println!("{}: nothing left to do.", record.manifest.summary());
        return Ok(0);
    }
    let mut steps = record.manifest.steps.clone();
    if remaining.iter().any(|&i| crate::runs::needs_password(&steps[i])) {
        let Some(p) = password_file else {
            return Err(eyre!(
                "the rest of this run stores the BGP password, which is never saved; give it with --password-file FILE"
            ));
        };
        let pw = read_password_file(p, "")?;
        for &i in &remaining {
            crate::runs::restore_password(&mut steps[i], &pw);
        }
    }
    println!("{}", record.manifest.summary());
    for &i in &remaining {
        println!("  {}. {} ({:?})", i + 1, steps[i].title, record.manifest.progress[i]);
    }
    if !yes && !confirm("Resume: run these steps now?")? {
        println!("Nothing was changed.");
        return Ok(1);
    }
    record.manifest.finished = None;
    drive(Arc::new(b), record, &steps, remaining, Direction::Forward).await
}

/// `rollback [RUN]`.
pub async fn rollback(b: Backend, run: Option<&str>, yes: bool) -> Result<i32> {
    let record = pick_run(&b, run, false)?;
    let to_undo = record.manifest.to_undo();
    if to_undo.is_empty() {
        println!("{}: nothing to undo.", record.manifest.summary());
        return Ok(0);
    }
    println!("{}", record.manifest.summary());
    println!("These steps will be undone, last first, from the backups in {}:", record.dir.display());
    for &i in &to_undo {
        println!("  {}. {} — {}", i + 1, record.manifest.steps[i].title, record.manifest.steps[i].undo);
    }
    if !yes && !confirm("Undo them now?")? {
        println!("Nothing was changed.");
        return Ok(1);
    }
    let steps = record.manifest.steps.clone();
    drive(Arc::new(b), record, &steps, to_undo, Direction::Undo).await
}

/// The run named `id`, or the newest one against this server (only unfinished ones when `open`).
fn pick_run(b: &Backend, id: Option<&str>, open: bool) -> Result<RunRecord> {
    let server = b.target().map(|t| t.server.clone()).unwrap_or_default();
    let runs = RunRecord::list(&runs_dir());
    let list = || {
        let lines: Vec<String> = runs.iter().map(|r| format!("  {}", r.manifest.summary())).collect();
        if lines.is_empty() { "  (no runs recorded)".to_string() } else { lines.join("\n") }
    };
    let found = match id {
        Some(id) => runs.iter().find(|r| r.manifest.id == id),
        None => runs.iter().rev().find(|r| {
            r.manifest.server == server && if open { r.manifest.is_open() } else { !r.manifest.to_undo().is_empty() }
        }),
    };
    let Some(r) = found else {
        return Err(eyre!(
            "no {} run found{} in {}. Runs recorded:\n{}",
            if open { "unfinished" } else { "undoable" },
            id.map(|i| format!(" with id '{i}'")).unwrap_or_else(|| format!(" for {server}")),
            runs_dir().display(),
            list()
        ));
    };
    if r.manifest.server != server {
        return Err(eyre!(
            "run {} was made against {}, but the current context talks to {}; choose its context with --context or --kubeconfig",
            r.manifest.id,
            r.manifest.server,
            server
        ));
    }
    RunRecord::open(&r.dir).map_err(|e| eyre!(e))
}

/// What differs between a saved plan's steps and the rebuilt ones, one line each.
fn step_differences(saved: &Value, rebuilt: &Value) -> Vec<String> {
    let title = |s: &Value| s["title"].as_str().unwrap_or("").to_string();
    let a = comparable_steps(saved);
    let b = comparable_steps(rebuilt);
    let (a, b) = (a.as_array().cloned().unwrap_or_default(), b.as_array().cloned().unwrap_or_default());
    let mut out = Vec::new();
    for i in 0..a.len().max(b.len()) {
        match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x), Some(y)) if title(x) == title(y) => {
                out.push(format!("step {}: '{}' now changes the objects differently", i + 1, title(x)))
            }
            (Some(x), Some(y)) => out.push(format!("step {}: was '{}', would now be '{}'", i + 1, title(x), title(y))),
            (Some(x), None) => out.push(format!("step {}: '{}' is no longer needed", i + 1, title(x))),
            (None, Some(y)) => out.push(format!("step {}: '{}' is new", i + 1, title(y))),
            (None, None) => {}
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Forward,
    Undo,
}

/// Run (or undo) `order`'s steps one at a time through the worker, printing one line per step.
async fn drive(b: Arc<Backend>, record: RunRecord, steps: &[Step], order: Vec<usize>, dir: Direction) -> Result<i32> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let id = record.manifest.id.clone();
    let total = record.manifest.steps.len();
    let worker = Worker::new(b, tx, Instant::now(), false);
    worker.set_record(record);
    for &idx in &order {
        let step = steps[idx].clone();
        let t0 = Instant::now();
        let label = format!("[{}/{total}] {}", idx + 1, step.title);
        worker.handle(match dir {
            Direction::Forward => Cmd::RunStep { idx, step },
            Direction::Undo => Cmd::UndoStep { idx, step },
        });
        let outcome = loop {
            let Some(Msg::Step(ev)) = rx.recv().await else { continue };
            match ev {
                StepEvent::Log { line, .. } => tracing::info!("{line}"),
                StepEvent::Done { .. } => break Ok("done"),
                StepEvent::Undone { .. } => break Ok("undone"),
                StepEvent::Failed { error, .. } | StepEvent::UndoFailed { error, .. } => break Err(error),
                _ => {}
            }
        };
        match outcome {
            Ok(word) => println!("{label}: {word} ({:.1} s)", t0.elapsed().as_secs_f64()),
            Err(error) => {
                println!("{label}: FAILED");
                eprintln!("error: {error}");
                match dir {
                    Direction::Forward => eprintln!(
                        "The run stopped here; what was written is recorded with backups. When the cause is fixed: \
                         `calico-bgp-wizard resume {id}` continues, `calico-bgp-wizard rollback {id}` undoes every step."
                    ),
                    Direction::Undo => eprintln!(
                        "The rollback stopped here; the remaining steps are still applied. Fix the cause and run \
                         `calico-bgp-wizard rollback {id}` again."
                    ),
                }
                return Ok(1);
            }
        }
    }
    worker.finish_record();
    match dir {
        Direction::Forward => println!("Run {id} complete: every step applied and verified."),
        Direction::Undo => println!("Run {id} rolled back: every applied step undone."),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparable_steps_ignore_server_fields() {
        let a = serde_json::json!([{"title": "t", "changes": [{"before": {"metadata": {"name": "x", "resourceVersion": "1"}}, "after": {}}]}]);
        let b = serde_json::json!([{"title": "t", "changes": [{"before": {"metadata": {"name": "x", "resourceVersion": "9"}}, "after": {}}]}]);
        assert_eq!(comparable_steps(&a), comparable_steps(&b));
        let c = serde_json::json!([{"title": "t", "changes": [{"before": {"metadata": {"name": "y"}}, "after": {}}]}]);
        assert_ne!(comparable_steps(&a), comparable_steps(&c));
        assert_eq!(step_differences(&a, &c).len(), 1);
    }
}
