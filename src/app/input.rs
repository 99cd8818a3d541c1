//! A one-line text field: the value, a cursor, and whether to mask it (passwords).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextInput {
    pub value: String,
    /// Cursor position in characters.
    pub cursor: usize,
    /// Show `•` for every character (the value never reaches the screen).
    pub masked: bool,
}

impl TextInput {
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        let cursor = value.chars().count();
        TextInput { value, cursor, masked: false }
    }

    pub fn masked() -> Self {
        TextInput { masked: true, ..TextInput::default() }
    }

    pub fn set(&mut self, value: impl Into<String>) {
        self.value = value.into();
        self.cursor = self.value.chars().count();
    }

    /// What the screen shows.
    pub fn display(&self) -> String {
        if self.masked { "•".repeat(self.value.chars().count()) } else { self.value.clone() }
    }

    fn byte_at(&self, char_idx: usize) -> usize {
        self.value.char_indices().nth(char_idx).map(|(i, _)| i).unwrap_or(self.value.len())
    }

    /// Edit with a key; returns true when the key was an editing key (consumed).
    pub fn handle(&mut self, key: &KeyEvent) -> bool {
        let len = self.value.chars().count();
        match key.code {
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                let at = self.byte_at(self.cursor);
                self.value.insert(at, c);
                self.cursor += 1;
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.value.clear();
                self.cursor = 0;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let at = self.byte_at(self.cursor - 1);
                self.value.remove(at);
                self.cursor -= 1;
            }
            KeyCode::Backspace => {}
            KeyCode::Delete if self.cursor < len => {
                let at = self.byte_at(self.cursor);
                self.value.remove(at);
            }
            KeyCode::Delete => {}
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(len),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = len,
            _ => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn edits_at_cursor() {
        let mut t = TextInput::new("17227");
        t.handle(&k(KeyCode::Left));
        t.handle(&k(KeyCode::Left));
        t.handle(&k(KeyCode::Char('.')));
        assert_eq!(t.value, "172.27");
        t.handle(&k(KeyCode::Backspace));
        assert_eq!(t.value, "17227");
        t.handle(&k(KeyCode::Home));
        t.handle(&k(KeyCode::Delete));
        assert_eq!(t.value, "7227");
        assert!(!t.handle(&k(KeyCode::Enter)));
    }

    #[test]
    fn masks_password() {
        let mut t = TextInput::masked();
        t.handle(&k(KeyCode::Char('s')));
        t.handle(&k(KeyCode::Char('3')));
        assert_eq!(t.display(), "••");
        assert_eq!(t.value, "s3");
    }
}
