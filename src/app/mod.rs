//! The wizard as a state machine: [`App`] is the only state, [`App::update`] turns a [`Msg`] into
//! [`Cmd`]s for the worker, and never does I/O itself. Tests drive it with messages.
//!
//! ```text
//!  Detect → Reflectors → Peering → Pool → Preview → Apply → Status
//!                                                            ▲
//!  `status` (read-only dashboard) ───────────────────────────┘
//! ```

pub mod input;
pub mod keys;
mod resume;
mod update;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use crate::domain::answers::{Answers, Vendor};
use crate::domain::facts::ClusterFacts;
use crate::domain::findings::Finding;
use crate::domain::objects::ObjectSet;
use crate::plan::render::PlanFile;
use crate::plan::{Plan, Step};
use crate::runs::RunManifest;
use crate::status::model::{PeerReport, PeerRow};

pub use input::TextInput;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Screen {
    Detect,
    Reflectors,
    Peering,
    Pool,
    Preview,
    Apply,
    Status,
}

impl Screen {
    pub const ALL: [Screen; 7] = [
        Screen::Detect,
        Screen::Reflectors,
        Screen::Peering,
        Screen::Pool,
        Screen::Preview,
        Screen::Apply,
        Screen::Status,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Detect => "Detect",
            Screen::Reflectors => "Route reflectors",
            Screen::Peering => "Peering",
            Screen::Pool => "Pool",
            Screen::Preview => "Preview",
            Screen::Apply => "Apply",
            Screen::Status => "Status",
        }
    }
    pub fn number(self) -> usize {
        Screen::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }
}

