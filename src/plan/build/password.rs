//! Step 2: the Secret holding the BGP password and the RBAC that lets calico-node read it.

use serde_json::{Value, json};

use super::{Builder, PASSWORD_READER};
use crate::domain::objects::{Kind, ObjectRef};
use crate::plan::{Op, PASSWORD_KEY, PASSWORD_SECRET, StepKind, Verification};

impl Builder<'_> {
    pub(super) fn password(&mut self) {
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
}

/// Standard base64 (RFC 4648, padded), for a Secret's `data`.
pub(crate) fn base64(input: &[u8]) -> String {
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
