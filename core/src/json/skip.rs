//! Skips one JSON value of any size, resumably, in O(1) memory.

use super::MAX_DEPTH;
use crate::error::JsonError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before the value (white space allowed).
    Start,
    /// Inside a string that is the whole value.
    TopString { escape: bool },
    /// Inside a number or literal that is the whole value.
    TopScalar,
    /// Inside an object or array.
    Nested { in_string: bool, escape: bool },
    /// The value has ended.
    Done,
}

/// Skips one value. Brackets must match and strings must end; the inside
/// of skipped values is not otherwise checked.
#[derive(Clone, Debug)]
pub struct Skipper {
    state: State,
    /// Bit `i` set: level `i` is an object.
    kinds: u64,
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
            kinds: 0,
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
    pub fn feed(&mut self, input: &[u8]) -> Result<usize, JsonError> {
        for (i, &b) in input.iter().enumerate() {
            match self.state {
                State::Done => return Ok(i),
                State::Start => match b {
                    b' ' | b'\t' | b'\r' | b'\n' => {}
                    b'"' => self.state = State::TopString { escape: false },
                    b'{' | b'[' => {
                        self.push(b == b'{')?;
                        self.state = State::Nested {
                            in_string: false,
                            escape: false,
                        };
                    }
                    _ if scalar_byte(b) => self.state = State::TopScalar,
                    _ => return Err(JsonError::Syntax(text!("a value"))),
                },
                State::TopString { escape } => {
                    if b < 0x20 {
                        return Err(JsonError::Syntax(text!("no control characters in strings")));
                    }
                    self.state = match (escape, b) {
                        (true, _) => State::TopString { escape: false },
                        (false, b'\\') => State::TopString { escape: true },
                        (false, b'"') => State::Done,
                        _ => State::TopString { escape: false },
                    };
                }
                State::TopScalar => {
                    if !scalar_byte(b) {
                        self.state = State::Done;
                        return Ok(i);
                    }
                }
                State::Nested {
                    in_string: true,
                    escape,
                } => {
                    if b < 0x20 {
                        return Err(JsonError::Syntax(text!("no control characters in strings")));
                    }
                    self.state = match (escape, b) {
                        (true, _) => State::Nested {
                            in_string: true,
                            escape: false,
                        },
                        (false, b'\\') => State::Nested {
                            in_string: true,
                            escape: true,
                        },
                        (false, b'"') => State::Nested {
                            in_string: false,
                            escape: false,
                        },
                        _ => State::Nested {
                            in_string: true,
                            escape: false,
                        },
                    };
                }
                State::Nested {
                    in_string: false, ..
                } => match b {
                    b'"' => {
                        self.state = State::Nested {
                            in_string: true,
                            escape: false,
                        }
                    }
                    b'{' | b'[' => self.push(b == b'{')?,
                    b'}' | b']' => {
                        self.pop(b == b'}')?;
                        if self.depth == 0 {
                            self.state = State::Done;
                        }
                    }
                    b' ' | b'\t' | b'\r' | b'\n' | b',' | b':' => {}
                    _ if scalar_byte(b) => {}
                    _ => return Err(JsonError::Syntax(text!("a value"))),
                },
            }
        }
        Ok(input.len())
    }

    fn push(&mut self, object: bool) -> Result<(), JsonError> {
        if self.depth >= MAX_DEPTH {
            return Err(JsonError::TooDeep { limit: MAX_DEPTH });
        }
        let bit = 1u64.checked_shl(self.depth as u32).unwrap_or(0);
        if object {
            self.kinds |= bit;
        } else {
            self.kinds &= !bit;
        }
        self.depth = self.depth.saturating_add(1);
        Ok(())
    }

    fn pop(&mut self, object: bool) -> Result<(), JsonError> {
        let Some(d) = self.depth.checked_sub(1) else {
            return Err(JsonError::Syntax(text!("a value")));
        };
        let bit = 1u64.checked_shl(d as u32).unwrap_or(0);
        if (self.kinds & bit != 0) != object {
            return Err(JsonError::Syntax(text!("matching brackets")));
        }
        self.depth = d;
        Ok(())
    }
}
