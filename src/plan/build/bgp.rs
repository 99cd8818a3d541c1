//! Steps 3 to 5: the BGP peers (selecting no node yet), one route reflector at a time, then the
//! node-to-node mesh off.

use std::net::IpAddr;

use serde_json::{Map, Value, json};

use super::{Builder, RR_SELECTOR, diff_patch, read_back, sentence};
use crate::domain::facts::{ANN_RR_CLUSTER_ID, DEFAULT_AS, LABEL_RR};
use crate::domain::objects::{Kind, ObjectRef};
use crate::plan::{Op, PASSWORD_KEY, PASSWORD_SECRET, PEER_TO_RRS, PEER_TO_SWITCH, StepKind, Verification};

/// BGPPeer spec keys the wizard owns: a key set on an existing peer but not wanted is removed.
const PEER_OWNED_KEYS: [&str; 7] =
    ["node", "nodeSelector", "peerIP", "asNumber", "peerSelector", "keepOriginalNextHop", "password"];

impl Builder<'_> {
    fn peer_objects(&self) -> [Value; 2] {
        let a = self.answers;
        let mut rr = json!({
            "nodeSelector": RR_SELECTOR,
            "peerIP": a.switch_ip.to_string(),
            "asNumber": a.switch_as.0,
        });
        if a.keep_original_next_hop {
            rr["keepOriginalNextHop"] = json!(true);
        }
        if a.password.is_some() {
            rr["password"] = json!({"secretKeyRef": {"name": PASSWORD_SECRET, "key": PASSWORD_KEY}});
        }
        let peer = |name: &str, spec: Value| {
            json!({
                "apiVersion": Kind::BgpPeer.api_version(),
                "kind": "BGPPeer",
                "metadata": {"name": name},
                "spec": spec,
            })
        };
        [peer(PEER_TO_RRS, json!({"nodeSelector": "all()", "peerSelector": RR_SELECTOR})), peer(PEER_TO_SWITCH, rr)]
    }

    pub(super) fn peers(&mut self) {
        let mut changes = Vec::new();
        for desired in self.peer_objects() {
            let r = ObjectRef::of(&desired).expect("BGPPeer ref");
            let Some(existing) = self.cur.get(&r) else {
                changes.push(self.create(desired));
                continue;
            };
            let mut spec = existing.get("spec").cloned().unwrap_or_else(|| json!({}));
            // asNumber may be stored as a string; compare it as a number.
            if let Some(n) =
                spec.get("asNumber").and_then(Value::as_str).and_then(|t| crate::domain::asn::Asn::parse(t).ok())
            {
                spec["asNumber"] = json!(n.0);
            }
            let mut patch = diff_patch(&spec, &desired["spec"]).unwrap_or_else(|| json!({}));
            for k in PEER_OWNED_KEYS {
                if spec.get(k).is_some() && desired["spec"].get(k).is_none() {
                    patch[k] = Value::Null;
                }
            }
            if patch.as_object().is_some_and(Map::is_empty) {
                self.notes.push(format!("BGPPeer {} already exists with the wanted spec.", r.name));
            } else {
                changes.extend(self.patch(&r, json!({"spec": patch})));
            }
        }
        for p in &self.facts.peers {
            if p.name != PEER_TO_RRS && p.name != PEER_TO_SWITCH {
                let what = match (&p.peer_ip, &p.peer_selector) {
                    (Some(ip), _) => format!("peer {ip}"),
                    (None, Some(sel)) => format!("peerSelector {sel}"),
                    (None, None) => "no peer".into(),
                };
                self.notes.push(format!("Existing BGPPeer {} ({what}) is kept as it is.", p.name));
            }
        }
        if changes.is_empty() {
            return;
        }
        let verify = read_back(&changes);
        let undo = changes
            .iter()
            .map(|c| match c.op {
                Op::Create => format!("delete BGPPeer {}", c.object.name),
                _ => format!("restore the previous spec of BGPPeer {}", c.object.name),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let any_rr = self.facts.nodes.iter().any(|n| n.has_rr_label());
        let why = if any_rr {
            "Before any new reflector: only nodes labelled route-reflector=true are selected, and \
             the mesh keeps carrying routes meanwhile."
        } else {
            "No node is labelled route-reflector=true yet, so these peers select nothing and change \
             nothing until a reflector is promoted."
        };
        let title = if changes.iter().all(|c| c.op == Op::Create) {
            "Create the BGP peers (they select no node yet)"
        } else {
            "Create or update the BGP peers"
        };
        let mut s = self.step(StepKind::CreatePeers, title.into(), why, changes);
        s.verify = verify;
        s.undo = sentence(&undo);
        self.push(s);
    }

    // 4. Route reflectors ------------------------------------------------------------------------

    pub(super) fn promote(&mut self, name: &str) {
        let id = self.answers.cluster_id.to_string();
        let Some(node) = self.facts.node(name) else {
            self.notes.push(format!("Node {name} was not found: it is not made a route reflector."));
            return;
        };
        if node.is_route_reflector() && node.rr_cluster_id.as_deref() == Some(id.as_str()) {
            self.notes.push(format!("{name} is already a route reflector with cluster ID {id}."));
            return;
        }
        let r = ObjectRef::cluster(Kind::Node, name);
        let patch = json!({"metadata": {
            "annotations": {ANN_RR_CLUSTER_ID: id},
            "labels": {LABEL_RR: "true"},
        }});
        let Some(change) = self.patch(&r, patch.clone()) else {
            return;
        };
        let peers = self.session_peers(name);
        let mut s = self.step(
            StepKind::PromoteReflector { node: name.to_string() },
            format!("Make {name} a route reflector"),
            "One reflector at a time: its mesh sessions drop (about 2 s) and are replaced by \
             reflector sessions, which must be Established before the next node or the mesh goes.",
            vec![change],
        );
        s.verify = vec![
            Verification::Fields { object: r, expect: patch },
            Verification::SessionsEstablished { node: name.to_string(), peers },
        ];
        let prev = match &node.rr_cluster_id {
            Some(old) => format!("put cluster ID {old} back"),
            None => "remove the route-reflector label and the cluster ID annotation".into(),
        };
        s.undo = format!("On {name}, {prev}: it rejoins the node-to-node mesh (while the mesh is still on).");
        self.push(s);
    }

    /// The addresses a reflector must have Established sessions with: every other node's BGP
    /// address (IPv6 too when the target pool is IPv6) and the switch.
    fn session_peers(&self, name: &str) -> Vec<IpAddr> {
        let v6 = self.answers.pool.cidr.addr().is_ipv6();
        let mut out = Vec::new();
        for n in self.facts.nodes.iter().filter(|n| n.name != name) {
            if let Some(ip) = n.bgp_ip() {
                out.push(IpAddr::V4(ip));
            }
            if v6 && let Some(net) = n.calico_ipv6 {
                out.push(IpAddr::V6(net.addr()));
            }
        }
        out.push(self.answers.switch_ip);
        out
    }

    // 5. Mesh ------------------------------------------------------------------------------------

    pub(super) fn disable_mesh(&mut self) {
        let r = ObjectRef::cluster(Kind::BgpConfiguration, "default");
        let existing_as = self.facts.bgp_config.as_ref().and_then(|c| c.asn);
        if let Some(asn) = existing_as {
            self.notes.push(format!("The cluster AS {asn} set in BGPConfiguration default is kept."));
        }
        if !self.facts.mesh_enabled() {
            self.notes.push("The node-to-node mesh is already off.".into());
            return;
        }
        let cluster_as = self.answers.cluster_as;
        let (change, expect, undo) = if self.facts.bgp_config.is_none() {
            let c = self.create(json!({
                "apiVersion": Kind::BgpConfiguration.api_version(),
                "kind": "BGPConfiguration",
                "metadata": {"name": "default"},
                "spec": {
                    "nodeToNodeMeshEnabled": false,
                    "asNumber": cluster_as.0,
                    "logSeverityScreen": "Info",
                },
            }));
            let expect = json!({"spec": c.after["spec"]});
            (Some(c), expect, "Delete BGPConfiguration default: the mesh comes back on (AS 64512 default).")
        } else {
            let mut patch = json!({"spec": {"nodeToNodeMeshEnabled": false}});
            if existing_as.is_none() && cluster_as != DEFAULT_AS {
                patch["spec"]["asNumber"] = json!(cluster_as.0);
            }
            (
                self.patch(&r, patch.clone()),
                patch,
                "Set nodeToNodeMeshEnabled back to its previous value in BGPConfiguration default.",
            )
        };
        let Some(change) = change else {
            return;
        };
        let mut verify = vec![Verification::Fields { object: r, expect }];
        for rr in &self.answers.reflectors {
            verify.push(Verification::SessionsEstablished { node: rr.clone(), peers: self.session_peers(rr) });
        }
        let mut s = self.step(
            StepKind::DisableMesh,
            "Turn off the node-to-node mesh".into(),
            "Only after every reflector is Established with every node and the switch: clients \
             then learn all routes from the reflectors.",
            vec![change],
        );
        s.verify = verify;
        s.undo = undo.into();
        self.push(s);
    }
}
