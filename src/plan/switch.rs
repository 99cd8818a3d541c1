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
        Vendor::CiscoIos => cisco_ios(&c),
        Vendor::CiscoNxos => cisco_nxos(&c),
        Vendor::AristaEos => arista_eos(&c),
        Vendor::JuniperJunos => junos(&c),
        Vendor::HuaweiVrp => huawei_vrp(&c),
        Vendor::H3cComware => h3c_comware(&c),
        Vendor::Frr => frr(&c),
        Vendor::Mikrotik => mikrotik(&c),
        Vendor::Vyos => vyos(&c),
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

/// Cisco IOS / IOS-XE: classic `router bgp` with a per-neighbor address family.
fn cisco_ios(c: &Ctx) -> Rendered {
    let p = c.p;
    let (ip, afi) = (c.ip_kw(), c.afi());
    let mut l = vec![
        format!("{ip} prefix-list {PREFIX_LIST} seq 10 permit {}{}", c.pool, c.ge_le("ge", "le")),
        "!".into(),
        format!("route-map {POLICY_IN} permit 10"),
        format!(" match {ip} address prefix-list {PREFIX_LIST}"),
        "!".into(),
        format!("route-map {POLICY_OUT} deny 10"),
        "!".into(),
        format!("router bgp {}", p.switch_as),
    ];
    match c.router_id() {
        Some(id) => l.push(format!(" bgp router-id {id}")),
        None => l.push(" bgp router-id <IPv4 router id>".into()),
    }
    l.push(" bgp log-neighbor-changes".into());
    if c.v6 {
        l.push(" no bgp default ipv4-unicast".into());
    }
    for n in &p.neighbors {
        l.push(format!(" neighbor {} remote-as {}", n.ip, p.cluster_as));
        l.push(format!(" neighbor {} description {}", n.ip, n.node));
        if p.multihop {
            l.push(format!(" neighbor {} ebgp-multihop {MULTIHOP_TTL}", n.ip));
        }
        if p.password {
            l.push(format!(" neighbor {} password {PASSWORD_PLACEHOLDER}", n.ip));
        }
    }
    l.push(" !".into());
    l.push(format!(" address-family {afi} unicast"));
    l.push(format!("  maximum-paths {}", c.paths));
    for n in &p.neighbors {
        l.push(format!("  neighbor {} activate", n.ip));
        l.push(format!("  neighbor {} route-map {POLICY_IN} in", n.ip));
        l.push(format!("  neighbor {} route-map {POLICY_OUT} out", n.ip));
    }
    l.push(" exit-address-family".into());
    l.push("end".into());
    let mut verify = vec![format!("show bgp {afi} unicast summary")];
    for n in &p.neighbors {
        verify.push(format!("show bgp {afi} unicast neighbors {} routes", n.ip));
        verify.push(format!("show bgp {afi} unicast neighbors {} advertised-routes", n.ip));
    }
    verify.push(format!("show {ip} route bgp"));
    let mut notes = vec!["Paste in `configure terminal`; then `copy running-config startup-config`."];
    if c.v6 {
        notes.push("IPv6 routing must be on: `ipv6 unicast-routing`.");
    }
    if p.multihop {
        notes.push("If the switch IP is on a loopback or SVI, add `neighbor <ip> update-source <interface>`.");
    }
    rendered(l, verify, notes, &POLICY_NAMES)
}

