//! The terminal edge: the event loop (keys, ticks, worker messages → `App::update` → commands)
//! and `render`, which draws one frame from `&App`. The only module that touches the terminal.

pub mod quiet;
pub mod screens;
pub mod theme;
pub mod widgets;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::layout::{Constraint, Layout};
use tokio::sync::mpsc;

use crate::app::{App, Cmd, Msg, Screen};
use crate::backend::Backend;
use crate::worker::Worker;
use theme::Theme;

/// Draw one frame.
///
/// ```text
///  header (2 lines): title, screens, cluster
///  body: the current screen
///  footer (1 line): keys from the key table
/// ```
pub fn render(f: &mut Frame, app: &App, t: &Theme) {
    let [head, body, foot] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(1), Constraint::Length(1)]).areas(f.area());
    widgets::header(f, head, app, t);
    match app.screen {
        Screen::Detect => screens::detect::render(f, body, app, t),
        Screen::Reflectors => screens::reflectors::render(f, body, app, t),
        Screen::Peering => screens::peering::render(f, body, app, t),
        Screen::Pool => screens::pool::render(f, body, app, t),
        Screen::Preview => screens::preview::render(f, body, app, t),
        Screen::Apply => screens::apply::render(f, body, app, t),
        Screen::Status => screens::status::render(f, body, app, t),
    }
    widgets::footer(f, foot, app, t);
    if app.help {
        widgets::help_popup(f, body, app, t);
    }
    if let Some(o) = app.run_offer.as_ref().filter(|_| app.offer_open()) {
        widgets::run_offer_popup(f, body, o, t);
    }
    if let Some(c) = &app.confirm {
        widgets::confirm_popup(f, body, c, t);
    }
}

const TICK: Duration = Duration::from_millis(100);

/// Run the app in the terminal until it quits. The terminal is restored on return and on panic.
pub async fn run(mut app: App, backend: Arc<Backend>) -> color_eyre::Result<()> {
    let theme = Theme::from_env();
    let started = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let worker = Worker::new(Arc::clone(&backend), tx.clone(), started, app.read_only());

    // Keys come from a blocking reader thread; it ends with the process.
    let key_tx = tx.clone();
    std::thread::spawn(move || {
        loop {
            match event::read() {
                Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => {
                    if key_tx.send(Msg::Key(k)).is_err() {
                        break;
                    }
                }
                Ok(Event::Resize(..)) => {
                    if key_tx.send(Msg::Tick(started.elapsed())).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });

    // ratatui::init sets up the terminal (raw mode, alternate screen, restore on panic); the
    // frames go through a backend that stays silent when nothing changed.
    drop(ratatui::init());
    let mut terminal =
        ratatui::Terminal::new(quiet::QuietBackend::new(ratatui::backend::CrosstermBackend::new(std::io::stdout())))?;
    // Test hook: prove in a real terminal that a panic restores it (tests/tmux_e2e.rs).
    let panic_for_test = std::env::var_os("CALICO_BGP_WIZARD_TEST_PANIC").is_some();
    // Test hook: quit right after the first frame of the detected cluster (benches/startup.rs).
    let exit_after_first_frame = std::env::var_os("CALICO_BGP_WIZARD_TEST_EXIT_AFTER_FIRST_FRAME").is_some();
    let result = async {
        for cmd in app.init() {
            worker.handle(cmd);
        }
        let mut tick = tokio::time::interval(TICK);
        loop {
            terminal.draw(|f| render(f, &app, &theme))?;
            if panic_for_test && app.facts.is_some() {
                panic!("CALICO_BGP_WIZARD_TEST_PANIC is set: panicking on purpose");
            }
            if exit_after_first_frame && app.facts.is_some() {
                break;
            }
            let msg = tokio::select! {
                _ = tick.tick() => Msg::Tick(started.elapsed()),
                m = rx.recv() => match m { Some(m) => m, None => break },
            };
            let mut cmds = app.update(msg);
            // Drain what else is queued before drawing again.
            while let Ok(m) = rx.try_recv() {
                cmds.extend(app.update(m));
            }
            for cmd in cmds {
                if cmd == Cmd::Quit {
                    continue;
                }
                worker.handle(cmd);
            }
            if app.quit {
                break;
            }
        }
        Ok::<(), color_eyre::Report>(())
    }
    .await;
    ratatui::restore();
    // CalicoNodeStatus objects the wizard created for its Status screen go with it.
    if !app.read_only() {
        match tokio::time::timeout(Duration::from_secs(10), backend.end_waits()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not delete the wizard's CalicoNodeStatus objects: {e}"),
            Err(_) => {
                eprintln!("could not delete the wizard's CalicoNodeStatus objects: the API server did not answer")
            }
        }
    }
    result
}
