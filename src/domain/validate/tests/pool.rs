//! Pool screen rules.

use super::*;
use crate::domain::facts::ANN_IPV6;

fn pool(cidr: &str) -> Vec<Finding> {
    validate_pool(&PoolChoice::Cidr(cidr.into()), "172.31.13.116", &demo())
}

#[test]
fn pool_good_choices_are_clean() {
    assert_eq!(pool("172.27.208.0/22"), vec![]);
    assert_eq!(pool("10.244.0.0/16"), vec![]);
    let existing = validate_pool(&PoolChoice::Existing("default-ipv4-ippool".into()), "172.31.13.116", &demo());
    assert_eq!(existing, vec![]);
}

#[test]
fn pool_cidr_syntax() {
    let f = pool("172.27.0/22");
    let f = find(&f, "pool-cidr-syntax");
    assert_eq!(f.message, "'172.27.0/22' is not a CIDR: expected an address and a prefix length like 172.27.208.0/22");
    assert!(f.is_error());
    find(&pool("172.27.208.0"), "pool-cidr-syntax");
    find(&pool("172.27.208.0/33"), "pool-cidr-syntax");
}

#[test]
fn pool_host_bits() {
    let f = pool("172.27.0.208/22");
    assert_eq!(
        find(&f, "pool-host-bits").to_string(),
        "error: '172.27.0.208/22' has host bits set; did you mean 172.27.0.0/22? [pool-host-bits]"
    );
    lacks(&pool("172.27.0.0/22"), "pool-host-bits");
}

#[test]
fn pool_required() {
    assert!(find(&pool("  "), "pool-required").fix.as_deref().unwrap().contains("'default-ipv4-ippool'"));
}

#[test]
fn pool_unknown_lists_pools() {
    let f = validate_pool(&PoolChoice::Existing("nope".into()), "", &demo());
    let f = find(&f, "pool-unknown");
    assert!(f.is_error());
    assert!(f.message.contains("'nope'"));
    assert!(f.fix.as_deref().unwrap().contains("'default-ipv4-ippool' (172.27.208.0/22)"));
}

#[test]
fn pool_disabled() {
    let facts = demo_with(&[(POOL_END, "nodeSelector: all()\n  disabled: true")]);
    let by_name = validate_pool(&PoolChoice::Existing("default-ipv4-ippool".into()), "", &facts);
    assert!(find(&by_name, "pool-disabled").is_error());
    let by_cidr = validate_pool(&PoolChoice::Cidr("172.27.208.0/22".into()), "", &facts);
    find(&by_cidr, "pool-disabled");
    lacks(&pool("172.27.208.0/22"), "pool-disabled");
}

#[test]
fn pool_family() {
    // IPv6 pool, IPv4-only nodes: error.
    let f = validate_pool(&PoolChoice::Cidr("fd00:10::/64".into()), "", &demo());
    let f = find(&f, "pool-family");
    assert!(f.is_error());
    assert!(f.message.contains(ANN_IPV6));
    // IPv6 on every node and an IPv6 switch: fine.
    let v6 = |n: &str| {
        format!("projectcalico.org/IPv4Address: 172.31.13.{n}/24\n    projectcalico.org/IPv6Address: fd00:31::{n}/64")
    };
    let (a, b, c) = (v6("27"), v6("28"), v6("29"));
    let all = demo_with(&[(K8S1_V4, &a), ("projectcalico.org/IPv4Address: 172.31.13.28/24", &b), (K8S3_V4, &c)]);
    let ok = validate_pool(&PoolChoice::Cidr("fd00:10::/64".into()), "fd00:31::1", &all);
    lacks(&ok, "pool-family");
    // IPv6 pool, IPv4 switch: error.
    let f = validate_pool(&PoolChoice::Cidr("fd00:10::/64".into()), "172.31.13.116", &all);
    assert!(find(&f, "pool-family").message.contains("'172.31.13.116'"));
    // IPv6 on one node only: warning naming the others.
    let some = demo_with(&[(K8S1_V4, &a)]);
    let f = validate_pool(&PoolChoice::Cidr("fd00:10::/64".into()), "", &some);
    let f = find(&f, "pool-family");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("'k8s-2', 'k8s-3'"));
}

