//! `doctor`: the checks an operator cannot see from the cluster's objects. From this host, TCP to
//! the BGP port of every node and of the switch; who listens on the BGP port here; whether the
//! switch already sends the pod pool back. Together with the cluster's own findings (node
//! addresses, IP autodetection) they are the Detect screen's network findings too.
//!
//! The checks only read: a TCP connection attempt that is closed at once, `/proc`, and `show`
//! commands to a local BIRD socket.

pub mod findings;
pub mod listen;
pub mod probe;
pub mod routes;
pub mod text;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

use crate::domain::facts::{Backend as CalicoBackend, ClusterFacts};
use crate::domain::findings::Finding;
use crate::domain::validate;
use listen::{Listen, ListenState};
use probe::{PortState, Probe, Role, Target};

/// Calico's BGP port when BGPConfiguration sets no `listenPort`.
pub const BGP_PORT: u16 = 179;

/// What to check, besides the cluster's objects.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The switch (`--switch`); default: the BGPPeers' `peerIP`s that are not nodes.
    pub switch: Vec<SocketAddr>,
    /// BIRD sockets to read the switch's routes from, by node (`--bird-socket`); default: this
    /// host's, when it has one.
    pub bird_sockets: Vec<(String, Vec<PathBuf>)>,
    /// Try every node, not a sample.
    pub all: bool,
    /// The demo: simulate the network checks, send nothing.
    pub simulate: bool,
}

impl Options {
    /// The options for `backend` with these `--switch` addresses: the demo is simulated (nothing
    /// is sent), and knows its switch even before a BGPPeer names it.
    pub fn for_backend(backend: &crate::backend::Backend, switch: Vec<SocketAddr>) -> Options {
        let switch = match backend {
            crate::backend::Backend::Demo(d) if switch.is_empty() => vec![SocketAddr::new(d.switch_ip(), BGP_PORT)],
            _ => switch,
        };
        Options { switch, simulate: backend.is_demo(), ..Options::default() }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Ports {
    pub timeout_ms: u64,
    /// Hosts tried.
    pub probed: usize,
    /// Hosts there are (nodes with an address, and the switch).
    pub total: usize,
    pub sampled: bool,
    pub results: Vec<Probe>,
    /// Nodes with neither a Calico address nor an InternalIP (not tried).
    pub no_address: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SwitchRoutes {
    pub checked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switch: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<IpNet>,
    /// Every prefix received from the switch.
    pub received: Vec<IpNet>,
    /// Those that are the pool, part of it, or cover it.
    pub pool_routes: Vec<IpNet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

impl Ports {
    /// `2 open · 1 refused · 1 filtered`, in that order of states.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = ["open", "refused", "filtered", "unreachable", "error"]
            .iter()
            .map(|w| (w, self.results.iter().filter(|p| p.state.word() == *w).count()))
            .filter(|(_, n)| *n > 0)
            .map(|(w, n)| format!("{n} {w}"))
            .collect();
        if parts.is_empty() { "no host to try".into() } else { parts.join(" · ") }
    }
    /// A host that can never peer from here: filtered or unreachable.
    pub fn blocked(&self) -> bool {
        self.results.iter().any(|p| matches!(p.state, PortState::Filtered | PortState::Unreachable))
    }
}

impl SwitchRoutes {
    fn unchecked(why: impl Into<String>) -> Self {
        SwitchRoutes {
            checked: false,
            node: None,
            switch: None,
            pool: None,
            received: Vec::new(),
            pool_routes: Vec::new(),
            why: Some(why.into()),
        }
    }
}

/// Everything `doctor` found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// This host: its node name, or its hostname.
    pub from: String,
    /// True on the demo: nothing was sent, the results are made up from the demo's state.
    pub simulated: bool,
    pub ports: Ports,
    pub listen: Listen,
    pub switch_routes: SwitchRoutes,
    /// The network findings, then the cluster's own (`validate::preflight`).
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        crate::domain::findings::has_errors(&self.findings)
    }
}

/// The switch addresses the cluster already names: BGPPeers with a `peerIP` that is not a node's.
pub fn switches_from_peers(facts: &ClusterFacts) -> Vec<SocketAddr> {
    let node_ips: Vec<IpAddr> =
        facts.nodes.iter().flat_map(|n| n.bgp_ip().map(IpAddr::V4).into_iter().chain(n.internal_ip)).collect();
    let mut out: Vec<SocketAddr> = Vec::new();
    for p in &facts.peers {
        let Some(text) = p.peer_ip.as_deref() else { continue };
        let Some(addr) = parse_peer(text) else { continue };
        if !node_ips.contains(&addr.ip()) && !out.contains(&addr) {
            out.push(addr);
        }
    }
    out
}

/// `IP`, `IP:PORT`, `[IPv6]:PORT` (Calico's `peerIP` forms) → an address, port 179 by default.
pub fn parse_peer(text: &str) -> Option<SocketAddr> {
    let text = text.trim();
    text.parse::<SocketAddr>().ok().or_else(|| text.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, BGP_PORT)))
}