/// Cisco NX-OS: `feature bgp`, neighbor sub-modes.
fn cisco_nxos(c: &Ctx) -> Rendered {
    let p = c.p;
    let (ip, afi) = (c.ip_kw(), c.afi());
    let mut l = vec![
        "feature bgp".into(),
        "!".into(),
        format!("{ip} prefix-list {PREFIX_LIST} seq 10 permit {}{}", c.pool, c.ge_le("ge", "le")),
        "!".into(),
        format!("route-map {POLICY_IN} permit 10"),
        format!("  match {ip} address prefix-list {PREFIX_LIST}"),
        "!".into(),
        format!("route-map {POLICY_OUT} deny 10"),
        "!".into(),
        format!("router bgp {}", p.switch_as),
    ];
    match c.router_id() {
        Some(id) => l.push(format!("  router-id {id}")),
        None => l.push("  router-id <IPv4 router id>".into()),
    }
    l.push("  log-neighbor-changes".into());
    l.push(format!("  address-family {afi} unicast"));
    l.push(format!("    maximum-paths {}", c.paths));
    for n in &p.neighbors {
        l.push(format!("  neighbor {}", n.ip));
        l.push(format!("    remote-as {}", p.cluster_as));
        l.push(format!("    description {}", n.node));
        if p.multihop {
            l.push(format!("    ebgp-multihop {MULTIHOP_TTL}"));
        }
        if p.password {
            l.push(format!("    password 0 {PASSWORD_PLACEHOLDER}"));
        }
        l.push(format!("    address-family {afi} unicast"));
        l.push(format!("      route-map {POLICY_IN} in"));
        l.push(format!("      route-map {POLICY_OUT} out"));
    }
    l.push("end".into());
    let mut verify = vec![format!("show bgp {afi} unicast summary")];
    for n in &p.neighbors {
        verify.push(format!("show bgp {afi} unicast neighbors {} routes", n.ip));
        verify.push(format!("show bgp {afi} unicast neighbors {} advertised-routes", n.ip));
    }
    verify.push(format!("show {ip} route bgp"));
    let mut notes = vec![
        "Paste in `configure terminal`; then `copy running-config startup-config`.",
        "NX-OS needs `feature bgp` (first line) and a license that includes BGP.",
    ];
    if p.multihop {
        notes.push("If the switch IP is on a loopback or SVI, add `update-source <interface>` under each neighbor.");
    }
    rendered(l, verify, notes, &POLICY_NAMES)
}

/// Arista EOS: Cisco-like, neighbors activated per address family.
fn arista_eos(c: &Ctx) -> Rendered {
    let p = c.p;
    let ip = c.ip_kw();
    let entry = format!("seq 10 permit {}{}", c.pool, c.ge_le("ge", "le"));
    let mut l = if c.v6 {
        vec![format!("ipv6 prefix-list {PREFIX_LIST}"), format!("   {entry}")]
    } else {
        vec![format!("ip prefix-list {PREFIX_LIST} {entry}")]
    };
    l.extend([
        "!".into(),
        format!("route-map {POLICY_IN} permit 10"),
        format!("   match {ip} address prefix-list {PREFIX_LIST}"),
        "!".into(),
        format!("route-map {POLICY_OUT} deny 10"),
        "!".into(),
        format!("router bgp {}", p.switch_as),
    ]);
    match c.router_id() {
        Some(id) => l.push(format!("   router-id {id}")),
        None => l.push("   router-id <IPv4 router id>".into()),
    }
    l.push(format!("   maximum-paths {}", c.paths));
    for n in &p.neighbors {
        l.push(format!("   neighbor {} remote-as {}", n.ip, p.cluster_as));
        l.push(format!("   neighbor {} description {}", n.ip, n.node));
        if p.multihop {
            l.push(format!("   neighbor {} ebgp-multihop {MULTIHOP_TTL}", n.ip));
        }
        if p.password {
            l.push(format!("   neighbor {} password 0 {PASSWORD_PLACEHOLDER}", n.ip));
        }
        l.push(format!("   neighbor {} route-map {POLICY_IN} in", n.ip));
        l.push(format!("   neighbor {} route-map {POLICY_OUT} out", n.ip));
    }
    l.push("   !".into());
    l.push(format!("   address-family {}", c.afi()));
    for n in &p.neighbors {
        l.push(format!("      neighbor {} activate", n.ip));
    }
    l.push("end".into());
    let mut verify = vec![format!("show {ip} bgp summary")];
    for n in &p.neighbors {
        verify.push(format!("show {ip} bgp neighbors {} routes", n.ip));
        verify.push(format!("show {ip} bgp neighbors {} advertised-routes", n.ip));
    }
    verify.push(format!("show {ip} route bgp"));
    let mut notes = vec!["Paste in `configure` (or a `configure session` and `commit`); then `write memory`."];
    if c.v6 {
        notes.push("IPv6 routing must be on: `ipv6 unicast-routing`.");
    }
    if p.multihop {
        notes.push("If the switch IP is on a loopback or SVI, add `neighbor <ip> update-source <interface>`.");
    }
    rendered(l, verify, notes, &POLICY_NAMES)
}

