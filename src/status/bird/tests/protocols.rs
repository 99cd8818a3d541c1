//! The protocol tables and peer rows, checked against what `birdc` printed in the same phase.

use super::{capture_str, captures_dir};
use crate::status::bird::protocols::*;
use crate::status::bird::reply::ReplyError;
use crate::status::model::{BgpState, PeerRow, PeerType};

const PHASES: [&str; 7] = [
    "established",
    "switch-stopped-immediate",
    "switch-stopped",
    "switch-restarted",
    "switch-unreachable-active",
    "switch-unreachable-connect",
    "switch-unreachable-holdexpired",
];
const NODES: [&str; 3] = ["k8s-1", "k8s-2", "k8s-3"];

fn exists(name: &str) -> bool {
    captures_dir().join(name).is_file()
}

/// A row as `birdc` prints it: name, proto, table, state, since, info (trailing spaces cut).
fn birdc_row(line: &str) -> [String; 6] {
    let table = parse_protocols_str(&format!("2002-name proto table state since info\n1002-{line}\n0000 \n")).unwrap();
    row_of(&table.iter().next().unwrap())
}

/// The protocol rows of a `birdc show protocols [all]` capture (the greeting and header skipped,
/// detail lines and blank lines too).
fn birdc_rows(name: &str) -> Vec<[String; 6]> {
    let text = capture_str(name);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("BIRD 1.6.8 ready."), "{name}");
    assert!(lines.next().unwrap().starts_with("name     proto"), "{name}");
    lines.filter(|l| !l.is_empty() && !l.starts_with(' ')).map(birdc_row).collect()
}

fn row_of(p: &Protocol) -> [String; 6] {
    [p.name, p.proto, p.table, p.state, p.since, p.info.trim_end()].map(|s| s.to_string())
}

fn seconds(t: &str) -> i64 {
    t.split(':').fold(0, |n, x| n * 60 + x.parse::<i64>().unwrap())
}

/// Same rows; `since` may differ by one second (BIRD 1.6 rounds its clock differently from one
/// query to the next, see bird-lab.md).
fn assert_same_rows(ours: &[[String; 6]], theirs: &[[String; 6]], what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: row count");
    for (a, b) in ours.iter().zip(theirs) {
        let mut a2 = a.clone();
        if (seconds(&a[4]) - seconds(&b[4])).abs() <= 1 {
            a2[4] = b[4].clone();
        }
        assert_eq!(&a2, b, "{what}");
    }
}

