//! answers + facts → ordered steps.
//!
//! The order keeps pod routes flowing at every moment (`calico-bgp.md` §7–8): backend → restart →
//! password → new pool → peers that select no node yet → one route reflector at a time → mesh off →
//! only then encapsulation and NAT off. Parts that are already configured produce no step. Each
//! change's `before` is the object as it will be just before that change runs (the snapshot, with
//! the plan's earlier changes applied), so every change can be undone on its own.

use std::net::IpAddr;

use serde_json::{Map, Value, json};

use crate::domain::answers::ValidAnswers;
use crate::domain::facts::{ANN_RR_CLUSTER_ID, Backend, ClusterFacts, DEFAULT_AS, EncapMode, InstallKind, LABEL_RR};
use crate::domain::objects::{Kind, ObjectRef, ObjectSet};

use super::{
    Change, Op, PASSWORD_KEY, PASSWORD_SECRET, PEER_TO_RRS, PEER_TO_SWITCH, Plan, Step, StepKind, Verification,
};

/// Name of the Role (and RoleBinding) that lets calico-node read the password Secret.
pub const PASSWORD_READER: &str = "calico-bgp-wizard-password-reader";
/// Pod-template annotation `kubectl rollout restart` sets.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";
/// The plan is pure, so the restart time is a placeholder filled in when the step is applied.
pub const RESTARTED_AT_PLACEHOLDER: &str = "<time of apply>";
/// `peerSelector` / `nodeSelector` that picks the route reflectors.
pub const RR_SELECTOR: &str = "route-reflector == 'true'";

/// BGPPeer spec keys the wizard owns: a key set on an existing peer but not wanted is removed.
const PEER_OWNED_KEYS: [&str; 7] =
    ["node", "nodeSelector", "peerIP", "asNumber", "peerSelector", "keepOriginalNextHop", "password"];

/// Build the ordered plan. `objects` is the snapshot `facts` came from (for each change's `before`).
pub fn build_plan(answers: &ValidAnswers, facts: &ClusterFacts, objects: &ObjectSet) -> Plan {
    let mut b = Builder { answers, facts, cur: objects.clone(), steps: Vec::new(), notes: Vec::new() };
    b.backend();
    b.password();
    b.create_pool();
    b.peers();
    for node in &answers.reflectors {
        b.promote(node);
    }
    b.disable_mesh();
    b.pool_encapsulation();
    b.pool_nat_outgoing();
    if b.steps.is_empty() {
        let rrs = answers.reflectors.join(", ");
        b.notes.insert(
            0,
            format!(
                "Nothing to do: this cluster is already configured (route reflectors {rrs} with \
                 cluster ID {}, BGP peers to {} AS {}, node-to-node mesh off, pool {} without \
                 encapsulation or outgoing NAT).",
                answers.cluster_id, answers.switch_ip, answers.switch_as, answers.pool.name
            ),
        );
    }
    let cidr = answers.pool.cidr.trunc();
    let client_route = match cidr {
        ipnet::IpNet::V4(_) => format!("ip route add {cidr} via {}", answers.switch_ip),
        ipnet::IpNet::V6(_) => format!("ip -6 route add {cidr} via {}", answers.switch_ip),
    };
    Plan { answers: answers.clone(), steps: b.steps, notes: b.notes, client_route }
}

/// The calicoctl-style `projectcalico.org/v3` form of a stored Calico object: metadata is only the
/// name, the spec as stored. None for other kinds.
pub fn v3_of(obj: &Value) -> Option<Value> {
    let r = ObjectRef::of(obj)?;
    if !r.kind.is_calico() {
        return None;
    }
    Some(json!({
        "apiVersion": "projectcalico.org/v3",
        "kind": r.kind.kind_name(),
        "metadata": {"name": r.name},
        "spec": obj.get("spec").cloned().unwrap_or_else(|| json!({})),
    }))
}

