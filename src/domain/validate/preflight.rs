//! Detect screen: what is noteworthy about the cluster before the operator answers anything
//! (Calico install and version, backend, mesh, existing peers, encapsulation, node addresses).

use std::net::IpAddr;

use super::quote_list;
use crate::domain::facts::{ANN_IPV4, Backend, ClusterFacts, EncapMode, InstallKind};
use crate::domain::findings::{Field, Finding, Severity};

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

// ---------------------------------------------------------------------------------------------
// Helpers

/// `(major, minor)` of a version like `v3.23.3`.
pub(super) fn version_of(v: &str) -> Option<(u32, u32)> {
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
