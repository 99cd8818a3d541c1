//! Does the switch already advertise the pod pool back? Read from a route reflector's BIRD: the
//! routes BIRD received from its sessions with the switch (`show route protocol <name>`).
//!
//! A switch that sends the pool's addresses back (a static route or an aggregate of the pool, or
//! pod blocks re-advertised with `allowas-in`/`as-override`) competes with the nodes' own routes:
//! traffic for pods can loop between the switch and a node.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use ipnet::IpNet;

use crate::status::bird::client::{self, SHOW_PROTOCOLS_ALL};
use crate::status::bird::protocols::parse_protocols;
use crate::status::bird::reply::Reply;

/// The prefixes of a `show route …` reply (BIRD 1.x: `1007-<prefix> via …`, further paths of the
/// same prefix indented; BIRD 2: `<prefix> unicast […]` under a `Table master4:` line).
pub fn route_prefixes(reply: &Reply) -> Vec<IpNet> {
    let mut out: Vec<IpNet> = Vec::new();
    for line in reply.lines() {
        let text = line.text;
        if text.starts_with(char::is_whitespace) {
            continue;
        }
        if let Some(net) = text.split_whitespace().next().and_then(|t| t.parse::<IpNet>().ok())
            && out.last() != Some(&net)
        {
            out.push(net);
        }
    }
    out
}

/// The routes among `prefixes` that concern `pool`: the pool itself, a part of it, or a route that
/// covers it (except a default route, which every switch may send).
pub fn pool_routes(prefixes: &[IpNet], pool: &IpNet) -> Vec<IpNet> {
    prefixes.iter().filter(|p| p.prefix_len() > 0 && (pool.contains(*p) || p.contains(pool))).copied().collect()
}

/// What one route reflector's BIRD received from the switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchRoutes {
    /// The BGP protocols whose neighbour is the switch, e.g. `Global_172_31_13_116`.
    pub protocols: Vec<String>,
    pub prefixes: Vec<IpNet>,
}

/// Ask BIRD at `socket` for the routes it received from `switch`.
pub async fn switch_routes(socket: &Path, switch: IpAddr, timeout: Duration) -> Result<SwitchRoutes, String> {
    let reply = client::query(socket, SHOW_PROTOCOLS_ALL, timeout).await.map_err(|e| e.to_string())?;
    let protocols = parse_protocols(reply).map_err(|e| format!("{}: {e}", socket.display()))?;
    let names: Vec<String> = protocols
        .iter()
        .filter(|p| p.proto == "BGP")
        .filter(|p| p.details.neighbor_address.and_then(|a| a.parse::<IpAddr>().ok()) == Some(switch))
        .map(|p| p.name.to_string())
        .collect();
    let mut prefixes = Vec::new();
    for name in &names {
        let reply =
            client::query(socket, &format!("show route protocol {name}"), timeout).await.map_err(|e| e.to_string())?;
        prefixes.extend(route_prefixes(&reply));
    }
    prefixes.sort();
    prefixes.dedup();
    Ok(SwitchRoutes { protocols: names, prefixes })
}
