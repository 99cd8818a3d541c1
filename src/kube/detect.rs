//! Reading everything the wizard needs in a few requests: nodes (paginated, decoded into a slim
//! form so 5,000 nodes stay fast and small), the Calico install objects, pools, peers and the
//! BGPConfiguration, plus the server version, the served Calico API group and the service CIDR.

use futures::future::join_all;
use http::Request;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{KubeBackend, KubeError, other, strip_server_fields};
use crate::domain::objects::{ClusterMeta, Kind, ObjectRef, ObjectSet};
use crate::plan::{PASSWORD_SECRET, build::PASSWORD_READER};

/// Nodes per list request: large pages keep round trips few (5,000 nodes are about 7 MB of JSON,
/// decoded page by page into the slim form), and bigger clusters are still read in pages.
pub const NODE_PAGE: usize = 5000;

#[derive(Deserialize)]
struct NodeList {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    items: Vec<SlimNode>,
}

#[derive(Deserialize, Default)]
struct ListMeta {
    #[serde(rename = "continue", default)]
    cont: Option<String>,
}

/// The parts of a Node the wizard reads; everything else (images, conditions…) is never decoded.
#[derive(Deserialize, Serialize)]
struct SlimNode {
    metadata: SlimMeta,
    #[serde(default)]
    status: SlimStatus,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct SlimMeta {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    labels: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    annotations: Option<Value>,
}

#[derive(Deserialize, Serialize, Default)]
struct SlimStatus {
    #[serde(default)]
    addresses: Vec<Value>,
}

impl KubeBackend {
    /// Everything the wizard reads, as one snapshot.
    pub async fn detect(&self) -> Result<ObjectSet, KubeError> {
        // Everything at once: the node pages are the long pole; the rest rides alongside.
        let singles = [
            ObjectRef::namespaced(Kind::ConfigMap, "kube-system", "calico-config"),
            ObjectRef::namespaced(Kind::DaemonSet, "kube-system", "calico-node"),
            ObjectRef::namespaced(Kind::DaemonSet, "calico-system", "calico-node"),
            // 404 when the operator's API group is not served: no operator.
            ObjectRef::cluster(Kind::Installation, "default"),
        ];
        let (groups, nodes, version, singles, lists, wizard_objects, service) = tokio::join!(
            self.groups(),
            self.nodes(),
            self.version(),
            join_all(singles.iter().map(|r| self.get(r))),
            join_all([Kind::IpPool, Kind::BgpPeer, Kind::BgpConfiguration].map(|k| self.list(k))),
            self.wizard_objects(),
            self.service_cidrs(),
        );
        let groups = groups?;
        if !groups.iter().any(|g| g == "crd.projectcalico.org") {
            return Err(KubeError::Other {
                action: format!("read Calico's resources on {}", self.target.server),
                message: "Calico is not installed on this cluster (the API group crd.projectcalico.org is not \
                          served). This wizard configures Calico's BGP; install Calico first, or check --context."
                    .into(),
            });
        }
        let calico_api = if groups.iter().any(|g| g == "projectcalico.org") {
            "projectcalico.org/v3 (Calico API server)"
        } else {
            "crd.projectcalico.org/v1 (CRDs only)"
        };
        let mut set = ObjectSet::new(ClusterMeta {
            context: self.target.context.clone(),
            server: self.target.server.clone(),
            kubernetes_version: version?,
            service_cidrs: service,
            calico_api: calico_api.into(),
        });
        for n in nodes? {
            set.insert(n);
        }
        for o in singles {
            if let Some(o) = o? {
                set.insert(o);
            }
        }
        for l in lists {
            for o in l? {
                set.insert(o);
            }
        }
        for o in wizard_objects {
            set.insert(o);
        }
        Ok(set)
    }

    async fn version(&self) -> Result<String, KubeError> {
        let action = KubeBackend::action_raw("get", "/version");
        let req = Request::get("/version").body(Vec::new()).map_err(|e| other(&action, e))?;
        let v = self.send(req, &action).await?;
        Ok(v.get("gitVersion").and_then(Value::as_str).unwrap_or("unknown").to_string())
    }

