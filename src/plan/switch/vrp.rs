//! Huawei VRP and H3C Comware 7: prefix lists, route-policies with nodes, and a `bgp` view with
//! `peer` commands. The two share their syntax except for a few keywords, so one renderer takes a
//! [`Dialect`] naming those.

use super::{
    Ctx, MULTIHOP_TTL, PASSWORD_PLACEHOLDER, POLICY_IN, POLICY_NAMES, POLICY_OUT, PREFIX_LIST, Rendered, rendered,
};

/// Where Huawei VRP and H3C Comware differ.
struct Dialect {
    /// The prefix-list command, e.g. `ip ip-prefix` (VRP) or `ip prefix-list` (Comware).
    prefix_cmd: String,
    /// The route-policy's match on the prefix list.
    matcher: String,
    /// `peer <ip> password <keyword> <password>`: `cipher` or `simple`.
    password_kw: &'static str,
    /// The unicast family view under `bgp`.
    family: String,
    /// The ECMP command, followed by the number of paths.
    ecmp_kw: &'static str,
    /// Shows the sessions.
    show_peers: String,
    /// Followed by ` <ip> received-routes` / ` <ip> advertised-routes`.
    show_peer_routes: String,
    /// Shows the BGP routes installed.
    show_routes: String,
    /// How to paste and save.
    paste_note: &'static str,
    /// What the password keyword does.
    password_note: &'static str,
    /// Why `ebgp-max-hop` matters, and where to set the source interface.
    multihop_notes: [&'static str; 2],
}

/// Huawei VRP: `ip ip-prefix`, route-policies, `bgp` with the unicast family view.
pub(super) fn huawei_vrp(c: &Ctx) -> Rendered {
    let (prefix_cmd, matcher, family) = if c.v6 {
        ("ip ipv6-prefix", format!("if-match ipv6 address prefix-list {PREFIX_LIST}"), "ipv6-family unicast")
    } else {
        ("ip ip-prefix", format!("if-match ip-prefix {PREFIX_LIST}"), "ipv4-family unicast")
    };
    let (bgp, rt) = if c.v6 { ("bgp ipv6", "ipv6 routing-table") } else { ("bgp", "ip routing-table") };
    let dialect = Dialect {
        prefix_cmd: prefix_cmd.to_string(),
        matcher,
        password_kw: "cipher",
        family: family.to_string(),
        ecmp_kw: "maximum load-balancing",
        show_peers: format!("display {bgp} peer"),
        show_peer_routes: format!("display {bgp} routing-table peer"),
        show_routes: format!("display {rt} protocol bgp"),
        paste_note: "Paste in `system-view`; on CloudEngine (VRP8) run `commit` afterwards; then `save`.",
        password_note: "`password cipher` takes the plain text and stores it encrypted.",
        multihop_notes: [
            "VRP drops a non-adjacent eBGP peer unless `peer <ip> ebgp-max-hop` is set (rendered above).",
            "If the switch IP is on a loopback or VLANIF, add `peer <ip> connect-interface <interface>`.",
        ],
    };
    vrp_like(c, &dialect)
}

/// H3C Comware 7: `ip prefix-list`, route-policies, `bgp` with `address-family`.
pub(super) fn h3c_comware(c: &Ctx) -> Rendered {
    let (ip, afi) = (c.ip_kw(), c.afi());
    let dialect = Dialect {
        prefix_cmd: format!("{ip} prefix-list"),
        matcher: format!("if-match {ip} address prefix-list {PREFIX_LIST}"),
        password_kw: "simple",
        family: format!("address-family {afi} unicast"),
        ecmp_kw: "balance",
        show_peers: format!("display bgp peer {afi} unicast"),
        show_peer_routes: format!("display bgp routing-table {afi} unicast peer"),
        show_routes: format!("display {ip} routing-table protocol bgp"),
        paste_note: "Paste in `system-view`; then `save`.",
        password_note: "`password simple` takes the plain text; Comware stores it encrypted.",
        multihop_notes: [
            "Comware drops a non-adjacent eBGP peer unless `peer <ip> ebgp-max-hop` is set (rendered above).",
            "If the switch IP is on a loopback or VLAN interface, add `peer <ip> connect-interface <interface>`.",
        ],
    };
    vrp_like(c, &dialect)
}

/// The configuration both dialects share.
fn vrp_like(c: &Ctx, d: &Dialect) -> Rendered {
    let p = c.p;
    let mut l = vec![
        format!(
            "{} {PREFIX_LIST} index 10 permit {} {}{}",
            d.prefix_cmd,
            c.pool.network(),
            c.len(),
            c.ge_le("greater-equal", "less-equal")
        ),
        format!("route-policy {POLICY_IN} permit node 10"),
        format!(" {}", d.matcher),
        " quit".into(),
        format!("route-policy {POLICY_OUT} deny node 10"),
        " quit".into(),
        format!("bgp {}", p.switch_as),
        format!(" router-id {}", c.router_id_text()),
    ];
    for n in &p.neighbors {
        l.push(format!(" peer {} as-number {}", n.ip, p.cluster_as));
        l.push(format!(" peer {} description {}", n.ip, n.node));
        if p.multihop {
            l.push(format!(" peer {} ebgp-max-hop {MULTIHOP_TTL}", n.ip));
        }
        if p.password {
            l.push(format!(" peer {} password {} {PASSWORD_PLACEHOLDER}", n.ip, d.password_kw));
        }
    }
    l.push(format!(" {}", d.family));
    l.push(format!("  {} {}", d.ecmp_kw, c.paths));
    for n in &p.neighbors {
        l.push(format!("  peer {} enable", n.ip));
        l.push(format!("  peer {} route-policy {POLICY_IN} import", n.ip));
        l.push(format!("  peer {} route-policy {POLICY_OUT} export", n.ip));
    }
    l.push("  quit".into());
    l.push(" quit".into());
    let mut verify = vec![d.show_peers.clone()];
    for n in &p.neighbors {
        verify.push(format!("{} {} received-routes", d.show_peer_routes, n.ip));
        verify.push(format!("{} {} advertised-routes", d.show_peer_routes, n.ip));
    }
    verify.push(d.show_routes.clone());
    let mut notes = vec![d.paste_note];
    if p.password {
        notes.push(d.password_note);
    }
    if p.multihop {
        notes.extend(d.multihop_notes);
    }
    rendered(l, verify, notes, &POLICY_NAMES)
}
