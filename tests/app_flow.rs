//! The wizard's state machine driven by messages alone: the server dry run before apply, apply
//! sequencing, pause, abort, undo, failure, quitting mid-apply, resuming or undoing an interrupted
//! run, the read-only dashboard, and secrets never reaching the screen.

use calico_bgp_wizard::app::{App, ApplyPhase, Cmd, DryRunState, Mode, Msg, Screen, StepEvent, StepState};
use calico_bgp_wizard::demo::DemoCluster;
use calico_bgp_wizard::runs::{RunManifest, StepProgress};
use calico_bgp_wizard::tui::{render, theme::Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn key(app: &mut App, code: KeyCode) -> Vec<Cmd> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typ(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn screen_text(app: &App) -> String {
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    term.draw(|f| render(f, app, &Theme { color: false })).unwrap();
    term.backend().to_string()
}

/// At Preview with the demo answers, and `password` typed on the Peering screen.
fn preview(password: &str) -> App {
    preview_on(password, true)
}

/// The same, on the demo (`demo`) or as if on a real cluster holding the demo's objects.
fn preview_on(password: &str, demo: bool) -> App {
    let mut app = App::new(Mode::Wizard, demo);
    app.update(Msg::Detected(Ok(DemoCluster::embedded().objects().clone())));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    typ(&mut app, "172.31.13.116");
    key(&mut app, KeyCode::Tab);
    typ(&mut app, "7675");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    typ(&mut app, password);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('y')); // public AS warning
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Preview);
    app
}

/// Confirm the apply and let the server dry run pass; returns the commands that start the run.
fn start(app: &mut App) -> Vec<Cmd> {
    key(app, KeyCode::Enter);
    let cmds = key(app, KeyCode::Char('y'));
    assert!(matches!(cmds.as_slice(), [Cmd::DryRun { .. }]), "the dry run comes first: {cmds:?}");
    let n = dry_run_changes(&cmds);
    app.update(Msg::DryRun(Ok(n)))
}

/// How many changes a `Cmd::DryRun` sends.
fn dry_run_changes(cmds: &[Cmd]) -> usize {
    cmds.iter()
        .filter_map(|c| {
            if let Cmd::DryRun { steps } = c {
                Some(steps.iter().map(|s| s.changes.len()).sum::<usize>())
            } else {
                None
            }
        })
        .sum()
}

fn run_idx(cmds: &[Cmd]) -> Vec<usize> {
    cmds.iter().filter_map(|c| if let Cmd::RunStep { idx, .. } = c { Some(*idx) } else { None }).collect()
}

fn undo_idx(cmds: &[Cmd]) -> Vec<usize> {
    cmds.iter().filter_map(|c| if let Cmd::UndoStep { idx, .. } = c { Some(*idx) } else { None }).collect()
}

#[test]
fn steps_run_one_at_a_time_in_plan_order() {
    let mut app = preview("");
    let n = app.preview.plan.as_ref().unwrap().steps.len();
    assert!(n >= 5);
    let mut cmds = start(&mut app);
    assert!(matches!(cmds.first(), Some(Cmd::BeginRun { .. })), "{cmds:?}");
    for i in 0..n {
        assert_eq!(run_idx(&cmds), vec![i], "step {i} starts only after step {} is done", i.max(1) - 1);
        cmds = app.update(Msg::Step(StepEvent::Done { idx: i }));
    }
    assert_eq!(cmds, vec![Cmd::FinishRun], "the finished run's record is closed");
    assert_eq!(app.apply.as_ref().unwrap().phase, ApplyPhase::Finished);
}

#[test]
fn pause_waits_for_the_running_step_then_resume_continues() {
    let mut app = preview("");
    start(&mut app);
    assert!(key(&mut app, KeyCode::Char('p')).is_empty());
    assert_eq!(app.apply.as_ref().unwrap().phase, ApplyPhase::Paused);
    assert!(app.update(Msg::Step(StepEvent::Done { idx: 0 })).is_empty(), "paused: no new step");
    assert_eq!(run_idx(&key(&mut app, KeyCode::Char('p'))), vec![1], "resume starts the next step");
}

