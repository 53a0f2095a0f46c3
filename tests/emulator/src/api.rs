//! The Analyst API's methods, as the reference describes them.

use serde_json::{json, Map, Value};

use crate::catalog;
use crate::config::{Config, Reading};
use crate::log::{Origin, Violation};
use crate::render::{self, Format};
use crate::request::ApiRequest;
use crate::store::{
    file_verdict, format_time, parse_time, url_verdict, Export, Ioc, Store, Subject, Task,
};
use crate::store::{stored_zip_entries, UploadHasher};

/// An answer, before format and faults are applied.
#[derive(Debug)]
pub enum Reply {
    /// A JSON envelope (rendered as XML for `.xml`).
    Envelope { status: u16, body: Value },
    /// A download.
    Raw {
        status: u16,
        content_type: &'static str,
        filename: Option<String>,
        bytes: Vec<u8>,
    },
    /// A proxy's HTML page.
    Html { status: u16, title: &'static str },
    /// A redirect to another of the emulator's origins.
    Redirect {
        status: u16,
        to: Origin,
        /// Path and query on that origin.
        target: String,
    },
}

/// What the dispatcher returns: the reply and a cookie to set.
pub struct Outcome {
    pub reply: Reply,
    pub set_cookie: Option<String>,
    pub method: Option<&'static str>,
    pub error_code: Option<i64>,
    /// What a strict server notices about the request.
    pub violations: Vec<Violation>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Http {
    Get,
    Post,
    Both,
}

/// How a method reports failures.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Errors {
    Envelope,
    /// Raw by default, HTTP statuses; envelopes for `.json`/`.xml`.
    ByFormat,
    /// Always HTTP statuses.
    Status,
}

struct Method {
    name: &'static str,
    path: &'static str,
    http: Http,
    token_required: bool,
    errors: Errors,
}

const fn m(
    name: &'static str,
    path: &'static str,
    http: Http,
    token_required: bool,
    errors: Errors,
) -> Method {
    Method {
        name,
        path,
        http,
        token_required,
        errors,
    }
}

use Errors::{ByFormat, Envelope, Status};
use Http::{Both, Get, Post};

const METHODS: &[Method] = &[
    m("submit_file", "/analysis/submit/file", Post, true, Envelope),
    m("submit_url", "/analysis/submit/url", Post, true, Envelope),
    m("get_results", "/analysis/get", Both, true, Envelope),
    m("get_result", "/analysis/get_result", Both, true, Envelope),
    m(
        "get_result_activities",
        "/analysis/get_result_activities",
        Both,
        true,
        Envelope,
    ),
    m(
        "get_report_activities",
        "/analysis/get_report_activities",
        Both,
        true,
        Envelope,
    ),
    m(
        "get_result_artifact",
        "/analysis/get_result_artifact",
        Both,
        true,
        ByFormat,
    ),
    m(
        "get_report_artifact",
        "/analysis/get_report_artifact",
        Both,
        true,
        Status,
    ),
    m(
        "get_completed",
        "/analysis/get_completed",
        Both,
        true,
        Envelope,
    ),
    m("get_completed", "/analysis/completed", Both, true, Envelope),
    m(
        "get_completed_with_metadata",
        "/analysis/get_completed_with_metadata",
        Both,
        true,
        Envelope,
    ),
    m("get_pending", "/analysis/get_pending", Both, true, Envelope),
    m(
        "get_progress",
        "/analysis/get_progress",
        Both,
        true,
        Envelope,
    ),
    m(
        "get_task_metadata",
        "/analysis/get_task_metadata",
        Both,
        false,
        Envelope,
    ),
    m(
        "query_file_hash",
        "/analysis/query/file_hash",
        Both,
        true,
        Envelope,
    ),
    m(
        "is_blocked_file_hash",
        "/analysis/query/is_blocked_file_hash",
        Both,
        false,
        Envelope,
    ),
    m(
        "query_task_artifact",
        "/analysis/query_task_artifact",
        Both,
        true,
        Envelope,
    ),
    m(
        "get_network_iocs",
        "/analysis/ioc/get_network_iocs",
        Get,
        true,
        Envelope,
    ),
    m(
        "get_ioc_metadata",
        "/analysis/ioc/get_ioc_metadata",
        Both,
        false,
        Envelope,
    ),
    m(
        "get_ioc_report",
        "/ioc/get_ioc_report",
        Both,
        false,
        Envelope,
    ),
    m(
        "get_ioc_report",
        "/analysis/ioc/get_ioc_report",
        Both,
        false,
        Envelope,
    ),
    m(
        "create_ioc_from_result",
        "/analysis/ioc/create_ioc_from_result",
        Both,
        true,
        Envelope,
    ),
    m(
        "get_api_utc_timestamp",
        "/analysis/get_api_utc_timestamp",
        Get,
        true,
        Envelope,
    ),
    m(
        "get_analysis_tags",
        "/analysis/get_analysis_tags",
        Both,
        true,
        Envelope,
    ),
    m(
        "get_child_tasks_recursively",
        "/analysis/get_child_tasks_recursively",
        Both,
        false,
        Envelope,
    ),
    m(
        "export_report",
        "/analysis/export_report",
        Post,
        true,
        Envelope,
    ),
    m(
        "get_completed_exported_reports",
        "/analysis/get_completed_exported_reports",
        Get,
        false,
        Envelope,
    ),
    m(
        "get_exported_report",
        "/analysis/get_exported_report",
        Get,
        false,
        Status,
    ),
    m(
        "is_risky_analysis_artifact",
        "/analysis/is_risky_analysis_artifact",
        Get,
        true,
        Envelope,
    ),
    m("login", "/authentication/login", Post, false, Envelope),
    m("ping", "/authentication/ping", Both, false, Envelope),
];

/// Every API method name the emulator serves.
pub fn method_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = METHODS.iter().map(|m| m.name).collect();
    v.dedup();
    v
}

/// An API failure: code (None: omitted) and message.
struct Fail(Option<i64>, String);

fn fail(code: i64, msg: &str) -> Fail {
    Fail(Some(code), msg.to_string())
}

const INVALID_CREDENTIALS: i64 = 104;
const INVALID_UUID: i64 = 105;
const NO_RESULT_FOUND: i64 = 106;
const PERMISSION_DENIED: i64 = 108;
const INVALID_ARTIFACT_UUID: i64 = 114;
const INVALID_HASH_ALGORITHM: i64 = 116;
const INVALID_URL: i64 = 117;
const AUTHENTICATION_REQUIRED: i64 = 122;
const FILE_UPLOAD_REQUIRED: i64 = 101;
const INVALID_PRIORITY: i64 = 124;