/// Juniper Junos, set-style: one external group, import/export policies, multipath.
fn junos(c: &Ctx) -> Rendered {
    let p = c.p;
    let range = if c.lo > c.len() {
        format!("prefix-length-range /{}-/{}", c.lo, c.hi)
    } else if c.hi > c.len() {
        "orlonger".to_string()
    } else {
        "exact".to_string()
    };
    let g = format!("set protocols bgp group {GROUP}");
    let pol = "set policy-options policy-statement";
    let mut l = vec![format!("set routing-options autonomous-system {}", p.switch_as)];
    match c.router_id() {
        Some(id) => l.push(format!("set routing-options router-id {id}")),
        None => l.push("set routing-options router-id <IPv4 router id>".into()),
    }
    l.extend([
        format!("{pol} {POLICY_IN} term pods from route-filter {} {range}", c.pool),
        format!("{pol} {POLICY_IN} term pods then accept"),
        format!("{pol} {POLICY_IN} term rest then reject"),
        format!("{pol} {POLICY_OUT} term none then reject"),
        format!("{pol} CALICO-ECMP then load-balance per-packet"),
        "set routing-options forwarding-table export CALICO-ECMP".into(),
        format!("{g} type external"),
        format!("{g} peer-as {}", p.cluster_as),
    ]);
    if c.v6 {
        l.push(format!("{g} family inet6 unicast"));
    }
    l.extend([format!("{g} import {POLICY_IN}"), format!("{g} export {POLICY_OUT}"), format!("{g} multipath")]);
    if p.multihop {
        l.push(format!("{g} multihop ttl {MULTIHOP_TTL}"));
        l.push(format!("{g} local-address {}", p.switch_ip));
    }
    if p.password {
        l.push(format!("{g} authentication-key \"{PASSWORD_PLACEHOLDER}\""));
    }
    for n in &p.neighbors {
        l.push(format!("{g} neighbor {} description {}", n.ip, n.node));
    }
    let table = if c.v6 { "inet6.0" } else { "inet.0" };
    let mut verify = vec!["show bgp summary".to_string()];
    for n in &p.neighbors {
        verify.push(format!("show route receive-protocol bgp {}", n.ip));
        verify.push(format!("show route advertising-protocol bgp {}", n.ip));
    }
    verify.push(format!("show route protocol bgp table {table}"));
    let notes = vec![
        "Paste in `configure` (or `load set terminal`), check with `show | compare`, then `commit confirmed 5` \
         and `commit` once the sessions are Established.",
        "`forwarding-table export` is a list: if it already has a load-balance policy, CALICO-ECMP is redundant.",
    ];
    rendered(l, verify, notes, &[POLICY_IN, POLICY_OUT, "CALICO-ECMP", GROUP])
}

/// Huawei VRP: `ip ip-prefix`, route-policies, `bgp` with the unicast family view.
fn huawei_vrp(c: &Ctx) -> Rendered {
    let p = c.p;
    let (prefix_cmd, matcher, family) = if c.v6 {
        ("ip ipv6-prefix", format!("if-match ipv6 address prefix-list {PREFIX_LIST}"), "ipv6-family unicast")
    } else {
        ("ip ip-prefix", format!("if-match ip-prefix {PREFIX_LIST}"), "ipv4-family unicast")
    };
    let mut l = vec![
        format!(
            "{prefix_cmd} {PREFIX_LIST} index 10 permit {} {}{}",
            c.pool.network(),
            c.len(),
            c.ge_le("greater-equal", "less-equal")
        ),
        format!("route-policy {POLICY_IN} permit node 10"),
        format!(" {matcher}"),
        " quit".into(),
        format!("route-policy {POLICY_OUT} deny node 10"),
        " quit".into(),
        format!("bgp {}", p.switch_as),
    ];
    match c.router_id() {
        Some(id) => l.push(format!(" router-id {id}")),
        None => l.push(" router-id <IPv4 router id>".into()),
    }
    for n in &p.neighbors {
        l.push(format!(" peer {} as-number {}", n.ip, p.cluster_as));
        l.push(format!(" peer {} description {}", n.ip, n.node));
        if p.multihop {
            l.push(format!(" peer {} ebgp-max-hop {MULTIHOP_TTL}", n.ip));
        }
        if p.password {
            l.push(format!(" peer {} password cipher {PASSWORD_PLACEHOLDER}", n.ip));
        }
    }
    l.push(format!(" {family}"));
    l.push(format!("  maximum load-balancing {}", c.paths));
    for n in &p.neighbors {
        l.push(format!("  peer {} enable", n.ip));
        l.push(format!("  peer {} route-policy {POLICY_IN} import", n.ip));
        l.push(format!("  peer {} route-policy {POLICY_OUT} export", n.ip));
    }
    l.push("  quit".into());
    l.push(" quit".into());
    let (bgp, rt) = if c.v6 { ("bgp ipv6", "ipv6 routing-table") } else { ("bgp", "ip routing-table") };
    let mut verify = vec![format!("display {bgp} peer")];
    for n in &p.neighbors {
        verify.push(format!("display {bgp} routing-table peer {} received-routes", n.ip));
        verify.push(format!("display {bgp} routing-table peer {} advertised-routes", n.ip));
    }
    verify.push(format!("display {rt} protocol bgp"));
    let mut notes = vec!["Paste in `system-view`; on CloudEngine (VRP8) run `commit` afterwards; then `save`."];
    if p.password {
        notes.push("`password cipher` takes the plain text and stores it encrypted.");
    }
    if p.multihop {
        notes.push("VRP drops a non-adjacent eBGP peer unless `peer <ip> ebgp-max-hop` is set (rendered above).");
        notes.push("If the switch IP is on a loopback or VLANIF, add `peer <ip> connect-interface <interface>`.");
    }
    rendered(l, verify, notes, &POLICY_NAMES)
}

