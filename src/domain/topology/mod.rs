//! Which BGP sessions a cluster's configuration implies, by confd's rules (calico-bgp.md §7).
//!
//! This mirrors `confd/pkg/backends/calico/client.go` `updatePeersV1` (which peer records exist)
//! and `bird.cfg.template` / `bird6.cfg.template` (which BIRD protocols each node renders from
//! them), so the demo can simulate a cluster and the wizard can say which sessions to wait for.
//! It is pure: facts in, sessions out.
//!
//! Selectors (`nodeSelector`, `peerSelector`) are evaluated by a small Calico selector evaluator
//! ([`Selector`]). A selector it does not understand selects no node (as confd does with a selector
//! it cannot parse) and is reported in [`Topology::warnings`]; [`expected_sessions`] drops the
//! warnings, [`topology`] keeps them.

mod selector;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use super::asn::Asn;
use super::facts::{Backend, BgpPeerFacts, ClusterFacts, NodeFacts};
use crate::status::model::PeerType;

pub use selector::{Selector, SelectorError};

/// One BGP session as seen from `node`'s BIRD.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Session {
    pub node: String,
    pub peer_ip: IpAddr,
    pub peer_type: PeerType,
    /// The peer's node name when the peer is a Calico node.
    pub peer_node: Option<String>,
}

/// A session plus the BGP parameters the node's BIRD renders for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionDetail {
    pub session: Session,
    /// `local as`: the node's AS (annotation, else the cluster AS).
    pub local_as: Asn,
    /// `neighbor … as`: the AS the node expects the peer to have.
    pub remote_as: Asn,
    /// The BGPPeer that produced this session; None for the node-to-node mesh.
    pub bgp_peer: Option<String>,
}

/// A selector of a BGPPeer that [`Selector::parse`] does not understand: it selects no node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorWarning {
    /// The BGPPeer's name.
    pub bgp_peer: String,
    /// `nodeSelector` or `peerSelector`.
    pub field: &'static str,
    pub selector: String,
    pub error: SelectorError,
}

impl fmt::Display for SelectorWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BGPPeer {}: {} '{}' is not understood ({}); it is treated as selecting no node",
            self.bgp_peer, self.field, self.selector, self.error
        )
    }
}

/// Every session every node's BIRD would have, and the selectors that could not be evaluated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    /// In (node, peer_ip, peer_type) order.
    pub sessions: Vec<SessionDetail>,
    pub warnings: Vec<SelectorWarning>,
}

/// Every session every node's BIRD would have, in (node, peer_ip) order. Selectors that cannot be
/// evaluated select nothing; use [`topology`] to learn about them.
pub fn expected_sessions(facts: &ClusterFacts) -> Vec<Session> {
    topology(facts).sessions.into_iter().map(|d| d.session).collect()
}

/// IP family: `bird` (IPv4) and `bird6` (IPv6) are configured independently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn of(ip: IpAddr) -> Family {
        if ip.is_ipv4() { Family::V4 } else { Family::V6 }
    }
}

/// What confd knows about one node: its BGP fields.
struct NodeBgp<'a> {
    name: &'a str,
    v4: Option<IpAddr>,
    v6: Option<IpAddr>,
    asn: Asn,
    /// Non-empty `rr_cluster_id`: the node ignores the mesh, and mesh nodes skip it.
    rr: bool,
    labels: &'a BTreeMap<String, String>,
}

impl NodeBgp<'_> {
    fn ip(&self, fam: Family) -> Option<IpAddr> {
        match fam {
            Family::V4 => self.v4,
            Family::V6 => self.v6,
        }
    }
}

/// One confd peer record (`/bgp/v1/{global,host/<node>}/peer_v{4,6}/<ip>`).
#[derive(Debug, Clone)]
struct Record {
    remote_as: Asn,
    peer_node: Option<String>,
    bgp_peer: String,
}

/// The peer records of one IP family, with confd's precedence: the first record for a key wins,
/// and a node record is not emitted when a global record for the same IP exists.
#[derive(Default)]
struct Records {
    global: BTreeMap<IpAddr, Record>,
    node: BTreeMap<(String, IpAddr), Record>,
}

