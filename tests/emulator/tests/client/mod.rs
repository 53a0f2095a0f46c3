//! A deliberately plain HTTP/1.1 client over `TcpStream`, written for these
//! tests only: it shares no code with the SDK.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use lastline_emulator::{Config, Emulator};

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body ended early (connection closed or reset).
    pub truncated: bool,
}

impl Resp {
    pub fn header(&self, n: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn data(&self) -> serde_json::Value {
        let j = self.json();
        assert_eq!(j["success"], 1, "{j}");
        j["data"].clone()
    }

    pub fn error_code(&self) -> Option<i64> {
        let j = self.json();
        assert_eq!(j["success"], 0, "{j}");
        j["error_code"].as_i64()
    }
}

pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn basic(key: &str, token: &str) -> (String, String) {
    use base64::Engine as _;
    (
        "Authorization".into(),
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{key}:{token}"))
        ),
    )
}

/// Sends one request on a new connection and reads the response.
pub fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    read_response(&mut s)
}

pub fn read_response(s: &mut TcpStream) -> Resp {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut tmp).unwrap_or(0);
        if n == 0 {
            panic!(
                "connection closed before the head: {:?}",
                String::from_utf8_lossy(&buf)
            );
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect();
    let mut rest = buf[head_end + 4..].to_vec();
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let mut truncated = false;
    let mut read_more = |rest: &mut Vec<u8>| -> bool {
        match s.read(&mut tmp) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                rest.extend_from_slice(&tmp[..n]);
                true
            }
        }
    };
    let body = if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            let line_end = loop {
                if let Some(i) = rest[pos..].windows(2).position(|w| w == b"\r\n") {
                    break Some(pos + i);
                }
                if !read_more(&mut rest) {
                    break None;
                }
            };
            let Some(le) = line_end else {
                truncated = true;
                break;
            };
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[pos..le]).unwrap().trim(), 16)
                    .unwrap();
            pos = le + 2;
            while rest.len() < pos + size + 2 {
                if !read_more(&mut rest) {
                    truncated = true;
                    break;
                }
            }
            if truncated {
                break;
            }
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[pos..pos + size]);
            pos += size + 2;
        }
        out
    } else if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        while rest.len() < len {
            if !read_more(&mut rest) {
                truncated = true;
                break;
            }
        }
        rest.truncate(len);
        rest
    } else {
        while read_more(&mut rest) {}
        rest
    };
    Resp {
        status,
        headers,
        body,
        truncated,
    }
}

/// A multipart body: text fields, then optional file parts.
pub fn multipart(
    boundary: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (name, filename, data) in files {
        b.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\r\n").as_bytes());
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    b
}

/// Splits an absolute `http://HOST:PORT/target` URL.
pub fn split_url(url: &str) -> (SocketAddr, String) {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    (host.parse().unwrap(), target.to_string())
}

/// Follows a redirect as a careful client does: to its `Location`, with
/// no credential (another origin).
pub fn follow(r: &Resp) -> Resp {
    let loc = r.header("location").expect("a Location");
    let (addr, target) = split_url(loc);
    send(addr, "GET", &target, &[], b"")
}

/// An emulator and the Basic credentials it accepts.
pub struct Env {
    pub emu: Emulator,
    pub auth: Vec<(String, String)>,
}

impl Env {
    pub fn new(cfg: Config) -> Self {
        let emu = Emulator::start(cfg).unwrap();
        let (k, t) = emu.credentials();
        Env {
            emu,
            auth: vec![basic(&k, &t)],
        }
    }

    pub fn get(&self, path: &str, params: &[(&str, &str)]) -> Resp {
        let target = if params.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", form(params))
        };
        send(self.emu.addr(), "GET", &target, &self.auth, b"")
    }

    pub fn post(&self, path: &str, params: &[(&str, &str)]) -> Resp {
        let mut h = self.auth.clone();
        h.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
        send(self.emu.addr(), "POST", path, &h, form(params).as_bytes())
    }

    pub fn upload(&self, content: &[u8], fields: &[(&str, &str)]) -> Resp {
        let mut h = self.auth.clone();
        h.push((
            "Content-Type".into(),
            "multipart/form-data; boundary=XyZ".into(),
        ));
        let body = multipart("XyZ", fields, &[("file", "whatever.bin", content)]);
        send(
            self.emu.addr(),
            "POST",
            "/analysis/submit/file.json",
            &h,
            &body,
        )
    }
}

pub fn md5_hex(b: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(b))
}

/// Sends raw request bytes and reads until the server closes (or 10 s):
/// every byte received, and whether the connection ended in an error.
pub fn raw(addr: SocketAddr, request: &[u8]) -> (Vec<u8>, bool) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        match s.read(&mut tmp) {
            Ok(0) => return (out, false),
            Ok(n) => out.extend_from_slice(&tmp[..n]),
            Err(_) => return (out, true),
        }
    }
}

/// A GET request's bytes, with `Connection: close` and these headers.
pub fn get_request(addr: SocketAddr, target: &str, headers: &[(String, String)]) -> Vec<u8> {
    let mut head = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// The API catalog: `shared/spec/api.json`, or the copy the core's tests
/// keep.
pub fn catalog() -> serde_json::Value {
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/spec/api.json");
    let vendored = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../core/tests/data/api.json"
    );
    let text = std::fs::read_to_string(shared)
        .or_else(|_| std::fs::read_to_string(vendored))
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A ZIP archive with its entries stored (no compression).
pub fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut z = Vec::new();
    for (name, data) in entries {
        z.extend_from_slice(b"PK\x03\x04");
        z.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method 0, time, date
        z.extend_from_slice(&[0, 0, 0, 0]); // crc (not checked by the emulator)
        z.extend_from_slice(&(data.len() as u32).to_le_bytes());
        z.extend_from_slice(&(data.len() as u32).to_le_bytes());
        z.extend_from_slice(&(name.len() as u16).to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        z.extend_from_slice(name.as_bytes());
        z.extend_from_slice(data);
    }
    z
}
