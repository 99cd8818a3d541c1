//! Every screen drawn with ratatui's TestBackend at 80×24 and 120×40 (plus a 60×20 no-panic pass),
//! driven only through `App::update` with the messages the real event loop sends.

use std::time::Duration;

use calico_bgp_wizard::app::{App, Mode, Msg, Screen, StepEvent};
use calico_bgp_wizard::demo::DemoCluster;
use calico_bgp_wizard::status::model::PeerReport;
use calico_bgp_wizard::tui::{render, theme::Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn draw(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| render(f, app, &Theme { color: false })).unwrap();
    term.backend().to_string()
}

/// Snapshot at both sizes, and check the smallest supported size draws without panicking.
fn snap(name: &str, app: &App) {
    let _ = draw(app, 60, 20);
    let _ = draw(app, 20, 5);
    calico_bgp_wizard::assert_snap!(format!("tui_{name}_80x24"), draw(app, 80, 24));
    calico_bgp_wizard::assert_snap!(format!("tui_{name}_120x40"), draw(app, 120, 40));
}

fn key(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn typ(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn clear(app: &mut App) {
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)));
}

fn detected() -> App {
    let mut app = App::new(Mode::Wizard, true);
    app.update(Msg::Detected(Ok(DemoCluster::embedded().objects().clone())));
    app
}

/// Detect → Reflectors (suggestion) → Peering filled with the demo switch.
fn at_peering_filled() -> App {
    let mut app = detected();
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Reflectors);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Peering, "confirm: {:?}", app.confirm);
    typ(&mut app, "172.31.13.116");
    key(&mut app, KeyCode::Tab);
    typ(&mut app, "7675");
    app
}

/// Confirm the apply on Preview and let the server dry run pass.
fn start_apply(app: &mut App) {
    key(app, KeyCode::Enter);
    key(app, KeyCode::Char('y'));
    let n = app.preview.plan.as_ref().unwrap().steps.iter().map(|s| s.changes.len()).sum();
    app.update(Msg::DryRun(Ok(n)));
}

fn at_preview() -> App {
    let mut app = at_peering_filled();
    key(&mut app, KeyCode::Enter);
    // AS 7675 is public: a warning to confirm.
    assert!(app.confirm.is_some());
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.screen, Screen::Pool, "confirm: {:?}", app.confirm);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Preview, "confirm: {:?}", app.confirm);
    app
}

#[test]
fn detect_screen() {
    let app = App::new(Mode::Wizard, true);
    snap("detect_loading", &app);
    snap("detect", &detected());
    let mut failed = App::new(Mode::Wizard, false);
    failed.update(Msg::Detected(Err("cannot reach https://10.0.0.1:6443: connection refused".into())));
    snap("detect_error", &failed);
}

/// After `n`: the network line and the doctor's findings, with one host filtered (an error).
#[test]
fn detect_network_checked() {
    use calico_bgp_wizard::doctor::{self, probe::PortState};
    let mut app = detected();
    let facts = app.facts.clone().unwrap();
    let opts =
        doctor::Options { switch: vec!["172.31.13.116:179".parse().unwrap()], simulate: true, ..Default::default() };
    let mut report = tokio::runtime::Runtime::new().unwrap().block_on(doctor::check(&facts, &opts));
    report.ports.results[2].state = PortState::Filtered;
    report.ports.results[2].millis = 1000.0;
    let mut findings = doctor::findings::network(&report, true);
    findings.extend(calico_bgp_wizard::domain::validate::preflight(&facts));
    report.findings = findings;
    app.update(Msg::Network(Box::new(report)));
    snap("detect_network", &app);
}

#[test]
fn reflectors_screen() {
    let mut app = detected();
    key(&mut app, KeyCode::Enter);
    snap("reflectors", &app);
    // Only one reflector: a warning, and Next asks to confirm.
    app.reflectors.selected.clear();
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char(' '));
    snap("reflectors_one_warning", &app);
    key(&mut app, KeyCode::Enter);
    assert!(app.confirm.is_some());
    snap("reflectors_confirm_warning", &app);
    key(&mut app, KeyCode::Char('n'));
    // Bad cluster ID: an error; Next stays.
    key(&mut app, KeyCode::Tab);
    clear(&mut app);
    typ(&mut app, "244.0.0");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Reflectors);
    snap("reflectors_bad_cluster_id", &app);
}

