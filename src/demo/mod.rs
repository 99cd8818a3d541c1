//! The embedded demo cluster: a way to try the wizard without a cluster (`--demo`), not a test
//! double.
//!
//! It holds the cluster's objects ([`ObjectSet`]), applies and undoes the plan's [`Change`]s the
//! way the API server would (create, RFC 7386 merge patch, rollout restart), and simulates what
//! follows: calico-node rollouts (pods restart one after another, ~0.4 s each) and the BGP peer
//! table every node's BIRD would show, including a top-of-rack switch at 172.31.13.116 in AS 7675
//! that accepts sessions from route reflectors only.
//!
//! Time is passed in as a [`Duration`] since the demo started: the caller owns the clock, so the
//! simulation is deterministic and tests never sleep.

mod generate;
mod sim;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde_json::json;

use crate::domain::answers::{TargetPool, ValidAnswers, Vendor};
use crate::domain::asn::Asn;
use crate::domain::objects::{Kind, ObjectRef, ObjectSet};
use crate::plan::{Change, Op, UndoOp};
use crate::status::model::PeerRow;

pub use generate::MAX_NODES;

/// The demo's top-of-rack switch. Not a Kubernetes object: the operator types it in the wizard.
pub const SWITCH_IP: Ipv4Addr = Ipv4Addr::new(172, 31, 13, 116);
pub const SWITCH_AS: Asn = Asn(7675);

const EMBEDDED_YAML: &str = include_str!("../../assets/demo-cluster.yaml");
/// The annotation `kubectl rollout restart` sets on the pod template.
const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";
/// The demo's calendar day, for the restart annotation (the wall clock starts at 09:00:00).
const DEMO_DATE: &str = "2025-06-02";

/// An in-memory cluster with simulated rollouts and BGP sessions.
#[derive(Debug, Clone)]
pub struct DemoCluster {
    objects: ObjectSet,
    /// Start times of every rollout restart, per DaemonSet.
    rollouts: BTreeMap<ObjectRef, Vec<Duration>>,
    sim: sim::Sim,
}

impl DemoCluster {
    /// `assets/demo-cluster.yaml`: 3 nodes, Calico v3.23.3 manifest install, BGP backend, IP-in-IP
    /// pool with NAT, node-to-node mesh on. Its sessions appear at `now == 0`.
    pub fn embedded() -> DemoCluster {
        // The asset is compiled in and parsed by a unit test: failing here is a build defect.
        DemoCluster::from_yaml(EMBEDDED_YAML).expect("assets/demo-cluster.yaml is valid")
    }

    /// The embedded cluster's shape with `nodes` nodes (at least 1, at most [`MAX_NODES`]):
    /// `k8s-001`, `k8s-002`, … spread over /24 subnets of 100 nodes (172.31.13.0/24 first, so a
    /// small cluster shares the switch's subnet; from the second subnet on the switch is outside
    /// most nodes' subnets, reached through their gateway) and over zones `zone-a`..`zone-e`;
    /// the first three are control-plane nodes, in different zones. The pool stays
    /// 172.27.208.0/22 up to 60 nodes and grows to hold a /26 block per node beyond that.
    /// Deterministic.
    pub fn generated(nodes: usize) -> DemoCluster {
        DemoCluster::from_objects(generate::objects(nodes))
    }

    /// Multi-document YAML as in `assets/demo-cluster.yaml`: an optional first document
    /// `kind: ClusterMeta` (context, server, kubernetesVersion, serviceCidrs), then objects.
    pub fn from_yaml(text: &str) -> Result<DemoCluster, String> {
        ObjectSet::from_yaml(text).map(DemoCluster::from_objects).map_err(|e| format!("demo cluster: {e}"))
    }

    /// A demo over any objects; their sessions appear at `now == 0`.
    pub fn from_objects(objects: ObjectSet) -> DemoCluster {
        let mut demo = DemoCluster { objects, rollouts: BTreeMap::new(), sim: sim::Sim::default() };
        demo.sync(Duration::ZERO);
        demo
    }

    pub fn objects(&self) -> &ObjectSet {
        &self.objects
    }

    /// The demo's top-of-rack switch: the wizard pre-fills nothing from it, but the peer table
    /// simulates it.
    pub fn switch_ip(&self) -> IpAddr {
        IpAddr::V4(SWITCH_IP)
    }

    pub fn switch_as(&self) -> Asn {
        SWITCH_AS
    }

