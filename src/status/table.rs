//! `status --once` output: the calicoctl table (with a NODE column in front), or JSON.

use super::model::PeerRow;

const HEADERS: [&str; 6] = ["NODE", "PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"];

fn cells(r: &PeerRow) -> [String; 6] {
    [
        r.node.clone(),
        r.peer_address.clone(),
        r.peer_type.label().to_string(),
        r.state.clone(),
        r.since.clone(),
        r.info_column(),
    ]
}

/// A `calicoctl node status`-style table (tablewriter's borders, centred upper-case headers).
pub fn format_table(rows: &[PeerRow]) -> String {
    if rows.is_empty() {
        return "No IPv4 peers found.\n".to_string();
    }
    let body: Vec<[String; 6]> = rows.iter().map(cells).collect();
    let mut w: Vec<usize> = HEADERS.iter().map(|h| h.len()).collect();
    for r in &body {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let sep: String = {
        let mut s = String::from("+");
        for wi in &w {
            s.push_str(&"-".repeat(wi + 2));
            s.push('+');
        }
        s.push('\n');
        s
    };
    let mut out = sep.clone();
    out.push('|');
    for (h, wi) in HEADERS.iter().zip(&w) {
        out.push_str(&format!(" {h:^wi$} |"));
    }
    out.push('\n');
    out.push_str(&sep);
    for r in &body {
        out.push('|');
        for (c, wi) in r.iter().zip(&w) {
            out.push_str(&format!(" {c:<wi$} |"));
        }
        out.push('\n');
    }
    out.push_str(&sep);
    out
}

/// JSON array of rows, for scripts.
pub fn format_json(rows: &[PeerRow]) -> String {
    let v: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "node": r.node,
                "peerAddress": r.peer_address,
                "peerType": r.peer_type.label(),
                "state": r.state,
                "since": r.since,
                "bgpState": r.bgp_state.label(),
                "info": r.info,
            })
        })
        .collect();
    serde_json::to_string_pretty(&v).unwrap_or_else(|_| "[]".into()) + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::model::{BgpState, PeerType};

    #[test]
    fn table_matches_calicoctl_layout() {
        let rows = vec![PeerRow {
            node: "k8s-1".into(),
            peer_address: "172.17.8.102".into(),
            peer_type: PeerType::NodeToNodeMesh,
            state: "up".into(),
            since: "23:30:04".into(),
            bgp_state: BgpState::Established,
            info: String::new(),
        }];
        let t = format_table(&rows);
        assert_eq!(
            t,
            "+-------+--------------+-------------------+-------+----------+-------------+\n\
             | NODE  | PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO     |\n\
             +-------+--------------+-------------------+-------+----------+-------------+\n\
             | k8s-1 | 172.17.8.102 | node-to-node mesh | up    | 23:30:04 | Established |\n\
             +-------+--------------+-------------------+-------+----------+-------------+\n"
        );
        assert_eq!(format_table(&[]), "No IPv4 peers found.\n");
    }
}
