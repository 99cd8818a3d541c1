//! The dashboard in a terminal that counts bytes: what one refresh period costs when nothing
//! changed (tests/dashboard_bytes.rs asserts it, benches/status_render.rs reports it).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use calico_bgp_wizard::app::{App, Mode, Msg, REFRESH_EVERY};
use calico_bgp_wizard::status::model::{BgpState, PeerReport, PeerRow, PeerType};
use calico_bgp_wizard::tui::quiet::QuietBackend;
use calico_bgp_wizard::tui::{render, theme::Theme};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// `n` sessions as two route reflectors report them: one switch session each, then every node.
pub fn rows(n: usize) -> Vec<PeerRow> {
    (0..n)
        .map(|i| {
            let established = i % 97 != 5;
            PeerRow {
                node: format!("rr-{}", i % 2 + 1),
                peer_address: format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256),
                peer_type: if i < 2 { PeerType::Global } else { PeerType::NodeSpecific },
                state: if established { "up" } else { "start" }.into(),
                since: "09:00:01".into(),
                bgp_state: if established { BgpState::Established } else { BgpState::Active },
                info: if established { String::new() } else { "Socket: Connection refused".into() },
            }
        })
        .collect()
}

pub fn report(rows: Vec<PeerRow>) -> PeerReport {
    PeerReport {
        rows,
        source: "BIRD sockets".into(),
        queried: vec!["rr-1".into(), "rr-2".into()],
        problems: Vec::new(),
    }
}

/// A writer the test can read back while the terminal owns it.
#[derive(Clone, Default)]
pub struct Counting(pub Arc<Mutex<Vec<u8>>>);

impl Write for Counting {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub struct Dashboard {
    pub app: App,
    pub term: Terminal<QuietBackend<CrosstermBackend<Counting>>>,
    pub out: Counting,
    pub theme: Theme,
}

impl Dashboard {
    /// A dashboard of `n` sessions at `w`×`h`, drawn once after its first refresh at 1 s.
    pub fn new(n: usize, w: u16, h: u16, color: bool) -> Dashboard {
        let mut d = Dashboard::undrawn(n, w, h, color);
        d.draw();
        d
    }

    /// The same, not drawn yet: the next draw writes every cell.
    pub fn undrawn(n: usize, w: u16, h: u16, color: bool) -> Dashboard {
        let out = Counting::default();
        let backend = QuietBackend::new(CrosstermBackend::new(out.clone()));
        let term = Terminal::with_options(
            backend,
            ratatui::TerminalOptions { viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, w, h)) },
        )
        .unwrap();
        let mut d =
            Dashboard { app: App::new(Mode::Dashboard, false).without_cluster(), term, out, theme: Theme { color } };
        d.app.update(Msg::Tick(Duration::from_secs(1)));
        d.app.update(Msg::Peers { result: Ok(report(rows(n))), at: Duration::from_secs(1) });
        d
    }

    pub fn draw(&mut self) {
        let (app, theme) = (&self.app, &self.theme);
        self.term.draw(|f| render(f, app, theme)).unwrap();
    }

    pub fn take_bytes(&self) -> Vec<u8> {
        std::mem::take(&mut *self.out.0.lock().unwrap())
    }

    /// One refresh period as the event loop runs it (a tick every 100 ms, each followed by a draw;
    /// the refresh's answer arrives 10 ms after it is asked for), with the same sessions again.
    /// Returns the bytes written to the terminal in that period.
    pub fn quiet_period(&mut self, start: Duration) -> usize {
        self.take_bytes();
        let ticks = (REFRESH_EVERY.as_millis() / 100) as u64;
        let rows = self.app.status.report.rows.clone();
        for i in 1..=ticks {
            let now = start + Duration::from_millis(100 * i);
            let cmds = self.app.update(Msg::Tick(now));
            self.draw();
            if !cmds.is_empty() {
                let at = now + Duration::from_millis(10);
                self.app.update(Msg::Peers { result: Ok(report(rows.clone())), at });
                self.app.update(Msg::Tick(at));
                self.draw();
            }
        }
        self.take_bytes().len()
    }
}
