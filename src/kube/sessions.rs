//! The BGP sessions of a real cluster, for the dashboard and the wizard's Status screen:
//! - CalicoNodeStatus objects, **watched** (one watch for the whole cluster; calico-node's status
//!   reporter fills them in). The read-only dashboard only reads objects that exist; the wizard
//!   also creates them for the route-reflector nodes (short `updatePeriodSeconds`) and deletes
//!   them when it is done ([`KubeBackend::end_probes`]).
//! - `--exec`: `birdcl` in the calico-node pod of each route reflector, through pods/exec.
//!
//! Route reflectors hold a session with every node, so reading only them gives the cluster-wide
//! view at a cost that does not grow with the number of nodes. Without route reflectors (the
//! node-to-node mesh) every node is read.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, AttachParams, DynamicObject, GroupVersionKind};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use tokio::io::AsyncReadExt;

use super::{KubeBackend, KubeError};
use crate::domain::facts::ANN_RR_CLUSTER_ID;
use crate::domain::objects::Kind;
use crate::status::model::{PeerReport, PeerRow};

/// Where a real cluster's sessions are read from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SessionSource {
    /// CalicoNodeStatus objects (Calico 3.21+).
    #[default]
    NodeStatus,
    /// `birdcl` in calico-node pods through pods/exec (`status --exec`).
    Exec,
}

/// The watched CalicoNodeStatus objects, kept by a background task.
#[derive(Default)]
pub struct StatusWatch {
    started: bool,
    /// Name → (node, rows).
    objects: BTreeMap<String, (String, Vec<PeerRow>)>,
    /// The first complete list has arrived.
    synced: bool,
    /// The watch's last error, cleared by the next event.
    error: Option<String>,
}

/// How long the route-reflector list and the calico-node pods are reused before reading again.
const TOPOLOGY_TTL: Duration = Duration::from_secs(30);
/// How long the first list of CalicoNodeStatus objects may take.
const FIRST_LIST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one `birdcl` may take.
const EXEC_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many execs at once.
const EXEC_PARALLEL: usize = 8;

/// The nodes to read and, for `--exec`, each node's calico-node pod.
#[derive(Clone, Default)]
pub struct Topology {
    at: Option<Instant>,
    pub reflectors: Vec<String>,
    pub all_nodes: Vec<String>,
    /// node → (namespace, pod name)
    pub pods: BTreeMap<String, (String, String)>,
}

impl KubeBackend {
    /// Every session the chosen source reports; `probe` names the nodes the wizard may create
    /// CalicoNodeStatus objects for (empty for the read-only dashboard).
    pub async fn peers(&self, probe: &[String]) -> Result<PeerReport, String> {
        match self.sessions {
            SessionSource::NodeStatus => self.status_peers(probe).await,
            SessionSource::Exec => self.exec_peers().await,
        }
    }

