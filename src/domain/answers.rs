//! The operator's answers as typed on the wizard's screens (text, so a screen can show exactly
//! what was typed next to its findings), and the validated form the planner takes.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::asn::Asn;

/// Default route-reflector cluster ID (the Calico docs' value).
pub const DEFAULT_CLUSTER_ID: &str = "244.0.0.1";

/// The switch vendors the Preview screen renders configuration for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Vendor {
    CiscoIos,
    CiscoNxos,
    AristaEos,
    JuniperJunos,
    HuaweiVrp,
    H3cComware,
    Frr,
    Mikrotik,
    Vyos,
}

impl Vendor {
    pub const ALL: [Vendor; 9] = [
        Vendor::CiscoIos,
        Vendor::CiscoNxos,
        Vendor::AristaEos,
        Vendor::JuniperJunos,
        Vendor::HuaweiVrp,
        Vendor::H3cComware,
        Vendor::Frr,
        Vendor::Mikrotik,
        Vendor::Vyos,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Vendor::CiscoIos => "Cisco IOS / IOS-XE",
            Vendor::CiscoNxos => "Cisco NX-OS",
            Vendor::AristaEos => "Arista EOS",
            Vendor::JuniperJunos => "Juniper Junos",
            Vendor::HuaweiVrp => "Huawei VRP",
            Vendor::H3cComware => "H3C Comware",
            Vendor::Frr => "FRR / Quagga (vtysh)",
            Vendor::Mikrotik => "MikroTik RouterOS 7",
            Vendor::Vyos => "VyOS",
        }
    }
    /// File-name friendly id (`cisco-ios`), same as the CLI value.
    pub fn id(self) -> &'static str {
        match self {
            Vendor::CiscoIos => "cisco-ios",
            Vendor::CiscoNxos => "cisco-nxos",
            Vendor::AristaEos => "arista-eos",
            Vendor::JuniperJunos => "juniper-junos",
            Vendor::HuaweiVrp => "huawei-vrp",
            Vendor::H3cComware => "h3c-comware",
            Vendor::Frr => "frr",
            Vendor::Mikrotik => "mikrotik",
            Vendor::Vyos => "vyos",
        }
    }
}

/// Which pool pod IPs come from after the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolChoice {
    /// An IPPool that exists, by name.
    Existing(String),
    /// A CIDR typed by the operator (a new pool is created when it matches no existing one).
    Cidr(String),
}

/// A BGP password: never printed by `Debug` or `Display`, so it cannot reach a log or the screen.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Password(pub String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Raw answers, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    pub reflectors: Vec<String>,
    pub cluster_id: String,
    pub switch_ip: String,
    pub switch_as: String,
    pub cluster_as: String,
    /// Empty: no password.
    pub password: Password,
    pub keep_original_next_hop: bool,
    pub pool: PoolChoice,
    pub vendor: Vendor,
}

impl Default for Answers {
    fn default() -> Self {
        Answers {
            reflectors: Vec::new(),
            cluster_id: DEFAULT_CLUSTER_ID.to_string(),
            switch_ip: String::new(),
            switch_as: String::new(),
            cluster_as: String::new(),
            password: Password::default(),
            keep_original_next_hop: true,
            pool: PoolChoice::Cidr(String::new()),
            vendor: Vendor::CiscoIos,
        }
    }
}

/// The pool the plan targets, resolved against the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPool {
    /// Existing pool's name, or the name a new pool will get.
    pub name: String,
    /// Canonical (host bits clear).
    pub cidr: IpNet,
    pub block_size: u8,
    /// False when the plan must create the pool.
    pub exists: bool,
}

/// Answers that passed every error rule (warnings may remain; the caller has confirmed them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAnswers {
    /// Node names, in the order chosen.
    pub reflectors: Vec<String>,
    pub cluster_id: Ipv4Addr,
    pub switch_ip: IpAddr,
    pub switch_as: Asn,
    pub cluster_as: Asn,
    pub password: Option<Password>,
    pub keep_original_next_hop: bool,
    pub pool: TargetPool,
    pub vendor: Vendor,
}