fn is_uuid(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn flag(req: &ApiRequest, name: &str) -> Result<Option<bool>, Fail> {
    match req.param(name) {
        None => Ok(None),
        Some("1") | Some("true") | Some("True") => Ok(Some(true)),
        Some("0") | Some("false") | Some("False") => Ok(Some(false)),
        Some(_) => Err(Fail(
            None,
            format!("invalid value for {name}: expected 0 or 1"),
        )),
    }
}

fn required<'r>(req: &'r ApiRequest, name: &str) -> Result<&'r str, Fail> {
    req.param(name)
        .ok_or_else(|| Fail(None, format!("missing required parameter {name}")))
}

fn uuid_param<'r>(req: &'r ApiRequest, name: &str) -> Result<&'r str, Fail> {
    let v = required(req, name)?;
    if is_uuid(v) {
        Ok(v)
    } else {
        Err(fail(INVALID_UUID, &format!("invalid {name}")))
    }
}

fn task<'s>(store: &'s Store, req: &ApiRequest) -> Result<&'s Task, Fail> {
    let u = uuid_param(req, "uuid")?;
    store.task(&u.to_ascii_lowercase()).ok_or_else(|| {
        fail(
            INVALID_UUID,
            "task uuid not as returned by submit_file or submit_url",
        )
    })
}

fn completed_task<'s>(store: &'s Store, req: &ApiRequest) -> Result<&'s Task, Fail> {
    let t = task(store, req)?;
    if t.completed(store.now()) {
        Ok(t)
    } else {
        Err(fail(
            NO_RESULT_FOUND,
            "no result found (analysis not complete)",
        ))
    }
}

fn time_param(req: &ApiRequest, name: &str) -> Result<Option<i64>, Fail> {
    match req.param(name) {
        None => Ok(None),
        Some(s) => parse_time(s).map(Some).ok_or_else(|| {
            Fail(
                None,
                format!("invalid {name}: expected 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'"),
            )
        }),
    }
}

/// Checks credentials; returns a new session id when login opens one.
fn authenticate(
    cfg: &Config,
    store: &mut Store,
    req: &ApiRequest,
    method: &Method,
) -> Result<Option<String>, Fail> {
    if req.redirect_grant {
        // A datacenter redirect carries the original request's standing.
        return Ok((method.name == "login" && !req.no_session).then(|| store.new_session()));
    }
    let explicit = req.basic.clone().or_else(|| {
        req.param("key").map(|k| {
            (
                k.to_string(),
                req.param("api_token").unwrap_or("").to_string(),
            )
        })
    });
    if let Some((key, token)) = explicit {
        if key != cfg.key || (!token.is_empty() && token != cfg.token) {
            return Err(fail(
                INVALID_CREDENTIALS,
                "Invalid pair of 'key'/'api_token' were provided.",
            ));
        }
        if token.is_empty() && method.token_required {
            return Err(fail(
                AUTHENTICATION_REQUIRED,
                "api_token required for this method",
            ));
        }
        if method.name == "login" && !req.no_session {
            return Ok(Some(store.new_session()));
        }
        return Ok(None);
    }
    match &req.cookie {
        Some(c) if store.sessions.contains_key(c) => Ok(None),
        Some(_) => Err(fail(
            AUTHENTICATION_REQUIRED,
            "session expired, authenticate again",
        )),
        None => Err(fail(
            AUTHENTICATION_REQUIRED,
            "Credentials or session identifier missing.",
        )),
    }
}

/// What every report of a task shows: subject, hashes, verdict, times.
pub(crate) fn report_lines(t: &Task, title: &str) -> Vec<String> {
    let mut l = vec![format!("Lastline {title}")];
    l.push(format!("Task: {}", t.uuid));
    match &t.subject {
        Subject::File { file, filename } => {
            l.push(format!(
                "File name: {}",
                filename.as_deref().unwrap_or("(none given)")
            ));
            l.push(format!("File type: {}", file.mime));
            l.push(format!("File size: {} bytes", file.size));
            l.push(format!("MD5: {}", file.md5));
            l.push(format!("SHA-1: {}", file.sha1));
            l.push(format!("SHA-256: {}", file.sha256));
        }
        Subject::Url { url, referer } => {
            l.push(format!("URL: {url}"));
            if let Some(r) = referer {
                l.push(format!("Referer: {r}"));
            }
        }
    }
    l.push(format!("Score: {}/100", t.score));
    l.push(format!("Verdict: {}", t.verdict()));
    l.push(format!("Threat: {}", t.threat.unwrap_or("none")));
    l.push(format!("Submitted: {} UTC", format_time(t.submitted)));
    l.push(format!("Completed: {} UTC", format_time(t.completes)));
    l
}

/// What a result says it analysed (`analysis_subject`, beyond the
/// reference; wire-dialect: integrations fail without it): a file's
/// hashes and MIME type, or the URL. The rich reading adds members a
/// client must skip.
fn analysis_subject(t: &Task, reading: Reading) -> Value {
    let (mut v, extra) = match &t.subject {
        Subject::File { file, filename } => (
            json!({"md5": file.md5, "sha1": file.sha1, "sha256": file.sha256, "mime_type": file.mime}),
            json!({"size": file.size, "file_name": filename, "md5": file.md5}),
        ),
        Subject::Url { url, referer } => (
            json!({"url": url}),
            json!({"referer": referer, "md5": null, "sha1": ""}),
        ),
    };
    if reading == Reading::Rich {
        if let (Some(m), Value::Object(x)) = (v.as_object_mut(), extra) {
            m.extend(x);
        }
    }
    v
}

/// The full report's network part, as an integration reads it for
/// indicators: `analysis.network.requests[]` (`url`, `ip`), and per
/// analysis subject `dns_queries[]` (`hostname`) and
/// `http_conversations[]` (addresses, ports, `dst_host`, and `url` as the
/// request line). A malicious file calls home; a URL task fetches its URL;
/// a benign file is quiet. The rich reading adds members.
fn network(t: &Task, reading: Reading) -> (Value, Value) {
    let (host, path) = match &t.subject {
        Subject::Url { url, .. } => {
            let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
            let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            (
                Some(host.to_string()),
                if path.is_empty() {
                    "/".to_string()
                } else {
                    path.to_string()
                },
            )
        }
        Subject::File { .. } if t.malicious() => (
            Some("c2.malware.example".to_string()),
            "/gate.php?id=1".to_string(),
        ),
        Subject::File { .. } => (None, String::new()),
    };
    let Some(host) = host else {
        return (
            json!({"network": {"requests": []}}),
            json!([{"dns_queries": [], "http_conversations": []}]),
        );
    };
    let ip = "198.51.100.7";
    let mut request = json!({"url": format!("http://{host}{path}"), "ip": ip});
    let mut query = json!({"hostname": host});
    let mut conversation = json!({"src_ip": "10.0.2.15", "dst_ip": ip, "src_port": 49_162,
        "dst_port": 80, "dst_host": host, "url": format!("GET {path} HTTP/1.1")});
    if reading == Reading::Rich {
        request["method"] = json!("GET");
        request["status"] = json!(200);
        query["results"] = json!([ip]);
        conversation["protocol"] = json!("http");
        conversation["response"] = json!({"status": 200, "headers": ["Server: nginx"]});
    }
    (
        json!({"network": {"requests": [request]}}),
        json!([{"dns_queries": [query], "http_conversations": [conversation]}]),
    )
}