/// H3C Comware 7: `ip prefix-list`, route-policies, `bgp` with `address-family`.
fn h3c_comware(c: &Ctx) -> Rendered {
    let p = c.p;
    let ip = c.ip_kw();
    let afi = c.afi();
    let mut l = vec![
        format!(
            "{ip} prefix-list {PREFIX_LIST} index 10 permit {} {}{}",
            c.pool.network(),
            c.len(),
            c.ge_le("greater-equal", "less-equal")
        ),
        format!("route-policy {POLICY_IN} permit node 10"),
        format!(" if-match {ip} address prefix-list {PREFIX_LIST}"),
        " quit".into(),
        format!("route-policy {POLICY_OUT} deny node 10"),
        " quit".into(),
        format!("bgp {}", p.switch_as),
    ];
    match c.router_id() {
        Some(id) => l.push(format!(" router-id {id}")),
        None => l.push(" router-id <IPv4 router id>".into()),
    }
    for n in &p.neighbors {
        l.push(format!(" peer {} as-number {}", n.ip, p.cluster_as));
        l.push(format!(" peer {} description {}", n.ip, n.node));
        if p.multihop {
            l.push(format!(" peer {} ebgp-max-hop {MULTIHOP_TTL}", n.ip));
        }
        if p.password {
            l.push(format!(" peer {} password simple {PASSWORD_PLACEHOLDER}", n.ip));
        }
    }
    l.push(format!(" address-family {afi} unicast"));
    l.push(format!("  balance {}", c.paths));
    for n in &p.neighbors {
        l.push(format!("  peer {} enable", n.ip));
        l.push(format!("  peer {} route-policy {POLICY_IN} import", n.ip));
        l.push(format!("  peer {} route-policy {POLICY_OUT} export", n.ip));
    }
    l.push("  quit".into());
    l.push(" quit".into());
    let mut verify = vec![format!("display bgp peer {afi} unicast")];
    for n in &p.neighbors {
        verify.push(format!("display bgp routing-table {afi} unicast peer {} received-routes", n.ip));
        verify.push(format!("display bgp routing-table {afi} unicast peer {} advertised-routes", n.ip));
    }
    verify.push(format!("display {ip} routing-table protocol bgp"));
    let mut notes = vec!["Paste in `system-view`; then `save`."];
    if p.password {
        notes.push("`password simple` takes the plain text; Comware stores it encrypted.");
    }
    if p.multihop {
        notes.push("Comware drops a non-adjacent eBGP peer unless `peer <ip> ebgp-max-hop` is set (rendered above).");
        notes.push(
            "If the switch IP is on a loopback or VLAN interface, add `peer <ip> connect-interface <interface>`.",
        );
    }
    rendered(l, verify, notes, &POLICY_NAMES)
}

