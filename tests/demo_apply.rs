//! The wizard's whole apply path on the embedded demo: the real `App`, the real `Worker` and the
//! demo backend (simulated rollouts and BGP sessions; the real-cluster backend has its own tests).
//! Apply every step, check the end state, then undo everything and check nothing is left.

use std::sync::Arc;
use std::time::{Duration, Instant};

use calico_bgp_wizard::app::{App, ApplyPhase, Cmd, Mode, Msg, NetworkCheck, Screen, StepState};
use calico_bgp_wizard::backend::{Backend, DemoBackend};
use calico_bgp_wizard::demo::DemoCluster;
use calico_bgp_wizard::domain::facts;
use calico_bgp_wizard::domain::facts::EncapMode;
use calico_bgp_wizard::worker::Worker;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;

fn key(app: &mut App, code: KeyCode) -> Vec<calico_bgp_wizard::app::Cmd> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

/// Feed worker messages into the app until `done(app)` or the deadline.
async fn pump(
    app: &mut App,
    worker: &Worker,
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    started: Instant,
    done: impl Fn(&App) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(app) {
        assert!(
            Instant::now() < deadline,
            "apply did not finish: {:#?}",
            app.apply.as_ref().map(|a| a
                .runs
                .iter()
                .map(|r| (r.step.title.clone(), r.state, r.log.clone()))
                .collect::<Vec<_>>())
        );
        let msg = tokio::select! {
            m = rx.recv() => m.expect("worker channel open"),
            _ = tokio::time::sleep(Duration::from_millis(100)) => Msg::Tick(started.elapsed()),
        };
        for cmd in app.update(msg) {
            worker.handle(cmd);
        }
    }
}

/// The wizard on the demo with its real worker, the cluster detected.
async fn detected_wizard(backend: &Arc<Backend>) -> (App, Worker, mpsc::UnboundedReceiver<Msg>, Instant) {
    let started = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let worker = Worker::new(backend.clone(), tx, started, false);
    let mut app = App::new(Mode::Wizard, true);
    for cmd in app.init() {
        worker.handle(cmd);
    }
    pump(&mut app, &worker, &mut rx, started, |a| a.facts.is_some()).await;
    (app, worker, rx, started)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_apply_then_undo_restores_everything() {
    let mut demo = DemoBackend::new(DemoCluster::embedded());
    demo.write_delay = Duration::ZERO;
    let backend = Arc::new(Backend::Demo(demo));
    let original = backend.detect().await.unwrap();
    let (mut app, worker, mut rx, started) = detected_wizard(&backend).await;
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    for c in "172.31.13.116".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Tab);
    for c in "7675".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    // AS 7675 is a public AS number: a warning the operator confirms.
    assert!(app.confirm.as_ref().is_some_and(|c| c.lines.iter().any(|l| l.contains("7675"))), "{:?}", app.confirm);
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.screen, Screen::Pool);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Preview);
    key(&mut app, KeyCode::Enter);
    for cmd in key(&mut app, KeyCode::Char('y')) {
        worker.handle(cmd);
    }
    pump(&mut app, &worker, &mut rx, started, |a| {
        a.apply.as_ref().is_some_and(|x| matches!(x.phase, ApplyPhase::Finished | ApplyPhase::Stopped))
    })
    .await;
    let a = app.apply.as_ref().unwrap();
    assert_eq!(a.phase, ApplyPhase::Finished);
    assert!(a.runs.iter().all(|r| r.state == StepState::Done));

    // End state, read back from the backend.
    let after = facts::detect(&backend.detect().await.unwrap());
    assert!(!after.mesh_enabled());
    let rrs: Vec<&str> = after.nodes.iter().filter(|n| n.is_route_reflector()).map(|n| n.name.as_str()).collect();
    assert_eq!(rrs.len(), 2, "{rrs:?}");
    let pool = after.pool("default-ipv4-ippool").unwrap();
    assert_eq!((pool.ipip_mode, pool.vxlan_mode, pool.nat_outgoing), (EncapMode::Never, EncapMode::Never, false));
    assert!(after.peer("peer-with-route-reflectors").is_some() && after.peer("rr-peer").is_some());
    // Every session comes up: no mesh left, every node peers with both RRs, RRs with the switch.
    // (Sessions of non-reflector nodes to the second reflector may still be coming up: poll.)
    let deadline = Instant::now() + Duration::from_secs(20);
    let rows = loop {
        let rows = backend.peers(&[]).await.unwrap().rows;
        if !rows.is_empty() && rows.iter().all(|r| r.is_established()) {
            break rows;
        }
        assert!(Instant::now() < deadline, "sessions not all Established: {rows:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(rows.iter().any(|r| r.peer_address == "172.31.13.116"));
    assert!(rows.iter().all(|r| r.peer_type != calico_bgp_wizard::status::model::PeerType::NodeToNodeMesh));

    // The plan for the configured cluster is empty.
    app.update(Msg::Detected(Ok(backend.detect().await.unwrap())));
    app.build_preview();
    assert!(app.preview.plan.as_ref().unwrap().is_empty(), "{:#?}", app.preview.plan.as_ref().unwrap().steps);

    // Undo everything: the objects are exactly as before.
    key(&mut app, KeyCode::Esc); // harmless on the Apply screen after a finished run
    app.screen = Screen::Apply;
    key(&mut app, KeyCode::Char('u'));
    assert!(app.confirm.is_some(), "undo asks first");
    for cmd in key(&mut app, KeyCode::Char('y')) {
        worker.handle(cmd);
    }
    pump(&mut app, &worker, &mut rx, started, |a| {
        a.apply.as_ref().is_some_and(|x| matches!(x.phase, ApplyPhase::RolledBack | ApplyPhase::Stopped))
    })
    .await;
    assert_eq!(app.apply.as_ref().unwrap().phase, ApplyPhase::RolledBack);
    let restored = backend.detect().await.unwrap();
    assert_eq!(restored.objects.keys().collect::<Vec<_>>(), original.objects.keys().collect::<Vec<_>>());
    for (r, v) in &original.objects {
        if r.kind == calico_bgp_wizard::domain::objects::Kind::DaemonSet {
            continue; // a restart annotation may remain: undoing a restart is another restart
        }
        assert_eq!(restored.objects.get(r), Some(v), "{r} not restored");
    }
}

/// The dashboard's worker refuses a write even if one reached it: nothing changes in the backend
/// and no step event comes back, while reads still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_worker_refuses_writes() {
    let backend = Arc::new(Backend::demo(DemoCluster::embedded()));
    let before = backend.detect().await.unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let worker = Worker::new(backend.clone(), tx, Instant::now(), true);
    let objects = before.clone();
    let plan = calico_bgp_wizard::plan::build_plan(
        &calico_bgp_wizard::demo::walkthrough_answers(),
        &facts::detect(&objects),
        &objects,
    );
    let step = plan.steps[0].clone();
    worker.handle(calico_bgp_wizard::app::Cmd::RunStep { idx: 0, step: step.clone() });
    worker.handle(calico_bgp_wizard::app::Cmd::UndoStep { idx: 0, step });
    worker.handle(calico_bgp_wizard::app::Cmd::RefreshPeers { probe: Vec::new() });
    // The refresh answers; no step event arrives before or after it.
    let msg = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
    assert!(matches!(msg, Msg::Peers { result: Ok(_), .. }), "{msg:?}");
    assert!(rx.try_recv().is_err());
    assert_eq!(backend.detect().await.unwrap(), before, "a read-only worker changed the cluster");
}

