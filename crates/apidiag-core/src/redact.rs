//! What may be shown of an object: Secret data never is.
//!
//! Previews print the objects a fix or an undo will create and the fields a patch
//! changes. Like `kubectl diff`, every value under a Secret's `data` and
//! `stringData` (and the `last-applied-configuration` annotation, which holds the
//! same values in clear text) is replaced by `***` with its size, so the preview
//! still says which keys there are. Helm keeps releases in Secrets or, with its
//! configmap driver, in ConfigMaps: the latter's release payloads are elided too,
//! as is any ConfigMap value too long to read on a terminal.

use serde_json::Value;

use crate::object::Change;

/// The annotation `kubectl apply` writes, with the whole object in clear text.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// ConfigMap values longer than this are shown as their size.
const LONG_VALUE: usize = 200;

/// `object` (of `kind`) as it may be printed.
pub fn object(kind: &str, object: &Value) -> Value {
    let mut shown = object.clone();
    match kind {
        "Secret" => {
            for field in ["data", "stringData"] {
                if let Some(map) = shown.get_mut(field).and_then(Value::as_object_mut) {
                    for value in map.values_mut() {
                        *value = Value::String(masked(field, value, None));
                    }
                }
            }
            if let Some(value) = shown
                .pointer_mut("/metadata/annotations")
                .and_then(Value::as_object_mut)
                .and_then(|a| a.get_mut(LAST_APPLIED))
            {
                *value = Value::String(masked("annotation", value, None));
            }
        }
        "ConfigMap" => {
            for field in ["data", "binaryData"] {
                if let Some(map) = shown.get_mut(field).and_then(Value::as_object_mut) {
                    for value in map.values_mut() {
                        if value.as_str().is_some_and(|s| s.len() > LONG_VALUE) {
                            *value = Value::String(format!("({} not shown)", size(field, value)));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    shown
}

/// A patch's change to an object of `kind`, as it may be printed: a changed
/// Secret value shows as `*** (before, N bytes)` → `*** (after, M bytes)`.
pub fn change(kind: &str, change: Change) -> Change {
    let secret_path = change.path.starts_with("data.")
        || change.path.starts_with("stringData.")
        || change.path == format!("metadata.annotations.{LAST_APPLIED}");
    if kind != "Secret" || !secret_path {
        return change;
    }
    let field = change
        .path
        .split('.')
        .next()
        .unwrap_or_default()
        .to_string();
    // Change values are JSON text: `"aHVudGVyMg=="`, quotes included.
    let hide = |text: Option<String>, when: &str| {
        text.map(|t| {
            let value = serde_json::from_str(&t).unwrap_or(Value::String(t));
            masked(&field, &value, Some(when))
        })
    };
    Change {
        before: hide(change.before, "before"),
        after: hide(change.after, "after"),
        path: change.path,
    }
}

fn masked(field: &str, value: &Value, when: Option<&str>) -> String {
    match when {
        Some(when) => format!("*** ({when}, {})", size(field, value)),
        None => format!("*** ({})", size(field, value)),
    }
}

/// The size of a value: `data` and `binaryData` hold base64, so the decoded size.
fn size(field: &str, value: &Value) -> String {
    let text = value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_string);
    let bytes = match field {
        "data" | "binaryData" => {
            let padding = text.bytes().rev().take_while(|b| *b == b'=').count();
            (text.len() / 4 * 3).saturating_sub(padding)
        }
        _ => text.len(),
    };
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_values_are_masked_and_keys_kept() {
        let secret = json!({
            "kind": "Secret",
            "metadata": {"name": "sh.helm.release.v1.web.v3", "annotations": {LAST_APPLIED: "{\"data\":{\"password\":\"aHVudGVyMg==\"}}"}},
            "data": {"release": "SDRzSUFBQUFBQUFDLytTOWE0L2pPTElnK0wxL2hhYU42cWgxUEtjcE9hZEFCRkZGRkhWUw==", "password": "aHVudGVyMg=="},
            "stringData": {"token": "s3cr3t"},
            "type": "helm.sh/release.v1",
        });
        let shown = object("Secret", &secret);
        let text = serde_json::to_string(&shown).unwrap();
        for hidden in ["aHVudGVyMg", "SDRzSUFB", "s3cr3t", "password\\\":"] {
            assert!(!text.contains(hidden), "{hidden} shown in {text}");
        }
        assert_eq!(shown["data"]["password"], "*** (7 bytes)");
        assert_eq!(shown["stringData"]["token"], "*** (6 bytes)");
        assert_eq!(shown["type"], "helm.sh/release.v1");
        assert_eq!(shown["metadata"]["name"], "sh.helm.release.v1.web.v3");
    }

    #[test]
    fn long_config_map_values_are_elided_short_ones_kept() {
        let long = "x".repeat(5000);
        let cm = json!({"kind": "ConfigMap", "data": {"release": long, "mode": "fast"}});
        let shown = object("ConfigMap", &cm);
        assert_eq!(shown["data"]["release"], "(3750 bytes not shown)");
        assert_eq!(shown["data"]["mode"], "fast");
    }

    #[test]
    fn a_changed_secret_value_shows_that_it_changed_not_what_it_is() {
        let c = change(
            "Secret",
            Change {
                path: "data.password".into(),
                before: Some("\"aHVudGVyMg==\"".into()),
                after: Some("\"bmV3\"".into()),
            },
        );
        assert_eq!(c.before.as_deref(), Some("*** (before, 7 bytes)"));
        assert_eq!(c.after.as_deref(), Some("*** (after, 3 bytes)"));
        let label = change(
            "Secret",
            Change {
                path: "metadata.labels.a".into(),
                before: None,
                after: Some("\"1\"".into()),
            },
        );
        assert_eq!(label.after.as_deref(), Some("\"1\""));
    }
}
