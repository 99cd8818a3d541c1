//! A small evaluator of Calico label selectors (`nodeSelector`, `peerSelector`): a tokenizer, a
//! recursive-descent parser into [`Selector`], and matching against a node's labels.

use std::collections::{BTreeMap, BTreeSet};

/// A parsed Calico label selector, for the subset the wizard and common configs use: `all()`,
/// `k == 'v'`, `k != 'v'`, `k in {'a', 'b'}`, `k not in {…}`, `has(k)`, `!expr`, `&&`, `||` and
/// parentheses (`&&` binds tighter than `||`). Values may be single- or double-quoted.
///
/// As in Calico, `k != 'v'` and `k not in {…}` also match nodes without the label `k`, and an
/// empty selector matches everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    All,
    Eq(String, String),
    Ne(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Has(String),
    Not(Box<Selector>),
    And(Box<Selector>, Box<Selector>),
    Or(Box<Selector>, Box<Selector>),
}

/// Why a selector was not understood: position (in characters) and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at character {position}")]
pub struct SelectorError {
    pub position: usize,
    pub message: String,
}

impl Selector {
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let tokens = tokenize(text)?;
        if tokens.is_empty() {
            return Ok(Selector::All);
        }
        let mut p = Parser { tokens, pos: 0, end: text.chars().count() };
        let sel = p.or()?;
        match p.peek() {
            None => Ok(sel),
            Some(_) => Err(p.error("expected && or || or the end of the selector")),
        }
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Selector::All => true,
            Selector::Eq(k, v) => labels.get(k) == Some(v),
            Selector::Ne(k, v) => labels.get(k) != Some(v),
            Selector::In(k, set) => labels.get(k).is_some_and(|v| set.contains(v)),
            Selector::NotIn(k, set) => !labels.get(k).is_some_and(|v| set.contains(v)),
            Selector::Has(k) => labels.contains_key(k),
            Selector::Not(s) => !s.matches(labels),
            Selector::And(a, b) => a.matches(labels) && b.matches(labels),
            Selector::Or(a, b) => a.matches(labels) || b.matches(labels),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Str(String),
    EqEq,
    NotEq,
    Bang,
    AndAnd,
    OrOr,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')
}

