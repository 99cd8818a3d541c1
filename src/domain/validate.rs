//! Validation rules: pure functions from answers + facts to findings.
//!
//! Every finding quotes the value it judged in single quotes, names its rule (`Finding::rule`),
//! says what was expected and proposes a fix. The BGP password is never quoted: findings about it
//! give its length or the position of the bad character.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::answers::{Answers, PoolChoice, TargetPool, ValidAnswers};
use super::asn::Asn;
use super::facts::{
    ANN_ASN, ANN_IPV4, ANN_IPV6, ANN_RR_CLUSTER_ID, Backend, ClusterFacts, DEFAULT_BLOCK_SIZE_V4,
    DEFAULT_BLOCK_SIZE_V6, EncapMode, InstallKind, LABEL_RR, NodeFacts,
};
use super::findings::{Field, Finding, Severity, has_errors};

/// Calico refuses BGP passwords longer than this (BGPPeer `password`, calico-bgp.md §4.3).
pub const MAX_PASSWORD_LEN: usize = 80;

/// Result of checking all answers: findings, and the validated answers when no finding is an error.
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    pub findings: Vec<Finding>,
    pub valid: Option<ValidAnswers>,
}

/// Every rule over every answer.
pub fn validate(answers: &Answers, facts: &ClusterFacts) -> Validation {
    let cluster_as = effective_cluster_as(&answers.cluster_as, facts).unwrap_or_else(|| facts.cluster_as());
    let mut findings = reflector_rules(&answers.reflectors, &answers.cluster_id, cluster_as, facts);
    findings.extend(validate_peering(answers, facts));
    // The switch-inside-pool problem is reported once, next to the switch IP, when both see it.
    let switch_in_pool = findings.iter().any(|f| f.rule == "switch-in-pool");
    findings.extend(
        validate_pool(&answers.pool, &answers.switch_ip, facts)
            .into_iter()
            .filter(|f| !(switch_in_pool && f.rule == "pool-contains-switch")),
    );
    let valid = if has_errors(&findings) { None } else { valid_answers(answers, facts) };
    Validation { findings, valid }
}

/// Route reflectors screen: the chosen nodes and the cluster ID.
///
/// Per-node AS numbers are compared with the cluster's current AS; [`validate`] uses the answered one.
pub fn validate_reflectors(reflectors: &[String], cluster_id: &str, facts: &ClusterFacts) -> Vec<Finding> {
    reflector_rules(reflectors, cluster_id, facts.cluster_as(), facts)
}

/// Peering screen: switch IP, switch AS, cluster AS, password.
pub fn validate_peering(answers: &Answers, facts: &ClusterFacts) -> Vec<Finding> {
    let target = resolve(&answers.pool, facts).0;
    let mut out = switch_ip_rules(&answers.switch_ip, target.as_ref(), facts);
    let switch_as = as_rules(&answers.switch_as, Field::SwitchAs, &mut out);
    let typed_cluster_as = if answers.cluster_as.trim().is_empty() {
        None
    } else {
        as_rules(&answers.cluster_as, Field::ClusterAs, &mut out)
    };
    let cluster_as_ok = answers.cluster_as.trim().is_empty() || typed_cluster_as.is_some();
    let cluster_as = typed_cluster_as.unwrap_or_else(|| facts.cluster_as());
    if let (Some(sw), true) = (switch_as, cluster_as_ok)
        && sw == cluster_as
    {
        out.push(
            Finding::warning(
                Field::ClusterAs,
                "ibgp-with-switch",
                format!(
                    "the cluster AS '{cluster_as}' equals the switch AS: the sessions to the switch become iBGP, \
                     so the route reflectors treat the switch as one of their route-reflector clients and \
                     keepOriginalNextHop has no effect"
                ),
            )
            .fix(format!(
                "give the cluster its own private AS (e.g. {}) for the intended eBGP design, or confirm \
                 that the switch is meant to run iBGP in the cluster's AS",
                private_as_example(sw)
            )),
        );
    }
    if let (Some(typed), Some(existing)) = (typed_cluster_as, facts.bgp_config.as_ref().and_then(|c| c.asn))
        && typed != existing
    {
        out.push(
            Finding::warning(
                Field::ClusterAs,
                "cluster-as-change",
                format!(
                    "'{}' differs from AS {existing} set in BGPConfiguration 'default': changing the cluster AS \
                     restarts every BGP session in the cluster",
                    answers.cluster_as.trim()
                ),
            )
            .fix(format!("leave the field empty (or type {existing}) and the plan keeps the existing AS {existing}")),
        );
    }
    if cluster_as_ok {
        node_as_rule(answers, cluster_as, facts, &mut out);
    }
    password_rules(&answers.password.0, &mut out);
    out
}

