//! Pieces every screen uses: header, footer (from the key table), findings, popups, text fields.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::theme::Theme;
use crate::app::{App, Confirm, Mode, RunOffer, Screen, TextInput, keys};
use crate::domain::findings::{Finding, Severity};

/// ```text
///  calico-bgp-wizard  1 Detect 2 Reflectors 3 Peering … 7 Status      DEMO
///  kubernetes-admin@demo · https://172.31.13.28:6443
/// ```
pub fn header(f: &mut Frame, area: Rect, app: &App, t: &Theme) {
    let mut spans = vec![Span::styled(" calico-bgp-wizard ", t.title())];
    match app.mode {
        Mode::Dashboard => {
            spans.push(Span::styled(" 🔒 READ-ONLY ", t.key()));
            spans.push(Span::styled(" dashboard: makes no change", t.dim()));
        }
        Mode::Wizard => {
            let full: usize = Screen::ALL.iter().map(|s| s.title().len() + 3).sum();
            if (area.width as usize) > full + 30 {
                for s in Screen::ALL {
                    let label = format!(" {} {} ", s.number(), s.title());
                    let style = if s == app.screen { t.selected() } else { t.dim() };
                    spans.push(Span::styled(label, style));
                }
            } else {
                spans.push(Span::styled(
                    format!(" step {}/7: {} ", app.screen.number(), app.screen.title()),
                    t.selected(),
                ));
            }
        }
    }
    if app.demo {
        spans.push(Span::styled(" DEMO ", t.key()));
    }
    let ctx = match &app.facts {
        _ if !app.cluster => format!(" BIRD sockets on this machine: {}", app.status.report.queried.join(", ")),
        Some(facts) => format!(" {} · {}", facts.context, facts.server),
        None => match &app.detect_error {
            Some(_) => " cluster not detected".to_string(),
            None => " detecting the cluster…".to_string(),
        },
    };
    let lines = vec![Line::from(spans), Line::from(Span::styled(ctx, t.dim()))];
    f.render_widget(Paragraph::new(lines), area);
}

/// One line of key hints generated from the key table.
pub fn footer(f: &mut Frame, area: Rect, app: &App, t: &Theme) {
    let hints: Vec<(String, &str)> = if app.offer_open() {
        let mut h = vec![("u".to_string(), "undo it"), ("esc".to_string(), "leave it for now")];
        if app.run_offer.as_ref().is_some_and(|o| !o.needs_password) {
            h.insert(0, ("r".to_string(), "resume"));
        }
        h
    } else if app.confirm.is_some() {
        vec![("y".to_string(), "yes"), ("n".to_string(), "no")]
    } else if app.help {
        vec![("any key".to_string(), "close help")]
    } else if app.screen == Screen::Status && app.status.filtering {
        vec![("enter".to_string(), "keep filter"), ("esc".to_string(), "close filter"), ("ctrl-c".to_string(), "quit")]
    } else {
        keys::footer(app.screen, app.editing(), app.read_only())
            .into_iter()
            .filter(|(_, _, action)| app.available(*action))
            .map(|(k, h, _)| (k, h))
            .collect()
    };
    let mut spans = Vec::new();
    for (k, label) in hints {
        spans.push(Span::styled(format!(" {k}"), t.key()));
        spans.push(Span::raw(format!(" {label} ")));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn severity_mark(s: Severity) -> &'static str {
    match s {
        Severity::Error => "✗ error",
        Severity::Warning => "! warning",
        Severity::Info => "i info",
    }
}

/// Findings as wrapped lines: mark, message, fix.
pub fn finding_lines<'a>(findings: &'a [Finding], t: &Theme) -> Vec<Line<'a>> {
    findings
        .iter()
        .map(|fd| {
            let mut spans = vec![
                Span::styled(severity_mark(fd.severity), t.severity(fd.severity)),
                Span::raw(": "),
                Span::raw(fd.message.as_str()),
            ];
            if let Some(fix) = &fd.fix {
                spans.push(Span::raw("; "));
                spans.push(Span::styled(fix.as_str(), Style::default().add_modifier(Modifier::ITALIC)));
            }
            Line::from(spans)
        })
        .collect()
}

/// A bordered panel of findings, errors first; says so when there are none. `scroll` lines are
/// skipped (PgUp/PgDn), and the title says when more lie below.
pub fn findings_panel(f: &mut Frame, area: Rect, findings: &[Finding], scroll: u16, t: &Theme) {
    let mut sorted: Vec<Finding> = findings.to_vec();
    sorted.sort_by_key(|x| x.severity);
    let lines = if sorted.is_empty() {
        vec![Line::from(Span::styled("✓ no problems found", t.ok()))]
    } else {
        finding_lines(&sorted, t)
    };
    let errors = findings.iter().filter(|x| x.is_error()).count();
    let warnings = findings.iter().filter(|x| x.severity == Severity::Warning).count();
    let p = Paragraph::new(lines).wrap(Wrap { trim: false });
    let total = p.line_count(area.width) as u16;
    let visible = area.height.saturating_sub(1);
    let scroll = scroll.min(total.saturating_sub(visible));
    let more = if total > visible + scroll { " · pgdn: more" } else { "" };
    let title = format!(" Checks: {errors} errors, {warnings} warnings{more} ");
    f.render_widget(p.block(Block::default().borders(Borders::TOP).title(title)).scroll((scroll, 0)), area);
}

