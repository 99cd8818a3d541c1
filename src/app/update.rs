//! `App::update`: messages in, commands out. No I/O here.

use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::keys::{self, Action};
use super::*;
use crate::domain::findings::{Severity, has_errors};
use crate::domain::{facts, validate};
use crate::plan::{self, render, switch};

impl App {
    pub fn update(&mut self, msg: Msg) -> Vec<Cmd> {
        match msg {
            Msg::Key(k) => self.on_key(k),
            Msg::Tick(now) => self.on_tick(now),
            Msg::Detected(r) => self.on_detected(r),
            Msg::Step(ev) => self.on_step(ev),
            Msg::Peers { result, at } => {
                self.status.refresh_in_flight = false;
                match result {
                    Ok(report) => {
                        self.status.report = report;
                        self.status.last_refresh = Some(at);
                        self.status.refresh_error = None;
                    }
                    Err(e) => self.status.refresh_error = Some(e),
                }
                Vec::new()
            }
            Msg::PlanWritten(r) => {
                self.preview.written = Some(r);
                self.preview.write_dir = None;
                Vec::new()
            }
            Msg::DryRun(r) => self.on_dry_run(r),
            Msg::Network(r) => {
                self.on_network(r);
                Vec::new()
            }
            Msg::OpenRun(m) => {
                self.on_open_run(m);
                Vec::new()
            }
        }
    }

    fn on_tick(&mut self, now: Duration) -> Vec<Cmd> {
        self.now = now;
        let due = self.status.last_refresh.is_none_or(|t| now.saturating_sub(t) >= REFRESH_EVERY);
        if self.screen == Screen::Status && !self.status.refresh_in_flight && due {
            self.status.refresh_in_flight = true;
            return vec![self.refresh_peers()];
        }
        Vec::new()
    }