/// The detailed `report` object (its shape is left open by the
/// reference): nested in the rich reading, flat in the plain one; its
/// network part (see [`network`]) in both.
fn full_report(t: &Task, reading: Reading) -> Value {
    let mut report = detailed_report(t, reading);
    let (analysis, subjects) = network(t, reading);
    if let Some(m) = report.as_object_mut() {
        m.insert("analysis".into(), analysis);
        m.insert("analysis_subjects".into(), subjects);
    }
    report
}

fn detailed_report(t: &Task, reading: Reading) -> Value {
    let (name, hashes) = match &t.subject {
        Subject::File { file, filename } => (
            filename.clone(),
            json!({"md5": file.md5, "sha1": file.sha1, "sha256": file.sha256, "size": file.size, "mime_type": file.mime}),
        ),
        Subject::Url { url, .. } => (Some(url.clone()), json!({})),
    };
    if reading == Reading::Plain {
        return json!({"score": t.score, "verdict": t.verdict(), "threat": t.threat, "subject": name});
    }
    let mut activities = vec![json!({
        "type": "Process",
        "description": "Started the sample",
        "process": {"pid": 1204, "image": name, "children": [
            {"pid": 1288, "image": "C:\\Windows\\System32\\cmd.exe", "children": []}
        ]},
    })];
    if t.malicious() {
        activities.push(json!({
            "type": "Signature",
            "description": "Known antivirus test file (EICAR)",
            "mitre": [{"id": "T1027", "name": "Obfuscated Files or Information", "tactics": ["defense-evasion"]}],
        }));
    }
    json!({
        "overview": {
            "analysis_engine": "emulator",
            "subject": {"name": name, "hashes": hashes},
            "score": t.score,
            "verdict": t.verdict(),
            "threat": t.threat,
            "analysis_start": format_time(t.submitted),
            "analysis_end": format_time(t.completes),
        },
        "activities": activities,
        "analysis_metadata": [{"key": "environment", "value": "windows10"}, {"key": "duration", "value": 120}],
    })
}

/// An activity name longer than 64 bytes (`Shapes::large_open`).
pub const LONG_ACTIVITY: &str = "Evasion: Checks for the presence of a debugger, a virtual machine or a sandbox before unpacking";

/// Technique information of about 300 KB for one activity: 300 objects
/// with long descriptions and nested references (`Shapes::large_open`).
fn large_techniques() -> Value {
    json!((0..300)
        .map(|i| json!({
            "id": format!("T{}", 1000 + i),
            "name": format!("Technique {i}"),
            "description": "Adversaries may do this. ".repeat(40),
            "references": [{"source": "mitre-attack", "url": format!("https://attack.mitre.org/techniques/T{}", 1000 + i), "nested": [[{"deep": [1, 2, null]}]]}],
        }))
        .collect::<Vec<_>>())
}

/// MITRE ATT&CK technique information for one activity: objects in the
/// rich reading, ids in the plain one.
fn techniques(reading: Reading, list: &[(&str, &str, &[&str])]) -> Value {
    match reading {
        Reading::Rich => json!(list
            .iter()
            .map(|(id, name, tactics)| json!({"id": id, "name": name, "tactics": tactics}))
            .collect::<Vec<_>>()),
        Reading::Plain => json!(list.iter().map(|(id, _, _)| id).collect::<Vec<_>>()),
    }
}

pub(crate) fn result_data(
    t: &Task,
    score_only: bool,
    with_report: bool,
    shapes: &crate::config::Shapes,
) -> Value {
    let reading = shapes.reading;
    let mut d = Map::new();
    d.insert("score".into(), json!(t.score));
    if let Some(th) = t.threat {
        d.insert("threat".into(), json!(th));
        d.insert(
            "threat_class".into(),
            json!(if t.malicious() {
                "malware"
            } else {
                "suspicious"
            }),
        );
    }
    if score_only {
        return Value::Object(d);
    }
    d.insert("analysis_subject".into(), analysis_subject(t, reading));
    if reading == Reading::Rich {
        // Beyond the reference's members, as a cached answer has it: the
        // task the result is of (clients skip what they do not read).
        d.insert("task_uuid".into(), json!(t.uuid));
    }
    d.insert("submission".into(), json!(format_time(t.submitted)));
    d.insert(
        "last_submission_timestamp".into(),
        json!(format_time(t.submitted)),
    );
    if t.malicious() {
        d.insert(
            "malicious_activity".into(),
            json!([
                "Anti-AV: Known antivirus test file",
                "Signature: EICAR test string"
            ]),
        );
        d.insert(
            "activity_to_mitre_techniques".into(),
            json!({
                "Signature: EICAR test string": techniques(reading, &[
                    ("T1027", "Obfuscated Files or Information", &["defense-evasion"]),
                ]),
                "Anti-AV: Known antivirus test file": techniques(reading, &[
                    ("T1562.001", "Impair Defenses: Disable or Modify Tools", &["defense-evasion"]),
                    ("T1204.002", "User Execution: Malicious File", &["execution"]),
                ]),
            }),
        );
        if shapes.large_open {
            let m = d["activity_to_mitre_techniques"]
                .as_object_mut()
                .expect("a map");
            m.insert(
                LONG_ACTIVITY.into(),
                techniques(
                    reading,
                    &[(
                        "T1497.001",
                        "Virtualization/Sandbox Evasion: System Checks",
                        &["defense-evasion", "discovery"],
                    )],
                ),
            );
            m.insert(
                "Evasion: Large technique information".into(),
                large_techniques(),
            );
        }
    }
    let mut report = json!({"report_uuid": t.report_uuid, "relevance": 1.0, "description": "Dynamic analysis on Windows 10"});
    if reading == Reading::Rich {
        report["report_versions"] = json!(["ll-int-win", "ioc:stix", "ioc:openioc"]);
        // Analysis notes that did not stop it: the reference's `errors`.
        d.insert(
            "errors".into(),
            json!(["Network: the sandbox had no route to some contacted hosts"]),
        );
    }
    d.insert("reports".into(), json!([report]));
    if with_report {
        d.insert("report".into(), full_report(t, reading));
    }
    Value::Object(d)
}

fn include_report(t: &Task, full_report_score: Option<i64>) -> bool {
    match full_report_score {
        Some(-1) | None => false,
        Some(min) => t.score >= min,
    }
}

fn full_report_score(req: &ApiRequest) -> Result<Option<i64>, Fail> {
    req.param("full_report_score")
        .map(|v| v.parse::<i64>())
        .transpose()
        .map_err(|_| Fail(None, "invalid full_report_score".into()))
}

