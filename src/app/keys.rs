//! The one key table: key handling, the footer hints and the `?` help are all generated from it,
//! so they cannot drift apart.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::Screen;

/// What a key does, independent of which key it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    Back,
    Next,
    Up,
    Down,
    PageUp,
    PageDown,
    Toggle,
    NextField,
    PrevField,
    Suggest,
    NextTab,
    CalicoctlView,
    NextVendor,
    PrevVendor,
    Write,
    DryRun,
    Pause,
    Abort,
    Undo,
    Filter,
    Refresh,
    CheckNetwork,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Up,
    Down,
    PageUp,
    PageDown,
}

impl Key {
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("ctrl-{c}"),
            Key::Enter => "enter".into(),
            Key::Esc => "esc".into(),
            Key::Tab => "tab".into(),
            Key::BackTab => "shift-tab".into(),
            Key::Up => "↑".into(),
            Key::Down => "↓".into(),
            Key::PageUp => "pgup".into(),
            Key::PageDown => "pgdn".into(),
        }
    }

    fn matches(self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        match (self, ev.code) {
            (Key::Ctrl(c), KeyCode::Char(k)) => ctrl && k.eq_ignore_ascii_case(&c),
            (Key::Char(c), KeyCode::Char(k)) => !ctrl && k == c,
            (Key::Enter, KeyCode::Enter) => true,
            (Key::Esc, KeyCode::Esc) => true,
            (Key::Tab, KeyCode::Tab) => !ev.modifiers.contains(KeyModifiers::SHIFT),
            (Key::BackTab, KeyCode::BackTab) => true,
            (Key::BackTab, KeyCode::Tab) => ev.modifiers.contains(KeyModifiers::SHIFT),
            (Key::Up, KeyCode::Up) => true,
            (Key::Down, KeyCode::Down) => true,
            (Key::PageUp, KeyCode::PageUp) => true,
            (Key::PageDown, KeyCode::PageDown) => true,
            _ => false,
        }
    }
}

/// Where a binding is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everywhere,
    Wizard,
    Only(&'static [Screen]),
}

pub struct Binding {
    pub keys: &'static [Key],
    pub action: Action,
    /// Short label for the footer; empty: not shown in the footer (still in `?` help).
    pub hint: &'static str,
    pub help: &'static str,
    pub scope: Scope,
    /// Still active while a text field has the focus (printable keys go to the field otherwise).
    pub while_editing: bool,
    /// Active in the read-only dashboard.
    pub read_only: bool,
}

const FORMS: &[Screen] = &[Screen::Reflectors, Screen::Peering, Screen::Pool];