/// Tokens with their character positions.
fn tokenize(text: &str) -> Result<Vec<(usize, Tok)>, SelectorError> {
    let chars: Vec<char> = text.chars().collect();
    let err = |position: usize, message: &str| SelectorError { position, message: message.to_string() };
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let two = |d: char| chars.get(i + 1) == Some(&d);
        let (tok, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '=' if two('=') => (Tok::EqEq, 2),
            '!' if two('=') => (Tok::NotEq, 2),
            '!' => (Tok::Bang, 1),
            '&' if two('&') => (Tok::AndAnd, 2),
            '|' if two('|') => (Tok::OrOr, 2),
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '{' => (Tok::LBrace, 1),
            '}' => (Tok::RBrace, 1),
            ',' => (Tok::Comma, 1),
            '\'' | '"' => {
                let close =
                    chars[i + 1..].iter().position(|&d| d == c).ok_or_else(|| err(i, "unterminated quoted value"))?;
                let s: String = chars[i + 1..i + 1 + close].iter().collect();
                (Tok::Str(s), close + 2)
            }
            c if is_ident_char(c) => {
                let len = chars[i..].iter().take_while(|&&d| is_ident_char(d)).count();
                (Tok::Ident(chars[i..i + len].iter().collect()), len)
            }
            _ => return Err(err(i, &format!("unexpected '{c}'"))),
        };
        out.push((i, tok));
        i += len;
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(usize, Tok)>,
    pos: usize,
    /// Character count, for errors at the end.
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }
    fn peek2(&self) -> Option<&Tok> {
        self.tokens.get(self.pos + 1).map(|(_, t)| t)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).map(|(_, t)| t.clone());
        self.pos += 1;
        t
    }
    fn error(&self, message: &str) -> SelectorError {
        let position = self.tokens.get(self.pos).map_or(self.end, |(p, _)| *p);
        SelectorError { position, message: message.to_string() }
    }
    fn expect(&mut self, want: &Tok, what: &str) -> Result<(), SelectorError> {
        if self.peek() == Some(want) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected {what}")))
        }
    }

    fn or(&mut self) -> Result<Selector, SelectorError> {
        self.left_assoc(&Tok::OrOr, Self::and, Selector::Or)
    }

    fn and(&mut self) -> Result<Selector, SelectorError> {
        self.left_assoc(&Tok::AndAnd, Self::unary, Selector::And)
    }

    /// `operand (op operand)*`, folded from the left with `join`.
    fn left_assoc(
        &mut self,
        op: &Tok,
        operand: fn(&mut Self) -> Result<Selector, SelectorError>,
        join: fn(Box<Selector>, Box<Selector>) -> Selector,
    ) -> Result<Selector, SelectorError> {
        let mut left = operand(self)?;
        while self.peek() == Some(op) {
            self.pos += 1;
            let right = operand(self)?;
            left = join(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Selector, SelectorError> {
        if self.peek() == Some(&Tok::Bang) {
            self.pos += 1;
            return Ok(Selector::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Selector, SelectorError> {
        match self.peek().cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                let inner = self.or()?;
                self.expect(&Tok::RParen, "')'")?;
                Ok(inner)
            }
            Some(Tok::Ident(word)) if self.peek2() == Some(&Tok::LParen) => match word.as_str() {
                "all" => {
                    self.pos += 2;
                    self.expect(&Tok::RParen, "')' after all(")?;
                    Ok(Selector::All)
                }
                "has" => {
                    self.pos += 2;
                    let key = self.key()?;
                    self.expect(&Tok::RParen, "')' after the label name")?;
                    Ok(Selector::Has(key))
                }
                other => Err(self.error(&format!("'{other}()' is not supported (only all() and has())"))),
            },
            Some(Tok::Ident(_)) => {
                let key = self.key()?;
                match self.next() {
                    Some(Tok::EqEq) => Ok(Selector::Eq(key, self.value()?)),
                    Some(Tok::NotEq) => Ok(Selector::Ne(key, self.value()?)),
                    Some(Tok::Ident(w)) if w == "in" => Ok(Selector::In(key, self.set()?)),
                    Some(Tok::Ident(w)) if w == "not" => {
                        match self.next() {
                            Some(Tok::Ident(w)) if w == "in" => {}
                            _ => {
                                self.pos -= 1;
                                return Err(self.error("expected 'in' after 'not'"));
                            }
                        }
                        Ok(Selector::NotIn(key, self.set()?))
                    }
                    _ => {
                        self.pos -= 1;
                        Err(self.error(&format!("expected ==, !=, in or not in after '{key}'")))
                    }
                }
            }
            _ => Err(self.error("expected a label expression such as all(), has(key) or key == 'value'")),
        }
    }

    fn key(&mut self) -> Result<String, SelectorError> {
        match self.peek().cloned() {
            Some(Tok::Ident(k)) => {
                self.pos += 1;
                Ok(k)
            }
            _ => Err(self.error("expected a label name")),
        }
    }

    fn value(&mut self) -> Result<String, SelectorError> {
        match self.peek().cloned() {
            Some(Tok::Str(v)) => {
                self.pos += 1;
                Ok(v)
            }
            _ => Err(self.error("expected a quoted value such as 'true'")),
        }
    }

    fn set(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        self.expect(&Tok::LBrace, "'{'")?;
        let mut out = BTreeSet::new();
        if self.peek() == Some(&Tok::RBrace) {
            self.pos += 1;
            return Ok(out);
        }
        loop {
            out.insert(self.value()?);
            match self.next() {
                Some(Tok::Comma) => {}
                Some(Tok::RBrace) => return Ok(out),
                _ => {
                    self.pos -= 1;
                    return Err(self.error("expected ',' or '}'"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn selector_evaluation() {
        let rr = labels(&[("route-reflector", "true"), ("topology.kubernetes.io/zone", "zone-a")]);
        let plain = labels(&[("topology.kubernetes.io/zone", "zone-b")]);
        let cases: [(&str, bool, bool); 14] = [
            ("all()", true, true),
            ("", true, true),
            ("route-reflector == 'true'", true, false),
            ("route-reflector == \"true\"", true, false),
            ("route-reflector != 'true'", false, true),
            ("has(route-reflector)", true, false),
            ("!has(route-reflector)", false, true),
            ("has(route-reflector) && topology.kubernetes.io/zone == 'zone-b'", false, false),
            ("has(route-reflector) || topology.kubernetes.io/zone == 'zone-b'", true, true),
            ("!(route-reflector == 'true' || topology.kubernetes.io/zone == 'zone-a')", false, true),
            ("topology.kubernetes.io/zone in {'zone-a', 'zone-c'}", true, false),
            ("topology.kubernetes.io/zone not in {'zone-a'}", false, true),
            ("missing not in {'x'}", true, true),
            ("has(a) && has(b) || all()", true, true),
        ];
        for (text, want_rr, want_plain) in cases {
            let sel = Selector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!((sel.matches(&rr), sel.matches(&plain)), (want_rr, want_plain), "{text}");
        }
    }

    #[test]
    fn selector_precedence_and_errors() {
        let a_or_b_and_c = Selector::parse("has(a) || has(b) && has(c)").unwrap();
        assert!(matches!(a_or_b_and_c, Selector::Or(_, _)));
        for bad in [
            "route-reflector = 'true'",
            "route-reflector == true",
            "has(route-reflector",
            "global()",
            "a == 'x' b == 'y'",
            "a == 'unterminated",
            "(all()",
            "a not 'x'",
            "k contains 'x'",
            "&& all()",
        ] {
            assert!(Selector::parse(bad).is_err(), "{bad} should not parse");
        }
        let e = Selector::parse("a == 'x' ||").unwrap_err();
        assert_eq!(e.position, 11);
    }
}
