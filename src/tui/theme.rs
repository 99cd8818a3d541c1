//! Colours, and their absence: with `NO_COLOR` set every style keeps only bold/reverse/underline,
//! so selection and severity stay visible on a monochrome terminal.

use ratatui::style::{Color, Modifier, Style};

use crate::domain::findings::Severity;
use crate::status::model::BgpState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty (https://no-color.org).
    pub fn from_env() -> Theme {
        Theme { color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color { Style::default().fg(c) } else { Style::default() }
    }

    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn dim(&self) -> Style {
        if self.color { Style::default().fg(Color::DarkGray) } else { Style::default() }
    }
    pub fn key(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
    pub fn focus(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::UNDERLINED)
    }
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn added(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn removed(&self) -> Style {
        self.fg(Color::Red)
    }
    pub fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Error => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Severity::Warning => self.fg(Color::Yellow),
            Severity::Info => self.fg(Color::Blue),
        }
    }
    pub fn bgp_state(&self, s: BgpState) -> Style {
        match s {
            BgpState::Established => self.fg(Color::Green),
            BgpState::Idle | BgpState::Down | BgpState::Close | BgpState::Passive => {
                self.fg(Color::Red).add_modifier(Modifier::BOLD)
            }
            _ => self.fg(Color::Yellow),
        }
    }
}