/// The hosts to try: nodes (by name) then the switch(es); a sample of the nodes on big clusters.
/// Returns (targets, total, sampled, nodes without an address).
pub fn targets(facts: &ClusterFacts, switches: &[SocketAddr], all: bool) -> (Vec<Target>, usize, bool, Vec<String>) {
    let port = facts.bgp_config.as_ref().and_then(|c| c.listen_port).unwrap_or(BGP_PORT);
    let mut nodes: Vec<&crate::domain::facts::NodeFacts> = facts.nodes.iter().collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    let mut no_address = Vec::new();
    let mut node_targets = Vec::new();
    let mut must = Vec::new();
    let suggested = validate::suggest_reflectors(facts);
    for n in nodes {
        let Some(address) = n.bgp_ip().map(IpAddr::V4).or(n.internal_ip) else {
            no_address.push(n.name.clone());
            continue;
        };
        let candidate =
            n.rr_cluster_id.is_some() || n.has_rr_label() || n.is_control_plane() || suggested.contains(&n.name);
        if candidate {
            must.push(node_targets.len());
        }
        node_targets.push(Target { name: n.name.clone(), role: Role::Node, address, port });
    }
    let total_nodes = node_targets.len();
    let keep = probe::sample(total_nodes, &must, probe::SAMPLE_LIMIT, all);
    let sampled = keep.len() < total_nodes;
    let mut out: Vec<Target> = keep.into_iter().map(|i| node_targets[i].clone()).collect();
    for (i, s) in switches.iter().enumerate() {
        let name = if switches.len() == 1 { "switch".to_string() } else { format!("switch-{}", i + 1) };
        out.push(Target { name, role: Role::Switch, address: s.ip(), port: s.port() });
    }
    (out, total_nodes + switches.len(), sampled, no_address)
}

/// The pool whose routes matter: the first enabled IPv4 pool (the wizard's target pool).
fn pool_of(facts: &ClusterFacts) -> Option<IpNet> {
    facts.pools.iter().find(|p| !p.disabled && p.cidr.addr().is_ipv4()).map(|p| p.cidr)
}

/// Run every check against `facts` (as read from the cluster).
pub async fn check(facts: &ClusterFacts, opts: &Options) -> Report {
    // The demo pretends to run on its first control-plane node.
    let from = match facts.nodes.iter().find(|n| n.is_control_plane()) {
        Some(n) if opts.simulate => n.name.clone(),
        _ => crate::status::local::this_node(),
    };
    let switches = if opts.switch.is_empty() { switches_from_peers(facts) } else { opts.switch.clone() };
    let (targets, total, sampled, no_address) = targets(facts, &switches, opts.all);
    let port = facts.bgp_config.as_ref().and_then(|c| c.listen_port).unwrap_or(BGP_PORT);
    let bird = facts.backend == CalicoBackend::Bird;
    let (mut results, listen, switch_routes) = if opts.simulate {
        simulate(facts, targets, port, &switches, &from)
    } else {
        let probes = probe::probe_all(targets, probe::TIMEOUT);
        let listen = tokio::task::spawn_blocking(move || listen::check(port));
        let routes = read_switch_routes(facts, opts, &switches, &from);
        let (probes, listen, routes) = futures::join!(probes, listen, routes);
        let listen =
            listen.unwrap_or(Listen { port, state: ListenState::Unknown, program: None, pid: None, address: None });
        (probes, listen, routes)
    };
    for p in &mut results {
        p.explanation = explain(&p.state, p.target.role, bird);
    }
    let ports = Ports {
        timeout_ms: probe::TIMEOUT.as_millis() as u64,
        probed: results.len(),
        total,
        sampled,
        results,
        no_address,
    };
    let mut report = Report { from, simulated: opts.simulate, ports, listen, switch_routes, findings: Vec::new() };
    report.findings = findings::network(&report, bird);
    report.findings.extend(validate::preflight(facts));
    report
}

