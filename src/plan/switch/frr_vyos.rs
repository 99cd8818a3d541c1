//! FRR (vtysh) and VyOS (set-style, FRR underneath): Cisco-like prefix lists and route-maps.

use super::{
    Ctx, GROUP, MULTIHOP_TTL, PASSWORD_PLACEHOLDER, POLICY_IN, POLICY_NAMES, POLICY_OUT, PREFIX_LIST, Rendered,
    rendered,
};

/// FRR / Quagga (vtysh): a peer group, as in the project's BGP lab.
pub(super) fn frr(c: &Ctx) -> Rendered {
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
        format!(" bgp router-id {}", c.router_id_text()),
    ];
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
    let verify = c.cisco_verify(&format!("show bgp {afi} unicast")).into_iter().map(vt).collect();
    let notes = vec![
        "Paste in `vtysh` after `configure terminal`; then `write memory`. bgpd must be enabled in /etc/frr/daemons.",
        "FRR 7.4+ requires a policy on eBGP sessions (`bgp ebgp-requires-policy`): the route-maps here satisfy it.",
    ];
    rendered(l, verify, notes, &[PREFIX_LIST, POLICY_IN, POLICY_OUT, GROUP])
}

/// VyOS 1.4+ set-style (`system-as`).
pub(super) fn vyos(c: &Ctx) -> Rendered {
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
        format!("set protocols bgp parameters router-id '{}'", c.router_id_text()),
    ]);
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
    let verify = c.cisco_verify(show_bgp);
    let notes = vec![
        "Paste in `configure`; then `commit-confirm 5`, `confirm` once the sessions are Established, and `save`.",
        "VyOS 1.3 and older use `set protocols bgp <AS> ...` instead of `system-as`.",
    ];
    rendered(l, verify, notes, &POLICY_NAMES)
}
