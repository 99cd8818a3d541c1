//! The doctor's results as findings: what is wrong, quoted, and what to do, for the operator who
//! knows less BGP (or less Kubernetes).

use super::listen::ListenState;
use super::probe::{PortState, Probe, Role};
use super::{BGP_PORT, Report};
use crate::domain::findings::{Field, Finding, Severity};

/// At most this many hosts are named in one finding.
const NAMED: usize = 8;

/// `'k8s-3' (172.31.13.29)`, …, and N more.
fn hosts(probes: &[&Probe]) -> String {
    let mut names: Vec<String> =
        probes.iter().take(NAMED).map(|p| format!("'{}' ({})", p.target.name, p.target.address)).collect();
    if probes.len() > NAMED {
        names.push(format!("and {} more", probes.len() - NAMED));
    }
    names.join(", ")
}

fn port_of(probes: &[&Probe]) -> u16 {
    probes.first().map_or(BGP_PORT, |p| p.target.port)
}

/// The network findings of a report. `bird`: calico-node's backend is already bird (so every
/// node should listen).
pub fn network(r: &Report, bird: bool) -> Vec<Finding> {
    let c = Field::Cluster;
    let mut out = Vec::new();
    let from = &r.from;
    let of = |pred: &dyn Fn(&Probe) -> bool| -> Vec<&Probe> { r.ports.results.iter().filter(|p| pred(p)).collect() };

    let filtered = of(&|p| p.state == PortState::Filtered);
    if !filtered.is_empty() {
        let port = port_of(&filtered);
        out.push(
            Finding::error(
                c,
                "bgp-port-filtered",
                format!(
                    "TCP {port} (BGP) to {} got no answer within {} s from '{from}': a firewall drops BGP, so \
                     these sessions can never come up (the first prerequisite of the setup)",
                    hosts(&filtered),
                    r.ports.timeout_ms as f64 / 1000.0
                ),
            )
            .fix(format!(
                "open TCP {port} on {} and on any firewall between them and '{from}' (firewalld: firewall-cmd \
                 --permanent --add-port={port}/tcp && firewall-cmd --reload)",
                hosts(&filtered)
            )),
        );
    }
    let unreachable = of(&|p| p.state == PortState::Unreachable);
    if !unreachable.is_empty() {
        let port = port_of(&unreachable);
        out.push(
            Finding::error(
                c,
                "bgp-port-unreachable",
                format!(
                    "TCP {port} (BGP) to {} failed at once from '{from}': no route to it, or a firewall rejects \
                     the connection",
                    hosts(&unreachable)
                ),
            )
            .fix(format!(
                "check that '{from}' has a route to them (ip route get <address>); a REJECT rule (firewalld's default) \
                 also gives this: open TCP {port} there"
            )),
        );
    }
    for p in of(&|p| matches!(p.state, PortState::Error(_))) {
        if let PortState::Error(e) = &p.state {
            out.push(Finding::warning(
                c,
                "bgp-port-error",
                format!("TCP {} to '{}' ({}) could not be tried: {e}", p.target.port, p.target.name, p.target.address),
            ));
        }
    }
    let refused_nodes = of(&|p| p.state == PortState::Refused && p.target.role == Role::Node);
    if !refused_nodes.is_empty() {
        let port = port_of(&refused_nodes);
        let mut f = Finding::info(
            c,
            "bgp-port-refused",
            format!(
                "TCP {port} (BGP) to node(s) {} is refused: they are reachable, but nothing listens there",
                hosts(&refused_nodes)
            ),
        );
        if bird {
            f.severity = Severity::Warning;
            f = f.fix(
                "calico-node's backend is bird, so BIRD should listen there: check the calico-node pod on those nodes \
                 (kubectl get pods -A -o wide | grep calico-node) and its log",
            );
        } else {
            f = f.fix("expected until calico-node's backend is bird: the plan switches it, and BIRD then listens");
        }
        out.push(f);
    }
    let refused_switch = of(&|p| p.state == PortState::Refused && p.target.role == Role::Switch);
    if !refused_switch.is_empty() {
        out.push(
            Finding::info(
                c,
                "bgp-port-refused",
                format!(
                    "the switch {} refuses TCP {}: it is reachable, but does not accept BGP from '{from}' yet",
                    hosts(&refused_switch),
                    port_of(&refused_switch)
                ),
            )
            .fix("configure the switch's side (the Preview screen and `plan` print it); a switch accepts BGP only from its configured neighbours"),
        );
    }
    let open = of(&|p| p.state == PortState::Open);
    if !open.is_empty() {
        out.push(Finding::info(
            c,
            "bgp-port-open",
            format!("TCP {} (BGP) is open on {}: a BGP speaker listens", port_of(&open), hosts(&open)),
        ));
    }
    if r.ports.sampled {
        out.push(
            Finding::info(
                c,
                "bgp-port-sampled",
                format!(
                    "the cluster has {} nodes: tried {} of them, every route-reflector candidate and an even sample \
                     of the others",
                    r.ports.total - r.ports.results.iter().filter(|p| p.target.role == Role::Switch).count(),
                    r.ports.results.iter().filter(|p| p.target.role == Role::Node).count()
                ),
            )
            .fix("run `calico-bgp-wizard doctor --all` to try every node"),
        );
    }
    if !r.ports.no_address.is_empty() {
        let names: Vec<&str> = r.ports.no_address.iter().map(String::as_str).collect();
        out.push(Finding::info(
            c,
            "bgp-port-no-address",
            format!("node(s) {} have no address to try", crate::domain::validate::quote_list(&names)),
        ));
    }
    // The switch is always tried (never sampled away), so none tried means none was known.
    if !r.ports.results.iter().any(|p| p.target.role == Role::Switch) {
        out.push(
            Finding::info(c, "switch-unknown", "the switch was not tried: no BGPPeer names it yet")
                .fix("give its address with `calico-bgp-wizard doctor --switch IP`"),
        );
    }

    let l = &r.listen;
    let program = l.program.as_deref().unwrap_or("?");
    let pid = l.pid.map(|p| format!(", pid {p}")).unwrap_or_default();
    out.push(match l.state {
        ListenState::Bird => Finding::info(
            c,
            "bgp-listen-port-bird",
            format!("on '{from}', TCP {} is held by BIRD (program '{program}'{pid}), calico-node's BGP daemon", l.port),
        ),
        ListenState::Other => Finding::error(
            c,
            "bgp-listen-port-taken",
            format!(
                "on '{from}', TCP {} is taken by the program '{program}'{pid}, which is not BIRD: calico-node's BIRD cannot listen \
                 there (its log says \"No listening socket\"), so no peer can connect to this node",
                l.port
            ),
        )
        .fix(format!(
            "stop '{program}' if it is not needed; or move Calico's BGP off the port: set spec.listenPort (e.g. 1179) \
             in BGPConfiguration 'default' (or in 'node.{from}' for this node only), and peer the switch to that port"
        )),
        ListenState::Free => Finding::info(
            c,
            "bgp-listen-port-free",
            format!(
                "on '{from}', nothing listens on TCP {}: BIRD is not running here (expected before the backend is \
                 bird, or when this host is not a Calico node)",
                l.port
            ),
        ),
        ListenState::Unknown => Finding::info(
            c,
            "bgp-listen-port-unknown",
            format!("on '{from}', something listens on TCP {}, but its program could not be seen", l.port),
        )
        .fix("run doctor as root to see which program it is"),
    });

    let s = &r.switch_routes;
    match (s.checked, s.pool, s.switch, s.node.as_deref()) {
        (true, Some(pool), Some(switch), Some(node)) if !s.pool_routes.is_empty() => {
            let routes: Vec<String> = s.pool_routes.iter().map(|p| p.to_string()).collect();
            out.push(
                Finding::warning(
                    c,
                    "switch-advertises-pool",
                    format!(
                        "the switch {switch} already advertises {} to '{node}', inside or over the pod pool {pool}: it \
                         routes pod addresses itself (a static route or an aggregate?), which competes with the routes \
                         the cluster announces and can loop pod traffic between the switch and a node",
                        routes.join(", ")
                    ),
                )
                .fix(
                    "remove that route (or aggregate) from the switch: with BGP it learns every node's pod blocks from \
                     the route reflectors",
                ),
            );
        }
        (true, Some(pool), Some(switch), Some(node)) => out.push(Finding::info(
            c,
            "switch-pool-routes-none",
            format!(
                "the switch {switch} sends '{node}' no route for the pod pool {pool} ({} route(s) received from it \
                 in all)",
                s.received.len()
            ),
        )),
        _ => out.push(Finding::info(
            c,
            "switch-routes-unchecked",
            format!(
                "whether the switch advertises the pod pool back was not checked: {}",
                s.why.as_deref().unwrap_or("no status source gives the routes")
            ),
        )),
    }
    out
}