fn normalized(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_phase_matches_birdc() {
    let mut compared = 0;
    for phase in PHASES {
        for node in NODES {
            let sock = format!("{phase}.{node}.sock.show_protocols.txt");
            if !exists(&sock) {
                continue;
            }
            let protocols = parse_protocols_str(&capture_str(&sock)).unwrap_or_else(|e| panic!("{sock}: {e}"));
            let rows = peer_rows(node, &protocols);
            let bgp: Vec<Protocol> = protocols.iter().filter(|p| p.proto == "BGP").collect();
            assert_eq!(rows.len(), bgp.len(), "{sock}: every BGP protocol here is a Node_ peer");
            for (row, p) in rows.iter().zip(&bgp) {
                assert_eq!(row.node, node);
                assert_eq!(row.peer_type, PeerType::NodeSpecific);
                assert_eq!(row.peer_address, p.name.strip_prefix("Node_").unwrap().replace('_', "."));
                assert_eq!((row.state.as_str(), row.since.as_str()), (p.state, p.since));
                assert_eq!(normalized(&row.info_column()), normalized(p.info), "{sock}: {}", p.name);
            }
            let birdc = format!("{phase}.{node}.birdc.show_protocols.txt");
            if exists(&birdc) {
                let ours: Vec<_> = protocols.iter().map(|p| row_of(&p)).collect();
                assert_same_rows(&ours, &birdc_rows(&birdc), &sock);
                compared += 1;
            }
            let all = format!("{phase}.{node}.sock.show_protocols_all.txt");
            if exists(&all) {
                let detailed = parse_protocols_str(&capture_str(&all)).unwrap_or_else(|e| panic!("{all}: {e}"));
                let ours: Vec<_> = detailed.iter().map(|p| row_of(&p)).collect();
                let plain: Vec<_> = protocols.iter().map(|p| row_of(&p)).collect();
                assert_same_rows(&ours, &plain, &all);
                let birdc_all = format!("{phase}.{node}.birdc.show_protocols_all.txt");
                if exists(&birdc_all) {
                    assert_same_rows(&ours, &birdc_rows(&birdc_all), &all);
                }
                for (a, b) in peer_rows(node, &detailed).iter().zip(&rows) {
                    assert_eq!(a.peer_address, b.peer_address, "{all}: Neighbor address = the name's address");
                    assert_eq!((a.bgp_state, &a.info), (b.bgp_state, &b.info), "{all}");
                }
            }
        }
    }
    assert!(compared >= 7, "compared only {compared} phases with birdc");
}

fn switch_row(phase: &str) -> PeerRow {
    let p = parse_protocols_str(&capture_str(&format!("{phase}.k8s-1.sock.show_protocols.txt"))).unwrap();
    let rows = peer_rows("k8s-1", &p);
    rows.into_iter().find(|r| r.peer_address == "172.31.13.116").expect("the switch's row")
}

#[test]
fn the_switch_session_in_each_phase() {
    let cases = [
        ("established", "up", "14:19:23", BgpState::Established, "", "Established"),
        ("switch-stopped-immediate", "start", "14:19:29", BgpState::Active, "Socket: Connection closed", ""),
        ("switch-stopped", "start", "14:19:29", BgpState::Active, "Socket: Connection refused", ""),
        ("switch-restarted", "up", "14:19:45", BgpState::Established, "", "Established"),
        ("switch-unreachable-active", "start", "14:19:55", BgpState::Active, "Socket: No route to host", ""),
        ("switch-unreachable-connect", "start", "14:19:55", BgpState::Connect, "", "Connect"),
        ("switch-unreachable-holdexpired", "start", "14:19:55", BgpState::Active, "", "Active"),
    ];
    for (phase, state, since, bgp, info, column) in cases {
        let r = switch_row(phase);
        assert_eq!(
            (r.state.as_str(), r.since.as_str(), r.bgp_state, r.info.as_str()),
            (state, since, bgp, info),
            "{phase}"
        );
        let column = if column.is_empty() { format!("Active {info}") } else { column.to_string() };
        assert_eq!(r.info_column(), column, "{phase}");
    }
}

#[test]
fn show_protocols_all_details() {
    let table = parse_protocols_str(&capture_str("established.k8s-1.sock.show_protocols_all.txt")).unwrap();
    let p: Vec<Protocol> = table.iter().collect();
    let names: Vec<&str> = p.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        ["static1", "kernel1", "device1", "direct1", "Node_172_31_13_28", "Node_172_31_13_29", "Node_172_31_13_116"]
    );
    assert_eq!(p[0].details, Details::default(), "a static protocol has none of the BGP details");
    let s = Some;
    assert_eq!(
        p[6].details,
        Details {
            description: s("Connection to BGP peer"),
            bgp_state: s("Established"),
            neighbor_address: s("172.31.13.116"),
            neighbor_as: s("7675"),
            neighbor_id: s("172.31.13.116"),
            session: s("external multihop AS4 add-path-tx"),
            source_address: s("172.31.13.27"),
            last_error: None,
            graceful_restart_active: false,
        }
    );
    assert_eq!(p[5].details.session, s("internal multihop route-reflector AS4 add-path-rx add-path-tx"));
    let table = parse_protocols_str(&capture_str("switch-stopped.k8s-1.sock.show_protocols_all_switch.txt")).unwrap();
    assert_eq!(table.len(), 1);
    let d = table.iter().next().unwrap().details;
    assert_eq!((d.bgp_state, d.last_error), (Some("Active"), Some("Socket: Connection refused")));
    assert!(d.graceful_restart_active);
    assert_eq!(d.neighbor_id, None, "no Neighbor ID while the session is down");
}

