//! Screen 4: the pod CIDR that becomes reachable from outside: an existing pool or a typed CIDR,
//! validated live against the nodes' subnets, the services, the switch and the other pools.
//!
//! ```text
//!  > default-ipv4-ippool  172.27.208.0/22  ipip Always  vxlan Never  nat on
//!    or type a CIDR:      [                ]
//!  Node subnets: 172.31.13.0/24 (3 nodes) · services 10.96.0.0/12 · switch 172.31.13.116
//! ```

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::App;
use crate::tui::theme::Theme;
use crate::tui::widgets;

pub fn render(f: &mut Frame, area: Rect, app: &App, t: &Theme) {
    let Some(facts) = &app.facts else { return };
    let findings = app.screen_findings();
    let list_h = (facts.pools.len() as u16 + 2).min(area.height / 2).max(3);
    let [intro, list_area, ctx_area, findings_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(list_h),
        Constraint::Length(2),
        Constraint::Min(3),
    ])
    .areas(area);
    f.render_widget(
        Paragraph::new(Span::styled(
            "Pods get their IPs from this pool; after the change the switch learns a route for each node's block of it.",
            t.dim(),
        ))
        .wrap(Wrap { trim: true }),
        intro,
    );
    let mut lines = Vec::new();
    for (i, p) in facts.pools.iter().enumerate() {
        let sel = app.pool.cursor == i;
        let text = format!(
            "{} {:<22} {:<18} ipip {:<7} vxlan {:<7} nat {}{}",
            if sel { ">" } else { " " },
            widgets::fit(&p.name, 22),
            p.cidr.to_string(),
            p.ipip_mode.as_str(),
            p.vxlan_mode.as_str(),
            if p.nat_outgoing { "on" } else { "off" },
            if p.disabled { "  (disabled)" } else { "" }
        );
        lines.push(Line::from(Span::styled(text, if sel { t.selected() } else { Default::default() })));
    }
    let typing = app.pool_typing();
    let mut l = widgets::field_line(
        if facts.pools.is_empty() { "  type a CIDR" } else { "  or type a CIDR" },
        &app.pool.cidr,
        typing,
        20,
        t,
    );
    if typing {
        l.spans.insert(0, Span::raw(">"));
    }
    lines.push(l);
    f.render_widget(Paragraph::new(lines), list_area);

    let mut subnets: BTreeMap<String, usize> = BTreeMap::new();
    for n in &facts.nodes {
        if let Some(net) = n.calico_ipv4 {
            *subnets.entry(net.trunc().to_string()).or_default() += 1;
        }
        if let Some(net) = n.calico_ipv6 {
            *subnets.entry(net.trunc().to_string()).or_default() += 1;
        }
    }
    let mut subnet_text: Vec<String> = subnets.iter().map(|(s, c)| format!("{s} ({c} nodes)")).collect();
    if subnet_text.len() > 4 {
        let more = subnet_text.len() - 3;
        subnet_text.truncate(3);
        subnet_text.push(format!("+{more} more"));
    }
    let services = if facts.service_cidrs.is_empty() {
        "unknown".to_string()
    } else {
        facts.service_cidrs.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
    };
    let sw = if app.peering.switch_ip.value.is_empty() { "-".to_string() } else { app.peering.switch_ip.value.clone() };
    let ctx = vec![Line::from(Span::styled(
        format!("Node subnets: {} · services: {} · switch: {}", subnet_text.join(", "), services, sw),
        t.dim(),
    ))];
    f.render_widget(Paragraph::new(ctx).wrap(Wrap { trim: true }), ctx_area);
    widgets::findings_panel(f, findings_area, &findings, app.detail_scroll, t);
}
