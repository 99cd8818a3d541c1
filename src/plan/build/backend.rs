//! Step 1: switch calico-node to the bird backend (ConfigMap or Installation) and restart it.

use serde_json::{Value, json};

use super::{Builder, RESTARTED_AT, RESTARTED_AT_PLACEHOLDER};
use crate::domain::facts::{Backend, InstallKind};
use crate::domain::objects::{Kind, ObjectRef};
use crate::plan::{Op, StepKind, Verification};

impl Builder<'_> {
    pub(super) fn backend(&mut self) {
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
}
