//! `show route …` replies (pure): the prefixes BIRD lists.

use ipnet::IpNet;

use super::reply::Reply;

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
