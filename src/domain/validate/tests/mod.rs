//! Tests of the validation rules, one file per screen; the fixtures here start from the demo
//! cluster (`assets/demo-cluster.yaml`) and answers that raise no finding at all.

mod peering;
mod pool;
mod preflight;
mod reflectors;

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::domain::answers::{Answers, Password, PoolChoice, TargetPool, Vendor};
use crate::domain::asn::Asn;
use crate::domain::facts::{ClusterFacts, detect};
use crate::domain::findings::{Finding, Severity, has_errors};
use crate::domain::objects::{ObjectSet, parse_yaml_objects};

const DEMO: &str = include_str!("../../../../assets/demo-cluster.yaml");

fn facts_of(yaml: &str) -> ClusterFacts {
    let mut set = ObjectSet::default();
    set.meta.service_cidrs = vec!["10.96.0.0/12".into()];
    for obj in parse_yaml_objects(yaml).expect("test YAML parses") {
        set.insert(obj);
    }
    detect(&set)
}

fn demo() -> ClusterFacts {
    facts_of(DEMO)
}

/// The demo with each `from` text (which must occur) replaced by `to`.
fn demo_with(edits: &[(&str, &str)]) -> ClusterFacts {
    let mut text = DEMO.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "demo has no {from:?}");
        text = text.replacen(from, to, 1);
    }
    facts_of(&text)
}

/// The demo plus more YAML documents.
fn demo_plus(extra: &str) -> ClusterFacts {
    facts_of(&format!("{DEMO}\n---\n{extra}"))
}

const K8S1_V4: &str = "projectcalico.org/IPv4Address: 172.31.13.27/24";
const K8S3_V4: &str = "projectcalico.org/IPv4Address: 172.31.13.29/24";
const POOL_END: &str = "nodeSelector: all()";

const BGP_CONFIG: &str = "apiVersion: crd.projectcalico.org/v1\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {asNumber: 64513, nodeToNodeMeshEnabled: false}\n";

/// Good answers for the demo: no finding at all.
fn answers() -> Answers {
    Answers {
        reflectors: vec!["k8s-2".into(), "k8s-1".into()],
        switch_ip: "172.31.13.116".into(),
        switch_as: "65000".into(),
        pool: PoolChoice::Existing("default-ipv4-ippool".into()),
        ..Answers::default()
    }
}

fn rules(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.rule).collect()
}

/// The one finding of `rule`; panics listing all findings otherwise.
fn find<'a>(findings: &'a [Finding], rule: &str) -> &'a Finding {
    let hits: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule).collect();
    assert_eq!(hits.len(), 1, "expected one {rule}, got {findings:#?}");
    hits[0]
}

fn lacks(findings: &[Finding], rule: &str) {
    assert!(!findings.iter().any(|f| f.rule == rule), "unexpected {rule}: {findings:#?}");
}

// ---- validate() -------------------------------------------------------------------------

#[test]
fn demo_answers_are_clean_and_valid() {
    let v = validate(&answers(), &demo());
    assert_eq!(v.findings, vec![]);
    let valid = v.valid.expect("valid");
    assert_eq!(valid.reflectors, vec!["k8s-2", "k8s-1"]);
    assert_eq!(valid.cluster_id, Ipv4Addr::new(244, 0, 0, 1));
    assert_eq!(valid.switch_ip, "172.31.13.116".parse::<IpAddr>().unwrap());
    assert_eq!(valid.switch_as, Asn(65000));
    assert_eq!(valid.cluster_as, Asn(64512));
    assert_eq!(valid.password, None);
    assert!(valid.keep_original_next_hop);
    assert_eq!(valid.vendor, Vendor::CiscoIos);
    assert_eq!(
        valid.pool,
        TargetPool {
            name: "default-ipv4-ippool".into(),
            cidr: "172.27.208.0/22".parse().unwrap(),
            block_size: 26,
            exists: true
        }
    );
}

#[test]
fn validate_resolves_new_pool_and_password() {
    let mut a = answers();
    a.pool = PoolChoice::Cidr("172.27.212.0/22".into());
    a.password = Password("s3cret".into());
    a.cluster_as = "1.1000".into();
    let v = validate(&a, &demo());
    assert_eq!(rules(&v.findings), vec!["as-public"]);
    let valid = v.valid.expect("warnings do not block");
    assert_eq!(valid.pool.name, "bgp-ipv4-172-27-212-0-22");
    assert!(!valid.pool.exists);
    assert_eq!(valid.pool.block_size, 26);
    assert_eq!(valid.password, Some(Password("s3cret".into())));
    assert_eq!(valid.cluster_as, Asn(66536));
    assert!(v.findings[0].message.starts_with("'1.1000' (AS 66536) is a public AS number"));
    // A typed CIDR equal to an existing pool is that pool.
    a.pool = PoolChoice::Cidr("172.27.208.0/22".into());
    assert_eq!(validate(&a, &demo()).valid.unwrap().pool.name, "default-ipv4-ippool");
}

#[test]
fn validate_blocks_on_errors() {
    let mut a = answers();
    a.switch_as = "0".into();
    let v = validate(&a, &demo());
    assert!(v.valid.is_none());
    assert!(has_errors(&v.findings));
}

#[test]
fn validate_reports_switch_in_pool_once() {
    let mut a = answers();
    a.switch_ip = "172.27.208.10".into();
    let v = validate(&a, &demo());
    find(&v.findings, "switch-in-pool");
    lacks(&v.findings, "pool-contains-switch");
    assert!(v.valid.is_none());
}

#[test]
fn validate_uses_answered_cluster_as_for_reflectors() {
    let facts = demo_with(&[(
        K8S1_V4,
        "projectcalico.org/IPv4Address: 172.31.13.27/24\n    projectcalico.org/ASNumber: \"65010\"",
    )]);
    let mut a = answers();
    assert_eq!(find(&validate(&a, &facts).findings, "rr-as-differs").severity, Severity::Error);
    a.cluster_as = "65010".into();
    lacks(&validate(&a, &facts).findings, "rr-as-differs");
}

#[test]
fn new_pool_names() {
    assert_eq!(new_pool_name(&"172.27.208.0/22".parse().unwrap()), "bgp-ipv4-172-27-208-0-22");
    assert_eq!(new_pool_name(&"fd00:10::/64".parse().unwrap()), "bgp-ipv6-fd00-10---64");
}

#[test]
fn resolve_pool_only_without_resolution_errors() {
    let facts = demo();
    assert!(resolve_pool(&PoolChoice::Cidr("172.27.0.208/22".into()), &facts).is_none());
    assert!(resolve_pool(&PoolChoice::Existing("nope".into()), &facts).is_none());
    assert!(resolve_pool(&PoolChoice::Cidr("10.1.0.0/16".into()), &facts).is_some());
}
