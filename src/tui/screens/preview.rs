//! Screen 5: every change in apply order, with its reason, verification and undo, as a coloured
//! diff against the object as it is now; the switch's side for a chosen vendor; notes and the
//! route an outside client needs. Nothing has been written yet.
//!
//! ```text
//!  STEPS                    │ Changes │ Switch: Cisco IOS │ Notes
//!  > 1 Create the peers…    │ why: they select no node yet, so nothing changes
//!    2 Make k8s-1 a RR      │ + apiVersion: crd.projectcalico.org/v1
//!  Server dry run: all 9 changes accepted by the API server (d checks again)
//!  Nothing is written to the cluster until you press enter and confirm.
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Tabs, Wrap};

use crate::app::{App, DryRunState, PreviewTab};
use crate::domain::findings::Severity;
use crate::plan::render::{self, DiffTag, change_diff};
use crate::plan::switch;
use crate::tui::theme::Theme;
use crate::tui::widgets;

pub fn render(f: &mut Frame, area: Rect, app: &App, t: &Theme) {
    let pv = &app.preview;
    let dry = pv.plan.as_ref().filter(|p| !p.is_empty()).map(|_| dry_run_paragraph(app, t));
    // The dry run's errors get up to half of the screen; the plan keeps the rest.
    let dry_h = dry.as_ref().map_or(0, |p| p.line_count(area.width).clamp(1, (area.height / 2).max(1) as usize) as u16);
    let [main, dry_area, status_line] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(dry_h), Constraint::Length(1)]).areas(area);
    if let Some(p) = dry {
        f.render_widget(p, dry_area);
    }
    let Some(plan) = &pv.plan else {
        let mut lines = vec![Line::from("No plan: fix these first (esc goes back):")];
        lines.extend(widgets::finding_lines(&pv.blocked, t));
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), main);
        return;
    };
    let left_w = (area.width / 3).clamp(20, 34);
    let [left, right] = Layout::horizontal([Constraint::Length(left_w), Constraint::Min(10)]).areas(main);
    let items: Vec<ListItem> = if plan.is_empty() {
        vec![ListItem::new("(nothing to do)")]
    } else {
        let w = left_w.saturating_sub(1) as usize;
        plan.steps
            .iter()
            .enumerate()
            .map(|(i, s)| ListItem::new(widgets::fit(&format!("{} {}", i + 1, s.title), w)))
            .collect()
    };
    let list = List::new(items)
        .block(Block::default().borders(Borders::RIGHT).title(format!(" {} steps ", plan.steps.len())))
        .highlight_style(t.selected());
    let mut st = ListState::default().with_selected((!plan.is_empty()).then_some(pv.selected));
    f.render_stateful_widget(list, left, &mut st);

    let [tabs_area, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(right);
    let tab_titles =
        vec!["Changes".to_string(), format!("Switch: {}", pv.vendor.label()), "Notes & client route".to_string()];
    let selected = match pv.tab {
        PreviewTab::Changes => 0,
        PreviewTab::Switch => 1,
        PreviewTab::Notes => 2,
    };
    f.render_widget(Tabs::new(tab_titles).select(selected).highlight_style(t.selected()), tabs_area);

    let lines: Vec<Line> = match pv.tab {
        PreviewTab::Changes => match plan.steps.get(pv.selected) {
            None => plan.notes.iter().map(|n| Line::from(n.as_str())).collect(),
            Some(step) => {
                let mut l = vec![
                    Line::from(Span::styled(step.title.as_str(), t.title())),
                    Line::from(vec![Span::styled("why   ", t.key()), Span::raw(step.why.as_str())]),
                    Line::from(vec![Span::styled("undo  ", t.key()), Span::raw(step.undo.as_str())]),
                ];
                for v in &step.verify {
                    l.push(Line::from(vec![Span::styled("check ", t.key()), Span::raw(verification_text(v))]));
                }
                for c in &step.changes {
                    match (&pv.calicoctl, &c.v3) {
                        (true, Some(v3)) => {
                            l.push(Line::from(Span::styled(
                                format!("── {} as calicoctl shows it (projectcalico.org/v3) ──", c.object),
                                t.dim(),
                            )));
                            l.extend(render::object_yaml(v3).lines().map(|x| Line::from(format!("  {x}"))));
                        }
                        _ => {
                            l.push(Line::from(Span::styled(format!("── {} ──", c.object), t.dim())));
                            for d in change_diff(c) {
                                let (mark, style) = match d.tag {
                                    DiffTag::Same => (" ", ratatui::style::Style::default()),
                                    DiffTag::Added => ("+", t.added()),
                                    DiffTag::Removed => ("-", t.removed()),
                                };
                                l.push(Line::from(Span::styled(format!("{mark} {}", d.text), style)));
                            }
                        }
                    }
                }
                l
            }
        },
        PreviewTab::Switch => match &app.facts {
            Some(facts) => {
                let cfg = switch::render(pv.vendor, &switch::switch_params(plan, facts));
                let mut l = vec![Line::from(Span::styled(
                    "Configure this on the switch before applying (w writes it to a file):",
                    t.key(),
                ))];
                l.extend(cfg.config.lines().map(|s| Line::from(s.to_string())));
                l.push(Line::from(Span::styled("Check on the switch:", t.key())));
                l.extend(cfg.verify_commands.iter().map(|c| Line::from(format!("  {c}"))));
                l.extend(cfg.notes.iter().map(|n| Line::from(Span::styled(format!("note: {n}"), t.dim()))));
                l
            }
            None => Vec::new(),
        },
        PreviewTab::Notes => {
            let mut l = vec![
                Line::from(Span::styled("Before you apply:", t.key())),
                Line::from(
                    "• Configure the switch (the Switch view, or the files `w` writes): each reflector is waited on until its session to the switch is Established.",
                ),
                Line::from(""),
                Line::from(Span::styled("An outside Linux client reaches the pods with:", t.key())),
            ];
            l.push(Line::from(format!("  {}", plan.client_route)));
            l.push(Line::from(""));
            l.extend(plan.notes.iter().map(|n| Line::from(format!("• {n}"))));
            l
        }
    };
    // The switch config is not wrapped: a wrapped line would not paste as one command.
    let p = Paragraph::new(lines).scroll((pv.scroll, 0));
    let p = if pv.tab == PreviewTab::Switch { p } else { p.wrap(Wrap { trim: false }) };
    f.render_widget(p, body);

    let status = match (&pv.write_dir, &pv.written) {
        (Some(d), _) => widgets::field_line("Write plan to dir", d, true, 30, t),
        (None, Some(Ok(p))) => Line::from(Span::styled(format!("✓ plan written to {p}"), t.ok())),
        (None, Some(Err(e))) => Line::from(Span::styled(format!("✗ {e}"), t.severity(Severity::Error))),
        (None, None) if plan.is_empty() => Line::from("Nothing to apply: the cluster already looks like the plan."),
        (None, None) => {
            Line::from(Span::styled("Nothing is written to the cluster until you press enter and confirm.", t.dim()))
        }
    };
    f.render_widget(Paragraph::new(status), status_line);
}

