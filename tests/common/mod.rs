//! Shared helpers for integration tests: load a cluster fixture from `tests/fixtures/`.
//!
//! A fixture is multi-document YAML in the format of `assets/demo-cluster.yaml`: a first document
//! `kind: ClusterMeta` (context, server, kubernetesVersion, serviceCidrs), then the objects.

#![allow(dead_code)]

pub mod cluster;
pub mod dashboard;
pub mod lab;
pub mod wizard;

use calico_bgp_wizard::domain::facts::{ClusterFacts, detect};
use calico_bgp_wizard::domain::objects::ObjectSet;

/// Parse a fixture's text into its objects (the ClusterMeta document becomes `meta`).
pub fn object_set(text: &str) -> ObjectSet {
    ObjectSet::from_yaml(text).expect("fixture is valid")
}

/// Load `tests/fixtures/<name>` (with or without `.yaml`) and detect its facts.
pub fn load_fixture(name: &str) -> (ObjectSet, ClusterFacts) {
    let file = if name.ends_with(".yaml") { name.to_string() } else { format!("{name}.yaml") };
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let set = object_set(&text);
    let facts = detect(&set);
    (set, facts)
}

/// tmux on a server of its own (`-L`): tests in parallel never share a server, and the
/// operator's own tmux sessions are never touched.
pub fn tmux(server: &str) -> std::process::Command {
    let mut c = std::process::Command::new("tmux");
    c.args(["-L", server, "-f", "/dev/null"]);
    c
}
