//! The emulator's state: files, tasks, sessions, exports, IOCs.

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use md5::Digest as _;

/// The EICAR test string; content holding it is "malicious".
pub const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// Files kept whole for artifact downloads (larger ones are only hashed).
pub const KEEP_CONTENT: u64 = 1024 * 1024;

/// A file the emulator has seen.
#[derive(Clone, Debug)]
pub struct FileInfo {
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    pub size: u64,
    pub malicious: bool,
    pub mime: &'static str,
    pub content: Option<Vec<u8>>,
}

impl Subject {
    /// What makes two submissions the same: the content, or the URL.
    pub fn cache_key(&self) -> String {
        match self {
            Subject::File { file, .. } => format!("file:{}", file.sha256),
            Subject::Url { url, .. } => format!("url:{url}"),
        }
    }
}

/// What a task analysed.
#[derive(Clone, Debug)]
pub enum Subject {
    File {
        file: FileInfo,
        filename: Option<String>,
    },
    Url {
        url: String,
        referer: Option<String>,
    },
}

/// A task.
#[derive(Clone, Debug)]
pub struct Task {
    pub uuid: String,
    pub report_uuid: String,
    pub subject: Subject,
    pub submitted: i64,
    pub completes: i64,
    pub score: i64,
    pub threat: Option<&'static str>,
    /// The task this one was spawned from, and how deep.
    pub parent: Option<(String, u32)>,
}

/// How long a submission's task may be returned again (`expires`).
pub const EXPIRES_SECS: i64 = 30 * 86_400;

impl Task {
    pub fn expires(&self) -> i64 {
        self.submitted + EXPIRES_SECS
    }

    pub fn completed(&self, now: i64) -> bool {
        self.completes <= now
    }

    pub fn malicious(&self) -> bool {
        self.score >= 70
    }

    /// The usual reading of the score: 70 and above malicious, 30 and
    /// above suspicious.
    pub fn verdict(&self) -> &'static str {
        match self.score {
            70.. => "malicious",
            30.. => "suspicious",
            _ => "benign",
        }
    }
}

/// An export job.
#[derive(Clone, Debug)]
pub struct Export {
    pub uuid: String,
    pub task: String,
    pub report_type: String,
    pub at: i64,
}

/// An IOC made from a result.
#[derive(Clone, Debug)]
pub struct Ioc {
    pub uuid: String,
    pub task: String,
    pub report_uuid: String,
    pub version: String,
}

/// Hex of a digest.
pub fn hex_of(d: &[u8]) -> String {
    hex::encode(d)
}

/// Hashes an upload as it streams in.
pub struct UploadHasher {
    md5: md5::Md5,
    sha1: sha1::Sha1,
    sha256: sha2::Sha256,
    size: u64,
    keep: Vec<u8>,
    tail: Vec<u8>,
    eicar: bool,
}

impl Default for UploadHasher {
    fn default() -> Self {
        Self {
            md5: md5::Md5::new(),
            sha1: sha1::Sha1::new(),
            sha256: sha2::Sha256::new(),
            size: 0,
            keep: Vec::new(),
            tail: Vec::new(),
            eicar: false,
        }
    }
}

impl UploadHasher {
    pub fn update(&mut self, b: &[u8]) {
        self.md5.update(b);
        self.sha1.update(b);
        self.sha256.update(b);
        self.size += b.len() as u64;
        if self.size <= KEEP_CONTENT {
            self.keep.extend_from_slice(b);
        }
        // Find EICAR across piece boundaries with a short carried tail.
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(b);
        if window.windows(EICAR.len()).any(|w| w == EICAR) {
            self.eicar = true;
        }
        let keep_from = window.len().saturating_sub(EICAR.len());
        self.tail = window[keep_from..].to_vec();
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn finish(self) -> FileInfo {
        let content = (self.size <= KEEP_CONTENT).then_some(self.keep);
        let mime = match content.as_deref() {
            Some([b'M', b'Z', ..]) => "application/x-dosexec",
            Some([b'%', b'P', b'D', b'F', ..]) => "application/pdf",
            _ if self.eicar => "text/plain",
            _ => "application/octet-stream",
        };
        FileInfo {
            md5: hex_of(&self.md5.finalize()),
            sha1: hex_of(&self.sha1.finalize()),
            sha256: hex_of(&self.sha256.finalize()),
            size: self.size,
            malicious: self.eicar,
            mime,
            content,
        }
    }
}

/// All state of one emulator.
#[derive(Debug, Default)]
pub struct Store {
    files: HashMap<String, FileInfo>,
    pub tasks: Vec<Task>,
    pub sessions: HashMap<String, ()>,
    pub exports: Vec<Export>,
    pub iocs: BTreeMap<String, Ioc>,
    /// Submitted content (`file:<sha256>`) or URL (`url:<url>`) to the task
    /// it created, for resubmissions within `expires`.
    pub submissions: HashMap<String, String>,
    /// How often each task was asked about while incomplete.
    pub polls: HashMap<String, u32>,
    /// What the CDN origin serves: token to (file name, bytes).
    pub cdn: HashMap<String, (String, Vec<u8>)>,
    /// One-time grants carried by datacenter redirects (`ll_redirect`).
    pub redirect_grants: std::collections::HashSet<String>,
    counter: u64,
    pub seed: u64,
    pub clock_offset: i64,
    pub manual_now: Option<i64>,
}

impl Store {
    /// An empty store.
    pub fn new(seed: u64, clock_offset: i64) -> Self {
        Self {
            seed,
            clock_offset,
            ..Default::default()
        }
    }

