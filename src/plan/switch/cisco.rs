//! Cisco IOS / IOS-XE, Cisco NX-OS and Arista EOS: the `router bgp` family with prefix lists and
//! route-maps. Their syntax differs in indentation, neighbor sub-modes and where neighbors are
//! activated.

use super::{
    Ctx, MULTIHOP_TTL, PASSWORD_PLACEHOLDER, POLICY_IN, POLICY_NAMES, POLICY_OUT, PREFIX_LIST, Rendered, rendered,
};

/// Notes that IOS and EOS share.
const IPV6_ROUTING_NOTE: &str = "IPv6 routing must be on: `ipv6 unicast-routing`.";
const UPDATE_SOURCE_NOTE: &str =
    "If the switch IP is on a loopback or SVI, add `neighbor <ip> update-source <interface>`.";

/// Cisco IOS / IOS-XE: classic `router bgp` with a per-neighbor address family.
pub(super) fn cisco_ios(c: &Ctx) -> Rendered {
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
        format!(" bgp router-id {}", c.router_id_text()),
    ];
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
    let verify = c.cisco_verify(&format!("show bgp {afi} unicast"));
    let mut notes = vec!["Paste in `configure terminal`; then `copy running-config startup-config`."];
    if c.v6 {
        notes.push(IPV6_ROUTING_NOTE);
    }
    if p.multihop {
        notes.push(UPDATE_SOURCE_NOTE);
    }
    rendered(l, verify, notes, &POLICY_NAMES)
}

/// Cisco NX-OS: `feature bgp`, neighbor sub-modes.
pub(super) fn cisco_nxos(c: &Ctx) -> Rendered {
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
        format!("  router-id {}", c.router_id_text()),
    ];
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
    let verify = c.cisco_verify(&format!("show bgp {afi} unicast"));
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
pub(super) fn arista_eos(c: &Ctx) -> Rendered {
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
        format!("   router-id {}", c.router_id_text()),
    ]);
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
    let verify = c.cisco_verify(&format!("show {ip} bgp"));
    let mut notes = vec!["Paste in `configure` (or a `configure session` and `commit`); then `write memory`."];
    if c.v6 {
        notes.push(IPV6_ROUTING_NOTE);
    }
    if p.multihop {
        notes.push(UPDATE_SOURCE_NOTE);
    }
    rendered(l, verify, notes, &POLICY_NAMES)
}