/// Pool screen: the chosen or typed pool, against nodes, services, switch IP and other pools.
pub fn validate_pool(pool: &PoolChoice, switch_ip: &str, facts: &ClusterFacts) -> Vec<Finding> {
    let (target, mut out) = resolve(pool, facts);
    let Some(t) = target else { return out };
    let cidr = t.cidr;
    let label = match pool {
        PoolChoice::Existing(name) => format!("pool '{}' ({cidr})", name.trim()),
        PoolChoice::Cidr(_) => format!("'{cidr}'"),
    };
    let fam = family(&cidr.addr());
    let switch = switch_ip.trim().parse::<IpAddr>().ok();

    // Address family: the nodes (and the switch) must speak the pool's family.
    let annotation = if cidr.addr().is_ipv4() { ANN_IPV4 } else { ANN_IPV6 };
    let lacking: Vec<&str> =
        facts.nodes.iter().filter(|n| node_net(n, &cidr).is_none()).map(|n| n.name.as_str()).collect();
    if !facts.nodes.is_empty() && lacking.len() == facts.nodes.len() {
        out.push(
            Finding::error(
                Field::Pool,
                "pool-family",
                format!("{label} is an {fam} pool but no node has a {annotation} annotation, so no node can route it"),
            )
            .fix(format!("choose a range of the nodes' family ({})", node_families(facts))),
        );
    } else if !lacking.is_empty() {
        out.push(
            Finding::warning(
                Field::Pool,
                "pool-family",
                format!(
                    "{label} is an {fam} pool but node(s) {} have no {annotation} annotation, so their pods \
                     would not be routed over BGP",
                    quote_list(&lacking)
                ),
            )
            .fix("check calico-node runs on those nodes and detects their address, or choose another range"),
        );
    }
    if let Some(sw) = switch
        && sw.is_ipv4() != cidr.addr().is_ipv4()
    {
        out.push(
            Finding::error(
                Field::Pool,
                "pool-family",
                format!(
                    "{label} is an {fam} pool but the switch address '{sw}' is {}: Calico advertises a pool only \
                     over sessions of its own family",
                    family(&sw)
                ),
            )
            .fix(format!("choose an {} range, or peer with the switch's {fam} address", family(&sw))),
        );
    }

    // Link-local ranges are refused by Calico.
    let link_local: IpNet = if cidr.addr().is_ipv4() {
        "169.254.0.0/16".parse().expect("valid")
    } else {
        "fe80::/10".parse().expect("valid")
    };
    if overlaps(&cidr, &link_local) {
        out.push(
            Finding::error(
                Field::Pool,
                "pool-link-local",
                format!("{label} overlaps the link-local range {link_local}, which Calico refuses for pools"),
            )
            .fix("choose a private range such as 10.x or 172.16-31.x instead"),
        );
    }

    // Blocks: the pool is carved into blocks of `block_size`, one or more per node.
    let block = t.block_size;
    if cidr.prefix_len() > block {
        out.push(
            Finding::error(
                Field::Pool,
                "pool-smaller-than-block",
                format!("{label} is smaller than one IPAM block (/{block}), so Calico cannot allocate from it"),
            )
            .fix(format!("use a prefix of /{block} or shorter, e.g. {}", with_prefix(&cidr, block))),
        );
    } else {
        let blocks = 1u128.checked_shl(u32::from(block - cidr.prefix_len())).unwrap_or(u128::MAX);
        let nodes = facts.nodes.len() as u128;
        if blocks < nodes {
            let bits = (128 - (nodes - 1).leading_zeros()) as u8;
            let suggest = block.saturating_sub(bits);
            out.push(
                Finding::warning(
                    Field::Pool,
                    "pool-few-blocks",
                    format!(
                        "{label} holds only {blocks} block(s) of /{block} for {nodes} nodes: nodes without a block \
                         borrow single addresses, which are advertised as /32 routes"
                    ),
                )
                .fix(format!("use /{suggest} or shorter, e.g. {}", with_prefix(&cidr, suggest))),
            );
        }
    }

    // The pool must be larger than every node subnet of its family.
    if let Some((node, net)) = facts
        .nodes
        .iter()
        .filter_map(|n| node_net(n, &cidr).map(|net| (n, net)))
        .min_by_key(|(_, net)| net.prefix_len())
        && cidr.prefix_len() >= net.prefix_len()
    {
        let suggest = net.prefix_len().saturating_sub(1);
        out.push(
            Finding::error(
                Field::Pool,
                "pool-prefix",
                format!(
                    "{label} is not larger than the subnet {} of node '{}': a pool's prefix must be shorter than \
                     every node subnet's (/{})",
                    net.trunc(),
                    node.name,
                    net.prefix_len()
                ),
            )
            .fix(format!("use /{suggest} or shorter, e.g. {}", with_prefix(&cidr, suggest))),
        );
    }

    // Overlaps: node subnets and node addresses.
    let mut reported_nodes: Vec<&str> = Vec::new();
    for (net, names) in node_subnets(facts) {
        if overlaps(&cidr, &net) {
            reported_nodes.extend(names.iter().copied());
            out.push(
                Finding::error(
                    Field::Pool,
                    "pool-overlaps-node-subnet",
                    format!("{label} overlaps the node subnet {net} of {}", quote_list(&names)),
                )
                .fix("choose a range used nowhere else on your network: pod addresses must not collide with hosts"),
            );
        }
    }
    for n in &facts.nodes {
        if reported_nodes.contains(&n.name.as_str()) {
            continue;
        }
        if let Some(ip) = n.internal_ip.filter(|ip| cidr.contains(ip)) {
            out.push(
                Finding::error(
                    Field::Pool,
                    "pool-overlaps-node-subnet",
                    format!("{label} contains the address {ip} of node '{}'", n.name),
                )
                .fix("choose a range used nowhere else on your network: pod addresses must not collide with hosts"),
            );
        }
    }
    // Services.
    for svc in &facts.service_cidrs {
        if overlaps(&cidr, svc) {
            out.push(
                Finding::error(
                    Field::Pool,
                    "pool-overlaps-service-cidr",
                    format!("{label} overlaps the Service CIDR {svc}: pod and Service addresses would collide"),
                )
                .fix("choose a range outside the Service CIDR (kube-apiserver --service-cluster-ip-range)"),
            );
        }
    }
    // The switch.
    if let Some(sw) = switch
        && cidr.contains(&sw)
    {
        out.push(
            Finding::error(
                Field::Pool,
                "pool-contains-switch",
                format!("{label} contains the switch address {sw}: a pod could get the switch's address"),
            )
            .fix("choose a range that does not include the switch's address"),
        );
    }
    // Other pools.
    for p in facts.pools.iter().filter(|p| p.name != t.name && overlaps(&cidr, &p.cidr)) {
        if p.disabled {
            out.push(
                Finding::warning(
                    Field::Pool,
                    "pool-overlaps-disabled-pool",
                    format!(
                        "{label} overlaps the disabled pool '{}' ({}): Calico's API refuses overlapping pools and \
                         pods may still hold addresses from it",
                        p.name, p.cidr
                    ),
                )
                .fix(format!("delete pool '{}' once no pod uses it, or choose another range", p.name)),
            );
        } else {
            out.push(
                Finding::error(
                    Field::Pool,
                    "pool-overlaps-pool",
                    format!("{label} overlaps the existing pool '{}' ({})", p.name, p.cidr),
                )
                .fix(format!("choose pool '{}' itself, or a range that does not overlap it", p.name)),
            );
        }
    }
    out
}