    async fn status_peers(&self, probe: &[String]) -> Result<PeerReport, String> {
        for node in probe {
            // Creates the object the first time; calico-node fills it in within 5 s.
            self.node_sessions(node).await.map_err(|e| e.to_string())?;
        }
        self.start_watch();
        // The first call waits for the watch's first complete list (or its first error).
        let deadline = Instant::now() + FIRST_LIST_TIMEOUT;
        loop {
            let ready = {
                let w = self.watch.lock().unwrap_or_else(|e| e.into_inner());
                w.synced || w.error.is_some()
            };
            if ready || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let w = self.watch.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = &w.error {
            return Err(format!("the watch on CalicoNodeStatus objects failed: {e}"));
        }
        if !w.synced {
            return Err(format!(
                "the API server sent no list of CalicoNodeStatus objects within {}s",
                FIRST_LIST_TIMEOUT.as_secs()
            ));
        }
        let mut rows: Vec<PeerRow> = w.objects.values().flat_map(|(_, r)| r.iter().cloned()).collect();
        let mut queried: Vec<String> = w.objects.values().map(|(n, _)| n.clone()).collect();
        drop(w);
        rows.sort_by(|a, b| (&a.node, &a.peer_address).cmp(&(&b.node, &b.peer_address)));
        rows.dedup_by(|a, b| a.node == b.node && a.peer_address == b.peer_address);
        queried.sort();
        queried.dedup();
        if queried.is_empty() {
            return Err(NO_NODE_STATUS.into());
        }
        Ok(PeerReport { rows, source: "CalicoNodeStatus (watched)".into(), queried, problems: Vec::new() })
    }

    /// Start the watch once; it runs until the process ends and restarts itself with backoff.
    fn start_watch(&self) {
        {
            let mut w = self.watch.lock().unwrap_or_else(|e| e.into_inner());
            if w.started {
                return;
            }
            w.started = true;
        }
        let (group, version) = Kind::CalicoNodeStatus.api_version().split_once('/').unwrap_or(("", "v1"));
        let gvk = GroupVersionKind::gvk(group, version, Kind::CalicoNodeStatus.kind_name());
        let ar = ApiResource::from_gvk_with_plural(&gvk, Kind::CalicoNodeStatus.plural());
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &ar);
        let state = Arc::clone(&self.watch);
        let target = self.target.clone();
        tokio::spawn(async move {
            let mut init: BTreeMap<String, (String, Vec<PeerRow>)> = BTreeMap::new();
            let mut stream = watcher(api, watcher::Config::default()).default_backoff().boxed();
            while let Some(ev) = stream.next().await {
                let mut w = state.lock().unwrap_or_else(|e| e.into_inner());
                match ev {
                    Ok(watcher::Event::Init) => init.clear(),
                    Ok(watcher::Event::InitApply(o)) => {
                        let (name, entry) = entry(&o);
                        init.insert(name, entry);
                    }
                    Ok(watcher::Event::InitDone) => {
                        w.objects = std::mem::take(&mut init);
                        w.synced = true;
                        w.error = None;
                    }
                    Ok(watcher::Event::Apply(o)) => {
                        let (name, entry) = entry(&o);
                        w.objects.insert(name, entry);
                        w.error = None;
                    }
                    Ok(watcher::Event::Delete(o)) => {
                        w.objects.remove(&o.metadata.name.clone().unwrap_or_default());
                        w.error = None;
                    }
                    Err(e) => {
                        let msg = match e {
                            watcher::Error::InitialListFailed(k) | watcher::Error::WatchStartFailed(k) => {
                                target.error(&KubeBackend::action("watch", Kind::CalicoNodeStatus, None), k).to_string()
                            }
                            other => other.to_string(),
                        };
                        tracing::warn!("CalicoNodeStatus watch: {msg}");
                        w.error = Some(msg);
                    }
                }
            }
        });
    }

    /// `birdcl` in the calico-node pod of each route reflector (every node without them).
    async fn exec_peers(&self) -> Result<PeerReport, String> {
        let topo = self.topology().await.map_err(|e| e.to_string())?;
        let nodes = if topo.reflectors.is_empty() { &topo.all_nodes } else { &topo.reflectors };
        let mut report = PeerReport {
            source: format!(
                "birdcl in calico-node pods (pods/exec), {}",
                if topo.reflectors.is_empty() { "every node (no route reflectors)" } else { "route reflectors" }
            ),
            queried: nodes.clone(),
            ..PeerReport::default()
        };
        let mut results: Vec<(String, Result<Vec<PeerRow>, String>)> = Vec::with_capacity(nodes.len());
        for chunk in nodes.chunks(EXEC_PARALLEL) {
            let jobs: Vec<_> = chunk
                .iter()
                .map(|node| {
                    let pod = topo.pods.get(node).cloned();
                    let node = node.clone();
                    async move {
                        let r = match pod {
                            None => Err(format!("no calico-node pod runs on {node}")),
                            Some((ns, pod)) => self.exec_birdcl(&node, &ns, &pod).await,
                        };
                        (node, r)
                    }
                })
                .collect();
            results.extend(futures::future::join_all(jobs).await);
        }
        for (node, r) in results {
            match r {
                Ok(rows) => report.rows.extend(rows),
                Err(e) => report.problems.push(format!("{node}: {e}")),
            }
        }
        if !nodes.is_empty() && report.problems.len() == nodes.len() {
            return Err(report.problems.join("\n"));
        }
        Ok(report)
    }

