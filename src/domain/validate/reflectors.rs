//! Route reflectors screen: which nodes reflect routes to and from the switch, and the cluster ID
//! they share. Also suggests a default choice (two control-plane nodes in different zones).

use std::net::Ipv4Addr;

use super::quote_list;
use crate::domain::asn::Asn;
use crate::domain::facts::{ANN_ASN, ANN_IPV4, ANN_RR_CLUSTER_ID, ClusterFacts, LABEL_RR, NodeFacts};
use crate::domain::findings::{Field, Finding};

/// Route reflectors screen: the chosen nodes and the cluster ID.
///
/// Per-node AS numbers are compared with the cluster's current AS; [`validate`](super::validate) uses
/// the answered one.
pub fn validate_reflectors(reflectors: &[String], cluster_id: &str, facts: &ClusterFacts) -> Vec<Finding> {
    reflector_rules(reflectors, cluster_id, facts.cluster_as(), facts)
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

// ---------------------------------------------------------------------------------------------
// Reflectors

pub(super) fn reflector_rules(
    reflectors: &[String],
    cluster_id: &str,
    cluster_as: Asn,
    facts: &ClusterFacts,
) -> Vec<Finding> {
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