async fn read_switch_routes(facts: &ClusterFacts, opts: &Options, switches: &[SocketAddr], from: &str) -> SwitchRoutes {
    let Some(switch) = switches.first().map(SocketAddr::ip) else {
        return SwitchRoutes::unchecked("no switch is known: give it with --switch IP (or create its BGPPeer first)");
    };
    let Some(pool) = pool_of(facts) else {
        return SwitchRoutes::unchecked("the cluster has no enabled IPv4 pool");
    };
    let sockets = if opts.bird_sockets.is_empty() {
        let found = crate::status::bird::client::default_sockets();
        if found.is_empty() {
            return SwitchRoutes::unchecked(
                "this host has no BIRD socket (/var/run/calico/bird.ctl): run doctor as root on a route reflector, \
                 or give one with --bird-socket NODE=PATH",
            );
        }
        vec![(from.to_string(), found)]
    } else {
        opts.bird_sockets.clone()
    };
    let (node, paths) = &sockets[0];
    let Some(socket) = paths.iter().find(|p| !p.to_string_lossy().contains("bird6")).or(paths.first()) else {
        return SwitchRoutes::unchecked("no BIRD socket given");
    };
    match crate::status::bird::client::routes_from(socket, switch, crate::status::local::BIRD_TIMEOUT).await {
        Ok((protocols, _)) if protocols.is_empty() => {
            SwitchRoutes::unchecked(format!("{node}'s BIRD has no BGP session with the switch {switch}"))
        }
        Ok((_, prefixes)) => SwitchRoutes {
            checked: true,
            node: Some(node.clone()),
            switch: Some(switch),
            pool: Some(pool),
            pool_routes: routes::pool_routes(&prefixes, &pool),
            received: prefixes,
            why: None,
        },
        Err(e) => SwitchRoutes::unchecked(format!("{node}'s BIRD could not be read: {e}")),
    }
}

/// The demo's network, made up from its state: nodes answer on the BGP port when the backend is
/// bird, the switch always does; BIRD holds the port here; the switch sends no pool route.
fn simulate(
    facts: &ClusterFacts,
    targets: Vec<Target>,
    port: u16,
    switches: &[SocketAddr],
    from: &str,
) -> (Vec<Probe>, Listen, SwitchRoutes) {
    let bird = facts.backend == CalicoBackend::Bird;
    let probes = targets
        .into_iter()
        .map(|t| {
            let state = if t.role == Role::Switch || bird { PortState::Open } else { PortState::Refused };
            Probe { target: t, state, millis: 0.4, explanation: String::new() }
        })
        .collect();
    let listen = if bird {
        Listen {
            port,
            state: ListenState::Bird,
            program: Some("bird".into()),
            pid: Some(4242),
            address: Some("0.0.0.0".into()),
        }
    } else {
        Listen { port, state: ListenState::Free, program: None, pid: None, address: None }
    };
    let peered = !switches_from_peers(facts).is_empty();
    let routes = match (switches.first(), pool_of(facts)) {
        (Some(s), Some(pool)) if bird && peered => SwitchRoutes {
            checked: true,
            node: Some(from.to_string()),
            switch: Some(s.ip()),
            pool: Some(pool),
            received: Vec::new(),
            pool_routes: Vec::new(),
            why: None,
        },
        _ => SwitchRoutes::unchecked(format!("{from}'s BIRD has no BGP session with the switch yet")),
    };
    (probes, listen, routes)
}

/// One line per state, for the probes' explanation column.
pub fn explain(state: &PortState, role: Role, bird: bool) -> String {
    match (state, role) {
        (PortState::Open, _) => "a BGP speaker listens".into(),
        (PortState::Refused, Role::Node) if bird => {
            "reachable, but nothing listens: calico-node's BIRD should, check calico-node there".into()
        }
        (PortState::Refused, Role::Node) => {
            "reachable, nothing listens: expected until calico-node's backend is bird".into()
        }
        (PortState::Refused, Role::Switch) => {
            "reachable, but the switch does not accept BGP here yet: configure its side (the Preview screen shows it)"
                .into()
        }
        (PortState::Filtered, _) => "no answer within the timeout: a firewall drops BGP".into(),
        (PortState::Unreachable, _) => "no route, or a firewall rejects the connection".into(),
        (PortState::Error(e), _) => e.clone(),
    }
}

/// `--switch` values: `IP` or `IP:PORT`.
pub fn parse_switch_args(values: &[String]) -> Result<Vec<SocketAddr>, String> {
    values
        .iter()
        .map(|v| {
            parse_peer(v).ok_or_else(|| {
                format!("'{v}' is not an IP address; expected the switch's address, e.g. --switch 172.31.13.116 (or 172.31.13.116:179)")
            })
        })
        .collect()
}

/// How long a full run can take at most (for progress messages).
pub fn worst_case(targets: usize) -> Duration {
    probe::TIMEOUT * targets.div_ceil(probe::CONCURRENCY).max(1) as u32 + crate::status::local::BIRD_TIMEOUT * 2
}

#[cfg(test)]
mod tests;
