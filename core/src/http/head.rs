//! The head of an HTTP/1.x response, status line and header lines, read
//! in place: no table of header slots.
//!
//! Hand-written instead of httparse, for firmware: httparse's parser with
//! its two 256-byte byte-class tables was 1.6 KiB of the firmware-size
//! image (BENCHMARKS.md), and its header slots 768 bytes of stack. This
//! reads the one thing a client needs, a response head whole at the start
//! of the input, and takes exactly what httparse takes with its default
//! configuration (leading empty lines skipped, bare `LF` line ends, an
//! optional reason phrase, no space before a header's colon, no folded
//! lines), except that there is no limit on the number of headers. The
//! tests below, and the `response` fuzz target, check it against httparse.

/// A response head found whole at the start of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Head<'a> {
    /// Bytes the head took, its final empty line included.
    pub(crate) len: usize,
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub(crate) version: u8,
    /// The status code, any three digits.
    pub(crate) status: u16,
    /// The header lines, already checked.
    lines: &'a [u8],
}

impl<'a> Head<'a> {
    /// The header fields in order: name, and value without the whitespace
    /// around it.
    pub(crate) fn headers(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
        self.lines.split(|&b| b == b'\n').filter_map(|line| {
            // Checked lines: a name of token bytes, then the colon. The
            // final empty line has none.
            let colon = line.iter().position(|&b| b == b':')?;
            let (name, value) = line.split_at(colon);
            Some((name, value.get(1..)?.trim_ascii()))
        })
    }
}

/// Why reading stopped early.
enum Stop {
    /// The input ended inside the head.
    More,
    /// The head is malformed (what was wrong).
    Bad(&'static str),
}

/// The bytes of the input, one at a time.
struct Cursor<'a> {
    input: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Result<u8, Stop> {
        self.input.get(self.at).copied().ok_or(Stop::More)
    }

    fn next(&mut self) -> Result<u8, Stop> {
        let b = self.peek()?;
        self.at = self.at.saturating_add(1);
        Ok(b)
    }

    /// After a `CR`: the `LF` that must follow.
    fn lf(&mut self, why: &'static str) -> Result<(), Stop> {
        match self.next()? {
            b'\n' => Ok(()),
            _ => Err(Stop::Bad(why)),
        }
    }

    /// Bytes of the kind a reason phrase or a header value may hold (HTAB,
    /// SP, visible ASCII, and bytes beyond ASCII, opaque), then the line's
    /// end.
    fn text_line(&mut self, why: &'static str) -> Result<(), Stop> {
        loop {
            match self.next()? {
                b'\r' => return self.lf(why),
                b'\n' => return Ok(()),
                b'\t' | b' '..=0x7e | 0x80..=0xff => {}
                _ => return Err(Stop::Bad(why)),
            }
        }
    }
}

const VERSION: &str = text!("not HTTP/1.x");
const STATUS: &str = text!("invalid status line");
const NAME: &str = text!("invalid header name");
const VALUE: &str = text!("invalid header value");
const NEWLINE: &str = text!("invalid line ending");

/// Reads the head at the start of `input`: `Ok(None)` while it is not all
/// there yet, an explanation when it is malformed (as soon as a byte shows
/// it).
pub(crate) fn parse(input: &[u8]) -> Result<Option<Head<'_>>, &'static str> {
    let mut c = Cursor { input, at: 0 };
    match head(&mut c) {
        Ok(head) => Ok(Some(head)),
        Err(Stop::More) => Ok(None),
        Err(Stop::Bad(why)) => Err(why),
    }
}

fn head<'a>(c: &mut Cursor<'a>) -> Result<Head<'a>, Stop> {
    // Empty lines before the status line are skipped.
    loop {
        match c.peek()? {
            b'\r' => {
                c.next()?;
                c.lf(NEWLINE)?;
            }
            b'\n' => {
                c.next()?;
            }
            _ => break,
        }
    }
    for &want in b"HTTP/1." {
        if c.next()? != want {
            return Err(Stop::Bad(VERSION));
        }
    }
    let version = match c.next()? {
        b'0' => 0,
        b'1' => 1,
        _ => return Err(Stop::Bad(VERSION)),
    };
    if c.next()? != b' ' {
        return Err(Stop::Bad(VERSION));
    }
    let mut status = 0u16;
    for _ in 0..3 {
        let digit = c.next()?;
        if !digit.is_ascii_digit() {
            return Err(Stop::Bad(STATUS));
        }
        // Three digits: at most 999.
        status = status
            .wrapping_mul(10)
            .wrapping_add(u16::from(digit.wrapping_sub(b'0')));
    }
    // A space and a reason phrase, or the line's end.
    match c.next()? {
        b' ' => c.text_line(STATUS)?,
        b'\r' => c.lf(STATUS)?,
        b'\n' => {}
        _ => return Err(Stop::Bad(STATUS)),
    }
    let lines = c.at;
    loop {
        // A header line, or the empty line that ends the head.
        match c.next()? {
            b'\r' => {
                c.lf(NEWLINE)?;
                break;
            }
            b'\n' => break,
            b if is_token(b) => {}
            _ => return Err(Stop::Bad(NAME)),
        }
        loop {
            match c.next()? {
                b':' => break,
                b if is_token(b) => {}
                _ => return Err(Stop::Bad(NAME)),
            }
        }
        c.text_line(VALUE)?;
    }
    Ok(Head {
        len: c.at,
        version,
        status,
        lines: c.input.get(lines..c.at).unwrap_or_default(),
    })
}

