//! Tests of the switch configurations: a snapshot per vendor, properties over every variant of the
//! parameters, and how the parameters are derived from a plan.

use super::*;
use crate::domain::answers::{Password, TargetPool, ValidAnswers};
use crate::domain::facts::{ClusterFacts, InstallKind, node_facts};

fn nb(node: &str, ip: &str) -> SwitchNeighbor {
    SwitchNeighbor { node: node.into(), ip: ip.parse().unwrap() }
}

fn demo() -> SwitchParams {
    SwitchParams {
        switch_ip: "172.31.13.116".parse().unwrap(),
        switch_as: Asn(7675),
        cluster_as: Asn(64512),
        neighbors: vec![nb("k8s-1", "172.31.13.27"), nb("k8s-2", "172.31.13.28")],
        pool: "172.27.208.0/22".parse().unwrap(),
        block_size: 26,
        password: false,
        multihop: false,
        keep_original_next_hop: true,
    }
}

fn v6_password_multihop() -> SwitchParams {
    SwitchParams {
        switch_ip: "fd00:31:13::116".parse().unwrap(),
        neighbors: vec![nb("k8s-1", "fd00:31:13::27"), nb("k8s-2", "fd00:31:13::28")],
        pool: "fd00:27:208::/48".parse().unwrap(),
        block_size: 122,
        password: true,
        multihop: true,
        ..demo()
    }
}

/// Everything the engineer sees for one vendor, as one text.
fn full_text(s: &SwitchConfig) -> String {
    format!(
        "{}\n--- verify\n{}\n--- notes\n{}\n",
        s.config,
        s.verify_commands.join("\n"),
        s.notes.iter().map(|n| format!("- {n}")).collect::<Vec<_>>().join("\n")
    )
}

#[test]
fn demo_snapshots_every_vendor() {
    for s in render_all(&demo()) {
        let name = format!("switch_{}_demo", s.vendor.id().replace('-', "_"));
        crate::assert_snap!(name, full_text(&s));
    }
}

#[test]
fn ipv6_password_multihop_snapshots() {
    let p = v6_password_multihop();
    crate::assert_snap!("switch_frr_v6_password_multihop", full_text(&render(Vendor::Frr, &p)));
    crate::assert_snap!("switch_juniper_junos_v6_password_multihop", full_text(&render(Vendor::JuniperJunos, &p)));
}

fn variants() -> Vec<SwitchParams> {
    let mut out = Vec::new();
    for base in [demo(), v6_password_multihop()] {
        for password in [false, true] {
            for multihop in [false, true] {
                for keep in [false, true] {
                    out.push(SwitchParams { password, multihop, keep_original_next_hop: keep, ..base.clone() });
                }
            }
        }
    }
    out
}

#[test]
fn placeholder_appears_exactly_when_a_password_is_set() {
    for p in variants() {
        for s in render_all(&p) {
            assert_eq!(s.config.contains(PASSWORD_PLACEHOLDER), p.password, "{:?} {p:?}", s.vendor);
            assert_eq!(full_text(&s).contains(PASSWORD_PLACEHOLDER), p.password, "{:?}", s.vendor);
        }
    }
}

#[test]
fn every_config_names_every_neighbor_and_the_pool() {
    for p in variants() {
        for s in render_all(&p) {
            for n in &p.neighbors {
                assert!(s.config.contains(&n.ip.to_string()), "{:?} lacks {}", s.vendor, n.ip);
                assert!(s.config.contains(&n.node), "{:?} lacks {}", s.vendor, n.node);
            }
            let pool = p.pool.to_string();
            let (addr, len) = pool.split_once('/').unwrap();
            assert!(
                s.config.contains(&pool) || s.config.contains(&format!("{addr} {len}")),
                "{:?} lacks the pool",
                s.vendor
            );
            assert!(s.config.contains(&p.switch_as.to_string()), "{:?}", s.vendor);
            assert!(s.config.contains(&p.cluster_as.to_string()), "{:?}", s.vendor);
        }
    }
}

#[test]
fn every_vendor_has_verify_commands_and_notes() {
    let all = render_all(&demo());
    assert_eq!(all.len(), Vendor::ALL.len());
    for s in all {
        assert!(!s.verify_commands.is_empty(), "{:?}", s.vendor);
        assert!(s.verify_commands.iter().all(|c| !c.trim().is_empty()), "{:?}", s.vendor);
        assert!(!s.notes.is_empty(), "{:?}", s.vendor);
        assert!(s.config.ends_with('\n'), "{:?}", s.vendor);
    }
}

