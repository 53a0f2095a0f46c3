//! The server's `data`, copied from an answer kept on disk to the output
//! as indented JSON, byte by byte: never built into a tree, so memory
//! stays the same whatever the answer's size (a `serde_json::Value` of an
//! answer takes some 30 times its size). Strings are copied as they are,
//! their escapes kept, with every character [`safe::is_unsafe`] calls
//! unsafe written as a JSON escape.
//!
//! Hand-written because no crate streams JSON through without holding a
//! whole string (serde_json reads each string into memory, and the answer
//! is the server's to shape). The answer was accepted by the core's
//! decoder first, so its syntax is known to be sound; this reader still
//! refuses what is not JSON rather than guess. Checked against serde_json
//! (what it reads back equals what serde_json reads from the answer).

use std::io::{self, BufRead, Write};

use crate::safe;

/// Deepest nesting copied (the core's decoder refuses deeper answers).
const MAX_DEPTH: usize = 128;
/// Longest envelope key read (`success`, `data`, `error_code`...).
const MAX_KEY: usize = 64;

fn bad(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("answer is not JSON: {what}"),
    )
}

/// The bytes of the answer, one at a time, with a look at the next.
struct Bytes<R> {
    inner: R,
}

impl<R: BufRead> Bytes<R> {
    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.inner.fill_buf()?.first().copied())
    }

    fn next(&mut self) -> io::Result<Option<u8>> {
        let b = self.peek()?;
        if b.is_some() {
            self.inner.consume(1);
        }
        Ok(b)
    }

    fn need(&mut self) -> io::Result<u8> {
        self.next()?.ok_or_else(|| bad("it ends early"))
    }

    /// The next byte that is not white space.
    fn token(&mut self) -> io::Result<u8> {
        loop {
            match self.need()? {
                b' ' | b'\t' | b'\n' | b'\r' => {}
                b => return Ok(b),
            }
        }
    }

    /// Peeks past white space.
    fn peek_token(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.inner.consume(1),
                other => return Ok(other),
            }
        }
    }
}

/// Where the copy goes, with the indentation of the current depth.
struct Out<'w> {
    w: &'w mut dyn Write,
}

impl Out<'_> {
    fn newline(&mut self, depth: usize) -> io::Result<()> {
        self.w.write_all(b"\n")?;
        for _ in 0..depth {
            self.w.write_all(b"  ")?;
        }
        Ok(())
    }
}

/// Copies the `data` member of the envelope read from `input` to `out`,
/// indented, followed by a newline; `null` when there is none.
pub fn copy_data(input: impl BufRead, out: &mut dyn Write) -> io::Result<()> {
    let mut b = Bytes { inner: input };
    let mut o = Out { w: out };
    if b.token()? != b'{' {
        return Err(bad("the answer is not an object"));
    }
    let mut copied = false;
    let mut first = true;
    loop {
        match b.token()? {
            b'}' => break,
            b',' if !first => {
                if b.token()? != b'"' {
                    return Err(bad("a member without a name"));
                }
            }
            b'"' if first => {}
            _ => return Err(bad("a member without a name")),
        }
        first = false;
        let key = read_key(&mut b)?;
        if b.token()? != b':' {
            return Err(bad("a name without a value"));
        }
        if key == "data" && !copied {
            copy_value(&mut b, &mut o, 0)?;
            copied = true;
        } else {
            skip_value(&mut b, 0)?;
        }
    }
    if !copied {
        o.w.write_all(b"null")?;
    }
    o.w.write_all(b"\n")
}

/// An envelope key (after its opening quote), decoded.
fn read_key<R: BufRead>(b: &mut Bytes<R>) -> io::Result<String> {
    let mut raw = vec![b'"'];
    loop {
        let c = b.need()?;
        raw.push(c);
        if raw.len() > MAX_KEY {
            return Err(bad("an envelope key is too long"));
        }
        match c {
            b'"' => break,
            b'\\' => raw.push(b.need()?),
            _ => {}
        }
    }
    serde_json::from_slice(&raw).map_err(|_| bad("a malformed key"))
}

