//! MikroTik RouterOS 7: routing filter chains and one BGP connection per reflector.

use super::{Ctx, PASSWORD_PLACEHOLDER, Rendered, rendered};

/// MikroTik RouterOS 7: routing filter chains and one BGP connection per reflector.
pub(super) fn mikrotik(c: &Ctx) -> Rendered {
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