/// A submission: the task an equal one made within `expires` (with its
/// result once complete, as get_results gives it), or a new task.
fn submit(
    store: &mut Store,
    cfg: &Config,
    subject: Subject,
    req: &ApiRequest,
) -> Result<Value, Fail> {
    if let Some(p) = req.param("priority") {
        if !p.parse::<i64>().is_ok_and(|n| (1..=10).contains(&n)) {
            return Err(fail(
                INVALID_PRIORITY,
                "ANALYSIS_API_INVALID_PRIORITY: priority must be 1..10",
            ));
        }
    }
    if let Some(pc) = req.param("password_candidates") {
        let n = pc.split('\n').filter(|l| !l.is_empty()).count();
        if n > 1000 || pc.len() > 131_072 {
            return Err(Fail(
                None,
                "password_candidates: at most 1000 entries and 128 KiB".into(),
            ));
        }
    }
    let frs = full_report_score(req)?;
    let key = subject.cache_key();
    let bypass = flag(req, "bypass_cache")? == Some(true);
    let now = store.now();
    if cfg.submission_cache && !bypass {
        let earlier = store
            .submissions
            .get(&key)
            .and_then(|u| store.task(u))
            .filter(|t| now < t.expires());
        if let Some(t) = earlier {
            return Ok(cached_answer(store, cfg, t, now, frs));
        }
    }
    let d = new_task(store, cfg, subject)?;
    if let Some(u) = d["task_uuid"].as_str() {
        store.submissions.insert(key, u.to_string());
    }
    Ok(d)
}

/// A submission answered from an earlier one (what Lastline's own
/// clients read back): the task and its submission time; once complete,
/// the whole result inline — `get_results`' members (`score`,
/// `submission`, `last_submission_timestamp`, `reports`,
/// `analysis_subject`...) and `child_tasks`. The plain reading answers a
/// pending one with `task_uuid` and `submission_timestamp` alone and lists
/// children by UUID; the rich one adds `expires` and child objects.
fn cached_answer(store: &Store, cfg: &Config, t: &Task, now: i64, frs: Option<i64>) -> Value {
    let reading = cfg.shapes.reading;
    let mut d = json!({"task_uuid": t.uuid, "submission_timestamp": format_time(t.submitted)});
    if reading == Reading::Rich {
        d["expires"] = json!(format_time(t.expires()));
    }
    if !t.completed(now) {
        return d;
    }
    if reading == Reading::Plain {
        d["expires"] = json!(format_time(t.expires()));
    }
    let results = result_data(t, false, include_report(t, frs), &cfg.shapes);
    if let (Some(m), Value::Object(r)) = (d.as_object_mut(), results) {
        m.extend(r);
    }
    let children: Vec<Value> = store
        .tasks
        .iter()
        .filter(|c| c.parent.as_ref().is_some_and(|(p, _)| *p == t.uuid))
        .map(|c| match reading {
            Reading::Rich => json!({"task_uuid": c.uuid, "score": c.score}),
            Reading::Plain => json!(c.uuid),
        })
        .collect();
    d["child_tasks"] = json!(children);
    d
}

fn new_task(store: &mut Store, cfg: &Config, subject: Subject) -> Result<Value, Fail> {
    let (score, threat) = match &subject {
        Subject::File { file, .. } => file_verdict(file),
        Subject::Url { url, .. } => url_verdict(url),
    };
    let now = store.now();
    let uuid = store.new_uuid();
    let report_uuid = store.new_uuid();
    let mut t = Task {
        uuid: uuid.clone(),
        report_uuid,
        subject,
        submitted: now,
        completes: now + cfg.completion_delay.as_secs() as i64,
        score,
        threat,
        parent: None,
    };
    let worst = spawn_children(store, &t, 1);
    if worst > t.score {
        t.score = worst;
        t.threat = t.threat.or(Some("Malicious child task"));
    }
    let expires = t.expires();
    store.tasks.push(t);
    Ok(
        json!({"task_uuid": uuid, "submission_timestamp": format_time(now), "expires": format_time(expires)}),
    )
}

/// Child tasks: each entry of a stored ZIP archive (recursively), and the
/// file a URL to an executable or archive downloads. A parent scores at
/// least as high as its worst child.
fn spawn_children(store: &mut Store, parent: &Task, depth: u32) -> i64 {
    if depth > 5 {
        return 0;
    }
    let mut children: Vec<Subject> = Vec::new();
    match &parent.subject {
        Subject::File { file, .. } => {
            for (name, content) in file
                .content
                .as_deref()
                .map(stored_zip_entries)
                .unwrap_or_default()
            {
                let mut h = UploadHasher::default();
                h.update(&content);
                children.push(Subject::File {
                    file: h.finish(),
                    filename: Some(name),
                });
            }
        }
        Subject::Url { url, .. } => {
            let lower = url.to_ascii_lowercase();
            if lower.ends_with(".exe") || lower.ends_with(".zip") {
                let mut h = UploadHasher::default();
                h.update(format!("downloaded from {url}").as_bytes());
                let name = url.rsplit('/').next().map(str::to_string);
                children.push(Subject::File {
                    file: h.finish(),
                    filename: name,
                });
            }
        }
    }
    let mut worst = 0;
    for subject in children {
        let (score, threat) = match &subject {
            Subject::File { file, .. } => file_verdict(file),
            Subject::Url { url, .. } => url_verdict(url),
        };
        let child = Task {
            uuid: store.new_uuid(),
            report_uuid: store.new_uuid(),
            subject,
            submitted: parent.submitted,
            completes: parent.completes,
            score,
            threat,
            parent: Some((parent.uuid.clone(), depth)),
        };
        worst = worst
            .max(score)
            .max(spawn_children(store, &child, depth + 1));
        store.tasks.push(child);
    }
    worst
}

fn completion_page<'s>(
    store: &'s Store,
    cfg: &Config,
    req: &ApiRequest,
    name: &str,
) -> Result<(Value, Vec<&'s Task>), Fail> {
    let pending = name == "get_pending";
    let now = store.now();
    let after = if pending {
        time_param(req, "after")?.unwrap_or(0)
    } else {
        time_param(req, "after")?
            .ok_or_else(|| Fail(None, "missing required parameter after".into()))?
    };
    let before =
        time_param(req, "before")?
            .unwrap_or(now)
            .min(if pending { i64::MAX } else { now });
    let key = |t: &Task| if pending { t.submitted } else { t.completes };
    let mut tasks: Vec<&Task> = store
        .tasks
        .iter()
        .filter(|t| t.completed(now) != pending && (after..=before).contains(&key(t)))
        .collect();
    tasks.sort_by(|a, b| (key(a), &a.uuid).cmp(&(key(b), &b.uuid)));
    let mut end = before;
    let mut more = false;
    if tasks.len() > cfg.page_size {
        more = true;
        // Never cut inside a second: the page ends before the second in
        // which the cut falls (unless that second alone overflows it).
        let cut_time = key(tasks[cfg.page_size]);
        let keep = tasks.iter().take_while(|t| key(t) < cut_time).count();
        if keep > 0 {
            tasks.truncate(keep);
            end = cut_time - 1;
        } else {
            tasks.retain(|t| key(t) == cut_time);
            end = cut_time;
        }
    }
    let mut data = Map::new();
    data.insert("after".into(), json!(format_time(after)));
    data.insert("before".into(), json!(format_time(end)));
    // resume is documented for get_completed; get_completed_with_metadata's
    // examples and get_pending's field list leave it out.
    if name == "get_completed" || cfg.shapes.reading == Reading::Rich {
        data.insert("resume".into(), json!(format_time(end + 1)));
    }
    data.insert("more_results_available".into(), json!(i64::from(more)));
    Ok((Value::Object(data), tasks))
}