/// A byte of a token (RFC 9110 §5.6.2), as header names are.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

#[cfg(test)]
mod tests {
    use super::parse;
    use proptest::prelude::*;
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    extern crate std;

    /// A verdict on an input: malformed, partial, or complete with the
    /// head's length, version, status and headers.
    type Verdict = Result<Option<(usize, u8, u16, Vec<(Vec<u8>, Vec<u8>)>)>, ()>;

    /// What httparse makes of `input`.
    fn oracle(input: &[u8]) -> Verdict {
        let mut slots = [httparse::EMPTY_HEADER; 256];
        let mut resp = httparse::Response::new(&mut slots);
        match resp.parse(input) {
            Ok(httparse::Status::Partial) => Ok(None),
            Ok(httparse::Status::Complete(n)) => Ok(Some((
                n,
                resp.version.unwrap(),
                resp.code.unwrap(),
                resp.headers
                    .iter()
                    .map(|h| (h.name.as_bytes().to_vec(), h.value.to_vec()))
                    .collect(),
            ))),
            Err(_) => Err(()),
        }
    }

    /// What [`parse`] makes of `input`.
    fn ours(input: &[u8]) -> Verdict {
        match parse(input) {
            Ok(None) => Ok(None),
            Ok(Some(h)) => Ok(Some((
                h.len,
                h.version,
                h.status,
                h.headers().map(|(n, v)| (n.to_vec(), v.to_vec())).collect(),
            ))),
            Err(_) => Err(()),
        }
    }

    /// Pieces heads are made of, right and wrong, so that random
    /// sequences of them reach every branch of both parsers.
    fn piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"HTTP/1.1 ".to_vec()),
            Just(b"HTTP/1.0 ".to_vec()),
            Just(b"HTTP/1.2 ".to_vec()),
            Just(b"HTTP/2 ".to_vec()),
            Just(b"200".to_vec()),
            Just(b"20".to_vec()),
            Just(b" OK".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"Content-Length: 5".to_vec()),
            Just(b"X-A:b".to_vec()),
            Just(b"Set-Cookie:  a=b; Path=/  \t".to_vec()),
            Just(b"Bad Name: x".to_vec()),
            Just(b" folded".to_vec()),
            Just(b"Empty:".to_vec()),
            Just(b"V: \x80\xff caf\xc3\xa9".to_vec()),
            Just(b"\x00".to_vec()),
            Just(b"\x7f".to_vec()),
            Just(b"\t".to_vec()),
            Just(b":".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..4),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Every input, and every prefix of it: the same verdict as
        /// httparse (partial, malformed, or complete with the same length,
        /// version, status and headers).
        #[test]
        fn agrees_with_httparse(pieces in proptest::collection::vec(piece(), 0..24)) {
            let input = pieces.concat();
            for end in 0..=input.len() {
                let prefix = &input[..end];
                prop_assert_eq!(ours(prefix), oracle(prefix), "{:?}", String::from_utf8_lossy(prefix));
            }
        }

        /// Arbitrary bytes after a valid status line.
        #[test]
        fn agrees_with_httparse_on_any_bytes(tail in proptest::collection::vec(any::<u8>(), 0..64)) {
            let input = [&b"HTTP/1.1 200 OK\r\n"[..], &tail].concat();
            prop_assert_eq!(ours(&input), oracle(&input));
        }
    }

    #[test]
    fn a_head_with_many_headers_is_read_whole() {
        let input = std::format!(
            "HTTP/1.1 204 No Content\r\n{}\r\nbody",
            "X-A: b\r\n".repeat(300)
        );
        let head = parse(input.as_bytes()).unwrap().unwrap();
        assert_eq!((head.status, head.version), (204, 1));
        assert_eq!(head.headers().count(), 300);
        assert_eq!(&input.as_bytes()[head.len..], b"body");
    }
}