/// Wizard (can change the cluster) or the read-only dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Wizard,
    Dashboard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReflectorsFocus {
    Table,
    ClusterId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReflectorsForm {
    pub cursor: usize,
    pub selected: BTreeSet<String>,
    pub cluster_id: TextInput,
    pub focus: ReflectorsFocus,
    pub suggested: Vec<String>,
    /// Set once the suggestion was applied on first entry.
    pub initialised: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeeringField {
    SwitchIp,
    SwitchAs,
    ClusterAs,
    Password,
    KeepNextHop,
}

impl PeeringField {
    pub const ALL: [PeeringField; 5] = [
        PeeringField::SwitchIp,
        PeeringField::SwitchAs,
        PeeringField::ClusterAs,
        PeeringField::Password,
        PeeringField::KeepNextHop,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeeringForm {
    pub focus: PeeringField,
    pub switch_ip: TextInput,
    pub switch_as: TextInput,
    pub cluster_as: TextInput,
    pub password: TextInput,
    pub keep_next_hop: bool,
    /// The operator changed keepOriginalNextHop: stop following the default.
    pub keep_touched: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolForm {
    /// Index into the existing pools; `pools.len()` is the "type a CIDR" row.
    pub cursor: usize,
    pub cidr: TextInput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewTab {
    Changes,
    Switch,
    Notes,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PreviewState {
    pub plan: Option<Plan>,
    /// Why no plan could be built (validation errors).
    pub blocked: Vec<Finding>,
    pub selected: usize,
    pub scroll: u16,
    pub tab: PreviewTab,
    pub vendor: Vendor,
    /// Show Calico objects as calicoctl does (`projectcalico.org/v3`) instead of the stored diff.
    pub calicoctl: bool,
    /// Open while the operator types the directory for `w`.
    pub write_dir: Option<TextInput>,
    pub written: Option<Result<String, String>>,
    /// The server-side dry run of this plan (`d`, and before every apply).
    pub dry_run: DryRunState,
    /// The running dry run was started by the apply confirm: start the apply when it passes.
    pub apply_after_dry_run: bool,
}

/// What the API server said about the plan when asked to dry-run every change (admission,
/// schema), storing nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DryRunState {
    NotRun,
    Running,
    /// Every change accepted: how many.
    Accepted(usize),
    /// One line per rejected change: step number, object, the server's message.
    Rejected(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    Pending,
    Running,
    Verifying,
    Done,
    Failed,
    Skipped,
    Undoing,
    Undone,
}

impl StepState {
    pub fn label(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Verifying => "verifying",
            StepState::Done => "done",
            StepState::Failed => "failed",
            StepState::Skipped => "skipped",
            StepState::Undoing => "undoing",
            StepState::Undone => "undone",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepRun {
    pub step: Step,
    pub state: StepState,
    pub log: Vec<String>,
    pub started: Option<Duration>,
    pub finished: Option<Duration>,
    pub progress: Option<Progress>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyPhase {
    /// Running steps one after another.
    Running,
    /// The operator paused: the running step finishes, no new one starts.
    Paused,
    /// Aborted by the operator or stopped by a failed step: completed steps stay until undone.
    Stopped,
    /// Undoing completed steps, last first.
    Undoing,
    /// All steps done.
    Finished,
    /// Every completed step was undone.
    RolledBack,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApplyState {
    pub runs: Vec<StepRun>,
    pub phase: ApplyPhase,
    pub selected: usize,
    pub started: Duration,
    /// The id of the interrupted run this apply took over (resume or undo), if it is one.
    pub adopted: Option<String>,
}

impl ApplyState {
    /// How long the run has taken: a finished run's time stops at its last step.
    pub fn elapsed(&self, now: Duration) -> Duration {
        let end = match self.phase {
            ApplyPhase::Finished => self.runs.iter().filter_map(|r| r.finished).max().unwrap_or(now),
            _ => now,
        };
        end.saturating_sub(self.started)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusState {
    /// The last refresh that succeeded: the rows, where they come from, the nodes read, and the
    /// nodes that could not be read (the others are still shown).
    pub report: PeerReport,
    pub last_refresh: Option<Duration>,
    pub refresh_error: Option<String>,
    pub refresh_in_flight: bool,
    pub filter: TextInput,
    pub filtering: bool,
    pub scroll: usize,
}

/// A question the operator must answer with y or n before anything else happens.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub on_yes: ConfirmAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmAction {
    /// Accept the warnings shown and go to the next screen.
    ProceedPastWarnings,
    StartApply,
    Undo,
    Quit,
}

/// An interrupted run found at start, offered for resume or undo on the Detect screen.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOffer {
    pub manifest: RunManifest,
    /// A step still to run stores the BGP password, which the run record never keeps: resume is
    /// only possible headless, with `--password-file`.
    pub needs_password: bool,
    /// The operator chose "leave it for now": the dialog is closed, the run stays open.
    pub dismissed: bool,
}

/// Everything that can happen to the app.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(ratatui::crossterm::event::KeyEvent),
    /// Time since start; drives elapsed times and the peer-table refresh.
    Tick(Duration),
    Detected(Result<ObjectSet, String>),
    Step(StepEvent),
    Peers {
        result: Result<PeerReport, String>,
        at: Duration,
    },
    PlanWritten(Result<String, String>),
    /// The server-side dry run of the plan: Ok(changes accepted) or one line per error.
    DryRun(Result<usize, Vec<String>>),
    /// After detection on a real cluster: the newest unfinished run against it, if any.
    OpenRun(Option<RunManifest>),
    /// The network checks' results (Detect screen, `n`).
    Network(Box<crate::doctor::Report>),
}

/// The Detect screen's network checks (`doctor`), run only when the operator asks: they send a
/// TCP connection attempt to every node and the switch.
#[derive(Debug, Clone, PartialEq)]
pub enum NetworkCheck {
    NotRun,
    Running,
    Done(Box<crate::doctor::Report>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepEvent {
    Log { idx: usize, line: String },
    Verifying { idx: usize },
    Progress { idx: usize, progress: Progress },
    Done { idx: usize },
    Failed { idx: usize, error: String },
    Undone { idx: usize },
    UndoFailed { idx: usize, error: String },
}

/// Work for the worker. Only the wizard produces writing commands ([`Cmd::is_write`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    Detect,
    /// A run starts: record its steps and answers (real clusters keep backups and progress).
    BeginRun {
        steps: Vec<Step>,
        answers: serde_json::Value,
    },
    RunStep {
        idx: usize,
        step: Step,
    },
    UndoStep {
        idx: usize,
        step: Step,
    },
    /// Read the sessions again. `probe`: nodes the wizard may create CalicoNodeStatus objects for
    /// on a real cluster (its route reflectors, after a finished run); always empty in the dashboard.
    RefreshPeers {
        probe: Vec<String>,
    },
    /// The network checks from this host (`doctor`), against these facts. `switch`: the address
    /// typed on the Peering screen, if any (default: the BGPPeers').
    CheckNetwork {
        facts: Box<ClusterFacts>,
        switch: Option<String>,
    },
    /// Delete the CalicoNodeStatus objects a wizard killed on its Status screen left behind (only
    /// its own, by label). Sent by the wizard after detecting a real cluster.
    RemoveStaleProbes,
    WritePlan {
        dir: String,
        files: Vec<PlanFile>,
    },
    /// Send every change of these steps to the API server as a dry run (`dryRun=All`): PATCH
    /// requests that store nothing, but still writes to the API server's eyes.
    DryRun {
        steps: Vec<Step>,
    },
    /// Take over the run record in `dir` (an interrupted run): its steps, backups and progress.
    AdoptRun {
        dir: PathBuf,
    },
    /// The run ended (every step done, or every applied step undone): close its record.
    FinishRun,
    Quit,
}

impl Cmd {
    /// True for commands that change the cluster or its run records; the read-only dashboard
    /// never sends them and its worker refuses them.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Cmd::BeginRun { .. }
                | Cmd::RunStep { .. }
                | Cmd::UndoStep { .. }
                | Cmd::DryRun { .. }
                | Cmd::AdoptRun { .. }
                | Cmd::FinishRun
                | Cmd::RemoveStaleProbes
        ) || matches!(self, Cmd::RefreshPeers { probe } if !probe.is_empty())
    }
}

/// How often the peer table refreshes.
pub const REFRESH_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub mode: Mode,
    pub screen: Screen,
    pub now: Duration,
    pub objects: Option<ObjectSet>,
    pub facts: Option<ClusterFacts>,
    pub detect_error: Option<String>,
    pub preflight: Vec<Finding>,
    pub network: NetworkCheck,
    pub demo: bool,
    /// False for a dashboard of local BIRD sockets: no cluster is read.
    pub cluster: bool,
    pub reflectors: ReflectorsForm,
    pub peering: PeeringForm,
    pub pool: PoolForm,
    pub preview: PreviewState,
    pub apply: Option<ApplyState>,
    pub status: StatusState,
    pub confirm: Option<Confirm>,
    /// An interrupted run offered on the Detect screen (real clusters).
    pub run_offer: Option<RunOffer>,
    /// Where run records live (`<state>/runs`): an adopted run's folder is `<runs_root>/<id>`.
    pub runs_root: PathBuf,
    pub help: bool,
    pub detail_scroll: u16,
    pub quit: bool,
}

impl App {
    pub fn new(mode: Mode, demo: bool) -> App {
        let answers = Answers::default();
        App {
            mode,
            screen: if mode == Mode::Dashboard { Screen::Status } else { Screen::Detect },
            now: Duration::ZERO,
            objects: None,
            facts: None,
            detect_error: None,
            preflight: Vec::new(),
            network: NetworkCheck::NotRun,
            demo,
            cluster: true,
            reflectors: ReflectorsForm {
                cursor: 0,
                selected: BTreeSet::new(),
                cluster_id: TextInput::new(answers.cluster_id.clone()),
                focus: ReflectorsFocus::Table,
                suggested: Vec::new(),
                initialised: false,
            },
            peering: PeeringForm {
                focus: PeeringField::SwitchIp,
                switch_ip: TextInput::default(),
                switch_as: TextInput::default(),
                cluster_as: TextInput::default(),
                password: TextInput::masked(),
                keep_next_hop: answers.keep_original_next_hop,
                keep_touched: false,
            },
            pool: PoolForm { cursor: 0, cidr: TextInput::default() },
            preview: PreviewState {
                plan: None,
                blocked: Vec::new(),
                selected: 0,
                scroll: 0,
                tab: PreviewTab::Changes,
                vendor: answers.vendor,
                calicoctl: false,
                write_dir: None,
                written: None,
                dry_run: DryRunState::NotRun,
                apply_after_dry_run: false,
            },
            apply: None,
            status: StatusState {
                report: PeerReport::default(),
                last_refresh: None,
                refresh_error: None,
                refresh_in_flight: false,
                filter: TextInput::default(),
                filtering: false,
                scroll: 0,
            },
            confirm: None,
            run_offer: None,
            runs_root: crate::headless::runs_dir(),
            help: false,
            detail_scroll: 0,
            quit: false,
        }
    }

    /// Commands to run at start.
    pub fn init(&self) -> Vec<Cmd> {
        match self.mode {
            Mode::Wizard => vec![Cmd::Detect],
            Mode::Dashboard if !self.cluster => vec![self.refresh_peers()],
            Mode::Dashboard => vec![Cmd::Detect, self.refresh_peers()],
        }
    }

    /// A dashboard of local BIRD sockets only (`status --bird-socket`): there is no cluster to detect.
    pub fn without_cluster(mut self) -> App {
        self.cluster = false;
        self
    }

    /// The refresh command: in the wizard on a real cluster, after a finished run, the route
    /// reflectors it configured may be given CalicoNodeStatus objects; never in the dashboard.
    pub fn refresh_peers(&self) -> Cmd {
        let finished = self.apply.as_ref().is_some_and(|a| a.phase == ApplyPhase::Finished);
        let probe = if self.mode == Mode::Wizard && !self.demo && finished {
            self.reflectors.selected.iter().cloned().collect()
        } else {
            Vec::new()
        };
        Cmd::RefreshPeers { probe }
    }

    pub fn read_only(&self) -> bool {
        self.mode == Mode::Dashboard
    }

    /// True when a text field has the keyboard focus (printable keys are typed, not commands).
    pub fn editing(&self) -> bool {
        if self.confirm.is_some() || self.help {
            return false;
        }
        match self.screen {
            Screen::Reflectors => self.reflectors.focus == ReflectorsFocus::ClusterId,
            Screen::Peering => self.peering.focus != PeeringField::KeepNextHop,
            Screen::Pool => self.pool_typing(),
            Screen::Preview => self.preview.write_dir.is_some(),
            Screen::Status => self.status.filtering,
            _ => false,
        }
    }

    /// On the Pool screen, the cursor is on the "type a CIDR" row.
    pub fn pool_typing(&self) -> bool {
        self.pool.cursor >= self.facts.as_ref().map(|f| f.pools.len()).unwrap_or(0)
    }

    /// The answers as currently typed on the screens.
    pub fn answers(&self) -> Answers {
        use crate::domain::answers::{Password, PoolChoice};
        let pools = self.facts.as_ref().map(|f| f.pools.as_slice()).unwrap_or(&[]);
        let pool = match pools.get(self.pool.cursor) {
            Some(p) => PoolChoice::Existing(p.name.clone()),
            None => PoolChoice::Cidr(self.pool.cidr.value.clone()),
        };
        Answers {
            reflectors: self.selected_reflectors(),
            cluster_id: self.reflectors.cluster_id.value.clone(),
            switch_ip: self.peering.switch_ip.value.clone(),
            switch_as: self.peering.switch_as.value.clone(),
            cluster_as: self.peering.cluster_as.value.clone(),
            password: Password(self.peering.password.value.clone()),
            keep_original_next_hop: self.peering.keep_next_hop,
            pool,
            vendor: self.preview.vendor,
        }
    }

    /// Selected route reflectors in node order.
    pub fn selected_reflectors(&self) -> Vec<String> {
        match &self.facts {
            Some(f) => {
                f.nodes.iter().filter(|n| self.reflectors.selected.contains(&n.name)).map(|n| n.name.clone()).collect()
            }
            None => self.reflectors.selected.iter().cloned().collect(),
        }
    }

    /// Findings for the fields of the current screen (live validation).
    pub fn screen_findings(&self) -> Vec<Finding> {
        use crate::domain::validate;
        let Some(facts) = &self.facts else { return Vec::new() };
        let a = self.answers();
        match self.screen {
            Screen::Detect => self.preflight.clone(),
            Screen::Reflectors => validate::validate_reflectors(&a.reflectors, &a.cluster_id, facts),
            Screen::Peering => validate::validate_peering(&a, facts),
            Screen::Pool => validate::validate_pool(&a.pool, &a.switch_ip, facts),
            _ => Vec::new(),
        }
    }

    /// Peer rows matching the `/` filter.
    pub fn filtered_peers(&self) -> Vec<&PeerRow> {
        let f = self.status.filter.value.to_lowercase();
        self.status
            .report
            .rows
            .iter()
            .filter(|r| {
                f.is_empty()
                    || r.node.to_lowercase().contains(&f)
                    || r.peer_address.to_lowercase().contains(&f)
                    || r.peer_type.label().contains(&f)
                    || r.info_column().to_lowercase().contains(&f)
            })
            .collect()
    }

    /// Whether an action can do something right now (the footer shows only those).
    pub fn available(&self, action: keys::Action) -> bool {
        use keys::Action as A;
        let phase = self.apply.as_ref().map(|a| a.phase);
        match (self.screen, action) {
            (Screen::Detect, A::Back) => false,
            (Screen::Detect, A::Next) => self.facts.is_some(),
            (Screen::Preview, A::Next) => {
                self.preview.write_dir.is_some()
                    || (self.preview.plan.as_ref().is_some_and(|p| !p.is_empty()) && !self.dry_run_running())
            }
            (Screen::Preview, A::Back) => !self.dry_run_running(),
            (Screen::Preview, A::DryRun) => {
                self.preview.plan.as_ref().is_some_and(|p| !p.is_empty()) && !self.dry_run_running()
            }
            (Screen::Preview, A::Write | A::NextVendor | A::NextTab) => self.preview.plan.is_some(),
            (Screen::Apply, A::Next) => phase == Some(ApplyPhase::Finished),
            (Screen::Apply, A::Back) => phase == Some(ApplyPhase::RolledBack),
            (Screen::Apply, A::Pause | A::Abort) => matches!(phase, Some(ApplyPhase::Running | ApplyPhase::Paused)),
            (Screen::Apply, A::Undo) => self.can_undo(),
            _ => true,
        }
    }

    /// Undo is possible when nothing runs, the run is stopped, paused or finished, and some step
    /// left changes behind (done, or failed half-way).
    pub fn can_undo(&self) -> bool {
        !self.step_in_flight()
            && self
                .apply
                .as_ref()
                .is_some_and(|a| matches!(a.phase, ApplyPhase::Stopped | ApplyPhase::Finished | ApplyPhase::Paused))
            && !self.undoable().is_empty()
    }

    /// The peer table's data is stale: the last refresh failed, or none succeeded for five periods.
    pub fn status_stale(&self) -> bool {
        let s = &self.status;
        s.refresh_error.is_some() || s.last_refresh.is_some_and(|at| self.now.saturating_sub(at) > REFRESH_EVERY * 5)
    }

    /// The server-side dry run is in flight: Preview waits for it (no apply, no going back).
    pub fn dry_run_running(&self) -> bool {
        self.preview.dry_run == DryRunState::Running
    }

    /// The interrupted-run dialog is showing (it takes every key until answered).
    pub fn offer_open(&self) -> bool {
        self.screen == Screen::Detect && self.confirm.is_none() && self.run_offer.as_ref().is_some_and(|o| !o.dismissed)
    }

    /// Is any step running or verifying right now?
    pub fn step_in_flight(&self) -> bool {
        self.apply.as_ref().is_some_and(|a| {
            a.runs.iter().any(|r| matches!(r.state, StepState::Running | StepState::Verifying | StepState::Undoing))
        })
    }
}
