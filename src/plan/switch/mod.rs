//! The switch side of the peering: the configuration a network engineer pastes into the
//! top-of-rack switch so it peers eBGP with the cluster's route reflectors and learns the pod
//! routes, rendered for each [`Vendor`]. Pure: text in, text out, no I/O.
//!
//! Every rendering does the same thing (see `calico-bgp.md` §7 and §8 item 5):
//! - one eBGP neighbor per route reflector, in the switch's AS, remote AS = the cluster's AS;
//! - inbound, only prefixes inside the pod pool from `/block_size` to `/32` (`/128`): Calico
//!   exports each node's block and, for borrowed addresses, host routes;
//! - outbound, nothing: the cluster needs no route from the switch;
//! - ECMP over the reflectors (without keepOriginalNextHop the next hop is each reflector);
//! - multihop only when the caller says a reflector is off the switch's subnet (Calico's side
//!   always uses multihop, TTL 64).
//!
//! A password is never rendered: only the placeholder [`PASSWORD_PLACEHOLDER`].
//!
//! This file holds the parameters, the dispatch over vendors and what every rendering shares
//! (header, common notes, `Ctx`); each vendor family has its own file.

mod cisco;
mod frr_vyos;
mod junos;
mod mikrotik;
#[cfg(test)]
mod tests;
mod vrp;

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use crate::domain::answers::Vendor;
use crate::domain::asn::Asn;
use crate::domain::facts::ClusterFacts;
use crate::plan::Plan;

/// What the engineer replaces with the real password (the one in the cluster's Secret).
pub const PASSWORD_PLACEHOLDER: &str = "<BGP password>";
/// TTL the switch uses for multihop sessions: one router between the switch and a reflector.
pub const MULTIHOP_TTL: u8 = 2;

const PREFIX_LIST: &str = "CALICO-PODS";
const POLICY_IN: &str = "CALICO-IN";
const POLICY_OUT: &str = "CALICO-OUT";
const GROUP: &str = "CALICO";

/// One route reflector as the switch sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchNeighbor {
    pub node: String,
    pub ip: IpAddr,
}

/// Everything the switch configuration depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchParams {
    pub switch_ip: IpAddr,
    pub switch_as: Asn,
    pub cluster_as: Asn,
    /// The route reflectors' Calico addresses.
    pub neighbors: Vec<SwitchNeighbor>,
    /// Canonical pod CIDR.
    pub pool: IpNet,
    /// Each node advertises `/block_size` routes from the pool.
    pub block_size: u8,
    /// A password is set: render [`PASSWORD_PLACEHOLDER`], never a real value.
    pub password: bool,
    /// True when a neighbor is not in the switch's own subnet.
    pub multihop: bool,
    pub keep_original_next_hop: bool,
}

/// The rendered configuration for one vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchConfig {
    pub vendor: Vendor,
    /// Text to paste, with a comment header, ending in a newline.
    pub config: String,
    /// Commands that show the sessions and the learned routes on that platform.
    pub verify_commands: Vec<String>,
    /// One-line cautions for the engineer.
    pub notes: Vec<String>,
}

/// Derive the switch parameters from a plan and the facts it was built from.
///
/// Neighbors are the plan's reflectors with their Calico address of the pool's family (a
/// reflector without one is left out: validation reports it). The session is multihop when the
/// switch IP is outside some reflector's Calico subnet.
pub fn switch_params(plan: &Plan, facts: &ClusterFacts) -> SwitchParams {
    let a = &plan.answers;
    let pool = a.pool.cidr.trunc();
    let v6 = pool.addr().is_ipv6();
    let mut neighbors = Vec::new();
    let mut multihop = false;
    for name in &a.reflectors {
        let node = facts.node(name);
        let net: Option<IpNet> =
            node.and_then(|n| if v6 { n.calico_ipv6.map(IpNet::V6) } else { n.calico_ipv4.map(IpNet::V4) });
        if let Some(net) = net {
            multihop |= !net.contains(&a.switch_ip);
            neighbors.push(SwitchNeighbor { node: name.clone(), ip: net.addr() });
        }
    }
    SwitchParams {
        switch_ip: a.switch_ip,
        switch_as: a.switch_as,
        cluster_as: a.cluster_as,
        neighbors,
        pool,
        block_size: a.pool.block_size,
        password: a.password.is_some(),
        multihop,
        keep_original_next_hop: a.keep_original_next_hop,
    }
}