#[test]
fn multihop_only_when_asked() {
    let words = ["multihop", "ebgp-max-hop"];
    for p in variants() {
        for s in render_all(&p) {
            let has = words.iter().any(|w| s.config.contains(w));
            assert_eq!(has, p.multihop, "{:?} multihop={}", s.vendor, p.multihop);
        }
    }
}

#[test]
fn block_size_equal_to_pool_length_renders_no_ge() {
    let p = SwitchParams { pool: "10.0.0.0/26".parse().unwrap(), ..demo() };
    let ios = render(Vendor::CiscoIos, &p).config;
    assert!(ios.contains("permit 10.0.0.0/26 le 32\n"), "{ios}");
    let junos = render(Vendor::JuniperJunos, &p).config;
    assert!(junos.contains("route-filter 10.0.0.0/26 orlonger\n"), "{junos}");
    let vyos = render(Vendor::Vyos, &p).config;
    assert!(!vyos.contains(" ge '") && vyos.contains(" le '32'"), "{vyos}");
}

fn node(name: &str, v4: &str, v6: &str) -> crate::domain::facts::NodeFacts {
    node_facts(&serde_json::json!({
        "metadata": {"name": name, "annotations": {
            "projectcalico.org/IPv4Address": v4,
            "projectcalico.org/IPv6Address": v6,
        }}
    }))
    .unwrap()
}

fn facts(nodes: Vec<crate::domain::facts::NodeFacts>) -> ClusterFacts {
    ClusterFacts {
        context: "demo".into(),
        server: "https://demo".into(),
        kubernetes_version: "v1.33.0".into(),
        calico_version: None,
        install: InstallKind::Manifest,
        backend: crate::domain::facts::Backend::Bird,
        calico_namespace: "kube-system".into(),
        nodes,
        pools: Vec::new(),
        bgp_config: None,
        peers: Vec::new(),
        installation: None,
        service_cidrs: Vec::new(),
        ip_autodetection: None,
    }
}

fn plan(switch_ip: &str, pool: &str, block: u8, password: bool) -> Plan {
    Plan {
        answers: ValidAnswers {
            reflectors: vec!["k8s-1".into(), "k8s-2".into()],
            cluster_id: "244.0.0.1".parse().unwrap(),
            switch_ip: switch_ip.parse().unwrap(),
            switch_as: Asn(7675),
            cluster_as: Asn(64512),
            password: password.then(|| Password("s3cret".into())),
            keep_original_next_hop: true,
            pool: TargetPool { name: "p".into(), cidr: pool.parse().unwrap(), block_size: block, exists: true },
            vendor: Vendor::Frr,
        },
        steps: Vec::new(),
        notes: Vec::new(),
        client_route: String::new(),
    }
}

#[test]
fn params_from_plan_and_facts() {
    let f = facts(vec![
        node("k8s-1", "172.31.13.27/24", "fd00:31:13::27/64"),
        node("k8s-2", "172.31.13.28/24", "fd00:31:13::28/64"),
        node("k8s-3", "172.31.13.29/24", "fd00:31:13::29/64"),
    ]);
    let p = switch_params(&plan("172.31.13.116", "172.27.208.0/22", 26, false), &f);
    assert_eq!(p, demo());

    let p = switch_params(&plan("fd00:31:13::116", "fd00:27:208::/48", 122, true), &f);
    assert_eq!(p, SwitchParams { multihop: false, ..v6_password_multihop() });

    // The switch is outside the reflectors' subnet: multihop.
    let p = switch_params(&plan("10.9.9.1", "172.27.208.0/22", 26, false), &f);
    assert!(p.multihop);
    assert_eq!(p.neighbors.len(), 2);
}

#[test]
fn params_never_carry_the_password_text() {
    let f = facts(vec![node("k8s-1", "172.31.13.27/24", "fd00:31:13::27/64")]);
    let p = switch_params(&plan("172.31.13.116", "172.27.208.0/22", 26, true), &f);
    assert!(p.password);
    // k8s-2 has no facts: left out.
    assert_eq!(p.neighbors, vec![nb("k8s-1", "172.31.13.27")]);
    assert!(!p.multihop);
    for s in render_all(&p) {
        assert!(!full_text(&s).contains("s3cret"), "{:?}", s.vendor);
    }
}
