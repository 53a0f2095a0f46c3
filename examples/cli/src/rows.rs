//! The row model of `submit`, `submit-url`, `wait` and the demo: one task, its verdict and exit status, and how a row reads as JSON and in a table.

use lastline_core::decoders::{AnalysisResult, ResultItem, Submission};
use lastline_core::types::{Timestamp, Uuid};
use lastline_ureq::InlineItems;
use serde_json::{json, Value};

/// How a score reads. The reference: 0 benign … 100 malicious; the
/// thresholds are this CLI's. Ordered by severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// No score (yet).
    Unknown,
    /// Below 30.
    Benign,
    /// 30 to 69.
    Suspicious,
    /// 70 and above.
    Malicious,
}

impl Verdict {
    /// The verdict of a score.
    pub fn of(score: Option<i32>) -> Self {
        match score {
            None => Self::Unknown,
            Some(s) if s >= 70 => Self::Malicious,
            Some(s) if s >= 30 => Self::Suspicious,
            Some(_) => Self::Benign,
        }
    }

    /// Its word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Benign => "benign",
            Self::Suspicious => "suspicious",
            Self::Malicious => "malicious",
        }
    }

    /// The exit status it gives: 4 malicious, 3 suspicious, else 0.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Malicious => crate::status::MALICIOUS,
            Self::Suspicious => crate::status::SUSPICIOUS,
            Self::Benign | Self::Unknown => crate::status::OK,
        }
    }
}

/// The exit status of the worst verdict among `scores`.
pub fn exit_code_for(scores: impl IntoIterator<Item = Option<i32>>) -> u8 {
    scores
        .into_iter()
        .map(Verdict::of)
        .max()
        .map_or(0, Verdict::exit_code)
}

/// One task in the output of `submit`, `submit-url` and `wait`.
#[derive(Clone, Debug)]
pub struct Row {
    /// The file or URL submitted (not known to `wait`).
    pub sample: Option<String>,
    /// Its task.
    pub task: Uuid,
    /// Whether the file was uploaded (files only).
    pub uploaded: Option<bool>,
    /// Its score, once known.
    pub score: Option<i32>,
    /// When the server says it was submitted, and when its task expires
    /// (submissions only).
    pub submitted: Option<Timestamp>,
    /// See `submitted`.
    pub expires: Option<Timestamp>,
    /// A cached submission's result, inline: its subject (hashes or URL),
    /// threat, times and lists, as JSON.
    pub result: Option<Value>,
}

impl Row {
    /// A task known by its UUID alone.
    pub fn new(task: Uuid) -> Self {
        Self {
            sample: None,
            task,
            uploaded: None,
            score: None,
            submitted: None,
            expires: None,
            result: None,
        }
    }

    /// A task as a submission's answer gives it: the task, its times, and
    /// a cached result inline with its list entries.
    pub fn submitted(
        sample: String,
        answer: &Submission,
        result: Option<&AnalysisResult>,
        items: &InlineItems,
    ) -> Self {
        Self {
            sample: Some(sample),
            score: answer.score,
            submitted: answer.submission_timestamp,
            expires: answer.expires,
            result: result.map(|r| inline_result(r, items)),
            ..Self::new(answer.task_uuid)
        }
    }

    /// What the result says was analysed, in one cell: the URL, or the
    /// strongest hash.
    fn subject_cell(&self) -> Option<String> {
        let s = self.result.as_ref()?.get("subject")?;
        ["url", "sha256", "sha1", "md5"]
            .iter()
            .find_map(|k| s.get(*k)?.as_str().map(str::to_owned))
    }
}

/// A cached result as JSON: the typed result (without nulls), its lists
/// by name, and `entries_not_kept` when the server sent more than
/// lastline-ureq keeps.
pub fn inline_result(r: &AnalysisResult, items: &InlineItems) -> Value {
    let mut v = json!(r);
    let Value::Object(m) = &mut v else { return v };
    m.retain(|_, x| !x.is_null());
    if let Some(Value::Object(s)) = m.get_mut("subject") {
        s.retain(|_, x| !x.is_null());
    }
    let mut lists: Vec<(&str, Value)> = Vec::new();
    for i in items.iter() {
        let (name, entry) = match i {
            ResultItem::MaliciousActivity(a) => ("malicious_activity", json!(a.as_str())),
            ResultItem::Error(e) => ("errors", json!(e.as_str())),
            ResultItem::Report(rep) => ("reports", json!(rep)),
            ResultItem::ChildTask(t) => ("child_tasks", json!(t.to_string())),
            ResultItem::MitreTechniques { .. } => continue,
        };
        match lists.iter_mut().find(|(n, _)| *n == name) {
            Some((_, Value::Array(a))) => a.push(entry),
            _ => lists.push((name, json!([entry]))),
        }
    }
    m.extend(lists.into_iter().map(|(n, v)| (n.to_owned(), v)));
    if items.skipped() > 0 {
        m.insert("entries_not_kept".into(), json!(items.skipped()));
    }
    v
}

/// What every form of a row has: the task, its score and verdict, and
/// `sample` and `uploaded` where known.
fn row_base(r: &Row, verdict: &str) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("task_uuid".into(), json!(r.task.to_string()));
    m.insert("score".into(), json!(r.score));
    m.insert("verdict".into(), json!(verdict));
    if let Some(s) = &r.sample {
        m.insert("sample".into(), json!(s));
    }
    if let Some(u) = r.uploaded {
        m.insert("uploaded".into(), json!(u));
    }
    m
}

/// A row as JSON, with `verdict` given: `sample`, `uploaded`, the times
/// and a cached result only where known.
pub fn row_json(r: &Row, verdict: &str) -> Value {
    let mut m = row_base(r, verdict);
    if let Some(t) = r.submitted {
        m.insert("submission_timestamp".into(), json!(t));
    }
    if let Some(t) = r.expires {
        m.insert("expires".into(), json!(t));
    }
    if let Some(res) = &r.result {
        m.insert("result".into(), res.clone());
    }
    Value::Object(m)
}

/// A row as a line of the text table: the cached result's subject and
/// threat in a cell each, not nested.
pub fn row_text(r: &Row, verdict: &str) -> Value {
    let mut m = row_base(r, verdict);
    if let Some(s) = r.subject_cell() {
        m.insert("subject".into(), json!(s));
    }
    if let Some(t) = r.result.as_ref().and_then(|x| x.get("threat")) {
        m.insert("threat".into(), t.clone());
    }
    Value::Object(m)
}

/// Rows as JSON, each with the verdict of its score.
#[cfg(feature = "demo")]
pub fn rows_json(rows: &[Row]) -> Value {
    json!(rows
        .iter()
        .map(|r| row_text(r, Verdict::of(r.score).as_str()))
        .collect::<Vec<_>>())
}