/// Detect screen: what is noteworthy about the cluster before any answer.
pub fn preflight(facts: &ClusterFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    let c = Field::Cluster;
    if facts.install == InstallKind::Unknown {
        out.push(
            Finding::error(
                c,
                "calico-not-found",
                format!(
                    "Calico was not found in context '{}': no Installation 'default' and no ConfigMap \
                     kube-system/calico-config",
                    facts.context
                ),
            )
            .fix("install Calico first, or switch to the kubeconfig context of the Calico cluster"),
        );
    } else if facts.backend != Backend::Bird {
        out.push(
            Finding::warning(
                c,
                "backend-not-bird",
                format!(
                    "calico-node runs with networking backend '{}', which does not speak BGP",
                    facts.backend.label()
                ),
            )
            .fix("the plan switches the backend to bird, which restarts calico-node on every node"),
        );
    }
    if facts.nodes.is_empty() {
        out.push(
            Finding::error(c, "no-nodes", "the cluster has no nodes, so there is nothing to peer from")
                .fix("check the kubeconfig context and that you may list nodes"),
        );
    }
    match facts.calico_version.as_deref() {
        Some(v) if version_of(v).is_some_and(|mm| mm < (3, 21)) => out.push(
            Finding::warning(
                c,
                "calico-old",
                format!(
                    "Calico '{v}' is older than v3.21 and has no CalicoNodeStatus, so the wizard cannot \
                     watch BGP sessions through the API"
                ),
            )
            .fix("upgrade Calico first, or check sessions with calicoctl node status on each node"),
        ),
        Some(_) => {}
        None if facts.install != InstallKind::Unknown => out.push(
            Finding::info(
                c,
                "calico-version-unknown",
                "the Calico version could not be read from the calico-node image",
            )
            .fix("check that it is v3.21 or later (CalicoNodeStatus is needed to watch sessions)"),
        ),
        None => {}
    }
    if facts.install == InstallKind::Operator {
        out.push(
            Finding::info(
                c,
                "operator-install",
                "Calico is installed by the Tigera operator: the plan also edits Installation 'default' \
                 (spec.calicoNetwork)",
            )
            .fix(
                "from Calico v3.28 (operator v1.34) the operator reverts direct edits of the pools it manages, \
                 so pool changes must also go into the Installation",
            ),
        );
    }
    for p in &facts.pools {
        let mut encap = Vec::new();
        if p.ipip_mode != EncapMode::Never {
            encap.push(format!("ipipMode '{}'", p.ipip_mode.as_str()));
        }
        if p.vxlan_mode != EncapMode::Never {
            encap.push(format!("vxlanMode '{}'", p.vxlan_mode.as_str()));
        }
        if !encap.is_empty() {
            out.push(
                Finding::info(
                    c,
                    "pool-encapsulation",
                    format!("pool '{}' ({}) encapsulates pod traffic: {}", p.name, p.cidr, encap.join(", ")),
                )
                .fix("the plan turns encapsulation off at the end, once the switch routes the pod addresses"),
            );
        }
        if p.nat_outgoing {
            out.push(
                Finding::info(
                    c,
                    "pool-nat-outgoing",
                    format!(
                        "pool '{}' ({}) has natOutgoing 'true': pods leave the cluster as their node's IP",
                        p.name, p.cidr
                    ),
                )
                .fix("the plan turns it off at the end, once the switch routes the pod addresses back"),
            );
        }
    }
    if facts.mesh_enabled() {
        let n = facts.nodes.len();
        out.push(
            Finding::info(
                c,
                "mesh-on",
                format!("the node-to-node BGP mesh is on ({} sessions for {n} nodes)", n * n.saturating_sub(1) / 2),
            )
            .fix("the plan turns it off only after every node's sessions to the route reflectors are Established"),
        );
    }
    if !facts.peers.is_empty() {
        let names: Vec<&str> = facts.peers.iter().map(|p| p.name.as_str()).collect();
        out.push(
            Finding::info(c, "existing-peers", format!("BGPPeers already exist: {}", quote_list(&names)))
                .fix("check that none of them duplicates the peering with the switch or the route reflectors"),
        );
    }
    let mut missing = Vec::new();
    let mut mismatch = false;
    for n in &facts.nodes {
        if let Some(bad) = &n.calico_ipv4_invalid {
            out.push(
                Finding::error(
                    c,
                    "node-bgp-address-invalid",
                    format!(
                        "node '{}' has {ANN_IPV4} '{bad}', which is not an IPv4 address with a mask like 172.31.13.27/24",
                        n.name
                    ),
                )
                .fix("calico-node writes it at start-up: fix its IP / IP_AUTODETECTION_METHOD settings and restart it there"),
            );
        } else if n.calico_ipv4.is_none() {
            missing.push(n.name.as_str());
        }
        let calico: Option<IpAddr> = match n.internal_ip {
            Some(IpAddr::V4(_)) => n.calico_ipv4.map(|a| IpAddr::V4(a.addr())),
            Some(IpAddr::V6(_)) => n.calico_ipv6.map(|a| IpAddr::V6(a.addr())),
            None => None,
        };
        if let (Some(k8s), Some(cal)) = (n.internal_ip, calico)
            && k8s != cal
        {
            mismatch = true;
            out.push(
                Finding::warning(
                    c,
                    "node-address-mismatch",
                    format!(
                        "node '{}' peers BGP from '{cal}' but its Kubernetes InternalIP is '{k8s}': the switch \
                         and the other nodes must reach '{cal}'",
                        n.name
                    ),
                )
                .fix(pin_autodetection_fix(facts)),
            );
        }
    }
    if !missing.is_empty() {
        out.push(
            Finding::warning(
                c,
                "node-no-bgp-address",
                format!("node(s) {} have no {ANN_IPV4} annotation, so they take no part in BGP", quote_list(&missing)),
            )
            .fix("calico-node sets it when it starts on a node: check calico-node is running and ready there"),
        );
    }
    if facts.install != InstallKind::Unknown && autodetection_is_first_found(facts) {
        let mut finding = Finding::info(
            c,
            "ip-autodetection-first-found",
            "calico-node picks its BGP address with 'first-found' (the first interface with an address), \
             which can pick a VIP or a bridge instead of the node's real address",
        )
        .fix(pin_autodetection_fix(facts));
        if mismatch {
            finding.severity = Severity::Warning;
        }
        out.push(finding);
    }
    if facts.service_cidrs.is_empty() {
        out.push(
            Finding::info(c, "service-cidr-unknown", "the Service CIDR could not be learned from the cluster").fix(
                "make sure the pod pool you choose does not overlap it (kube-apiserver --service-cluster-ip-range)",
            ),
        );
    }
    out
}

/// Two control-plane nodes in different zones when possible.
///
/// Only nodes with a Calico IPv4 address and no per-node AS different from the cluster's are
/// candidates. The first pick is the first control-plane node by name (else the first node); the
/// second is, in order of preference, a control-plane node in another zone, any other control-plane
/// node, another node in another zone, any other node.
pub fn suggest_reflectors(facts: &ClusterFacts) -> Vec<String> {
    let cluster_as = facts.cluster_as();
    let mut cands: Vec<&NodeFacts> =
        facts.nodes.iter().filter(|n| n.calico_ipv4.is_some() && n.asn.is_none_or(|a| a == cluster_as)).collect();
    cands.sort_by(|a, b| a.name.cmp(&b.name));
    let Some(first) = cands.iter().find(|n| n.is_control_plane()).or_else(|| cands.first()).copied() else {
        return Vec::new();
    };
    let others: Vec<&NodeFacts> = cands.iter().copied().filter(|n| n.name != first.name).collect();
    let other_zone = |n: &&NodeFacts| matches!((&n.zone, &first.zone), (Some(a), Some(b)) if a != b);
    let second = others
        .iter()
        .find(|n| n.is_control_plane() && other_zone(n))
        .or_else(|| others.iter().find(|n| n.is_control_plane()))
        .or_else(|| others.iter().find(|n| other_zone(n)))
        .or_else(|| others.first());
    std::iter::once(first).chain(second.copied()).map(|n| n.name.clone()).collect()
}

/// keepOriginalNextHop defaults on when the switch shares a subnet with the nodes.
pub fn default_keep_next_hop(switch_ip: &str, facts: &ClusterFacts) -> bool {
    let Ok(ip) = switch_ip.trim().parse::<IpAddr>() else {
        return false;
    };
    facts.nodes.iter().any(|n| node_nets(n).iter().any(|net| net.contains(&ip)))
}

/// The pool the answer designates, when it designates one without error: an existing pool by
/// name, an existing pool whose CIDR equals the typed one, or a new pool for a typed CIDR.
/// A disabled existing pool still resolves (the rule `pool-disabled` reports it).
pub fn resolve_pool(pool: &PoolChoice, facts: &ClusterFacts) -> Option<TargetPool> {
    match resolve(pool, facts) {
        (Some(t), findings) if !findings.iter().any(|f| f.is_error() && f.rule != "pool-disabled") => Some(t),
        _ => None,
    }
}

/// Name for a pool the plan creates: `bgp-ipv4-172-27-208-0-22`, `bgp-ipv6-fd00-10---64`.
pub fn new_pool_name(cidr: &IpNet) -> String {
    let fam = if cidr.addr().is_ipv4() { "ipv4" } else { "ipv6" };
    let addr = cidr.network().to_string().replace(['.', ':'], "-");
    format!("bgp-{fam}-{addr}-{}", cidr.prefix_len())
}

/// The cluster AS the answers imply: the typed one, or the cluster's current AS when the field is
/// empty. None when the typed text is not an AS number.
pub fn effective_cluster_as(text: &str, facts: &ClusterFacts) -> Option<Asn> {
    if text.trim().is_empty() { Some(facts.cluster_as()) } else { Asn::parse(text).ok() }
}

/// Why an AS number cannot be used in a BGP session, if it cannot.
pub fn reserved_as_reason(asn: Asn) -> Option<&'static str> {
    match asn.0 {
        0 => Some("is reserved (RFC 7607) and cannot be used in a BGP session"),
        23456 => {
            Some("is AS_TRANS (RFC 6793), the stand-in that routers without 4-byte AS support show for a 4-byte AS")
        }
        65535 | 4294967295 => Some("is reserved (RFC 7300) and cannot be used in a BGP session"),
        _ => None,
    }
}

/// AS numbers reserved for documentation and examples (RFC 5398).
pub fn is_documentation_as(asn: Asn) -> bool {
    matches!(asn.0, 64496..=64511 | 65536..=65551)
}

