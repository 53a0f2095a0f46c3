//! Turning an HTTP request into API parameters, with the emulator's own
//! parsing (independent of the SDK's encoders).

use base64::Engine as _;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::log::{CredentialSource, PartInfo};
use crate::render::Format;
use crate::store::{FileInfo, UploadHasher};

/// Largest non-file body accepted (forms, FILE parameters).
const FORM_LIMIT: usize = 4 * 1024 * 1024;

/// A parsed API request.
#[derive(Debug, Default)]
pub struct ApiRequest {
    pub http_method: String,
    pub path: String,
    pub format: Option<Format>,
    /// The suffix as sent, case kept.
    pub suffix: Option<String>,
    pub query: String,
    pub params: Vec<(String, String)>,
    pub basic: Option<(String, String)>,
    pub cookie: Option<String>,
    pub no_session: bool,
    pub upload: Option<FileInfo>,
    pub parts: Vec<PartInfo>,
    pub sources: Vec<CredentialSource>,
    /// Set by the server when the request carries a valid one-time
    /// datacenter-redirect grant (`ll_redirect`).
    pub redirect_grant: bool,
}

impl ApiRequest {
    /// The first value of a parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request could not be parsed.
#[derive(Debug)]
pub enum ParseError {
    /// HTTP 413: the upload is over the limit.
    TooLarge,
    /// HTTP 400 with a failure envelope saying what.
    Bad(String),
    /// HTTP 400: a multipart body that does not parse (what multer said).
    Multipart(String),
    /// An injected fault: close the connection without answering.
    Reset,
}

fn check_percent(s: &[u8]) -> Result<(), ParseError> {
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let ok = s
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !ok {
                return Err(ParseError::Bad("bad percent-encoding".into()));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

fn form_pairs(s: &[u8]) -> Result<Vec<(String, String)>, ParseError> {
    check_percent(s)?;
    Ok(form_urlencoded::parse(s).into_owned().collect())
}

/// Splits `/analysis/get_completed.json` into path and format.
pub fn split_suffix(path: &str) -> (String, Option<Format>) {
    let (dir, last) = path.rsplit_once('/').unwrap_or(("", path));
    if let Some((stem, ext)) = last.rsplit_once('.') {
        let f = match ext.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "xml" => Some(Format::Xml),
            "raw" => Some(Format::Raw),
            "pdf" => Some(Format::Pdf),
            "rtf" => Some(Format::Rtf),
            _ => None,
        };
        if f.is_some() {
            return (format!("{dir}/{stem}"), f);
        }
    }
    (path.to_string(), None)
}

/// Reads and parses a request, streaming uploads through the hasher.
pub async fn parse(
    req: hyper::Request<Incoming>,
    upload_limit: u64,
    faults: &crate::faults::Faults,
) -> Result<ApiRequest, ParseError> {
    let (head, body) = req.into_parts();
    let mut out = ApiRequest {
        http_method: head.method.as_str().to_string(),
        query: head.uri.query().unwrap_or("").to_string(),
        ..Default::default()
    };
    let (path, format) = split_suffix(head.uri.path());
    out.path = path;
    out.format = format;
    out.suffix = head
        .uri
        .path()
        .rsplit_once('/')
        .and_then(|(_, last)| last.rsplit_once('.'))
        .map(|(_, ext)| ext.to_string())
        .filter(|_| format.is_some());
    let query = form_pairs(out.query.as_bytes())?;
    if query.iter().any(|(k, _)| k == "key" || k == "api_token") {
        out.sources.push(CredentialSource::Url);
    }
    out.params = query;
    let header = |n: &str| {
        head.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    if let Some(auth) = header("authorization") {
        if let Some(b64) = auth
            .strip_prefix("Basic ")
            .or_else(|| auth.strip_prefix("basic "))
        {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| ParseError::Bad("bad Basic credentials".into()))?;
            let text = String::from_utf8(decoded)
                .map_err(|_| ParseError::Bad("bad Basic credentials".into()))?;
            let (k, t) = text.split_once(':').unwrap_or((&text, ""));
            out.basic = Some((k.to_string(), t.to_string()));
            out.sources.push(CredentialSource::Basic);
        }
    }
    if let Some(c) = header("cookie") {
        for pair in c.split(';') {
            if let Some(v) = pair.trim().strip_prefix("ll_session=") {
                out.cookie = Some(v.to_string());
                out.sources.push(CredentialSource::Cookie);
            }
        }
    }
    out.no_session = header("x-nsx-lastline-no-session").is_some_and(|v| v.trim() == "1");
    let declared: Option<u64> = header("content-length").and_then(|v| v.parse().ok());
    let ctype = header("content-type").unwrap_or_default();
    let before = out.params.len();
    if ctype.starts_with("multipart/form-data") {
        if declared.is_some_and(|n| n > upload_limit.saturating_add(FORM_LIMIT as u64)) {
            return Err(ParseError::TooLarge);
        }
        let boundary = multer::parse_boundary(&ctype)
            .map_err(|_| ParseError::Bad("multipart without boundary".into()))?;
        let stream = body.into_data_stream();
        let mut mp = multer::Multipart::new(stream, boundary);
        let mut text_bytes = 0usize;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err(ParseError::Multipart(e.to_string())),
            };
            let name = field.name().unwrap_or("").to_string();
            let filename = field.file_name().map(str::to_string);
            if name == "file" {
                let mut h = UploadHasher::default();
                let mut field = field;
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| ParseError::Multipart(e.to_string()))?
                {
                    if h.size() == 0 && faults.take(|f| &mut f.reset_upload_next) {
                        return Err(ParseError::Reset);
                    }
                    h.update(&chunk);
                    if h.size() > upload_limit {
                        return Err(ParseError::TooLarge);
                    }
                }
                out.parts.push(PartInfo {
                    name,
                    filename,
                    size: h.size(),
                });
                out.upload = Some(h.finish());
            } else {
                // Read in pieces against a running total of all text parts,
                // so no part is buffered whole before it is measured.
                let mut data = Vec::new();
                let mut field = field;
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| ParseError::Multipart(e.to_string()))?
                {
                    text_bytes += chunk.len();
                    if text_bytes > FORM_LIMIT {
                        return Err(ParseError::TooLarge);
                    }
                    data.extend_from_slice(&chunk);
                }
                out.parts.push(PartInfo {
                    name: name.clone(),
                    filename,
                    size: data.len() as u64,
                });
                let text = String::from_utf8(data.to_vec())
                    .map_err(|_| ParseError::Bad(format!("part {name} is not UTF-8")))?;
                out.params.push((name, text));
            }
        }
    } else {
        if declared.is_some_and(|n| n > FORM_LIMIT as u64) {
            return Err(ParseError::TooLarge);
        }
        let mut body_bytes = Vec::new();
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk: Bytes = chunk.map_err(|e| ParseError::Bad(format!("body: {e}")))?;
            body_bytes.extend_from_slice(&chunk);
            if body_bytes.len() > FORM_LIMIT {
                return Err(ParseError::TooLarge);
            }
        }
        if declared.is_some_and(|n| n != body_bytes.len() as u64) {
            return Err(ParseError::Bad(
                "body length differs from Content-Length".into(),
            ));
        }
        if ctype.starts_with("application/x-www-form-urlencoded")
            || (!body_bytes.is_empty() && ctype.is_empty())
        {
            out.params.extend(form_pairs(&body_bytes)?);
        }
    }
    if out.params[before..]
        .iter()
        .any(|(k, _)| k == "key" || k == "api_token")
    {
        out.sources.push(CredentialSource::Body);
    }
    Ok(out)
}