#[test]
fn peering_screen() {
    let mut app = at_peering_filled();
    snap("peering", &app);
    clear(&mut app);
    typ(&mut app, "23456");
    key(&mut app, KeyCode::BackTab);
    clear(&mut app);
    typ(&mut app, "172.31.13.27");
    snap("peering_errors", &app);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Peering, "errors must block Next");
}

#[test]
fn pool_screen() {
    let mut app = at_peering_filled();
    key(&mut app, KeyCode::Enter);
    snap("peering_confirm_public_as", &app);
    key(&mut app, KeyCode::Char('y'));
    snap("pool", &app);
    key(&mut app, KeyCode::Tab);
    typ(&mut app, "172.27.0.208/22");
    snap("pool_host_bits", &app);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Pool);
}

#[test]
fn preview_screen() {
    let mut app = at_preview();
    snap("preview_changes", &app);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    snap("preview_changes_step3", &app);
    key(&mut app, KeyCode::Tab);
    snap("preview_switch", &app);
    key(&mut app, KeyCode::Char('v'));
    snap("preview_switch_nxos", &app);
    key(&mut app, KeyCode::Tab);
    snap("preview_notes", &app);
    key(&mut app, KeyCode::Char('w'));
    snap("preview_write_prompt", &app);
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('?'));
    snap("preview_help", &app);
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Enter);
    snap("preview_confirm_apply", &app);
}

#[test]
fn preview_server_dry_run() {
    let mut app = at_preview();
    app.demo = false;
    key(&mut app, KeyCode::Char('d'));
    snap("preview_dry_run_running", &app);
    app.update(Msg::DryRun(Err(vec![
        "step 1: BGPPeer rr-peer: dry-run bgppeers.crd.projectcalico.org rr-peer: rejected by the API server \
         (422 Invalid: BGPPeer.crd.projectcalico.org \"rr-peer\" is invalid: spec.asNumber: Invalid value: \
         \"string\": spec.asNumber in body must be of type integer: \"string\")"
            .into(),
        "step 5: BGPConfiguration default: permission denied: cannot dry-run bgpconfigurations.crd.projectcalico.org \
         (403 Forbidden: bgpconfigurations.crd.projectcalico.org \"default\" is forbidden)"
            .into(),
    ])));
    snap("preview_dry_run_rejected", &app);
    key(&mut app, KeyCode::Char('d'));
    app.update(Msg::DryRun(Ok(9)));
    snap("preview_dry_run_accepted", &app);
}

#[test]
fn apply_screen() {
    let mut app = at_preview();
    let steps = app.preview.plan.as_ref().unwrap().steps.len();
    start_apply(&mut app);
    assert_eq!(app.screen, Screen::Apply);
    app.update(Msg::Tick(Duration::from_millis(1500)));
    app.update(Msg::Step(StepEvent::Log { idx: 0, line: "create BGPPeer peer-with-route-reflectors".into() }));
    app.update(Msg::Step(StepEvent::Done { idx: 0 }));
    app.update(Msg::Step(StepEvent::Log { idx: 1, line: "patch Node k8s-1".into() }));
    app.update(Msg::Step(StepEvent::Verifying { idx: 1 }));
    app.update(Msg::Step(StepEvent::Progress {
        idx: 1,
        progress: calico_bgp_wizard::app::Progress {
            done: 1,
            total: 3,
            label: "BGP sessions Established on k8s-1: 1/3".into(),
        },
    }));
    app.update(Msg::Tick(Duration::from_millis(3200)));
    snap("apply_running", &app);
    app.update(Msg::Step(StepEvent::Failed {
        idx: 1,
        error: "after 30 s, sessions on k8s-1 are not Established: 172.31.13.116 Active Socket: Connection refused"
            .into(),
    }));
    snap("apply_failed", &app);
    // Finish instead: a fresh run where every step completes.
    let mut app = at_preview();
    start_apply(&mut app);
    for i in 0..steps {
        app.update(Msg::Tick(Duration::from_secs(i as u64 + 1)));
        app.update(Msg::Step(StepEvent::Done { idx: i }));
    }
    snap("apply_finished", &app);
}

