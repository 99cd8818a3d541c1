//! The local source: BIRD control sockets on this machine (`/var/run/calico/bird.ctl` and
//! `bird6.ctl` on a Calico node, or the paths given with `--bird-socket [NODE=]PATH`).
//! Needs no cluster at all, and can change nothing: it only sends `show` commands.

use std::path::PathBuf;
use std::time::Duration;

use super::bird::client;
use super::model::PeerReport;

/// How long BIRD may take to answer one read (calicoctl uses 2 s too).
pub const BIRD_TIMEOUT: Duration = Duration::from_secs(2);

/// The sockets to read, grouped by the node whose BIRD they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalBird {
    pub nodes: Vec<(String, Vec<PathBuf>)>,
}

impl LocalBird {
    /// From the `--bird-socket` values (`[NODE=]PATH`, in order); a value without `NODE=` belongs
    /// to `default_node`. With no value at all: this node's default sockets, when they exist.
    pub fn from_args(values: &[String], default_node: &str) -> Result<LocalBird, String> {
        let mut nodes: Vec<(String, Vec<PathBuf>)> = Vec::new();
        for v in values {
            let (node, path) = match v.split_once('=') {
                Some((n, p)) if !n.is_empty() && !n.contains('/') => (n.to_string(), p),
                _ => (default_node.to_string(), v.as_str()),
            };
            if path.is_empty() {
                return Err(format!(
                    "'{v}' names no socket; expected [NODE=]PATH, e.g. --bird-socket k8s-1=/var/run/calico/bird.ctl"
                ));
            }
            match nodes.iter_mut().find(|(n, _)| *n == node) {
                Some((_, paths)) => paths.push(PathBuf::from(path)),
                None => nodes.push((node, vec![PathBuf::from(path)])),
            }
        }
        if nodes.is_empty() {
            let found = client::default_sockets();
            if found.is_empty() {
                return Err("no BIRD socket on this machine (looked for /var/run/calico/bird.ctl, bird6.ctl and \
                            /var/run/bird/…); run this on a Calico node, or give one with --bird-socket PATH"
                    .into());
            }
            nodes.push((default_node.to_string(), found));
        }
        Ok(LocalBird { nodes })
    }

    /// Every node's sessions, read concurrently. A node that cannot be read becomes a problem line
    /// and the others are still shown; when none can be read, the error says why for each.
    pub async fn peers(&self) -> Result<PeerReport, String> {
        let reads = self.nodes.iter().map(|(node, paths)| client::node_peers(node, paths, BIRD_TIMEOUT));
        let results = futures::future::join_all(reads).await;
        let mut report = PeerReport {
            source: format!("BIRD socket{}", if self.socket_count() == 1 { "" } else { "s" }),
            ..PeerReport::default()
        };
        for ((node, _), r) in self.nodes.iter().zip(results) {
            report.queried.push(node.clone());
            match r {
                Ok(rows) => report.rows.extend(rows),
                Err(e) => report.problems.push(format!("{node}: {e}")),
            }
        }
        if report.problems.len() == self.nodes.len() {
            return Err(report.problems.join("\n"));
        }
        Ok(report)
    }

    fn socket_count(&self) -> usize {
        self.nodes.iter().map(|(_, p)| p.len()).sum()
    }

    /// "k8s-1 (/var/run/calico/bird.ctl)", for the header.
    pub fn describe(&self) -> String {
        self.nodes
            .iter()
            .map(|(n, p)| format!("{n} ({})", p.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// This machine's node name, as calico-node finds it: `$NODENAME`, else the hostname.
pub fn this_node() -> String {
    if let Ok(n) = std::env::var("NODENAME")
        && !n.trim().is_empty()
    {
        return n.trim().to_string();
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "this-node".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_arguments_group_by_node() {
        let v: Vec<String> = ["k8s-1=/a/bird.ctl", "/b/bird.ctl", "k8s-1=/a/bird6.ctl", "k8s-2=/c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let l = LocalBird::from_args(&v, "here").unwrap();
        assert_eq!(
            l.nodes,
            vec![
                ("k8s-1".into(), vec![PathBuf::from("/a/bird.ctl"), PathBuf::from("/a/bird6.ctl")]),
                ("here".into(), vec![PathBuf::from("/b/bird.ctl")]),
                ("k8s-2".into(), vec![PathBuf::from("/c")]),
            ]
        );
        // A path with '=' in a directory name is still a path.
        let l = LocalBird::from_args(&["/run/a=b/bird.ctl".to_string()], "here").unwrap();
        assert_eq!(l.nodes[0], ("here".into(), vec![PathBuf::from("/run/a=b/bird.ctl")]));
        let e = LocalBird::from_args(&["k8s-1=".to_string()], "here").unwrap_err();
        assert!(e.contains("'k8s-1=' names no socket"), "{e}");
    }
}
