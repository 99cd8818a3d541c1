//! Read-back checks: does the object as stored carry every field the step set? A field that a
//! CRD schema silently pruned (a typo, a field the installed Calico version does not know) shows
//! up here as missing. Pure.

use serde_json::Value;

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
    fn null_means_removed() {
        let expect = json!({"metadata": {"labels": {"route-reflector": null}}});
        assert!(missing_fields(&expect, &json!({"metadata": {"labels": {}}})).is_empty());
        assert_eq!(missing_fields(&expect, &json!({"metadata": {"labels": {"route-reflector": "true"}}})).len(), 1);
    }
}
