//! Peering screen rules: switch IP, AS numbers, password; the keepOriginalNextHop default.

use super::*;
use crate::domain::findings::Field;

fn peering(edit: impl FnOnce(&mut Answers)) -> Vec<Finding> {
    peering_on(&demo(), edit)
}

fn peering_on(facts: &ClusterFacts, edit: impl FnOnce(&mut Answers)) -> Vec<Finding> {
    let mut a = answers();
    edit(&mut a);
    validate_peering(&a, facts)
}

// ---- switch IP --------------------------------------------------------------------------

fn switch(ip: &str) -> Vec<Finding> {
    peering(|a| a.switch_ip = ip.into())
}

#[test]
fn switch_ip_syntax() {
    find(&switch("172.31.13"), "switch-ip-syntax");
    find(&switch(""), "switch-ip-syntax");
    let f = switch("172.31.13.116/24");
    assert_eq!(find(&f, "switch-ip-syntax").fix.as_deref(), Some("did you mean 172.31.13.116?"));
    assert_eq!(switch(" 172.31.13.116 "), vec![]);
}

#[test]
fn switch_ip_not_unicast() {
    for ip in ["0.0.0.0", "127.0.0.1", "224.0.0.5", "255.255.255.255", "::1", "::", "ff02::1"] {
        assert!(find(&switch(ip), "switch-ip-not-unicast").is_error(), "{ip}");
    }
}

#[test]
fn switch_ip_subnet_edge() {
    assert!(find(&switch("172.31.13.0"), "switch-ip-subnet-edge").message.contains("network"));
    assert!(find(&switch("172.31.13.255"), "switch-ip-subnet-edge").message.contains("broadcast"));
    lacks(&switch("172.31.13.1"), "switch-ip-subnet-edge");
}

#[test]
fn switch_ip_is_node() {
    assert!(find(&switch("172.31.13.27"), "switch-ip-is-node").message.contains("'k8s-1'"));
    lacks(&switch("172.31.13.26"), "switch-ip-is-node");
}

#[test]
fn switch_in_pool() {
    // Inside an existing pool, whichever pool is chosen.
    let f = peering(|a| {
        a.switch_ip = "172.27.208.10".into();
        a.pool = PoolChoice::Cidr("10.244.0.0/16".into());
    });
    find(&f, "switch-in-pool");
    // Inside the typed new pool.
    let f = peering(|a| {
        a.switch_ip = "10.244.0.1".into();
        a.pool = PoolChoice::Cidr("10.244.0.0/16".into());
    });
    assert!(find(&f, "switch-in-pool").message.contains("'bgp-ipv4-10-244-0-0-16'"));
    lacks(&switch("172.31.13.116"), "switch-in-pool");
}

#[test]
fn switch_ip_off_subnet() {
    let f = switch("10.0.0.1");
    let f = find(&f, "switch-ip-off-subnet");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("multihop"));
    lacks(&switch("172.31.13.116"), "switch-ip-off-subnet");
}

// ---- AS numbers -------------------------------------------------------------------------

#[test]
fn as_syntax() {
    let f = peering(|a| a.switch_as = "AS7675".into());
    let f = find(&f, "as-syntax");
    assert_eq!(f.field, Field::SwitchAs);
    assert_eq!(f.message, Asn::parse("AS7675").unwrap_err().to_string());
    let f = peering(|a| a.switch_as = "".into());
    assert_eq!(find(&f, "as-syntax").message, "an AS number is required");
    let f = peering(|a| a.cluster_as = "1.70000".into());
    assert_eq!(find(&f, "as-syntax").field, Field::ClusterAs);
    lacks(&peering(|a| a.cluster_as = "".into()), "as-syntax");
}

#[test]
fn as_reserved() {
    for n in ["0", "23456", "65535", "4294967295", "0.23456"] {
        let f = peering(|a| a.switch_as = n.into());
        let f = find(&f, "as-reserved");
        assert!(f.is_error() && f.message.starts_with(&format!("'{n}'")), "{f}");
        let f = peering(|a| a.cluster_as = n.into());
        assert_eq!(find(&f, "as-reserved").field, Field::ClusterAs);
    }
    assert!(find(&peering(|a| a.switch_as = "23456".into()), "as-reserved").message.contains("AS_TRANS"));
    lacks(&peering(|a| a.switch_as = "65534".into()), "as-reserved");
}

