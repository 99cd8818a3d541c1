//! BGP sessions through CalicoNodeStatus (Calico ≥ 3.21): the wizard creates one object per
//! route-reflector node it waits on, calico-node's status reporter fills in `status.bgp`, and the
//! wizard deletes the object when the wait is over (Calico's docs ask for few, short-lived ones).
//! The read-only dashboard only reads objects that already exist ([`super::sessions`]).

use http::Request;
use serde_json::{Value, json};

use super::{KubeBackend, KubeError, other};
use crate::domain::objects::{Kind, ObjectRef};
use crate::plan::FIELD_MANAGER;
use crate::status::model::{BgpState, PeerRow, PeerType};

/// Name of the wizard's CalicoNodeStatus for `node`.
pub fn probe_name(node: &str) -> String {
    let mut n = format!("{FIELD_MANAGER}-{node}");
    n.truncate(253);
    n
}

impl KubeBackend {
    /// The sessions of one node, from a CalicoNodeStatus the wizard creates when it has none yet.
    /// Rows appear once calico-node on that node has reported (every 5 s).
    pub async fn node_sessions(&self, node: &str) -> Result<Vec<PeerRow>, KubeError> {
        let name = probe_name(node);
        let r = ObjectRef::cluster(Kind::CalicoNodeStatus, &name);
        let mut probes = self.probes.lock().await;
        if !probes.contains(&name) {
            let obj = json!({
                "apiVersion": Kind::CalicoNodeStatus.api_version(),
                "kind": "CalicoNodeStatus",
                "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": FIELD_MANAGER}},
                "spec": {"node": node, "classes": ["BGP"], "updatePeriodSeconds": 5},
            });
            let action = KubeBackend::action("apply", Kind::CalicoNodeStatus, Some(&name));
            let url = format!("{}?fieldManager={FIELD_MANAGER}&force=true", KubeBackend::object_path(&r));
            let body = serde_json::to_vec(&obj).map_err(|e| other(&action, e))?;
            let req = Request::patch(url)
                .header(http::header::CONTENT_TYPE, "application/apply-patch+yaml")
                .body(body)
                .map_err(|e| other(&action, e))?;
            self.send(req, &action).await?;
            probes.insert(name.clone());
        }
        drop(probes);
        Ok(self.get(&r).await?.map(|o| rows_of(&o)).unwrap_or_default())
    }

    /// Delete the wizard's own CalicoNodeStatus objects that an earlier run left behind (killed on
    /// its Status screen, so it could not delete them at quit); returns their names. Only objects
    /// labelled as the wizard's, and not this process's own.
    pub async fn remove_stale_probes(&self) -> Result<Vec<String>, KubeError> {
        let action = KubeBackend::action("list", Kind::CalicoNodeStatus, None);
        let url = format!(
            "{}?labelSelector=app.kubernetes.io%2Fmanaged-by%3D{FIELD_MANAGER}",
            KubeBackend::collection_path(Kind::CalicoNodeStatus, None)
        );
        let req = Request::get(url).body(Vec::new()).map_err(|e| other(&action, e))?;
        let list = self.send(req, &action).await?;
        let names: Vec<String> = list
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|o| o.pointer("/metadata/name").and_then(Value::as_str).map(str::to_string))
            .collect();
        let ours = self.probes.lock().await.clone();
        let mut removed = Vec::new();
        for name in names.into_iter().filter(|n| !ours.contains(n)) {
            self.delete_probe(&name).await?;
            removed.push(name);
        }
        Ok(removed)
    }

    /// Delete every CalicoNodeStatus this process created.
    pub async fn end_probes(&self) -> Result<(), KubeError> {
        let mut probes = self.probes.lock().await;
        for name in std::mem::take(&mut *probes) {
            if let Err(e) = self.delete_probe(&name).await {
                probes.insert(name);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Delete one CalicoNodeStatus; one that is already gone is fine.
    async fn delete_probe(&self, name: &str) -> Result<(), KubeError> {
        let r = ObjectRef::cluster(Kind::CalicoNodeStatus, name);
        let action = KubeBackend::action("delete", Kind::CalicoNodeStatus, Some(name));
        let req = Request::delete(KubeBackend::object_path(&r)).body(Vec::new()).map_err(|e| other(&action, e))?;
        match self.send(req, &action).await {
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
    }
}

/// The peer rows of one CalicoNodeStatus (`status.bgp.peersV4` and `peersV6`).
pub fn rows_of(o: &Value) -> Vec<PeerRow> {
    let node = o.pointer("/spec/node").and_then(Value::as_str).unwrap_or_default();
    let mut out = Vec::new();
    for key in ["peersV4", "peersV6"] {
        let Some(peers) = o.pointer(&format!("/status/bgp/{key}")).and_then(Value::as_array) else { continue };
        for p in peers {
            let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            let bgp_state = BgpState::parse(&s("state")).unwrap_or(BgpState::Down);
            out.push(PeerRow {
                node: node.to_string(),
                peer_address: s("peerIP"),
                peer_type: match s("type").as_str() {
                    "NodeMesh" => PeerType::NodeToNodeMesh,
                    "GlobalPeer" => PeerType::Global,
                    _ => PeerType::NodeSpecific,
                },
                state: if bgp_state == BgpState::Established { "up".into() } else { "start".into() },
                since: s("since"),
                bgp_state,
                info: String::new(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_reporter_status() {
        let o = json!({"spec": {"node": "k8s-1"}, "status": {"bgp": {"peersV4": [
            {"peerIP": "172.31.13.116", "type": "NodePeer", "state": "Established", "since": "10:00:01"},
            {"peerIP": "172.31.13.28", "type": "NodeMesh", "state": "Active", "since": "10:00:02"}]}}});
        let rows = rows_of(&o);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].node, "k8s-1");
        assert!(rows[0].is_established());
        assert_eq!(rows[1].peer_type, PeerType::NodeToNodeMesh);
        assert_eq!(rows[1].bgp_state, BgpState::Active);
    }
}