#[test]
fn other_replies_are_not_protocol_tables() {
    let err = |name: &str| parse_protocols_str(&capture_str(name)).unwrap_err();
    assert_eq!(
        err("established.k8s-1.sock.greeting.txt"),
        ProtocolsError::NotATable { code: 1, quoted: "\"BIRD 1.6.8 ready.\"".into() }
    );
    let e = err("established.k8s-1.sock.show_route.txt");
    assert!(matches!(e, ProtocolsError::NotATable { code: 1007, .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "BIRD's reply is not a protocol table: it starts with \"172.27.208.0/26    blackhole [static1 14:19:22] * (200)\" \
         (code 1007) instead of the header line (2002)"
    );
    assert!(matches!(err("established.k8s-1.sock.show_status.txt"), ProtocolsError::NotATable { code: 1000, .. }));
    assert_eq!(
        err("established.k8s-1.sock.unknown_command.txt"),
        ProtocolsError::Reply(ReplyError::Bird { code: 9001, message: "syntax error".into() })
    );
    assert!(matches!(
        err("established.k8s-1.sock.show_protocols_nosuch.txt"),
        ProtocolsError::Reply(ReplyError::Bird { code: 9002, .. })
    ));
    let e = parse_protocols_str("8003 No protocols match\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "BIRD answered \"No protocols match\" (8003): no protocol has that name or matches that pattern"
    );
    let p = parse_protocols_str(&capture_str("established.k8s-1.sock.show_protocols_pattern.txt")).unwrap();
    assert_eq!(peer_rows("k8s-1", &p).len(), 3);
}

#[test]
fn bird2_table() {
    // BIRD 2.0.12's layout ("%-10s %-10s %-10s %-6s %-12s  %s"), written by hand from nest/proto.c.
    let reply = "2002-Name       Proto      Table      State  Since         Info\n\
                 1002-device1    Device     ---        up     12:34:56.789  \n \
                 kernel1    Kernel     master4    up     12:34:56.789  \n \
                 Mesh_10_0_0_2 BGP        ---        up     12:34:57.123  Established   \n \
                 Node_fd80_24e2_f998_72d7__2 BGP        ---        start  12:34:57.123  Active        Socket: Connection refused\n\
                 0000 \n";
    let table = parse_protocols_str(reply).unwrap();
    assert_eq!(table.iter().nth(1).unwrap().table, "master4");
    let rows = peer_rows("n1", &table);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].peer_type, rows[0].peer_address.as_str(), rows[0].since.as_str(), rows[0].bgp_state),
        (PeerType::NodeToNodeMesh, "10.0.0.2", "12:34:57.123", BgpState::Established)
    );
    assert_eq!(
        (rows[1].peer_address.as_str(), rows[1].state.as_str(), rows[1].bgp_state, rows[1].info.as_str()),
        ("fd80:24e2:f998:72d7::2", "start", BgpState::Active, "Socket: Connection refused")
    );
    let e = parse_protocols_str("2002-Name Proto Table State Since\n0000 \n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "BIRD's protocol table has the header \"Name Proto Table State Since\"; this program reads BIRD 1.x \
         (\"name proto table state since info\") and BIRD 2.x (\"Name Proto Table State Since Info\")"
    );
}

fn table(rows: &[&str]) -> String {
    let mut s = String::from("2002-name     proto    table    state  since       info\n");
    for (i, r) in rows.iter().enumerate() {
        s.push_str(if i == 0 { "1002-" } else { " " });
        s.push_str(r);
        s.push('\n');
    }
    s + "0000 \n"
}

#[test]
fn names_types_and_addresses() {
    let t = table(&[
        "Mesh_fd80_24e2_f998_72d7__2 BGP      master   up     14:19:24    Established   ",
        "Global_10_0_0_1_port_1790 BGP      master   up     14:19:24    Established   ",
        "Node_fd00__5_port_179 BGP      master   up     14:19:24    Established   ",
        "Node_not_an_ip BGP      master   up     14:19:24    Established   ",
        "Node_10_0_0_1_port_ BGP      master   up     14:19:24    Established   ",
        "Local_Workload_10_0_0_9 BGP      master   up     14:19:24    Established   ",
        "Mesh_ BGP      master   up     14:19:24    Established   ",
        "Mesh_10_0_0_3 Static   master   up     14:19:24    ",
        "bgp1     BGP      master   up     14:19:24    Established   ",
    ]);
    let rows = peer_rows("n", &parse_protocols_str(&t).unwrap());
    let got: Vec<(PeerType, &str)> = rows.iter().map(|r| (r.peer_type, r.peer_address.as_str())).collect();
    assert_eq!(
        got,
        [
            (PeerType::NodeToNodeMesh, "fd80:24e2:f998:72d7::2"),
            (PeerType::Global, "10.0.0.1"),
            (PeerType::NodeSpecific, "fd00::5"),
            (PeerType::NodeSpecific, "not_an_ip"),
            (PeerType::NodeSpecific, "10_0_0_1_port_"),
        ]
    );
    assert_eq!(PeerType::NodeToNodeMesh.label(), "node-to-node mesh");
    assert_eq!(peer_address_from_name("192_168_56_101"), "192.168.56.101");
    assert_eq!(peer_type_of("Mesh_"), None);
    assert_eq!(peer_type_of("Local_Workload_1_2_3_4"), None);
}

