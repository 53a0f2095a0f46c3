//! Text that came from the server, a sample or a local path, made safe
//! for a terminal: the one place the CLI decides what may reach one.
//!
//! Strings an analysis reports (threats, activities, URLs, file names)
//! are written by the malware itself, and the path to the server may be
//! hostile. A control character (C0, DEL, C1 such as U+009B, the
//! terminal's CSI), a bidi override (U+202E) or another invisible format
//! character can set a window title, clear the screen, recolour, or make
//! one row look like two. Such characters are shown escaped (`\x1b`,
//! `\u202e`), never interpreted: a row is one line.
//!
//! With `--json` the same characters are written as JSON escapes
//! (`\u001b`, `\u009b`, `\u202e`), so the output read in a terminal holds
//! none of them raw and still parses back to the server's exact text.

use std::borrow::Cow;
use std::io::{self, Write};

use unicode_general_category::{get_general_category, GeneralCategory};

/// Whether `c` is never written raw: a control (Cc: C0, DEL, C1), a
/// format character (Cf: bidi controls, zero-width characters, the BOM),
/// or a line or paragraph separator (Zl, Zp).
pub fn is_unsafe(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// `s` for a terminal: every unsafe character escaped as `\xNN` (up to
/// U+00FF) or `\u{...}`; anything else as it is.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if u32::from(c) <= 0xff {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        }
    }
    Cow::Owned(out)
}

/// A path for a terminal (any bytes: what is not UTF-8 shows as U+FFFD).
pub fn path(p: &std::path::Path) -> String {
    text(&p.to_string_lossy()).into_owned()
}

/// Writes `c` as a JSON escape (a surrogate pair past the BMP).
fn json_escape(out: &mut dyn Write, c: char) -> io::Result<()> {
    let mut units = [0u16; 2];
    for u in c.encode_utf16(&mut units) {
        write!(out, "\\u{u:04x}")?;
    }
    Ok(())
}

/// Writes a run of string text (already free of `"`, `\` and what JSON
/// itself escapes) with the unsafe characters escaped.
fn json_fragment(out: &mut dyn Write, fragment: &str) -> io::Result<()> {
    let mut plain = 0;
    for (i, c) in fragment.char_indices() {
        if is_unsafe(c) {
            out.write_all(&fragment.as_bytes()[plain..i])?;
            json_escape(out, c)?;
            plain = i + c.len_utf8();
        }
    }
    out.write_all(&fragment.as_bytes()[plain..])
}

/// serde_json's formatting (compact or pretty) with every unsafe
/// character escaped, not only the C0 controls JSON requires.
pub struct SafeFormatter<F>(pub F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for SafeFormatter<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut w = writer;
        json_fragment(&mut w, fragment)
    }
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// `v` as one line of JSON, every unsafe character escaped.
pub fn json_line<T: serde::Serialize + ?Sized>(v: &T) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        SafeFormatter(serde_json::ser::CompactFormatter),
    );
    // Serializing to memory fails only for maps with non-string keys,
    // which no value printed here has.
    let _ = v.serialize(&mut ser);
    String::from_utf8(out).unwrap_or_default()
}

/// `v` as indented JSON into `out`, every unsafe character escaped.
pub fn json_pretty<T: serde::Serialize + ?Sized>(out: &mut dyn Write, v: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(
        out,
        SafeFormatter(serde_json::ser::PrettyFormatter::new()),
    );
    v.serialize(&mut ser).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn controls_and_format_characters_are_shown_escaped() {
        assert_eq!(text("plain ünïcödé \\ path"), "plain ünïcödé \\ path");
        assert_eq!(text("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");
        assert_eq!(text("a\nverdict  benign"), "a\\x0averdict  benign");
        assert_eq!(text("\u{9b}31m\u{7f}"), "\\x9b31m\\x7f");
        assert_eq!(text("exe.\u{202e}gpj"), "exe.\\u{202e}gpj");
        assert_eq!(
            text("zero\u{200b}width\u{feff}"),
            "zero\\u{200b}width\\u{feff}"
        );
        assert_eq!(
            text("line\u{2028}para\u{2029}"),
            "line\\u{2028}para\\u{2029}"
        );
        assert_eq!(text("tag\u{e0041}"), "tag\\u{e0041}");
    }

    #[test]
    fn json_escapes_them_too_and_reads_back_the_same() {
        let s = "\x1b[2J \u{9b}1m \u{202e}x \u{10ffff} \u{e0041} \"q\" \\";
        let line = json_line(&serde_json::json!({ "threat": s }));
        assert!(line.contains("\\u001b") && line.contains("\\u009b") && line.contains("\\u202e"));
        assert!(line.contains("\\udb40\\udc41"), "{line}");
        assert!(!line.chars().any(is_unsafe), "{line:?}");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["threat"], s);
    }

    proptest! {
        /// Anything the server may send: its terminal form holds no
        /// control or format character, and its JSON form none raw while
        /// reading back to the same text.
        #[test]
        fn no_string_reaches_a_terminal_raw(s in any::<String>(), t in "[\\x00-\\x{ff}\\x{2000}-\\x{206f}\\x{fe00}-\\x{feff}\\x{e0000}-\\x{e007f}a-z]{0,40}") {
            for s in [s.as_str(), t.as_str()] {
                let shown = text(s);
                prop_assert!(!shown.chars().any(|c| c.is_control() || is_unsafe(c)), "{:?}", shown);
                let line = json_line(s);
                prop_assert!(!line.chars().any(is_unsafe), "{:?}", line);
                let back: String = serde_json::from_str(&line).unwrap();
                prop_assert_eq!(back, s);
            }
        }
    }
}
