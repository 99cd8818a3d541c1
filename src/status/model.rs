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
            "Down" | "Passive" => BgpState::Down,
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
    /// Error text or extra info after the BGP state (e.g. `Socket: Connection refused`).
    pub info: String,
}

impl PeerRow {
    /// The INFO column as calicoctl prints it: BGP state, then any further text.
    pub fn info_column(&self) -> String {
        if self.info.is_empty() {
            self.bgp_state.label().to_string()
        } else {
            format!("{} {}", self.bgp_state.label(), self.info)
        }
    }
    pub fn is_established(&self) -> bool {
        self.bgp_state == BgpState::Established
    }
}

/// How many sessions are in each state, for the header.
pub fn counts(rows: &[PeerRow]) -> BTreeMap<BgpState, usize> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(r.bgp_state).or_insert(0) += 1;
    }
    m
}
