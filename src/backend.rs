//! Where the worker's commands land: the embedded demo cluster or a real API server. One enum, so
//! the worker is written once against every backend.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::demo::DemoCluster;
use crate::domain::objects::{ObjectRef, ObjectSet};
use crate::kube::KubeBackend;
use crate::plan::Change;
use crate::status::local::LocalBird;
use crate::status::model::{PeerReport, PeerRow};

pub enum Backend {
    Demo(DemoBackend),
    Kube(KubeBackend),
    /// Only BIRD sockets on this machine (`status --bird-socket`): no cluster, no write at all.
    Local(LocalBird),
}

/// What a backend without a cluster answers to anything but the sessions.
const NO_CLUSTER: &str =
    "this dashboard reads BIRD sockets only (--bird-socket): there is no cluster to read or change";

/// The embedded demo: an in-memory cluster with simulated rollouts and BGP sessions.
pub struct DemoBackend {
    cluster: Mutex<DemoCluster>,
    clock: Instant,
    /// The demo's clock starts this far in: the embedded cluster's mesh has been up for a while.
    offset: Duration,
    /// Pause after each write, so the operator can follow the steps (realistic, short).
    pub write_delay: Duration,
}

impl DemoBackend {
    pub fn new(cluster: DemoCluster) -> Self {
        DemoBackend {
            cluster: Mutex::new(cluster),
            clock: Instant::now(),
            offset: Duration::from_secs(60),
            write_delay: Duration::from_millis(400),
        }
    }

    fn now(&self) -> Duration {
        self.clock.elapsed() + self.offset
    }

    fn with<T>(&self, f: impl FnOnce(&mut DemoCluster, Duration) -> T) -> T {
        let now = self.now();
        // A poisoned lock only means another task panicked mid-update; the data is still usable.
        let mut c = self.cluster.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut c, now)
    }

    pub fn switch_ip(&self) -> IpAddr {
        self.with(|c, _| c.switch_ip())
    }
}

impl Backend {
    pub fn demo(cluster: DemoCluster) -> Backend {
        Backend::Demo(DemoBackend::new(cluster))
    }

    pub fn is_demo(&self) -> bool {
        matches!(self, Backend::Demo(_))
    }

    /// The real cluster's server and context; None for the demo.
    pub fn target(&self) -> Option<&crate::kube::Target> {
        match self {
            Backend::Demo(_) => None,
            Backend::Kube(k) => Some(&k.target),
            Backend::Local(_) => None,
        }
    }

    /// How long to wait between polls of a rollout or of the sessions.
    pub fn poll_every(&self) -> Duration {
        match self {
            Backend::Demo(_) => Duration::from_millis(200),
            Backend::Kube(_) | Backend::Local(_) => Duration::from_secs(1),
        }
    }

    /// How long a rollout or the sessions may go without progress before the step fails.
    pub fn wait_timeout(&self) -> Duration {
        match self {
            Backend::Demo(_) => Duration::from_secs(30),
            Backend::Kube(_) | Backend::Local(_) => Duration::from_secs(300),
        }
    }

    pub fn write_delay(&self) -> Duration {
        match self {
            Backend::Demo(d) => d.write_delay,
            Backend::Kube(_) | Backend::Local(_) => Duration::ZERO,
        }
    }

    pub async fn detect(&self) -> Result<ObjectSet, String> {
        match self {
            Backend::Demo(d) => Ok(d.with(|c, _| c.objects().clone())),
            Backend::Kube(k) => k.detect().await.map_err(|e| e.to_string()),
            Backend::Local(_) => Err(NO_CLUSTER.into()),
        }
    }

    pub async fn get(&self, r: &ObjectRef) -> Result<Option<Value>, String> {
        match self {
            Backend::Demo(d) => Ok(d.with(|c, _| c.objects().get(r).cloned())),
            Backend::Kube(k) => k.get(r).await.map_err(|e| e.to_string()),
            Backend::Local(_) => Err(NO_CLUSTER.into()),
        }
    }