#[test]
fn abort_stops_after_the_running_step_and_undo_goes_in_reverse() {
    let mut app = preview("");
    start(&mut app);
    app.update(Msg::Step(StepEvent::Done { idx: 0 }));
    key(&mut app, KeyCode::Char('a'));
    assert!(app.update(Msg::Step(StepEvent::Done { idx: 1 })).is_empty());
    let a = app.apply.as_ref().unwrap();
    assert_eq!(a.phase, ApplyPhase::Stopped);
    assert!(a.runs[2..].iter().all(|r| r.state == StepState::Skipped));
    assert!(key(&mut app, KeyCode::Char('u')).is_empty(), "undo asks first");
    assert!(app.confirm.is_some());
    assert_eq!(undo_idx(&key(&mut app, KeyCode::Char('y'))), vec![1]);
    assert_eq!(undo_idx(&app.update(Msg::Step(StepEvent::Undone { idx: 1 }))), vec![0]);
    assert_eq!(app.update(Msg::Step(StepEvent::Undone { idx: 0 })), vec![Cmd::FinishRun]);
    assert_eq!(app.apply.as_ref().unwrap().phase, ApplyPhase::RolledBack);
    // Only after a full rollback may the operator go back and change answers.
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Preview);
}

#[test]
fn after_a_rollback_on_a_real_cluster_esc_reads_the_cluster_again() {
    // A run may stop because someone changed the cluster: what was read before is out of date.
    let mut app = preview_on("", false);
    start(&mut app);
    app.update(Msg::Step(StepEvent::Failed { idx: 0, error: "changed since the plan was made".into() }));
    key(&mut app, KeyCode::Char('u'));
    assert_eq!(undo_idx(&key(&mut app, KeyCode::Char('y'))), vec![0]);
    app.update(Msg::Step(StepEvent::Undone { idx: 0 }));
    assert_eq!(app.apply.as_ref().unwrap().phase, ApplyPhase::RolledBack);
    assert_eq!(key(&mut app, KeyCode::Esc), vec![Cmd::Detect]);
    assert_eq!(app.screen, Screen::Detect);
    assert!(app.facts.is_none() && app.apply.is_none());
}

#[test]
fn a_failed_step_stops_the_run_and_is_undone_too() {
    let mut app = preview("");
    start(&mut app);
    app.update(Msg::Step(StepEvent::Done { idx: 0 }));
    let cmds = app.update(Msg::Step(StepEvent::Failed { idx: 1, error: "sessions not Established".into() }));
    assert!(cmds.is_empty());
    let a = app.apply.as_ref().unwrap();
    assert_eq!((a.phase, a.runs[1].state), (ApplyPhase::Stopped, StepState::Failed));
    assert!(a.runs[1].log.iter().any(|l| l.contains("sessions not Established")));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Apply, "no going back while changes are in place");
    key(&mut app, KeyCode::Char('u'));
    assert_eq!(undo_idx(&key(&mut app, KeyCode::Char('y'))), vec![1], "the half-done step is undone first");
}

#[test]
fn quitting_during_apply_asks_and_no_cancels() {
    let mut app = preview("");
    start(&mut app);
    assert!(key(&mut app, KeyCode::Char('q')).is_empty());
    assert!(!app.quit);
    let c = app.confirm.clone().expect("asks before quitting mid-apply");
    assert!(c.lines.iter().any(|l| l.contains("half-done")), "{c:?}");
    key(&mut app, KeyCode::Char('n'));
    assert!(!app.quit && app.confirm.is_none());
    assert_eq!(key(&mut app, KeyCode::Char('q')), Vec::<Cmd>::new());
    assert_eq!(key(&mut app, KeyCode::Char('y')), vec![Cmd::Quit]);
    assert!(app.quit);
}