/// FRR / Quagga (vtysh): a peer group, as in the project's BGP lab.
fn frr(c: &Ctx) -> Rendered {
    let p = c.p;
    let (ip, afi) = (c.ip_kw(), c.afi());
    let mut l = vec![
        format!("{ip} prefix-list {PREFIX_LIST} seq 10 permit {}{}", c.pool, c.ge_le("ge", "le")),
        "!".into(),
        format!("route-map {POLICY_IN} permit 10"),
        format!(" match {ip} address prefix-list {PREFIX_LIST}"),
        "exit".into(),
        "!".into(),
        format!("route-map {POLICY_OUT} deny 10"),
        "exit".into(),
        "!".into(),
        format!("router bgp {}", p.switch_as),
    ];
    match c.router_id() {
        Some(id) => l.push(format!(" bgp router-id {id}")),
        None => l.push(" bgp router-id <IPv4 router id>".into()),
    }
    l.push(" bgp log-neighbor-changes".into());
    if c.v6 {
        l.push(" no bgp default ipv4-unicast".into());
    }
    l.push(format!(" neighbor {GROUP} peer-group"));
    l.push(format!(" neighbor {GROUP} remote-as {}", p.cluster_as));
    if p.multihop {
        l.push(format!(" neighbor {GROUP} ebgp-multihop {MULTIHOP_TTL}"));
        l.push(format!(" neighbor {GROUP} update-source {}", p.switch_ip));
    }
    if p.password {
        l.push(format!(" neighbor {GROUP} password {PASSWORD_PLACEHOLDER}"));
    }
    for n in &p.neighbors {
        l.push(format!(" neighbor {} peer-group {GROUP}", n.ip));
        l.push(format!(" neighbor {} description {}", n.ip, n.node));
    }
    l.extend([
        " !".into(),
        format!(" address-family {afi} unicast"),
        format!("  neighbor {GROUP} activate"),
        format!("  neighbor {GROUP} route-map {POLICY_IN} in"),
        format!("  neighbor {GROUP} route-map {POLICY_OUT} out"),
        format!("  maximum-paths {}", c.paths),
        " exit-address-family".into(),
        "exit".into(),
    ]);
    let vt = |cmd: String| format!("vtysh -c '{cmd}'");
    let mut verify = vec![vt(format!("show bgp {afi} unicast summary"))];
    for n in &p.neighbors {
        verify.push(vt(format!("show bgp {afi} unicast neighbors {} routes", n.ip)));
        verify.push(vt(format!("show bgp {afi} unicast neighbors {} advertised-routes", n.ip)));
    }
    verify.push(vt(format!("show {ip} route bgp")));
    let notes = vec![
        "Paste in `vtysh` after `configure terminal`; then `write memory`. bgpd must be enabled in /etc/frr/daemons.",
        "FRR 7.4+ requires a policy on eBGP sessions (`bgp ebgp-requires-policy`): the route-maps here satisfy it.",
    ];
    rendered(l, verify, notes, &[PREFIX_LIST, POLICY_IN, POLICY_OUT, GROUP])
}

/// MikroTik RouterOS 7: routing filter chains and one BGP connection per reflector.
fn mikrotik(c: &Ctx) -> Rendered {
    let p = c.p;
    let len_match = if c.lo == c.hi { format!("dst-len=={}", c.lo) } else { format!("dst-len in {}-{}", c.lo, c.hi) };
    let mut l = vec![
        "/routing filter rule".into(),
        format!("add chain=calico-in rule=\"if (dst in {} && {len_match}) {{ accept }}\"", c.pool),
        "add chain=calico-in rule=\"reject\"".into(),
        "add chain=calico-out rule=\"reject\"".into(),
        "/routing bgp connection".into(),
    ];
    let family = if c.v6 { "ipv6" } else { "ip" };
    for n in &p.neighbors {
        let mut a = format!("add name=calico-{} comment=\"{}\" as={}", n.node, n.node, p.switch_as);
        if let Some(id) = c.router_id() {
            a.push_str(&format!(" router-id={id}"));
        }
        a.push_str(&format!(
            " local.role=ebgp remote.address={} remote.as={} address-families={family}",
            n.ip, p.cluster_as
        ));
        if p.multihop {
            a.push_str(&format!(" multihop=yes local.address={}", p.switch_ip));
        }
        if p.password {
            a.push_str(&format!(" tcp-md5-key=\"{PASSWORD_PLACEHOLDER}\""));
        }
        a.push_str(" input.filter=calico-in output.filter-chain=calico-out");
        l.push(a);
    }
    let route = if c.v6 { "/ipv6/route/print where bgp" } else { "/ip/route/print where bgp" };
    let verify = vec![
        "/routing/bgp/session/print".to_string(),
        route.to_string(),
        "/routing/bgp/advertisements/print".to_string(),
    ];
    let mut notes = vec![
        "Paste in the terminal (or save as a .rsc file and `/import` it); RouterOS applies each line at once.",
        "RouterOS installs one best path per prefix unless BGP multipath is available (7.20+: `multipath` on \
         /routing/bgp/instance); without it pod traffic uses one reflector at a time.",
        "RouterOS 7.20+ groups connections under /routing/bgp/instance: if `router-id` is refused on the \
         connection, set it on the instance instead.",
    ];
    if c.router_id().is_none() {
        notes.push("No IPv4 switch address: RouterOS takes the router ID from /routing/id.");
    }
    rendered(l, verify, notes, &["calico-in", "calico-out", "calico-<node>"])
}

