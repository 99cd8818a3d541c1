//! Screen 3: the switch the route reflectors peer with, the AS numbers, the password and
//! keepOriginalNextHop.
//!
//! ```text
//!  Switch IP           [172.31.13.116   ]  the ToR switch's address
//!  keepOriginalNextHop [x] on             pod traffic goes straight to the pod's node
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::{App, PeeringField};
use crate::tui::theme::Theme;
use crate::tui::widgets;

pub fn render(f: &mut Frame, area: Rect, app: &App, t: &Theme) {
    let p = &app.peering;
    let findings = app.screen_findings();
    let [fields_area, explain_area, findings_area] =
        Layout::vertical([Constraint::Length(5), Constraint::Length(4), Constraint::Min(3)]).areas(area);
    let fw = 18;
    // Field lines never wrap: the hint is cut to what fits after the field.
    let hint_w = (area.width as usize).saturating_sub(20 + fw + 4);
    let hint = |s: &str| Span::styled(format!("  {}", widgets::fit(s, hint_w)), t.dim());
    let mut lines = Vec::new();
    let fields = [
        (PeeringField::SwitchIp, "Switch IP", &p.switch_ip, "the top-of-rack switch the reflectors peer with"),
        (PeeringField::SwitchAs, "Switch AS", &p.switch_as, "the switch's own AS number (asplain or asdot)"),
        (PeeringField::ClusterAs, "Cluster AS", &p.cluster_as, "the AS of every Calico node"),
        (PeeringField::Password, "BGP password", &p.password, "optional; kept in a Secret, never shown"),
    ];
    for (field, label, input, help) in fields {
        let mut line = widgets::field_line(label, input, p.focus == field, fw, t);
        if hint_w > 8 {
            line.spans.push(hint(help));
        }
        lines.push(line);
    }
    let focused = p.focus == PeeringField::KeepNextHop;
    let mark = if p.keep_next_hop { "[x] on " } else { "[ ] off" };
    lines.push(Line::from(vec![
        Span::styled(format!("{:<20}", "keepOriginalNextHop"), if focused { t.key() } else { Default::default() }),
        Span::styled(mark, if focused { t.focus() } else { Default::default() }),
        hint("space toggles"),
    ]));
    f.render_widget(Paragraph::new(lines), fields_area);
    let explain = if p.keep_next_hop {
        "On: the switch sends traffic for a pod straight to the node that runs it (the switch must reach every node directly, e.g. same subnet)."
    } else {
        "Off: all outside traffic to pods goes through the route reflectors, which forward it to the right node (one more hop, more load on them)."
    };
    let mut more = vec![Line::from(Span::styled(explain, t.dim()))];
    if let Some(facts) = &app.facts {
        let cluster_as =
            if p.cluster_as.value.is_empty() { facts.cluster_as().to_string() } else { p.cluster_as.value.clone() };
        more.push(Line::from(Span::styled(
            format!("The reflectors (AS {cluster_as}) peer eBGP with the switch when the two AS numbers differ: the intended design."),
            t.dim(),
        )));
    }
    f.render_widget(Paragraph::new(more).wrap(Wrap { trim: false }), explain_area);
    widgets::findings_panel(f, findings_area, &findings, app.detail_scroll, t);
}
