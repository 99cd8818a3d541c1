//! What the wizard knows about a cluster, derived purely from its objects ([`ObjectSet`]).
//!
//! The same derivation serves the embedded demo and a real API server, so the Detect screen, the
//! validation rules and the planner never see where the facts came from.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde_json::Value;

use super::asn::Asn;
use super::objects::{Kind, ObjectRef, ObjectSet};

/// Calico's default AS when no BGPConfiguration sets one (confd `globalDefaults`).
pub const DEFAULT_AS: Asn = Asn(64512);
/// Calico's default IPAM block size for IPv4 pools.
pub const DEFAULT_BLOCK_SIZE_V4: u8 = 26;
/// Calico's default IPAM block size for IPv6 pools.
pub const DEFAULT_BLOCK_SIZE_V6: u8 = 122;

pub const ANN_IPV4: &str = "projectcalico.org/IPv4Address";
pub const ANN_IPV6: &str = "projectcalico.org/IPv6Address";
pub const ANN_ASN: &str = "projectcalico.org/ASNumber";
pub const ANN_RR_CLUSTER_ID: &str = "projectcalico.org/RouteReflectorClusterID";
pub const LABEL_RR: &str = "route-reflector";
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";
pub const LABEL_ZONE_OLD: &str = "failure-domain.beta.kubernetes.io/zone";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum InstallKind {
    /// `kube-system/calico-config` ConfigMap (calico.yaml).
    Manifest,
    /// Tigera operator: `Installation default`.
    Operator,
    /// Neither found: is Calico installed?
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Backend {
    Bird,
    Vxlan,
    None,
    Other(String),
    Unknown,
}

impl Backend {
    pub fn parse(s: &str) -> Backend {
        match s.trim() {
            "bird" => Backend::Bird,
            "vxlan" => Backend::Vxlan,
            "none" => Backend::None,
            "" => Backend::Unknown,
            o => Backend::Other(o.to_string()),
        }
    }
    pub fn label(&self) -> String {
        match self {
            Backend::Bird => "bird (BGP)".into(),
            Backend::Vxlan => "vxlan (no BGP)".into(),
            Backend::None => "none (policy only)".into(),
            Backend::Other(s) => s.clone(),
            Backend::Unknown => "unknown".into(),
        }
    }
}

/// `ipipMode` / `vxlanMode` of an IPPool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum EncapMode {
    Never,
    Always,
    CrossSubnet,
}

