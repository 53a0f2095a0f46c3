//! `get_results`, `get_result`, and the submit methods (whose answer
//! includes the result when one exists).

use heapless::{String, Vec};

use super::{need, opt, NAME_CAPACITY, TEXT_CAPACITY};
use crate::envelope::{DataDecoder, Field};
use crate::error::{Error, JsonError};
use crate::json::{Fail, Reader};
use crate::types::{Digest, Md5, Sha1, Sha256, Timestamp, Uuid, URL_CAPACITY};

/// Capacity of threat names and classes.
pub const THREAT_CAPACITY: usize = 128;

/// What a task analysed, as its result names it (`analysis_subject`: real
/// results carry it beyond the reference, and integrations rely on it):
/// the file's hashes and MIME type, or the URL. Its other members are
/// skipped, as the decoding rule skips any member not listed.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AnalysisSubject {
    /// The file's MD5.
    pub md5: Option<Md5>,
    /// The file's SHA-1.
    pub sha1: Option<Sha1>,
    /// The file's SHA-256.
    pub sha256: Option<Sha256>,
    /// The file's MIME type as the sandbox saw it.
    pub mime_type: Option<String<TEXT_CAPACITY>>,
    /// The URL analysed (as long as a URL this crate submits may be).
    pub url: Option<String<URL_CAPACITY>>,
}

/// Reads `analysis_subject`. A hash given as `null` or `""` (a URL task's)
/// is absent; one that is not a hex digest of its length is an error.
fn analysis_subject(r: &mut Reader<'_>) -> Result<AnalysisSubject, Fail> {
    const AT: &str = "analysis_subject";
    let mut s = AnalysisSubject::default();
    r.object(AT, |r, k| {
        match k {
            "md5" => s.md5 = subject_digest(r, "analysis_subject.md5")?,
            "sha1" => s.sha1 = subject_digest(r, "analysis_subject.sha1")?,
            "sha256" => s.sha256 = subject_digest(r, "analysis_subject.sha256")?,
            "mime_type" => s.mime_type = opt(r, |r| r.string("analysis_subject.mime_type"))?,
            "url" => s.url = opt(r, |r| r.string("analysis_subject.url"))?,
            _ => r.skip(AT)?,
        }
        Ok(())
    })?;
    Ok(s)
}

fn subject_digest<const N: usize>(
    r: &mut Reader<'_>,
    at: &'static str,
) -> Result<Option<Digest<N>>, Fail> {
    if r.null()? {
        return Ok(None);
    }
    // 64: the longest digest's hex (a longer string is too long for one).
    let hex: String<64> = r.string(at)?;
    if hex.is_empty() {
        return Ok(None);
    }
    Digest::parse(&hex)
        .map(Some)
        .map_err(|_| r.fail(at, JsonError::InvalidValue(text!("a hex digest"))))
}

/// A result's scalar members, and what it analysed: `S` is
/// [`AnalysisSubject`] as [`ResultDecoder`] reads it, `()` in the
/// [`ResultSummary`] of [`ResultSummaryDecoder`] (which skips it, so a
/// firmware's result stays small).
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AnalysisResult<S = AnalysisSubject> {
    /// 0..=100; 70 and above is malicious by the usual reading.
    pub score: Option<i32>,
    /// When the task was submitted.
    pub submission: Option<Timestamp>,
    /// When the file was last submitted.
    pub last_submission_timestamp: Option<Timestamp>,
    /// The threat's name.
    pub threat: Option<String<THREAT_CAPACITY>>,
    /// The threat's class.
    pub threat_class: Option<String<THREAT_CAPACITY>>,
    /// Whether a detailed `report` was present (it is skipped, whatever its
    /// size; fetch it as a PDF or with a std transport when needed).
    pub has_report: bool,
    /// Entries of `activity_to_mitre_techniques` (whose shape the
    /// reference leaves open) too large for the unit buffer: skipped whole
    /// rather than failing the result, and counted here.
    pub open_entries_skipped: u32,
    /// What was analysed (`analysis_subject`), when the result names it.
    pub subject: Option<S>,
}

/// A result's scalar members without its subject: what
/// [`ResultSummaryDecoder`] reads.
pub type ResultSummary = AnalysisResult<()>;