#[test]
fn status_screen() {
    let demo = DemoCluster::embedded();
    let rows = demo.peer_rows(Duration::from_secs(60));
    let mut app = App::new(Mode::Dashboard, true);
    app.update(Msg::Detected(Ok(demo.objects().clone())));
    app.update(Msg::Tick(Duration::from_millis(1200)));
    let report = PeerReport {
        rows: rows.clone(),
        source: "demo simulation".into(),
        queried: vec!["k8s-1".into(), "k8s-2".into(), "k8s-3".into()],
        problems: Vec::new(),
    };
    app.update(Msg::Peers { result: Ok(report), at: Duration::from_millis(1000) });
    snap("status_dashboard", &app);
    key(&mut app, KeyCode::Char('/'));
    typ(&mut app, "k8s-2");
    snap("status_filtered", &app);
    app.update(Msg::Peers { result: Err("demo cluster unreachable".into()), at: Duration::from_secs(9) });
    app.update(Msg::Tick(Duration::from_secs(9)));
    snap("status_stale", &app);
}

#[test]
fn status_local_sockets_with_a_session_down() {
    // `status --bird-socket …`: no cluster; k8s-3's BIRD cannot be read, one of k8s-1's sessions is down.
    let demo = DemoCluster::embedded();
    let mut rows = demo.peer_rows(Duration::from_secs(60));
    rows.retain(|r| r.node != "k8s-3");
    let sw = rows.iter_mut().find(|r| r.node == "k8s-1").expect("a session of k8s-1");
    sw.bgp_state = calico_bgp_wizard::status::model::BgpState::Active;
    sw.state = "start".into();
    sw.info = "Socket: Connection refused".into();
    let mut app = App::new(Mode::Dashboard, false).without_cluster();
    app.update(Msg::Tick(Duration::from_millis(2300)));
    let report = PeerReport {
        rows,
        source: "BIRD sockets".into(),
        queried: vec!["k8s-1".into(), "k8s-2".into(), "k8s-3".into()],
        problems: vec!["k8s-3: cannot read BIRD at /run/lab/k8s-3/bird.ctl: no such socket.".into()],
    };
    app.update(Msg::Peers { result: Ok(report), at: Duration::from_millis(2000) });
    snap("status_local_down", &app);
}

#[test]
fn screens_at_scale() {
    // --demo-nodes 500: several subnets and zones; the tables scroll, nothing overflows.
    let mut app = App::new(Mode::Wizard, true);
    app.update(Msg::Detected(Ok(DemoCluster::generated(500).objects().clone())));
    snap("scale_detect", &app);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Reflectors);
    for _ in 0..250 {
        key(&mut app, KeyCode::Down);
    }
    snap("scale_reflectors_scrolled", &app);
}

#[test]
fn detect_configured_and_half_configured_reflectors() {
    use calico_bgp_wizard::domain::objects::{Kind, ObjectRef, ObjectSet};
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/configured.yaml")).unwrap();
    let mut set = ObjectSet::from_yaml(&text).unwrap();
    let mut app = App::new(Mode::Wizard, true);
    app.update(Msg::Detected(Ok(set.clone())));
    snap("detect_configured", &app);
    // k8s-2 lost its label (someone ran `kubectl label node k8s-2 route-reflector-`).
    set.merge_patch(
        &ObjectRef::cluster(Kind::Node, "k8s-2"),
        &serde_json::json!({"metadata": {"labels": {"route-reflector": null}}}),
    )
    .unwrap();
    let mut app = App::new(Mode::Wizard, true);
    app.update(Msg::Detected(Ok(set)));
    let screen = draw(&app, 120, 40);
    assert!(screen.contains("k8s-2 (cluster ID 244.0.0.1, label route-reflector=true missing)"), "{screen}");
}

#[test]
fn interrupted_run_offer() {
    use calico_bgp_wizard::runs::{RunManifest, StepProgress};
    let steps = at_preview().preview.plan.unwrap().steps;
    let mut progress = vec![StepProgress::Pending; steps.len()];
    progress[..3].copy_from_slice(&[StepProgress::Done, StepProgress::Done, StepProgress::Running]);
    let m = RunManifest {
        format: calico_bgp_wizard::runs::FORMAT.into(),
        id: "20261129-161500".into(),
        started: "2026-11-29T16:15:00Z".into(),
        server: "https://172.31.13.28:6443".into(),
        context: "kubernetes-admin@demo".into(),
        answers: serde_json::json!({}),
        steps,
        progress,
        backups: Vec::new(),
        finished: None,
    };
    let mut app = App::new(Mode::Wizard, false);
    app.update(Msg::Detected(Ok(DemoCluster::embedded().objects().clone())));
    app.update(Msg::OpenRun(Some(m)));
    snap("detect_interrupted_run", &app);
}
