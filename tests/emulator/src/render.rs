//! Envelopes as JSON or XML.
//!
//! The reference offers XML ("recommended for human consumption") but
//! gives no schema; this is the emulator's rendering of an envelope, the
//! same value as its JSON answer:
//!
//! - the document is `<?xml version="1.0" encoding="UTF-8"?>` and one
//!   `<response>` element holding the envelope's members (`success`,
//!   `data`, or `error_code` and `error`);
//! - an object's member is an element named by its key when the key is an
//!   XML name (`score`, `analysis_subject`), else `<entry key="...">` (a
//!   task UUID mapped to its score, a file name);
//! - a list's entries are `<item>` elements, in order;
//! - a string is the element's text; a number its JSON spelling; `true`
//!   and `false` are `1` and `0`; `null` an empty element;
//! - `<`, `>`, `&`, `"` and `'` are escaped as entities, and tab, line
//!   feed and carriage return as character references (so parsers keep
//!   them as sent); a character XML 1.0 cannot hold (the C0 controls but
//!   those three, U+FFFE, U+FFFF) is written as U+FFFD.

use serde_json::{json, Value};

/// The format chosen by the path suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
    Raw,
    Pdf,
    Rtf,
}

/// A success envelope.
pub fn success(data: Value) -> Value {
    json!({"success": 1, "data": data})
}

/// A failure envelope; `code` None leaves `error_code` out (allowed).
pub fn failure(code: Option<i64>, message: &str) -> Value {
    match code {
        Some(c) => json!({"success": 0, "error_code": c, "error": message}),
        None => json!({"success": 0, "error": message}),
    }
}

fn xml_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

fn xml_name_ok(k: &str) -> bool {
    let mut cs = k.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn xml_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "1" } else { "0" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => xml_escape(s, out),
        Value::Array(items) => {
            for i in items {
                out.push_str("<item>");
                xml_value(i, out);
                out.push_str("</item>");
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                // Keys that are not XML names (UUID map keys) become entries.
                if xml_name_ok(k) {
                    out.push('<');
                    out.push_str(k);
                    out.push('>');
                    xml_value(v, out);
                    out.push_str("</");
                    out.push_str(k);
                    out.push('>');
                } else {
                    out.push_str("<entry key=\"");
                    xml_escape(k, out);
                    out.push_str("\">");
                    xml_value(v, out);
                    out.push_str("</entry>");
                }
            }
        }
    }
}

/// The same envelope rendered as XML.
pub fn to_xml(envelope: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>");
    xml_value(envelope, &mut out);
    out.push_str("</response>\n");
    out
}

/// A PDF string literal's text: printable ASCII, with `\\`, `(` and `)`
/// escaped; anything else (the base-14 font has no glyph for it) as `?`.
fn pdf_text(line: &str) -> String {
    let mut out = String::new();
    for c in line.chars() {
        match c {
            '\\' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// A one-page PDF document showing `lines` (the first as a heading), with
/// correct cross-reference offsets, so viewers open it without repair.
pub fn pdf(lines: &[String]) -> Vec<u8> {
    let mut stream = String::from("BT /F1 16 Tf 72 740 Td 20 TL");
    for (i, l) in lines.iter().enumerate() {
        if i == 1 {
            stream.push_str(" /F1 11 Tf 16 TL T*");
        }
        stream.push_str(&format!(" ({}) Tj T*", pdf_text(l)));
    }
    stream.push_str(" ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// An RTF document showing `lines` (the first in bold), non-ASCII as
/// `\\uN?` escapes.
pub fn rtf(lines: &[String]) -> Vec<u8> {
    let mut out = String::from("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Helvetica;}}\\f0\\fs22\n");
    for (i, l) in lines.iter().enumerate() {
        if i == 0 {
            out.push_str("{\\b\\fs28 ");
        }
        for c in l.chars() {
            match c {
                '\\' | '{' | '}' => {
                    out.push('\\');
                    out.push(c);
                }
                ' '..='~' => out.push(c),
                // RTF's \u takes a signed 16-bit number.
                c => out.push_str(&format!("\\u{}?", c as u32 as u16 as i16)),
            }
        }
        if i == 0 {
            out.push('}');
        }
        out.push_str("\\par\n");
    }
    out.push_str("}\n");
    out.into_bytes()
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), for `Retry-After`.
pub fn http_date(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = crate::store::format_time(unix);
    // YYYY-MM-DD HH:MM:SS
    let month: usize = t[5..7].parse().unwrap_or(1);
    let weekday = DAYS[unix.div_euclid(86_400).rem_euclid(7) as usize];
    format!(
        "{weekday}, {} {} {} {} GMT",
        &t[8..10],
        MONTHS[month.clamp(1, 12) - 1],
        &t[..4],
        &t[11..]
    )
}

/// The HTML page a front proxy answers with.
pub fn html_page(status: u16, title: &str) -> String {
    format!("<html>\r\n<head><title>{status} {title}</title></head>\r\n<body>\r\n<center><h1>{status} {title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn pdf_strings_are_escaped() {
        let doc = pdf(&["Title".into(), "a (b) \\ c \u{e9}".into()]);
        let text = String::from_utf8(doc.clone()).unwrap();
        assert!(text.contains("(a \\(b\\) \\\\ c ?) Tj"));
    }
}