/// The Detect screen's `n`: the worker runs the same checks as `doctor` (simulated on the demo,
/// nothing is sent), their findings join the Detect screen's, and a finding that is an error
/// (here: a filtered host, as the lab test produces for real) blocks Next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detect_screen_network_check() {
    let backend = Arc::new(Backend::demo(DemoCluster::embedded()));
    let (mut app, worker, mut rx, started) = detected_wizard(&backend).await;
    let cmds = app.update(Msg::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE)));
    assert!(
        matches!(cmds.as_slice(), [Cmd::CheckNetwork { switch: None, .. }]),
        "n asks for the network checks: {cmds:?}"
    );
    assert!(!cmds[0].is_write(), "the checks change nothing");
    assert_eq!(app.network, NetworkCheck::Running);
    assert!(app.update(Msg::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE))).is_empty(), "not twice");
    for cmd in cmds {
        worker.handle(cmd);
    }
    pump(&mut app, &worker, &mut rx, started, |a| matches!(a.network, NetworkCheck::Done(_))).await;
    let NetworkCheck::Done(report) = &app.network else { unreachable!() };
    assert!(report.simulated);
    assert_eq!(report.ports.results.len(), 4, "three nodes and the demo's switch");
    assert!(app.preflight.iter().any(|f| f.rule == "bgp-port-open"));
    assert!(app.preflight.iter().any(|f| f.rule == "mesh-on"), "the cluster's own findings stay");

    // A filtered host is an error: Next stays on Detect.
    let mut bad = report.as_ref().clone();
    bad.ports.results[2].state = calico_bgp_wizard::doctor::probe::PortState::Filtered;
    bad.findings = calico_bgp_wizard::doctor::findings::network(&bad, true);
    assert!(bad.has_errors());
    app.update(Msg::Network(Box::new(bad)));
    app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert_eq!(app.screen, Screen::Detect, "an unreachable BGP port blocks Next");
}
