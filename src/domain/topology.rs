//! Which BGP sessions a cluster's configuration implies, by confd's rules (calico-bgp.md §7).
//! (Being written.)

use std::net::IpAddr;

use super::facts::ClusterFacts;
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

/// Every session every node's BIRD would have, in (node, peer_ip) order.
pub fn expected_sessions(_facts: &ClusterFacts) -> Vec<Session> {
    todo!()
}
