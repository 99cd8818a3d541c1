//! Peering screen: the switch's IP address, the switch's and the cluster's AS numbers, and the BGP
//! password. Also the keepOriginalNextHop default and what the rules know about AS numbers
//! (reserved, documentation and private-use ranges).

use std::net::IpAddr;

use ipnet::IpNet;

use super::{node_nets, node_subnets, pool, quote_list};
use crate::domain::answers::{Answers, TargetPool};
use crate::domain::asn::Asn;
use crate::domain::facts::{ANN_ASN, ClusterFacts};
use crate::domain::findings::{Field, Finding};

/// Calico refuses BGP passwords longer than this (BGPPeer `password`, calico-bgp.md §4.3).
pub const MAX_PASSWORD_LEN: usize = 80;

/// Peering screen: switch IP, switch AS, cluster AS, password.
pub fn validate_peering(answers: &Answers, facts: &ClusterFacts) -> Vec<Finding> {
    let target = pool::resolve(&answers.pool, facts).0;
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

/// keepOriginalNextHop defaults on when the switch shares a subnet with the nodes.
pub fn default_keep_next_hop(switch_ip: &str, facts: &ClusterFacts) -> bool {
    let Ok(ip) = switch_ip.trim().parse::<IpAddr>() else {
        return false;
    };
    facts.nodes.iter().any(|n| node_nets(n).iter().any(|net| net.contains(&ip)))
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
// Switch IP

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

// ---------------------------------------------------------------------------------------------
// AS numbers

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

// ---------------------------------------------------------------------------------------------
// Password

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
// Helpers

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