pub const KEYS: &[Binding] = &[
    Binding {
        keys: &[Key::Enter],
        action: Action::Next,
        hint: "next",
        help: "Go to the next screen (errors must be fixed; warnings ask to confirm)",
        scope: Scope::Only(&[Screen::Detect, Screen::Reflectors, Screen::Peering, Screen::Pool, Screen::Preview]),
        while_editing: true,
        read_only: false,
    },
    Binding {
        keys: &[Key::Enter],
        action: Action::Next,
        hint: "peer table",
        help: "When every step is done, show the live peer table",
        scope: Scope::Only(&[Screen::Apply]),
        while_editing: false,
        read_only: false,
    },
    Binding {
        keys: &[Key::Esc],
        action: Action::Back,
        hint: "back",
        help: "Go back one screen (nothing is lost)",
        scope: Scope::Wizard,
        while_editing: true,
        read_only: false,
    },
    Binding {
        keys: &[Key::Up],
        action: Action::Up,
        hint: "",
        help: "Move up (on forms: previous field)",
        scope: Scope::Everywhere,
        while_editing: true,
        read_only: true,
    },
    Binding {
        keys: &[Key::Down],
        action: Action::Down,
        hint: "",
        help: "Move down (on forms: next field)",
        scope: Scope::Everywhere,
        while_editing: true,
        read_only: true,
    },
    Binding {
        keys: &[Key::Char('k')],
        action: Action::Up,
        hint: "",
        help: "Move up",
        scope: Scope::Everywhere,
        while_editing: false,
        read_only: true,
    },
    Binding {
        keys: &[Key::Char('j')],
        action: Action::Down,
        hint: "",
        help: "Move down",
        scope: Scope::Everywhere,
        while_editing: false,
        read_only: true,
    },
    Binding {
        keys: &[Key::PageUp],
        action: Action::PageUp,
        hint: "",
        help: "Scroll up a page",
        scope: Scope::Everywhere,
        while_editing: true,
        read_only: true,
    },
    Binding {
        keys: &[Key::PageDown],
        action: Action::PageDown,
        hint: "",
        help: "Scroll down a page",
        scope: Scope::Everywhere,
        while_editing: true,
        read_only: true,
    },
    Binding {
        keys: &[Key::Char(' ')],
        action: Action::Toggle,
        hint: "select",
        help: "Select or unselect the node as a route reflector",
        scope: Scope::Only(&[Screen::Reflectors]),
        while_editing: false,
        read_only: false,
    },
    Binding {
        keys: &[Key::Char(' ')],
        action: Action::Toggle,
        hint: "toggle",
        help: "Turn keepOriginalNextHop on or off (when that field has the focus)",
        scope: Scope::Only(&[Screen::Peering]),
        while_editing: false,
        read_only: false,
    },
    Binding {
        keys: &[Key::Char('s')],
        action: Action::Suggest,
        hint: "suggest",
        help: "Select the suggested route reflectors",
        scope: Scope::Only(&[Screen::Reflectors]),
        while_editing: false,
        read_only: false,
    },
    Binding {
        keys: &[Key::Tab],
        action: Action::NextField,
        hint: "field",
        help: "Next field",
        scope: Scope::Only(FORMS),
        while_editing: true,
        read_only: false,
    },
    Binding {
        keys: &[Key::BackTab],
        action: Action::PrevField,
        hint: "",
        help: "Previous field",
        scope: Scope::Only(FORMS),
        while_editing: true,
        read_only: false,
    },
    Binding {
        keys: &[Key::Tab],
        action: Action::NextTab,
        hint: "view",
        help: "Switch between changes, switch config and notes",
        scope: Scope::Only(&[Screen::Preview]),
        while_editing: false,
        read_only: false,
    },
    Binding {
        keys: &[Key::Char('v')],
        action: Action::NextVendor,
        hint: "vendor",
        help: "Next switch vendor",
        scope: Scope::Only(&[Screen::Preview]),
        while_editing: false,
        read_only: false,
    },
    Binding {
        keys: &[Key::Char('V')],
        action: Action::PrevVendor,
        hint: "",
        help: "Previous switch vendor",
        scope: Scope::Only(&[Screen::Preview]),
        while_editing: false,
        read_only: false,
    },
    Binding {
        keys: &[Key::Char('w')],
        action: Action::Write,
        hint: "write plan",
        help: "Write the whole plan (YAML, switch configs, runbook) to a directory",
        scope: Scope::Only(&[Screen::Preview]),
        while_editing: false,
        read_only: false,
    },
    Binding {
        keys: &[Key::Char('d')],
        action: Action::DryRun,
        hint: "check",
        help: "Check every change with the API server (stores nothing)",
        scope: Scope::Only(&[Screen::Preview]),
        while_editing: false,
        read_only: false,
    },
    Binding {
        keys: &[Key::Char('p')],
        action: Action::Pause,
        hint: "pause",
        help: "Pause after the running step / resume",
        scope: Scope::Only(&[Screen::Apply]),
        while_editing: false,
        read_only: false,
    },
    Binding {
        keys: &[Key::Char('a')],
        action: Action::Abort,
        hint: "abort",
        help: "Stop after the running step; completed steps stay until undone",
        scope: Scope::Only(&[Screen::Apply]),
        while_editing: false,
        read_only: false,
    },
    Binding {
        keys: &[Key::Char('u')],
        action: Action::Undo,
        hint: "undo",
        help: "Undo the completed steps, last first",
        scope: Scope::Only(&[Screen::Apply]),
        while_editing: false,
        read_only: false,
    },
    Binding {
        keys: &[Key::Char('/')],
        action: Action::Filter,
        hint: "filter",
        help: "Filter the peer table (node, address, type, state)",
        scope: Scope::Only(&[Screen::Status]),
        while_editing: false,
        read_only: true,
    },
    Binding {
        keys: &[Key::Char('r')],
        action: Action::Refresh,
        hint: "refresh",
        help: "Refresh the peer table now",
        scope: Scope::Only(&[Screen::Status]),
        while_editing: false,
        read_only: true,
    },
    Binding {
        keys: &[Key::Char('n')],
        action: Action::CheckNetwork,
        hint: "check network",
        help: "Check the network from this host (as `doctor` does): TCP 179 to every node and the switch, who holds port 179 here, and whether the switch sends the pod pool back",
        scope: Scope::Only(&[Screen::Detect]),
        while_editing: false,
        read_only: false,
    },
    Binding {
        keys: &[Key::Char('?')],
        action: Action::Help,
        hint: "help",
        help: "Show or hide this help",
        scope: Scope::Everywhere,
        while_editing: false,
        read_only: true,
    },
    Binding {
        keys: &[Key::Char('q'), Key::Ctrl('c')],
        action: Action::Quit,
        hint: "quit",
        help: "Quit (asks first while changes are being applied)",
        scope: Scope::Everywhere,
        while_editing: false,
        read_only: true,
    },
    Binding {
        keys: &[Key::Ctrl('c')],
        action: Action::Quit,
        hint: "",
        help: "Quit, also while typing",
        scope: Scope::Everywhere,
        while_editing: true,
        read_only: true,
    },
];

