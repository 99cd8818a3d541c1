//! Unit tests of the doctor's pure parts. The real network cases (open, refused, filtered in
//! network namespaces, another program on port 179, a switch sending the pool) are in
//! `tests/doctor_lab.rs`.

use std::net::{IpAddr, SocketAddr};

use super::listen::{ListenState, is_bird, listening_inodes};
use super::probe::{PortState, Role, classify, sample};
use super::*;
use crate::demo::DemoCluster;
use crate::domain::facts;
use crate::status::bird::reply::parse_reply;

fn demo_facts() -> ClusterFacts {
    facts::detect(DemoCluster::embedded().objects())
}

#[test]
fn proc_net_tcp_listeners_by_port() {
    // /proc/net/tcp as Linux prints it: BIRD on 0.0.0.0:179 (0x00B3), sshd on :22, an established
    // connection to 179 (state 01, not a listener), and a listener on 127.0.0.1:1179.
    let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 00000000:00B3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41234 1 0000000000000000 100 0 0 10 0\n\
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0\n\
   2: 1B0D1FAC:C350 740D1FAC:00B3 01 00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 100 0 0 10 0\n\
   3: 0100007F:049B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0\n";
    assert_eq!(listening_inodes(text, 179), vec![(41234, "0.0.0.0".to_string())]);
    assert_eq!(listening_inodes(text, 1179), vec![(777, "127.0.0.1".to_string())]);
    assert!(listening_inodes(text, 50000).is_empty(), "an established connection is not a listener");
    let v6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 00000000000000000000000000000000:00B3 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n";
    assert_eq!(listening_inodes(v6, 179), vec![(4242, "::".to_string())]);
    assert!(is_bird("bird") && is_bird("bird6\n") && !is_bird("bgpd") && !is_bird("python3"));
}

#[test]
fn this_processes_own_listener_is_found_with_its_program() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let found = listen::check(port);
    assert_eq!(found.state, ListenState::Other, "{found:?}");
    assert_eq!(found.pid, Some(std::process::id()));
    assert_eq!(found.address.as_deref(), Some("127.0.0.1"));
    drop(l);
    assert_eq!(listen::check(port).state, ListenState::Free);
}

#[tokio::test]
async fn loopback_open_and_refused() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open = l.local_addr().unwrap();
    let closed = {
        let t = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        t.local_addr().unwrap()
    };
    let t = |a: SocketAddr| Target { name: "x".into(), role: Role::Node, address: a.ip(), port: a.port() };
    let probes = probe::probe_all(vec![t(open), t(closed)], probe::TIMEOUT).await;
    assert_eq!(probes[0].state, PortState::Open);
    assert_eq!(probes[1].state, PortState::Refused);
}

#[test]
fn connect_errors_are_classified() {
    use std::io::{Error, ErrorKind};
    assert_eq!(classify(&Error::from(ErrorKind::ConnectionRefused)), PortState::Refused);
    assert_eq!(classify(&Error::from(ErrorKind::TimedOut)), PortState::Filtered);
    assert_eq!(classify(&Error::from_raw_os_error(113)), PortState::Unreachable, "EHOSTUNREACH");
    assert_eq!(classify(&Error::from_raw_os_error(101)), PortState::Unreachable, "ENETUNREACH");
    assert!(matches!(classify(&Error::from_raw_os_error(24)), PortState::Error(_)), "EMFILE");
}

