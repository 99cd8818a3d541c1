//! Juniper Junos, set-style: one external group with import and export policies.

use super::{Ctx, GROUP, MULTIHOP_TTL, PASSWORD_PLACEHOLDER, POLICY_IN, POLICY_OUT, Rendered, rendered};

/// Juniper Junos, set-style: one external group, import/export policies, multipath.
pub(super) fn junos(c: &Ctx) -> Rendered {
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
    let mut l = vec![
        format!("set routing-options autonomous-system {}", p.switch_as),
        format!("set routing-options router-id {}", c.router_id_text()),
        format!("{pol} {POLICY_IN} term pods from route-filter {} {range}", c.pool),
        format!("{pol} {POLICY_IN} term pods then accept"),
        format!("{pol} {POLICY_IN} term rest then reject"),
        format!("{pol} {POLICY_OUT} term none then reject"),
        format!("{pol} CALICO-ECMP then load-balance per-packet"),
        "set routing-options forwarding-table export CALICO-ECMP".into(),
        format!("{g} type external"),
        format!("{g} peer-as {}", p.cluster_as),
    ];
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