    fn on_detected(&mut self, r: Result<ObjectSet, String>) -> Vec<Cmd> {
        match r {
            Ok(objects) => {
                let f = facts::detect(&objects);
                self.preflight = validate::preflight(&f);
                self.reflectors.suggested = validate::suggest_reflectors(&f);
                self.facts = Some(f);
                self.objects = Some(objects);
                self.detect_error = None;
                if self.mode == Mode::Wizard && !self.demo {
                    return vec![Cmd::RemoveStaleProbes];
                }
            }
            Err(e) => self.detect_error = Some(e),
        }
        Vec::new()
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        if self.offer_open() {
            return self.on_offer_key(key.code);
        }
        if let Some(c) = self.confirm.take() {
            return match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => self.confirmed(c.on_yes),
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => Vec::new(),
                _ => {
                    self.confirm = Some(c);
                    Vec::new()
                }
            };
        }
        if self.help {
            self.help = false;
            return Vec::new();
        }
        let editing = self.editing();
        if editing && key.code == KeyCode::Esc {
            if self.screen == Screen::Status && self.status.filtering {
                self.status.filtering = false;
                return Vec::new();
            }
            if self.screen == Screen::Preview && self.preview.write_dir.is_some() {
                self.preview.write_dir = None;
                return Vec::new();
            }
        }
        if editing && self.screen == Screen::Status && key.code == KeyCode::Enter {
            self.status.filtering = false;
            return Vec::new();
        }
        match keys::lookup(self.screen, editing, self.read_only(), &key) {
            Some(action) => self.on_action(action),
            None if editing => {
                self.edit_focused(&key);
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    fn edit_focused(&mut self, key: &KeyEvent) {
        match self.screen {
            Screen::Reflectors => {
                self.reflectors.cluster_id.handle(key);
            }
            Screen::Peering => {
                let p = &mut self.peering;
                let field = match p.focus {
                    PeeringField::SwitchIp => &mut p.switch_ip,
                    PeeringField::SwitchAs => &mut p.switch_as,
                    PeeringField::ClusterAs => &mut p.cluster_as,
                    PeeringField::Password => &mut p.password,
                    PeeringField::KeepNextHop => return,
                };
                field.handle(key);
                if p.focus == PeeringField::SwitchIp
                    && !p.keep_touched
                    && let Some(f) = &self.facts
                {
                    p.keep_next_hop = validate::default_keep_next_hop(&p.switch_ip.value, f);
                }
            }
            Screen::Pool => {
                self.pool.cidr.handle(key);
            }
            Screen::Preview => {
                if let Some(d) = &mut self.preview.write_dir {
                    d.handle(key);
                }
            }
            Screen::Status => {
                self.status.filter.handle(key);
                self.status.scroll = 0;
            }
            _ => {}
        }
    }

    fn on_action(&mut self, action: Action) -> Vec<Cmd> {
        match action {
            Action::Quit => self.request_quit(),
            Action::Help => {
                self.help = true;
                Vec::new()
            }
            Action::Back => self.back(),
            Action::Next => self.next(),
            Action::Up => {
                self.move_cursor(-1);
                Vec::new()
            }
            Action::Down => {
                self.move_cursor(1);
                Vec::new()
            }
            Action::PageUp => {
                self.scroll(-10);
                Vec::new()
            }
            Action::PageDown => {
                self.scroll(10);
                Vec::new()
            }
            Action::Toggle => {
                self.toggle();
                Vec::new()
            }
            Action::NextField => {
                self.field(1);
                Vec::new()
            }
            Action::PrevField => {
                self.field(-1);
                Vec::new()
            }
            Action::Suggest => {
                self.reflectors.selected = self.reflectors.suggested.iter().cloned().collect();
                Vec::new()
            }
            Action::NextTab => {
                self.preview.tab = match self.preview.tab {
                    PreviewTab::Changes => PreviewTab::Switch,
                    PreviewTab::Switch => PreviewTab::Notes,
                    PreviewTab::Notes => PreviewTab::Changes,
                };
                self.preview.scroll = 0;
                Vec::new()
            }
            Action::CalicoctlView => {
                self.preview.calicoctl = !self.preview.calicoctl;
                self.preview.tab = PreviewTab::Changes;
                Vec::new()
            }
            Action::NextVendor | Action::PrevVendor => {
                let all = Vendor::ALL;
                let i = all.iter().position(|v| *v == self.preview.vendor).unwrap_or(0);
                let n = all.len();
                let j = if action == Action::NextVendor { (i + 1) % n } else { (i + n - 1) % n };
                self.preview.vendor = all[j];
                self.preview.tab = PreviewTab::Switch;
                self.preview.scroll = 0;
                Vec::new()
            }
            Action::Write => {
                if self.preview.plan.is_some() {
                    self.preview.write_dir = Some(TextInput::new("calico-bgp-plan"));
                    self.preview.written = None;
                }
                Vec::new()
            }
            Action::DryRun => self.start_dry_run(false),
            Action::Pause => self.pause(),
            Action::Abort => {
                self.abort();
                Vec::new()
            }
            Action::Undo => {
                self.ask_undo();
                Vec::new()
            }
            Action::Filter => {
                self.status.filtering = true;
                Vec::new()
            }
            Action::CheckNetwork => self.check_network(),
            Action::Refresh => {
                if self.status.refresh_in_flight {
                    return Vec::new();
                }
                self.status.refresh_in_flight = true;
                vec![self.refresh_peers()]
            }
        }
    }

    /// Start the network checks (Detect screen, `n`), unless they are running.
    fn check_network(&mut self) -> Vec<Cmd> {
        let Some(facts) = &self.facts else { return Vec::new() };
        if self.network == NetworkCheck::Running {
            return Vec::new();
        }
        self.network = NetworkCheck::Running;
        let switch = self.peering.switch_ip.value.trim();
        vec![Cmd::CheckNetwork {
            facts: Box::new(facts.clone()),
            switch: (!switch.is_empty()).then(|| switch.to_string()),
        }]
    }

    /// The network checks' results join the Detect screen's findings (the same findings as
    /// `doctor`: network first, then the cluster's own), so an error there blocks Next too.
    fn on_network(&mut self, report: Box<crate::doctor::Report>) {
        self.preflight = report.findings.clone();
        self.detail_scroll = 0;
        self.network = NetworkCheck::Done(report);
    }

    fn request_quit(&mut self) -> Vec<Cmd> {
        let applying = self
            .apply
            .as_ref()
            .is_some_and(|a| matches!(a.phase, ApplyPhase::Running | ApplyPhase::Paused | ApplyPhase::Undoing))
            || self.step_in_flight();
        if applying {
            let done: Vec<String> = self
                .apply
                .iter()
                .flat_map(|a| a.runs.iter())
                .filter(|r| r.state == StepState::Done)
                .map(|r| format!("  done: {}", r.step.title))
                .collect();
            let mut lines = vec![
                "Changes are being applied. If you quit now, the running step may be left half-done,".to_string(),
                "and the completed steps stay applied:".to_string(),
            ];
            lines.extend(done);
            lines.push("Press n, then a (abort) to stop cleanly after the running step, or u to undo.".into());
            self.confirm = Some(Confirm { title: "Quit while applying?".into(), lines, on_yes: ConfirmAction::Quit });
            return Vec::new();
        }
        self.quit = true;
        vec![Cmd::Quit]
    }

    fn back(&mut self) -> Vec<Cmd> {
        if self.screen == Screen::Preview && self.dry_run_running() {
            return Vec::new();
        }
        // After a rollback on a real cluster (or of a taken-over run), what was read before is out
        // of date, and a run may have stopped because someone changed the cluster: read it again.
        if self.screen == Screen::Apply
            && let Some(a) = &self.apply
            && a.phase == ApplyPhase::RolledBack
            && (a.adopted.is_some() || !self.demo)
        {
            return self.redetect();
        }
        self.detail_scroll = 0;
        self.screen = match self.screen {
            Screen::Detect => Screen::Detect,
            Screen::Reflectors => Screen::Detect,
            Screen::Peering => Screen::Reflectors,
            Screen::Pool => Screen::Peering,
            Screen::Preview => Screen::Pool,
            Screen::Apply => match self.apply.as_ref().map(|a| a.phase) {
                // Steps were applied or are running: going back to edit answers would desync.
                Some(ApplyPhase::RolledBack) | None => Screen::Preview,
                _ => Screen::Apply,
            },
            Screen::Status => {
                if self.apply.is_some() {
                    Screen::Apply
                } else {
                    Screen::Preview
                }
            }
        };
        Vec::new()
    }

    /// After an adopted run was undone, the facts read before the undo are out of date: read the
    /// cluster again and start over from Detect.
    fn redetect(&mut self) -> Vec<Cmd> {
        self.apply = None;
        self.facts = None;
        self.objects = None;
        self.preflight = Vec::new();
        self.network = NetworkCheck::NotRun;
        self.preview.plan = None;
        self.reflectors.initialised = false;
        self.detail_scroll = 0;
        self.screen = Screen::Detect;
        vec![Cmd::Detect]
    }

    fn next(&mut self) -> Vec<Cmd> {
        match self.screen {
            Screen::Detect => {
                if self.facts.is_none() || has_errors(&self.preflight) {
                    return Vec::new();
                }
                self.advance()
            }
            Screen::Reflectors | Screen::Peering | Screen::Pool => {
                let findings = self.screen_findings();
                if has_errors(&findings) {
                    return Vec::new();
                }
                let warnings: Vec<String> = findings
                    .iter()
                    .filter(|f| f.severity == Severity::Warning)
                    .map(|f| match &f.fix {
                        Some(fix) => format!("• {} ({fix})", f.message),
                        None => format!("• {}", f.message),
                    })
                    .collect();
                if !warnings.is_empty() {
                    self.confirm = Some(Confirm {
                        title: "Continue despite these warnings?".into(),
                        lines: warnings,
                        on_yes: ConfirmAction::ProceedPastWarnings,
                    });
                    return Vec::new();
                }
                self.advance()
            }
            Screen::Preview => {
                if let Some(d) = &self.preview.write_dir {
                    let dir = d.value.trim().to_string();
                    if dir.is_empty() {
                        return Vec::new();
                    }
                    return match self.plan_files() {
                        Some(files) => vec![Cmd::WritePlan { dir, files }],
                        None => Vec::new(),
                    };
                }
                let Some(plan) = &self.preview.plan else { return Vec::new() };
                if plan.is_empty() || self.dry_run_running() {
                    return Vec::new();
                }
                let mut lines = vec![format!(
                    "{} steps will change cluster '{}'{}:",
                    plan.steps.len(),
                    self.facts.as_ref().map(|f| f.context.as_str()).unwrap_or("?"),
                    if self.demo { " (the embedded demo: nothing real is touched)" } else { "" }
                )];
                lines.extend(plan.steps.iter().enumerate().map(|(i, s)| format!("  {}. {}", i + 1, s.title)));
                lines.push("Each step is verified before the next starts; you can pause, abort or undo.".into());
                lines.push("The switch must already be configured: each reflector waits for its session to it.".into());
                if !self.demo {
                    lines.push(
                        "The API server checks every change first (server-side dry run); the apply starts only if it \
                         accepts them all."
                            .into(),
                    );
                }
                if let Some(o) = &self.run_offer {
                    lines.push(format!(
                        "Note: the earlier run {} is still unfinished; `calico-bgp-wizard rollback {}` takes it back.",
                        o.manifest.id, o.manifest.id
                    ));
                }
                self.confirm =
                    Some(Confirm { title: "Apply the plan?".into(), lines, on_yes: ConfirmAction::StartApply });
                Vec::new()
            }
            Screen::Apply => {
                if self.apply.as_ref().is_some_and(|a| a.phase == ApplyPhase::Finished) {
                    self.screen = Screen::Status;
                    self.status.refresh_in_flight = true;
                    return vec![self.refresh_peers()];
                }
                Vec::new()
            }
            Screen::Status => Vec::new(),
        }
    }

    /// Go to the next screen (rules already passed or warnings confirmed).
    fn advance(&mut self) -> Vec<Cmd> {
        self.detail_scroll = 0;
        self.screen = match self.screen {
            Screen::Detect => {
                if !self.reflectors.initialised {
                    self.reflectors.initialised = true;
                    let existing: Vec<String> = self
                        .facts
                        .iter()
                        .flat_map(|f| f.nodes.iter())
                        .filter(|n| n.rr_cluster_id.is_some())
                        .map(|n| n.name.clone())
                        .collect();
                    let pick = if existing.is_empty() { self.reflectors.suggested.clone() } else { existing };
                    self.reflectors.selected = pick.into_iter().collect();
                    if let Some(id) =
                        self.facts.iter().flat_map(|f| f.nodes.iter()).find_map(|n| n.rr_cluster_id.clone())
                    {
                        self.reflectors.cluster_id.set(id);
                    }
                }
                Screen::Reflectors
            }
            Screen::Reflectors => {
                if self.peering.cluster_as.value.is_empty()
                    && let Some(f) = &self.facts
                {
                    self.peering.cluster_as.set(f.cluster_as().to_string());
                }
                Screen::Peering
            }
            Screen::Peering => {
                if let Some(f) = &self.facts {
                    let target = f.pools.iter().position(|p| !p.disabled).unwrap_or(f.pools.len());
                    if self.pool.cidr.value.is_empty() && target == f.pools.len() {
                        self.pool.cursor = f.pools.len();
                    } else if self.pool.cidr.value.is_empty() {
                        self.pool.cursor = target;
                    }
                }
                Screen::Pool
            }
            Screen::Pool => {
                self.build_preview();
                Screen::Preview
            }
            s => s,
        };
        Vec::new()
    }

    /// Validate everything and build the plan the Preview shows and Apply runs.
    pub fn build_preview(&mut self) {
        let (Some(f), Some(objects)) = (&self.facts, &self.objects) else { return };
        let v = validate::validate(&self.answers(), f);
        self.preview.selected = 0;
        self.preview.scroll = 0;
        self.preview.dry_run = DryRunState::NotRun;
        self.preview.apply_after_dry_run = false;
        match v.valid {
            Some(valid) => {
                self.preview.plan = Some(plan::build_plan(&valid, f, objects));
                self.preview.blocked = Vec::new();
            }
            None => {
                self.preview.plan = None;
                self.preview.blocked = v.findings.into_iter().filter(|f| f.is_error()).collect();
            }
        }
    }

    /// Every file `w` writes: YAML, runbook, JSON and the switch config for every vendor.
    pub fn plan_files(&self) -> Option<Vec<render::PlanFile>> {
        let (plan, facts) = (self.preview.plan.as_ref()?, self.facts.as_ref()?);
        let params = switch::switch_params(plan, facts);
        let configs: Vec<(String, String)> =
            switch::render_all(&params).into_iter().map(|c| (c.vendor.id().to_string(), c.config)).collect();
        Some(render::plan_files(plan, &configs))
    }

    fn confirmed(&mut self, action: ConfirmAction) -> Vec<Cmd> {
        match action {
            ConfirmAction::ProceedPastWarnings => self.advance(),
            ConfirmAction::StartApply => self.start_dry_run(true),
            ConfirmAction::Undo => self.start_undo(),
            ConfirmAction::Quit => {
                self.quit = true;
                vec![Cmd::Quit]
            }
        }
    }

    /// Ask the API server to check every change of the plan (`then_apply`: the operator confirmed
    /// the apply, which starts only if every change is accepted).
    fn start_dry_run(&mut self, then_apply: bool) -> Vec<Cmd> {
        let Some(plan) = &self.preview.plan else { return Vec::new() };
        if plan.is_empty() || self.dry_run_running() {
            return Vec::new();
        }
        let steps = plan.steps.clone();
        self.preview.dry_run = DryRunState::Running;
        self.preview.apply_after_dry_run = then_apply;
        vec![Cmd::DryRun { steps }]
    }

    fn on_dry_run(&mut self, r: Result<usize, Vec<String>>) -> Vec<Cmd> {
        if !self.dry_run_running() {
            return Vec::new(); // the plan was rebuilt since: this verdict is for another plan
        }
        let then_apply = std::mem::take(&mut self.preview.apply_after_dry_run);
        match r {
            Ok(n) => {
                self.preview.dry_run = DryRunState::Accepted(n);
                if then_apply && self.screen == Screen::Preview {
                    return self.start_apply();
                }
            }
            Err(errors) => self.preview.dry_run = DryRunState::Rejected(errors),
        }
        Vec::new()
    }

    fn start_apply(&mut self) -> Vec<Cmd> {
        let Some(plan) = &self.preview.plan else { return Vec::new() };
        let runs = plan
            .steps
            .iter()
            .map(|s| StepRun {
                step: s.clone(),
                state: StepState::Pending,
                log: Vec::new(),
                started: None,
                finished: None,
                progress: None,
            })
            .collect();
        let begin = Cmd::BeginRun {
            steps: plan.steps.clone(),
            answers: crate::plan::render::plan_json(plan)["answers"].clone(),
        };
        self.apply =
            Some(ApplyState { runs, phase: ApplyPhase::Running, selected: 0, started: self.now, adopted: None });
        self.screen = Screen::Apply;
        self.help = false;
        self.preview.write_dir = None;
        // The dry run's verdict was for this start; after the run the cluster is different.
        self.preview.dry_run = DryRunState::NotRun;
        let mut cmds = vec![begin];
        cmds.extend(self.start_next());
        cmds
    }

    /// Start the first pending step, or finish.
    pub(super) fn start_next(&mut self) -> Vec<Cmd> {
        let now = self.now;
        let Some(a) = &mut self.apply else { return Vec::new() };
        match a.runs.iter().position(|r| r.state == StepState::Pending) {
            Some(idx) => {
                let r = &mut a.runs[idx];
                r.state = StepState::Running;
                r.started = Some(now);
                a.selected = idx;
                vec![Cmd::RunStep { idx, step: r.step.clone() }]
            }
            None => {
                a.phase = ApplyPhase::Finished;
                vec![Cmd::FinishRun]
            }
        }
    }

    fn skip_pending(&mut self) {
        if let Some(a) = &mut self.apply {
            for r in a.runs.iter_mut().filter(|r| r.state == StepState::Pending) {
                r.state = StepState::Skipped;
            }
        }
    }

    fn pause(&mut self) -> Vec<Cmd> {
        let in_flight = self.step_in_flight();
        let Some(a) = &mut self.apply else { return Vec::new() };
        match a.phase {
            ApplyPhase::Running => {
                a.phase = ApplyPhase::Paused;
                Vec::new()
            }
            ApplyPhase::Paused => {
                a.phase = ApplyPhase::Running;
                if in_flight { Vec::new() } else { self.start_next() }
            }
            _ => Vec::new(),
        }
    }

    fn abort(&mut self) {
        let in_flight = self.step_in_flight();
        if let Some(a) = &mut self.apply
            && matches!(a.phase, ApplyPhase::Running | ApplyPhase::Paused)
        {
            a.phase = ApplyPhase::Stopped;
            if !in_flight {
                self.skip_pending();
            }
        }
    }

    pub(super) fn undoable(&self) -> Vec<usize> {
        self.apply
            .iter()
            .flat_map(|a| a.runs.iter().enumerate())
            .filter(|(_, r)| matches!(r.state, StepState::Done | StepState::Failed))
            .map(|(i, _)| i)
            .rev()
            .collect()
    }

    fn ask_undo(&mut self) {
        if !self.can_undo() {
            return;
        }
        let Some(a) = &self.apply else { return };
        let idx = self.undoable();
        let mut lines = vec!["These steps will be undone, last first:".to_string()];
        lines.extend(idx.iter().map(|i| format!("  {}. {} — {}", i + 1, a.runs[*i].step.title, a.runs[*i].step.undo)));
        self.confirm = Some(Confirm { title: "Undo the applied steps?".into(), lines, on_yes: ConfirmAction::Undo });
    }

    pub(super) fn start_undo(&mut self) -> Vec<Cmd> {
        self.skip_pending();
        if let Some(a) = &mut self.apply {
            a.phase = ApplyPhase::Undoing;
        }
        self.undo_next()
    }

    fn undo_next(&mut self) -> Vec<Cmd> {
        let next = self.undoable().first().copied();
        let Some(a) = &mut self.apply else { return Vec::new() };
        match next {
            Some(idx) => {
                a.runs[idx].state = StepState::Undoing;
                a.runs[idx].progress = None;
                a.selected = idx;
                vec![Cmd::UndoStep { idx, step: a.runs[idx].step.clone() }]
            }
            None => {
                a.phase = ApplyPhase::RolledBack;
                vec![Cmd::FinishRun]
            }
        }
    }

    fn on_step(&mut self, ev: StepEvent) -> Vec<Cmd> {
        let now = self.now;
        let Some(a) = &mut self.apply else { return Vec::new() };
        let idx = match &ev {
            StepEvent::Log { idx, .. }
            | StepEvent::Verifying { idx }
            | StepEvent::Progress { idx, .. }
            | StepEvent::Done { idx }
            | StepEvent::Failed { idx, .. }
            | StepEvent::Undone { idx }
            | StepEvent::UndoFailed { idx, .. } => *idx,
        };
        let Some(r) = a.runs.get_mut(idx) else { return Vec::new() };
        match ev {
            StepEvent::Log { line, .. } => r.log.push(line),
            StepEvent::Verifying { .. } => r.state = StepState::Verifying,
            StepEvent::Progress { progress, .. } => r.progress = Some(progress),
            StepEvent::Done { .. } => {
                r.state = StepState::Done;
                r.finished = Some(now);
                r.progress = None;
                return match a.phase {
                    ApplyPhase::Running => self.start_next(),
                    ApplyPhase::Stopped => {
                        self.skip_pending();
                        Vec::new()
                    }
                    _ => Vec::new(),
                };
            }
            StepEvent::Failed { error, .. } => {
                r.state = StepState::Failed;
                r.finished = Some(now);
                r.progress = None;
                r.log.push(format!("FAILED: {error}"));
                a.phase = ApplyPhase::Stopped;
                self.skip_pending();
            }
            StepEvent::Undone { .. } => {
                r.state = StepState::Undone;
                r.progress = None;
                return self.undo_next();
            }
            StepEvent::UndoFailed { error, .. } => {
                r.state = StepState::Failed;
                r.log.push(format!("UNDO FAILED: {error}"));
                a.phase = ApplyPhase::Stopped;
            }
        }
        Vec::new()
    }

    fn row_count(&self) -> usize {
        match self.screen {
            Screen::Reflectors => self.facts.as_ref().map(|f| f.nodes.len()).unwrap_or(0),
            Screen::Pool => self.facts.as_ref().map(|f| f.pools.len() + 1).unwrap_or(1),
            Screen::Preview => self.preview.plan.as_ref().map(|p| p.steps.len()).unwrap_or(0),
            Screen::Apply => self.apply.as_ref().map(|a| a.runs.len()).unwrap_or(0),
            Screen::Status => self.filtered_peers().len(),
            _ => 0,
        }
    }

    fn move_cursor(&mut self, delta: isize) {
        let n = self.row_count();
        let step =
            |c: usize| -> usize { if n == 0 { 0 } else { (c as isize + delta).clamp(0, n as isize - 1) as usize } };
        match self.screen {
            Screen::Detect => self.scroll(delta as i32),
            Screen::Reflectors if self.reflectors.focus == ReflectorsFocus::ClusterId => {
                self.reflectors.focus = ReflectorsFocus::Table;
            }
            Screen::Reflectors => self.reflectors.cursor = step(self.reflectors.cursor),
            Screen::Peering => self.field(delta as i32),
            Screen::Pool => self.pool.cursor = step(self.pool.cursor),
            Screen::Preview => {
                if self.preview.tab == PreviewTab::Changes {
                    self.preview.selected = step(self.preview.selected);
                    self.preview.scroll = 0;
                } else {
                    self.scroll(delta as i32);
                }
            }
            Screen::Apply => {
                if let Some(a) = &mut self.apply {
                    a.selected = step(a.selected);
                }
            }
            Screen::Status => self.status.scroll = step(self.status.scroll),
        }
    }

    fn scroll(&mut self, delta: i32) {
        let apply = |v: u16| -> u16 { (v as i32 + delta).clamp(0, u16::MAX as i32) as u16 };
        match self.screen {
            Screen::Preview => self.preview.scroll = apply(self.preview.scroll),
            Screen::Status => {
                let n = self.filtered_peers().len();
                self.status.scroll =
                    (self.status.scroll as i64 + delta as i64).clamp(0, n.saturating_sub(1) as i64) as usize;
            }
            _ => self.detail_scroll = apply(self.detail_scroll),
        }
    }

    fn toggle(&mut self) {
        match self.screen {
            Screen::Reflectors => {
                if let Some(n) = self.facts.as_ref().and_then(|f| f.nodes.get(self.reflectors.cursor)) {
                    let name = n.name.clone();
                    if !self.reflectors.selected.remove(&name) {
                        self.reflectors.selected.insert(name);
                    }
                }
            }
            Screen::Peering if self.peering.focus == PeeringField::KeepNextHop => {
                self.peering.keep_next_hop = !self.peering.keep_next_hop;
                self.peering.keep_touched = true;
            }
            _ => {}
        }
    }

    fn field(&mut self, delta: i32) {
        match self.screen {
            Screen::Reflectors => {
                self.reflectors.focus = match self.reflectors.focus {
                    ReflectorsFocus::Table => ReflectorsFocus::ClusterId,
                    ReflectorsFocus::ClusterId => ReflectorsFocus::Table,
                }
            }
            Screen::Peering => {
                let all = PeeringField::ALL;
                let i = all.iter().position(|f| *f == self.peering.focus).unwrap_or(0) as i32;
                let j = (i + delta).clamp(0, all.len() as i32 - 1);
                self.peering.focus = all[j as usize];
            }
            Screen::Pool => {
                let n = self.facts.as_ref().map(|f| f.pools.len()).unwrap_or(0);
                self.pool.cursor = if self.pool.cursor >= n { 0 } else { n };
            }
            _ => {}
        }
    }
}