/// A list entry of a result.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum ResultItem {
    /// An entry of `malicious_activity`.
    MaliciousActivity(String<TEXT_CAPACITY>),
    /// An entry of `errors`.
    Error(String<TEXT_CAPACITY>),
    /// An entry of `reports`.
    Report(ReportRef),
    /// An entry of `activity_to_mitre_techniques`.
    MitreTechniques {
        /// The activity.
        activity: String<TEXT_CAPACITY>,
        /// MITRE ATT&CK technique ids, the first [`TECHNIQUES_CAPACITY`].
        techniques: Vec<String<NAME_CAPACITY>, TECHNIQUES_CAPACITY>,
        /// Pieces of the activity's technique information (an open shape)
        /// not kept: entries naming no technique, ids past the capacity,
        /// or a value that is not a list (counted as one).
        skipped: u32,
    },
    /// An entry of a cached submission's `child_tasks`: a task the
    /// analysis spawned (an archive's member, a download).
    ChildTask(Uuid),
}

/// Technique ids kept per activity (the rest are counted as skipped).
pub const TECHNIQUES_CAPACITY: usize = 16;

/// An entry of a result's `reports`.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ReportRef {
    /// The report's UUID.
    pub report_uuid: Uuid,
    /// How relevant the report is.
    pub relevance: f32,
    /// What the report is.
    pub description: Option<String<TEXT_CAPACITY>>,
    /// Versions it can be fetched in.
    pub report_versions: Vec<String<NAME_CAPACITY>, 8>,
}

/// Reads a result member into `out`; `None` if `key` is not one.
fn result_field<S>(
    out: &mut AnalysisResult<S>,
    key: &str,
    r: &mut Reader<'_>,
) -> Result<Option<Field>, Fail> {
    Ok(Some(match key {
        "score" => {
            out.score = opt(r, |r| r.int("score"))?;
            Field::Read
        }
        "submission" => {
            out.submission = opt(r, |r| r.timestamp("submission"))?;
            Field::Read
        }
        "last_submission_timestamp" => {
            out.last_submission_timestamp = opt(r, |r| r.timestamp("last_submission_timestamp"))?;
            Field::Read
        }
        "threat" => {
            if !r.string_into("threat", out.threat.insert(String::new()))? {
                out.threat = None;
            }
            Field::Read
        }
        "threat_class" => {
            if !r.string_into("threat_class", out.threat_class.insert(String::new()))? {
                out.threat_class = None;
            }
            Field::Read
        }
        "report" => {
            out.has_report = true;
            Field::Skip
        }
        "malicious_activity" => Field::List("malicious_activity"),
        "errors" => Field::List("errors"),
        "reports" => Field::List("reports"),
        "activity_to_mitre_techniques" => Field::OpenMap("activity_to_mitre_techniques"),
        _ => return Ok(None),
    }))
}

fn result_element(
    list: &'static str,
    key: Option<&str>,
    r: &mut Reader<'_>,
) -> Result<ResultItem, Fail> {
    Ok(match list {
        "malicious_activity" => ResultItem::MaliciousActivity(r.string(list)?),
        "errors" => ResultItem::Error(r.string(list)?),
        "reports" => {
            let (mut uuid, mut relevance, mut description, mut versions) =
                (None, None, None, Vec::new());
            r.object(list, |r, k| {
                match k {
                    "report_uuid" => uuid = Some(r.uuid("reports[].report_uuid")?),
                    "relevance" => relevance = Some(r.float("reports[].relevance")?),
                    "description" => description = opt(r, |r| r.string("reports[].description"))?,
                    "report_versions" => versions = r.string_list("reports[].report_versions")?,
                    _ => r.skip(list)?,
                }
                Ok(())
            })?;
            ResultItem::Report(ReportRef {
                report_uuid: super::need_in(r, uuid, "reports[].report_uuid")?,
                relevance: relevance.unwrap_or(0.0),
                description,
                report_versions: versions,
            })
        }
        "activity_to_mitre_techniques" => {
            let mut activity = String::new();
            activity.push_str(key.unwrap_or("")).map_err(|_| {
                r.fail(
                    list,
                    JsonError::TooLong {
                        capacity: TEXT_CAPACITY,
                    },
                )
            })?;
            let mut techniques = Vec::new();
            let mut skipped = 0u32;
            // The information is an open shape: whatever it holds, the
            // ids found are kept and the rest counted, never an error.
            if r.peek()? == b'[' {
                r.list(list, |r| {
                    let kept = match technique_id(r, list)? {
                        Some(id) => techniques.push(id).is_ok(),
                        None => false,
                    };
                    skipped = skipped.saturating_add(u32::from(!kept));
                    Ok(())
                })?;
            } else {
                r.skip(list)?;
                skipped = 1;
            }
            ResultItem::MitreTechniques {
                activity,
                techniques,
                skipped,
            }
        }
        _ => return Err(r.fail(list, JsonError::WrongType(text!("no entries")))),
    })
}

