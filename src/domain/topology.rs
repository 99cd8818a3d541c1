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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use super::asn::Asn;
use super::facts::{Backend, BgpPeerFacts, ClusterFacts, NodeFacts};
use crate::status::model::PeerType;

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
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::OrOr) {
            self.pos += 1;
            let right = self.and()?;
            left = Selector::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Selector, SelectorError> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Tok::AndAnd) {
            self.pos += 1;
            let right = self.unary()?;
            left = Selector::And(Box::new(left), Box::new(right));
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
    use crate::domain::facts::detect;
    use crate::domain::objects::{Kind, ObjectRef, ObjectSet, parse_yaml_objects};
    use serde_json::{Value, json};

    const SWITCH: &str = "172.31.13.116";

    fn demo_set() -> ObjectSet {
        let mut set = ObjectSet::default();
        for o in parse_yaml_objects(include_str!("../../assets/demo-cluster.yaml")).unwrap() {
            set.insert(o);
        }
        set
    }

    fn peer(name: &str, spec: Value) -> Value {
        json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer", "metadata": {"name": name}, "spec": spec})
    }

    fn wizard_peers(set: &mut ObjectSet) {
        set.insert(peer(
            "peer-with-route-reflectors",
            json!({"nodeSelector": "all()", "peerSelector": "route-reflector == 'true'"}),
        ));
        set.insert(peer(
            "rr-peer",
            json!({"nodeSelector": "route-reflector == 'true'", "peerIP": SWITCH, "asNumber": 7675}),
        ));
    }

    fn promote(set: &mut ObjectSet, node: &str) {
        let patch = json!({"metadata": {
            "labels": {"route-reflector": "true"},
            "annotations": {"projectcalico.org/RouteReflectorClusterID": "244.0.0.1"}}});
        set.merge_patch(&ObjectRef::cluster(Kind::Node, node), &patch).unwrap();
    }

    fn mesh_off(set: &mut ObjectSet) {
        set.insert(json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPConfiguration",
            "metadata": {"name": "default"}, "spec": {"nodeToNodeMeshEnabled": false}}));
    }

    /// `node type peer` lines, sorted, for compact assertions.
    fn lines(set: &ObjectSet) -> Vec<String> {
        expected_sessions(&detect(set))
            .iter()
            .map(|s| {
                let t = match s.peer_type {
                    PeerType::NodeToNodeMesh => "mesh",
                    PeerType::NodeSpecific => "node",
                    PeerType::Global => "global",
                };
                let peer = s.peer_node.clone().unwrap_or_else(|| s.peer_ip.to_string());
                format!("{} {t} {peer}", s.node)
            })
            .collect()
    }

    #[test]
    fn demo_is_a_full_mesh() {
        let set = demo_set();
        let sessions = expected_sessions(&detect(&set));
        assert_eq!(sessions.len(), 6);
        assert!(sessions.iter().all(|s| s.peer_type == PeerType::NodeToNodeMesh));
        assert_eq!(sessions[0].node, "k8s-1");
        assert_eq!(sessions[0].peer_ip, "172.31.13.28".parse::<IpAddr>().unwrap());
        assert_eq!(sessions[0].peer_node.as_deref(), Some("k8s-2"));
    }

    #[test]
    fn peers_that_select_nothing_change_nothing() {
        let mut set = demo_set();
        wizard_peers(&mut set);
        assert_eq!(lines(&set).len(), 6);
        assert!(lines(&set).iter().all(|l| l.contains(" mesh ")));
    }

    #[test]
    fn two_reflectors_with_mesh_on_and_off() {
        let mut set = demo_set();
        wizard_peers(&mut set);
        promote(&mut set, "k8s-1");
        promote(&mut set, "k8s-2");
        let want = [
            "k8s-1 node k8s-2",
            "k8s-1 node k8s-3",
            "k8s-1 node 172.31.13.116",
            "k8s-2 node k8s-1",
            "k8s-2 node k8s-3",
            "k8s-2 node 172.31.13.116",
            "k8s-3 node k8s-1",
            "k8s-3 node k8s-2",
        ];
        assert_eq!(lines(&set), want);
        mesh_off(&mut set);
        assert_eq!(lines(&set), want);

        let top = topology(&detect(&set));
        let sw = top.sessions.iter().find(|d| d.session.peer_ip.to_string() == SWITCH).unwrap();
        assert_eq!((sw.local_as, sw.remote_as), (Asn(64512), Asn(7675)));
        assert_eq!(sw.bgp_peer.as_deref(), Some("rr-peer"));
        assert_eq!(sw.session.peer_node, None);
        // The reverse peering from the reflector to a client is attributed to the selector peer.
        let rev =
            top.sessions.iter().find(|d| d.session.node == "k8s-1" && d.session.peer_node.as_deref() == Some("k8s-3"));
        assert_eq!(rev.unwrap().bgp_peer.as_deref(), Some("peer-with-route-reflectors"));
        assert!(top.warnings.is_empty());
    }

    #[test]
    fn one_reflector_promoted_half_way() {
        let mut set = demo_set();
        wizard_peers(&mut set);
        promote(&mut set, "k8s-1");
        assert_eq!(
            lines(&set),
            [
                "k8s-1 node k8s-2",
                "k8s-1 node k8s-3",
                "k8s-1 node 172.31.13.116",
                "k8s-2 node k8s-1",
                "k8s-2 mesh k8s-3",
                "k8s-3 node k8s-1",
                "k8s-3 mesh k8s-2",
            ]
        );
        mesh_off(&mut set);
        assert_eq!(
            lines(&set),
            [
                "k8s-1 node k8s-2",
                "k8s-1 node k8s-3",
                "k8s-1 node 172.31.13.116",
                "k8s-2 node k8s-1",
                "k8s-3 node k8s-1"
            ]
        );
    }

    #[test]
    fn cluster_id_alone_leaves_the_mesh_without_selector_peers() {
        // Annotation set but no label and no BGPPeers: the node is cut off (calico-bgp.md §8.1).
        let mut set = demo_set();
        let patch = json!({"metadata": {"annotations": {"projectcalico.org/RouteReflectorClusterID": "244.0.0.1"}}});
        set.merge_patch(&ObjectRef::cluster(Kind::Node, "k8s-3"), &patch).unwrap();
        assert_eq!(lines(&set), ["k8s-1 mesh k8s-2", "k8s-2 mesh k8s-1"]);
    }

    #[test]
    fn global_peers_are_on_every_node_but_the_peer_itself() {
        let mut set = demo_set();
        set.insert(peer("tor", json!({"peerIP": SWITCH, "asNumber": 7675})));
        set.insert(peer("to-k8s-2", json!({"peerIP": "172.31.13.28:179", "asNumber": 64512})));
        let l = lines(&set);
        for n in ["k8s-1", "k8s-2", "k8s-3"] {
            assert!(l.contains(&format!("{n} global 172.31.13.116")), "{l:?}");
        }
        // The global peering to k8s-2's IP is skipped on k8s-2 itself, and the automatic reverse
        // peerings from k8s-2 are suppressed where a global peering to the same IP exists only.
        assert!(l.contains(&"k8s-1 global k8s-2".to_string()));
        assert!(l.contains(&"k8s-3 global k8s-2".to_string()));
        assert!(l.contains(&"k8s-2 node k8s-1".to_string()));
        assert!(!l.iter().any(|x| x.starts_with("k8s-2 global k8s-2")));
        // Mesh sessions are still there, next to the global ones.
        assert!(l.contains(&"k8s-1 mesh k8s-2".to_string()));
    }

    #[test]
    fn node_scoped_peer_ip_and_global_precedence() {
        let mut set = demo_set();
        set.insert(peer("a-node", json!({"node": "k8s-3", "peerIP": "10.0.0.1", "asNumber": 65001})));
        set.insert(peer("b-global", json!({"peerIP": "10.0.0.1", "asNumber": 65001})));
        let l = lines(&set);
        // A global peering to the same IP suppresses the node-specific one.
        assert!(l.contains(&"k8s-3 global 10.0.0.1".to_string()));
        assert!(!l.contains(&"k8s-3 node 10.0.0.1".to_string()));
        set.remove(&ObjectRef::cluster(Kind::BgpPeer, "b-global"));
        let l = lines(&set);
        assert!(l.contains(&"k8s-3 node 10.0.0.1".to_string()));
        assert_eq!(l.iter().filter(|x| x.ends_with("10.0.0.1")).count(), 1);
    }

    #[test]
    fn vxlan_backend_has_no_sessions() {
        let mut set = demo_set();
        let cm = ObjectRef::namespaced(Kind::ConfigMap, "kube-system", "calico-config");
        set.merge_patch(&cm, &json!({"data": {"calico_backend": "vxlan"}})).unwrap();
        assert!(expected_sessions(&detect(&set)).is_empty());
    }

    #[test]
    fn ipv6_mesh_between_dual_stack_nodes() {
        let mut set = demo_set();
        for (n, ip) in [("k8s-1", "fd00::1/64"), ("k8s-2", "fd00::2/64")] {
            let patch = json!({"metadata": {"annotations": {"projectcalico.org/IPv6Address": ip}}});
            set.merge_patch(&ObjectRef::cluster(Kind::Node, n), &patch).unwrap();
        }
        let s = expected_sessions(&detect(&set));
        assert_eq!(s.len(), 8);
        let v6: Vec<_> =
            s.iter().filter(|s| s.peer_ip.is_ipv6()).map(|s| (s.node.as_str(), s.peer_ip.to_string())).collect();
        assert_eq!(v6, [("k8s-1", "fd00::2".to_string()), ("k8s-2", "fd00::1".to_string())]);
    }

    #[test]
    fn bad_selector_selects_nothing_and_is_reported() {
        let mut set = demo_set();
        set.insert(peer("odd", json!({"nodeSelector": "all()", "peerSelector": "rack starts with 'a'"})));
        let top = topology(&detect(&set));
        assert_eq!(top.sessions.len(), 6);
        assert_eq!(top.warnings.len(), 1);
        assert_eq!(top.warnings[0].bgp_peer, "odd");
        assert_eq!(top.warnings[0].field, "peerSelector");
        assert!(top.warnings[0].to_string().contains("'rack starts with 'a''"), "{}", top.warnings[0]);
    }

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