/// The merge patch that turns `existing` into something containing every leaf of `desired`
/// (objects are compared key by key, anything else whole). None when nothing differs.
pub fn diff_patch(existing: &Value, desired: &Value) -> Option<Value> {
    match (existing, desired) {
        (Value::Object(e), Value::Object(d)) => {
            let mut out = Map::new();
            for (k, dv) in d {
                match e.get(k) {
                    Some(ev) => {
                        if let Some(p) = diff_patch(ev, dv) {
                            out.insert(k.clone(), p);
                        }
                    }
                    None => {
                        out.insert(k.clone(), dv.clone());
                    }
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        _ => (existing != desired).then(|| desired.clone()),
    }
}

/// `text` with its first letter upper-case and a final full stop.
fn sentence(text: &str) -> String {
    let mut c = text.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

/// Standard base64 (RFC 4648, padded), for a Secret's `data`.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Index of the Installation's `spec.calicoNetwork.ipPools` entry whose CIDR is `cidr`.
fn installation_pool_index(inst: &Value, cidr: ipnet::IpNet) -> Option<usize> {
    let want = cidr.trunc();
    inst.pointer("/spec/calicoNetwork/ipPools")?.as_array()?.iter().position(|p| {
        p.get("cidr")
            .and_then(Value::as_str)
            .and_then(|c| c.parse::<ipnet::IpNet>().ok())
            .is_some_and(|c| c.trunc() == want)
    })
}

struct Builder<'a> {
    answers: &'a ValidAnswers,
    facts: &'a ClusterFacts,
    /// The objects as they will be once the steps so far have run.
    cur: ObjectSet,
    steps: Vec<Step>,
    notes: Vec<String>,
}

impl Builder<'_> {
    fn ns(&self) -> &str {
        &self.facts.calico_namespace
    }

    fn change(&mut self, r: ObjectRef, op: Op, before: Option<Value>, after: Value) -> Change {
        self.cur.insert(after.clone());
        Change { v3: v3_of(&after), object: r, op, before, after }
    }

    fn create(&mut self, after: Value) -> Change {
        let r = ObjectRef::of(&after).expect("the planner builds objects with a known kind");
        let before = self.cur.get(&r).cloned();
        self.change(r, Op::Create, before, after)
    }

    /// A merge patch of an object that exists (None when it does not).
    fn patch(&mut self, r: &ObjectRef, patch: Value) -> Option<Change> {
        let before = self.cur.get(r)?.clone();
        let mut after = before.clone();
        json_patch::merge(&mut after, &patch);
        Some(self.change(r.clone(), Op::MergePatch(patch), Some(before), after))
    }

    /// Create `desired`, or patch the existing object so it contains `desired`; None when it
    /// already does.
    fn ensure(&mut self, desired: Value) -> Option<Change> {
        let r = ObjectRef::of(&desired)?;
        match self.cur.get(&r) {
            None => Some(self.create(desired)),
            Some(existing) => {
                let p = diff_patch(existing, &desired)?;
                self.patch(&r, p)
            }
        }
    }

    fn step(&self, kind: StepKind, title: String, why: &str, changes: Vec<Change>) -> Step {
        Step { kind, title, why: why.to_string(), changes, verify: Vec::new(), undo: String::new() }
    }

    fn push(&mut self, s: Step) {
        self.steps.push(s);
    }

    // 1. Backend ---------------------------------------------------------------------------------

    fn backend(&mut self) {
        if self.facts.backend == Backend::Bird {
            return;
        }
        let was = self.facts.backend.label();
        let (change, undo) = match self.facts.install {
            InstallKind::Manifest => {
                let r = ObjectRef::namespaced(Kind::ConfigMap, "kube-system", "calico-config");
                let old = self
                    .cur
                    .get(&r)
                    .and_then(|c| c.pointer("/data/calico_backend"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let c = self.patch(&r, json!({"data": {"calico_backend": "bird"}}));
                let undo = if old.is_empty() {
                    "Remove calico_backend from ConfigMap kube-system/calico-config again.".into()
                } else {
                    format!("Set calico_backend back to {old} in ConfigMap kube-system/calico-config.")
                };
                (c, undo)
            }
            InstallKind::Operator => {
                let r = ObjectRef::cluster(Kind::Installation, "default");
                let old =
                    self.facts.installation.as_ref().and_then(|i| i.bgp.clone()).unwrap_or_else(|| "unset".into());
                let c = self.patch(&r, json!({"spec": {"calicoNetwork": {"bgp": "Enabled"}}}));
                (c, format!("Set spec.calicoNetwork.bgp back to {old} in Installation default."))
            }
            InstallKind::Unknown => (None, String::new()),
        };
        let Some(change) = change else {
            self.notes.push(format!(
                "The backend is {was}, but neither ConfigMap kube-system/calico-config nor \
                 Installation default was found: switch calico-node to the bird backend by hand."
            ));
            return;
        };
        if self.facts.install == InstallKind::Manifest && self.facts.backend == Backend::Vxlan {
            self.notes.push(
                "The VXLAN manifest's calico-node probes check only Felix: add -bird-live and \
                 -bird-ready to its liveness and readiness probes (as in calico.yaml) so a node \
                 without BGP sessions shows NotReady."
                    .into(),
            );
        }
        let expect = match &change.op {
            Op::MergePatch(p) => p.clone(),
            _ => Value::Null,
        };
        let object = change.object.clone();
        let mut s = self.step(
            StepKind::SetBackend,
            "Switch calico-node to the BGP backend (bird)".into(),
            &format!(
                "Only bird speaks BGP (the backend is {was} now); every later step needs it, so it \
                 comes first."
            ),
            vec![change],
        );
        s.verify.push(Verification::Fields { object, expect });
        s.undo = undo;
        self.push(s);
        self.restart();
    }

    fn restart(&mut self) {
        let r = ObjectRef::namespaced(Kind::DaemonSet, self.ns().to_string(), "calico-node");
        let mut changes = Vec::new();
        if let Some(before) = self.cur.get(&r).cloned() {
            let mut after = before.clone();
            json_patch::merge(
                &mut after,
                &json!({"spec": {"template": {"metadata": {"annotations": {
                    RESTARTED_AT: RESTARTED_AT_PLACEHOLDER
                }}}}}),
            );
            changes.push(self.change(r.clone(), Op::Restart, Some(before), after));
        } else {
            self.notes.push(format!(
                "DaemonSet {}/calico-node was not found: restart calico-node by hand after the \
                 backend change.",
                self.ns()
            ));
        }
        if self.facts.install == InstallKind::Operator {
            self.notes.push(
                "Operator install: the operator also rolls calico-node when spec.calicoNetwork.bgp \
                 changes; the plan restarts it explicitly and waits for the rollout either way."
                    .into(),
            );
        }
        let mut s = self.step(
            StepKind::RestartCalicoNode,
            "Restart calico-node and wait for the rollout".into(),
            "calico-node reads the backend only when it starts; bird and confd must run on every \
             node before any BGP object is created.",
            changes,
        );
        s.verify.push(Verification::Rollout { object: r });
        s.undo = "Once the backend setting is put back (the previous step's undo), restart \
                  calico-node again so it takes effect."
            .into();
        self.push(s);
    }

    // 2. Password --------------------------------------------------------------------------------

    fn password(&mut self) {
        let Some(pw) = self.answers.password.clone() else {
            return;
        };
        let ns = self.ns().to_string();
        let mut changes = Vec::new();
        let secret_ref = ObjectRef::namespaced(Kind::Secret, ns.clone(), PASSWORD_SECRET);
        let encoded = base64(pw.0.as_bytes());
        match self.cur.get(&secret_ref) {
            None => changes.push(self.create(json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": PASSWORD_SECRET, "namespace": ns},
                "type": "Opaque",
                "stringData": {PASSWORD_KEY: pw.0},
            }))),
            Some(existing) => {
                if existing.pointer(&format!("/data/{PASSWORD_KEY}")).and_then(Value::as_str) != Some(encoded.as_str())
                {
                    changes.extend(self.patch(&secret_ref, json!({"data": {PASSWORD_KEY: encoded}})));
                }
            }
        }
        let role = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": PASSWORD_READER, "namespace": ns},
            "rules": [{
                "apiGroups": [""],
                "resources": ["secrets"],
                "resourceNames": [PASSWORD_SECRET],
                "verbs": ["get", "list", "watch"],
            }],
        });
        let binding = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": PASSWORD_READER, "namespace": ns},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": PASSWORD_READER,
            },
            "subjects": [{"kind": "ServiceAccount", "name": "calico-node", "namespace": ns}],
        });
        changes.extend(self.ensure(role));
        changes.extend(self.ensure(binding));
        if changes.is_empty() {
            self.notes.push(format!(
                "Secret {ns}/{PASSWORD_SECRET} already holds this password and calico-node may \
                 read it."
            ));
            return;
        }
        let verify = changes
            .iter()
            .map(|c| Verification::Fields {
                object: c.object.clone(),
                expect: match c.object.kind {
                    // Never the password itself: verifications are shown and saved in clear.
                    Kind::Secret => json!({"type": "Opaque"}),
                    Kind::Role => json!({"rules": c.after["rules"]}),
                    _ => json!({"roleRef": c.after["roleRef"], "subjects": c.after["subjects"]}),
                },
            })
            .collect();
        let undo = if changes.iter().all(|c| c.op == Op::Create) {
            format!("Delete Secret, Role and RoleBinding in {ns} (nothing uses them yet).")
        } else {
            "Delete what was created and put the previous password / RBAC back.".into()
        };
        let mut s = self.step(
            StepKind::CreatePasswordSecret,
            format!("Store the BGP password in Secret {ns}/{PASSWORD_SECRET}"),
            "The Secret and the RBAC letting calico-node read it must exist before rr-peer refers \
             to them.",
            changes,
        );
        s.verify = verify;
        s.undo = undo;
        self.push(s);
    }

    // 2b. New pool -------------------------------------------------------------------------------

    fn create_pool(&mut self) {
        let pool = &self.answers.pool;
        if pool.exists {
            return;
        }
        let cidr = pool.cidr.trunc();
        let obj = json!({
            "apiVersion": Kind::IpPool.api_version(),
            "kind": "IPPool",
            "metadata": {"name": pool.name},
            "spec": {
                "cidr": cidr.to_string(),
                "blockSize": pool.block_size,
                "ipipMode": "Never",
                "vxlanMode": "Never",
                "natOutgoing": false,
                "nodeSelector": "all()",
            },
        });
        let name = pool.name.clone();
        let change = self.create(obj);
        let object = change.object.clone();
        let expect = json!({"spec": change.after["spec"]});
        let mut s = self.step(
            StepKind::CreatePool,
            format!("Create IPPool {name} ({cidr}) without encapsulation or NAT"),
            "Nothing allocates from the pool until pods are created, so it can exist before BGP is \
             switched.",
            vec![change],
        );
        s.verify.push(Verification::Fields { object, expect });
        s.undo = format!("Delete IPPool {name} (only while no pod has an address from it).");
        self.notes.push(format!(
            "IPPool {name} ({cidr}) is new: running pods keep their addresses from the other \
             pools until they are re-created; disable the old pools (spec.disabled: true) to move \
             new pods to {cidr}."
        ));
        self.push(s);
    }

    // 3. Peers -----------------------------------------------------------------------------------

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

    fn peers(&mut self) {
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
        let verify = changes
            .iter()
            .map(|c| Verification::Fields {
                object: c.object.clone(),
                expect: match &c.op {
                    // A null leaf means "removed" to the read-back check.
                    Op::MergePatch(p) => p.clone(),
                    _ => json!({"spec": c.after["spec"]}),
                },
            })
            .collect();
        let undo = changes
            .iter()
            .map(|c| match c.op {
                Op::Create => format!("delete BGPPeer {}", c.object.name),
                _ => format!("restore the previous spec of BGPPeer {}", c.object.name),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let any_rr = self.facts.nodes.iter().any(|n| n.labels.get(LABEL_RR).map(String::as_str) == Some("true"));
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

    fn promote(&mut self, name: &str) {
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

    fn disable_mesh(&mut self) {
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

    // 6. Pool ------------------------------------------------------------------------------------

    /// Index of the Installation's `ipPools` entry for the target pool, with the array.
    fn installation_pool(&self) -> Option<(usize, Vec<Value>)> {
        if self.facts.install != InstallKind::Operator {
            return None;
        }
        let inst = self.cur.get(&ObjectRef::cluster(Kind::Installation, "default"))?;
        let i = installation_pool_index(inst, self.answers.pool.cidr)?;
        let pools = inst.pointer("/spec/calicoNetwork/ipPools")?.as_array()?.clone();
        Some((i, pools))
    }

    /// Change field `key` of the Installation pool entry to `value` unless it is already so
    /// (`default` is the operator's value when the field is unset).
    fn installation_pool_change(&mut self, key: &str, value: &str, default: &str) -> Option<Change> {
        let (i, mut pools) = self.installation_pool()?;
        let old = pools[i].get(key).and_then(Value::as_str).unwrap_or(default);
        if old == value {
            return None;
        }
        pools[i][key] = json!(value);
        let r = ObjectRef::cluster(Kind::Installation, "default");
        self.patch(&r, json!({"spec": {"calicoNetwork": {"ipPools": pools}}}))
    }

    fn operator_pool_note(&mut self) {
        let note = "Operator install: the plan edits both the Installation's \
                    spec.calicoNetwork.ipPools entry and the IPPool. Operator v1.34+ (Calico \
                    v3.28+) reconciles pools from the Installation and reverts direct IPPool \
                    edits; older operators use the Installation only to create missing pools, so \
                    there the IPPool edit is what takes effect. Either way the Installation edit \
                    re-renders calico-node, which rolls out again.";
        if !self.notes.iter().any(|n| n == note) {
            self.notes.push(note.into());
        }
    }

    fn pool_step(&mut self, kind: StepKind, title: String, why: &str, changes: Vec<Change>) {
        let mut verify: Vec<Verification> = changes
            .iter()
            .map(|c| Verification::Fields {
                object: c.object.clone(),
                expect: match &c.op {
                    // A null leaf means "removed" to the read-back check.
                    Op::MergePatch(p) => p.clone(),
                    _ => json!({"spec": c.after["spec"]}),
                },
            })
            .collect();
        let operator = changes.iter().any(|c| c.object.kind == Kind::Installation);
        if operator {
            self.operator_pool_note();
            verify.push(Verification::Rollout {
                object: ObjectRef::namespaced(Kind::DaemonSet, self.ns().to_string(), "calico-node"),
            });
        }
        let undo = changes
            .iter()
            .filter_map(|c| {
                let Op::MergePatch(p) = &c.op else {
                    return None;
                };
                let b = c.before.as_ref()?;
                let fields = if c.object.kind == Kind::Installation {
                    let i = installation_pool_index(b, self.answers.pool.cidr)?;
                    let entry = &b["spec"]["calicoNetwork"]["ipPools"][i];
                    let key = if kind == StepKind::PoolEncapsulation { "encapsulation" } else { "natOutgoing" };
                    format!("{key} back to {}", entry.get(key).unwrap_or(&json!("unset")))
                } else {
                    p["spec"]
                        .as_object()?
                        .keys()
                        .map(|k| format!("{k} back to {}", b["spec"].get(k).unwrap_or(&json!("unset"))))
                        .collect::<Vec<_>>()
                        .join(" and ")
                };
                Some(format!("set {fields} in {}", c.object))
            })
            .collect::<Vec<_>>()
            .join("; ");
        let mut s = self.step(kind, title, why, changes);
        s.verify = verify;
        s.undo = sentence(&undo.replace('"', ""));
        self.push(s);
    }

    fn pool_encapsulation(&mut self) {
        let name = self.answers.pool.name.clone();
        let Some(pool) = self.facts.pool(&name).filter(|_| self.answers.pool.exists) else {
            return;
        };
        let mut changes = Vec::new();
        changes.extend(self.installation_pool_change("encapsulation", "None", "IPIP"));
        let mut spec = Map::new();
        if pool.ipip_mode != EncapMode::Never {
            spec.insert("ipipMode".into(), json!("Never"));
        }
        if pool.vxlan_mode != EncapMode::Never {
            spec.insert("vxlanMode".into(), json!("Never"));
        }
        if !spec.is_empty() {
            let r = ObjectRef::cluster(Kind::IpPool, name.clone());
            changes.extend(self.patch(&r, json!({"spec": spec})));
        }
        if changes.is_empty() {
            self.notes.push(format!("IPPool {name} already has no encapsulation."));
            return;
        }
        self.pool_step(
            StepKind::PoolEncapsulation,
            format!("Turn off encapsulation on IPPool {name}"),
            "Only once the mesh is off and the reflectors carry every route: pod traffic then \
             crosses the network unencapsulated, routed by BGP.",
            changes,
        );
    }

    fn pool_nat_outgoing(&mut self) {
        let name = self.answers.pool.name.clone();
        let Some(pool) = self.facts.pool(&name).filter(|_| self.answers.pool.exists) else {
            return;
        };
        let mut changes = Vec::new();
        changes.extend(self.installation_pool_change("natOutgoing", "Disabled", "Enabled"));
        if pool.nat_outgoing {
            let r = ObjectRef::cluster(Kind::IpPool, name.clone());
            changes.extend(self.patch(&r, json!({"spec": {"natOutgoing": false}})));
        }
        if changes.is_empty() {
            self.notes.push(format!("IPPool {name} already has outgoing NAT off."));
            return;
        }
        self.pool_step(
            StepKind::PoolNatOutgoing,
            format!("Turn off outgoing NAT on IPPool {name}"),
            "Last: pod source addresses then reach the network unchanged, which works only once \
             the switch routes the pool back to the nodes.",
            changes,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::answers::{Password, TargetPool, Vendor};
    use crate::domain::asn::Asn;
    use crate::domain::facts::detect;
    use crate::domain::objects::parse_yaml_objects;
    use crate::plan::UndoOp;

    fn demo() -> ObjectSet {
        let mut set = ObjectSet::default();
        for o in parse_yaml_objects(include_str!("../../assets/demo-cluster.yaml")).unwrap() {
            set.insert(o);
        }
        set
    }

    fn answers() -> ValidAnswers {
        ValidAnswers {
            reflectors: vec!["k8s-1".into(), "k8s-2".into()],
            cluster_id: "244.0.0.1".parse().unwrap(),
            switch_ip: "172.31.13.116".parse().unwrap(),
            switch_as: Asn(7675),
            cluster_as: Asn(64512),
            password: None,
            keep_original_next_hop: true,
            pool: TargetPool {
                name: "default-ipv4-ippool".into(),
                cidr: "172.27.208.0/22".parse().unwrap(),
                block_size: 26,
                exists: true,
            },
            vendor: Vendor::CiscoIos,
        }
    }

    fn plan_for(set: &ObjectSet, a: &ValidAnswers) -> Plan {
        build_plan(a, &detect(set), set)
    }

    fn kinds(p: &Plan) -> Vec<StepKind> {
        p.steps.iter().map(|s| s.kind.clone()).collect()
    }

    fn pos(p: &Plan, f: impl Fn(&StepKind) -> bool) -> Vec<usize> {
        p.steps.iter().enumerate().filter(|(_, s)| f(&s.kind)).map(|(i, _)| i).collect()
    }

    /// Apply every change of `plan` to `set` in order.
    fn apply(set: &mut ObjectSet, plan: &Plan) {
        for c in plan.steps.iter().flat_map(|s| &s.changes) {
            match &c.op {
                Op::Create | Op::Restart => {
                    set.insert(c.after.clone());
                }
                Op::MergePatch(p) => set.merge_patch(&c.object, p).unwrap(),
            }
        }
    }

    fn assert_order(p: &Plan) {
        let promote = pos(p, |k| matches!(k, StepKind::PromoteReflector { .. }));
        let mesh = pos(p, |k| *k == StepKind::DisableMesh);
        let peers = pos(p, |k| *k == StepKind::CreatePeers);
        let pool = pos(p, |k| matches!(k, StepKind::PoolEncapsulation | StepKind::PoolNatOutgoing));
        let backend = pos(p, |k| matches!(k, StepKind::SetBackend | StepKind::RestartCalicoNode));
        for &m in &mesh {
            assert!(promote.iter().all(|&r| r < m), "mesh off before a reflector");
        }
        for &pl in &pool {
            assert!(mesh.iter().all(|&m| m < pl), "pool change before mesh off");
        }
        for &pe in &peers {
            assert!(promote.iter().all(|&r| pe < r), "reflector before peers");
        }
        for &b in &backend {
            assert!(peers.iter().chain(&promote).all(|&x| b < x), "backend late");
        }
    }

    #[test]
    fn demo_order() {
        let p = plan_for(&demo(), &answers());
        assert_eq!(
            kinds(&p),
            vec![
                StepKind::CreatePeers,
                StepKind::PromoteReflector { node: "k8s-1".into() },
                StepKind::PromoteReflector { node: "k8s-2".into() },
                StepKind::DisableMesh,
                StepKind::PoolEncapsulation,
                StepKind::PoolNatOutgoing,
            ]
        );
        assert_order(&p);
        assert_eq!(p.client_route, "ip route add 172.27.208.0/22 via 172.31.13.116");
        let rr1 = &p.steps[1];
        assert_eq!(rr1.changes.len(), 1);
        let Verification::SessionsEstablished { peers, .. } = &rr1.verify[1] else { panic!("sessions") };
        let want: Vec<IpAddr> =
            ["172.31.13.28", "172.31.13.29", "172.31.13.116"].iter().map(|s| s.parse().unwrap()).collect();
        assert_eq!(peers, &want);
    }

    #[test]
    fn vxlan_backend_and_password_order() {
        let mut set = demo();
        let cm = ObjectRef::namespaced(Kind::ConfigMap, "kube-system", "calico-config");
        set.merge_patch(&cm, &json!({"data": {"calico_backend": "vxlan"}})).unwrap();
        let mut a = answers();
        a.password = Some(Password("s3cret".into()));
        a.pool.exists = false;
        a.pool.name = "bgp-pool".into();
        a.pool.cidr = "10.244.0.0/16".parse().unwrap();
        let p = plan_for(&set, &a);
        assert_order(&p);
        assert_eq!(p.steps[0].kind, StepKind::SetBackend);
        assert_eq!(p.steps[1].kind, StepKind::RestartCalicoNode);
        assert_eq!(p.steps[1].changes[0].op, Op::Restart);
        assert_eq!(p.steps[2].kind, StepKind::CreatePasswordSecret);
        assert_eq!(p.steps[3].kind, StepKind::CreatePool);
        assert_eq!(p.steps[4].kind, StepKind::CreatePeers);
        // The new pool is created clean, so no pool step follows.
        assert!(pos(&p, |k| *k == StepKind::PoolEncapsulation).is_empty());
        let rr_peer = &p.steps[4].changes[1].after;
        assert_eq!(rr_peer["spec"]["password"]["secretKeyRef"]["name"], PASSWORD_SECRET);
        assert_eq!(base64(b"s3cret"), "czNjcmV0");
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn applied_plan_leaves_nothing_to_do() {
        let mut set = demo();
        let a = answers();
        let p = plan_for(&set, &a);
        apply(&mut set, &p);
        let again = plan_for(&set, &a);
        assert!(again.is_empty(), "{:#?}", again.steps);
        assert!(again.notes[0].starts_with("Nothing to do"));
    }

    #[test]
    fn configured_reflector_is_skipped() {
        let mut set = demo();
        let node = ObjectRef::cluster(Kind::Node, "k8s-1");
        set.merge_patch(
            &node,
            &json!({"metadata": {"annotations": {ANN_RR_CLUSTER_ID: "244.0.0.1"},
                    "labels": {LABEL_RR: "true"}}}),
        )
        .unwrap();
        let p = plan_for(&set, &answers());
        let promoted = pos(&p, |k| matches!(k, StepKind::PromoteReflector { .. }));
        assert_eq!(promoted.len(), 1);
        assert_eq!(p.steps[promoted[0]].kind, StepKind::PromoteReflector { node: "k8s-2".into() });
        assert!(p.notes.iter().any(|n| n.contains("k8s-1 is already")));
    }

    #[test]
    fn peer_with_different_spec_is_patched_and_same_is_skipped() {
        let mut set = demo();
        set.insert(json!({
            "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
            "metadata": {"name": PEER_TO_RRS},
            "spec": {"nodeSelector": "all()", "peerSelector": RR_SELECTOR},
        }));
        set.insert(json!({
            "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
            "metadata": {"name": PEER_TO_SWITCH},
            "spec": {"nodeSelector": RR_SELECTOR, "peerIP": "172.31.13.1", "asNumber": "7675",
                     "node": "k8s-9", "sourceAddress": "UseNodeIP"},
        }));
        let p = plan_for(&set, &answers());
        let peers = &p.steps[0];
        assert_eq!(peers.kind, StepKind::CreatePeers);
        assert_eq!(peers.changes.len(), 1);
        assert_eq!(
            peers.changes[0].op,
            Op::MergePatch(json!({"spec": {
                "peerIP": "172.31.13.116", "keepOriginalNextHop": true, "node": null,
            }}))
        );
        assert_eq!(peers.changes[0].after["spec"]["sourceAddress"], "UseNodeIP");
        assert!(p.notes.iter().any(|n| n.contains("BGPPeer peer-with-route-reflectors already")));
    }

    #[test]
    fn existing_bgp_configuration_keeps_its_as() {
        let mut set = demo();
        set.insert(json!({
            "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPConfiguration",
            "metadata": {"name": "default"},
            "spec": {"asNumber": 65010, "logSeverityScreen": "Info"},
        }));
        let mut a = answers();
        a.cluster_as = Asn(65010);
        let p = plan_for(&set, &a);
        let mesh = p.steps.iter().find(|s| s.kind == StepKind::DisableMesh).unwrap();
        assert_eq!(mesh.changes[0].op, Op::MergePatch(json!({"spec": {"nodeToNodeMeshEnabled": false}})));
        assert!(p.notes.iter().any(|n| n.contains("AS 65010")));
        // Without an AS, a non-default cluster AS is written.
        set.insert(json!({
            "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPConfiguration",
            "metadata": {"name": "default"}, "spec": {"nodeToNodeMeshEnabled": true},
        }));
        let p = plan_for(&set, &a);
        let mesh = p.steps.iter().find(|s| s.kind == StepKind::DisableMesh).unwrap();
        assert_eq!(
            mesh.changes[0].op,
            Op::MergePatch(json!({"spec": {"nodeToNodeMeshEnabled": false, "asNumber": 65010}}))
        );
    }

    #[test]
    fn every_undo_restores_before() {
        let mut set = demo();
        let cm = ObjectRef::namespaced(Kind::ConfigMap, "kube-system", "calico-config");
        set.merge_patch(&cm, &json!({"data": {"calico_backend": "vxlan"}})).unwrap();
        set.insert(json!({
            "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
            "metadata": {"name": PEER_TO_SWITCH},
            "spec": {"nodeSelector": RR_SELECTOR, "peerIP": "172.31.13.1", "node": "k8s-9"},
        }));
        let mut a = answers();
        a.password = Some(Password("pw".into()));
        let p = plan_for(&set, &a);
        let mut n = 0;
        for c in p.steps.iter().flat_map(|s| &s.changes) {
            let mut obj = c.before.clone().unwrap_or(Value::Null);
            match &c.op {
                Op::MergePatch(patch) => json_patch::merge(&mut obj, patch),
                Op::Create | Op::Restart => obj = c.after.clone(),
            }
            assert_eq!(obj, c.after, "after of {}", c.object);
            match c.undo() {
                UndoOp::MergePatch(inv) => {
                    json_patch::merge(&mut obj, &inv);
                    assert_eq!(Some(&obj), c.before.as_ref(), "undo of {}", c.object);
                    n += 1;
                }
                UndoOp::Delete => assert!(c.before.is_none(), "delete of {}", c.object),
                UndoOp::Restart => assert_eq!(c.op, Op::Restart),
            }
        }
        assert!(n >= 6, "only {n} patches checked");
    }

    #[test]
    fn operator_pool_patch_writes_whole_array() {
        let mut set = demo();
        set.remove(&ObjectRef::namespaced(Kind::ConfigMap, "kube-system", "calico-config"));
        set.insert(json!({
            "apiVersion": "operator.tigera.io/v1", "kind": "Installation",
            "metadata": {"name": "default"},
            "spec": {"calicoNetwork": {"bgp": "Enabled", "ipPools": [
                {"cidr": "10.9.0.0/16", "encapsulation": "VXLAN"},
                {"cidr": "172.27.208.0/22", "encapsulation": "IPIP", "natOutgoing": "Enabled",
                 "blockSize": 26},
            ]}},
        }));
        let p = plan_for(&set, &answers());
        assert_order(&p);
        let enc = p.steps.iter().find(|s| s.kind == StepKind::PoolEncapsulation).unwrap();
        let nat = p.steps.iter().find(|s| s.kind == StepKind::PoolNatOutgoing).unwrap();
        let Op::MergePatch(pe) = &enc.changes[0].op else { panic!() };
        let pools = &pe["spec"]["calicoNetwork"]["ipPools"];
        assert_eq!(pools[0]["encapsulation"], "VXLAN");
        assert_eq!(pools[1]["encapsulation"], "None");
        assert_eq!(pools[1]["natOutgoing"], "Enabled");
        let Op::MergePatch(pn) = &nat.changes[0].op else { panic!() };
        assert_eq!(pn["spec"]["calicoNetwork"]["ipPools"][1]["encapsulation"], "None");
        assert_eq!(pn["spec"]["calicoNetwork"]["ipPools"][1]["natOutgoing"], "Disabled");
        assert_eq!(enc.changes[1].object.kind, Kind::IpPool);
        assert!(p.notes.iter().any(|n| n.contains("v1.34")));
    }
}