/// Input errors of a task that had too little to analyse (an empty file);
/// 1004 is beyond the documented codes, as in the reference's example.
fn input_errors(t: &Task) -> Option<Value> {
    matches!(&t.subject, Subject::File { file, .. } if file.size == 0).then(|| json!([1001, 1004]))
}

fn artifact_bytes(t: &Task, name: &str) -> Option<Option<Vec<u8>>> {
    match (name, &t.subject) {
        ("primary_analysis_subject", Subject::File { file, .. }) => Some(file.content.clone()),
        ("primary_analysis_subject", Subject::Url { url, .. }) => {
            Some(Some(url.clone().into_bytes()))
        }
        ("network_traffic.pcap", _) => Some(Some(b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00".to_vec())),
        _ => None,
    }
}

fn split_artifact(v: &str) -> Option<(&str, &str)> {
    let (r, n) = v.split_once(':')?;
    (is_uuid(r) && !n.is_empty()).then_some((r, n))
}

/// The API method a path (without suffix) is routed to.
pub fn route(path: &str) -> Option<&'static str> {
    METHODS.iter().find(|m| m.path == path).map(|m| m.name)
}

/// A failure as `method` reports it: an envelope, or for raw answers an
/// HTTP status (per the reference's raw error tables).
pub fn error_reply(method: &str, format: Option<Format>, code: Option<i64>, msg: &str) -> Reply {
    let style = METHODS
        .iter()
        .find(|m| m.name == method)
        .map_or(Envelope, |m| m.errors);
    let raw_errors = match style {
        Envelope => false,
        Status => true,
        ByFormat => matches!(format, None | Some(Format::Raw)),
    };
    if !raw_errors {
        return Reply::Envelope {
            status: 200,
            body: render::failure(code, msg),
        };
    }
    let status = match code {
        Some(INVALID_CREDENTIALS | AUTHENTICATION_REQUIRED | PERMISSION_DENIED) => 401,
        Some(INVALID_UUID | INVALID_ARTIFACT_UUID) if method == "get_result_artifact" => 412,
        Some(INVALID_UUID | INVALID_ARTIFACT_UUID) => 422,
        Some(123) => 410,
        Some(107) => 503,
        // A missing or malformed parameter.
        None => 400,
        _ => 404,
    };
    Reply::Raw {
        status,
        content_type: "text/plain",
        filename: None,
        bytes: msg.as_bytes().to_vec(),
    }
}

/// What a strict server notices about a request routed to `name`.
fn violations(store: &mut Store, req: &ApiRequest, name: &'static str) -> Vec<Violation> {
    let mut v = Vec::new();
    let documented = &catalog::method(name).params;
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in &req.params {
        // Credentials are a mechanism of every method (ping lists none).
        let always = ["ll_redirect", "key", "api_token"].contains(&k.as_str());
        if !always && !documented.contains(k) && !seen.contains(&k.as_str()) {
            seen.push(k);
            v.push(Violation::UndocumentedParam(k.clone()));
        }
    }
    if req.sources.contains(&crate::log::CredentialSource::Url) {
        v.push(Violation::CredentialsInUrl);
    }
    // Asking one task again and again while it runs is what the reference
    // tells clients not to do (get_completed is the way).
    if matches!(name, "get_results" | "get_result" | "get_progress") {
        let now = store.now();
        let incomplete = req
            .param("uuid")
            .map(str::to_ascii_lowercase)
            .filter(|u| store.task(u).is_some_and(|t| !t.completed(now)));
        if let Some(u) = incomplete {
            let n = store.polls.entry(u.clone()).or_insert(0);
            *n += 1;
            if *n >= 2 {
                v.push(Violation::PollingIncompleteTask(u));
            }
        }
    }
    v
}

/// Serves one parsed request.
pub fn dispatch(cfg: &Config, store: &mut Store, req: &ApiRequest) -> Outcome {
    let Some(method) = METHODS.iter().find(|m| m.path == req.path) else {
        return Outcome {
            reply: Reply::Html {
                status: 404,
                title: "Not Found",
            },
            set_cookie: None,
            method: None,
            error_code: None,
            violations: Vec::new(),
        };
    };
    let violations = violations(store, req, method.name);
    let allowed = match method.http {
        Get => req.http_method == "GET",
        Post => req.http_method == "POST",
        Both => req.http_method == "GET" || req.http_method == "POST",
    };
    if !allowed {
        return Outcome {
            reply: Reply::Html {
                status: 405,
                title: "Method Not Allowed",
            },
            set_cookie: None,
            method: Some(method.name),
            error_code: None,
            violations,
        };
    }
    let mut set_cookie = None;
    let result = authenticate(cfg, store, req, method).and_then(|session| {
        set_cookie = session;
        handle(cfg, store, req, method.name)
    });
    match result {
        Ok(reply) => Outcome {
            reply,
            set_cookie,
            method: Some(method.name),
            error_code: None,
            violations,
        },
        Err(Fail(code, msg)) => Outcome {
            reply: error_reply(method.name, req.format, code, &msg),
            set_cookie: None,
            method: Some(method.name),
            error_code: code,
            violations,
        },
    }
}

fn ok(data: Value) -> Result<Reply, Fail> {
    Ok(Reply::Envelope {
        status: 200,
        body: render::success(data),
    })
}

/// Whether two parameter values mean the same (flags as 0/1 or words).
fn same_value(v: &str, default: &str) -> bool {
    let norm = |x: &str| match x.trim() {
        "true" | "True" => "1".to_string(),
        "false" | "False" => "0".to_string(),
        x => x.to_ascii_lowercase(),
    };
    norm(v) == norm(default)
}

/// The first privileged parameter set to other than its default (one
/// with no literal default is non-default whatever its value).
/// `analysis_env` is left out: without permission it is silently replaced.
fn non_default_privileged(req: &ApiRequest, name: &str) -> Option<&'static str> {
    catalog::method(name)
        .privileged
        .iter()
        .filter(|p| p.name != "analysis_env")
        .find(|p| {
            req.param(&p.name)
                .is_some_and(|v| !p.default.as_deref().is_some_and(|d| same_value(v, d)))
        })
        .map(|p| p.name.as_str())
}

