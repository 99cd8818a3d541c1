//! Screen 2: pick the route-reflector nodes and their shared cluster ID.
//!
//! ```text
//!      NODE   ROLES          INTERNAL-IP    CALICO-IPV4       AS     ZONE    RR-ID
//!  [x] k8s-2  control-plane  172.31.13.28   172.31.13.28/24   -      zone-b  -
//!  Cluster ID [244.0.0.1]  both reflectors share it; every node peers with both
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::app::{App, ReflectorsFocus};
use crate::tui::theme::Theme;
use crate::tui::widgets;

pub fn render(f: &mut Frame, area: Rect, app: &App, t: &Theme) {
    let Some(facts) = &app.facts else { return };
    let form = &app.reflectors;
    let findings = app.screen_findings();
    let [intro, table_area, id_area, findings_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(4), Constraint::Length(3), Constraint::Length(5)])
            .areas(area);
    let suggested = if form.suggested.is_empty() { "none".to_string() } else { form.suggested.join(", ") };
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::raw(format!("Selected {} · suggested: {} ", form.selected.len(), suggested)),
            Span::styled("(s)", t.key()),
        ])),
        intro,
    );
    let header = Row::new(["", "NODE", "ROLES", "INTERNAL-IP", "CALICO-IPV4", "AS", "ZONE", "RR-ID"]).style(t.dim());
    let rows = facts.nodes.iter().map(|n| {
        let mark = if form.selected.contains(&n.name) { "[x]" } else { "[ ]" };
        let sug = if form.suggested.contains(&n.name) { "*" } else { "" };
        Row::new(vec![
            Cell::from(mark),
            Cell::from(format!("{}{}", n.name, sug)),
            Cell::from(if n.roles.is_empty() { "-".to_string() } else { n.roles.join(",") }),
            Cell::from(n.internal_ip.map(|i| i.to_string()).unwrap_or_else(|| "-".into())),
            Cell::from(
                n.calico_ipv4
                    .map(|i| i.to_string())
                    .or_else(|| n.calico_ipv4_invalid.clone())
                    .unwrap_or_else(|| "missing".into()),
            ),
            Cell::from(n.asn.map(|a| a.to_string()).unwrap_or_else(|| "-".into())),
            Cell::from(n.zone.clone().unwrap_or_else(|| "-".into())),
            Cell::from(n.rr_cluster_id.clone().unwrap_or_else(|| "-".into())),
        ])
    });
    let widths = [
        Constraint::Length(3),
        Constraint::Min(6),
        Constraint::Length(13),
        Constraint::Length(15),
        Constraint::Length(18),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(10),
    ];
    let highlight = if form.focus == ReflectorsFocus::Table { t.selected() } else { t.dim() };
    let table = Table::new(rows, widths).header(header).row_highlight_style(highlight);
    let mut state = TableState::default().with_selected(Some(form.cursor));
    f.render_stateful_widget(table, table_area, &mut state);
    let focused = form.focus == ReflectorsFocus::ClusterId;
    let id_lines = vec![
        widgets::field_line("Cluster ID", &form.cluster_id, focused, 15, t),
        Line::from(Span::styled(
            "Both reflectors share one cluster ID so they do not reflect routes back to each other; every other node peers with both, so either one can fail.",
            t.dim(),
        )),
    ];
    f.render_widget(Paragraph::new(id_lines).wrap(Wrap { trim: false }), id_area);
    widgets::findings_panel(f, findings_area, &findings, t);
}
