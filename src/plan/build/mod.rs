//! answers + facts → ordered steps.
//!
//! The order keeps pod routes flowing at every moment (`calico-bgp.md` §7–8): backend → restart →
//! password → new pool → peers that select no node yet → one route reflector at a time → mesh off →
//! only then encapsulation and NAT off. Parts that are already configured produce no step. Each
//! change's `before` is the object as it will be just before that change runs (the snapshot, with
//! the plan's earlier changes applied), so every change can be undone on its own.
//!
//! This file holds the order ([`build_plan`]) and the `Builder` that tracks the objects as the
//! plan changes them; each group of steps has its own file: `backend` (backend and restart),
//! `password`, `bgp` (peers, route reflectors, mesh) and `pool` (new pool, encapsulation, NAT).

mod backend;
mod bgp;
mod password;
pub(crate) use password::base64;
mod pool;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value, json};

use crate::domain::answers::ValidAnswers;
use crate::domain::facts::ClusterFacts;
use crate::domain::objects::{ObjectRef, ObjectSet};

use super::{Change, Op, Plan, Step, StepKind, Verification};

/// Name of the Role (and RoleBinding) that lets calico-node read the password Secret.
pub const PASSWORD_READER: &str = "calico-bgp-wizard-password-reader";
/// Pod-template annotation `kubectl rollout restart` sets.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";
/// The plan is pure, so the restart time is a placeholder filled in when the step is applied.
pub const RESTARTED_AT_PLACEHOLDER: &str = "<time of apply>";
/// `peerSelector` / `nodeSelector` that picks the route reflectors.
pub const RR_SELECTOR: &str = "route-reflector == 'true'";

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

/// Read-back checks of `changes`: a patch's own fields (a null leaf means "removed" to the check),
/// or a created object's spec.
fn read_back(changes: &[Change]) -> Vec<Verification> {
    changes
        .iter()
        .map(|c| Verification::Fields {
            object: c.object.clone(),
            expect: match &c.op {
                Op::MergePatch(p) => p.clone(),
                _ => json!({"spec": c.after["spec"]}),
            },
        })
        .collect()
}

/// The plan under construction, and the objects as its steps so far leave them.
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
}
