//! Helpers shared by the integration tests: drive the encoder and the
//! decoders the way a transport would, and parse what they wrote with
//! independent parsers.
#![allow(dead_code, clippy::result_large_err, clippy::type_complexity)]

use lastline_core::envelope::DataDecoder;
use lastline_core::http::{ClientConfig, EncodeStep, RequestEncoder};
use lastline_core::request::Request;
use lastline_core::response::{EnvelopeResponse, Progress, RawResponse};
use lastline_core::{ApiMessage, Credentials, Error};

pub(crate) const KEY: &str = "test-key";
pub(crate) const TOKEN: &str = "s3cret-token";

pub(crate) fn creds() -> Credentials<'static> {
    Credentials::new(KEY, Some(TOKEN)).unwrap()
}

pub(crate) fn config() -> ClientConfig<'static> {
    ClientConfig::new("analysis.example", creds())
}

/// Writes a request through an output buffer of `chunk` bytes, inserting
/// `sample` where the encoder asks for the file.
pub(crate) fn encode<R: Request>(
    req: &R,
    cfg: &ClientConfig<'_>,
    sample: &[u8],
    chunk: usize,
) -> Result<Vec<u8>, Error> {
    let mut enc = RequestEncoder::new(req, cfg, [0x5a; 16])?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    let mut sent_file = false;
    loop {
        match enc.poll(&mut buf) {
            EncodeStep::Write(n) => {
                assert!(n > 0, "encoder made no progress");
                out.extend_from_slice(&buf[..n]);
            }
            EncodeStep::SendFile { len } => {
                assert_eq!(len, sample.len() as u64);
                assert!(!sent_file);
                sent_file = true;
                out.extend_from_slice(sample);
                enc.file_sent();
            }
            EncodeStep::Done => break,
        }
    }
    assert_eq!(out.len() as u64, enc.total_len());
    Ok(out)
}

/// A request as written on the wire.
#[derive(Debug)]
pub(crate) struct WireRequest {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl WireRequest {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap()
    }

    pub(crate) fn query(&self) -> Vec<(String, String)> {
        match self.target.split_once('?') {
            Some((_, q)) => form_urlencoded::parse(q.as_bytes()).into_owned().collect(),
            None => vec![],
        }
    }

    /// Every parameter: query, form body or multipart parts (text values;
    /// the sample part as bytes under "file").
    pub(crate) fn params(&self) -> Vec<(String, Vec<u8>)> {
        let mut all: Vec<(String, Vec<u8>)> = self
            .query()
            .into_iter()
            .map(|(k, v)| (k, v.into_bytes()))
            .collect();
        match self.header("content-type") {
            Some(ct) if ct.starts_with("application/x-www-form-urlencoded") => {
                all.extend(
                    form_urlencoded::parse(&self.body)
                        .into_owned()
                        .map(|(k, v)| (k, v.into_bytes())),
                );
            }
            Some(ct) if ct.starts_with("multipart/form-data") => {
                let boundary = multer::parse_boundary(ct).unwrap();
                all.extend(
                    parse_multipart(&self.body, &boundary)
                        .into_iter()
                        .map(|p| (p.name, p.data)),
                );
            }
            _ => {}
        }
        all
    }
}

/// Parses a request written by the encoder (head by hand, checked
/// strictly; body by Content-Length).
pub(crate) fn parse_request(wire: &[u8]) -> WireRequest {
    let end = wire
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head end");
    let head = std::str::from_utf8(&wire[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let start = lines.next().unwrap();
    let mut parts = start.split(' ');
    let method = parts.next().unwrap().to_string();
    let target = parts.next().unwrap().to_string();
    assert_eq!(parts.next(), Some("HTTP/1.1"));
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(": ").unwrap();
            (n.to_string(), v.to_string())
        })
        .collect();
    let body = wire[end + 4..].to_vec();
    let req = WireRequest {
        method,
        target,
        headers,
        body,
    };
    match req.header("content-length") {
        Some(cl) => assert_eq!(
            cl.parse::<usize>().unwrap(),
            req.body.len(),
            "Content-Length matches the body"
        ),
        None => assert!(req.body.is_empty()),
    }
    req
}

pub(crate) struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