impl Records {
    fn emit_global(&mut self, ip: IpAddr, rec: Record) {
        self.global.entry(ip).or_insert(rec);
    }
    fn emit_node(&mut self, node: &str, ip: IpAddr, rec: Record) {
        if self.global.contains_key(&ip) {
            return;
        }
        self.node.entry((node.to_string(), ip)).or_insert(rec);
    }
}

/// A BGPPeer with its selectors evaluated once.
struct PeerSel<'a> {
    peer: &'a BgpPeerFacts,
    /// Nodes selected by `nodeSelector`, or `[node]`; None when the peer is global.
    local: Option<Vec<usize>>,
    /// Nodes selected by `peerSelector`; None when the peer uses `peerIP`.
    remote: Option<Vec<usize>>,
    /// `peerIP` without any port, when `peerSelector` is not used.
    peer_ip: Option<IpAddr>,
}

/// Every session every node's BIRD would have, with the selectors that could not be evaluated.
///
/// No sessions at all unless the backend is `bird` (no BIRD runs otherwise). A node's BGP address
/// is its `projectcalico.org/IPv4Address` (IPv6: `IPv6Address`); nodes without one have no
/// sessions in that family and are not peered with. A `peerIP` port suffix is ignored.
pub fn topology(facts: &ClusterFacts) -> Topology {
    let mut out = Topology::default();
    if facts.backend != Backend::Bird {
        return out;
    }
    let cluster_as = facts.cluster_as();
    let nodes: Vec<NodeBgp> = facts
        .nodes
        .iter()
        .map(|n: &NodeFacts| NodeBgp {
            name: &n.name,
            v4: n.bgp_ip().map(IpAddr::V4),
            v6: n.calico_ipv6.map(|v| IpAddr::V6(v.addr())),
            asn: n.asn.unwrap_or(cluster_as),
            rr: n.rr_cluster_id.is_some(),
            labels: &n.labels,
        })
        .collect();

    let mut select = |peer: &BgpPeerFacts, field: &'static str, text: &str| -> Vec<usize> {
        match Selector::parse(text) {
            Ok(sel) => (0..nodes.len()).filter(|&i| sel.matches(nodes[i].labels)).collect(),
            Err(error) => {
                out.warnings.push(SelectorWarning {
                    bgp_peer: peer.name.clone(),
                    field,
                    selector: text.to_string(),
                    error,
                });
                Vec::new()
            }
        }
    };
    let peers: Vec<PeerSel> = facts
        .peers
        .iter()
        .map(|p| {
            let local = match (&p.node_selector, &p.node) {
                (Some(sel), _) => Some(select(p, "nodeSelector", sel)),
                (None, Some(name)) => Some(nodes.iter().position(|n| n.name == name).into_iter().collect()),
                (None, None) => None,
            };
            let remote = p.peer_selector.as_deref().map(|sel| select(p, "peerSelector", sel));
            let peer_ip = if remote.is_none() { p.peer_ip.as_deref().and_then(parse_peer_ip) } else { None };
            PeerSel { peer: p, local, remote, peer_ip }
        })
        .collect();

    let records = [Family::V4, Family::V6].map(|fam| (fam, peer_records(facts, &nodes, &peers, fam)));
    let mut order: Vec<&NodeBgp> = nodes.iter().collect();
    order.sort_by_key(|n| n.name);
    for n in order {
        let mut chunk = Vec::new();
        for (fam, recs) in &records {
            materialize(facts, n, &nodes, recs, *fam, &mut chunk);
        }
        // Per node, so a large mesh is never sorted as a whole.
        chunk.sort();
        chunk.dedup_by(|a, b| a.session.peer_ip == b.session.peer_ip && a.session.peer_type == b.session.peer_type);
        out.sessions.extend(chunk);
    }
    out
}

