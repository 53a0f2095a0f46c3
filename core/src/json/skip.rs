//! Skips one JSON value of any size, resumably, in O(1) memory.

use super::MAX_DEPTH;
use crate::error::JsonError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before the value.
    Start,
    /// Inside a string, at the top (depth 0) or nested.
    String { escape: bool },
    /// Inside a top-level number or literal.
    TopScalar,
    /// Inside an array or object, between strings.
    Nested,
    /// The value has ended.
    Done,
}

/// Skips one value. Brackets must match and strings must end; the inside
/// of skipped values is not otherwise checked.
#[derive(Clone, Debug)]
pub struct Skipper {
    state: State,
    /// Bit `i % 32` of word `i / 32` set: level `i` is an object (two
    /// 32-bit words: a variable 64-bit shift is a library call on a
    /// Cortex-M, core/FIRMWARE.md).
    kinds: [u32; 2],
    depth: usize,
}

impl Default for Skipper {
    fn default() -> Self {
        Self::new()
    }
}

fn scalar_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.')
}

impl Skipper {
    /// A skipper before a value.
    pub const fn new() -> Self {
        Self {
            state: State::Start,
            kinds: [0; 2],
            depth: 0,
        }
    }

    /// True once the whole value has been seen.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Feeds the next bytes; returns how many belong to the value. When
    /// fewer than `input.len()` are taken, or the value ends exactly at the
    /// end of `input` with a closing bracket or quote, [`Self::is_done`]
    /// is true.
    ///
    /// Each state runs its own loop over the bytes, so a long string or a
    /// long stretch of structure between strings goes by without a
    /// dispatch per byte.
    pub fn feed(&mut self, input: &[u8]) -> Result<usize, JsonError> {
        let mut i = 0usize;
        loop {
            match self.state {
                State::Done => return Ok(i),
                State::Start => {
                    let Some(&b) = input.get(i) else {
                        return Ok(input.len());
                    };
                    i = i.saturating_add(1);
                    match b {
                        b' ' | b'\t' | b'\r' | b'\n' => {}
                        b'"' => self.state = State::String { escape: false },
                        b'{' | b'[' => {
                            self.push(b == b'{')?;
                            self.state = State::Nested;
                        }
                        _ if scalar_byte(b) => self.state = State::TopScalar,
                        _ => return Err(JsonError::Syntax(text!("a value"))),
                    }
                }
                // One string scanner for top-level and nested strings.
                State::String { mut escape } => loop {
                    // Plain bytes a machine word at a time: skipped
                    // reports are mostly strings.
                    if !escape {
                        i = super::reader::plain_run_end(input, i);
                    }
                    let Some(&b) = input.get(i) else {
                        self.state = State::String { escape };
                        return Ok(input.len());
                    };
                    i = i.saturating_add(1);
                    if b < 0x20 {
                        return Err(JsonError::Syntax(text!("no control characters in strings")));
                    }
                    match (escape, b) {
                        (false, b'\\') => escape = true,
                        (false, b'"') => {
                            self.state = if self.depth == 0 {
                                State::Done
                            } else {
                                State::Nested
                            };
                            break;
                        }
                        _ => escape = false,
                    }
                },
                State::TopScalar => {
                    while let Some(&b) = input.get(i) {
                        if !scalar_byte(b) {
                            self.state = State::Done;
                            return Ok(i);
                        }
                        i = i.saturating_add(1);
                    }
                    return Ok(input.len());
                }
                // Between strings: brackets, punctuation, white space and
                // scalars.
                State::Nested => loop {
                    let Some(&b) = input.get(i) else {
                        return Ok(input.len());
                    };
                    i = i.saturating_add(1);
                    match b {
                        b'"' => {
                            self.state = State::String { escape: false };
                            break;
                        }
                        b'{' | b'[' => self.push(b == b'{')?,
                        b'}' | b']' => {
                            self.pop(b == b'}')?;
                            if self.depth == 0 {
                                self.state = State::Done;
                                break;
                            }
                        }
                        b' ' | b'\t' | b'\r' | b'\n' | b',' | b':' => {}
                        _ if scalar_byte(b) => {}
                        _ => return Err(JsonError::Syntax(text!("a value"))),
                    }
                },
            }
        }
    }

    fn push(&mut self, object: bool) -> Result<(), JsonError> {
        if self.depth >= MAX_DEPTH {
            return Err(JsonError::TooDeep { limit: MAX_DEPTH });
        }
        let (word, bit) = level_bit(self.depth);
        if let Some(w) = self.kinds.get_mut(word) {
            if object {
                *w |= bit;
            } else {
                *w &= !bit;
            }
        }
        self.depth = self.depth.saturating_add(1);
        Ok(())
    }