#[test]
fn errors_block_next_and_warnings_need_a_confirm() {
    let mut app = App::new(Mode::Wizard, true);
    app.update(Msg::Detected(Ok(DemoCluster::embedded().objects().clone())));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Peering);
    key(&mut app, KeyCode::Enter); // empty switch IP and AS: errors
    assert_eq!((app.screen, app.confirm.is_some()), (Screen::Peering, false));
    typ(&mut app, "172.31.13.116");
    key(&mut app, KeyCode::Tab);
    typ(&mut app, "7675");
    key(&mut app, KeyCode::Enter);
    assert!(app.confirm.is_some(), "public AS: a warning to confirm");
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.screen, Screen::Peering);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.screen, Screen::Pool);
}

#[test]
fn keep_next_hop_follows_the_switch_subnet_until_touched() {
    let mut app = App::new(Mode::Wizard, true);
    app.update(Msg::Detected(Ok(DemoCluster::embedded().objects().clone())));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    typ(&mut app, "10.9.9.9");
    assert!(!app.peering.keep_next_hop, "switch outside the node subnet: off by default");
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)));
    typ(&mut app, "172.31.13.116");
    assert!(app.peering.keep_next_hop, "switch in the node subnet: on by default");
    for _ in 0..4 {
        key(&mut app, KeyCode::Down);
    }
    key(&mut app, KeyCode::Char(' '));
    assert!(!app.peering.keep_next_hop);
    for _ in 0..4 {
        key(&mut app, KeyCode::Up);
    }
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)));
    typ(&mut app, "172.31.13.117"); // in the node subnet: the default would be on
    assert!(!app.peering.keep_next_hop, "the operator's choice sticks");
}

#[test]
fn the_password_never_reaches_the_screen() {
    let secret = "s3cr3t-Passw0rd";
    let mut app = preview(secret);
    let plan = app.preview.plan.clone().unwrap();
    assert!(plan.steps.iter().any(|s| s.title.to_lowercase().contains("password")), "a Secret step exists");
    for i in 0..plan.steps.len() {
        app.preview.selected = i;
        for _ in 0..3 {
            let s = screen_text(&app);
            assert!(!s.contains(secret), "password shown on preview step {i}:\n{s}");
            key(&mut app, KeyCode::Tab);
        }
    }
    app.screen = Screen::Peering;
    app.peering.focus = calico_bgp_wizard::app::PeeringField::Password;
    assert!(!screen_text(&app).contains(secret));
    let files = app.plan_files().unwrap();
    for f in files {
        assert!(!f.contents.contains(secret), "password in {}", f.path);
    }
}

#[test]
fn the_dashboard_cannot_produce_a_write() {
    let demo = DemoCluster::embedded();
    let mut app = App::new(Mode::Dashboard, true);
    assert!(app.init().iter().all(|c| !c.is_write()));
    app.update(Msg::Detected(Ok(demo.objects().clone())));
    let mut codes: Vec<KeyCode> = (' '..='~').map(KeyCode::Char).collect();
    codes.extend([KeyCode::Enter, KeyCode::Esc, KeyCode::Tab, KeyCode::BackTab, KeyCode::Up, KeyCode::Down]);
    for _round in 0..3 {
        for c in &codes {
            if *c == KeyCode::Char('q') {
                continue;
            }
            for cmd in key(&mut app, *c) {
                assert!(!cmd.is_write(), "{c:?} produced {cmd:?}");
            }
            assert_eq!(app.screen, Screen::Status, "{c:?} left the dashboard");
        }
    }
}