/// Skips one value.
fn skip_value<R: BufRead>(b: &mut Bytes<R>, depth: usize) -> io::Result<()> {
    copy_or_skip(b, None, depth)
}

/// Copies one value, indented at `depth`.
fn copy_value<R: BufRead>(b: &mut Bytes<R>, o: &mut Out<'_>, depth: usize) -> io::Result<()> {
    copy_or_skip(b, Some(o), depth)
}

fn copy_or_skip<R: BufRead>(
    b: &mut Bytes<R>,
    mut o: Option<&mut Out<'_>>,
    depth: usize,
) -> io::Result<()> {
    if depth > MAX_DEPTH {
        return Err(bad("nested too deep"));
    }
    match b.token()? {
        open @ (b'{' | b'[') => {
            let close = if open == b'{' { b'}' } else { b']' };
            if let Some(o) = o.as_deref_mut() {
                o.w.write_all(&[open])?;
            }
            if b.peek_token()? == Some(close) {
                b.next()?;
            } else {
                loop {
                    if let Some(o) = o.as_deref_mut() {
                        o.newline(depth + 1)?;
                    }
                    if open == b'{' {
                        if b.token()? != b'"' {
                            return Err(bad("a member without a name"));
                        }
                        string(b, o.as_deref_mut())?;
                        if b.token()? != b':' {
                            return Err(bad("a name without a value"));
                        }
                        if let Some(o) = o.as_deref_mut() {
                            o.w.write_all(b": ")?;
                        }
                    }
                    copy_or_skip(b, o.as_deref_mut(), depth + 1)?;
                    match b.token()? {
                        b',' => {
                            if let Some(o) = o.as_deref_mut() {
                                o.w.write_all(b",")?;
                            }
                        }
                        c if c == close => break,
                        _ => return Err(bad("a missing comma")),
                    }
                }
                if let Some(o) = o.as_deref_mut() {
                    o.newline(depth)?;
                }
            }
            if let Some(o) = o {
                o.w.write_all(&[close])?;
            }
            Ok(())
        }
        b'"' => string(b, o),
        first @ (b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
            // A number or a literal: its characters up to a delimiter.
            let mut token = vec![first];
            while let Some(c) = b.peek()? {
                if !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.')) {
                    break;
                }
                token.push(c);
                b.next()?;
                if token.len() > 512 {
                    return Err(bad("a number too long"));
                }
            }
            serde_json::from_slice::<serde::de::IgnoredAny>(&token)
                .map_err(|_| bad("not a number or literal"))?;
            match o {
                Some(o) => o.w.write_all(&token),
                None => Ok(()),
            }
        }
        _ => Err(bad("an unexpected character")),
    }
}