#[test]
fn pool_link_local() {
    find(&pool("169.254.0.0/16"), "pool-link-local");
    lacks(&pool("169.253.0.0/16"), "pool-link-local");
}

#[test]
fn pool_smaller_than_block() {
    let f = pool("172.27.208.0/27");
    let f = find(&f, "pool-smaller-than-block");
    assert!(f.is_error());
    assert_eq!(f.fix.as_deref(), Some("use a prefix of /26 or shorter, e.g. 172.27.208.0/26"));
    lacks(&pool("172.27.208.0/26"), "pool-smaller-than-block");
    // An existing pool's own block size counts.
    let facts = demo_with(&[("blockSize: 26", "blockSize: 20")]);
    let f = validate_pool(&PoolChoice::Existing("default-ipv4-ippool".into()), "", &facts);
    find(&f, "pool-smaller-than-block");
}

#[test]
fn pool_few_blocks() {
    let f = pool("172.27.208.0/25");
    let f = find(&f, "pool-few-blocks");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("2 block(s) of /26 for 3 nodes"), "{}", f.message);
    assert_eq!(f.fix.as_deref(), Some("use /24 or shorter, e.g. 172.27.208.0/24"));
    lacks(&pool("172.27.208.0/24"), "pool-few-blocks");
}

#[test]
fn pool_prefix_shorter_than_node_subnets() {
    let f = pool("172.27.208.0/24");
    let f = find(&f, "pool-prefix");
    assert!(f.is_error());
    assert!(f.message.contains("172.31.13.0/24"));
    assert_eq!(f.fix.as_deref(), Some("use /23 or shorter, e.g. 172.27.208.0/23"));
    lacks(&pool("172.27.208.0/23"), "pool-prefix");
}

#[test]
fn pool_overlaps_node_subnet() {
    let f = pool("172.31.0.0/16");
    let f = find(&f, "pool-overlaps-node-subnet");
    assert!(f.message.contains("172.31.13.0/24 of 'k8s-1', 'k8s-2', 'k8s-3'"));
    // A node address outside the Calico subnet counts too.
    let facts = demo_with(&[("address: 172.31.13.29}", "address: 192.168.5.5}")]);
    let f = validate_pool(&PoolChoice::Cidr("192.168.0.0/16".into()), "", &facts);
    assert!(find(&f, "pool-overlaps-node-subnet").message.contains("192.168.5.5"));
    lacks(&pool("172.30.0.0/16"), "pool-overlaps-node-subnet");
}

#[test]
fn pool_overlaps_service_cidr() {
    find(&pool("10.96.0.0/16"), "pool-overlaps-service-cidr");
    find(&pool("10.0.0.0/8"), "pool-overlaps-service-cidr");
    lacks(&pool("10.112.0.0/16"), "pool-overlaps-service-cidr");
    let mut unknown = demo();
    unknown.service_cidrs.clear();
    lacks(&validate_pool(&PoolChoice::Cidr("10.96.0.0/16".into()), "", &unknown), "pool-overlaps-service-cidr");
}

#[test]
fn pool_contains_switch() {
    let f = validate_pool(&PoolChoice::Cidr("10.20.0.0/16".into()), "10.20.0.1", &demo());
    assert!(find(&f, "pool-contains-switch").message.contains("10.20.0.1"));
    lacks(&validate_pool(&PoolChoice::Cidr("10.20.0.0/16".into()), "10.21.0.1", &demo()), "pool-contains-switch");
}

#[test]
fn pool_overlaps_other_pools() {
    let f = pool("172.27.0.0/16");
    let f = find(&f, "pool-overlaps-pool");
    assert!(f.is_error());
    assert!(f.message.contains("'default-ipv4-ippool' (172.27.208.0/22)"));
    lacks(&pool("172.27.208.0/22"), "pool-overlaps-pool");
    let facts = demo_plus(
        "apiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata: {name: old}\nspec: {cidr: 172.28.0.0/22, disabled: true}\n",
    );
    let f = validate_pool(&PoolChoice::Cidr("172.28.0.0/16".into()), "", &facts);
    assert_eq!(find(&f, "pool-overlaps-disabled-pool").severity, Severity::Warning);
    lacks(&f, "pool-overlaps-pool");
}