#[test]
fn sampling_keeps_every_candidate_and_spreads_the_rest() {
    assert_eq!(sample(10, &[3], 50, false), (0..10).collect::<Vec<_>>());
    let s = sample(5000, &[4999, 7, 7], 50, false);
    assert_eq!(s.len(), 50);
    assert!(s.contains(&4999) && s.contains(&7));
    assert!(s.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
    assert!(s.iter().any(|&i| i > 4000) && s.iter().any(|&i| i < 1000), "spread over the whole list: {s:?}");
    assert_eq!(sample(5000, &[], 50, true).len(), 5000);
    // More candidates than the limit: every candidate still.
    let many: Vec<usize> = (0..80).collect();
    assert_eq!(sample(5000, &many, 50, false).len(), 80);
}

#[test]
fn big_clusters_are_sampled_with_every_candidate() {
    let f = facts::detect(DemoCluster::generated(300).objects());
    let (t, total, sampled, _) = targets(&f, &[], false);
    assert!(sampled);
    assert_eq!(total, 300);
    for n in f.nodes.iter().filter(|n| n.is_control_plane()) {
        assert!(t.iter().any(|x| x.name == n.name), "control-plane node {} is tried", n.name);
    }
    let (t, _, sampled, _) = targets(&f, &[], true);
    assert!(!sampled);
    assert_eq!(t.len(), 300);
}

#[test]
fn peer_addresses_and_switch_arguments() {
    assert_eq!(parse_peer("172.31.13.116"), Some("172.31.13.116:179".parse().unwrap()));
    assert_eq!(parse_peer("172.31.13.116:1179"), Some("172.31.13.116:1179".parse().unwrap()));
    assert_eq!(parse_peer("[fd00::1]:179"), Some("[fd00::1]:179".parse().unwrap()));
    let e = parse_switch_args(&["172.31.13.300".into()]).unwrap_err();
    assert!(e.contains("'172.31.13.300'") && e.contains("--switch 172.31.13.116"), "{e}");
}

#[test]
fn switch_comes_from_bgppeers_that_are_not_nodes() {
    let mut f = demo_facts();
    assert!(switches_from_peers(&f).is_empty());
    f.peers.push(crate::domain::facts::BgpPeerFacts {
        name: "peer-to-switch".into(),
        node: None,
        node_selector: Some("route-reflector == 'true'".into()),
        peer_ip: Some("172.31.13.116".into()),
        asn: None,
        peer_selector: None,
        keep_original_next_hop: false,
        password: None,
    });
    let node_ip = f.nodes[0].bgp_ip().unwrap();
    f.peers.push(crate::domain::facts::BgpPeerFacts {
        name: "to-a-node".into(),
        peer_ip: Some(node_ip.to_string()),
        ..f.peers[0].clone()
    });
    assert_eq!(switches_from_peers(&f), vec!["172.31.13.116:179".parse::<SocketAddr>().unwrap()]);
}

#[test]
fn routes_from_the_switch_that_concern_the_pool() {
    let text = crate::status::bird::tests::capture_str("established.k8s-1.sock.show_route.txt");
    let reply = parse_reply(&text).unwrap();
    let prefixes = crate::status::bird::routes::route_prefixes(&reply);
    let want: Vec<ipnet::IpNet> =
        ["172.27.208.0/26", "172.27.208.64/26", "172.27.208.128/26", "172.27.208.1/32", "172.31.13.0/24"]
            .iter()
            .map(|p| p.parse().unwrap())
            .collect();
    assert_eq!(prefixes, want, "a second path of 172.27.208.128/26 is not a second route");
    let pool: ipnet::IpNet = "172.27.208.0/22".parse().unwrap();
    let got = routes::pool_routes(
        &[
            "0.0.0.0/0".parse().unwrap(),
            "172.27.0.0/16".parse().unwrap(),
            "172.27.208.64/26".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ],
        &pool,
    );
    assert_eq!(
        got,
        vec!["172.27.0.0/16".parse::<ipnet::IpNet>().unwrap(), "172.27.208.64/26".parse().unwrap()],
        "a default route does not count; a covering route and a part of the pool do"
    );
    // BIRD 2's layout: a table line, then routes with `unicast`, the next hop on its own line.
    let bird2 = "1007-Table master4:\n 172.27.208.0/22      unicast [Global_172_31_13_116 10:00:00.123] * (100) [AS7675i]\n 	via 172.31.13.116 on eth0\n0000 \n";
    let r = parse_reply(bird2).unwrap();
    assert_eq!(crate::status::bird::routes::route_prefixes(&r), vec![pool]);
}

fn report_with(states: &[(&str, Role, PortState)], listen: Listen) -> Report {
    let results = states
        .iter()
        .enumerate()
        .map(|(i, (name, role, state))| Probe {
            target: Target {
                name: name.to_string(),
                role: *role,
                address: IpAddr::from([172, 31, 13, 27 + i as u8]),
                port: 179,
            },
            state: state.clone(),
            millis: 1.0,
            explanation: String::new(),
        })
        .collect::<Vec<_>>();
    Report {
        from: "k8s-1".into(),
        simulated: false,
        ports: Ports {
            timeout_ms: 1000,
            probed: results.len(),
            total: results.len(),
            sampled: false,
            results,
            no_address: vec![],
        },
        listen,
        switch_routes: SwitchRoutes::unchecked("test"),
        findings: vec![],
    }
}

#[test]
fn findings_name_the_host_and_the_fix() {
    let free = Listen { port: 179, state: ListenState::Free, program: None, pid: None, address: None };
    let r = report_with(
        &[
            ("k8s-1", Role::Node, PortState::Open),
            ("k8s-2", Role::Node, PortState::Refused),
            ("k8s-3", Role::Node, PortState::Filtered),
        ],
        free.clone(),
    );
    let f = findings::network(&r, false);
    let filtered = f.iter().find(|x| x.rule == "bgp-port-filtered").expect("a filtered finding");
    assert!(filtered.is_error());
    assert!(filtered.message.contains("'k8s-3' (172.31.13.29)"), "{}", filtered.message);
    assert!(filtered.fix.as_deref().unwrap().contains("open TCP 179 on 'k8s-3' (172.31.13.29)"), "{filtered}");
    let refused = f.iter().find(|x| x.rule == "bgp-port-refused").unwrap();
    assert_eq!(refused.severity, crate::domain::findings::Severity::Info, "expected before the backend is bird");
    assert!(refused.fix.as_deref().unwrap().contains("until calico-node's backend is bird"));
    // Once the backend is bird, a node refusing BGP is a warning.
    let f = findings::network(&r, true);
    assert_eq!(
        f.iter().find(|x| x.rule == "bgp-port-refused").unwrap().severity,
        crate::domain::findings::Severity::Warning
    );

    let taken = Listen {
        port: 179,
        state: ListenState::Other,
        program: Some("bgpd".into()),
        pid: Some(7),
        address: Some("0.0.0.0".into()),
    };
    let r = report_with(&[], taken);
    let f = findings::network(&r, true);
    let t = f.iter().find(|x| x.rule == "bgp-listen-port-taken").unwrap();
    assert!(t.is_error() && t.message.contains("'bgpd'") && t.message.contains("pid 7"), "{t}");
    assert!(t.fix.as_deref().unwrap().contains("listenPort"), "{t}");
    assert!(f.iter().any(|x| x.rule == "switch-unknown"));
}

#[tokio::test]
async fn the_demo_is_simulated_and_sends_nothing() {
    let f = demo_facts();
    let opts = Options { switch: vec!["172.31.13.116:179".parse().unwrap()], simulate: true, ..Options::default() };
    let r = check(&f, &opts).await;
    assert!(r.simulated);
    assert_eq!(r.ports.results.len(), f.nodes.len() + 1);
    assert!(r.ports.results.iter().all(|p| p.millis == 0.4), "made-up timings, nothing was sent");
    let cluster = crate::domain::validate::preflight(&f);
    assert_eq!(r.findings[r.findings.len() - cluster.len()..], cluster[..], "the cluster's own findings come last");
}
