//! Kubernetes objects as plain JSON values, keyed by kind, namespace and name.
//!
//! Detection reads an [`ObjectSet`] (from the embedded demo or, later, from a real API server) and
//! derives [`crate::domain::facts::ClusterFacts`] from it; the demo backend applies the plan's
//! changes to one. Keeping objects as JSON means the demo and a real cluster go through the same
//! parsing and the same merge-patch semantics (RFC 7386).

use std::collections::BTreeMap;

use serde_json::Value;

/// The kinds the wizard reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    Node,
    ConfigMap,
    DaemonSet,
    Secret,
    Role,
    RoleBinding,
    Installation,
    BgpConfiguration,
    BgpPeer,
    IpPool,
    CalicoNodeStatus,
}

impl Kind {
    /// `kind:` as written in YAML.
    pub fn kind_name(self) -> &'static str {
        match self {
            Kind::Node => "Node",
            Kind::ConfigMap => "ConfigMap",
            Kind::DaemonSet => "DaemonSet",
            Kind::Secret => "Secret",
            Kind::Role => "Role",
            Kind::RoleBinding => "RoleBinding",
            Kind::Installation => "Installation",
            Kind::BgpConfiguration => "BGPConfiguration",
            Kind::BgpPeer => "BGPPeer",
            Kind::IpPool => "IPPool",
            Kind::CalicoNodeStatus => "CalicoNodeStatus",
        }
    }

    /// `apiVersion:` of the object actually stored (Calico kinds: the CRD group).
    pub fn api_version(self) -> &'static str {
        match self {
            Kind::Node | Kind::ConfigMap | Kind::Secret => "v1",
            Kind::DaemonSet => "apps/v1",
            Kind::Role | Kind::RoleBinding => "rbac.authorization.k8s.io/v1",
            Kind::Installation => "operator.tigera.io/v1",
            Kind::BgpConfiguration | Kind::BgpPeer | Kind::IpPool | Kind::CalicoNodeStatus => {
                "crd.projectcalico.org/v1"
            }
        }
    }

    /// Lower-case plural, as in `kubectl get <plural>`.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Node => "nodes",
            Kind::ConfigMap => "configmaps",
            Kind::DaemonSet => "daemonsets",
            Kind::Secret => "secrets",
            Kind::Role => "roles",
            Kind::RoleBinding => "rolebindings",
            Kind::Installation => "installations",
            Kind::BgpConfiguration => "bgpconfigurations",
            Kind::BgpPeer => "bgppeers",
            Kind::IpPool => "ippools",
            Kind::CalicoNodeStatus => "caliconodestatuses",
        }
    }

    pub fn from_kind_name(kind: &str) -> Option<Kind> {
        ALL_KINDS.iter().copied().find(|k| k.kind_name() == kind)
    }

    /// True for Calico's own resources (rendered also as `projectcalico.org/v3` for calicoctl).
    pub fn is_calico(self) -> bool {
        matches!(self, Kind::BgpConfiguration | Kind::BgpPeer | Kind::IpPool | Kind::CalicoNodeStatus)
    }
}

pub const ALL_KINDS: [Kind; 11] = [
    Kind::Node,
    Kind::ConfigMap,
    Kind::DaemonSet,
    Kind::Secret,
    Kind::Role,
    Kind::RoleBinding,
    Kind::Installation,
    Kind::BgpConfiguration,
    Kind::BgpPeer,
    Kind::IpPool,
    Kind::CalicoNodeStatus,
];

/// Which object: kind, namespace (None for cluster-scoped) and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct ObjectRef {
    pub kind: Kind,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn cluster(kind: Kind, name: impl Into<String>) -> Self {
        ObjectRef { kind, namespace: None, name: name.into() }
    }
    pub fn namespaced(kind: Kind, namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ObjectRef { kind, namespace: Some(namespace.into()), name: name.into() }
    }
    /// The ref of a JSON object, from its `kind` and `metadata`.
    pub fn of(obj: &Value) -> Option<ObjectRef> {
        let kind = Kind::from_kind_name(obj.get("kind")?.as_str()?)?;
        let meta = obj.get("metadata")?;
        let name = meta.get("name")?.as_str()?.to_string();
        let namespace = meta.get("namespace").and_then(Value::as_str).map(str::to_string);
        Some(ObjectRef { kind, namespace, name })
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind.kind_name(), ns, self.name),
            None => write!(f, "{} {}", self.kind.kind_name(), self.name),
        }
    }
}

/// Where the objects came from: shown on the Detect screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClusterMeta {
    pub context: String,
    pub server: String,
    pub kubernetes_version: String,
    /// Service CIDRs when they can be learned (kube-apiserver flags, kubeadm ClusterConfiguration).
    pub service_cidrs: Vec<String>,
    /// Which Calico API the cluster serves: the Calico API server's `projectcalico.org/v3`, or
    /// only the `crd.projectcalico.org/v1` CRDs. Empty for the demo.
    pub calico_api: String,
}