impl EncapMode {
    /// Calico treats a missing or unknown value as Never (the API default).
    pub fn parse(s: Option<&str>) -> EncapMode {
        match s {
            Some("Always") => EncapMode::Always,
            Some("CrossSubnet") => EncapMode::CrossSubnet,
            _ => EncapMode::Never,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            EncapMode::Never => "Never",
            EncapMode::Always => "Always",
            EncapMode::CrossSubnet => "CrossSubnet",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeFacts {
    pub name: String,
    /// From `node-role.kubernetes.io/<role>` labels, e.g. `control-plane`.
    pub roles: Vec<String>,
    pub internal_ip: Option<IpAddr>,
    /// `projectcalico.org/IPv4Address`, with its mask (what BGP uses).
    pub calico_ipv4: Option<Ipv4Net>,
    pub calico_ipv6: Option<Ipv6Net>,
    /// Raw annotation text when it could not be parsed (shown as a finding).
    pub calico_ipv4_invalid: Option<String>,
    pub asn: Option<Asn>,
    pub rr_cluster_id: Option<String>,
    pub zone: Option<String>,
    pub labels: BTreeMap<String, String>,
}

impl NodeFacts {
    pub fn is_control_plane(&self) -> bool {
        self.roles.iter().any(|r| r == "control-plane" || r == "master")
    }
    /// True when the node carries the `route-reflector=true` label the wizard's BGPPeers select.
    pub fn has_rr_label(&self) -> bool {
        self.labels.get(LABEL_RR).map(String::as_str) == Some("true")
    }
    /// True when the node is labelled and annotated as a route reflector.
    pub fn is_route_reflector(&self) -> bool {
        self.rr_cluster_id.is_some() && self.has_rr_label()
    }
    /// The node's BGP address (Calico IPv4 without mask).
    pub fn bgp_ip(&self) -> Option<Ipv4Addr> {
        self.calico_ipv4.map(|n| n.addr())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PoolFacts {
    pub name: String,
    pub cidr: IpNet,
    pub ipip_mode: EncapMode,
    pub vxlan_mode: EncapMode,
    pub nat_outgoing: bool,
    pub disabled: bool,
    pub block_size: u8,
    pub node_selector: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BgpConfigFacts {
    pub asn: Option<Asn>,
    /// None means unset, which Calico treats as true.
    pub mesh_enabled: Option<bool>,
    pub listen_port: Option<u16>,
    pub service_cluster_ips: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BgpPeerFacts {
    pub name: String,
    pub node: Option<String>,
    pub node_selector: Option<String>,
    pub peer_ip: Option<String>,
    pub asn: Option<Asn>,
    pub peer_selector: Option<String>,
    pub keep_original_next_hop: bool,
    pub password: Option<SecretKeyRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InstallationPoolFacts {
    pub cidr: String,
    pub encapsulation: String,
    pub nat_outgoing: String,
    pub block_size: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InstallationFacts {
    /// `spec.calicoNetwork.bgp`: `Enabled`, `Disabled` or unset (defaults to Enabled).
    pub bgp: Option<String>,
    pub pools: Vec<InstallationPoolFacts>,
    /// `spec.calicoNetwork.nodeAddressAutodetectionV4`, as compact JSON, when set.
    pub autodetect_v4: Option<String>,
}

/// Everything detected about one cluster.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClusterFacts {
    pub context: String,
    pub server: String,
    pub kubernetes_version: String,
    pub calico_version: Option<String>,
    pub install: InstallKind,
    pub backend: Backend,
    /// Namespace where calico-node runs (`kube-system` for manifests, `calico-system` for the operator).
    pub calico_namespace: String,
    pub nodes: Vec<NodeFacts>,
    pub pools: Vec<PoolFacts>,
    /// None when `BGPConfiguration default` does not exist (Calico then uses AS 64512, mesh on).
    pub bgp_config: Option<BgpConfigFacts>,
    pub peers: Vec<BgpPeerFacts>,
    pub installation: Option<InstallationFacts>,
    pub service_cidrs: Vec<IpNet>,
    /// calico-node `IP_AUTODETECTION_METHOD` (None: unset, i.e. `first-found`).
    pub ip_autodetection: Option<String>,
}

impl ClusterFacts {
    /// The cluster's AS: BGPConfiguration's `asNumber`, else Calico's default 64512.
    pub fn cluster_as(&self) -> Asn {
        self.bgp_config.as_ref().and_then(|c| c.asn).unwrap_or(DEFAULT_AS)
    }
    /// The node-to-node mesh is on unless BGPConfiguration says false.
    pub fn mesh_enabled(&self) -> bool {
        self.bgp_config.as_ref().and_then(|c| c.mesh_enabled).unwrap_or(true)
    }
    pub fn node(&self, name: &str) -> Option<&NodeFacts> {
        self.nodes.iter().find(|n| n.name == name)
    }
    pub fn pool(&self, name: &str) -> Option<&PoolFacts> {
        self.pools.iter().find(|p| p.name == name)
    }
    pub fn peer(&self, name: &str) -> Option<&BgpPeerFacts> {
        self.peers.iter().find(|p| p.name == name)
    }
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

fn map_of(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}

/// An ASN as Calico stores it: a JSON number or a string in asplain/asdot.
fn asn_of(v: Option<&Value>) -> Option<Asn> {
    match v? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()).map(Asn),
        Value::String(t) => Asn::parse(t).ok(),
        _ => None,
    }
}

pub fn node_facts(obj: &Value) -> Option<NodeFacts> {
    let meta = obj.get("metadata")?;
    let name = meta.get("name")?.as_str()?.to_string();
    let labels = map_of(meta.get("labels"));
    let ann = map_of(meta.get("annotations"));
    let mut roles: Vec<String> =
        labels.keys().filter_map(|k| k.strip_prefix("node-role.kubernetes.io/")).map(str::to_string).collect();
    roles.sort();
    let internal_ip = obj
        .pointer("/status/addresses")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|x| x.get("type").and_then(Value::as_str) == Some("InternalIP")))
        .and_then(|x| x.get("address")?.as_str()?.parse().ok());
    let (calico_ipv4, calico_ipv4_invalid) = match ann.get(ANN_IPV4) {
        Some(t) => match t.parse::<Ipv4Net>() {
            Ok(n) => (Some(n), None),
            Err(_) => (None, Some(t.clone())),
        },
        None => (None, None),
    };
    let calico_ipv6 = ann.get(ANN_IPV6).and_then(|t| t.parse().ok());
    let asn = ann.get(ANN_ASN).and_then(|t| Asn::parse(t).ok());
    let rr_cluster_id = ann.get(ANN_RR_CLUSTER_ID).filter(|t| !t.is_empty()).cloned();
    let zone = labels.get(LABEL_ZONE).or_else(|| labels.get(LABEL_ZONE_OLD)).cloned();
    Some(NodeFacts {
        name,
        roles,
        internal_ip,
        calico_ipv4,
        calico_ipv6,
        calico_ipv4_invalid,
        asn,
        rr_cluster_id,
        zone,
        labels,
    })
}

pub fn pool_facts(obj: &Value) -> Option<PoolFacts> {
    let name = s(obj, &["metadata", "name"])?.to_string();
    let spec = obj.get("spec")?;
    let cidr: IpNet = spec.get("cidr")?.as_str()?.parse().ok()?;
    let default_block = if cidr.addr().is_ipv4() { DEFAULT_BLOCK_SIZE_V4 } else { DEFAULT_BLOCK_SIZE_V6 };
    Some(PoolFacts {
        name,
        cidr,
        ipip_mode: EncapMode::parse(spec.get("ipipMode").and_then(Value::as_str)),
        vxlan_mode: EncapMode::parse(spec.get("vxlanMode").and_then(Value::as_str)),
        nat_outgoing: spec.get("natOutgoing").and_then(Value::as_bool).unwrap_or(false),
        disabled: spec.get("disabled").and_then(Value::as_bool).unwrap_or(false),
        block_size: spec
            .get("blockSize")
            .and_then(Value::as_u64)
            .and_then(|b| u8::try_from(b).ok())
            .unwrap_or(default_block),
        node_selector: spec.get("nodeSelector").and_then(Value::as_str).unwrap_or("all()").to_string(),
    })
}

pub fn bgp_config_facts(obj: &Value) -> BgpConfigFacts {
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    BgpConfigFacts {
        asn: asn_of(spec.get("asNumber")),
        mesh_enabled: spec.get("nodeToNodeMeshEnabled").and_then(Value::as_bool),
        listen_port: spec.get("listenPort").and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok()),
        service_cluster_ips: spec
            .get("serviceClusterIPs")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|c| c.get("cidr")?.as_str().map(str::to_string)).collect())
            .unwrap_or_default(),
    }
}

pub fn peer_facts(obj: &Value) -> Option<BgpPeerFacts> {
    let name = s(obj, &["metadata", "name"])?.to_string();
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    let st = |k: &str| spec.get(k).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_string);
    let password = spec.pointer("/password/secretKeyRef").and_then(|r| {
        Some(SecretKeyRef { name: r.get("name")?.as_str()?.to_string(), key: r.get("key")?.as_str()?.to_string() })
    });
    Some(BgpPeerFacts {
        name,
        node: st("node"),
        node_selector: st("nodeSelector"),
        peer_ip: st("peerIP"),
        asn: asn_of(spec.get("asNumber")),
        peer_selector: st("peerSelector"),
        keep_original_next_hop: spec.get("keepOriginalNextHop").and_then(Value::as_bool).unwrap_or(false),
        password,
    })
}

fn installation_facts(obj: &Value) -> InstallationFacts {
    let net = obj.pointer("/spec/calicoNetwork").cloned().unwrap_or(Value::Null);
    let pools = net
        .get("ipPools")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some(InstallationPoolFacts {
                        cidr: p.get("cidr")?.as_str()?.to_string(),
                        encapsulation: p.get("encapsulation").and_then(Value::as_str).unwrap_or("IPIP").to_string(),
                        nat_outgoing: p.get("natOutgoing").and_then(Value::as_str).unwrap_or("Enabled").to_string(),
                        block_size: p.get("blockSize").and_then(Value::as_u64).and_then(|b| u8::try_from(b).ok()),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    InstallationFacts {
        bgp: net.get("bgp").and_then(Value::as_str).map(str::to_string),
        pools,
        autodetect_v4: net.get("nodeAddressAutodetectionV4").map(Value::to_string),
    }
}

/// The calico-node container's env value, if set literally.
fn calico_node_env<'a>(ds: &'a Value, name: &str) -> Option<&'a str> {
    ds.pointer("/spec/template/spec/containers")?
        .as_array()?
        .iter()
        .filter(|c| c.get("name").and_then(Value::as_str) == Some("calico-node"))
        .flat_map(|c| c.get("env").and_then(Value::as_array).into_iter().flatten())
        .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|e| e.get("value")?.as_str())
}

