//! Read-back checks: does the object as stored carry every field the step set? A field that a
//! CRD schema silently pruned (a typo, a field the installed Calico version does not know) shows
//! up here as missing. Pure.

use serde_json::Value;

use super::{Change, Op};
use crate::domain::objects::Kind;

/// Whether a change may be written now, judged from the object as the cluster holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// The object is as the plan expects: write.
    Ready,
    /// The object already holds the change (an interrupted attempt wrote it): nothing to write.
    AlreadyApplied,
    /// Someone changed the object since the plan was made: stop, show these lines, re-plan.
    Changed(Vec<String>),
}

/// Compare the fields a change touches in `current` with the plan's `before` and `after`.
pub fn precondition(c: &Change, current: Option<&Value>) -> Precondition {
    match (&c.op, current) {
        (Op::Restart, _) => Precondition::Ready,
        (Op::Create, None) => Precondition::Ready,
        (Op::Create, Some(cur)) => {
            let diff = missing_fields(&comparable(c.object.kind, &c.after), cur);
            if diff.is_empty() {
                Precondition::AlreadyApplied
            } else {
                let mut lines = vec![format!("{} exists already and differs from what the plan creates:", c.object)];
                lines.extend(diff);
                Precondition::Changed(lines)
            }
        }
        (Op::MergePatch(_), None) => Precondition::Changed(vec![format!("{} was deleted", c.object)]),
        (Op::MergePatch(p), Some(cur)) => {
            let mut leaves = Vec::new();
            leaf_paths(p, &mut Vec::new(), &mut leaves);
            let mut applied = true;
            let mut changed = Vec::new();
            for path in &leaves {
                let now = at(cur, path);
                let planned_before = c.before.as_ref().and_then(|b| at(b, path));
                let planned_after = at(&c.after, path);
                if now != planned_after {
                    applied = false;
                }
                if now != planned_before && now != planned_after {
                    changed.push(format!(
                        "{}: the plan expected {}, the cluster now has {}",
                        path.join("."),
                        show(planned_before),
                        show(now)
                    ));
                }
            }
            if applied {
                Precondition::AlreadyApplied
            } else if changed.is_empty() {
                Precondition::Ready
            } else {
                let mut lines = vec![format!("{} changed since the plan was made:", c.object)];
                lines.extend(changed);
                Precondition::Changed(lines)
            }
        }
    }
}

/// The parts of a created object that must match for it to count as already created: its
/// content, not what the server fills in (and not Secret values, which are stored encoded).
fn comparable(kind: Kind, after: &Value) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(m) = after.as_object() {
        for (k, v) in m {
            match k.as_str() {
                "apiVersion" | "kind" | "status" | "stringData" => {}
                "data" if kind == Kind::Secret => {}
                "metadata" => {
                    let mut meta = serde_json::Map::new();
                    for key in ["labels", "annotations"] {
                        if let Some(x) = v.get(key) {
                            meta.insert(key.into(), x.clone());
                        }
                    }
                    if !meta.is_empty() {
                        out.insert(k.clone(), Value::Object(meta));
                    }
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    Value::Object(out)
}

/// Every leaf of a merge patch (objects are walked; arrays, scalars and null are leaves).
fn leaf_paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                prefix.push(k.clone());
                leaf_paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => out.push(prefix.clone()),
    }
}

/// The value at `path`; a JSON null counts as absent (merge-patch semantics).
fn at<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for k in path {
        cur = cur.get(k)?;
    }
    (!cur.is_null()).then_some(cur)
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "nothing (unset)".to_string(), |v| v.to_string())
}

/// Every leaf of `expect` that `actual` lacks or holds with another value, as
/// `/spec/field: expected X, found Y` lines. Empty means the object matches.
pub fn missing_fields(expect: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(expect, Some(actual), String::new(), &mut out);
    out
}

fn walk(expect: &Value, actual: Option<&Value>, path: String, out: &mut Vec<String>) {
    match expect {
        Value::Object(m) => {
            for (k, v) in m {
                let child = actual.and_then(|a| a.get(k));
                walk(v, child, format!("{path}/{k}"), out);
            }
        }
        Value::Null => {
            if let Some(a) = actual.filter(|a| !a.is_null()) {
                out.push(format!("{path}: expected it to be removed, found {a}"));
            }
        }
        leaf => match actual {
            Some(a) if a == leaf => {}
            Some(a) => out.push(format!("{path}: expected {leaf}, found {a}")),
            None => out.push(format!("{path}: expected {leaf}, but the field is missing (pruned by the CRD schema?)")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_pruned_and_different_fields() {
        let expect = json!({"spec": {"nodeToNodeMeshEnabled": false, "asNumber": 64512}});
        assert!(
            missing_fields(&expect, &json!({"spec": {"nodeToNodeMeshEnabled": false, "asNumber": 64512, "x": 1}}))
                .is_empty()
        );
        let got = missing_fields(&expect, &json!({"spec": {"asNumber": 64513}}));
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].contains("/spec/asNumber: expected 64512, found 64513"), "{got:?}");
        assert!(got[1].contains("/spec/nodeToNodeMeshEnabled") && got[1].contains("missing"), "{got:?}");
    }

    #[test]
    fn precondition_tells_fresh_applied_and_changed() {
        use crate::domain::objects::ObjectRef;
        let before = json!({"spec": {"nodeToNodeMeshEnabled": true, "asNumber": 64512}});
        let patch = json!({"spec": {"nodeToNodeMeshEnabled": false}});
        let mut after = before.clone();
        json_patch::merge(&mut after, &patch);
        let c = Change {
            object: ObjectRef::cluster(Kind::BgpConfiguration, "default"),
            op: Op::MergePatch(patch),
            before: Some(before.clone()),
            after: after.clone(),
            v3: None,
        };
        assert_eq!(precondition(&c, Some(&before)), Precondition::Ready);
        assert_eq!(precondition(&c, Some(&after)), Precondition::AlreadyApplied);
        // Someone else touched an unrelated field: still fine.
        let other = json!({"spec": {"nodeToNodeMeshEnabled": true, "asNumber": 64600}});
        assert_eq!(precondition(&c, Some(&other)), Precondition::Ready);
        let Precondition::Changed(lines) = precondition(&c, Some(&json!({"spec": {}}))) else { panic!() };
        assert!(lines[1].contains("spec.nodeToNodeMeshEnabled: the plan expected true"), "{lines:?}");
        assert!(matches!(precondition(&c, None), Precondition::Changed(_)));
    }

    #[test]
    fn null_means_removed() {
        let expect = json!({"metadata": {"labels": {"route-reflector": null}}});
        assert!(missing_fields(&expect, &json!({"metadata": {"labels": {}}})).is_empty());
        assert_eq!(missing_fields(&expect, &json!({"metadata": {"labels": {"route-reflector": "true"}}})).len(), 1);
    }
}
