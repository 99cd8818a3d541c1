//! The demo's BGP sessions: which exist (by [`topology`], recomputed whenever the objects change)
//! and, from when each (re)appeared, which state it is in at a given time.
//!
//! Time is a [`Duration`] since the demo started, owned by the caller, so every state is a pure
//! function of the stored times and `now`. A session starts Idle, goes Connect after ~0.4 s,
//! OpenSent after ~1.0 s and Established after ~1.6 s, each shifted by a small per-session jitter
//! (a hash of its names, so rows do not all flip at once). When the far end would not accept the
//! session, it ends in Active with BIRD's error text instead (calico-bgp.md §1.3).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Duration;

use crate::domain::asn::Asn;
use crate::domain::facts::{ClusterFacts, detect};
use crate::domain::objects::{Kind, ObjectRef, ObjectSet};
use crate::domain::topology::{SessionDetail, topology};
use crate::status::model::{BgpState, PeerRow, PeerType};

/// Each calico-node pod of a rollout restarts this long after the previous one.
pub(super) const POD_RESTART: Duration = Duration::from_millis(400);
const CONNECT_AFTER: Duration = Duration::from_millis(400);
const OPEN_SENT_AFTER: Duration = Duration::from_millis(1000);
const ESTABLISHED_AFTER: Duration = Duration::from_millis(1600);
const JITTER_MS: u64 = 300;
/// The demo's wall clock at `now == 0`, in seconds after midnight (09:00:00).
pub(super) const WALL_CLOCK_START: u64 = 9 * 3600;