/// Render every vendor, in [`Vendor::ALL`] order.
pub fn render_all(p: &SwitchParams) -> Vec<SwitchConfig> {
    Vendor::ALL.iter().map(|&v| render(v, p)).collect()
}

/// Render the configuration for one vendor.
pub fn render(vendor: Vendor, p: &SwitchParams) -> SwitchConfig {
    let c = Ctx::new(p);
    let out = match vendor {
        Vendor::CiscoIos => cisco::cisco_ios(&c),
        Vendor::CiscoNxos => cisco::cisco_nxos(&c),
        Vendor::AristaEos => cisco::arista_eos(&c),
        Vendor::JuniperJunos => junos::junos(&c),
        Vendor::HuaweiVrp => vrp::huawei_vrp(&c),
        Vendor::H3cComware => vrp::h3c_comware(&c),
        Vendor::Frr => frr_vyos::frr(&c),
        Vendor::Mikrotik => mikrotik::mikrotik(&c),
        Vendor::Vyos => frr_vyos::vyos(&c),
    };
    let comment = match vendor {
        Vendor::CiscoIos | Vendor::CiscoNxos | Vendor::AristaEos | Vendor::Frr => "!",
        _ => "#",
    };
    let mut config: String = c.header(vendor).iter().map(|l| format!("{comment} {l}\n")).collect();
    for line in &out.lines {
        config.push_str(line);
        config.push('\n');
    }
    let mut notes = out.notes;
    notes.extend(c.common_notes());
    SwitchConfig { vendor, config, verify_commands: out.verify, notes }
}

/// What one vendor's renderer produces (the header and the common notes are added around it).
struct Rendered {
    lines: Vec<String>,
    verify: Vec<String>,
    notes: Vec<String>,
}

/// Values every renderer needs, computed once.
struct Ctx<'a> {
    p: &'a SwitchParams,
    v6: bool,
    pool: IpNet,
    /// Shortest accepted prefix length (the block size, at least the pool's length).
    lo: u8,
    /// Longest accepted prefix length: 32 or 128.
    hi: u8,
    /// ECMP paths: one per reflector, at least 2.
    paths: usize,
}

impl<'a> Ctx<'a> {
    fn new(p: &'a SwitchParams) -> Self {
        let pool = p.pool.trunc();
        let hi = pool.max_prefix_len();
        let lo = p.block_size.clamp(pool.prefix_len(), hi);
        Ctx { p, v6: pool.addr().is_ipv6(), pool, lo, hi, paths: p.neighbors.len().max(2) }
    }

    fn len(&self) -> u8 {
        self.pool.prefix_len()
    }