    fn pop(&mut self, object: bool) -> Result<(), JsonError> {
        let Some(d) = self.depth.checked_sub(1) else {
            return Err(JsonError::Syntax(text!("a value")));
        };
        let (word, bit) = level_bit(d);
        let was_object = self.kinds.get(word).is_some_and(|w| w & bit != 0);
        if was_object != object {
            return Err(JsonError::Syntax(text!("matching brackets")));
        }
        self.depth = d;
        Ok(())
    }
}

/// The word and bit of nesting level `depth` in [`Skipper`]'s kinds.
fn level_bit(depth: usize) -> (usize, u32) {
    (depth / 32, 1u32.wrapping_shl((depth % 32) as u32))
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// Any JSON value serde_json can write, strings with escapes and
    /// beyond-ASCII text included.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            (-1e9f64..1e9).prop_map(|f| serde_json::json!(f)),
            "(\\PC|[\"\\\\\t\n/])*".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
                proptest::collection::vec(("\\PC{0,8}", inner), 0..8)
                    .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever serde_json writes is skipped to its last byte exactly,
        /// fed whole or in pieces of any size.
        #[test]
        fn skips_what_serde_json_writes(v in json_value(), piece in 1usize..40, pretty in any::<bool>()) {
            let text = if pretty { serde_json::to_vec_pretty(&v) } else { serde_json::to_vec(&v) }.unwrap();
            let input: Vec<u8> = [&text[..], b" ,\"next\""].concat();
            let mut s = Skipper::new();
            let mut taken = 0;
            for chunk in input.chunks(piece) {
                taken += s.feed(chunk).unwrap();
                if s.is_done() {
                    break;
                }
            }
            prop_assert!(s.is_done());
            // A top-level number ends at the byte after it: the same place.
            prop_assert_eq!(taken, text.len());
        }
    }

    /// Feeds `input` one byte at a time; returns the bytes taken once done.
    fn skip_bytewise(input: &[u8]) -> Result<Option<usize>, JsonError> {
        let mut s = Skipper::new();
        let mut taken = 0;
        for chunk in input.chunks(1) {
            let n = s.feed(chunk)?;
            taken += n;
            if s.is_done() {
                return Ok(Some(taken));
            }
        }
        Ok(None)
    }

    #[test]
    fn values_of_every_shape_end_where_they_end() {
        for (input, len) in [
            (&br#""top \" ] } string" ,"#[..], 19),
            (br#"{"a": "}]\\", "b": [1, {"c": "[{"}]} tail"#, 36),
            (br#"[[], {}, "x", -1.5e3, true, null] "#, 33),
            (b"  12345,", 7),
            (br#"{"s": "\u0022"}x"#, 15),
        ] {
            assert_eq!(
                skip_bytewise(input),
                Ok(Some(len)),
                "{:?}",
                core::str::from_utf8(input)
            );
            // Whole at once: the same count.
            let mut s = Skipper::new();
            assert_eq!(s.feed(input), Ok(len));
            assert!(s.is_done());
        }
    }

    #[test]
    fn broken_values_are_errors() {
        for bad in [
            &b"[}"[..],
            b"{]",
            b"]",
            b"\"a\x01b\"",
            b"[\"a\nb\"]",
            b"[@]",
            b"#",
        ] {
            assert!(
                skip_bytewise(bad).is_err(),
                "{:?}",
                core::str::from_utf8(bad)
            );
        }
        let deep = [b'['; MAX_DEPTH + 1];
        assert_eq!(
            skip_bytewise(&deep),
            Err(JsonError::TooDeep { limit: MAX_DEPTH })
        );
        // Bracket kinds are kept right across both words (levels 0..64).
        let mut open = std::string::String::new();
        let mut close = std::string::String::new();
        for level in 0..MAX_DEPTH {
            if level % 3 == 0 {
                open.push_str("{\"k\":");
                close.insert(0, '}');
            } else {
                open.push('[');
                close.insert(0, ']');
            }
        }
        let good = std::format!("{open}1{close}");
        assert_eq!(skip_bytewise(good.as_bytes()), Ok(Some(good.len())));
        // A wrong closer at a level of the second word is caught.
        let mut bad = good.clone().into_bytes();
        let at = open.len() + 1 + 20; // closes level 43
        bad[at] = if bad[at] == b']' { b'}' } else { b']' };
        assert!(skip_bytewise(&bad).is_err());
        // An unterminated value is not done.
        assert_eq!(skip_bytewise(b"[\"abc"), Ok(None));
    }
}
