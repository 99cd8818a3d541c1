//! The BIRD parsers on this project's own lab captures (tests/fixtures/bird-lab/, written by
//! tests/bird_lab.rs from real BIRD 1.6.8): every `sock` capture, parsed as `show protocols` and
//! as `show protocols all`, gives exactly the BGP rows `birdc` printed for the same node and phase.
//! (The team's shared captures are parsed by the unit tests in src/status/bird/tests/.)

mod common;

use std::path::PathBuf;

use calico_bgp_wizard::status::bird::protocols::{parse_protocols_str, peer_rows};
use calico_bgp_wizard::status::model::PeerRow;
use common::lab::{BirdcRow, parse_birdc_protocols};

fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bird-lab").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The peer rows as birdc shows them: (address from the name, state, since, info column).
fn expected(birdc: &[BirdcRow]) -> Vec<(String, String, String, String)> {
    birdc
        .iter()
        .filter(|r| r.proto == "BGP" && ["Node_", "Global_", "Mesh_"].iter().any(|p| r.name.starts_with(p)))
        .map(|r| {
            let rest = r.name.split_once('_').unwrap().1;
            (rest.replace('_', "."), r.state.clone(), r.since.clone(), squeeze(&r.info))
        })
        .collect()
}

fn got(rows: &[PeerRow]) -> Vec<(String, String, String, String)> {
    rows.iter().map(|r| (r.peer_address.clone(), r.state.clone(), r.since.clone(), squeeze(&r.info_column()))).collect()
}

#[test]
fn every_lab_capture_parses_to_birdcs_rows() {
    let mut checked = 0;
    for phase in ["established", "switch-stopped"] {
        for node in ["k8s-1", "k8s-2", "k8s-3"] {
            let birdc = parse_birdc_protocols(&fixture(&format!("{phase}.{node}.birdc.show_protocols.txt")));
            let want = expected(&birdc);
            assert!(!want.is_empty(), "{phase} {node}: no BGP rows in the birdc capture");
            for cmd in ["show_protocols", "show_protocols_all"] {
                let text = fixture(&format!("{phase}.{node}.sock.{cmd}.txt"));
                let protocols = parse_protocols_str(&text).unwrap_or_else(|e| panic!("{phase} {node} {cmd}: {e}"));
                let rows = peer_rows(node, &protocols);
                assert_eq!(got(&rows), want, "{phase} {node} {cmd}");
                assert!(rows.iter().all(|r| r.node == node));
                checked += 1;
            }
            if phase == "switch-stopped" && node != "k8s-3" {
                let text = fixture(&format!("{phase}.{node}.sock.show_protocols.txt"));
                let rows = peer_rows(node, &parse_protocols_str(&text).unwrap());
                let sw = rows.iter().find(|r| r.peer_address == "172.31.13.116").expect("the switch row");
                assert!(!sw.is_established() && sw.info.contains("Connection refused"), "{sw:?}");
            }
        }
    }
    assert_eq!(checked, 12);
}

#[test]
fn every_prefix_of_a_lab_capture_is_an_error_or_a_parse_never_a_panic() {
    let text = fixture("switch-stopped.k8s-1.sock.show_protocols_all.txt");
    for end in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
        let _ = parse_protocols_str(&text[..end]);
    }
    assert!(parse_protocols_str(&text[..text.len() - 3]).is_err(), "a reply cut before its final line is an error");
}