    /// `ip` or `ipv6`, as in `ip prefix-list` / `match ipv6 address`.
    fn ip_kw(&self) -> &'static str {
        if self.v6 { "ipv6" } else { "ip" }
    }

    /// `ipv4` or `ipv6`, as in `address-family ipv4 unicast`.
    fn afi(&self) -> &'static str {
        if self.v6 { "ipv6" } else { "ipv4" }
    }

    /// The router ID: the switch IP when it is IPv4.
    fn router_id(&self) -> Option<Ipv4Addr> {
        match self.p.switch_ip {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        }
    }

    /// The router ID as rendered: the switch IP, or a placeholder the engineer replaces.
    fn router_id_text(&self) -> String {
        self.router_id().map_or_else(|| "<IPv4 router id>".to_string(), |id| id.to_string())
    }

    /// Cisco-style show commands under `show_bgp` (e.g. `show bgp ipv4 unicast`, `show ip bgp`):
    /// the summary, each neighbor's received and advertised routes, then the installed BGP routes.
    fn cisco_verify(&self, show_bgp: &str) -> Vec<String> {
        let mut verify = vec![format!("{show_bgp} summary")];
        for n in &self.p.neighbors {
            verify.push(format!("{show_bgp} neighbors {} routes", n.ip));
            verify.push(format!("{show_bgp} neighbors {} advertised-routes", n.ip));
        }
        verify.push(format!("show {} route bgp", self.ip_kw()));
        verify
    }

    /// Cisco-style length range: ` ge 26 le 32` (each part only when it differs from the pool's).
    fn ge_le(&self, ge: &str, le: &str) -> String {
        let mut s = String::new();
        if self.lo > self.len() {
            s.push_str(&format!(" {ge} {}", self.lo));
        }
        if self.hi > self.len() {
            s.push_str(&format!(" {le} {}", self.hi));
        }
        s
    }

    /// The default route, for the note on what could be sent.
    fn default_route(&self) -> &'static str {
        if self.v6 { "::/0" } else { "0.0.0.0/0" }
    }

    fn header(&self, vendor: Vendor) -> Vec<String> {
        let p = self.p;
        let rrs: Vec<String> = p.neighbors.iter().map(|n| format!("{} ({})", n.node, n.ip)).collect();
        let mut h = vec![
            format!("calico-bgp-wizard: {} configuration for the top-of-rack switch", vendor.label()),
            format!("{} (AS {}), peering eBGP with the Calico route reflectors", p.switch_ip, p.switch_as),
            format!("{} in cluster AS {}.", rrs.join(", "), p.cluster_as),
            format!(
                "Accepts only pod routes inside {} from /{} to /{} (each node's /{} block, host routes",
                self.pool, self.lo, self.hi, p.block_size
            ),
            "for borrowed addresses); announces nothing to the cluster.".to_string(),
        ];
        if p.password {
            h.push(format!("Replace {PASSWORD_PLACEHOLDER} with the password the cluster's BGPPeer uses."));
        }
        h
    }

    fn common_notes(&self) -> Vec<String> {
        let p = self.p;
        let mut n = Vec::new();
        if p.keep_original_next_hop {
            n.push(
                "keepOriginalNextHop is on: each pod block's next hop is the node that owns it, so the switch \
                 must reach every node directly (same L2 segment and subnet); both reflectors announce the same \
                 next hop."
                    .to_string(),
            );
            if p.multihop {
                n.push(
                    "keepOriginalNextHop with a multihop session: if the switch cannot reach the nodes directly, \
                     the routes stay unresolved; turn keepOriginalNextHop off so the reflectors are the next hop."
                        .to_string(),
                );
            }
        } else {
            n.push(
                "keepOriginalNextHop is off: the next hop of every pod route is the reflector that sent it, so \
                 pod traffic goes through the reflectors (ECMP over both) and they forward it to the owning node."
                    .to_string(),
            );
        }
        n.push(format!(
            "Nothing is announced to the cluster: it needs no route from the switch. To give the reflectors a \
             default route, permit {} in the outbound filter; Calico installs it on the reflectors only and \
             does not pass it on to the other nodes.",
            self.default_route()
        ));
        if p.multihop {
            n.push(format!(
                "Multihop: the switch sends with TTL {MULTIHOP_TTL} (raise it if more than one router sits between \
                 the switch and a reflector); Calico always uses multihop TTL 64 on its side, and each reflector \
                 needs a route to {}.",
                p.switch_ip
            ));
        }
        if p.password {
            n.push(format!(
                "Replace {PASSWORD_PLACEHOLDER} with the password in the cluster's Secret {}; it must match on \
                 both ends or the sessions stay down.",
                crate::plan::PASSWORD_SECRET
            ));
        }
        if self.router_id().is_none() {
            n.push(
                "The switch has no IPv4 address here: set a BGP router ID (a unique IPv4-formatted number) where \
                 the configuration shows <IPv4 router id>."
                    .to_string(),
            );
        }
        n
    }
}

/// A renderer's output; `names` are the objects it creates, which must not clash on the switch.
fn rendered(lines: Vec<String>, verify: Vec<String>, notes: Vec<&str>, names: &[&str]) -> Rendered {
    let mut notes: Vec<String> = notes.into_iter().map(str::to_string).collect();
    notes.push(format!("Names used here must not clash with existing configuration: {}.", names.join(", ")));
    Rendered { lines, verify, notes }
}

/// The prefix list and the two policies, as most vendors name them.
const POLICY_NAMES: [&str; 3] = [PREFIX_LIST, POLICY_IN, POLICY_OUT];
