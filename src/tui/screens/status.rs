//! Screen 7, and the read-only dashboard: a live `calicoctl node status`-style table for every
//! node, counts by state, the data's age, a `/` filter.
//!
//! ```text
//!  28 sessions: 27 Established · 1 Active    refreshed 0.4s ago
//!  NODE   PEER ADDRESS    PEER TYPE          STATE  SINCE     INFO
//!  k8s-1  172.31.13.116   node specific      up     09:00:01  Established
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::app::App;
use crate::domain::findings::Severity;
use crate::status::model::counts;
use crate::tui::theme::Theme;
use crate::tui::widgets;

pub fn render(f: &mut Frame, area: Rect, app: &App, t: &Theme) {
    let s = &app.status;
    let [summary, filter_area, table_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Min(2)]).areas(area);
    let mut spans = vec![Span::raw(format!("{} sessions: ", s.rows.len()))];
    let c = counts(&s.rows);
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
        Some(at) => format!("refreshed {:.1}s ago", app.now.saturating_sub(at).as_secs_f64()),
        None => "waiting for the first refresh".to_string(),
    };
    let stale = app.status_stale();
    spans.push(Span::raw("   "));
    spans.push(Span::styled(age, if stale { t.severity(Severity::Error) } else { t.dim() }));
    if stale {
        spans.push(Span::styled(" STALE", t.severity(Severity::Error)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), summary);

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
        Row::new(vec![
            Cell::from(r.node.clone()),
            Cell::from(r.peer_address.clone()),
            Cell::from(r.peer_type.label()),
            Cell::from(r.state.clone()),
            Cell::from(r.since.clone()),
            Cell::from(Span::styled(r.info_column(), t.bgp_state(r.bgp_state))),
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
}