    /// Write one change; `current` is the object as just read (the write's precondition).
    pub async fn apply(&self, change: &Change, current: Option<&Value>) -> Result<(), String> {
        match self {
            Backend::Demo(d) => d.with(|c, now| c.apply(change, now)),
            Backend::Kube(k) => k.apply_change(change, current, false).await.map_err(|e| e.to_string()),
            Backend::Local(_) => Err(NO_CLUSTER.into()),
        }
    }

    /// Ask the API server whether it would accept the change (admission, schema), storing nothing.
    /// The demo accepts everything its planner produces.
    pub async fn dry_run(&self, change: &Change, current: Option<&Value>) -> Result<(), String> {
        match self {
            Backend::Demo(_) => Ok(()),
            Backend::Kube(k) => k.apply_change(change, current, true).await.map_err(|e| e.to_string()),
            Backend::Local(_) => Err(NO_CLUSTER.into()),
        }
    }

    /// Undo one change. `change.before` is the object as it was before the run (from the backup).
    pub async fn undo(&self, change: &Change, current: Option<&Value>) -> Result<(), String> {
        match self {
            Backend::Demo(d) => d.with(|c, now| c.undo(change, now)),
            Backend::Kube(k) => k.undo_change(change, &change.undo(), current).await.map_err(|e| e.to_string()),
            Backend::Local(_) => Err(NO_CLUSTER.into()),
        }
    }

    /// (pods updated and ready, pods desired) of a DaemonSet.
    pub async fn rollout(&self, r: &ObjectRef) -> Result<(usize, usize), String> {
        match self {
            Backend::Demo(d) => Ok(d.with(|c, now| c.rollout(r, now))),
            Backend::Kube(k) => k.rollout(r).await.map_err(|e| e.to_string()),
            Backend::Local(_) => Err(NO_CLUSTER.into()),
        }
    }

    /// Every session the source reports (the dashboard and the wizard's Status screen). Read-only.
    /// `probe`: nodes the wizard may create CalicoNodeStatus objects for (never the dashboard).
    pub async fn peers(&self, probe: &[String]) -> Result<PeerReport, String> {
        match self {
            Backend::Demo(d) => {
                let rows = d.with(|c, now| c.peer_rows(now));
                let mut queried: Vec<String> = rows.iter().map(|r| r.node.clone()).collect();
                queried.dedup();
                Ok(PeerReport { rows, source: "demo simulation".into(), queried, problems: Vec::new() })
            }
            Backend::Kube(k) => k.peers(probe).await,
            Backend::Local(l) => l.peers().await,
        }
    }

    /// The sessions of one node while a step waits on them (Kube: through a CalicoNodeStatus the
    /// wizard creates; see [`Backend::end_waits`]).
    pub async fn node_sessions(&self, node: &str) -> Result<Vec<PeerRow>, String> {
        match self {
            Backend::Demo(d) => Ok(d.with(|c, now| c.peer_rows(now)).into_iter().filter(|r| r.node == node).collect()),
            Backend::Kube(k) => k.node_sessions(node).await.map_err(|e| e.to_string()),
            Backend::Local(_) => Err(NO_CLUSTER.into()),
        }
    }

    /// Remove the wizard's CalicoNodeStatus objects an earlier, killed run left behind (names).
    pub async fn remove_stale_probes(&self) -> Result<Vec<String>, String> {
        match self {
            Backend::Demo(_) | Backend::Local(_) => Ok(Vec::new()),
            Backend::Kube(k) => k.remove_stale_probes().await.map_err(|e| e.to_string()),
        }
    }

    /// Remove what [`Backend::node_sessions`] created.
    pub async fn end_waits(&self) -> Result<(), String> {
        match self {
            Backend::Demo(_) | Backend::Local(_) => Ok(()),
            Backend::Kube(k) => k.end_probes().await.map_err(|e| e.to_string()),
        }
    }
}
