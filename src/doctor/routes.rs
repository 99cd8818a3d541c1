//! Does the switch already advertise the pod pool back? A route reflector's BIRD tells which
//! routes it received from the switch ([`crate::status::bird::client::routes_from`]); this picks
//! those that concern the pool.
//!
//! A switch that sends the pool's addresses back (a static route or an aggregate of the pool, or
//! pod blocks re-advertised with `allowas-in`/`as-override`) competes with the nodes' own routes:
//! traffic for pods can loop between the switch and a node.

use ipnet::IpNet;

/// The routes among `prefixes` that concern `pool`: the pool itself, a part of it, or a route that
/// covers it (except a default route, which every switch may send).
pub fn pool_routes(prefixes: &[IpNet], pool: &IpNet) -> Vec<IpNet> {
    prefixes.iter().filter(|p| p.prefix_len() > 0 && (pool.contains(*p) || p.contains(pool))).copied().collect()
}
