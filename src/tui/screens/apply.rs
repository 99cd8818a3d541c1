//! Screen 6: the steps running one by one, each verified before the next; log and progress of
//! the selected step; pause, abort and undo.
//!
//! ```text
//!  Running step 3 of 7 · 12s                      p pause  a abort  u undo
//!  ✓ done      1 Create the peers…         1.2s
//!  ⟳ verifying 3 Make k8s-1 a route reflector
//!  ── log ───  ████████░░░░ BGP sessions Established on k8s-1: 2/3
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, LineGauge, List, ListItem, ListState, Paragraph, Wrap};

use crate::app::{App, ApplyPhase, StepState};
use crate::domain::findings::Severity;
use crate::tui::theme::Theme;

fn secs(d: std::time::Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

pub fn render(f: &mut Frame, area: Rect, app: &App, t: &Theme) {
    let Some(a) = &app.apply else { return };
    let total = a.runs.len();
    let done = a.runs.iter().filter(|r| r.state == StepState::Done).count();
    let elapsed = a.elapsed(app.now);
    let (phase, style) = match a.phase {
        ApplyPhase::Running => (format!("Applying: {done} of {total} steps done · {}", secs(elapsed)), t.title()),
        ApplyPhase::Paused => (format!("Paused after the running step: {done} of {total} done (p resumes)"), t.key()),
        ApplyPhase::Stopped => (
            format!(
                "Stopped: {done} of {total} steps applied and still in place. u undoes them; the log says what happened."
            ),
            t.severity(Severity::Error),
        ),
        ApplyPhase::Undoing => ("Undoing the applied steps, last first…".to_string(), t.key()),
        ApplyPhase::Finished => {
            (format!("All {total} steps applied and verified in {}. enter: live peer table", secs(elapsed)), t.ok())
        }
        ApplyPhase::RolledBack => {
            ("Every applied step was undone: the cluster is as it was before.".to_string(), t.ok())
        }
    };
    let list_h = (total as u16 + 1).min(area.height / 2).max(3);
    let [phase_area, list_area, detail] =
        Layout::vertical([Constraint::Length(2), Constraint::Length(list_h), Constraint::Min(3)]).areas(area);
    let mut head = vec![Line::from(Span::styled(phase, style))];
    if let Some(id) = &a.adopted {
        head.push(Line::from(Span::styled(format!("Taken over from the interrupted run {id}."), t.dim())));
    }
    f.render_widget(Paragraph::new(head).wrap(Wrap { trim: true }), phase_area);

    let items: Vec<ListItem> = a
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (mark, st) = match r.state {
                StepState::Done | StepState::Undone => ("✓", t.ok()),
                StepState::Failed => ("✗", t.severity(Severity::Error)),
                StepState::Running | StepState::Verifying | StepState::Undoing => ("⟳", t.key()),
                StepState::Pending | StepState::Skipped => ("·", t.dim()),
            };
            let time = match (r.started, r.finished) {
                (Some(s), Some(e)) => secs(e.saturating_sub(s)),
                (Some(s), None) => secs(app.now.saturating_sub(s)),
                _ => String::new(),
            };
            ListItem::new(Line::from(vec![
                Span::styled(format!("{mark} {:<9} ", r.state.label()), st),
                Span::raw(format!("{:>2} {}", i + 1, r.step.title)),
                Span::styled(format!("  {time}"), t.dim()),
            ]))
        })
        .collect();
    let mut st = ListState::default().with_selected(Some(a.selected));
    f.render_stateful_widget(List::new(items).highlight_style(t.selected()), list_area, &mut st);

    let Some(run) = a.runs.get(a.selected) else { return };
    let has_progress = run.progress.is_some();
    let [gauge_area, log_area] =
        Layout::vertical([Constraint::Length(if has_progress { 1 } else { 0 }), Constraint::Min(1)]).areas(detail);
    if let Some(p) = &run.progress {
        let ratio = if p.total == 0 { 1.0 } else { p.done as f64 / p.total as f64 };
        f.render_widget(
            LineGauge::default().filled_style(t.ok()).ratio(ratio.clamp(0.0, 1.0)).label(p.label.clone()),
            gauge_area,
        );
    }
    let skip = run.log.len().saturating_sub(log_area.height.saturating_sub(1) as usize);
    let lines: Vec<Line> = run.log.iter().skip(skip).map(|l| Line::from(l.as_str())).collect();
    let title = format!(" log: step {} ", a.selected + 1);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::default().borders(Borders::TOP).title(title)),
        log_area,
    );
}