/// ```text
///  Server dry run: not run yet · d asks the API server to check every change
///  ✗ Server dry run: 2 errors, the apply is blocked (fix, esc to re-plan, or d to check again):
///    step 4: BGPConfiguration default: dry-run … rejected by the API server (422 Invalid: …)
/// ```
fn dry_run_paragraph<'a>(app: &'a App, t: &Theme) -> Paragraph<'a> {
    let lines = match &app.preview.dry_run {
        DryRunState::NotRun if app.demo => {
            vec![Line::from(Span::styled(
                "Server dry run: not run yet · d checks every change (the demo accepts all)",
                t.dim(),
            ))]
        }
        DryRunState::NotRun => vec![Line::from(Span::styled(
            "Server dry run: not run yet · d asks the API server to check every change",
            t.dim(),
        ))],
        DryRunState::Running if app.preview.apply_after_dry_run => vec![Line::from(Span::styled(
            "Server dry run: running… the apply starts when every change is accepted",
            t.key(),
        ))],
        DryRunState::Running => {
            vec![Line::from(Span::styled("Server dry run: running… (the API server stores nothing)", t.key()))]
        }
        DryRunState::Accepted(n) if app.demo => vec![Line::from(Span::styled(
            format!("✓ Server dry run: all {n} changes accepted (the demo accepts every change)"),
            t.ok(),
        ))],
        DryRunState::Accepted(n) => vec![Line::from(Span::styled(
            format!("✓ Server dry run: all {n} changes accepted by the API server"),
            t.ok(),
        ))],
        DryRunState::Rejected(errors) => {
            let mut l = vec![Line::from(Span::styled(
                format!(
                    "✗ Server dry run: {} error{}, the apply is blocked (fix, esc to re-plan, or d to check again):",
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" }
                ),
                t.severity(Severity::Error),
            ))];
            l.extend(errors.iter().map(|e| Line::from(format!("  {e}"))));
            l
        }
    };
    Paragraph::new(lines).wrap(Wrap { trim: false })
}

pub fn verification_text(v: &crate::plan::Verification) -> String {
    use crate::plan::Verification;
    match v {
        Verification::Fields { object, .. } => format!("read {object} back; every field set must be stored"),
        Verification::Rollout { object } => format!("wait until every pod of {object} is restarted and ready"),
        Verification::SessionsEstablished { node, peers } => {
            format!("wait until {node}'s {} BGP sessions are Established", peers.len())
        }
    }
}