#[test]
fn as_documentation() {
    for n in ["64496", "64511", "65536", "65551"] {
        let f = peering(|a| a.cluster_as = n.into());
        assert_eq!(find(&f, "as-documentation").severity, Severity::Warning, "{n}");
    }
    lacks(&peering(|a| a.cluster_as = "64512".into()), "as-documentation");
}

#[test]
fn as_public() {
    let f = peering(|a| a.switch_as = "7675".into());
    let f = find(&f, "as-public");
    assert_eq!((f.severity, f.field), (Severity::Warning, Field::SwitchAs));
    let f = peering(|a| a.cluster_as = "7675".into());
    assert!(find(&f, "as-public").message.contains("private-use"));
    for n in ["64512", "65534", "4200000000", "4294967294"] {
        lacks(&peering(|a| a.cluster_as = n.into()), "as-public");
    }
}

#[test]
fn ibgp_with_switch() {
    let f = peering(|a| {
        a.switch_as = "65000".into();
        a.cluster_as = "65000".into();
    });
    let f = find(&f, "ibgp-with-switch");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("'65000'") && f.message.contains("route-reflector client"));
    // Empty cluster AS means the current one (64512).
    find(&peering(|a| a.switch_as = "64512".into()), "ibgp-with-switch");
    lacks(&peering(|a| a.switch_as = "65000".into()), "ibgp-with-switch");
}

#[test]
fn cluster_as_change() {
    let facts = demo_plus(BGP_CONFIG);
    let f = peering_on(&facts, |a| a.cluster_as = "64600".into());
    let f = find(&f, "cluster-as-change");
    assert!(f.message.contains("'64600'") && f.message.contains("64513"));
    assert!(f.fix.as_deref().unwrap().contains("keeps the existing AS 64513"));
    lacks(&peering_on(&facts, |a| a.cluster_as = "".into()), "cluster-as-change");
    lacks(&peering_on(&facts, |a| a.cluster_as = "64513".into()), "cluster-as-change");
    // No BGPConfiguration: nothing to change.
    lacks(&peering(|a| a.cluster_as = "64600".into()), "cluster-as-change");
}

#[test]
fn node_as_differs() {
    let facts = demo_with(&[(
        K8S3_V4,
        "projectcalico.org/IPv4Address: 172.31.13.29/24\n    projectcalico.org/ASNumber: \"65010\"",
    )]);
    let f = peering_on(&facts, |_| {});
    let f = find(&f, "node-as-differs");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("'k8s-3' (AS 65010)"));
    lacks(&peering_on(&facts, |a| a.cluster_as = "65010".into()), "node-as-differs");
    // A chosen reflector gets rr-as-differs instead.
    lacks(&peering_on(&facts, |a| a.reflectors.push("k8s-3".into())), "node-as-differs");
}

// ---- password ---------------------------------------------------------------------------

#[test]
fn password_length() {
    lacks(&peering(|a| a.password = Password("x".repeat(80))), "password-too-long");
    let secret = "y".repeat(81);
    let f = peering(|a| a.password = Password(secret.clone()));
    let f = find(&f, "password-too-long");
    assert!(f.is_error() && f.message.contains("81"));
    assert!(!f.to_string().contains(&secret));
}

#[test]
fn password_characters() {
    let f = peering(|a| a.password = Password("päss".into()));
    let f = find(&f, "password-characters");
    assert!(f.message.contains("position 2"));
    assert!(!f.to_string().contains("päss"));
    find(&peering(|a| a.password = Password("tab\there".into())), "password-characters");
    lacks(&peering(|a| a.password = Password("Az09 !~{}".into())), "password-characters");
}

#[test]
fn keep_next_hop_default() {
    assert!(default_keep_next_hop("172.31.13.116", &demo()));
    assert!(!default_keep_next_hop("10.0.0.1", &demo()));
    assert!(!default_keep_next_hop("switch", &demo()));
    assert!(!default_keep_next_hop("", &demo()));
}
