//! A refresh that finds nothing new must cost the terminal almost nothing: ratatui writes only the
//! cells that changed, and the dashboard changes only its age ("refreshed 0s ago" → "1s" → "0s").
//! Over an SSH session, redrawing a 5,000-row table every second would flicker and eat bandwidth.

mod common;

use std::time::Duration;

use common::dashboard::Dashboard;

#[test]
fn a_quiet_refresh_writes_under_200_bytes() {
    for (w, h, color) in [(120, 40, true), (80, 24, false), (200, 60, true)] {
        let mut d = Dashboard::new(5_000, w, h, color);
        // Several periods: the first after the initial draw, then steady state.
        for p in 0..3 {
            let start = Duration::from_secs(1) + Duration::from_secs(p);
            let n = d.quiet_period(start);
            assert!(n < 200, "{w}x{h}: a refresh with nothing new wrote {n} bytes (period {p})");
        }
    }
}

#[test]
fn a_changed_session_is_redrawn() {
    // The counter above could pass by writing nothing at all: a session going down must show.
    let mut d = Dashboard::new(50, 120, 40, false);
    d.take_bytes();
    let mut rows = d.app.status.report.rows.clone();
    rows[0].bgp_state = calico_bgp_wizard::status::model::BgpState::Active;
    rows[0].state = "start".into();
    rows[0].info = "Socket: Connection refused".into();
    d.app.update(calico_bgp_wizard::app::Msg::Peers {
        result: Ok(common::dashboard::report(rows)),
        at: Duration::from_millis(1500),
    });
    d.draw();
    let out = String::from_utf8_lossy(&d.take_bytes()).into_owned();
    // Only the cells that differ are sent, so unchanged spaces between words are skipped.
    assert!(out.contains("start") && out.contains("Connection") && out.contains("refused"), "{out:?}");
    assert!(out.len() < 2_000, "only the changed row and the counts are redrawn: {} bytes", out.len());
}
