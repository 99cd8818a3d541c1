//! What a session that is not Established means, in words for someone who knows little BGP.
//! Read from BIRD's BGP state and last error (`proto/bgp/bgp.c bgp_get_status`, and the texts
//! seen in the lab: `Socket: Connection refused`, `Socket: No route to host`, …).

use super::model::{BgpState, PeerRow};

/// One sentence on why the session is not up and where to look; None when it is Established.
pub fn explain(r: &PeerRow) -> Option<&'static str> {
    if r.is_established() {
        return None;
    }
    let info = r.info.to_ascii_lowercase();
    let by_error = [
        (
            "connection refused",
            "the peer refuses TCP port 179: BGP is not running there, or it has no neighbor for this node",
        ),
        ("no route to host", "no route to the peer: check the link, the peer's address and the node's routes"),
        ("network is unreachable", "no route to the peer's network: check the node's routes"),
        ("connection timed out", "the peer does not answer on TCP port 179: a firewall, or a wrong peer address"),
        ("connection reset", "the peer closed the connection: its BGP configuration may not accept this node"),
        ("connection closed", "the peer closed the connection: its BGP configuration may not accept this node"),
        (
            "bad peer as",
            "AS numbers disagree: the AS set for this peer differs from the AS the peer uses (check both sides)",
        ),
        ("hold timer expired", "the peer stopped answering keepalives: link trouble or an overloaded peer"),
        ("authentication", "the BGP passwords differ: check the password on both sides"),
        (
            "invalid argument",
            "the socket was refused by the kernel: with a BGP password, check both sides use the same one",
        ),
        ("bad bgp identifier", "both sides use the same router ID: give each a unique one"),
        ("no listening socket", "BIRD cannot listen on port 179: another BGP daemon may hold the port"),
        ("administrative shutdown", "the peer shut the session down on purpose"),
        ("cease", "the peer ended the session (Cease): see its log for the reason"),
        ("graceful restart", "the peer is restarting: routes are kept until it is back"),
    ];
    if let Some((_, why)) = by_error.iter().find(|(needle, _)| info.contains(needle)) {
        return Some(why);
    }
    Some(match r.bgp_state {
        BgpState::Down if r.info.is_empty() => "the protocol is down with no error: disabled, or BIRD is reconfiguring",
        BgpState::Down => "the protocol is down: see the error text",
        BgpState::Idle => "waiting before the next attempt (after an error)",
        BgpState::Connect => "opening the TCP connection to the peer",
        BgpState::Active => "trying to reach the peer, or waiting for it to connect: nothing answered yet",
        BgpState::OpenSent | BgpState::OpenConfirm => {
            "the connection is up and the two sides are agreeing on the session"
        }
        BgpState::Close => "the session is closing",
        BgpState::Passive => "this side only waits for the peer to connect (passive): the peer has not connected",
        BgpState::Established => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::model::PeerType;

    fn row(state: BgpState, info: &str) -> PeerRow {
        PeerRow {
            node: "k8s-1".into(),
            peer_address: "172.31.13.116".into(),
            peer_type: PeerType::NodeSpecific,
            state: "start".into(),
            since: "10:00:00".into(),
            bgp_state: state,
            info: info.into(),
        }
    }

    #[test]
    fn the_error_text_wins_over_the_state() {
        assert!(
            explain(&row(BgpState::Active, "Socket: Connection refused")).unwrap().contains("refuses TCP port 179")
        );
        assert!(explain(&row(BgpState::Active, "Socket: No route to host")).unwrap().contains("no route"));
        assert!(explain(&row(BgpState::Idle, "Received: Bad peer AS")).unwrap().contains("AS numbers"));
        assert!(explain(&row(BgpState::Active, "")).unwrap().contains("nothing answered"));
        assert!(explain(&row(BgpState::Down, "")).unwrap().contains("disabled"));
        assert_eq!(explain(&row(BgpState::Established, "")), None);
    }
}
