//! The plan as text: YAML of every object (v1 as stored, v3 as calicoctl shows it), line diffs
//! against the current objects, the step-by-step runbook, `plan.json`, and the files `w` writes.
//!
//! Pure: no I/O. Every text here is safe to show or save: a Secret's `data` / `stringData` values
//! are replaced by [`REDACTED`]; only [`Change::after`] of the password Secret holds the real
//! value, and the apply path reads it from there.

use serde_json::{Value, json};
use similar::{ChangeTag, TextDiff};

use crate::domain::objects::{Kind, ObjectRef};

use super::{Change, Op, Plan, Step, StepKind, UndoOp, Verification};

/// What a secret value is replaced by in every rendered text and in `plan.json`.
pub const REDACTED: &str = "<redacted>";

/// Metadata fields the API server fills in: noise in a diff or a file to review.
const NOISY_METADATA: [&str; 6] =
    ["resourceVersion", "uid", "managedFields", "creationTimestamp", "generation", "selfLink"];
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Replace every value under a `data` or `stringData` key (anywhere in `v`) by [`REDACTED`].
pub fn redact_secret_values(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                match (k.as_str(), &mut *val) {
                    ("data" | "stringData", Value::Object(d)) => {
                        for x in d.values_mut().filter(|x| !x.is_null()) {
                            *x = json!(REDACTED);
                        }
                    }
                    _ => redact_secret_values(val),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_secret_values),
        _ => {}
    }
}

/// True when a Secret value in `v` was replaced by [`REDACTED`] (the real value must be asked for).
pub fn is_redacted(v: &Value) -> bool {
    ["/data", "/stringData"]
        .iter()
        .any(|p| v.pointer(p).and_then(Value::as_object).is_some_and(|d| d.values().any(|x| x == REDACTED)))
}

/// `v` with its secret values redacted when it is a Secret; other objects unchanged.
pub fn redact(v: &Value) -> Value {
    let mut out = v.clone();
    if v.get("kind").and_then(Value::as_str) == Some("Secret") {
        redact_secret_values(&mut out);
    }
    out
}

/// `v` without what the API server fills in (resourceVersion, uid, managedFields,
/// creationTimestamp, generation, selfLink, kubectl's last-applied annotation) and `status`.
pub fn strip_noise(v: &Value) -> Value {
    let mut out = v.clone();
    if let Some(m) = out.as_object_mut() {
        m.remove("status");
    }
    if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in NOISY_METADATA {
            meta.remove(k);
        }
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            ann.remove(LAST_APPLIED);
            if ann.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    out
}