/// One entry of an activity's "list of Mitre techniques information" (the
/// reference leaves its shape open): a technique id, or an object naming
/// one by `id` (its other members skipped). Any other value, an object
/// without a string id, or an id too long to be one names no technique.
fn technique_id(
    r: &mut Reader<'_>,
    at: &'static str,
) -> Result<Option<String<NAME_CAPACITY>>, Fail> {
    match r.peek()? {
        b'"' => whole_id(r, at),
        b'{' => {
            let mut id = None;
            r.object(at, |r, k| {
                match k {
                    "id" | "technique_id" if r.peek()? == b'"' => id = whole_id(r, at)?,
                    _ => r.skip(at)?,
                }
                Ok(())
            })?;
            Ok(id)
        }
        _ => r.skip(at).map(|()| None),
    }
}

/// A technique id if it fits whole (an id cut short names no technique).
fn whole_id(r: &mut Reader<'_>, at: &'static str) -> Result<Option<String<NAME_CAPACITY>>, Fail> {
    let (id, cut) = r.string_lossy(at)?;
    Ok((!cut).then_some(id))
}

/// Lists are not wanted: skip them.
fn scalars_only(f: Option<Field>) -> Field {
    match f {
        Some(Field::Read) => Field::Read,
        _ => Field::Skip,
    }
}

/// Decodes only the scalar members of a result (score, threat, times),
/// skipping its lists: what a sensor needs from `get_result` with
/// `score_only=1`, in a fraction of [`ResultDecoder`]'s code.
#[derive(Debug, Default)]
pub struct ResultSummaryDecoder(ResultSummary);

impl DataDecoder for ResultSummaryDecoder {
    type Item = core::convert::Infallible;
    type Output = ResultSummary;

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        Ok(scalars_only(result_field(&mut self.0, key, r)?))
    }

    fn finish(&mut self) -> Result<ResultSummary, Error> {
        need(self.0.score, "score")?;
        Ok(core::mem::take(&mut self.0))
    }
}

/// Decodes `get_results` / `get_result` data.
#[derive(Debug, Default)]
pub struct ResultDecoder(AnalysisResult);

impl DataDecoder for ResultDecoder {
    type Item = ResultItem;
    type Output = AnalysisResult;
    const LISTS: &'static [&'static str] = &[
        "malicious_activity",
        "errors",
        "reports",
        "activity_to_mitre_techniques",
    ];

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        if key == "analysis_subject" {
            self.0.subject = opt(r, analysis_subject)?;
            return Ok(Field::Read);
        }
        Ok(result_field(&mut self.0, key, r)?.unwrap_or(Field::Skip))
    }

    fn element(
        &mut self,
        list: &'static str,
        key: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<ResultItem, Fail> {
        result_element(list, key, r)
    }

    fn skipped(&mut self, _list: &'static str) {
        self.0.open_entries_skipped = self.0.open_entries_skipped.saturating_add(1);
    }

    fn finish(&mut self) -> Result<AnalysisResult, Error> {
        need(self.0.score, "score")?;
        Ok(core::mem::take(&mut self.0))
    }
}

/// What a submission returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Submission {
    /// The task's UUID: the handle for everything that follows.
    pub task_uuid: Uuid,
    /// When it was submitted.
    pub submission_timestamp: Option<Timestamp>,
    /// When the task's data expires.
    pub expires: Option<Timestamp>,
    /// The score of an existing result, when the file or URL was already
    /// analysed (the answer then includes `get_results` members; fetch the
    /// rest with `get_result`).
    pub score: Option<i32>,
}

