//! The API catalog (`api.json`, the reference as data), read once: which
//! parameters each method documents, which are privileged and their
//! defaults, and each method's response fields. The emulator takes the
//! contract from here rather than from the SDK, so the two stay
//! independent witnesses of the same reference.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::Value;

/// The vendored copy of `../shared/spec/api.json` (identical; the tests
/// check it).
const CATALOG: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/api.json"));

/// A response field as the catalog types it.
#[derive(Clone, Debug)]
pub struct FieldSpec {
    pub name: String,
    pub optional: bool,
    /// `int`, `bool01`, `list`, `map`, `list|map`, `object`, ...
    pub kind: String,
    pub item_type: Option<String>,
    pub map_value_type: Option<String>,
    pub fields: Vec<FieldSpec>,
}

/// A privileged parameter and its literal default, if it has one.
#[derive(Clone, Debug)]
pub struct Privileged {
    pub name: String,
    pub default: Option<String>,
}

/// What the emulator needs of one method.
#[derive(Clone, Debug, Default)]
pub struct MethodSpec {
    pub params: Vec<String>,
    pub privileged: Vec<Privileged>,
    /// Response fields, with `same_as` and `includes_from` resolved.
    pub fields: Vec<FieldSpec>,
}

fn field(v: &Value) -> FieldSpec {
    let s = |k: &str| v[k].as_str().map(str::to_string);
    FieldSpec {
        name: s("name").unwrap_or_default(),
        optional: v["optional"].as_bool().unwrap_or(false),
        kind: s("type").unwrap_or_default(),
        item_type: s("item_type"),
        map_value_type: s("map_value_type"),
        fields: v["fields"]
            .as_array()
            .map(|a| a.iter().map(field).collect())
            .unwrap_or_default(),
    }
}

fn literal(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.into()),
        other => Some(other.to_string()),
    }
}

fn load() -> HashMap<String, MethodSpec> {
    let cat: Value = serde_json::from_str(CATALOG).unwrap_or(Value::Null);
    let methods = cat["methods"].as_array().cloned().unwrap_or_default();
    let own = |m: &Value| -> Vec<FieldSpec> {
        m["response"]["fields"]
            .as_array()
            .map(|a| a.iter().map(field).collect())
            .unwrap_or_default()
    };
    let by_name: HashMap<String, &Value> = methods
        .iter()
        .filter_map(|m| Some((m["name"].as_str()?.to_string(), m)))
        .collect();
    let mut out = HashMap::new();
    for m in &methods {
        let Some(name) = m["name"].as_str() else {
            continue;
        };
        let params = m["params"].as_array().cloned().unwrap_or_default();
        let mut fields = own(m);
        let resp = &m["response"];
        if let Some(base) = resp["same_as"]["method"].as_str() {
            let except: Vec<&str> = resp["same_as"]["except_fields"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if fields.is_empty() {
                if let Some(b) = by_name.get(base) {
                    fields = own(b)
                        .into_iter()
                        .filter(|f| !except.contains(&f.name.as_str()))
                        .collect();
                }
            }
        }
        if let Some(base) = resp["includes_from"]["method"].as_str() {
            if let Some(b) = by_name.get(base) {
                // Included only when a result exists: optional here.
                fields.extend(own(b).into_iter().map(|mut f| {
                    f.optional = true;
                    f
                }));
            }
        }
        out.insert(
            name.to_string(),
            MethodSpec {
                params: params
                    .iter()
                    .filter_map(|p| p["name"].as_str().map(str::to_string))
                    .collect(),
                privileged: params
                    .iter()
                    .filter(|p| p["privileged"].as_bool() == Some(true))
                    .map(|p| Privileged {
                        name: p["name"].as_str().unwrap_or_default().to_string(),
                        default: literal(&p["default"]),
                    })
                    .collect(),
                fields,
            },
        );
    }
    out
}

static METHODS: LazyLock<HashMap<String, MethodSpec>> = LazyLock::new(load);

/// The catalog's entry for an API method (empty for an unknown name).
pub fn method(name: &str) -> &'static MethodSpec {
    static EMPTY: LazyLock<MethodSpec> = LazyLock::new(MethodSpec::default);
    METHODS.get(name).unwrap_or(&EMPTY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_read() {
        // The emulator reads its own copy of the catalog; the SDK its table.
        assert_eq!(METHODS.len(), lastline_core::request::METHODS.len());
        let sf = method("submit_file");
        assert!(sf.params.iter().any(|p| p == "filename"));
        let bc = sf.privileged.iter().find(|p| p.name == "bypass_cache");
        assert_eq!(bc.and_then(|p| p.default.as_deref()), Some("0"));
        // get_result is get_results without `report`.
        let gr = method("get_result");
        assert!(gr.fields.iter().any(|f| f.name == "reports"));
        assert!(!gr.fields.iter().any(|f| f.name == "report"));
        // A submission includes get_results' fields, optionally.
        assert!(sf.fields.iter().any(|f| f.name == "score" && f.optional));
    }
}
