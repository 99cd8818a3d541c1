//! The plan: validated answers + cluster facts → ordered [`Step`]s. Pure.
//!
//! Steps are values: the Preview screen renders exactly the plan the Apply screen executes. Each
//! step says what it changes ([`Change`], with the object as it was before), why, how the change is
//! verified ([`Verification`]) and how it is undone (every change carries what restores it).
//!
//! Order keeps pod routes flowing at every moment (see `calico-bgp.md` §7–8): backend → peers that
//! select nothing yet → one route reflector at a time, each waited on until Established → mesh off
//! → only then encapsulation and NAT off.

pub mod build;
pub mod render;
pub mod switch;
pub mod verify;

use std::net::IpAddr;

use serde_json::Value;

use crate::domain::answers::ValidAnswers;
use crate::domain::objects::{ObjectRef, inverse_merge_patch};

pub use build::build_plan;

/// Names of the objects the wizard creates.
pub const PEER_TO_RRS: &str = "peer-with-route-reflectors";
pub const PEER_TO_SWITCH: &str = "rr-peer";
pub const PASSWORD_SECRET: &str = "calico-bgp-wizard-password";
pub const PASSWORD_KEY: &str = "password";
pub const FIELD_MANAGER: &str = "calico-bgp-wizard";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum StepKind {
    /// `calico_backend: bird` (manifest) or Installation `bgp: Enabled` (operator).
    SetBackend,
    /// Restart calico-node so the backend change takes effect; wait for the rollout.
    RestartCalicoNode,
    /// The password Secret and the RBAC that lets calico-node read it.
    CreatePasswordSecret,
    /// BGPPeers `peer-with-route-reflectors` and `rr-peer` (they select no node yet).
    CreatePeers,
    /// Annotate + label one node as route reflector, then wait for its sessions.
    PromoteReflector { node: String },
    /// BGPConfiguration `default`: `nodeToNodeMeshEnabled: false`.
    DisableMesh,
    /// Create the target pool when it does not exist yet.
    CreatePool,
    /// Pool `ipipMode: Never`, `vxlanMode: Never` (operator: Installation `encapsulation: None`).
    PoolEncapsulation,
    /// Pool `natOutgoing: false` (operator: Installation `natOutgoing: Disabled`).
    PoolNatOutgoing,
}

/// How one object changes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "op", content = "value")]
pub enum Op {
    /// Create the object (`after` is the whole object).
    Create,
    /// RFC 7386 merge patch.
    MergePatch(Value),
    /// Restart a DaemonSet's pods (`kubectl rollout restart`): a pod-template annotation.
    Restart,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub object: ObjectRef,
    pub op: Op,
    /// The object as detected before the change; None when it does not exist (created here).
    pub before: Option<Value>,
    /// The object as it will be stored (for Calico kinds: `crd.projectcalico.org/v1`).
    pub after: Value,
    /// calicoctl-style `projectcalico.org/v3` form of `after`, for Calico kinds.
    pub v3: Option<Value>,
}

/// What undoes a change.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "op", content = "value")]
pub enum UndoOp {
    Delete,
    MergePatch(Value),
    /// Restarting again is the only undo of a restart (after the config it depends on is restored).
    Restart,
}

impl Change {
    /// The operation that puts the object back as it was.
    pub fn undo(&self) -> UndoOp {
        match (&self.op, &self.before) {
            (Op::Restart, _) => UndoOp::Restart,
            (Op::Create, _) | (_, None) => UndoOp::Delete,
            (Op::MergePatch(p), Some(b)) => UndoOp::MergePatch(inverse_merge_patch(b, p)),
        }
    }
}

/// How a step is checked after it ran.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "check")]
pub enum Verification {
    /// Read the object back; every leaf of `expect` must be present with that value (catches
    /// fields silently pruned by a CRD schema).
    Fields { object: ObjectRef, expect: Value },
    /// The DaemonSet's rollout finished (all pods updated and ready).
    Rollout { object: ObjectRef },
    /// On `node`, the BGP sessions to every address in `peers` are Established.
    SessionsEstablished { node: String, peers: Vec<IpAddr> },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Step {
    pub kind: StepKind,
    /// One line, imperative: "Make k8s-1 a route reflector".
    pub title: String,
    /// One line on why this step exists and why here in the order.
    pub why: String,
    pub changes: Vec<Change>,
    pub verify: Vec<Verification>,
    /// One line for the operator on what undo does.
    pub undo: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Plan {
    #[serde(skip)]
    pub answers: ValidAnswers,
    pub steps: Vec<Step>,
    /// Lines for the operator: what is already configured, what was kept, operator caveats.
    pub notes: Vec<String>,
    /// What an outside client needs: `ip route add <pool> via <switch IP>`.
    pub client_route: String,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}