/// `label  [value▏]` with the focus shown by style and a cursor mark.
pub fn field_line<'a>(label: &'a str, input: &TextInput, focused: bool, width: usize, t: &Theme) -> Line<'a> {
    let shown = input.display();
    let mut text = shown.clone();
    if focused {
        let at = text.char_indices().nth(input.cursor).map(|(i, _)| i).unwrap_or(text.len());
        text.insert(at, '▏');
    }
    let pad = width.saturating_sub(text.chars().count());
    let style = if focused { t.focus() } else { Style::default() };
    Line::from(vec![
        Span::styled(format!("{label:<20}"), if focused { t.key() } else { Style::default() }),
        Span::styled(format!("[{text}{}]", " ".repeat(pad)), style),
    ])
}

/// A rectangle of at most `w`×`h`, centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))]).flex(Flex::Center).areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))]).flex(Flex::Center).areas(v);
    r
}

pub fn confirm_popup(f: &mut Frame, area: Rect, c: &Confirm, t: &Theme) {
    let width = area.width.saturating_sub(4).min(76);
    let mut lines: Vec<Line> = c.lines.iter().map(|l| Line::from(l.as_str())).collect();
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled("y", t.key()),
        Span::raw(" yes    "),
        Span::styled("n", t.key()),
        Span::raw(" no"),
    ]));
    let p = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(Block::default().borders(Borders::ALL).title(Span::styled(format!(" {} ", c.title), t.title())));
    let height = p.line_count(width).min(u16::MAX as usize) as u16;
    let r = centered(area, width, height);
    f.render_widget(Clear, r);
    f.render_widget(p, r);
}

/// The interrupted run found at start, with its steps, and what r, u and esc do.
///
/// ```text
///  ┌ An earlier run was interrupted ──────────────────────────────┐
///  │An earlier run was interrupted: run 20261129-161500 on …      │
///  │  ✓ done     1. Create the BGP peers (they select no node yet) │
///  │  · pending  3. Make k8s-2 a route reflector                   │
///  │r resume · u undo it · esc leave it for now                    │
///  └───────────────────────────────────────────────────────────────┘
/// ```
pub fn run_offer_popup(f: &mut Frame, area: Rect, o: &RunOffer, t: &Theme) {
    use crate::runs::StepProgress as P;
    let m = &o.manifest;
    let width = area.width.saturating_sub(4).min(90);
    let mut lines = vec![Line::from(format!("An earlier run was interrupted: {}.", m.summary())), Line::from("")];
    for (i, (step, p)) in m.steps.iter().zip(&m.progress).enumerate() {
        let (mark, label, style) = match p {
            P::Done => ("✓", "done", t.ok()),
            P::Running => ("⟳", "stopped", t.key()),
            P::Failed => ("✗", "failed", t.severity(Severity::Error)),
            P::Undone => ("↶", "undone", t.dim()),
            P::Pending => ("·", "pending", t.dim()),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {mark} {label:<8} "), style),
            Span::raw(format!("{:>2}. {}", i + 1, step.title)),
        ]));
    }
    lines.push(Line::from(""));
    if o.needs_password {
        // The command on a line of its own, so it copies as one piece.
        lines.push(Line::from(Span::styled("This run still has to store the BGP password: finish it with", t.key())));
        lines.push(Line::from(format!("  calico-bgp-wizard resume {} --password-file FILE", m.id)));
        lines.push(Line::from(""));
    } else {
        lines.push(Line::from("Resume runs the steps not done; a step that was stopped runs again."));
    }
    lines.push(Line::from("Undo takes back what the run changed, last step first, from its backups."));
    lines.push(Line::from(""));
    let mut keys_line = Vec::new();
    if !o.needs_password {
        keys_line.extend([Span::styled("r", t.key()), Span::raw(" resume · ")]);
    }
    keys_line.extend([
        Span::styled("u", t.key()),
        Span::raw(" undo it · "),
        Span::styled("esc", t.key()),
        Span::raw(" leave it for now"),
    ]);
    lines.push(Line::from(keys_line));
    let p = Paragraph::new(lines).wrap(Wrap { trim: false }).block(
        Block::default().borders(Borders::ALL).title(Span::styled(" An earlier run was interrupted ", t.title())),
    );
    let height = p.line_count(width).min(u16::MAX as usize) as u16;
    let r = centered(area, width, height);
    f.render_widget(Clear, r);
    f.render_widget(p, r);
}

pub fn help_popup(f: &mut Frame, area: Rect, app: &App, t: &Theme) {
    let rows = keys::help(app.screen, app.read_only());
    let mut lines = vec![Line::from(Span::styled(format!("Keys on the {} screen", app.screen.title()), t.title()))];
    for (k, h) in rows {
        lines.push(Line::from(vec![Span::styled(format!("{k:<12}"), t.key()), Span::raw(h)]));
    }
    if !app.read_only() {
        lines.push(Line::from(""));
        lines.push(Line::from("Nothing changes in the cluster before you confirm on the Preview screen."));
    }
    let width = area.width.saturating_sub(4).min(90);
    let p =
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::default().borders(Borders::ALL).title(" Help "));
    let height = p.line_count(width).min(u16::MAX as usize) as u16;
    let r = centered(area, width, height);
    f.render_widget(Clear, r);
    f.render_widget(p, r);
}

/// Cut `s` to `w` characters, marking the cut with `…`.
pub fn fit(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_string()
    } else if w == 0 {
        String::new()
    } else {
        let mut out: String = s.chars().take(w - 1).collect();
        out.push('…');
        out
    }
}
