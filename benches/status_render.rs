//! The dashboard's drawing cost (`cargo bench --bench status_render`):
//! - one frame of a 5,000-row table, drawn from scratch into a 120×40 terminal (every cell
//!   written: the first frame, or a resize), and drawn again unchanged (the steady state);
//! - the bytes one refresh period writes to the terminal when nothing changed, printed before
//!   divan's table (tests/dashboard_bytes.rs asserts the 200-byte budget).

#[path = "../tests/common/dashboard.rs"]
mod dashboard;

use std::time::Duration;

use dashboard::Dashboard;

fn main() {
    for (w, h) in [(120u16, 40u16), (200, 60)] {
        let mut d = Dashboard::new(5_000, w, h, true);
        let periods: Vec<usize> = (1..=10).map(|p| d.quiet_period(Duration::from_secs(p))).collect();
        println!(
            "bytes written per 1 s refresh period with nothing new, 5,000 sessions, {w}x{h}: max {}, total over 10 periods {} ({periods:?})",
            periods.iter().max().unwrap_or(&0),
            periods.iter().sum::<usize>()
        );
    }
    divan::main();
}

/// A whole frame: a new terminal each time, so every cell is encoded and written.
#[divan::bench]
fn frame_5000_rows_full(b: divan::Bencher) {
    let rows = dashboard::rows(5_000);
    b.with_inputs(|| {
        let mut d = Dashboard::undrawn(0, 120, 40, true);
        d.app.update(calico_bgp_wizard::app::Msg::Peers {
            result: Ok(dashboard::report(rows.clone())),
            at: Duration::from_secs(1),
        });
        d
    })
    .bench_local_values(|mut d| {
        d.draw();
        d
    });
}

/// The same frame again: layout, diff, nothing to write.
#[divan::bench]
fn frame_5000_rows_unchanged(b: divan::Bencher) {
    let mut d = Dashboard::new(5_000, 120, 40, true);
    b.bench_local(|| d.draw());
}