/// A snapshot of the objects the wizard cares about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectSet {
    pub meta: ClusterMeta,
    pub objects: BTreeMap<ObjectRef, Value>,
}

impl ObjectSet {
    pub fn new(meta: ClusterMeta) -> Self {
        ObjectSet { meta, objects: BTreeMap::new() }
    }

    /// Insert (or replace) an object; ignored when it has no kind/name the wizard knows.
    pub fn insert(&mut self, obj: Value) -> Option<ObjectRef> {
        let r = ObjectRef::of(&obj)?;
        self.objects.insert(r.clone(), obj);
        Some(r)
    }

    /// Multi-document YAML as in `assets/demo-cluster.yaml` and `tests/fixtures/`: an optional
    /// `kind: ClusterMeta` document (context, server, kubernetesVersion, serviceCidrs), then
    /// objects. An object without a name, or of a kind the wizard does not know, is an error.
    pub fn from_yaml(text: &str) -> Result<ObjectSet, String> {
        let mut set = ObjectSet::default();
        for obj in parse_yaml_objects(text)? {
            if obj.get("kind").and_then(Value::as_str) == Some("ClusterMeta") {
                set.meta = serde_json::from_value(obj).map_err(|e| format!("ClusterMeta: {e}"))?;
            } else if set.insert(obj.clone()).is_none() {
                let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("(no kind)");
                return Err(format!("an object of kind '{kind}' has no name or is of a kind the wizard does not know"));
            }
        }
        Ok(set)
    }

    pub fn get(&self, r: &ObjectRef) -> Option<&Value> {
        self.objects.get(r)
    }

    pub fn remove(&mut self, r: &ObjectRef) -> Option<Value> {
        self.objects.remove(r)
    }

    /// All objects of one kind, in name order.
    pub fn list(&self, kind: Kind) -> impl Iterator<Item = &Value> {
        self.objects.iter().filter(move |(r, _)| r.kind == kind).map(|(_, v)| v)
    }

    /// Apply an RFC 7386 JSON merge patch to an existing object.
    pub fn merge_patch(&mut self, r: &ObjectRef, patch: &Value) -> Result<(), String> {
        let obj = self.objects.get_mut(r).ok_or_else(|| format!("{r} does not exist"))?;
        json_patch::merge(obj, patch);
        Ok(())
    }
}

/// The merge patch that undoes `patch` on `before`: every key the patch touches is set back to its
/// value in `before`, or to `null` (removed) where `before` had none.
pub fn inverse_merge_patch(before: &Value, patch: &Value) -> Value {
    match patch {
        Value::Object(p) => {
            let mut out = serde_json::Map::new();
            for (k, pv) in p {
                let bv = before.get(k);
                let inv = match (bv, pv) {
                    (Some(b @ Value::Object(_)), Value::Object(_)) => inverse_merge_patch(b, pv),
                    (Some(b), _) => b.clone(),
                    (None, _) => Value::Null,
                };
                out.insert(k.clone(), inv);
            }
            Value::Object(out)
        }
        _ => before.clone(),
    }
}

/// Parse a multi-document YAML text (as `kubectl get -o yaml` or the embedded demo writes it) into
/// objects; `kind: List` documents are flattened.
pub fn parse_yaml_objects(text: &str) -> Result<Vec<Value>, String> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for d in docs {
        if d.is_null() {
            continue;
        }
        if d.get("kind").and_then(Value::as_str) == Some("List") {
            if let Some(items) = d.get("items").and_then(Value::as_array) {
                out.extend(items.iter().cloned());
            }
        } else {
            out.push(d);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inverse_patch_restores_before() {
        let before = json!({"metadata": {"name": "k8s-1", "labels": {"a": "1"}}, "spec": {"x": 1}});
        let patch = json!({"metadata": {"labels": {"route-reflector": "true", "a": "2"}}});
        let mut obj = before.clone();
        json_patch::merge(&mut obj, &patch);
        assert_eq!(obj["metadata"]["labels"]["route-reflector"], "true");
        let inv = inverse_merge_patch(&before, &patch);
        json_patch::merge(&mut obj, &inv);
        assert_eq!(obj, before);
    }

    #[test]
    fn parses_multi_doc_yaml() {
        let objs = parse_yaml_objects(
            "kind: Node\nmetadata: {name: a}\n---\nkind: List\nitems:\n- kind: Node\n  metadata: {name: b}\n",
        )
        .unwrap();
        assert_eq!(objs.len(), 2);
        assert_eq!(ObjectRef::of(&objs[1]).unwrap().name, "b");
    }
}