/// How the far end answers a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Accept,
    /// No BGP speaker answers: Idle → Connect → Active with this text.
    Refuse(&'static str),
    /// The OPEN exchange fails: Idle → Connect → OpenSent → Active with this text.
    Reject(&'static str),
}

#[derive(Debug, Clone)]
struct Entry {
    peer_node: Option<String>,
    remote_as: Asn,
    outcome: Outcome,
    /// When the session (re)appeared in the node's BIRD configuration.
    appeared: Duration,
    jitter: Duration,
}

/// A BIRD protocol: node, neighbor address and kind (`Mesh_…`, `Node_…`, `Global_…`).
type Key = (String, IpAddr, PeerType);

/// The simulated sessions of every node.
#[derive(Debug, Clone, Default)]
pub(super) struct Sim {
    entries: BTreeMap<Key, Entry>,
    /// Node name → position in the calico-node rollout (pods restart in node-name order).
    rollout_order: HashMap<String, usize>,
    /// The calico-node DaemonSet whose restarts reset sessions.
    pub(super) calico_node: Option<ObjectRef>,
}

/// The switch as the demo simulates it: the far end of the route reflectors' eBGP sessions.
#[derive(Debug, Clone, Copy)]
pub(super) struct Switch {
    pub ip: IpAddr,
    pub asn: Asn,
}

impl Sim {
    /// Recompute the sessions after the objects changed at `now`: vanished ones are dropped, new
    /// ones (or ones whose parameters or far end changed) start over from Idle at `now`.
    pub(super) fn sync(&mut self, objects: &ObjectSet, switch: Switch, now: Duration) {
        let facts = detect(objects);
        let top = topology(&facts);
        let outcomes: Vec<Outcome> = {
            let o = Outcomes::new(&facts, &top.sessions, switch);
            top.sessions.iter().map(|d| o.of(d)).collect()
        };
        // Sessions come in key order, so the map is bulk-built.
        let entries: Vec<(Key, Entry)> = top
            .sessions
            .into_iter()
            .zip(outcomes)
            .map(|(d, outcome)| {
                let s = d.session;
                let key = (s.node, s.peer_ip, s.peer_type);
                let appeared = match self.entries.get(&key) {
                    Some(old)
                        if old.remote_as == d.remote_as && old.peer_node == s.peer_node && old.outcome == outcome =>
                    {
                        old.appeared
                    }
                    _ => now,
                };
                let ip = match s.peer_ip {
                    IpAddr::V4(ip) => ip.octets().to_vec(),
                    IpAddr::V6(ip) => ip.octets().to_vec(),
                };
                let jitter = Duration::from_millis(fnv1a(&[key.0.as_bytes(), &ip]) % JITTER_MS);
                let entry = Entry { peer_node: s.peer_node, remote_as: d.remote_as, outcome, appeared, jitter };
                (key, entry)
            })
            .collect();
        self.entries = entries.into_iter().collect();
        self.rollout_order = facts.nodes.iter().enumerate().map(|(i, n)| (n.name.clone(), i)).collect();
        self.calico_node = Some(ObjectRef::namespaced(Kind::DaemonSet, facts.calico_namespace.clone(), "calico-node"));
    }

    /// The peer table at `now`, given the start times of the calico-node rollouts.
    pub(super) fn rows(&self, now: Duration, rollouts: &[Duration]) -> Vec<PeerRow> {
        let restarted = |node: &str| -> Option<Duration> {
            let i = *self.rollout_order.get(node)?;
            let step = POD_RESTART.saturating_mul(u32::try_from(i).unwrap_or(u32::MAX));
            rollouts.iter().map(|r| *r + step).filter(|t| *t <= now).max()
        };
        self.entries
            .iter()
            .map(|((node, peer_ip, peer_type), e)| {
                let start = [Some(e.appeared), restarted(node), e.peer_node.as_deref().and_then(restarted)]
                    .into_iter()
                    .flatten()
                    .max()
                    .unwrap_or(e.appeared);
                let (bgp_state, since, info) = state_at(e, start, now);
                PeerRow {
                    node: node.clone(),
                    peer_address: peer_ip.to_string(),
                    peer_type: *peer_type,
                    state: if bgp_state == BgpState::Established { "up" } else { "start" }.to_string(),
                    since: wall_clock(since),
                    bgp_state,
                    info: info.to_string(),
                }
            })
            .collect()
    }
}

/// The state at `now` of a session whose handshake started at `start`, and when it was entered.
fn state_at(e: &Entry, start: Duration, now: Duration) -> (BgpState, Duration, &'static str) {
    let at = |d: Duration| start + d + e.jitter;
    let mut phases: Vec<(Duration, BgpState, &'static str)> =
        vec![(start, BgpState::Idle, ""), (at(CONNECT_AFTER), BgpState::Connect, "")];
    match e.outcome {
        Outcome::Accept => {
            phases.push((at(OPEN_SENT_AFTER), BgpState::OpenSent, ""));
            phases.push((at(ESTABLISHED_AFTER), BgpState::Established, ""));
        }
        Outcome::Refuse(info) => phases.push((at(OPEN_SENT_AFTER), BgpState::Active, info)),
        Outcome::Reject(info) => {
            phases.push((at(OPEN_SENT_AFTER), BgpState::OpenSent, ""));
            phases.push((at(ESTABLISHED_AFTER), BgpState::Active, info));
        }
    }
    let (since, state, info) = phases.iter().rev().find(|(t, _, _)| *t <= now).copied().unwrap_or(phases[0]);
    (state, since, info)
}

/// BIRD's `since` column (`%T`): the demo wall clock at `t`.
pub(super) fn wall_clock(t: Duration) -> String {
    let s = (WALL_CLOCK_START + t.as_secs()) % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Stable across runs and Rust versions (unlike `DefaultHasher`).
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.iter().chain(b"|") {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// What each session's far end does, from the whole topology.
struct Outcomes<'a> {
    facts: &'a ClusterFacts,
    switch: Switch,
    /// Calico node addresses (both families) → node index in `facts.nodes`.
    node_by_ip: HashMap<IpAddr, usize>,
    node_by_name: HashMap<&'a str, usize>,
    /// (node, peer address) → the AS that node expects there: whether the far end peers back.
    expects: HashMap<(&'a str, IpAddr), Asn>,
}

impl<'a> Outcomes<'a> {
    fn new(facts: &'a ClusterFacts, sessions: &'a [SessionDetail], switch: Switch) -> Self {
        let mut node_by_ip = HashMap::new();
        for (i, n) in facts.nodes.iter().enumerate() {
            if let Some(ip) = n.bgp_ip() {
                node_by_ip.entry(IpAddr::V4(ip)).or_insert(i);
            }
            if let Some(net) = n.calico_ipv6 {
                node_by_ip.entry(IpAddr::V6(net.addr())).or_insert(i);
            }
        }
        let node_by_name = facts.nodes.iter().enumerate().map(|(i, n)| (n.name.as_str(), i)).collect();
        let mut expects = HashMap::new();
        for d in sessions {
            expects.entry((d.session.node.as_str(), d.session.peer_ip)).or_insert(d.remote_as);
        }
        Outcomes { facts, switch, node_by_ip, node_by_name, expects }
    }

    fn of(&self, d: &SessionDetail) -> Outcome {
        let s = &d.session;
        let Some(node) = self.node_by_name.get(s.node.as_str()).map(|&i| &self.facts.nodes[i]) else {
            return Outcome::Refuse("Socket: Connection refused");
        };
        if s.peer_ip == self.switch.ip {
            // The switch is configured with the route reflectors as its neighbors, nothing else.
            return if !node.is_route_reflector() {
                Outcome::Refuse("Socket: Connection refused")
            } else if d.remote_as != self.switch.asn {
                Outcome::Reject("BGP Error: Bad peer AS")
            } else {
                Outcome::Accept
            };
        }
        let Some(&peer_i) = self.node_by_ip.get(&s.peer_ip) else {
            // Nobody at that address: ARP fails on the node's own subnet, elsewhere SYNs time out.
            let on_link = match (s.peer_ip, node.calico_ipv4, node.calico_ipv6) {
                (IpAddr::V4(ip), Some(net), _) => net.contains(&ip),
                (IpAddr::V6(ip), _, Some(net)) => net.contains(&ip),
                _ => false,
            };
            return Outcome::Refuse(if on_link { "Socket: No route to host" } else { "Socket: Connection timed out" });
        };
        let peer = &self.facts.nodes[peer_i];
        if d.remote_as != peer.asn.unwrap_or(self.facts.cluster_as()) {
            return Outcome::Reject("BGP Error: Bad peer AS");
        }
        let own_ip = match s.peer_ip {
            IpAddr::V4(_) => node.bgp_ip().map(IpAddr::V4),
            IpAddr::V6(_) => node.calico_ipv6.map(|n| IpAddr::V6(n.addr())),
        };
        match own_ip.and_then(|ip| self.expects.get(&(peer.name.as_str(), ip))) {
            // The peer's BIRD has no protocol for this node: it accepts and closes the connection.
            None => Outcome::Refuse("Socket: Connection closed"),
            Some(want) if *want != d.local_as => Outcome::Reject("Received: Bad peer AS"),
            Some(_) => Outcome::Accept,
        }
    }
}