impl Binding {
    pub fn active(&self, screen: Screen, editing: bool, read_only: bool) -> bool {
        let in_scope = match self.scope {
            Scope::Everywhere => true,
            Scope::Wizard => !read_only,
            Scope::Only(s) => s.contains(&screen),
        };
        in_scope && (!editing || self.while_editing) && (!read_only || self.read_only)
    }

    pub fn keys_label(&self) -> String {
        self.keys.iter().map(|k| k.label()).collect::<Vec<_>>().join("/")
    }
}

/// The action bound to `ev` on this screen, if any.
pub fn lookup(screen: Screen, editing: bool, read_only: bool, ev: &KeyEvent) -> Option<Action> {
    KEYS.iter()
        .filter(|b| b.active(screen, editing, read_only))
        .find(|b| b.keys.iter().any(|k| k.matches(ev)))
        .map(|b| b.action)
}

/// The footer: `key label` pairs for the bindings with a hint on this screen, with the action so
/// the caller can leave out what is not possible right now. While typing, the quit key that still
/// works (ctrl-c) is shown.
pub fn footer(screen: Screen, editing: bool, read_only: bool) -> Vec<(String, &'static str, Action)> {
    KEYS.iter()
        .filter(|b| b.active(screen, editing, read_only))
        .filter(|b| !b.hint.is_empty() || (editing && b.action == Action::Quit))
        .map(|b| (b.keys[0].label(), if b.hint.is_empty() { "quit" } else { b.hint }, b.action))
        .collect()
}

/// The `?` help: every binding active on this screen (ignoring the text-field focus).
pub fn help(screen: Screen, read_only: bool) -> Vec<(String, &'static str)> {
    KEYS.iter()
        .filter(|b| b.active(screen, false, read_only) || (b.while_editing && b.active(screen, true, read_only)))
        .map(|b| (b.keys_label(), b.help))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_binds_no_write_action() {
        for screen in Screen::ALL {
            for b in KEYS.iter().filter(|b| b.active(screen, false, true) || b.active(screen, true, true)) {
                assert!(
                    !matches!(
                        b.action,
                        Action::Next
                            | Action::Write
                            | Action::DryRun
                            | Action::Undo
                            | Action::Toggle
                            | Action::Pause
                            | Action::Abort
                    ),
                    "{:?} is reachable in read-only mode",
                    b.action
                );
            }
        }
    }

    #[test]
    fn q_is_typed_while_editing_but_ctrl_c_quits() {
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        let cc = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(lookup(Screen::Peering, true, false, &q), None);
        assert_eq!(lookup(Screen::Peering, false, false, &q), Some(Action::Quit));
        assert_eq!(lookup(Screen::Peering, true, false, &cc), Some(Action::Quit));
    }
}