fn handle(cfg: &Config, store: &mut Store, req: &ApiRequest, name: &str) -> Result<Reply, Fail> {
    flag(req, "allow_datacenter_redirect")?;
    if !cfg.privileged {
        if let Some(p) = non_default_privileged(req, name) {
            return Err(fail(
                PERMISSION_DENIED,
                &format!("{p} requires non-default privileges"),
            ));
        }
    }
    match name {
        "login" => ok(json!("success")),
        "ping" => ok(json!("pong")),
        "get_api_utc_timestamp" => ok(json!({"timestamp": format_time(store.now())})),
        "submit_file" => {
            for f in [
                "delete_after_analysis",
                "bypass_cache",
                "allow_network_traffic",
                "keep_file_dumps",
                "keep_memory_dumps",
                "keep_behavior_log",
                "bypass_prefilter",
                "fast_analysis",
            ] {
                flag(req, f)?;
            }
            if let Some(p) = req.param("protocol") {
                if !["FTP", "HTTP", "SMB"]
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(p))
                {
                    return Err(Fail(None, "invalid protocol".into()));
                }
            }
            let filename = req.param("filename").map(str::to_string);
            if let Some(file) = req.upload.clone() {
                if !cfg.forget_files {
                    store.remember(&file);
                }
                return ok(submit(store, cfg, Subject::File { file, filename }, req)?);
            }
            let known = ["md5", "sha1", "sha256"]
                .iter()
                .filter_map(|h| req.param(h))
                .find_map(|h| store.lookup(h).cloned());
            match known {
                Some(file) if !cfg.forget_files => {
                    ok(submit(store, cfg, Subject::File { file, filename }, req)?)
                }
                _ => Err(fail(FILE_UPLOAD_REQUIRED, "File upload required")),
            }
        }
        "submit_url" => {
            let url = required(req, "url")?;
            let valid = url.split_once("://").is_some_and(|(s, rest)| {
                !s.is_empty() && !rest.is_empty() && !url.contains(char::is_whitespace)
            });
            if !valid
                || req
                    .param("referer")
                    .is_some_and(|r| r.contains(char::is_whitespace))
            {
                return Err(fail(INVALID_URL, "invalid url or referer"));
            }
            let subject = Subject::Url {
                url: url.to_string(),
                referer: req.param("referer").map(str::to_string),
            };
            ok(submit(store, cfg, subject, req)?)
        }
        "get_results" | "get_result" => {
            let t = completed_task(store, req)?;
            let frs = full_report_score(req)?;
            if name == "get_results" && matches!(req.format, Some(Format::Pdf | Format::Rtf)) {
                let pdf = req.format == Some(Format::Pdf);
                let lines = report_lines(t, "analysis report");
                let bytes = if pdf {
                    render::pdf(&lines)
                } else {
                    render::rtf(&lines)
                };
                return Ok(Reply::Raw {
                    status: 200,
                    content_type: if pdf {
                        "application/pdf"
                    } else {
                        "application/rtf"
                    },
                    filename: Some(format!("{}.{}", t.uuid, if pdf { "pdf" } else { "rtf" })),
                    bytes,
                });
            }
            let score_only = name == "get_result" && flag(req, "score_only")? == Some(true);
            // A named report is returned whatever the score (privileged).
            let with_report = match req.param("report_uuid") {
                Some(r) if name == "get_results" => {
                    if r != t.report_uuid {
                        return Err(fail(
                            INVALID_UUID,
                            "report_uuid is not a report of this task",
                        ));
                    }
                    true
                }
                _ => name == "get_results" && include_report(t, frs),
            };
            ok(result_data(t, score_only, with_report, &cfg.shapes))
        }
        "get_progress" => {
            let t = task(store, req)?;
            let now = store.now();
            let total = (t.completes - t.submitted).max(1);
            let progress = if t.completed(now) {
                100
            } else {
                ((now - t.submitted) * 100 / total).clamp(0, 99)
            };
            ok(json!({"progress": progress, "completed": i64::from(t.completed(now))}))
        }
        "get_task_metadata" => {
            let t = task(store, req)?;
            let mut d = json!({"task_uuid": t.uuid});
            match &t.subject {
                Subject::File { file, filename } => {
                    d["task_type"] = json!("file");
                    d["file_md5"] = json!(file.md5);
                    d["file_sha1"] = json!(file.sha1);
                    d["file_sha256"] = json!(file.sha256);
                    d["file_mime_type"] = json!(file.mime);
                    d["file_size"] = json!(file.size);
                    if let Some(f) = filename {
                        d["filename"] = json!(f);
                    }
                }
                Subject::Url { url, referer } => {
                    d["task_type"] = json!("url");
                    d["url"] = json!(url);
                    if let Some(r) = referer {
                        d["referer"] = json!(r);
                    }
                }
            }
            ok(d)
        }
        "get_completed" | "get_completed_with_metadata" | "get_pending" => {
            let (mut data, tasks) = completion_page(store, cfg, req, name)?;
            data["tasks"] = if name == "get_completed_with_metadata" {
                json!(tasks
                    .iter()
                    .map(|t| {
                        let mut e = json!({"task_uuid": t.uuid, "score": t.score});
                        if let Some(codes) = input_errors(t) {
                            e["insufficient_task_input_errors"] = codes;
                        }
                        e
                    })
                    .collect::<Vec<_>>())
            } else if name == "get_completed" && flag(req, "include_score")? == Some(true) {
                Value::Object(
                    tasks
                        .iter()
                        .map(|t| (t.uuid.clone(), json!(t.score)))
                        .collect(),
                )
            } else {
                json!(tasks.iter().map(|t| t.uuid.clone()).collect::<Vec<_>>())
            };
            ok(data)
        }
        "query_file_hash" | "is_blocked_file_hash" => {
            let alg = required(req, "hash_algorithm")?;
            let len = match alg.to_ascii_uppercase().as_str() {
                "MD5" => 32,
                "SHA1" => 40,
                "SHA256" => 64,
                _ => {
                    return Err(fail(
                        INVALID_HASH_ALGORITHM,
                        "hash_algorithm must be MD5, SHA1 or SHA256",
                    ))
                }
            };
            let value = required(req, "hash_value")?;
            if value.len() != len || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Fail(
                    None,
                    "hash_value is not a hex digest of the algorithm".into(),
                ));
            }
            let value = value.to_ascii_lowercase();
            let now = store.now();
            let matches = |t: &&Task| matches!(&t.subject, Subject::File { file, .. } if [&file.md5, &file.sha1, &file.sha256].contains(&&value));
            let latest = store
                .tasks
                .iter()
                .filter(matches)
                .filter(|t| t.completed(now))
                .max_by_key(|t| t.completes);
            if name == "is_blocked_file_hash" {
                let d = match latest {
                    Some(t) => {
                        let Subject::File { file, .. } = &t.subject else {
                            unreachable!()
                        };
                        json!({"decision": if t.malicious() { "BLOCK" } else { "NOBLOCK" }, "file_md5": file.md5, "file_sha1": file.sha1, "file_sha256": file.sha256})
                    }
                    None => json!({"decision": "FILE_UNKNOWN"}),
                };
                return ok(d);
            }
            let rich = cfg.shapes.reading == Reading::Rich;
            let tasks: Vec<Value> = latest
                .iter()
                .map(|t| {
                    let Subject::File { file, .. } = &t.subject else { unreachable!() };
                    let mut e = json!({"file_md5": file.md5, "file_sha1": file.sha1, "file_sha256": file.sha256, "task_uuid": t.uuid, "score": t.score});
                    if rich {
                        e["expires"] = json!(format_time(t.expires()));
                    }
                    if let Some(codes) = input_errors(t) {
                        e["insufficient_task_input_errors"] = codes;
                    }
                    e
                })
                .collect();
            let mut d = json!({"files_found": tasks.len(), "tasks": tasks});
            // The flattened reference also reads as expires at the top.
            if let (false, Some(t)) = (rich, latest) {
                d["expires"] = json!(format_time(t.expires()));
            }
            ok(d)
        }
        "get_result_activities" | "get_report_activities" => {
            let t = completed_task(store, req)?;
            let activities = if t.malicious() {
                vec![("Signature", "Known antivirus test file (EICAR)", 100)]
            } else {
                vec![("Network", "Resolved a domain name", 5)]
            };
            let rich = cfg.shapes.reading == Reading::Rich;
            // Members beyond the catalog's, nested, as a richer server has.
            let enrich = |mut a: Value, kind: &str| {
                if rich {
                    a["details"] = json!({"process": {"pid": 1204, "name": "sample.exe"}, "events": [{"kind": kind, "count": 1}]});
                    if kind == "Signature" {
                        a["mitre_techniques"] = techniques(
                            cfg.shapes.reading,
                            &[(
                                "T1027",
                                "Obfuscated Files or Information",
                                &["defense-evasion"],
                            )],
                        );
                    }
                }
                a
            };
            if name == "get_report_activities" {
                let r = uuid_param(req, "report_uuid")?;
                if r != t.report_uuid {
                    return Err(fail(
                        INVALID_UUID,
                        "report_uuid is not a report of this task",
                    ));
                }
                let list: Vec<Value> = activities.iter().map(|(k, d, s)| enrich(json!({"type": k, "description": d, "severity": s, "action_ids": [1, 2]}), k)).collect();
                return ok(
                    json!({"task_uuid": t.uuid, "report_uuid": t.report_uuid, "report_activities": list}),
                );
            }
            let list: Vec<Value> = activities
                .iter()
                .map(|(k, d, s)| enrich(json!({"type": k, "description": d, "severity": s, "reports": [{"report_uuid": t.report_uuid, "has_action_ids": 1}]}), k))
                .collect();
            ok(json!({"task_uuid": t.uuid, "report_activities": list}))
        }
        "get_result_artifact"
        | "get_report_artifact"
        | "query_task_artifact"
        | "is_risky_analysis_artifact" => {
            let (report, art) = match name {
                "get_report_artifact" => (
                    uuid_param(req, "report_uuid")?.to_string(),
                    required(req, "artifact_name")?.to_string(),
                ),
                "query_task_artifact" => {
                    (String::new(), required(req, "artifact_name")?.to_string())
                }
                _ => {
                    let a = required(req, "artifact_uuid")?;
                    let (r, n) = split_artifact(a).ok_or_else(|| {
                        fail(
                            INVALID_ARTIFACT_UUID,
                            "artifact_uuid must be '<report-UUID>:<artifact-name>'",
                        )
                    })?;
                    (r.to_string(), n.to_string())
                }
            };
            if name == "is_risky_analysis_artifact" {
                let t = store
                    .tasks
                    .iter()
                    .find(|t| t.report_uuid == report)
                    .ok_or_else(|| fail(INVALID_ARTIFACT_UUID, "unknown report"))?;
                return ok(json!({"is_risky": i64::from(t.malicious())}));
            }
            let t = completed_task(store, req)?;
            if name == "query_task_artifact" {
                let available = artifact_bytes(t, &art).is_some_and(|b| b.is_some());
                return ok(
                    json!({"available": i64::from(available), "task_uuid": t.uuid, "report_uuid": t.report_uuid, "artifact_name": art}),
                );
            }
            if report != t.report_uuid {
                return Err(fail(
                    INVALID_ARTIFACT_UUID,
                    "report is not part of this task",
                ));
            }
            match artifact_bytes(t, &art) {
                None => Err(fail(NO_RESULT_FOUND, "artifact not available")),
                Some(None) => Err(fail(123, "artifact no longer available")),
                Some(Some(bytes)) => {
                    if req
                        .format
                        .is_some_and(|f| matches!(f, Format::Json | Format::Xml))
                    {
                        use base64::Engine as _;
                        return ok(
                            json!({"content": base64::engine::general_purpose::STANDARD.encode(&bytes)}),
                        );
                    }
                    Ok(Reply::Raw {
                        status: 200,
                        content_type: "application/octet-stream",
                        filename: Some(art),
                        bytes,
                    })
                }
            }
        }
        "get_network_iocs" => {
            let t = completed_task(store, req)?;
            let mut iocs =
                vec![json!({"ioc_type": "domain", "value": "update.example.net", "tags": ["dns"]})];
            if let Subject::Url { url, .. } = &t.subject {
                let host = url
                    .split("://")
                    .nth(1)
                    .unwrap_or("")
                    .split(['/', '?', ':'])
                    .next()
                    .unwrap_or("");
                iocs.push(json!({"ioc_type": "domain", "value": host, "tags": ["submitted"]}));
            }
            if t.malicious() {
                iocs.push(
                    json!({"ioc_type": "ip", "value": "198.51.100.7", "tags": ["c2", "malicious"]}),
                );
            }
            let mut pcap_info = json!({"ioc_list": iocs});
            if cfg.shapes.reading == Reading::Rich {
                // The reference lists only ioc_list; a server may say more.
                pcap_info["hosts"] = json!([{"ip": "198.51.100.7", "ports": [80, 443], "dns": {"name": "update.example.net", "ttl": 300}}]);
                for ioc in pcap_info["ioc_list"].as_array_mut().into_iter().flatten() {
                    ioc["first_seen"] = json!(format_time(t.submitted));
                }
            }
            ok(
                json!({"task_uuid": t.uuid, "network_iocs": [{"report_uuid": t.report_uuid, "pcap_info_version": 1, "pcap_info": pcap_info}]}),
            )
        }
        "create_ioc_from_result" => {
            let t = completed_task(store, req)?.clone();
            let version = required(req, "report_version")?.to_string();
            let r = uuid_param(req, "report_uuid")?;
            if r != t.report_uuid {
                return Err(fail(
                    INVALID_UUID,
                    "report_uuid is not a report of this task",
                ));
            }
            if !version.starts_with("ioc:") {
                return Err(fail(118, "report_version is not an IOC version"));
            }
            if !t.malicious() {
                return Err(fail(120, "no IOC extractable from this report"));
            }
            let uuid = store.new_uuid();
            store.iocs.insert(
                uuid.clone(),
                Ioc {
                    uuid: uuid.clone(),
                    task: t.uuid.clone(),
                    report_uuid: t.report_uuid.clone(),
                    version,
                },
            );
            ok(ioc_metadata(store, &uuid))
        }
        "get_ioc_metadata" | "get_ioc_report" => {
            let u = uuid_param(req, "ioc_uuid")?;
            let ioc = store.iocs.get(u).ok_or_else(|| {
                fail(
                    INVALID_UUID,
                    "ioc_uuid not as returned by create_ioc_from_result",
                )
            })?;
            if name == "get_ioc_metadata" {
                return ok(ioc_metadata(store, u));
            }
            if cfg.shapes.reading == Reading::Plain {
                // "Contents: see get_results": a success envelope.
                let t = store
                    .task(&ioc.task)
                    .ok_or_else(|| fail(NO_RESULT_FOUND, "the IOC's task is gone"))?;
                return ok(result_data(t, false, false, &cfg.shapes));
            }
            let doc = format!("<?xml version=\"1.0\"?>\n<ioc id=\"{}\" format=\"{}\"><indicator type=\"ip\">198.51.100.7</indicator></ioc>\n", ioc.uuid, ioc.version);
            Ok(Reply::Raw {
                status: 200,
                content_type: "application/xml",
                filename: Some(format!("{}.xml", ioc.uuid)),
                bytes: doc.into_bytes(),
            })
        }
        "get_analysis_tags" => {
            let t = completed_task(store, req)?;
            let mut tags =
                vec![json!({"format": "typed_tag", "data": {"type": "file_type", "value": "pe"}})];
            if t.malicious() {
                tags.push(json!({"format": "signature_detection_tag", "data": {"detector": "eicar", "score": 100}}));
            }
            if cfg.shapes.reading == Reading::Rich {
                tags.push(json!({"format": "blacklist_detection_tag", "data": {"host": "update.example.net", "url": "http://update.example.net/a.bin", "score": 40, "sources": [{"name": "feed", "since": format_time(t.submitted)}]}}));
                tags.push(json!({"format": "analysis_environment_tag", "data": {"os": {"name": "Windows", "version": "10"}}}));
            }
            ok(json!({"task_uuid": t.uuid, "analysis_tags": tags}))
        }
        "get_child_tasks_recursively" => {
            let root = task(store, req)?.uuid.clone();
            // Walk down from the task: a child's depth is relative to it.
            let mut found = Map::new();
            let mut frontier = vec![(root.clone(), 0u32)];
            while let Some((uuid, depth)) = frontier.pop() {
                for c in store
                    .tasks
                    .iter()
                    .filter(|c| c.parent.as_ref().is_some_and(|(p, _)| *p == uuid))
                {
                    let mut v = json!({"depth": depth + 1});
                    if cfg.shapes.reading == Reading::Rich {
                        v["score"] = json!(c.score);
                        v["task_type"] = json!(match c.subject {
                            Subject::File { .. } => "file",
                            Subject::Url { .. } => "url",
                        });
                    }
                    found.insert(c.uuid.clone(), v);
                    frontier.push((c.uuid.clone(), depth + 1));
                }
            }
            ok(json!({"task_uuid": root, "child_tasks": found}))
        }
        "export_report" => {
            let t = completed_task(store, req)?.uuid.clone();
            let rt = required(req, "report_type")?.to_ascii_uppercase();
            if !["OVERVIEW", "ALL", "FULL"].contains(&rt.as_str()) {
                return Err(Fail(
                    None,
                    "report_type must be OVERVIEW, ALL or FULL".into(),
                ));
            }
            if req
                .param("report_format")
                .is_some_and(|f| !f.eq_ignore_ascii_case("PDF"))
            {
                return Err(Fail(None, "report_format: only PDF is supported".into()));
            }
            let uuid = store.new_uuid();
            let resume = store.exports.last().map(|e| e.uuid.clone());
            let at = store.now();
            store.exports.push(Export {
                uuid: uuid.clone(),
                task: t,
                report_type: rt,
                at,
            });
            let mut d = json!({"exported_report_uuid": uuid});
            if let Some(r) = resume {
                d["resume_after_report_uuid"] = json!(r);
            }
            ok(d)
        }
        "get_completed_exported_reports" => {
            let start = match req.param("resume_after_report_uuid") {
                None => 0,
                Some(u) => {
                    if !is_uuid(u) {
                        return Err(fail(INVALID_UUID, "invalid resume_after_report_uuid"));
                    }
                    store
                        .exports
                        .iter()
                        .position(|e| e.uuid == u)
                        .map(|i| i + 1)
                        .ok_or_else(|| fail(INVALID_UUID, "unknown resume_after_report_uuid"))?
                }
            };
            let list: Vec<Value> = store.exports[start..]
                .iter()
                .map(|e| json!({"exported_report_uuid": e.uuid, "task_uuid": e.task, "export_timestamp": format_time(e.at)}))
                .collect();
            ok(json!({"available_reports": list}))
        }
        "get_exported_report" => {
            let u = uuid_param(req, "exported_report_uuid")?;
            let e = store
                .exports
                .iter()
                .find(|e| e.uuid == u)
                .ok_or_else(|| fail(NO_RESULT_FOUND, "exported report not available"))?;
            let title = format!(
                "{} report (exported {} UTC)",
                e.report_type,
                format_time(e.at)
            );
            let lines = match store.task(&e.task) {
                Some(t) => report_lines(t, &title),
                None => vec![format!("Lastline {title}"), format!("Task: {}", e.task)],
            };
            let (file, bytes) = (format!("{}.pdf", e.uuid), render::pdf(&lines));
            if cfg.cdn_redirect && flag(req, "cdn")? != Some(false) {
                // Servers hand the bytes to a CDN and redirect there: another
                // origin, where credentials must not follow.
                let token = store.new_uuid();
                let target = format!("/exports/{token}/{file}");
                store.cdn.insert(token, (file, bytes));
                return Ok(Reply::Redirect {
                    status: 302,
                    to: Origin::Cdn,
                    target,
                });
            }
            Ok(Reply::Raw {
                status: 200,
                content_type: "application/pdf",
                filename: Some(file),
                bytes,
            })
        }
        _ => Err(Fail(None, format!("method {name} is not served"))),
    }
}

fn ioc_metadata(store: &Store, uuid: &str) -> Value {
    let Some(ioc) = store.iocs.get(uuid) else {
        return json!({});
    };
    let mut d = json!({"ioc_uuid": ioc.uuid, "task_uuid": ioc.task, "report_uuid": ioc.report_uuid, "report_version": ioc.version, "report_env": "windows10"});
    if let Some(t) = store.task(&ioc.task) {
        d["task_score"] = json!(t.score);
        if let Subject::File { file, .. } = &t.subject {
            d["file_md5"] = json!(file.md5);
            d["file_sha1"] = json!(file.sha1);
            d["file_mime_type"] = json!(file.mime);
        }
    }
    d
}
