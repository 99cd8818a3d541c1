//! Writes: server-side apply (field manager `calico-bgp-wizard`) for the plan's changes, JSON merge
//! patches for undo (they can remove fields; apply cannot remove what others own), deletes, the
//! calico-node restart, and the rollout it waits for. Each write carries the `resourceVersion` the
//! caller read, so a concurrent edit makes the API server answer 409 instead of being overwritten.

use http::Request;
use serde_json::{Value, json};

use super::{Action, KubeBackend, KubeError, other};
use crate::domain::objects::ObjectRef;
use crate::plan::render::strip_noise;
use crate::plan::{Change, FIELD_MANAGER, Op, UndoOp};

/// The pod-template annotation `kubectl rollout restart` sets.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

const APPLY: &str = "application/apply-patch+yaml";
const MERGE: &str = "application/merge-patch+json";

impl KubeBackend {
    /// Write one change of the plan; `current` is the object as just read (None: absent). With
    /// `dry_run` the API server runs admission and validation and stores nothing.
    pub async fn apply_change(&self, c: &Change, current: Option<&Value>, dry_run: bool) -> Result<(), KubeError> {
        let r = &c.object;
        match &c.op {
            Op::Create => {
                let body = strip_noise(&c.after);
                self.patch(r, APPLY, &body, dry_run, "apply").await
            }
            Op::MergePatch(p) => {
                let mut body = identity(r, current);
                if has_null(p) {
                    // Apply cannot remove a field another manager owns; a merge patch can.
                    overlay(&mut body, p);
                    return self.patch(r, MERGE, &body, dry_run, "patch").await;
                }
                // An apply removes the fields this manager applied before and now leaves out, so
                // the body repeats what an earlier step applied to the same object (e.g. the pool's
                // ipipMode when the next step turns off natOutgoing).
                if let Some(raw) = self.get_raw(r).await? {
                    json_patch::merge(&mut body, &owned_by_us(&raw));
                }
                json_patch::merge(&mut body, p);
                if let (Some(b), Some(rv)) =
                    (body.get_mut("metadata"), current.and_then(|c| c.pointer("/metadata/resourceVersion")))
                {
                    b["resourceVersion"] = rv.clone();
                }
                self.patch(r, APPLY, &body, dry_run, "apply").await
            }
            Op::Restart => self.restart(r, dry_run).await,
        }
    }

    /// Undo one change: delete what was created, merge-patch back what was changed (`undo` comes
    /// from the backup), restart again after a restart. `current` is the object as just read.
    pub async fn undo_change(&self, c: &Change, undo: &UndoOp, current: Option<&Value>) -> Result<(), KubeError> {
        let r = &c.object;
        match undo {
            UndoOp::Delete => match current {
                None => Ok(()),
                Some(cur) => self.delete(r, cur).await,
            },
            UndoOp::MergePatch(p) => {
                let mut body = identity(r, current);
                overlay(&mut body, p);
                self.patch(r, MERGE, &body, false, "patch").await
            }
            UndoOp::Restart => self.restart(r, false).await,
        }
    }

    async fn patch(
        &self,
        r: &ObjectRef,
        content_type: &str,
        body: &Value,
        dry_run: bool,
        verb: &'static str,
    ) -> Result<(), KubeError> {
        let action = Action {
            verb: if dry_run { "dry-run" } else { verb },
            ..KubeBackend::action("patch", r.kind, Some(&r.name))
        };
        let mut url = format!("{}?fieldManager={FIELD_MANAGER}", KubeBackend::object_path(r));
        if content_type == APPLY {
            // Our own preconditions (the object is as planned, and its resourceVersion) guard
            // against clobbering; force only takes over fields that kubectl or calico once set.
            url.push_str("&force=true");
        }
        if dry_run {
            url.push_str("&dryRun=All");
        }
        let bytes = serde_json::to_vec(body).map_err(|e| other(&action, e))?;
        let req = Request::patch(url)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(bytes)
            .map_err(|e| other(&action, e))?;
        self.send(req, &action).await.map(|_| ())
    }

    async fn delete(&self, r: &ObjectRef, current: &Value) -> Result<(), KubeError> {
        let action = KubeBackend::action("delete", r.kind, Some(&r.name));
        let mut opts = json!({"kind": "DeleteOptions", "apiVersion": "v1"});
        if let Some(rv) = current.pointer("/metadata/resourceVersion") {
            opts["preconditions"] = json!({"resourceVersion": rv});
        }
        let body = serde_json::to_vec(&opts).map_err(|e| other(&action, e))?;
        let req = Request::delete(KubeBackend::object_path(r))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .map_err(|e| other(&action, e))?;
        match self.send(req, &action).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// `kubectl rollout restart`: a new pod-template annotation makes the DaemonSet replace its pods.
    async fn restart(&self, r: &ObjectRef, dry_run: bool) -> Result<(), KubeError> {
        let now = now();
        let body = json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}});
        self.patch(r, MERGE, &body, dry_run, "restart").await
    }

    /// (pods updated and available, pods desired) of a DaemonSet. Until the controller has seen
    /// the newest template (`observedGeneration`), nothing counts as updated.
    pub async fn rollout(&self, r: &ObjectRef) -> Result<(usize, usize), KubeError> {
        let ds = self.get(r).await?.ok_or_else(|| KubeError::Other {
            action: format!("follow the rollout of {r}"),
            message: "the DaemonSet does not exist".into(),
        })?;
        Ok(rollout_counts(&ds))
    }
}