/// Copies the rest of a string (its opening quote read), its escapes
/// kept, unsafe characters escaped.
fn string<R: BufRead>(b: &mut Bytes<R>, mut o: Option<&mut Out<'_>>) -> io::Result<()> {
    if let Some(o) = o.as_deref_mut() {
        o.w.write_all(b"\"")?;
    }
    let mut char_bytes = [0u8; 4];
    loop {
        let c = b.need()?;
        match c {
            b'"' => break,
            b'\\' => {
                let e = b.need()?;
                let mut escape = vec![b'\\', e];
                match e {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    b'u' => {
                        for _ in 0..4 {
                            let h = b.need()?;
                            if !h.is_ascii_hexdigit() {
                                return Err(bad("a bad \\u escape"));
                            }
                            escape.push(h);
                        }
                    }
                    _ => return Err(bad("a bad escape")),
                }
                if let Some(o) = o.as_deref_mut() {
                    o.w.write_all(&escape)?;
                }
            }
            // Raw control bytes are not JSON; written escaped all the same.
            0x00..=0x7f => {
                if let Some(o) = o.as_deref_mut() {
                    let ch = char::from(c);
                    if safe::is_unsafe(ch) {
                        write!(o.w, "\\u{:04x}", c)?;
                    } else {
                        o.w.write_all(&[c])?;
                    }
                }
            }
            lead => {
                // One UTF-8 character: its length from the lead byte.
                let len = match lead {
                    0xc2..=0xdf => 2,
                    0xe0..=0xef => 3,
                    0xf0..=0xf4 => 4,
                    _ => return Err(bad("invalid UTF-8")),
                };
                char_bytes[0] = lead;
                for slot in char_bytes.iter_mut().take(len).skip(1) {
                    *slot = b.need()?;
                }
                let s =
                    std::str::from_utf8(&char_bytes[..len]).map_err(|_| bad("invalid UTF-8"))?;
                if let Some(o) = o.as_deref_mut() {
                    let ch = s.chars().next().unwrap_or('\u{fffd}');
                    if safe::is_unsafe(ch) {
                        let mut units = [0u16; 2];
                        for u in ch.encode_utf16(&mut units) {
                            write!(o.w, "\\u{u:04x}")?;
                        }
                    } else {
                        o.w.write_all(s.as_bytes())?;
                    }
                }
            }
        }
    }
    if let Some(o) = o {
        o.w.write_all(b"\"")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn copy(body: &[u8]) -> io::Result<String> {
        let mut out = Vec::new();
        copy_data(body, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn data_is_copied_indented_and_the_rest_skipped() {
        let body = br#" { "success" : 1, "error": {"x": [1, 2]}, "data" : {"a":[],"b":{},"c":[1,{"d":"e\u001b\n"}],"n":-1.5e3,"t":true,"z":null} } "#;
        let s = copy(body).unwrap();
        assert_eq!(
            s,
            "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    {\n      \"d\": \"e\\u001b\\n\"\n    }\n  ],\n  \"n\": -1.5e3,\n  \"t\": true,\n  \"z\": null\n}\n"
        );
        assert_eq!(copy(br#"{"success": 0}"#).unwrap(), "null\n");
    }

    #[test]
    fn raw_unsafe_characters_become_escapes() {
        let body = "{\"data\": \"\u{9b}2J \u{202e}cod.exe \u{7f} \u{e0041}\"}";
        let s = copy(body.as_bytes()).unwrap();
        assert_eq!(s, "\"\\u009b2J \\u202ecod.exe \\u007f \\udb40\\udc41\"\n");
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "\u{9b}2J \u{202e}cod.exe \u{7f} \u{e0041}");
    }

    #[test]
    fn what_is_not_json_is_refused() {
        for body in [
            &b"[1]"[..],
            b"{\"data\": [1 2]}",
            b"{\"data\": \"\xff\"}",
            b"{\"data\": \"open",
            b"{\"data\": tru}",
            b"{\"data\": \"\\x41\"}",
        ] {
            assert!(copy(body).is_err(), "{:?}", String::from_utf8_lossy(body));
        }
        let deep = format!("{{\"data\": {}{}}}", "[".repeat(200), "]".repeat(200));
        assert!(copy(deep.as_bytes()).is_err());
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[\\x00-\\x{ff}\\x{2000}-\\x{206f}]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever `data` holds, in compact or pretty form: the copy
        /// reads back (serde_json as the oracle) to the same value and
        /// holds no unsafe character raw.
        #[test]
        fn the_copy_reads_back_the_same(data in value(), pretty in any::<bool>()) {
            let envelope = json!({"success": 1, "data": data.clone(), "extra": [data.clone()]});
            let body = if pretty { serde_json::to_vec_pretty(&envelope) } else { serde_json::to_vec(&envelope) }.unwrap();
            let s = copy(&body).unwrap();
            // Only the copy's own line breaks.
            prop_assert!(s.chars().all(|c| c == '\n' || !safe::is_unsafe(c)), "{:?}", s);
            // What serde_json reads from the answer itself (its float
            // parsing is not exact both ways; the copy keeps the text).
            let want: Value = serde_json::from_slice::<Value>(&body).unwrap()["data"].clone();
            let back: Value = serde_json::from_str(&s).unwrap();
            prop_assert_eq!(back, want);
        }
    }
}