/// Every command the keys produce while walking from Detect to Preview with the demo answers.
#[test]
fn walking_to_preview_sends_no_write_and_d_asks_the_server() {
    let mut app = App::new(Mode::Wizard, false);
    let mut cmds = app.init();
    cmds.extend(app.update(Msg::Detected(Ok(DemoCluster::embedded().objects().clone()))));
    cmds.extend(key(&mut app, KeyCode::Enter));
    cmds.extend(key(&mut app, KeyCode::Enter));
    for c in "172.31.13.116".chars() {
        cmds.extend(key(&mut app, KeyCode::Char(c)));
    }
    cmds.extend(key(&mut app, KeyCode::Tab));
    for c in "7675".chars() {
        cmds.extend(key(&mut app, KeyCode::Char(c)));
    }
    cmds.extend(key(&mut app, KeyCode::Enter));
    cmds.extend(key(&mut app, KeyCode::Char('y')));
    cmds.extend(key(&mut app, KeyCode::Enter));
    for c in [KeyCode::Tab, KeyCode::Char('v'), KeyCode::Tab, KeyCode::Tab, KeyCode::Down] {
        cmds.extend(key(&mut app, c));
    }
    assert_eq!(app.screen, Screen::Preview);
    // The one write on the way: deleting session probes a killed wizard left (only its own, by
    // label), asked for once the cluster is read; nothing of the plan is written.
    assert_eq!(cmds.iter().filter(|c| **c == Cmd::RemoveStaleProbes).count(), 1, "{cmds:?}");
    assert!(cmds.iter().all(|c| !c.is_write() || *c == Cmd::RemoveStaleProbes), "{cmds:?}");
    assert_eq!(app.preview.dry_run, DryRunState::NotRun);
    assert!(screen_text(&app).contains("Server dry run: not run yet"));

    let cmds = key(&mut app, KeyCode::Char('d'));
    let plan = app.preview.plan.clone().unwrap();
    assert_eq!(cmds, vec![Cmd::DryRun { steps: plan.steps.clone() }]);
    assert!(cmds[0].is_write(), "dry-run requests are PATCHes: the dashboard must never send one");
    assert_eq!(app.preview.dry_run, DryRunState::Running);
    assert!(key(&mut app, KeyCode::Char('d')).is_empty(), "one dry run at a time");
    assert!(key(&mut app, KeyCode::Enter).is_empty() && app.confirm.is_none(), "no apply while it runs");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Preview, "the verdict belongs to this plan: stay until it comes");
    assert!(app.update(Msg::DryRun(Ok(9))).is_empty(), "d alone never starts the apply");
    assert_eq!(app.preview.dry_run, DryRunState::Accepted(9));
    assert!(screen_text(&app).contains("all 9 changes accepted by the API server"));
    // Going back and coming again rebuilds the plan: the verdict was for the old one.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Enter);
    assert_eq!((app.screen, &app.preview.dry_run), (Screen::Preview, &DryRunState::NotRun));
}

#[test]
fn a_rejected_dry_run_blocks_the_apply_and_shows_every_error() {
    let mut app = preview("");
    app.demo = false;
    key(&mut app, KeyCode::Enter);
    let confirm = app.confirm.clone().unwrap();
    assert!(confirm.lines.iter().any(|l| l.contains("dry run")), "{confirm:?}");
    let cmds = key(&mut app, KeyCode::Char('y'));
    assert!(matches!(cmds.as_slice(), [Cmd::DryRun { .. }]), "{cmds:?}");
    assert_eq!(app.screen, Screen::Preview, "nothing is applied before the verdict");
    assert!(screen_text(&app).contains("the apply starts when every change is accepted"));
    let errors = vec![
        "step 1: BGPPeer rr-peer: dry-run bgppeers.crd.projectcalico.org rr-peer: rejected by the API server (422 Invalid: spec.asNumber: Invalid value)".to_string(),
        "step 4: BGPConfiguration default: permission denied: cannot dry-run bgpconfigurations.crd.projectcalico.org".to_string(),
    ];
    assert!(app.update(Msg::DryRun(Err(errors.clone()))).is_empty(), "rejected: no run starts");
    assert_eq!((app.screen, app.apply.is_none()), (Screen::Preview, true));
    assert_eq!(app.preview.dry_run, DryRunState::Rejected(errors));
    let s = screen_text(&app);
    assert!(s.contains("Server dry run: 2 errors, the apply is blocked"), "{s}");
    assert!(s.contains("step 1: BGPPeer rr-peer") && s.contains("step 4: BGPConfiguration default"), "{s}");
    // Once the cause is fixed, the next attempt checks again and then applies.
    let cmds = start(&mut app);
    assert!(matches!(cmds.as_slice(), [Cmd::BeginRun { .. }, Cmd::RunStep { idx: 0, .. }]), "{cmds:?}");
    assert_eq!(app.screen, Screen::Apply);
}