    async fn exec_birdcl(&self, node: &str, ns: &str, pod: &str) -> Result<Vec<PeerRow>, String> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let ap = AttachParams::default().container("calico-node").stderr(false);
        let action = super::Action { verb: "create", resource: "pods/exec".into(), name: Some(format!("{ns}/{pod}")) };
        let run = async {
            let mut proc = api.exec(pod, crate::status::exec::BIRDCL, &ap).await.map_err(|e| {
                let e = self.target.error(&action, e);
                let text = e.to_string();
                if matches!(e, KubeError::Forbidden { .. }) {
                    format!("{text} (--exec needs the pods/exec permission in {ns})")
                } else if text.contains("dialing backend") {
                    format!("{text} (the API server could not reach the kubelet on {node}: is the node up?)")
                } else {
                    text
                }
            })?;
            let mut out = String::new();
            if let Some(mut so) = proc.stdout() {
                so.read_to_string(&mut out).await.map_err(|e| format!("reading birdcl's output: {e}"))?;
            }
            proc.join().await.map_err(|e| format!("birdcl in {ns}/{pod}: {e}"))?;
            Ok::<String, String>(out)
        };
        let out = tokio::time::timeout(EXEC_TIMEOUT, run)
            .await
            .map_err(|_| format!("birdcl in {ns}/{pod} did not finish within {}s", EXEC_TIMEOUT.as_secs()))??;
        crate::status::exec::peer_rows(node, &out).map_err(|e| format!("birdcl in {ns}/{pod}: {e}"))
    }

    /// Route reflectors, all nodes and calico-node pods, reread after [`TOPOLOGY_TTL`].
    async fn topology(&self) -> Result<Topology, KubeError> {
        if let Some(t) = self.topology.lock().await.clone().filter(|t| t.at.is_some_and(|a| a.elapsed() < TOPOLOGY_TTL))
        {
            return Ok(t);
        }
        let nodes = self.nodes().await?;
        let mut t = Topology { at: Some(Instant::now()), ..Topology::default() };
        for n in &nodes {
            let name = n.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
            let rr = n
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(ANN_RR_CLUSTER_ID))
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty());
            if rr {
                t.reflectors.push(name.clone());
            }
            t.all_nodes.push(name);
        }
        let action = super::Action { verb: "list", resource: "pods".into(), name: None };
        let req = http::Request::get("/api/v1/pods?labelSelector=k8s-app%3Dcalico-node")
            .body(Vec::new())
            .map_err(|e| super::other(&action, e))?;
        let pods = self.send(req, &action).await?;
        for p in pods.get("items").and_then(Value::as_array).into_iter().flatten() {
            let s = |ptr: &str| p.pointer(ptr).and_then(Value::as_str).unwrap_or_default().to_string();
            let node = s("/spec/nodeName");
            if !node.is_empty() {
                t.pods.insert(node, (s("/metadata/namespace"), s("/metadata/name")));
            }
        }
        *self.topology.lock().await = Some(t.clone());
        Ok(t)
    }
}

fn entry(o: &DynamicObject) -> (String, (String, Vec<PeerRow>)) {
    let v = serde_json::to_value(o).unwrap_or_default();
    let node = v.pointer("/spec/node").and_then(Value::as_str).unwrap_or_default().to_string();
    (o.metadata.name.clone().unwrap_or_default(), (node, super::nodestatus::rows_of(&v)))
}

const NO_NODE_STATUS: &str = "no CalicoNodeStatus object exists, so no node reports its BGP sessions. \
The read-only dashboard creates none. Ways to see the sessions: run `calico-bgp-wizard status` on a node \
as root (it reads the local BIRD socket); or `status --exec` (runs birdcl in the route reflectors' calico-node \
pods; needs the pods/exec permission); or create a CalicoNodeStatus for each route reflector \
(spec: node, classes [BGP], updatePeriodSeconds 10) and delete it afterwards.";
