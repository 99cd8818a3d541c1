//! Validation rules: pure functions from answers + facts to findings. (Being written.)

use super::answers::{Answers, PoolChoice, ValidAnswers};
use super::facts::ClusterFacts;
use super::findings::Finding;

/// Result of checking all answers: findings, and the validated answers when no finding is an error.
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    pub findings: Vec<Finding>,
    pub valid: Option<ValidAnswers>,
}

/// Every rule over every answer.
pub fn validate(_answers: &Answers, _facts: &ClusterFacts) -> Validation {
    todo!()
}

/// Route reflectors screen: the chosen nodes and the cluster ID.
pub fn validate_reflectors(_reflectors: &[String], _cluster_id: &str, _facts: &ClusterFacts) -> Vec<Finding> {
    todo!()
}

/// Peering screen: switch IP, switch AS, cluster AS, password.
pub fn validate_peering(_answers: &Answers, _facts: &ClusterFacts) -> Vec<Finding> {
    todo!()
}

/// Pool screen: the chosen or typed pool, against nodes, services, switch IP and other pools.
pub fn validate_pool(_pool: &PoolChoice, _switch_ip: &str, _facts: &ClusterFacts) -> Vec<Finding> {
    todo!()
}

/// Detect screen: what is noteworthy about the cluster before any answer.
pub fn preflight(_facts: &ClusterFacts) -> Vec<Finding> {
    todo!()
}

/// Two control-plane nodes in different zones when possible.
pub fn suggest_reflectors(_facts: &ClusterFacts) -> Vec<String> {
    todo!()
}

/// keepOriginalNextHop defaults on when the switch shares a subnet with the nodes.
pub fn default_keep_next_hop(_switch_ip: &str, _facts: &ClusterFacts) -> bool {
    todo!()
}
