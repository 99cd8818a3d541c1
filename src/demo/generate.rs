//! `--demo-nodes N`: the embedded cluster's shape with N nodes, to try the wizard and the peer
//! table at scale. Deterministic: the same N gives the same objects.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde_json::{Value, json};

use super::EMBEDDED_YAML;
use crate::domain::objects::{Kind, ObjectRef, ObjectSet};

/// The most nodes a generated demo has. With the node-to-node mesh on (the starting point), the
/// demo simulates N×(N−1) sessions: at 1000 nodes that is ~1M peer rows, and each change takes
/// ~1.6 s and each `peer_rows` call ~0.7 s in a release build (500 nodes: ~0.4 s and ~0.16 s).
pub const MAX_NODES: usize = 1000;
/// Nodes per /24 subnet (a rack).
const NODES_PER_SUBNET: usize = 100;
/// The first subnet: the embedded demo's, which the switch is on.
const FIRST_SUBNET: usize = 13;
/// Host part of the first node of each subnet (.1–.9 left for gateways; .116 is the switch).
const FIRST_HOST: usize = 10;
const ZONES: [&str; 5] = ["zone-a", "zone-b", "zone-c", "zone-d", "zone-e"];
const CONTROL_PLANE_NODES: usize = 3;

/// The node's address: subnets 172.31.13.0/24, 172.31.14.0/24, … (up to 172.31.22.0/24 for
/// [`MAX_NODES`]), 100 nodes each at .10–.109.
fn node_ip(i: usize) -> Ipv4Net {
    let octet = |v: usize| u8::try_from(v % 256).unwrap_or_default();
    let subnet = FIRST_SUBNET + i / NODES_PER_SUBNET;
    let host = FIRST_HOST + i % NODES_PER_SUBNET;
    let ip = Ipv4Addr::new(172, 31, octet(subnet), octet(host));
    Ipv4Net::new(ip, 24).unwrap_or_else(|_| unreachable!("24 is a valid IPv4 prefix length"))
}

/// A pool with at least one /26 block per node; the embedded /22 up to 60 nodes (Calico borrows
/// addresses from other blocks when a node has none of its own).
fn pool_cidr(nodes: usize) -> Ipv4Net {
    let (ip, len) = match nodes {
        0..=60 => (Ipv4Addr::new(172, 27, 208, 0), 22),
        61..=256 => (Ipv4Addr::new(172, 27, 192, 0), 18),
        257..=512 => (Ipv4Addr::new(172, 27, 128, 0), 17),
        513..=1024 => (Ipv4Addr::new(172, 27, 0, 0), 16),
        _ => (Ipv4Addr::new(172, 24, 0, 0), 14), // beyond MAX_NODES; kept should the cap grow
    };
    Ipv4Net::new(ip, len).unwrap_or_else(|_| unreachable!("prefix lengths above are valid"))
}

fn node_name(i: usize, width: usize) -> String {
    format!("k8s-{:0width$}", i + 1)
}

/// The embedded objects with generated nodes (see [`super::DemoCluster::generated`]).
pub(super) fn objects(nodes: usize) -> ObjectSet {
    let n = nodes.clamp(1, MAX_NODES);
    let base = super::DemoCluster::from_yaml(EMBEDDED_YAML).unwrap_or_else(|e| panic!("embedded demo: {e}"));
    let mut set = base.objects;
    let embedded_nodes: Vec<ObjectRef> = set.objects.keys().filter(|r| r.kind == Kind::Node).cloned().collect();
    for r in embedded_nodes {
        set.remove(&r);
    }

    let width = n.to_string().len().max(3);
    let pool = pool_cidr(n);
    let blocks: Vec<Ipv4Net> = pool.subnets(26).map(|s| s.take(n).collect()).unwrap_or_default();
    let kubelet = set.meta.kubernetes_version.clone();
    for i in 0..n {
        let name = node_name(i, width);
        let ip = node_ip(i);
        let mut labels = json!({
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "topology.kubernetes.io/zone": ZONES[i % ZONES.len()],
        });
        if i < CONTROL_PLANE_NODES {
            labels["node-role.kubernetes.io/control-plane"] = json!("");
        }
        let tunnel = blocks.get(i % blocks.len().max(1)).map_or(pool.addr(), Ipv4Net::addr);
        set.insert(json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": labels,
                "annotations": {
                    "projectcalico.org/IPv4Address": ip.to_string(),
                    "projectcalico.org/IPv4IPIPTunnelAddr": tunnel.to_string(),
                },
            },
            "status": {
                "addresses": [
                    {"type": "InternalIP", "address": ip.addr().to_string()},
                    {"type": "Hostname", "address": name},
                ],
                "nodeInfo": {"kubeletVersion": kubelet, "osImage": "CentOS Linux 7 (Core)"},
            },
        }));
    }

    set.meta.server = format!("https://{}:6443", node_ip(0).addr());
    let pool_ref = ObjectRef::cluster(Kind::IpPool, "default-ipv4-ippool");
    let _ = set.merge_patch(&pool_ref, &json!({"spec": {"cidr": pool.to_string()}}));
    let ds = ObjectRef::namespaced(Kind::DaemonSet, "kube-system", "calico-node");
    let count = Value::from(n);
    let status = json!({"status": {
        "desiredNumberScheduled": count, "currentNumberScheduled": count, "updatedNumberScheduled": count,
        "numberReady": count, "numberAvailable": count,
    }});
    let _ = set.merge_patch(&ds, &status);
    set
}
