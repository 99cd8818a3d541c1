//! The wizard's state machine driven by messages alone: apply sequencing, pause, abort, undo,
//! failure, quitting mid-apply, the read-only dashboard, and secrets never reaching the screen.

use calico_bgp_wizard::app::{App, ApplyPhase, Cmd, Mode, Msg, Screen, StepEvent, StepState};
use calico_bgp_wizard::demo::DemoCluster;
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
    let mut app = App::new(Mode::Wizard, true);
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

/// Confirm the apply; returns the first command.
fn start(app: &mut App) -> Vec<Cmd> {
    key(app, KeyCode::Enter);
    key(app, KeyCode::Char('y'))
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
    for i in 0..n {
        assert_eq!(run_idx(&cmds), vec![i], "step {i} starts only after step {} is done", i.max(1) - 1);
        cmds = app.update(Msg::Step(StepEvent::Done { idx: i }));
    }
    assert!(cmds.is_empty());
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
    assert!(app.update(Msg::Step(StepEvent::Undone { idx: 0 })).is_empty());
    assert_eq!(app.apply.as_ref().unwrap().phase, ApplyPhase::RolledBack);
    // Only after a full rollback may the operator go back and change answers.
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Preview);
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