/// The values of the fields the wizard's apply manager owns in `raw` (from its managedFields).
pub fn owned_by_us(raw: &Value) -> Value {
    let entries = raw.pointer("/metadata/managedFields").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut out = json!({});
    for e in entries {
        if e.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER)
            && e.get("operation").and_then(Value::as_str) == Some("Apply")
            && let Some(fields) = e.get("fieldsV1")
        {
            json_patch::merge(&mut out, &subset(raw, fields));
        }
    }
    if let Some(m) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        m.retain(|k, _| k == "labels" || k == "annotations");
    }
    out
}

/// The part of `obj` that a managedFields `fieldsV1` tree names. Lists and leaves are taken whole.
fn subset(obj: &Value, fields: &Value) -> Value {
    let Some(fm) = fields.as_object() else { return obj.clone() };
    let named: Vec<(&str, &Value)> = fm.iter().filter_map(|(k, v)| k.strip_prefix("f:").map(|n| (n, v))).collect();
    if named.is_empty() || !obj.is_object() {
        return obj.clone();
    }
    let mut out = serde_json::Map::new();
    for (name, sub) in named {
        if let Some(v) = obj.get(name) {
            out.insert(name.to_string(), subset(v, sub));
        }
    }
    Value::Object(out)
}

/// (done, desired) from a DaemonSet's status; see [`KubeBackend::rollout`].
pub fn rollout_counts(ds: &Value) -> (usize, usize) {
    let num = |p: &str| ds.pointer(p).and_then(Value::as_u64).unwrap_or(0) as usize;
    let desired = num("/status/desiredNumberScheduled");
    if num("/status/observedGeneration") < num("/metadata/generation") {
        return (0, desired.max(1));
    }
    (num("/status/updatedNumberScheduled").min(num("/status/numberAvailable")), desired)
}

/// `apiVersion`, `kind` and `metadata` (name, namespace, and the `resourceVersion` read, as the
/// precondition) of the object a patch goes to.
fn identity(r: &ObjectRef, current: Option<&Value>) -> Value {
    let mut meta = json!({"name": r.name});
    if let Some(ns) = &r.namespace {
        meta["namespace"] = json!(ns);
    }
    if let Some(rv) = current.and_then(|c| c.pointer("/metadata/resourceVersion")) {
        meta["resourceVersion"] = rv.clone();
    }
    json!({"apiVersion": r.kind.api_version(), "kind": r.kind.kind_name(), "metadata": meta})
}

/// Copy `patch` into `target` keeping its nulls (they are the merge patch's "remove this field";
/// `json_patch::merge` would apply them instead of sending them).
fn overlay(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => overlay(existing, v),
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.values().any(has_null),
        _ => false,
    }
}

/// Now as RFC 3339 UTC (seconds), without pulling in a date crate for one timestamp.
pub fn now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    rfc3339(secs)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, Howard Hinnant).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_000_000), "2026-11-30T00:53:20Z");
    }

    #[test]
    fn overlay_keeps_nulls() {
        let mut body = json!({"metadata": {"name": "k8s-1", "resourceVersion": "7"}});
        overlay(&mut body, &json!({"metadata": {"labels": {"route-reflector": null}}}));
        assert_eq!(
            body,
            json!({"metadata": {"name": "k8s-1", "resourceVersion": "7", "labels": {"route-reflector": null}}})
        );
    }

    #[test]
    fn owned_fields_are_repeated() {
        let raw = json!({
            "metadata": {"name": "p", "managedFields": [
                {"manager": "calico-bgp-wizard", "operation": "Apply", "fieldsV1": {"f:spec": {"f:ipipMode": {}}}},
                {"manager": "kubectl-create", "operation": "Update", "fieldsV1": {"f:spec": {"f:vxlanMode": {}}}}]},
            "spec": {"ipipMode": "Never", "vxlanMode": "Never", "natOutgoing": true}});
        assert_eq!(owned_by_us(&raw), json!({"spec": {"ipipMode": "Never"}}));
    }

    #[test]
    fn rollout_waits_for_the_controller_to_see_the_new_template() {
        let ds = json!({"metadata": {"generation": 3}, "status": {"observedGeneration": 2,
            "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3}});
        assert_eq!(rollout_counts(&ds), (0, 3));
        let ds = json!({"metadata": {"generation": 3}, "status": {"observedGeneration": 3,
            "desiredNumberScheduled": 3, "updatedNumberScheduled": 2, "numberAvailable": 3}});
        assert_eq!(rollout_counts(&ds), (2, 3));
    }
}