/// A run record's manifest for the demo plan with the given progress (the rest pending).
fn manifest(progress: &[StepProgress]) -> RunManifest {
    let steps = preview("").preview.plan.unwrap().steps;
    let mut all = vec![StepProgress::Pending; steps.len()];
    all[..progress.len()].copy_from_slice(progress);
    RunManifest {
        format: calico_bgp_wizard::runs::FORMAT.into(),
        id: "20261129-161500".into(),
        started: "2026-11-29T16:15:00Z".into(),
        server: "https://127.0.0.1:6443".into(),
        context: "admin@test".into(),
        answers: serde_json::json!({}),
        steps,
        progress: all,
        backups: Vec::new(),
        finished: None,
    }
}

/// The wizard on a real cluster, detected, with `m` offered.
fn offered(m: RunManifest) -> App {
    let mut app = App::new(Mode::Wizard, false);
    app.update(Msg::Detected(Ok(DemoCluster::embedded().objects().clone())));
    assert!(app.update(Msg::OpenRun(Some(m))).is_empty());
    assert!(app.offer_open());
    app
}

#[test]
fn an_interrupted_run_is_offered_and_resumed_from_its_first_pending_step() {
    use StepProgress::{Done, Running};
    let mut app = offered(manifest(&[Done, Done, Running]));
    let s = screen_text(&app);
    assert!(s.contains("An earlier run was interrupted: run 20261129-161500"), "{s}");
    assert!(s.contains("interrupted after 2 of 6 steps") && s.contains("r resume"), "{s}");
    assert!(key(&mut app, KeyCode::Enter).is_empty() && app.screen == Screen::Detect, "the dialog takes the keys");
    let cmds = key(&mut app, KeyCode::Char('r'));
    let Some(Cmd::AdoptRun { dir }) = cmds.first() else { panic!("{cmds:?}") };
    assert_eq!(dir, &app.runs_root.join("20261129-161500"));
    assert_eq!(run_idx(&cmds), vec![2], "the interrupted step runs again, first: {cmds:?}");
    assert_eq!(cmds.len(), 2, "no new run record: {cmds:?}");
    assert_eq!(app.screen, Screen::Apply);
    let a = app.apply.as_ref().unwrap();
    assert_eq!(a.adopted.as_deref(), Some("20261129-161500"));
    let states: Vec<StepState> = a.runs.iter().map(|r| r.state).collect();
    assert_eq!(&states[..4], &[StepState::Done, StepState::Done, StepState::Running, StepState::Pending]);
    assert_eq!(run_idx(&app.update(Msg::Step(StepEvent::Done { idx: 2 }))), vec![3]);
    assert!(screen_text(&app).contains("Taken over from the interrupted run 20261129-161500"));
}

