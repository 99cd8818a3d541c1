//! The target pool: created clean when new (before the peers), and at the very end its
//! encapsulation and outgoing NAT turned off, in the IPPool and, on operator installs, in the
//! Installation's `spec.calicoNetwork.ipPools` entry.

use serde_json::{Map, Value, json};

use super::{Builder, read_back, sentence};
use crate::domain::facts::{EncapMode, InstallKind};
use crate::domain::objects::{Kind, ObjectRef};
use crate::plan::{Change, Op, StepKind, Verification};

impl Builder<'_> {
    // 2b. New pool -------------------------------------------------------------------------------

    pub(super) fn create_pool(&mut self) {
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
        let mut verify = read_back(&changes);
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

    pub(super) fn pool_encapsulation(&mut self) {
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

    pub(super) fn pool_nat_outgoing(&mut self) {
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