    /// API group names the server serves.
    async fn groups(&self) -> Result<Vec<String>, KubeError> {
        let action = KubeBackend::action_raw("get", "/apis");
        let req = Request::get("/apis").body(Vec::new()).map_err(|e| other(&action, e))?;
        let v = self.send(req, &action).await?;
        Ok(v.get("groups")
            .and_then(Value::as_array)
            .map(|gs| gs.iter().filter_map(|g| g.get("name")?.as_str().map(str::to_string)).collect())
            .unwrap_or_default())
    }

    /// Every Node, page by page, in the slim form.
    pub(super) async fn nodes(&self) -> Result<Vec<Value>, KubeError> {
        let action = KubeBackend::action("list", Kind::Node, None);
        let mut out = Vec::new();
        let mut cont: Option<String> = None;
        loop {
            let mut url = format!("/api/v1/nodes?limit={}", self.node_page);
            if let Some(c) = &cont {
                url.push_str("&continue=");
                url.push_str(&urlencode(c));
            }
            let req = Request::get(url).body(Vec::new()).map_err(|e| other(&action, e))?;
            let text = self.send_text(req, &action).await?;
            let page: NodeList = serde_json::from_str(&text).map_err(|e| other(&action, e))?;
            drop(text);
            out.reserve(page.items.len());
            for n in page.items {
                let mut v = serde_json::to_value(n).map_err(|e| other(&action, e))?;
                if let Some(m) = v.as_object_mut() {
                    m.insert("apiVersion".into(), json!("v1"));
                    m.insert("kind".into(), json!("Node"));
                }
                out.push(v);
            }
            match page.metadata.cont.filter(|c| !c.is_empty()) {
                Some(c) => cont = Some(c),
                None => break,
            }
        }
        Ok(out)
    }

    /// All objects of a cluster-scoped kind (items get their kind and apiVersion back).
    pub(super) async fn list(&self, kind: Kind) -> Result<Vec<Value>, KubeError> {
        let action = KubeBackend::action("list", kind, None);
        let req =
            Request::get(KubeBackend::collection_path(kind, None)).body(Vec::new()).map_err(|e| other(&action, e))?;
        let v = self.send(req, &action).await?;
        let mut items = match v.get("items") {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        };
        for i in &mut items {
            strip_server_fields(i);
            if let Some(m) = i.as_object_mut() {
                m.insert("apiVersion".into(), json!(kind.api_version()));
                m.insert("kind".into(), json!(kind.kind_name()));
            }
        }
        Ok(items)
    }

    /// The password Secret and its RBAC from an earlier run, in either Calico namespace. A user
    /// who may not read Secrets (the dashboard's role) just does not see it.
    async fn wizard_objects(&self) -> Vec<Value> {
        let refs: Vec<ObjectRef> = ["kube-system", "calico-system"]
            .into_iter()
            .flat_map(|ns| {
                [
                    ObjectRef::namespaced(Kind::Secret, ns, PASSWORD_SECRET),
                    ObjectRef::namespaced(Kind::Role, ns, PASSWORD_READER),
                    ObjectRef::namespaced(Kind::RoleBinding, ns, PASSWORD_READER),
                ]
            })
            .collect();
        let mut out = Vec::new();
        for (r, got) in refs.iter().zip(join_all(refs.iter().map(|r| self.get(r))).await) {
            match got {
                Ok(Some(o)) => out.push(o),
                Ok(None) => {}
                Err(e) => tracing::info!("not read: {r}: {e}"),
            }
        }
        out
    }

    /// The service CIDR from kubeadm's ClusterConfiguration (`kube-system/kubeadm-config`), when
    /// there is one and it may be read.
    async fn service_cidrs(&self) -> Vec<String> {
        let r = ObjectRef::namespaced(Kind::ConfigMap, "kube-system", "kubeadm-config");
        let Ok(Some(cm)) = self.get(&r).await else { return Vec::new() };
        let text = cm.pointer("/data/ClusterConfiguration").and_then(Value::as_str).unwrap_or("");
        let Ok(cfg) = serde_saphyr::from_str::<Value>(text) else { return Vec::new() };
        cfg.pointer("/networking/serviceSubnet")
            .and_then(Value::as_str)
            .map(|s| s.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect())
            .unwrap_or_default()
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
