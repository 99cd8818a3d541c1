//! Pool screen: resolving the pool answer (an existing IPPool by name, or a typed CIDR that is
//! an existing pool or a new one) and checking it against the nodes, the Services, the switch
//! address and the other pools.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{node_nets, node_subnets, quote_list};
use crate::domain::answers::{PoolChoice, TargetPool};
use crate::domain::facts::{
    ANN_IPV4, ANN_IPV6, ClusterFacts, DEFAULT_BLOCK_SIZE_V4, DEFAULT_BLOCK_SIZE_V6, NodeFacts, PoolFacts,
};
use crate::domain::findings::{Field, Finding};

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

// ---------------------------------------------------------------------------------------------
// Pool resolution

/// Resolve the pool answer; findings are the resolution's own (syntax, host bits, unknown name,
/// disabled). The target is returned for further checks even with host bits set (truncated) or
/// when disabled.
pub(super) fn resolve(pool: &PoolChoice, facts: &ClusterFacts) -> (Option<TargetPool>, Vec<Finding>) {
    let f = Field::Pool;
    let mut out = Vec::new();
    let existing = |p: &PoolFacts| TargetPool {
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

// ---------------------------------------------------------------------------------------------
// Helpers

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(b) || b.contains(a)
}

fn family(ip: &IpAddr) -> &'static str {
    if ip.is_ipv4() { "IPv4" } else { "IPv6" }
}

/// The node's Calico network of the same family as `like`.
fn node_net(n: &NodeFacts, like: &IpNet) -> Option<IpNet> {
    node_nets(n).into_iter().find(|net| net.addr().is_ipv4() == like.addr().is_ipv4())
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