    /// Seconds since the epoch on the emulator's clock.
    pub fn now(&self) -> i64 {
        if let Some(t) = self.manual_now {
            return t;
        }
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        real + self.clock_offset
    }

    /// A fresh 32-hex-digit UUID, deterministic for a seed.
    pub fn new_uuid(&mut self) -> String {
        self.counter += 1;
        let mut h = sha2::Sha256::new();
        h.update(self.seed.to_le_bytes());
        h.update(self.counter.to_le_bytes());
        hex_of(&h.finalize()[..16])
    }

    pub fn remember(&mut self, f: &FileInfo) {
        for k in [&f.md5, &f.sha1, &f.sha256] {
            self.files.insert(k.clone(), f.clone());
        }
    }

    pub fn forget_files(&mut self) {
        self.files.clear();
    }

    pub fn lookup(&self, hash: &str) -> Option<&FileInfo> {
        self.files.get(&hash.to_ascii_lowercase())
    }

    pub fn task(&self, uuid: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.uuid == uuid)
    }

    pub fn new_session(&mut self) -> String {
        let id = self.new_uuid();
        self.sessions.insert(id.clone(), ());
        id
    }
}

/// Score and threat for a file.
pub fn file_verdict(f: &FileInfo) -> (i64, Option<&'static str>) {
    if f.malicious {
        (100, Some("EICAR-Test-File"))
    } else {
        // Low and stable for the same content.
        let b = u8::from_str_radix(&f.sha256[..2], 16).unwrap_or(0);
        (i64::from(b % 30), None)
    }
}

/// Score and threat for a URL, by simple rules.
pub fn url_verdict(url: &str) -> (i64, Option<&'static str>) {
    let u = url.to_ascii_lowercase();
    if u.contains("eicar") || u.contains("malware") || u.ends_with(".exe") {
        (90, Some("Malicious URL"))
    } else {
        (10, None)
    }
}

/// Formats a time as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn format_time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Parses `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    // Byte offsets below are only character boundaries in ASCII.
    if !s.is_ascii() {
        return None;
    }
    let (date, time) = match s.len() {
        10 => (s, "00:00:00"),
        19 => (&s[..10], &s[11..]),
        _ => return None,
    };
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, dd) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m)
        || !(1..=31).contains(&dd)
        || hh > 23
        || mm > 59
        || ss > 59
        || y < 1970
    {
        return None;
    }
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let back = format_time(days * 86_400);
    if back[..10] != *date {
        return None; // 2023-02-30 and the like
    }
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Entries of a ZIP archive stored without compression (method 0), read
/// from local file headers: (name, content).
pub fn stored_zip_entries(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while data.get(at..at + 4) == Some(b"PK\x03\x04") {
        let Some(h) = data.get(at..at + 30) else {
            break;
        };
        let u16le = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]) as usize;
        let u32le = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]) as usize;
        let (method, size, name_len, extra_len) = (u16le(8), u32le(18), u16le(26), u16le(28));
        let name_at = at + 30;
        let data_at = name_at + name_len + extra_len;
        let (Some(name), Some(body)) = (
            data.get(name_at..name_at + name_len),
            data.get(data_at..data_at + size),
        ) else {
            break;
        };
        if method == 0 && !name.ends_with(b"/") {
            out.push((String::from_utf8_lossy(name).into_owned(), body.to_vec()));
        }
        at = data_at + size;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        for t in [0, 1_596_759_949, 1_700_000_000] {
            assert_eq!(parse_time(&format_time(t)), Some(t));
        }
        assert_eq!(parse_time("2020-08-07"), Some(1_596_758_400));
        assert_eq!(parse_time("2023-02-30"), None);
        assert_eq!(parse_time("2020-01-0\u{e9}12:00:00"), None);
        assert_eq!(parse_time("2020-01-01\u{e9}2:00:0"), None);
    }

    #[test]
    fn eicar_is_found_across_pieces() {
        let mut h = UploadHasher::default();
        let mut data = b"prefix ".to_vec();
        data.extend_from_slice(EICAR);
        for c in data.chunks(5) {
            h.update(c);
        }
        assert!(h.finish().malicious);
    }
}
