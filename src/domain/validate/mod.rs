//! Validation rules: pure functions from answers + facts to findings.
//!
//! Every finding quotes the value it judged in single quotes, names its rule (`Finding::rule`),
//! says what was expected and proposes a fix. The BGP password is never quoted: findings about it
//! give its length or the position of the bad character.
//!
//! One file per wizard screen: [`preflight`] (Detect), `reflectors` (route reflectors and cluster
//! ID), `peering` (switch IP, AS numbers, password) and `pool`. This file combines them into
//! [`validate`] and holds the helpers they share.

mod peering;
mod pool;
mod preflight;
mod reflectors;
#[cfg(test)]
mod tests;

use ipnet::IpNet;

use super::answers::{Answers, ValidAnswers};
use super::asn::Asn;
use super::facts::{ClusterFacts, NodeFacts};
use super::findings::{Finding, has_errors};

pub use peering::{
    MAX_PASSWORD_LEN, default_keep_next_hop, effective_cluster_as, is_documentation_as, is_private_as,
    reserved_as_reason, validate_peering,
};
pub use pool::{new_pool_name, resolve_pool, validate_pool};
pub use preflight::preflight;
pub use reflectors::{suggest_reflectors, validate_reflectors};

/// Result of checking all answers: findings, and the validated answers when no finding is an error.
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    pub findings: Vec<Finding>,
    pub valid: Option<ValidAnswers>,
}

/// Every rule over every answer.
pub fn validate(answers: &Answers, facts: &ClusterFacts) -> Validation {
    let cluster_as = effective_cluster_as(&answers.cluster_as, facts).unwrap_or_else(|| facts.cluster_as());
    let mut findings = reflectors::reflector_rules(&answers.reflectors, &answers.cluster_id, cluster_as, facts);
    findings.extend(validate_peering(answers, facts));
    // The switch-inside-pool problem is reported once, next to the switch IP, when both see it.
    let switch_in_pool = findings.iter().any(|f| f.rule == "switch-in-pool");
    findings.extend(
        validate_pool(&answers.pool, &answers.switch_ip, facts)
            .into_iter()
            .filter(|f| !(switch_in_pool && f.rule == "pool-contains-switch")),
    );
    let valid = if has_errors(&findings) { None } else { valid_answers(answers, facts) };
    Validation { findings, valid }
}

fn valid_answers(a: &Answers, facts: &ClusterFacts) -> Option<ValidAnswers> {
    Some(ValidAnswers {
        reflectors: a.reflectors.iter().map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect(),
        cluster_id: a.cluster_id.trim().parse().ok()?,
        switch_ip: a.switch_ip.trim().parse().ok()?,
        switch_as: Asn::parse(&a.switch_as).ok()?,
        cluster_as: effective_cluster_as(&a.cluster_as, facts)?,
        password: (!a.password.0.is_empty()).then(|| a.password.clone()),
        keep_original_next_hop: a.keep_original_next_hop,
        pool: resolve_pool(&a.pool, facts)?,
        vendor: a.vendor,
    })
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the screens' rules

/// The node's Calico networks (with mask, not truncated).
fn node_nets(n: &NodeFacts) -> Vec<IpNet> {
    n.calico_ipv4.map(IpNet::V4).into_iter().chain(n.calico_ipv6.map(IpNet::V6)).collect()
}

/// Node subnets (truncated), each with the names of its nodes, in node-name order.
fn node_subnets(facts: &ClusterFacts) -> Vec<(IpNet, Vec<&str>)> {
    let mut out: Vec<(IpNet, Vec<&str>)> = Vec::new();
    for n in &facts.nodes {
        for net in node_nets(n).iter().map(IpNet::trunc) {
            match out.iter_mut().find(|(s, _)| *s == net) {
                Some((_, names)) => names.push(n.name.as_str()),
                None => out.push((net, vec![n.name.as_str()])),
            }
        }
    }
    out
}

pub fn quote_list<S: AsRef<str>>(items: &[S]) -> String {
    items.iter().map(|s| format!("'{}'", s.as_ref())).collect::<Vec<_>>().join(", ")
}