    /// Apply one change at `now`. Create: the object must not exist yet; MergePatch: it must
    /// exist; Restart: starts a rollout of the DaemonSet.
    pub fn apply(&mut self, change: &Change, now: Duration) -> Result<(), String> {
        let r = &change.object;
        match &change.op {
            Op::Create => {
                if self.objects.get(r).is_some() {
                    return Err(format!("{r} already exists"));
                }
                if ObjectRef::of(&change.after).as_ref() != Some(r) {
                    return Err(format!("cannot create {r}: the object given is not {r}"));
                }
                self.objects.insert(change.after.clone());
            }
            Op::MergePatch(patch) => self.objects.merge_patch(r, patch)?,
            Op::Restart => self.restart(r, now)?,
        }
        self.sync(now);
        Ok(())
    }

    /// Undo one change at `now`, by [`Change::undo`]: delete what was created, patch back what was
    /// patched, restart again what was restarted.
    pub fn undo(&mut self, change: &Change, now: Duration) -> Result<(), String> {
        let r = &change.object;
        match change.undo() {
            UndoOp::Delete => {
                self.objects.remove(r).ok_or_else(|| format!("{r} does not exist"))?;
            }
            UndoOp::MergePatch(patch) => self.objects.merge_patch(r, &patch)?,
            UndoOp::Restart => self.restart(r, now)?,
        }
        self.sync(now);
        Ok(())
    }

    /// A DaemonSet's rollout at `now`: (pods updated and ready, pods desired). Desired is the node
    /// count; after a restart the pods come back one after another, ~0.4 s each. (0, 0) when the
    /// DaemonSet does not exist.
    pub fn rollout(&self, ds: &ObjectRef, now: Duration) -> (usize, usize) {
        if self.objects.get(ds).is_none() {
            return (0, 0);
        }
        let desired = self.objects.list(Kind::Node).count();
        let latest = self.rollouts.get(ds).and_then(|rs| rs.iter().filter(|r| **r <= now).max());
        match latest {
            None => (desired, desired),
            Some(r) => {
                let done = now.saturating_sub(*r).as_millis() / sim::POD_RESTART.as_millis();
                (usize::try_from(done).unwrap_or(usize::MAX).min(desired), desired)
            }
        }
    }

    /// Every node's BGP peers at `now`, as `calicoctl node status` would show them, in (node,
    /// peer address) order. No rows at all while the backend is not `bird`.
    pub fn peer_rows(&self, now: Duration) -> Vec<PeerRow> {
        let rollouts = self.sim.calico_node.as_ref().and_then(|r| self.rollouts.get(r));
        self.sim.rows(now, rollouts.map_or(&[][..], Vec::as_slice))
    }

    fn restart(&mut self, ds: &ObjectRef, now: Duration) -> Result<(), String> {
        if ds.kind != Kind::DaemonSet {
            return Err(format!("cannot restart {ds}: only DaemonSets are restarted"));
        }
        let stamp = format!("{DEMO_DATE}T{}Z", sim::wall_clock(now));
        let patch = json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}});
        self.objects.merge_patch(ds, &patch)?;
        self.rollouts.entry(ds.clone()).or_default().push(now);
        Ok(())
    }

    fn sync(&mut self, now: Duration) {
        let switch = sim::Switch { ip: self.switch_ip(), asn: self.switch_as() };
        self.sim.sync(&self.objects, switch, now);
    }
}

/// The answers of the README's demo walkthrough; tests and examples start from them.
///
/// Reflectors k8s-1 and k8s-2 with cluster ID 244.0.0.1, the demo switch in AS 7675, cluster AS
/// 64512, no password, keepOriginalNextHop on, the existing pool `default-ipv4-ippool`
/// (172.27.208.0/22, blocks of /26), Cisco IOS.
pub fn walkthrough_answers() -> ValidAnswers {
    ValidAnswers {
        reflectors: vec!["k8s-1".into(), "k8s-2".into()],
        cluster_id: Ipv4Addr::new(244, 0, 0, 1),
        switch_ip: IpAddr::V4(SWITCH_IP),
        switch_as: SWITCH_AS,
        cluster_as: Asn(64512),
        password: None,
        keep_original_next_hop: true,
        pool: TargetPool {
            name: "default-ipv4-ippool".into(),
            cidr: "172.27.208.0/22".parse().expect("a valid CIDR"),
            block_size: 26,
            exists: true,
        },
        vendor: Vendor::CiscoIos,
    }
}

#[cfg(test)]
mod tests;
