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
        Layout::vertical([Constraint::Length(2), Constraint::Min(4), Constraint::Length(3), Constraint::Length(5)])
            .areas(area);
    let suggested = if form.suggested.is_empty() { "none".to_string() } else { form.suggested.join(", ") };
    // Columns left out at narrow widths are said in words instead.
    let mut hidden = Vec::new();
    if area.width < 100 && !facts.nodes.iter().any(|n| n.asn.is_some()) {
        hidden.push(format!("every node uses the cluster AS {}", facts.cluster_as()));
    }
    if area.width < 100 && !facts.nodes.iter().any(|n| n.rr_cluster_id.is_some()) {
        hidden.push("no node has a cluster ID yet".to_string());
    }
    let mut intro_spans = vec![
        Span::raw(format!("Selected {} · suggested (*): {} ", form.selected.len(), suggested)),
        Span::styled("(s)", t.key()),
    ];
    if !hidden.is_empty() {
        intro_spans.push(Span::styled(format!(" · {}", hidden.join(", ")), t.dim()));
    }
    f.render_widget(Paragraph::new(Line::from(intro_spans)).wrap(Wrap { trim: true }), intro);
    // At narrow widths the AS and RR-ID columns appear only when some node has a value there.
    let wide = area.width >= 100;
    let show_as = wide || facts.nodes.iter().any(|n| n.asn.is_some());
    let show_rr = wide || facts.nodes.iter().any(|n| n.rr_cluster_id.is_some());
    // Under 70 columns the roles shrink to `cp` so the addresses stay whole.
    let narrow = area.width < 70;
    let roles = |r: &[String]| -> String {
        if r.is_empty() {
            return "-".into();
        }
        if narrow {
            r.iter().map(|x| if x == "control-plane" { "cp" } else { x.as_str() }).collect::<Vec<_>>().join(",")
        } else {
            r.join(",")
        }
    };
    let mut titles = vec!["", "NODE", "ROLES", "INTERNAL-IP", "CALICO-IPV4"];
    let mut widths = vec![
        Constraint::Length(3),
        Constraint::Min(6),
        Constraint::Length(if narrow { 5 } else { 13 }),
        Constraint::Length(15),
        Constraint::Length(18),
    ];
    if show_as {
        titles.push("AS");
        widths.push(Constraint::Length(10));
    }
    titles.push("ZONE");
    widths.push(Constraint::Length(8));
    if show_rr {
        titles.push("RR-ID");
        widths.push(Constraint::Length(15));
    }
    let header = Row::new(titles).style(t.dim());
    let rows = facts.nodes.iter().map(|n| {
        let mark = if form.selected.contains(&n.name) { "[x]" } else { "[ ]" };
        let sug = if form.suggested.contains(&n.name) { "*" } else { "" };
        let mut cells = vec![
            Cell::from(mark),
            Cell::from(format!("{}{}", n.name, sug)),
            Cell::from(roles(&n.roles)),
            Cell::from(n.internal_ip.map(|i| i.to_string()).unwrap_or_else(|| "-".into())),
            Cell::from(
                n.calico_ipv4
                    .map(|i| i.to_string())
                    .or_else(|| n.calico_ipv4_invalid.clone())
                    .unwrap_or_else(|| "missing".into()),
            ),
        ];
        if show_as {
            cells.push(Cell::from(n.asn.map(|a| a.to_string()).unwrap_or_else(|| "-".into())));
        }
        cells.push(Cell::from(n.zone.clone().unwrap_or_else(|| "-".into())));
        if show_rr {
            cells.push(Cell::from(n.rr_cluster_id.clone().unwrap_or_else(|| "-".into())));
        }
        Row::new(cells)
    });
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
    widgets::findings_panel(f, findings_area, &findings, app.detail_scroll, t);
}
