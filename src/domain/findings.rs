//! A finding is one thing a rule noticed about the operator's input or the cluster: it quotes the
//! value, names the rule, and proposes a fix. Errors block the wizard's Next; warnings need a confirm.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks progress until fixed.
    Error,
    /// Allowed, but the operator must confirm it.
    Warning,
    /// Worth knowing; needs nothing.
    Info,
}

/// Which input a finding is about, so a screen can show it next to that field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    Cluster,
    Reflectors,
    ClusterId,
    SwitchIp,
    SwitchAs,
    ClusterAs,
    Password,
    KeepNextHop,
    Pool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub field: Field,
    /// Short stable name of the rule, e.g. `pool-host-bits` (used in tests and `-o json`).
    pub rule: &'static str,
    /// Quotes the value and says what is wrong, e.g. `'172.27.0.208/22' has host bits set`.
    pub message: String,
    /// What to do instead, e.g. `did you mean 172.27.0.0/22?`.
    pub fix: Option<String>,
}

impl Finding {
    pub fn error(field: Field, rule: &'static str, message: impl Into<String>) -> Self {
        Finding { severity: Severity::Error, field, rule, message: message.into(), fix: None }
    }
    pub fn warning(field: Field, rule: &'static str, message: impl Into<String>) -> Self {
        Finding { severity: Severity::Warning, field, rule, message: message.into(), fix: None }
    }
    pub fn info(field: Field, rule: &'static str, message: impl Into<String>) -> Self {
        Finding { severity: Severity::Info, field, rule, message: message.into(), fix: None }
    }
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        write!(f, "{sev}: {}", self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, "; {fix}")?;
        }
        write!(f, " [{}]", self.rule)
    }
}

/// True when any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(Finding::is_error)
}
