//! An interrupted run, offered at start: the worker finds the newest unfinished run record against
//! this cluster after detection ([`Msg::OpenRun`]), the Detect screen asks what to do with it, and
//! resume or undo take the run over ([`Cmd::AdoptRun`]) and go on as a normal apply or undo would.
//! No I/O here either.

use ratatui::crossterm::event::KeyCode;

use super::*;
use crate::runs::{StepProgress, needs_password};

/// Resume or undo: what the operator chose for the interrupted run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Resume,
    Undo,
}

impl App {
    pub(super) fn on_open_run(&mut self, manifest: Option<RunManifest>) {
        // Only the wizard offers it, and never over a run this process is driving.
        if self.mode != Mode::Wizard || self.apply.is_some() {
            return;
        }
        self.run_offer = manifest.map(|manifest| {
            let needs_password = manifest.remaining().iter().any(|&i| needs_password(&manifest.steps[i]));
            RunOffer { manifest, needs_password, dismissed: false }
        });
    }

    /// The dialog's keys: r resume (unless the password is needed), u undo, esc leave it.
    pub(super) fn on_offer_key(&mut self, code: KeyCode) -> Vec<Cmd> {
        let needs_password = self.run_offer.as_ref().is_some_and(|o| o.needs_password);
        match code {
            KeyCode::Char('r') if !needs_password => self.adopt(Choice::Resume),
            KeyCode::Char('u') => self.adopt(Choice::Undo),
            KeyCode::Esc => {
                if let Some(o) = &mut self.run_offer {
                    o.dismissed = true;
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Put the run's steps on the Apply screen as the record has them, hand the record to the
    /// worker, then run the pending steps or undo the applied ones, last first.
    fn adopt(&mut self, choice: Choice) -> Vec<Cmd> {
        let Some(RunOffer { manifest: m, .. }) = self.run_offer.take() else { return Vec::new() };
        let runs = m
            .steps
            .iter()
            .zip(&m.progress)
            .map(|(step, p)| {
                let (state, note) = adopted_state(*p, choice);
                StepRun {
                    step: step.clone(),
                    state,
                    log: note.map(|n| vec![n.to_string()]).unwrap_or_default(),
                    started: None,
                    finished: None,
                    progress: None,
                }
            })
            .collect();
        let phase = match choice {
            Choice::Resume => ApplyPhase::Running,
            Choice::Undo => ApplyPhase::Undoing,
        };
        self.apply = Some(ApplyState { runs, phase, selected: 0, started: self.now, adopted: Some(m.id.clone()) });
        self.screen = Screen::Apply;
        let mut cmds = vec![Cmd::AdoptRun { dir: self.runs_root.join(&m.id) }];
        cmds.extend(match choice {
            Choice::Resume => self.start_next(),
            Choice::Undo => self.start_undo(),
        });
        cmds
    }
}

/// A recorded step's state on the Apply screen, with a log line saying how it got there.
fn adopted_state(p: StepProgress, choice: Choice) -> (StepState, Option<&'static str>) {
    const DONE: &str = "done by the interrupted run";
    match (p, choice) {
        (StepProgress::Done, _) => (StepState::Done, Some(DONE)),
        (StepProgress::Pending, _) => (StepState::Pending, None),
        (StepProgress::Running | StepProgress::Failed, Choice::Resume) => (
            StepState::Pending,
            Some("the interrupted run stopped in this step: it runs again (changes it already wrote are recognised)"),
        ),
        (StepProgress::Undone, Choice::Resume) => (StepState::Pending, Some("undone by the interrupted run")),
        (StepProgress::Running, Choice::Undo) => {
            (StepState::Failed, Some("the interrupted run stopped in this step: some of its changes may be written"))
        }
        (StepProgress::Failed, Choice::Undo) => (StepState::Failed, Some("failed in the interrupted run")),
        (StepProgress::Undone, Choice::Undo) => (StepState::Undone, Some("undone by the interrupted run")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_step_is_rerun_on_resume_and_undone_on_undo() {
        assert_eq!(adopted_state(StepProgress::Running, Choice::Resume).0, StepState::Pending);
        assert_eq!(adopted_state(StepProgress::Running, Choice::Undo).0, StepState::Failed);
        assert_eq!(adopted_state(StepProgress::Done, Choice::Undo).0, StepState::Done);
        assert_eq!(adopted_state(StepProgress::Undone, Choice::Undo).0, StepState::Undone);
    }
}