/// Decodes `submit_file` / `submit_url` data: the task, and the score of
/// an existing result; every other member is skipped.
#[derive(Debug, Default)]
pub struct SubmitDecoder {
    task_uuid: Option<Uuid>,
    submission_timestamp: Option<Timestamp>,
    expires: Option<Timestamp>,
    score: Option<i32>,
}

impl DataDecoder for SubmitDecoder {
    type Item = core::convert::Infallible;
    type Output = Submission;

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        match key {
            "task_uuid" => self.task_uuid = Some(r.uuid("task_uuid")?),
            "submission_timestamp" => {
                self.submission_timestamp = opt(r, |r| r.timestamp("submission_timestamp"))?
            }
            "expires" => self.expires = opt(r, |r| r.timestamp("expires"))?,
            "score" => self.score = opt(r, |r| r.int("score"))?,
            _ => return Ok(Field::Skip),
        }
        Ok(Field::Read)
    }

    fn finish(&mut self) -> Result<Submission, Error> {
        Ok(Submission {
            task_uuid: need(self.task_uuid, "task_uuid")?,
            submission_timestamp: self.submission_timestamp,
            expires: self.expires,
            score: self.score,
        })
    }
}

/// A submission's answer read whole: the task, and — when the server
/// answered from a recent analysis of the same file or URL — its result
/// inline (score, threat, subject, times; the lists go to the caller's
/// callback as [`ResultItem`]s, child tasks included).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SubmittedResult {
    /// The task, as [`SubmitDecoder`] reads it (its `score` the result's).
    pub submission: Submission,
    /// The cached result; `None` when the task is new or still pending
    /// (the answer then has no `score`).
    pub result: Option<AnalysisResult>,
}

/// Decodes `submit_file` / `submit_url` data whole: [`SubmitDecoder`]'s
/// members, and the result a cached answer carries — `get_results`'
/// members, `analysis_subject`, and `child_tasks` (its shape open: a list
/// of UUIDs or of objects naming `task_uuid`, or a map keyed by UUID).
/// For std clients; firmware keeps [`SubmitDecoder`].
#[derive(Debug, Default)]
pub struct SubmitResultDecoder {
    submit: SubmitDecoder,
    result: ResultDecoder,
}

impl DataDecoder for SubmitResultDecoder {
    type Item = ResultItem;
    type Output = SubmittedResult;
    const LISTS: &'static [&'static str] = &[
        "malicious_activity",
        "errors",
        "reports",
        "activity_to_mitre_techniques",
        "child_tasks",
    ];

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        match key {
            "task_uuid" | "submission_timestamp" | "expires" => self.submit.field(key, r),
            "child_tasks" => Ok(Field::ListOrMap("child_tasks")),
            _ => self.result.field(key, r),
        }
    }

    fn element(
        &mut self,
        list: &'static str,
        key: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<ResultItem, Fail> {
        if list != "child_tasks" {
            return result_element(list, key, r);
        }
        let bad = |r: &mut Reader<'_>| r.fail(list, JsonError::InvalidValue(text!("a task UUID")));
        let uuid = match key {
            // A map keyed by UUID: the value is the child's details.
            Some(k) => {
                r.skip(list)?;
                Uuid::parse(k).ok()
            }
            None if r.peek()? == b'"' => {
                let s: String<64> = r.string(list)?;
                Uuid::parse(&s).ok()
            }
            None => {
                let mut uuid = None;
                r.object(list, |r, k| {
                    match k {
                        "task_uuid" => uuid = Some(r.uuid("child_tasks[].task_uuid")?),
                        _ => r.skip(list)?,
                    }
                    Ok(())
                })?;
                uuid
            }
        };
        match uuid {
            Some(u) => Ok(ResultItem::ChildTask(u)),
            None => Err(bad(r)),
        }
    }

    fn skipped(&mut self, list: &'static str) {
        self.result.skipped(list);
    }

    fn finish(&mut self) -> Result<SubmittedResult, Error> {
        let mut submission = self.submit.finish()?;
        let result = core::mem::take(&mut self.result.0);
        submission.score = result.score;
        Ok(SubmittedResult {
            submission,
            result: result.score.is_some().then_some(result),
        })
    }
}
