//! Shapes the reference allows beyond the default: integers in hex, every
//! optional field left out, flags as strings. Applied to a success
//! envelope's `data` by walking the catalog's types for the method, so
//! every method gets them without code of its own.

use serde_json::Value;

use crate::catalog::{self, FieldSpec};
use crate::config::{Hex, Shapes};

/// Marks a string that is written as a bare token (see [`unmark`]);
/// nothing JSON escapes, nothing an answer holds otherwise.
const BARE: &str = "@@ll-bare@@";

fn int(v: &mut Value, s: &Shapes) {
    let (Some(hex), Some(n)) = (s.hex, v.as_u64()) else {
        return;
    };
    *v = Value::String(match hex {
        Hex::Quoted => format!("0x{n:x}"),
        Hex::Bare => format!("{BARE}0x{n:x}"),
    });
}

fn flag(v: &mut Value, s: &Shapes) {
    if let (true, Some(n @ 0..=1)) = (s.string_flags, v.as_u64()) {
        *v = Value::String(n.to_string());
    }
}

fn item(v: &mut Value, ty: Option<&str>, f: &FieldSpec, s: &Shapes) {
    match ty {
        Some("int") => int(v, s),
        Some("bool01") => flag(v, s),
        Some("object") => object(v, &f.fields, s),
        _ => {}
    }
}

fn value(v: &mut Value, f: &FieldSpec, s: &Shapes) {
    match (f.kind.as_str(), v) {
        ("int", v) => int(v, s),
        ("bool01", v) => flag(v, s),
        ("object", v) => object(v, &f.fields, s),
        ("list" | "list|map", Value::Array(items)) => {
            for i in items {
                item(i, f.item_type.as_deref(), f, s);
            }
        }
        ("map" | "list|map", Value::Object(m)) => {
            for (_, i) in m.iter_mut() {
                item(i, f.map_value_type.as_deref(), f, s);
            }
        }
        _ => {}
    }
}

fn object(v: &mut Value, fields: &[FieldSpec], s: &Shapes) {
    let Some(map) = v.as_object_mut() else { return };
    if s.omit_optional && !fields.is_empty() {
        map.retain(|k, _| fields.iter().any(|f| f.name == *k));
    }
    for f in fields {
        if s.omit_optional && f.optional {
            map.remove(&f.name);
        } else if let Some(v) = map.get_mut(&f.name) {
            value(v, f, s);
        }
    }
}

/// Reshapes an envelope answered by `method`.
pub fn apply(method: Option<&str>, mut envelope: Value, s: &Shapes) -> Value {
    if let (Some(m), Some(data)) = (method, envelope.get_mut("data")) {
        object(data, &catalog::method(m).fields, s);
    }
    if let Some(code) = envelope.get_mut("error_code") {
        int(code, s);
    }
    envelope
}

/// Removes the bare-token marks from rendered text (JSON or XML): a
/// marked string loses its quotes in JSON.
pub fn unmark(text: String) -> String {
    if !text.contains(BARE) {
        return text;
    }
    let quoted = format!("\"{BARE}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(&quoted) {
        out.push_str(&rest[..i]);
        let after = &rest[i + quoted.len()..];
        let end = after.find('"').unwrap_or(after.len());
        out.push_str(&after[..end]);
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out.replace(BARE, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shapes(hex: Option<Hex>, omit: bool, flags: bool) -> Shapes {
        Shapes {
            hex,
            omit_optional: omit,
            string_flags: flags,
            ..Shapes::default()
        }
    }

    #[test]
    fn hex_follows_the_catalog_types() {
        let env = json!({"success": 1, "data": {"after": "2020-01-01 00:00:00", "more_results_available": 1,
            "tasks": {"0123456789abcdef0123456789abcdef": 100}}});
        let out = apply(
            Some("get_completed"),
            env,
            &shapes(Some(Hex::Quoted), false, true),
        );
        assert_eq!(
            out["data"]["tasks"]["0123456789abcdef0123456789abcdef"],
            "0x64"
        );
        assert_eq!(out["data"]["more_results_available"], "1");
        assert_eq!(out["data"]["after"], "2020-01-01 00:00:00");
        assert_eq!(out["success"], 1);
    }

    #[test]
    fn bare_hex_is_written_unquoted() {
        let env = json!({"success": 1, "data": {"progress": 100, "completed": 1}});
        let out = apply(
            Some("get_progress"),
            env,
            &shapes(Some(Hex::Bare), false, false),
        );
        let text = unmark(out.to_string());
        assert!(text.contains(r#""progress":0x64"#), "{text}");
        let back: Value = serde_json::from_str(&text.replace("0x64", "100")).unwrap();
        assert_eq!(
            back,
            json!({"success": 1, "data": {"progress": 100, "completed": 1}})
        );
        let fail = apply(
            None,
            json!({"success": 0, "error_code": 105, "error": "x"}),
            &shapes(Some(Hex::Bare), false, false),
        );
        assert!(unmark(fail.to_string()).contains(r#""error_code":0x69"#));
    }

    #[test]
    fn optional_fields_go_nested_too() {
        let env = json!({"success": 1, "data": {"score": 5, "threat": "x", "reports": [{"report_uuid": "u", "relevance": 1.0, "description": "d"}]}});
        let out = apply(Some("get_result"), env, &shapes(None, true, false));
        assert_eq!(out["data"], json!({"score": 5}));
        let env = json!({"success": 1, "data": {"task_uuid": "u", "report_activities": [{"type": "t", "description": "d", "severity": 3, "action_ids": [1, 2]}]}});
        let out = apply(
            Some("get_report_activities"),
            env,
            &shapes(Some(Hex::Quoted), true, false),
        );
        assert_eq!(
            out["data"]["report_activities"][0]["action_ids"],
            json!(["0x1", "0x2"])
        );
        assert_eq!(out["data"]["report_activities"][0]["severity"], "0x3");
    }
}