fn calico_node_version(ds: &Value) -> Option<String> {
    let image = ds
        .pointer("/spec/template/spec/containers")?
        .as_array()?
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some("calico-node"))?
        .get("image")?
        .as_str()?;
    let tag = image.rsplit_once(':')?.1;
    (!tag.contains('/')).then(|| tag.split('@').next().unwrap_or(tag).to_string())
}

/// Derive the facts from a snapshot of objects. Pure.
pub fn detect(set: &ObjectSet) -> ClusterFacts {
    let installation = set.get(&ObjectRef::cluster(Kind::Installation, "default")).map(installation_facts);
    let calico_config = set.get(&ObjectRef::namespaced(Kind::ConfigMap, "kube-system", "calico-config"));
    let (install, calico_namespace) = match (&installation, calico_config) {
        (Some(_), _) => (InstallKind::Operator, "calico-system"),
        (None, Some(_)) => (InstallKind::Manifest, "kube-system"),
        (None, None) => (InstallKind::Unknown, "kube-system"),
    };
    let ds = set.get(&ObjectRef::namespaced(Kind::DaemonSet, calico_namespace, "calico-node"));
    let backend = match install {
        InstallKind::Operator => match installation.as_ref().and_then(|i| i.bgp.as_deref()) {
            Some("Disabled") => Backend::Vxlan,
            _ => Backend::Bird,
        },
        InstallKind::Manifest => {
            Backend::parse(calico_config.and_then(|c| s(c, &["data", "calico_backend"])).unwrap_or(""))
        }
        InstallKind::Unknown => Backend::Unknown,
    };
    let mut nodes: Vec<NodeFacts> = set.list(Kind::Node).filter_map(node_facts).collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    let pools = set.list(Kind::IpPool).filter_map(pool_facts).collect();
    let bgp_config = set.get(&ObjectRef::cluster(Kind::BgpConfiguration, "default")).map(bgp_config_facts);
    let peers = set.list(Kind::BgpPeer).filter_map(peer_facts).collect();
    let mut service_cidrs: Vec<IpNet> = set.meta.service_cidrs.iter().filter_map(|c| c.parse().ok()).collect();
    service_cidrs.sort();
    service_cidrs.dedup();
    ClusterFacts {
        context: set.meta.context.clone(),
        server: set.meta.server.clone(),
        kubernetes_version: set.meta.kubernetes_version.clone(),
        calico_version: ds.and_then(calico_node_version),
        install,
        backend,
        calico_namespace: calico_namespace.to_string(),
        nodes,
        pools,
        bgp_config,
        peers,
        installation,
        service_cidrs,
        ip_autodetection: ds.and_then(|d| calico_node_env(d, "IP_AUTODETECTION_METHOD")).map(str::to_string),
    }
}
