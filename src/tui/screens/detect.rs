//! Screen 1: what the wizard found in the cluster, and the preflight findings.
//!
//! ```text
//!  Kubernetes  v1.24.6        Calico v3.23.3 (manifest install)
//!  Backend     bird (BGP)     BGP  AS 64512 (default) · mesh on
//!  Pools       default-ipv4-ippool 172.27.208.0/22 ipip Always …
//!  ── Checks ──────────────────────────────────────────────────
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::App;
use crate::domain::facts::{InstallKind, LABEL_RR};
use crate::tui::theme::Theme;
use crate::tui::widgets;

pub fn render(f: &mut Frame, area: Rect, app: &App, t: &Theme) {
    let Some(facts) = &app.facts else {
        let text = match &app.detect_error {
            Some(e) => vec![
                Line::from(Span::styled(
                    "Could not read the cluster:",
                    t.severity(crate::domain::findings::Severity::Error),
                )),
                Line::from(e.as_str()),
            ],
            None => vec![Line::from("Reading nodes, Calico configuration, IP pools and BGP peers…")],
        };
        f.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), area);
        return;
    };
    let label = |s: &str| Span::styled(format!("{s:<12}"), t.key());
    let install = match facts.install {
        InstallKind::Manifest => "manifest install (calico.yaml)",
        InstallKind::Operator => "Tigera operator install",
        InstallKind::Unknown => "Calico not found",
    };
    let bgp = match &facts.bgp_config {
        Some(c) => format!(
            "AS {}{} · node-to-node mesh {}",
            facts.cluster_as(),
            if c.asn.is_none() { " (Calico default)" } else { "" },
            if facts.mesh_enabled() { "on" } else { "off" }
        ),
        None => format!("AS {} (default: no BGPConfiguration yet) · node-to-node mesh on", facts.cluster_as()),
    };
    let peers = if facts.peers.is_empty() {
        "none".to_string()
    } else {
        facts
            .peers
            .iter()
            .map(|p| match (&p.peer_ip, &p.peer_selector) {
                (Some(ip), _) => {
                    format!("{} → {} AS {}", p.name, ip, p.asn.map(|a| a.to_string()).unwrap_or("?".into()))
                }
                (None, Some(sel)) => format!("{} → nodes {}", p.name, sel),
                _ => p.name.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    // A reflector needs both the cluster ID annotation and the route-reflector label; show
    // half-configured nodes as such.
    let rrs: Vec<String> = facts
        .nodes
        .iter()
        .filter_map(|n| match (&n.rr_cluster_id, n.has_rr_label()) {
            (Some(id), true) => Some(format!("{} (cluster ID {id})", n.name)),
            (Some(id), false) => Some(format!("{} (cluster ID {id}, label {LABEL_RR}=true missing)", n.name)),
            (None, true) => Some(format!("{} (labelled {LABEL_RR}=true, no cluster ID)", n.name)),
            (None, false) => None,
        })
        .collect();
    let cp = facts.nodes.iter().filter(|n| n.is_control_plane()).count();
    let mut zones: Vec<&str> = facts.nodes.iter().filter_map(|n| n.zone.as_deref()).collect();
    zones.sort();
    zones.dedup();
    let mut lines = vec![
        Line::from(vec![label("Kubernetes"), Span::raw(facts.kubernetes_version.clone())]),
        Line::from(vec![
            label("Calico"),
            Span::raw(format!("{} · {}", facts.calico_version.as_deref().unwrap_or("version unknown"), install)),
        ]),
        Line::from(vec![label("Backend"), Span::raw(facts.backend.label())]),
    ];
    // Only a real cluster says which Calico API it serves (the Calico API server, or CRDs only).
    if let Some(api) = app.objects.as_ref().map(|o| o.meta.calico_api.as_str()).filter(|a| !a.is_empty()) {
        lines.push(Line::from(vec![label("Calico API"), Span::raw(api.to_string())]));
    }
    lines.extend([
        Line::from(vec![label("BGP"), Span::raw(bgp)]),
        Line::from(vec![label("BGPPeers"), Span::raw(peers)]),
        Line::from(vec![
            label("Reflectors"),
            Span::raw(if rrs.is_empty() {
                "none (no node has a cluster ID or the route-reflector label)".to_string()
            } else {
                rrs.join(", ")
            }),
        ]),
        Line::from(vec![
            label("Nodes"),
            Span::raw(format!(
                "{} ({} control plane) · zones: {}",
                facts.nodes.len(),
                cp,
                if zones.is_empty() { "none labelled".to_string() } else { widgets::fit(&zones.join(", "), 40) }
            )),
        ]),
        Line::from(vec![
            label("Services"),
            Span::raw(if facts.service_cidrs.is_empty() {
                "service CIDR unknown".to_string()
            } else {
                facts.service_cidrs.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
            }),
        ]),
        Line::from(vec![
            label("IP pools"),
            Span::styled("NAME                CIDR              IPIP    VXLAN   NAT  DISABLED", t.dim()),
        ]),
    ]);
    for p in &facts.pools {
        lines.push(Line::from(format!(
            "{:<12}{:<20}{:<18}{:<8}{:<8}{:<5}{}",
            "",
            widgets::fit(&p.name, 19),
            p.cidr.to_string(),
            p.ipip_mode.as_str(),
            p.vxlan_mode.as_str(),
            if p.nat_outgoing { "on" } else { "off" },
            if p.disabled { "yes" } else { "no" }
        )));
    }
    if facts.pools.is_empty() {
        lines.push(Line::from(format!("{:<12}none", "")));
    }
    lines.push(Line::from(vec![label("Network"), network_summary(app, t)]));
    let top = Paragraph::new(lines).wrap(Wrap { trim: false });
    let needed = top.line_count(area.width).min(u16::MAX as usize) as u16;
    let top_h = needed.min(area.height.saturating_sub(4).max(area.height / 2));
    let [top_area, bottom] = Layout::vertical([Constraint::Length(top_h), Constraint::Min(3)]).areas(area);
    f.render_widget(top, top_area);
    widgets::findings_panel(f, bottom, &app.preflight, app.detail_scroll, t);
}

/// One line about the network checks: not run (and how to run them), running, or their counts.
fn network_summary(app: &App, t: &Theme) -> Span<'static> {
    use crate::app::NetworkCheck;
    match &app.network {
        NetworkCheck::NotRun => {
            Span::styled("not checked (n: try TCP 179 from here to each node and the switch)", t.dim())
        }
        NetworkCheck::Running => Span::raw("checking TCP 179 on every node and the switch (1 s timeout each)…"),
        NetworkCheck::Done(r) => {
            let text = format!(
                "TCP {} from '{}': {}{}{} (n: again)",
                r.listen.port,
                r.from,
                r.ports.summary(),
                if r.ports.sampled { format!(" of {} sampled", r.ports.probed) } else { String::new() },
                if r.simulated { " · simulated on the demo" } else { "" }
            );
            if r.ports.blocked() {
                Span::styled(text, t.severity(crate::domain::findings::Severity::Error))
            } else {
                Span::raw(text)
            }
        }
    }
}
