//! What the CLI prints: JSON for scripts (`--json`), or readable text —
//! `key: value` lines, and tables for lists of records. Every string goes
//! through [`crate::safe`]: keys and values alike come from the server.

use std::io::{self, Write};

use serde_json::Value;

use crate::safe;

/// Prints `v` as JSON or as text.
pub fn print(v: &Value, json: bool) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        safe::json_pretty(&mut out, v)?;
        writeln!(out)
    } else {
        let mut s = String::new();
        render(v, 0, &mut s);
        out.write_all(s.as_bytes())
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => safe::text(s).into_owned(),
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            a.iter().map(scalar).collect::<Vec<_>>().join(", ")
        }
        other => safe::text(&other.to_string()).into_owned(),
    }
}

fn is_table(a: &[Value]) -> bool {
    !a.is_empty() && a.iter().all(Value::is_object)
}

/// Text form of `v` at `indent` spaces.
pub fn render(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            let width = map.keys().map(|k| safe::text(k).len()).max().unwrap_or(0);
            for (k, v) in map {
                let k = safe::text(k);
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        render(v, indent + 2, out);
                    }
                    Value::Array(a) if is_table(a) => {
                        out.push_str(&format!("{pad}{k}: ({} entries)\n", a.len()));
                        table(a, indent + 2, out);
                    }
                    _ => out.push_str(&format!("{pad}{k:width$}  {}\n", scalar(v))),
                }
            }
        }
        Value::Array(a) if is_table(a) => table(a, indent, out),
        Value::Array(a) if a.is_empty() => out.push_str(&format!("{pad}(none)\n")),
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

/// Rows of records as an aligned table (columns: every key seen).
fn table(rows: &[Value], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    // Columns in the order first seen (a set beside: a hostile answer
    // may have many keys).
    let mut cols: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in rows {
        if let Value::Object(m) = r {
            for k in m.keys() {
                if seen.insert(k.as_str()) {
                    cols.push(k.clone());
                }
            }
        }
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| r.get(c).map(scalar).unwrap_or_else(|| "-".into()))
                .collect()
        })
        .collect();
    let cols: Vec<String> = cols.iter().map(|c| safe::text(c).into_owned()).collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(c.len())
        })
        .collect();
    let line = |vals: &[String]| {
        let mut l = pad.clone();
        for (i, v) in vals.iter().enumerate() {
            if i + 1 == vals.len() {
                l.push_str(v);
            } else {
                l.push_str(&format!("{v:w$}  ", w = widths[i]));
            }
        }
        l.push('\n');
        l
    };
    out.push_str(&line(
        &cols.iter().map(|c| c.to_uppercase()).collect::<Vec<_>>(),
    ));
    for r in &cells {
        out.push_str(&line(r));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_become_a_table_and_objects_lines() {
        let v = json!({"result": {"score": 90, "uuid": "ab"}, "items": [{"task": "a", "score": 1}, {"task": "bb", "score": null}]});
        let mut s = String::new();
        render(&v, 0, &mut s);
        assert!(s.contains("result:\n  score  90\n  uuid   ab\n"), "{s}");
        assert!(
            s.contains("items: (2 entries)\n  TASK  SCORE\n  a     1\n  bb    -\n"),
            "{s}"
        );
    }
}