#[test]
fn down_and_passive_rows_keep_birds_text() {
    let t = table(&[
        "Node_10_0_0_9 BGP      master   down   14:00:00    ",
        "Node_10_0_0_8 BGP      master   down   14:00:00    Error: No listening socket",
        "Mesh_10_0_0_7 BGP      master   start  14:00:00    Passive       ",
        "Mesh_10_0_0_6 BGP      master   start  14:00:00    Idle          Socket: Connection refused",
        "Mesh_10_0_0_5 BGP      master   start  14:00:00    Weird stuff",
    ]);
    let rows = peer_rows("n", &parse_protocols_str(&t).unwrap());
    let got: Vec<(&str, BgpState, &str, String)> =
        rows.iter().map(|r| (r.state.as_str(), r.bgp_state, r.info.as_str(), r.info_column())).collect();
    assert_eq!(
        got,
        [
            ("down", BgpState::Down, "", String::new()),
            ("down", BgpState::Down, "Error: No listening socket", "Error: No listening socket".into()),
            ("start", BgpState::Passive, "", "Passive".into()),
            ("start", BgpState::Idle, "Socket: Connection refused", "Idle Socket: Connection refused".into()),
            ("start", BgpState::Down, "Weird stuff", "Weird stuff".into()),
        ]
    );
}

#[test]
fn two_word_since_and_odd_tables() {
    let t = table(&["Node_10_0_0_1 BGP      master   up     2026-11-29 14:19:24  Established   "]);
    let parsed = parse_protocols_str(&t).unwrap();
    let p = parsed.iter().next().unwrap();
    assert_eq!((p.since, p.info), ("2026-11-29 14:19:24", "Established   "));
    let t = table(&["Node_10_0_0_1 BGP      master   up     2026-11-29  Established   "]);
    assert_eq!(parse_protocols_str(&t).unwrap().iter().next().unwrap().since, "2026-11-29");
    assert!(parse_protocols_str("0000 \n").unwrap().is_empty());
    let e = parse_protocols_str(&table(&["static1 Static master up"])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 2 of BIRD's protocol table has fewer than 5 columns (name proto table state since): \"static1 Static master up\""
    );
    let e = parse_protocols_str("2002-name proto table state since info\n1006-  BGP state: Up\n0000 \n").unwrap_err();
    assert!(matches!(e, ProtocolsError::DetailBeforeRow { line_no: 2, .. }), "{e:?}");
    let e = parse_protocols_str("2002-name proto table state since info\n1007-x\n0000 \n").unwrap_err();
    assert!(matches!(e, ProtocolsError::UnexpectedLine { line_no: 2, code: 1007, .. }), "{e:?}");
    let e = parse_protocols_str("2002-name proto table state since info\n0000-x\n0000 \n").unwrap_err();
    assert!(matches!(e, ProtocolsError::UnexpectedLine { line_no: 2, code: 0, .. }), "{e:?}");
}

#[test]
fn prefixes_and_garbage_never_panic() {
    let all = capture_str("switch-stopped.k8s-1.sock.show_protocols_all.txt");
    for cut in 0..all.len() {
        let Some(prefix) = all.get(..cut) else { continue };
        assert!(matches!(parse_protocols_str(prefix), Err(ProtocolsError::Reply(ReplyError::Truncated { .. }))));
    }
    for garbage in [
        "",
        "\n",
        "2002-\n0000 \n",
        "2002-name proto table state since info\n1002-é é é é é é\n 1 2 3 4 5\n0000 \n",
        "2002-name proto table state since info\n1002-Node_ BGP m up 1 Established\n1006-:\n1006-Neighbor address:\n0000 \n",
        "2002-name proto table state since info\n1002-a b c d 2026-11-29 1\n1002-a b c d 2026-11-29 12:00:00.\n0000 \n",
        "1002 a b c d e f\n",
        "+\n+1\n0000 \n",
    ] {
        if let Ok(p) = parse_protocols_str(garbage) {
            for r in peer_rows("n", &p) {
                let _ = r.info_column();
            }
        }
    }
    let p = parse_protocols_str(
        "2002-name proto table state since info\n1002-Node_ BGP m up 1 Established\n1002-Node_1_2_3_4 BGP m up 1 Established\n1006-  Neighbor address:\n0000 \n",
    )
    .unwrap();
    assert_eq!(peer_rows("n", &p)[0].peer_address, "1.2.3.4", "an empty Neighbor address falls back to the name");
}
