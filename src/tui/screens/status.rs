//! Screen 7, and the read-only dashboard: a live `calicoctl node status`-style table for every
//! node, counts by state, the data's age (STALE when refreshes fail), where the rows come from and
//! which nodes were read, the reason next to each session that is not Established, a `/` filter.
//!
//! ```text
//!  28 sessions: 27 Established · 1 Active    refreshed 1s ago
//!  from BIRD sockets · read k8s-1, k8s-2, k8s-3
//!  NODE   PEER ADDRESS    PEER TYPE          STATE  SINCE     INFO
//!  k8s-1  172.31.13.116   node specific      start  09:00:01  Active Socket: Connection refused — the peer …
//! ```
//!
//! Only what changed reaches the terminal (ratatui compares frames), and the age moves in whole
//! seconds, so a refresh that finds nothing new writes a few bytes (benches/status_render.rs).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::app::App;
use crate::domain::findings::Severity;
use crate::status::model::counts;
use crate::status::reason;
use crate::tui::theme::Theme;
use crate::tui::widgets;

pub fn render(f: &mut Frame, area: Rect, app: &App, t: &Theme) {
    let s = &app.status;
    let report = &s.report;
    let [summary, source_area, filter_area, table_area, detail_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(2),
        Constraint::Length(1),
    ])
    .areas(area);
    let n = report.rows.len();
    let mut spans = vec![Span::raw(format!("{n} session{}: ", if n == 1 { "" } else { "s" }))];
    let c = counts(&report.rows);
    if c.is_empty() {
        spans.push(Span::raw("none yet"));
    }
    for (i, (state, n)) in c.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" · "));
        }
        spans.push(Span::styled(format!("{n} {}", state.label()), t.bgp_state(*state)));
    }
    let age = match s.last_refresh {
        Some(at) => format!("refreshed {}s ago", app.now.saturating_sub(at).as_secs()),
        None => "waiting for the first refresh".to_string(),
    };
    let stale = app.status_stale();
    spans.push(Span::raw("   "));
    spans.push(Span::styled(age, if stale { t.severity(Severity::Error) } else { t.dim() }));
    if stale {
        spans.push(Span::styled(" STALE", t.severity(Severity::Error)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), summary);

    let source_line = if !report.problems.is_empty() {
        Line::from(Span::styled(format!("✗ {}", report.problems.join(" · ")), t.severity(Severity::Error)))
    } else if report.source.is_empty() {
        Line::from("")
    } else {
        Line::from(Span::styled(format!("from {} · read {}", report.source, report.queried.join(", ")), t.dim()))
    };
    f.render_widget(Paragraph::new(source_line), source_area);

    let filter_line = match (&s.refresh_error, s.filtering || !s.filter.value.is_empty()) {
        (Some(e), _) => Line::from(Span::styled(format!("refresh failed: {e}"), t.severity(Severity::Error))),
        (None, true) => widgets::field_line("Filter (/)", &s.filter, s.filtering, 24, t),
        (None, false) => Line::from(Span::styled("Every BGP session of every node; / filters, r refreshes.", t.dim())),
    };
    f.render_widget(Paragraph::new(filter_line), filter_area);

    let rows = app.filtered_peers();
    // Only the visible window becomes table rows: a 500-node mesh has 250,000 sessions.
    let visible = table_area.height.saturating_sub(1).max(1) as usize;
    let selected = s.scroll.min(rows.len().saturating_sub(1));
    let offset = selected.saturating_sub(visible - 1);
    let header = Row::new(["NODE", "PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"]).style(t.dim());
    let body = rows.iter().skip(offset).take(visible).map(|r| {
        let mut info = vec![Span::styled(r.info_column(), t.bgp_state(r.bgp_state))];
        if let Some(why) = reason::explain(r) {
            info.push(Span::styled(format!(" — {why}"), t.dim()));
        }
        Row::new(vec![
            Cell::from(r.node.as_str()),
            Cell::from(r.peer_address.as_str()),
            Cell::from(r.peer_type.label()),
            Cell::from(r.state.as_str()),
            Cell::from(r.since.as_str()),
            Cell::from(Line::from(info)),
        ])
    });
    let widths = [
        Constraint::Length(10),
        Constraint::Length(16),
        Constraint::Length(17),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Min(8),
    ];
    let table = Table::new(body, widths).header(header).row_highlight_style(t.selected());
    let mut st = TableState::default().with_selected((!rows.is_empty()).then_some(selected - offset));
    f.render_stateful_widget(table, table_area, &mut st);

    // The selected session in full, where the INFO column is cut short.
    let detail = match rows.get(selected) {
        Some(r) => {
            let mut spans = vec![
                Span::raw(format!("{} → {} ({}): ", r.node, r.peer_address, r.peer_type.label())),
                Span::styled(r.info_column(), t.bgp_state(r.bgp_state)),
            ];
            if let Some(why) = reason::explain(r) {
                spans.push(Span::raw(format!(" — {why}")));
            }
            Line::from(spans)
        }
        None => Line::from(""),
    };
    f.render_widget(Paragraph::new(detail), detail_area);
}