/// VyOS 1.4+ set-style (`system-as`).
fn vyos(c: &Ctx) -> Rendered {
    let p = c.p;
    let (plist, afi) = if c.v6 { ("prefix-list6", "ipv6-unicast") } else { ("prefix-list", "ipv4-unicast") };
    let pl = format!("set policy {plist} {PREFIX_LIST} rule 10");
    let mut l = vec![format!("{pl} action 'permit'"), format!("{pl} prefix '{}'", c.pool)];
    if c.lo > c.len() {
        l.push(format!("{pl} ge '{}'", c.lo));
    }
    if c.hi > c.len() {
        l.push(format!("{pl} le '{}'", c.hi));
    }
    l.extend([
        format!("set policy route-map {POLICY_IN} rule 10 action 'permit'"),
        format!("set policy route-map {POLICY_IN} rule 10 match {} address prefix-list '{PREFIX_LIST}'", c.ip_kw()),
        format!("set policy route-map {POLICY_OUT} rule 10 action 'deny'"),
        format!("set protocols bgp system-as '{}'", p.switch_as),
    ]);
    match c.router_id() {
        Some(id) => l.push(format!("set protocols bgp parameters router-id '{id}'")),
        None => l.push("set protocols bgp parameters router-id '<IPv4 router id>'".into()),
    }
    l.push(format!("set protocols bgp address-family {afi} maximum-paths ebgp '{}'", c.paths));
    for n in &p.neighbors {
        let nb = format!("set protocols bgp neighbor {}", n.ip);
        l.push(format!("{nb} remote-as '{}'", p.cluster_as));
        l.push(format!("{nb} description '{}'", n.node));
        if p.multihop {
            l.push(format!("{nb} ebgp-multihop '{MULTIHOP_TTL}'"));
            l.push(format!("{nb} update-source '{}'", p.switch_ip));
        }
        if p.password {
            l.push(format!("{nb} password '{PASSWORD_PLACEHOLDER}'"));
        }
        l.push(format!("{nb} address-family {afi} route-map import '{POLICY_IN}'"));
        l.push(format!("{nb} address-family {afi} route-map export '{POLICY_OUT}'"));
    }
    let show_bgp = if c.v6 { "show bgp ipv6" } else { "show ip bgp" };
    let mut verify = vec![format!("{show_bgp} summary")];
    for n in &p.neighbors {
        verify.push(format!("{show_bgp} neighbors {} routes", n.ip));
        verify.push(format!("{show_bgp} neighbors {} advertised-routes", n.ip));
    }
    verify.push(format!("show {} route bgp", c.ip_kw()));
    let notes = vec![
        "Paste in `configure`; then `commit-confirm 5`, `confirm` once the sessions are Established, and `save`.",
        "VyOS 1.3 and older use `set protocols bgp <AS> ...` instead of `system-as`.",
    ];
    rendered(l, verify, notes, &POLICY_NAMES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::answers::{Password, TargetPool, ValidAnswers};
    use crate::domain::facts::{ClusterFacts, InstallKind, node_facts};

    fn nb(node: &str, ip: &str) -> SwitchNeighbor {
        SwitchNeighbor { node: node.into(), ip: ip.parse().unwrap() }
    }

    fn demo() -> SwitchParams {
        SwitchParams {
            switch_ip: "172.31.13.116".parse().unwrap(),
            switch_as: Asn(7675),
            cluster_as: Asn(64512),
            neighbors: vec![nb("k8s-1", "172.31.13.27"), nb("k8s-2", "172.31.13.28")],
            pool: "172.27.208.0/22".parse().unwrap(),
            block_size: 26,
            password: false,
            multihop: false,
            keep_original_next_hop: true,
        }
    }

    fn v6_password_multihop() -> SwitchParams {
        SwitchParams {
            switch_ip: "fd00:31:13::116".parse().unwrap(),
            neighbors: vec![nb("k8s-1", "fd00:31:13::27"), nb("k8s-2", "fd00:31:13::28")],
            pool: "fd00:27:208::/48".parse().unwrap(),
            block_size: 122,
            password: true,
            multihop: true,
            ..demo()
        }
    }

    /// Everything the engineer sees for one vendor, as one text.
    fn full_text(s: &SwitchConfig) -> String {
        format!(
            "{}\n--- verify\n{}\n--- notes\n{}\n",
            s.config,
            s.verify_commands.join("\n"),
            s.notes.iter().map(|n| format!("- {n}")).collect::<Vec<_>>().join("\n")
        )
    }

    #[test]
    fn demo_snapshots_every_vendor() {
        for s in render_all(&demo()) {
            let name = format!("switch_{}_demo", s.vendor.id().replace('-', "_"));
            crate::assert_snap!(name, full_text(&s));
        }
    }

    #[test]
    fn ipv6_password_multihop_snapshots() {
        let p = v6_password_multihop();
        crate::assert_snap!("switch_frr_v6_password_multihop", full_text(&render(Vendor::Frr, &p)));
        crate::assert_snap!("switch_juniper_junos_v6_password_multihop", full_text(&render(Vendor::JuniperJunos, &p)));
    }

    fn variants() -> Vec<SwitchParams> {
        let mut out = Vec::new();
        for base in [demo(), v6_password_multihop()] {
            for password in [false, true] {
                for multihop in [false, true] {
                    for keep in [false, true] {
                        out.push(SwitchParams { password, multihop, keep_original_next_hop: keep, ..base.clone() });
                    }
                }
            }
        }
        out
    }

    #[test]
    fn placeholder_appears_exactly_when_a_password_is_set() {
        for p in variants() {
            for s in render_all(&p) {
                assert_eq!(s.config.contains(PASSWORD_PLACEHOLDER), p.password, "{:?} {p:?}", s.vendor);
                assert_eq!(full_text(&s).contains(PASSWORD_PLACEHOLDER), p.password, "{:?}", s.vendor);
            }
        }
    }

    #[test]
    fn every_config_names_every_neighbor_and_the_pool() {
        for p in variants() {
            for s in render_all(&p) {
                for n in &p.neighbors {
                    assert!(s.config.contains(&n.ip.to_string()), "{:?} lacks {}", s.vendor, n.ip);
                    assert!(s.config.contains(&n.node), "{:?} lacks {}", s.vendor, n.node);
                }
                let pool = p.pool.to_string();
                let (addr, len) = pool.split_once('/').unwrap();
                assert!(
                    s.config.contains(&pool) || s.config.contains(&format!("{addr} {len}")),
                    "{:?} lacks the pool",
                    s.vendor
                );
                assert!(s.config.contains(&p.switch_as.to_string()), "{:?}", s.vendor);
                assert!(s.config.contains(&p.cluster_as.to_string()), "{:?}", s.vendor);
            }
        }
    }

    #[test]
    fn every_vendor_has_verify_commands_and_notes() {
        let all = render_all(&demo());
        assert_eq!(all.len(), Vendor::ALL.len());
        for s in all {
            assert!(!s.verify_commands.is_empty(), "{:?}", s.vendor);
            assert!(s.verify_commands.iter().all(|c| !c.trim().is_empty()), "{:?}", s.vendor);
            assert!(!s.notes.is_empty(), "{:?}", s.vendor);
            assert!(s.config.ends_with('\n'), "{:?}", s.vendor);
        }
    }

    #[test]
    fn multihop_only_when_asked() {
        let words = ["multihop", "ebgp-max-hop"];
        for p in variants() {
            for s in render_all(&p) {
                let has = words.iter().any(|w| s.config.contains(w));
                assert_eq!(has, p.multihop, "{:?} multihop={}", s.vendor, p.multihop);
            }
        }
    }

    #[test]
    fn block_size_equal_to_pool_length_renders_no_ge() {
        let p = SwitchParams { pool: "10.0.0.0/26".parse().unwrap(), ..demo() };
        let ios = render(Vendor::CiscoIos, &p).config;
        assert!(ios.contains("permit 10.0.0.0/26 le 32\n"), "{ios}");
        let junos = render(Vendor::JuniperJunos, &p).config;
        assert!(junos.contains("route-filter 10.0.0.0/26 orlonger\n"), "{junos}");
        let vyos = render(Vendor::Vyos, &p).config;
        assert!(!vyos.contains(" ge '") && vyos.contains(" le '32'"), "{vyos}");
    }

    fn node(name: &str, v4: &str, v6: &str) -> crate::domain::facts::NodeFacts {
        node_facts(&serde_json::json!({
            "metadata": {"name": name, "annotations": {
                "projectcalico.org/IPv4Address": v4,
                "projectcalico.org/IPv6Address": v6,
            }}
        }))
        .unwrap()
    }

    fn facts(nodes: Vec<crate::domain::facts::NodeFacts>) -> ClusterFacts {
        ClusterFacts {
            context: "demo".into(),
            server: "https://demo".into(),
            kubernetes_version: "v1.33.0".into(),
            calico_version: None,
            install: InstallKind::Manifest,
            backend: crate::domain::facts::Backend::Bird,
            calico_namespace: "kube-system".into(),
            nodes,
            pools: Vec::new(),
            bgp_config: None,
            peers: Vec::new(),
            installation: None,
            service_cidrs: Vec::new(),
            ip_autodetection: None,
        }
    }

    fn plan(switch_ip: &str, pool: &str, block: u8, password: bool) -> Plan {
        Plan {
            answers: ValidAnswers {
                reflectors: vec!["k8s-1".into(), "k8s-2".into()],
                cluster_id: "244.0.0.1".parse().unwrap(),
                switch_ip: switch_ip.parse().unwrap(),
                switch_as: Asn(7675),
                cluster_as: Asn(64512),
                password: password.then(|| Password("s3cret".into())),
                keep_original_next_hop: true,
                pool: TargetPool { name: "p".into(), cidr: pool.parse().unwrap(), block_size: block, exists: true },
                vendor: Vendor::Frr,
            },
            steps: Vec::new(),
            notes: Vec::new(),
            client_route: String::new(),
        }
    }

    #[test]
    fn params_from_plan_and_facts() {
        let f = facts(vec![
            node("k8s-1", "172.31.13.27/24", "fd00:31:13::27/64"),
            node("k8s-2", "172.31.13.28/24", "fd00:31:13::28/64"),
            node("k8s-3", "172.31.13.29/24", "fd00:31:13::29/64"),
        ]);
        let p = switch_params(&plan("172.31.13.116", "172.27.208.0/22", 26, false), &f);
        assert_eq!(p, demo());

        let p = switch_params(&plan("fd00:31:13::116", "fd00:27:208::/48", 122, true), &f);
        assert_eq!(p, SwitchParams { multihop: false, ..v6_password_multihop() });

        // The switch is outside the reflectors' subnet: multihop.
        let p = switch_params(&plan("10.9.9.1", "172.27.208.0/22", 26, false), &f);
        assert!(p.multihop);
        assert_eq!(p.neighbors.len(), 2);
    }

    #[test]
    fn params_never_carry_the_password_text() {
        let f = facts(vec![node("k8s-1", "172.31.13.27/24", "fd00:31:13::27/64")]);
        let p = switch_params(&plan("172.31.13.116", "172.27.208.0/22", 26, true), &f);
        assert!(p.password);
        // k8s-2 has no facts: left out.
        assert_eq!(p.neighbors, vec![nb("k8s-1", "172.31.13.27")]);
        assert!(!p.multihop);
        for s in render_all(&p) {
            assert!(!full_text(&s).contains("s3cret"), "{:?}", s.vendor);
        }
    }
}