#[test]
fn an_interrupted_run_can_be_undone_from_its_last_done_step() {
    use StepProgress::Done;
    let mut app = offered(manifest(&[Done, Done]));
    let cmds = key(&mut app, KeyCode::Char('u'));
    assert!(matches!(cmds.first(), Some(Cmd::AdoptRun { .. })), "{cmds:?}");
    assert_eq!(undo_idx(&cmds), vec![1]);
    let a = app.apply.as_ref().unwrap();
    assert_eq!(a.phase, ApplyPhase::Undoing);
    assert!(a.runs[2..].iter().all(|r| r.state == StepState::Skipped), "pending steps are not run");
    assert_eq!(undo_idx(&app.update(Msg::Step(StepEvent::Undone { idx: 1 }))), vec![0]);
    assert_eq!(app.update(Msg::Step(StepEvent::Undone { idx: 0 })), vec![Cmd::FinishRun]);
    // The facts were read before the undo: back reads the cluster again.
    assert_eq!(key(&mut app, KeyCode::Esc), vec![Cmd::Detect]);
    assert_eq!((app.screen, app.apply.is_none(), app.facts.is_none()), (Screen::Detect, true, true));
}

#[test]
fn a_step_stopped_half_way_is_undone_first() {
    use StepProgress::{Done, Running};
    let mut app = offered(manifest(&[Done, Running]));
    assert_eq!(undo_idx(&key(&mut app, KeyCode::Char('u'))), vec![1]);
}

#[test]
fn a_run_that_still_needs_the_password_is_only_offered_for_undo() {
    use calico_bgp_wizard::runs::{RunRecord, needs_password};
    let plan = preview("s3cr3t-Passw0rd").preview.plan.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let record = RunRecord::create(
        dir.path(),
        "20261129-161500".into(),
        "2026-11-29T16:15:00Z".into(),
        "https://127.0.0.1:6443",
        "admin@test",
        serde_json::json!({}),
        &plan.steps,
    )
    .unwrap();
    let mut m = record.manifest;
    assert!(m.steps.iter().any(needs_password), "the stored Secret step has no password");
    m.progress[0] = StepProgress::Running;
    let mut app = offered(m);
    let s = screen_text(&app);
    assert!(s.contains("This run still has to store the BGP password: finish it with"), "{s}");
    assert!(s.contains("calico-bgp-wizard resume 20261129-161500 --password-file FILE"), "{s}");
    assert!(!s.contains("r resume"), "{s}");
    assert!(key(&mut app, KeyCode::Char('r')).is_empty() && app.screen == Screen::Detect, "no resume in the TUI");
    let cmds = key(&mut app, KeyCode::Char('u'));
    assert!(matches!(cmds.first(), Some(Cmd::AdoptRun { .. })) && undo_idx(&cmds) == vec![0], "{cmds:?}");
}

#[test]
fn leaving_the_interrupted_run_goes_on_with_the_wizard() {
    let mut app = offered(manifest(&[StepProgress::Done]));
    assert!(key(&mut app, KeyCode::Esc).is_empty());
    assert!(!app.offer_open());
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Reflectors);
    // The run is still open: the apply confirm says so.
    let mut app = offered(manifest(&[StepProgress::Done]));
    key(&mut app, KeyCode::Esc);
    let mut p = preview("");
    p.run_offer = app.run_offer.take();
    key(&mut p, KeyCode::Enter);
    assert!(p.confirm.unwrap().lines.iter().any(|l| l.contains("rollback 20261129-161500")));
}

#[test]
fn no_run_is_offered_to_the_dashboard_or_when_none_is_open() {
    let mut dash = App::new(Mode::Dashboard, false);
    dash.update(Msg::Detected(Ok(DemoCluster::embedded().objects().clone())));
    dash.update(Msg::OpenRun(Some(manifest(&[StepProgress::Done]))));
    assert!(dash.run_offer.is_none() && !dash.offer_open());
    let mut app = App::new(Mode::Wizard, false);
    app.update(Msg::Detected(Ok(DemoCluster::embedded().objects().clone())));
    app.update(Msg::OpenRun(None));
    assert!(!app.offer_open());
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Reflectors);
}