/// `IPv4`, `IPv4:port`, `IPv6` or `[IPv6]:port` → the address.
fn parse_peer_ip(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    if let Ok(ip) = t.parse() {
        return Some(ip);
    }
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    t.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

/// confd `updatePeersV1` for one family: global pass, node-specific pass, then reverse peerings.
fn peer_records(facts: &ClusterFacts, nodes: &[NodeBgp], peers: &[PeerSel], fam: Family) -> Records {
    let cluster_as = facts.cluster_as();
    let node_with_ip = |ip: IpAddr| nodes.iter().find(|n| n.ip(fam) == Some(ip));
    let mut records = Records::default();

    for global_pass in [true, false] {
        for ps in peers {
            if global_pass != ps.local.is_none() {
                continue;
            }
            // The remote ends: selected nodes' addresses, or the peerIP.
            let mut remotes: Vec<(IpAddr, Record)> = Vec::new();
            if let Some(sel) = &ps.remote {
                for &i in sel {
                    if let Some(ip) = nodes[i].ip(fam) {
                        let rec = Record {
                            remote_as: nodes[i].asn,
                            peer_node: Some(nodes[i].name.to_string()),
                            bgp_peer: ps.peer.name.clone(),
                        };
                        remotes.push((ip, rec));
                    }
                }
            } else if let Some(ip) = ps.peer_ip.filter(|ip| Family::of(*ip) == fam) {
                let rec = Record {
                    remote_as: ps.peer.asn.unwrap_or(cluster_as),
                    peer_node: node_with_ip(ip).map(|n| n.name.to_string()),
                    bgp_peer: ps.peer.name.clone(),
                };
                remotes.push((ip, rec));
            }
            for (ip, rec) in remotes {
                match &ps.local {
                    None => records.emit_global(ip, rec),
                    Some(local) => {
                        for &l in local {
                            records.emit_node(nodes[l].name, ip, rec.clone());
                        }
                    }
                }
            }
        }
    }

    // Reverse peerings, so that node-to-node peerings are symmetric: the nodes matching the
    // remote side (peerSelector, or a node with the peerIP and the peer's AS) peer with the nodes
    // matching the local side (node, nodeSelector, or every node for a global peer).
    for ps in peers {
        let reverse_local: Vec<usize> = match (&ps.remote, ps.peer_ip) {
            (Some(sel), _) => sel.clone(),
            (None, Some(ip)) if Family::of(ip) == fam => {
                let want = ps.peer.asn.unwrap_or(cluster_as);
                (0..nodes.len()).filter(|&i| nodes[i].ip(fam) == Some(ip) && nodes[i].asn == want).collect()
            }
            _ => Vec::new(),
        };
        if reverse_local.is_empty() {
            continue;
        }
        let reverse_remote: Vec<usize> = match &ps.local {
            Some(local) => local.clone(),
            None => (0..nodes.len()).collect(),
        };
        for &r in &reverse_remote {
            let Some(ip) = nodes[r].ip(fam) else { continue };
            for &l in &reverse_local {
                let rec = Record {
                    remote_as: nodes[r].asn,
                    peer_node: Some(nodes[r].name.to_string()),
                    bgp_peer: ps.peer.name.clone(),
                };
                records.emit_node(nodes[l].name, ip, rec);
            }
        }
    }
    records
}

/// `bird.cfg.template` for node `n` and one family: the mesh, global and node-specific protocols,
/// skipping the node's own address.
fn materialize(
    facts: &ClusterFacts,
    n: &NodeBgp,
    nodes: &[NodeBgp],
    records: &Records,
    fam: Family,
    out: &mut Vec<SessionDetail>,
) {
    let Some(own_ip) = n.ip(fam) else { return };
    let mut push = |peer_ip: IpAddr, peer_type: PeerType, remote_as: Asn, peer_node, bgp_peer| {
        out.push(SessionDetail {
            session: Session { node: n.name.to_string(), peer_ip, peer_type, peer_node },
            local_as: n.asn,
            remote_as,
            bgp_peer,
        });
    };
    if facts.mesh_enabled() && !n.rr {
        for o in nodes {
            match o.ip(fam) {
                Some(ip) if ip != own_ip && !o.rr => {
                    push(ip, PeerType::NodeToNodeMesh, o.asn, Some(o.name.to_string()), None);
                }
                _ => {}
            }
        }
    }
    for (ip, rec) in &records.global {
        if *ip != own_ip {
            let bgp_peer = Some(rec.bgp_peer.clone());
            push(*ip, PeerType::Global, rec.remote_as, rec.peer_node.clone(), bgp_peer);
        }
    }
    let from = (n.name.to_string(), IpAddr::from([0u8; 4]));
    for ((node, ip), rec) in records.node.range(from..) {
        if node != n.name {
            break;
        }
        if *ip != own_ip {
            let bgp_peer = Some(rec.bgp_peer.clone());
            push(*ip, PeerType::NodeSpecific, rec.remote_as, rec.peer_node.clone(), bgp_peer);
        }
    }
}
