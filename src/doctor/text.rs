//! `doctor`'s text output: a table of the connection attempts, this host's BGP port, the switch's
//! routes, then every finding, errors first.

use std::fmt::Write;

use super::Report;
use super::listen::ListenState;
use crate::domain::findings::Severity;

pub fn format(r: &Report, context: &str, nodes: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "calico-bgp-wizard doctor: context {context}, {nodes} nodes, checked from '{}'", r.from);
    if r.simulated {
        let _ = writeln!(s, "demo cluster: nothing was sent; the network results below are simulated");
    }
    let _ = writeln!(
        s,
        "\nBGP port from this host ({} of {} hosts{}, {} s timeout):",
        r.ports.probed,
        r.ports.total,
        if r.ports.sampled { ", sampled" } else { "" },
        r.ports.timeout_ms as f64 / 1000.0
    );
    let name_w = r.ports.results.iter().map(|p| p.target.name.len()).max().unwrap_or(4).max(4);
    let addr_w = r.ports.results.iter().map(|p| p.target.address.to_string().len() + 6).max().unwrap_or(8);
    for p in &r.ports.results {
        let addr = format!("{}:{}", p.target.address, p.target.port);
        let _ = writeln!(
            s,
            "  {:<name_w$}  {:<6}  {:<addr_w$}  {:<11}  {:>7.1} ms  {}",
            p.target.name,
            match p.target.role {
                super::probe::Role::Node => "node",
                super::probe::Role::Switch => "switch",
            },
            addr,
            p.state.word(),
            p.millis,
            p.explanation
        );
    }
    if r.ports.results.is_empty() {
        let _ = writeln!(s, "  (no host to try)");
    }
    let l = &r.listen;
    let who = match l.state {
        ListenState::Bird | ListenState::Other => format!(
            "'{}'{} on {}",
            l.program.as_deref().unwrap_or("?"),
            l.pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
            l.address.as_deref().unwrap_or("?")
        ),
        ListenState::Free => "nothing".into(),
        ListenState::Unknown => "a program that could not be seen (not root)".into(),
    };
    let _ = writeln!(s, "\nTCP {} on this host: held by {who}", l.port);
    let sr = &r.switch_routes;
    if sr.checked {
        let _ = writeln!(
            s,
            "Switch routes ({}'s BIRD, from {}): {} received, {} for pool {}",
            sr.node.as_deref().unwrap_or("?"),
            sr.switch.map(|x| x.to_string()).unwrap_or_default(),
            sr.received.len(),
            sr.pool_routes.len(),
            sr.pool.map(|x| x.to_string()).unwrap_or_default()
        );
    } else {
        let _ = writeln!(s, "Switch routes: not checked ({})", sr.why.as_deref().unwrap_or("no source"));
    }
    let mut findings: Vec<_> = r.findings.iter().collect();
    findings.sort_by_key(|f| f.severity);
    let _ = writeln!(s, "\nFindings:");
    for f in &findings {
        let _ = writeln!(s, "  {f}");
    }
    let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
    let warnings = findings.iter().filter(|f| f.severity == Severity::Warning).count();
    let _ = writeln!(
        s,
        "\n{errors} error(s), {warnings} warning(s){}",
        if errors > 0 { ": fix the errors before switching the cluster to BGP" } else { "" }
    );
    s
}