/// AS numbers for private use (RFC 6996).
pub fn is_private_as(asn: Asn) -> bool {
    matches!(asn.0, 64512..=65534 | 4200000000..=4294967294)
}

// ---------------------------------------------------------------------------------------------
// Reflectors

fn reflector_rules(reflectors: &[String], cluster_id: &str, cluster_as: Asn, facts: &ClusterFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    let f = Field::Reflectors;
    let names: Vec<&str> = reflectors.iter().map(|r| r.trim()).filter(|r| !r.is_empty()).collect();
    if names.is_empty() {
        let suggestion = suggest_reflectors(facts);
        let mut finding = Finding::error(
            f,
            "rr-required",
            "no route reflector chosen: at least one node must carry the sessions to the switch",
        );
        if !suggestion.is_empty() {
            finding = finding.fix(format!("choose two nodes, e.g. {}", quote_list(&suggestion)));
        }
        out.push(finding);
    }
    let mut known: Vec<&NodeFacts> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            out.push(
                Finding::error(f, "rr-duplicate", format!("'{name}' is chosen more than once"))
                    .fix("list each route reflector once"),
            );
            continue;
        }
        let Some(node) = facts.node(name) else {
            let all: Vec<&str> = facts.nodes.iter().map(|n| n.name.as_str()).collect();
            out.push(
                Finding::error(f, "rr-unknown-node", format!("'{name}' is not a node of this cluster"))
                    .fix(format!("choose from {}", quote_list(&all))),
            );
            continue;
        };
        known.push(node);
        if node.calico_ipv4.is_none() {
            let what = match &node.calico_ipv4_invalid {
                Some(bad) => format!("has an unusable {ANN_IPV4} '{bad}'"),
                None => format!("has no {ANN_IPV4} annotation"),
            };
            out.push(
                Finding::error(
                    f,
                    "rr-no-bgp-address",
                    format!("'{name}' {what}, so it has no address to peer from"),
                )
                .fix("calico-node sets it when it starts on the node: check calico-node there, or choose another node"),
            );
        }
        if let Some(asn) = node.asn
            && asn != cluster_as
        {
            out.push(
                Finding::error(
                    f,
                    "rr-as-differs",
                    format!(
                        "'{name}' has its own AS {asn} ({ANN_ASN}), not the cluster AS {cluster_as}: a route \
                         reflector only reflects routes within its own AS"
                    ),
                )
                .fix(format!("remove the annotation (kubectl annotate node {name} {ANN_ASN}-) or choose another node")),
            );
        }
    }
    if names.len() == 1 && known.len() == 1 {
        out.push(
            Finding::warning(
                f,
                "rr-single",
                format!(
                    "only '{}' is a route reflector: if that node reboots, traffic from outside to the pods stops",
                    names[0]
                ),
            )
            .fix("choose a second node, preferably in another zone"),
        );
    }
    for (i, a) in known.iter().enumerate() {
        for b in &known[i + 1..] {
            if let (Some(za), Some(zb)) = (&a.zone, &b.zone)
                && za == zb
            {
                out.push(
                    Finding::warning(
                        f,
                        "rr-same-zone",
                        format!(
                            "'{}' and '{}' are both in zone '{za}': one zone outage takes both reflectors down",
                            a.name, b.name
                        ),
                    )
                    .fix("choose reflectors in different zones"),
                );
            }
        }
    }
    // Cluster ID.
    let id_text = cluster_id.trim();
    match id_text.parse::<Ipv4Addr>() {
        Err(_) if id_text.is_empty() => out.push(
            Finding::error(
                Field::ClusterId,
                "rr-cluster-id-syntax",
                "no route reflector cluster ID given: it is written like an IPv4 address, e.g. 244.0.0.1",
            )
            .fix("use 244.0.0.1 (the value in Calico's docs) unless the network team gave you another"),
        ),
        Err(_) => out.push(
            Finding::error(
                Field::ClusterId,
                "rr-cluster-id-syntax",
                format!(
                    "'{id_text}' is not an IPv4 address: the route reflector cluster ID is written like an IPv4 \
                     address, e.g. 244.0.0.1"
                ),
            )
            .fix("use 244.0.0.1 (the value in Calico's docs) unless the network team gave you another"),
        ),
        Ok(id) => {
            for n in &facts.nodes {
                let Some(existing) = n.rr_cluster_id.as_deref() else { continue };
                let chosen = names.contains(&n.name.as_str());
                let same = existing.trim().parse::<Ipv4Addr>().ok() == Some(id);
                if !same {
                    out.push(
                        Finding::warning(
                            Field::ClusterId,
                            "rr-cluster-id-differs",
                            format!(
                                "node '{}' is already a route reflector with cluster ID '{existing}', not {id}: \
                                 reflectors with different IDs treat each other as clients",
                                n.name
                            ),
                        )
                        .fix(format!("type {existing} to keep one cluster ID, or confirm to re-ID the reflectors")),
                    );
                } else if !chosen {
                    out.push(
                        Finding::warning(
                            f,
                            "rr-existing-not-chosen",
                            format!(
                                "node '{}' is already a route reflector ({ANN_RR_CLUSTER_ID} '{existing}') but is not in your list",
                                n.name
                            ),
                        )
                        .fix(format!(
                            "add it to the list, or remove its annotation and its {LABEL_RR} label after the change"
                        )),
                    );
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Peering

fn switch_ip_rules(text: &str, target: Option<&TargetPool>, facts: &ClusterFacts) -> Vec<Finding> {
    let f = Field::SwitchIp;
    let t = text.trim();
    if t.is_empty() {
        return vec![
            Finding::error(
                f,
                "switch-ip-syntax",
                "no switch IP address given: the route reflectors need it to peer with",
            )
            .fix(format!("type the switch's address on the node network, e.g. {}", example_ip(facts))),
        ];
    }
    let ip = match t.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => {
            let finding = match t.parse::<IpNet>() {
                Ok(net) => Finding::error(
                    f,
                    "switch-ip-syntax",
                    format!("'{t}' is not an IP address: the switch address is typed without a prefix length"),
                )
                .fix(format!("did you mean {}?", net.addr())),
                Err(_) => Finding::error(
                    f,
                    "switch-ip-syntax",
                    format!("'{t}' is not an IP address: expected four numbers with dots like {}", example_ip(facts)),
                )
                .fix("type the address of the switch interface the nodes reach"),
            };
            return vec![finding];
        }
    };
    let mut out = Vec::new();
    let not_unicast = match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => Some("the unspecified address"),
        IpAddr::V4(v4) if v4.is_loopback() => Some("a loopback address"),
        IpAddr::V4(v4) if v4.is_multicast() => Some("a multicast address"),
        IpAddr::V4(v4) if v4.is_broadcast() => Some("the broadcast address"),
        IpAddr::V6(v6) if v6.is_unspecified() => Some("the unspecified address"),
        IpAddr::V6(v6) if v6.is_loopback() => Some("a loopback address"),
        IpAddr::V6(v6) if v6.is_multicast() => Some("a multicast address"),
        _ => None,
    };
    if let Some(what) = not_unicast {
        out.push(
            Finding::error(f, "switch-ip-not-unicast", format!("'{ip}' is {what}, not the address of a single device"))
                .fix("type the unicast address of the switch interface the nodes reach"),
        );
        return out;
    }
    let subnets = node_subnets(facts);
    for (net, names) in &subnets {
        // /31 and /32 (/127, /128) subnets have no network or broadcast address.
        if net.max_prefix_len() - net.prefix_len() < 2 {
            continue;
        }
        let edge = if ip == net.network() {
            Some("network")
        } else if ip.is_ipv4() && ip == net.broadcast() {
            Some("broadcast")
        } else {
            None
        };
        if let Some(edge) = edge {
            out.push(
                Finding::error(
                    f,
                    "switch-ip-subnet-edge",
                    format!("'{ip}' is the {edge} address of the node subnet {net} of {}", quote_list(names)),
                )
                .fix("type the switch's own interface address in that subnet (often the gateway)"),
            );
        }
    }
    for n in &facts.nodes {
        let is_node = n.internal_ip == Some(ip)
            || n.calico_ipv4.map(|a| IpAddr::V4(a.addr())) == Some(ip)
            || n.calico_ipv6.map(|a| IpAddr::V6(a.addr())) == Some(ip);
        if is_node {
            out.push(
                Finding::error(f, "switch-ip-is-node", format!("'{ip}' is the address of node '{}'", n.name))
                    .fix("type the switch's address, not a node's"),
            );
        }
    }
    let mut pools: Vec<(IpNet, String)> = facts.pools.iter().map(|p| (p.cidr, p.name.clone())).collect();
    if let Some(t) = target
        && !pools.iter().any(|(c, _)| *c == t.cidr)
    {
        pools.push((t.cidr, t.name.clone()));
    }
    for (cidr, name) in pools.iter().filter(|(c, _)| c.contains(&ip)) {
        out.push(
            Finding::error(
                f,
                "switch-in-pool",
                format!("'{ip}' is inside the pod pool {cidr} ('{name}'), where pods get their addresses"),
            )
            .fix("type the switch's address on the node network, or choose a pool that does not include it"),
        );
    }
    let same_family: Vec<&IpNet> =
        subnets.iter().map(|(n, _)| n).filter(|n| n.addr().is_ipv4() == ip.is_ipv4()).collect();
    if !same_family.is_empty() && !same_family.iter().any(|n| n.contains(&ip)) {
        let nets: Vec<String> = same_family.iter().map(|n| n.to_string()).collect();
        out.push(
            Finding::warning(
                f,
                "switch-ip-off-subnet",
                format!(
                    "'{ip}' is in no node subnet ({}): Calico peers multihop, so every route reflector needs a \
                     route to it through a router",
                    nets.join(", ")
                ),
            )
            .fix(format!(
                "check `ip route get {ip}` on each route reflector and allow multihop eBGP on the switch (ebgp-multihop)"
            )),
        );
    }
    out
}

/// Syntax, reserved, documentation and public checks of one AS field; the parsed AS when usable.
fn as_rules(text: &str, field: Field, out: &mut Vec<Finding>) -> Option<Asn> {
    let switch = field == Field::SwitchAs;
    let asn = match Asn::parse(text) {
        Ok(a) => a,
        Err(e) => {
            let fix = if switch {
                "copy the number from the switch configuration (the `router bgp` line)".to_string()
            } else {
                "use a private AS, e.g. 64512 (Calico's default), or leave it empty to keep the current one".to_string()
            };
            out.push(Finding::error(field, "as-syntax", e.to_string()).fix(fix));
            return None;
        }
    };
    let quoted = quote_as(text, asn);
    let private_fix = format!(
        "use a private AS from 64512–65534 or 4200000000–4294967294, e.g. {}",
        if switch { "65000".to_string() } else { "64512".to_string() }
    );
    if let Some(reason) = reserved_as_reason(asn) {
        let fix = match (switch, asn.0) {
            (true, 23456) => "the switch really uses a 4-byte AS: read it from its `router bgp` line".to_string(),
            (true, _) => "type the AS configured on the switch (its `router bgp` line)".to_string(),
            (false, _) => private_fix,
        };
        out.push(Finding::error(field, "as-reserved", format!("{quoted} {reason}")).fix(fix));
        return None;
    }
    if is_documentation_as(asn) {
        out.push(
            Finding::warning(
                field,
                "as-documentation",
                format!("{quoted} is reserved for documentation and examples (RFC 5398), not for real networks"),
            )
            .fix(if switch {
                "check it against the switch's `router bgp` line".to_string()
            } else {
                private_fix
            }),
        );
    } else if !is_private_as(asn) {
        let finding = if switch {
            Finding::warning(
                field,
                "as-public",
                format!(
                    "{quoted} is a public AS number, registered to an organisation on the internet: check it is \
                     really the switch's AS"
                ),
            )
            .fix("copy it from the switch's `router bgp` line; a private AS (64512–65534) is more usual inside a data centre")
        } else {
            Finding::warning(
                field,
                "as-public",
                format!(
                    "{quoted} is a public AS number, registered to an organisation on the internet: a cluster \
                     usually uses a private-use AS"
                ),
            )
            .fix(private_fix)
        };
        out.push(finding);
    }
    Some(asn)
}

/// Nodes (other than the chosen reflectors, which get `rr-as-differs`) with their own AS.
fn node_as_rule(answers: &Answers, cluster_as: Asn, facts: &ClusterFacts, out: &mut Vec<Finding>) {
    let rrs: Vec<&str> = answers.reflectors.iter().map(|r| r.trim()).collect();
    let odd: Vec<String> = facts
        .nodes
        .iter()
        .filter(|n| !rrs.contains(&n.name.as_str()))
        .filter_map(|n| n.asn.filter(|a| *a != cluster_as).map(|a| format!("'{}' (AS {a})", n.name)))
        .collect();
    if odd.is_empty() {
        return;
    }
    out.push(
        Finding::warning(
            Field::ClusterAs,
            "node-as-differs",
            format!(
                "node(s) {} have their own {ANN_ASN}, not the cluster AS {cluster_as}: route reflection only works \
                 within one AS",
                odd.join(", ")
            ),
        )
        .fix(format!("remove the annotation (kubectl annotate node <name> {ANN_ASN}-) or set it to {cluster_as}")),
    );
}

fn password_rules(pw: &str, out: &mut Vec<Finding>) {
    let len = pw.chars().count();
    if len > MAX_PASSWORD_LEN {
        out.push(
            Finding::error(
                Field::Password,
                "password-too-long",
                format!("the password is {len} characters long; Calico accepts at most {MAX_PASSWORD_LEN}"),
            )
            .fix(format!("use a password of {MAX_PASSWORD_LEN} characters or fewer, on both the switch and here")),
        );
    }
    if let Some(pos) = pw.chars().position(|c| !(' '..='~').contains(&c)) {
        out.push(
            Finding::error(
                Field::Password,
                "password-characters",
                format!("the password has a character that is not printable ASCII at position {} (of {len})", pos + 1),
            )
            .fix("use only letters, digits, spaces and ASCII punctuation (0x20–0x7e), which every switch accepts"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Pool resolution

/// Resolve the pool answer; findings are the resolution's own (syntax, host bits, unknown name,
/// disabled). The target is returned for further checks even with host bits set (truncated) or
/// when disabled.
fn resolve(pool: &PoolChoice, facts: &ClusterFacts) -> (Option<TargetPool>, Vec<Finding>) {
    let f = Field::Pool;
    let mut out = Vec::new();
    let existing = |p: &super::facts::PoolFacts| TargetPool {
        name: p.name.clone(),
        cidr: p.cidr.trunc(),
        block_size: p.block_size,
        exists: true,
    };
    let disabled = |name: &str| {
        Finding::error(
            f,
            "pool-disabled",
            format!("pool '{name}' is disabled: Calico gives pods no addresses from a disabled pool"),
        )
        .fix(format!("choose an enabled pool, or set disabled: false on '{name}' first"))
    };
    let target = match pool {
        PoolChoice::Existing(name) => {
            let name = name.trim();
            match facts.pool(name) {
                Some(p) => {
                    if p.disabled {
                        out.push(disabled(name));
                    }
                    Some(existing(p))
                }
                None => {
                    let mut finding =
                        Finding::error(f, "pool-unknown", format!("'{name}' is not an IPPool of this cluster"));
                    finding = if facts.pools.is_empty() {
                        finding.fix("the cluster has no IPPools: type a CIDR to create one")
                    } else {
                        let all: Vec<String> =
                            facts.pools.iter().map(|p| format!("'{}' ({})", p.name, p.cidr)).collect();
                        finding.fix(format!("choose one of {}, or type a CIDR", all.join(", ")))
                    };
                    out.push(finding);
                    None
                }
            }
        }
        PoolChoice::Cidr(text) => {
            let t = text.trim();
            if t.is_empty() {
                let mut finding = Finding::error(
                    f,
                    "pool-required",
                    "no pool chosen: pick an existing IPPool or type a CIDR for a new one",
                );
                if let Some(p) = facts.pools.iter().find(|p| !p.disabled) {
                    finding = finding.fix(format!("e.g. the existing pool '{}' ({})", p.name, p.cidr));
                }
                out.push(finding);
                None
            } else {
                match t.parse::<IpNet>() {
                    Err(_) => {
                        out.push(
                            Finding::error(
                                f,
                                "pool-cidr-syntax",
                                format!(
                                    "'{t}' is not a CIDR: expected an address and a prefix length like 172.27.208.0/22"
                                ),
                            )
                            .fix("type the network address, a slash and the prefix length"),
                        );
                        None
                    }
                    Ok(net) => {
                        let cidr = net.trunc();
                        if cidr != net {
                            out.push(
                                Finding::error(f, "pool-host-bits", format!("'{t}' has host bits set"))
                                    .fix(format!("did you mean {cidr}?")),
                            );
                        }
                        match facts.pools.iter().find(|p| p.cidr.trunc() == cidr) {
                            Some(p) => {
                                if p.disabled {
                                    out.push(disabled(&p.name));
                                }
                                Some(existing(p))
                            }
                            None => Some(TargetPool {
                                name: new_pool_name(&cidr),
                                cidr,
                                block_size: if cidr.addr().is_ipv4() {
                                    DEFAULT_BLOCK_SIZE_V4
                                } else {
                                    DEFAULT_BLOCK_SIZE_V6
                                },
                                exists: false,
                            }),
                        }
                    }
                }
            }
        }
    };
    (target, out)
}

fn valid_answers(a: &Answers, facts: &ClusterFacts) -> Option<ValidAnswers> {
    Some(ValidAnswers {
        reflectors: a.reflectors.iter().map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect(),
        cluster_id: a.cluster_id.trim().parse().ok()?,
        switch_ip: a.switch_ip.trim().parse().ok()?,
        switch_as: Asn::parse(&a.switch_as).ok()?,
        cluster_as: effective_cluster_as(&a.cluster_as, facts)?,
        password: (!a.password.0.is_empty()).then(|| a.password.clone()),
        keep_original_next_hop: a.keep_original_next_hop,
        pool: resolve_pool(&a.pool, facts)?,
        vendor: a.vendor,
    })
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(b) || b.contains(a)
}

fn family(ip: &IpAddr) -> &'static str {
    if ip.is_ipv4() { "IPv4" } else { "IPv6" }
}

/// The node's Calico networks (with mask, not truncated).
fn node_nets(n: &NodeFacts) -> Vec<IpNet> {
    n.calico_ipv4.map(IpNet::V4).into_iter().chain(n.calico_ipv6.map(IpNet::V6)).collect()
}

/// The node's Calico network of the same family as `like`.
fn node_net(n: &NodeFacts, like: &IpNet) -> Option<IpNet> {
    node_nets(n).into_iter().find(|net| net.addr().is_ipv4() == like.addr().is_ipv4())
}

/// Node subnets (truncated), each with the names of its nodes, in node-name order.
fn node_subnets(facts: &ClusterFacts) -> Vec<(IpNet, Vec<&str>)> {
    let mut out: Vec<(IpNet, Vec<&str>)> = Vec::new();
    for n in &facts.nodes {
        for net in node_nets(n).iter().map(IpNet::trunc) {
            match out.iter_mut().find(|(s, _)| *s == net) {
                Some((_, names)) => names.push(n.name.as_str()),
                None => out.push((net, vec![n.name.as_str()])),
            }
        }
    }
    out
}

fn node_families(facts: &ClusterFacts) -> String {
    let v4 = facts.nodes.iter().any(|n| n.calico_ipv4.is_some());
    let v6 = facts.nodes.iter().any(|n| n.calico_ipv6.is_some());
    match (v4, v6) {
        (true, true) => "IPv4 or IPv6".into(),
        (false, true) => "IPv6".into(),
        _ => "IPv4".into(),
    }
}

/// `cidr`'s address with another prefix length, truncated.
fn with_prefix(cidr: &IpNet, prefix: u8) -> IpNet {
    IpNet::new(cidr.addr(), prefix.min(cidr.max_prefix_len())).map(|n| n.trunc()).unwrap_or(*cidr)
}

fn quote_list<S: AsRef<str>>(items: &[S]) -> String {
    items.iter().map(|s| format!("'{}'", s.as_ref())).collect::<Vec<_>>().join(", ")
}

/// `'1.10' (AS 65546)` for asdot input, `'64512'` otherwise.
fn quote_as(text: &str, asn: Asn) -> String {
    let t = text.trim();
    if t == asn.to_string() { format!("'{t}'") } else { format!("'{t}' (AS {asn})") }
}

/// A private AS that is not `avoid`.
fn private_as_example(avoid: Asn) -> Asn {
    if avoid == Asn(64512) { Asn(64513) } else { Asn(64512) }
}

/// An address in the first node subnet, to show the expected form.
fn example_ip(facts: &ClusterFacts) -> String {
    facts
        .nodes
        .iter()
        .find_map(|n| n.calico_ipv4)
        .and_then(|n| n.trunc().hosts().next())
        .map_or_else(|| "172.31.13.1".to_string(), |ip| ip.to_string())
}

/// `(major, minor)` of a version like `v3.23.3`.
fn version_of(v: &str) -> Option<(u32, u32)> {
    let mut parts = v.trim().trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts.next()?.chars().take_while(char::is_ascii_digit).collect();
    Some((major, minor.parse().ok()?))
}

fn autodetection_is_first_found(facts: &ClusterFacts) -> bool {
    match facts.install {
        InstallKind::Operator => facts
            .installation
            .as_ref()
            .and_then(|i| i.autodetect_v4.as_deref())
            .is_none_or(|j| j.contains("firstFound")),
        _ => facts.ip_autodetection.as_deref().is_none_or(|m| m.trim() == "first-found"),
    }
}

fn pin_autodetection_fix(facts: &ClusterFacts) -> String {
    match facts.install {
        InstallKind::Operator => "if the InternalIP is right, set spec.calicoNetwork.nodeAddressAutodetectionV4 to \
                                  {kubernetes: NodeInternalIP} in Installation 'default'"
            .to_string(),
        _ => format!(
            "if the InternalIP is right, set IP_AUTODETECTION_METHOD=kubernetes-internal-ip on DaemonSet {}/calico-node",
            facts.calico_namespace
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::answers::{Password, Vendor};
    use crate::domain::facts::detect;
    use crate::domain::findings::Severity;
    use crate::domain::objects::{ObjectSet, parse_yaml_objects};

    const DEMO: &str = include_str!("../../assets/demo-cluster.yaml");

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

    fn pool(cidr: &str) -> Vec<Finding> {
        validate_pool(&PoolChoice::Cidr(cidr.into()), "172.31.13.116", &demo())
    }

    fn peering(edit: impl FnOnce(&mut Answers)) -> Vec<Finding> {
        peering_on(&demo(), edit)
    }

    fn peering_on(facts: &ClusterFacts, edit: impl FnOnce(&mut Answers)) -> Vec<Finding> {
        let mut a = answers();
        edit(&mut a);
        validate_peering(&a, facts)
    }

    fn rrs(names: &[&str], facts: &ClusterFacts) -> Vec<Finding> {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        validate_reflectors(&names, "244.0.0.1", facts)
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

    // ---- pool -------------------------------------------------------------------------------

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
        assert_eq!(
            f.message,
            "'172.27.0/22' is not a CIDR: expected an address and a prefix length like 172.27.208.0/22"
        );
        assert!(f.is_error());
        find(&pool("172.27.208.0"), "pool-cidr-syntax");
        find(&pool("172.27.208.0/33"), "pool-cidr-syntax");
    }

    #[test]
    fn pool_host_bits() {
        let f = pool("172.27.0.208/22");
        assert_eq!(
            find(&f, "pool-host-bits").to_string(),
            "error: '172.27.0.208/22' has host bits set; did you mean 172.27.0.0/22?"
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
            format!(
                "projectcalico.org/IPv4Address: 172.31.13.{n}/24\n    projectcalico.org/IPv6Address: fd00:31::{n}/64"
            )
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

    const BGP_CONFIG: &str = "apiVersion: crd.projectcalico.org/v1\nkind: BGPConfiguration\nmetadata: {name: default}\nspec: {asNumber: 64513, nodeToNodeMeshEnabled: false}\n";

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

    // ---- reflectors -------------------------------------------------------------------------

    #[test]
    fn reflectors_good() {
        assert_eq!(rrs(&["k8s-2", "k8s-1"], &demo()), vec![]);
    }

    #[test]
    fn rr_required() {
        let f = rrs(&[], &demo());
        let f = find(&f, "rr-required");
        assert!(f.is_error());
        assert_eq!(f.fix.as_deref(), Some("choose two nodes, e.g. 'k8s-2', 'k8s-1'"));
    }

    #[test]
    fn rr_unknown_node() {
        let f = rrs(&["k8s-2", "k8s-9"], &demo());
        let f = find(&f, "rr-unknown-node");
        assert!(f.message.contains("'k8s-9'"));
        assert!(f.fix.as_deref().unwrap().contains("'k8s-1', 'k8s-2', 'k8s-3'"));
    }

    #[test]
    fn rr_duplicate() {
        find(&rrs(&["k8s-2", "k8s-2"], &demo()), "rr-duplicate");
    }

    #[test]
    fn rr_no_bgp_address() {
        let facts = demo_with(&[(K8S1_V4, "projectcalico.org/IPv4Address: 172.31.13.27")]);
        let f = rrs(&["k8s-2", "k8s-1"], &facts);
        assert!(find(&f, "rr-no-bgp-address").message.contains("unusable"));
        let facts = demo_with(&[(K8S1_V4, "")]);
        let f = rrs(&["k8s-2", "k8s-1"], &facts);
        let f = find(&f, "rr-no-bgp-address");
        assert!(f.message.contains(ANN_IPV4) && f.fix.as_deref().unwrap().contains("calico-node"));
    }

    #[test]
    fn rr_single() {
        let f = rrs(&["k8s-2"], &demo());
        let f = find(&f, "rr-single");
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.message.contains("reboots"));
    }

    #[test]
    fn rr_same_zone() {
        let facts = demo_with(&[("zone: zone-a", "zone: zone-b")]);
        assert_eq!(find(&rrs(&["k8s-2", "k8s-1"], &facts), "rr-same-zone").severity, Severity::Warning);
        lacks(&rrs(&["k8s-2", "k8s-1"], &demo()), "rr-same-zone");
    }

    #[test]
    fn rr_as_differs() {
        let facts = demo_with(&[(
            K8S1_V4,
            "projectcalico.org/IPv4Address: 172.31.13.27/24\n    projectcalico.org/ASNumber: \"65010\"",
        )]);
        assert!(find(&rrs(&["k8s-2", "k8s-1"], &facts), "rr-as-differs").is_error());
        // Same AS as the cluster is fine.
        let facts = demo_with(&[(
            K8S1_V4,
            "projectcalico.org/IPv4Address: 172.31.13.27/24\n    projectcalico.org/ASNumber: \"64512\"",
        )]);
        lacks(&rrs(&["k8s-2", "k8s-1"], &facts), "rr-as-differs");
    }

    #[test]
    fn rr_cluster_id_syntax() {
        let names = vec!["k8s-2".to_string(), "k8s-1".to_string()];
        let f = validate_reflectors(&names, "244.0.0", &demo());
        let f = find(&f, "rr-cluster-id-syntax");
        assert_eq!(
            f.message,
            "'244.0.0' is not an IPv4 address: the route reflector cluster ID is written like an IPv4 address, e.g. 244.0.0.1"
        );
        assert_eq!(f.field, Field::ClusterId);
        find(&validate_reflectors(&names, "", &demo()), "rr-cluster-id-syntax");
        assert_eq!(validate_reflectors(&names, "224.0.0.1", &demo()), vec![]);
    }

    const K8S3_RR: &str =
        "projectcalico.org/IPv4Address: 172.31.13.29/24\n    projectcalico.org/RouteReflectorClusterID: ";

    #[test]
    fn rr_cluster_id_differs() {
        let rr = format!("{K8S3_RR}224.0.0.1");
        let facts = demo_with(&[(K8S3_V4, &rr)]);
        let f = rrs(&["k8s-2", "k8s-3"], &facts);
        let f = find(&f, "rr-cluster-id-differs");
        assert!(f.message.contains("'224.0.0.1'") && f.fix.as_deref().unwrap().contains("type 224.0.0.1"));
        let names = vec!["k8s-2".to_string(), "k8s-3".to_string()];
        lacks(&validate_reflectors(&names, "224.0.0.1", &facts), "rr-cluster-id-differs");
    }

    #[test]
    fn rr_existing_not_chosen() {
        let rr = format!("{K8S3_RR}244.0.0.1");
        let facts = demo_with(&[(K8S3_V4, &rr)]);
        assert!(find(&rrs(&["k8s-2", "k8s-1"], &facts), "rr-existing-not-chosen").message.contains("'k8s-3'"));
        lacks(&rrs(&["k8s-2", "k8s-3"], &facts), "rr-existing-not-chosen");
    }

    // ---- preflight --------------------------------------------------------------------------

    #[test]
    fn preflight_demo() {
        let f = preflight(&demo());
        assert_eq!(
            rules(&f),
            vec!["pool-encapsulation", "pool-nat-outgoing", "mesh-on", "ip-autodetection-first-found"]
        );
        assert!(f.iter().all(|f| f.severity == Severity::Info), "{f:#?}");
        assert!(find(&f, "mesh-on").message.contains("3 sessions for 3 nodes"));
    }

    #[test]
    fn preflight_calico_not_found() {
        let f = preflight(&demo_with(&[("kind: ConfigMap", "kind: Ignored")]));
        assert!(find(&f, "calico-not-found").is_error());
        lacks(&f, "backend-not-bird");
    }

    #[test]
    fn preflight_backend_not_bird() {
        let f = preflight(&demo_with(&[("calico_backend: bird", "calico_backend: vxlan")]));
        let f = find(&f, "backend-not-bird");
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.message.contains("'vxlan (no BGP)'") && f.fix.as_deref().unwrap().contains("restarts calico-node"));
    }

    #[test]
    fn preflight_no_nodes() {
        let f = preflight(&facts_of(
            "kind: ConfigMap\napiVersion: v1\nmetadata: {name: calico-config, namespace: kube-system}\ndata: {calico_backend: bird}\n",
        ));
        assert!(find(&f, "no-nodes").is_error());
        lacks(&preflight(&demo()), "no-nodes");
    }

    #[test]
    fn preflight_calico_version() {
        let f = preflight(&demo_with(&[("node:v3.23.3", "node:v3.20.1")]));
        assert_eq!(find(&f, "calico-old").severity, Severity::Warning);
        lacks(&preflight(&demo_with(&[("node:v3.23.3", "node:v3.21.0")])), "calico-old");
        let f = preflight(&demo_with(&[("node:v3.23.3", "node")]));
        assert_eq!(find(&f, "calico-version-unknown").severity, Severity::Info);
        assert_eq!(version_of("v3.28.0-0.dev"), Some((3, 28)));
    }

    const INSTALLATION: &str = "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata: {name: default}\nspec:\n  calicoNetwork:\n    bgp: Enabled\n";

    #[test]
    fn preflight_operator_install() {
        let f = preflight(&demo_plus(INSTALLATION));
        let f = find(&f, "operator-install");
        assert_eq!(f.severity, Severity::Info);
        assert!(f.fix.as_deref().unwrap().contains("v3.28"));
        lacks(&preflight(&demo()), "operator-install");
    }

    #[test]
    fn preflight_pool_encapsulation_and_nat() {
        let f = preflight(&demo_with(&[
            ("ipipMode: Always", "ipipMode: Never"),
            ("natOutgoing: true", "natOutgoing: false"),
        ]));
        lacks(&f, "pool-encapsulation");
        lacks(&f, "pool-nat-outgoing");
        let f = preflight(&demo_with(&[
            ("ipipMode: Always", "ipipMode: Never"),
            ("vxlanMode: Never", "vxlanMode: CrossSubnet"),
        ]));
        assert!(find(&f, "pool-encapsulation").message.contains("vxlanMode 'CrossSubnet'"));
    }

    #[test]
    fn preflight_mesh_and_peers() {
        let peer = "apiVersion: crd.projectcalico.org/v1\nkind: BGPPeer\nmetadata: {name: tor}\nspec: {peerIP: 172.31.13.116, asNumber: 7675}\n";
        let f = preflight(&demo_plus(&format!("{BGP_CONFIG}---\n{peer}")));
        lacks(&f, "mesh-on");
        assert!(find(&f, "existing-peers").message.contains("'tor'"));
        lacks(&preflight(&demo()), "existing-peers");
    }

    #[test]
    fn preflight_node_addresses() {
        let f = preflight(&demo_with(&[(K8S1_V4, "")]));
        assert_eq!(find(&f, "node-no-bgp-address").severity, Severity::Warning);
        let f = preflight(&demo_with(&[(K8S1_V4, "projectcalico.org/IPv4Address: 172.31.13.300/24")]));
        let f = find(&f, "node-bgp-address-invalid");
        assert!(f.is_error() && f.message.contains("'172.31.13.300/24'"));
        lacks(&preflight(&demo()), "node-bgp-address-invalid");
    }

    #[test]
    fn preflight_node_address_mismatch() {
        let f = preflight(&demo_with(&[(K8S1_V4, "projectcalico.org/IPv4Address: 172.31.13.99/24")]));
        let m = find(&f, "node-address-mismatch");
        assert_eq!(m.severity, Severity::Warning);
        assert!(m.message.contains("'172.31.13.99'") && m.message.contains("'172.31.13.27'"));
        assert!(m.fix.as_deref().unwrap().contains("IP_AUTODETECTION_METHOD=kubernetes-internal-ip"));
        // first-found is then the likely cause: a warning too.
        assert_eq!(find(&f, "ip-autodetection-first-found").severity, Severity::Warning);
        // Operator install: the fix names the Installation field.
        let f = preflight(
            &demo_plus(INSTALLATION).tap(|f| f.nodes[0].calico_ipv4 = Some("172.31.13.99/24".parse().unwrap())),
        );
        assert!(find(&f, "node-address-mismatch").fix.as_deref().unwrap().contains("nodeAddressAutodetectionV4"));
    }

    #[test]
    fn preflight_ip_autodetection() {
        let pinned = "- name: IP\n          value: autodetect\n        - name: IP_AUTODETECTION_METHOD\n          value: kubernetes-internal-ip";
        lacks(
            &preflight(&demo_with(&[("- name: IP\n          value: autodetect", pinned)])),
            "ip-autodetection-first-found",
        );
        let operator = format!("{INSTALLATION}    nodeAddressAutodetectionV4: {{kubernetes: NodeInternalIP}}\n");
        lacks(&preflight(&demo_plus(&operator)), "ip-autodetection-first-found");
        find(&preflight(&demo_plus(INSTALLATION)), "ip-autodetection-first-found");
    }

    #[test]
    fn preflight_service_cidr_unknown() {
        let mut facts = demo();
        facts.service_cidrs.clear();
        assert_eq!(find(&preflight(&facts), "service-cidr-unknown").severity, Severity::Info);
    }

    // ---- suggestions ------------------------------------------------------------------------

    #[test]
    fn suggests_control_plane_then_other_zone() {
        assert_eq!(suggest_reflectors(&demo()), vec!["k8s-2", "k8s-1"]);
        // Two control-plane nodes in different zones.
        let cp = "kubernetes.io/os: linux\n    node-role.kubernetes.io/control-plane: \"\"\n    topology.kubernetes.io/zone: zone-c";
        let facts = demo_with(&[("kubernetes.io/os: linux\n    topology.kubernetes.io/zone: zone-c", cp)]);
        assert_eq!(suggest_reflectors(&facts), vec!["k8s-2", "k8s-3"]);
        // A second control-plane node in the same zone still beats a worker elsewhere.
        let cp_b = cp.replace("zone-c", "zone-b");
        let facts = demo_with(&[("kubernetes.io/os: linux\n    topology.kubernetes.io/zone: zone-c", &cp_b)]);
        assert_eq!(suggest_reflectors(&facts), vec!["k8s-2", "k8s-3"]);
    }

    #[test]
    fn suggests_without_control_plane_or_addresses() {
        let facts = demo_with(&[("    node-role.kubernetes.io/control-plane: \"\"\n", "")]);
        assert_eq!(suggest_reflectors(&facts), vec!["k8s-1", "k8s-2"]);
        // Nodes without a Calico address are never suggested.
        let facts = demo_with(&[(K8S1_V4, "")]);
        assert_eq!(suggest_reflectors(&facts), vec!["k8s-2", "k8s-3"]);
        // Same zone everywhere: still two.
        let facts = demo_with(&[("zone: zone-a", "zone: zone-b"), ("zone: zone-c", "zone: zone-b")]);
        assert_eq!(suggest_reflectors(&facts), vec!["k8s-2", "k8s-1"]);
        let mut empty = demo();
        empty.nodes.clear();
        assert_eq!(suggest_reflectors(&empty), Vec::<String>::new());
    }

    #[test]
    fn keep_next_hop_default() {
        assert!(default_keep_next_hop("172.31.13.116", &demo()));
        assert!(!default_keep_next_hop("10.0.0.1", &demo()));
        assert!(!default_keep_next_hop("switch", &demo()));
        assert!(!default_keep_next_hop("", &demo()));
    }

    trait Tap: Sized {
        fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
            f(&mut self);
            self
        }
    }
    impl Tap for ClusterFacts {}
}
