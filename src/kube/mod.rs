//! The only module that talks to a Kubernetes API server (STYLE.md: one seam per outside system).
//!
//! Requests are plain REST calls through `::kube::Client` on `serde_json::Value`s, so the objects a
//! real cluster returns go through exactly the same [`ObjectSet`] → facts → plan path as the demo.
//! Writes are server-side apply with the field manager `calico-bgp-wizard`; every write can be
//! sent as a server-side dry run first. Errors become [`KubeError`]s that say what to do.

pub mod connect;
pub mod detect;
pub mod errors;
mod nodestatus;
pub mod rbac;
pub mod sessions;
pub mod write;

use std::collections::BTreeSet;

use http::Request;
use serde_json::Value;

use crate::domain::objects::{Kind, ObjectRef};
pub use connect::KubeconfigSource;
pub use errors::{Action, KubeError, Target};

/// A connected API server.
pub struct KubeBackend {
    client: ::kube::Client,
    pub target: Target,
    /// CalicoNodeStatus objects this process created to follow sessions; deleted after each wait.
    probes: tokio::sync::Mutex<BTreeSet<String>>,
    /// Nodes per list request ([`detect::NODE_PAGE`]; tests make it small to read many pages).
    pub node_page: usize,
    /// Where the dashboard reads the sessions from.
    pub sessions: sessions::SessionSource,
    /// The watched CalicoNodeStatus objects ([`sessions`]).
    watch: std::sync::Arc<std::sync::Mutex<sessions::StatusWatch>>,
    /// Route reflectors and calico-node pods for `--exec`, reread now and then.
    topology: tokio::sync::Mutex<Option<sessions::Topology>>,
}

impl KubeBackend {
    pub async fn connect(source: &KubeconfigSource, context: Option<&str>) -> Result<KubeBackend, String> {
        let (client, target) = connect::client(source, context).await?;
        tracing::info!("using {} (context {}, from {})", target.server, target.context, source.describe());
        Ok(KubeBackend {
            client,
            target,
            probes: Default::default(),
            node_page: detect::NODE_PAGE,
            sessions: Default::default(),
            watch: Default::default(),
            topology: Default::default(),
        })
    }

    /// `/api/v1` or `/apis/<group>/<version>`.
    fn group_path(kind: Kind) -> String {
        match kind.api_version() {
            "v1" => "/api/v1".to_string(),
            gv => format!("/apis/{gv}"),
        }
    }

    fn collection_path(kind: Kind, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) => format!("{}/namespaces/{ns}/{}", Self::group_path(kind), kind.plural()),
            None => format!("{}/{}", Self::group_path(kind), kind.plural()),
        }
    }

    fn object_path(r: &ObjectRef) -> String {
        format!("{}/{}", Self::collection_path(r.kind, r.namespace.as_deref()), r.name)
    }

    fn action(verb: &'static str, kind: Kind, name: Option<&str>) -> Action {
        let resource = match kind.api_version().split_once('/') {
            Some((group, _)) => format!("{}.{group}", kind.plural()),
            None => kind.plural().to_string(),
        };
        Action { verb, resource, name: name.map(str::to_string) }
    }

    fn action_raw(verb: &'static str, path: &str) -> Action {
        Action { verb, resource: path.to_string(), name: None }
    }

    async fn send(&self, req: Request<Vec<u8>>, action: &Action) -> Result<Value, KubeError> {
        self.client.request::<Value>(req).await.map_err(|e| self.target.error(action, e))
    }

    async fn send_text(&self, req: Request<Vec<u8>>, action: &Action) -> Result<String, KubeError> {
        self.client.request_text(req).await.map_err(|e| self.target.error(action, e))
    }

    /// The object, or None when it does not exist.
    pub async fn get(&self, r: &ObjectRef) -> Result<Option<Value>, KubeError> {
        Ok(self.get_raw(r).await?.map(|mut v| {
            strip_server_fields(&mut v);
            v
        }))
    }

    /// The object as the server returns it, managedFields included.
    async fn get_raw(&self, r: &ObjectRef) -> Result<Option<Value>, KubeError> {
        let action = Self::action("get", r.kind, Some(&r.name));
        let req = Request::get(Self::object_path(r)).body(Vec::new()).map_err(|e| other(&action, e))?;
        match self.send(req, &action).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn other(action: &Action, e: impl std::fmt::Display) -> KubeError {
    KubeError::Other { action: action.to_string(), message: e.to_string() }
}

/// Drop what only the server needs (managedFields): it is large and never compared.
fn strip_server_fields(v: &mut Value) {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
}