/// One object as YAML, Secret values redacted.
pub fn object_yaml(v: &Value) -> String {
    serde_saphyr::to_string(&redact(v)).unwrap_or_else(|e| format!("# cannot render as YAML: {e}\n"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffTag {
    Same,
    Added,
    Removed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub tag: DiffTag,
    /// The YAML line, without its newline.
    pub text: String,
}

/// Line diff of the object's YAML before and after the change (server-filled metadata and status
/// left out; Secret values redacted). A created object is all [`DiffTag::Added`].
pub fn change_diff(change: &Change) -> Vec<DiffLine> {
    let before = change.before.as_ref().map(|b| object_yaml(&strip_noise(b))).unwrap_or_default();
    let after = object_yaml(&strip_noise(&change.after));
    TextDiff::from_lines(&before, &after)
        .iter_all_changes()
        .map(|c| DiffLine {
            tag: match c.tag() {
                ChangeTag::Equal => DiffTag::Same,
                ChangeTag::Insert => DiffTag::Added,
                ChangeTag::Delete => DiffTag::Removed,
            },
            text: c.value().trim_end_matches(['\n', '\r']).to_string(),
        })
        .collect()
}

/// `01-create-peers` for step index 0: the name of a step's files under `steps/`.
pub fn step_slug(index: usize, step: &Step) -> String {
    let kind = match &step.kind {
        StepKind::SetBackend => "set-backend".to_string(),
        StepKind::RestartCalicoNode => "restart-calico-node".into(),
        StepKind::CreatePasswordSecret => "create-password-secret".into(),
        StepKind::CreatePeers => "create-peers".into(),
        StepKind::PromoteReflector { node } => format!("promote-reflector-{node}"),
        StepKind::DisableMesh => "disable-mesh".into(),
        StepKind::CreatePool => "create-pool".into(),
        StepKind::PoolEncapsulation => "pool-encapsulation".into(),
        StepKind::PoolNatOutgoing => "pool-nat-outgoing".into(),
    };
    format!("{:02}-{kind}", index + 1)
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The YAML documents of one step's objects, each after a `# Step N: title` comment.
fn step_docs(index: usize, step: &Step, v3: bool) -> Vec<String> {
    let head = format!("# Step {}: {}\n", index + 1, step.title);
    if step.changes.is_empty() {
        return vec![format!("{head}# (no object changes: checks only)\n")];
    }
    step.changes
        .iter()
        .map(|c| {
            let how = match &c.op {
                Op::Create => "# create\n".to_string(),
                Op::MergePatch(p) => {
                    let p = if c.object.kind == Kind::Secret {
                        let mut p = p.clone();
                        redact_secret_values(&mut p);
                        p
                    } else {
                        p.clone()
                    };
                    format!("# merge patch: {}\n", compact(&p))
                }
                Op::Restart => "# rollout restart (pod template annotation)\n".to_string(),
            };
            let obj = match (&c.v3, v3) {
                (Some(v), true) => v.clone(),
                _ => strip_noise(&c.after),
            };
            format!("{head}{how}{}", object_yaml(&obj))
        })
        .collect()
}

fn join_docs(docs: Vec<String>, plan: &Plan) -> String {
    if docs.is_empty() {
        let mut out = String::new();
        for n in &plan.notes {
            out.push_str(&format!("# {n}\n"));
        }
        return out;
    }
    docs.join("---\n")
}

/// Every object as written (`crd.projectcalico.org/v1` for Calico kinds), in apply order.
pub fn plan_yaml_v1(plan: &Plan) -> String {
    let docs = plan.steps.iter().enumerate().flat_map(|(i, s)| step_docs(i, s, false)).collect();
    join_docs(docs, plan)
}

/// Like [`plan_yaml_v1`], with Calico kinds in calicoctl's `projectcalico.org/v3` form.
pub fn plan_yaml_v3(plan: &Plan) -> String {
    let docs = plan.steps.iter().enumerate().flat_map(|(i, s)| step_docs(i, s, true)).collect();
    join_docs(docs, plan)
}

fn change_json(c: &Change) -> Value {
    let undo = match c.undo() {
        UndoOp::Delete => json!({"op": "delete"}),
        UndoOp::MergePatch(p) => json!({"op": "merge-patch", "value": p}),
        UndoOp::Restart => json!({"op": "restart"}),
    };
    let mut v = json!({
        "object": c.object,
        "op": c.op,
        "before": c.before,
        "after": c.after,
        "v3": c.v3,
        "undo": undo,
    });
    if c.object.kind == Kind::Secret {
        redact_secret_values(&mut v);
    }
    v
}

/// The whole plan as JSON, complete enough to apply again: each change's object ref, op, before,
/// after, v3 and undo. Secret values are [`REDACTED`]; the password must be supplied again.
pub fn plan_json(plan: &Plan) -> Value {
    let a = &plan.answers;
    let steps: Vec<Value> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut v = json!({
                "number": i + 1,
                "title": s.title,
                "why": s.why,
                "changes": s.changes.iter().map(change_json).collect::<Vec<_>>(),
                "verify": s.verify,
                "undo": s.undo,
            });
            // StepKind serializes as {"kind": ..., "node"?: ...}: lift its fields into the step.
            if let (Ok(Value::Object(k)), Some(m)) = (serde_json::to_value(&s.kind), v.as_object_mut()) {
                m.extend(k);
            }
            v
        })
        .collect();
    json!({
        "format": "calico-bgp-wizard-plan/v1",
        "answers": {
            "reflectors": a.reflectors,
            "cluster_id": a.cluster_id,
            "switch_ip": a.switch_ip,
            "switch_as": a.switch_as,
            "cluster_as": a.cluster_as,
            "password": a.password.as_ref().map(|_| REDACTED),
            "keep_original_next_hop": a.keep_original_next_hop,
            "pool": {
                "name": a.pool.name,
                "cidr": a.pool.cidr.to_string(),
                "block_size": a.pool.block_size,
                "exists": a.pool.exists,
            },
            "vendor": a.vendor,
        },
        "steps": steps,
        "notes": plan.notes,
        "client_route": plan.client_route,
    })
}

/// `bgppeers.crd.projectcalico.org`: the unambiguous `kubectl` resource name.
fn resource(kind: Kind) -> String {
    match kind.api_version().rsplit_once('/') {
        Some((group, _)) => format!("{}.{group}", kind.plural()),
        None => kind.plural().to_string(),
    }
}

/// `kubectl <verb> <resource> <name> [-n <ns>]`.
fn kubectl(verb: &str, r: &ObjectRef) -> String {
    match &r.namespace {
        Some(ns) => format!("kubectl {verb} {} {} -n {ns}", resource(r.kind), r.name),
        None => format!("kubectl {verb} {} {}", resource(r.kind), r.name),
    }
}

/// Single-quote for a POSIX shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn secret_safe(r: &ObjectRef, v: &Value) -> Value {
    let mut v = v.clone();
    if r.kind == Kind::Secret {
        redact_secret_values(&mut v);
    }
    v
}

fn rollout_target(r: &ObjectRef) -> String {
    format!("daemonset/{} -n {}", r.name, r.namespace.as_deref().unwrap_or("kube-system"))
}

/// The commands that make one change, and the calicoctl equivalent where there is one.
fn do_commands(out: &mut String, c: &Change) {
    match &c.op {
        Op::Create => {
            if c.object.kind == Kind::Secret {
                out.push_str(&format!("# Replace {REDACTED} with the BGP password first (it is not written here).\n"));
            }
            // `create`, not `apply`: apply would copy a Secret's clear text into an annotation.
            out.push_str("kubectl create -f - <<'EOF'\n");
            out.push_str(&object_yaml(&strip_noise(&c.after)));
            out.push_str("EOF\n");
        }
        Op::MergePatch(p) => {
            let p = secret_safe(&c.object, p);
            out.push_str(&format!("{} --type merge -p {}\n", kubectl("patch", &c.object), sh_quote(&compact(&p))));
            if c.object.kind.is_calico() {
                out.push_str(&format!(
                    "# or: calicoctl patch {} {} -p {}\n",
                    c.object.kind.kind_name().to_lowercase(),
                    c.object.name,
                    sh_quote(&compact(&p))
                ));
            }
            if c.object.kind == Kind::Node {
                node_equivalent(out, &c.object.name, &p);
            }
        }
        Op::Restart => {
            out.push_str(&format!("kubectl rollout restart {}\n", rollout_target(&c.object)));
        }
    }
}

/// The annotate / label commands a Node merge patch amounts to.
fn node_equivalent(out: &mut String, node: &str, patch: &Value) {
    let pairs = |key: &str| -> Vec<String> {
        patch
            .pointer(&format!("/metadata/{key}"))
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| match v.as_str() {
                        Some(s) => format!("{k}={s}"),
                        None => format!("{k}-"),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (ann, lab) = (pairs("annotations"), pairs("labels"));
    if !ann.is_empty() {
        out.push_str(&format!("# same as: kubectl annotate node {node} {} --overwrite\n", ann.join(" ")));
    }
    if !lab.is_empty() {
        out.push_str(&format!("#      and: kubectl label node {node} {} --overwrite\n", lab.join(" ")));
    }
}

fn verify_commands(out: &mut String, ns: &str, v: &Verification) {
    match v {
        Verification::Fields { object, expect } => {
            out.push_str(&format!("#   {} -o yaml\n", kubectl("get", object)));
            out.push_str(&format!("#     expect: {}\n", compact(&secret_safe(object, expect))));
        }
        Verification::Rollout { object } => {
            out.push_str(&format!("#   kubectl rollout status {} --timeout=10m\n", rollout_target(object)));
            out.push_str("#     expect: successfully rolled out, every calico-node pod Ready\n");
        }
        Verification::SessionsEstablished { node, peers } => {
            let list = peers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            out.push_str(&format!("#   on {node}, as root: calicoctl node status\n"));
            out.push_str(&format!("#     expect Established: {list}\n"));
            let pod = format!(
                "$(kubectl get pod -n {ns} -l k8s-app=calico-node --field-selector \
                 spec.nodeName={node} -o name)"
            );
            out.push_str(&format!("#   or: kubectl exec -n {ns} {pod} -c calico-node -- birdcl show protocols\n"));
            if peers.iter().any(|p| p.is_ipv6()) {
                out.push_str(&format!(
                    "#   and: kubectl exec -n {ns} {pod} -c calico-node -- birdcl6 show protocols\n"
                ));
            }
        }
    }
}

fn undo_commands(out: &mut String, c: &Change) {
    match c.undo() {
        UndoOp::Delete => out.push_str(&format!("#   {}\n", kubectl("delete", &c.object))),
        UndoOp::MergePatch(p) => out.push_str(&format!(
            "#   {} --type merge -p {}\n",
            kubectl("patch", &c.object),
            sh_quote(&compact(&secret_safe(&c.object, &p)))
        )),
        UndoOp::Restart => out.push_str(&format!("#   kubectl rollout restart {}\n", rollout_target(&c.object))),
    }
}

/// The step-by-step runbook: for each step its title, why, the equivalent kubectl (and calicoctl)
/// commands, how to check it by hand and how to undo it; then the switch configuration and the
/// route outside clients need. Lines starting with `#` are explanations; the others are the
/// commands to run, in order, on a machine with cluster-admin kubectl.
pub fn plan_text(plan: &Plan, switch_config: &str) -> String {
    let a = &plan.answers;
    let mut out = String::new();
    out.push_str("# calico-bgp-wizard plan: BGP with route reflectors peering a top-of-rack switch\n");
    out.push_str(&format!("# Route reflectors: {} (cluster ID {})\n", a.reflectors.join(", "), a.cluster_id));
    out.push_str(&format!(
        "# Switch: {} AS {}; cluster AS {}; keepOriginalNextHop: {}; BGP password: {}\n",
        a.switch_ip,
        a.switch_as,
        a.cluster_as,
        if a.keep_original_next_hop { "yes" } else { "no" },
        if a.password.is_some() { "set (shown as <redacted>)" } else { "none" }
    ));
    out.push_str(&format!("# Pool: {} {}{}\n", a.pool.name, a.pool.cidr, if a.pool.exists { "" } else { " (new)" }));
    if !plan.notes.is_empty() {
        out.push_str("#\n# Notes:\n");
        for n in &plan.notes {
            out.push_str(&format!("# - {n}\n"));
        }
    }
    if plan.is_empty() {
        out.push_str("#\n# Nothing to apply.\n");
    } else {
        out.push_str(
            "#\n# Run the steps in order; check each one as shown before the next. Undo runs the\n\
             # steps' undo commands in reverse order.\n",
        );
    }
    let ns = plan
        .steps
        .iter()
        .flat_map(|s| &s.changes)
        .find(|c| c.object.kind == Kind::DaemonSet || c.object.kind == Kind::Secret)
        .and_then(|c| c.object.namespace.clone())
        .unwrap_or_else(|| calico_namespace(plan));
    let total = plan.steps.len();
    for (i, s) in plan.steps.iter().enumerate() {
        let slug = step_slug(i, s);
        out.push_str(&format!("\n# === Step {} of {total}: {} ===\n", i + 1, s.title));
        out.push_str(&format!("# Why: {}\n", s.why));
        for c in &s.changes {
            do_commands(&mut out, c);
        }
        if s.changes.iter().any(|c| c.op == Op::Create && c.v3.is_some()) {
            out.push_str(&format!(
                "# or create them as projectcalico.org/v3: calicoctl create -f steps/{slug}-v3.yaml\n"
            ));
        }
        out.push_str("# Check:\n");
        for v in &s.verify {
            verify_commands(&mut out, &ns, v);
        }
        out.push_str(&format!("# Undo: {}\n", s.undo));
        for c in s.changes.iter().rev() {
            undo_commands(&mut out, c);
        }
    }
    if !switch_config.trim().is_empty() {
        out.push_str("\n# === The switch ===\n");
        out.push_str("# Configure the top-of-rack switch (before or after step 1; the session comes\n");
        out.push_str("# up once the first reflector is promoted):\n");
        for l in switch_config.lines() {
            out.push_str(&format!("    {l}\n"));
        }
    }
    out.push_str("\n# === Clients outside the cluster ===\n");
    out.push_str("# Where the switch is not their default gateway, clients reach pods with:\n");
    out.push_str(&format!("#   {}\n", plan.client_route));
    out
}

/// The namespace calico-node runs in, as far as the plan shows (the verifications name it).
fn calico_namespace(plan: &Plan) -> String {
    plan.steps
        .iter()
        .flat_map(|s| &s.verify)
        .find_map(|v| match v {
            Verification::Rollout { object } => object.namespace.clone(),
            _ => None,
        })
        .unwrap_or_else(|| "kube-system".into())
}

/// One file of the plan directory `w` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFile {
    /// Relative path, `/`-separated.
    pub path: String,
    pub contents: String,
}

/// Every file of the plan directory: `README.txt` (the runbook), `steps/NN-<step>.yaml` (and
/// `-v3.yaml` where Calico kinds change), `all-v1.yaml`, `all-v3.yaml`, `plan.json` and
/// `switch/<vendor-id>.txt`. `switch_configs` are `(vendor id, config)`; the README includes the
/// one for the chosen vendor.
pub fn plan_files(plan: &Plan, switch_configs: &[(String, String)]) -> Vec<PlanFile> {
    let file = |path: String, contents: String| PlanFile { path, contents };
    let chosen = switch_configs
        .iter()
        .find(|(id, _)| id == plan.answers.vendor.id())
        .or(switch_configs.first())
        .map(|(_, c)| c.as_str())
        .unwrap_or("");
    let mut files = vec![file("README.txt".into(), plan_text(plan, chosen))];
    for (i, s) in plan.steps.iter().enumerate() {
        let slug = step_slug(i, s);
        files.push(file(format!("steps/{slug}.yaml"), step_docs(i, s, false).join("---\n")));
        if s.changes.iter().any(|c| c.v3.is_some()) {
            files.push(file(format!("steps/{slug}-v3.yaml"), step_docs(i, s, true).join("---\n")));
        }
    }
    files.push(file("all-v1.yaml".into(), plan_yaml_v1(plan)));
    files.push(file("all-v3.yaml".into(), plan_yaml_v3(plan)));
    let json = serde_json::to_string_pretty(&plan_json(plan)).unwrap_or_default();
    files.push(file("plan.json".into(), json + "\n"));
    for (id, config) in switch_configs {
        files.push(file(format!("switch/{id}.txt"), config.clone()));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::answers::Password;
    use crate::domain::facts::detect;
    use crate::domain::objects::{ObjectSet, parse_yaml_objects};
    use crate::plan::build_plan;

    fn demo_plan(password: Option<&str>) -> Plan {
        let mut set = ObjectSet::default();
        for o in parse_yaml_objects(include_str!("../../assets/demo-cluster.yaml")).unwrap() {
            set.insert(o);
        }
        let mut a = crate::demo::walkthrough_answers();
        a.password = password.map(|p| Password(p.into()));
        build_plan(&a, &detect(&set), &set)
    }

    #[test]
    fn diff_of_a_patch_shows_only_the_changed_lines() {
        let p = demo_plan(None);
        let enc = p.steps.iter().find(|s| s.kind == StepKind::PoolEncapsulation).unwrap();
        let diff = change_diff(&enc.changes[0]);
        let changed: Vec<_> = diff.iter().filter(|l| l.tag != DiffTag::Same).collect();
        assert_eq!(changed.len(), 2, "{diff:#?}");
        assert_eq!(changed[0].tag, DiffTag::Removed);
        assert_eq!(changed[0].text.trim(), "ipipMode: Always");
        assert_eq!(changed[1].tag, DiffTag::Added);
        assert_eq!(changed[1].text.trim(), "ipipMode: Never");
        assert!(diff.iter().any(|l| l.tag == DiffTag::Same && l.text.contains("cidr")));
    }

    #[test]
    fn diff_of_a_created_object_is_all_added_and_noise_is_stripped() {
        let p = demo_plan(None);
        let peers = &p.steps[0];
        let diff = change_diff(&peers.changes[0]);
        assert!(!diff.is_empty());
        assert!(diff.iter().all(|l| l.tag == DiffTag::Added));
        let mut c = p.steps[1].changes[0].clone();
        for v in [c.before.as_mut().unwrap(), &mut c.after] {
            v["metadata"]["resourceVersion"] = json!("123");
            v["metadata"]["uid"] = json!("abc");
            v["metadata"]["managedFields"] = json!([{"manager": "kubelet"}]);
        }
        let diff = change_diff(&c);
        assert!(!diff.iter().any(|l| l.text.contains("resourceVersion")
            || l.text.contains("uid")
            || l.text.contains("managedFields")
            || l.text.contains("InternalIP")));
        let added: Vec<_> = diff.iter().filter(|l| l.tag == DiffTag::Added).collect();
        assert_eq!(added.len(), 2, "{diff:#?}");
        assert!(diff.iter().all(|l| l.tag != DiffTag::Removed));
    }

    #[test]
    fn password_is_redacted_everywhere_but_the_secret_after() {
        let pw = "Sup3r-s3cret";
        let p = demo_plan(Some(pw));
        let step = p.steps.iter().find(|s| s.kind == StepKind::CreatePasswordSecret).unwrap();
        assert_eq!(step.changes[0].after["stringData"]["password"], pw);
        let encoded = "U3VwM3ItczNjcmV0";
        let texts = [
            plan_yaml_v1(&p),
            plan_yaml_v3(&p),
            plan_text(&p, ""),
            serde_json::to_string(&plan_json(&p)).unwrap(),
            object_yaml(&step.changes[0].after),
        ];
        for t in &texts {
            assert!(!t.contains(pw) && !t.contains(encoded), "leaked in:\n{t}");
        }
        assert!(texts[0].contains("password: <redacted>"));
        assert!(texts[3].contains(REDACTED));
        for f in plan_files(&p, &[("cisco-ios".into(), "router bgp 7675\n".into())]) {
            assert!(!f.contents.contains(pw), "leaked in {}", f.path);
        }
        let diff = change_diff(&step.changes[0]);
        assert!(diff.iter().all(|l| !l.text.contains(pw)));
        // An existing Secret is patched through `data`: redacted there too.
        let mut c = step.changes[0].clone();
        c.op = Op::MergePatch(json!({"data": {"password": encoded}}));
        c.before = Some(json!({"kind": "Secret", "metadata": {"name": "x"},
                               "data": {"password": "b2xk"}}));
        let j = compact(&change_json(&c));
        assert!(!j.contains(encoded) && !j.contains("b2xk"), "{j}");
    }

    #[test]
    fn files_and_json_are_complete() {
        let p = demo_plan(None);
        let files = plan_files(&p, &[("frr".into(), "router bgp 64512\n".into())]);
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths[0], "README.txt");
        assert!(paths.contains(&"steps/01-create-peers.yaml"));
        assert!(paths.contains(&"steps/01-create-peers-v3.yaml"));
        assert!(paths.contains(&"steps/02-promote-reflector-k8s-1.yaml"));
        assert!(!paths.contains(&"steps/02-promote-reflector-k8s-1-v3.yaml"));
        assert!(paths.contains(&"plan.json"));
        assert!(paths.contains(&"switch/frr.txt"));
        assert!(files[0].contents.contains("router bgp 64512"));
        let j = plan_json(&p);
        assert_eq!(j["steps"][1]["kind"], "promote-reflector");
        assert_eq!(j["steps"][1]["node"], "k8s-1");
        assert_eq!(j["steps"][0]["changes"][0]["op"]["op"], "create");
        assert_eq!(j["steps"][3]["changes"][0]["v3"]["apiVersion"], "projectcalico.org/v3");
        assert_eq!(j["steps"][1]["changes"][0]["undo"]["op"], "merge-patch");
        assert_eq!(j["client_route"], "ip route add 172.27.208.0/22 via 172.31.13.116");
    }

    #[test]
    fn shell_quoting_survives_single_quotes() {
        assert_eq!(sh_quote("a == 'true'"), r"'a == '\''true'\'''");
        assert_eq!(resource(Kind::BgpPeer), "bgppeers.crd.projectcalico.org");
        assert_eq!(resource(Kind::Node), "nodes");
        assert_eq!(resource(Kind::DaemonSet), "daemonsets.apps");
    }
}
