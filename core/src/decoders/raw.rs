//! `data` of any method as the server's own JSON: what a caller that
//! names methods at run time ([`crate::request::ByName`], the C ABI)
//! receives instead of typed values.
//!
//! Lists are streamed, as the typed decoders stream them: a member of
//! `data` that is an array, or that any method of the table streams
//! ([`MethodInfo::lists`](crate::request::MethodInfo::lists): the maps of
//! `get_completed`), comes out entry by entry as [`RawEntry`]s, each at
//! most `ENTRY` bytes of JSON. The rest of `data` is kept as an object of
//! at most `CAP` bytes ([`RawJson`]); a scalar `data` (`"pong"`) is kept
//! as it is. Values are the server's bytes, unchanged (escapes included):
//! more than a capacity is an error, never a cut. Names (a member's, a
//! map entry's key) come as JSON string contents too, so that a control
//! character the server escaped stays escaped: `\u00XX` for every C0 and
//! C1 control and DEL.

use heapless::{String, Vec};

use crate::envelope::{DataDecoder, Field};
use crate::error::{Error, JsonError};
use crate::json::{Fail, Reader};
use crate::request::METHODS;

/// The longest member or map key a [`RawEntry`] names.
pub const RAW_KEY_CAPACITY: usize = 128;

/// One entry of a streamed member of `data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEntry<const ENTRY: usize> {
    /// The member of `data` it belongs to (`tasks`, `child_tasks`...), as
    /// JSON string contents (escaped, without the quotes).
    pub member: String<RAW_KEY_CAPACITY>,
    /// Its key, when the member is an object (`get_completed`'s
    /// `{uuid: score}` form), as JSON string contents.
    pub key: Option<String<RAW_KEY_CAPACITY>>,
    /// The entry's JSON, as the server sent it.
    pub json: Vec<u8, ENTRY>,
}

/// `data` without its streamed members: a JSON object (or the scalar
/// `data` was), as the server sent its values.
pub type RawJson<const CAP: usize> = Vec<u8, CAP>;

/// The decoder of [`RawEntry`]s and [`RawJson`].
#[derive(Debug, Default)]
pub struct RawData<const CAP: usize, const ENTRY: usize> {
    out: Vec<u8, CAP>,
    /// The member whose entries are being streamed.
    member: String<RAW_KEY_CAPACITY>,
    scalar: bool,
}

/// The name streamed members are reported under in errors.
const STREAMED: &str = "data.*[]";

fn streamed_by_a_method(key: &str) -> Option<&'static str> {
    METHODS
        .iter()
        .flat_map(|m| m.lists.iter())
        .find(|l| **l == key)
        .copied()
}

/// Writes `s` as JSON string contents into `out`: `"` and `\` escaped,
/// and every control character (C0, DEL, C1) as `\u00XX`.
fn push_escaped<const N: usize>(out: &mut Vec<u8, N>, s: &str) -> Result<(), ()> {
    for c in s.chars() {
        let mut utf8 = [0u8; 4];
        let put: &[u8] = match c {
            '"' => b"\\\"",
            '\\' => b"\\\\",
            // Controls are at most U+009F: two hex digits.
            c if c.is_control() => {
                let code = u8::try_from(u32::from(c)).map_err(drop)?;
                out.extend_from_slice(b"\\u00").map_err(drop)?;
                out.extend_from_slice(&crate::codec::hex_pair(code))
                    .map_err(drop)?;
                continue;
            }
            c => c.encode_utf8(&mut utf8).as_bytes(),
        };
        out.extend_from_slice(put).map_err(drop)?;
    }
    Ok(())
}

/// Writes `s` as a JSON string (quotes, escapes) into `out`.
fn push_json_string<const N: usize>(out: &mut Vec<u8, N>, s: &str) -> Result<(), ()> {
    out.push(b'"').map_err(drop)?;
    push_escaped(out, s)?;
    out.push(b'"').map_err(drop)
}

/// `s` as JSON string contents, within the name capacity.
fn escaped_name(s: &str) -> Option<String<RAW_KEY_CAPACITY>> {
    let mut out = Vec::new();
    push_escaped(&mut out, s).ok()?;
    String::from_utf8(out).ok()
}

impl<const CAP: usize, const ENTRY: usize> RawData<CAP, ENTRY> {
    fn too_small(r: &mut Reader<'_>, at: &'static str, capacity: usize) -> Fail {
        r.fail(at, JsonError::TooLong { capacity })
    }
}

impl<const CAP: usize, const ENTRY: usize> DataDecoder for RawData<CAP, ENTRY> {
    type Item = RawEntry<ENTRY>;
    type Output = RawJson<CAP>;

    const DATA_OPTIONAL: bool = true;

    fn scalar(&mut self, r: &mut Reader<'_>) -> Result<(), Fail> {
        let raw = r.raw_value("data")?;
        let kept = Vec::from_slice(raw).map_err(|_| Self::too_small(r, "data", CAP))?;
        self.out = kept;
        self.scalar = true;
        Ok(())
    }

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        let array = r.peek()? == b'[';
        let known = streamed_by_a_method(key);
        if array || known.is_some() {
            let member =
                escaped_name(key).ok_or_else(|| Self::too_small(r, "data", RAW_KEY_CAPACITY))?;
            self.member = member;
            return Ok(Field::ListOrMap(known.unwrap_or(STREAMED)));
        }
        let raw = r.raw_value("data")?;
        // Built aside, so that a unit read again (bytes ran out) or
        // refused leaves the output as it was.
        let mut next = self.out.clone();
        let sep: &[u8] = if next.is_empty() { b"{" } else { b"," };
        let put = next
            .extend_from_slice(sep)
            .map_err(drop)
            .and_then(|()| push_json_string(&mut next, key))
            .and_then(|()| next.push(b':').map_err(drop))
            .and_then(|()| next.extend_from_slice(raw).map_err(drop));
        if put.is_err() {
            return Err(Self::too_small(r, "data", CAP));
        }
        self.out = next;
        Ok(Field::Read)
    }

    fn element(
        &mut self,
        list: &'static str,
        key: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<Self::Item, Fail> {
        let key = match key {
            Some(k) => {
                Some(escaped_name(k).ok_or_else(|| Self::too_small(r, list, RAW_KEY_CAPACITY))?)
            }
            None => None,
        };
        let raw = r.raw_value(list)?;
        let json = Vec::from_slice(raw).map_err(|_| Self::too_small(r, list, ENTRY))?;
        Ok(RawEntry {
            member: self.member.clone(),
            key,
            json,
        })
    }

    fn finish(&mut self) -> Result<Self::Output, Error> {
        let mut out = core::mem::take(&mut self.out);
        if !self.scalar {
            let close: &[u8] = if out.is_empty() { b"{}" } else { b"}" };
            out.extend_from_slice(close)
                .map_err(|_| Error::BufferTooSmall { capacity: CAP })?;
        }
        Ok(out)
    }
}