/// Parses a multipart body with multer (an independent parser).
pub(crate) fn parse_multipart(body: &[u8], boundary: &str) -> Vec<Part> {
    let body = bytes::Bytes::copy_from_slice(body);
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    futures_executor::block_on(async {
        let mut parts = Vec::new();
        while let Some(field) = mp.next_field().await.expect("multipart parses") {
            let name = field.name().unwrap_or("").to_string();
            let filename = field.file_name().map(str::to_string);
            let data = field.bytes().await.unwrap().to_vec();
            parts.push(Part {
                name,
                filename,
                data,
            });
        }
        parts
    })
}

/// Feeds `bytes` to an envelope response reader in pieces of `chunk`
/// bytes, through a receive buffer, the way a transport does.
pub(crate) fn read_envelope<D: DataDecoder, const N: usize>(
    data: D,
    bytes: &[u8],
    chunk: usize,
) -> (Result<D::Output, Error>, Vec<D::Item>) {
    let (res, items, _) = read_envelope_with_message::<D, N>(data, bytes, chunk);
    (res, items)
}

/// [`read_envelope`], also returning a failure envelope's message.
pub(crate) fn read_envelope_with_message<D: DataDecoder, const N: usize>(
    data: D,
    bytes: &[u8],
    chunk: usize,
) -> (Result<D::Output, Error>, Vec<D::Item>, Option<ApiMessage>) {
    let mut resp = EnvelopeResponse::<D, N>::new(data);
    let mut items = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut src = bytes.chunks(chunk.max(1));
    let res = loop {
        let (n, p) = match resp.feed(&pending) {
            Ok(x) => x,
            Err(e) => break Err(e),
        };
        pending.drain(..n);
        match p {
            Progress::Item(i) => items.push(i),
            Progress::Done => break resp.finish(),
            Progress::Head => {}
            Progress::NeedMore => match src.next() {
                Some(c) => pending.extend_from_slice(c),
                None => {
                    break match resp.close() {
                        Ok(Progress::Done) => resp.finish(),
                        Ok(_) => Err(Error::WorkflowMisuse("no end")),
                        Err(e) => Err(e),
                    }
                }
            },
        }
    };
    let message = resp.api_message();
    (res, items, message)
}

/// Reads a raw download in pieces of `chunk` bytes.
pub(crate) fn read_raw(bytes: &[u8], chunk: usize) -> Result<(Option<String>, Vec<u8>), Error> {
    let mut resp = RawResponse::new();
    let mut out = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut src = bytes.chunks(chunk.max(1));
    loop {
        let (n, ev) = resp.feed(&pending)?;
        let mut data = Vec::new();
        let done = match ev {
            Progress::Item(d) => {
                data.extend_from_slice(d);
                false
            }
            Progress::Head => false,
            Progress::Done => true,
            Progress::NeedMore => {
                match src.next() {
                    Some(c) => pending.extend_from_slice(c),
                    None => {
                        resp.close()?;
                        let name = resp
                            .head()
                            .and_then(|h| h.filename())
                            .map(|f| f.to_string());
                        return Ok((name, out));
                    }
                }
                false
            }
        };
        pending.drain(..n);
        out.extend_from_slice(&data);
        if done {
            let name = resp
                .head()
                .and_then(|h| h.filename())
                .map(|f| f.to_string());
            return Ok((name, out));
        }
    }
}

/// An HTTP response with a Content-Length body.
pub(crate) fn http_ok(body: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    v.extend_from_slice(body);
    v
}

/// An HTTP response with a chunked body, cut into chunks of `size`.
pub(crate) fn http_chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut v =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for c in body.chunks(size.max(1)) {
        v.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        v.extend_from_slice(c);
        v.extend_from_slice(b"\r\n");
    }
    v.extend_from_slice(b"0\r\n\r\n");
    v
}

/// Path of the catalog beside the repository, or the copy in the tests.
pub(crate) fn catalog() -> serde_json::Value {
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spec/api.json");
    let vendored = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/api.json");
    let text = std::fs::read_to_string(shared)
        .or_else(|_| std::fs::read_to_string(vendored))
        .unwrap();
    serde_json::from_str(&text).unwrap()
}
