//! One row of the `calicoctl node status`-style peer table, plus the counts the header shows.

use std::collections::BTreeMap;

/// PEER TYPE, with calicoctl's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum PeerType {
    /// `Mesh_…` protocols.
    NodeToNodeMesh,
    /// `Node_…` protocols (node-scoped BGPPeers, including `nodeSelector`/`peerSelector` ones).
    NodeSpecific,
    /// `Global_…` protocols.
    Global,
}

impl PeerType {
    pub fn label(self) -> &'static str {
        match self {
            PeerType::NodeToNodeMesh => "node-to-node mesh",
            PeerType::NodeSpecific => "node specific",
            PeerType::Global => "global",
        }
    }
}

/// BGP session state (BIRD's `BGP state:` words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum BgpState {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
    Close,
    /// BIRD's `Passive`: a `passive on` peer (Calico's mesh, the higher-IP side) waiting for the
    /// other side to connect.
    Passive,
    /// Protocol down (admin-disabled or failed): BIRD shows no BGP state.
    Down,
}

impl BgpState {
    pub fn label(self) -> &'static str {
        match self {
            BgpState::Idle => "Idle",
            BgpState::Connect => "Connect",
            BgpState::Active => "Active",
            BgpState::OpenSent => "OpenSent",
            BgpState::OpenConfirm => "OpenConfirm",
            BgpState::Established => "Established",
            BgpState::Close => "Close",
            BgpState::Passive => "Passive",
            BgpState::Down => "Down",
        }
    }
    pub fn parse(s: &str) -> Option<BgpState> {
        Some(match s {
            "Idle" => BgpState::Idle,
            "Connect" => BgpState::Connect,
            "Active" => BgpState::Active,
            "OpenSent" => BgpState::OpenSent,
            "OpenConfirm" => BgpState::OpenConfirm,
            "Established" => BgpState::Established,
            "Close" => BgpState::Close,
            "Passive" => BgpState::Passive,
            "Down" => BgpState::Down,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PeerRow {
    /// The node whose BIRD holds this session.
    pub node: String,
    pub peer_address: String,
    pub peer_type: PeerType,
    /// BIRD protocol state column: `up`, `start`, `down`, …
    pub state: String,
    /// BIRD since column (`HH:MM:SS` or a date).
    pub since: String,
    pub bgp_state: BgpState,
    /// Error text or extra info after the BGP state (e.g. `Socket: Connection refused`). For a
    /// protocol that is down ([`BgpState::Down`]) it is BIRD's whole info column, which is only
    /// the error text and may be empty.
    pub info: String,
}

impl PeerRow {
    /// The INFO column as calicoctl prints it: BGP state, then any further text.
    pub fn info_column(&self) -> String {
        if self.bgp_state == BgpState::Down {
            // BIRD prints no BGP state for a protocol that is down, only the error (if any).
            self.info.clone()
        } else if self.info.is_empty() {
            self.bgp_state.label().to_string()
        } else {
            format!("{} {}", self.bgp_state.label(), self.info)
        }
    }
    pub fn is_established(&self) -> bool {
        self.bgp_state == BgpState::Established
    }
}

/// What one refresh of the sessions found, and where it looked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerReport {
    pub rows: Vec<PeerRow>,
    /// Where the rows come from, in the operator's words, e.g. "BIRD socket /var/run/calico/bird.ctl".
    pub source: String,
    /// The nodes whose sessions were read (for the cluster-wide view: the route reflectors).
    pub queried: Vec<String>,
    /// Problems that did not stop the refresh (one node's BIRD unreachable), one line each.
    pub problems: Vec<String>,
}

/// How many sessions are in each state, for the header.
pub fn counts(rows: &[PeerRow]) -> BTreeMap<BgpState, usize> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(r.bgp_state).or_insert(0) += 1;
    }
    m
}
