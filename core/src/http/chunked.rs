//! `Transfer-Encoding: chunked`, decoded without copying the data.

use crate::error::HttpError;
use crate::progress::Progress;

/// Longest chunk-size line (with extensions) accepted.
const MAX_LINE: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before a chunk-size line.
    Size,
    /// Inside a chunk's data, with this many bytes left.
    Data(u64),
    /// After a chunk's data: expecting CRLF.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one.
    Trailer,
    /// The body is complete.
    Done,
}

/// Decodes the chunked framing of a body.
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    received: u64,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self {
            state: State::Size,
            received: 0,
        }
    }
}

fn line(input: &[u8]) -> Result<Option<(&[u8], usize)>, HttpError> {
    match input.iter().position(|&b| b == b'\n') {
        Some(i) => {
            let l = input.get(..i).unwrap_or(&[]);
            let l = l
                .strip_suffix(b"\r")
                .ok_or(HttpError::BadChunk(text!("line not ended by CRLF")))?;
            if l.len() > MAX_LINE {
                return Err(HttpError::BadChunk(text!("chunk line too long")));
            }
            Ok(Some((l, i.saturating_add(1))))
        }
        None if input.len() > MAX_LINE => Err(HttpError::BadChunk(text!("chunk line too long"))),
        None => Ok(None),
    }
}

impl ChunkedDecoder {
    /// Body bytes decoded so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// True after the last chunk.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes from `input`, returning at most `max` data bytes at once.
    /// Returns the bytes consumed and the event.
    #[inline(never)]
    pub fn decode<'a>(
        &mut self,
        input: &'a [u8],
        max: usize,
    ) -> Result<(usize, Progress<&'a [u8]>), HttpError> {
        let mut used = 0usize;
        loop {
            let rest = input.get(used..).unwrap_or(&[]);
            match self.state {
                State::Done => return Ok((used, Progress::Done)),
                State::Size => {
                    let Some((l, n)) = line(rest)? else {
                        return Ok((used, Progress::NeedMore));
                    };
                    let size = l.split(|&b| b == b';').next().unwrap_or(&[]).trim_ascii();
                    if size.is_empty() || size.len() > 16 {
                        return Err(HttpError::BadChunk(text!(
                            "chunk size is not 1..=16 hex digits"
                        )));
                    }
                    // At most 16 hex digits: the shifts cannot lose a bit.
                    let mut v: u64 = 0;
                    for &d in size {
                        let d = char::from(d)
                            .to_digit(16)
                            .ok_or(HttpError::BadChunk(text!("chunk size is not hex")))?;
                        v = v.wrapping_shl(4) | u64::from(d);
                    }
                    used = used.saturating_add(n);
                    self.state = if v == 0 {
                        State::Trailer
                    } else {
                        State::Data(v)
                    };
                }
                State::Data(left) => {
                    if rest.is_empty() || max == 0 {
                        return Ok((used, Progress::NeedMore));
                    }
                    let n = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(rest.len())
                        .min(max);
                    let data = rest.get(..n).unwrap_or(&[]);
                    let left = left.saturating_sub(n as u64);
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                    self.received = self.received.saturating_add(n as u64);
                    return Ok((used.saturating_add(n), Progress::Item(data)));
                }
                State::DataEnd => match rest {
                    [b'\r', b'\n', ..] => {
                        used = used.saturating_add(2);
                        self.state = State::Size;
                    }
                    [] | [b'\r'] => return Ok((used, Progress::NeedMore)),
                    _ => {
                        return Err(HttpError::BadChunk(text!(
                            "chunk data not followed by CRLF"
                        )))
                    }
                },
                State::Trailer => {
                    let Some((l, n)) = line(rest)? else {
                        return Ok((used, Progress::NeedMore));
                    };
                    used = used.saturating_add(n);
                    if l.is_empty() {
                        self.state = State::Done;
                    }
                }
            }
        }
    }
}
