//! Where the worker's commands land: the embedded demo cluster now, a real API server later.
//! One enum, so the worker is written once against every backend.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::demo::DemoCluster;
use crate::domain::objects::{ObjectRef, ObjectSet};
use crate::plan::Change;
use crate::status::model::PeerRow;

pub enum Backend {
    Demo(DemoBackend),
}

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

    /// How long to wait between polls of a rollout or of the sessions.
    pub fn poll_every(&self) -> Duration {
        match self {
            Backend::Demo(_) => Duration::from_millis(200),
        }
    }

    /// How long a rollout or the sessions may take before the step fails.
    pub fn wait_timeout(&self) -> Duration {
        match self {
            Backend::Demo(_) => Duration::from_secs(30),
        }
    }

    pub fn write_delay(&self) -> Duration {
        match self {
            Backend::Demo(d) => d.write_delay,
        }
    }

    pub async fn detect(&self) -> Result<ObjectSet, String> {
        match self {
            Backend::Demo(d) => Ok(d.with(|c, _| c.objects().clone())),
        }
    }

    pub async fn get(&self, r: &ObjectRef) -> Result<Option<Value>, String> {
        match self {
            Backend::Demo(d) => Ok(d.with(|c, _| c.objects().get(r).cloned())),
        }
    }

    pub async fn apply(&self, change: &Change) -> Result<(), String> {
        match self {
            Backend::Demo(d) => d.with(|c, now| c.apply(change, now)),
        }
    }

    pub async fn undo(&self, change: &Change) -> Result<(), String> {
        match self {
            Backend::Demo(d) => d.with(|c, now| c.undo(change, now)),
        }
    }

    /// (pods updated and ready, pods desired) of a DaemonSet.
    pub async fn rollout(&self, r: &ObjectRef) -> Result<(usize, usize), String> {
        match self {
            Backend::Demo(d) => Ok(d.with(|c, now| c.rollout(r, now))),
        }
    }

    pub async fn peers(&self) -> Result<Vec<PeerRow>, String> {
        match self {
            Backend::Demo(d) => Ok(d.with(|c, now| c.peer_rows(now))),
        }
    }
}
